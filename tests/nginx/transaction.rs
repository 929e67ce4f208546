//! `wspath fix --nginx --yes` as a transaction, on real nginx: a stock Debian layout (sites
//! enabled by symlink), and each way a fix used to leave a configuration worse than it found
//! it, as its own test. Wrapper `nginx` scripts on PATH stand in for an `nginx -t` that hangs
//! or for someone editing a file while the candidate is being validated.

use super::fix::fix_schema_validate;
use crate::support::cli::{run, wspath_bin, CliOutput};
use crate::support::nginx::binary;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(90);

/// `/etc/nginx` the Debian way, in a temp dir: `include …/sites-enabled/*;`, the site enabled
/// by an absolute symlink into sites-available, absolute log, pid and temp paths (so nginx's
/// compiled-in prefix never matters), and a state dir for the backups.
pub struct Debian {
    pub root: tempfile::TempDir,
}

const SITE: &str = "upstream app {\n    server 127.0.0.1:9000;\n}\n\nserver {\n    listen 127.0.0.1:8080 default_server;\n    server_name _;\n\n    location / {\n        return 204;\n    }\n\n    location /ws/ {\n        proxy_pass http://app;\n    }\n}\n";

impl Debian {
    pub fn new() -> Debian {
        Debian::with_site(SITE)
    }

    pub fn with_site(site: &str) -> Debian {
        let root = tempfile::Builder::new()
            .prefix("wspath-debian-")
            .tempdir()
            .unwrap();
        let r = root.path();
        for d in [
            "etc/nginx/conf.d",
            "etc/nginx/sites-available",
            "etc/nginx/sites-enabled",
            "etc/nginx/snippets",
            "var/log/nginx",
            "var/lib/nginx",
            "run",
            "state",
            "elsewhere",
        ] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        let etc = r.join("etc/nginx");
        let main = format!(
            "worker_processes 1;\npid {r}/run/nginx.pid;\nerror_log {r}/var/log/nginx/error.log;\n\nevents {{\n    worker_connections 64;\n}}\n\nhttp {{\n    include {etc}/mime.types;\n    default_type application/octet-stream;\n    access_log {r}/var/log/nginx/access.log;\n    client_body_temp_path {r}/var/lib/nginx/body;\n    proxy_temp_path {r}/var/lib/nginx/proxy;\n    fastcgi_temp_path {r}/var/lib/nginx/fastcgi;\n    uwsgi_temp_path {r}/var/lib/nginx/uwsgi;\n    scgi_temp_path {r}/var/lib/nginx/scgi;\n\n    include {etc}/conf.d/*.conf;\n    include {etc}/sites-enabled/*;\n}}\n",
            r = r.display(),
            etc = etc.display()
        );
        std::fs::write(etc.join("nginx.conf"), main).unwrap();
        std::fs::write(etc.join("mime.types"), "types {\n    text/html html;\n}\n").unwrap();
        std::fs::write(etc.join("sites-available/default"), site).unwrap();
        std::os::unix::fs::symlink(
            etc.join("sites-available/default"),
            etc.join("sites-enabled/default"),
        )
        .unwrap();
        Debian { root }
    }

    pub fn etc(&self) -> PathBuf {
        self.root.path().join("etc/nginx")
    }

    pub fn conf(&self) -> PathBuf {
        self.etc().join("nginx.conf")
    }

    pub fn site(&self) -> PathBuf {
        self.etc().join("sites-available/default")
    }

    pub fn state(&self) -> PathBuf {
        self.root.path().join("state")
    }

    /// Every file under etc/nginx with its bytes (symlinks as their target, marked).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.etc()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.file_type().is_symlink() {
                    let t = std::fs::read_link(&p).unwrap();
                    out.insert(p, format!("-> {}", t.display()).into_bytes());
                } else if meta.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    /// `wspath fix --nginx CONF --path /ws/ ARGS…` with the backups in this layout's state dir
    /// and `path` as PATH (the real one when `None`).
    pub fn fix(&self, extra: &[&str], path: Option<&str>) -> CliOutput {
        run(self.fix_command(extra, path), T).unwrap()
    }

    pub fn fix_command(&self, extra: &[&str], path: Option<&str>) -> Command {
        let mut cmd = Command::new(wspath_bin());
        cmd.args(["fix", "--nginx"])
            .arg(self.conf())
            .args(["--path", "/ws/"])
            .args(extra)
            .env("NO_COLOR", "1")
            .env("XDG_STATE_HOME", self.state());
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        cmd
    }

    /// `nginx -t` of the live configuration, as a person would run it.
    pub fn nginx_t(&self) -> (bool, String) {
        let out = Command::new(binary())
            .args(["-t", "-e", "stderr", "-c"])
            .arg(self.conf())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A directory holding only an `nginx` script (`body` runs with the real binary in
    /// `$REAL`), for PATH.
    pub fn wrapper(&self, body: &str) -> String {
        let dir = self.root.path().join("bin");
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("nginx");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nREAL={}\n{body}\n", binary().display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        format!("{}:/usr/bin:/bin", dir.display())
    }
}

/// Files named like wspath's candidates or temporaries anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains("wspath") {
                out.push(e.path());
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn debian_layout_fix_keeps_the_link_validates_and_backs_up_outside_every_include() {
    let d = Debian::new();
    let (ok, why) = d.nginx_t();
    assert!(ok, "the fixture passes nginx -t: {why}");
    let before = d.snapshot();
    let names_before: Vec<PathBuf> = before.keys().cloned().collect();

    let out = d.fix(&["--yes", "--format", "json"], None);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let doc = out.json().unwrap();
    fix_schema_validate(&doc);
    assert_eq!(doc["validated"], true, "{doc}");

    let link = d.etc().join("sites-enabled/default");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    let site = std::fs::read_to_string(d.site()).unwrap();
    assert!(
        site.contains("proxy_set_header Upgrade $http_upgrade;"),
        "{site}"
    );
    let (ok, why) = d.nginx_t();
    assert!(ok, "nginx -t after the fix: {why}");

    let after = d.snapshot();
    let names_after: Vec<PathBuf> = after.keys().cloned().collect();
    assert_eq!(
        names_before, names_after,
        "no new file in the configuration tree"
    );

    let backups = doc["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 2, "the site and nginx.conf (the map): {doc}");
    for b in backups {
        let file = PathBuf::from(b["file"].as_str().unwrap());
        let backup = PathBuf::from(b["backup"].as_str().unwrap());
        assert!(backup.starts_with(d.state().join("wspath/backups")), "{b}");
        assert!(backup.ends_with(file.strip_prefix("/").unwrap()), "{b}");
        assert_eq!(std::fs::read(&backup).unwrap(), before[&file], "{b}");
        assert!(b["restore"].as_str().unwrap().starts_with("cp "), "{b}");
    }
    assert!(
        backups
            .iter()
            .any(|b| b["file"] == d.site().to_str().unwrap()),
        "the symlink's target is what was replaced: {doc}"
    );

    let again = d.fix(&["--yes"], None);
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert!(
        again.stdout.contains("Nothing to change."),
        "{}",
        again.stdout
    );
    assert_eq!(d.snapshot(), after, "a second run changes no byte");
    let runs = std::fs::read_dir(d.state().join("wspath/backups"))
        .unwrap()
        .count();
    assert_eq!(runs, 1, "a run with nothing to do makes no backup");
}

#[test]
fn restoring_a_backup_with_its_command_gives_back_the_original() {
    let d = Debian::new();
    let before = d.snapshot();
    let out = d.fix(&["--yes", "--format", "json"], None);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    for b in out.json().unwrap()["backups"].as_array().unwrap() {
        let status = Command::new("sh")
            .arg("-c")
            .arg(b["restore"].as_str().unwrap())
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert_eq!(d.snapshot(), before);
}

#[test]
fn an_already_invalid_configuration_is_refused_with_nginxs_first_error() {
    let broken = SITE.replace("return 204;", "proxy_pass http://no_such_upstream;");
    let d = Debian::with_site(&broken);
    let before = d.snapshot();
    let out = d.fix(&["--yes"], None);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("already fails"), "{}", out.stderr);
    let at = format!("{}:10", d.etc().join("sites-enabled/default").display());
    assert!(
        out.stderr.contains("no_such_upstream") && out.stderr.contains(&at),
        "nginx's first error with file:line: {}",
        out.stderr
    );
    assert!(!out.stderr.contains("rejected the fixed"), "{}", out.stderr);
    assert_eq!(d.snapshot(), before);
    assert!(!d.state().join("wspath").exists(), "no backup either");
}

#[test]
fn yes_with_nothing_to_change_still_says_the_configuration_fails_nginx_t() {
    // No location shows WebSocket intent, so there is nothing to plan; the live configuration
    // is broken all the same, and `--yes` must not answer "nothing to change", exit 0.
    let site = "server {\n    listen 127.0.0.1:8080 default_server;\n\n    location / {\n        proxy_pass http://no_such_upstream;\n    }\n}\n";
    let d = Debian::with_site(site);
    let before = d.snapshot();
    let out = d.fix(&["--yes"], None);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("already fails"), "{}", out.stderr);
    assert_eq!(d.snapshot(), before);
}

#[test]
fn no_nginx_on_path_changes_nothing_unless_no_validate_is_explicit() {
    let d = Debian::new();
    let before = d.snapshot();
    let empty = d.root.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let path = format!("{}", empty.display());
    let out = d.fix(&["--yes"], Some(&path));
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("no nginx binary"), "{}", out.stderr);
    assert!(out.stderr.contains("--no-validate"), "{}", out.stderr);
    assert_eq!(d.snapshot(), before);

    let out = d.fix(&["--yes", "--no-validate", "--format", "json"], Some(&path));
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let doc = out.json().unwrap();
    fix_schema_validate(&doc);
    assert_eq!(doc["validated"], false, "{doc}");
    assert_ne!(d.snapshot(), before);
    let human = d.fix(&["--yes", "--no-validate"], Some(&path));
    assert_eq!(human.code, Some(0), "{}", human.describe());
}

#[test]
fn owner_group_and_mode_are_kept() {
    let d = Debian::new();
    let site = d.site();
    std::os::unix::fs::chown(&site, Some(4242), Some(4343)).unwrap();
    std::fs::set_permissions(&site, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = d.fix(&["--yes"], None);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let meta = std::fs::metadata(&site).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    assert!(std::fs::read_to_string(&site)
        .unwrap()
        .contains("$http_upgrade"));
}

#[test]
fn a_file_changed_during_validation_aborts_everything() {
    let d = Debian::new();
    let site = d.site();
    // Someone saves the site while the candidate is being tested.
    let path = d.wrapper(&format!(
        "case \"$*\" in *wspath-candidate*) echo '# edited by someone else' >> {};; esac\nexec \"$REAL\" \"$@\"",
        site.display()
    ));
    let main_before = std::fs::read(d.conf()).unwrap();
    let out = d.fix(&["--yes"], Some(&path));
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(out.stderr.contains("changed since"), "{}", out.stderr);
    let text = std::fs::read_to_string(&site).unwrap();
    assert!(
        text.ends_with("# edited by someone else\n"),
        "their edit kept"
    );
    assert!(
        !text.contains("$http_upgrade"),
        "nothing of the fix: {text}"
    );
    assert_eq!(
        std::fs::read(d.conf()).unwrap(),
        main_before,
        "no file replaced"
    );
    assert!(leftovers(&d.etc()).is_empty(), "{:?}", leftovers(&d.etc()));
}

#[test]
fn an_nginx_t_that_hangs_is_stopped_at_the_limit_and_nothing_changes() {
    let d = Debian::new();
    let before = d.snapshot();
    let path =
        d.wrapper("case \"$*\" in *wspath-candidate*) exec sleep 60;; esac\nexec \"$REAL\" \"$@\"");
    let start = Instant::now();
    let out = d.fix(&["--yes", "--validate-timeout", "2s"], Some(&path));
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        start.elapsed() < Duration::from_secs(45),
        "{:?}",
        start.elapsed()
    );
    assert!(
        out.stderr.contains("did not finish within 2s"),
        "{}",
        out.stderr
    );
    assert_eq!(d.snapshot(), before);
    assert!(leftovers(&d.etc()).is_empty(), "{:?}", leftovers(&d.etc()));
}

#[test]
fn sigterm_during_validation_leaves_the_old_configuration() {
    let d = Debian::new();
    let before = d.snapshot();
    let marker = d.root.path().join("validating");
    let path = d.wrapper(&format!(
        "case \"$*\" in *wspath-candidate*) touch {}; exec sleep 60;; esac\nexec \"$REAL\" \"$@\"",
        marker.display()
    ));
    let mut cmd = d.fix_command(&["--yes"], Some(&path));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !marker.exists() {
        assert!(start.elapsed() < T, "validation never started");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("wspath ended before validating: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -TERM {}", child.id()))
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert!(stderr.contains("as it was"), "{stderr}");
    assert_eq!(d.snapshot(), before);
    assert!(leftovers(&d.etc()).is_empty(), "{:?}", leftovers(&d.etc()));
}

#[test]
fn a_candidate_nginx_rejects_is_reported_with_the_live_file_name() {
    let d = Debian::new();
    let before = d.snapshot();
    // An nginx that refuses the candidate, naming the file it was given as nginx does.
    let path = d.wrapper(
        "for a in \"$@\"; do last=$a; done\ncase \"$*\" in *wspath-candidate*) echo \"nginx: [emerg] invented refusal in $last:3\" >&2; exit 1;; esac\nexec \"$REAL\" \"$@\"",
    );
    let out = d.fix(&["--yes"], Some(&path));
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("rejects the fixed configuration"),
        "{}",
        out.stderr
    );
    let at = format!("invented refusal in {}:3", d.conf().display());
    assert!(out.stderr.contains(&at), "live name: {}", out.stderr);
    assert!(!out.stderr.contains("wspath-candidate"), "{}", out.stderr);
    assert_eq!(d.snapshot(), before);
}

#[test]
fn a_relative_file_works_from_another_directory() {
    let d = Debian::new();
    let mut cmd = Command::new(wspath_bin());
    cmd.current_dir(d.root.path().join("etc"))
        .args([
            "fix",
            "--nginx",
            "nginx/nginx.conf",
            "--path",
            "/ws/",
            "--yes",
        ])
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", d.state());
    let out = run(cmd, T).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(std::fs::read_to_string(d.site())
        .unwrap()
        .contains("$http_upgrade"));
    let (ok, why) = d.nginx_t();
    assert!(ok, "{why}");
}

#[test]
fn a_backup_dir_an_include_would_load_is_refused() {
    let d = Debian::new();
    let before = d.snapshot();
    let inside = d.etc().join("sites-enabled");
    let out = d.fix(&["--yes", "--backup-dir", inside.to_str().unwrap()], None);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("would be loaded by nginx"),
        "{}",
        out.stderr
    );
    assert_eq!(d.snapshot(), before);

    let elsewhere = d.root.path().join("elsewhere");
    let out = d.fix(
        &["--yes", "--backup-dir", elsewhere.to_str().unwrap()],
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.contains(&elsewhere.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("restore: cp "), "{}", out.stdout);
}

/// `check --fix` whose culprit wspath cannot change (Apache without its WebSocket setting): the
/// full diagnosis, the fix to make by hand, exit 1 — never a bare exit 2.
#[test]
fn check_fix_without_an_automatic_fix_prints_the_diagnosis_and_the_manual_fix() {
    use crate::support::path::WsPath;
    use crate::support::proxy::{Kind, Setup};
    use crate::support::Backend;
    let path = WsPath::backend(Backend::start().expect("backend"))
        .front("apache", Kind::Apache, &Setup::no_websocket())
        .expect("apache");
    let mut args = vec![
        "check".to_string(),
        "ws://app.test/ws".to_string(),
        "--fix".to_string(),
    ];
    args.extend(path.hop_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = crate::support::wspath(&args, T).unwrap();
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stdout.contains("culprit: apache"), "{}", out.stdout);
    assert!(
        out.stdout.contains("no automatic fix for apache"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Fix it by hand:"), "{}", out.stdout);
}

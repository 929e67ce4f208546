//! Hardening through the real binary: no secret in any output (the canary test), nothing from
//! outside reaching the terminal raw, signals and closed pipes handled the usual way, errors
//! that keep their format, and input errors that say what is wrong.

mod canary;
mod providers;
mod signals;

use crate::support::{cli, repo_root};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A hostile HTTP peer on 127.0.0.1:0: answers every request with a 502 whose body echoes the
/// request (as debug endpoints do) and carries terminal escape sequences, a `Location` with a
/// token, and a `Set-Cookie`. Stopped on Drop.
pub struct EchoPeer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl EchoPeer {
    pub fn start() -> EchoPeer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut req = Vec::new();
                        let mut buf = [0u8; 4096];
                        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => req.extend_from_slice(&buf[..n]),
                            }
                        }
                        let mut body =
                            b"upstream said \x1b[2J\x1b]0;pwned\x07 \xe2\x80\xae \xc2\x9b31m\n"
                                .to_vec();
                        body.extend_from_slice(&req);
                        let head = format!(
                            "HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nLocation: https://login.test/cb?access_token=CANARY-LOCATION-TOKEN&x=1\r\nSet-Cookie: session=CANARY-SET-COOKIE\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(head.as_bytes());
                        let _ = s.write_all(&body);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        EchoPeer { port, stop }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for EchoPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// No raw escape, C1 or bidi control in human output.
pub fn assert_terminal_safe(text: &str, why: &str) {
    for (i, c) in text.char_indices() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "raw {c:?} at byte {i}\n{why}");
    }
}

pub fn wspath(args: &[&str]) -> cli::CliOutput {
    cli::wspath(args, RUN_LIMIT).expect("run wspath")
}

#[test]
fn escape_sequences_from_a_peer_never_reach_the_terminal() {
    let peer = EchoPeer::start();
    let hop = format!("edge={}", peer.addr());
    for v in ["-v", "-vv", "-vvv"] {
        let out = wspath(&["check", "ws://app.test/ws", "--hop", &hop, v]);
        let why = out.describe();
        assert_eq!(out.code, Some(1), "{why}");
        assert_terminal_safe(&out.stdout, &why);
        assert_terminal_safe(&out.stderr, &why);
        // Shown escaped, so the reader sees what the peer tried.
        assert!(out.stdout.contains("\\x1b[2J"), "{why}");
        assert!(out.stdout.contains("\\u{202e}"), "{why}");
    }
    // JSON keeps the exact text (escaped by JSON itself).
    let out = wspath(&[
        "check",
        "ws://app.test/ws",
        "--hop",
        &hop,
        "--format",
        "json",
    ]);
    let doc = out.json().unwrap();
    let body = doc["hops"][0]["body_snippet"].as_str().unwrap();
    assert!(
        body.contains("\x1b[2J") && body.contains('\u{202e}'),
        "{body:?}"
    );
    assert!(!out.stdout.contains('\x1b'), "raw ESC in the JSON text");
    // JUnit stays well-formed XML with the escapes shown.
    let out = wspath(&[
        "check",
        "ws://app.test/ws",
        "--hop",
        &hop,
        "--format",
        "junit",
    ]);
    assert!(!out.stdout.contains('\x1b') && !out.stdout.contains('\x07'));
    assert!(out.stdout.contains("\\x1b[2J"), "{}", out.describe());
}

#[test]
fn exit_2_keeps_the_requested_format() {
    let schema = |name: &str| {
        let text = std::fs::read_to_string(repo_root().join("schemas").join(name)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        jsonschema::JSONSchema::compile(&v).unwrap()
    };
    let check = schema("check.schema.json");
    let out = wspath(&["check", "not a url at all", "--format", "json"]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    let doc = out.json().unwrap();
    assert!(check.is_valid(&doc), "{doc:#}");
    assert_eq!(doc["schema"], "wspath.check/v1");
    assert_eq!(doc["error"]["kind"], "invalid_input");
    assert_eq!(doc["error"]["where"]["flag"], "TARGET");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.describe());

    let out = wspath(&[
        "check",
        "ws://app.test/",
        "--timeout",
        "-5s",
        "--format",
        "junit",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stdout.contains("<error message=\"invalid --timeout"),
        "{}",
        out.describe()
    );

    let out = wspath(&[
        "check",
        "ws://app.test/",
        "--timeout",
        "abc",
        "--format",
        "sarif",
    ]);
    let doc = out.json().unwrap();
    let n = &doc["runs"][0]["invocations"][0];
    assert_eq!(n["executionSuccessful"], false, "{doc:#}");
    assert!(n["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("--timeout"));

    // A command line clap refuses: the flag in `where`, what is missing in the message.
    let out = wspath(&[
        "check",
        "ws://app.test/",
        "--color",
        "purple",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    let doc = out.json().unwrap();
    assert!(check.is_valid(&doc), "{doc:#}");
    assert_eq!(doc["error"]["where"]["flag"], "--color", "{doc:#}");
    let out = wspath(&["lint", "nginx", "--format", "json"]);
    let doc = out.json().unwrap();
    assert_eq!(doc["schema"], "wspath.lint/v1");
    assert!(
        doc["error"]["message"].as_str().unwrap().contains("<FILE>"),
        "{doc:#}"
    );

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.conf");
    let out = wspath(&[
        "lint",
        "nginx",
        missing.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    let doc = out.json().unwrap();
    assert!(schema("lint.schema.json").is_valid(&doc), "{doc:#}");
    assert_eq!(doc["schema"], "wspath.lint/v1");

    let out = wspath(&[
        "fix",
        "--nginx",
        missing.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    let doc = out.json().unwrap();
    assert!(schema("fix.schema.json").is_valid(&doc), "{doc:#}");
}

#[test]
fn input_errors_name_the_flag_and_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, "events {}\nhttp {}\n").unwrap();
    let conf = conf.to_str().unwrap();
    let audit = dir.path().join("audit.toml");
    std::fs::write(
        &audit,
        "[[check]]\nname = \"a\"\ntarget = \"ws://app.test/\"\n",
    )
    .unwrap();
    let audit = audit.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["check", "ws://app.test/", "--timeout", "-5s"],
            &["--timeout", "-5s", "10s"],
        ),
        (
            &["check", "ws://app.test/", "--timeout", "abc"],
            &["--timeout", "abc", "10s"],
        ),
        (
            &["check", "not a url at all"],
            &["not a url at all", "ws://"],
        ),
        (&["check", "ws://app.test:0/"], &["port 0", "65535"]),
        (
            &["check", "ws://app.test/", "--origin", "not a url"],
            &["--origin", "https://"],
        ),
        (
            &["lint", "nginx", conf, "--path", "noslash"],
            &["--path", "noslash", "/ws"],
        ),
        (
            &["fix", "--cloudflare", "not a host!"],
            &["--cloudflare", "not a host!", "hostname"],
        ),
        (
            &["fix", "--nginx", conf, "--idle-timeout", "5"],
            &["--idle-timeout", "fix --nginx"],
        ),
        // Every command's durations and counts take a leading '-' as the (bad) value.
        (
            &["fix", "--nginx", conf, "--validate-timeout", "-5s"],
            &["--validate-timeout", "-5s", "10s"],
        ),
        (&["serve", "--timeout", "-3s"], &["--timeout", "-3s", "10s"]),
        (
            &["serve", "--max-concurrent", "-1"],
            &["--max-concurrent", "-1"],
        ),
        (
            &["audit", audit, "--deadline", "-5s"],
            &["--deadline", "-5s"],
        ),
        (&["audit", audit, "--retries", "-1"], &["--retries", "-1"]),
    ];
    for (args, needles) in cases {
        let out = wspath(args);
        let why = out.describe();
        assert_eq!(out.code, Some(2), "{args:?}\n{why}");
        let err = out.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{args:?}: one line\n{why}");
        assert!(
            !err.contains("-- -5") && !err.contains("international"),
            "{why}"
        );
        for n in *needles {
            assert!(err.contains(n), "{args:?}: should name {n:?}\n{why}");
        }
    }
}

#[test]
fn an_empty_nginx_config_is_not_green() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.conf", ""),
        ("comments.conf", "# nothing\n   # here\n"),
    ] {
        let conf = dir.path().join(name);
        std::fs::write(&conf, text).unwrap();
        let out = wspath(&["lint", "nginx", conf.to_str().unwrap(), "--format", "json"]);
        assert_eq!(out.code, Some(1), "{}", out.describe());
        let doc = out.json().unwrap();
        assert_eq!(doc["ok"], false);
        assert!(
            out.stdout.contains("nginx/empty-config"),
            "{}",
            out.describe()
        );
    }
}

#[test]
fn deep_nginx_nesting_is_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("deep.conf");
    let text = format!("http {{\nserver {{\n{}", "location /a {\n".repeat(11_100));
    std::fs::write(&conf, text).unwrap();
    let out = wspath(&["lint", "nginx", conf.to_str().unwrap()]);
    let why = out.describe();
    assert_eq!(out.code, Some(2), "{why}");
    assert!(
        out.stderr.contains(&format!("{}:", conf.display())),
        "{why}"
    );
    assert!(out.stderr.contains("nested deeper than 100"), "{why}");

    // Wildcards nested through directories: an include pattern of 20,000 `*/` components
    // (found by the fuzzer) is expanded level by level, not by a recursion per component.
    let wild = dir.path().join("wild.conf");
    let text = format!(
        "events {{}}\nhttp {{\n  include conf.d/{}*.conf;\n}}\n",
        "*/".repeat(20_000)
    );
    std::fs::write(&wild, text).unwrap();
    let out = wspath(&["lint", "nginx", wild.to_str().unwrap()]);
    let why = out.describe();
    assert!(matches!(out.code, Some(0..=2)), "{why}");
    assert!(!out.stderr.contains("overflow"), "{why}");

    // Includes that fan out (each file includes the next twice: 2^40 copies of one server
    // from 41 small files) are refused at the include that passes the limit, at once.
    let bomb = dir.path().join("bomb");
    std::fs::create_dir(&bomb).unwrap();
    for i in 0..40 {
        let next = format!("include f{}.conf;\n", i + 1);
        std::fs::write(bomb.join(format!("f{i}.conf")), next.repeat(2)).unwrap();
    }
    std::fs::write(
        bomb.join("f40.conf"),
        "server { listen 80; location /ws { proxy_pass http://b; } }\n",
    )
    .unwrap();
    let main = bomb.join("nginx.conf");
    std::fs::write(&main, "events {}\nhttp {\n  include f0.conf;\n}\n").unwrap();
    let out = wspath(&["lint", "nginx", main.to_str().unwrap(), "--format", "json"]);
    let why = out.describe();
    assert_eq!(out.code, Some(2), "{why}");
    assert!(out.elapsed < std::time::Duration::from_secs(10), "{why}");
    let doc = out.json().unwrap();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("includes expand to more than"),
        "{why}"
    );
    assert!(
        doc["error"]["where"]["file"]
            .as_str()
            .unwrap_or("")
            .ends_with(".conf"),
        "{why}"
    );
}

#[test]
fn an_audit_that_cannot_run_still_writes_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.toml");
    std::fs::write(
        &file,
        "[[check]]\nname = \"a\"\ntarget = \"ws://app.test/\"\nbogus_key = 1\n",
    )
    .unwrap();
    let report = |ext: &str| dir.path().join(format!("report.{ext}"));
    let (json, junit, sarif) = (report("json"), report("xml"), report("sarif"));
    for format in ["json", "junit", "sarif", "human"] {
        for p in [&json, &junit, &sarif] {
            let _ = std::fs::remove_file(p);
        }
        let out = wspath(&[
            "audit",
            file.to_str().unwrap(),
            "--format",
            format,
            "--report-json",
            json.to_str().unwrap(),
            "--report-junit",
            junit.to_str().unwrap(),
            "--report-sarif",
            sarif.to_str().unwrap(),
            "--github",
        ]);
        let why = out.describe();
        assert_eq!(out.code, Some(2), "{why}");
        assert_eq!(out.stderr.trim().lines().count(), 1, "{why}");
        match format {
            "json" => {
                let doc = out.json().unwrap();
                assert_eq!(doc["schema"], "wspath.audit/v1", "{why}");
                assert_eq!(doc["error"]["where"]["line"], 4, "{why}");
            }
            "junit" => assert!(out.stdout.contains("<error message="), "{why}"),
            "sarif" => {
                let doc = out.json().unwrap();
                assert_eq!(
                    doc["runs"][0]["invocations"][0]["executionSuccessful"],
                    false
                );
            }
            // The annotation lands on the line the error names.
            _ => assert!(
                out.stdout.starts_with("::error file=")
                    && out
                        .stdout
                        .contains("audit.toml,line=4,title=wspath audit could not run::"),
                "{why}"
            ),
        }
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["error"]["kind"], "config");
        assert!(std::fs::read_to_string(&junit)
            .unwrap()
            .contains("errors=\"1\""));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
        assert!(
            doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
                .as_str()
                .unwrap()
                .contains("bogus_key")
        );
    }
}

/// Peak resident memory of `wspath ARGS…` in KiB, from the kernel's accounting of the reaped
/// child (`ru_maxrss`): exact however short the run, unlike sampling /proc while it runs.
fn peak_kib(args: &[&str]) -> u64 {
    const MEASURE: &str = "import resource, subprocess, sys\n\
        r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)\n\
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let mut cmd = std::process::Command::new(crate::support::backend::python());
    cmd.args(["-c", MEASURE])
        .arg(cli::wspath_bin())
        .args(args)
        .env("NO_COLOR", "1");
    let out = cli::run(cmd, Duration::from_secs(150)).expect("run the measuring python");
    let mut fields = out.stdout.split_whitespace();
    let code: i32 = fields
        .next()
        .and_then(|c| c.parse().ok())
        .expect("exit code");
    assert!(
        (0..=2).contains(&code),
        "{args:?} ended with {code}\n{}",
        out.describe()
    );
    fields
        .next()
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no ru_maxrss\n{}", out.describe()))
}

/// The nginx parser's memory follows the input, never its square: 10x the nesting (refused at
/// the depth limit) costs about what the smaller file does, and 4x the blocks of a wide,
/// clean config about 4x the memory above an empty run. Ratios, not absolute sizes, so a
/// debug build or a different allocator does not change the verdict.
#[test]
fn nginx_memory_grows_linearly_with_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let deep = |n: usize| format!("http {{\n{}", "a {\n".repeat(n));
    let (d1, d2) = (
        write("d1.conf", deep(10_000)),
        write("d2.conf", deep(100_000)),
    );
    let (p1, p2) = (
        peak_kib(&["lint", "nginx", &d1]),
        peak_kib(&["lint", "nginx", &d2]),
    );
    // Squared, 10x the depth would be 100x; before the limit, 10,000 levels took 801 MB.
    assert!(
        p2 * 10 <= p1 * 15,
        "10x deeper: {p1} KiB -> {p2} KiB, more than 1.5x"
    );
    let block = |i: usize| {
        format!(
            "  server {{\n    listen 80;\n    server_name s{i}.test;\n    location /ws/ {{\n      proxy_pass http://127.0.0.1:9{:03};\n      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection $connection_upgrade;\n      proxy_read_timeout 1h;\n    }}\n  }}\n",
            i % 1000
        )
    };
    let wide = |k: usize| {
        let blocks: String = (0..k).map(block).collect();
        format!("events {{}}\nhttp {{\n  map $http_upgrade $connection_upgrade {{\n    default upgrade;\n    '' close;\n  }}\n{blocks}}}\n")
    };
    let (w0, w1, w2) = (
        write("w0.conf", wide(1)),
        write("w1.conf", wide(5_000)),
        write("w2.conf", wide(20_000)),
    );
    let base = peak_kib(&["lint", "nginx", &w0, "--format", "json"]);
    let m1 = peak_kib(&["lint", "nginx", &w1, "--format", "json"]).saturating_sub(base);
    let m2 = peak_kib(&["lint", "nginx", &w2, "--format", "json"]).saturating_sub(base);
    assert!(
        m1 > 1024,
        "5,000 server blocks should cost something: {m1} KiB"
    );
    // Linear is 4x; squared would be 16x.
    assert!(
        m2 <= m1 * 6,
        "4x the blocks: {m1} KiB -> {m2} KiB above an empty run, more than 6x"
    );
}

/// `wspath ARGS…` with stdout and stderr on a pseudo-terminal (as in an interactive shell),
/// with these environment variables set (`None`: removed); returns everything it wrote.
fn on_a_terminal(args: &[&str], env: &[(&str, Option<&str>)]) -> String {
    const PTY: &str = "import os, pty, subprocess, sys\n\
        m, s = pty.openpty()\n\
        p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=s, stderr=s)\n\
        os.close(s)\n\
        out = b''\n\
        while True:\n\
        \x20   try:\n\
        \x20       d = os.read(m, 65536)\n\
        \x20   except OSError:\n\
        \x20       break\n\
        \x20   if not d:\n\
        \x20       break\n\
        \x20   out += d\n\
        p.wait()\n\
        sys.stdout.buffer.write(out)\n";
    let mut cmd = std::process::Command::new(crate::support::backend::python());
    cmd.args(["-c", PTY]).arg(cli::wspath_bin()).args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cli::run(cmd, RUN_LIMIT).expect("run on a pty");
    assert_eq!(out.code, Some(0), "{}", out.describe());
    out.stdout
}

/// SGR colour sequences (`ESC [ … m`), as opposed to the spinner's line clearing.
fn has_colour(text: &str) -> bool {
    text.split('\x1b').skip(1).any(|s| {
        s.strip_prefix('[').is_some_and(|r| {
            r.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';')
                .starts_with('m')
        })
    })
}

#[test]
fn colour_follows_the_terminal_no_color_term_dumb_and_the_flag() {
    let backend = crate::support::Backend::start().expect("backend");
    let hop = format!("backend={}", backend.addr());
    let args = ["check", "ws://app.test/ws", "--hop", &hop, "-v"];
    let tty = |extra: &[&str], env: &[(&str, Option<&str>)]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        on_a_terminal(&a, env)
    };
    let xterm = [("TERM", Some("xterm-256color")), ("NO_COLOR", None)];
    let out = tty(&[], &xterm);
    assert!(has_colour(&out), "a terminal gets colour:\n{out:?}");
    let out = tty(&[], &[("TERM", Some("dumb")), ("NO_COLOR", None)]);
    assert!(
        !out.contains('\x1b'),
        "TERM=dumb: no colour, no redraws:\n{out:?}"
    );
    let out = tty(&[], &[("TERM", Some("xterm")), ("NO_COLOR", Some("1"))]);
    assert!(!has_colour(&out), "NO_COLOR:\n{out:?}");
    let out = tty(&["--color", "never"], &xterm);
    assert!(!has_colour(&out), "--color never:\n{out:?}");
    let out = tty(
        &["--color", "always"],
        &[("TERM", Some("dumb")), ("NO_COLOR", Some("1"))],
    );
    assert!(has_colour(&out), "--color always wins:\n{out:?}");
    // Not a terminal (a file, a pipe): plain text, logs included, unless asked.
    let mut piped = args.to_vec();
    piped.push("-vv");
    let out = wspath(&piped);
    assert!(
        !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
        "{}",
        out.describe()
    );
    piped.extend(["--color", "always"]);
    let out = wspath(&piped);
    assert!(
        has_colour(&out.stdout) && has_colour(&out.stderr),
        "{}",
        out.describe()
    );
}

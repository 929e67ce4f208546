//! The one part of the analyzer that writes, as a transaction (see [`crate::transaction`]):
//! `nginx -t` on the live configuration first (a configuration that already fails is not
//! touched), then `nginx -t` on a candidate built beside it ([`super::candidate`]) with a time
//! limit, then backups outside every `include`, then the atomic replace.

use super::candidate::{self, Candidate};
use super::fix::{apply_edits, Edit};
use super::model::Model;
use super::parser::Config;
use crate::transaction::{self, backup::BackupDir, validator, Backup, Interrupt, Replacement};
use crate::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The main configuration file (what `nginx -t -c` gets), absolute.
    pub main: PathBuf,
    /// `nginx -p`, when the user gave one, absolute.
    pub prefix: Option<PathBuf>,
    /// `false` only with `--no-validate`: apply without `nginx -t`.
    pub validate: bool,
    /// How long each `nginx -t` may take.
    pub timeout: Duration,
    /// `--backup-dir`; `None`: under `$XDG_STATE_HOME/wspath/backups`.
    pub backup_root: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Written {
    /// Every file replaced, with its backup.
    pub backups: Vec<Backup>,
    /// `nginx -t` passed on the candidate (false only with `--no-validate`).
    pub validated: bool,
}

/// The nginx binary on PATH, if any.
pub fn nginx_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// `nginx -t` as nginx would run with this configuration: same `-p`, main file `conf`.
fn nginx_t(nginx: &Path, opts: &WriteOptions, conf: &Path) -> Command {
    let mut cmd = Command::new(nginx);
    cmd.arg("-t").arg("-q");
    if let Some(p) = &opts.prefix {
        cmd.arg("-p").arg(p);
    }
    // Log to stderr (nginx >= 1.19.5), so testing a configuration touches no log file.
    if super::version::detect().is_some_and(|v| v >= super::Version(1, 19, 5)) {
        cmd.arg("-e").arg("stderr");
    }
    cmd.arg("-c").arg(conf);
    cmd
}

/// nginx's first error as `[emerg] … in FILE:LINE`: without the `nginx: ` or the time and
/// `pid#tid: ` that `-e stderr` puts in front.
pub fn first_error(text: &str) -> String {
    let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty());
    let levels = ["[emerg]", "[alert]", "[crit]"];
    let Some(line) = lines()
        .find(|l| levels.iter().any(|lv| l.contains(lv)))
        .or_else(|| lines().next())
    else {
        return "nginx -t failed without saying why".into();
    };
    let Some(at) = levels.iter().filter_map(|lv| line.find(lv)).min() else {
        return line.trim_start_matches("nginx: ").to_string();
    };
    let (level, rest) = line[at..].split_at(line[at..].find(']').map_or(0, |i| i + 1));
    let rest = rest.trim_start();
    // `13343#13343: ` (pid#tid) after the level.
    let rest = match rest.split_once(": ") {
        Some((id, tail)) if id.chars().all(|c| c.is_ascii_digit() || c == '#') => tail,
        _ => rest,
    };
    format!("{level} {rest}")
}

/// `nginx -t` on the live configuration, before anything is planned to be written. `Ok(None)`
/// with `--no-validate`.
pub fn precondition(opts: &WriteOptions, interrupt: &Interrupt) -> Result<Option<PathBuf>, Error> {
    if !opts.validate {
        return Ok(None);
    }
    let Some(nginx) = nginx_on_path() else {
        return Err(Error::Refused(
            "no nginx binary on PATH to validate the change with `nginx -t`; nothing was written \
             (put nginx on PATH, or pass --no-validate to apply without validation)"
                .into(),
        ));
    };
    match validator::run(nginx_t(&nginx, opts, &opts.main), opts.timeout, interrupt)? {
        validator::Outcome::Passed => Ok(Some(nginx)),
        validator::Outcome::Failed(text) => Err(Error::Refused(format!(
            "the configuration already fails `nginx -t`, before any change; nothing was written: {}",
            first_error(&text)
        ))),
    }
}

/// Every `include` pattern of the configuration, absolute (relative ones are relative to the
/// main file's directory, as nginx resolves them).
fn include_patterns(config: &Config) -> Vec<String> {
    let dir = Path::new(&config.files[0].path)
        .parent()
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let mut out = Vec::new();
    for f in &config.files {
        let mut incs = Vec::new();
        candidate::includes(&f.directives, &mut incs);
        for d in incs {
            if let Some(arg) = d.arg(0) {
                out.push(dir.join(arg).to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// Would any `include` of the configuration load `path` (or a directory on the way to it)?
fn included_by<'p>(patterns: &'p [String], path: &Path) -> Option<&'p str> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    patterns.iter().map(String::as_str).find(|p| {
        let Ok(pattern) = glob::Pattern::new(p) else {
            return false;
        };
        path.ancestors()
            .any(|a| a.as_os_str() == std::ffi::OsStr::new(p) || pattern.matches_path_with(a, opts))
    })
}

/// Refuse a backup directory nginx would load a backup from.
fn check_backup_dir(config: &Config, dir: &BackupDir, files: &[PathBuf]) -> Result<(), Error> {
    let patterns = include_patterns(config);
    for f in files {
        let backup = dir.backup_path(f);
        if let Some(p) = included_by(&patterns, &backup) {
            return Err(Error::Refused(format!(
                "backups under {} would be loaded by nginx (`include {p};` matches {}); \
                 choose a --backup-dir outside the configuration's includes; nothing was written",
                dir.path().display(),
                backup.display()
            )));
        }
    }
    Ok(())
}

/// Apply `edits` as one transaction: validate the candidate, back up, replace atomically.
/// `nginx`: the binary [`precondition`] found (`None` with `--no-validate`).
pub fn write(
    model: &Model<'_>,
    edits: &[Edit],
    opts: &WriteOptions,
    nginx: Option<&Path>,
    interrupt: &Interrupt,
) -> Result<Written, Error> {
    let config = model.config;
    let new = apply_edits(model, edits);
    let replacements: Vec<Replacement> = new
        .into_iter()
        .map(|(i, contents)| Replacement {
            path: PathBuf::from(&config.files[i].path),
            original: config.files[i].source.as_bytes().to_vec(),
            new: contents.into_bytes(),
        })
        .collect();
    let real: Vec<PathBuf> = replacements
        .iter()
        .map(|r| std::fs::canonicalize(&r.path).unwrap_or_else(|_| r.path.clone()))
        .collect();
    let root = match &opts.backup_root {
        Some(r) => r.clone(),
        None => transaction::backup::default_root()?,
    };
    let backups = BackupDir::under(&root)?;
    check_backup_dir(config, &backups, &real)?;

    if opts.validate {
        let Some(nginx) = nginx else {
            return Err(Error::Refused(
                "no nginx binary to validate the change with; nothing was written".into(),
            ));
        };
        let candidate = candidate::build(config, edits)?;
        if let Some(p) = included_by(&include_patterns(config), candidate.main()) {
            return Err(Error::Refused(format!(
                "`include {p};` would load the candidate file wspath tests the change with; nothing was written"
            )));
        }
        validate_candidate(nginx, opts, &candidate, interrupt)?;
        // `candidate` is dropped here: its files are gone before anything live changes.
    }
    let saved = transaction::commit(&replacements, &backups, interrupt)?;
    Ok(Written {
        backups: saved,
        validated: opts.validate,
    })
}

fn validate_candidate(
    nginx: &Path,
    opts: &WriteOptions,
    candidate: &Candidate,
    interrupt: &Interrupt,
) -> Result<(), Error> {
    let run = validator::run(
        nginx_t(nginx, opts, candidate.main()),
        opts.timeout,
        interrupt,
    )
    .map_err(|e| match e {
        Error::Interrupted { signal, .. } => Error::Interrupted {
            signal,
            outcome: format!(
                "`nginx -t` of the fixed configuration was stopped; {}",
                transaction::UNCHANGED
            ),
        },
        other => other,
    })?;
    match run {
        validator::Outcome::Passed => Ok(()),
        validator::Outcome::Failed(text) => Err(Error::Refused(format!(
            "`nginx -t` rejects the fixed configuration; nothing was changed: {}",
            candidate.live_names(&first_error(&text))
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nginx_error_is_quoted() {
        let stderr = "2026/12/02 10:41:28 [emerg] 13343#13343: host not found in upstream \"app\" in /a.conf:5\nnginx: configuration file /a.conf test failed\n";
        assert_eq!(
            first_error(stderr),
            "[emerg] host not found in upstream \"app\" in /a.conf:5"
        );
        let text = "nginx: [warn] x\nnginx: [emerg] unknown directive \"foo\" in /a/b.conf:3\nnginx: configuration file /a/b.conf test failed\n";
        assert_eq!(
            first_error(text),
            "[emerg] unknown directive \"foo\" in /a/b.conf:3"
        );
    }

    #[test]
    fn a_backup_dir_an_include_matches_is_found() {
        let patterns = vec!["/etc/nginx/sites-enabled/*".to_string()];
        assert!(included_by(
            &patterns,
            Path::new("/etc/nginx/sites-enabled/2026-12-02T000000Z/etc/nginx/x")
        )
        .is_some());
        assert!(included_by(&patterns, Path::new("/var/lib/x/etc/nginx/sites-enabled")).is_none());
        assert!(included_by(&patterns, Path::new("/etc/nginx/sites-enabled/.hidden")).is_none());
    }
}

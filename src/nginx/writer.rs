//! The one part of the analyzer that writes: apply planned edits with a backup beside each file,
//! an atomic replace, then `nginx -t` with the same prefix; on failure put the originals back.

use super::fix::{apply_edits, Edit};
use super::model::Model;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// The main configuration file (what `nginx -t -c` gets).
    pub main: PathBuf,
    /// `nginx -p`, when the user gave one.
    pub prefix: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    Passed,
    /// nginx is not on PATH.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct Written {
    /// (file, backup) for every file replaced.
    pub backups: Vec<(PathBuf, PathBuf)>,
    pub validation: Validation,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> crate::Error + '_ {
    move |source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `FILE.wspath.bak`, or `FILE.wspath.bak.N` when that exists: a backup is never overwritten.
fn backup_path(file: &Path) -> PathBuf {
    let base = format!("{}.wspath.bak", file.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

/// Write `contents` to `file` through a temporary file in the same directory and a rename, so
/// nginx never reads a half-written file. Permissions are kept.
fn replace_atomically(file: &Path, contents: &[u8]) -> Result<(), crate::Error> {
    use std::io::Write;
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.wspath.tmp"));
    let perms = std::fs::metadata(file).map_err(io(file))?.permissions();
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(contents).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::set_permissions(&tmp, perms).map_err(io(&tmp))?;
    std::fs::rename(&tmp, file).map_err(io(file))
}

/// The nginx binary on PATH, if any.
pub fn nginx_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// `nginx -t` of the configuration: `Err(message)` with nginx's own words when it refuses.
pub fn validate(nginx: &Path, opts: &WriteOptions) -> Result<(), String> {
    let mut cmd = Command::new(nginx);
    cmd.arg("-t").arg("-q");
    if let Some(p) = &opts.prefix {
        cmd.arg("-p").arg(p);
    }
    // Log to stderr (nginx >= 1.19.5), so testing a configuration touches no log file.
    if super::version::detect().is_some_and(|v| v >= super::Version(1, 19, 5)) {
        cmd.arg("-e").arg("stderr");
    }
    cmd.arg("-c").arg(&opts.main);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", nginx.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("[emerg]"))
        .or_else(|| stderr.lines().next())
        .unwrap_or("nginx -t failed")
        .trim()
        .to_string();
    Err(line)
}

/// Apply `edits`: back up, replace atomically, validate; restore everything if nginx refuses.
pub fn write(
    model: &Model<'_>,
    edits: &[Edit],
    opts: &WriteOptions,
) -> Result<Written, crate::Error> {
    let new = apply_edits(model, edits);
    let mut backups = Vec::new();
    for (&file, contents) in &new {
        let path = PathBuf::from(&model.config.files[file].path);
        let backup = backup_path(&path);
        std::fs::copy(&path, &backup).map_err(io(&backup))?;
        backups.push((path.clone(), backup));
        if let Err(e) = replace_atomically(&path, contents.as_bytes()) {
            restore(&backups);
            return Err(e);
        }
    }
    let validation = match nginx_on_path() {
        None => Validation::Skipped,
        Some(nginx) => match validate(&nginx, opts) {
            Ok(()) => Validation::Passed,
            Err(why) => {
                restore(&backups);
                return Err(crate::Error::NginxConfig {
                    location: opts.main.display().to_string(),
                    message: format!(
                        "nginx -t rejected the fixed configuration, originals restored: {why}"
                    ),
                });
            }
        },
    };
    Ok(Written {
        backups,
        validation,
    })
}

/// Put every backed-up file back (best effort: this runs on a failure path already).
fn restore(backups: &[(PathBuf, PathBuf)]) {
    for (file, backup) in backups {
        if let Ok(original) = std::fs::read(backup) {
            let _ = replace_atomically(file, &original);
        }
    }
}

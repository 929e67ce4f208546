//! Backups of replaced files, kept outside anything the software loads:
//! `$XDG_STATE_HOME/wspath/backups/<UTC timestamp>/<original absolute path>` (else
//! `~/.local/state/wspath/backups/…`), or under `--backup-dir`. A backup beside the file (the
//! old `FILE.wspath.bak`) sat where `include sites-enabled/*;` loads it.

use crate::Error;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One file's backup and the command that puts it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backup {
    /// The file that was replaced (a symlink's target: the file that holds the contents).
    pub file: PathBuf,
    pub backup: PathBuf,
    /// A shell command that restores the original.
    pub restore: String,
}

/// The directory of one transaction's backups (created only when something is saved).
#[derive(Debug, Clone)]
pub struct BackupDir {
    dir: PathBuf,
}

/// `$XDG_STATE_HOME/wspath/backups`, else `$HOME/.local/state/wspath/backups`.
pub fn default_root() -> Result<PathBuf, Error> {
    let xdg = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|h| h.join(".local/state"))
    };
    match xdg.or_else(home) {
        Some(state) => Ok(state.join("wspath").join("backups")),
        None => Err(Error::Refused(
            "neither XDG_STATE_HOME nor HOME is set: pass --backup-dir DIR for the backups".into(),
        )),
    }
}

impl BackupDir {
    /// A fresh `<root>/<UTC timestamp>` (with `-N` when that exists already).
    pub fn under(root: &Path) -> Result<BackupDir, Error> {
        let root = std::path::absolute(root).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        // 2026-12-02T102623Z: sortable, and no ':' for tools that dislike it in paths.
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            .to_string()
            .replace(':', "");
        let mut dir = root.join(&stamp);
        let mut n = 1;
        while dir.exists() {
            dir = root.join(format!("{stamp}-{n}"));
            n += 1;
        }
        Ok(BackupDir { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where the backup of `file` (absolute) goes.
    pub fn backup_path(&self, file: &Path) -> PathBuf {
        let relative: PathBuf = file
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        self.dir.join(relative)
    }

    /// Write each original (as read) to its backup path, with the original's mode.
    pub fn save(&self, files: &[(&Path, &[u8])]) -> Result<Vec<Backup>, Error> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::with_capacity(files.len());
        for (file, original) in files {
            let backup = self.backup_path(file);
            let io = |source| Error::Io {
                path: backup.clone(),
                source,
            };
            if let Some(parent) = backup.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&backup, original).map_err(io)?;
            let mode = std::fs::metadata(file)
                .map(|m| m.permissions().mode())
                .unwrap_or(0o600);
            std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(mode & 0o777))
                .map_err(io)?;
            out.push(Backup {
                restore: format!(
                    "cp {} {}",
                    shell_quote(&backup.to_string_lossy()),
                    shell_quote(&file.to_string_lossy())
                ),
                file: file.to_path_buf(),
                backup,
            });
        }
        Ok(out)
    }

    /// Remove this transaction's backups (when nothing was replaced after all).
    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A word for `sh`: as is when plain, else single-quoted.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_mirror_the_absolute_path_under_a_timestamp() {
        let b = BackupDir::under(Path::new("/var/bk")).unwrap();
        let p = b.backup_path(Path::new("/etc/nginx/sites-available/default"));
        assert!(p.starts_with("/var/bk"), "{}", p.display());
        assert!(p.ends_with("etc/nginx/sites-available/default"));
        assert_eq!(p.components().count(), 8, "{}", p.display());
        assert_eq!(shell_quote("/a b/c"), "'/a b/c'");
    }
}

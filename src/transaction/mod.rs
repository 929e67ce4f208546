//! Writing a user's configuration as a transaction, for every config writer in wspath.
//!
//! The discipline of a package manager replacing a conffile: the new contents are validated
//! before anything live changes (the caller does that with [`validator`]), the originals are
//! backed up outside anything the software loads ([`backup`]), every file is staged as a
//! temporary file in its own directory with the original's owner, group and mode, each file is
//! compared with what was read right before the renames, and only then is each temporary file
//! renamed over its original (a symlink's target, so the link stays a link). A signal only sets
//! a flag ([`Interrupt`]); it is honoured between steps, never between two renames.

pub mod backup;
pub mod validator;

use crate::Error;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use backup::Backup;

/// One file to replace: its path as the user's configuration names it, the exact bytes that
/// were read (and planned against), and the new bytes.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub path: PathBuf,
    pub original: Vec<u8>,
    pub new: Vec<u8>,
}

/// Set to a signal number by the binary's signal handler (0: none). The engine only reads it.
#[derive(Debug, Default)]
pub struct Interrupt(pub std::sync::Arc<AtomicUsize>);

impl Interrupt {
    /// The signal that arrived, if any.
    pub fn signal(&self) -> Option<&'static str> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            2 => Some("SIGINT"),
            15 => Some("SIGTERM"),
            _ => Some("a signal"),
        }
    }
}

/// Where the configuration stands when a transaction stops early.
pub const UNCHANGED: &str = "nothing was replaced: the configuration is as it was";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file staged beside its target, with everything needed to put it in place.
struct Staged {
    /// The file to replace, symlinks resolved.
    real: PathBuf,
    original: Vec<u8>,
    tmp: tempfile::NamedTempFile,
}

/// Back up, stage, check and replace every file; all or nothing. `backups`: where the originals
/// go (checked by the caller against what the software loads).
pub fn commit(
    replacements: &[Replacement],
    backups: &backup::BackupDir,
    interrupt: &Interrupt,
) -> Result<Vec<Backup>, Error> {
    let stop = |step: &str| -> Result<(), Error> {
        match interrupt.signal() {
            Some(signal) => Err(Error::Interrupted {
                signal,
                outcome: format!("{step}; {UNCHANGED}"),
            }),
            None => Ok(()),
        }
    };
    let mut real = Vec::with_capacity(replacements.len());
    for r in replacements {
        real.push(std::fs::canonicalize(&r.path).map_err(io(&r.path))?);
    }
    stop("interrupted before the backup")?;
    let saved = backups.save(
        &real
            .iter()
            .zip(replacements)
            .map(|(p, r)| (p.as_path(), r.original.as_slice()))
            .collect::<Vec<_>>(),
    )?;
    let result = stage_check_replace(replacements, &real, &stop);
    if result.is_err() {
        // Nothing was replaced: a backup of an unchanged file would only mislead.
        backups.discard();
    }
    result.map(|()| saved)
}

fn stage_check_replace(
    replacements: &[Replacement],
    real: &[PathBuf],
    stop: &dyn Fn(&str) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut staged = Vec::with_capacity(replacements.len());
    for (r, path) in replacements.iter().zip(real) {
        staged.push(stage(path, &r.original, &r.new)?);
        stop("interrupted while staging the new files")?;
    }
    // Right before the renames: a file someone changed since it was read would lose that
    // change, so the whole transaction stops.
    for s in &staged {
        let now = std::fs::read(&s.real).map_err(io(&s.real))?;
        if digest(&now) != digest(&s.original) {
            return Err(Error::ChangedSinceRead {
                path: s.real.clone(),
            });
        }
    }
    stop("interrupted before replacing")?;
    // From here a signal only sets the flag: every file is renamed, so the result is the new
    // validated configuration, never a mix.
    let mut done: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for s in staged {
        let Staged {
            real,
            original,
            tmp,
        } = s;
        if let Err(e) = tmp.persist(&real) {
            // A rename in one directory failing (read-only mount appearing, …): put back what
            // was already replaced so the configuration is the old one again.
            for (path, original) in &done {
                if let Ok(t) = stage(path, original, original) {
                    let _ = t.tmp.persist(path);
                }
            }
            return Err(Error::Io {
                path: real,
                source: e.error,
            });
        }
        if let Some(dir) = real.parent() {
            // The rename is durable once the directory entry is on disk.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        done.push((real, original));
    }
    Ok(())
}

/// The new contents in a temporary file beside `real`, with its owner, group and mode. The
/// name starts with a dot so no `include dir/*` glob of nginx ever loads it.
fn stage(real: &Path, original: &[u8], new: &[u8]) -> Result<Staged, Error> {
    use std::io::Write;
    let dir = real.parent().unwrap_or(Path::new("/"));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let meta = std::fs::metadata(real).map_err(io(real))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.wspath-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    tmp.write_all(new).map_err(io(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid())).map_err(|e| {
        Error::Refused(format!(
            "{}: cannot keep its owner {}:{} on the new file ({e}); {UNCHANGED}",
            real.display(),
            meta.uid(),
            meta.gid()
        ))
    })?;
    // After chown, which may clear set-id bits.
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(io(tmp.path()))?;
    Ok(Staged {
        real: real.to_path_buf(),
        original: original.to_vec(),
        tmp,
    })
}

/// The content hash compared right before a replace.
fn digest(bytes: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn setup() -> (tempfile::TempDir, backup::BackupDir) {
        let dir = tempfile::tempdir().unwrap();
        let backups = backup::BackupDir::under(&dir.path().join("state")).unwrap();
        (dir, backups)
    }

    #[test]
    fn a_symlink_stays_a_link_and_its_target_gets_the_new_contents_and_mode() {
        let (dir, backups) = setup();
        let target = dir.path().join("site");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let saved = commit(
            &[Replacement {
                path: link.clone(),
                original: b"old".to_vec(),
                new: b"new".to_vec(),
            }],
            &backups,
            &Interrupt::default(),
        )
        .unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read_to_string(&saved[0].backup).unwrap(), "old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("wspath"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_file_changed_since_it_was_read_stops_everything() {
        let (dir, backups) = setup();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b changed by someone else").unwrap();
        let err = commit(
            &[
                Replacement {
                    path: a.clone(),
                    original: b"a".to_vec(),
                    new: b"A".to_vec(),
                },
                Replacement {
                    path: b.clone(),
                    original: b"b".to_vec(),
                    new: b"B".to_vec(),
                },
            ],
            &backups,
            &Interrupt::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::ChangedSinceRead { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
        assert!(!backups.path().exists(), "no backup of an unchanged file");
    }

    #[test]
    fn an_interrupt_before_the_renames_replaces_nothing() {
        let (dir, backups) = setup();
        let a = dir.path().join("a");
        std::fs::write(&a, "a").unwrap();
        let interrupt = Interrupt(std::sync::Arc::new(AtomicUsize::new(15)));
        let err = commit(
            &[Replacement {
                path: a.clone(),
                original: b"a".to_vec(),
                new: b"A".to_vec(),
            }],
            &backups,
            &interrupt,
        )
        .unwrap_err();
        assert!(err.to_string().contains("SIGTERM"), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
    }
}

//! One child server process: started with its output in a log file, ready when its port
//! accepts connections, stopped by pid on Drop (SIGTERM, then SIGKILL if it lingers).

use super::ports::{free_port, port_open, retry_on_addr_in_use, wait_until};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a server gets to accept its first connection. Readiness is polled, so this only
/// bounds a server that never comes up; Prism (a node process) took over 15 s on a loaded
/// 2-core machine running the suite in parallel.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server; its process is stopped when this is dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// What the process wrote to stdout and stderr.
    pub log: PathBuf,
    what: String,
    /// The child leads its own process group, and stopping it stops the whole group.
    group: bool,
}

impl ServerProcess {
    /// Spawns `command` with stdin closed and stdout+stderr appended to `log`.
    pub fn spawn(what: &str, command: Command, log: &Path) -> io::Result<ServerProcess> {
        ServerProcess::spawn_inner(what, command, log, false)
    }

    /// Like [`ServerProcess::spawn`], in a process group of its own that stop ends as a whole:
    /// for servers that fork workers which outlive a stopped parent (varnishd's child).
    pub fn spawn_group(what: &str, mut command: Command, log: &Path) -> io::Result<ServerProcess> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        ServerProcess::spawn_inner(what, command, log, true)
    }

    fn spawn_inner(
        what: &str,
        mut command: Command,
        log: &Path,
        group: bool,
    ) -> io::Result<ServerProcess> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("{what}: cannot run {:?}: {e}", command.get_program()),
                )
            })?;
        Ok(ServerProcess {
            child,
            log: log.to_path_buf(),
            what: what.to_string(),
            group,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until 127.0.0.1:`port` accepts a connection and `extra` holds, failing early
    /// (with the log, kind `AddrInUse` for the bind race) if the process exits first.
    pub fn wait_ready(&mut self, port: u16, mut extra: impl FnMut() -> bool) -> io::Result<()> {
        let mut exited = None;
        let ready = wait_until(START_TIMEOUT, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                return true;
            }
            port_open(port) && extra()
        });
        // The port can answer for another process that took it first: only ours counts.
        if exited.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
            }
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if let Some(status) = exited {
            let kind = if log.contains("Address already in use")
                || log.contains("address already in use")
            {
                io::ErrorKind::AddrInUse
            } else {
                io::ErrorKind::Other
            };
            return Err(io::Error::new(
                kind,
                format!(
                    "{} exited ({status}) before 127.0.0.1:{port} was ready; its output:\n{log}",
                    self.what
                ),
            ));
        }
        if ready.is_err() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{} did not accept connections on 127.0.0.1:{port} within {START_TIMEOUT:?}; its output:\n{log}",
                    self.what
                ),
            ));
        }
        Ok(())
    }

    /// Stops the process now (what Drop does): SIGTERM so nginx's master also stops its
    /// workers, then SIGKILL if it is still there after 5 s.
    pub fn stop(&mut self) {
        // The group is signalled even when its leader is gone: its children may not be.
        let target = if self.group {
            format!("-{}", self.child.id())
        } else {
            self.child.id().to_string()
        };
        if !self.group {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
        }
        let signal = |sig: &str| {
            let _ = Command::new("kill")
                .arg(sig)
                .arg("--")
                .arg(&target)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let gone = wait_until(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if gone.is_err() || self.group {
            if self.group {
                signal("-KILL");
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server started by [`start_server`]: its process, the port it listens on and its temp dir.
#[derive(Debug)]
pub struct Started {
    pub process: ServerProcess,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

/// Starts the server `name` on a free 127.0.0.1 port in a temp dir of its own
/// (`wspath-NAME-…`): `command(dir, port)` writes what the server needs into the dir (config,
/// certificates) and returns its command line; stdout and stderr go to `dir/log`. `group` runs
/// it in a process group of its own (see [`ServerProcess::spawn_group`]). Ready when the port
/// accepts and `ready(dir, port)` holds. A lost bind race is retried with a new port and dir; any
/// other failure says what the server wrote, its `error.log` and `cache.log` included.
pub fn start_server(
    name: &str,
    log: &str,
    group: bool,
    mut command: impl FnMut(&Path, u16) -> io::Result<Command>,
    ready: impl Fn(&Path, u16) -> bool,
) -> io::Result<Started> {
    retry_on_addr_in_use(|| {
        let dir = tempfile::Builder::new()
            .prefix(&format!("wspath-{name}-"))
            .tempdir()?;
        let port = free_port()?;
        let cmd = command(dir.path(), port)?;
        let log = dir.path().join(log);
        let mut process = if group {
            ServerProcess::spawn_group(name, cmd, &log)?
        } else {
            ServerProcess::spawn(name, cmd, &log)?
        };
        process
            .wait_ready(port, || ready(dir.path(), port))
            .map_err(|e| {
                let logs = ["error.log", "cache.log"]
                    .iter()
                    .filter_map(|f| {
                        let text = std::fs::read_to_string(dir.path().join(f)).ok()?;
                        Some(format!("{f}:\n{text}"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                io::Error::new(e.kind(), format!("{e}\n{logs}"))
            })?;
        Ok(Started { process, port, dir })
    })
}

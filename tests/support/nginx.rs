//! Real nginx on 127.0.0.1: `nginx -p DIR -c DIR/nginx.conf` with `daemon off;`, and pid, logs
//! and every temp path inside DIR, so parallel tests never share a file.
//!
//! The error log is at level `info` because nginx reports idle cuts ("upstream timed out")
//! and client closes only at that level.

use super::process::{start_server, ServerProcess, Started};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The nginx binary: `WSPATH_NGINX`, else `nginx` on PATH, else /usr/sbin/nginx.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("WSPATH_NGINX").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    find_in_path("nginx").unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A running nginx; stopped (master and workers) on Drop.
#[derive(Debug)]
pub struct Nginx {
    /// The port the test's `listen` uses.
    pub port: u16,
    pub dir: tempfile::TempDir,
    process: ServerProcess,
}

impl Nginx {
    /// Starts nginx with the standard main context (see [`main_config`]) around `http_body`,
    /// the inside of the `http {}` block; `http_body(port)` gets the free port to `listen` on.
    ///
    /// ```ignore
    /// Nginx::start(|port| format!("server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}"))
    /// ```
    pub fn start(http_body: impl Fn(u16) -> String) -> io::Result<Nginx> {
        Nginx::start_full(|dir, port| main_config(dir, &http_body(port)))
    }

    /// Starts nginx with a full configuration `config(dir, port)`; it must contain
    /// `daemon off;` and `pid DIR/nginx.pid;` (as [`main_config`] does).
    pub fn start_full(config: impl Fn(&Path, u16) -> String) -> io::Result<Nginx> {
        let started = start_server(
            "nginx",
            "stderr.log",
            false,
            |dir, port| {
                let conf = dir.join("nginx.conf");
                std::fs::write(&conf, config(dir, port))?;
                Ok(command(dir, &conf))
            },
            // The master writes its pid only after it bound every listen socket.
            |dir, _| dir.join("nginx.pid").exists(),
        )?;
        let Started { process, port, dir } = started;
        Ok(Nginx { port, dir, process })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }

    pub fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    pub fn access_log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.error_log_path()).unwrap_or_default()
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.access_log_path()).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// `nginx -p DIR -e DIR/error.log -c CONF`, in the foreground when CONF says `daemon off;`.
pub(crate) fn command(dir: &Path, conf: &Path) -> Command {
    let mut cmd = Command::new(binary());
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(conf);
    cmd
}

/// A complete nginx.conf that keeps everything inside `dir` and wraps `http_body`.
pub fn main_config(dir: &Path, http_body: &str) -> String {
    let d = dir.display();
    // As root, workers would run as `nobody` and could not read the test's 0700 temp dir.
    let user = if is_root(dir) { "user root;\n" } else { "" };
    format!(
        "daemon off;
{user}worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;
{http_body}
}}
"
    )
}

/// The usual `map` that turns an upgrade request into `Connection: upgrade` and anything else
/// into `Connection: close`; put it in the http body of a config that uses `$connection_upgrade`.
pub const CONNECTION_UPGRADE_MAP: &str = "map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
";

/// The location directives that make nginx carry WebSockets (HTTP/1.1 upstream, Upgrade and
/// Connection passed on); they need [`CONNECTION_UPGRADE_MAP`] in the http body.
pub const UPGRADE_DIRECTIVES: &str = "proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;";

/// One `server` for `app.test` on 127.0.0.1:`port` (`listen` options such as `ssl` or
/// `default_server` in `listen`) holding `body` (locations, TLS settings).
pub fn server_block(port: u16, listen: &str, body: &str) -> String {
    format!(
        "server {{
    listen 127.0.0.1:{port}{sp}{listen};
    server_name app.test;
    {body}
}}
",
        sp = if listen.is_empty() { "" } else { " " },
    )
}

/// A whole nginx.conf (see [`main_config`]) with [`CONNECTION_UPGRADE_MAP`] and one
/// [`server_block`]: what a test needs for a layout of its own (`location /api/` only, a
/// redirect, a TLS port), started with [`super::WsPath::front_with`] or [`Nginx::start_full`].
pub fn site(dir: &Path, port: u16, listen: &str, body: &str) -> String {
    main_config(
        dir,
        &format!(
            "{CONNECTION_UPGRADE_MAP}{}",
            server_block(port, listen, body)
        ),
    )
}

fn is_root(dir: &Path) -> bool {
    std::fs::metadata(dir)
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Runs `nginx -t -p PREFIX -c CONF` (error log inside PREFIX) and returns its output:
/// `status.success()` says whether nginx accepts the configuration, stderr says why not.
pub fn nginx_t(conf: &Path, prefix: &Path) -> io::Result<Output> {
    command(prefix, conf).arg("-t").output()
}

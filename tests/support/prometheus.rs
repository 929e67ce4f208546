//! A real Prometheus server (Debian's `prometheus`) on a free port with a generated config and
//! its storage in a temp dir, and its HTTP API for queries; stopped by pid on Drop.

use super::process::{start_server, ServerProcess, Started};
use super::raw;
use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// `prometheus` from `WSPATH_PROMETHEUS` or the PATH.
pub fn binary() -> PathBuf {
    std::env::var_os("WSPATH_PROMETHEUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| "prometheus".into())
}

/// `promtool` from `WSPATH_PROMTOOL` or the PATH.
pub fn promtool() -> PathBuf {
    std::env::var_os("WSPATH_PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| "promtool".into())
}

#[derive(Debug)]
pub struct Prometheus {
    pub port: u16,
    pub dir: tempfile::TempDir,
    process: ServerProcess,
}

impl Prometheus {
    /// Starts Prometheus with `config` (prometheus.yml text) written beside `files` (name,
    /// text), e.g. rule files it names.
    pub fn start(config: &str, files: &[(&str, String)]) -> io::Result<Prometheus> {
        let started = start_server(
            "prometheus",
            "prometheus.log",
            false,
            |dir, port| {
                for (name, text) in files {
                    std::fs::write(dir.join(name), text)?;
                }
                let conf = dir.join("prometheus.yml");
                std::fs::write(&conf, config)?;
                let mut cmd = Command::new(binary());
                cmd.arg(format!("--config.file={}", conf.display()))
                    .arg(format!(
                        "--storage.tsdb.path={}",
                        dir.join("data").display()
                    ))
                    .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                    .arg("--log.level=warn");
                Ok(cmd)
            },
            |_, _| true,
        )?;
        let Started { process, port, dir } = started;
        Ok(Prometheus { port, dir, process })
    }

    /// The `data.result` array of an instant query.
    pub fn query(&self, promql: &str) -> io::Result<Vec<serde_json::Value>> {
        let path = format!("/api/v1/query?query={}", super::serve::encode(promql));
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let response = raw::send(self.port, &request, Duration::from_secs(30))?;
        let doc: serde_json::Value = serde_json::from_str(&response.body)
            .map_err(|e| io::Error::other(format!("{e}: {}", response.body)))?;
        Ok(doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }
}

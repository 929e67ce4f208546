//! Read an nginx error log and turn the lines that mean a broken WebSocket into findings,
//! grouped by kind, upstream and request, with counts.

use crate::finding::{Finding, Location, Severity};
use std::collections::BTreeMap;
use std::path::Path;

/// The log lines wspath knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogKind {
    InvalidHeader,
    PrematureClose,
    ConnectRefused,
    UpgradedTimeout,
}

/// `nginx/log-level-hides-idle-timeouts`: the log level hides the lines that show idle cuts.
pub const LEVEL_HIDES_IDLE: &str = "nginx/log-level-hides-idle-timeouts";

/// The description of the error-log rule `id`, the same for every finding of it.
pub fn rule_title(id: &str) -> Option<&'static str> {
    if id == LEVEL_HIDES_IDLE {
        return Some("error_log's level hides idle WebSocket timeouts (logged at info)");
    }
    LogKind::ALL
        .into_iter()
        .find(|k| k.id() == id)
        .map(|k| k.describe().1)
}

impl LogKind {
    const ALL: [LogKind; 4] = [
        LogKind::InvalidHeader,
        LogKind::PrematureClose,
        LogKind::ConnectRefused,
        LogKind::UpgradedTimeout,
    ];

    pub fn id(self) -> &'static str {
        match self {
            LogKind::InvalidHeader => "nginx/log-upstream-invalid-header",
            LogKind::PrematureClose => "nginx/log-upstream-closed",
            LogKind::ConnectRefused => "nginx/log-connect-refused",
            LogKind::UpgradedTimeout => "nginx/log-upgraded-timeout",
        }
    }

    fn classify(line: &str) -> Option<LogKind> {
        if line.contains("upstream sent invalid header") {
            Some(LogKind::InvalidHeader)
        } else if line.contains("upstream prematurely closed connection") {
            Some(LogKind::PrematureClose)
        } else if line.contains("connect() failed (111") {
            Some(LogKind::ConnectRefused)
        } else if line.contains("timed out") && line.contains("while proxying upgraded connection")
        {
            Some(LogKind::UpgradedTimeout)
        } else {
            None
        }
    }

    fn describe(self) -> (Severity, &'static str, &'static str, &'static str) {
        match self {
            LogKind::InvalidHeader => (
                Severity::Error,
                "upstream sent invalid header",
                "the backend answered the upgrade with 101 over a connection nginx opened as HTTP/1.0, which nginx cannot accept",
                "set `proxy_http_version 1.1;` in the location (wspath fix --nginx)",
            ),
            LogKind::PrematureClose => (
                Severity::Error,
                "upstream prematurely closed connection",
                "the backend closed the connection before answering the handshake, typically because it did not see Upgrade/Connection: upgrade",
                "forward Upgrade and Connection (wspath fix --nginx) and check the backend's WebSocket path",
            ),
            LogKind::ConnectRefused => (
                Severity::Error,
                "connect() to the upstream refused",
                "nothing listens at the upstream address nginx proxies to",
                "start the backend or correct proxy_pass / the upstream server address",
            ),
            LogKind::UpgradedTimeout => (
                Severity::Warning,
                "upstream timed out while proxying an upgraded connection",
                "an idle WebSocket reached proxy_read_timeout / proxy_send_timeout and nginx closed it (close 1006 at the client)",
                "raise proxy_read_timeout and proxy_send_timeout above the idle time, or ping more often",
            ),
        }
    }
}

/// A `key: "value"` (or `key: value`) field of an error log line.
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!(", {key}: "))? + key.len() + 4;
    let rest = &line[start..];
    if let Some(q) = rest.strip_prefix('"') {
        q.find('"').map(|e| q[..e].to_string())
    } else {
        Some(rest.split(',').next().unwrap_or(rest).trim().to_string())
    }
}

/// Findings from the log at `path`. `log_level` is the configured error_log level (nginx's
/// default is `error`), used to say when it hides the info-level idle timeouts.
pub fn read(path: &Path, log_level: &str) -> Result<Vec<Finding>, crate::Error> {
    let bytes = std::fs::read(path).map_err(|source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(analyze(&text, path, log_level))
}

pub fn analyze(text: &str, path: &Path, log_level: &str) -> Vec<Finding> {
    // (kind, upstream, request) → (count, first line number, first line)
    let mut groups: BTreeMap<(LogKind, String, String), (usize, usize, String)> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some(kind) = LogKind::classify(line) else {
            continue;
        };
        let upstream = field(line, "upstream").unwrap_or_default();
        let request = field(line, "request").unwrap_or_default();
        let e = groups
            .entry((kind, upstream, request))
            .or_insert((0, i + 1, line.to_string()));
        e.0 += 1;
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|((kind, upstream, request), (count, line, first))| {
            let (severity, what, why, fix) = kind.describe();
            let mut message = format!("{count}× {what}");
            if !upstream.is_empty() {
                message.push_str(&format!(", upstream {upstream}"));
            }
            if !request.is_empty() {
                message.push_str(&format!(", request \"{request}\""));
            }
            let evidence: String = first.chars().take(300).collect();
            Finding {
                id: kind.id().into(),
                severity,
                message,
                evidence,
                why: Some(why.into()),
                fix: Some(fix.into()),
                location: Some(Location {
                    file: path.to_path_buf(),
                    line,
                }),
            }
        })
        .collect();
    let shows_info = matches!(log_level, "info" | "debug");
    if !shows_info && !out.iter().any(|f| f.id == LogKind::UpgradedTimeout.id()) {
        out.push(Finding {
            id: LEVEL_HIDES_IDLE.into(),
            severity: Severity::Info,
            message: format!(
                "error_log level is {log_level}: idle WebSocket timeouts (\"upstream timed out … while proxying upgraded connection\") are logged at info and do not appear"
            ),
            evidence: format!("error_log level {log_level}"),
            why: Some("nginx logs the timeout of an upgraded connection at info level only".into()),
            fix: Some("set `error_log <file> info;` while investigating idle disconnects".into()),
            location: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_known_lines() {
        let log = "\
2024/01/02 03:04:05 [error] 7#7: *1 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: _, request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:9/ws\", host: \"a\"
2024/01/02 03:04:06 [error] 7#7: *2 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: _, request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:9/ws\", host: \"a\"
2024/01/02 03:04:07 [error] 7#7: *3 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:8/ws\", host: \"a\"
2024/01/02 03:04:08 [info] 7#7: *4 upstream timed out (110: Connection timed out) while proxying upgraded connection, client: 127.0.0.1, server: _, request: \"GET /ws HTTP/1.1\", upstream: \"http://127.0.0.1:9/ws\", host: \"a\"
";
        let f = analyze(log, Path::new("e.log"), "info");
        assert_eq!(f.len(), 3);
        let closed = f
            .iter()
            .find(|f| f.id == "nginx/log-upstream-closed")
            .unwrap();
        assert!(closed.message.starts_with("2× "), "{}", closed.message);
        assert!(closed.message.contains("http://127.0.0.1:9/ws"));
        assert_eq!(closed.location.as_ref().unwrap().line, 1);
        let hidden = analyze("", Path::new("e.log"), "error");
        assert_eq!(hidden[0].id, LEVEL_HIDES_IDLE);
    }
}

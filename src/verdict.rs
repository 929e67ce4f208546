//! What one probe proved about one hop: a closed set, snake_case in JSON.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 101 with a valid accept key, `Upgrade: websocket` and `Connection: upgrade`.
    Upgraded,
    /// 101 whose `Sec-WebSocket-Accept` (or Upgrade/Connection) is wrong.
    BadAccept,
    /// The response proves the server behind never saw the upgrade request.
    UpgradeStripped,
    /// Any other non-101 answer (401, 403, 404, …).
    Rejected,
    Redirect,
    BadGateway,
    ServiceUnavailable,
    GatewayTimeout,
    DnsFailed,
    ConnectRefused,
    ConnectTimeout,
    TlsFailed,
    /// The connection closed before a single byte of response.
    NoResponse,
    /// Connected, request sent, but no complete answer in time.
    Timeout,
    MalformedResponse,
    /// Upgraded, but a ping or echo got no correct answer.
    FramesFailed,
    /// Upgraded, but dropped while idle (`--idle`).
    IdleDropped,
}

impl Verdict {
    /// Every verdict, in declaration order (keep in step with the enum: tables are tested
    /// against this list).
    pub const ALL: [Verdict; 17] = [
        Verdict::Upgraded,
        Verdict::BadAccept,
        Verdict::UpgradeStripped,
        Verdict::Rejected,
        Verdict::Redirect,
        Verdict::BadGateway,
        Verdict::ServiceUnavailable,
        Verdict::GatewayTimeout,
        Verdict::DnsFailed,
        Verdict::ConnectRefused,
        Verdict::ConnectTimeout,
        Verdict::TlsFailed,
        Verdict::NoResponse,
        Verdict::Timeout,
        Verdict::MalformedResponse,
        Verdict::FramesFailed,
        Verdict::IdleDropped,
    ];

    /// Whether a hop with this verdict carries WebSockets.
    pub fn passed(self) -> bool {
        self == Verdict::Upgraded
    }

    /// Short human title.
    pub fn title(self) -> &'static str {
        match self {
            Verdict::Upgraded => "upgraded",
            Verdict::BadAccept => "bad Sec-WebSocket-Accept",
            Verdict::UpgradeStripped => "Upgrade stripped",
            Verdict::Rejected => "rejected",
            Verdict::Redirect => "redirect",
            Verdict::BadGateway => "502 Bad Gateway",
            Verdict::ServiceUnavailable => "503 Service Unavailable",
            Verdict::GatewayTimeout => "504 Gateway Timeout",
            Verdict::DnsFailed => "DNS failed",
            Verdict::ConnectRefused => "connection refused",
            Verdict::ConnectTimeout => "connect timeout",
            Verdict::TlsFailed => "TLS failed",
            Verdict::NoResponse => "no response",
            Verdict::Timeout => "timeout",
            Verdict::MalformedResponse => "malformed response",
            Verdict::FramesFailed => "frames failed",
            Verdict::IdleDropped => "dropped while idle",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Upgraded => "upgraded",
            Verdict::BadAccept => "bad_accept",
            Verdict::UpgradeStripped => "upgrade_stripped",
            Verdict::Rejected => "rejected",
            Verdict::Redirect => "redirect",
            Verdict::BadGateway => "bad_gateway",
            Verdict::ServiceUnavailable => "service_unavailable",
            Verdict::GatewayTimeout => "gateway_timeout",
            Verdict::DnsFailed => "dns_failed",
            Verdict::ConnectRefused => "connect_refused",
            Verdict::ConnectTimeout => "connect_timeout",
            Verdict::TlsFailed => "tls_failed",
            Verdict::NoResponse => "no_response",
            Verdict::Timeout => "timeout",
            Verdict::MalformedResponse => "malformed_response",
            Verdict::FramesFailed => "frames_failed",
            Verdict::IdleDropped => "idle_dropped",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the exchange a probe stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Dns,
    Tcp,
    Tls,
    Request,
    Response,
    Accept,
    Frames,
    Idle,
    Done,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Tls => "tls",
            Stage::Request => "request",
            Stage::Response => "response",
            Stage::Accept => "accept",
            Stage::Frames => "frames",
            Stage::Idle => "idle",
            Stage::Done => "done",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_json() {
        for v in [
            Verdict::UpgradeStripped,
            Verdict::TlsFailed,
            Verdict::IdleDropped,
        ] {
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
        }
        for s in [Stage::Tcp, Stage::Done] {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
    }
}

//! One WebSocket handshake at one hop: resolve, connect, TLS, upgrade request, response head,
//! verdict; then ping / echo / idle over the upgraded connection.

pub mod classify;
pub mod connect;
pub mod curl;
pub mod fingerprint;
pub mod frames;
pub mod redact;
pub mod request;
pub mod response;
pub mod tls;

pub use fingerprint::AnsweredBy;

use crate::hop::Hop;
use crate::target::Target;
use crate::verdict::{Stage, Verdict};
use response::HeadRead;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How to probe; the same for every hop of one check.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Budget for each network phase of one hop (DNS, connect, TLS, response head, pong).
    pub timeout: Duration,
    pub insecure: bool,
    pub cacert: Option<PathBuf>,
    /// `Origin` header; `None` sends none.
    pub origin: Option<String>,
    pub protocols: Vec<String>,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    pub ping: bool,
    pub echo: Option<String>,
    /// Hold each upgraded connection silent this long and record whether it drops.
    pub idle: Option<Duration>,
    /// ALPN protocols offered; by default only `http/1.1`.
    pub alpn: Vec<String>,
}

impl ProbeOptions {
    pub fn new(target: &Target) -> ProbeOptions {
        ProbeOptions {
            timeout: Duration::from_secs(10),
            insecure: false,
            cacert: None,
            origin: Some(target.default_origin()),
            protocols: Vec::new(),
            headers: Vec::new(),
            ping: true,
            echo: None,
            idle: None,
            alpn: vec!["http/1.1".to_string()],
        }
    }
}

/// Milliseconds spent in each phase; `None` when the phase did not happen. `first_byte` runs from
/// the request written to the first response byte; `total` from the start to the end of the
/// handshake and the ping/echo (the `--idle` hold is not included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    pub dns: Option<f64>,
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub first_byte: Option<f64>,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    pub version: String,
    pub alpn: Option<String>,
}

/// What happened while the upgraded connection was held silent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleOutcome {
    pub held_ms: f64,
    pub dropped: bool,
    /// When it dropped, measured from the start of the silent hold (the last frame exchanged).
    pub dropped_after_ms: Option<f64>,
    /// Close code received; 1006 when the connection ended without a close frame.
    pub close_code: Option<u16>,
    pub close_reason: Option<String>,
}

/// What came back, byte for byte where it matters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    pub remote_addr: Option<SocketAddr>,
    pub status_line: Option<String>,
    pub status: Option<u16>,
    /// Response headers in the order received, names as sent; secret values (Set-Cookie)
    /// redacted.
    pub headers: Vec<(String, String)>,
    pub body_snippet: Option<String>,
    pub tls: Option<TlsInfo>,
    /// Which software produced the response (see [`fingerprint`]).
    pub answered_by: AnsweredBy,
}

/// The result of probing one hop. A broken hop is a result, never an `Err`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeOutcome {
    pub verdict: Verdict,
    pub stage: Stage,
    /// One line saying why (the OS error, the TLS alert, the body's reason…).
    pub detail: String,
    pub evidence: Evidence,
    pub timings: Timings,
    pub ping_rtt_ms: Option<f64>,
    pub echo_ok: Option<bool>,
    pub idle: Option<IdleOutcome>,
    /// The equivalent curl command, to reproduce by hand.
    pub curl: String,
}

/// Probes one hop. Never panics, never hangs: each phase is under `options.timeout`.
pub async fn probe(target: &Target, hop: &Hop, options: &ProbeOptions) -> ProbeOutcome {
    let started = Instant::now();
    let key = request::new_key();
    let headers = request::request_headers(target, options, &key);
    let mut run = Run {
        outcome: ProbeOutcome {
            verdict: Verdict::NoResponse,
            stage: Stage::Dns,
            detail: String::new(),
            evidence: Evidence {
                answered_by: AnsweredBy::NoAnswer,
                ..Evidence::default()
            },
            timings: Timings::default(),
            ping_rtt_ms: None,
            echo_ok: None,
            idle: None,
            curl: curl::curl_command(target, hop, options, &headers),
        },
        started,
        total_set: false,
    };
    run.go(target, hop, options, &headers).await;
    if !run.total_set {
        run.outcome.timings.total = ms(started.elapsed());
    }
    run.outcome
}

/// Anything the upgraded connection can run over: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One probe in progress: the outcome is filled in phase by phase; `finish` sets the verdict.
struct Run {
    outcome: ProbeOutcome,
    started: Instant,
    total_set: bool,
}

impl Run {
    fn finish(&mut self, verdict: Verdict, stage: Stage, detail: impl Into<String>) {
        self.outcome.verdict = verdict;
        self.outcome.stage = stage;
        self.outcome.detail = detail.into();
    }

    async fn go(
        &mut self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
        headers: &[(String, String)],
    ) {
        let timeout = options.timeout;
        let in_time = humantime::format_duration(timeout);

        // Resolve and connect.
        let (host, port) = hop
            .connect
            .clone()
            .unwrap_or_else(|| (target.host.clone(), target.port));
        let t = Instant::now();
        let addrs = match connect::resolve(&host, port, timeout).await {
            Ok((addrs, looked_up)) => {
                self.outcome.timings.dns = looked_up.then(|| ms(t.elapsed()));
                addrs
            }
            Err(reason) => return self.finish(Verdict::DnsFailed, Stage::Dns, reason),
        };
        let t = Instant::now();
        let tcp = match connect::connect(&addrs, timeout).await {
            Ok(tcp) => tcp,
            Err((verdict, reason)) => return self.finish(verdict, Stage::Tcp, reason),
        };
        self.outcome.timings.connect = Some(ms(t.elapsed()));
        self.outcome.evidence.remote_addr = tcp.peer_addr().ok();

        // TLS, with the target's name whatever address this hop is.
        let mut stream: Box<dyn Io> = if hop.scheme.is_tls() {
            let config = match options.tls_config() {
                Ok(c) => c,
                Err(e) => return self.finish(Verdict::TlsFailed, Stage::Tls, e.to_string()),
            };
            let t = Instant::now();
            let handshake = tls::handshake(tcp, &target.host, config, &options.alpn);
            match tokio::time::timeout(timeout, handshake).await {
                Err(_) => {
                    return self.finish(
                        Verdict::Timeout,
                        Stage::Tls,
                        format!("no TLS handshake within {in_time} (does this port speak TLS?)"),
                    )
                }
                Ok(Err(reason)) => return self.finish(Verdict::TlsFailed, Stage::Tls, reason),
                Ok(Ok((tls, info))) => {
                    self.outcome.timings.tls = Some(ms(t.elapsed()));
                    self.outcome.evidence.tls = Some(info);
                    Box::new(tls)
                }
            }
        } else {
            Box::new(tcp)
        };

        // The upgrade request.
        let bytes = request::encode(&hop.path, headers);
        let write = async {
            stream.write_all(&bytes).await?;
            stream.flush().await
        };
        match tokio::time::timeout(timeout, write).await {
            Err(_) => {
                return self.finish(
                    Verdict::Timeout,
                    Stage::Request,
                    format!("could not send the request within {in_time}"),
                )
            }
            Ok(Err(e)) => {
                return self.finish(
                    Verdict::NoResponse,
                    Stage::Request,
                    format!("the connection failed while sending the request: {e}"),
                )
            }
            Ok(Ok(())) => {}
        }
        let sent = Instant::now();

        // The response head.
        let (head, rest) = match response::read_head(&mut stream, sent + timeout).await {
            HeadRead::Complete {
                head,
                rest,
                first_byte,
            } => {
                self.outcome.timings.first_byte = Some(ms(first_byte - sent));
                (head, rest)
            }
            HeadRead::Closed(reason) => {
                return self.finish(Verdict::NoResponse, Stage::Response, reason)
            }
            HeadRead::Truncated { read, reason } => {
                self.show_raw(&read, None);
                return self.finish(Verdict::MalformedResponse, Stage::Response, reason);
            }
            HeadRead::Invalid {
                read,
                reason,
                first_byte,
            } => {
                self.show_raw(&read, Some(first_byte - sent));
                return self.finish(Verdict::MalformedResponse, Stage::Response, reason);
            }
            HeadRead::TimedOut { read, first_byte } => {
                let detail = if read.is_empty() {
                    format!("no answer within {in_time} after the request")
                } else {
                    format!(
                        "only {} bytes of the response head within {in_time}",
                        read.len()
                    )
                };
                self.show_raw(&read, first_byte.map(|f| f - sent));
                return self.finish(Verdict::Timeout, Stage::Response, detail);
            }
        };
        self.outcome.evidence.status_line = Some(head.status_line.clone());
        self.outcome.evidence.status = Some(head.status);
        self.outcome.evidence.headers = head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), redact::shown_value(n, v).to_string()))
            .collect();

        if head.status != 101 {
            let framing = response::framing(&head);
            let budget = timeout.min(SNIPPET_BUDGET);
            let body = response::read_body_snippet(&mut stream, rest, framing, budget).await;
            self.outcome.evidence.answered_by = fingerprint::answered_by(&head.headers, &body);
            if !body.is_empty() {
                self.outcome.evidence.body_snippet =
                    Some(String::from_utf8_lossy(&body).into_owned());
            }
            let c = classify::classify_other(&head, &body);
            return self.finish(c.verdict, c.stage, c.detail);
        }

        self.outcome.evidence.answered_by = fingerprint::answered_by(&head.headers, b"");
        let key = request::sent_key(headers).unwrap_or("");
        let c = classify::classify_101(&head, key, &options.protocols);
        self.finish(c.verdict, c.stage, c.detail);
        if c.verdict != Verdict::Upgraded {
            return;
        }

        // Frames over the upgraded connection.
        let mut ws = frames::open(stream, rest).await;
        if options.ping {
            match frames::ping(&mut ws, timeout).await {
                Ok(rtt) => self.outcome.ping_rtt_ms = Some(rtt),
                Err(e) => {
                    frames::close(ws, timeout).await;
                    return self.finish(Verdict::FramesFailed, Stage::Frames, format!("ping: {e}"));
                }
            }
        }
        if let Some(text) = &options.echo {
            let result = frames::echo(&mut ws, text, timeout).await;
            self.outcome.echo_ok = Some(result.is_ok());
            if let Err(e) = result {
                frames::close(ws, timeout).await;
                return self.finish(Verdict::FramesFailed, Stage::Frames, format!("echo: {e}"));
            }
        }
        self.outcome.timings.total = ms(self.started.elapsed());
        self.total_set = true;
        if let Some(hold) = options.idle {
            let idle = frames::idle(&mut ws, hold).await;
            if idle.dropped {
                let after = idle.dropped_after_ms.unwrap_or(idle.held_ms) / 1000.0;
                let code = idle.close_code.unwrap_or(frames::ABNORMAL_CLOSURE);
                let how = match (&idle.close_reason, code) {
                    (_, frames::ABNORMAL_CLOSURE) => "1006 (no close frame)".to_string(),
                    (Some(r), c) => format!("{c} \"{r}\""),
                    (None, c) => c.to_string(),
                };
                self.outcome.idle = Some(idle);
                return self.finish(
                    Verdict::IdleDropped,
                    Stage::Idle,
                    format!("dropped after {after:.1}s of silence, close code {how}"),
                );
            }
            self.outcome.idle = Some(idle);
        }
        frames::close(ws, timeout).await;
    }

    /// Keeps whatever came back when it was not a usable HTTP head.
    fn show_raw(&mut self, read: &[u8], first_byte: Option<Duration>) {
        self.outcome.timings.first_byte = first_byte.map(ms);
        if read.is_empty() {
            return;
        }
        let text =
            String::from_utf8_lossy(&read[..read.len().min(response::MAX_BODY)]).into_owned();
        self.outcome.evidence.status_line = text.lines().next().map(str::to_string);
        self.outcome.evidence.body_snippet = Some(text);
        self.outcome.evidence.answered_by = AnsweredBy::Unknown;
    }
}

/// How long a non-101 body may take to arrive; the snippet is evidence, not the point.
const SNIPPET_BUDGET: Duration = Duration::from_secs(2);

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

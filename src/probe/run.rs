//! The phases of one probe, in order: open (DNS, TCP, TLS), handshake (request, response head,
//! verdict), frames (ping, echo, idle, close). Each phase either hands the connection to the next
//! or ends the probe by setting the verdict; the outcome is filled in as the phases go, so a
//! failure late in the exchange keeps every piece of evidence gathered before it.

use super::{classify, connect, fingerprint, frames, ms, redact, request, response, tls};
use super::{AnsweredBy, ProbeOptions, ProbeOutcome};
use crate::hop::Hop;
use crate::target::Target;
use crate::verdict::{Stage, Verdict};
use response::HeadRead;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// How long a non-101 body may take to arrive; the snippet is evidence, not the point.
const SNIPPET_BUDGET: Duration = Duration::from_secs(2);

/// Anything the exchange can run over: plain TCP or TLS.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(super) type Stream = Box<dyn Io>;

/// The rest of a probe's polite close.
pub(super) type Drain = frames::Drain<Stream>;

/// One probe in progress.
pub(super) struct Run {
    pub outcome: ProbeOutcome,
    pub started: Instant,
    /// Set once `timings.total` is final (before an idle hold, which it does not include).
    pub total_set: bool,
    /// The phase under way, for the verdict when the hop's overall budget runs out.
    pub phase: Stage,
    /// The polite close, sent: the server's close frame is still to be read back.
    pub drain: Option<Drain>,
}

impl Run {
    pub async fn go(
        &mut self,
        target: &Target,
        hop: &Hop,
        options: &ProbeOptions,
        headers: &[(String, String)],
    ) {
        let Some(stream) = self.open(target, hop, options).await else {
            return;
        };
        let Some((stream, rest)) = self.handshake(stream, hop, options, headers).await else {
            return;
        };
        self.frames(stream, rest, options).await;
    }

    pub(super) fn set(&mut self, verdict: Verdict, stage: Stage, detail: impl Into<String>) {
        self.outcome.verdict = verdict;
        self.outcome.stage = stage;
        self.outcome.detail = detail.into();
        // Not the detail: it may quote a server that echoed a secret; the outcome is scrubbed
        // before it is returned, a log line would not be.
        tracing::info!(%verdict, %stage, "probe verdict");
    }

    /// Ends the probe because its overall budget ran out in the phase under way (every phase has
    /// its own deadline too; this is the guarantee when a peer keeps each of them busy).
    pub fn overran(&mut self, budget: Duration) {
        let within = format!(
            "the hop did not finish within its budget of {}",
            humantime::format_duration(budget)
        );
        match self.phase {
            Stage::Frames | Stage::Idle => self.set(
                Verdict::FramesFailed,
                self.phase,
                format!("{within} (frames)"),
            ),
            phase => self.set(Verdict::Timeout, phase, within),
        }
    }

    /// Ends the probe with this verdict: no phase follows.
    fn end<T>(&mut self, verdict: Verdict, stage: Stage, detail: impl Into<String>) -> Option<T> {
        self.set(verdict, stage, detail);
        None
    }

    /// DNS, TCP and TLS (with the target's name as SNI, whatever address this hop is).
    async fn open(&mut self, target: &Target, hop: &Hop, options: &ProbeOptions) -> Option<Stream> {
        let timeout = options.timeout;
        let (host, port) = hop
            .connect
            .clone()
            .unwrap_or_else(|| (target.host.clone(), target.port));
        self.phase = Stage::Dns;
        let t = Instant::now();
        let addrs = match connect::resolve(&host, port, timeout).await {
            Ok((addrs, looked_up)) => {
                self.outcome.timings.dns = looked_up.then(|| ms(t.elapsed()));
                tracing::info!(host = %host, port, addresses = addrs.len(), "resolved");
                addrs
            }
            Err(reason) => return self.end(Verdict::DnsFailed, Stage::Dns, reason),
        };
        self.phase = Stage::Tcp;
        let t = Instant::now();
        let tcp = match connect::connect(&addrs, timeout).await {
            Ok(tcp) => tcp,
            Err((verdict, reason)) => return self.end(verdict, Stage::Tcp, reason),
        };
        self.outcome.timings.connect = Some(ms(t.elapsed()));
        self.outcome.evidence.remote_addr = tcp.peer_addr().ok();
        tracing::info!(host = %host, port, remote = ?self.outcome.evidence.remote_addr, "connected");
        if !hop.scheme.is_tls() {
            return Some(Box::new(tcp));
        }

        let config = match options.tls_config() {
            Ok(c) => c,
            Err(e) => return self.end(Verdict::TlsFailed, Stage::Tls, e.to_string()),
        };
        self.phase = Stage::Tls;
        let t = Instant::now();
        let handshake = tls::handshake(tcp, &target.host, config, &options.alpn);
        match tokio::time::timeout(timeout, handshake).await {
            Err(_) => self.end(
                Verdict::Timeout,
                Stage::Tls,
                format!(
                    "no TLS handshake within {} (does this port speak TLS?)",
                    humantime::format_duration(timeout)
                ),
            ),
            Ok(Err(reason)) => self.end(Verdict::TlsFailed, Stage::Tls, reason),
            Ok(Ok((tls, info))) => {
                self.outcome.timings.tls = Some(ms(t.elapsed()));
                tracing::info!(version = %info.version, alpn = ?info.alpn, "TLS established");
                let chosen = info.alpn.clone();
                self.outcome.evidence.tls = Some(info);
                match chosen {
                    // Offered with --alpn and chosen: the upgrade needs HTTP/1.1 (no RFC 8441).
                    Some(p) if p != "http/1.1" => self.end(
                        Verdict::TlsFailed,
                        Stage::Tls,
                        format!(
                            "the server chose ALPN '{p}': the WebSocket upgrade needs http/1.1"
                        ),
                    ),
                    _ => Some(Box::new(tls)),
                }
            }
        }
    }

    /// Sends the upgrade request, reads the answer and decides. On `upgraded`, returns the
    /// connection and the bytes already read past the 101 head.
    async fn handshake(
        &mut self,
        mut stream: Stream,
        hop: &Hop,
        options: &ProbeOptions,
        headers: &[(String, String)],
    ) -> Option<(Stream, Vec<u8>)> {
        self.phase = Stage::Request;
        let timeout = options.timeout;
        let in_time = humantime::format_duration(timeout);
        let bytes = request::encode(&hop.path, headers);
        // -vv: the head as sent, each credential shown by the redaction policy (the log writer
        // masks secret query parameters in the path).
        if tracing::enabled!(tracing::Level::DEBUG) {
            let mut head = format!("GET {} HTTP/1.1", hop.path);
            for (n, v) in headers {
                head.push_str(&format!("\n> {n}: {}", redact::shown_value(n, v)));
            }
            tracing::debug!("request head:\n> {head}");
        }
        let write = async {
            stream.write_all(&bytes).await?;
            stream.flush().await
        };
        match tokio::time::timeout(timeout, write).await {
            Err(_) => {
                return self.end(
                    Verdict::Timeout,
                    Stage::Request,
                    format!("could not send the request within {in_time}"),
                )
            }
            Ok(Err(e)) => {
                return self.end(
                    Verdict::NoResponse,
                    Stage::Request,
                    format!("the connection failed while sending the request: {e}"),
                )
            }
            Ok(Ok(())) => {}
        }
        let sent = Instant::now();
        self.phase = Stage::Response;

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
                return self.end(Verdict::NoResponse, Stage::Response, reason)
            }
            HeadRead::TlsRefused(reason) => {
                return self.end(Verdict::TlsFailed, Stage::Tls, reason)
            }
            HeadRead::Truncated { read, reason } => {
                self.show_raw(&read, None);
                return self.end(Verdict::MalformedResponse, Stage::Response, reason);
            }
            HeadRead::Invalid {
                read,
                reason,
                first_byte,
            } => {
                self.show_raw(&read, Some(first_byte - sent));
                return self.end(Verdict::MalformedResponse, Stage::Response, reason);
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
                return self.end(Verdict::Timeout, Stage::Response, detail);
            }
        };
        tracing::info!(status = head.status, path = %hop.path, "response head");
        if tracing::enabled!(tracing::Level::DEBUG) {
            let mut text = format!("< {}", head.status_line);
            for (n, v) in &head.headers {
                text.push_str(&format!("\n< {n}: {}", redact::shown_value(n, v)));
            }
            tracing::debug!("response head:\n{text}");
        }
        let evidence = &mut self.outcome.evidence;
        evidence.status_line = Some(head.status_line.clone());
        evidence.status = Some(head.status);
        evidence.headers = head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), redact::shown_value(n, v).to_string()))
            .collect();

        if head.status != 101 {
            let framing = response::framing(&head);
            let budget = timeout.min(SNIPPET_BUDGET);
            let body = response::read_body_snippet(&mut stream, rest, framing, budget).await;
            let who = fingerprint::answered_by(head.status, &head.headers, &body);
            let evidence = &mut self.outcome.evidence;
            evidence.answered_by = who;
            if !body.is_empty() {
                evidence.body_snippet = Some(String::from_utf8_lossy(&body).into_owned());
            }
            let mut c = classify::classify_other(&head, &body, who);
            if c.verdict == Verdict::Redirect {
                let cause = head
                    .header("location")
                    .and_then(|to| classify::redirect_cause(&hop.path, hop.scheme.is_tls(), to));
                if let Some(cause) = cause {
                    c.detail = format!("{}; {cause}", c.detail);
                }
            }
            return self.end(c.verdict, c.stage, c.detail);
        }

        // After a 101 nothing more is read here: `rest` belongs to the WebSocket stream.
        self.outcome.evidence.answered_by =
            fingerprint::answered_by(head.status, &head.headers, b"");
        let key = request::sent_key(headers).unwrap_or("");
        let offered = request::offered_extensions(headers);
        let c = classify::classify_101(&head, key, &options.protocols, &offered);
        if c.verdict != Verdict::Upgraded {
            return self.end(c.verdict, c.stage, c.detail);
        }
        self.set(c.verdict, c.stage, c.detail);
        Some((stream, rest))
    }

    /// Ping, echo and the silent hold over the upgraded connection, then a polite close (sent
    /// here; its answer is read back by whoever takes [`Run::drain`]).
    pub(super) async fn frames(&mut self, stream: Stream, rest: Vec<u8>, options: &ProbeOptions) {
        self.phase = Stage::Frames;
        let timeout = options.timeout;
        let mut ws = frames::open(stream, rest).await;
        if options.ping {
            match frames::ping(&mut ws, timeout).await {
                Ok(rtt) => self.outcome.ping_rtt_ms = Some(rtt),
                Err(e) => {
                    self.drain = frames::send_close(ws, timeout).await;
                    return self.set(Verdict::FramesFailed, Stage::Frames, format!("ping: {e}"));
                }
            }
        }
        // A browser variant may have negotiated permessage-deflate: the server then compresses
        // its data frames, which tungstenite cannot read, so the echo is not attempted (pings
        // and closes are never compressed, RFC 7692 §6).
        let compressed = self.outcome.evidence.extensions().is_some();
        if let Some(text) = options.echo.as_ref().filter(|_| !compressed) {
            let result = frames::echo(&mut ws, text, timeout).await;
            self.outcome.echo_ok = Some(result.is_ok());
            if let Err(e) = result {
                self.drain = frames::send_close(ws, timeout).await;
                return self.set(Verdict::FramesFailed, Stage::Frames, format!("echo: {e}"));
            }
        }
        if compressed && options.echo.is_some() {
            self.outcome.detail.push_str(
                "; echo not checked: the server compresses its frames (permessage-deflate)",
            );
        }
        self.outcome.timings.total = ms(self.started.elapsed());
        self.total_set = true;

        if let Some(hold) = options.idle {
            self.phase = Stage::Idle;
            let idle = frames::idle(&mut ws, hold).await;
            let dropped = idle.dropped.then(|| {
                let after = idle.dropped_after_ms.unwrap_or(idle.held_ms) / 1000.0;
                let how = match (idle.close_code, &idle.close_reason) {
                    (None | Some(frames::ABNORMAL_CLOSURE), _) => "1006 (no close frame)".into(),
                    (Some(code), Some(reason)) => format!("{code} \"{reason}\""),
                    (Some(code), None) => code.to_string(),
                };
                format!("dropped after {after:.1}s of silence, close code {how}")
            });
            self.outcome.idle = Some(idle);
            if let Some(detail) = dropped {
                return self.set(Verdict::IdleDropped, Stage::Idle, detail);
            }
            self.phase = Stage::Frames;
        }
        self.drain = frames::send_close(ws, timeout).await;
    }

    /// Keeps whatever came back when it was not a usable HTTP head.
    fn show_raw(&mut self, read: &[u8], first_byte: Option<Duration>) {
        self.outcome.timings.first_byte = first_byte.map(ms);
        if read.is_empty() {
            return;
        }
        let text =
            String::from_utf8_lossy(&read[..read.len().min(response::MAX_BODY)]).into_owned();
        let evidence = &mut self.outcome.evidence;
        evidence.status_line = text.lines().next().map(str::to_string);
        evidence.body_snippet = Some(text);
        evidence.answered_by = AnsweredBy::Unknown;
    }
}

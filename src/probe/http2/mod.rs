//! The path Firefox takes: WebSockets over HTTP/2 (RFC 8441) at one TLS hop.
//!
//! A second connection offers ALPN `h2, http/1.1` as a browser does. When the server picks h2,
//! its SETTINGS say whether it accepts the extended CONNECT (`SETTINGS_ENABLE_CONNECT_PROTOCOL`);
//! when it does, the WebSocket is opened the way Firefox opens it (`:method CONNECT`,
//! `:protocol websocket`, the target's `:authority`, the hop's `:path`), and the same ping, echo
//! and idle hold as on HTTP/1.1 run over the h2 stream ([`io`]) through [`super::frames`].
//!
//! HTTP/2 itself is the `h2` crate's job, under tight limits (header list, windows, frame size,
//! no push), and every phase is under the probe's timeout: a peer that floods SETTINGS, never
//! opens the stream or sends GOAWAY ends the probe with a verdict in time, named by what
//! [`tally`] saw on the wire. Plain `ws://` hops have no HTTP/2 here: browsers never use h2c.

mod io;
pub mod tally;

use super::run::Run;
use super::{classify, connect, fingerprint, ms, redact, request, response, tls};
use super::{AnsweredBy, Evidence, ProbeOptions, ProbeOutcome, Timings};
use crate::hop::Hop;
use crate::target::Target;
use crate::verdict::{Stage, Verdict};
use bytes::Bytes;
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// What the HTTP/2 side of one TLS hop showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Http2Outcome {
    /// The protocol the server chose from `h2, http/1.1`; `None` when it chose none, or the
    /// second connection failed before TLS was done.
    pub alpn: Option<String>,
    /// The server's SETTINGS carry `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441).
    pub extended_connect: bool,
    /// The WebSocket over HTTP/2 — or, when the h2 connection itself failed, that failure.
    /// `None` when the hop does not offer it (then `note` says why).
    pub probe: Option<ProbeOutcome>,
    /// Why the WebSocket was not tried over HTTP/2 at this hop.
    pub note: Option<String>,
}

impl Http2Outcome {
    /// The h2 WebSocket path was tried (or the h2 connection failed) and did not work.
    pub fn failed(&self) -> bool {
        self.probe
            .as_ref()
            .is_some_and(|p| !p.verdict.passed() || p.idle.as_ref().is_some_and(|i| i.dropped))
    }

    /// Clients reaching this hop can open WebSockets over HTTP/2 here.
    pub fn offers_websockets(&self) -> bool {
        self.alpn.as_deref() == Some("h2") && self.extended_connect
    }

    fn noted(alpn: Option<String>, note: impl Into<String>) -> Http2Outcome {
        Http2Outcome {
            alpn,
            extended_connect: false,
            probe: None,
            note: Some(note.into()),
        }
    }
}

/// The ALPN a browser offers.
const BROWSER_ALPN: [&str; 2] = ["h2", "http/1.1"];
/// How long a non-2xx body may take to arrive; the snippet is evidence, not the point.
const SNIPPET_BUDGET: Duration = Duration::from_secs(2);
/// Header names HTTP/2 forbids or replaces with pseudo-headers (RFC 9113 §8.2.2), and the
/// HTTP/1.1 handshake's own (RFC 8441 §5: no key, no Upgrade).
const NOT_IN_H2: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "sec-websocket-key",
];

/// Probes the HTTP/2 side of a TLS hop. Never panics, never hangs. Runs as a task of its own,
/// as [`super::probe`] does and for the same reason: a flooding peer must not use up the
/// cooperative budget of the task that joins every hop's probes.
pub async fn probe(target: &Target, hop: &Hop, options: &ProbeOptions) -> Http2Outcome {
    let (target, hop, options) = (target.clone(), hop.clone(), options.clone());
    let task = tokio::spawn(async move { probe_here(&target, &hop, &options).await });
    let _abort = Driver(task.abort_handle());
    match task.await {
        Ok(outcome) => outcome,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Cancelled: only when the runtime shuts down, and then nothing waits for this.
            Err(_) => std::future::pending().await,
        },
    }
}

/// [`probe`], in the caller's task.
async fn probe_here(target: &Target, hop: &Hop, options: &ProbeOptions) -> Http2Outcome {
    let started = Instant::now();
    let timeout = options.timeout;
    let in_time = humantime::format_duration(timeout);
    let (host, port) = hop
        .connect
        .clone()
        .unwrap_or_else(|| (target.host.clone(), target.port));
    let unopened = |why: String| {
        Http2Outcome::noted(
            None,
            format!("HTTP/2 not checked: a second connection failed ({why})"),
        )
    };

    let mut timings = Timings::default();
    let t = Instant::now();
    let addrs = match connect::resolve(&host, port, timeout).await {
        Ok((addrs, looked_up)) => {
            timings.dns = looked_up.then(|| ms(t.elapsed()));
            addrs
        }
        Err(reason) => return unopened(reason),
    };
    let t = Instant::now();
    let tcp = match connect::connect(&addrs, timeout).await {
        Ok(tcp) => tcp,
        Err((_, reason)) => return unopened(reason),
    };
    timings.connect = Some(ms(t.elapsed()));
    let remote_addr = tcp.peer_addr().ok();
    let mut browser = options.clone();
    browser.alpn = BROWSER_ALPN.map(String::from).to_vec();
    let config = match browser.tls_config() {
        Ok(c) => c,
        Err(e) => return unopened(e.to_string()),
    };
    let t = Instant::now();
    let handshake = tls::handshake(tcp, &target.host, config, &browser.alpn);
    let (stream, info) = match tokio::time::timeout(timeout, handshake).await {
        Err(_) => return unopened(format!("no TLS handshake within {in_time}")),
        Ok(Err(reason)) => return unopened(reason),
        Ok(Ok(done)) => done,
    };
    timings.tls = Some(ms(t.elapsed()));
    if info.alpn.as_deref() != Some("h2") {
        let chosen = match &info.alpn {
            Some(p) => format!("the server chose ALPN {p}"),
            None => "the server chose no ALPN protocol".to_string(),
        };
        return Http2Outcome::noted(
            info.alpn.clone(),
            format!("{chosen} over h2: no HTTP/2 at this hop, every client opens its WebSocket over HTTP/1.1 here"),
        );
    }

    // From here the hop speaks HTTP/2: what fails is a verdict, as for HTTP/1.1.
    let mut run = Run {
        outcome: ProbeOutcome {
            verdict: Verdict::NoResponse,
            stage: Stage::Response,
            detail: String::new(),
            evidence: Evidence {
                remote_addr,
                tls: Some(info),
                answered_by: AnsweredBy::NoAnswer,
                ..Evidence::default()
            },
            timings,
            ping_rtt_ms: None,
            echo_ok: None,
            idle: None,
            curl: String::new(),
        },
        started,
        total_set: false,
        phase: Stage::Request,
        drain: None,
    };
    let mut h2 = Http2Outcome {
        alpn: Some("h2".into()),
        extended_connect: false,
        probe: None,
        note: None,
    };
    let headers = request::request_headers(target, options, &request::new_key());
    // Two phases more than over HTTP/1.1: the SETTINGS exchange and the stream opening.
    let budget = options
        .hop_budget(hop)
        .saturating_add(options.timeout.saturating_mul(2));
    let exchange = exchange(&mut run, &mut h2, stream, target, hop, options, &headers);
    if tokio::time::timeout(budget, exchange).await.is_err() {
        run.overran(budget);
    }
    if !run.total_set {
        run.outcome.timings.total = ms(started.elapsed());
    }
    let mut outcome = run.outcome;
    super::scrub_secrets(&mut outcome, &redact::secret_values(&headers));
    // Not advertised: nothing was tried, the note says so.
    if h2.note.is_none() {
        h2.probe = Some(outcome);
    }
    h2
}

/// Aborts a task (the h2 connection, or the probe itself) when nothing waits for it any more.
struct Driver(tokio::task::AbortHandle);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// SETTINGS, the extended CONNECT, its answer, and the frames over the stream.
async fn exchange(
    run: &mut Run,
    h2: &mut Http2Outcome,
    stream: tls::Stream,
    target: &Target,
    hop: &Hop,
    options: &ProbeOptions,
    headers: &[(String, String)],
) {
    let timeout = options.timeout;
    let in_time = humantime::format_duration(timeout);
    let (stream, counts) = tally::tally(stream);
    let handshake = builder().handshake::<_, Bytes>(stream);
    let (send, mut connection) = match tokio::time::timeout(timeout, handshake).await {
        Err(_) => {
            return run.set(
                Verdict::Timeout,
                Stage::Request,
                format!("could not send the HTTP/2 preface within {in_time}"),
            )
        }
        Ok(Err(e)) => return run.set(Verdict::NoResponse, Stage::Request, describe_error(&e)),
        Ok(Ok(pair)) => pair,
    };
    let ping_pong = connection.ping_pong();
    let task = tokio::spawn(connection);
    let _driver = Driver(task.abort_handle());
    let seen = |what: &str| peer_behaviour(&counts.seen(), what);

    // The server's first frame is its SETTINGS; once our PING is answered they are applied.
    run.phase = Stage::Response;
    let t = Instant::now();
    let settled = async {
        match ping_pong {
            Some(mut p) => p.ping(h2::Ping::opaque()).await.map(|_| ()),
            None => Ok(()),
        }
    };
    match tokio::time::timeout(timeout, settled).await {
        Err(_) => {
            let detail = seen(&format!(
                "no answer to an HTTP/2 PING within {in_time} after the preface"
            ));
            return run.set(Verdict::Timeout, Stage::Response, detail);
        }
        Ok(Err(e)) => {
            let detail = seen(&format!(
                "the HTTP/2 connection failed before the SETTINGS exchange: {}",
                describe_error(&e)
            ));
            return run.set(no_answer_verdict(&e), Stage::Response, detail);
        }
        Ok(Ok(())) => {}
    }
    run.outcome.timings.first_byte = Some(ms(t.elapsed()));
    h2.extended_connect = send.is_extended_connect_protocol_enabled();
    if !h2.extended_connect {
        h2.note = Some(
            "speaks HTTP/2 without RFC 8441 (no SETTINGS_ENABLE_CONNECT_PROTOCOL): clients open WebSockets over HTTP/1.1 here, so the HTTP/2 question ends at this hop"
                .into(),
        );
        run.set(Verdict::Upgraded, Stage::Done, "");
        return;
    }

    let request = match connect_request(target, hop, headers) {
        Ok(r) => r,
        Err(e) => {
            return run.set(
                Verdict::MalformedResponse,
                Stage::Request,
                format!("could not build the extended CONNECT: {e}"),
            )
        }
    };
    run.phase = Stage::Request;
    let sent = Instant::now();
    let open = async {
        let mut ready = send.ready().await?;
        ready.send_request(request, false)
    };
    let (response, send_stream) = match tokio::time::timeout(timeout, open).await {
        Err(_) => {
            let detail = seen(&format!(
                "the server let no stream open within {in_time} (SETTINGS_MAX_CONCURRENT_STREAMS 0?)"
            ));
            return run.set(Verdict::Timeout, Stage::Request, detail);
        }
        Ok(Err(e)) => {
            let detail = seen(&format!(
                "could not send the extended CONNECT: {}",
                describe_error(&e)
            ));
            return run.set(no_answer_verdict(&e), Stage::Request, detail);
        }
        Ok(Ok(pair)) => pair,
    };
    run.phase = Stage::Response;
    let response = match tokio::time::timeout(timeout, response).await {
        Err(_) => {
            let detail = seen(&format!(
                "no answer to the extended CONNECT within {in_time}"
            ));
            return run.set(Verdict::Timeout, Stage::Response, detail);
        }
        Ok(Err(e)) => {
            let detail = seen(&format!(
                "no answer to the extended CONNECT: {}",
                describe_error(&e)
            ));
            return run.set(no_answer_verdict(&e), Stage::Response, detail);
        }
        Ok(Ok(r)) => r,
    };
    run.outcome.timings.first_byte = Some(ms(sent.elapsed()));
    let (parts, mut body) = response.into_parts();
    let status = parts.status.as_u16();
    let reason = parts.status.canonical_reason().unwrap_or("");
    let head = response::Head {
        status_line: format!("HTTP/2 {status}"),
        status,
        reason: reason.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        len: 0,
    };
    let evidence = &mut run.outcome.evidence;
    evidence.status_line = Some(head.status_line.clone());
    evidence.status = Some(status);
    evidence.headers = head
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), redact::shown_value(n, v).to_string()))
        .collect();

    if !parts.status.is_success() {
        let snippet = read_snippet(&mut body, timeout.min(SNIPPET_BUDGET)).await;
        let who = fingerprint::answered_by(status, &head.headers, &snippet);
        let evidence = &mut run.outcome.evidence;
        evidence.answered_by = who;
        if !snippet.is_empty() {
            evidence.body_snippet = Some(String::from_utf8_lossy(&snippet).into_owned());
        }
        let c = classify::classify_other(&head, &snippet, who);
        return run.set(c.verdict, c.stage, c.detail);
    }
    run.outcome.evidence.answered_by = fingerprint::answered_by(status, &head.headers, b"");
    if let Some(detail) = wrong_protocol(&head, &options.protocols) {
        return run.set(Verdict::BadAccept, Stage::Accept, detail);
    }
    run.set(
        Verdict::Upgraded,
        Stage::Done,
        format!("{status}: the extended CONNECT opened a WebSocket stream"),
    );
    let stream = io::StreamIo::new(send_stream, body);
    run.frames(Box::new(stream), Vec::new(), options).await;
    // The server's answer to the close is read in a task of its own, as over HTTP/1.1 (it
    // ends when this connection's driver does).
    if let Some(drain) = run.drain.take() {
        drain.finish_in_background();
    }
    if run.outcome.verdict == Verdict::Upgraded {
        run.outcome.detail.clear();
    }
}

/// The client's limits: small, since a probe needs one stream and a few small frames, and a
/// server must not make it buffer more.
fn builder() -> h2::client::Builder {
    let mut b = h2::client::Builder::new();
    b.enable_push(false)
        .max_header_list_size(response::MAX_HEAD as u32)
        .header_table_size(4096)
        .initial_window_size(256 * 1024)
        .initial_connection_window_size(512 * 1024)
        .max_frame_size(16 * 1024)
        .max_concurrent_streams(0)
        .max_send_buffer_size(64 * 1024)
        .max_concurrent_reset_streams(4)
        .max_pending_accept_reset_streams(4)
        .max_local_error_reset_streams(Some(16));
    b
}

/// The extended CONNECT of RFC 8441 §4 with the headers of the HTTP/1.1 probe that HTTP/2
/// allows: `:authority` is the target's (or a `-H Host` override), `:path` the hop's.
fn connect_request(
    target: &Target,
    hop: &Hop,
    headers: &[(String, String)],
) -> Result<http::Request<()>, String> {
    let authority = response::header(headers, "host")
        .map(str::to_string)
        .unwrap_or_else(|| target.host_header());
    let uri = http::Uri::builder()
        .scheme("https")
        .authority(authority.as_str())
        .path_and_query(hop.path.as_str())
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(uri)
        .extension(h2::ext::Protocol::from_static("websocket"))
        .body(())
        .map_err(|e| e.to_string())?;
    let map = request.headers_mut();
    for (name, value) in headers {
        if NOT_IN_H2.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            continue;
        }
        let name = http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|e| format!("header {name:?}: {e}"))?;
        let value =
            http::HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        map.append(name, value);
    }
    Ok(request)
}

/// A 2xx that picked a subprotocol not offered (or one when none was offered) is as invalid as
/// such a 101 (RFC 6455 §4.1, which RFC 8441 keeps).
fn wrong_protocol(head: &response::Head, offered: &[String]) -> Option<String> {
    let chosen = head.header("sec-websocket-protocol")?.trim();
    if offered.iter().any(|p| p == chosen) {
        return None;
    }
    Some(format!(
        "the server chose subprotocol {chosen:?}, which was not offered"
    ))
}

/// Up to [`response::MAX_BODY`] bytes of a refusal's body, within `budget`.
async fn read_snippet(body: &mut h2::RecvStream, budget: Duration) -> Vec<u8> {
    let deadline = Instant::now() + budget;
    let mut out = Vec::new();
    while out.len() < response::MAX_BODY {
        match tokio::time::timeout_at(deadline, body.data()).await {
            Ok(Some(Ok(chunk))) => {
                let _ = body.flow_control().release_capacity(chunk.len());
                let take = chunk.len().min(response::MAX_BODY - out.len());
                out.extend_from_slice(&chunk[..take]);
            }
            _ => break,
        }
    }
    out
}

/// A GOAWAY or reset is the server refusing; a broken connection is no answer.
fn no_answer_verdict(e: &h2::Error) -> Verdict {
    if e.is_go_away() || e.is_reset() {
        Verdict::Rejected
    } else if e.is_io() {
        Verdict::NoResponse
    } else {
        Verdict::MalformedResponse
    }
}

/// One line for an h2 error, with the RFC 9113 name of its code.
pub(crate) fn describe_error(e: &h2::Error) -> String {
    let reason = e
        .reason()
        .map(|r| format!("{r:?}"))
        .unwrap_or_else(|| "no error code".into());
    if e.is_go_away() && e.is_remote() {
        format!("the server sent GOAWAY ({reason})")
    } else if e.is_reset() && e.is_remote() {
        format!("the server reset the stream (RST_STREAM {reason})")
    } else if let Some(io) = e.get_io() {
        format!("the connection failed: {io}")
    } else {
        format!("HTTP/2 error: {e}")
    }
}

/// `what`, and what the server's frames showed when that explains it.
fn peer_behaviour(seen: &tally::Seen, what: &str) -> String {
    let mut s = what.to_string();
    if seen.settings > 16 {
        s.push_str(&format!(
            "; the server sent {} SETTINGS frames (a SETTINGS flood)",
            seen.settings
        ));
    } else if seen.frames == 0 {
        s.push_str("; the server sent no HTTP/2 frame at all");
    }
    if let Some(code) = seen.goaway {
        let name = format!("{:?}", h2::Reason::from(code));
        if !s.contains("GOAWAY") {
            s.push_str(&format!("; the server sent GOAWAY ({name})"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopSpec;

    #[test]
    fn the_connect_request_is_rfc_8441() {
        let target = Target::parse("wss://example.com:8443/ws/chat?room=1").unwrap();
        let hop = HopSpec::parse("lb=127.0.0.1:9443")
            .unwrap()
            .resolve(&target);
        let mut options = ProbeOptions::new(&target);
        options.protocols = vec!["chat".into()];
        options.headers = vec![("X-Team".into(), "a".into())];
        let headers = request::request_headers(&target, &options, "k");
        let r = connect_request(&target, &hop, &headers).unwrap();
        assert_eq!(r.method(), http::Method::CONNECT);
        assert_eq!(r.uri().scheme_str(), Some("https"));
        assert_eq!(
            r.uri().authority().map(|a| a.as_str()),
            Some("example.com:8443")
        );
        assert_eq!(
            r.uri().path_and_query().map(|p| p.as_str()),
            Some("/ws/chat?room=1")
        );
        assert_eq!(
            r.extensions()
                .get::<h2::ext::Protocol>()
                .map(|p| p.as_str()),
            Some("websocket")
        );
        let h = r.headers();
        assert_eq!(h["sec-websocket-version"], "13");
        assert_eq!(h["origin"], "https://example.com:8443");
        assert_eq!(h["sec-websocket-protocol"], "chat");
        assert_eq!(h["x-team"], "a");
        for gone in ["host", "upgrade", "connection", "sec-websocket-key"] {
            assert!(!h.contains_key(gone), "{gone}");
        }
    }

    #[test]
    fn a_host_override_is_the_authority() {
        let target = Target::parse("wss://example.com/ws").unwrap();
        let hop = Hop::direct(&target);
        let mut options = ProbeOptions::new(&target);
        options.headers = vec![("Host".into(), "other.test".into())];
        let headers = request::request_headers(&target, &options, "k");
        let r = connect_request(&target, &hop, &headers).unwrap();
        assert_eq!(r.uri().authority().map(|a| a.as_str()), Some("other.test"));
    }

    #[test]
    fn flood_and_goaway_are_named() {
        let flood = tally::Seen {
            frames: 5000,
            settings: 5000,
            goaway: None,
        };
        assert!(peer_behaviour(&flood, "no answer").contains("5000 SETTINGS frames"));
        let away = tally::Seen {
            frames: 2,
            settings: 1,
            goaway: Some(0xb),
        };
        let d = peer_behaviour(&away, "no answer");
        assert!(d.contains("GOAWAY (ENHANCE_YOUR_CALM)"), "{d}");
    }
}

//! One WebSocket handshake at one hop: resolve, connect, TLS, upgrade request, response head,
//! verdict; then ping / echo / idle over the upgraded connection.
//!
//! [`probe`] runs the phases (`run`); each piece is its own module so it can be tested alone:
//! [`connect`] (DNS, TCP), [`tls`] (rustls config and precise failure reasons), [`request`] (the
//! request bytes, pure: the benchmark sends the same), [`response`] (bounded head and body
//! snippet), [`classify`] (status and body to verdict, with the table of texts that prove an
//! upgrade was stripped), [`fingerprint`] (`answered_by`, one table), [`frames`] (after the 101),
//! [`curl`] (the command to reproduce), [`redact`] (secret header values, everywhere) and
//! [`tap`] (the bytes a library read, kept as evidence).
//! [`http2`] is the second probe of a TLS hop: the same WebSocket over HTTP/2 (RFC 8441).

pub mod classify;
pub mod connect;
pub mod curl;
/// Who answered: the clues live in the software tables ([`crate::software`]).
pub use crate::software::answered_by as fingerprint;
pub mod frames;
pub mod http2;
pub mod redact;
pub mod request;
pub mod response;
mod run;
pub mod tap;
pub mod tls;

pub use fingerprint::AnsweredBy;
pub use request::Browser;

use crate::hop::Hop;
use crate::target::Target;
use crate::verdict::{Stage, Verdict};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
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
    /// At TLS hops, also try the WebSocket over HTTP/2 (RFC 8441) on a second connection
    /// (`--http1-only` turns it off).
    pub http2: bool,
    /// Whose upgrade request to send (`--as`): wspath's plain one or a browser's.
    pub browser: request::Browser,
}

impl ProbeOptions {
    /// The network phases one hop's probe can go through, each under [`Self::timeout`]: DNS,
    /// TCP, TLS (wss only), request, response head, then the body snippet of a non-101 answer,
    /// or the ping, the echo and the close of an upgraded connection.
    pub fn phases(&self, hop: &Hop) -> u32 {
        let tls = u32::from(hop.scheme.is_tls());
        let after = u32::from(self.ping) + u32::from(self.echo.is_some()) + 1;
        4 + tls + after
    }

    /// The most one hop's probe may take, whatever the peer does: every phase's budget plus the
    /// `--idle` hold.
    pub fn hop_budget(&self, hop: &Hop) -> Duration {
        self.timeout
            .saturating_mul(self.phases(hop))
            .saturating_add(self.idle.unwrap_or_default())
    }

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
            http2: true,
            browser: request::Browser::Plain,
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
    /// When the certificate the hop presented expires (Unix seconds), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
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

impl Evidence {
    /// The extensions the server enabled in its 101 (`Sec-WebSocket-Extensions`), as it wrote
    /// them; `None` when it enabled none or did not upgrade.
    pub fn extensions(&self) -> Option<&str> {
        if self.status != Some(101) {
            return None;
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
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

/// Probes one hop. Never panics, never hangs: each phase is under `options.timeout`, and the
/// whole probe under [`ProbeOptions::hop_budget`].
///
/// The probe runs as a task of its own. Callers join many probes (every hop, every browser
/// variant) inside one task, and tokio's cooperative budget is per task: a peer that floods
/// frames keeps one probe's reads always ready, and within a shared task that probe would use
/// up the budget on every wake-up and starve the others past their deadlines. The server's
/// answer to the polite close is read back in a task of its own too (see [`probe_in_task`]).
pub async fn probe(target: &Target, hop: &Hop, options: &ProbeOptions) -> ProbeOutcome {
    let (target, hop, options) = (target.clone(), hop.clone(), options.clone());
    let mut task = AbortOnDrop(tokio::spawn(async move {
        let (outcome, drain) = probe_here(&target, &hop, &options).await;
        if let Some(drain) = drain {
            drain.finish_in_background();
        }
        outcome
    }));
    match (&mut task.0).await {
        Ok(outcome) => outcome,
        Err(e) => match e.try_into_panic() {
            // The probe never panics; if it ever did, the caller sees it as before.
            Ok(panic) => std::panic::resume_unwind(panic),
            // Cancelled: only when the runtime shuts down, and then nothing waits for this.
            Err(_) => std::future::pending().await,
        },
    }
}

/// [`probe`], in the caller's task, for a caller that runs no other probe in that task (the
/// first hop's main probe of a walk in a task of its own): no task, no copy of the target, hop
/// and options. The polite close is sent; reading the server's close frame back is left to the
/// caller ([`CloseDrain::finish`]), who can do it once its report is made.
pub async fn probe_in_task(
    target: &Target,
    hop: &Hop,
    options: &ProbeOptions,
) -> (ProbeOutcome, Option<CloseDrain>) {
    let (outcome, drain) = probe_here(target, hop, options).await;
    (outcome, drain.map(|d| CloseDrain(Box::pin(d.finish()))))
}

/// A probed connection whose close frame is sent; the server's close frame is still to be read
/// back (within the close's own bound: the probe's timeout, at most 1 s from the close).
/// Dropping it drops the connection unread. Boxed: a pointer in whatever task holds it (an
/// audit's checks waiting for their permits do not each carry a connection's room).
pub struct CloseDrain(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>);

impl CloseDrain {
    /// Reads the server's close frame back, then drops the connection.
    pub async fn finish(self) {
        self.0.await;
    }
}

impl std::fmt::Debug for CloseDrain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CloseDrain")
    }
}

/// Ends the probe's task when the caller stops waiting for it (an interrupted walk).
struct AbortOnDrop(tokio::task::JoinHandle<ProbeOutcome>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// [`probe`], in the caller's task; the polite close's answer still to be read.
async fn probe_here(
    target: &Target,
    hop: &Hop,
    options: &ProbeOptions,
) -> (ProbeOutcome, Option<run::Drain>) {
    let started = Instant::now();
    let key = request::new_key();
    let headers = request::request_headers(target, options, &key);
    let mut run = run::Run {
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
        phase: Stage::Dns,
        drain: None,
    };
    let budget = options.hop_budget(hop);
    if tokio::time::timeout(budget, run.go(target, hop, options, &headers))
        .await
        .is_err()
    {
        run.overran(budget);
    }
    if !run.total_set {
        run.outcome.timings.total = ms(started.elapsed());
    }
    if let Some(left) = budget.checked_sub(started.elapsed()) {
        plain_port_note(&mut run.outcome, target, hop, options, left).await;
    }
    let mut outcome = run.outcome;
    scrub_secrets(&mut outcome, &redact::secret_values(&headers));
    (outcome, run.drain)
}

/// Words of [`tls::describe`] for a TLS hello that met a port without TLS (the peer hung up,
/// answered in plain HTTP, or sent bytes that are no TLS record).
const NOT_TLS_HERE: [&str; 3] = [
    "closed the connection during the TLS handshake",
    "speaks plain HTTP, not TLS",
    "did not answer with TLS",
];

/// A wss:// hop whose port does not speak TLS is often the plain hop behind a proxy that ends
/// TLS (the hop given as a bare address inherits the target's wss://). Within what is left of
/// its budget, the same hop is probed over ws://; when that upgrades, the TLS failure's detail
/// says so, so the fix is certain rather than a guess between "no certificate for this name"
/// and "no TLS here".
async fn plain_port_note(
    outcome: &mut ProbeOutcome,
    target: &Target,
    hop: &Hop,
    options: &ProbeOptions,
    left: Duration,
) {
    let not_tls = outcome.verdict == Verdict::TlsFailed
        && hop.scheme.is_tls()
        && NOT_TLS_HERE.iter().any(|w| outcome.detail.contains(w));
    if !not_tls {
        return;
    }
    let plain_hop = Hop {
        scheme: crate::target::Scheme::Ws,
        ..hop.clone()
    };
    let plain_options = ProbeOptions {
        idle: None,
        echo: None,
        ..options.clone()
    };
    let plain = Box::pin(probe_here(target, &plain_hop, &plain_options));
    let Ok((plain, drain)) = tokio::time::timeout(left, plain).await else {
        return;
    };
    if let Some(drain) = drain {
        drain.finish_in_background();
    }
    if plain.verdict == Verdict::Upgraded && hop.scheme_inherited {
        // The user named no scheme: the port's own is the answer, not a fault of the path.
        let address = hop.address(target);
        let detail = format!(
            "{}; no TLS on this port (its address named no scheme and took the target's wss://): probed over ws://{address}, as the hop in front that ends TLS reaches it",
            plain.detail
        );
        *outcome = ProbeOutcome { detail, ..plain };
        return;
    }
    if plain.verdict == Verdict::Upgraded {
        let address = hop.address(target);
        outcome.detail = format!(
            "{}; over plain ws:// this port upgrades: TLS ends in a hop in front of it, so give this hop as ws://{address}",
            outcome.detail
        );
    }
}

/// Takes the values of secret request headers out of everything the server sent back.
fn scrub_secrets(outcome: &mut ProbeOutcome, secrets: &[&str]) {
    if secrets.is_empty() {
        return;
    }
    let e = &mut outcome.evidence;
    for text in [&mut e.status_line, &mut e.body_snippet]
        .into_iter()
        .flatten()
    {
        *text = redact::scrub(text, secrets);
    }
    for (_, value) in &mut e.headers {
        *value = redact::scrub(value, secrets);
    }
    outcome.detail = redact::scrub(&outcome.detail, secrets);
    if let Some(idle) = &mut outcome.idle {
        if let Some(reason) = &mut idle.close_reason {
            *reason = redact::scrub(reason, secrets);
        }
    }
}

/// Milliseconds, to the microsecond, as the JSON carries them.
pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walker spawns one probe per hop on the tokio runtime: the future must be Send.
    #[test]
    fn the_probe_future_can_be_spawned() {
        fn assert_send<T: Send + 'static>(_: &T) {}
        let target = Target::parse("ws://example.test/").unwrap();
        let hop = Hop::direct(&target);
        let options = ProbeOptions::new(&target);
        let future = async move { probe(&target, &hop, &options).await };
        assert_send(&future);
    }

    #[test]
    fn the_hop_budget_counts_the_phases_it_runs_and_the_idle_hold() {
        let target = Target::parse("ws://example.test/").unwrap();
        let mut options = ProbeOptions::new(&target);
        options.timeout = Duration::from_secs(2);
        let plain = Hop::direct(&target);
        // DNS, TCP, request, response, ping, close.
        assert_eq!(options.phases(&plain), 6);
        assert_eq!(options.hop_budget(&plain), Duration::from_secs(12));
        let tls = Hop::direct(&Target::parse("wss://example.test/").unwrap());
        options.echo = Some("x".into());
        options.idle = Some(Duration::from_secs(30));
        assert_eq!(options.phases(&tls), 8);
        assert_eq!(options.hop_budget(&tls), Duration::from_secs(46));
        options.ping = false;
        options.echo = None;
        // The body snippet of a non-101 answer still has its phase.
        assert_eq!(options.phases(&plain), 5);
    }
}

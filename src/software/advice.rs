//! Fix hints per verdict: the rows for a kind of hop or any hop, and the lookup over them and
//! every software's own rows (in its table).
//!
//! The most specific row wins. What the evidence itself says comes first: a row keyed on a word
//! of the probe's detail (a TLS reason, a close code, the server's own words such as "missing
//! subprotocol") beats any row that is not, because it names the cause rather than the place.
//! Then a row for the hop's software beats one for its kind beats a general one; a row that
//! needs the hop behind to upgrade when probed directly (the hop does not reach it as
//! configured) beats one that does not; a row that names the status beats one that does not.
//! Hints may say `{address}`, `{address_host}`, `{host}`, `{location}` (and `{ws_location}`, the
//! same as a ws:// or wss:// URL), `{inner}`, `{inner_address}`,
//! `{inner_ms}` and `{hop_ms}`.

use super::Software;
use crate::hop::HopKind;
use crate::verdict::Verdict;

/// Which hops a row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Software(Software),
    Kind(HopKind),
    Any,
}

#[derive(Debug)]
pub struct Hint {
    pub verdict: Verdict,
    pub who: Who,
    /// Only for this status code.
    pub status: Option<u16>,
    /// Only when the probe's detail contains one of these (lowercase).
    pub detail_has: &'static [&'static str],
    /// Only when the hop right behind this one answers so (see [`Inner`]).
    pub inner: Inner,
    pub fix: &'static str,
}

/// What the hop right behind the culprit did when probed directly, as far as hints care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Inner {
    /// Failed, or there is none (as a row's condition: no condition).
    Other,
    /// Upgraded (whatever happened to frames after it).
    Upgrades,
    /// Upgraded, but its first byte came no sooner than the culprit gave up waiting: the
    /// culprit's timeout is shorter than the handshake takes.
    UpgradesSlowly,
}

impl Hint {
    /// A row for `verdict` at the hops `who` names, with no further condition; the methods
    /// below narrow it.
    pub(crate) const fn new(verdict: Verdict, who: Who, fix: &'static str) -> Hint {
        Hint {
            verdict,
            who,
            status: None,
            detail_has: &[],
            inner: Inner::Other,
            fix,
        }
    }

    /// Only for this status code.
    pub(crate) const fn on_status(mut self, status: u16) -> Hint {
        self.status = Some(status);
        self
    }

    /// Only when the probe's detail (which carries the body's words) contains one of `has`.
    pub(crate) const fn on_detail(mut self, has: &'static [&'static str]) -> Hint {
        self.detail_has = has;
        self
    }

    /// Only when the hop right behind answers so when probed directly.
    pub(crate) const fn on_inner(mut self, inner: Inner) -> Hint {
        self.inner = inner;
        self
    }
}

// The short forms the tables are written in.

pub(crate) const fn row(verdict: Verdict, who: Who, fix: &'static str) -> Hint {
    Hint::new(verdict, who, fix)
}

pub(crate) const fn status(verdict: Verdict, who: Who, status: u16, fix: &'static str) -> Hint {
    Hint::new(verdict, who, fix).on_status(status)
}

/// A row for any hop whose probe detail contains one of `has`.
pub(crate) const fn detail(
    verdict: Verdict,
    has: &'static [&'static str],
    fix: &'static str,
) -> Hint {
    Hint::new(verdict, Who::Any, fix).on_detail(has)
}

pub(crate) const fn status_detail(
    verdict: Verdict,
    status: u16,
    has: &'static [&'static str],
    fix: &'static str,
) -> Hint {
    Hint::new(verdict, Who::Any, fix)
        .on_status(status)
        .on_detail(has)
}

/// A row for one software, only when the probe's detail (which carries the body's words)
/// contains one of `has`.
pub(crate) const fn sw_detail(
    verdict: Verdict,
    who: Who,
    has: &'static [&'static str],
    fix: &'static str,
) -> Hint {
    Hint::new(verdict, who, fix).on_detail(has)
}

/// A row for a gateway error at a hop whose inner hop upgrades when probed directly: the hop's
/// own upstream setting does not lead where the `--hop` list says the next hop is.
pub(crate) const fn inner_ok(verdict: Verdict, who: Who, fix: &'static str) -> Hint {
    Hint::new(verdict, who, fix).on_inner(Inner::Upgrades)
}

/// `hint`, only when the hop behind upgrades when probed directly.
pub(crate) const fn when_inner_upgrades(hint: Hint) -> Hint {
    hint.on_inner(Inner::Upgrades)
}

/// A row for a hop that gave up before the hop behind it, probed directly, answered.
pub(crate) const fn inner_slow(verdict: Verdict, who: Who, fix: &'static str) -> Hint {
    Hint::new(verdict, who, fix).on_inner(Inner::UpgradesSlowly)
}

use HopKind as K;
use Verdict as V;
use Who::{Any, Kind as Kd};

pub(crate) const BACKEND_NO_UPGRADE: &str = "the server itself answered as if it had seen no upgrade: check that this path is its WebSocket endpoint and which Sec-WebSocket-Version it expects";

pub(crate) const APP_NO_FRAMES: &str = "the application accepted the upgrade but did not answer: RFC 6455 requires a pong for every ping, so check that its WebSocket library answers pings and that its event loop is not blocked (an echo comes back only from an echo endpoint)";

pub(crate) const INNER_TLS_FIX: &str = "{inner} ({inner_address}) speaks TLS and upgrades when probed directly, so this hop's TLS connection to it fails: it must connect with TLS (https://), send SNI if {inner} needs it, and, if it verifies the certificate, trust the CA that issued it (the one wspath was given with `--cacert`, or none with `-k`) and check a name the certificate holds (an IP address in the upstream URL matches no DNS name)";

pub(crate) const APP_IDLE: &str = "the application closes silent connections itself: raise its own idle or keepalive timeout, or have the clients send a message or ping more often than that";

/// Words the walker adds to the detail it looks hints up with (never shown) when the answer,
/// read beside the request that got it, says more than the probe's detail: a redirect to the
/// same path with a `/` appended or taken off, a 401/407 to a request that carried credentials,
/// a page of the hop's own.
pub const ADDS_SLASH: &str = "the redirect adds a trailing slash";
pub const DROPS_SLASH: &str = "the redirect drops the trailing slash";
pub const CREDENTIALS_SENT: &str = "credentials were sent";
/// Words the walker adds when the answer is a page of the hop's own software (one of its
/// error-page marks, see [`super::change::own_page`]): the hop answered itself.
pub const OWN_PAGE: &str = "the hop's own page";
/// Words the walker adds to a 503 that came only after a wait of a second or more (a queue, or
/// connect attempts that time out), not at once.
pub const WAITED: &str = "answered only after a wait";
/// Words the walker adds to a gateway error when the hop behind is probed over TLS (wss://).
pub const INNER_TLS: &str = "the hop behind speaks tls";

/// A row for a gateway error at `who` in front of a hop that speaks TLS and upgrades when
/// probed directly (with the trust wspath was given): the hop's TLS connection toward it fails.
pub(crate) const fn inner_tls(verdict: Verdict, who: Who, fix: &'static str) -> Hint {
    Hint::new(verdict, who, fix)
        .on_detail(&[INNER_TLS])
        .on_inner(Inner::Upgrades)
}

/// Rows for a kind of hop or any hop; each software's own rows live in its table.
pub const HINTS: &[Hint] = &[
    // The upgrade never reached the server behind.
    row(V::UpgradeStripped, Kd(K::Lb), "a load balancer must pass Upgrade/Connection on over HTTP/1.1: on an AWS ALB forward to a target group with protocol version HTTP1; on HAProxy remove rules that delete or set Upgrade/Connection (`mode http` forwards upgrades by default)"),
    row(V::UpgradeStripped, Kd(K::Cdn), "turn WebSockets on at the CDN (Cloudflare: Network → WebSockets; CloudFront: forward the Sec-WebSocket-* headers in the origin request policy)"),
    row(V::UpgradeStripped, Kd(K::Backend), BACKEND_NO_UPGRADE),
    row(V::UpgradeStripped, Any, "forward the request to the next hop over HTTP/1.1 with the client's `Upgrade: websocket` and `Connection: Upgrade` headers"),
    // A 101 that is not a valid answer to our key.
    detail(V::BadAccept, &["selected none"], "the server does not take the subprotocol offered: add it to the server's subprotocols, or leave out `--protocol` if the real clients send none (a browser fails a handshake whose 101 names no subprotocol after it offered one)"),
    detail(V::BadAccept, &["which was not offered"], "the server chose a subprotocol or extension the client did not offer: make it choose only from the client's list (RFC 6455 §4.1)"),
    inner_ok(V::BadAccept, Any, "{inner} ({inner_address}) answers a valid 101 when probed directly, so this hop changes it on the way out: look for response-header rules on Sec-WebSocket-Accept, Upgrade or Connection"),
    row(V::BadAccept, Any, "make sure nothing on the way rewrites `Sec-WebSocket-Accept`, `Upgrade` or `Connection`, and that the server derives the accept value from the client's key (RFC 6455 §4.2.2)"),
    // Other answers.
    status(V::Rejected, Any, 400, "the hop refuses the request itself: check that it accepts an HTTP/1.1 GET with the WebSocket headers for Host {host}"),
    // RFC 9110 §15.5.2: a 401 to a request with credentials means "authorization has been
    // refused for those credentials".
    status_detail(V::Rejected, 401, &[CREDENTIALS_SENT], "the hop refuses the credentials sent (RFC 9110: a 401 to a request that carried them means they were refused): check that they are valid here (user and password or token, not expired, the scheme its `WWW-Authenticate` header asks for), that they are meant for this hop and not only for one further in, and that no proxy in front drops or replaces the header; browsers cannot set Authorization on a WebSocket, so what works from wspath may still fail for them (they send a cookie or a token in the URL)"),
    status_detail(V::Rejected, 407, &[CREDENTIALS_SENT], "the proxy refuses the `Proxy-Authorization` sent: check the user and password or token against its `Proxy-Authenticate` scheme"),
    status(V::Rejected, Any, 401, "the hop wants credentials: send them (e.g. `-H 'Authorization: …'`, or `-H 'Cookie: …'` as browsers do: they cannot set Authorization on a WebSocket) or allow unauthenticated upgrades on this path"),
    // RFC 9110 §15.5.8: a 407 asks for credentials for a proxy the client chose to use;
    // browsers send Proxy-Authorization only to their configured forward proxy, never to the
    // server a WebSocket URL names.
    status(V::Rejected, Any, 407, "the hop asks for proxy credentials (407, `Proxy-Authenticate`): browsers send `Proxy-Authorization` only to a forward proxy they are configured to use, never to the server a WebSocket URL points at, so a reverse proxy on this path must not ask for it: remove its proxy authentication here (to probe past it, send `-H 'Proxy-Authorization: Basic …'`)"),
    // RFC 6585 §4: 429 Too Many Requests, optionally with Retry-After.
    status(V::Rejected, Any, 429, "the hop rate-limits this client (429 Too Many Requests): every reconnect of a WebSocket client is a new request, so reconnect bursts (many tabs, retries after a drop) trip a per-address rate limit: raise the limit or its burst for the WebSocket path, or exempt the path; a `Retry-After` header says how long it holds"),
    status(V::Rejected, Any, 403, "an access rule refuses the upgrade: check Origin allow-lists (wspath sends the target's origin; try `--origin`), IP allow-lists and WAF rules"),
    when_inner_upgrades(status(V::Rejected, Any, 404, "{inner} ({inner_address}) upgrades this path when probed directly, so this hop answers the 404 itself or sends {inner} something else: look for a rule at this hop that answers this path (a `return 404`, a deny rule, a route that does not cover it) or rewrites it before forwarding, and check that its upstream for this Host and path is {inner_address}")),
    status(V::Rejected, Any, 404, "nothing serves this path at this hop: check the path it forwards to (nginx `proxy_pass` URI, ALB path-pattern rules) or give the hop its own path with `--hop NAME=ws://HOST:PORT/PATH`"),
    // What servers say when they refuse the Origin (gorilla: "request origin not allowed by
    // Upgrader.CheckOrigin"); a bare "origin" would also match explanations that only guess.
    status_detail(V::Rejected, 403, &["origin not allowed", "forbidden origin", "invalid origin", "origin mismatch", "bad origin", "disallowed origin", "origin is not allowed", "cross-origin", "checkorigin"], "the server refuses the request's Origin (wspath sends the target's own origin unless `--origin` says otherwise): add the origin your clients use to its allow-list, or probe with `--origin https://…` as they do"),
    status(V::Rejected, Any, 200, "this hop answered the upgrade with an ordinary page (200): the path is served as plain HTTP (a health check, static file, SPA fallback or `return 200`) instead of by the WebSocket server: route this path to the WebSocket endpoint, or probe the path the endpoint really has (`--hop NAME=ws://HOST:PORT/PATH`)"),
    detail(V::Rejected, &["plain http request was sent to https port", "client sent an http request to an https server", "speaking plain http to an ssl-enabled server port"], "a plain-HTTP request reached a TLS port: if this hop's own port is the TLS one, probe it with wss:// (`--hop NAME=wss://HOST:PORT`); if the hop is a proxy, it forwards to a TLS upstream over plain HTTP: make its upstream URL https:// (nginx `proxy_pass https://…`, HAProxy `ssl` on the `server` line, Apache `ProxyPass https://…` with `SSLProxyEngine On`, Caddy `reverse_proxy https://…`)"),
    detail(V::Rejected, &["a socket.io server"], "probe the Socket.IO WebSocket transport with its query: `wspath check 'wss://HOST/socket.io/?EIO=4&transport=websocket'` (clients add it themselves; a plain WebSocket client must too)"),
    // A refusal of the subprotocol offered, naming the ones taken (python websockets "invalid
    // subprotocol; expected one of chat."): the name is wrong, not missing.
    detail(V::Rejected, &["invalid subprotocol", "unsupported subprotocol", "subprotocol not supported", "no matching subprotocol"], "the server does not take the subprotocol offered in Sec-WebSocket-Protocol (`--protocol`): its answer above names the ones it takes: probe with one of those, and check which one your clients send (a client library and the server must agree on the name, e.g. `graphql-ws` against `graphql-transport-ws`)"),
    detail(V::Rejected, &["subprotocol"], "the server requires a WebSocket subprotocol: probe with `--protocol NAME` (the value your clients send in Sec-WebSocket-Protocol); if the clients send one, a proxy on the way drops the Sec-WebSocket-Protocol header"),
    row(V::Rejected, Any, "make the hop route WebSocket upgrades for this host and path; its status, headers and body above say why it refused"),
    detail(V::Redirect, &[ADDS_SLASH], "this hop redirects the path to itself with a `/` appended ({location}): its route is written for the path with a trailing slash and answers the path without it with a redirect, which WebSocket clients do not follow; route the path as the clients send it too (nginx: `location /ws/` answers `/ws` so, add `location = /ws` or write `location /ws`), or point the clients at the path with the slash"),
    detail(V::Redirect, &[DROPS_SLASH], "this hop redirects the path to itself without its trailing `/` ({location}), which WebSocket clients do not follow: route the path with the slash as well, or point the clients at the path without it"),
    // RFC 6455 §4.1: a client may follow a 3xx but need not, and browsers do not; the URL they
    // are given is a ws:// or wss:// one (an http→https redirect means wss://).
    row(V::Redirect, Any, "WebSocket clients do not follow redirects: point them at the final URL as a WebSocket URL ({ws_location}) or stop redirecting this path"),
    // Gateway errors while the hop behind answers well when probed directly: this hop does not
    // reach it as configured.
    inner_tls(V::BadGateway, Any, INNER_TLS_FIX),
    inner_tls(V::ServiceUnavailable, Any, INNER_TLS_FIX),
    inner_ok(V::BadGateway, Any, "{inner} ({inner_address}) upgrades when probed directly, so this hop does not reach it as configured: compare its upstream address, port and scheme with {inner_address}"),
    inner_ok(V::ServiceUnavailable, Any, "{inner} ({inner_address}) upgrades when probed directly, yet this hop has no usable server: its health check fails (a WebSocket-only server answers a plain GET with 426 or 400) or its server list points elsewhere"),
    inner_ok(V::GatewayTimeout, Any, "{inner} ({inner_address}) answers in {inner_ms} when probed directly, so this hop waits on something else: compare its upstream address with {inner_address}"),
    inner_slow(V::GatewayTimeout, Any, "{inner} ({inner_address}) answers the handshake, but only after {inner_ms}, and this hop gave up after {hop_ms}: raise its upstream response timeout above that, or make the application answer the handshake sooner"),
    // Silence from a hop whose next hop answers at once: it waits on another upstream.
    inner_ok(V::Timeout, Any, "{inner} ({inner_address}) answers in {inner_ms} when probed directly, yet this hop gave no answer in time: its upstream leads somewhere that does not answer (compare it with {inner_address})"),
    inner_ok(V::NoResponse, Any, "{inner} ({inner_address}) answers when probed directly, yet this hop closed the connection without a byte (after {hop_ms}): a TCP-mode proxy (HAProxy `mode tcp`, nginx `stream`) does that when it cannot connect to its server; compare its server address with {inner_address} and check that it is up"),
    // Gateway errors: this hop could not get an answer from the one behind it.
    row(V::BadGateway, Any, "this hop cannot reach the one behind it: check its upstream address and that the service there is up"),
    row(V::ServiceUnavailable, Kd(K::Lb), "the load balancer has no healthy server: check target health and the health-check path (AWS ALB) or the backend's `server` lines and health checks (HAProxy)"),
    row(V::ServiceUnavailable, Any, "the hop has nothing healthy to send the request to: check its backends and their health checks"),
    row(V::GatewayTimeout, Any, "the hop timed out waiting for the one behind it: check that it answers the upgrade promptly"),
    // Could not even talk to the hop.
    row(V::DnsFailed, Any, "fix the DNS record for {address_host} (or the name itself, if it is mistyped), or give the hop an address explicitly (`--hop NAME=HOST:PORT`)"),
    row(V::ConnectRefused, Any, "nothing listens on {address}: start the service there, or fix the port (here and in the hop in front of it)"),
    row(V::ConnectTimeout, Any, "{address} does not accept connections: check firewalls and security groups, and that the host is up"),
    detail(V::TlsFailed, &["notvalidforname", "not valid for name", "name mismatch", "hostname"], "serve a certificate whose names cover {host} (every hop is sent the target's SNI, as real clients send it)"),
    detail(V::TlsFailed, &["unknownissuer", "unknown issuer", "self-signed", "self signed"], "serve the full chain from a trusted CA; for a private CA pass `--cacert FILE` (or `-k` to look past it)"),
    detail(V::TlsFailed, &["expired"], "renew the certificate this hop serves for {host}; if it was already renewed on disk (certbot, acme.sh, a secret update), the server still serves the old one until it reloads: reload it (`nginx -s reload`, `systemctl reload …`) and make the renewal's deploy hook do that"),
    detail(V::TlsFailed, &["alpn", "application protocol", "noapplicationprotocol"], "the endpoint speaks only HTTP/2: offer `http/1.1` in its ALPN list (WebSockets over HTTP/2 need RFC 8441 on both ends)"),
    detail(V::TlsFailed, &["plain http", "did not answer with tls", "corrupt message", "invalidcontenttype"], "this port speaks plain HTTP: use ws:// for the hop (`--hop NAME=ws://HOST:PORT`)"),
    detail(V::TlsFailed, &["does not serve sni"], "the server has no certificate for {host}: on nginx a `server` with `listen … ssl` and `server_name {host}` (a default server with `ssl_reject_handshake on` refuses other names); on HAProxy a `crt` whose names cover {host}"),
    detail(V::TlsFailed, &["no tls version"], "enable TLS 1.2 or 1.3 on the server (nginx `ssl_protocols TLSv1.2 TLSv1.3;`, HAProxy `ssl-min-ver TLSv1.2`): browsers no longer speak TLS 1.0 or 1.1"),
    detail(V::TlsFailed, &["closed the connection during the tls handshake"], "the server hung up on the TLS handshake: either it has no certificate for SNI {host}, or this port does not speak TLS at all (then probe it with ws://: `--hop NAME=ws://HOST:PORT`)"),
    row(V::TlsFailed, Any, "fix the TLS setup at {address} (wspath sends SNI {host} and offers ALPN http/1.1)"),
    row(V::NoResponse, Any, "the hop closed the connection without answering: check that it speaks HTTP on this port (a TLS port probed with ws://?) and its error log"),
    row(V::Timeout, Any, "the hop accepted the connection but did not answer in time: check that it is an HTTP server and that what is behind it answers"),
    row(V::MalformedResponse, Any, "the hop does not answer HTTP/1.1 here: check the port and the scheme (ws:// or wss://)"),
    // The server sent a close frame instead of answering: the application decided (a proxy
    // passes the close along unchanged), whatever the hop.
    detail(V::FramesFailed, &["with code 1008"], "the application accepted the WebSocket and then refused this client (1008 policy violation): send what it expects, a token (`-H 'Authorization: …'`), a cookie, an allowed Origin (`--origin`) or a subprotocol (`--protocol`); its close reason says which"),
    detail(V::FramesFailed, &["with code 1011"], "the application failed right after accepting the WebSocket (1011 internal error): its log holds the error raised when the connection opened"),
    detail(V::FramesFailed, &["with code 1001"], "the server is going away (1001): it is shutting down or restarting, or a proxy in front is draining connections; check for restarts and deploys"),
    detail(V::FramesFailed, &["with code 1002", "with code 1003", "with code 1007", "with code 1009"], "the application closed the WebSocket for a protocol or data error: check that the client speaks what it expects (subprotocol, message format, size)"),
    detail(V::FramesFailed, &["echo mismatch"], "the text came back different: this is not an echo endpoint (leave out `--echo` for it, the ping already proves frames pass), or something on the way rewrites messages"),
    detail(V::FramesFailed, &["with code"], "the application closed the WebSocket right after accepting it; the close code and reason are its own (a proxy passes them along unchanged): look that code up in the application"),
    // The TCP connection ended with no close frame right after the 101 (tungstenite: "Connection
    // reset without closing handshake"; or a plain end of stream): the application's handler
    // ended or dropped the socket, a decision of its own that gives no reason.
    Hint::new(V::FramesFailed, Kd(K::Backend), "the application accepted the upgrade and then closed the connection without a close frame, before answering a ping: its WebSocket handler ended (returned or raised) right after accepting, or the process dropped the socket (a crash, an authentication check that closes instead of sending 1008); its log holds what happened when the connection opened").on_detail(&["without closing handshake", "connection reset by peer", "the connection ended before the"]),
    row(V::FramesFailed, Kd(K::Backend), APP_NO_FRAMES),
    row(V::FramesFailed, Any, "the upgrade succeeded but ping/echo frames did not come back: a proxy, WAF or the application does not relay frames"),
    row(V::IdleDropped, Kd(K::Backend), APP_IDLE),
    row(V::IdleDropped, Any, "have the application ping more often than that, or raise the hop's idle timeout"),
];

/// What the hint for a hop depends on.
#[derive(Debug, Clone, Copy)]
pub struct HintKey<'a> {
    pub verdict: Verdict,
    pub software: Option<Software>,
    pub kind: HopKind,
    pub status: Option<u16>,
    pub detail: &'a str,
    /// What the hop right behind did when probed directly.
    pub inner: Inner,
}

/// The most specific hint for `key`, if any.
pub fn lookup(key: &HintKey<'_>) -> Option<&'static Hint> {
    let detail = key.detail.to_ascii_lowercase();
    all()
        // `max_by_key` keeps the last of equals; reversed, that is the row listed first.
        .rev()
        .filter(|h| h.verdict == key.verdict)
        .filter(|h| match h.who {
            Who::Software(s) => key.software == Some(s),
            Who::Kind(k) => key.kind == k,
            Who::Any => true,
        })
        .filter(|h| h.status.is_none() || h.status == key.status)
        .filter(|h| h.detail_has.is_empty() || h.detail_has.iter().any(|d| detail.contains(d)))
        // A slow upgrade is still an upgrade: those rows apply too, ranked below.
        .filter(|h| key.inner >= h.inner)
        .max_by_key(|h| {
            let who = match h.who {
                Who::Software(_) => 2,
                Who::Kind(_) => 1,
                Who::Any => 0,
            };
            (!h.detail_has.is_empty(), who, h.inner, h.status.is_some())
        })
}

/// Every row: the general ones, then each software's, in table order.
fn all() -> impl DoubleEndedIterator<Item = &'static Hint> {
    HINTS
        .iter()
        .chain(super::TABLES.iter().flat_map(|t| t.advice.iter()))
}

/// What the placeholders of a hint stand for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fill<'a> {
    pub address: &'a str,
    pub host: &'a str,
    pub location: Option<&'a str>,
    /// The hop right behind: name and address.
    pub inner: Option<(&'a str, &'a str)>,
    /// How long the hop behind took to answer, and how long this one waited ("2.0 s").
    pub inner_ms: Option<&'a str>,
    pub hop_ms: Option<&'a str>,
}

/// Fills `{address}` (and `{address_host}`, its name), `{host}`, `{location}` (and
/// `{ws_location}`), `{inner}`,
/// `{inner_address}`, `{inner_ms}` and `{hop_ms}`.
pub fn fill(fix: &str, with: &Fill<'_>) -> String {
    let (inner, inner_address) = with.inner.unwrap_or(("the next hop", "its address"));
    // The name in "host:port" / "[v6]:port": what the hop resolves (not always the target's).
    let address_host = with
        .address
        .rsplit_once(':')
        .map_or(with.address, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let location = with.location.unwrap_or("the Location header");
    // The redirect's target as clients must open it: http(s):// is ws(s):// for a WebSocket.
    let ws_location = match location.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => format!("wss://{rest}"),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => format!("ws://{rest}"),
        _ => location.to_string(),
    };
    fix.replace("{address_host}", address_host)
        .replace("{ws_location}", &ws_location)
        .replace("{address}", with.address)
        .replace("{host}", with.host)
        .replace("{location}", location)
        .replace("{inner_address}", inner_address)
        .replace("{inner_ms}", with.inner_ms.unwrap_or("a moment"))
        .replace("{hop_ms}", with.hop_ms.unwrap_or("a while"))
        .replace("{inner}", inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Software as S;

    fn key(verdict: Verdict, software: Option<Software>, kind: HopKind) -> HintKey<'static> {
        HintKey {
            verdict,
            software,
            kind,
            status: None,
            detail: "",
            inner: Inner::Other,
        }
    }

    #[test]
    fn software_beats_kind_beats_any() {
        let h = lookup(&key(V::UpgradeStripped, Some(S::Nginx), K::Proxy)).unwrap();
        assert!(h.fix.contains("proxy_http_version 1.1"));
        let h = lookup(&key(V::UpgradeStripped, None, K::Backend)).unwrap();
        assert_eq!(h.who, Kd(K::Backend));
        let h = lookup(&key(V::UpgradeStripped, None, K::Proxy)).unwrap();
        assert_eq!(h.who, Any);
        let h = lookup(&key(V::UpgradeStripped, Some(S::AwsElb), K::Lb)).unwrap();
        assert!(h.fix.contains("HTTP1"));
        // An lb of unknown make gets both lb hints; a known one only its own.
        let h = lookup(&key(V::UpgradeStripped, None, K::Lb)).unwrap();
        assert!(h.fix.contains("ALB") && h.fix.contains("HAProxy"));
        let h = lookup(&key(V::ServiceUnavailable, Some(S::Haproxy), K::Lb)).unwrap();
        assert!(!h.fix.contains("ALB"));
    }

    #[test]
    fn status_rows_beat_general_ones() {
        let mut k = key(V::Rejected, None, K::Proxy);
        k.status = Some(404);
        assert!(lookup(&k).unwrap().fix.contains("nothing serves this path"));
        k.software = Some(S::AwsElb);
        assert!(lookup(&k).unwrap().fix.contains("listener rule"));
        k.status = Some(418);
        assert_eq!(lookup(&k).unwrap().status, None);
    }

    #[test]
    fn a_404_in_front_of_a_hop_that_upgrades_is_this_hops_own() {
        // The hop behind upgrades the path probed directly, so "nothing serves this path"
        // would send the user to the wrong end of the link.
        let mut k = key(V::Rejected, None, K::Proxy);
        k.status = Some(404);
        k.inner = Inner::Upgrades;
        assert!(lookup(&k).unwrap().fix.contains("answers the 404 itself"));
        k.software = Some(S::Haproxy);
        assert!(lookup(&k)
            .unwrap()
            .fix
            .contains("`http-request return status 404`"));
    }

    #[test]
    fn tls_reason_picks_the_row() {
        let mut k = key(V::TlsFailed, None, K::Proxy);
        k.detail = "invalid peer certificate: UnknownIssuer";
        assert!(lookup(&k).unwrap().fix.contains("--cacert"));
        k.detail = "invalid peer certificate: NotValidForName";
        assert!(lookup(&k).unwrap().fix.contains("{host}"));
        k.detail = "peer sent no ALPN protocol";
        assert!(lookup(&k).unwrap().fix.contains("HTTP/2"));
        k.detail = "handshake failure";
        assert!(lookup(&k).unwrap().fix.contains("{address}"));
    }

    #[test]
    fn every_failing_verdict_has_a_general_hint() {
        for v in Verdict::ALL.into_iter().filter(|v| !v.passed()) {
            assert!(
                lookup(&key(v, None, K::Unknown)).is_some(),
                "no hint for {v:?}"
            );
        }
        assert!(lookup(&key(Verdict::Upgraded, None, K::Unknown)).is_none());
    }

    #[test]
    fn fill_placeholders() {
        let with = Fill {
            address: "10.0.0.1:80",
            host: "example.com",
            location: None,
            inner: Some(("backend", "10.0.0.2:8080")),
            ..Fill::default()
        };
        assert_eq!(
            fill("{address} {host} {location} {inner} {inner_address}", &with),
            "10.0.0.1:80 example.com the Location header backend 10.0.0.2:8080"
        );
        let with = Fill {
            address: "lb.internal:8443",
            ..with
        };
        assert_eq!(fill("{address_host}", &with), "lb.internal");
        let redirected = Fill {
            location: Some("https://app.test/ws"),
            ..with
        };
        assert_eq!(fill("{ws_location}", &redirected), "wss://app.test/ws");
        let redirected = Fill {
            location: Some("/ws/"),
            ..with
        };
        assert_eq!(fill("{ws_location}", &redirected), "/ws/");
        let with = Fill {
            address: "[::1]:80",
            ..with
        };
        assert_eq!(fill("{address_host}", &with), "::1");
    }

    #[test]
    fn the_servers_own_words_beat_the_hops_software() {
        // nginx passes the application's 1008 close along: the application's reason wins.
        let mut k = key(V::FramesFailed, Some(S::Nginx), K::Proxy);
        k.detail = "ping: the server closed the WebSocket with code 1008 \"missing token\"";
        assert!(lookup(&k).unwrap().fix.contains("policy violation"));
        k.detail = "ping: no pong within 3s";
        assert!(lookup(&k).unwrap().fix.contains("sub_filter"));
        // A 400 naming the missing subprotocol beats the general 400 row.
        let mut k = key(V::Rejected, None, K::Backend);
        k.status = Some(400);
        k.detail =
            "400 Bad Request: \"Failed to open a WebSocket connection: missing subprotocol.\"";
        assert!(lookup(&k).unwrap().fix.contains("--protocol"));
        k.detail = "400 Bad Request: \"{\"code\":0,\"message\":\"Transport unknown\"}\" — a Socket.IO server: …";
        assert!(lookup(&k)
            .unwrap()
            .fix
            .contains("EIO=4&transport=websocket"));
        k.detail = "400 Bad Request: \"The plain HTTP request was sent to HTTPS port\"";
        assert!(lookup(&k).unwrap().fix.contains("proxy_pass https://"));
        // An Origin refusal only on a 403 whose words name the origin.
        k.status = Some(403);
        k.detail = "403 Forbidden: \"Forbidden origin\"";
        assert!(lookup(&k).unwrap().fix.contains("allow-list"));
        k.detail = "403 Forbidden";
        assert!(lookup(&k).unwrap().fix.contains("IP allow-lists"));
    }

    #[test]
    fn gateway_errors_in_front_of_a_working_hop_point_at_the_upstream_setting() {
        let mut k = key(V::ServiceUnavailable, Some(S::Haproxy), K::Lb);
        assert!(!lookup(&k).unwrap().fix.contains("httpchk"));
        k.inner = Inner::Upgrades;
        assert!(lookup(&k).unwrap().fix.contains("httpchk"));
        // A slow upgrade behind still gets the "upgrades" rows when no slow row exists.
        k.inner = Inner::UpgradesSlowly;
        assert!(lookup(&k).unwrap().fix.contains("httpchk"));
        let mut k = key(V::BadGateway, Some(S::Nginx), K::Proxy);
        k.inner = Inner::Upgrades;
        assert!(lookup(&k).unwrap().fix.contains("https://"));
        // A timeout in front of a slow handshake is the timeout; in front of a quick one, the
        // address.
        let mut k = key(V::GatewayTimeout, Some(S::Haproxy), K::Lb);
        k.inner = Inner::UpgradesSlowly;
        assert!(lookup(&k).unwrap().fix.contains("raise `timeout server`"));
        k.inner = Inner::Upgrades;
        assert!(lookup(&k)
            .unwrap()
            .fix
            .contains("compare the backend's `server` address"));
        // A refusal in front of a working hop: nginx may send it another Host or path.
        let mut k = key(V::Rejected, Some(S::Nginx), K::Proxy);
        k.inner = Inner::Upgrades;
        k.status = Some(404);
        assert!(lookup(&k)
            .unwrap()
            .fix
            .contains("no `location` that proxies"));
        k.status = Some(403);
        assert!(lookup(&k).unwrap().fix.contains("`deny`/`allow`"));
        assert!(lookup(&k)
            .unwrap()
            .fix
            .contains("proxy_set_header Host $host;"));
        k.inner = Inner::Other;
        assert!(!lookup(&k).unwrap().fix.contains("proxy_set_header Host"));
        // Other answers have no such rows.
        let mut k = key(V::Redirect, Some(S::Nginx), K::Proxy);
        k.inner = Inner::Upgrades;
        assert_eq!(lookup(&k).unwrap().inner, Inner::Other);
    }
}

//! From a response head (and body snippet) to a verdict and a one-line detail. Pure. The texts that
//! prove the upgrade was stripped on the way are data: one table of what well-known WebSocket
//! servers answer when the request reaching them is not an upgrade.

use crate::probe::fingerprint::AnsweredBy;
use crate::probe::request::accept_key;
use crate::probe::response::Head;
use crate::verdict::{Stage, Verdict};

/// A verdict with the stage it was reached at and the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub verdict: Verdict,
    pub stage: Stage,
    pub detail: String,
}

fn classified(verdict: Verdict, stage: Stage, detail: impl Into<String>) -> Classified {
    Classified {
        verdict,
        stage,
        detail: detail.into(),
    }
}

/// Body texts (lowercase substrings) by which a WebSocket server says the request it received was
/// not an upgrade, with what that means for the path. Seen on 400, 426 and 505 answers.
#[rustfmt::skip]
const STRIPPED: &[(&str, &str)] = &[
    // Python websockets (checked on 17.4: 505, 426 and 400 answers).
    ("unsupported http version", "the request reached it as HTTP/1.0, which cannot upgrade"),
    ("missing connection header", "the Connection: Upgrade header was dropped on the way"),
    ("invalid connection header", "the Connection header was rewritten on the way"),
    ("missing upgrade header", "the Upgrade header was dropped on the way"),
    ("invalid upgrade header", "the Upgrade header was dropped or rewritten on the way"),
    // gorilla/websocket and its fasthttp/fiber ports.
    ("'upgrade' token not found in 'connection' header", "the Connection: Upgrade header was dropped on the way"),
    ("'websocket' token not found in 'upgrade' header", "the Upgrade header was dropped on the way"),
    ("the client is not using the websocket protocol", "the upgrade headers were dropped on the way"),
    ("not a websocket handshake", "the upgrade headers were dropped on the way"),
    // coder/websocket (nhooyr).
    ("does not contain upgrade", "the Connection: Upgrade header was dropped on the way"),
    ("handshake request must be at least http/1.1", "the request reached it as HTTP/1.0, which cannot upgrade"),
    // Tornado and Spring.
    ("can \"upgrade\" only to \"websocket\"", "the Upgrade header was dropped on the way"),
    ("\"connection\" must be \"upgrade\"", "the Connection: Upgrade header was dropped on the way"),
    // aiohttp.
    ("no websocket upgrade hdr", "the Upgrade header was dropped on the way"),
    ("no connection upgrade hdr", "the Connection: Upgrade header was dropped on the way"),
    // axum.
    ("connection header did not include 'upgrade'", "the Connection: Upgrade header was dropped on the way"),
    ("`upgrade` header did not include 'websocket'", "the Upgrade header was dropped on the way"),
    ("no upgrade state was present", "the connection reaching it could not be upgraded (HTTP/1.0 or Connection: close)"),
    // tungstenite.
    ("no \"connection: upgrade\" header", "the Connection: Upgrade header was dropped on the way"),
    ("no \"upgrade: websocket\" header", "the Upgrade header was dropped on the way"),
    ("http version must be 1.1 or higher", "the request reached it as HTTP/1.0, which cannot upgrade"),
    // uvicorn without a WebSocket library installed.
    ("unsupported upgrade request", "the server behind cannot upgrade (uvicorn without a WebSocket library)"),
    // Socket.IO/engine.io: a `transport=websocket` request that arrived without Upgrade.
    ("{\"code\":3,\"message\":\"bad request\"}", "Socket.IO got a websocket-transport request without Upgrade"),
];

/// Other body texts worth naming on a rejection.
#[rustfmt::skip]
const REJECTION_HINTS: &[(&str, &str)] = &[
    ("the plain http request was sent to https port", "a TLS port got plain HTTP: if it is this hop's own port, use wss:// for this hop; if not, the hop forwards plain HTTP to a TLS upstream"),
    // Go's net/http TLS server (Caddy, Traefik, Go applications): server.go, "Client sent an
    // HTTP request to an HTTPS server." (seen on Caddy 2.6 in tests/software/scheme.rs).
    ("client sent an http request to an https server", "a TLS port got plain HTTP: if it is this hop's own port, use wss:// for this hop; if not, the hop forwards plain HTTP to a TLS upstream"),
    // Apache httpd mod_ssl: "You're speaking plain HTTP to an SSL-enabled server port."
    // (seen on 2.4.71 in tests/software/scheme.rs).
    ("speaking plain http to an ssl-enabled server port", "a TLS port got plain HTTP: if it is this hop's own port, use wss:// for this hop; if not, the hop forwards plain HTTP to a TLS upstream"),
    ("missing sec-websocket-key header", "the server behind did not get Sec-WebSocket-Key: a proxy dropped the handshake headers"),
    ("missing or invalid sec-websocket-key header", "the server behind did not get Sec-WebSocket-Key: a proxy dropped the handshake headers"),
    ("missing sec-websocket-version header", "the server behind did not get Sec-WebSocket-Version: a proxy dropped the handshake headers"),
    ("request header or cookie too large", "the request headers (cookies?) are larger than this hop accepts"),
    ("rbac: access denied", "an Envoy RBAC policy refused the request"),
    ("request forbidden by administrative rules", "an HAProxy `http-request deny` rule refused the request"),
    ("missing subprotocol", "the server requires a subprotocol and none was offered (`--protocol`)"),
    // engine.io (Socket.IO) names what its query lacks: `EIO` and `transport`.
    ("{\"code\":0,\"message\":\"transport unknown\"}", "a Socket.IO server: its WebSocket transport needs `?EIO=4&transport=websocket` in the URL"),
    ("{\"code\":5,\"message\":\"unsupported protocol version\"}", "a Socket.IO server: its WebSocket transport needs `?EIO=4&transport=websocket` in the URL"),
];

/// What a status means when a given backend sends it, for answers that cannot prove the upgrade
/// was stripped but usually mean it (checked: uvicorn 0.54 with Starlette 1.10 answers 404 "Not
/// Found" to a WebSocket route reached without Upgrade, or over HTTP/1.0).
#[rustfmt::skip]
const SOFTWARE_HINTS: &[(AnsweredBy, u16, BodyIs, &str)] = &[
    (AnsweredBy::Uvicorn, 404, BodyIs::Any, "Starlette/FastAPI answer 404 to a WebSocket route reached without Upgrade: if this path is a WebSocket endpoint, the upgrade was dropped on the way"),
    (AnsweredBy::Uvicorn, 403, BodyIs::Any, "Starlette/FastAPI answer 403 when the WebSocket endpoint closes before accepting (often an Origin or auth check)"),
    // envoyproxy/envoy#4740, projectcontour/contour#5675: `403`, `server: envoy`, no body.
    (AnsweredBy::Envoy, 403, BodyIs::Empty, "Envoy answers an empty 403 to an upgrade its route does not allow: add `upgrade_configs: [{upgrade_type: websocket}]` (Contour: `enableWebsockets: true`)"),
];

/// Whether a software hint needs an empty body to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyIs {
    Any,
    Empty,
}

/// Checks a 101 answer against the request: accept key, Upgrade, Connection, and that the server
/// chose no subprotocol or extension that was not offered (RFC 6455 §4.1). `offered_extensions`
/// are the extension names the request offered, lowercase (a browser variant offers
/// `permessage-deflate`; the plain request none).
pub fn classify_101(
    head: &Head,
    key: &str,
    offered_protocols: &[String],
    offered_extensions: &[String],
) -> Classified {
    let bad = |detail: String| classified(Verdict::BadAccept, Stage::Accept, detail);
    let expected = accept_key(key);
    match head.header("sec-websocket-accept").map(str::trim) {
        None => return bad("101 without Sec-WebSocket-Accept".into()),
        Some(got) if got != expected => {
            return bad(format!(
                "Sec-WebSocket-Accept is '{got}', expected '{expected}': computed for a different key than the one sent (a proxy that sent a key of its own), or computed wrong"
            ))
        }
        Some(_) => {}
    }
    match head.header("upgrade") {
        Some(v) if v.trim().eq_ignore_ascii_case("websocket") => {}
        Some(v) => return bad(format!("101 with Upgrade: '{v}', expected 'websocket'")),
        None => return bad("101 without an Upgrade header".into()),
    }
    let connection = head.header("connection").unwrap_or("");
    if !has_token(connection, "upgrade") {
        return bad(format!(
            "101 whose Connection header '{connection}' has no 'upgrade' token"
        ));
    }
    match head.header("sec-websocket-protocol").map(str::trim) {
        Some(chosen) if !offered_protocols.iter().any(|p| p == chosen) => {
            return bad(format!(
                "the server chose subprotocol '{chosen}', which was not offered"
            ));
        }
        // Browsers fail this handshake ("Sent non-empty 'Sec-WebSocket-Protocol' header but no
        // response was received"), so a real client would not get through.
        None if !offered_protocols.is_empty() => {
            return bad(format!(
                "subprotocol(s) {} were offered but the server selected none; browsers fail such a handshake",
                offered_protocols.join(", ")
            ));
        }
        _ => {}
    }
    if let Some(ext) = head.header("sec-websocket-extensions") {
        let unoffered = ext
            .split(',')
            .filter_map(|e| e.split(';').next())
            .map(str::trim)
            .find(|name| {
                !name.is_empty()
                    && !offered_extensions
                        .iter()
                        .any(|o| o.eq_ignore_ascii_case(name))
            });
        if let Some(name) = unoffered {
            return bad(format!(
                "the server enabled extension '{name}', which was not offered"
            ));
        }
    }
    let said = format!("{} {}", head.status, head.reason);
    classified(Verdict::Upgraded, Stage::Done, said.trim())
}

/// Classifies any answer other than 101; `who` is the fingerprint of the answer.
pub fn classify_other(head: &Head, body: &[u8], who: AnsweredBy) -> Classified {
    let status = head.status;
    let said = format!("{status} {}", head.reason).trim().to_string();
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let quote = |fragment: Option<&str>| match fragment.and_then(|f| line_with(&text, f)) {
        Some(line) => format!("{said}: \"{line}\""),
        None => match first_line(&text, status, &head.reason) {
            Some(line) => format!("{said}: \"{line}\""),
            None => said.clone(),
        },
    };
    let stripped = STRIPPED.iter().find(|(f, _)| lower.contains(f));

    // A 426 that names another version or protocol is a refusal of what wspath sent, not proof
    // that the upgrade was lost (RFC 6455 §4.4; RFC 2817).
    if status == 426 {
        if let Some(versions) = head.header("sec-websocket-version") {
            if !has_token(versions, "13") {
                return classified(
                    Verdict::Rejected,
                    Stage::Response,
                    format!("{said} — the server speaks WebSocket version(s) {versions}, not 13"),
                );
            }
        }
        if let Some(upgrade) = head.header("upgrade") {
            if !has_token(upgrade, "websocket") {
                return classified(
                    Verdict::Rejected,
                    Stage::Response,
                    format!("{said} — the server asks to upgrade to '{upgrade}', not WebSocket"),
                );
            }
        }
    }

    if status == 426 || status == 505 || (status == 400 && stripped.is_some()) {
        let why = match stripped {
            Some((_, why)) => *why,
            None if status == 505 => {
                "the server behind rejects the HTTP version it received: wspath sent HTTP/1.1, so a proxy forwarded it as HTTP/1.0"
            }
            None => "the server behind requires an upgrade it never received",
        };
        return classified(
            Verdict::UpgradeStripped,
            Stage::Response,
            format!("{} — {why}", quote(stripped.map(|(f, _)| *f))),
        );
    }
    if (300..400).contains(&status) {
        if let Some(location) = head.header("location") {
            return classified(
                Verdict::Redirect,
                Stage::Response,
                format!("{said} to {location} — WebSocket clients do not follow redirects"),
            );
        }
    }
    let (verdict, why) = match status {
        502 => (
            Verdict::BadGateway,
            "this hop could not get a valid answer from the one behind it",
        ),
        503 => (
            Verdict::ServiceUnavailable,
            "this hop has no healthy server behind it",
        ),
        504 => (
            Verdict::GatewayTimeout,
            "the hop behind did not answer in time",
        ),
        401 | 403 => (
            Verdict::Rejected,
            // No "origin" here: the walker keys its Origin fix on the server's own words.
            "refused by an access check (credentials, cookie, token or an allow-list)",
        ),
        404 => (Verdict::Rejected, "no route for this path, here or further in"),
        405 => (Verdict::Rejected, "GET is not allowed on this path, here or further in"),
        429 => (Verdict::Rejected, "rate limited"),
        200..=299 => (
            Verdict::Rejected,
            "answered as plain HTTP: the WebSocket endpoint is not at this path, or the upgrade was not forwarded",
        ),
        500..=599 => (Verdict::Rejected, "server error"),
        _ => (Verdict::Rejected, ""),
    };
    // A proxy's or edge's gateway page says what failed toward the next hop, whatever status
    // it carries (Apache answers a failed TLS handshake with its backend with 500).
    let squid_error = head
        .header("x-squid-error")
        .unwrap_or("")
        .to_ascii_lowercase();
    if let Some(page) = crate::software::gateway::gateway_page(status, &lower, &squid_error) {
        let verdict = match verdict {
            Verdict::BadGateway | Verdict::ServiceUnavailable | Verdict::GatewayTimeout => verdict,
            _ => page.verdict,
        };
        let fragment = (!page.has.is_empty() && lower.contains(page.has)).then_some(page.has);
        return classified(
            verdict,
            Stage::Response,
            format!("{} — {}", quote(fragment), page.cause),
        );
    }
    let software = SOFTWARE_HINTS
        .iter()
        .find(|(w, s, b, _)| {
            *w == who && *s == status && (*b == BodyIs::Any || text.trim().is_empty())
        })
        .map(|(_, _, _, hint)| *hint);
    let (fragment, why) = match REJECTION_HINTS.iter().find(|(f, _)| lower.contains(f)) {
        Some((f, h)) => (Some(*f), *h),
        None => (None, software.unwrap_or(why)),
    };
    let mut detail = quote(fragment);
    if !why.is_empty() {
        detail.push_str(" — ");
        detail.push_str(why);
    }
    classified(verdict, Stage::Response, detail)
}

/// What a redirect of the upgrade to `location` means when the request was for `sent_path`
/// (path and query) over TLS or not (`sent_tls`): the two redirects that configs copied from
/// guides make on a WebSocket path, each with what the client must do instead. `None` for any
/// other target (a moved route, a login page), which the plain "do not follow" covers.
pub fn redirect_cause(sent_path: &str, sent_tls: bool, location: &str) -> Option<String> {
    let base = url::Url::parse("http://placeholder.invalid/").ok()?;
    let target = base.join(location.trim()).ok()?;
    let (sent, query) = sent_path.split_once('?').unwrap_or((sent_path, ""));
    let same_query = target.query().unwrap_or("") == query;
    let to_tls = !sent_tls && target.scheme() == "https";
    if same_query && target.path() == sent && to_tls {
        let mut wss = target.clone();
        wss.set_scheme("wss").ok()?;
        return Some(format!(
            "the same path over TLS: the hop sends plain HTTP to HTTPS (an http→https redirect); clients must open {wss} (and the redirect should spare this path)"
        ));
    }
    if same_query && target.path() == format!("{sent}/") && !sent.ends_with('/') {
        return Some(format!(
            "the same path with a trailing slash: the hop serves the route as `{sent}/` only and adds the slash by redirect (nginx does so for `location {sent}/` when `{sent}` is asked): let the route match `{sent}` too (nginx `location {sent}`, or an exact `location = {sent}`), or make clients open `{sent}/`"
        ));
    }
    None
}

/// Whether a comma-separated header value contains `token` (case-insensitive).
pub fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The body line containing `fragment` (lowercase), trimmed and shortened.
fn line_with(text: &str, fragment: &str) -> Option<String> {
    text.lines()
        .find(|l| l.to_ascii_lowercase().contains(fragment))
        .map(|l| shorten(&strip_tags(l)))
        .filter(|l| !l.is_empty())
}

/// The first body line that says something: HTML tags removed, skipping lines that only restate
/// the status (`<h1>502 Bad Gateway</h1>`) or are a server signature (`nginx/1.22.1`). A
/// sentence an HTML page wraps over several lines (Apache's "This server could not verify
/// that you\nare authorized …") is read to its end, up to its first full stop.
fn first_line(text: &str, status: u16, reason: &str) -> Option<String> {
    let status = status.to_string();
    let reason = reason.to_ascii_lowercase();
    let lines: Vec<&str> = text.lines().collect();
    let (i, first) = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, strip_tags(l)))
        .filter(|(_, l)| !l.is_empty())
        .find(|(_, l)| {
            let lower = l.to_ascii_lowercase();
            let restates = lower.trim_start_matches(&status).trim() == reason
                || lower == status
                || (!reason.is_empty()
                    && lower.ends_with(&reason)
                    && lower.len() < reason.len() + 6);
            let signature = !l.contains(' ') && l.contains('/');
            !restates && !signature
        })?;
    let mut sentence = first;
    let html = text.contains('<');
    // Bounded: a few wrapped lines of one paragraph, never past a blank line or a new block.
    for next in lines.iter().skip(i + 1).take(6) {
        let ends = sentence.ends_with(['.', '!', '?', ':']) || ends_block(lines[i]);
        if !html || ends || sentence.chars().count() >= 160 {
            break;
        }
        let raw = next.trim_start().to_ascii_lowercase();
        let part = strip_tags(next);
        if part.is_empty() || BLOCKS.iter().any(|b| raw.starts_with(&format!("<{b}"))) {
            break;
        }
        sentence.push(' ');
        sentence.push_str(&part);
        if ends_block(next) {
            break;
        }
    }
    // Up to the first full stop: the sentence, not the paragraph.
    if let Some(end) = sentence.find(". ") {
        sentence.truncate(end + 1);
    }
    Some(shorten(&sentence))
}

/// HTML elements that start a new block of text (a space where they stand, and a sentence
/// wrapped over lines does not run into them).
const BLOCKS: [&str; 13] = [
    "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "div", "li", "address", "title",
];

/// Whether `line` closes a block (`…</p>`), so the sentence ends there.
fn ends_block(line: &str) -> bool {
    let lower = line.trim_end().to_ascii_lowercase();
    BLOCKS.iter().any(|b| lower.ends_with(&format!("</{b}>")))
}

/// `line` without its HTML tags; a block element (`<p>`, `<br>`) stands as a space, so
/// "…the request<p>Reason: …" reads "…the request Reason: …".
fn strip_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut tag: Option<String> = None;
    for c in line.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name.trim_start_matches('/').to_ascii_lowercase();
                let name = name.split([' ', '/']).next().unwrap_or("");
                if BLOCKS.contains(&name) && !out.ends_with(' ') {
                    out.push(' ');
                }
                tag = None;
            }
            (Some(name), c) => {
                if name.len() < 16 {
                    name.push(c);
                }
            }
            (None, c) => out.push(c),
        }
    }
    out.trim().to_string()
}

fn shorten(line: &str) -> String {
    const MAX: usize = 160;
    let line = line.trim();
    if line.chars().count() <= MAX {
        line.to_string()
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::fingerprint::answered_by;
    use crate::probe::response::parse_fixture;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn classify(bytes: &[u8]) -> Classified {
        let (head, body) = parse_fixture(bytes);
        if head.status == 101 {
            classify_101(&head, KEY, &[], &[])
        } else {
            classify_other(&head, &body, answered_by(head.status, &head.headers, &body))
        }
    }

    #[test]
    fn a_sentence_an_html_page_wraps_is_quoted_whole() {
        // Apache/2.4.71's 401 and 502 pages (captured in front of a stopped or refusing
        // backend): paragraphs wrapped over lines, and `<p>` between two sentences.
        let c = classify(b"HTTP/1.1 401 Unauthorized\r\nServer: Apache/2.4.71 (Debian)\r\nContent-Type: text/html\r\n\r\n<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>401 Unauthorized</title>\n</head><body>\n<h1>Unauthorized</h1>\n<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n</body></html>\n");
        assert!(
            c.detail.contains("\"This server could not verify that you are authorized to access the document requested.\""),
            "{}",
            c.detail
        );
        let c = classify(b"HTTP/1.1 502 Proxy Error\r\nServer: Apache/2.4.71 (Debian)\r\nContent-Type: text/html\r\n\r\n<html><head>\n<title>502 Proxy Error</title>\n</head><body>\n<h1>Proxy Error</h1>\n<p>The proxy server could not handle the request<p>Reason: <strong>Error reading from remote server</strong></p></p>\n</body></html>\n");
        assert!(
            c.detail.contains("\"The proxy server could not handle the request Reason: Error reading from remote server\""),
            "{}",
            c.detail
        );
    }

    #[test]
    fn real_101s_are_upgraded() {
        for bytes in [
            &include_bytes!("fixtures/websockets_101.http")[..],
            include_bytes!("fixtures/nginx_good_101.http"),
            include_bytes!("fixtures/haproxy_nginx_good_101.http"),
            include_bytes!("fixtures/uvicorn_101.http"),
            include_bytes!("fixtures/node_ws_101.http"),
        ] {
            let c = classify(bytes);
            assert_eq!(c.verdict, Verdict::Upgraded, "{}", c.detail);
            assert_eq!(c.stage, Stage::Done);
        }
    }

    #[test]
    fn a_101_for_another_key_or_without_upgrade_tokens_is_bad_accept() {
        let (head, _) = parse_fixture(include_bytes!("fixtures/nginx_good_101.http"));
        let c = classify_101(&head, "AAAAAAAAAAAAAAAAAAAAAA==", &[], &[]);
        assert_eq!(c.verdict, Verdict::BadAccept);
        assert!(c.detail.contains("expected"), "{}", c.detail);

        let mut no_conn = head.clone();
        no_conn
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("connection"));
        no_conn
            .headers
            .push(("Connection".into(), "keep-alive".into()));
        let c = classify_101(&no_conn, KEY, &[], &[]);
        assert_eq!(c.verdict, Verdict::BadAccept);
        assert!(c.detail.contains("'keep-alive'"), "{}", c.detail);

        let mut proto = head.clone();
        proto
            .headers
            .push(("Sec-WebSocket-Protocol".into(), "chat".into()));
        assert_eq!(
            classify_101(&proto, KEY, &[], &[]).verdict,
            Verdict::BadAccept
        );
        assert_eq!(
            classify_101(&proto, KEY, &["chat".into()], &[]).verdict,
            Verdict::Upgraded
        );
        let mut deflate = head.clone();
        deflate.headers.push((
            "Sec-WebSocket-Extensions".into(),
            "permessage-deflate; server_max_window_bits=12".into(),
        ));
        let c = classify_101(&deflate, KEY, &[], &[]);
        assert_eq!(c.verdict, Verdict::BadAccept);
        assert!(c.detail.contains("'permessage-deflate'"), "{}", c.detail);
        let offered = ["permessage-deflate".to_string()];
        assert_eq!(
            classify_101(&deflate, KEY, &[], &offered).verdict,
            Verdict::Upgraded
        );
        let none_chosen = classify_101(&head, KEY, &["chat".into()], &[]);
        assert_eq!(none_chosen.verdict, Verdict::BadAccept);
        assert!(
            none_chosen.detail.contains("selected none"),
            "{}",
            none_chosen.detail
        );
    }

    #[test]
    fn backend_answers_behind_a_stripping_proxy_are_upgrade_stripped() {
        let c = classify(include_bytes!("fixtures/nginx_bare_proxy_pass.http"));
        assert_eq!(c.verdict, Verdict::UpgradeStripped);
        assert!(
            c.detail.starts_with("505 HTTP Version Not Supported: \"Failed to open a WebSocket connection: unsupported HTTP version: HTTP/1.0.\""),
            "{}",
            c.detail
        );
        let c = classify(include_bytes!("fixtures/nginx_connection_close.http"));
        assert_eq!(c.verdict, Verdict::UpgradeStripped);
        assert!(
            c.detail.contains("invalid Connection header: close"),
            "{}",
            c.detail
        );
        for bytes in [
            &include_bytes!("fixtures/nginx_http10.http")[..],
            include_bytes!("fixtures/haproxy_nginx_bare.http"),
            include_bytes!("fixtures/websockets_plain_get.http"),
            include_bytes!("fixtures/websockets_no_upgrade_keepalive.http"),
            include_bytes!("fixtures/nginx_chunked_400_gorilla.http"),
            include_bytes!("fixtures/node_ws_http10_stripped.http"),
            include_bytes!("fixtures/node_ws_no_upgrade_header.http"),
        ] {
            assert_eq!(classify(bytes).verdict, Verdict::UpgradeStripped);
        }
        // Starlette cannot prove it, but says what its 404 usually means.
        let c = classify(include_bytes!("fixtures/uvicorn_http10_stripped.http"));
        assert_eq!(c.verdict, Verdict::Rejected);
        assert!(
            c.detail.contains("Starlette/FastAPI answer 404"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn gateway_errors_redirects_and_rejections() {
        let cases: &[(&[u8], Verdict, &str)] = &[
            (
                include_bytes!("fixtures/nginx_502_dead.http"),
                Verdict::BadGateway,
                "502 Bad Gateway — this hop could not",
            ),
            (
                include_bytes!("fixtures/haproxy_502_garbage.http"),
                Verdict::BadGateway,
                "502 Bad Gateway: \"The server returned an invalid or incomplete response.\"",
            ),
            (
                include_bytes!("fixtures/haproxy_503_nosrv.http"),
                Verdict::ServiceUnavailable,
                "No server is available",
            ),
            (
                include_bytes!("fixtures/nginx_504.http"),
                Verdict::GatewayTimeout,
                "504 Gateway Time-out",
            ),
            (
                include_bytes!("fixtures/haproxy_504.http"),
                Verdict::GatewayTimeout,
                "504",
            ),
            (
                include_bytes!("fixtures/nginx_301.http"),
                Verdict::Redirect,
                "to https://example.com/new",
            ),
            (
                include_bytes!("fixtures/nginx_403.http"),
                Verdict::Rejected,
                "refused by an access check",
            ),
            (
                include_bytes!("fixtures/haproxy_403.http"),
                Verdict::Rejected,
                "403 Forbidden",
            ),
            (
                include_bytes!("fixtures/haproxy_401.http"),
                Verdict::Rejected,
                "401 Unauthorized: \"You need a valid user and password to access this content.\" — refused by an access check",
            ),
            (
                include_bytes!("fixtures/haproxy_429.http"),
                Verdict::Rejected,
                "rate limited",
            ),
            (
                include_bytes!("fixtures/nginx_404.http"),
                Verdict::Rejected,
                "no route for this path",
            ),
            (
                include_bytes!("fixtures/nginx_plain_http_to_tls_port.http"),
                Verdict::Rejected,
                "use wss://",
            ),
            (
                include_bytes!("fixtures/websockets_missing_key.http"),
                Verdict::Rejected,
                "Sec-WebSocket-Key",
            ),
        ];
        for (bytes, verdict, needle) in cases {
            let c = classify(bytes);
            assert_eq!(c.verdict, *verdict, "{}", c.detail);
            assert_eq!(c.stage, Stage::Response);
            assert!(c.detail.contains(needle), "{} lacks {needle}", c.detail);
        }
    }

    #[test]
    fn socket_io_without_its_query_names_the_query() {
        for body in [
            r#"{"code":0,"message":"Transport unknown"}"#,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ] {
            let raw = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let c = classify(raw.as_bytes());
            assert_eq!(c.verdict, Verdict::Rejected);
            assert!(
                c.detail.contains("EIO=4&transport=websocket"),
                "{}",
                c.detail
            );
        }
    }

    #[test]
    fn only_the_servers_words_name_the_origin() {
        let c = classify(include_bytes!("fixtures/nginx_403.http"));
        assert!(
            !c.detail.to_ascii_lowercase().contains("origin"),
            "{}",
            c.detail
        );
        let raw = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 17\r\n\r\nForbidden origin\n";
        assert!(classify(raw).detail.contains("Forbidden origin"));
    }

    #[test]
    fn a_426_for_another_version_or_protocol_is_a_rejection() {
        let head = |extra: &str| {
            let raw =
                format!("HTTP/1.1 426 Upgrade Required\r\n{extra}\r\nContent-Length: 0\r\n\r\n");
            parse_fixture(raw.as_bytes()).0
        };
        let c = classify_other(
            &head("Sec-WebSocket-Version: 8, 7"),
            b"",
            AnsweredBy::Unknown,
        );
        assert_eq!(c.verdict, Verdict::Rejected, "{}", c.detail);
        assert!(c.detail.contains("8, 7"), "{}", c.detail);
        let c = classify_other(&head("Upgrade: TLS/1.2"), b"", AnsweredBy::Unknown);
        assert_eq!(c.verdict, Verdict::Rejected, "{}", c.detail);
        let c = classify_other(&head("Upgrade: websocket"), b"", AnsweredBy::Unknown);
        assert_eq!(c.verdict, Verdict::UpgradeStripped, "{}", c.detail);
    }

    #[test]
    fn an_empty_envoy_403_names_the_missing_upgrade_config() {
        let raw = b"HTTP/1.1 403 Forbidden\r\nserver: envoy\r\ncontent-length: 0\r\n\r\n";
        let c = classify(raw);
        assert_eq!(c.verdict, Verdict::Rejected);
        assert!(c.detail.contains("upgrade_configs"), "{}", c.detail);
        let raw = b"HTTP/1.1 403 Forbidden\r\nserver: envoy\r\ncontent-length: 19\r\n\r\nRBAC: access denied";
        let c = classify(raw);
        assert!(c.detail.contains("RBAC policy"), "{}", c.detail);
    }

    #[test]
    fn tokens_are_matched_in_lists() {
        assert!(has_token("keep-alive, Upgrade", "upgrade"));
        assert!(!has_token("upgrades", "upgrade"));
    }
}

/// Any bytes a server may send: parsing, de-chunking, fingerprinting and classifying never panic.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::probe::fingerprint::answered_by;
    use crate::probe::response::{dechunk, framing, parse_head, Parsed};
    use rand::{Rng, SeedableRng};

    fn exercise(bytes: &[u8]) {
        let _ = dechunk(bytes);
        if let Parsed::Complete(head) = parse_head(bytes) {
            let body = &bytes[head.len..];
            let _ = framing(&head);
            let _ = answered_by(head.status, &head.headers, body);
            let _ = classify_101(&head, "k", &[], &[]);
            let _ = classify_other(&head, body, AnsweredBy::Unknown);
        }
    }

    #[test]
    fn every_prefix_of_every_fixture_and_random_noise_is_handled() {
        let fixtures: &[&[u8]] = &[
            include_bytes!("fixtures/nginx_chunked_400_gorilla.http"),
            include_bytes!("fixtures/nginx_connection_close.http"),
            include_bytes!("fixtures/haproxy_503_nosrv.http"),
            include_bytes!("fixtures/websockets_101.http"),
            include_bytes!("fixtures/nginx_301.http"),
        ];
        for f in fixtures {
            for end in 0..=f.len() {
                exercise(&f[..end]);
            }
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(6455);
        for _ in 0..3000 {
            let mut bytes = b"HTTP/1.1 ".to_vec();
            let n = rng.gen_range(0..300);
            bytes.extend((0..n).map(|_| {
                *b"0123456789 :\r\n\r\nabcXYZ\xff\x00;,-<>/"
                    .get(rng.gen_range(0..34))
                    .unwrap_or(&b'x')
            }));
            exercise(&bytes);
        }
    }

    #[test]
    fn redirects_copied_from_guides_are_named() {
        let tls = redirect_cause("/ws", false, "https://app.test/ws").expect("https");
        assert!(tls.contains("wss://app.test/ws"), "{tls}");
        let slash = redirect_cause("/ws", false, "http://app.test:8080/ws/").expect("slash");
        assert!(
            slash.contains("`/ws/`") && slash.contains("location /ws/"),
            "{slash}"
        );
        let relative = redirect_cause("/ws?x=1", true, "/ws/?x=1").expect("relative");
        assert!(relative.contains("trailing slash"), "{relative}");
        // Anything else is a redirect like any other.
        assert_eq!(redirect_cause("/ws", false, "https://login.example/"), None);
        assert_eq!(redirect_cause("/ws", true, "https://app.test/ws"), None);
        assert_eq!(redirect_cause("/ws/", false, "http://app.test/ws//"), None);
        assert_eq!(redirect_cause("/ws", false, "\u{0}::"), None);
    }
}

//! The culprit on the HTTP/2 path (pure): a hop whose HTTP/1.1 upgrade works but whose advertised
//! WebSocket over HTTP/2 (RFC 8441) fails breaks every client that takes that path — Firefox
//! wherever a TLS hop advertises it, and Chromium when it already holds an h2 connection to the
//! origin — while an HTTP/1.1 check says healthy.
//!
//! Only hops clients reach over HTTP/2 count: the outermost TLS hop, and each hop behind one that
//! advertises RFC 8441 (it may forward the stream over h2). A hop that does not advertise it
//! reaches the next over HTTP/1.1, so the HTTP/2 question ends there.

use super::software::{hop_software, Software};
use crate::report::{Culprit, HopReport, Protocol};
use crate::verdict::Verdict;

/// Who breaks WebSockets over HTTP/2, and why, for the summary.
const FOR_WHOM: &str = "clients that open WebSockets over HTTP/2 (Firefox, and Chromium when it already holds an h2 connection to the origin) break at this hop";

/// The index of the hop where the HTTP/2 path breaks, if it does.
pub fn select(hops: &[HopReport]) -> Option<usize> {
    for (i, hop) in hops.iter().enumerate() {
        let h2 = hop.http2.as_ref()?;
        if h2.failed() {
            // The hop behind gives the same answer on its own h2 path: this hop passes it on.
            let passes_on = hops.get(i + 1).is_some_and(|inner| {
                h2.offers_websockets()
                    && inner.http2.as_ref().is_some_and(|i2| {
                        i2.failed()
                            && i2.probe.as_ref().map(|p| p.evidence.status)
                                == h2.probe.as_ref().map(|p| p.evidence.status)
                    })
            });
            if !passes_on {
                return Some(i);
            }
        } else if !h2.offers_websockets() {
            return None;
        }
    }
    None
}

/// The culprit's sentence and fix for the HTTP/2 path of `hops[index]`.
pub fn compose(hops: &[HopReport], index: usize) -> Option<Culprit> {
    let hop = &hops[index];
    let p = hop.http2.as_ref()?.probe.as_ref()?;
    let idle_dropped = p.idle.as_ref().is_some_and(|i| i.dropped);
    let evidence = p.detail.split(" — ").next().unwrap_or("").trim();
    let what = match p.verdict {
        _ if idle_dropped || p.verdict == Verdict::IdleDropped => {
            format!("drops the idle WebSocket over HTTP/2 ({evidence})")
        }
        Verdict::FramesFailed => {
            format!("opens the WebSocket over HTTP/2 but does not carry frames ({evidence})")
        }
        Verdict::BadAccept => {
            format!("answers the RFC 8441 extended CONNECT with an invalid 2xx ({evidence})")
        }
        _ if p.evidence.status.is_some() => {
            format!("refuses the WebSocket over HTTP/2: the RFC 8441 extended CONNECT is answered {evidence}")
        }
        v => format!(
            "fails the WebSocket over HTTP/2 ({}: {evidence})",
            v.title()
        ),
    };
    let software = Software::from_answered_by(&p.evidence.answered_by.to_string())
        .filter(|s| *s != Software::BackendLibrary)
        .or_else(|| hop_software(hop));
    let fix = fix_for(software).to_string();
    let summary = format!(
        "{} ({}) {what} while its HTTP/1.1 upgrade works: {FOR_WHOM} — {fix}",
        hop.name, hop.address
    );
    Some(Culprit {
        hop: hop.name.clone(),
        kind: hop.kind,
        verdict: if idle_dropped {
            Verdict::IdleDropped
        } else {
            p.verdict
        },
        summary,
        fix: Some(fix),
        protocol: Protocol::H2,
    })
}

/// The fix in the words of the software that answered.
fn fix_for(software: Option<Software>) -> &'static str {
    match software {
        // HAProxy 2.6 turns the extended CONNECT into a GET with Upgrade for its rules and
        // backends, so `req.ver` is 2.0 there; `h2-workaround-bogus-websocket-clients` (global)
        // stops it from advertising SETTINGS_ENABLE_CONNECT_PROTOCOL.
        // https://docs.haproxy.org/2.6/configuration.html#h2-workaround-bogus-websocket-clients
        Some(Software::Haproxy) => {
            "HAProxy sees this request as a GET with `req.ver` 2.0: find the rule keyed on the HTTP version (e.g. `http-request deny if { req.ver 2.0 } …`, or an ACL on `req.proto_http`, `req.ver` or `ssl_fc_alpn`) and let WebSocket requests through, or put `h2-workaround-bogus-websocket-clients` in the `global` section so HAProxy stops advertising RFC 8441 and these clients use HTTP/1.1"
        }
        // mod_http2 hands the extended CONNECT on as a WebSocket request when `H2WebSockets on`
        // (2.4.58+); `H2WebSockets off` stops advertising it. Seen on 2.4.71: the request's
        // SERVER_PROTOCOL is HTTP/2.0 (access log `GET /ws HTTP/2.0 101`) while `%{HTTP2}` is
        // off, as it runs on an internal HTTP/1.1 connection.
        // https://httpd.apache.org/docs/2.4/mod/mod_http2.html#h2websockets
        Some(Software::Apache) => {
            "set `H2WebSockets off` so Apache stops advertising RFC 8441 and these clients use HTTP/1.1, or make the route answer HTTP/2 requests too: Apache sees them as `GET … HTTP/2.0` with Upgrade, so the `ProxyPass … upgrade=websocket` (mod_proxy_wstunnel) must match them and no `<If>`, `Require` or `RewriteCond` on `%{SERVER_PROTOCOL}` / `%{THE_REQUEST}` may refuse them"
        }
        _ => {
            "find what treats HTTP/2 requests differently at this hop (a rule keyed on the HTTP version, a WAF rule against CONNECT, an h2 route or backend without WebSocket support) and let the WebSocket through, or stop advertising SETTINGS_ENABLE_CONNECT_PROTOCOL so these clients use HTTP/1.1"
        }
    }
}

//! tinyproxy: a small forward/reverse proxy that cannot carry WebSockets in reverse mode
//! (it speaks HTTP/1.0 upstream and drops the upgrade).
//! Sources: tinyproxy.github.io (tinyproxy.conf(5): `ReversePath`, `Timeout`); captures of
//! tinyproxy 1.11.1 ("Via: 1.1 vm (tinyproxy/1.11.1)" on everything it relays).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Tinyproxy,
    name: "tinyproxy",
    display: "tinyproxy",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    changes: &[],
    #[rustfmt::skip]
    recognise: &[
    (Via("tinyproxy"), A::Tinyproxy),
    (Server("tinyproxy"), A::Tinyproxy),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Tinyproxy,
        seconds: Some(600),
        setting: "tinyproxy `Timeout` (default 600 s)",
        fix: "raise `Timeout` in tinyproxy.conf, or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[

    row(V::UpgradeStripped, Sw(S::Tinyproxy), "tinyproxy cannot carry WebSockets as a reverse proxy (no setting passes the upgrade on): route the WebSocket path around it, or replace it with a proxy that does (nginx, HAProxy, Caddy)"),
    // tinyproxy.conf(5) `BasicAuth user password`: every request must carry proxy credentials,
    // reverse mode included (seen on 1.11.1: 407 "This proxy requires authentication.").
    status(V::Rejected, Sw(S::Tinyproxy), 407, "tinyproxy's `BasicAuth` asks every request for proxy credentials (407), in reverse mode too, and browsers never answer a 407 from the server a WebSocket URL points at: remove `BasicAuth` from tinyproxy.conf for this path (tinyproxy cannot carry WebSockets as a reverse proxy anyway: route the path around it)"),
    row(V::BadGateway, Sw(S::Tinyproxy), "tinyproxy could not reach the `ReversePath` upstream: check its URL and that the service is up"),

    ],
};

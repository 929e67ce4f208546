//! Squid as a reverse proxy (`http_port … accel`, `cache_peer … originserver`): upgrades only
//! with `http_upgrade_request_protocols` (Squid 5.1+), `read_timeout`.
//! Sources: squid-cache.org/Doc/config/http_upgrade_request_protocols/, /read_timeout/,
//! /cache_peer/ (`forceddomain`), /http_port/ (`vhost`); captures of Squid 5.7.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Squid,
    name: "squid",
    display: "Squid",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // squid-cache.org/Doc/config/request_header_access/ and url_rewrite_program.
    (Change::Path, "a `url_rewrite_program` (or `cache_peer … originserver` with a path) changes the path: leave WebSocket requests out of the rewriter (`url_rewrite_access deny …`)"),
    (Change::Origin, "look for `request_header_access Origin deny …` or `request_header_replace Origin …` and remove it"),
    (Change::Header(""), "look for `request_header_access {header} deny …` (or `request_header_access Other deny all`, which drops every header not allowed by name) and allow {header}"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // Its error pages end "Generated … by vm (squid/5.7)" (capture: ERR_CONNECT_FAIL).
    (Body("(squid/"), A::Squid),
    (Header("x-squid-error", ""), A::Squid),
    (Server("squid"), A::Squid),
    // "X-Cache-Lookup: MISS from vm:3128" is Squid's alone; "Via: 1.1 vm (squid/5.7)" (capture).
    (Header("x-cache-lookup", ""), A::Squid),
    (Via("squid"), A::Squid),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Squid,
        seconds: Some(900),
        setting: "Squid `read_timeout` (default 15 min)",
        fix: "raise `read_timeout` in squid.conf (e.g. `read_timeout 1 hour`) or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[

    // http_upgrade_request_protocols: protocol names are compared case-sensitively (capture:
    // "WebSocket" does not match the "websocket" that browsers send).
    row(V::UpgradeStripped, Sw(S::Squid), "allow the upgrade: `http_upgrade_request_protocols websocket allow all` (Squid 5.1+; the name is compared case-sensitively and browsers send `websocket`, so `WebSocket` matches nothing)"),
    sw_detail(V::ServiceUnavailable, Sw(S::Squid), &["err_connect_fail", "connection to", "failed"], "Squid could not connect to its `cache_peer` (ERR_CONNECT_FAIL): compare the peer's host and port with {inner_address} and check that it is up"),
    sw_detail(V::BadGateway, Sw(S::Squid), &["err_", "tls", "ssl"], "Squid got no valid answer from its `cache_peer`: for a TLS origin add `tls` to the `cache_peer` line (and `tls-cafile=`), for a plain one remove it; the ERR_* code in the page names the cause"),
    row(V::ServiceUnavailable, Sw(S::Squid), "Squid has no usable `cache_peer` for this request: check the peer's host and port and `cache_peer_access`"),
    row(V::GatewayTimeout, Sw(S::Squid), "Squid's `cache_peer` did not answer within `connect_timeout`/`read_timeout`: check that it answers the upgrade"),
    // http_port `vhost` / cache_peer `forceddomain=`.
    when_inner_upgrades(status(V::Rejected, Sw(S::Squid), 403, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the 403 answers what Squid sends it (or is Squid's own `http_access deny`): Squid passes the client's Host only with `vhost` on the `http_port … accel` line, and `forceddomain=` on `cache_peer` replaces it")),

    ],
};

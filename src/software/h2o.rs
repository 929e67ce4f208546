//! h2o: `proxy.reverse.url` with `proxy.websocket: ON` (off by default), `proxy.preserve-host`
//! (off by default), `proxy.timeout.io`, `proxy.websocket.timeout`.
//! Sources: h2o.examp1e.net/configure/proxy_directives.html; captures of h2o 2.2.5 (it writes
//! its own `Server: h2o/2.2.5` over the backend's, even on a 101).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::H2o,
    name: "h2o",
    display: "h2o",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // h2o.examp1e.net/configure/proxy_directives.html: `proxy.reverse.url` (its path replaces
    // the matched `paths:` prefix), `proxy.header.unset`/`proxy.header.set`.
    (Change::Path, "the path of `proxy.reverse.url` replaces the `paths:` prefix it is under (`/ws:` with `proxy.reverse.url: http://backend/` sends `/ws` as `/`): end the URL with the path the backend serves; if the path is right, add `proxy.preserve-host: ON`"),
    (Change::Origin, "look for `proxy.header.unset: Origin` or `proxy.header.set: \"Origin: …\"` for this path and remove it"),
    (Change::Header(""), "look for `proxy.header.unset: {header}` or `proxy.header.set: \"{header}: …\"` for this path and remove it"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // h2o's own 404 is `404 File Not Found` with the plain-text body `not found`
    // (h2o source: `h2o_send_error_404(req, "File Not Found", "not found", 0)` when no handler
    // takes the request; capture: h2o/2.2.5 for a path no `paths:` entry covers).
    (ServerBodyIs("h2o", "not found"), A::H2o),
    (Server("h2o"), A::H2o),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::H2o,
        seconds: Some(300),
        setting: "h2o `proxy.websocket.timeout` (default 5 min)",
        fix: "raise `proxy.websocket.timeout` (milliseconds) for the path, or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[

    // proxy_directives.html: proxy.websocket (default OFF).
    row(V::UpgradeStripped, Sw(S::H2o), "turn WebSockets on for the path: `proxy.websocket: ON` beside `proxy.reverse.url` (h2o forwards no upgrade without it)"),
    // proxy_directives.html: proxy.preserve-host (default OFF: the upstream's host is sent).
    when_inner_upgrades(status(V::Rejected, Sw(S::H2o), 403, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the 403 answers what h2o sends it: h2o sends the host of `proxy.reverse.url` as Host unless `proxy.preserve-host: ON`")),
    // h2o configure/base_directives.html `paths`: the request path is matched against the
    // `paths:` keys of the `hosts:` entry for its Host (longest prefix); none matching means
    // h2o's own 404.
    sw_detail(V::Rejected, Sw(S::H2o), &[OWN_PAGE], "this is h2o's own 404 (`not found`), so no `paths:` entry of the host that got the request covers this path (`/socket:` does not cover `/ws`), or the request matched another `hosts:` entry than the one that proxies it (h2o picks it by Host {host}): add a `paths:` entry for the path as the clients send it, with `proxy.reverse.url` and `proxy.websocket: ON`").on_status(404),
    when_inner_upgrades(status(V::Rejected, Sw(S::H2o), 404, "{inner} ({inner_address}) upgrades when probed directly with this path and Host {host}, so h2o sends it something else: check the path part of `proxy.reverse.url`, and add `proxy.preserve-host: ON` (h2o otherwise sends the upstream's host as Host)")),
    when_inner_upgrades(status(V::Rejected, Sw(S::H2o), 200, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the page answers what h2o sends it: h2o sends the host of `proxy.reverse.url` as Host unless `proxy.preserve-host: ON`")),
    row(V::BadGateway, Sw(S::H2o), "h2o got no answer from `proxy.reverse.url`: check its address, port and scheme (https:// for a TLS upstream, with `proxy.ssl.verify-peer`) and that it is up"),
    row(V::GatewayTimeout, Sw(S::H2o), "the upstream did not answer within h2o's `proxy.timeout.io` (default 30 s): check that it answers the upgrade"),

    ],
};

//! Traefik: carries upgrades by default; middlewares can break them.
//! Sources: doc.traefik.io/traefik/routing/services/ (`forwardingTimeouts`), recorded Traefik
//! responses in src/software/fixtures/traefik_*.http.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Traefik,
    name: "traefik",
    display: "Traefik",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // doc.traefik.io/traefik/middlewares/http/stripprefix/, replacepath/, headers/
    // ("customRequestHeaders … set to an empty value removes the header").
    (Change::Path, "a `StripPrefix`, `ReplacePath` or `ReplacePathRegex` middleware on the router changes the path: leave the WebSocket path alone or map it to the path the backend serves"),
    (Change::Origin, "look for a `headers` middleware whose `customRequestHeaders` sets Origin (an empty value removes it) and take it off the WebSocket router"),
    (Change::Header(""), "look for a `headers` middleware whose `customRequestHeaders` sets {header} (an empty value removes it) and take it off the WebSocket router"),
    ],
    #[rustfmt::skip]
    recognise: &[
    ],
    #[rustfmt::skip]
    idle: &[    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::Traefik), "Traefik passes upgrades by default: remove middlewares that rewrite Connection or Upgrade"),
    row(V::BadGateway, Sw(S::Traefik), "Traefik got no answer from the service's server: check the service's `loadBalancer.servers` URL (scheme, address, port) and `serversTransport` for a TLS server"),

    ],
};

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
    // With no certificate for the SNI, Traefik serves a self-signed default whose subject and
    // issuer are CN "TRAEFIK DEFAULT CERT" (traefik pkg/tls/generate/generate.go,
    // `DefaultDomain`; SAN "<hex>.<hex>.traefik.default").
    (Issuer("traefik default cert"), A::Traefik),
    ],
    #[rustfmt::skip]
    idle: &[    ],
    #[rustfmt::skip]
    advice: &[
    // The same source: the default certificate is what Traefik serves when no router's TLS
    // certificate covers the SNI (doc.traefik.io/traefik/https/tls/#default-certificate).
    sw_detail(V::TlsFailed, Sw(S::Traefik), &["unknown issuer", "unknownissuer", "notvalidforname", "not valid for name", "self-signed", "self signed"], "Traefik serves its self-signed TRAEFIK DEFAULT CERT: no certificate it holds covers SNI {host}: give the router `tls.certResolver` (ACME) or a `tls.certificates` entry for {host}, or set the default store's `defaultCertificate`; check that the router's rule matches {host} and that it has `tls` on the entrypoint it is served from"),
    row(V::UpgradeStripped, Sw(S::Traefik), "Traefik passes upgrades by default: remove middlewares that rewrite Connection or Upgrade"),
    row(V::BadGateway, Sw(S::Traefik), "Traefik got no answer from the service's server: check the service's `loadBalancer.servers` URL (scheme, address, port) and `serversTransport` for a TLS server"),

    ],
};

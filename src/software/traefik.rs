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
    // Traefik adds no `Server` header. With no router for the request it answers Go's
    // `404 page not found` (traefik/traefik#6120: `Content-Type: text/plain; charset=utf-8`,
    // `X-Content-Type-Options: nosniff`, `Content-Length: 19`; the FAQ, "404 Not found"); a
    // failed forward is `statusText(code)` alone, "Bad Gateway" / "Gateway Timeout"
    // (pkg/proxy/httputil ErrorHandler). Any bare Go server says the same, so these count
    // only as much as a header would. Recorded in src/software/fixtures/traefik_*.http.
    (BareBodyIs("404 page not found"), A::Traefik),
    (BareBodyIs("bad gateway"), A::Traefik),
    (BareBodyIs("gateway timeout"), A::Traefik),
    ],
    #[rustfmt::skip]
    idle: &[
    // traefik/traefik#8668: WebSockets through an entrypoint drop after 180 s of silence, the
    // default `respondingTimeouts.idleTimeout`; Traefik v3 also sets `readTimeout` to 60 s by
    // default (doc.traefik.io/traefik/routing/entrypoints/#respondingtimeouts), a deadline on
    // the client connection.
    IdleDefault {
        software: S::Traefik,
        seconds: Some(180),
        setting: "Traefik entrypoint `transport.respondingTimeouts.idleTimeout` (default 180 s)",
        fix: "raise `transport.respondingTimeouts.idleTimeout` on the entrypoint (`--entryPoints.websecure.transport.respondingTimeouts.idleTimeout=1h`), or ping more often than that",
    },
    IdleDefault {
        software: S::Traefik,
        seconds: Some(60),
        setting: "Traefik v3 entrypoint `transport.respondingTimeouts.readTimeout` (default 60 s)",
        fix: "raise (or set to 0) `transport.respondingTimeouts.readTimeout` on the entrypoint, or have the clients send something more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    // The same source: the default certificate is what Traefik serves when no router's TLS
    // certificate covers the SNI (doc.traefik.io/traefik/https/tls/#default-certificate).
    sw_detail(V::TlsFailed, Sw(S::Traefik), &["unknown issuer", "unknownissuer", "notvalidforname", "not valid for name", "self-signed", "self signed"], "Traefik serves its self-signed TRAEFIK DEFAULT CERT: no certificate it holds covers SNI {host}: give the router `tls.certResolver` (ACME) or a `tls.certificates` entry for {host}, or set the default store's `defaultCertificate`; check that the router's rule matches {host} and that it has `tls` on the entrypoint it is served from"),
    row(V::UpgradeStripped, Sw(S::Traefik), "Traefik passes upgrades by default: remove middlewares that rewrite Connection or Upgrade"),
    // Traefik's FAQ ("404 Not found"): no router matches — its rule, its entrypoints, or an
    // HTTP request to an HTTPS-only router.
    status(V::Rejected, Sw(S::Traefik), 404, "no Traefik router matches this request, so Traefik answers `404 page not found` itself: check the router's `rule` (Host(`{host}`) && PathPrefix(`/…`)), that its `entryPoints` include the one this port is, and for a `wss://` client that the router has `tls` (an HTTPS request never matches an HTTP-only router, and the other way round)"),
    inner_ok(V::BadGateway, Sw(S::Traefik), "{inner} ({inner_address}) upgrades when probed directly, so Traefik does not reach it as configured: compare the service's `loadBalancer.servers` URL (scheme, address, port) with {inner_address}; for a TLS server use `https://` and a `serversTransport`"),
    row(V::GatewayTimeout, Sw(S::Traefik), "the server did not answer within the `serversTransport`'s `forwardingTimeouts.responseHeaderTimeout`: check that it answers the upgrade, or raise that timeout"),
    row(V::BadGateway, Sw(S::Traefik), "Traefik got no answer from the service's server: check the service's `loadBalancer.servers` URL (scheme, address, port) and `serversTransport` for a TLS server"),

    ],
};

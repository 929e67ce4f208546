//! Envoy: upgrades only with `upgrade_configs: [{upgrade_type: websocket}]`; `idle_timeout`,
//! `stream_idle_timeout`.
//! Sources: envoyproxy.io/docs/envoy/latest/intro/arch_overview/http/upgrades,
//! …/faq/configuration/timeouts; recorded Envoy responses in src/software/fixtures/envoy_*.http.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Envoy,
    name: "envoy",
    display: "Envoy",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // envoyproxy.io route_components.proto: RouteAction `prefix_rewrite`/`regex_rewrite`,
    // Route `request_headers_to_remove`/`request_headers_to_add`.
    (Change::Path, "the route's `prefix_rewrite` or `regex_rewrite` changes the path: leave the WebSocket route's path alone or map it to the path the backend serves"),
    (Change::Origin, "look for `request_headers_to_remove: [origin]` or an Origin in `request_headers_to_add` on the route, virtual host or route configuration and remove it"),
    (Change::Header(""), "look for {header} in `request_headers_to_remove` or `request_headers_to_add` on the route, virtual host or route configuration and remove it"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // Its local replies (recorded): "upstream connect error or disconnect/reset before headers.
    // reset reason: connection failure", "no healthy upstream".
    (Body("upstream connect error or disconnect/reset before headers"), A::Envoy),
    (Body("no healthy upstream"), A::Envoy),
    (PassedThrough("envoy", &["upstream connect error", "no healthy upstream", "upstream request timeout", "upgrade failed"]), A::Unknown),
    (Server("envoy"), A::Envoy),
    (HeaderPrefix("x-envoy-"), A::Envoy),
    (Via("envoy"), A::Envoy),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Envoy,
        seconds: Some(300),
        setting: "Envoy `stream_idle_timeout` (default 5 min)",
        fix: "raise `stream_idle_timeout` on the HTTP connection manager, or `idle_timeout` on the route (which overrides it for that route: set it for the WebSocket route, `0s` turns it off), or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    // The empty 403 (`response_code_details: upgrade_failed`) is Envoy refusing an upgrade its
    // route does not allow (envoyproxy/envoy#4740, projectcontour/contour#5675,
    // envoyproxy/gateway#9452); the probe's detail names it.
    sw_detail(V::Rejected, Sw(S::Envoy), &["upgrade_configs"], "Envoy refuses WebSocket upgrades on this route (an empty 403, `upgrade_failed` in its access log): add `upgrade_configs: [{upgrade_type: websocket}]` to the HTTP connection manager or to the route (`route.upgrade_configs`); on Contour set `enableWebsockets: true` on the route, on Envoy Gateway check that the route has a backend with ready endpoints (a route without any is a direct response with no upgrade config)"),
    row(V::UpgradeStripped, Sw(S::Envoy), "add `upgrade_configs: [{upgrade_type: websocket}]` to the HTTP connection manager or the route"),
    sw_detail(V::ServiceUnavailable, Sw(S::Envoy), &["upstream connect error", "connection failure", "no healthy upstream"], "Envoy could not connect to the route's cluster (\"upstream connect error\" / \"no healthy upstream\"): check the cluster's endpoints (address, port) and health checks; for a TLS upstream the cluster needs a `transport_socket` with `envoy.transport_sockets.tls`"),
    sw_detail(V::ServiceUnavailable, Sw(S::Envoy), &["tls", "ssl", "certificate"], "Envoy's TLS handshake with the upstream failed: give the cluster a `transport_socket` (`envoy.transport_sockets.tls`) matching the upstream, or remove it for a plain one"),
    row(V::GatewayTimeout, Sw(S::Envoy), "the upstream did not answer within the route's `timeout` (default 15 s): check that it answers the upgrade"),

    ],
};

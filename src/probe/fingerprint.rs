//! Which software produced a response (`answered_by`), read from one ordered table of clues.
//!
//! Order matters and encodes what was checked against real servers: a body written by a backend
//! library or a proxy's own error page is the strongest clue, because proxies rewrite headers on
//! what they pass along (nginx replaces the backend's `Server` header even on responses it merely
//! forwards; Cloudflare always says `Server: cloudflare`). Then `Server`, then headers that only one
//! product adds, then `Via`. HAProxy's own error pages carry no `Server` header at all, so only its
//! default bodies identify it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The software that produced a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnsweredBy {
    Cloudflare,
    Cloudfront,
    Awselb,
    Nginx,
    Haproxy,
    Envoy,
    Caddy,
    Apache,
    Varnish,
    Squid,
    /// The Python `websockets` library.
    PythonWebsockets,
    Uvicorn,
    Gunicorn,
    Hypercorn,
    Daphne,
    Aiohttp,
    Tornado,
    Werkzeug,
    /// Node.js: `ws`, Express, Socket.IO (engine.io).
    Node,
    /// Go: gorilla/websocket, coder/websocket, net/http.
    Go,
    /// Rust: axum, tungstenite.
    Rust,
    Kestrel,
    Jetty,
    Tomcat,
    /// A response came, but no clue matched.
    #[default]
    Unknown,
    /// Nothing answered (DNS, connect or TLS failed, or the connection closed silently).
    #[serde(rename = "none")]
    NoAnswer,
}

impl AnsweredBy {
    /// Every value, for parsing and listing.
    pub const ALL: &'static [AnsweredBy] = &[
        AnsweredBy::Cloudflare,
        AnsweredBy::Cloudfront,
        AnsweredBy::Awselb,
        AnsweredBy::Nginx,
        AnsweredBy::Haproxy,
        AnsweredBy::Envoy,
        AnsweredBy::Caddy,
        AnsweredBy::Apache,
        AnsweredBy::Varnish,
        AnsweredBy::Squid,
        AnsweredBy::PythonWebsockets,
        AnsweredBy::Uvicorn,
        AnsweredBy::Gunicorn,
        AnsweredBy::Hypercorn,
        AnsweredBy::Daphne,
        AnsweredBy::Aiohttp,
        AnsweredBy::Tornado,
        AnsweredBy::Werkzeug,
        AnsweredBy::Node,
        AnsweredBy::Go,
        AnsweredBy::Rust,
        AnsweredBy::Kestrel,
        AnsweredBy::Jetty,
        AnsweredBy::Tomcat,
        AnsweredBy::Unknown,
        AnsweredBy::NoAnswer,
    ];

    /// The name used in JSON (`python-websockets`, `none`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Cloudflare => "cloudflare",
            AnsweredBy::Cloudfront => "cloudfront",
            AnsweredBy::Awselb => "awselb",
            AnsweredBy::Nginx => "nginx",
            AnsweredBy::Haproxy => "haproxy",
            AnsweredBy::Envoy => "envoy",
            AnsweredBy::Caddy => "caddy",
            AnsweredBy::Apache => "apache",
            AnsweredBy::Varnish => "varnish",
            AnsweredBy::Squid => "squid",
            AnsweredBy::PythonWebsockets => "python-websockets",
            AnsweredBy::Uvicorn => "uvicorn",
            AnsweredBy::Gunicorn => "gunicorn",
            AnsweredBy::Hypercorn => "hypercorn",
            AnsweredBy::Daphne => "daphne",
            AnsweredBy::Aiohttp => "aiohttp",
            AnsweredBy::Tornado => "tornado",
            AnsweredBy::Werkzeug => "werkzeug",
            AnsweredBy::Node => "node",
            AnsweredBy::Go => "go",
            AnsweredBy::Rust => "rust",
            AnsweredBy::Kestrel => "kestrel",
            AnsweredBy::Jetty => "jetty",
            AnsweredBy::Tomcat => "tomcat",
            AnsweredBy::Unknown => "unknown",
            AnsweredBy::NoAnswer => "none",
        }
    }

    /// Whether this is an edge, load balancer or reverse proxy rather than an application server.
    pub fn is_intermediary(self) -> bool {
        matches!(
            self,
            AnsweredBy::Cloudflare
                | AnsweredBy::Cloudfront
                | AnsweredBy::Awselb
                | AnsweredBy::Nginx
                | AnsweredBy::Haproxy
                | AnsweredBy::Envoy
                | AnsweredBy::Caddy
                | AnsweredBy::Apache
                | AnsweredBy::Varnish
                | AnsweredBy::Squid
        )
    }
}

impl fmt::Display for AnsweredBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AnsweredBy {
    type Err = String;

    /// Parses the JSON name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AnsweredBy::ALL
            .iter()
            .copied()
            .find(|a| a.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown answered_by '{s}'"))
    }
}

/// One kind of clue. Strings are matched case-insensitively as substrings.
#[derive(Debug, Clone, Copy)]
enum Clue {
    /// The body contains this text.
    Body(&'static str),
    /// Header `name` is present and its value contains the text ("" = any value).
    Header(&'static str, &'static str),
    /// Some header's name starts with this prefix.
    HeaderPrefix(&'static str),
    /// Header `name` has exactly this value (ignoring case and surrounding space).
    HeaderIs(&'static str, &'static str),
    /// The whole body is this text (ignoring case and surrounding space).
    BodyIs(&'static str),
    /// An error answer whose `Server` header names this proxy but whose body has none of the
    /// proxy's own error-page marks: the proxy stamped its name on an answer from behind it.
    PassedThrough(&'static str, &'static [&'static str]),
}

use AnsweredBy as A;
use Clue::{Body, BodyIs, Header, HeaderIs, HeaderPrefix, PassedThrough};

/// Every fingerprint, strongest first; the first clue that matches decides.
#[rustfmt::skip]
const TABLE: &[(Clue, AnsweredBy)] = &[
    // --- Bodies of backend libraries (checked: websockets 17.4 behind nginx keeps this body).
    (Body("failed to open a websocket connection"), A::PythonWebsockets),
    (Body("you cannot access a websocket server directly with a browser"), A::PythonWebsockets),
    (Body("websocket: the client is not using the websocket protocol"), A::Go),
    (Body("websocket: not a websocket handshake"), A::Go),
    (Body("websocket protocol violation"), A::Go),
    (Body("no websocket upgrade hdr"), A::Aiohttp),
    (Body("no connection upgrade hdr"), A::Aiohttp),
    (Body("connection header did not include 'upgrade'"), A::Rust),
    (Body("`upgrade` header did not include 'websocket'"), A::Rust),
    (Body("no upgrade state was present"), A::Rust),
    (Body("missing or invalid sec-websocket-key header"), A::Node),
    (Body("{\"code\":3,\"message\":\"bad request\"}"), A::Node),
    // Node `ws` answers a request without Upgrade with its http.STATUS_CODES text (ws 8.23).
    (BodyIs("upgrade required"), A::Node),
    // --- Default error pages of proxies and edges.
    (Body("<center>nginx"), A::Nginx),
    (Body("<center>openresty"), A::Nginx),
    // HAProxy 2.6 default pages: "<html><body><h1>502 Bad Gateway</h1>\nThe server returned…".
    (Body("the server returned an invalid or incomplete response."), A::Haproxy),
    (Body("no server is available to handle this request."), A::Haproxy),
    (Body("the server didn't respond in time."), A::Haproxy),
    (Body("request forbidden by administrative rules."), A::Haproxy),
    (Body("your browser sent an invalid request."), A::Haproxy),
    (Body("your browser didn't send a complete request in time."), A::Haproxy),
    (Body("you need a valid user and password to access this content."), A::Haproxy),
    (Body("you have sent too many requests in a given amount of time."), A::Haproxy),
    (Body("an internal server error occurred."), A::Haproxy),
    (Body("<html><body><h1>404 not found</h1>\nthe resource could not be found."), A::Haproxy),
    (Body("upstream connect error or disconnect/reset before headers"), A::Envoy),
    (Body("no healthy upstream"), A::Envoy),
    (Body("cloudflare ray id"), A::Cloudflare),
    (Body("<center>cloudflare</center>"), A::Cloudflare),
    (Body("cf-error-details"), A::Cloudflare),
    (Body("generated by cloudfront (cloudfront)"), A::Cloudfront),
    (Body("<address>apache/"), A::Apache),
    (Body("varnish cache server"), A::Varnish),
    (Body("guru meditation"), A::Varnish),
    (Body("(squid/"), A::Squid),
    // --- Proxies that overwrite `Server` on what they pass along (checked for nginx 1.22: a
    // uvicorn 404 "Not Found" comes out as `Server: nginx/1.22.1` with uvicorn's body).
    (PassedThrough("nginx", &["<center>nginx", "<center>openresty"]), A::Unknown),
    (PassedThrough("openresty", &["<center>openresty", "<center>nginx"]), A::Unknown),
    (PassedThrough("cloudflare", &["cloudflare"]), A::Unknown),
    (PassedThrough("envoy", &["upstream connect error", "no healthy upstream", "upstream request timeout", "upgrade failed"]), A::Unknown),
    // --- Server header.
    (Header("server", "cloudflare"), A::Cloudflare),
    (Header("server", "cloudfront"), A::Cloudfront),
    (Header("server", "awselb"), A::Awselb),
    (Header("server", "openresty"), A::Nginx),
    (Header("server", "nginx"), A::Nginx),
    (Header("server", "haproxy"), A::Haproxy),
    (Header("server", "envoy"), A::Envoy),
    (Header("server", "caddy"), A::Caddy),
    (Header("server", "apache-coyote"), A::Tomcat),
    (Header("server", "apache"), A::Apache),
    (Header("server", "varnish"), A::Varnish),
    (Header("server", "squid"), A::Squid),
    (Header("server", "websockets/"), A::PythonWebsockets),
    (Header("server", "aiohttp"), A::Aiohttp),
    (Header("server", "uvicorn"), A::Uvicorn),
    (Header("server", "gunicorn"), A::Gunicorn),
    (Header("server", "hypercorn"), A::Hypercorn),
    (Header("server", "daphne"), A::Daphne),
    (Header("server", "tornadoserver"), A::Tornado),
    (Header("server", "werkzeug"), A::Werkzeug),
    (Header("server", "kestrel"), A::Kestrel),
    (Header("server", "jetty"), A::Jetty),
    // --- Headers only one product adds.
    (Header("cf-ray", ""), A::Cloudflare),
    (Header("x-amz-cf-id", ""), A::Cloudfront),
    (Header("x-cache", "cloudfront"), A::Cloudfront),
    (HeaderPrefix("x-envoy-"), A::Envoy),
    (Header("x-varnish", ""), A::Varnish),
    (Header("x-squid-error", ""), A::Squid),
    (Header("set-cookie", "awsalb"), A::Awselb),
    (Header("x-powered-by", "express"), A::Node),
    // --- Via names the last proxy that forwarded it.
    (Header("via", "cloudfront"), A::Cloudfront),
    (Header("via", "varnish"), A::Varnish),
    (Header("via", "squid"), A::Squid),
    (Header("via", "caddy"), A::Caddy),
    (Header("via", "envoy"), A::Envoy),
    // --- Defaults of servers that send no Server header.
    // Node's http module: `Keep-Alive: timeout=5` (its default keepAliveTimeout), no Server.
    (HeaderIs("keep-alive", "timeout=5"), A::Node),
];

/// Who produced a response with this status, headers and (possibly partial) body.
pub fn answered_by(status: u16, headers: &[(String, String)], body: &[u8]) -> AnsweredBy {
    let body = String::from_utf8_lossy(body).to_ascii_lowercase();
    let server = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("server"))
        .map(|(_, v)| v.to_ascii_lowercase());
    let matches = |clue: &Clue| match *clue {
        PassedThrough(proxy, own) => {
            status >= 400
                && !body.trim().is_empty()
                && server.as_deref().is_some_and(|s| s.contains(proxy))
                && !own.iter().any(|mark| body.contains(mark))
        }
        Body(text) => body.contains(text),
        Header(name, text) => headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.to_ascii_lowercase().contains(text)),
        HeaderPrefix(prefix) => headers
            .iter()
            .any(|(n, _)| n.to_ascii_lowercase().starts_with(prefix)),
        BodyIs(text) => body.trim() == text,
        HeaderIs(name, text) => headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(text)),
    };
    TABLE
        .iter()
        .find(|(clue, _)| matches(clue))
        .map(|(_, who)| *who)
        .unwrap_or(AnsweredBy::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::response::parse_fixture;

    fn who(fixture: &[u8]) -> AnsweredBy {
        let (head, body) = parse_fixture(fixture);
        answered_by(head.status, &head.headers, &body)
    }

    #[test]
    fn real_captures_name_the_software_that_wrote_them() {
        let cases: &[(&[u8], AnsweredBy)] = &[
            (
                include_bytes!("fixtures/websockets_101.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("fixtures/websockets_plain_get.http"),
                A::PythonWebsockets,
            ),
            (include_bytes!("fixtures/nginx_good_101.http"), A::Nginx),
            // nginx says `Server: nginx`, but the body is the backend's: the backend answered.
            (
                include_bytes!("fixtures/nginx_bare_proxy_pass.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("fixtures/nginx_connection_close.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("fixtures/haproxy_nginx_bare.http"),
                A::PythonWebsockets,
            ),
            (include_bytes!("fixtures/nginx_502_dead.http"), A::Nginx),
            (include_bytes!("fixtures/nginx_504.http"), A::Nginx),
            (include_bytes!("fixtures/nginx_404.http"), A::Nginx),
            (
                include_bytes!("fixtures/nginx_plain_http_to_tls_port.http"),
                A::Nginx,
            ),
            (
                include_bytes!("fixtures/nginx_chunked_400_gorilla.http"),
                A::Go,
            ),
            (
                include_bytes!("fixtures/haproxy_nginx_good_101.http"),
                A::Nginx,
            ),
            (
                include_bytes!("fixtures/haproxy_502_garbage.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("fixtures/haproxy_503_nosrv.http"),
                A::Haproxy,
            ),
            (include_bytes!("fixtures/haproxy_503_dead.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_504.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_403.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_400.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_401.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_404.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_408.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_429.http"), A::Haproxy),
            (include_bytes!("fixtures/haproxy_500.http"), A::Haproxy),
            (include_bytes!("fixtures/node_http_404.http"), A::Node),
            (
                include_bytes!("fixtures/node_ws_http10_stripped.http"),
                A::Node,
            ),
            (
                include_bytes!("fixtures/node_ws_no_upgrade_header.http"),
                A::Node,
            ),
            (include_bytes!("fixtures/uvicorn_101.http"), A::Uvicorn),
            (
                include_bytes!("fixtures/uvicorn_http10_stripped.http"),
                A::Uvicorn,
            ),
            (include_bytes!("fixtures/werkzeug_404.http"), A::Werkzeug),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                who(bytes),
                *expected,
                "{}",
                String::from_utf8_lossy(&bytes[..40])
            );
        }
    }

    #[test]
    fn edge_headers_identify_edges() {
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            answered_by(
                101,
                &h(&[("Server", "cloudflare"), ("CF-RAY", "8a-AMS")]),
                b""
            ),
            A::Cloudflare
        );
        assert_eq!(
            answered_by(
                101,
                &h(&[
                    ("X-Amz-Cf-Id", "abc"),
                    ("Via", "1.1 x.cloudfront.net (CloudFront)")
                ]),
                b""
            ),
            A::Cloudfront
        );
        assert_eq!(
            answered_by(101, &h(&[("Server", "awselb/2.0")]), b""),
            A::Awselb
        );
        assert_eq!(
            answered_by(101, &h(&[("x-envoy-upstream-service-time", "3")]), b""),
            A::Envoy
        );
        assert_eq!(
            answered_by(101, &h(&[("Server", "Apache-Coyote/1.1")]), b""),
            A::Tomcat
        );
        assert_eq!(answered_by(404, &[], b"hello"), A::Unknown);
        assert_eq!(
            serde_json::to_string(&A::PythonWebsockets).unwrap(),
            "\"python-websockets\""
        );
        assert_eq!(serde_json::to_string(&A::NoAnswer).unwrap(), "\"none\"");
        for a in AnsweredBy::ALL {
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(json, format!("\"{a}\""));
            assert_eq!(a.as_str().parse::<AnsweredBy>(), Ok(*a));
        }
        assert!("lighttpd".parse::<AnsweredBy>().is_err());
    }
}

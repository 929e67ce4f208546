//! Which software produced a response (`answered_by`), read from the clues in every software's
//! table.
//!
//! Strength matters and encodes what was checked against real servers: a body written by a backend
//! library or a proxy's own error page is the strongest clue, because proxies rewrite headers on
//! what they pass along (nginx replaces the backend's `Server` header even on responses it merely
//! forwards; Cloudflare always says `Server: cloudflare`). Then `Server`, then headers that only one
//! product adds, then `Via` (see [`Clue::tier`]). HAProxy's own error pages carry no `Server` header at all, so only its
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
    Lighttpd,
    H2o,
    Tinyproxy,
    Traefik,
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
        AnsweredBy::Lighttpd,
        AnsweredBy::H2o,
        AnsweredBy::Tinyproxy,
        AnsweredBy::Traefik,
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
            AnsweredBy::Lighttpd => "lighttpd",
            AnsweredBy::H2o => "h2o",
            AnsweredBy::Tinyproxy => "tinyproxy",
            AnsweredBy::Traefik => "traefik",
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
                | AnsweredBy::Lighttpd
                | AnsweredBy::H2o
                | AnsweredBy::Tinyproxy
                | AnsweredBy::Traefik
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
///
/// The kind decides the clue's strength ([`Clue::tier`]): a body written by a backend library
/// is the strongest, then a proxy's own error page, then a proxy's `Server` stamped on an answer
/// from behind it, then `Server`, then a header only one product adds, then `Via`, then the
/// defaults of servers that send no `Server` header.
#[derive(Debug, Clone, Copy)]
pub enum Clue {
    /// The body contains this text written by an application library.
    AppBody(&'static str),
    /// The whole body is this text (ignoring case and surrounding space), from a library.
    AppBodyIs(&'static str),
    /// The body contains this text from a proxy's or edge's own error page.
    Body(&'static str),
    /// An error answer whose `Server` header names this proxy but whose body has none of the
    /// proxy's own error-page marks: the proxy stamped its name on an answer from behind it.
    PassedThrough(&'static str, &'static [&'static str]),
    /// Some `Server` header contains this text.
    Server(&'static str),
    /// Header `name` is present and its value contains the text ("" = any value).
    Header(&'static str, &'static str),
    /// Some header's name starts with this prefix.
    HeaderPrefix(&'static str),
    /// `Via` names this proxy (the last one that forwarded the answer).
    Via(&'static str),
    /// Header `name` has exactly this value (ignoring case and surrounding space).
    HeaderIs(&'static str, &'static str),
    /// The whole body is this text (ignoring case and surrounding space) and the answer has no
    /// `Server` header: a proxy whose own answers are bare (Traefik's Go net/http pages).
    BareBodyIs(&'static str),
    /// The whole body is this text (ignoring case and surrounding space) and a `Server` header
    /// contains the first: a proxy's own terse page (h2o's plain-text `not found`).
    ServerBodyIs(&'static str, &'static str),
    /// The issuer of the certificate the hop presents contains this text (a CA or default
    /// certificate only this software makes); read by the own-answer request at TLS hops.
    Issuer(&'static str),
}

impl Clue {
    /// Lower is stronger.
    pub fn tier(&self) -> u8 {
        match self {
            Clue::AppBody(_) | Clue::AppBodyIs(_) => 0,
            Clue::Body(_) | Clue::Issuer(_) | Clue::ServerBodyIs(..) => 1,
            Clue::PassedThrough(..) => 2,
            Clue::Server(_) => 3,
            Clue::Header(..) | Clue::HeaderPrefix(_) | Clue::BareBodyIs(_) => 4,
            Clue::Via(_) => 5,
            Clue::HeaderIs(..) => 6,
        }
    }

    /// Whether a response with this status, headers and lowercased body shows the clue.
    pub fn matches(&self, status: u16, headers: &[(String, String)], body: &str) -> bool {
        // Every probe asks every clue: compared in place, without lowercase copies.
        let header_has = |name: &str, text: &str| {
            headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && lowercase_contains(v, text))
        };
        match *self {
            Clue::PassedThrough(proxy, own) => {
                status >= 400
                    && !body.trim().is_empty()
                    && header_has("server", proxy)
                    && !own.iter().any(|mark| body.contains(mark))
            }
            Clue::AppBody(text) | Clue::Body(text) => body.contains(text),
            Clue::AppBodyIs(text) => body.trim() == text,
            Clue::Server(text) => header_has("server", text),
            Clue::Header(name, text) => header_has(name, text),
            Clue::HeaderPrefix(prefix) => headers
                .iter()
                .any(|(n, _)| lowercase_starts_with(n, prefix)),
            Clue::Via(text) => header_has("via", text),
            Clue::HeaderIs(name, text) => headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(text)),
            Clue::BareBodyIs(text) => {
                body.trim() == text
                    && !headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("server"))
            }
            Clue::ServerBodyIs(server, text) => body.trim() == text && header_has("server", server),
            // Not in an HTTP answer: see `identify::issuer_names`.
            Clue::Issuer(_) => false,
        }
    }

    /// The clue as one evidence line ("Server: h2o", "body: <address>Apache/").
    pub fn describe(&self) -> String {
        match *self {
            Clue::AppBody(t) | Clue::Body(t) => format!("body contains \"{t}\""),
            Clue::AppBodyIs(t) => format!("body is \"{t}\""),
            Clue::PassedThrough(p, _) => {
                format!("Server names {p} on an error page that is not {p}'s own")
            }
            Clue::Server(t) => format!("Server header contains \"{t}\""),
            Clue::Header(n, "") => format!("{n} header present"),
            Clue::Header(n, t) => format!("{n} header contains \"{t}\""),
            Clue::HeaderPrefix(p) => format!("a {p}* header"),
            Clue::Via(t) => format!("Via header names {t}"),
            Clue::HeaderIs(n, t) => format!("{n}: {t}"),
            Clue::BareBodyIs(t) => format!("body is \"{t}\" without a Server header"),
            Clue::ServerBodyIs(sv, t) => format!("body is \"{t}\" with Server {sv}"),
            Clue::Issuer(t) => format!("certificate issuer contains \"{t}\""),
        }
    }
}

/// Every clue of every table, strongest first (by tier, then in table order).
fn clues() -> impl Iterator<Item = &'static (Clue, AnsweredBy)> {
    (0..=6u8).flat_map(|tier| {
        super::TABLES
            .iter()
            .flat_map(|t| t.recognise.iter())
            .filter(move |(c, _)| c.tier() == tier)
    })
}

/// `text.to_ascii_lowercase().contains(needle)`, without the copy.
fn lowercase_contains(text: &str, needle: &str) -> bool {
    let (text, needle) = (text.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || text.windows(needle.len()).any(|w| {
            w.iter()
                .zip(needle)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        })
}

/// `text.to_ascii_lowercase().starts_with(prefix)`, without the copy.
fn lowercase_starts_with(text: &str, prefix: &str) -> bool {
    text.as_bytes().get(..prefix.len()).is_some_and(|head| {
        head.iter()
            .zip(prefix.as_bytes())
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// Who produced a response with this status, headers and (possibly partial) body.
pub fn answered_by(status: u16, headers: &[(String, String)], body: &[u8]) -> AnsweredBy {
    recognise(status, headers, body)
        .map(|(_, who)| who)
        .unwrap_or(AnsweredBy::Unknown)
}

/// [`answered_by`] with the clue that decided.
pub fn recognise(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<(&'static Clue, AnsweredBy)> {
    let body = String::from_utf8_lossy(body).to_ascii_lowercase();
    clues()
        .find(|(clue, _)| clue.matches(status, headers, &body))
        .map(|(clue, who)| (clue, *who))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_traefik_and_envoy_answers() {
        assert_eq!(
            who(include_bytes!("fixtures/traefik_404.http")),
            AnsweredBy::Traefik
        );
        assert_eq!(
            who(include_bytes!("fixtures/traefik_502.http")),
            AnsweredBy::Traefik
        );
        for f in [
            &include_bytes!("fixtures/envoy_403_no_upgrade_configs.http")[..],
            &include_bytes!("fixtures/envoy_503_upstream_connect_error.http")[..],
            &include_bytes!("fixtures/envoy_101.http")[..],
        ] {
            assert_eq!(who(f), AnsweredBy::Envoy);
        }
        // A bare Go page only counts without a Server header (here nginx stamped its name on
        // an answer from behind it).
        let nginx = b"HTTP/1.1 502 Bad Gateway\r\nServer: nginx/1.22.1\r\nContent-Length: 11\r\n\r\nBad Gateway";
        assert_ne!(who(nginx), AnsweredBy::Traefik);
    }
    use crate::probe::response::parse_fixture;
    use AnsweredBy as A;

    fn who(fixture: &[u8]) -> AnsweredBy {
        let (head, body) = parse_fixture(fixture);
        answered_by(head.status, &head.headers, &body)
    }

    #[test]
    fn real_captures_name_the_software_that_wrote_them() {
        let cases: &[(&[u8], AnsweredBy)] = &[
            (
                include_bytes!("../probe/fixtures/websockets_101.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("../probe/fixtures/websockets_plain_get.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("../probe/fixtures/nginx_good_101.http"),
                A::Nginx,
            ),
            // nginx says `Server: nginx`, but the body is the backend's: the backend answered.
            (
                include_bytes!("../probe/fixtures/nginx_bare_proxy_pass.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("../probe/fixtures/nginx_connection_close.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_nginx_bare.http"),
                A::PythonWebsockets,
            ),
            (
                include_bytes!("../probe/fixtures/nginx_502_dead.http"),
                A::Nginx,
            ),
            (include_bytes!("../probe/fixtures/nginx_504.http"), A::Nginx),
            (include_bytes!("../probe/fixtures/nginx_404.http"), A::Nginx),
            (
                include_bytes!("../probe/fixtures/nginx_plain_http_to_tls_port.http"),
                A::Nginx,
            ),
            (
                include_bytes!("../probe/fixtures/nginx_chunked_400_gorilla.http"),
                A::Go,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_nginx_good_101.http"),
                A::Nginx,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_502_garbage.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_503_nosrv.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_503_dead.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_504.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_403.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_400.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_401.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_404.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_408.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_429.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/haproxy_500.http"),
                A::Haproxy,
            ),
            (
                include_bytes!("../probe/fixtures/node_http_404.http"),
                A::Node,
            ),
            (
                include_bytes!("../probe/fixtures/node_ws_http10_stripped.http"),
                A::Node,
            ),
            (
                include_bytes!("../probe/fixtures/node_ws_no_upgrade_header.http"),
                A::Node,
            ),
            (
                include_bytes!("../probe/fixtures/uvicorn_101.http"),
                A::Uvicorn,
            ),
            (
                include_bytes!("../probe/fixtures/uvicorn_http10_stripped.http"),
                A::Uvicorn,
            ),
            (
                include_bytes!("../probe/fixtures/werkzeug_404.http"),
                A::Werkzeug,
            ),
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
        assert!("lighty".parse::<AnsweredBy>().is_err());
    }
}

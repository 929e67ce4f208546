//! lighttpd: mod_proxy with `proxy.header = ("upgrade" => "enable")` (1.4.46+).
//! Sources: redmine.lighttpd.net/projects/lighttpd/wiki/Docs_ModProxy, Docs_Performance
//! (`server.max-read-idle`); captures of lighttpd/1.4.69 (its 501 page to an unknown method).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Lighttpd,
    name: "lighttpd",
    display: "lighttpd",
    kind: HopKind::Proxy,
    aliases: &["lighty"],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // redmine.lighttpd.net/projects/lighttpd/wiki/Mod_proxy (`proxy.header` "map-urlpath"),
    // Mod_setenv (`setenv.set-request-header`).
    (Change::Path, "`proxy.header = ( \"map-urlpath\" => ( … ) )` (or a `url.rewrite`) changes the path it forwards: map the WebSocket path to the one the backend serves, or leave it out"),
    (Change::Origin, "look for `setenv.set-request-header` or `setenv.add-request-header` touching Origin (mod_setenv) and remove it"),
    (Change::Header(""), "look for `setenv.set-request-header` touching {header} (mod_setenv) and remove it"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // It keeps its own Server header on its pages ("Server: lighttpd/1.4.69") and passes the
    // backend's on (capture).
    // Its built-in error document (lighttpd 1.4 source, used when no `server.errorfile-prefix`
    // or `server.error-handler` is set): an XHTML 1.0 page in iso-8859-1 with the status as
    // title and h1 (capture: lighttpd/1.4.69 404 for a path no `proxy.server` covers).
    (Body("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!doctype html public \"-//w3c//dtd xhtml 1.0 transitional//en\""), A::Lighttpd),
    (Server("lighttpd"), A::Lighttpd),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Lighttpd,
        seconds: Some(60),
        setting: "lighttpd `server.max-read-idle` (default 60 s)",
        fix: "raise `server.max-read-idle` (and `server.max-write-idle`) for the WebSocket path, or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[

    // Docs_ModProxy: proxy.header "upgrade" (default disable).
    row(V::UpgradeStripped, Sw(S::Lighttpd), "enable upgrades in mod_proxy: `proxy.header = (\"upgrade\" => \"enable\")` beside the `proxy.server` that serves this path (lighttpd 1.4.46+)"),
    // Docs_ModProxy: proxy.header "map-host-request" rewrites the Host sent upstream.
    when_inner_upgrades(status(V::Rejected, Sw(S::Lighttpd), 403, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the 403 answers what lighttpd sends it: look for `\"map-host-request\"` in `proxy.header` (it rewrites Host) and for `proxy.server` pointing elsewhere")),
    // Docs_ModProxy: `proxy.server` keys match the path (prefix) or the file extension, and
    // mod_proxy serves only requests inside the `$HTTP["url"]`/`$HTTP["host"]` condition that
    // holds it; anything else falls to the document root (its own 404 page, above).
    sw_detail(V::Rejected, Sw(S::Lighttpd), &[OWN_PAGE], "this is lighttpd's own 404 page, so mod_proxy did not take the request and lighttpd looked in `server.document-root`: no `proxy.server` covers this path, or the `$HTTP[\"url\"]` (or `$HTTP[\"host\"]`) condition around it does not match it (`=~ \"^/socket\"` does not match `/ws`): make the condition and the `proxy.server` key cover the path as the clients send it").on_status(404),
    when_inner_upgrades(status(V::Rejected, Sw(S::Lighttpd), 404, "{inner} ({inner_address}) upgrades when probed directly with this path, so lighttpd sends it something else: check that the `proxy.server` key covers this path and `\"map-urlpath\"` in `proxy.header`")),
    // lighttpd answers 503 when mod_proxy cannot connect (capture).
    row(V::ServiceUnavailable, Sw(S::Lighttpd), "lighttpd could not connect to the `proxy.server` backend (mod_proxy answers 503): check its \"host\" and \"port\" and that the service is up"),
    row(V::BadGateway, Sw(S::Lighttpd), "lighttpd got no valid answer from the `proxy.server` backend: check its \"host\" and \"port\" and that it speaks plain HTTP (mod_proxy does not speak TLS to backends)"),

    ],
};

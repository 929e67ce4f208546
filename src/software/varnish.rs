//! Varnish Cache: WebSockets only through `return (pipe)` with Upgrade/Connection copied in
//! vcl_pipe; `pipe_timeout`.
//! Sources: varnish-cache.org/docs/7.1/users-guide/vcl-example-websockets.html,
//! docs/7.1/reference/varnishd.html (`pipe_timeout`, `first_byte_timeout`); captures of Varnish 7.1.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Varnish,
    name: "varnish",
    display: "Varnish",
    kind: HopKind::Proxy,
    aliases: &["varnishd"],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // varnish-cache.org/docs/trunk/users-guide/vcl-variables.html: `req.url`, `req.http.*`
    // set in vcl_recv travel into the pipe; `bereq.http.*` in vcl_pipe.
    (Change::Path, "a `set req.url = …` (or `regsub(req.url, …)`) in `vcl_recv` changes the path before `return (pipe)`: leave WebSocket requests' URL alone or map it to the path the backend serves"),
    (Change::Origin, "look for `unset req.http.origin` / `set req.http.origin = …` in `vcl_recv` (or `bereq.http.origin` in `vcl_pipe`) and remove it"),
    (Change::Header(""), "look for `unset req.http.{header}` or `set req.http.{header} = …` in `vcl_recv` (or `bereq.http.…` in `vcl_pipe`) and remove it"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // Its 503 page: "Error 503 Backend fetch failed … Guru Meditation … Varnish cache server".
    (Body("varnish cache server"), A::Varnish),
    (Body("guru meditation"), A::Varnish),
    (Server("varnish"), A::Varnish),
    // Every answer it delivers (not piped ones) carries X-Varnish and "Via: 1.1 varnish
    // (Varnish/7.1)" (capture), while Server stays the backend's.
    (Header("x-varnish", ""), A::Varnish),
    (Via("varnish"), A::Varnish),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Varnish,
        seconds: Some(60),
        setting: "Varnish `pipe_timeout` (default 60 s)",
        fix: "raise the varnishd parameter `pipe_timeout` (`-p pipe_timeout=3600`, or `varnishadm param.set pipe_timeout 3600`), or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    // vcl-example-websockets.html.
    row(V::UpgradeStripped, Sw(S::Varnish), "pipe WebSocket requests: `if (req.http.upgrade ~ \"(?i)websocket\") { return (pipe); }` in vcl_recv, and copy Upgrade/Connection in vcl_pipe (`set bereq.http.upgrade = req.http.upgrade; set bereq.http.connection = req.http.connection;`)"),
    // "Error 503 Backend fetch failed" (capture): the backend is down or refuses.
    sw_detail(V::ServiceUnavailable, Sw(S::Varnish), &["backend fetch failed"], "Varnish could not fetch from its `backend` (503 \"Backend fetch failed\"): compare the `.host`/`.port` of the backend definition with {inner_address} and check that it is up; `varnishlog -g request` shows the FetchError"),
    row(V::ServiceUnavailable, Sw(S::Varnish), "Varnish has no usable backend: check the `.host`/`.port` of the backend definition and its probe"),
    // Seen on 7.1.1: a piped request whose backend refuses the connection gets no answer at
    // all (pipe mode has no error page), the connection is just closed.
    inner_ok(V::NoResponse, Sw(S::Varnish), "{inner} ({inner_address}) answers when probed directly, yet Varnish closed the piped upgrade without a byte: in pipe mode Varnish sends no error page when it cannot connect to its backend, it closes the connection. Compare the `.host`/`.port` of the `backend` definition (or the one `set req.backend_hint` picks for this request) with {inner_address}"),
    row(V::NoResponse, Sw(S::Varnish), "Varnish closed the piped upgrade without a byte: in pipe mode it sends no error page when it cannot connect to its backend, it closes the connection. Check that the service named by the `.host`/`.port` of the `backend` definition (or the one `set req.backend_hint` picks for this request) is up and listening there"),
    row(V::GatewayTimeout, Sw(S::Varnish), "the backend did not answer within Varnish's `first_byte_timeout`/`connect_timeout`: check that it answers, or raise them in the backend definition"),
    when_inner_upgrades(status(V::Rejected, Sw(S::Varnish), 404, "{inner} ({inner_address}) upgrades when probed directly, so Varnish sends it something else: look for `req.url`/`req.http.host` rewrites in vcl_recv and check `return (pipe)` covers this path")),

    ],
};

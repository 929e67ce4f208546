//! HAProxy: `mode http` forwards upgrades by default; `timeout tunnel`.
//! Sources: docs.haproxy.org/2.6/configuration.html (timeout tunnel, http-request rules);
//! captures of HAProxy 2.6 default error pages in src/probe/fixtures/haproxy_*.http (they carry
//! no Server header at all, so only their bodies identify it).
use super::prelude::*;

const HAPROXY_TLS: &str = "{inner} ({inner_address}) speaks TLS and upgrades when probed directly, so HAProxy's TLS connection to it fails on every attempt (and the backend has no server available): the `server` line needs `ssl`; with `verify required` its `ca-file` must hold the CA that issued {inner}'s certificate, and the name checked (`verifyhost`, or the `sni` expression such as `sni req.hdr(host)`) must be in the certificate; `verify none` skips the check (the `global` `ssl-server-verify` sets the default)";

pub const TABLE: Table = Table {
    software: S::Haproxy,
    name: "haproxy",
    display: "HAProxy",
    kind: HopKind::Lb,
    aliases: &[],
    // HAProxy 2.6 turns the extended CONNECT into a GET with Upgrade for its rules and
    // backends, so `req.ver` is 2.0 there; `h2-workaround-bogus-websocket-clients` (global)
    // stops it from advertising SETTINGS_ENABLE_CONNECT_PROTOCOL.
    // https://docs.haproxy.org/2.6/configuration.html#h2-workaround-bogus-websocket-clients
    http2: Some("HAProxy sees this request as a GET with `req.ver` 2.0: find the rule keyed on the HTTP version (e.g. `http-request deny if { req.ver 2.0 } …`, or an ACL on `req.proto_http`, `req.ver` or `ssl_fc_alpn`) and let WebSocket requests through, or put `h2-workaround-bogus-websocket-clients` in the `global` section so HAProxy stops advertising RFC 8441 and these clients use HTTP/1.1"),
    #[rustfmt::skip]
    changes: &[
    // docs.haproxy.org/2.6/configuration.html: `http-request set-path`/`replace-path`/
    // `set-uri`/`replace-uri`, `http-request del-header`/`set-header`. Seen on 2.6.12 in
    // tests/software/crosshop.rs: with the client's Sec-WebSocket-Key deleted HAProxy makes
    // a key of its own for the backend, so the 101's accept does not match the client's key.
    // HAProxy forwards HTTP/1.1: no row for the version.
    (Change::Path, "an `http-request set-path`, `replace-path`, `set-uri` or `replace-uri` rule changes the path before the backend: keep it off the WebSocket path (`… unless { path_beg /ws }`) or map the path to the one the backend serves"),
    (Change::Origin, "look for `http-request del-header Origin` or `http-request set-header Origin …` in the frontend or backend and remove it (or add `unless` for the WebSocket path)"),
    (Change::Header(""), "look for `http-request del-header {header}` or `http-request set-header {header} …` in the frontend or backend and remove it (when that header is Sec-WebSocket-Key, HAProxy sends a key of its own, so the client's check of Sec-WebSocket-Accept fails)"),
    ],
    #[rustfmt::skip]
    recognise: &[
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
    (Server("haproxy"), A::Haproxy),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Haproxy,
        seconds: None,
        setting: "HAProxy `timeout tunnel`, or `timeout client`/`timeout server` when it is unset",
        fix: "set (or raise) `timeout tunnel`, e.g. `timeout tunnel 1h`, in the `defaults` or `backend` section: it applies only once the connection is upgraded, and without it `timeout client`/`timeout server` cut idle WebSockets",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::Haproxy), "HAProxy forwards upgrades in `mode http` by default: remove the `http-request del-header`/`set-header`/`replace-header` rules that touch Upgrade or Connection (checked on HAProxy 2.6: `option httpclose` and `option http-server-close` do not break upgrades)"),
    inner_ok(V::BadAccept, Sw(S::Haproxy), "{inner} ({inner_address}) answers a valid 101 when probed directly, so HAProxy changes it on the way out: look for `http-response del-header`/`set-header` rules on Sec-WebSocket-Accept, Upgrade or Connection"),
    status(V::Rejected, Sw(S::Haproxy), 403, "an HAProxy `http-request deny` rule (or an ACL in front of it) matches this request: look for deny rules on this path, Host, source address or the Upgrade/Connection headers in the frontend and backend"),
    // configuration.html: `http-request return status 404` answers from the frontend with an
    // empty body (seen on 2.6.12: only `content-length: 0`), as does `http-request deny
    // deny_status 404`; a 404 that carries a page came from further in (the path rows in
    // `changes` take that one).
    when_inner_upgrades(status(V::Rejected, Sw(S::Haproxy), 404, "{inner} ({inner_address}) upgrades this path when probed directly, yet HAProxy answers 404 itself: look for an `http-request return status 404` or `http-request deny deny_status 404` rule (or an ACL in front of it) that matches this path or Host in the frontend or backend, and for `http-request set-path`/`replace-path` rules that send {inner} a path it does not serve; also check which backend the `use_backend` rules (else `default_backend`) pick for this Host and path")),
    // configuration.html: `http-request deny deny_status 429` / `http-request return status 429`
    // on stick-table counters (`sc_http_req_rate`, `sc_conn_cur`); its 429 page says "You have
    // sent too many requests in a given amount of time."
    status(V::Rejected, Sw(S::Haproxy), 429, "an HAProxy rate rule refuses it: look for `http-request deny deny_status 429` (or `http-request return status 429`, `tarpit`) on a stick-table counter such as `sc_http_req_rate` or `sc_conn_cur` in the frontend; every reconnect of a WebSocket client counts as a request and every open WebSocket as a connection: raise the limit for the WebSocket path or exempt it (`… unless { path_beg /ws }`)"),
    // configuration.html, server options `ssl`, `verify` (`required` needs `ca-file`),
    // `verifyhost`, `sni`. Seen on 2.6.12: `ssl verify required ca-file …` without the issuing
    // CA fails every handshake (log `SC--`) and answers 503 after its retries.
    inner_tls(V::ServiceUnavailable, Sw(S::Haproxy), HAPROXY_TLS),
    inner_tls(V::BadGateway, Sw(S::Haproxy), HAPROXY_TLS),
    // configuration.html: a server at its `maxconn` queues requests until `timeout queue`
    // (default: `timeout connect`), then answers 503 (log `sQ--`); failed connects are retried
    // `retries` times (3) `timeout connect` apart. Seen on 2.6.12: `server … maxconn 1` with one
    // WebSocket open and `timeout queue 2s` answers the next upgrade 503 after 2.0 s; two
    // `server` lines without `check`, one refusing: every other upgrade gets 503 after
    // its retries (3.0 s with `timeout connect 2s`: a refused connect is retried after 1 s).
    Hint::new(V::ServiceUnavailable, Sw(S::Haproxy), "{inner} ({inner_address}) upgrades when probed directly, yet HAProxy answered 503 only after {hop_ms}: it waited for a server first. Either the server is at its `maxconn` and the request sat in its queue until `timeout queue` (default: `timeout connect`): every open WebSocket holds one of those slots for its whole life, so raise `maxconn` on the `server` line (and in `global`/`frontend`) to the number of WebSockets it must hold; or every connection attempt failed and HAProxy retried (`retries`, 3 by default): then the request lands in another backend (the first `use_backend` rule whose condition matches picks it, else `default_backend`: check that a rule covers this Host and path), or that backend's `server` line does not point at {inner_address}, or it has `ssl` while the server speaks plain HTTP, or its health check marks the server down, or one of several `server` lines leads to an address that refuses (without `check` HAProxy keeps sending it its share of requests, so the answer changes from run to run: add `check` to the `server` lines, and `option redispatch` so a retry goes to another server). The log's termination flags say which: `sQ` queued, `SC` connection failed").on_detail(&[WAITED]).on_inner(Inner::Upgrades),
    inner_ok(V::BadGateway, Sw(S::Haproxy), "{inner} ({inner_address}) upgrades when probed directly, so HAProxy does not reach it as configured: check which backend the `use_backend` rules (else `default_backend`) pick for this Host and path, and compare that backend's `server` address and port (and `ssl`, with `sni req.hdr(host)` for a TLS server that needs SNI) with {inner_address}"),
    // configuration.html, use_backend: rules are evaluated in order and the first whose
    // condition matches picks the backend, else `default_backend`; `hdr()` matches are
    // case-sensitive unless `-i`. Seen on 2.6: a `use_backend ws if { hdr(Upgrade) -i websocket }
    // { path_beg /socket }` that does not cover the path sends the upgrade to a default backend
    // with no live server, which answers this 503; so does `ssl` on the `server` line of a
    // plain server (configuration.html, server `ssl`).
    inner_ok(V::ServiceUnavailable, Sw(S::Haproxy), "{inner} ({inner_address}) upgrades when probed directly, yet the HAProxy backend that got this request has no server available: either the request lands in another backend (the first `use_backend` rule whose condition matches picks it, else `default_backend`: check that a rule covers this Host and path, e.g. `path_beg` with this path, and that header matches such as `hdr(Upgrade)` carry `-i`), or that backend's `server` line does not point at {inner_address}, or it has `ssl` while the server speaks plain HTTP (the TLS handshake fails, so every attempt does), or its health check marks the server down (a WebSocket-only server answers a plain `option httpchk` GET with 426 or 400: check an HTTP health path with `http-check send`/`expect`, or use a plain TCP `check`)"),
    inner_ok(V::GatewayTimeout, Sw(S::Haproxy), "{inner} ({inner_address}) answers in {inner_ms} when probed directly, so HAProxy waits on something else: compare the backend's `server` address with {inner_address} (a filtered or hung address times out), in the backend the `use_backend` rules (else `default_backend`) pick for this Host and path"),
    inner_slow(V::GatewayTimeout, Sw(S::Haproxy), "{inner} ({inner_address}) answers the handshake, but only after {inner_ms}, and HAProxy gave up after {hop_ms}: raise `timeout server` (it bounds the wait for the 101; `timeout tunnel` applies only after it), or make the application answer the handshake sooner"),
    inner_ok(V::Timeout, Sw(S::Haproxy), "{inner} ({inner_address}) answers in {inner_ms} when probed directly, yet HAProxy gave no answer in time: its `server` line leads somewhere that does not answer (compare it with {inner_address}), or the `use_backend` rules (else `default_backend`) send this request to another backend; HAProxy waits `timeout connect`/`timeout server` before it answers 503/504"),
    row(V::BadGateway, Sw(S::Haproxy), "HAProxy got no valid answer from its server: check the backend's `server` lines and that the service behind them is up"),
    row(V::ServiceUnavailable, Sw(S::Haproxy), "no server is available in the HAProxy backend that got this request: check which backend the `use_backend` rules (else `default_backend`) pick for this Host and path, and that backend's `server` lines and health checks"),
    row(V::GatewayTimeout, Sw(S::Haproxy), "the server did not answer within `timeout connect`/`timeout server`: check that the service behind HAProxy answers the upgrade"),

    ],
};

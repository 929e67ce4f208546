//! nginx (and OpenResty, ingress-nginx): `proxy_pass` with the upgrade headers set by hand.
//! Sources: nginx.org/en/docs/http/websocket.html, ngx_http_proxy_module docs; captures of
//! nginx 1.22.1 in src/probe/fixtures/nginx_*.http.

use super::prelude::*;

/// nginx.org/en/docs/http/websocket.html: the upgrade is hop-by-hop and must be set by hand.
pub(crate) const UPGRADE: &str = "add `proxy_http_version 1.1` and `proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;` in the location that proxies the WebSocket (with `map $http_upgrade $connection_upgrade { default upgrade; '' close; }` in the http block); a location with its own `proxy_set_header` lines does not inherit the server's";

pub const TABLE: Table = Table {
    software: S::Nginx,
    name: "nginx",
    display: "nginx",
    kind: HopKind::Proxy,
    aliases: &["openresty", "ingress", "ingress-nginx"],
    // nginx's HTTP/2 module has no RFC 8441 extended CONNECT (seen on 1.22.1: its SETTINGS
    // carry no ENABLE_CONNECT_PROTOCOL), so no client opens a WebSocket over h2 there.
    // https://nginx.org/en/docs/http/ngx_http_v2_module.html
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // ngx_http_proxy_module, proxy_pass: "If proxy_pass is specified with URI, … the part of a
    // normalized request URI matching the location is replaced by a URI specified in the
    // directive"; proxy_set_header: "If the value of a header field is an empty string then
    // this field will not be passed". Seen on 1.22.1 in tests/software/crosshop.rs.
    (Change::Path, "the URI part of `proxy_pass` replaces the part of the path its `location` matched (`location /ws { proxy_pass http://backend/; }` sends `/ws` as `/`): write `proxy_pass http://backend;` without a URI to pass the path unchanged, or a URI that maps it to the path the backend serves; look for `rewrite … break` in the location too; if the path is right, nginx sends another Host (`$proxy_host` unless `proxy_set_header Host $host;`)"),
    (Change::Origin, "look for `proxy_set_header Origin …` in the location (or inherited from the `server`/`http` level, unless the location sets its own): an empty value drops the header, any other replaces the client's; remove it or set it to `$http_origin`"),
    (Change::Header(""), "nginx passes {header} on unchanged unless told otherwise: look for `proxy_set_header {header} …` (an empty value drops it) or `proxy_pass_request_headers off` in the location, and remove it"),
    (Change::HttpVersion, UPGRADE),
    ],
    #[rustfmt::skip]
    recognise: &[
    // Its error pages end "<hr><center>nginx/1.22.1</center>" (capture: nginx_502_dead.http).
    (Body("<center>nginx"), A::Nginx),
    (Body("<center>openresty"), A::Nginx),
    // It replaces the backend's Server header even on answers it merely forwards (capture:
    // nginx_bare_proxy_pass.http), so `Server: nginx` on a foreign error body says nothing.
    (PassedThrough("nginx", &["<center>nginx", "<center>openresty"]), A::Unknown),
    (PassedThrough("openresty", &["<center>openresty", "<center>nginx"]), A::Unknown),
    (Server("openresty"), A::Nginx),
    (Server("nginx"), A::Nginx),
    ],
    idle: &[
    // nginx.org ngx_http_proxy_module: proxy_read_timeout, default 60s.
    IdleDefault {
        software: S::Nginx,
        seconds: Some(60),
        setting: "nginx `proxy_read_timeout` (default 60 s)",
        fix: "raise `proxy_read_timeout` (and `proxy_send_timeout`) in the WebSocket location, e.g. `proxy_read_timeout 1h;`, or have the application ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::Nginx), UPGRADE),
    inner_ok(V::BadAccept, Sw(S::Nginx), "{inner} ({inner_address}) answers a valid 101 when probed directly, so nginx changes it on the way out: look for `proxy_hide_header`, `add_header` or `more_set_headers`/`more_clear_headers` on Sec-WebSocket-Accept, Upgrade or Connection in the location"),
    status(V::Rejected, Sw(S::Nginx), 403, "nginx refuses the request: look for `deny`/`allow`, `auth_request`, `valid_referers` or `return 403` in the location that serves this path (if the body is the application's, its Origin or auth check: try `--origin`)"),
    // ngx_http_core_module server_name / listen `default_server`: "If the directive's … name
    // does not match any server_name, the request is processed by the default server" (the
    // first `server` for the address:port unless one says `default_server`). Seen on 1.22.1:
    // `server_name www.app.test` only, and app.test gets the default server's 404.
    sw_detail(V::Rejected, Sw(S::Nginx), &[OWN_PAGE], "this is nginx's own 404 page: the `server` that got the request has no `location` that proxies this path, or it is not the `server` meant for it: nginx picks the `server` by matching Host {host} against `server_name`, and every name none lists goes to the `default_server` for this address and port (else the first `server` listed): check that the `server` with the WebSocket location lists {host} in `server_name`, then that a `location` there matches the path as the clients send it; and if the page comes from a name-based server further in, nginx sends it `$proxy_host` as Host unless `proxy_set_header Host $host;`").on_status(404),
    when_inner_upgrades(status(V::Rejected, Sw(S::Nginx), 404, "{inner} ({inner_address}) upgrades when probed directly with this path and Host {host}, so nginx refuses the request itself or sends {inner} something else: no `location` that proxies this path matches (an nginx page of its own), or the URI part of `proxy_pass` rewrites the path, or nginx sends another Host (it sends `$proxy_host` unless `proxy_set_header Host $host;`)")),
    when_inner_upgrades(status(V::Rejected, Sw(S::Nginx), 403, "{inner} ({inner_address}) upgrades when probed directly with this Host and Origin, so the 403 is nginx's own (`deny`/`allow`, `auth_request`, `valid_referers` or `return 403` in the location) or {inner}'s answer to what nginx sends it: another Host (nginx sends `$proxy_host` unless `proxy_set_header Host $host;`)")),
    // ngx_http_limit_req_module: `limit_req_status` (default 503) is the answer to a request
    // over the rate; seen on 1.22.1 with `limit_req_status 429`.
    status(V::Rejected, Sw(S::Nginx), 429, "nginx's `limit_req` refuses it (`limit_req_status 429`; its default status is 503): each reconnect of a WebSocket client is a request, so give the WebSocket location a `burst=` (with `nodelay`) that covers reconnect bursts, a higher `rate=` in its `limit_req_zone`, or no `limit_req` at all; `limit_conn` counts open WebSockets too"),
    status(V::Rejected, Sw(S::Nginx), 404, "nginx has no `location` that proxies this path (an nginx 404 page), or the URI part of its `proxy_pass` rewrites the path to one the backend does not serve: check which location matches the path and what `proxy_pass` sends on"),
    // ngx_http_proxy_module: proxy_ssl_verify (off by default), proxy_ssl_trusted_certificate,
    // proxy_ssl_name (default: the host of proxy_pass), proxy_ssl_server_name (off by default).
    // Seen on 1.22.1: `proxy_ssl_verify on` toward a certificate of a private CA answers 502,
    // error.log "upstream SSL certificate verify error".
    inner_tls(V::BadGateway, Sw(S::Nginx), "{inner} ({inner_address}) speaks TLS and upgrades when probed directly, so nginx's TLS connection to it fails: `proxy_pass` must say https://; nginx sends no SNI unless `proxy_ssl_server_name on` (with `proxy_ssl_name $host` when `proxy_pass` names an IP address), so a server that picks its certificate by name refuses it; with `proxy_ssl_verify on` the CA that issued {inner}'s certificate must be in `proxy_ssl_trusted_certificate` and the name nginx checks (`proxy_ssl_name`, by default the `proxy_pass` host; an IP address there matches no DNS name) must be in the certificate; error.log names the failure (`upstream SSL certificate verify error`)"),
    inner_ok(V::BadGateway, Sw(S::Nginx), "{inner} ({inner_address}) upgrades when probed directly, so nginx does not reach it as configured: compare the `proxy_pass` (or `upstream`) address, port and scheme (http:// or https://) with {inner_address}; to an https:// upstream nginx sends no SNI unless `proxy_ssl_server_name on` (with `proxy_ssl_name $host` when `proxy_pass` names an IP address); nginx's error.log says what failed"),
    inner_ok(V::GatewayTimeout, Sw(S::Nginx), "{inner} ({inner_address}) answers in {inner_ms} when probed directly, so nginx waits on something else: compare the `proxy_pass` address with {inner_address} (a filtered or hung address times out)"),
    inner_slow(V::GatewayTimeout, Sw(S::Nginx), "{inner} ({inner_address}) answers the handshake, but only after {inner_ms}, and nginx gave up after {hop_ms}: raise `proxy_read_timeout` in the WebSocket location (it also bounds the wait for the 101), or make the application answer the handshake sooner"),
    inner_ok(V::Timeout, Sw(S::Nginx), "{inner} ({inner_address}) answers in {inner_ms} when probed directly, yet nginx gave no answer in time: its `proxy_pass` leads somewhere that does not answer (compare it with {inner_address}); nginx waits `proxy_connect_timeout`/`proxy_read_timeout` (60 s by default) before it answers 504"),
    row(V::BadGateway, Sw(S::Nginx), "nginx cannot reach its upstream: check the `proxy_pass` address and that the service behind it is listening (nginx's error.log names the upstream)"),
    row(V::ServiceUnavailable, Sw(S::Nginx), "nginx has no usable upstream (every server down or a `limit_req`/`limit_conn` limit): check the upstream block and error.log"),
    row(V::GatewayTimeout, Sw(S::Nginx), "the upstream did not answer within `proxy_connect_timeout`/`proxy_read_timeout`: check that the service behind nginx answers the upgrade"),
    // ngx_http_core_module, location: "If a location is defined by a prefix string that ends
    // with the slash character, and requests are processed by one of proxy_pass, … then in
    // response to a request with URI equal to this string, but without the trailing slash, a
    // permanent redirect with the code 301 will be returned … If this is not desired, an exact
    // match of the URI and location could be defined". Seen on 1.22.1 (`location /ws/`, `/ws`).
    sw_detail(V::Redirect, Sw(S::Nginx), &[ADDS_SLASH], "nginx answers this 301 itself ({location}) because the `location` that proxies the WebSocket is written with a trailing slash (`location /ws/`) and the clients ask for the path without it; WebSocket clients do not follow redirects: add an exact-match location for the path as the clients send it (`location = /ws { proxy_pass …; }` with the same upgrade headers) or write the location without the slash (`location /ws`), or point the clients at the path with the slash"),
    row(V::FramesFailed, Sw(S::Nginx), "frames do not get through after the upgrade: check filters on the location (`sub_filter`, `gzip`, buffering modules) and that nothing closes the upstream"),
    ],
};

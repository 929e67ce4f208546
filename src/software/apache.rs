//! Apache httpd: mod_proxy + mod_proxy_http (`ProxyPass … upgrade=websocket`, httpd 2.4.47+),
//! mod_proxy_wstunnel on older releases, `RewriteRule … [P]`, `ProxyPreserveHost`,
//! `ProxyTimeout`, `SSLProxy*`.
//! Sources: httpd.apache.org/docs/2.4/mod/mod_proxy.html, mod_proxy_wstunnel.html, mod_ssl.html;
//! captures of Apache/2.4.71 (Debian) in front of a `websockets` backend (tests/software).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Apache,
    name: "apache",
    display: "Apache httpd",
    kind: HopKind::Proxy,
    aliases: &["httpd", "apache2"],
    // mod_http2 hands the extended CONNECT on as a WebSocket request when `H2WebSockets on`
    // (2.4.58+); `H2WebSockets off` stops advertising it. Seen on 2.4.71: the request's
    // SERVER_PROTOCOL is HTTP/2.0 (access log `GET /ws HTTP/2.0 101`) while `%{HTTP2}` is
    // off, as it runs on an internal HTTP/1.1 connection.
    // https://httpd.apache.org/docs/2.4/mod/mod_http2.html#h2websockets
    http2: Some("set `H2WebSockets off` so Apache stops advertising RFC 8441 and these clients use HTTP/1.1, or make the route answer HTTP/2 requests too: Apache sees them as `GET … HTTP/2.0` with Upgrade, so the `ProxyPass … upgrade=websocket` (mod_proxy_wstunnel) must match them and no `<If>`, `Require` or `RewriteCond` on `%{SERVER_PROTOCOL}` / `%{THE_REQUEST}` may refuse them"),
    #[rustfmt::skip]
    changes: &[
    // mod_proxy.html ProxyPass: the URL's path replaces the matched prefix; mod_headers.html
    // RequestHeader; mod_proxy_http.html env `force-proxy-request-1.0` ("forces the proxy to
    // send requests to the backend as HTTP/1.0"). All three seen on 2.4.71 in
    // tests/software/crosshop.rs.
    (Change::Path, "the `ProxyPass` URL's path replaces the prefix it matched (`ProxyPass /ws http://backend/` sends `/ws` as `/`): map the prefix to the path the backend serves (`ProxyPass /ws http://backend/ws upgrade=websocket`), and check where any `RewriteRule … [P]` sends it; if the path is right, add `ProxyPreserveHost On` (Apache otherwise sends the `ProxyPass` URL's host as Host)"),
    (Change::Origin, "look for `RequestHeader unset Origin` or `RequestHeader set Origin …` (mod_headers) in this virtual host, `<Location>` or `<Proxy>` block and remove it: Apache passes Origin on unchanged otherwise"),
    (Change::Header(""), "look for `RequestHeader unset {header}` or `RequestHeader set {header} …` (mod_headers) in this virtual host, `<Location>` or `<Proxy>` block and remove it"),
    (Change::HttpVersion, "Apache sends the request as HTTP/1.0 when the environment variable `force-proxy-request-1.0` is set: remove `SetEnv force-proxy-request-1.0 1` (or the `SetEnvIf`/`BrowserMatch` that sets it, an old workaround often paired with `proxy-nokeepalive`) for the WebSocket path"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // Tomcat's connector says `Server: Apache-Coyote/1.1`: not httpd (capture in
    // src/probe/fixtures is not needed; Tomcat docs, `server` attribute of the Connector).
    (Server("apache-coyote"), A::Tomcat),
    // Every httpd error page ends "<address>Apache/2.4.71 (Debian) Server at … Port …</address>"
    // (capture: 404, 500 Proxy Error and 503 pages of Apache/2.4.71).
    (Body("<address>apache/"), A::Apache),
    // mod_proxy's gateway page: "<title>502 Proxy Error</title>" / "<h1>Proxy Error</h1>"
    // (capture: Apache/2.4.71 with an https:// ProxyPass to a plain port).
    (Body("<h1>proxy error</h1>"), A::Apache),
    // httpd's canned pages without the `<address>` line (`ServerSignature Off`, the default):
    // modules/http/http_protocol.c, 404 "The requested URL was not found on this server." and
    // 403 "You don't have permission to access this resource." (older 2.4 releases name the
    // URL inside both sentences); capture: Apache/2.4.71 404. Flask/werkzeug says "on the
    // server", not "on this server".
    (Body("was not found on this server.</p>"), A::Apache),
    (Body("<p>you don't have permission to access "), A::Apache),
    (Server("apache"), A::Apache),
    ],
    #[rustfmt::skip]
    idle: &[
    // modules/proxy/proxy_util.c, ap_proxy_tunnel_create: an upgraded connection's idle
    // limit is the larger of the client socket's timeout (`Timeout`) and the backend's
    // (`ProxyTimeout`, or `timeout=` on the worker). Seen on 2.4.71: `Timeout 3` cuts an idle
    // WebSocket after 3 s; `ProxyTimeout 3` alone does not (the 60 s `Timeout` is larger).
    IdleDefault {
        software: S::Apache,
        seconds: Some(60),
        setting: "Apache httpd's tunnel timeout, the larger of `Timeout` and `ProxyTimeout` (or `timeout=` on the `ProxyPass` line), default 60 s",
        fix: "raise `ProxyTimeout` (or `timeout=` on the `ProxyPass` line) for the WebSocket path: the larger of it and `Timeout` applies; or ping more often than that",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    // mod_proxy.html, ProxyPass: "The configured ProxyPass and ProxyPassMatch rules are checked
    // in the order of configuration. The first rule that matches wins." (`upgrade=`, 2.4.47+);
    // mod_proxy_wstunnel.html; mod_rewrite.html flag [P] (hands the request to mod_proxy
    // without `upgrade=`). Seen on 2.4.71: `ProxyPass /` listed before `ProxyPass /ws ws://…`,
    // and `RewriteRule ^/ws(.*)$ http://backend/ws$1 [P]`, both forward the request with
    // `Connection` rewritten, so the backend answers 426.
    row(V::UpgradeStripped, Sw(S::Apache), "Apache forwarded the request without its upgrade: find the rule that proxies this path and make it the one that upgrades. The first matching `ProxyPass` wins, in the order written, so a `ProxyPass /` (or any shorter prefix) above `ProxyPass /ws …` takes the path: put the longer prefix first. That line needs `upgrade=websocket` (httpd 2.4.47+: `ProxyPass /ws http://backend/ws upgrade=websocket`) or, on older httpd, mod_proxy_wstunnel and a `ws://` URL. A `RewriteRule … [P]` forwards without upgrading: put `RewriteCond %{HTTP:Upgrade} websocket [NC]` above it and rewrite to `ws://backend/…` (mod_proxy_wstunnel), or replace it with a `ProxyPass … upgrade=websocket` line. And no `RequestHeader unset|set|edit` (mod_headers) may touch Upgrade or Connection"),
    // mod_proxy.html ProxyPreserveHost: "Off" by default, so the backend sees the ProxyPass host.
    when_inner_upgrades(status(V::Rejected, Sw(S::Apache), 403, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the 403 answers what Apache sends it: Apache sends the `ProxyPass` URL's host as Host unless `ProxyPreserveHost On` (add it in the virtual host), and no Origin rewrite unless `RequestHeader set Origin`")),
    when_inner_upgrades(status(V::Rejected, Sw(S::Apache), 404, "{inner} ({inner_address}) upgrades when probed directly with this path and Host {host}, so Apache sends it something else: check that a `ProxyPass` (or `RewriteRule … [P]`) covers this path and what path it maps it to, and add `ProxyPreserveHost On` (Apache otherwise sends the `ProxyPass` URL's host as Host)")),
    when_inner_upgrades(status(V::Rejected, Sw(S::Apache), 200, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the page answers what Apache sends it: Apache sends the `ProxyPass` URL's host as Host unless `ProxyPreserveHost On`, and a default virtual host answers that one")),
    // httpd's own 404 text (modules/http/http_protocol.c, the canned "was not found on this
    // server" page, with or without the URL depending on the release; capture: 2.4.71 with
    // `ProxyPass /ws/ …` probed at `/ws`). mod_proxy.html: ProxyPass matches its first
    // argument as a prefix of the path, so a trailing slash there must be in the request too;
    // "The first rule that matches wins".
    sw_detail(V::Rejected, Sw(S::Apache), &[OWN_PAGE], "this is httpd's own 404 page, so no `ProxyPass` (or `RewriteRule … [P]`) matched this path and httpd looked in its document root: `ProxyPass` matches its first argument as a plain prefix, trailing slash included (`ProxyPass /ws/ …` does not match `/ws`), and a `<Location>` or `ProxyPassMatch` regex must match the path as the clients send it: write the prefix without the trailing slash (`ProxyPass /ws ws://backend/ws`, or `http://… upgrade=websocket`), or point the clients at the path the rule covers. If the rule is right, the request reached another `<VirtualHost>`: httpd picks it by `ServerName`/`ServerAlias` against Host {host}, and the first `<VirtualHost>` for this address and port answers every name none lists, so the virtual host with the `ProxyPass` must name {host}").on_status(404),
    status(V::Rejected, Sw(S::Apache), 404, "no `ProxyPass` (or `RewriteRule … [P]`) in Apache covers this path, so httpd answers from its own document root: add one for the WebSocket path (`ProxyPass /ws/ http://backend/ws/ upgrade=websocket`)"),
    status(V::Rejected, Sw(S::Apache), 403, "Apache refuses the request itself: look for `Require` rules (mod_authz_core) on this path or `<Proxy>` block, and for mod_security"),
    // mod_proxy's 500/502 "Error during SSL Handshake with remote server" (capture).
    // mod_ssl.html: SSLProxyVerify (`require` needs SSLProxyCACertificateFile/Path),
    // SSLProxyCheckPeerName (on by default: the ProxyPass URL's host, or Host with
    // ProxyPreserveHost On). Seen on 2.4.71: `SSLProxyVerify require` toward a private CA's
    // certificate answers "500 Proxy Error … Error during SSL Handshake with remote server".
    inner_tls(V::BadGateway, Sw(S::Apache), "{inner} ({inner_address}) speaks TLS and upgrades when probed directly, so Apache's handshake fails on its checks of the certificate: with `SSLProxyVerify require` the CA that issued {inner}'s certificate must be in `SSLProxyCACertificateFile` (or `SSLProxyCACertificatePath`), and with `SSLProxyCheckPeerName on` (the default) the certificate must hold the `ProxyPass` URL's host (an IP address matches no DNS name; with `ProxyPreserveHost On` Host {host} is checked); `SSLProxyCheckPeerExpire` refuses an expired one; `SSLProxyEngine On` is needed for any https:// backend; the error log names the failed check"),
    sw_detail(V::BadGateway, Sw(S::Apache), &["ssl handshake", "ssl"], "Apache's TLS handshake with the backend failed: the `ProxyPass` URL says https:// but {inner_address} speaks plain HTTP (use http:// or ws://), or `SSLProxyVerify`/`SSLProxyCheckPeerName` refuses the backend's certificate (`SSLProxyCACertificateFile`); `SSLProxyEngine On` is needed for any https:// backend"),
    inner_ok(V::BadGateway, Sw(S::Apache), "{inner} ({inner_address}) upgrades when probed directly, so Apache does not reach it as configured: compare the `ProxyPass` URL (scheme, address, port) with {inner_address}; for an https:// backend add `SSLProxyEngine On`; Apache's error log says what failed"),
    row(V::BadGateway, Sw(S::Apache), "Apache got no valid answer from the `ProxyPass` backend: check its URL (scheme, address, port) and that the service behind it is up; Apache's error log names the cause"),
    // mod_proxy.html `retry`: a worker that failed to connect stays in error state 60 s.
    row(V::ServiceUnavailable, Sw(S::Apache), "Apache could not connect to the `ProxyPass` backend (httpd answers a refused connection with 503 and keeps the worker in error state for `retry=` seconds, 60 by default): check the URL's address and port and that the service is up"),
    row(V::GatewayTimeout, Sw(S::Apache), "the backend did not answer within `ProxyTimeout` (default: `Timeout`, 60 s): check that the service behind Apache answers the upgrade, or raise `ProxyTimeout`/`timeout=` on the `ProxyPass` line"),

    ],
};

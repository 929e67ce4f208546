//! Caddy: `reverse_proxy` carries upgrades by default; `header_up`, `transport http { tls }`.
//! Sources: caddyserver.com/docs/caddyfile/directives/reverse_proxy; captures of Caddy 2.6.2
//! (it adds its own `Server: Caddy` beside the backend's).
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Caddy,
    name: "caddy",
    display: "Caddy",
    kind: HopKind::Proxy,
    aliases: &[],
    http2: None,
    #[rustfmt::skip]
    changes: &[
    // caddyserver.com/docs/caddyfile/directives/handle_path ("strips the matched path prefix"),
    // reverse_proxy `header_up` ("-Field" deletes it). Seen on Caddy 2.6 in
    // tests/software/crosshop.rs. Caddy always speaks HTTP/1.1 or newer upstream: no row for
    // the version.
    (Change::Path, "`handle_path` (like `uri strip_prefix`, `uri replace` or `rewrite`) changes the path before `reverse_proxy` (`handle_path /ws* { reverse_proxy backend }` sends `/ws` as `/`): use `handle /ws*` to keep the path, or rewrite it to the path the backend serves"),
    (Change::Origin, "look for `header_up -Origin` or `header_up Origin …` in the `reverse_proxy` block and remove it: Caddy passes Origin on unchanged otherwise"),
    (Change::Header(""), "look for `header_up -{header}` or `header_up {header} …` in the `reverse_proxy` block and remove it"),
    ],
    #[rustfmt::skip]
    recognise: &[
    // `tls internal` (and any site without a public name) gets a certificate from Caddy's own
    // CA, "Caddy Local Authority - ECC Intermediate" under "Caddy Local Authority - 20xx ECC
    // Root" (caddyserver.com/docs/automatic-https#local-https; seen on 2.6.2 in
    // tests/software/scheme.rs).
    (Issuer("caddy local authority"), A::Caddy),
    (Server("caddy"), A::Caddy),
    (Via("caddy"), A::Caddy),
    ],
    #[rustfmt::skip]
    idle: &[    ],
    #[rustfmt::skip]
    advice: &[
    // The same source: browsers do not trust that CA unless its root is installed.
    sw_detail(V::TlsFailed, Sw(S::Caddy), &["unknown issuer", "unknownissuer"], "Caddy serves a certificate from its own local CA (`tls internal`, or a site address without a public domain name), which clients do not trust: give the site its public name so Caddy gets a publicly trusted certificate (and remove `tls internal`), or install Caddy's root (`caddy trust`, or pass `--cacert` with its `pki/authorities/local/root.crt`)"),
    // caddyserver.com/docs/caddyfile/concepts#addresses: a site block serves only the hosts in
    // its address; a request no site or route handles gets an empty `200` from Caddy itself
    // (seen on 2.6.2: a site `http://chat.test:PORT` asked for Host app.test).
    when_inner_upgrades(status(V::Rejected, Sw(S::Caddy), 200, "{inner} ({inner_address}) upgrades when probed directly, so this 200 is Caddy's own: Caddy answers an empty 200 when no site block and no route handles the request: the site block that proxies the WebSocket must name Host {host} in its address (`{host} { reverse_proxy … }`, or `http://{host}` for plain HTTP; a site for another name or only `localhost` does not match), and its `reverse_proxy` (or the `handle`/`route` around it) must match this path")),
    row(V::UpgradeStripped, Sw(S::Caddy), "Caddy passes upgrades by default: remove `header_up` rules that drop Connection or Upgrade and do not force an HTTP/2-only transport"),
    when_inner_upgrades(status(V::Rejected, Sw(S::Caddy), 403, "{inner} ({inner_address}) upgrades when probed directly with Host {host}, so the 403 answers what Caddy sends it: look for `header_up Host …` in the `reverse_proxy` block (Caddy passes the client's Host by default) and for `header_up` rules on Origin")),
    // caddyserver.com/docs/caddyfile/directives/reverse_proxy#the-http-transport: `versions`
    // ("1.1 2" by default; `h2c` speaks cleartext HTTP/2 only), and the upstream scheme `h2c://`
    // sets it. Seen on Caddy 2 (`versions h2c` to an HTTP/1.1 WebSocket server): an empty 502.
    inner_ok(V::BadGateway, Sw(S::Caddy), "{inner} ({inner_address}) upgrades when probed directly, so Caddy does not reach it as configured: compare the `reverse_proxy` upstream with {inner_address}; for a TLS upstream write `reverse_proxy https://…` (or `transport http { tls }`), for a plain one leave both out; and check the HTTP versions Caddy speaks to it: `transport http { versions h2c }` (or an `h2c://` upstream) talks cleartext HTTP/2 only, which an HTTP/1.1 WebSocket server does not understand: leave `versions` out or include `1.1`"),
    row(V::BadGateway, Sw(S::Caddy), "Caddy got no answer from the `reverse_proxy` upstream: check its address and scheme (`https://` or `transport http { tls }` for a TLS upstream) and that it is up; Caddy's log names the dial or TLS error"),

    ],
};

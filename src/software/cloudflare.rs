//! Cloudflare's edge. Sources: developers.cloudflare.com/network/websockets/,
//! …/support/troubleshooting/cloudflare-errors/ (52x pages); src/probe/fixtures.
use super::prelude::*;

pub const TABLE: Table = Table {
    software: S::Cloudflare,
    name: "cloudflare",
    display: "Cloudflare",
    kind: HopKind::Cdn,
    aliases: &["cf"],
    http2: None,
    changes: &[],
    #[rustfmt::skip]
    recognise: &[
    (Body("cloudflare ray id"), A::Cloudflare),
    (Body("<center>cloudflare</center>"), A::Cloudflare),
    (Body("cf-error-details"), A::Cloudflare),
    // It writes `Server: cloudflare` on the origin's answers too.
    (PassedThrough("cloudflare", &["cloudflare"]), A::Unknown),
    (Server("cloudflare"), A::Cloudflare),
    (Header("cf-ray", ""), A::Cloudflare),
    ],
    #[rustfmt::skip]
    idle: &[
    IdleDefault {
        software: S::Cloudflare,
        seconds: Some(100),
        setting: "Cloudflare's idle limit for proxied WebSockets (about 100 s)",
        fix: "have the client or server send a ping more often than every 100 s; Cloudflare's idle limit is not configurable on most plans",
    },
    ],
    #[rustfmt::skip]
    advice: &[
    row(V::UpgradeStripped, Sw(S::Cloudflare), "turn WebSockets on for the zone (Network → WebSockets, setting `websockets`) and make sure no Transform Rule or Worker drops Upgrade/Connection"),
    status(V::Rejected, Sw(S::Cloudflare), 403, "a Cloudflare security rule (WAF, Access, bot fight) blocks the request: look this path up in Security → Events"),
    row(V::BadGateway, Sw(S::Cloudflare), "Cloudflare cannot reach the origin: check the DNS record's origin address and that the origin accepts Cloudflare's IP ranges"),
    // cloudflare-errors: 520 unknown, 521 refused, 522 connect timeout, 523 unreachable,
    // 524 timeout, 525 TLS handshake, 526 invalid certificate.
    sw_detail(V::BadGateway, Sw(S::Cloudflare), &["525", "526", "ssl handshake", "invalid ssl certificate"], "Cloudflare's TLS connection to the origin failed (525/526): with SSL mode Full (strict) the origin needs a certificate valid for {host}; a plain-HTTP origin needs SSL mode Flexible or an origin on port 443 with TLS"),
    sw_detail(V::BadGateway, Sw(S::Cloudflare), &["521", "web server is down"], "the origin refused Cloudflare's connection (521): check that it listens on the port the DNS record's proxied traffic uses and admits Cloudflare's IP ranges"),

    ],
};

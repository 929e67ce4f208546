//! What Cloudflare's settings mean for a WebSocket: the facts shown beside the edge hop, the
//! findings (`cloudflare/…`), the hop behind the edge that the DNS record implies, and the plan
//! that turns WebSockets on. The provider only reads; every judgement about a setting is here.

use crate::finding::{Fact, Finding, Severity};
use crate::hop::{Hop, HopKind};
use crate::plan::{Change, Plan, Provider};
use crate::target::{Scheme, Target};
use crate::Error;
use std::time::Duration;
use wspath_providers::cloudflare::{
    EdgeFacts, OnOff, Readable, RecordType, Setting, SslMode, Zone,
};

/// What Cloudflare documents for idle proxied WebSockets: dropped after about 100 s.
pub const DEFAULT_IDLE_LIMIT: Duration = Duration::from_secs(100);

const SOURCE: &str = "cloudflare";

/// Finding IDs, stable across releases.
pub mod id {
    pub const WEBSOCKETS_OFF: &str = "cloudflare/websockets-off";
    pub const NOT_PROXIED: &str = "cloudflare/record-not-proxied";
    pub const NO_RECORD: &str = "cloudflare/no-record";
    pub const SSL_FLEXIBLE: &str = "cloudflare/ssl-flexible";
    pub const SSL_OFF: &str = "cloudflare/ssl-off";
    pub const ALWAYS_USE_HTTPS_WS: &str = "cloudflare/always-use-https-ws";
    pub const IDLE_LIMIT: &str = "cloudflare/idle-limit";

    /// What each rule means, the same for every finding of it (SARIF's rule description).
    pub fn title(id: &str) -> Option<&'static str> {
        Some(match id {
            WEBSOCKETS_OFF => "WebSockets are turned off for the Cloudflare zone",
            NOT_PROXIED => "The DNS record is DNS only (grey cloud): Cloudflare is not on the path",
            NO_RECORD => "No A, AAAA or CNAME record for the WebSocket host in the zone",
            SSL_FLEXIBLE => "SSL mode Flexible: Cloudflare reaches the origin over plain HTTP",
            SSL_OFF => "SSL is off for the zone: wss:// clients cannot connect",
            ALWAYS_USE_HTTPS_WS => {
                "Always Use HTTPS redirects ws:// upgrades, which clients do not follow"
            }
            IDLE_LIMIT => "Cloudflare closes WebSockets idle for about 100 s",
            _ => return None,
        })
    }
}

/// The facts as shown beside the edge hop (`source: cloudflare`).
pub fn facts(f: &EdgeFacts) -> Vec<Fact> {
    let fact = |name: &str, value: String| Fact {
        source: SOURCE.to_string(),
        name: name.to_string(),
        value,
    };
    let mut out = vec![fact("zone", f.zone.name.clone())];
    if f.records.is_empty() {
        out.push(fact("dns_record", format!("none for {}", f.host)));
    }
    for r in &f.records {
        out.push(fact(
            "dns_record",
            format!(
                "{} {} {} ({})",
                r.name,
                r.record_type,
                r.content,
                if r.proxied { "proxied" } else { "DNS only" }
            ),
        ));
    }
    out.push(fact(
        "websockets",
        setting_text(&f.websockets, |v| v.as_str()),
    ));
    out.push(fact("ssl", readable_text(&f.ssl, |v| v.as_str())));
    out.push(fact(
        "always_use_https",
        readable_text(&f.always_use_https, |v| v.as_str()),
    ));
    out.push(fact(
        "min_tls_version",
        readable_text(&f.min_tls_version, |v| v.as_str()),
    ));
    out.push(fact(
        "origin_max_http_version",
        readable_text(&f.origin_max_http_version, |v| v.as_str()),
    ));
    out.push(fact(
        "proxy_read_timeout",
        readable_text(&f.proxy_read_timeout, |v| format!("{v}s")),
    ));
    out
}

fn setting_text<T: Copy, S: Into<String>>(s: &Setting<T>, show: impl Fn(T) -> S) -> String {
    if s.editable {
        show(s.value).into()
    } else {
        format!("{} (not editable on this plan)", show(s.value).into())
    }
}

fn readable_text<T: Copy, S: Into<String>>(r: &Readable<T>, show: impl Fn(T) -> S) -> String {
    match r {
        Readable::Read(s) => setting_text(s, show),
        Readable::NotReadable(why) => format!("not readable ({why})"),
    }
}

/// Whether traffic for the host goes through Cloudflare's edge at all.
pub fn edge_in_path(f: &EdgeFacts) -> bool {
    f.origin_record().is_some_and(|r| r.proxied)
}

/// How long an idle WebSocket survives the edge: `proxy_read_timeout` where readable, else
/// the documented ~100 s.
pub fn idle_limit(f: &EdgeFacts) -> Duration {
    match f.proxy_read_timeout.value() {
        Some(secs) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
        _ => DEFAULT_IDLE_LIMIT,
    }
}

/// The rules: one finding per setting that breaks (or shapes) a WebSocket to `target`.
pub fn findings(f: &EdgeFacts, target: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    let zone = &f.zone.name;
    let record = f.origin_record();
    let in_path = edge_in_path(f);

    match record {
        None => out.push(Finding {
            id: id::NO_RECORD.into(),
            severity: Severity::Warning,
            message: format!(
                "zone {zone} has no A, AAAA or CNAME record for {}: wspath cannot tell whether Cloudflare is in the path",
                f.host
            ),
            evidence: format!("GET dns_records?name={}: no A/AAAA/CNAME record", f.host),
            why: None,
            fix: Some(format!("check the DNS record of {} in zone {zone}", f.host)),
            location: None,
        }),
        Some(r) if !r.proxied => out.push(Finding {
            id: id::NOT_PROXIED.into(),
            severity: Severity::Warning,
            message: format!(
                "{} is DNS only (grey cloud): Cloudflare is not in the path, clients connect straight to {}, and the zone's settings do not apply",
                r.name, r.content
            ),
            evidence: format!("{} {} {} proxied=false", r.name, r.record_type, r.content),
            why: Some("only proxied records go through Cloudflare's edge".into()),
            fix: Some(format!(
                "if Cloudflare should be in front, turn on the proxy (orange cloud) for {}",
                r.name
            )),
            location: None,
        }),
        Some(_) => {}
    }

    if f.websockets.value == OnOff::Off {
        let editable = if f.websockets.editable {
            ""
        } else {
            " (not editable on this plan)"
        };
        out.push(Finding {
            id: id::WEBSOCKETS_OFF.into(),
            // Off only matters when the edge is in the path.
            severity: if in_path {
                Severity::Error
            } else {
                Severity::Info
            },
            message: if in_path {
                format!("WebSockets are off for zone {zone}: Cloudflare's edge refuses every upgrade for {}", f.host)
            } else {
                format!("WebSockets are off for zone {zone}: upgrades would be refused if {} were proxied", f.host)
            },
            evidence: format!("zone {zone} setting websockets = off{editable}"),
            why: Some("with the websockets setting off the edge answers the upgrade request itself and never forwards it to the origin".into()),
            fix: Some(format!(
                "turn WebSockets on: wspath fix --cloudflare {} --yes (dashboard: Network → WebSockets)",
                f.host
            )),
            location: None,
        });
    }

    if in_path {
        match f.ssl.value() {
            Some(SslMode::Flexible) => out.push(Finding {
                id: id::SSL_FLEXIBLE.into(),
                severity: Severity::Warning,
                message: format!(
                    "SSL mode is flexible: Cloudflare reaches the origin of {} over plain HTTP on port 80, so the origin must accept the upgrade as ws:// on port 80",
                    f.host
                ),
                evidence: format!("zone {zone} setting ssl = flexible"),
                why: Some("flexible encrypts only client → edge; edge → origin is plain HTTP to port 80 whatever the client used".into()),
                fix: Some("serve TLS on the origin and set SSL to Full (strict), or make the origin accept WebSockets on port 80".into()),
                location: None,
            }),
            Some(SslMode::Off) if target.scheme == Scheme::Wss => out.push(Finding {
                id: id::SSL_OFF.into(),
                severity: Severity::Error,
                message: format!("SSL is off for zone {zone}: the edge serves no HTTPS, so wss://{} cannot connect", f.host),
                evidence: format!("zone {zone} setting ssl = off"),
                why: None,
                fix: Some("set SSL to Full (strict) (or use ws:// clients)".into()),
                location: None,
            }),
            _ => {}
        }

        if target.scheme == Scheme::Ws && f.always_use_https.value() == Some(OnOff::On) {
            out.push(Finding {
                id: id::ALWAYS_USE_HTTPS_WS.into(),
                severity: Severity::Error,
                message: format!(
                    "Always Use HTTPS is on: the edge answers ws://{} with 301 to https://, and WebSocket clients do not follow redirects",
                    f.host
                ),
                evidence: format!("zone {zone} setting always_use_https = on; target scheme ws://"),
                why: Some("the redirect comes from the edge before any upgrade".into()),
                fix: Some("use wss:// in the clients (or turn Always Use HTTPS off)".into()),
                location: None,
            });
        }

        let limit = idle_limit(f);
        out.push(Finding {
            id: id::IDLE_LIMIT.into(),
            severity: Severity::Info,
            message: format!(
                "Cloudflare drops a proxied WebSocket that stays idle for about {} s: send a ping or a message more often than that",
                limit.as_secs()
            ),
            evidence: match &f.proxy_read_timeout {
                Readable::Read(s) => format!("zone {zone} setting proxy_read_timeout = {}", s.value),
                Readable::NotReadable(_) => "proxy_read_timeout not readable on this plan; Cloudflare documents ~100 s".into(),
            },
            why: None,
            fix: Some(format!(
                "keep-alive pings every {} s or less",
                (limit.as_secs() * 3 / 4).max(1)
            )),
            location: None,
        });
    }
    out
}

/// The hop behind the edge, as the DNS record names it: the CNAME target or the address, on
/// 443 with TLS (SNI stays the site, as every hop gets the target's Host and SNI), or on 80
/// plain when the SSL mode is flexible. `None` when there is no record or it is DNS only
/// (then the target itself is the origin).
pub fn origin_hop(f: &EdgeFacts, target: &Target) -> Option<Hop> {
    let record = f.origin_record().filter(|r| r.proxied)?;
    let host = match record.record_type {
        RecordType::CNAME => record.content.trim_end_matches('.').to_string(),
        _ => record.content.clone(),
    };
    let (scheme, port) = match f.ssl.value() {
        Some(SslMode::Flexible) | Some(SslMode::Off) => (Scheme::Ws, 80),
        _ => (Scheme::Wss, 443),
    };
    Some(Hop {
        name: "origin".to_string(),
        kind: HopKind::Unknown,
        connect: Some((host, port)),
        scheme,
        path: target.path.clone(),
        scheme_inherited: false,
    })
}

/// What Cloudflare adds to a `check`: the hop the facts and findings belong to and, when the
/// user typed no hops, the hops to walk (edge, then the origin the DNS record names).
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// `Some` when the user typed no `--hop`: walk these instead of the bare target.
    pub hops: Option<Vec<Hop>>,
    /// Name of the hop to attach `findings` and `facts` to.
    pub edge: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

/// Name of the edge hop wspath builds from Cloudflare's facts.
pub const EDGE_HOP: &str = "edge";

/// Decides where Cloudflare's facts go. With typed hops: the first `cdn` hop, else the first
/// hop (the one clients reach). Without: `edge` (the target as DNS resolves it, which is
/// Cloudflare when the record is proxied) followed by [`origin_hop`]; when the record is DNS
/// only there is no edge to add, and the facts go to the target itself.
pub fn discover(f: &EdgeFacts, target: &Target, typed_hops: &[Hop]) -> Discovery {
    let findings = findings(f, target);
    let facts = facts(f);
    if let Some(first) = typed_hops.first() {
        let edge = typed_hops
            .iter()
            .find(|h| h.kind == HopKind::Cdn)
            .unwrap_or(first);
        return Discovery {
            hops: None,
            edge: edge.name.clone(),
            findings,
            facts,
        };
    }
    let direct = Hop::direct(target);
    match origin_hop(f, target) {
        Some(origin) => {
            let edge = Hop {
                name: EDGE_HOP.to_string(),
                kind: HopKind::Cdn,
                ..direct
            };
            Discovery {
                edge: edge.name.clone(),
                hops: Some(vec![edge, origin]),
                findings,
                facts,
            }
        }
        None => Discovery {
            edge: direct.name.clone(),
            hops: Some(vec![direct]),
            findings,
            facts,
        },
    }
}

/// The plan `check --fix` offers when the culprit is the edge hop and Cloudflare's
/// `websockets` setting explains it; `None` when the setting is not the cause.
pub fn culprit_plan(
    f: &EdgeFacts,
    culprit_hop: Option<&str>,
    edge: &str,
) -> Option<Result<Plan, Error>> {
    if culprit_hop != Some(edge) || f.websockets.value != OnOff::Off || !edge_in_path(f) {
        return None;
    }
    Some(websockets_plan(&f.zone, &f.websockets))
}

/// Turns WebSockets on: one change when off, a note when already on, an error when the plan
/// does not allow the change.
pub fn websockets_plan(zone: &Zone, websockets: &Setting<OnOff>) -> Result<Plan, Error> {
    let resource = format!("zone {}", zone.name);
    match websockets.value {
        OnOff::On => Ok(Plan {
            changes: Vec::new(),
            notes: vec![format!(
                "WebSockets are already on for {resource}."
            )],
            ..Plan::default()
        }),
        OnOff::Off if !websockets.editable => Err(Error::NotEditable {
            resource,
            setting: "websockets".into(),
            reason: "Cloudflare reports it as not editable (editable: false) for this zone's plan; change it in the dashboard or ask the account owner".into(),
        }),
        OnOff::Off => Ok(Plan {
            changes: vec![Change {
                provider: Provider::Cloudflare,
                resource,
                setting: Some("websockets".into()),
                file: None,
                before: OnOff::Off.as_str().into(),
                after: OnOff::On.as_str().into(),
                applied: false,
            }],
            ..Plan::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wspath_providers::cloudflare::{
        DnsRecord, MinTlsVersion, OriginMaxHttpVersion, Readable, Setting,
    };

    fn facts_with(ws: OnOff, ssl: SslMode, proxied: bool, https: OnOff) -> EdgeFacts {
        let s = |v| {
            Readable::Read(Setting {
                value: v,
                editable: true,
            })
        };
        EdgeFacts {
            host: "chat.example.com".into(),
            zone: Zone {
                id: "z1".into(),
                name: "example.com".into(),
            },
            records: vec![DnsRecord {
                name: "chat.example.com".into(),
                record_type: RecordType::CNAME,
                content: "origin.example.net".into(),
                proxied,
            }],
            websockets: Setting {
                value: ws,
                editable: true,
            },
            ssl: s(ssl),
            always_use_https: Readable::Read(Setting {
                value: https,
                editable: true,
            }),
            min_tls_version: Readable::Read(Setting {
                value: MinTlsVersion::V1_2,
                editable: true,
            }),
            origin_max_http_version: Readable::Read(Setting {
                value: OriginMaxHttpVersion::Http2,
                editable: true,
            }),
            proxy_read_timeout: Readable::NotReadable("403".into()),
        }
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn websockets_off_on_a_proxied_record_is_an_error() {
        let t = Target::parse("wss://chat.example.com/ws").unwrap();
        let f = findings(&facts_with(OnOff::Off, SslMode::Full, true, OnOff::Off), &t);
        let off = f.iter().find(|f| f.id == id::WEBSOCKETS_OFF).unwrap();
        assert_eq!(off.severity, Severity::Error);
        assert!(ids(&f).contains(&id::IDLE_LIMIT));
    }

    #[test]
    fn dns_only_says_cloudflare_is_not_in_the_path() {
        let t = Target::parse("wss://chat.example.com/ws").unwrap();
        let facts = facts_with(OnOff::Off, SslMode::Flexible, false, OnOff::On);
        let f = findings(&facts, &t);
        assert!(ids(&f).contains(&id::NOT_PROXIED));
        assert!(!ids(&f).contains(&id::SSL_FLEXIBLE));
        let off = f.iter().find(|f| f.id == id::WEBSOCKETS_OFF).unwrap();
        assert_eq!(off.severity, Severity::Info);
        assert_eq!(origin_hop(&facts, &t), None);
    }

    #[test]
    fn flexible_ssl_makes_the_origin_hop_plain_on_80() {
        let t = Target::parse("wss://chat.example.com/ws").unwrap();
        let facts = facts_with(OnOff::On, SslMode::Flexible, true, OnOff::Off);
        assert!(ids(&findings(&facts, &t)).contains(&id::SSL_FLEXIBLE));
        let hop = origin_hop(&facts, &t).unwrap();
        assert_eq!(hop.connect, Some(("origin.example.net".into(), 80)));
        assert_eq!(hop.scheme, Scheme::Ws);
        let strict = facts_with(OnOff::On, SslMode::Strict, true, OnOff::Off);
        assert_eq!(
            origin_hop(&strict, &t).unwrap().connect,
            Some(("origin.example.net".into(), 443))
        );
    }

    #[test]
    fn always_use_https_only_matters_for_ws_targets() {
        let facts = facts_with(OnOff::On, SslMode::Full, true, OnOff::On);
        let ws = Target::parse("ws://chat.example.com/ws").unwrap();
        let wss = Target::parse("wss://chat.example.com/ws").unwrap();
        assert!(ids(&findings(&facts, &ws)).contains(&id::ALWAYS_USE_HTTPS_WS));
        assert!(!ids(&findings(&facts, &wss)).contains(&id::ALWAYS_USE_HTTPS_WS));
    }

    #[test]
    fn discovery_builds_edge_then_origin_only_without_typed_hops() {
        let t = Target::parse("wss://chat.example.com/ws").unwrap();
        let f = facts_with(OnOff::Off, SslMode::Full, true, OnOff::Off);
        let d = discover(&f, &t, &[]);
        let hops = d.hops.expect("hops");
        assert_eq!(hops.len(), 2);
        assert_eq!(
            (hops[0].name.as_str(), hops[0].kind, hops[0].connect.clone()),
            ("edge", HopKind::Cdn, None)
        );
        assert_eq!(hops[1].connect, Some(("origin.example.net".into(), 443)));
        assert_eq!(d.edge, "edge");
        assert!(culprit_plan(&f, Some("edge"), &d.edge).is_some());
        assert!(culprit_plan(&f, Some("origin"), &d.edge).is_none());

        let typed = vec![
            crate::hop::HopSpec::parse("lb=127.0.0.1:1")
                .unwrap()
                .resolve(&t),
            crate::hop::HopSpec::parse("cf:cdn=127.0.0.1:2")
                .unwrap()
                .resolve(&t),
        ];
        let d = discover(&f, &t, &typed);
        assert_eq!((d.hops, d.edge.as_str()), (None, "cf"));
    }

    #[test]
    fn plan_turns_websockets_on_and_refuses_when_not_editable() {
        let zone = Zone {
            id: "z".into(),
            name: "example.com".into(),
        };
        let off = Setting {
            value: OnOff::Off,
            editable: true,
        };
        let plan = websockets_plan(&zone, &off).unwrap();
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(
            (
                plan.changes[0].before.as_str(),
                plan.changes[0].after.as_str()
            ),
            ("off", "on")
        );
        let on = Setting {
            value: OnOff::On,
            editable: true,
        };
        assert!(websockets_plan(&zone, &on).unwrap().is_empty());
        let locked = Setting {
            value: OnOff::Off,
            editable: false,
        };
        assert!(matches!(
            websockets_plan(&zone, &locked),
            Err(Error::NotEditable { .. })
        ));
    }
}

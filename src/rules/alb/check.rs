//! How `check` uses the ALB, so src/cli/discover.rs needs only a few lines: whether to read AWS
//! (`--aws`, `--no-aws`, or by default when the path names an ELB and credentials exist),
//! which hop is the load balancer, and where the healthy targets go in the hop list.

use super::{discover, elb_address, Discovery, Expectation};
use crate::finding::{Fact, Finding};
use crate::hop::{Hop, HopKind};
use crate::target::{Scheme, Target};
use crate::walk::CheckConfig;
use crate::Error;
use wspath_providers::aws_alb::{self, ClientOptions, LbRef, Protocol};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsMode {
    /// `--no-aws`.
    Off,
    /// Neither flag: read AWS when an address on the path is an ELB name and credentials exist.
    Auto,
    /// `--aws` or `--alb`: read AWS or fail.
    On,
}

impl AwsMode {
    pub fn from_flags(aws: bool, no_aws: bool, alb: bool) -> AwsMode {
        if no_aws {
            AwsMode::Off
        } else if aws || alb {
            AwsMode::On
        } else {
            AwsMode::Auto
        }
    }
}

/// The addresses on the path that could name the load balancer: every hop's connect host,
/// then the target's host (a direct check of an ELB name, or a CNAME target the caller adds).
pub fn path_addresses<'a>(hops: &'a [Hop], target: &'a Target) -> Vec<&'a str> {
    let mut out: Vec<&str> = hops
        .iter()
        .filter_map(|h| h.connect.as_ref().map(|(host, _)| host.as_str()))
        .collect();
    out.push(target.host.as_str());
    out
}

/// Reads the ALB for `check`, or says why not. `addresses`: where to look for an ELB name
/// when `alb` is not given (hop addresses, the target's host, the Cloudflare CNAME target).
///
/// `On` (`--aws`, `--alb`): every failure is the error. `Auto`: nothing on the path is an ELB,
/// or there are no credentials, is `Ok(None)` quietly; any other failure (credentials found but
/// the API unreachable, refused or slow) is one entry in `warnings` and `Ok(None)`, so a check
/// never fails, nor turns green silently, for a provider the user did not name.
pub async fn discover_for_check(
    mode: AwsMode,
    alb: Option<&str>,
    addresses: &[&str],
    client_options: &ClientOptions,
    exp: &Expectation,
    warnings: &mut Vec<String>,
) -> Result<Option<Discovery>, Error> {
    if mode == AwsMode::Off {
        return Ok(None);
    }
    let lb = match (alb, elb_address(addresses.iter().copied())) {
        (Some(a), _) => LbRef::parse(a),
        (None, Some(dns)) => LbRef::DnsName(dns.to_string()),
        (None, None) if mode == AwsMode::On => {
            return Err(Error::Provider(wspath_providers::Error::NotFound(
                "--aws: no load balancer to read; pass --alb NAME|ARN (no ELB DNS name *.elb.amazonaws.com is on the path)".into(),
            )))
        }
        (None, None) => return Ok(None),
    };
    // An ELB name says its region; it wins over the profile's default unless --region is given.
    let mut client_options = client_options.clone();
    if let (LbRef::DnsName(dns), None) = (&lb, &client_options.region) {
        client_options.region = aws_alb::region_of_dns_name(dns);
    }
    let mut skipped = |e: &dyn std::fmt::Display| {
        let w = format!(
            "AWS load balancer facts skipped: {e} (--aws makes this an error, --no-aws turns it off)"
        );
        tracing::warn!("{w}");
        warnings.push(w);
    };
    let client = match aws_alb::connect(&client_options).await {
        Ok(c) => c,
        // `connect` says Auth only when it finds no credentials at all: AWS is not in use here.
        Err(e @ wspath_providers::Error::Auth(_)) if mode == AwsMode::Auto => {
            tracing::info!("not reading AWS ({e}); pass --aws to make this an error");
            return Ok(None);
        }
        Err(e) if mode == AwsMode::Auto => {
            skipped(&e);
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    match discover(&client, &lb, exp).await {
        Ok(d) => Ok(Some(d)),
        Err(e) if mode == AwsMode::Auto => {
            skipped(&e);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The hop the ALB facts belong to: the one of kind lb, else the one that connects to an ELB
/// name, else the direct hop when the target itself is an ELB name.
pub fn lb_hop<'a>(hops: &'a [Hop], target: &Target) -> Option<&'a Hop> {
    hops.iter()
        .find(|h| h.kind == HopKind::Lb)
        .or_else(|| {
            hops.iter().find(|h| {
                h.connect
                    .as_ref()
                    .is_some_and(|(host, _)| aws_alb::is_elb_dns_name(host))
            })
        })
        .or_else(|| {
            hops.iter()
                .find(|h| h.connect.is_none() && aws_alb::is_elb_dns_name(&target.host))
        })
}

/// Appends the healthy targets as backend hops after the lb hop, unless the user already named
/// hops behind it (their hops win). Returns how many were added.
pub fn add_next_hops(hops: &mut Vec<Hop>, d: &Discovery, target: &Target) -> usize {
    let Some(pos) = lb_hop(hops, target).and_then(|lb| hops.iter().position(|h| h.name == lb.name))
    else {
        return 0;
    };
    if pos + 1 != hops.len() {
        return 0;
    }
    let new: Vec<Hop> = d
        .next_hops
        .iter()
        .enumerate()
        .map(|(i, h)| h.to_hop(i + 1, target))
        .filter(|h| !hops.iter().any(|x| x.name == h.name))
        .collect();
    let n = new.len();
    hops.extend(new);
    n
}

/// What `check` attaches to the lb hop after the walk.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbAttachment {
    pub hop: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
}

/// The whole ALB step of `check`, before the walk: decide whether to read AWS, read it, make
/// sure the path has an lb hop (adding one at the ALB's DNS name when the user named none),
/// and put the healthy targets behind it. `extra_addresses`: e.g. the Cloudflare CNAME target.
/// `exp`: how traffic reaches the ALB; `None` means clients connect to it directly.
pub async fn prepare(
    mode: AwsMode,
    alb: Option<&str>,
    extra_addresses: &[&str],
    mut client_options: ClientOptions,
    exp: Option<Expectation>,
    config: &mut CheckConfig,
    warnings: &mut Vec<String>,
) -> Result<Option<AlbAttachment>, Error> {
    let mut addresses = path_addresses(&config.hops, &config.target);
    addresses.extend_from_slice(extra_addresses);
    let mut exp = exp
        .or_else(|| {
            lb_hop(&config.hops, &config.target)
                .and_then(|h| Expectation::for_hop(h, &config.target))
        })
        .unwrap_or_else(|| Expectation::for_target(&config.target));
    if exp.idle.is_none() {
        exp.idle = config.probe.idle;
    }
    client_options.timeout = config.probe.timeout;
    let Some(d) =
        discover_for_check(mode, alb, &addresses, &client_options, &exp, warnings).await?
    else {
        return Ok(None);
    };
    let found = lb_hop(&config.hops, &config.target).map(|h| h.name.clone());
    let hop = match found {
        Some(name) => {
            // A hop found by its ELB address (e.g. Cloudflare's `origin`) is the load balancer.
            if let Some(h) = config.hops.iter_mut().find(|h| h.name == name) {
                if h.kind == HopKind::Unknown {
                    h.kind = HopKind::Lb;
                }
            }
            name
        }
        None => {
            let hop = Hop {
                name: unique_name(&config.hops, "lb"),
                kind: HopKind::Lb,
                connect: Some((d.dns_name.clone(), exp.listener_port)),
                scheme: if exp.listener_protocol == Protocol::Https {
                    Scheme::Wss
                } else {
                    Scheme::Ws
                },
                path: config.target.path.clone(),
                scheme_inherited: false,
            };
            // Outside any proxy or backend hop the user named, inside the edge.
            let pos = config
                .hops
                .iter()
                .position(|h| matches!(h.kind, HopKind::Proxy | HopKind::Backend))
                .unwrap_or(config.hops.len());
            let name = hop.name.clone();
            config.hops.insert(pos, hop);
            name
        }
    };
    add_next_hops(&mut config.hops, &d, &config.target);
    Ok(Some(AlbAttachment {
        hop,
        findings: d.findings,
        facts: d.facts,
    }))
}

fn unique_name(hops: &[Hop], base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while hops.iter().any(|h| h.name == name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::alb::NextHop;
    use crate::target::Scheme;

    #[test]
    fn modes() {
        assert_eq!(AwsMode::from_flags(false, true, true), AwsMode::Off);
        assert_eq!(AwsMode::from_flags(false, false, true), AwsMode::On);
        assert_eq!(AwsMode::from_flags(false, false, false), AwsMode::Auto);
    }

    #[test]
    fn next_hops_follow_the_lb_hop() {
        let target = Target::parse("wss://app.example.com/ws").expect("target");
        let lb = Hop {
            name: "alb".into(),
            kind: HopKind::Lb,
            connect: Some(("x-1.us-east-1.elb.amazonaws.com".into(), 443)),
            scheme: Scheme::Wss,
            path: "/ws".into(),
            scheme_inherited: false,
        };
        let mut hops = vec![lb.clone()];
        let d = Discovery {
            load_balancer: "x".into(),
            dns_name: "x-1.us-east-1.elb.amazonaws.com".into(),
            facts: vec![],
            findings: vec![],
            next_hops: vec![NextHop {
                target_group: "ws".into(),
                address: "10.0.0.1:8080".parse().expect("addr"),
                tls: false,
            }],
        };
        assert_eq!(add_next_hops(&mut hops, &d, &target), 1);
        assert_eq!(hops[1].name, "ws-1");
        assert_eq!(hops[1].scheme, Scheme::Ws);
        assert_eq!(hops[1].connect, Some(("10.0.0.1".into(), 8080)));
        // The user's own hops behind the lb win.
        let mut hops = vec![lb, hops[1].clone()];
        hops[1].name = "nginx".into();
        assert_eq!(add_next_hops(&mut hops, &d, &target), 0);
    }
}

//! How `check` uses the ALB, so src/cli/check.rs needs only a few lines: whether to read AWS
//! (`--aws`, `--no-aws`, or by default when the path names an ELB and credentials exist),
//! which hop is the load balancer, and where the healthy targets go in the hop list.

use super::{discover, elb_address, Discovery, Expectation};
use crate::hop::{Hop, HopKind};
use crate::target::Target;
use crate::Error;
use wspath_providers::aws_alb::{self, ClientOptions, LbRef};

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

/// Reads the ALB for `check`, or says why not (`Ok(None)` in `Auto` mode when nothing on the
/// path is an ELB or there are no credentials). `extra_addresses`: e.g. the Cloudflare
/// record's CNAME target.
pub async fn discover_for_check(
    mode: AwsMode,
    alb: Option<&str>,
    addresses: &[&str],
    client_options: &ClientOptions,
    exp: &Expectation,
) -> Result<Option<Discovery>, Error> {
    if mode == AwsMode::Off {
        return Ok(None);
    }
    let lb = match (alb, elb_address(addresses.iter().copied())) {
        (Some(a), _) => LbRef::parse(a),
        (None, Some(dns)) => LbRef::DnsName(dns.to_string()),
        (None, None) if mode == AwsMode::On => {
            return Err(Error::InvalidFlag {
                flag: "--aws",
                input: String::new(),
                reason: "no --alb NAME|ARN and no ELB DNS name (*.elb.amazonaws.com) on the path"
                    .into(),
            })
        }
        (None, None) => return Ok(None),
    };
    let client = match aws_alb::connect(client_options).await {
        Ok(c) => c,
        Err(e) if mode == AwsMode::Auto => {
            tracing::info!("not reading AWS ({e}); pass --aws to make this an error");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    discover(&client, &lb, exp).await.map(Some)
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
        };
        let mut hops = vec![lb.clone()];
        let d = Discovery {
            load_balancer: "x".into(),
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

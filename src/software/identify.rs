//! Which software runs at each hop, from evidence: the clues in the hop's own answer that the
//! hop behind it does not show too (those it merely passed on), then provider facts; the hop's
//! name is only a prior, used when the evidence is silent and reported when the evidence
//! disagrees ("named nginx, answered like Apache httpd").

use super::answered_by::Clue;
use super::{Software, TABLES};
use crate::finding::Fact;
use crate::hop::HopKind;
use crate::report::HopReport;
use crate::verdict::Verdict;
use serde::Serialize;

/// A hop's answer to a request it answers itself (a plain GET without Host).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnAnswer {
    /// What was sent, in words for the evidence line.
    pub request: &'static str,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// At a TLS hop: the issuer of the certificate it presented.
    pub issuer: Option<String>,
}

/// Whether an own answer names some software other than an application library.
pub fn names_software(a: &OwnAnswer) -> bool {
    seen_in(Some(a.status), &a.headers, &a.body)
        .iter()
        .any(|s| s.software != Software::BackendLibrary)
}

/// How sure the identification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Only the hop's name says so.
    Low,
    /// A header the software adds (`Via`, `X-Varnish`), or a `Server` header.
    Medium,
    /// The software's own error page, or a provider's facts.
    High,
}

/// What runs at a hop, and why wspath thinks so (JSON `software`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identified {
    #[serde(serialize_with = "software_name")]
    pub name: Software,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub confidence: Confidence,
    /// The lines of evidence that identified it.
    pub evidence: Vec<String>,
    /// The software the hop's name suggests, when the evidence says otherwise.
    #[serde(skip)]
    pub named: Option<Software>,
}

fn software_name<S: serde::Serializer>(s: &Software, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

impl Identified {
    /// "named nginx, answered like Apache httpd" when the name and the evidence disagree.
    pub fn disagreement(&self) -> Option<String> {
        let named = self.named.filter(|n| *n != self.name)?;
        Some(format!(
            "named {}, answered like {}",
            named.display(),
            self.name.display()
        ))
    }
}

/// One clue found in an answer: the software, the clue's strength, the evidence line.
#[derive(Debug, Clone)]
struct Seen {
    software: Software,
    tier: u8,
    line: String,
    /// The clue is the words of an error page (not a header a proxy may pass on).
    page: bool,
}

/// Every software clue in one answer (status, headers, body), strongest first.
fn seen_in(status: Option<u16>, headers: &[(String, String)], body: &str) -> Vec<Seen> {
    let Some(status) = status else {
        return Vec::new();
    };
    let body = body.to_ascii_lowercase();
    let mut seen: Vec<Seen> = TABLES
        .iter()
        .flat_map(|t| t.recognise.iter())
        .filter(|(c, _)| c.matches(status, headers, &body))
        .filter_map(|(c, who)| {
            let software = Software::from_answered_by(who.as_str())?;
            Some(Seen {
                software,
                tier: c.tier(),
                line: evidence_line(c, headers),
                page: matches!(
                    c,
                    Clue::Body(_) | Clue::BareBodyIs(_) | Clue::ServerBodyIs(..)
                ),
            })
        })
        .collect();
    seen.sort_by_key(|s| s.tier);
    seen
}

/// The clue, quoting the header it matched where there is one ("Server: h2o/2.2.5").
fn evidence_line(clue: &Clue, headers: &[(String, String)]) -> String {
    let quote = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, v)| format!("{n}: {v}"))
    };
    // Only headers that carry no secrets are quoted (never Set-Cookie).
    const QUOTED: &[&str] = &[
        "x-varnish",
        "x-cache",
        "x-cache-lookup",
        "x-squid-error",
        "cf-ray",
        "x-amz-cf-id",
        "keep-alive",
    ];
    match clue {
        Clue::Server(_) => quote("server"),
        Clue::Via(_) => quote("via"),
        Clue::Header(n, _) | Clue::HeaderIs(n, _) if QUOTED.contains(n) => quote(n),
        _ => None,
    }
    .unwrap_or_else(|| clue.describe())
}

/// A version number after `name/` in the answer's headers or body ("h2o/2.2.5" → "2.2.5").
fn version_of(software: Software, headers: &[(String, String)], body: &str) -> Option<String> {
    let mark = format!("{}/", software.name());
    let texts = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("server") || n.eq_ignore_ascii_case("via"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .chain(std::iter::once(body.to_ascii_lowercase()));
    for text in texts {
        if let Some(at) = text.find(&mark) {
            let v: String = text[at + mark.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let v = v.trim_end_matches('.');
            if !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The answer a hop gave, as identification reads it.
fn answer(hop: &HopReport) -> (Option<u16>, &[(String, String)], &str) {
    let e = &hop.outcome.evidence;
    (
        e.status,
        &e.headers,
        e.body_snippet.as_deref().unwrap_or(""),
    )
}

/// Identifies every hop of a path (outermost first).
pub fn identify_hops(hops: &mut [HopReport]) {
    let seen: Vec<Vec<Seen>> = hops
        .iter()
        .map(|h| {
            let (status, headers, body) = answer(h);
            seen_in(status, headers, body)
        })
        .collect();
    for i in 0..hops.len() {
        let behind = seen.get(i + 1);
        let innermost = i + 1 == hops.len();
        // A gateway error page in front of a hop that upgrades when probed directly was not
        // passed on from it: the hop made it, even when the hop behind runs the same software
        // (nginx in front of nginx) and so shows that software's headers too.
        let own_gateway_page = matches!(
            hops[i].outcome.verdict,
            Verdict::BadGateway | Verdict::ServiceUnavailable | Verdict::GatewayTimeout
        ) && hops.get(i + 1).is_some_and(|b| {
            matches!(
                b.outcome.verdict,
                Verdict::Upgraded | Verdict::FramesFailed | Verdict::IdleDropped
            )
        });
        let own: Vec<&Seen> = seen[i]
            .iter()
            // An application's words come from the application, wherever they are read —
            // unless this hop is the innermost, where the application is the hop.
            .filter(|s| innermost || s.software != Software::BackendLibrary)
            // What the hop behind shows too, it passed on.
            .filter(|s| {
                (own_gateway_page && s.page)
                    || !behind.is_some_and(|b| b.iter().any(|x| x.software == s.software))
            })
            .collect();
        let mut own = own_evidence(&own);
        // The innermost hop listed may be a proxy in front of an application nobody listed:
        // its upgrade answer carries the application's words, while its own answer names
        // the proxy (Apache passes the backend's `Server` on with the 101). The proxy it is.
        let only_the_app = !own.is_empty()
            && own.iter().all(|(s, ..)| *s == Software::BackendLibrary)
            && hops[i].own_answer.as_ref().is_some_and(names_software);
        if innermost && only_the_app {
            own.clear();
        }
        // No evidence in the upgrade answer: the hop's answer to a request it answers itself,
        // minus what the hop behind shows in its own.
        if own.is_empty() {
            if let Some(a) = &hops[i].own_answer {
                let behind: Vec<Software> = hops
                    .get(i + 1)
                    .and_then(|b| b.own_answer.as_ref())
                    .map(|b| {
                        seen_in(Some(b.status), &b.headers, &b.body)
                            .into_iter()
                            .map(|s| s.software)
                            .collect()
                    })
                    .unwrap_or_default();
                own = seen_in(Some(a.status), &a.headers, &a.body)
                    .into_iter()
                    .filter(|s| s.software != Software::BackendLibrary)
                    .filter(|s| !behind.contains(&s.software))
                    .map(|s| {
                        (
                            s.software,
                            s.tier,
                            format!("its own answer to {} ({}): {}", a.request, a.status, s.line),
                        )
                    })
                    .collect();
            }
        }
        // The certificate's issuer, read at a TLS hop: a CA or default certificate only one
        // software makes. It names the hop when nothing else does, and backs up the same name.
        if let Some((software, line)) = hops[i]
            .own_answer
            .as_ref()
            .and_then(|a| a.issuer.as_deref())
            .and_then(issuer_names)
        {
            match own.first() {
                None => own.push((software, 1, line)),
                Some((first, ..)) if *first == software => own.push((software, 1, line)),
                Some(_) => {}
            }
        }
        // The probe's own verdict on who answered counts too, unless the hop behind gave the
        // same answer (it was passed on).
        let answered_by = hops[i].outcome.evidence.answered_by;
        if own.is_empty() && answered_by.is_intermediary() {
            let behind = hops.get(i + 1).map(|b| b.outcome.evidence.answered_by);
            // Without a clue of its own, only where that software usually sits: an lb hop
            // answered by nginx is rather HAProxy passing nginx's answer on.
            let kind = hops[i].kind;
            let fits = |s: &Software| kind == HopKind::Unknown || s.natural_kind() == kind;
            if behind != Some(answered_by) {
                if let Some(software) =
                    Software::from_answered_by(answered_by.as_str()).filter(fits)
                {
                    own.push((software, 3, format!("answered_by: {answered_by}")));
                }
            }
        }
        let hop = &hops[i];
        let mut identified = identify(&hop.name, &own, &hop.facts, answer(hop));
        if let (Some(id), Some(a)) = (identified.as_mut(), &hop.own_answer) {
            if id.version.is_none() {
                id.version = version_of(id.name, &a.headers, &a.body);
            }
        }
        hops[i].software = identified;
    }
}

/// The software a certificate issuer names, by the tables' [`Clue::Issuer`] entries, with the
/// evidence line.
pub fn issuer_names(issuer: &str) -> Option<(Software, String)> {
    let lower = issuer.to_ascii_lowercase();
    TABLES.iter().find_map(|t| {
        t.recognise.iter().find_map(|(clue, _)| match clue {
            Clue::Issuer(mark) if lower.contains(mark) => {
                Some((t.software, format!("certificate issuer: {issuer}")))
            }
            _ => None,
        })
    })
}

fn own_evidence(own: &[&Seen]) -> Vec<(Software, u8, String)> {
    own.iter()
        .map(|s| (s.software, s.tier, s.line.clone()))
        .collect()
}

/// What runs at one hop: `own` is the evidence the hop's answer carries of its own (strongest
/// first), `facts` what providers read about it; `name` is only a prior.
pub fn identify(
    name: &str,
    own: &[(Software, u8, String)],
    facts: &[Fact],
    (_, headers, body): (Option<u16>, &[(String, String)], &str),
) -> Option<Identified> {
    let named = Software::from_hop_name(name);
    if let Some((software, fact)) = facts
        .iter()
        .find_map(|f| Software::from_fact_source(&f.source).map(|s| (s, f)))
    {
        return Some(Identified {
            name: software,
            version: None,
            confidence: Confidence::High,
            evidence: vec![format!("{} facts read for this hop", fact.source)],
            named,
        });
    }
    if let Some((software, tier, _)) = own.first() {
        let evidence: Vec<String> = own
            .iter()
            .filter(|(s, ..)| s == software)
            .map(|(.., line)| line.clone())
            .collect();
        return Some(Identified {
            name: *software,
            version: version_of(*software, headers, body),
            confidence: if *tier <= 1 {
                Confidence::High
            } else {
                Confidence::Medium
            },
            evidence,
            named,
        });
    }
    named.map(|software| Identified {
        name: software,
        version: None,
        confidence: Confidence::Low,
        evidence: vec![format!(
            "the hop's name '{name}' (its answer carries no evidence of its own)"
        )],
        named,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_issuers_that_name_software() {
        let (s, line) = issuer_names("CN=TRAEFIK DEFAULT CERT").unwrap();
        assert_eq!(s, Software::Traefik);
        assert_eq!(line, "certificate issuer: CN=TRAEFIK DEFAULT CERT");
        let (s, _) = issuer_names("CN=Caddy Local Authority - ECC Intermediate").unwrap();
        assert_eq!(s, Software::Caddy);
        assert_eq!(issuer_names("C=US, O=Let's Encrypt, CN=R3"), None);
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn own(status: u16, headers: &[(String, String)], body: &str) -> Vec<(Software, u8, String)> {
        seen_in(Some(status), headers, body)
            .into_iter()
            .filter(|s| s.software != Software::BackendLibrary)
            .map(|s| (s.software, s.tier, s.line))
            .collect()
    }

    #[test]
    fn evidence_beats_the_name() {
        let headers = h(&[("Server", "Apache/2.4.71 (Debian)")]);
        let body = "<address>Apache/2.4.71 (Debian) Server at app.test Port 80</address>";
        let id = identify(
            "nginx",
            &own(404, &headers, body),
            &[],
            (Some(404), &headers, body),
        )
        .unwrap();
        assert_eq!(id.name, Software::Apache);
        assert_eq!(id.version.as_deref(), Some("2.4.71"));
        assert_eq!(id.confidence, Confidence::High);
        assert_eq!(
            id.disagreement().as_deref(),
            Some("named nginx, answered like Apache httpd")
        );
    }

    #[test]
    fn via_and_server_headers_name_proxies_that_pass_the_backends_server_on() {
        let headers = h(&[
            ("Server", "Python/3.11 websockets/17.4"),
            ("X-Varnish", "32770"),
            ("Via", "1.1 varnish (Varnish/7.1)"),
        ]);
        let id = identify(
            "cache",
            &own(426, &headers, ""),
            &[],
            (Some(426), &headers, ""),
        )
        .unwrap();
        assert_eq!(id.name, Software::Varnish);
        assert_eq!(id.version.as_deref(), Some("7.1"));
        assert!(
            id.evidence.contains(&"X-Varnish: 32770".to_string()),
            "{:?}",
            id.evidence
        );
        let headers = h(&[("Server", "h2o/2.2.5")]);
        let id = identify(
            "proxy",
            &own(101, &headers, ""),
            &[],
            (Some(101), &headers, ""),
        )
        .unwrap();
        assert_eq!(
            (id.name, id.version.as_deref()),
            (Software::H2o, Some("2.2.5"))
        );
        let headers = h(&[("Server", "lighttpd/1.4.69")]);
        let id = identify(
            "proxy",
            &own(501, &headers, ""),
            &[],
            (Some(501), &headers, ""),
        )
        .unwrap();
        assert_eq!(id.name, Software::Lighttpd);
    }

    #[test]
    fn an_innermost_proxy_passing_the_apps_answer_on_is_named_by_its_own_answer() {
        use crate::hop::HopSpec;
        use crate::target::Target;
        let t = Target::parse("wss://app.test/ws").unwrap();
        let spec = HopSpec::parse("edge=127.0.0.1:443").unwrap().resolve(&t);
        let mut o = crate::report::sample::outcome(
            crate::verdict::Verdict::Upgraded,
            Some(101),
            "python-websockets",
        );
        o.evidence.headers = h(&[("Server", "Python/3.11 websockets/17.4")]);
        let mut hops = [HopReport::new(&spec, &t, o)];
        identify_hops(&mut hops);
        assert_eq!(
            hops[0].software.as_ref().map(|s| s.name),
            Some(Software::BackendLibrary)
        );
        // Apache TLS in front of an unlisted app passes the app's Server header on with the
        // 101; its own answer is Apache's.
        hops[0].own_answer = Some(OwnAnswer {
            request: "a test",
            status: 400,
            headers: h(&[("Server", "Apache/2.4.71 (Debian)")]),
            ..OwnAnswer::default()
        });
        identify_hops(&mut hops);
        let id = hops[0].software.as_ref().unwrap();
        assert_eq!(id.name, Software::Apache);
        assert_eq!(id.version.as_deref(), Some("2.4.71"));
    }

    #[test]
    fn the_name_is_a_low_prior_when_the_answer_is_silent() {
        let id = identify("haproxy", &[], &[], (Some(101), &[], "")).unwrap();
        assert_eq!(
            (id.name, id.confidence),
            (Software::Haproxy, Confidence::Low)
        );
        assert_eq!(id.disagreement(), None);
        assert_eq!(identify("lb", &[], &[], (Some(101), &[], "")), None);
    }

    #[test]
    fn facts_win_over_names_and_answers() {
        let facts = [Fact {
            source: "aws_alb".into(),
            name: "idle_timeout.timeout_seconds".into(),
            value: "60".into(),
        }];
        let headers = h(&[("Server", "nginx")]);
        let id = identify(
            "lb",
            &own(502, &headers, ""),
            &facts,
            (Some(502), &headers, ""),
        )
        .unwrap();
        assert_eq!(
            (id.name, id.confidence),
            (Software::AwsElb, Confidence::High)
        );
    }
}

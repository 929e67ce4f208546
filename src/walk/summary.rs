//! The culprit's one sentence: what broke, the evidence, and the fix (pure).
//!
//! Built from the selected hop's outcome, the idle-default and fix-hint tables, and — once the
//! nginx analyzer or a provider has attached them — the hop's error-level findings, whose fix is
//! more precise than any general hint.

use super::culprit::{self, Selection, Tier};
use super::idle::{self, IdleMatch};
use crate::finding::{Finding, Severity};
use crate::hop::HopKind;
use crate::probe::ProbeOutcome;
use crate::report::{Culprit, HopReport, Protocol};
use crate::software::advice::{self as hints, HintKey, Inner};
use crate::software::Software;
use crate::verdict::Verdict;

/// Marks consequences on `hops` and names the culprit, if any. `host` is the target's host
/// (for hints that mention SNI or DNS).
pub fn judge(hops: &mut [HopReport], host: &str) -> Option<Culprit> {
    crate::software::identify::identify_hops(hops);
    let selection = {
        let outcomes: Vec<&ProbeOutcome> = hops.iter().map(|h| &h.outcome).collect();
        culprit::select(&outcomes)
    };
    for (i, hop) in hops.iter_mut().enumerate() {
        hop.consequence = selection
            .as_ref()
            .is_some_and(|s| s.consequences.contains(&i));
        hop.idle_setting = own_idle_setting(hop);
    }
    match selection {
        Some(selection) => Some(compose(hops, &selection, host)),
        // Every hop upgrades over HTTP/1.1: what remains is the path HTTP/2 clients take.
        None => super::http2::compose(hops, super::http2::select(hops)?),
    }
}

/// The known idle setting a hop's own drop matches: its identified software's, or the one
/// candidate its kind leaves. `None` when the drop was passed on from further in (a
/// consequence), or when several pieces of software could explain it.
fn own_idle_setting(hop: &HopReport) -> Option<String> {
    if hop.consequence {
        return None;
    }
    let idle = hop.outcome.idle.as_ref().filter(|i| i.dropped)?;
    let elapsed_ms = idle.dropped_after_ms.unwrap_or(idle.held_ms);
    let software = hop.software.as_ref().map(|s| s.name);
    match idle::explain(software, hop.kind, elapsed_ms).as_slice() {
        [first, ..] if software.is_some() => Some(first.default.setting.to_string()),
        [only] => Some(only.default.setting.to_string()),
        _ => None,
    }
}

fn compose(hops: &[HopReport], s: &Selection, host: &str) -> Culprit {
    let hop = &hops[s.culprit];
    let o = &hop.outcome;
    let software = hop.software.as_ref().map(|s| s.name);
    let inner = hops.get(s.culprit + 1);
    let (what, mut general_fix) = match s.tier {
        Tier::Idle => idle_sentence(hop, software, inner),
        Tier::Handshake | Tier::Frames => {
            let sent_path = url_path(&hop.url);
            let location = header(o, "location");
            let detail = lookup_detail(
                o,
                software,
                sent_path,
                location.as_deref(),
                inner.map(|i| i.url.as_str()),
            );
            let key = HintKey {
                verdict: o.verdict,
                software,
                kind: hop.kind,
                status: o.evidence.status,
                detail: &detail,
                inner: inner_answer(o, inner.map(|i| &i.outcome)),
            };
            let inner_ms = inner
                .and_then(|i| i.outcome.timings.first_byte)
                .map(duration);
            // No answer at all: how long the hop kept the connection before it gave up.
            let hop_ms = Some(duration(o.timings.first_byte.unwrap_or(o.timings.total)));
            let with = hints::Fill {
                address: &hop.address,
                host,
                location: location.as_deref(),
                inner: inner.map(|i| (i.name.as_str(), i.address.as_str())),
                inner_ms: inner_ms.as_deref(),
                hop_ms: hop_ms.as_deref(),
            };
            // What the backend said to the request this hop forwarded, against what it said to
            // wspath's own: the change names the fix better than any row for the status.
            let changed = crate::software::change::infer(
                o,
                software,
                key.inner >= Inner::Upgrades,
                sent_path,
            )
            .map(|c| {
                let text = crate::software::change::clause(&c, sent_path)
                    + &crate::software::change::fix(c.change, software);
                hints::fill(&text, &with)
            });
            let fix = changed.or_else(|| hints::lookup(&key).map(|h| hints::fill(h.fix, &with)));
            (handshake_sentence(hop, software), fix)
        }
    };
    // The name is only a prior: say so when the evidence names other software.
    let disagreement = hop
        .software
        .as_ref()
        .and_then(|s| s.disagreement())
        .map(|d| format!("; {d}"))
        .unwrap_or_default();
    let mut summary = format!("{} ({}{disagreement}) {what}", hop.name, hop.address);
    if !s.deeper.is_empty() {
        let deeper: Vec<String> = s
            .deeper
            .iter()
            .map(|&i| format!("{} ({})", hops[i].name, hops[i].outcome.verdict.title()))
            .collect();
        summary.push_str(&format!("; further in also failing: {}", deeper.join(", ")));
    }
    if let Some((clause, fix)) = working_in_front(hops, s) {
        summary.push_str(&clause);
        if fix.is_some() {
            general_fix = fix;
        }
    }
    let explaining = explaining_finding(&hop.findings);
    if let Some(f) = explaining {
        summary.push_str(&format!("; {}: {}", where_found(f), f.message));
    }
    let fix = explaining.and_then(|f| f.fix.clone()).or(general_fix);
    if let Some(fix) = &fix {
        summary.push_str(" — ");
        summary.push_str(fix);
    }
    if let Some(clause) = masked_in_front(hops, s) {
        summary.push_str(&clause);
    }
    Culprit {
        hop: hop.name.clone(),
        kind: hop.kind,
        verdict: if s.tier == Tier::Idle {
            Verdict::IdleDropped
        } else {
            o.verdict
        },
        summary,
        fix,
        protocol: Protocol::Http1,
        browser: None,
    }
}

/// A stripped upgrade hides whatever the hops in front would do with it: they pass the same
/// refusal on, so one of them stripping Upgrade too cannot show until the culprit is fixed.
fn masked_in_front(hops: &[HopReport], s: &Selection) -> Option<String> {
    if s.tier != Tier::Handshake || hops[s.culprit].outcome.verdict != Verdict::UpgradeStripped {
        return None;
    }
    let masked: Vec<&str> = s
        .consequences
        .iter()
        .filter(|&&i| hops[i].outcome.verdict == Verdict::UpgradeStripped)
        .map(|&i| hops[i].name.as_str())
        .collect();
    if masked.is_empty() {
        return None;
    }
    Some(format!(
        "; then check again: {} in front pass{} the same refusal on, so whether {} strip{} Upgrade too shows only once this is fixed",
        masked.join(" and "),
        if masked.len() == 1 { "es" } else { "" },
        if masked.len() == 1 { "it" } else { "they" },
        if masked.len() == 1 { "s" } else { "" },
    ))
}

/// When hops in front of the culprit work while it fails, their traffic does not (always) go
/// through the culprit as it was probed: another server of their pool or another address
/// answers there, or (for a refusal) the culprit is sent another path or Host. Worth saying:
/// the path may work for some clients, and the list of hops may be wrong. The clause for the
/// summary, and for a refusal the fix that replaces the general one.
fn working_in_front(hops: &[HopReport], s: &Selection) -> Option<(String, Option<String>)> {
    let hop = &hops[s.culprit];
    let working: Vec<&str> = hops[..s.culprit]
        .iter()
        .filter(|h| !s.tier.fails(&h.outcome))
        .map(|h| h.name.as_str())
        .collect();
    let nearest = *working.last()?;
    let (verb, them) = match (s.tier, working.len()) {
        (Tier::Handshake, 1) => ("upgrades", "it"),
        (Tier::Handshake, _) => ("upgrade", "them"),
        (Tier::Frames, 1) => ("carries frames", "it"),
        (Tier::Frames, _) => ("carry frames", "them"),
        (Tier::Idle, 1) => ("holds", "it"),
        (Tier::Idle, _) => ("hold", "them"),
    };
    let names = working.join(" and ");
    // Every hop is probed with the target's path and Host; a `proxy_pass` URI, a rewrite or
    // nginx's default `Host: $proxy_host` change what the hop behind really gets.
    if s.tier == Tier::Handshake && hop.outcome.verdict == Verdict::Rejected {
        let clause = format!(
            "; yet {names} in front {verb}, so what reaches {} through {them} differs from this probe",
            hop.name
        );
        let fix = format!(
            "probe {} with the path {nearest} really sends it (a `proxy_pass` URI or a rewrite changes it): `--hop {}={}://{}/PATH` (this probe sent {}); the Host header may differ too (nginx sends `$proxy_host` unless `proxy_set_header Host` says otherwise); if both are the same, another server of the pool answers there",
            hop.name,
            hop.name,
            hop.url.split("://").next().unwrap_or("ws"),
            hop.address,
            hop.url
        );
        return Some((clause, Some(fix)));
    }
    // A wss:// probe that finds a plain port behind a hop that upgrades: TLS most likely ends
    // at that hop, and a bare `--hop NAME=HOST:PORT` took the target's scheme.
    let plain_port = {
        let detail = hop.outcome.detail.to_ascii_lowercase();
        hop.outcome.verdict == Verdict::TlsFailed
            && hop.url.starts_with("wss://")
            && PLAIN_PORT_WORDS.iter().any(|w| detail.contains(w))
    };
    if s.tier == Tier::Handshake && plain_port {
        let clause = format!(
            "; yet {names} in front {verb}: TLS most likely ends at {nearest}, and {} speaks plain HTTP behind it",
            hop.name
        );
        let fix = format!(
            "probe it as plain ws:// (`--hop {}=ws://{}`): a hop given as a bare address is probed with the target's scheme (this probe sent {}); only if {nearest} really speaks TLS to it is the TLS setup at {} to fix",
            hop.name, hop.address, hop.url, hop.address
        );
        return Some((clause, Some(fix)));
    }
    let clause = format!(
        "; yet {names} in front {verb}, so traffic through {them} does not always reach {} at {}: another server of its pool, or another address, answers there",
        hop.name, hop.address
    );
    Some((clause, None))
}

/// How the probe words a TLS handshake that met a port speaking plain HTTP (or hanging up on
/// the ClientHello, as plain WebSocket servers do).
const PLAIN_PORT_WORDS: &[&str] = &[
    "plain http",
    "did not answer with tls",
    "corrupt message",
    "invalidcontenttype",
    "closed the connection during the tls handshake",
];

/// The finding that explains the culprit: the first error-level one attached to it.
fn explaining_finding(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().find(|f| f.severity == Severity::Error)
}

fn where_found(f: &Finding) -> String {
    match &f.location {
        Some(l) => format!("{} at {l}", f.id),
        None => f.id.clone(),
    }
}

/// "strips Upgrade: behind it the backend answered 505 '…'" and the like.
fn handshake_sentence(hop: &HopReport, software: Option<Software>) -> String {
    let o = &hop.outcome;
    let answered = Software::from_answered_by(&o.evidence.answered_by.to_string());
    let by_itself = answered.is_some() && answered == software;
    let answer = answer(o);
    // Who produced the answer matters: nginx passes the backend's 426 through unchanged.
    let who_answered = match answered {
        _ if by_itself => format!("it answered {answer}"),
        Some(Software::BackendLibrary) if hop.kind != HopKind::Backend => {
            format!("behind it the backend answered {answer}")
        }
        Some(Software::BackendLibrary) | None => format!("it answered {answer}"),
        Some(other) => format!("behind it {} answered {answer}", other.display()),
    };
    let detail = if o.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", o.detail)
    };
    match o.verdict {
        Verdict::UpgradeStripped
            if hop.kind == HopKind::Backend || software == Some(Software::BackendLibrary) =>
        {
            format!("does not see the upgrade: {who_answered}")
        }
        Verdict::UpgradeStripped => format!("strips Upgrade: {who_answered}"),
        Verdict::Rejected => format!("rejects the upgrade: {who_answered}"),
        Verdict::Redirect => format!(
            "redirects the upgrade ({}) to {}",
            status_text(o),
            header(o, "location").unwrap_or_else(|| "an unnamed location".into())
        ),
        Verdict::BadGateway | Verdict::ServiceUnavailable | Verdict::GatewayTimeout => {
            match answered {
                Some(other) if !by_itself && other != Software::BackendLibrary => {
                    format!("answers {answer} (produced by {})", other.display())
                }
                _ => format!("answers {answer}"),
            }
        }
        Verdict::BadAccept => format!("answers 101 with a wrong handshake{detail}"),
        Verdict::DnsFailed => format!("cannot be resolved{detail}"),
        Verdict::ConnectRefused => format!("refuses the connection{detail}"),
        Verdict::ConnectTimeout => format!("does not accept the connection in time{detail}"),
        Verdict::TlsFailed => format!("fails the TLS handshake{detail}"),
        // The probe's detail usually says just that again.
        Verdict::NoResponse if o.detail.contains("without answering") => {
            "closes the connection without answering".to_string()
        }
        Verdict::NoResponse => format!("closes the connection without answering{detail}"),
        Verdict::Timeout => format!("does not answer in time{detail}"),
        Verdict::MalformedResponse => format!("answers something that is not HTTP/1.1{detail}"),
        // A close frame is the server deciding, not frames getting lost on the way.
        Verdict::FramesFailed if o.detail.contains(CLOSED_WITH_CODE) => {
            // "ping: the server closed …": the detail names what it was waiting for already.
            let what = o
                .detail
                .split_once(": the server")
                .map_or(o.detail.as_str(), |(_, r)| r);
            format!("accepts the upgrade, but the server{what}")
        }
        Verdict::FramesFailed if o.detail.contains("echo mismatch") => {
            format!("upgrades and answers, but not with the echo{detail}")
        }
        Verdict::FramesFailed if hop.kind == HopKind::Backend => {
            format!("accepts the upgrade but does not answer{detail}")
        }
        Verdict::FramesFailed => format!("upgrades but does not carry frames{detail}"),
        Verdict::IdleDropped => format!("drops the idle WebSocket{detail}"),
        Verdict::Upgraded => "upgrades".to_string(),
    }
}

/// The path (and query) of a hop's URL, `/` when it has none.
/// The probe's detail, with what the answer shows beside the request that got it, in the words
/// the advice rows key on ([`hints::ADDS_SLASH`], [`hints::DROPS_SLASH`],
/// [`hints::CREDENTIALS_SENT`], [`hints::OWN_PAGE`], [`hints::INNER_TLS`]). Only for the
/// lookup: the report shows the probe's own detail. `inner_url` is the URL the hop behind was
/// probed at.
fn lookup_detail(
    o: &ProbeOutcome,
    software: Option<Software>,
    sent_path: &str,
    location: Option<&str>,
    inner_url: Option<&str>,
) -> String {
    let mut detail = o.detail.clone();
    if o.verdict == Verdict::Redirect {
        if let Some(to) = location.map(location_path) {
            let sent = sent_path.split('?').next().unwrap_or(sent_path);
            if to.len() == sent.len() + 1 && to.starts_with(sent) && to.ends_with('/') {
                detail.push_str(&format!("; [{}]", hints::ADDS_SLASH));
            } else if sent.len() > 1 && sent.strip_suffix('/') == Some(to) {
                detail.push_str(&format!("; [{}]", hints::DROPS_SLASH));
            }
        }
    }
    if crate::software::change::own_page(o, software) {
        detail.push_str(&format!("; [{}]", hints::OWN_PAGE));
    }
    if matches!(o.evidence.status, Some(401 | 407)) && sent_credentials(&o.curl) {
        detail.push_str(&format!("; [{}]", hints::CREDENTIALS_SENT));
    }
    // A 503 that took a second or more: the hop waited (a queue, connect attempts) first.
    if o.verdict == Verdict::ServiceUnavailable && o.timings.first_byte.unwrap_or(0.0) >= 1000.0 {
        detail.push_str(&format!("; [{}]", hints::WAITED));
    }
    // A gateway error in front of a hop that speaks TLS: the rows for a failed TLS connection
    // toward it apply (they also need that hop to upgrade when probed directly).
    if matches!(
        o.verdict,
        Verdict::BadGateway | Verdict::ServiceUnavailable | Verdict::GatewayTimeout
    ) && inner_url.is_some_and(|u| u.to_ascii_lowercase().starts_with("wss://"))
    {
        detail.push_str(&format!("; [{}]", hints::INNER_TLS));
    }
    detail
}

/// The path (without query) a Location header points at, absolute or relative.
fn location_path(location: &str) -> &str {
    let location = location.trim();
    let path = match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => location,
    };
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Whether the request as sent (its curl rendering, where secret values are redacted but the
/// header names stay) carried credentials.
fn sent_credentials(curl: &str) -> bool {
    let lower = curl.to_ascii_lowercase();
    ["authorization:", "proxy-authorization:", "cookie:"]
        .iter()
        .any(|h| lower.contains(&format!("-h '{h}")))
}

fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// How the probe words a close frame that came instead of a pong or echo.
const CLOSED_WITH_CODE: &str = "closed the WebSocket with code";

/// What the hop behind `o` did when probed directly: failed, upgraded, or upgraded only after
/// `o` had given up waiting (its first byte no sooner than `o`'s answer, less some slack for
/// the two probes' own jitter).
fn inner_answer(o: &ProbeOutcome, inner: Option<&ProbeOutcome>) -> Inner {
    let Some(inner) = inner.filter(|i| {
        matches!(
            i.verdict,
            Verdict::Upgraded | Verdict::FramesFailed | Verdict::IdleDropped
        )
    }) else {
        return Inner::Other;
    };
    match (o.timings.first_byte, inner.timings.first_byte) {
        (Some(gave_up), Some(answered)) if answered >= gave_up * 0.8 && gave_up >= 100.0 => {
            Inner::UpgradesSlowly
        }
        _ => Inner::Upgrades,
    }
}

/// "drops the idle WebSocket after 2.0 s while nginx behind it holds (…) — matches …" and the fix.
fn idle_sentence(
    hop: &HopReport,
    software: Option<Software>,
    inner: Option<&HopReport>,
) -> (String, Option<String>) {
    let idle = hop.outcome.idle.as_ref();
    let elapsed_ms = idle
        .and_then(|i| i.dropped_after_ms)
        .or(idle.map(|i| i.held_ms))
        .unwrap_or(hop.outcome.timings.total);
    let mut s = format!("drops the idle WebSocket after {}", seconds(elapsed_ms));
    let inner_drop = inner
        .and_then(|h| h.outcome.idle.as_ref())
        .filter(|i| i.dropped)
        .map(|i| i.dropped_after_ms.unwrap_or(i.held_ms));
    match (inner, inner_drop) {
        (Some(inner), Some(ms)) => s.push_str(&format!(
            ", before {} behind it (which drops after {})",
            inner.name,
            seconds(ms)
        )),
        (Some(inner), None) => s.push_str(&format!(" while {} behind it holds", inner.name)),
        (None, _) => s.push_str(" (it is the innermost hop)"),
    }
    match idle.and_then(|i| i.close_code) {
        Some(1006) | None => s.push_str(", without a close frame"),
        Some(code) => {
            s.push_str(&format!(", close code {code}"));
            if let Some(r) = idle.and_then(|i| i.close_reason.as_deref()) {
                if !r.is_empty() {
                    s.push_str(&format!(" '{r}'"));
                }
            }
        }
    }
    let matches = idle::explain(software, hop.kind, elapsed_ms);
    s.push_str(&format!(": {}", explained_by(&matches, elapsed_ms)));
    let fix = match matches.as_slice() {
        [] => hints::lookup(&HintKey {
            verdict: Verdict::IdleDropped,
            software,
            kind: hop.kind,
            status: None,
            detail: "",
            inner: Inner::Other,
        })
        .map(|h| h.fix.to_string()),
        [one] => Some(one.default.fix.to_string()),
        many => Some(
            many.iter()
                .map(|m| {
                    format!(
                        "if it is {}: {}",
                        m.default.software.display(),
                        m.default.fix
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
    };
    (s, fix)
}

fn explained_by(matches: &[IdleMatch], elapsed_ms: f64) -> String {
    if matches.is_empty() {
        return "no known default fits, so the server or a timeout of its own closes it".into();
    }
    let parts: Vec<String> = matches
        .iter()
        .map(|m| match (m.at_default, m.default.seconds) {
            (true, _) | (false, None) => m.default.setting.to_string(),
            (false, Some(_)) => format!(
                "{}, here set to about {}",
                m.default.setting,
                seconds(elapsed_ms)
            ),
        })
        .collect();
    let verb = if matches.iter().any(|m| m.at_default) || matches[0].default.seconds.is_none() {
        "matches"
    } else {
        "looks like"
    };
    format!("{verb} {}", parts.join(", or "))
}

/// "505 'unsupported HTTP version: HTTP/1.0'" — the status and why, as the evidence says it.
fn answer(o: &ProbeOutcome) -> String {
    let status = status_text(o);
    // The probe's detail usually is the status and the body's telling line, then " — " and its
    // own explanation; the sentence gives its own, so only the evidence part is kept.
    let evidence = o.detail.split(" — ").next().unwrap_or("").trim();
    if let Some(code) = o.evidence.status {
        if evidence.starts_with(&code.to_string()) {
            return clip(evidence, 160);
        }
    }
    let reason = if !evidence.is_empty() {
        Some(evidence.to_string())
    } else {
        o.evidence
            .body_snippet
            .as_deref()
            .and_then(|b| b.lines().map(str::trim).find(|l| !l.is_empty()))
            .map(str::to_string)
    };
    match reason {
        Some(r) => format!("{status} '{}'", clip(&r, 120)),
        None => status,
    }
}

fn status_text(o: &ProbeOutcome) -> String {
    match o.evidence.status {
        Some(code) => code.to_string(),
        None => "no status".to_string(),
    }
}

fn header(o: &ProbeOutcome, name: &str) -> Option<String> {
    o.evidence
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// "0.4 ms", "35 ms", "2.0 s".
fn duration(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        seconds(ms)
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms / 1000.0)
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Fact, Location};
    use crate::probe::{Evidence, IdleOutcome, Timings};
    use crate::verdict::Stage;

    fn hop(name: &str, kind: HopKind, verdict: Verdict) -> HopReport {
        HopReport {
            name: name.into(),
            kind,
            address: format!("{name}.test:80"),
            url: "ws://app.test/ws".into(),
            outcome: ProbeOutcome {
                verdict,
                stage: Stage::Done,
                detail: String::new(),
                evidence: Evidence {
                    answered_by: crate::report::sample::answered("unknown"),
                    ..Evidence::default()
                },
                timings: Timings::default(),
                ping_rtt_ms: None,
                echo_ok: None,
                idle: None,
                curl: String::new(),
            },
            http2: None,
            consequence: false,
            findings: Vec::new(),
            facts: Vec::new(),
            software: None,
            own_answer: None,
            variants: Vec::new(),
            idle_setting: None,
        }
    }

    fn answered(mut h: HopReport, status: u16, by: &str, detail: &str) -> HopReport {
        h.outcome.evidence.status = Some(status);
        h.outcome.evidence.answered_by = crate::report::sample::answered(by);
        h.outcome.detail = detail.into();
        h
    }

    fn idle(mut h: HopReport, dropped_after: Option<f64>) -> HopReport {
        if dropped_after.is_some() {
            h.outcome.verdict = Verdict::IdleDropped;
        }
        h.outcome.idle = Some(IdleOutcome {
            held_ms: dropped_after.unwrap_or(5000.0),
            dropped: dropped_after.is_some(),
            dropped_after_ms: dropped_after,
            close_code: dropped_after.map(|_| 1006),
            close_reason: None,
        });
        h
    }

    #[test]
    fn nginx_stripping_upgrade_names_backend_answer_and_nginx_fix() {
        let mut hops = vec![
            answered(
                hop("lb", HopKind::Lb, Verdict::UpgradeStripped),
                505,
                "python-websockets",
                "unsupported HTTP version: HTTP/1.0",
            ),
            answered(
                hop("nginx", HopKind::Proxy, Verdict::UpgradeStripped),
                505,
                "python-websockets",
                "unsupported HTTP version: HTTP/1.0",
            ),
            hop("backend", HopKind::Backend, Verdict::Upgraded),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "nginx");
        assert_eq!(c.verdict, Verdict::UpgradeStripped);
        assert!(
            c.summary.starts_with(
                "nginx (nginx.test:80) strips Upgrade: behind it the backend answered 505 'unsupported HTTP version: HTTP/1.0' — backend (backend.test:80) upgrades when probed directly over HTTP/1.1, and its answer refuses the HTTP version (HTTP/1.0), so this hop forwards the request as HTTP/1.0: add `proxy_http_version 1.1` and `proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;`"
            ),
            "{}",
            c.summary
        );
        // The evidence first, then nginx's own fix.
        assert!(c
            .fix
            .as_deref()
            .is_some_and(|f| f.ends_with(crate::software::nginx::UPGRADE)));
        assert!(
            c.summary.ends_with(
                "; then check again: lb in front passes the same refusal on, so whether it strips Upgrade too shows only once this is fixed"
            ),
            "{}",
            c.summary
        );
        assert!(hops[0].consequence);
        assert!(!hops[1].consequence && !hops[2].consequence);
    }

    #[test]
    fn backend_down_is_connect_refused_with_consequences() {
        let mut b = hop("backend", HopKind::Backend, Verdict::ConnectRefused);
        b.outcome.detail = "Connection refused (os error 111)".into();
        let mut hops = vec![
            answered(
                hop("lb", HopKind::Lb, Verdict::BadGateway),
                502,
                "nginx",
                "",
            ),
            answered(
                hop("nginx", HopKind::Proxy, Verdict::BadGateway),
                502,
                "nginx",
                "",
            ),
            b,
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "backend");
        assert_eq!(
            c.summary,
            "backend (backend.test:80) refuses the connection: Connection refused (os error 111) — nothing listens on backend.test:80: start the service there, or fix the port (here and in the hop in front of it)"
        );
        assert!(hops[0].consequence && hops[1].consequence);
    }

    #[test]
    fn outer_culprit_notes_deeper_failure() {
        let mut hops = vec![
            answered(
                hop("haproxy", HopKind::Lb, Verdict::ServiceUnavailable),
                503,
                "haproxy",
                "No server is available to handle this request.",
            ),
            hop("nginx", HopKind::Proxy, Verdict::Upgraded),
            hop("backend", HopKind::Backend, Verdict::ConnectRefused),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "haproxy");
        assert!(
            c.summary
                .contains("answers 503 'No server is available to handle this request.'"),
            "{}",
            c.summary
        );
        assert!(c
            .summary
            .contains("further in also failing: backend (connection refused)"));
        assert!(c.summary.contains("HAProxy backend"), "{}", c.summary);
    }

    #[test]
    fn a_timeout_in_front_of_a_slow_handshake_blames_the_timeout() {
        let gave_up = |first_byte: f64| {
            let mut lb = answered(
                hop("haproxy", HopKind::Lb, Verdict::GatewayTimeout),
                504,
                "haproxy",
                "504 Gateway Time-out",
            );
            lb.outcome.timings.first_byte = Some(first_byte);
            lb
        };
        let mut app = hop("app", HopKind::Backend, Verdict::Upgraded);
        app.outcome.timings.first_byte = Some(2003.0);
        let mut hops = vec![gave_up(1001.0), app.clone()];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary.contains(
                "only after 2.0 s, and HAProxy gave up after 1.0 s: raise `timeout server`"
            ),
            "{}",
            c.summary
        );
        // The app answers at once: the 504 comes from waiting on another address.
        app.outcome.timings.first_byte = Some(0.42);
        let mut hops = vec![gave_up(1001.0), app];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary.contains("answers in 0.4 ms when probed directly"),
            "{}",
            c.summary
        );
    }

    #[test]
    fn a_working_hop_in_front_of_the_culprit_is_said() {
        // lb upgrades although nginx, listed behind it, fails: lb does not send its traffic
        // to that nginx (or not always).
        let mut hops = vec![
            hop("lb", HopKind::Lb, Verdict::Upgraded),
            answered(
                hop("nginx", HopKind::Proxy, Verdict::BadGateway),
                502,
                "nginx",
                "502 Bad Gateway",
            ),
            hop("backend", HopKind::Backend, Verdict::Upgraded),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "nginx");
        assert!(
            c.summary.contains("; yet lb in front upgrades, so traffic through it does not always reach nginx at nginx.test:80"),
            "{}",
            c.summary
        );
        // A refusal behind a hop that gets through: another path or Host reaches it.
        hops[1] = answered(
            hop("nginx", HopKind::Proxy, Verdict::Rejected),
            404,
            "nginx",
            "404 Not Found",
        );
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.summary.contains("; yet lb in front upgrades, so what reaches nginx through it differs from this probe — probe nginx with the path lb really sends it"), "{}", c.summary);
        // Nothing to say when every hop in front fails too.
        hops[0] = answered(
            hop("lb", HopKind::Lb, Verdict::BadGateway),
            502,
            "nginx",
            "502 Bad Gateway",
        );
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(!c.summary.contains("in front upgrades"), "{}", c.summary);
    }

    #[test]
    fn lb_hop_gets_alb_hint_when_answered_by_awselb() {
        let mut hops = vec![answered(
            hop("lb", HopKind::Lb, Verdict::Rejected),
            404,
            "awselb",
            "",
        )];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.fix.unwrap().contains("listener rule"));
        assert!(c.summary.contains("rejects the upgrade: it answered 404"));
    }

    #[test]
    fn redirect_names_location() {
        let mut h = answered(
            hop("edge", HopKind::Cdn, Verdict::Redirect),
            301,
            "cloudflare",
            "",
        );
        h.outcome
            .evidence
            .headers
            .push(("Location".into(), "https://example.com/ws".into()));
        let mut hops = vec![h];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c
            .summary
            .contains("redirects the upgrade (301) to https://example.com/ws"));
        // The fix gives the URL clients must open: the https:// Location as wss://.
        assert!(c.fix.unwrap().contains("(wss://example.com/ws)"));
    }

    #[test]
    fn tls_failure_fix_mentions_host() {
        let mut h = hop("nginx", HopKind::Proxy, Verdict::TlsFailed);
        h.outcome.detail = "invalid peer certificate: NotValidForName".into();
        let mut hops = vec![h];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.fix.unwrap().contains("cover example.com"));
    }

    #[test]
    fn healthy_path_has_no_culprit_and_clears_consequences() {
        let mut hops = vec![
            hop("lb", HopKind::Lb, Verdict::Upgraded),
            hop("backend", HopKind::Backend, Verdict::Upgraded),
        ];
        hops[0].consequence = true;
        assert_eq!(judge(&mut hops, "example.com"), None);
        assert!(!hops[0].consequence);
    }

    #[test]
    fn idle_haproxy_without_tunnel_timeout() {
        let mut hops = vec![
            idle(hop("lb", HopKind::Lb, Verdict::Upgraded), Some(2080.0)),
            idle(hop("nginx", HopKind::Proxy, Verdict::Upgraded), None),
            idle(hop("backend", HopKind::Backend, Verdict::Upgraded), None),
        ];
        hops[0].outcome.evidence.answered_by = crate::report::sample::answered("nginx");
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "lb");
        assert_eq!(c.verdict, Verdict::IdleDropped);
        assert_eq!(
            c.summary,
            "lb (lb.test:80) drops the idle WebSocket after 2.1 s while nginx behind it holds, without a close frame: matches HAProxy `timeout tunnel`, or `timeout client`/`timeout server` when it is unset — set (or raise) `timeout tunnel`, e.g. `timeout tunnel 1h`, in the `defaults` or `backend` section: it applies only once the connection is upgraded, and without it `timeout client`/`timeout server` cut idle WebSockets"
        );
    }

    #[test]
    fn idle_nginx_read_timeout_with_lb_consequence() {
        let mut hops = vec![
            idle(hop("lb", HopKind::Lb, Verdict::Upgraded), Some(2010.0)),
            idle(
                hop("nginx", HopKind::Proxy, Verdict::Upgraded),
                Some(2000.0),
            ),
            idle(hop("backend", HopKind::Backend, Verdict::Upgraded), None),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "nginx");
        assert!(
            c.summary.contains(
                "looks like nginx `proxy_read_timeout` (default 60 s), here set to about 2.0 s"
            ),
            "{}",
            c.summary
        );
        assert!(c.fix.unwrap().contains("proxy_read_timeout 1h"));
        assert!(hops[0].consequence);
        // Each hop's own drop is matched too; a drop passed on is not.
        assert_eq!(hops[0].idle_setting, None);
        assert!(hops[1]
            .idle_setting
            .as_deref()
            .is_some_and(|s| s.contains("proxy_read_timeout")));
        assert_eq!(hops[2].idle_setting, None);
    }

    #[test]
    fn idle_at_alb_default_offers_both_lb_fixes() {
        let mut hops = vec![
            idle(hop("lb", HopKind::Lb, Verdict::Upgraded), Some(60_100.0)),
            idle(hop("app", HopKind::Backend, Verdict::Upgraded), None),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary.contains("matches AWS ALB idle timeout"),
            "{}",
            c.summary
        );
        let fix = c.fix.unwrap();
        assert!(fix.starts_with("if it is AWS ALB: raise"), "{fix}");
        assert!(fix.contains("if it is HAProxy: set (or raise) `timeout tunnel`"));
    }

    #[test]
    fn idle_at_alb_default_with_alb_facts_is_only_alb() {
        let mut hops = vec![
            idle(hop("lb", HopKind::Lb, Verdict::Upgraded), Some(60_100.0)),
            idle(hop("app", HopKind::Backend, Verdict::Upgraded), None),
        ];
        hops[0].facts.push(Fact {
            source: "aws_alb".into(),
            name: "idle_timeout.timeout_seconds".into(),
            value: "60".into(),
        });
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c
            .fix
            .unwrap()
            .starts_with("raise the load balancer attribute"));
    }

    #[test]
    fn innermost_idle_drop_with_close_code() {
        let mut b = idle(
            hop("backend", HopKind::Backend, Verdict::Upgraded),
            Some(20_000.0),
        );
        if let Some(i) = b.outcome.idle.as_mut() {
            i.close_code = Some(1011);
            i.close_reason = Some("keepalive ping timeout".into());
        }
        let mut hops = vec![b];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.summary.contains("(it is the innermost hop), close code 1011 'keepalive ping timeout': no known default fits"), "{}", c.summary);
        assert!(c.fix.is_some());
    }

    #[test]
    fn error_finding_explains_and_fixes() {
        let mut n = answered(
            hop("nginx", HopKind::Proxy, Verdict::UpgradeStripped),
            505,
            "python-websockets",
            "unsupported HTTP version: HTTP/1.0",
        );
        n.findings.push(Finding {
            id: "nginx/http-version-1.0".into(),
            severity: Severity::Error,
            message: "proxy_http_version is 1.0 for location /ws".into(),
            evidence: "proxy_http_version 1.0;".into(),
            why: None,
            fix: Some("set `proxy_http_version 1.1;` at nginx.conf:12".into()),
            location: Some(Location {
                file: "nginx.conf".into(),
                line: 12,
            }),
        });
        n.findings.insert(
            0,
            Finding {
                id: "nginx/info".into(),
                severity: Severity::Info,
                message: "unrelated".into(),
                evidence: String::new(),
                why: None,
                fix: Some("nothing".into()),
                location: None,
            },
        );
        let mut hops = vec![n, hop("backend", HopKind::Backend, Verdict::Upgraded)];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(
            c.fix.as_deref(),
            Some("set `proxy_http_version 1.1;` at nginx.conf:12")
        );
        assert!(c.summary.contains(
            "; nginx/http-version-1.0 at nginx.conf:12: proxy_http_version is 1.0 for location /ws — set `proxy_http_version 1.1;` at nginx.conf:12"
        ), "{}", c.summary);
    }

    #[test]
    fn body_line_is_the_reason_without_detail() {
        let mut h = answered(
            hop("app", HopKind::Backend, Verdict::Rejected),
            403,
            "python-websockets",
            "",
        );
        h.outcome.evidence.body_snippet = Some("\n  Forbidden origin\nmore".into());
        let mut hops = vec![h];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary.contains("it answered 403 'Forbidden origin'"),
            "{}",
            c.summary
        );
    }

    #[test]
    fn probe_detail_with_status_is_quoted_once() {
        let detail = "505 Unsupported HTTP Version: \"Failed to open a WebSocket connection: unsupported HTTP version: HTTP/1.0.\" — the server behind rejects the HTTP version it received";
        let mut hops = vec![
            answered(
                hop("nginx", HopKind::Proxy, Verdict::UpgradeStripped),
                505,
                "python-websockets",
                detail,
            ),
            hop("backend", HopKind::Backend, Verdict::Upgraded),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.summary.starts_with(
            "nginx (nginx.test:80) strips Upgrade: behind it the backend answered 505 Unsupported HTTP Version: \"Failed to open a WebSocket connection: unsupported HTTP version: HTTP/1.0.\" — backend (backend.test:80) upgrades when probed directly over HTTP/1.1, and its answer refuses the HTTP version (HTTP/1.0), so this hop forwards the request as HTTP/1.0: add `proxy_http_version 1.1`"
        ), "{}", c.summary);
    }

    #[test]
    fn gateway_error_names_who_produced_it() {
        let mut hops = vec![
            answered(hop("lb", HopKind::Lb, Verdict::BadGateway), 502, "nginx", "502 Bad Gateway: \"<center>nginx</center>\" — this hop could not get a valid answer"),
            hop("app", HopKind::Backend, Verdict::Upgraded),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(c.summary.starts_with(
            "lb (lb.test:80) answers 502 Bad Gateway: \"<center>nginx</center>\" (produced by nginx) — app (app.test:80) upgrades when probed directly, so this hop does not reach it as configured"
        ), "{}", c.summary);
    }

    #[test]
    fn one_direct_hop_through_nginx_gets_the_nginx_fix() {
        let mut h = answered(
            hop("target", HopKind::Unknown, Verdict::UpgradeStripped),
            505,
            "python-websockets",
            "505 HTTP Version Not Supported: \"unsupported HTTP version: HTTP/1.0.\"",
        );
        h.outcome
            .evidence
            .headers
            .push(("Server".into(), "nginx/1.22.1".into()));
        let mut hops = vec![h];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary
                .contains("strips Upgrade: behind it the backend answered 505"),
            "{}",
            c.summary
        );
        assert_eq!(c.fix.as_deref(), Some(crate::software::nginx::UPGRADE));
    }

    #[test]
    fn one_direct_hop_at_the_backend_does_not_see_the_upgrade() {
        let mut h = answered(
            hop("target", HopKind::Unknown, Verdict::UpgradeStripped),
            426,
            "python-websockets",
            "426 Upgrade Required",
        );
        h.outcome
            .evidence
            .headers
            .push(("Server".into(), "Python/3.11 websockets/14.1".into()));
        let mut hops = vec![h];
        let c = judge(&mut hops, "example.com").unwrap();
        assert!(
            c.summary
                .contains("does not see the upgrade: it answered 426 Upgrade Required"),
            "{}",
            c.summary
        );
        assert!(c.fix.unwrap().starts_with("the server itself"));
    }

    #[test]
    fn idle_drop_before_the_inner_hop_says_so() {
        let mut hops = vec![
            idle(hop("lb", HopKind::Lb, Verdict::Upgraded), Some(2000.0)),
            idle(
                hop("nginx", HopKind::Proxy, Verdict::Upgraded),
                Some(5000.0),
            ),
            idle(hop("backend", HopKind::Backend, Verdict::Upgraded), None),
        ];
        let c = judge(&mut hops, "example.com").unwrap();
        assert_eq!(c.hop, "lb");
        assert!(c.summary.starts_with(
            "lb (lb.test:80) drops the idle WebSocket after 2.0 s, before nginx behind it (which drops after 5.0 s), without a close frame: matches HAProxy"
        ), "{}", c.summary);
        assert!(c
            .summary
            .contains("further in also failing: nginx (dropped while idle)"));
        assert!(!hops[0].consequence);
    }
}

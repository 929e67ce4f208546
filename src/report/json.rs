//! `--format json`: the `wspath.check/v1` document, field by field.
//!
//! Written out explicitly rather than derived from the engine types, so that a field added to
//! `ProbeOutcome` cannot change the contract by accident; `schemas/check.schema.json` is its
//! schema and the test below validates against it.

use super::redact;
use super::{HopReport, Report};
use crate::finding::{Fact, Finding};
use crate::probe::http2::Http2Outcome;
use crate::probe::{IdleOutcome, Timings};
use serde_json::{json, Value};
use std::io::{self, Write};

pub const SCHEMA: &str = "wspath.check/v1";

/// The report as one JSON document (pretty-printed, newline-terminated).
pub fn render(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    render_with_error(report, None, w)
}

/// The report, and the error that stopped the run after it was built (`check --fix --yes`
/// that could not apply): the diagnosis is kept, `ok` is false.
pub fn render_with_error(
    report: &Report,
    error: Option<&super::error::ErrorInfo>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut doc = to_value(report);
    if let Some(e) = error {
        doc["ok"] = json!(false);
        doc["error"] = e.to_json();
    }
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// The report as a `wspath.check/v1` value.
pub fn to_value(report: &Report) -> Value {
    json!({
        "schema": SCHEMA,
        "target": redact::url(&report.target),
        "ok": report.ok,
        "as": report.browser.as_str(),
        "culprit": report.culprit.as_ref().map(|c| json!({
            "hop": c.hop,
            "kind": c.kind.as_str(),
            "verdict": c.verdict.as_str(),
            "summary": redact::url(&c.summary),
            "fix": c.fix.as_deref().map(redact::url),
            "protocol": c.protocol.as_str(),
            "as": c.browser.map(|b| b.as_str()),
        })),
        "hops": report.hops.iter().map(hop).collect::<Vec<_>>(),
        "incomplete": report.incomplete,
        "warnings": report.warnings.iter().map(|w| redact::text(w)).collect::<Vec<_>>(),
    })
}

fn timings(t: &Timings) -> Value {
    json!({
        "dns": t.dns,
        "connect": t.connect,
        "tls": t.tls,
        "first_byte": t.first_byte,
        "total": t.total,
    })
}

/// `matches`: the known idle setting of the hop's software that its own drop matches.
fn idle(i: &IdleOutcome, matches: Option<&str>) -> Value {
    json!({
        "held_ms": i.held_ms,
        "dropped": i.dropped,
        "dropped_after_ms": i.dropped_after_ms,
        "close_code": i.close_code,
        "close_reason": i.close_reason,
        "matches": matches,
    })
}

/// The hop's WebSocket over HTTP/2: what the server offered, and the probe's result when it
/// was tried (its fields `null` when it was not; `detail` then says why).
fn http2(h2: &Http2Outcome) -> Value {
    let p = h2.probe.as_ref();
    let detail = match (p, &h2.note) {
        (Some(p), _) => redact::url(&p.detail).into_owned(),
        (None, Some(note)) => note.clone(),
        (None, None) => String::new(),
    };
    json!({
        "alpn": h2.alpn,
        "extended_connect": h2.extended_connect,
        "verdict": p.map(|p| p.verdict.as_str()),
        "stage": p.map(|p| p.stage),
        "status": p.and_then(|p| p.evidence.status),
        "answered_by": p.map(|p| p.evidence.answered_by),
        "headers": p.map(|p| p.evidence.headers.iter().map(|(n, v)| json!({
            "name": n,
            "value": redact::value(n, v),
        })).collect::<Vec<_>>()),
        "body_snippet": p.and_then(|p| p.evidence.body_snippet.as_deref().map(redact::url)),
        "timings_ms": p.map(|p| timings(&p.timings)),
        "ping_rtt_ms": p.and_then(|p| p.ping_rtt_ms),
        "echo_ok": p.and_then(|p| p.echo_ok),
        "idle": p.and_then(|p| p.idle.as_ref().map(|i| idle(i, None))),
        "detail": detail,
    })
}

fn hop(h: &HopReport) -> Value {
    let o = &h.outcome;
    let e = &o.evidence;
    json!({
        "name": h.name,
        "kind": h.kind.as_str(),
        "address": h.address,
        "url": redact::url(&h.url),
        "verdict": o.verdict.as_str(),
        "stage": o.stage,
        "detail": redact::url(&o.detail),
        "consequence": h.consequence,
        "status": e.status,
        "status_line": e.status_line,
        "answered_by": e.answered_by,
        "software": h.software,
        "headers": e.headers.iter().map(|(n, v)| json!({
            "name": n,
            "value": redact::value(n, v),
        })).collect::<Vec<_>>(),
        "body_snippet": e.body_snippet.as_deref().map(redact::url),
        "remote_addr": e.remote_addr.map(|a| a.to_string()),
        "tls": e.tls.as_ref().map(|t| json!({"version": t.version, "alpn": t.alpn})),
        "timings_ms": timings(&o.timings),
        "extensions": e.extensions(),
        "ping_rtt_ms": o.ping_rtt_ms,
        "echo_ok": o.echo_ok,
        "idle": o.idle.as_ref().map(|i| idle(i, h.idle_setting.as_deref())),
        "curl": redact::curl(&o.curl),
        "http2": h.http2.as_ref().map(http2),
        "findings": h.findings.iter().map(finding).collect::<Vec<_>>(),
        "facts": h.facts.iter().map(fact).collect::<Vec<_>>(),
        "variants": h.variants.iter().map(|v| {
            let o = &v.outcome;
            json!({
                "as": v.browser.as_str(),
                "verdict": o.verdict.as_str(),
                "stage": o.stage,
                "detail": redact::url(&o.detail),
                "status": o.evidence.status,
                "status_line": o.evidence.status_line,
                "answered_by": o.evidence.answered_by,
                "extensions": o.evidence.extensions(),
                "ping_rtt_ms": o.ping_rtt_ms,
                "curl": redact::curl(&o.curl),
            })
        }).collect::<Vec<_>>(),
    })
}

/// One finding as `check`'s hops carry it (also the shape `lint` can reuse).
pub fn finding(f: &Finding) -> Value {
    let mut v = json!({
        "id": f.id,
        "severity": f.severity,
        "message": f.message,
        "evidence": f.evidence,
        "fix": f.fix,
    });
    if let Some(why) = &f.why {
        v["why"] = json!(why);
    }
    if let Some(l) = &f.location {
        v["location"] = json!({"file": l.file.display().to_string(), "line": l.line});
    }
    v
}

fn fact(f: &Fact) -> Value {
    json!({
        "source": f.source,
        "name": f.name,
        "value": redact::value(&f.name, &f.value),
    })
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    fn rendered(report: &Report) -> Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        assert!(out.ends_with(b"\n"));
        serde_json::from_slice(&out).unwrap()
    }

    fn schema() -> jsonschema::JSONSchema {
        let text = include_str!("../../schemas/check.schema.json");
        let schema: Value = serde_json::from_str(text).unwrap();
        jsonschema::JSONSchema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .compile(&schema)
            .unwrap()
    }

    fn assert_valid(doc: &Value) {
        let schema = schema();
        let errors: Vec<String> = match schema.validate(doc) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect(),
        };
        assert!(errors.is_empty(), "schema violations: {errors:#?}\n{doc:#}");
    }

    #[test]
    fn broken_report_shape() {
        let doc = rendered(&sample::broken());
        assert_valid(&doc);
        assert_eq!(doc["schema"], "wspath.check/v1");
        assert_eq!(doc["target"], "wss://example.test/ws/chat");
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["culprit"]["hop"], "nginx");
        assert_eq!(doc["culprit"]["kind"], "proxy");
        assert_eq!(doc["culprit"]["verdict"], "upgrade_stripped");
        let lb = &doc["hops"][0];
        assert_eq!(lb["consequence"], true);
        assert_eq!(lb["status"], 505);
        assert_eq!(lb["stage"], "done");
        assert_eq!(lb["tls"]["version"], "TLSv1.3");
        assert_eq!(lb["timings_ms"]["dns"], Value::Null);
        assert_eq!(lb["timings_ms"]["total"], 2.25);
        assert_eq!(lb["headers"][0]["name"], "Server");
        assert_eq!(lb["remote_addr"], "127.0.0.1:8080");
        assert_eq!(lb["idle"], Value::Null);
        let nginx = &doc["hops"][1];
        assert_eq!(nginx["findings"][0]["id"], "nginx/upgrade-not-forwarded");
        assert_eq!(nginx["findings"][0]["severity"], "error");
        assert_eq!(nginx["findings"][0]["location"]["line"], 14);
        assert_eq!(nginx["facts"][0]["source"], "nginx");
        assert_eq!(doc["hops"][2]["verdict"], "upgraded");
        assert_eq!(doc["hops"][2]["ping_rtt_ms"], 0.3);
    }

    #[test]
    fn secrets_never_rendered() {
        let mut report = sample::broken();
        report.hops[0].facts.push(Fact {
            source: "cloudflare".into(),
            name: "api_token".into(),
            value: "cf-secret-value".into(),
        });
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("s3cr3t-token"));
        assert!(!text.contains("cf-secret-value"));
        assert!(text.contains("Authorization: Bearer <redacted>"));
    }

    #[test]
    fn credential_query_parameters_never_rendered() {
        let mut hops = sample::broken().hops;
        let o = &mut hops[0].outcome;
        o.verdict = crate::verdict::Verdict::Redirect;
        o.evidence.status = Some(302);
        o.evidence.headers = vec![(
            "Location".into(),
            "https://login.example.test/?next=/ws&access_token=tok-999".into(),
        )];
        o.detail = "302 Found to https://login.example.test/?next=/ws&access_token=tok-999".into();
        let target = crate::target::Target::parse("wss://example.test/ws?token=tok-111").unwrap();
        let report = Report::new(&target, hops);
        for format in ["json", "human", "junit", "sarif"] {
            let mut out = Vec::new();
            match format {
                "json" => render(&report, &mut out).unwrap(),
                "human" => super::super::human::render(&report, false, &mut out).unwrap(),
                "junit" => super::super::junit::render(&report, &mut out).unwrap(),
                _ => super::super::sarif::render_check(&report, &mut out).unwrap(),
            }
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.contains("tok-999") && !text.contains("tok-111"),
                "{format}:\n{text}"
            );
        }
        let doc = rendered(&report);
        assert_eq!(doc["target"], "wss://example.test/ws?token=<redacted>");
        assert_eq!(doc["culprit"]["hop"], "lb");
        assert_valid(&doc);
    }

    #[test]
    fn browser_variants_and_extensions_are_valid() {
        let doc = rendered(&sample::firefox_refused());
        assert_valid(&doc);
        assert_eq!(doc["as"], "plain");
        assert_eq!(doc["culprit"]["hop"], "nginx");
        assert_eq!(doc["culprit"]["as"], "firefox");
        assert_eq!(doc["hops"][0]["extensions"], Value::Null);
        let variants = &doc["hops"][0]["variants"];
        assert_eq!(variants[0]["as"], "chrome");
        assert_eq!(
            variants[0]["extensions"],
            "permessage-deflate; server_max_window_bits=12"
        );
        assert_eq!(variants[1]["as"], "firefox");
        assert_eq!(variants[1]["verdict"], "rejected");
        assert_eq!(variants[1]["status"], 400);
        assert_eq!(rendered(&sample::healthy())["culprit"], Value::Null);
    }

    #[test]
    fn healthy_and_backend_down_are_valid() {
        let doc = rendered(&sample::healthy());
        assert_valid(&doc);
        assert_eq!(doc["ok"], true);
        assert_eq!(doc["culprit"], Value::Null);
        assert_eq!(doc["hops"][0]["idle"]["dropped"], false);
        assert_eq!(doc["hops"][0]["echo_ok"], true);

        let doc = rendered(&sample::backend_down());
        assert_valid(&doc);
        assert_eq!(doc["culprit"]["verdict"], "connect_refused");
        assert_eq!(doc["hops"][2]["stage"], "tcp");
        assert_eq!(doc["hops"][2]["status"], Value::Null);
        assert_eq!(doc["hops"][0]["consequence"], true);
        assert_eq!(doc["hops"][1]["consequence"], true);
    }

    #[test]
    fn schema_is_strict() {
        let mut doc = rendered(&sample::healthy());
        doc["hops"][0]["surprise"] = json!(1);
        assert!(!schema().is_valid(&doc));
        let mut doc = rendered(&sample::healthy());
        doc["hops"][0]["verdict"] = json!("fine");
        assert!(!schema().is_valid(&doc));
        let mut doc = rendered(&sample::healthy());
        doc.as_object_mut().unwrap().remove("culprit");
        assert!(!schema().is_valid(&doc));
    }
}

//! The default output: one aligned line per hop, what it said and its findings beneath it,
//! then the verdict.
//!
//! Made to be read in an 80-column terminal: the hop line holds only the short columns, the
//! detail and the culprit's sentence are wrapped below it (never inside a `code span`, so a
//! directive stays whole for copying), and the curl line is left whole to paste.
//!
//! Colour is the caller's decision (the CLI knows whether stdout is a terminal and whether
//! `NO_COLOR` is set); this file only knows the four SGR codes it needs, which is why it does
//! not pull in a terminal crate.

use super::redact;
use super::sanitize;
use super::{HopReport, Protocol, Report};
use crate::finding::Severity;
use crate::probe::http2::Http2Outcome;
use crate::probe::ProbeOutcome;
use crate::verdict::Verdict;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy)]
enum Paint {
    Green,
    Red,
    Yellow,
    Dim,
    Bold,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, p: Paint, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match p {
            Paint::Green => "32",
            Paint::Red => "31",
            Paint::Yellow => "33",
            Paint::Dim => "2",
            Paint::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Renders `report` for a person; `color` adds ANSI colours.
pub fn render(report: &Report, color: bool, w: &mut dyn Write) -> io::Result<()> {
    let style = Style { color };
    let browser = match report.browser {
        crate::probe::Browser::Plain => String::new(),
        b => format!("  (as {b})"),
    };
    writeln!(
        w,
        "{}{browser}",
        style.paint(Paint::Bold, &shown(&report.target))
    )?;
    let rows: Vec<[String; 5]> = report.hops.iter().map(columns).collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(3), width(4)];
    let culprit = report.culprit.as_ref().map(|c| c.hop.as_str());
    let h2_culprit = report
        .culprit
        .as_ref()
        .is_some_and(|c| c.protocol == Protocol::H2);
    for (hop, row) in report.hops.iter().zip(&rows) {
        let is_culprit = culprit == Some(hop.name.as_str());
        // A hop can pass the main request and still be the culprit for a browser's (`--as all`).
        let (mark, paint) = if hop.outcome.verdict.passed() && !idle_dropped(hop) && !is_culprit {
            ("✓", Paint::Green)
        } else if hop.consequence {
            ("~", Paint::Yellow)
        } else {
            ("✗", Paint::Red)
        };
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let mut line = format!(
            "  {} {}  {}  {}  {}  {}  {}",
            style.paint(paint, mark),
            style.paint(Paint::Bold, &cells[0]),
            cells[1],
            cells[2],
            cells[3],
            style.paint(Paint::Dim, &cells[4]),
            outcome_text(hop),
        );
        if is_culprit && !h2_culprit {
            line.push_str(&style.paint(Paint::Red, "  ← culprit"));
        } else if hop.consequence {
            line.push_str(&style.paint(Paint::Dim, "  (passes it on)"));
        }
        writeln!(w, "{}", line.trim_end())?;
        if let Some(detail) = detail_text(hop) {
            for l in wrap(&detail, "      ", "      ", WIDTH) {
                writeln!(w, "{l}")?;
            }
        }
        if let Some(h2) = &hop.http2 {
            let is_culprit = h2_culprit && culprit == Some(hop.name.as_str());
            http2_lines(h2, is_culprit, &style, w)?;
        }
        for f in &hop.findings {
            let paint = match f.severity {
                Severity::Error => Paint::Red,
                Severity::Warning => Paint::Yellow,
                Severity::Info => Paint::Dim,
            };
            let label = super::severity_label(f.severity);
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" {}", shown(&l.to_string())))
                .unwrap_or_default();
            let text = format!("{label} {}{at}: {}", f.id, shown(&f.message));
            for (i, l) in wrap(&text, "      ", "        ", WIDTH).iter().enumerate() {
                match l.strip_prefix("      ").and_then(|r| r.strip_prefix(label)) {
                    Some(rest) if i == 0 => {
                        writeln!(w, "      {}{rest}", style.paint(paint, label))?
                    }
                    _ => writeln!(w, "{l}")?,
                }
            }
        }
        for v in &hop.variants {
            let (mark, paint) = if v.outcome.verdict.passed() {
                ("✓", Paint::Green)
            } else {
                ("✗", Paint::Red)
            };
            let status = v
                .outcome
                .evidence
                .status
                .map_or_else(|| "—".to_string(), |s| s.to_string());
            // The columns are laid out here: `wrap` joins words with one space.
            let lead = format!("as {:<7} {status:<3}  ", v.browser.as_str());
            let mut text = outcome_of(&v.outcome);
            if let Some(detail) = failure_detail(&v.outcome) {
                text.push_str(" — ");
                // A browser refused for the very reason the hop's own line gives: repeating
                // the whole detail for each browser only hides where they differ.
                let same = v.outcome.verdict == hop.outcome.verdict
                    && v.outcome.detail == hop.outcome.detail;
                text.push_str(if same { "as above" } else { &detail });
            }
            let pad = " ".repeat(lead.chars().count());
            let width = WIDTH - 8 - pad.len();
            for (i, l) in wrap(&text, "", "", width).iter().enumerate() {
                if i == 0 {
                    writeln!(w, "      {} {lead}{l}", style.paint(paint, mark))?;
                } else {
                    writeln!(w, "        {pad}{l}")?;
                }
            }
        }
        for fact in &hop.facts {
            writeln!(
                w,
                "      {}",
                style.paint(
                    Paint::Dim,
                    &format!(
                        "{} {} = {}",
                        shown(&fact.source.to_string()),
                        shown(&fact.name),
                        sanitize::terminal(&redact::value(&fact.name, &fact.value))
                    )
                )
            )?;
        }
    }
    writeln!(w)?;
    for warning in &report.warnings {
        writeln!(
            w,
            "{} {}",
            style.paint(Paint::Yellow, "! warning:"),
            shown(warning)
        )?;
    }
    if report.incomplete {
        writeln!(
            w,
            "{} {} of {} hops finished before the run was stopped; the path was not fully checked",
            style.paint(Paint::Yellow, "! interrupted:"),
            report.hops.len(),
            report.planned_hops,
        )?;
    }
    match &report.culprit {
        Some(c) => {
            const LEAD: &str = "✗ culprit:";
            let text = format!("{LEAD} {}", shown(&c.summary));
            for (i, l) in wrap(&text, "", "  ", WIDTH).iter().enumerate() {
                match l.strip_prefix(LEAD) {
                    Some(rest) if i == 0 => writeln!(w, "{}{rest}", style.paint(Paint::Red, LEAD))?,
                    _ => writeln!(w, "{l}")?,
                }
            }
        }
        None if report.incomplete => {}
        None if !report.ok => writeln!(
            w,
            "{} every hop upgraded, but an error-level finding above needs fixing",
            style.paint(Paint::Red, "✗ problems:")
        )?,
        None => writeln!(
            w,
            "{} every hop upgraded{}",
            style.paint(Paint::Green, "✓ healthy:"),
            if report.hops.iter().any(|h| h.outcome.idle.is_some()) {
                " and held while idle"
            } else {
                ""
            }
        )?,
    }
    // curl cannot open an RFC 8441 extended CONNECT: the HTTP/1.1 command would only show the
    // path that works.
    if let Some(c) = report
        .culprit
        .as_ref()
        .filter(|c| c.protocol == Protocol::Http1)
    {
        if let Some(hop) = report.hops.iter().find(|h| h.name == c.hop) {
            // A culprit found with a browser's request is reproduced with that request.
            let outcome = c
                .browser
                .and_then(|b| hop.variant(b))
                .unwrap_or(&hop.outcome);
            let curl = sanitize::terminal(&redact::curl(&outcome.curl)).into_owned();
            if !curl.is_empty() {
                writeln!(
                    w,
                    "  {}",
                    style.paint(Paint::Dim, &format!("reproduce: {curl}"))
                )?;
            }
        }
    }
    Ok(())
}

/// The hop's HTTP/2 path beneath its line: the WebSocket over h2 when it was tried (and why it
/// failed), or a note when the hop speaks h2 without RFC 8441. Nothing for a hop that chose
/// HTTP/1.1: its one line says all.
fn http2_lines(
    h2: &Http2Outcome,
    culprit: bool,
    style: &Style,
    w: &mut dyn Write,
) -> io::Result<()> {
    let Some(p) = &h2.probe else {
        if h2.alpn.as_deref() == Some("h2") {
            let note = "h2  no RFC 8441 (SETTINGS_ENABLE_CONNECT_PROTOCOL not advertised): WebSockets use HTTP/1.1 here";
            writeln!(w, "    {}", style.paint(Paint::Dim, note))?;
        }
        return Ok(());
    };
    let failed = h2.failed();
    let (mark, paint) = if failed {
        ("✗", Paint::Red)
    } else {
        ("✓", Paint::Green)
    };
    let status = p
        .evidence
        .status
        .map_or_else(|| "—".to_string(), |s| s.to_string());
    let mut line = format!(
        "    {} h2  {status}  {}  {}  {}",
        style.paint(paint, mark),
        match p.evidence.answered_by.to_string() {
            s if s.is_empty() => "unknown".to_string(),
            s => s,
        },
        style.paint(Paint::Dim, &format!("{:.1} ms", p.timings.total)),
        outcome_of(p),
    );
    if culprit {
        line.push_str(&style.paint(Paint::Red, "  ← culprit"));
    }
    writeln!(w, "{}", line.trim_end())?;
    if failed && !p.detail.is_empty() {
        for l in wrap(&redact::url(&p.detail), "      ", "      ", WIDTH) {
            writeln!(w, "{l}")?;
        }
    }
    Ok(())
}

/// name, address, status, answered_by, ms.
fn columns(hop: &HopReport) -> [String; 5] {
    let e = &hop.outcome.evidence;
    [
        shown(&hop.name),
        shown(&hop.address),
        e.status.map_or_else(|| "—".to_string(), |s| s.to_string()),
        match e.answered_by.to_string() {
            s if s.is_empty() => "unknown".to_string(),
            s => s,
        },
        format!("{:.1} ms", hop.outcome.timings.total),
    ]
}

/// What a failing hop said, for the line(s) beneath it.
fn detail_text(hop: &HopReport) -> Option<String> {
    let detail = failure_detail(&hop.outcome);
    match (&hop.idle_setting, detail) {
        (Some(setting), Some(detail)) => Some(format!("{detail}; matches {setting}")),
        (Some(setting), None) => Some(format!("matches {setting}")),
        (None, detail) => detail,
    }
}

fn failure_detail(o: &ProbeOutcome) -> Option<String> {
    (!o.verdict.passed() && !o.detail.is_empty()).then(|| shown(&o.detail))
}

/// Text from outside (or holding some) as a terminal may show it: secrets masked by the one
/// redaction policy, then control and bidi characters escaped by the one sanitizer.
fn shown(text: &str) -> String {
    sanitize::terminal(&redact::text(text)).into_owned()
}

/// `text` in lines of at most `width` columns where it can be broken: between words, never
/// inside a `code span`. A word longer than a line stays whole.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut in_code = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match words.last_mut() {
            Some(last) if in_code => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            in_code = !in_code;
        }
    }
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in words {
        let len = line.chars().count() + usize::from(!empty) + word.chars().count();
        if !empty && len > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

fn idle_dropped(hop: &HopReport) -> bool {
    hop.outcome.idle.as_ref().is_some_and(|i| i.dropped)
}

/// The width prose is wrapped to.
const WIDTH: usize = 80;

/// "upgraded, ping 0.3 ms, held 60.0 s" / "connection refused"; the detail goes on its own
/// line(s) beneath (see [`detail_text`]).
fn outcome_text(hop: &HopReport) -> String {
    outcome_of(&hop.outcome)
}

/// [`outcome_text`] of any one probe (a hop's, its HTTP/2 path's, or one of its browser
/// variants').
fn outcome_of(o: &ProbeOutcome) -> String {
    // `bad_accept` covers every invalid 101 (accept key, Upgrade, Connection, a subprotocol or
    // extension); the detail line beneath says which, so the title must not name one.
    let title = match o.verdict {
        Verdict::BadAccept => "invalid 101",
        v => v.title(),
    };
    // "502 Bad Gateway" beside a status column that already says 502: "Bad Gateway".
    let title = match o.evidence.status {
        Some(code) => title.strip_prefix(&format!("{code} ")).unwrap_or(title),
        None => title,
    };
    let mut parts = vec![title.to_string()];
    if let Some(rtt) = o.ping_rtt_ms {
        parts.push(format!("ping {rtt:.1} ms"));
    }
    if let Some(ext) = o.evidence.extensions() {
        parts.push(redact::url(ext).into_owned());
    }
    match o.echo_ok {
        Some(true) => parts.push("echo ok".into()),
        Some(false) => parts.push("echo failed".into()),
        None => {}
    }
    if let Some(i) = &o.idle {
        let after = i.dropped_after_ms.unwrap_or(i.held_ms) / 1000.0;
        let code = i.close_code.map(|c| format!(" ({c})")).unwrap_or_default();
        if !i.dropped {
            parts.push(format!("held {:.1} s", i.held_ms / 1000.0));
        } else if o.verdict != Verdict::IdleDropped {
            parts.push(format!("dropped while idle after {after:.1} s{code}"));
        } else if o.detail.is_empty() {
            // The probe's detail, when there is one, already says when and how it dropped.
            parts.push(format!("after {after:.1} s{code}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    fn text(report: &Report, color: bool) -> String {
        let mut out = Vec::new();
        render(report, color, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn broken_path_lines_and_verdict() {
        let out = text(&sample::broken(), false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "wss://example.test/ws/chat");
        assert_eq!(
            lines[1],
            "  ~ lb       127.0.0.1:8443  505  python-websockets  2.2 ms  Upgrade stripped  (passes it on)"
        );
        assert_eq!(lines[2], "      unsupported HTTP version: HTTP/1.0");
        assert_eq!(
            lines[3],
            "  ✗ nginx    127.0.0.1:8080  505  python-websockets  2.2 ms  Upgrade stripped  ← culprit"
        );
        assert_eq!(lines[4], "      unsupported HTTP version: HTTP/1.0");
        assert_eq!(
            lines[5],
            "      error nginx/upgrade-not-forwarded nginx.conf:14: location /ws/ does not"
        );
        assert_eq!(lines[6], "        forward Upgrade");
        assert_eq!(lines[7], "      nginx proxy_http_version = 1.0");
        assert_eq!(
            lines[8],
            "  ✓ backend  127.0.0.1:9000  101  python-websockets  2.2 ms  upgraded, ping 0.3 ms"
        );
        assert!(lines[10].starts_with("✗ culprit: nginx (127.0.0.1:8080) strips Upgrade:"));
        let culprit: Vec<&str> = lines[10..]
            .iter()
            .take_while(|l| !l.starts_with("  reproduce:"))
            .copied()
            .collect();
        assert!(culprit[1..].iter().all(|l| l.starts_with("  ")));
        let joined = culprit
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            joined.contains("— add `proxy_http_version 1.1;` at nginx.conf:14;"),
            "{joined}"
        );
        // The lb in front passed the same refusal on: the sentence ends by saying so.
        assert!(
            joined.ends_with("whether it strips Upgrade too shows only once this is fixed"),
            "{joined}"
        );
        assert!(out.contains("\n  reproduce: curl"));
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn prose_fits_80_columns_and_code_spans_stay_whole() {
        let mut r = sample::broken();
        r.hops[1].outcome.detail = "x ".repeat(100);
        if let Some(c) = r.culprit.as_mut() {
            c.summary = format!(
                "{} `proxy_set_header Connection $connection_upgrade;` {}",
                "word ".repeat(14),
                "tail ".repeat(30)
            );
        }
        let out = text(&r, false);
        for line in out.lines().filter(|l| !l.contains("reproduce:")) {
            // Hop lines are columns; everything else is wrapped prose.
            if !line.contains(" ms ") {
                assert!(line.chars().count() <= 80, "{line}");
            }
        }
        assert!(out.contains("`proxy_set_header Connection $connection_upgrade;`"));
        assert_eq!(wrap("a `b c` d", "", "", 3), vec!["a", "`b c`", "d"]);
        assert_eq!(wrap("", "> ", "  ", 10), Vec::<String>::new());
    }

    #[test]
    fn a_status_title_does_not_repeat_the_status_column() {
        let mut r = sample::backend_down();
        r.hops[0].outcome.detail = "502 Bad Gateway — this hop could not…".into();
        let out = text(&r, false);
        assert!(
            out.contains("2.2 ms  Bad Gateway  (passes it on)\n"),
            "{out}"
        );
        assert!(
            out.contains("\n      502 Bad Gateway — this hop could not…\n"),
            "{out}"
        );
    }

    #[test]
    fn healthy_path_with_idle() {
        let out = text(&sample::healthy(), false);
        assert!(out.contains("  ✓ target  127.0.0.1:443  101  nginx  2.2 ms  upgraded, ping 0.2 ms, echo ok, held 2.0 s\n"), "{out}");
        assert!(out.ends_with("\n✓ healthy: every hop upgraded and held while idle\n"));
    }

    #[test]
    fn backend_down_without_status() {
        let out = text(&sample::backend_down(), false);
        assert!(out.contains("  ✗ backend  127.0.0.1:9000  —    unknown  2.2 ms  connection refused  ← culprit\n      Connection refused (os error 111)\n"), "{out}");
        assert!(out.contains("✗ culprit: backend (127.0.0.1:9000) refuses the connection"));
    }

    #[test]
    fn colour_only_when_asked() {
        let out = text(&sample::broken(), true);
        assert!(out.contains("\x1b[31m✗\x1b[0m"));
        assert!(out.contains("\x1b[32m✓\x1b[0m"));
    }

    #[test]
    fn no_secret_in_reproduce_line() {
        let mut r = sample::broken();
        r.hops[1].outcome.curl = "curl -H 'Authorization: Bearer hunter2' https://x".into();
        let out = text(&r, false);
        assert!(!out.contains("hunter2"));
    }

    #[test]
    fn browser_variants_beneath_each_hop_and_the_culprit_reproduced_with_firefox() {
        let out = text(&sample::firefox_refused(), false);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].starts_with("  ✗ nginx "), "{out}");
        assert!(lines[1].ends_with("← culprit"), "{out}");
        assert_eq!(
            lines[2],
            "      ✓ as chrome  101  upgraded, permessage-deflate; server_max_window_bits=12"
        );
        assert_eq!(
            lines[3],
            "      ✗ as firefox 400  rejected — 400 Bad Request"
        );
        assert!(
            out.contains(
                "✗ culprit: nginx (127.0.0.1:8080) upgrades wspath's plain request but not"
            ),
            "{out}"
        );
        assert!(
            out.contains("reproduce: curl -H 'Connection: keep-alive, Upgrade'"),
            "{out}"
        );
    }

    #[test]
    fn a_browser_refused_for_the_hops_own_reason_is_not_told_twice() {
        let mut r = sample::firefox_refused();
        let hop = &mut r.hops[0];
        let refused = hop.variants[1].outcome.clone();
        hop.outcome = refused.clone();
        hop.outcome.detail = "400 Bad Request — a long reason".into();
        for v in &mut hop.variants {
            v.outcome = hop.outcome.clone();
        }
        // Another reason than the hop's own is still spelled out.
        hop.variants[1].outcome.detail = "400 Bad Request — another reason".into();
        let out = text(&r, false);
        assert_eq!(out.matches("a long reason").count(), 1, "{out}");
        assert!(
            out.contains("✗ as chrome  400  rejected — as above"),
            "{out}"
        );
        assert!(
            out.contains("✗ as firefox 400  rejected — 400 Bad Request — another reason"),
            "{out}"
        );
    }

    #[test]
    fn idle_drop_is_said_once() {
        let mut r = sample::healthy();
        let o = &mut r.hops[0].outcome;
        o.verdict = Verdict::IdleDropped;
        o.detail = String::new();
        if let Some(i) = o.idle.as_mut() {
            i.dropped = true;
            i.dropped_after_ms = Some(2001.0);
            i.close_code = Some(1006);
        }
        let mut r = Report::new(&sample::target(), r.hops);
        let out = text(&r, false);
        assert!(
            out.contains("dropped while idle, ping 0.2 ms, echo ok, after 2.0 s (1006)  ← culprit"),
            "{out}"
        );
        r.hops[0].outcome.detail = "dropped after 2.0s of silence".into();
        let out = text(&r, false);
        // The hop's own drop, matched against its software's known idle setting.
        assert!(out.contains("dropped while idle, ping 0.2 ms, echo ok  ← culprit\n      dropped after 2.0s of silence; matches nginx `proxy_read_timeout`"), "{out}");
        assert!(!out.contains("after 2.0 s (1006)"), "{out}");
    }
}

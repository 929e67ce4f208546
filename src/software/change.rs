//! Cross-hop reasoning: what a hop changed in the request on its way in (pure).
//!
//! A hop fails with an answer that came from further in — the backend's own refusal, passed
//! on — while the hop right behind it upgrades when wspath probes it directly. The direct probe
//! and the request the hop forwarded then differ, and the backend's words say where: a 404 for
//! the path (often naming the path it got), a refusal naming the Origin, a complaint about a
//! missing `Sec-WebSocket-*` header, a 505 for HTTP/1.0, a 101 that accepts another key. Each
//! software's table says, in its own directives, what makes it change that
//! ([`super::Table::changes`]); the general texts here serve software without one.
//!
//! The Host is left to the advice rows keyed on the inner hop upgrading (a 403/200 from a
//! virtual host that does not know the Host the proxy sent): those name each software's
//! preserve-host setting already.

use super::answered_by::Clue;
use super::Software;
use crate::probe::ProbeOutcome;
use crate::verdict::Verdict;

/// What the hop changed in the request it forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The path (a prefix stripped or replaced, a rewrite).
    Path,
    /// The Origin header (dropped, or replaced with another origin).
    Origin,
    /// A WebSocket handshake header other than Upgrade/Connection (dropped or rewritten).
    Header(&'static str),
    /// The HTTP version: forwarded as HTTP/1.0, which cannot upgrade.
    HttpVersion,
}

/// A change, and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    pub change: Change,
    /// Why wspath thinks so, for the sentence ("and its 404 names the path it got, `/`").
    pub because: String,
}

/// What the answer of the hop behind says about each header it missed, in the words of the
/// WebSocket libraries (python websockets "missing Sec-WebSocket-Key header", gorilla
/// "'Sec-WebSocket-Key' header is missing or blank", ws "Missing or invalid
/// Sec-WebSocket-Key header").
const HEADERS: [&str; 3] = [
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
];

/// What the libraries say about a header without naming it (python websockets "missing
/// subprotocol", "invalid subprotocol; expected one of …").
const HEADER_WORDS: [(&str, &str); 1] = [("subprotocol", "Sec-WebSocket-Protocol")];

/// The library texts that name an HTTP/1.0 request (the same as the probe's classifier).
const HTTP10_WORDS: [&str; 4] = [
    "unsupported http version",
    "http/1.0",
    "at least http/1.1",
    "must be 1.1 or higher",
];

/// What `software` at this hop changed in the request, when its answer `o` came from further
/// in and the hop behind upgrades when probed directly (`inner_upgrades`). `sent_path` is the
/// path (and query) the probe sent this hop and the hop behind.
pub fn infer(
    o: &ProbeOutcome,
    software: Option<Software>,
    inner_upgrades: bool,
    sent_path: &str,
) -> Option<Inferred> {
    if !inner_upgrades {
        return None;
    }
    let status = o.evidence.status?;
    let body = o.evidence.body_snippet.as_deref().unwrap_or("");
    let text = format!("{}\n{body}", o.detail).to_ascii_lowercase();
    match o.verdict {
        // A 101 for another key: the hop sent the hop behind a key of its own.
        Verdict::BadAccept if text.contains("different key") => {
            return Some(Inferred {
                change: Change::Header("Sec-WebSocket-Key"),
                because: "and its 101 accepts another Sec-WebSocket-Key than the one sent".into(),
            })
        }
        Verdict::Rejected | Verdict::UpgradeStripped => {}
        _ => return None,
    }
    if status == 505 || HTTP10_WORDS.iter().any(|w| text.contains(w)) {
        return Some(Inferred {
            change: Change::HttpVersion,
            because: "and its answer refuses the HTTP version (HTTP/1.0)".into(),
        });
    }
    if o.verdict == Verdict::UpgradeStripped {
        // Upgrade/Connection lost: each software's "strips Upgrade" row says it better.
        return None;
    }
    let body_lower = body.to_ascii_lowercase();
    // The hop behind upgraded the same request when probed directly, so whatever its answer
    // here finds missing or wrong was changed on the way.
    let named = HEADERS
        .iter()
        .find(|h| body_lower.contains(&h.to_ascii_lowercase()))
        .or_else(|| {
            HEADER_WORDS
                .iter()
                .find(|(w, _)| body_lower.contains(w))
                .map(|(_, h)| h)
        });
    if let Some(h) = named {
        return Some(Inferred {
            change: Change::Header(h),
            because: format!("and its answer says {h} is missing or wrong"),
        });
    }
    if matches!(status, 400 | 403) && body_lower.contains("origin") {
        return Some(Inferred {
            change: Change::Origin,
            because: "and its refusal names the Origin".into(),
        });
    }
    if status == 404 && from_further_in(o, software, body) {
        let named = named_path(body).filter(|p| p != sent_path);
        return Some(Inferred {
            change: Change::Path,
            because: match named {
                Some(p) => format!("and its 404 names the path it got, `{p}`"),
                None => "and the 404 is not a page of its own".into(),
            },
        });
    }
    None
}

/// Whether the answer is not the hop's own error page: it carries a body, and none of the
/// page marks of the software at the hop (its error-page words, or its bare page: Traefik's
/// `404 page not found`).
fn from_further_in(o: &ProbeOutcome, software: Option<Software>, body: &str) -> bool {
    if Software::from_answered_by(&o.evidence.answered_by.to_string())
        == Some(Software::BackendLibrary)
    {
        return true;
    }
    !body.trim().is_empty() && !own_page(o, software)
}

/// Whether the answer is a page of the hop's own software: one of its error-page marks (its
/// error-page words, or its bare page such as Traefik's `404 page not found`) is in it.
pub fn own_page(o: &ProbeOutcome, software: Option<Software>) -> bool {
    let lower = o
        .evidence
        .body_snippet
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    let status = o.evidence.status.unwrap_or(0);
    software.is_some_and(|s| {
        s.table().recognise.iter().any(|(clue, _)| {
            matches!(
                clue,
                Clue::Body(_) | Clue::BareBodyIs(_) | Clue::ServerBodyIs(..)
            ) && clue.matches(status, &o.evidence.headers, &lower)
        })
    })
}

/// A path the body names ("rejected /", "Cannot GET /chat", "The current path, /x, didn't
/// match"): the first word that starts with `/` after a space, a quote or the start.
fn named_path(body: &str) -> Option<String> {
    let line = body.lines().find(|l| !l.trim().is_empty())?;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if c == '/' && matches!(prev, ' ' | '"' | '\'' | '`' | '(' | ',') {
            let word: String = line[i..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '`' | '<' | ')'))
                .collect();
            let word = word.trim_end_matches(['.', ',', ';', ':']).to_string();
            if !word.is_empty() && word.len() <= 200 {
                return Some(word);
            }
        }
        prev = c;
    }
    if line.starts_with('/') {
        return line.split_whitespace().next().map(str::to_string);
    }
    None
}

/// The fix for `change` at `software`: its table's words, else the general ones. `{header}`
/// stands for the header's name.
pub fn fix(change: Change, software: Option<Software>) -> String {
    let own = software.and_then(|s| {
        s.table()
            .changes
            .iter()
            .find(|(c, _)| same_kind(*c, change))
            .map(|(_, fix)| *fix)
    });
    let text = own.unwrap_or(match change {
        Change::Path => "make it forward the path unchanged (no prefix strip or rewrite for this path), or map it to the path {inner} serves",
        Change::Origin => "remove the rule that drops or rewrites Origin on the way, or add the origin {inner} receives to its allow-list",
        Change::Header(_) => "remove the rule that drops or rewrites {header} on the way (WebSocket handshake headers must reach the server unchanged)",
        Change::HttpVersion => "make it forward the request to {inner} over HTTP/1.1: an HTTP/1.0 request cannot upgrade",
    });
    match change {
        Change::Header(h) => text.replace("{header}", h),
        _ => text.to_string(),
    }
}

/// A table row for `Header(_)` serves every header.
fn same_kind(row: Change, change: Change) -> bool {
    match (row, change) {
        (Change::Header(_), Change::Header(_)) => true,
        (a, b) => a == b,
    }
}

/// "{inner} ({inner_address}) upgrades when probed directly …, so {hop} …: " for `inferred`.
pub fn clause(inferred: &Inferred, sent_path: &str) -> String {
    let (with, so) = match inferred.change {
        Change::Path => (
            format!("at {sent_path}"),
            "sends it another path".to_string(),
        ),
        Change::Origin => (
            "with the same Origin".to_string(),
            "drops or rewrites the Origin header on the way".to_string(),
        ),
        Change::Header(h) => (
            "with the same headers".to_string(),
            format!("drops or rewrites {h} on the way"),
        ),
        Change::HttpVersion => (
            "over HTTP/1.1".to_string(),
            "forwards the request as HTTP/1.0".to_string(),
        ),
    };
    format!(
        "{{inner}} ({{inner_address}}) upgrades when probed directly {with}, {}, so this hop {so}: ",
        inferred.because
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample::outcome;

    fn answer(verdict: Verdict, status: u16, by: &str, body: &str) -> ProbeOutcome {
        let mut o = outcome(verdict, Some(status), by);
        o.detail = format!("{status}: \"{}\"", body.trim());
        o.evidence.body_snippet = Some(body.into());
        o
    }

    #[test]
    fn each_change_from_the_backends_words() {
        let o = answer(V::Rejected, 404, "unknown", "rejected /\n");
        let i = infer(&o, Some(Software::Nginx), true, "/ws").unwrap();
        assert_eq!(i.change, Change::Path);
        assert!(i.because.contains("`/`"), "{}", i.because);
        // Nothing to compare with: the hop behind fails too.
        assert_eq!(infer(&o, Some(Software::Nginx), false, "/ws"), None);
        // nginx's own 404 page is nginx's, not the backend's.
        let own = answer(
            V::Rejected,
            404,
            "nginx",
            "<html><hr><center>nginx/1.22.1</center></html>",
        );
        assert_eq!(infer(&own, Some(Software::Nginx), true, "/ws"), None);

        let o = answer(V::Rejected, 403, "unknown", "Forbidden origin\n");
        assert_eq!(
            infer(&o, Some(Software::Nginx), true, "/ws")
                .unwrap()
                .change,
            Change::Origin
        );
        let o = answer(
            V::Rejected,
            400,
            "python-websockets",
            "Failed to open a WebSocket connection: missing Sec-WebSocket-Key header.\n",
        );
        assert_eq!(
            infer(&o, None, true, "/ws").unwrap().change,
            Change::Header("Sec-WebSocket-Key")
        );
        // The subprotocol offered upgrades directly, and the answer through the hop misses it.
        let o = answer(
            V::Rejected,
            400,
            "python-websockets",
            "Failed to open a WebSocket connection: missing subprotocol.\n",
        );
        assert_eq!(
            infer(&o, Some(Software::Haproxy), true, "/ws")
                .unwrap()
                .change,
            Change::Header("Sec-WebSocket-Protocol")
        );
        let o = answer(
            V::UpgradeStripped,
            505,
            "python-websockets",
            "Failed to open a WebSocket connection: unsupported HTTP version: HTTP/1.0.\n",
        );
        assert_eq!(
            infer(&o, Some(Software::Apache), true, "/ws")
                .unwrap()
                .change,
            Change::HttpVersion
        );
        let o = answer(
            V::UpgradeStripped,
            426,
            "python-websockets",
            "Failed to open a WebSocket connection: missing Upgrade header.\n",
        );
        assert_eq!(infer(&o, None, true, "/ws"), None);
    }

    #[test]
    fn named_paths() {
        assert_eq!(named_path("rejected /\n").as_deref(), Some("/"));
        assert_eq!(named_path("Cannot GET /chat").as_deref(), Some("/chat"));
        assert_eq!(
            named_path("The current path, /x/y., didn't match").as_deref(),
            Some("/x/y")
        );
        assert_eq!(named_path("/api/ws not found").as_deref(), Some("/api/ws"));
        assert_eq!(named_path("unsupported HTTP/1.0"), None);
        assert_eq!(named_path("see https://example.com/x"), None);
    }

    #[test]
    fn fixes_come_from_the_table_or_the_general_words() {
        assert!(fix(Change::Path, Some(Software::Nginx)).contains("proxy_pass"));
        assert!(fix(Change::Origin, Some(Software::Apache)).contains("RequestHeader"));
        assert!(
            fix(Change::Header("Sec-WebSocket-Key"), Some(Software::Caddy))
                .contains("header_up -Sec-WebSocket-Key")
        );
        assert!(
            fix(Change::Header("Sec-WebSocket-Version"), None).contains("Sec-WebSocket-Version")
        );
        // Every software's rows are for its own changes, and no `{header}` is left unfilled.
        for t in super::super::TABLES {
            for (c, _) in t.changes {
                let f = fix(*c, Some(t.software));
                assert!(!f.contains("{header}"), "{}: {f}", t.name);
            }
        }
    }

    use Verdict as V;
}

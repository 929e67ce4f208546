//! ALB's own rule matching, so wspath can say which rule a WebSocket handshake hits without
//! sending one: rules in priority order, the default rule last; `*` and `?` wildcards;
//! path patterns case-sensitive, host headers case-insensitive and compared without the port.

use super::model::{Condition, Listener, Rule};

/// The rule a request hits, and the rules passed over because wspath cannot evaluate one of
/// their conditions (http-header, query-string, source-ip): they might have matched first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'a> {
    pub rule: Option<&'a Rule>,
    pub uncertain: Vec<&'a Rule>,
}

/// Which rule of `listener` a `GET` for `host` + `path` (query string not included) matches.
pub fn route<'a>(listener: &'a Listener, host: &str, path: &str) -> Route<'a> {
    let mut uncertain = Vec::new();
    let mut rules: Vec<&Rule> = listener.rules.iter().collect();
    rules.sort_by_key(|r| r.priority);
    for rule in rules {
        match rule_matches(rule, host, path) {
            Match::Yes => {
                return Route {
                    rule: Some(rule),
                    uncertain,
                }
            }
            Match::Unknown => uncertain.push(rule),
            Match::No => {}
        }
    }
    Route {
        rule: None,
        uncertain,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Unknown,
}

fn rule_matches(rule: &Rule, host: &str, path: &str) -> Match {
    let host = strip_port(host);
    let mut result = Match::Yes;
    for cond in &rule.conditions {
        let m = match cond {
            Condition::PathPattern(patterns) => patterns.iter().any(|p| wildcard(p, path, false)),
            Condition::HostHeader(patterns) => patterns.iter().any(|p| wildcard(p, host, true)),
            // A WebSocket handshake is always a GET.
            Condition::HttpRequestMethod(methods) => methods.iter().any(|m| m == "GET"),
            Condition::Other { .. } => {
                result = Match::Unknown;
                continue;
            }
        };
        if !m {
            return Match::No;
        }
    }
    result
}

/// `example.com:443` → `example.com`; `[::1]:443` → `[::1]`.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if h.starts_with('[') || !h.contains(':') {
                h
            } else {
                host
            }
        }
        _ => host,
    }
}

/// ALB wildcards: `*` any run of characters (also none), `?` exactly one; the whole value must
/// match. Iterative with one backtrack point, so no pattern can make it slow.
pub fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], v[vi]))) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Can one value match both ALB wildcard patterns? (Does a request exist that both a rule's
/// pattern and a new rule's pattern catch?) A search over pairs of positions in the two
/// patterns: at most 129 × 129 states for ALB's 128-character limit.
pub fn patterns_overlap(a: &str, b: &str, ignore_case: bool) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let eq = |x: char, y: char| {
        x == '?'
            || y == '?'
            || if ignore_case {
                x.to_lowercase().eq(y.to_lowercase())
            } else {
                x == y
            }
    };
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if !seen.insert((i, j)) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        // A `*` may match nothing…
        if ca == Some('*') {
            stack.push((i + 1, j));
        }
        if cb == Some('*') {
            stack.push((i, j + 1));
        }
        match (ca, cb) {
            // …or swallow one character the other side produces.
            (Some('*'), Some(y)) if y != '*' => stack.push((i, j + 1)),
            (Some(x), Some('*')) if x != '*' => stack.push((i + 1, j)),
            (Some(x), Some(y)) if x != '*' && y != '*' && eq(x, y) => stack.push((i + 1, j + 1)),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_alb::model::{Priority, RuleAction};

    #[test]
    fn overlapping_patterns() {
        assert!(patterns_overlap("/ws/admin/*", "/ws/*", false));
        assert!(patterns_overlap("/ws*", "/ws/*", false));
        assert!(patterns_overlap("*", "/ws/*", false));
        assert!(patterns_overlap("/w?/x", "/ws/*", false));
        assert!(!patterns_overlap("/api/*", "/ws/*", false));
        assert!(!patterns_overlap("/ws", "/ws/*", false));
        assert!(patterns_overlap("*.Example.com", "a.example.com", true));
        assert!(!patterns_overlap("b.example.com", "a.example.com", true));
    }

    #[test]
    fn wildcards_follow_alb() {
        assert!(wildcard("/ws/*", "/ws/chat", false));
        assert!(wildcard("/ws/*", "/ws/", false));
        assert!(!wildcard("/ws/*", "/ws", false));
        assert!(wildcard("/ws*", "/ws", false));
        assert!(wildcard("/a?c", "/abc", false));
        assert!(!wildcard("/a?c", "/ac", false));
        assert!(!wildcard("/WS/*", "/ws/chat", false));
        assert!(wildcard("*.Example.com", "api.example.COM", true));
        assert!(wildcard("*a*b*", "xxaxxbxx", false));
        assert!(!wildcard("*a*b", "xxaxxbxxc", false));
    }

    fn rule(priority: Priority, conditions: Vec<Condition>, name: &str) -> Rule {
        Rule {
            arn: name.to_string(),
            priority,
            conditions,
            action: RuleAction::Other(name.to_string()),
        }
    }

    #[test]
    fn priority_order_and_default_last() {
        let listener = Listener {
            arn: "l".into(),
            protocol: crate::aws_alb::model::Protocol::Https,
            port: 443,
            rules: vec![
                rule(Priority::Default, vec![], "default"),
                rule(
                    Priority::Number(20),
                    vec![Condition::PathPattern(vec!["/ws/*".into()])],
                    "ws-any",
                ),
                rule(
                    Priority::Number(10),
                    vec![
                        Condition::PathPattern(vec!["/ws/*".into()]),
                        Condition::HostHeader(vec!["chat.example.com".into()]),
                    ],
                    "ws-chat",
                ),
                rule(
                    Priority::Number(5),
                    vec![Condition::Other {
                        field: "http-header".into(),
                    }],
                    "header",
                ),
            ],
        };
        let r = route(&listener, "CHAT.example.com:443", "/ws/x");
        assert_eq!(r.rule.map(|r| r.arn.as_str()), Some("ws-chat"));
        assert_eq!(r.uncertain.len(), 1);
        let r = route(&listener, "other.example.com", "/ws/x");
        assert_eq!(r.rule.map(|r| r.arn.as_str()), Some("ws-any"));
        let r = route(&listener, "other.example.com", "/WS/x");
        assert_eq!(r.rule.map(|r| r.arn.as_str()), Some("default"));
    }
}

//! The WebSocket checks: a pure function from the model to findings, one per broken setting,
//! each naming the directive (file:line) that causes it, why it breaks the upgrade, and the fix.
//!
//! `proxy_buffering` is deliberately not checked: nginx tunnels an upgraded connection without
//! buffering, so it never breaks a WebSocket (it matters for server-sent events only).

use super::model::{Model, Modifier, NodeId, Source};
use super::parser::Directive;
use super::version::AssumedVersion;
use crate::finding::{Finding, Location, Severity};
use std::time::Duration;

/// What a finding is about; the fixer plans edits from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    UpgradeNotForwarded,
    ConnectionNotForwarded,
    ConnectionForcedClose,
    HttpVersion,
    HeadersLost,
    MissingMap,
    HardcodedUpgrade,
    ReadTimeout,
    SendTimeout,
    KeepaliveClearsConnection,
    NotProxying,
    NoLocation,
    IfRejectsUpgrade,
    H2cOnlyListen,
}

/// `nginx/empty-config`: see [`empty_config`].
pub const EMPTY_CONFIG: &str = "nginx/empty-config";

/// `nginx/no-websocket-location`: see [`nothing_checked`].
pub const NO_WEBSOCKET_LOCATION: &str = "nginx/no-websocket-location";

impl Check {
    pub const ALL: [Check; 14] = [
        Check::UpgradeNotForwarded,
        Check::ConnectionNotForwarded,
        Check::ConnectionForcedClose,
        Check::HttpVersion,
        Check::HeadersLost,
        Check::MissingMap,
        Check::HardcodedUpgrade,
        Check::ReadTimeout,
        Check::SendTimeout,
        Check::KeepaliveClearsConnection,
        Check::NotProxying,
        Check::NoLocation,
        Check::IfRejectsUpgrade,
        Check::H2cOnlyListen,
    ];

    /// What the rule looks for, the same wherever it fires (each finding's message says
    /// where): the rule's description in SARIF.
    pub fn title(self) -> &'static str {
        match self {
            Check::UpgradeNotForwarded => "A WebSocket location does not forward the Upgrade header",
            Check::ConnectionNotForwarded => "A WebSocket location does not send `Connection: upgrade` to the backend",
            Check::ConnectionForcedClose => "A WebSocket location forces a Connection value that is not upgrade",
            Check::HttpVersion => "A WebSocket location proxies with HTTP/1.0, which cannot upgrade",
            Check::HeadersLost => "A location's own proxy_set_header lines drop the WebSocket headers it would inherit",
            Check::MissingMap => "Connection is set from a variable that nothing defines",
            Check::HardcodedUpgrade => "Connection: upgrade is sent on every request, plain HTTP ones too",
            Check::ReadTimeout => "proxy_read_timeout cuts WebSockets that stay idle as long as expected",
            Check::SendTimeout => "proxy_send_timeout cuts WebSockets that stay idle as long as expected",
            Check::KeepaliveClearsConnection => "Connection is cleared for upstream keepalive, so the upgrade is not asked for",
            Check::NotProxying => "The WebSocket path falls into a location that does not proxy",
            Check::NoLocation => "No location serves the WebSocket path",
            Check::IfRejectsUpgrade => "An `if` block answers WebSocket requests before they are proxied",
            Check::H2cOnlyListen => "A listen with http2 and without ssl speaks only HTTP/2",
        }
    }

    /// The stable ID shown to users and CI.
    pub fn id(self) -> &'static str {
        match self {
            Check::UpgradeNotForwarded => "nginx/upgrade-not-forwarded",
            Check::ConnectionNotForwarded => "nginx/connection-not-forwarded",
            Check::ConnectionForcedClose => "nginx/connection-forced-close",
            Check::HttpVersion => "nginx/http-version-below-1.1",
            Check::HeadersLost => "nginx/headers-lost-to-inheritance",
            Check::MissingMap => "nginx/connection-upgrade-without-map",
            Check::HardcodedUpgrade => "nginx/connection-upgrade-hardcoded",
            Check::ReadTimeout => "nginx/read-timeout-below-idle",
            Check::SendTimeout => "nginx/send-timeout-below-idle",
            Check::KeepaliveClearsConnection => "nginx/keepalive-clears-connection",
            Check::NotProxying => "nginx/location-not-proxying",
            Check::NoLocation => "nginx/no-location",
            Check::IfRejectsUpgrade => "nginx/if-rejects-upgrade",
            Check::H2cOnlyListen => "nginx/listen-http2-without-ssl",
        }
    }
}

/// The description of the nginx lint rule `id` (see [`Check::title`]).
pub fn rule_title(id: &str) -> Option<&'static str> {
    if id == EMPTY_CONFIG {
        return Some("The configuration has no directives, so it configures nothing");
    }
    if id == NO_WEBSOCKET_LOCATION {
        return Some(
            "No location shows WebSocket intent and no path was named, so nothing was checked",
        );
    }
    Check::ALL
        .into_iter()
        .find(|c| c.id() == id)
        .map(Check::title)
}

#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Check the location serving this path (else every proxying location with WebSocket intent).
    pub path: Option<String>,
    /// Pick the server by this Host (else every server).
    pub host: Option<String>,
    /// Expected idle time of a WebSocket: timeouts at or below it are reported.
    pub idle: Duration,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            path: None,
            host: None,
            idle: Duration::from_secs(60),
        }
    }
}

/// One checked location (or `if` in one) and what is wrong with it.
#[derive(Debug, Clone)]
pub struct ScopeResult {
    pub scope: NodeId,
    /// `location /ws/` (file:line).
    pub name: String,
    pub location: Location,
    pub problems: Vec<(Check, Finding)>,
}

#[derive(Debug, Clone)]
pub struct LintReport {
    pub version: AssumedVersion,
    pub scopes: Vec<ScopeResult>,
    /// Findings not tied to a checked location (no location serves --path, …).
    pub general: Vec<Finding>,
}

impl LintReport {
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self.general.clone();
        for s in &self.scopes {
            out.extend(s.problems.iter().map(|(_, f)| f.clone()));
        }
        out
    }
    pub fn has_error(&self) -> bool {
        self.findings()
            .iter()
            .any(|f| f.severity == Severity::Error)
    }
}

/// Path fragments that mark a location as a WebSocket endpoint.
const WS_HINTS: &[&str] = &[
    "/ws",
    "/websocket",
    "/socket.io",
    "/cable",
    "/hub",
    "/live",
    "/streaming",
    "/graphql",
];

pub fn looks_like_ws_path(p: &str) -> bool {
    let p = p.as_bytes();
    WS_HINTS.iter().any(|h| {
        let h = h.as_bytes();
        (0..p.len().saturating_sub(h.len() - 1)).any(|i| {
            p[i..i + h.len()].eq_ignore_ascii_case(h)
                && !p
                    .get(i + h.len())
                    .is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
}

/// Variables nginx defines itself (the ones seen in Upgrade/Connection values).
fn builtin_variable(name: &str) -> bool {
    const PREFIXES: &[&str] = &["http_", "arg_", "cookie_", "sent_http_", "upstream_http_"];
    const NAMES: &[&str] = &[
        "host",
        "scheme",
        "connection",
        "remote_addr",
        "request_uri",
        "uri",
        "args",
        "proxy_host",
        "proxy_add_x_forwarded_for",
        "server_name",
        "request_method",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// `needle` (lowercase ASCII) in `hay`, ignoring ASCII case, without a lowercased copy.
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `$name` when the value is exactly one variable.
fn single_variable(v: &str) -> Option<&str> {
    let name = v.strip_prefix('$')?;
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then_some(name)
}

/// The WebSocket handshakes real clients send, as the variables `if` and `map` read them:
/// Chrome, Safari and curl send `Connection: Upgrade`; Firefox sends `Connection: keep-alive,
/// Upgrade` (a rule matching the whole value breaks every Firefox user).
pub const WS_CLIENTS: &[(&str, &str)] = &[
    ("Chrome's, Safari's and curl's", "Upgrade"),
    ("Firefox's", "keep-alive, Upgrade"),
];

/// The value of `$var` in a WebSocket handshake whose Connection header is `connection`;
/// `None` for variables a handshake does not fix.
fn ws_value(var: &str, connection: &'static str) -> Option<&'static str> {
    match var {
        "http_upgrade" => Some("websocket"),
        "http_connection" => Some(connection),
        "request_method" => Some("GET"),
        _ => None,
    }
}

/// Does the condition of `if (…)` hold for a WebSocket handshake with this Connection header?
/// `None` when it depends on something else (files, other variables).
pub fn if_holds(d: &Directive, connection: &'static str) -> Option<bool> {
    let var = |a: &str| single_variable(a).and_then(|v| ws_value(v, connection));
    match d.args.as_slice() {
        [v] => var(&v.text).map(|x| !x.is_empty() && x != "0"),
        [v, op, operand] => {
            let value = var(&v.text)?;
            let operand = operand.text.as_str();
            if operand.contains('$') {
                return None;
            }
            let m = |caseless| super::model::pcre_match(operand, caseless, value);
            match op.text.as_str() {
                "=" => Some(value == operand),
                "!=" => Some(value != operand),
                "~" => Some(m(false)),
                "~*" => Some(m(true)),
                "!~" => Some(!m(false)),
                "!~*" => Some(!m(true)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Where a WebSocket handshake that matched location `l` of `server` is served: the named
/// location an `if (…) { return CODE; }` every handshake enters hands it to through
/// `error_page CODE = @name` (the "418 trick" for sending WebSockets elsewhere), or the one
/// `try_files … @name` ends in; else `l` itself.
pub fn ws_destination(model: &Model<'_>, server: NodeId, l: NodeId) -> NodeId {
    for &i in model.own(l, "if") {
        let every = WS_CLIENTS
            .iter()
            .all(|&(_, c)| if_holds(model.node(i).d, c) == Some(true));
        if !every {
            continue;
        }
        let code = model
            .own(i, "return")
            .first()
            .and_then(|&r| model.node(r).d.arg(0));
        if let Some(named) = code.and_then(|c| model.error_page_target(server, i, c)) {
            return named;
        }
    }
    model.try_files_target(server, l).unwrap_or(l)
}

pub struct Linter<'m, 'c> {
    pub model: &'m Model<'c>,
    pub opts: &'m LintOptions,
}

impl<'m, 'c> Linter<'m, 'c> {
    pub fn location(&self, d: &Directive) -> Location {
        Location {
            file: self.model.config.files[d.file].path.clone().into(),
            line: d.line,
        }
    }

    /// The directive as written, on one line.
    pub fn text(&self, d: &Directive) -> String {
        let src = &self.model.config.files[d.file].source;
        let end = if d.block.is_some() { d.end - 1 } else { d.end };
        let raw = src.get(d.start..end).unwrap_or(&d.name);
        let mut out = String::with_capacity(raw.len());
        for word in raw.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }

    fn at(&self, d: &Directive) -> String {
        format!("{} ({})", self.text(d), self.location(d))
    }

    pub fn scope_name(&self, scope: NodeId) -> String {
        let d = self.model.node(scope).d;
        let text = self.text(d);
        let trimmed = text.trim_end_matches('{').trim();
        if trimmed.len() == text.len() {
            text
        } else {
            trimmed.to_string()
        }
    }

    /// Does the scope (or anything it inherits) set the WebSocket headers: Upgrade, or a
    /// Connection that carries "upgrade"?
    fn header_intent(&self, scope: NodeId) -> bool {
        let m = self.model;
        m.levels(scope).any(|l| {
            m.own(l, "proxy_set_header").iter().any(|&h| {
                let d = m.node(h).d;
                let name = d.arg(0).unwrap_or_default();
                let value = d.arg(1).unwrap_or_default();
                name.eq_ignore_ascii_case("upgrade")
                    || (name.eq_ignore_ascii_case("connection")
                        && contains_ignore_case(value, "upgrade"))
            })
        })
    }

    /// Does the scope's location path (or an enclosing one) look like a WebSocket endpoint?
    fn path_hint(&self, scope: NodeId) -> bool {
        let m = self.model;
        m.levels(scope)
            .filter(|&l| m.name(l) == "location")
            .any(|l| looks_like_ws_path(m.location_pattern(l).1))
    }

    /// A location's path when it is a prefix (or exact) match, not a regex.
    fn prefix_of(&self, scope: NodeId) -> Option<&'c str> {
        if self.model.name(scope) != "location" {
            return None;
        }
        match self.model.location_pattern(scope) {
            (Modifier::Prefix | Modifier::PrefixNoRegex | Modifier::Exact, p) => Some(p),
            _ => None,
        }
    }

    /// Where a scope proxies to: the host part of its `proxy_pass` URL (an upstream name or
    /// host:port), without the scheme and path.
    fn proxied_host(&self, scope: NodeId) -> Option<&'c str> {
        let url = self.model.proxy_pass(scope)?.arg(0)?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        Some(rest.split('/').next().unwrap_or(rest))
    }

    /// The prefixes of the locations among `scopes` that set the WebSocket headers (`headers`,
    /// [`Linter::header_intent`] of each scope), each with where it proxies to.
    fn websocket_prefixes(
        &self,
        scopes: &[NodeId],
        headers: &[bool],
    ) -> Vec<(&'c str, Option<&'c str>)> {
        scopes
            .iter()
            .zip(headers)
            .filter(|(_, &h)| h)
            .filter_map(|(&l, _)| Some((self.prefix_of(l)?, self.proxied_host(l))))
            .collect()
    }

    /// Does the scope show it is meant to carry WebSockets? The headers say so (`headers`); a
    /// WebSocket-like path does too, unless the location is carved out of one that sets the
    /// headers: a prefix location inside the prefix of one of `websocket_prefixes` (its
    /// server's locations that set them) that sets none itself and sends its requests somewhere
    /// else is deliberate (Vaultwarden's SignalR `/notifications/hub/negotiate`, plain HTTP to
    /// another port, beside the WebSocket `/notifications/hub`). One that goes to the same place
    /// is more likely a WebSocket location that forgot its headers, and is checked.
    fn ws_intent(
        &self,
        scope: NodeId,
        headers: bool,
        websocket_prefixes: &[(&str, Option<&str>)],
    ) -> bool {
        if headers {
            return true;
        }
        let to = self.proxied_host(scope);
        let carved_out = self.prefix_of(scope).is_some_and(|mine| {
            websocket_prefixes
                .iter()
                .any(|&(p, their)| p.len() < mine.len() && mine.starts_with(p) && their != to)
        });
        self.path_hint(scope) && !carved_out
    }

    #[allow(clippy::too_many_arguments)] // one call shape for every check reads better than a builder
    fn finding(
        &self,
        check: Check,
        severity: Severity,
        d: Option<&Directive>,
        fallback: &Directive,
        message: String,
        why: &str,
        fix: String,
    ) -> (Check, Finding) {
        let at = d.unwrap_or(fallback);
        let evidence = match d {
            Some(d) => self.at(d),
            None => format!("not set in {}", self.at(fallback)),
        };
        (
            check,
            Finding {
                id: check.id().to_string(),
                severity,
                message,
                evidence,
                why: Some(why.to_string()),
                fix: Some(fix),
                location: Some(self.location(at)),
            },
        )
    }

    /// All checks of one proxying scope; `name` is its [`Linter::scope_name`].
    pub fn check_scope(&self, scope: NodeId, name: &str) -> Vec<(Check, Finding)> {
        let m = self.model;
        let me = m.node(scope).d;
        let mut out = Vec::new();
        let headers = m.headers(scope);

        // Headers an outer level set and this level's own proxy_set_header dropped.
        let mut lost = Vec::new();
        if let Some(level) = headers.level {
            let outer = m.levels(level).skip(1).find_map(|l| {
                let own = m.own(l, "proxy_set_header");
                (!own.is_empty()).then_some(own)
            });
            for wanted in ["Upgrade", "Connection"] {
                let outer_line = outer
                    .unwrap_or_default()
                    .iter()
                    .map(|&n| m.node(n).d)
                    .rev()
                    .find(|d| d.arg(0).is_some_and(|n| n.eq_ignore_ascii_case(wanted)));
                if let (Some(o), None) = (outer_line, headers.get(wanted)) {
                    lost.push(wanted);
                    let inner = headers.headers[0];
                    out.push(self.finding(
                        Check::HeadersLost,
                        Severity::Error,
                        Some(inner),
                        me,
                        format!(
                            "{name}: `{}` at {} is not in effect here: `{}` at {} starts a new proxy_set_header list",
                            self.text(o),
                            self.location(o),
                            self.text(inner),
                            self.location(inner)
                        ),
                        "proxy_set_header is inherited only as a whole: one proxy_set_header in a block drops every one from the blocks around it, so the WebSocket handshake reaches the backend without it",
                        if wanted == "Connection"
                            && !contains_ignore_case(o.arg(1).unwrap_or_default(), "upgrade")
                            && !o.arg(1).unwrap_or_default().contains('$')
                        {
                            // Repeating a fixed `Connection ""`/`close` would still break it.
                            format!("add `proxy_set_header Connection $connection_upgrade;` to {name} (with the $connection_upgrade map in http)")
                        } else {
                            format!("repeat `{}` in {name}", self.text(o))
                        },
                    ));
                }
            }
        }

        let upgrade = headers.get("Upgrade");
        let upgrade_empty = upgrade.is_some_and(|d| d.arg(1).unwrap_or_default().is_empty());
        if (upgrade.is_none() && !lost.contains(&"Upgrade")) || upgrade_empty {
            out.push(self.finding(
                Check::UpgradeNotForwarded,
                Severity::Error,
                upgrade,
                me,
                format!("{name} does not forward the Upgrade header"),
                "Upgrade is a hop-by-hop header: nginx drops it unless proxy_set_header passes it on, so the backend sees a plain HTTP request and never answers 101",
                format!("add `proxy_set_header Upgrade $http_upgrade;` to {name}"),
            ));
        }

        let keepalive = m
            .proxy_pass(scope)
            .and_then(|p| m.upstream_of(p))
            .is_some_and(|u| !m.own(u, "keepalive").is_empty());
        let connection = headers.get("Connection");
        match connection {
            None if !lost.contains(&"Connection") => {
                let what = if m.version.default_connection_close() {
                    "nginx sends `Connection: close` to the backend"
                } else {
                    "nginx does not pass the client's `Connection: upgrade` on"
                };
                out.push(self.finding(
                    Check::ConnectionNotForwarded,
                    Severity::Error,
                    None,
                    me,
                    format!("{name} does not set the Connection header: {what}"),
                    "Connection is hop-by-hop: without `proxy_set_header Connection` carrying \"upgrade\", the backend is not asked to switch protocols",
                    format!("add `proxy_set_header Connection $connection_upgrade;` to {name} (with the $connection_upgrade map in http)"),
                ));
            }
            None => {}
            Some(d) => self.check_connection(d, name, scope, keepalive, &mut out),
        }

        let (version, source) = m.http_version(scope);
        if version < (1, 1) {
            let (d, msg) = match source {
                Source::Set(d) => (
                    Some(d),
                    format!("{name} proxies with HTTP/{}.{}", version.0, version.1),
                ),
                Source::Default => (
                    None,
                    format!(
                        "{name} proxies with HTTP/1.0, nginx {}'s default",
                        m.version
                    ),
                ),
            };
            out.push(self.finding(
                Check::HttpVersion,
                Severity::Error,
                d,
                me,
                msg,
                "the WebSocket upgrade exists only in HTTP/1.1: over HTTP/1.0 the backend cannot answer 101 (nginx logs \"upstream sent invalid header\" or the backend answers 400)",
                format!("add `proxy_http_version 1.1;` to {name}"),
            ));
        }

        // In an upgraded connection nginx re-arms proxy_read_timeout on every event in either
        // direction, so it is the idle limit; proxy_send_timeout only runs while a write to the
        // backend is blocked, so a default one is no idle risk.
        for (check, directive) in [
            (Check::ReadTimeout, "proxy_read_timeout"),
            (Check::SendTimeout, "proxy_send_timeout"),
        ] {
            let (t, source) = m.timeout(scope, directive);
            let d = match source {
                Source::Set(d) => Some(d),
                Source::Default => None,
            };
            if t > self.opts.idle || (check == Check::SendTimeout && d.is_none()) {
                continue;
            }
            let shown = humantime::format_duration(t);
            let idle = humantime::format_duration(self.opts.idle);
            let suggested = humantime::format_duration(raised_timeout(self.opts.idle));
            let (severity, why) = if check == Check::ReadTimeout {
                (
                    Severity::Warning,
                    format!("nginx closes an upgraded connection when no frame flows in either direction for {shown}: an idle WebSocket is cut and the client sees close code 1006 unless one side pings more often than that"),
                )
            } else {
                (
                    Severity::Info,
                    format!("nginx closes an upgraded connection when a write to the backend stays blocked for {shown}; it only bites when the backend stops reading"),
                )
            };
            out.push(self.finding(
                check,
                severity,
                d,
                me,
                format!(
                    "{name}: {directive} is {shown}{}, at or below the expected idle time of {idle}",
                    if d.is_none() { " (default)" } else { "" },
                ),
                &why,
                format!("set `{directive} {suggested};` in {name} (or ping more often than every {shown})"),
            ));
        }
        if m.name(scope) == "location" {
            self.check_ifs(scope, name, &mut out);
        }
        out
    }

    fn check_connection(
        &self,
        d: &'c Directive,
        name: &str,
        scope: NodeId,
        keepalive: bool,
        out: &mut Vec<(Check, Finding)>,
    ) {
        let m = self.model;
        let me = m.node(scope).d;
        let value = d.arg(1).unwrap_or_default();
        let included =
            d.file != me.file && m.config.files[d.file].path != m.config.files[me.file].path;
        let from = if included {
            format!(" (from {})", m.config.files[d.file].path)
        } else {
            String::new()
        };
        if value.is_empty() && keepalive {
            out.push(self.finding(
                Check::KeepaliveClearsConnection,
                Severity::Error,
                Some(d),
                me,
                format!("{name} clears the Connection header{from} for upstream keepalive"),
                "`Connection \"\"` is the keepalive recipe for plain HTTP, but on a WebSocket location it removes the \"upgrade\" the handshake needs",
                "use `proxy_set_header Connection $connection_upgrade;` with a map whose '' value is \"\" (keeps keepalive for plain requests)".to_string(),
            ));
            return;
        }
        // Any fixed value without "upgrade" (`close`, `""`, and the `keep-alive` copied from
        // keepalive guides) replaces the client's `Connection: upgrade`.
        let fixed_without_upgrade = !value.contains('$') && !contains_ignore_case(value, "upgrade");
        if fixed_without_upgrade {
            out.push(self.finding(
                Check::ConnectionForcedClose,
                Severity::Error,
                Some(d),
                me,
                format!("{name} forces `Connection: {}`{from}", if value.is_empty() { "\"\"" } else { value }),
                "the backend must see `Connection: upgrade` to switch protocols; a forced value (often from a hardened base config) overrides it",
                "replace it with `proxy_set_header Connection $connection_upgrade;`".to_string(),
            ));
            return;
        }
        if let Some(var) = single_variable(value) {
            if builtin_variable(var) {
                return;
            }
            if !m.defines_variable(var) {
                out.push(self.finding(
                    Check::MissingMap,
                    Severity::Error,
                    Some(d),
                    me,
                    format!("{name} uses ${var}, which nothing defines (nginx -t fails: unknown \"{var}\" variable)"),
                    "the variable is normally defined by a map in the http block; without it nginx refuses the whole configuration",
                    format!("add `map $http_upgrade ${var} {{ default upgrade; '' close; }}` to the http block"),
                ));
                return;
            }
            if let Some(map) = m.map_for(var) {
                // The map reads its own source variable ($http_upgrade, or $http_connection as
                // in Microsoft's SignalR recipe), and its value may be a variable too: judge it
                // as each real client's handshake makes it. Unknown inputs are not judged.
                let results: Vec<(&str, Option<String>)> = WS_CLIENTS
                    .iter()
                    .map(|&(who, conn)| (who, self.map_for_client(map, conn)))
                    .collect();
                let bad: Vec<&(&str, Option<String>)> = results
                    .iter()
                    .filter(|(_, v)| {
                        v.as_ref()
                            .is_some_and(|v| !contains_ignore_case(v, "upgrade"))
                    })
                    .collect();
                if let Some((who, Some(v))) = bad.first() {
                    let whose = if bad.len() == results.len() {
                        "an upgrade request".to_string()
                    } else {
                        format!("{who} upgrade request")
                    };
                    out.push(self.finding(
                        Check::ConnectionForcedClose,
                        Severity::Error,
                        Some(m.node(map).d),
                        me,
                        format!("{name}: ${var} maps {whose} to \"{v}\", not \"upgrade\""),
                        "the backend must see `Connection: upgrade` to switch protocols",
                        "map a non-empty $http_upgrade to `upgrade` (`default upgrade;`)".into(),
                    ));
                }
            }
            return;
        }
        if contains_ignore_case(value, "upgrade") && self.serves_plain_http(scope) {
            out.push(self.finding(
                Check::HardcodedUpgrade,
                Severity::Warning,
                Some(d),
                me,
                format!("{name} sends `Connection: {value}` on every request, also plain HTTP ones"),
                "a plain request then reaches the backend asking to upgrade without an Upgrade header; some backends reject it and upstream keepalive is lost",
                "use `proxy_set_header Connection $connection_upgrade;` with `map $http_upgrade $connection_upgrade { default upgrade; '' close; }`".into(),
            ));
        }
    }

    /// The value a `map` gives for a WebSocket handshake whose Connection header is
    /// `connection`, with a variable value resolved; `None` when it depends on anything else.
    fn map_for_client(&self, map: NodeId, connection: &'static str) -> Option<String> {
        let m = self.model;
        let source = single_variable(m.node(map).d.arg(0)?)?;
        let input = ws_value(source, connection)?;
        let v = m.map_value(map, input);
        if !v.contains('$') {
            return Some(v);
        }
        single_variable(&v)
            .and_then(|var| ws_value(var, connection))
            .map(str::to_string)
    }

    /// `if (…) { return …; }` in the location or its server that turns away a WebSocket
    /// handshake: all of them, or only some clients' (`$http_connection = "Upgrade"` refuses
    /// Firefox's `keep-alive, Upgrade`).
    fn check_ifs(&self, scope: NodeId, name: &str, out: &mut Vec<(Check, Finding)>) {
        let m = self.model;
        let me = m.node(scope).d;
        for level in m.levels(scope) {
            if !matches!(m.name(level), "location" | "server") {
                continue;
            }
            for &i in m.own(level, "if") {
                let d = m.node(i).d;
                let Some(&ret) = m.own(i, "return").first() else {
                    continue;
                };
                // `return 418;` with `error_page 418 = @ws;` hands the request on, it does not
                // refuse it.
                let server = m.levels(scope).find(|&l| m.name(l) == "server");
                let handed_on = m
                    .node(ret)
                    .d
                    .arg(0)
                    .zip(server)
                    .is_some_and(|(code, server)| m.error_page_target(server, i, code).is_some());
                if handed_on {
                    continue;
                }
                let verdicts: Vec<(&str, &str, Option<bool>)> = WS_CLIENTS
                    .iter()
                    .map(|&(who, conn)| (who, conn, if_holds(d, conn)))
                    .collect();
                let refused: Vec<_> = verdicts.iter().filter(|v| v.2 == Some(true)).collect();
                let Some(first) = refused.first() else {
                    continue;
                };
                let r = self.text(m.node(ret).d);
                let message = if refused.len() == verdicts.len() {
                    format!(
                        "{name}: `{}` answers every WebSocket handshake with `{r}`",
                        self.text(d).trim_end_matches('{').trim()
                    )
                } else {
                    format!(
                        "{name}: `{}` answers {} handshake (`Connection: {}`) with `{r}`",
                        self.text(d).trim_end_matches('{').trim(),
                        first.0,
                        first.1
                    )
                };
                out.push(self.finding(
                    Check::IfRejectsUpgrade,
                    Severity::Error,
                    Some(d),
                    me,
                    message,
                    "nginx evaluates the condition on the client's own headers; a WebSocket handshake sends `Upgrade: websocket` and a Connection header that carries the `upgrade` token among others (Firefox: `keep-alive, Upgrade`), so a comparison with the whole value refuses some browsers",
                    "match the token, not the whole value: `if ($http_connection !~* upgrade)`, or test `$http_upgrade` alone".into(),
                ));
            }
        }
    }

    /// A location that is not obviously a WebSocket endpoint also serves plain HTTP.
    fn serves_plain_http(&self, scope: NodeId) -> bool {
        let m = self.model;
        !m.levels(scope)
            .filter(|&l| m.name(l) == "location")
            .any(|l| looks_like_ws_path(m.location_pattern(l).1))
    }
}

/// `listen … http2` without `ssl` before nginx 1.25.1 speaks only HTTP/2 with prior knowledge
/// (h2c) on that port: an HTTP/1.1 request, and so every WebSocket handshake (browsers never
/// use h2c), gets HTTP/2 frames back. Checked on nginx 1.22: curl reads a SETTINGS frame.
fn h2c_listens(
    linter: &Linter<'_, '_>,
    chosen: &[NodeId],
    port: Option<u16>,
    out: &mut Vec<Finding>,
) {
    let m = linter.model;
    if m.version >= super::version::Version::H2C_DETECTS_HTTP1 {
        return;
    }
    let mut seen: Vec<NodeId> = Vec::new();
    for &scope in chosen {
        let Some(server) = m.levels(scope).find(|&l| m.name(l) == "server") else {
            continue;
        };
        if seen.contains(&server) {
            continue;
        }
        seen.push(server);
        for (d, l) in m.listen_directives(server) {
            if !l.http2 || l.ssl || port.is_some_and(|p| l.port != Some(p)) {
                continue;
            }
            let text = linter.text(d);
            out.push(Finding {
                id: Check::H2cOnlyListen.id().into(),
                severity: Severity::Error,
                message: format!(
                    "`{text}` speaks only HTTP/2 on that port (nginx {} without ssl): a WebSocket handshake there gets HTTP/2 frames back",
                    m.version
                ),
                evidence: linter.at(d),
                why: Some("before nginx 1.25.1 a plain `listen … http2` expects HTTP/2 with prior knowledge (h2c); browsers never use h2c, and the WebSocket handshake is HTTP/1.1".into()),
                fix: Some("remove `http2` from that listen (HTTP/2 needs `ssl` for browsers), or upgrade to nginx 1.25.1+ and use `http2 on;`".into()),
                location: Some(linter.location(d)),
            });
        }
    }
}

/// The timeout the fixer sets when the current one is at or below the idle time.
pub fn raised_timeout(idle: Duration) -> Duration {
    std::cmp::max(Duration::from_secs(3600), idle * 2)
}

/// Lint the model: the location serving `--path`, or every proxying WebSocket location.
/// `nginx/no-websocket-location`: no path was named and no proxying location shows WebSocket
/// intent, so nothing was checked. The WebSocket location missing every WebSocket directive is
/// exactly the broken one, and it looks like any other proxying location: passing here would be
/// a false green in CI, so it is an error that names the candidates and asks for the path.
/// The finding sits on the first candidate (else the first server): code scanning refuses a
/// result without a file and line.
fn nothing_checked(linter: &Linter<'_, '_>, server: NodeId, proxying: &[NodeId]) -> Finding {
    let m = linter.model;
    let candidates: Vec<String> = proxying
        .iter()
        .take(8)
        .map(|&l| linter.at(m.node(l).d))
        .collect();
    let (message, example) = match proxying.first() {
        None => (
            "no location proxies anything, so no WebSocket location was checked".to_string(),
            "/ws".to_string(),
        ),
        Some(&first) => (
            format!(
                "no proxying location shows WebSocket intent, so none was checked: {}{}",
                candidates.join(", "),
                if proxying.len() > candidates.len() {
                    ", …"
                } else {
                    ""
                }
            ),
            m.location_pattern(first).1.to_string(),
        ),
    };
    Finding {
        id: NO_WEBSOCKET_LOCATION.into(),
        severity: Severity::Error,
        message,
        evidence: "no location sets Upgrade or Connection: upgrade, and none has a WebSocket-like path (/ws, /socket.io, /cable, …)".into(),
        why: Some("a WebSocket location without its WebSocket directives is the broken one, and it looks like any other proxying location: without the path, a broken configuration would pass".into()),
        fix: Some(format!(
            "name the WebSocket path: `--path {example}` (in an audit file, `path = \"{example}\"` in the [[lint]])"
        )),
        location: Some(linter.location(m.node(*proxying.first().unwrap_or(&server)).d)),
    }
}

/// `nginx/empty-config`: a configuration with no directive at all (an empty file, only
/// comments) configures nothing; passing the lint would be a false green, so it is an error.
pub fn empty_config(config: &super::parser::Config, file: &std::path::Path) -> Option<Finding> {
    (config.directive_count == 0).then(|| Finding {
        id: EMPTY_CONFIG.into(),
        severity: Severity::Error,
        message: "the configuration has no directives (empty, or only comments): nothing here proxies a WebSocket".into(),
        evidence: format!("{}: no directive", file.display()),
        why: Some("an empty file passes every check vacuously; it is usually the wrong file or a failed template".into()),
        fix: Some("point wspath at the nginx.conf that nginx loads (`nginx -T` shows it)".into()),
        location: Some(Location {
            file: file.to_path_buf(),
            line: 1,
        }),
    })
}

pub fn lint(model: &Model<'_>, version: AssumedVersion, opts: &LintOptions) -> LintReport {
    // Without the port, every server answering the name is a candidate; with --path, the
    // ones that proxy it are then the WebSocket's.
    let servers = match &opts.host {
        Some(h) => model.servers_named(h),
        None => model.servers(),
    };
    lint_servers(model, version, opts, servers, None)
}

/// [`lint`] over the given server blocks (`check --nginx-conf` picks the one nginx would by
/// the hop's port, scheme and Host); `port`: only that port's `listen` matters.
pub fn lint_servers(
    model: &Model<'_>,
    version: AssumedVersion,
    opts: &LintOptions,
    servers: Vec<NodeId>,
    port: Option<u16>,
) -> LintReport {
    let linter = Linter { model, opts };
    let mut report = LintReport {
        version,
        scopes: Vec::new(),
        general: Vec::new(),
    };
    let mut chosen: Vec<NodeId> = Vec::new();
    match &opts.path {
        Some(path) => {
            // A server that answers the path with nginx's trailing-slash redirect serves it with
            // no location at all: WebSocket clients do not follow the 301.
            let mut redirecting = Vec::new();
            for &s in &servers {
                if let Some(l) = model.slash_redirect(s, path) {
                    redirecting.push(s);
                    let d = model.node(l).d;
                    let (_, pattern) = model.location_pattern(l);
                    let bare = path.split(['?', '#']).next().unwrap_or(path);
                    report.general.push(Finding {
                        id: Check::NoLocation.id().into(),
                        severity: Severity::Error,
                        message: format!(
                            "no location serves {bare}: `location {pattern}` ({}) makes nginx answer it with 301 to {pattern}",
                            linter.location(d)
                        ),
                        evidence: linter.at(d),
                        why: Some(format!(
                            "a prefix location ending in `/` that proxies redirects the same path without the slash (nginx's auto-redirect); WebSocket clients do not follow redirects, so {bare} never upgrades"
                        )),
                        fix: Some(format!(
                            "add `location = {bare}` with the same proxying as `location {pattern}`, or name that location `{bare}` (then it serves both)"
                        )),
                        location: Some(linter.location(d)),
                    });
                }
            }
            let matches: Vec<(NodeId, Option<NodeId>)> = servers
                .iter()
                .filter(|s| !redirecting.contains(*s))
                .map(|&s| {
                    let l = model.find_location(s, path);
                    (s, l.map(|l| ws_destination(model, s, l)))
                })
                .collect();
            // Without a Host, several servers may answer the path; when some of them proxy it,
            // those are the WebSocket's (a redirect-only server is not a finding).
            let proxying = |l: NodeId| {
                model.proxy_pass(l).is_some()
                    || model
                        .own(l, "if")
                        .iter()
                        .any(|&i| model.proxy_pass(i).is_some())
            };
            let any_proxying = matches.iter().any(|(_, l)| l.is_some_and(proxying));
            for (s, l) in matches {
                match l {
                    Some(l) if any_proxying && !proxying(l) => {}
                    Some(l) => {
                        // An `if` in the location that proxies on its own is a scope too. One
                        // every WebSocket handshake enters (`if ($http_upgrade = websocket)`)
                        // comes first: its proxy_pass is the one that serves the path; one no
                        // handshake enters is not the WebSocket's.
                        let ifs: Vec<NodeId> = model
                            .own(l, "if")
                            .iter()
                            .copied()
                            .filter(|&i| model.proxy_pass(i).is_some())
                            .collect();
                        let all = |i: NodeId, want: bool| {
                            WS_CLIENTS
                                .iter()
                                .all(|&(_, c)| if_holds(model.node(i).d, c) == Some(want))
                        };
                        if let Some(&taken) = ifs.iter().find(|&&i| all(i, true)) {
                            chosen.push(taken);
                            chosen.push(l);
                        } else {
                            chosen.push(l);
                            chosen.extend(ifs.into_iter().filter(|&i| !all(i, false)));
                        }
                    }
                    None if any_proxying => {}
                    None => report.general.push(Finding {
                        id: Check::NoLocation.id().into(),
                        severity: Severity::Error,
                        message: format!("no location serves {path}"),
                        evidence: linter.at(model.node(s).d),
                        why: Some(
                            "nginx answers 404 (or serves files) instead of proxying the WebSocket"
                                .into(),
                        ),
                        fix: Some(format!(
                            "add a location for {path} that proxies to the backend"
                        )),
                        location: Some(linter.location(model.node(s).d)),
                    }),
                }
            }
        }
        None => {
            let mut proxying = Vec::new();
            for &s in &servers {
                let scopes = model.scopes(s);
                let headers: Vec<bool> = scopes.iter().map(|&l| linter.header_intent(l)).collect();
                let websocket_prefixes = linter.websocket_prefixes(&scopes, &headers);
                for (&scope, &has_headers) in scopes.iter().zip(&headers) {
                    if model.proxy_pass(scope).is_some() {
                        if linter.ws_intent(scope, has_headers, &websocket_prefixes) {
                            chosen.push(scope);
                        } else if model.name(scope) == "location" {
                            proxying.push(scope);
                        }
                    }
                }
            }
            if let (true, Some(&first)) = (chosen.is_empty(), servers.first()) {
                report
                    .general
                    .push(nothing_checked(&linter, first, &proxying));
            }
        }
    }
    h2c_listens(&linter, &chosen, port, &mut report.general);
    for scope in chosen {
        let d = model.node(scope).d;
        let name = linter.scope_name(scope);
        let problems = if model.proxy_pass(scope).is_none() && model.name(scope) != "if" {
            vec![linter.finding(
                Check::NotProxying,
                Severity::Error,
                Some(d),
                d,
                format!(
                    "{name} serves {} but does not proxy it",
                    opts.path.as_deref().unwrap_or("the path")
                ),
                "without proxy_pass nginx answers the handshake itself and never upgrades",
                "add `proxy_pass` to the backend in this location".into(),
            )]
        } else {
            linter.check_scope(scope, &name)
        };
        report.scopes.push(ScopeResult {
            scope,
            name,
            location: linter.location(d),
            problems,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::parser::parse_with;
    use crate::nginx::version::{Version, VersionSource};

    fn run(src: &str, path: Option<&str>) -> Vec<String> {
        let c = parse_with("/t/nginx.conf".into(), src.into(), |p| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                p.to_string(),
            ))
        });
        assert!(c.ok(), "{:?}", c.errors);
        let m = Model::build(&c, Version::OLDEST).unwrap();
        let v = AssumedVersion {
            version: Version::OLDEST,
            source: VersionSource::Assumed,
        };
        let opts = LintOptions {
            path: path.map(String::from),
            ..LintOptions::default()
        };
        lint(&m, v, &opts)
            .findings()
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn a_redirect_only_server_is_not_a_finding_for_the_path() {
        let ids = run(
            "http { server { listen 80; location / { return 301 https://$host$request_uri; } }
             server { listen 443; location /ws { proxy_pass http://a; proxy_http_version 1.1;
             proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade;
             proxy_read_timeout 1h; } } }",
            Some("/ws"),
        );
        assert!(ids.is_empty(), "{ids:?}");
        let ids = run(
            "http { server { location / { return 200; } } }",
            Some("/ws"),
        );
        assert_eq!(ids, ["nginx/location-not-proxying"]);
    }

    #[test]
    fn ws_path_hints_are_whole_segments() {
        assert!(looks_like_ws_path("/ws"));
        assert!(looks_like_ws_path("/api/ws/"));
        assert!(looks_like_ws_path("^/socket.io/"));
        assert!(!looks_like_ws_path("/wsx"));
        assert!(!looks_like_ws_path("/hubspot"));
    }

    #[test]
    fn proxy_buffering_is_never_a_websocket_finding() {
        let ids = run(
            "http { server { location /ws { proxy_pass http://a; proxy_buffering on;
             proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;
             proxy_set_header Connection upgrade; proxy_read_timeout 1h; } } }",
            None,
        );
        assert!(ids.is_empty(), "{ids:?}");
    }

    const GOOD: &str = "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade; proxy_read_timeout 1h;";

    #[test]
    fn a_proxying_location_with_a_trailing_slash_redirects_the_bare_path() {
        // nginx answers /ws with 301 to /ws/ whether or not `location /` exists.
        for other in [
            "",
            "location / { return 200; }",
            "location ~ ^/w { return 403; }",
        ] {
            let ids = run(
                &format!(
                    "http {{ server {{ {other} location /ws/ {{ proxy_pass http://a; {GOOD} }} }} }}"
                ),
                Some("/ws"),
            );
            assert_eq!(ids, ["nginx/no-location"], "{other}");
        }
        // An exact or bare-named location serves it; a location that does not pass requests
        // on, or a path that already ends in `/`, is not redirected.
        for (conf, path) in [
            ("location = /ws { proxy_pass http://a; GOOD } location /ws/ { proxy_pass http://a; }", "/ws"),
            ("location /ws { proxy_pass http://a; GOOD }", "/ws"),
            ("location /ws/ { proxy_pass http://a; GOOD }", "/ws/"),
            ("location /ws/ { proxy_pass http://a; GOOD }", "/ws/chat"),
        ] {
            let conf = conf.replace("GOOD", GOOD);
            let ids = run(
                &format!(
                    "http {{ map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
                     server {{ {conf} }} }}"
                ),
                Some(path),
            );
            assert!(!ids.contains(&"nginx/no-location".to_string()), "{conf} {path}: {ids:?}");
        }
        let ids = run(
            "http { server { location / { return 200; } location /ws/ { root /srv; } } }",
            Some("/ws"),
        );
        assert_eq!(ids, ["nginx/location-not-proxying"]);
    }

    #[test]
    fn a_fixed_connection_without_upgrade_is_a_forced_close() {
        for value in ["\"keep-alive\"", "Keep-Alive", "close", "\"\""] {
            let ids = run(
                &format!(
                    "http {{ server {{ location /ws {{ proxy_pass http://a; proxy_http_version 1.1;
                     proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection {value};
                     proxy_read_timeout 1h; }} }} }}"
                ),
                None,
            );
            assert_eq!(ids, ["nginx/connection-forced-close"], "{value}");
        }
        // A variable, or a fixed value carrying "upgrade", is judged elsewhere.
        for value in ["$http_connection", "\"keep-alive, Upgrade\""] {
            let ids = run(
                &format!(
                    "http {{ server {{ location /ws {{ proxy_pass http://a; proxy_http_version 1.1;
                     proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection {value};
                     proxy_read_timeout 1h; }} }} }}"
                ),
                None,
            );
            assert!(ids.is_empty(), "{value}: {ids:?}");
        }
    }

    #[test]
    fn a_map_that_never_says_upgrade_is_a_forced_close() {
        let ids = run(
            &format!(
                "http {{ map $http_upgrade $connection_upgrade {{ default close; }}
             server {{ location /ws {{ proxy_pass http://a; {GOOD} }} }} }}"
            ),
            None,
        );
        assert_eq!(ids, ["nginx/connection-forced-close"]);
        // A string key matches case-insensitively, as nginx matches it.
        let ids = run(
            &format!(
                "http {{ map $http_upgrade $connection_upgrade {{ WebSocket upgrade; default close; }}
             server {{ location /ws {{ proxy_pass http://a; {GOOD} }} }} }}"
            ),
            None,
        );
        assert!(ids.is_empty(), "{ids:?}");
        let ids = run(
            &format!(
                "http {{ map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
             server {{ location /ws {{ proxy_pass http://a; {GOOD} }} }} }}"
            ),
            None,
        );
        assert!(ids.is_empty(), "{ids:?}");
    }

    #[test]
    fn nested_locations_and_if_blocks_inherit_and_are_checked() {
        // An `if` that proxies (proxy_set_header is not allowed there) inherits the location's
        // headers and is fine; a nested location with a proxy_set_header of its own loses them.
        let ids = run(
            &format!(
                "http {{ map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
             server {{ location /ws/ {{ {GOOD}
               location /ws/chat {{ proxy_set_header X-Chat 1; proxy_pass http://a; }}
               if ($arg_debug) {{ proxy_pass http://b; }}
               proxy_pass http://a; }} }} }}"
            ),
            None,
        );
        assert_eq!(
            ids,
            [
                "nginx/headers-lost-to-inheritance",
                "nginx/headers-lost-to-inheritance"
            ],
            "only the nested location is broken"
        );
    }

    #[test]
    fn the_server_is_chosen_by_host() {
        let c = parse_with(
            "/t/nginx.conf".into(),
            "http { server { listen 80 default_server; server_name _; }
              server { listen 80; server_name *.example.com; }
              server { listen 80; server_name api.example.com; } }"
                .into(),
            |p| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    p.to_string(),
                ))
            },
        );
        let m = Model::build(&c, Version::OLDEST).unwrap();
        let s = m.servers();
        assert_eq!(m.server_for(Some("api.example.com")), Some(s[2]));
        assert_eq!(m.server_for(Some("chat.example.com")), Some(s[1]));
        assert_eq!(m.server_for(Some("other.test")), Some(s[0]));
    }
}

//! From lint results to the smallest edits that make each WebSocket location correct.
//!
//! Edits go where nginx takes the setting from: a bad value is replaced in the file and line that
//! hold it (an included file too); a missing directive is added in the location itself, and when
//! that location had no `proxy_set_header` of its own the inherited ones are copied with it, so
//! adding one does not drop the others. The `$connection_upgrade` map goes into `http` when
//! missing. Nothing here writes: the result is edits and a [`Plan`] with a unified diff per file.

use super::lint::{raised_timeout, Check, LintReport};
use super::model::{Model, NodeId, Source};
use super::parser::{ConfFile, Directive};
use crate::plan::{Change, Plan, Provider};
use std::collections::BTreeMap;
use std::time::Duration;

/// Replace `start..end` of file `file` (an index into the config's files) with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub file: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// One line for the plan's notes.
    pub summary: String,
}

struct Planner<'m, 'c> {
    model: &'m Model<'c>,
    edits: Vec<Edit>,
    needs_map: bool,
    keepalive: bool,
}

/// The lint errors [`plan_edits`] makes an edit for; any other error is left to the user.
pub const FIXED: [Check; 7] = [
    Check::UpgradeNotForwarded,
    Check::ConnectionNotForwarded,
    Check::ConnectionForcedClose,
    Check::HttpVersion,
    Check::HeadersLost,
    Check::MissingMap,
    Check::KeepaliveClearsConnection,
];

/// Whether [`plan_edits`] fixes the finding with ID `id`.
pub fn fixes(id: &str) -> bool {
    FIXED.iter().any(|c| c.id() == id)
}

/// Edits for every problem in `report` that a configuration change fixes. `idle`: raise
/// timeouts at or below it (only when the user asked).
pub fn plan_edits(model: &Model<'_>, report: &LintReport, idle: Option<Duration>) -> Vec<Edit> {
    let mut p = Planner {
        model,
        edits: Vec::new(),
        needs_map: false,
        keepalive: false,
    };
    for s in &report.scopes {
        if model.name(s.scope) != "location" || s.problems.is_empty() {
            continue;
        }
        let checks: Vec<Check> = s.problems.iter().map(|(c, _)| *c).collect();
        p.scope(s.scope, &s.name, &checks, idle);
    }
    if p.needs_map && !model.defines_variable("connection_upgrade") {
        p.map();
    }
    p.edits
}

impl<'m, 'c> Planner<'m, 'c> {
    fn src(&self, file: usize) -> &'c str {
        &self.model.config.files[file].source
    }

    fn at(&self, d: &Directive) -> String {
        format!("{}:{}", self.model.config.files[d.file].path, d.line)
    }

    fn scope(&mut self, scope: NodeId, name: &str, checks: &[Check], idle: Option<Duration>) {
        let m = self.model;
        let headers = m.headers(scope);
        let own_headers = headers.level == Some(scope);
        let mut add: Vec<String> = Vec::new();
        let has = |c| checks.contains(&c);

        let upgrade = headers.get("Upgrade");
        let connection = headers.get("Connection");
        let need_upgrade =
            has(Check::UpgradeNotForwarded) || (has(Check::HeadersLost) && upgrade.is_none());
        let bad_connection = has(Check::ConnectionForcedClose)
            || has(Check::KeepaliveClearsConnection)
            || has(Check::HardcodedUpgrade);
        let need_connection =
            has(Check::ConnectionNotForwarded) || (has(Check::HeadersLost) && connection.is_none());
        // Behind an upstream with `keepalive`, the map's '' value must be "" (not close), or
        // plain requests lose their kept-alive upstream connections.
        let upstream_keepalive = m
            .proxy_pass(scope)
            .and_then(|p| m.upstream_of(p))
            .is_some_and(|u| !m.own(u, "keepalive").is_empty());
        if has(Check::KeepaliveClearsConnection) || upstream_keepalive {
            self.keepalive = true;
        }
        if has(Check::MissingMap) {
            self.needs_map = true;
        }

        // Fix the list where it is defined: the location's own list, else the outer block the
        // location inherits it from (adding a line there keeps the list whole; `Upgrade
        // $http_upgrade` and the map are harmless to the plain requests of sibling locations).
        // Only when no level sets any proxy_set_header does the location get its own list.
        let mut add_headers: Vec<String> = Vec::new();
        if need_upgrade {
            match upgrade {
                Some(u) => {
                    self.replace_arg(u, 1, "$http_upgrade", format!("{name}: forward Upgrade"))
                }
                None => add_headers.push("proxy_set_header Upgrade $http_upgrade;".into()),
            }
        }
        if need_connection {
            add_headers.push("proxy_set_header Connection $connection_upgrade;".into());
            self.needs_map = true;
        } else if let (true, Some(c)) = (bad_connection, connection) {
            self.replace_arg(
                c,
                1,
                "$connection_upgrade",
                format!(
                    "{name}: Connection from the $connection_upgrade map instead of a fixed value"
                ),
            );
            self.needs_map = true;
        }
        if !add_headers.is_empty() {
            match headers.level {
                Some(level) if !own_headers => {
                    let last = *headers.headers.last().unwrap_or(&m.node(level).d);
                    let level_name = self.block_name(level);
                    self.insert_after_headers(
                        level,
                        last,
                        &add_headers,
                        format!(
                            "{level_name} (inherited by {name}): add {}",
                            add_headers.join(" ")
                        ),
                    );
                }
                Some(_) => {
                    let last = headers.headers.last().copied();
                    match last {
                        Some(l) => self.insert_after_headers(
                            scope,
                            l,
                            &add_headers,
                            format!("{name}: add {}", add_headers.join(" ")),
                        ),
                        None => add.extend(add_headers),
                    }
                }
                None => add.extend(add_headers),
            }
        }

        if has(Check::HttpVersion) {
            match m.http_version(scope).1 {
                Source::Set(d) if self.is_own(scope, d) => {
                    self.replace_arg(d, 0, "1.1", format!("{name}: proxy with HTTP/1.1"));
                }
                _ => add.push("proxy_http_version 1.1;".into()),
            }
        }

        if let Some(idle) = idle {
            let value = humantime::format_duration(raised_timeout(idle)).to_string();
            for (check, directive) in [
                (Check::ReadTimeout, "proxy_read_timeout"),
                (Check::SendTimeout, "proxy_send_timeout"),
            ] {
                if !has(check) {
                    continue;
                }
                match m.timeout(scope, directive).1 {
                    Source::Set(d) if self.is_own(scope, d) => self.replace_arg(
                        d,
                        0,
                        &value,
                        format!("{name}: {directive} above the idle time"),
                    ),
                    _ => add.push(format!("{directive} {value};")),
                }
            }
        }

        if !add.is_empty() {
            self.insert_in_block(scope, &add, format!("{name}: add {}", add.join(" ")));
        }
    }

    fn block_name(&self, id: NodeId) -> String {
        let d = self.model.node(id).d;
        let mut n = d.name.to_string();
        for a in &d.args {
            n.push(' ');
            n.push_str(&a.text);
        }
        n
    }

    /// Insert header lines after `last` (the last proxy_set_header of the list), in its file
    /// when that file is the block's, else before the block's closing brace.
    fn insert_after_headers(
        &mut self,
        block: NodeId,
        last: &Directive,
        lines: &[String],
        summary: String,
    ) {
        let b = self.model.node(block).d;
        if last.file != b.file || std::ptr::eq(last, b) {
            self.insert_in_block(block, lines, summary);
            return;
        }
        let src = self.src(last.file);
        let rest_end = src[last.end..].find('\n').map(|i| last.end + i);
        let summary = format!("{summary} ({})", self.at(last));
        match rest_end {
            Some(e)
                if src[last.end..e].trim().is_empty()
                    || src[last.end..e].trim_start().starts_with('#') =>
            {
                let indent = self.indent_at(last.file, last.start);
                let text: String = lines.iter().map(|l| format!("{indent}{l}\n")).collect();
                self.edits.push(Edit {
                    file: last.file,
                    start: e + 1,
                    end: e + 1,
                    text,
                    summary,
                });
            }
            _ => {
                let text: String = lines.iter().map(|l| format!(" {l}")).collect();
                self.edits.push(Edit {
                    file: last.file,
                    start: last.end,
                    end: last.end,
                    text,
                    summary,
                });
            }
        }
    }

    /// Is `d` written directly in `scope` (possibly through an include), not inherited?
    fn is_own(&self, scope: NodeId, d: &Directive) -> bool {
        self.model
            .node(scope)
            .children
            .iter()
            .any(|&c| std::ptr::eq(self.model.node(c).d, d))
    }

    fn replace_arg(&mut self, d: &Directive, i: usize, value: &str, summary: String) {
        let summary = format!("{summary} ({})", self.at(d));
        match d.args.get(i) {
            Some(a) => self.edits.push(Edit {
                file: d.file,
                start: a.start,
                end: a.end,
                text: value.to_string(),
                summary,
            }),
            // `proxy_set_header Connection;` cannot parse, but a missing value is still fixable.
            None => {
                let semi = d.end.saturating_sub(1);
                self.edits.push(Edit {
                    file: d.file,
                    start: semi,
                    end: semi,
                    text: format!(" {value}"),
                    summary,
                });
            }
        }
    }

    /// Indentation of the line `offset` is on.
    fn indent_at(&self, file: usize, offset: usize) -> String {
        let src = self.src(file);
        let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
        src[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect()
    }

    /// Lines for the inside of a block: the indentation of its last child in the same file, else
    /// the block's own plus four spaces.
    fn child_indent(&self, block: &Directive) -> String {
        let child = block
            .children()
            .iter()
            .rev()
            .find(|c| c.file == block.file && c.line != block.line);
        match child {
            Some(c) => self.indent_at(c.file, c.start),
            None => format!("{}    ", self.indent_at(block.file, block.start)),
        }
    }

    /// Insert directives just before the block's closing brace.
    fn insert_in_block(&mut self, scope: NodeId, lines: &[String], summary: String) {
        let d = self.model.node(scope).d;
        let Some(b) = &d.block else { return };
        let src = self.src(d.file);
        let line_start = src[..b.close].rfind('\n').map_or(0, |i| i + 1);
        let summary = format!("{summary} ({})", self.at(d));
        if src[line_start..b.close].trim().is_empty() {
            let indent = self.child_indent(d);
            let text: String = lines.iter().map(|l| format!("{indent}{l}\n")).collect();
            self.edits.push(Edit {
                file: d.file,
                start: line_start,
                end: line_start,
                text,
                summary,
            });
        } else {
            // `location /ws { proxy_pass …; }` on one line stays on one line.
            let text: String = lines.iter().map(|l| format!("{l} ")).collect();
            self.edits.push(Edit {
                file: d.file,
                start: b.close,
                end: b.close,
                text,
                summary,
            });
        }
    }

    /// The `$connection_upgrade` map at the top of the http block.
    fn map(&mut self) {
        let m = self.model;
        let Some(http) = m.http() else { return };
        let d = m.node(http).d;
        let Some(b) = &d.block else { return };
        let src = self.src(d.file);
        let empty = if self.keepalive { "\"\"" } else { "close" };
        let first_child = d.children().iter().find(|c| c.file == d.file);
        let indent = match first_child {
            Some(c) => self.indent_at(c.file, c.start),
            None => format!("{}    ", self.indent_at(d.file, d.start)),
        };
        let body = format!(
            "{indent}map $http_upgrade $connection_upgrade {{\n{indent}    default upgrade;\n{indent}    ''      {empty};\n{indent}}}\n"
        );
        let after_brace = b.open + 1;
        let line_end = src[after_brace..].find('\n').map(|i| after_brace + i);
        let (start, text) = match line_end {
            Some(e)
                if src[after_brace..e].trim().is_empty()
                    || src[after_brace..e].trim_start().starts_with('#') =>
            {
                (e + 1, body)
            }
            _ => (after_brace, format!("\n{body}")),
        };
        self.edits.push(Edit {
            file: d.file,
            start,
            end: start,
            text,
            summary: format!(
                "http: add the $connection_upgrade map (upgrade for WebSocket requests, {empty} otherwise) ({})",
                self.at(d)
            ),
        });
    }
}

/// New contents of every file the edits touch, keyed by file index.
pub fn apply_edits(model: &Model<'_>, edits: &[Edit]) -> BTreeMap<usize, String> {
    apply_to_files(&model.config.files, edits)
}

/// [`apply_edits`] over the parsed files alone.
pub fn apply_to_files(files: &[ConfFile], edits: &[Edit]) -> BTreeMap<usize, String> {
    let mut by_file: BTreeMap<usize, Vec<&Edit>> = BTreeMap::new();
    for e in edits {
        by_file.entry(e.file).or_default().push(e);
    }
    by_file
        .into_iter()
        .map(|(file, es)| (file, splice(&files[file].source, es)))
        .collect()
}

/// `src` with every edit applied (by position; of two overlapping edits the first one wins).
/// Inserted lines take the file's line ending: a file written on Windows (`\r\n`) stays so.
pub fn splice(src: &str, mut edits: Vec<&Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let crlf = src.find('\n').is_some_and(|i| src[..i].ends_with('\r'));
    let mut out = String::with_capacity(src.len() + 256);
    let mut pos = 0;
    for e in edits {
        if e.start < pos {
            continue; // overlapping edit: the first one wins
        }
        out.push_str(&src[pos..e.start]);
        if crlf {
            out.push_str(&e.text.replace("\r\n", "\n").replace('\n', "\r\n"));
        } else {
            out.push_str(&e.text);
        }
        pos = e.end;
    }
    out.push_str(&src[pos..]);
    out
}

/// The plan: one change per file with its unified diff, and one note per edit.
pub fn plan(model: &Model<'_>, edits: &[Edit]) -> Plan {
    let mut plan = Plan::default();
    for (file, new) in apply_edits(model, edits) {
        let f = &model.config.files[file];
        let diff = similar::TextDiff::from_lines(f.source.as_str(), new.as_str());
        let unified = diff
            .unified_diff()
            .context_radius(3)
            .header(&f.path, &f.path)
            .to_string();
        let touched: Vec<&str> = edits
            .iter()
            .filter(|e| e.file == file)
            .filter_map(|e| e.summary.split(':').next())
            .collect();
        let mut resource: Vec<&str> = Vec::new();
        for t in touched {
            if !resource.contains(&t) {
                resource.push(t);
            }
        }
        // `before`: the original lines of every hunk (context and removed), `after`: the diff.
        let mut before = String::new();
        for group in diff.grouped_ops(3) {
            for op in group {
                for change in diff.iter_changes(&op) {
                    if change.tag() != similar::ChangeTag::Insert {
                        before.push_str(&change.to_string_lossy());
                    }
                }
            }
            before.push_str("...\n");
        }
        plan.changes.push(Change {
            provider: Provider::Nginx,
            resource: resource.join(", "),
            setting: None,
            file: Some(f.path.clone().into()),
            before,
            after: unified,
            applied: false,
        });
    }
    plan.notes = edits.iter().map(|e| e.summary.clone()).collect();
    plan
}

//! The audit / exporter configuration file (TOML): read once, every value checked, every error
//! pointing at `file:line:col`.
//!
//! Shared by `wspath audit` (`[defaults]`, `[[check]]`, `[[lint]]`) and `wspath serve`
//! (`[module.NAME]`). The JSON Schema of the file is `schemas/audit.schema.json`.
//!
//! # API
//! - [`load`]`(path)` reads the file and the process environment; [`parse`]`(text, path, env)`
//!   is the same over a string and an environment function (for tests).
//! - The result is a [`ConfigFile`]: [`ConfigFile::checks`] (each a [`Check`] whose
//!   [`Check::config`] is the engine's [`CheckConfig`]), [`ConfigFile::lints`] ([`Lint`]) and
//!   [`ConfigFile::modules`] ([`Module`]; [`Module::config`] turns a probed target into a
//!   [`CheckConfig`] by filling the hop templates).
//! - Every error is [`Error::Config`] `{ file, line, column, message }`, displayed as
//!   `file:line:col: message`; exit 2.
//!
//! # What the file accepts
//! ```toml
//! [defaults]                 # any check option below; a check's own key replaces it
//! timeout = "5s"             # per-phase budget (humantime: 500ms, 5s, 1m 30s); default 10s
//! idle = "75s"               # hold upgraded hops silent this long
//! origin = "https://app.example"   # or no_origin = true
//! headers = ["Authorization: Bearer ${TOKEN}"]   # ${VAR} from the environment, unset → error
//! protocol = ["chat.v2"]     # or one string
//! insecure = false
//! cacert = "certs/ca.pem"    # relative to this file's directory
//! echo = "hello"
//! no_ping = false
//! cloudflare = true          # as --cloudflare (false: --no-cloudflare)
//! aws = { alb = "my-alb", region = "eu-west-1", profile = "ci" }   # or aws = true / false
//!
//! [[check]]
//! name = "chat"              # default: the target as written
//! target = "ws://app.test/ws"
//! hops = ["nginx=ws://127.0.0.1:8080", "backend=ws://127.0.0.1:9000"]   # the --hop syntax
//! nginx_conf = "deploy/nginx.conf"   # as check --nginx-conf
//!
//! [[lint]]
//! nginx = "deploy/nginx.conf"  # as lint nginx FILE; also prefix, path, idle, nginx_version, error_log
//!
//! [module.chat]              # wspath serve: options plus hop templates, filled per probe
//! timeout = "3s"
//! hops = ["nginx=ws://127.0.0.1:8080{target_path}", "backend=ws://{target_host}:9000"]
//! ```
//! `${VAR}` is expanded in every string value (`$$` is a literal `$`). In module hops the
//! placeholders `{target_host}`, `{target_port}` and `{target_path}` are kept as written and
//! filled by [`Module::hops_for`]; they are checked at load time with a sample target.

pub mod expand;
mod raw;
pub mod values;

use crate::hop::{Hop, HopSpec};
use crate::probe::ProbeOptions;
use crate::target::Target;
use crate::walk::CheckConfig;
use crate::Error;
use raw::{RawAws, RawFile, RawOptions, Str};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A position in the file, 1-based (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One parsed, validated file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path as given (used in messages and reports).
    pub path: PathBuf,
    /// The directory relative paths in the file were resolved against.
    pub dir: PathBuf,
    /// Shared: an audit's tasks hold them while their checks run, without a copy each.
    pub checks: Vec<Arc<Check>>,
    pub lints: Vec<Lint>,
    /// `[module.NAME]` tables, by name.
    pub modules: BTreeMap<String, Module>,
}

/// The `Origin` a check sends.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OriginChoice {
    /// The target's https origin (as `check` without `--origin`).
    #[default]
    Target,
    /// No Origin header (`no_origin = true`).
    None,
    Value(String),
}

/// `aws = …`: whether and how to read the lb hop from AWS ELBv2 (as `--aws`/`--no-aws`/`--alb`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsChoice {
    /// `aws = true` or a table: on; `aws = false`: off.
    pub enabled: bool,
    pub alb: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// The check options after `[defaults]` and the table's own keys are merged and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    pub timeout: Duration,
    pub idle: Option<Duration>,
    pub origin: OriginChoice,
    pub headers: Vec<(String, String)>,
    pub protocols: Vec<String>,
    pub insecure: bool,
    /// Absolute or relative to the working directory (already resolved against the file's dir).
    pub cacert: Option<PathBuf>,
    pub echo: Option<String>,
    pub no_ping: bool,
    /// `None`: as `check` decides by default (credentials present).
    pub cloudflare: Option<bool>,
    pub aws: Option<AwsChoice>,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            timeout: Duration::from_secs(10),
            idle: None,
            origin: OriginChoice::Target,
            headers: Vec::new(),
            protocols: Vec::new(),
            insecure: false,
            cacert: None,
            echo: None,
            no_ping: false,
            cloudflare: None,
            aws: None,
        }
    }
}

impl CheckOptions {
    /// The probe options for `target` (the default Origin depends on it).
    pub fn probe_options(&self, target: &Target) -> ProbeOptions {
        let mut p = ProbeOptions::new(target);
        p.timeout = self.timeout;
        p.idle = self.idle;
        p.origin = match &self.origin {
            OriginChoice::Target => Some(target.default_origin()),
            OriginChoice::None => None,
            OriginChoice::Value(v) => Some(v.clone()),
        };
        p.headers = self.headers.clone();
        p.protocols = self.protocols.clone();
        p.insecure = self.insecure;
        p.cacert = self.cacert.clone();
        p.echo = self.echo.clone();
        p.ping = !self.no_ping;
        p
    }
}

/// One `[[check]]`.
#[derive(Debug, Clone)]
pub struct Check {
    /// Unique in the file; the target as written when the table has no `name`.
    pub name: String,
    pub target: Target,
    /// Outermost first, as `--hop` specs; empty means the target itself.
    pub hops: Vec<HopSpec>,
    pub nginx_conf: Option<PathBuf>,
    pub options: CheckOptions,
    /// Where the `[[check]]` table starts (its header line), for reports and annotations.
    pub pos: Pos,
}

impl Check {
    /// The engine's config for this check (before any provider or nginx discovery).
    pub fn config(&self) -> CheckConfig {
        CheckConfig {
            hops: resolve_hops(&self.hops, &self.target),
            probe: self.options.probe_options(&self.target),
            target: self.target.clone(),
            // Audits and modules probe as one client; `--as all` is a check flag.
            compare: Vec::new(),
        }
    }
}

fn resolve_hops(specs: &[HopSpec], target: &Target) -> Vec<Hop> {
    if specs.is_empty() {
        return vec![Hop::direct(target)];
    }
    specs.iter().map(|s| s.resolve(target)).collect()
}

/// One `[[lint]]`: `wspath lint nginx` over one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Lint {
    pub nginx: PathBuf,
    pub prefix: Option<PathBuf>,
    pub path: Option<String>,
    /// Expected idle time of a WebSocket; default 60s as `lint nginx`.
    pub idle: Duration,
    pub nginx_version: Option<String>,
    pub error_log: Option<PathBuf>,
    pub pos: Pos,
}

/// One `[module.NAME]` of the exporter: check options plus hop templates.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub options: CheckOptions,
    /// `--hop` specs with `{target_host}`, `{target_port}`, `{target_path}` not yet filled.
    pub hops: Vec<String>,
    pub pos: Pos,
}

impl Module {
    /// The hop specs for one probed target: placeholders filled, then parsed as `--hop`.
    pub fn hops_for(&self, target: &Target) -> Result<Vec<HopSpec>, Error> {
        let mut specs: Vec<HopSpec> = Vec::with_capacity(self.hops.len());
        for template in &self.hops {
            let spec = HopSpec::parse(&fill(template, target))?;
            if specs.iter().any(|s| s.name == spec.name) {
                return Err(Error::InvalidHop {
                    input: template.clone(),
                    reason: format!("hop name '{}' is used twice", spec.name),
                });
            }
            specs.push(spec);
        }
        Ok(specs)
    }

    /// The engine's config for probing `target` with this module.
    pub fn config(&self, target: Target) -> Result<CheckConfig, Error> {
        let hops = resolve_hops(&self.hops_for(&target)?, &target);
        Ok(CheckConfig {
            hops,
            probe: self.options.probe_options(&target),
            target,
            compare: Vec::new(),
        })
    }
}

/// The placeholders of a module's hop template, filled from the probed target.
pub fn fill(template: &str, target: &Target) -> String {
    template
        .replace("{target_host}", &crate::target::bracket(&target.host))
        .replace("{target_port}", &target.port.to_string())
        .replace("{target_path}", &target.path)
}

/// Reads and validates `path`; `${VAR}` from the process environment.
pub fn load(path: &Path) -> Result<ConfigFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, &|name| std::env::var(name).ok())
}

/// Validates `text` read from `path` (relative paths resolve against `path`'s directory).
pub fn parse(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigFile, Error> {
    let file = Source {
        text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        path,
        dir: path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        env,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| file.toml_error(&e))?;
    file.build(raw)
}

struct Source<'a> {
    text: &'a str,
    /// Where each line starts: a position is a binary search, not a scan from the top (a file
    /// of 10,000 checks asks for 10,000 positions).
    line_starts: Vec<usize>,
    path: &'a Path,
    dir: PathBuf,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Source<'_> {
    fn pos(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        Pos {
            line,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        let p = self.pos(span.start);
        Error::Config {
            file: self.path.to_path_buf(),
            line: p.line,
            column: p.column,
            message: message.into(),
        }
    }

    /// A syntax or shape error from the toml crate, made one line; an unknown key gets the
    /// closest known key suggested.
    fn toml_error(&self, e: &toml::de::Error) -> Error {
        let message = explain(e.message());
        match e.span() {
            Some(span) => self.error_at(span, message),
            None => Error::Config {
                file: self.path.to_path_buf(),
                line: 1,
                column: 1,
                message,
            },
        }
    }

    /// A string value with `${VAR}` expanded; errors point at the value.
    fn string(&self, s: &Str) -> Result<String, Error> {
        expand::expand(s.get_ref(), self.env).map_err(|e| self.error_at(s.span(), e.to_string()))
    }

    /// As [`Source::string`] for a value whose own span is lost; errors point at `span`.
    fn expand_at(&self, s: &str, span: Range<usize>) -> Result<String, Error> {
        expand::expand(s, self.env).map_err(|e| self.error_at(span, e.to_string()))
    }

    fn file_path(&self, s: &Str) -> Result<PathBuf, Error> {
        let v = self.string(s)?;
        if v.is_empty() {
            return Err(self.error_at(s.span(), "empty path"));
        }
        Ok(self.dir.join(v))
    }

    fn duration(&self, key: &'static str, s: &Str) -> Result<Duration, Error> {
        let v = self.string(s)?;
        values::duration(key, &v).map_err(|e| self.error_at(s.span(), e.to_string()))
    }

    fn build(&self, raw: RawFile) -> Result<ConfigFile, Error> {
        let defaults = raw.defaults.unwrap_or_default();
        // Checked alone too, so a bad default is reported even in a file with no check.
        self.options(&defaults)?;
        let mut checks: Vec<Arc<Check>> = Vec::with_capacity(raw.check.len());
        let mut names: HashSet<String> = HashSet::with_capacity(raw.check.len());
        for entry in &raw.check {
            let c = entry.get_ref();
            let target_text = self.string(&c.target)?;
            let target = Target::parse(&target_text)
                .map_err(|e| self.error_at(c.target.span(), e.to_string()))?;
            let name = match &c.name {
                Some(n) => {
                    let v = self.string(n)?;
                    if v.trim().is_empty() || v.chars().any(char::is_control) {
                        return Err(self.error_at(
                            n.span(),
                            "a check name must be non-empty, without control characters",
                        ));
                    }
                    v
                }
                None => target_text.clone(),
            };
            let name_span = c.name.as_ref().map_or(entry.span(), |n| n.span());
            if !names.insert(name.clone()) {
                return Err(self.error_at(
                    name_span,
                    format!(
                        "a check named '{name}' is already defined: give each check a unique name"
                    ),
                ));
            }
            let mut hops: Vec<HopSpec> = Vec::with_capacity(c.hops.len());
            for h in &c.hops {
                let spec = HopSpec::parse(&self.string(h)?)
                    .map_err(|e| self.error_at(h.span(), e.to_string()))?;
                if hops.iter().any(|s| s.name == spec.name) {
                    return Err(
                        self.error_at(h.span(), format!("hop name '{}' is used twice", spec.name))
                    );
                }
                hops.push(spec);
            }
            let nginx_conf = c
                .nginx_conf
                .as_ref()
                .map(|p| self.file_path(p))
                .transpose()?;
            let options = self.options(&defaults.overlay(&c.options()))?;
            checks.push(Arc::new(Check {
                name,
                target,
                hops,
                nginx_conf,
                options,
                pos: self.pos(entry.span().start),
            }));
        }
        let mut lints = Vec::with_capacity(raw.lint.len());
        for entry in &raw.lint {
            let l = entry.get_ref();
            lints.push(Lint {
                nginx: self.file_path(&l.nginx)?,
                prefix: l.prefix.as_ref().map(|p| self.file_path(p)).transpose()?,
                path: l.path.as_ref().map(|p| self.string(p)).transpose()?,
                idle: match &l.idle {
                    Some(d) => self.duration("idle", d)?,
                    None => Duration::from_secs(60),
                },
                nginx_version: l
                    .nginx_version
                    .as_ref()
                    .map(|v| self.string(v))
                    .transpose()?,
                error_log: l
                    .error_log
                    .as_ref()
                    .map(|p| self.file_path(p))
                    .transpose()?,
                pos: self.pos(entry.span().start),
            });
        }
        let mut modules = BTreeMap::new();
        for (name, entry) in &raw.module {
            let m = entry.get_ref();
            let options = self.options(&defaults.overlay(&m.options()))?;
            // Templates are checked now with a sample target, so a typo is a load-time error
            // with a line, not a failed scrape.
            let sample = Target::parse("wss://example.com:443/ws").expect("a valid sample URL");
            let mut hops: Vec<String> = Vec::with_capacity(m.hops.len());
            let mut names: Vec<String> = Vec::with_capacity(m.hops.len());
            for h in &m.hops {
                let template = self.string(h)?;
                let spec = HopSpec::parse(&fill(&template, &sample)).map_err(|e| {
                    let reason = match e {
                        Error::InvalidHop { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    self.error_at(h.span(), format!("invalid hop '{template}': {reason}"))
                })?;
                if names.contains(&spec.name) {
                    return Err(
                        self.error_at(h.span(), format!("hop name '{}' is used twice", spec.name))
                    );
                }
                names.push(spec.name);
                hops.push(template);
            }
            let module = Module {
                name: name.clone(),
                options,
                hops,
                pos: self.pos(entry.span().start),
            };
            modules.insert(name.clone(), module);
        }
        Ok(ConfigFile {
            path: self.path.to_path_buf(),
            dir: self.dir.clone(),
            checks,
            lints,
            modules,
        })
    }

    fn options(&self, o: &RawOptions) -> Result<CheckOptions, Error> {
        let mut out = CheckOptions::default();
        if let Some(t) = &o.timeout {
            out.timeout = self.duration("timeout", t)?;
        }
        if let Some(t) = &o.idle {
            out.idle = Some(self.duration("idle", t)?);
        }
        match (&o.origin, o.no_origin) {
            (Some(origin), Some(true)) => {
                return Err(self.error_at(
                    origin.span(),
                    "origin and no_origin = true cannot both be set",
                ))
            }
            (_, Some(true)) => out.origin = OriginChoice::None,
            (Some(origin), _) => {
                let v = self.string(origin)?;
                values::origin("origin", &v)
                    .map_err(|e| self.error_at(origin.span(), e.to_string()))?;
                out.origin = OriginChoice::Value(v);
            }
            (None, _) => {}
        }
        for h in o.headers.iter().flatten() {
            let v = self.string(h)?;
            out.headers
                .push(values::header(&v).map_err(|e| self.error_at(h.span(), e.to_string()))?);
        }
        if let Some(p) = &o.protocol {
            for item in p.get_ref().items() {
                let v = self.expand_at(item, p.span())?;
                values::protocol("protocol", &v)
                    .map_err(|e| self.error_at(p.span(), e.to_string()))?;
                out.protocols.push(v);
            }
        }
        out.insecure = o.insecure.unwrap_or(false);
        if let Some(c) = &o.cacert {
            let path = self.file_path(c)?;
            if let Err(e) = std::fs::metadata(&path) {
                return Err(self.error_at(c.span(), format!("cacert '{}': {e}", path.display())));
            }
            out.cacert = Some(path);
        }
        out.echo = o.echo.as_ref().map(|e| self.string(e)).transpose()?;
        out.no_ping = o.no_ping.unwrap_or(false);
        out.cloudflare = o.cloudflare;
        if let Some(aws) = &o.aws {
            out.aws = Some(match aws.get_ref() {
                RawAws::Flag(b) => AwsChoice {
                    enabled: *b,
                    ..AwsChoice::default()
                },
                RawAws::Table(t) => {
                    let field = |v: &Option<String>| {
                        v.as_ref()
                            .map(|v| self.expand_at(v, aws.span()))
                            .transpose()
                    };
                    AwsChoice {
                        enabled: true,
                        alb: field(&t.alb)?,
                        region: field(&t.region)?,
                        profile: field(&t.profile)?,
                    }
                }
            });
        }
        Ok(out)
    }
}

/// The toml/serde message on one line, in the file's words (keys, not fields), with the
/// closest known key for an unknown one.
fn explain(message: &str) -> String {
    let message = message.trim().replace('\n', " ");
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let Some((key, tail)) = rest.split_once('`') else {
            return message;
        };
        let known: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let mut out = format!("unknown key `{key}`");
        if let Some(best) = closest(key, &known) {
            out.push_str(&format!(": did you mean `{best}`?"));
        }
        if !known.is_empty() {
            out.push_str(&format!(" (known keys: {})", known.join(", ")));
        }
        return out;
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some((key, _)) = rest.split_once('`') {
            return format!("missing key `{key}` in this table");
        }
    }
    if message.starts_with("data did not match any variant of untagged enum OneOrMany") {
        return "expected a string or an array of strings".into();
    }
    if message.starts_with("data did not match any variant of untagged enum RawAws") {
        return "expected aws = true, aws = false or aws = { alb = \"…\", region = \"…\", profile = \"…\" }".into();
    }
    message
}

/// The known key most like `key`, when one is close enough to be a likely typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests;

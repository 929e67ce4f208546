//! The TOML file as written: serde structs with spans, before expansion and validation.
//!
//! Every table denies unknown keys; `serde(flatten)` cannot be combined with that, so the option
//! keys shared by `[defaults]`, `[[check]]` and `[module.NAME]` are spelled once in a macro.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type Str = Spanned<String>;

/// Untagged enums read through serde's buffer, where spans are lost: their values are plain and
/// the whole value carries the span.
///
/// `protocol = "chat"` or `protocol = ["chat", "chat.v2"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v.iter().collect(),
        }
    }
}

/// `aws = true`, `aws = false` or `aws = { alb = "name-or-arn", region = "…", profile = "…" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawAws {
    Flag(bool),
    Table(RawAwsTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAwsTable {
    pub alb: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
}

macro_rules! with_check_options {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
            pub timeout: Option<Str>,
            pub idle: Option<Str>,
            pub origin: Option<Str>,
            pub no_origin: Option<bool>,
            pub headers: Option<Vec<Str>>,
            pub protocol: Option<Spanned<OneOrMany>>,
            pub insecure: Option<bool>,
            pub cacert: Option<Str>,
            pub echo: Option<Str>,
            pub no_ping: Option<bool>,
            pub cloudflare: Option<bool>,
            pub aws: Option<Spanned<RawAws>>,
        }

        impl $name {
            /// The option keys of this table, for merging over `[defaults]` (unused on
            /// `RawOptions` itself, which the macro also expands).
            #[allow(dead_code)]
            pub fn options(&self) -> RawOptions {
                RawOptions {
                    timeout: self.timeout.clone(),
                    idle: self.idle.clone(),
                    origin: self.origin.clone(),
                    no_origin: self.no_origin,
                    headers: self.headers.clone(),
                    protocol: self.protocol.clone(),
                    insecure: self.insecure,
                    cacert: self.cacert.clone(),
                    echo: self.echo.clone(),
                    no_ping: self.no_ping,
                    cloudflare: self.cloudflare,
                    aws: self.aws.clone(),
                }
            }
        }
    };
}

with_check_options! {
    /// `[defaults]`: the option keys alone.
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawOptions {}
}

impl RawOptions {
    /// `self` with every key `over` sets replaced by `over`'s value.
    pub fn overlay(&self, over: &RawOptions) -> RawOptions {
        RawOptions {
            timeout: over.timeout.clone().or_else(|| self.timeout.clone()),
            idle: over.idle.clone().or_else(|| self.idle.clone()),
            origin: over.origin.clone().or_else(|| self.origin.clone()),
            no_origin: over.no_origin.or(self.no_origin),
            headers: over.headers.clone().or_else(|| self.headers.clone()),
            protocol: over.protocol.clone().or_else(|| self.protocol.clone()),
            insecure: over.insecure.or(self.insecure),
            cacert: over.cacert.clone().or_else(|| self.cacert.clone()),
            echo: over.echo.clone().or_else(|| self.echo.clone()),
            no_ping: over.no_ping.or(self.no_ping),
            cloudflare: over.cloudflare.or(self.cloudflare),
            aws: over.aws.clone().or_else(|| self.aws.clone()),
        }
    }
}

with_check_options! {
    /// One `[[check]]`.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawCheck {
        pub name: Option<Str>,
        pub target: Str,
        #[serde(default)]
        pub hops: Vec<Str>,
        pub nginx_conf: Option<Str>,
    }
}

with_check_options! {
    /// One `[module.NAME]` (the exporter's): options and hop templates, no target.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawModule {
        #[serde(default)]
        pub hops: Vec<Str>,
    }
}

/// One `[[lint]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLint {
    pub nginx: Str,
    pub prefix: Option<Str>,
    pub path: Option<Str>,
    pub idle: Option<Str>,
    pub nginx_version: Option<Str>,
    pub error_log: Option<Str>,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub defaults: Option<RawOptions>,
    #[serde(default)]
    pub check: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    pub lint: Vec<Spanned<RawLint>>,
    #[serde(default)]
    pub module: BTreeMap<String, Spanned<RawModule>>,
}

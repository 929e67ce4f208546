//! The one error type of the wspath crate: everything that means "could not run" (exit 2).
//! A broken hop is never an `Err`; it is a [`crate::Verdict`].

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid target URL '{input}': {reason}")]
    InvalidTarget { input: String, reason: String },
    #[error("invalid --hop '{input}': {reason}")]
    InvalidHop { input: String, reason: String },
    #[error("invalid header '{input}': {reason}")]
    InvalidHeader { input: String, reason: String },
    #[error("invalid {flag} '{input}': {reason}")]
    InvalidFlag {
        flag: &'static str,
        input: String,
        reason: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// An nginx configuration that nginx itself would refuse; `location` is `file:line`.
    #[error("{location}: {message}")]
    NginxConfig { location: String, message: String },
    /// A setting a fix must change cannot be changed there (plan level, lock).
    #[error("{resource}: {setting} cannot be changed: {reason}")]
    NotEditable {
        resource: String,
        setting: String,
        reason: String,
    },
    /// A fix that would do harm or cannot do what was asked; the message says what to do instead.
    #[error("{0}")]
    Refused(String),
    /// A configuration file (an audit or exporter TOML) that cannot be used, with where.
    #[error("{}:{line}:{column}: {message}", file.display())]
    Config {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Provider(#[from] wspath_providers::Error),
}

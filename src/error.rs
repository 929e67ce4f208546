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
    /// A file changed between being read and being replaced: the whole change was dropped.
    #[error("{}: changed since wspath read it; nothing was replaced (run the fix again to plan against the new contents)", path.display())]
    ChangedSinceRead { path: PathBuf },
    /// SIGINT/SIGTERM during a fix; `outcome` says which configuration is in place.
    #[error("interrupted by {signal}: {outcome}")]
    Interrupted {
        signal: &'static str,
        outcome: String,
    },
    /// The validator did not answer within the time limit.
    #[error("{program} -t did not finish within {limit} (--validate-timeout); nothing was replaced: the configuration is as it was")]
    ValidatorTimeout { program: String, limit: String },
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

//! wspath: find where a WebSocket path breaks.
//!
//! The engine: a [`Target`] and its [`Hop`]s go in, every hop is probed concurrently, the walker
//! names the culprit, and a [`report::Report`] comes out. Nothing here knows about terminals or
//! command-line flags; the binary translates flags into these types and renders the report.

pub mod audit;
pub mod config;
pub mod error;
pub mod exporter;
pub mod finding;
pub mod hop;
pub mod nginx;
pub mod plan;
pub mod probe;
pub mod report;
pub mod rules;
pub mod software;
pub mod target;
pub mod transaction;
pub mod verdict;
pub mod walk;

pub use error::Error;
pub use finding::{Finding, Location, Severity};
pub use hop::{Hop, HopKind};
pub use plan::{Change, Plan};
pub use target::{Scheme, Target};
pub use verdict::{Stage, Verdict};

/// Process exit codes, the same for `check`, `lint` and `fix`.
pub mod exit {
    /// The path is healthy / no error-level finding / nothing to change or all applied.
    pub const OK: u8 = 0;
    /// A culprit was found / an error-level finding / a change is pending.
    pub const PROBLEMS: u8 = 1;
    /// Could not run: bad input, unreadable config, missing credentials.
    pub const COULD_NOT_RUN: u8 = 2;
}

//! The nginx analyzer: parse configuration as nginx does (with file:line), lint it, plan fixes.
//!
//! parse (lexer → parser, includes followed) → model (effective settings per location, as nginx
//! inherits them) → lint (pure checks → findings) → fix (edits → plan) → writer (applies a plan,
//! the only part that writes). `dump` prints the parse in crossplane's format.

mod analyzer;
mod directives;
pub mod dump;
pub mod lexer;
pub mod parser;

pub use parser::{parse, Config, Directive};

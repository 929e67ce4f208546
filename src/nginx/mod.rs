//! The nginx analyzer: parse configuration as nginx does (with file:line), lint it, plan fixes.
//!
//! parse (lexer → parser, includes followed) → model (effective settings per location, as nginx
//! inherits them) → lint (pure checks → findings) → fix (edits → plan) → writer (applies a plan,
//! the only part that writes). `dump` prints the parse in crossplane's format.

mod analyzer;
pub mod candidate;
pub mod check;
mod directives;
pub mod dump;
pub mod errorlog;
pub mod fix;
pub mod lexer;
pub mod lint;
pub mod model;
pub mod parser;
pub mod version;
pub mod writer;

pub use lint::{lint, Check, LintOptions, LintReport};
pub use model::Model;
pub use parser::{parse, Config, Directive};
pub use version::{AssumedVersion, Version};

use std::path::Path;

/// Parse `file` and refuse what nginx would refuse: the first error, as nginx words it, with
/// file:line.
pub fn load(file: &Path) -> Result<Config, crate::Error> {
    let config = parse(file)?;
    if let Some(e) = config.errors.first() {
        // An unterminated quote: nginx reads to the end of the file and says what it expected.
        if let Some(line) = config
            .files
            .iter()
            .find(|f| f.path == e.file)
            .and_then(|f| f.eof_in_quote)
        {
            return Err(crate::Error::NginxConfig {
                location: format!("{}:{line}", e.file),
                message: "unexpected end of file, expecting \";\" or \"}\"".into(),
            });
        }
        // nginx reports an early end of file at the line the file ends on (crossplane: the
        // last token's line).
        let eof_line = (e.message.starts_with("unexpected end of file"))
            .then(|| config.files.iter().find(|f| f.path == e.file))
            .flatten()
            .map(|f| 1 + f.source.matches('\n').count());
        let location = match eof_line.or(e.line) {
            Some(l) => format!("{}:{l}", e.file),
            None => e.file.clone(),
        };
        let message = match &e.open_failed {
            Some(o) => format!("open() \"{}\" failed ({}: {})", o.path, o.errno, o.reason),
            None => e.message.clone(),
        };
        return Err(crate::Error::NginxConfig { location, message });
    }
    Ok(config)
}

/// `nginx -p PREFIX -c FILE`: a relative FILE is relative to the prefix.
pub fn main_file(file: &Path, prefix: Option<&Path>) -> std::path::PathBuf {
    match prefix {
        Some(p) if file.is_relative() => p.join(file),
        _ => file.to_path_buf(),
    }
}

impl Model<'_> {
    /// The level of the main `error_log` (nginx's default is `error`).
    pub fn error_log_level(&self) -> &str {
        self.roots
            .iter()
            .map(|&r| self.node(r).d)
            .rfind(|d| d.name == "error_log")
            .and_then(|d| d.arg(1))
            .unwrap_or("error")
    }
}

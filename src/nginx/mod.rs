//! The nginx analyzer: parse configuration as nginx does (with file:line), lint it, plan fixes.

//! The `wspath` binary: parse the command line, run the engine, render, exit.
//!
//! Exit codes: 0 healthy / nothing to fix, 1 problems found, 2 could not run.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}

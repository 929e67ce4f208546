//! Command-line parsing and rendering; the engine never sees clap or the terminal.

mod audit;
mod audit_progress;
mod check;
mod discover;
mod extras;
mod fix;
mod lint;
mod output;
mod progress;
mod runtime;
mod serve;
mod signals;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// The logging paragraph every command's `--help` ends with.
macro_rules! logging_help {
    () => {
        "Logging (stderr): -v each hop's phases, -vv request and response heads (secrets redacted),
-vvv WebSocket frames. WSPATH_LOG (or else RUST_LOG) takes tracing filter directives instead,
e.g. WSPATH_LOG=wspath=debug. Colour: --color, NO_COLOR, TERM=dumb."
    };
}

pub(crate) const EXIT_CODES: &str = concat!(
    "\
Exit codes:
  0    healthy: every hop upgraded / no error-level finding / nothing left to fix
  1    problems found: a culprit hop, an error-level finding, or a fix not yet applied
  2    could not run: bad input, unreadable config, missing credentials or permissions
       (with --format json/junit/sarif, stdout still gets a document with the error)
  130  interrupted (SIGINT): the report of the hops seen so far, marked incomplete
  143  terminated (SIGTERM): likewise
  141  stdout closed by its reader (as a program killed by SIGPIPE)

",
    logging_help!()
);

/// `serve` runs until stopped: only its startup can fail (exit 2, one line).
const SERVE_HELP: &str = concat!(
    "\
Exit codes: 0 after SIGTERM/SIGINT (running probes are waited for), 2 when it cannot start
(bad flag, unreadable --config, address in use).

",
    logging_help!()
);

#[derive(Debug, Parser)]
#[command(name = "wspath", version, about = "Find where a WebSocket path breaks: walk every hop (CDN, load balancer, nginx, backend) and name the one that fails", after_help = EXIT_CODES)]
pub struct Cli {
    /// More logging on stderr: -v phases, -vv request/response heads, -vvv frames
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Colour in human output and logs: auto (a terminal, NO_COLOR unset, TERM not dumb), always, never
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: output::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

// Each subcommand's arguments are built only when that subcommand runs (or help, completions
// or the man page asks for them): building every one on every run was most of clap's cost in a
// one-hop `check` process (callgrind: about a sixth of its instructions).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Probe every hop of a WebSocket path and name the one that breaks
    #[command(after_help = EXIT_CODES)]
    Check(check::CheckArgs),
    /// Static audit of configuration, for CI
    #[command(subcommand, after_help = EXIT_CODES)]
    Lint(lint::LintCommand),
    /// Plan (and with --yes apply) the fix for a broken hop
    #[command(after_help = EXIT_CODES)]
    Fix(fix::FixArgs),
    /// Run every check and lint of audit files (TOML) as one job, for CI, with report files
    #[command(after_help = EXIT_CODES)]
    Audit(audit::AuditArgs),
    /// Print a shell completion script (bash, zsh, fish)
    Completions(extras::CompletionsArgs),
    /// Print the man page (roff)
    Man,
    /// Prometheus exporter: /probe?target=URL runs one check and answers with its metrics
    #[command(after_help = SERVE_HELP)]
    Serve(serve::ServeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Sarif,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    output::set_color(cli.color);
    init_logging(cli.verbose);
    let (schema, format) = cli.command.output();
    // Generated text needs no runtime.
    let generated = match &cli.command {
        Command::Completions(args) => Some(extras::completions(args, &mut std::io::stdout())),
        Command::Man => Some(extras::man(&mut std::io::stdout())),
        _ => None,
    };
    if let Some(result) = generated {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if output::is_broken_pipe(&e) => ExitCode::from(output::EXIT_BROKEN_PIPE),
            Err(e) => {
                output::error_line(&e.to_string());
                ExitCode::from(wspath::exit::COULD_NOT_RUN)
            }
        };
    }
    let runtime = match runtime::for_command(&cli.command) {
        Ok(rt) => rt,
        Err(e) => {
            output::error_line(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(wspath::exit::COULD_NOT_RUN);
        }
    };
    let result = runtime.block_on(async {
        signals::listen();
        match cli.command {
            Command::Check(args) => boxed(|| check::run(args)).await,
            Command::Lint(cmd) => boxed(|| lint::run(cmd)).await,
            Command::Fix(args) => boxed(|| fix::run(args)).await,
            Command::Audit(args) => boxed(|| audit::run(args)).await,
            Command::Completions(_) | Command::Man => Ok(wspath::exit::OK),
            Command::Serve(args) => boxed(|| serve::run(args)).await,
        }
    });
    // Probes still closing politely in the background must not hold the exit.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(signals::exit_code().unwrap_or(code)),
        Err(e) => {
            let code = fail(&e, schema, format);
            // A walk stopped by a signal: the shell's convention wins over "could not run".
            ExitCode::from(signals::exit_code().unwrap_or(code))
        }
    }
}

/// A command's future, made and boxed in a frame of its own. Inline in `main`'s async block, all
/// five commands' futures and their temporaries shared one stack frame of 62 KB (now 3 KB),
/// every page of it touched by the stack probe whatever the command: a one-hop `check` takes
/// about 8 page faults fewer of its 380 (`perf stat -r 100`).
#[inline(never)]
fn boxed<F: std::future::Future<Output = anyhow::Result<u8>> + 'static>(
    make: impl FnOnce() -> F,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<u8>>>> {
    Box::pin(make())
}

impl Command {
    /// The document this command prints and in which format, so an error can be printed in it.
    fn output(&self) -> (&'static str, Format) {
        match self {
            Command::Check(a) => (wspath::report::json::SCHEMA, a.format),
            Command::Lint(lint::LintCommand::Nginx(a)) => {
                (wspath::report::lint_json::SCHEMA, a.format)
            }
            Command::Fix(a) => (
                wspath::report::fix::SCHEMA,
                match a.format {
                    fix::PlanFormat::Human => Format::Human,
                    fix::PlanFormat::Json => Format::Json,
                },
            ),
            Command::Audit(a) => (wspath::report::audit::json::SCHEMA, a.format),
            // serve has no --format: its startup errors are the one line on stderr.
            Command::Serve(_) | Command::Completions(_) | Command::Man => {
                (wspath::report::json::SCHEMA, Format::Human)
            }
        }
    }
}

/// "Could not run": the one-line error on stderr, and in a machine format the document that
/// says so on stdout. A closed stdout is not an error to report.
fn fail(e: &anyhow::Error, schema: &str, format: Format) -> u8 {
    if e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(output::is_broken_pipe)
    }) {
        return output::EXIT_BROKEN_PIPE;
    }
    let message = one_line(e);
    output::error_line(&message);
    let info = error_info(e, &message);
    print_error_doc(&info, schema, format);
    wspath::exit::COULD_NOT_RUN
}

/// The kind and place of an error, from the engine's error type when it is one.
pub(crate) fn error_info(e: &anyhow::Error, message: &str) -> wspath::report::error::ErrorInfo {
    use wspath::report::error::ErrorInfo;
    let message = output::scrub(message);
    for cause in e.chain() {
        if let Some(err) = cause.downcast_ref::<wspath::Error>() {
            return ErrorInfo::from_error(err, &message);
        }
        if cause.downcast_ref::<wspath_providers::Error>().is_some() {
            return ErrorInfo::new("provider", &message);
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return ErrorInfo::new("io", &message);
        }
    }
    ErrorInfo::new("error", &message)
}

/// The error as a `schema` document in `format` on stdout (nothing for human output).
pub(crate) fn print_error_doc(
    info: &wspath::report::error::ErrorInfo,
    schema: &str,
    format: Format,
) {
    use wspath::report::error;
    let mut out = Vec::new();
    let suite = format!(
        "wspath {}",
        schema
            .trim_start_matches("wspath.")
            .split('/')
            .next()
            .unwrap_or("")
    );
    let _ = match format {
        Format::Human => return,
        Format::Json => error::render_json(schema, info, &mut out),
        Format::Junit => error::render_junit(&suite, info, &mut out),
        Format::Sarif => error::render_sarif(info, &mut out),
    };
    let _ = output::stdout(&out, output::Doc::of(format));
}

/// A command line clap refused: its message (without the "use `-- -5`" tip, which misleads
/// for a negative duration), and the error document when `--format` asked for one.
fn usage_error(e: clap::Error) -> ExitCode {
    if !e.use_stderr() {
        // --help, --version.
        let _ = e.print();
        return ExitCode::from(0);
    }
    let text = e.render().to_string();
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("tip: to pass"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\n\n\n", "\n\n");
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        // A bad value is one line naming the flag, like wspath's own input errors (the
        // possible values, when clap lists them, stay on it).
        let line: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
            .collect();
        let line = line.join(" ");
        output::error_line(line.strip_prefix("error: ").unwrap_or(&line));
    } else {
        output::stderr(&format!("{}\n", text.trim_end()));
    }
    let args: Vec<String> = std::env::args().collect();
    let format = args
        .windows(2)
        .find_map(|w| (w[0] == "--format").then(|| w[1].clone()))
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--format=").map(str::to_string))
        });
    let format = match format.as_deref() {
        Some("json") => Some(Format::Json),
        Some("junit") => Some(Format::Junit),
        Some("sarif") => Some(Format::Sarif),
        _ => None,
    };
    let schema = match args.get(1).map(String::as_str) {
        Some("lint") => wspath::report::lint_json::SCHEMA,
        Some("fix") => wspath::report::fix::SCHEMA,
        Some("audit") => wspath::report::audit::json::SCHEMA,
        _ => wspath::report::json::SCHEMA,
    };
    // The error and what clap lists under it (the missing arguments, the possible values),
    // without the usage block and the --help hint.
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let message = if message.is_empty() {
        "invalid command line"
    } else {
        message
    };
    let mut info = wspath::report::error::ErrorInfo::new("invalid_input", message);
    // `--color <WHEN>` → `--color`: the flag, as wspath's own input errors name it.
    if let Some(clap::error::ContextValue::String(arg)) =
        e.get(clap::error::ContextKind::InvalidArg)
    {
        info.flag = arg.split_whitespace().next().map(str::to_string);
    }
    audit::usage_error_reports(&args, &info);
    if let Some(format) = format {
        print_error_doc(&info, schema, format);
    }
    ExitCode::from(wspath::exit::COULD_NOT_RUN)
}

/// The error and its causes on one line, so scripts and CI logs keep it whole.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// Crates that see credentials (request signing, auth headers) and log them at debug or
/// trace; they stay at info whatever `WSPATH_LOG` asks, so no log line carries a secret.
const CREDENTIAL_SEEING_CRATES: &[&str] = &[
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_config",
    "aws_credential_types",
    "hyper",
    "hyper_util",
    "reqwest",
    "h2",
];

/// Logs on stderr. `WSPATH_LOG`, or else `RUST_LOG`, takes tracing filter directives; without
/// either, `-v` is each hop's phases (info), `-vv` the request and response heads (debug), `-vvv`
/// the WebSocket frames (trace). Every line passes the redaction policy and the sanitizer
/// ([`output::LogWriter`]); ANSI only when stderr is a terminal and colour is allowed.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let from_env = ["WSPATH_LOG", "RUST_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    let requested = from_env.unwrap_or_else(|| format!("wspath={level},wspath_providers={level}"));
    let filter = tracing_subscriber::EnvFilter::builder().parse_lossy(log_directives(&requested));
    let ansi = output::stderr_color();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::MakeLogWriter { ansi })
        .with_ansi(ansi)
        .with_target(verbose >= 3)
        .try_init();
}

/// `requested` with every credential-seeing crate capped at info: where a directive (or a bare
/// global level) would open one of them further, it is held at info; otherwise left alone, so
/// the default stays quiet.
fn log_directives(requested: &str) -> String {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let rank = |l: &str| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l));
    let parts: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let global = parts.iter().filter_map(|d| rank(d)).next_back();
    let mut directives: Vec<String> = Vec::new();
    for d in &parts {
        let target = d.split(['=', '[']).next().unwrap_or("");
        if !CREDENTIAL_SEEING_CRATES.contains(&target) {
            directives.push(d.to_string());
        }
    }
    for c in CREDENTIAL_SEEING_CRATES {
        let explicit = parts
            .iter()
            .filter(|d| d.split(['=', '[']).next() == Some(c))
            // A bare target name enables everything for it.
            .map(|d| d.rsplit_once('=').and_then(|(_, l)| rank(l)).unwrap_or(5))
            .next_back();
        match explicit.or(global) {
            Some(r) if r > 3 => directives.push(format!("{c}=info")),
            Some(r) if explicit.is_some() => directives.push(format!("{c}={}", LEVELS[r])),
            _ => {}
        }
    }
    directives.join(",")
}

#[cfg(test)]
mod log_tests {
    use super::log_directives;

    #[test]
    fn credential_seeing_crates_stay_at_info() {
        let d = log_directives("trace,aws_sigv4=trace,hyper=debug");
        assert!(d.starts_with("trace,"), "{d}");
        assert!(
            !d.contains("aws_sigv4=trace") && !d.contains("hyper=debug"),
            "{d}"
        );
        assert!(
            d.contains("aws_sigv4=info") && d.contains("aws_smithy_runtime=info"),
            "{d}"
        );
    }

    #[test]
    fn the_default_does_not_open_them() {
        let d = log_directives("wspath=warn,wspath_providers=warn");
        assert_eq!(d, "wspath=warn,wspath_providers=warn");
        assert_eq!(log_directives("aws_config=error"), "aws_config=error");
        assert_eq!(log_directives("hyper"), "hyper=info");
    }
}

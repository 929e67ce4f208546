//! `wspath check`: flags → validated `CheckConfig` → discovery → walk → render → exit code.
//!
//! Every flag is checked here, before anything touches the network, so bad input is a one-line
//! error naming the flag (or header, hop, URL) and exit 2.

use super::discover::discover;
use super::output;
use super::progress::Spinners;
use super::Format;
use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;
use wspath::config::values;
use wspath::hop::{Hop, HopSpec};
use wspath::probe::{Browser, ProbeOptions};
use wspath::report::{self, redact, Report};
use wspath::walk::{self, CheckConfig};
use wspath::{Error, Target};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// ws:// or wss:// URL, or host[:port][/path] (then wss://)
    pub target: String,
    /// A hop, outermost first: NAME[:KIND][=ADDRESS]; ADDRESS is host:port or a ws(s):// URL
    /// (which also sets the scheme and path used there). Without ADDRESS: the target as DNS resolves it.
    #[arg(long = "hop", value_name = "NAME[:KIND][=ADDRESS]")]
    pub hops: Vec<String>,
    /// Per-hop budget for each network phase, e.g. 10s, 500ms
    #[arg(
        long,
        default_value = "10s",
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    pub timeout: String,
    /// Accept any TLS certificate
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Trust the CA certificates in this PEM file (in addition to the system's)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Origin header to send (default: the target's https origin)
    #[arg(long, conflicts_with = "no_origin", allow_hyphen_values = true)]
    pub origin: Option<String>,
    /// Send no Origin header
    #[arg(long)]
    pub no_origin: bool,
    /// Subprotocol to request (repeatable)
    #[arg(long = "protocol", value_name = "NAME")]
    pub protocols: Vec<String>,
    /// Extra request header "Name: value" (repeatable)
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Skip the ping after the upgrade
    #[arg(long)]
    pub no_ping: bool,
    /// Probe only the HTTP/1.1 Upgrade: skip the WebSocket over HTTP/2 (RFC 8441) at TLS hops
    #[arg(long)]
    pub http1_only: bool,
    /// Send this text frame after the upgrade and expect it echoed back
    #[arg(long, value_name = "TEXT")]
    pub echo: Option<String>,
    /// Hold every upgraded hop silent this long and report which drops, e.g. 75s
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub idle: Option<String>,
    /// Send this browser's exact upgrade request (headers and their order); `all` sends every
    /// variant at every hop and reports where they differ
    #[arg(
        long = "as",
        value_name = "BROWSER",
        default_value = "plain",
        value_parser = ["plain", "chrome", "firefox", "safari", "all"]
    )]
    pub as_browser: String,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// nginx configuration of the nginx hop: attach its findings for the target's location
    #[arg(long, value_name = "FILE")]
    pub nginx_conf: Option<PathBuf>,
    /// Read the edge hop's settings from the Cloudflare API (default when credentials are set)
    #[arg(long, conflicts_with = "no_cloudflare")]
    pub cloudflare: bool,
    #[arg(long)]
    pub no_cloudflare: bool,
    /// Read the lb hop from AWS ELBv2 (default when the origin is an ELB name and credentials exist)
    #[arg(long, conflicts_with = "no_aws")]
    pub aws: bool,
    #[arg(long)]
    pub no_aws: bool,
    /// The ALB to read, by name or ARN
    #[arg(long, value_name = "NAME|ARN")]
    pub alb: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    /// When the culprit has a known fix, print its plan (apply only with --yes)
    #[arg(long)]
    pub fix: bool,
    /// With --fix: apply the plan
    #[arg(long, requires = "fix")]
    pub yes: bool,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<u8> {
    let mut config = config(&args)?;
    output::add_secrets(secrets(&config.probe));
    let found = discover(&args, &mut config).await?;
    let spinners = Spinners::for_stderr();
    super::signals::set_walking(true);
    let mut report = walk::check_with_progress(&config, &|p| spinners.on(p)).await;
    super::signals::set_walking(false);
    spinners.clear();
    report.warnings.extend(found.warnings.iter().cloned());
    // From here on the diagnosis exists: an error still prints it, with the error beside it.
    let mut out = Vec::new();
    let failed = finish(&found, &mut report, &args, &mut out).await.err();
    let error = failed.as_ref().map(|e| {
        let message = super::one_line(e);
        (super::error_info(e, &message), message)
    });
    let mut doc = Vec::new();
    render(
        &report,
        args.format,
        output::stdout_color(),
        error.as_ref().map(|(i, _)| i),
        &mut doc,
    )?;
    doc.extend_from_slice(&out);
    output::stdout(&doc, output::Doc::of(args.format))?;
    if let Some((_, message)) = &error {
        output::error_line(message);
        return Ok(wspath::exit::COULD_NOT_RUN);
    }
    Ok(report.exit_code())
}

/// What follows the walk: the findings discovery attached, and `--fix`'s plan (into `out`,
/// printed after the report).
async fn finish(
    found: &super::discover::Discovered,
    report: &mut Report,
    args: &CheckArgs,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    for a in &found.attachments {
        if report.hop(&a.hop).is_some() || !report.incomplete {
            report.attach(&a.hop, a.findings.clone(), a.facts.clone())?;
        }
    }
    if args.fix && !report.incomplete {
        fix_offer(found, report, args, out).await?;
    }
    Ok(())
}

/// `--fix`: the plan for the culprit (applied with `--yes`), after a human report; beside a
/// JSON or XML document it goes to stderr so stdout stays one document.
async fn fix_offer(
    found: &super::discover::Discovered,
    report: &Report,
    args: &CheckArgs,
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    let mut plan = match &found.cloudflare {
        Some(cf) => cf.culprit_plan(report, args.yes).await?,
        None => None,
    };
    if plan.is_none() {
        plan = nginx_plan(found, report, args)?;
    }
    let plan = plan.unwrap_or_else(|| manual_fix(report));
    if args.format == Format::Human {
        writeln!(out)?;
        report::fix::render_human(&plan, !args.yes, out)?;
    } else {
        let mut text = Vec::new();
        report::fix::render_human(&plan, !args.yes, &mut text)?;
        output::stderr(&String::from_utf8_lossy(&text));
    }
    Ok(())
}

/// No automatic fix for this culprit (Apache, Varnish, Caddy, … or no --cloudflare /
/// --nginx-conf): the diagnosis above stands, and the fix is said as one to make by hand.
fn manual_fix(report: &Report) -> wspath::Plan {
    let notes = match &report.culprit {
        None => vec!["--fix: no culprit, nothing to fix.".into()],
        Some(c) => {
            let software = report
                .hops
                .iter()
                .find(|h| h.name == c.hop)
                .and_then(|h| h.software.as_ref())
                .map(|s| format!(" ({})", s.name.name()))
                .unwrap_or_default();
            vec![
                format!(
                    "--fix: no automatic fix for {}{software}: wspath changes only Cloudflare's websockets setting (--cloudflare) and nginx files (--nginx-conf). Fix it by hand:",
                    c.hop
                ),
                format!("  {}", c.fix.as_deref().unwrap_or(&c.summary)),
            ]
        }
    };
    wspath::Plan {
        notes,
        ..wspath::Plan::default()
    }
}

/// The nginx edits for the location serving the target, when the culprit is the hop that
/// `--nginx-conf` describes.
fn nginx_plan(
    found: &super::discover::Discovered,
    report: &Report,
    args: &CheckArgs,
) -> anyhow::Result<Option<wspath::Plan>> {
    let (Some(conf), Some(hop), Some(culprit)) =
        (&args.nginx_conf, &found.nginx_hop, &report.culprit)
    else {
        return Ok(None);
    };
    if culprit.hop != hop.name {
        return Ok(None);
    }
    let target = Target::parse(&args.target)?;
    let idle = match &args.idle {
        Some(s) => Some(duration("--idle", s)?),
        None => None,
    };
    let mut plan = super::fix::nginx::plan_for(&super::fix::nginx::NginxFix {
        file: conf,
        prefix: None,
        nginx_version: None,
        host: Some(target.host.clone()),
        path: Some(hop.path.split(['?', '#']).next().unwrap_or("/").to_string()),
        idle,
        apply: args.yes,
        write: Default::default(),
    })?;
    if plan.changes.iter().any(|c| c.applied) {
        plan.notes
            .push("reload nginx (`nginx -s reload`) for the change to take effect".into());
    }
    Ok(Some(plan))
}

/// The flags, validated and translated into the engine's config.
pub fn config(args: &CheckArgs) -> Result<CheckConfig, Error> {
    let target = Target::parse(&args.target)?;
    let mut hops: Vec<Hop> = Vec::with_capacity(args.hops.len().max(1));
    for spec in &args.hops {
        let hop = HopSpec::parse(spec)?.resolve(&target);
        if hops.iter().any(|h| h.name == hop.name) {
            return Err(Error::InvalidHop {
                input: spec.clone(),
                reason: format!("hop name '{}' is used twice", hop.name),
            });
        }
        hops.push(hop);
    }
    if hops.is_empty() {
        hops.push(Hop::direct(&target));
    }
    let mut probe = ProbeOptions::new(&target);
    probe.timeout = duration("--timeout", &args.timeout)?;
    probe.idle = args
        .idle
        .as_deref()
        .map(|d| duration("--idle", d))
        .transpose()?;
    probe.insecure = args.insecure;
    if let Some(path) = &args.cacert {
        probe.cacert = Some(path.clone());
        // A bad file is exit 2 before any probing, even with -k (which ignores it); read
        // without the system's roots, which only a wss hop needs.
        wspath::probe::tls::check_cacert(path)?;
    }
    if args.no_origin {
        probe.origin = None;
    } else if let Some(origin) = &args.origin {
        values::origin("--origin", origin)?;
        probe.origin = Some(origin.clone());
    }
    for p in &args.protocols {
        values::protocol("--protocol", p)?;
    }
    probe.protocols = args.protocols.clone();
    probe.headers = args
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<Result<_, _>>()?;
    probe.ping = !args.no_ping;
    probe.http2 = !args.http1_only;
    probe.echo = args.echo.clone();
    // `all`: the plain request is the main probe (with echo and idle), the browsers' its variants.
    let compare = if args.as_browser == "all" {
        Browser::ALL.to_vec()
    } else {
        probe.browser = args
            .as_browser
            .parse()
            .map_err(|reason| Error::InvalidFlag {
                flag: "--as",
                input: args.as_browser.clone(),
                reason,
            })?;
        Vec::new()
    };
    Ok(CheckConfig {
        target,
        hops,
        probe,
        compare,
    })
}

/// `10s`, `500ms`, `1m 30s`; the same rules as the audit file's durations.
fn duration(flag: &'static str, input: &str) -> Result<Duration, Error> {
    values::duration(flag, input)
}

/// `Name: value`, validated as the audit file's headers are.
fn header(input: &str) -> Result<(String, String), Error> {
    values::header(input)
}

/// The report in `format`; with `error`, the error that stopped the run after the walk (a JSON
/// document carries it, JUnit adds an error testcase, SARIF a tool execution notification; the
/// human report is followed by the error line on stderr).
fn render(
    report: &Report,
    format: Format,
    color: bool,
    error: Option<&report::error::ErrorInfo>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match (format, error) {
        (Format::Human, _) => report::human::render(report, color, out),
        (Format::Json, e) => report::json::render_with_error(report, e, out),
        (Format::Junit, None) => report::junit::render(report, out),
        (Format::Sarif, None) => report::sarif::render_check(report, out),
        (Format::Junit, Some(e)) => report::error::render_junit("wspath check", e, out),
        (Format::Sarif, Some(e)) => report::error::render_sarif(e, out),
    }
}

/// The values in `secrets` masked, and the redaction policy's shapes (the `serve` debug page).
pub(super) fn scrub(text: &str, secrets: &[String]) -> String {
    output::add_secrets(secrets.iter().cloned());
    output::scrub(text)
}

/// Every secret value this run's flags carry: credential headers given with -H (whole, and the
/// credential after its scheme) and token-carrying subprotocols. The output edge masks them
/// wherever they turn up (a server that echoes the request, a log line).
pub(super) fn secrets(probe: &ProbeOptions) -> Vec<String> {
    let mut headers: Vec<(String, String)> = probe
        .headers
        .iter()
        .filter(|(n, _)| redact::is_secret_name(n))
        .cloned()
        .collect();
    headers.push(("Sec-WebSocket-Protocol".into(), probe.protocols.join(", ")));
    let mut values: Vec<String> = wspath::probe::redact::secret_values(&headers)
        .into_iter()
        .map(str::to_string)
        .collect();
    values.extend(
        probe
            .headers
            .iter()
            .filter(|(n, _)| redact::is_secret_name(n))
            .map(|(_, v)| v.clone()),
    );
    values
}

#[cfg(test)]
mod tests {
    use super::super::{Cli, Command};
    use super::*;
    use clap::Parser;
    use wspath::{HopKind, Scheme};

    fn args(argv: &[&str]) -> CheckArgs {
        let mut full = vec!["wspath", "check"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Check(a) => a,
            _ => unreachable!(),
        }
    }

    fn err(argv: &[&str]) -> String {
        config(&args(argv)).unwrap_err().to_string()
    }

    #[test]
    fn no_hop_means_the_target_itself() {
        let c = config(&args(&["example.com/ws"])).unwrap();
        assert_eq!(c.target.scheme, Scheme::Wss);
        assert_eq!(c.hops, vec![Hop::direct(&c.target)]);
        assert_eq!(c.probe.timeout, Duration::from_secs(10));
        assert_eq!(c.probe.origin.as_deref(), Some("https://example.com"));
        assert!(c.probe.ping);
        assert_eq!(c.probe.idle, None);
    }

    #[test]
    fn hops_and_options_translate() {
        let c = config(&args(&[
            "wss://example.com/ws/chat",
            "--hop",
            "edge",
            "--hop",
            "lb=203.0.113.10:443",
            "--hop",
            "nginx=ws://10.0.1.5:80",
            "--hop",
            "backend=ws://10.0.2.10:8080/chat",
            "--timeout",
            "500ms",
            "--idle",
            "75s",
            "-H",
            "X-Trace:  abc ",
            "--protocol",
            "chat.v2",
            "--origin",
            "https://app.example.com",
            "--no-ping",
            "--echo",
            "hi",
            "-k",
        ]))
        .unwrap();
        let names: Vec<(&str, HopKind)> =
            c.hops.iter().map(|h| (h.name.as_str(), h.kind)).collect();
        assert_eq!(
            names,
            vec![
                ("edge", HopKind::Cdn),
                ("lb", HopKind::Lb),
                ("nginx", HopKind::Proxy),
                ("backend", HopKind::Backend)
            ]
        );
        assert_eq!(c.hops[3].path, "/chat");
        assert_eq!(c.hops[2].scheme, Scheme::Ws);
        assert_eq!(c.probe.timeout, Duration::from_millis(500));
        assert_eq!(c.probe.idle, Some(Duration::from_secs(75)));
        assert_eq!(
            c.probe.headers,
            vec![("X-Trace".to_string(), "abc".to_string())]
        );
        assert_eq!(c.probe.protocols, vec!["chat.v2".to_string()]);
        assert_eq!(c.probe.origin.as_deref(), Some("https://app.example.com"));
        assert!(!c.probe.ping && c.probe.insecure);
        assert_eq!(c.probe.echo.as_deref(), Some("hi"));
    }

    #[test]
    fn no_origin_sends_none() {
        let c = config(&args(&["ws://h/", "--no-origin"])).unwrap();
        assert_eq!(c.probe.origin, None);
    }

    #[test]
    fn bad_target_names_the_url() {
        let e = err(&["http://example.com/ws"]);
        assert!(
            e.starts_with("invalid target URL 'http://example.com/ws'"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[test]
    fn bad_hop_names_the_spec() {
        let e = err(&["ws://h/", "--hop", "nginx=10.0.0.1:99999"]);
        assert!(e.starts_with("invalid --hop 'nginx=10.0.0.1:99999'"), "{e}");
        let e = err(&["ws://h/", "--hop", "a=1.2.3.4:80", "--hop", "a=1.2.3.5:80"]);
        assert_eq!(
            e,
            "invalid --hop 'a=1.2.3.5:80': hop name 'a' is used twice"
        );
    }

    #[test]
    fn bad_durations_name_the_flag() {
        let e = err(&["ws://h/", "--timeout", "ten"]);
        assert!(e.starts_with("invalid --timeout 'ten': "), "{e}");
        let e = err(&["ws://h/", "--idle", "0s"]);
        assert_eq!(e, "invalid --idle '0s': must be longer than 0");
    }

    #[test]
    fn bad_headers_name_the_header() {
        let e = err(&["ws://h/", "-H", "NoColon"]);
        assert_eq!(e, "invalid header 'NoColon': expected 'Name: value'");
        let e = err(&["ws://h/", "-H", "Bad Name: x"]);
        assert!(
            e.starts_with("invalid header 'Bad Name: x': header name"),
            "{e}"
        );
        let e = err(&["ws://h/", "-H", "X-A: b\r\nInjected: yes"]);
        assert!(e.ends_with("the value contains CR or LF"), "{e}");
        let e = err(&["ws://h/", "-H", ": x"]);
        assert!(e.ends_with("empty header name"), "{e}");
    }

    #[test]
    fn bad_credential_header_does_not_echo_the_secret() {
        let e = err(&["ws://h/", "-H", "Authorization: Bearer sekrit\u{7}"]);
        assert_eq!(
            e,
            "invalid header 'Authorization: <redacted>': the value contains a control character"
        );
    }

    #[test]
    fn bad_protocol_and_origin() {
        let e = err(&["ws://h/", "--protocol", "a b"]);
        assert!(e.starts_with("invalid --protocol 'a b'"), "{e}");
        let e = err(&["ws://h/", "--origin", "x\ny"]);
        assert!(e.starts_with("invalid --origin"), "{e}");
    }

    #[test]
    fn cacert_checked_before_probing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = err(&["ws://h/", "--cacert", missing.to_str().unwrap()]);
        assert!(
            e.starts_with(&format!("invalid --cacert '{}'", missing.display())),
            "{e}"
        );

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = err(&["ws://h/", "--cacert", junk.to_str().unwrap()]);
        assert!(
            e.ends_with("no PEM certificate (-----BEGIN CERTIFICATE-----) in it"),
            "{e}"
        );

        let good = dir.path().join("ca.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::write(&good, cert.cert.pem()).unwrap();
        let c = config(&args(&["ws://h/", "--cacert", good.to_str().unwrap()])).unwrap();
        assert_eq!(c.probe.cacert.as_deref(), Some(good.as_path()));
    }

    #[test]
    fn secrets_from_flags() {
        let mut probe = ProbeOptions::new(&Target::parse("ws://h/").unwrap());
        probe.headers = vec![
            ("Authorization".into(), "Bearer tok-123456".into()),
            ("X-Trace".into(), "visible-123".into()),
        ];
        probe.protocols = vec!["base64url.bearer.authorization.k8s.io.k8stok".into()];
        let s = secrets(&probe);
        assert!(s.contains(&"Bearer tok-123456".to_string()));
        assert!(s.contains(&"tok-123456".to_string()));
        assert!(s.contains(&"k8stok".to_string()));
        assert!(!s.contains(&"visible-123".to_string()));
    }

    #[test]
    fn render_dispatches_every_format() {
        let target = Target::parse("ws://h/").unwrap();
        let report = Report::new(&target, Vec::new());
        for (format, start) in [
            (Format::Human, "ws://h/"),
            (Format::Json, "{"),
            (Format::Junit, "<?xml"),
            (Format::Sarif, "{"),
        ] {
            let mut out = Vec::new();
            render(&report, format, false, None, &mut out).unwrap();
            assert!(String::from_utf8(out).unwrap().starts_with(start));
        }
    }
}

//! `wspath check --nginx-conf FILE`: the nginx model's part of a live check. It lints the location
//! that serves the target (by Host and the path used at the nginx hop), returns findings and
//! facts for the nginx hop, and, when no backend hop was given, derives one from `proxy_pass` /
//! the `upstream` so the walk can tell nginx's fault from the backend's.

use super::lint::{lint_servers, LintOptions};
use super::model::Model;
use super::version;
use crate::finding::{Fact, Finding};
use crate::hop::{Hop, HopKind};
use crate::target::Scheme;
use crate::walk::CheckConfig;
use std::path::Path;
use std::time::Duration;

/// What the nginx model adds to a check: attach `findings`/`facts` to hop `hop` after the walk.
#[derive(Debug, Clone, PartialEq)]
pub struct NginxAttachment {
    pub hop: String,
    pub findings: Vec<Finding>,
    pub facts: Vec<Fact>,
    /// The backend hop derived from proxy_pass and appended to the config, if one was.
    pub derived_backend: Option<String>,
}

fn fact(name: &str, value: impl Into<String>) -> Fact {
    Fact {
        source: "nginx".into(),
        name: name.into(),
        value: value.into(),
    }
}

/// The nginx hop: the first of kind proxy, else the innermost hop that is not a backend.
fn nginx_hop(hops: &[Hop]) -> Option<usize> {
    hops.iter()
        .position(|h| h.kind == HopKind::Proxy)
        .or_else(|| hops.iter().rposition(|h| h.kind != HopKind::Backend))
}

/// Read `conf` (nginx `-p prefix`), lint the location serving the target, and derive the backend
/// hop when `config` has none. Before the walk; the result is attached after it.
pub fn prepare(
    conf: &Path,
    prefix: Option<&Path>,
    nginx_version: Option<&str>,
    config: &mut CheckConfig,
) -> Result<NginxAttachment, crate::Error> {
    let main = super::main_file(conf, prefix);
    let parsed = super::load(&main)?;
    let assumed = version::resolve(nginx_version)?;
    let model = Model::build(&parsed, assumed.version)?;
    let Some(i) = nginx_hop(&config.hops) else {
        return Err(crate::Error::InvalidFlag {
            flag: "--nginx-conf",
            input: conf.display().to_string(),
            reason: "no hop to attach it to: add --hop nginx=HOST:PORT".into(),
        });
    };
    let hop = config.hops[i].clone();
    let path = hop.path.split(['?', '#']).next().unwrap_or("/").to_string();
    let opts = LintOptions {
        path: Some(path.clone()),
        host: Some(config.target.host.clone()),
        idle: config.probe.idle.unwrap_or(Duration::from_secs(60)),
    };
    // nginx picks the server by the address the connection came to, then by Host: the hop's
    // port (and TLS or not) first, so a `return 301` server sharing the name on port 80 is not
    // taken for the TLS server that proxies.
    let port = hop.connect.as_ref().map_or(config.target.port, |c| c.1);
    let tls = hop.scheme == Scheme::Wss;
    let servers = model
        .server_for_listen(Some(&config.target.host), Some(port), Some(tls))
        .into_iter()
        .collect();
    let report = lint_servers(&model, assumed.clone(), &opts, servers, Some(port));
    let mut facts = vec![fact("nginx_version", report.version.to_string())];
    let mut derived_backend = None;
    if let Some(scope) = report.scopes.first() {
        facts.push(fact(
            "location",
            format!("{} ({})", scope.name, scope.location),
        ));
        if let Some(pp) = model.proxy_pass(scope.scope) {
            let url = pp.arg(0).unwrap_or_default().to_string();
            facts.push(fact("proxy_pass", url.clone()));
            let ((major, minor), _) = model.http_version(scope.scope);
            facts.push(fact("proxy_http_version", format!("{major}.{minor}")));
            let headers = model.headers(scope.scope);
            for h in ["Upgrade", "Connection"] {
                let value = headers
                    .get(h)
                    .map(|d| d.arg(1).unwrap_or_default().to_string())
                    .unwrap_or_else(|| "(not set)".into());
                facts.push(fact(&format!("proxy_set_header {h}"), value));
            }
            let (t, _) = model.timeout(scope.scope, "proxy_read_timeout");
            facts.push(fact(
                "proxy_read_timeout",
                humantime::format_duration(t).to_string(),
            ));
            let has_backend = config.hops.iter().any(|h| h.kind == HopKind::Backend);
            if !has_backend {
                // The scope may be an `if` inside the location: the prefix is the location's.
                let location = model
                    .levels(scope.scope)
                    .find(|&l| model.name(l) == "location")
                    .unwrap_or(scope.scope);
                if let Some(b) =
                    backend_hop(&model, &url, &path, model.location_pattern(location).1)
                {
                    facts.push(fact(
                        "derived_backend",
                        format!(
                            "{}:{}",
                            b.connect.as_ref().map_or("", |c| c.0.as_str()),
                            b.connect.as_ref().map_or(0, |c| c.1)
                        ),
                    ));
                    derived_backend = Some(b.name.clone());
                    config.hops.push(b);
                }
            }
        }
    }
    Ok(NginxAttachment {
        hop: hop.name,
        findings: report.findings(),
        facts,
        derived_backend,
    })
}

/// The backend a `proxy_pass` URL reaches: its host:port, or the first TCP server of the
/// upstream it names; the path as nginx rewrites it (a URI in proxy_pass replaces the matched
/// prefix). `None` for variables and unix sockets.
fn backend_hop(model: &Model<'_>, url: &str, path: &str, location_prefix: &str) -> Option<Hop> {
    if url.contains('$') {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "http" => Scheme::Ws,
        "https" => Scheme::Wss,
        _ => return None,
    };
    let (authority, uri) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let default_port = if scheme == Scheme::Wss { 443 } else { 80 };
    let addr = match model.upstream(authority) {
        Some(u) => {
            let server = model
                .own(u, "server")
                .iter()
                .filter_map(|&s| model.node(s).d.arg(0))
                .find(|a| !a.starts_with("unix:"))?
                .to_string();
            server
        }
        None => authority.to_string(),
    };
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
            (h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)
        }
        _ => (addr.trim_matches(['[', ']']).to_string(), default_port),
    };
    let sent_path = match uri {
        Some(u) => match path.strip_prefix(location_prefix) {
            Some(rest) if !location_prefix.is_empty() => format!("{u}{rest}"),
            _ => u.to_string(),
        },
        None => path.to_string(),
    };
    Some(Hop {
        name: "backend".into(),
        kind: HopKind::Backend,
        connect: Some((host, port)),
        scheme,
        path: sent_path,
        scheme_inherited: false,
    })
}

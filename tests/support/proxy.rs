//! One starter for every reverse proxy the tests run (nginx, HAProxy, Apache httpd, lighttpd,
//! Varnish, Squid, Caddy, h2o, tinyproxy): a config written into a temp dir, the server run in
//! the foreground on a free 127.0.0.1 port, ready when the port accepts, stopped on Drop.
//!
//! [`Setup`] says how the proxy is configured in front of its inner hop — healthy, or broken the
//! way its users break it (the documented WebSocket setting missing, Host not preserved, an idle
//! timeout, TLS toward the inner hop) — and [`Kind::config`] writes that in the software's own
//! configuration language. Tests that need something else pass a whole config to
//! [`Proxy::start`].

use super::nginx::{find_in_path, CONNECTION_UPGRADE_MAP, UPGRADE_DIRECTIVES};
use super::process::{start_server, ServerProcess, Started};
use super::tls::SelfSigned;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The proxy software a test can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Haproxy,
    Apache,
    Lighttpd,
    Varnish,
    Squid,
    Caddy,
    H2o,
    Tinyproxy,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Nginx,
        Kind::Haproxy,
        Kind::Apache,
        Kind::Lighttpd,
        Kind::Varnish,
        Kind::Squid,
        Kind::Caddy,
        Kind::H2o,
        Kind::Tinyproxy,
    ];

    /// A lowercase name for temp dirs and messages (also the name wspath identifies it by).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Haproxy => "haproxy",
            Kind::Apache => "apache",
            Kind::Lighttpd => "lighttpd",
            Kind::Varnish => "varnish",
            Kind::Squid => "squid",
            Kind::Caddy => "caddy",
            Kind::H2o => "h2o",
            Kind::Tinyproxy => "tinyproxy",
        }
    }

    fn binary(self) -> PathBuf {
        let (name, fallback) = match self {
            Kind::Nginx => return super::nginx::binary(),
            Kind::Haproxy => return super::haproxy::binary(),
            Kind::Apache => ("apache2", "/usr/sbin/apache2"),
            Kind::Lighttpd => ("lighttpd", "/usr/sbin/lighttpd"),
            Kind::Varnish => ("varnishd", "/usr/sbin/varnishd"),
            Kind::Squid => ("squid", "/usr/sbin/squid"),
            Kind::Caddy => ("caddy", "/usr/bin/caddy"),
            Kind::H2o => ("h2o", "/usr/bin/h2o"),
            Kind::Tinyproxy => ("tinyproxy", "/usr/bin/tinyproxy"),
        };
        find_in_path(name).unwrap_or_else(|| PathBuf::from(fallback))
    }

    fn config_file(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx.conf",
            Kind::Haproxy => "haproxy.cfg",
            Kind::Apache => "httpd.conf",
            Kind::Lighttpd => "lighttpd.conf",
            Kind::Varnish => "default.vcl",
            Kind::Squid => "squid.conf",
            Kind::Caddy => "Caddyfile",
            Kind::H2o => "h2o.conf",
            Kind::Tinyproxy => "tinyproxy.conf",
        }
    }

    /// The foreground command line for `conf` in `dir`, listening on `port`.
    fn command(self, dir: &Path, conf: &Path, port: u16, extra: &[String]) -> Command {
        let mut cmd = match self {
            Kind::Nginx => super::nginx::command(dir, conf),
            _ => Command::new(self.binary()),
        };
        match self {
            Kind::Nginx => {}
            Kind::Haproxy => {
                cmd.arg("-db").arg("-f").arg(conf);
            }
            Kind::Apache => {
                cmd.arg("-f").arg(conf).arg("-DFOREGROUND");
            }
            Kind::Lighttpd => {
                cmd.arg("-D").arg("-f").arg(conf);
            }
            Kind::Varnish => {
                cmd.arg("-F")
                    .arg("-a")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("-f")
                    .arg(conf)
                    .arg("-n")
                    .arg(dir.join("varnish"))
                    .arg("-T")
                    .arg("none");
            }
            Kind::Squid => {
                cmd.arg("-N").arg("-f").arg(conf);
            }
            Kind::Caddy => {
                cmd.arg("run")
                    .arg("--config")
                    .arg(conf)
                    .arg("--adapter")
                    .arg("caddyfile")
                    .env("HOME", dir)
                    .env("XDG_DATA_HOME", dir.join("data"))
                    .env("XDG_CONFIG_HOME", dir.join("config"));
            }
            Kind::H2o => {
                cmd.arg("-c").arg(conf);
            }
            Kind::Tinyproxy => {
                cmd.arg("-d").arg("-c").arg(conf);
            }
        }
        cmd.args(extra);
        cmd
    }

    /// Extra command-line arguments a setup needs (Varnish takes its timeouts as parameters).
    fn args(self, setup: &Setup) -> Vec<String> {
        match (self, setup.idle_timeout) {
            (Kind::Varnish, Some(secs)) => vec!["-p".into(), format!("pipe_timeout={secs}")],
            _ => Vec::new(),
        }
    }

    /// The config file that puts this software on 127.0.0.1:`port` in front of `inner`
    /// (`host:port`) as `setup` says, in the software's own configuration language.
    ///
    /// Fails for a setup the software cannot express (TLS toward the inner hop on Varnish,
    /// lighttpd or tinyproxy; TLS on the listening port or front directives beyond nginx,
    /// HAProxy and Apache).
    pub fn config(self, dir: &Path, port: u16, inner: &str, setup: &Setup) -> io::Result<String> {
        let d = dir.display();
        let root = is_root(dir);
        let (inner_host, inner_port) = inner.rsplit_once(':').unwrap_or((inner, "80"));
        let scheme = if setup.upstream_tls { "https" } else { "http" };
        let unsupported = |what: &str| {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{} cannot {what} in tests", self.name()),
            ))
        };
        let on = |b: bool, text: &str| if b { text.to_string() } else { String::new() };
        let listens_tls = setup.listen_tls.is_some();
        if listens_tls && !matches!(self, Kind::Nginx | Kind::Haproxy | Kind::Apache) {
            return unsupported("serve TLS");
        }
        if !setup.front_directives.is_empty() && !matches!(self, Kind::Nginx | Kind::Haproxy) {
            return unsupported("take front directives");
        }
        if setup.named_only && self != Kind::Nginx {
            return unsupported("serve app.test only");
        }
        // Where each kind's test-given lines go, indented to sit in their block.
        let lines = |indent: &str| setup.directives.join(&format!("\n{indent}"));
        Ok(match self {
            Kind::Nginx => {
                let idle = setup
                    .idle_timeout
                    .map(|s| format!("proxy_read_timeout {s}s;"))
                    .unwrap_or_default();
                let (listen, tls) = match &setup.listen_tls {
                    Some(t) => (
                        if t.http2 { "ssl http2" } else { "ssl" },
                        format!(
                            "ssl_certificate {};\n    ssl_certificate_key {};",
                            t.cert.display(),
                            t.key.display()
                        ),
                    ),
                    None => ("", String::new()),
                };
                // A default server in front of app.test's, as name-based hosting has.
                let default_server = match (setup.named_only, listens_tls) {
                    (false, _) => String::new(),
                    (true, false) => format!(
                        "server {{ listen 127.0.0.1:{port} default_server; return 404; }}\n"
                    ),
                    (true, true) => format!(
                        "server {{ listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }}\n"
                    ),
                };
                let server = super::nginx::server_block(
                    port,
                    listen,
                    &format!(
                        "{tls}
    {front}
    location / {{
        proxy_pass {scheme}://{inner};
        {ws}
        {host}
        {idle}
        {directives}
    }}",
                        front = setup.front_directives.join("\n    "),
                        ws = on(setup.websocket, UPGRADE_DIRECTIVES),
                        host = on(setup.preserve_host, "proxy_set_header Host $host;"),
                        directives = lines("        "),
                    ),
                );
                super::nginx::main_config(
                    dir,
                    &format!("{CONNECTION_UPGRADE_MAP}{default_server}{server}"),
                )
            }
            Kind::Haproxy => {
                let tunnel = setup.idle_timeout.map_or("1h".into(), |s| format!("{s}s"));
                let bind_tls = match &setup.listen_tls {
                    Some(t) => format!(
                        " ssl crt {}{}",
                        t.combined.display(),
                        on(t.http2, " alpn h2,http/1.1")
                    ),
                    None => String::new(),
                };
                format!(
                    "{global}
defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel {tunnel}

frontend fe
    bind 127.0.0.1:{port}{bind_tls}
    {strip}
    {front}
    default_backend be

backend be
    {host}
    {directives}
    server s1 {inner}{ssl}
",
                    global = super::haproxy::GLOBAL,
                    // HAProxy forwards upgrades by default; its users break them with a rule.
                    strip = on(!setup.websocket, "http-request del-header Upgrade"),
                    front = setup.front_directives.join("\n    "),
                    host = on(
                        !setup.preserve_host,
                        &format!("http-request set-header Host {inner}")
                    ),
                    directives = lines("    "),
                    ssl = on(setup.upstream_tls, " ssl verify none"),
                )
            }
            Kind::Apache => {
                let m = "/usr/lib/apache2/modules";
                let modules = [
                    "mpm_event",
                    "authz_core",
                    "proxy",
                    "proxy_http",
                    "proxy_wstunnel",
                    "headers",
                    "rewrite",
                ];
                let mut conf = format!(
                    "ServerRoot {d}
PidFile {d}/httpd.pid
DefaultRuntimeDir {d}
Mutex file:{d} default
ErrorLog {d}/error.log
LogLevel warn
Listen 127.0.0.1:{port}
ServerName app.test
"
                );
                if root {
                    // As root, children would run as uid -1 and log an alert on every start.
                    conf.push_str("User daemon\nGroup daemon\n");
                }
                for name in modules {
                    conf.push_str(&format!("LoadModule {name}_module {m}/mod_{name}.so\n"));
                }
                if setup.upstream_tls || listens_tls {
                    conf.push_str(&format!(
                        "LoadModule socache_shmcb_module {m}/mod_socache_shmcb.so
LoadModule ssl_module {m}/mod_ssl.so
"
                    ));
                }
                if let Some(t) = &setup.listen_tls {
                    conf.push_str(&format!(
                        "SSLEngine on
SSLCertificateFile {}
SSLCertificateKeyFile {}
",
                        t.cert.display(),
                        t.key.display()
                    ));
                    if t.http2 {
                        conf.push_str(&format!(
                            "LoadModule http2_module {m}/mod_http2.so
Protocols h2 http/1.1
H2WebSockets on
"
                        ));
                    }
                }
                if setup.upstream_tls {
                    conf.push_str(
                        "SSLProxyEngine On
SSLProxyVerify none
SSLProxyCheckPeerName off
SSLProxyCheckPeerCN off
SSLProxyCheckPeerExpire off
",
                    );
                }
                conf.push_str(&on(setup.preserve_host, "ProxyPreserveHost On\n"));
                if let Some(s) = setup.idle_timeout {
                    // A tunnel's idle limit is the larger of the two (proxy_util.c).
                    conf.push_str(&format!("Timeout {s}\nProxyTimeout {s}\n"));
                }
                for line in &setup.directives {
                    conf.push_str(&format!("{line}\n"));
                }
                conf.push_str(&format!(
                    "ProxyPass / {scheme}://{inner}/{ws}\n",
                    ws = on(setup.websocket, " upgrade=websocket")
                ));
                conf
            }
            Kind::Lighttpd => {
                if setup.upstream_tls {
                    return unsupported("speak TLS to its upstream");
                }
                let mut header = Vec::new();
                if setup.websocket {
                    header.push("\"upgrade\" => \"enable\"".to_string());
                }
                if !setup.preserve_host {
                    header.push(format!("\"map-host-request\" => (\"-\" => \"{inner}\")"));
                }
                format!(
                    "server.document-root = \"{d}\"
server.bind = \"127.0.0.1\"
server.port = {port}
server.pid-file = \"{d}/lighttpd.pid\"
server.errorlog = \"{d}/error.log\"
server.modules = (\"mod_proxy\")
{idle}
proxy.server = (\"\" => ((\"host\" => \"{inner_host}\", \"port\" => {inner_port})))
proxy.header = ({header})
{directives}
",
                    idle = setup
                        .idle_timeout
                        .map(|s| format!("server.max-read-idle = {s}"))
                        .unwrap_or_default(),
                    header = header.join(", "),
                    directives = lines(""),
                )
            }
            Kind::Varnish => {
                if setup.upstream_tls {
                    return unsupported("speak TLS to its backend");
                }
                if !setup.preserve_host {
                    return unsupported("rewrite Host");
                }
                format!(
                    "vcl 4.1;
backend default {{ .host = \"{inner_host}\"; .port = \"{inner_port}\"; }}
sub vcl_recv {{
    {recv}
}}
sub vcl_pipe {{
    {pipe}
}}
{directives}
",
                    recv = on(
                        setup.websocket,
                        "if (req.http.upgrade ~ \"(?i)websocket\") { return (pipe); }"
                    ),
                    pipe = on(
                        setup.websocket,
                        "if (req.http.upgrade) {
        set bereq.http.upgrade = req.http.upgrade;
        set bereq.http.connection = req.http.connection;
    }"
                    ),
                    directives = lines(""),
                )
            }
            Kind::Squid => {
                // Without `forceddomain` an accelerator passes the client's Host on (`vhost`).
                let (mode, forced) = if setup.preserve_host {
                    ("vhost defaultsite=app.test".to_string(), String::new())
                } else {
                    (
                        format!("defaultsite={inner}"),
                        format!(" forceddomain={inner_host}"),
                    )
                };
                format!(
                    "http_port 127.0.0.1:{port} accel {mode}
cache_peer {inner_host} parent {inner_port} 0 no-query no-digest originserver name=inner{forced}{tls}
http_access allow all
cache_peer_access inner allow all
{ws}
{idle}
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log
cache_store_log none
coredump_dir {d}
cache deny all
pinger_enable off
shutdown_lifetime 0 seconds
{directives}
",
                    tls = on(setup.upstream_tls, " tls tls-flags=DONT_VERIFY_PEER"),
                    // Protocol names are compared case-sensitively: browsers send `websocket`.
                    ws = on(
                        setup.websocket,
                        "http_upgrade_request_protocols websocket allow all"
                    ),
                    idle = setup
                        .idle_timeout
                        .map(|s| format!("read_timeout {s} seconds"))
                        .unwrap_or_default(),
                    directives = lines(""),
                )
            }
            Kind::Caddy => {
                if setup.idle_timeout.is_some() {
                    return unsupported("time out idle streams (Caddy 2.6 has no stream_timeout)");
                }
                let mut inside = Vec::new();
                if !setup.preserve_host {
                    inside.push("header_up Host {upstream_hostport}".to_string());
                }
                if !setup.websocket {
                    // Caddy carries upgrades by default; users break them with header rules.
                    inside.push("header_up -Upgrade".to_string());
                    inside.push("header_up -Connection".to_string());
                }
                if setup.upstream_tls {
                    inside.push(
                        "transport http {\n\t\t\ttls\n\t\t\ttls_insecure_skip_verify\n\t\t}".into(),
                    );
                }
                inside.extend(setup.directives.iter().cloned());
                format!(
                    "{{
\tadmin off
\tauto_https off
\tstorage file_system {d}/data
}}
http://:{port} {{
\tbind 127.0.0.1
\treverse_proxy {scheme}://{inner} {{
\t\t{inside}
\t}}
}}
",
                    inside = inside.join("\n\t\t"),
                )
            }
            Kind::H2o => {
                let onoff = |b: bool| if b { "ON" } else { "OFF" };
                let idle = setup
                    .idle_timeout
                    .map(|s| {
                        format!(
                            "proxy.timeout.io: {ms}\n        proxy.websocket.timeout: {ms}\n        ",
                            ms = s * 1000
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "listen:
  host: 127.0.0.1
  port: {port}
pid-file: {d}/h2o.pid
error-log: {d}/error.log
{user}hosts:
  default:
    paths:
      /:
        proxy.reverse.url: {scheme}://{inner}/
        proxy.websocket: {ws}
        proxy.preserve-host: {host}
        {idle}{tls}
        {directives}
",
                    // As root h2o would switch to `nobody`, which cannot write into the temp dir.
                    user = on(root, "user: root\n"),
                    ws = onoff(setup.websocket),
                    host = onoff(setup.preserve_host),
                    tls = on(setup.upstream_tls, "proxy.ssl.verify-peer: OFF"),
                    directives = lines("        "),
                )
            }
            Kind::Tinyproxy => {
                if setup.upstream_tls {
                    return unsupported("speak TLS to its upstream");
                }
                format!(
                    "Port {port}
Listen 127.0.0.1
Timeout {timeout}
PidFile \"{d}/tinyproxy.pid\"
LogLevel Info
MaxClients 50
ReversePath \"/\" \"http://{inner}/\"
ReverseOnly Yes
ReverseMagic No
{directives}
",
                    timeout = setup.idle_timeout.unwrap_or(600),
                    directives = lines(""),
                )
            }
        })
    }
}

/// How a proxy is set up in front of its inner hop. [`Setup::good`] carries WebSockets; each
/// field turned the other way is one way its users break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The software's documented WebSocket setting is there (nginx `proxy_set_header Upgrade`,
    /// Apache `upgrade=websocket`, lighttpd `proxy.header upgrade`, Varnish `return (pipe)`,
    /// Squid `http_upgrade_request_protocols`, h2o `proxy.websocket`); for HAProxy and Caddy,
    /// which carry upgrades by default, `false` adds a rule that deletes Upgrade.
    pub websocket: bool,
    /// The client's Host goes on to the inner hop (nginx `proxy_set_header Host $host`, Apache
    /// `ProxyPreserveHost On`, h2o `proxy.preserve-host`); `false` sends the inner address.
    pub preserve_host: bool,
    /// An idle timeout, in seconds, on the proxied connection (nginx `proxy_read_timeout`,
    /// HAProxy `timeout tunnel`, Apache `Timeout` and `ProxyTimeout` (the larger applies),
    /// Varnish `pipe_timeout`, Squid
    /// `read_timeout`, lighttpd `server.max-read-idle`, h2o `proxy.websocket.timeout`).
    pub idle_timeout: Option<u32>,
    /// The proxy speaks TLS to the inner hop.
    pub upstream_tls: bool,
    /// Lines in the software's own language added where it proxies: nginx's `location /`,
    /// HAProxy's `backend`, Caddy's `reverse_proxy` block, h2o's path, the top level of the
    /// others' configs.
    pub directives: Vec<String>,
    /// Lines added where the proxy accepts: nginx's `server`, HAProxy's `frontend` (the other
    /// kinds refuse them).
    pub front_directives: Vec<String>,
    /// TLS on the listening port (nginx, HAProxy and Apache).
    pub listen_tls: Option<ListenTls>,
    /// Serves only Host (with TLS: SNI) `app.test`, as name-based hosting does: nginx's
    /// default server answers other names 404 (with TLS: `ssl_reject_handshake on`).
    pub named_only: bool,
}

/// The certificate a proxy serves TLS with, and whether it offers HTTP/2 with RFC 8441
/// WebSockets beside HTTP/1.1 (nginx `listen … ssl http2` — h2 without RFC 8441 —, HAProxy
/// `alpn h2,http/1.1`, Apache mod_http2 with `H2WebSockets on`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Cert and key in one file (HAProxy `crt`).
    pub combined: PathBuf,
    pub http2: bool,
}

impl Setup {
    /// Carries WebSockets with the client's Host, no short timeout, plain HTTP inward.
    pub fn good() -> Setup {
        Setup {
            websocket: true,
            preserve_host: true,
            idle_timeout: None,
            upstream_tls: false,
            directives: Vec::new(),
            front_directives: Vec::new(),
            listen_tls: None,
            named_only: false,
        }
    }

    /// Without the software's WebSocket setting.
    pub fn no_websocket() -> Setup {
        Setup {
            websocket: false,
            ..Setup::good()
        }
    }

    /// With the software's default Host toward the inner hop (its address, not the client's).
    pub fn no_preserve_host() -> Setup {
        Setup {
            preserve_host: false,
            ..Setup::good()
        }
    }

    /// With an idle timeout of `secs`.
    pub fn idle(secs: u32) -> Setup {
        Setup {
            idle_timeout: Some(secs),
            ..Setup::good()
        }
    }

    /// Speaking TLS to the inner hop.
    pub fn tls_upstream() -> Setup {
        Setup {
            upstream_tls: true,
            ..Setup::good()
        }
    }

    /// With `line` added where the proxy proxies (see [`Setup::directives`]).
    pub fn directive(mut self, line: &str) -> Setup {
        self.directives.push(line.to_string());
        self
    }

    /// With `line` added where the proxy accepts (see [`Setup::front_directives`]).
    pub fn front_directive(mut self, line: &str) -> Setup {
        self.front_directives.push(line.to_string());
        self
    }

    /// Serving only the name `app.test` (see [`Setup::named_only`]).
    pub fn named_only(mut self) -> Setup {
        self.named_only = true;
        self
    }

    /// Serving TLS with `cert` on its port, HTTP/1.1 only.
    pub fn serving_tls(self, cert: &SelfSigned) -> Setup {
        self.listen_tls(cert, false)
    }

    /// Serving TLS with `cert` and offering HTTP/2 beside HTTP/1.1.
    pub fn serving_h2(self, cert: &SelfSigned) -> Setup {
        self.listen_tls(cert, true)
    }

    fn listen_tls(mut self, cert: &SelfSigned, http2: bool) -> Setup {
        self.listen_tls = Some(ListenTls {
            cert: cert.cert.clone(),
            key: cert.key.clone(),
            combined: cert.combined.clone(),
            http2,
        });
        self
    }
}

/// A running proxy of any [`Kind`]; stopped on Drop.
#[derive(Debug)]
pub struct Proxy {
    pub kind: Kind,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    pub dir: tempfile::TempDir,
    process: ServerProcess,
}

impl Proxy {
    /// Starts `kind` on a free port in front of `inner` (`host:port`), set up as `setup` says.
    pub fn in_front_of(kind: Kind, inner: &str, setup: &Setup) -> io::Result<Proxy> {
        let args = kind.args(setup);
        Proxy::start_args(kind, &args, |dir, port| {
            kind.config(dir, port, inner, setup)
        })
    }

    /// Starts `kind` with the whole config file `config(dir, port)`; it must listen on
    /// 127.0.0.1:`port` and keep pid and log files inside `dir`.
    pub fn start(kind: Kind, config: impl Fn(&Path, u16) -> String) -> io::Result<Proxy> {
        Proxy::start_args(kind, &[], |dir, port| Ok(config(dir, port)))
    }

    fn start_args(
        kind: Kind,
        args: &[String],
        config: impl Fn(&Path, u16) -> io::Result<String>,
    ) -> io::Result<Proxy> {
        let started = start_server(
            kind.name(),
            "output.log",
            // varnishd forks a child that serves the port: stop them as one process group.
            kind == Kind::Varnish,
            |dir, port| {
                if is_root(dir) && matches!(kind, Kind::Squid | Kind::Tinyproxy | Kind::Varnish) {
                    // These drop root for an unprivileged user that must write its pid and
                    // logs (Varnish: read its working dir) here.
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))?;
                }
                let conf = dir.join(kind.config_file());
                std::fs::write(&conf, config(dir, port)?)?;
                Ok(kind.command(dir, &conf, port, args))
            },
            |_, _| true,
        )?;
        let Started { process, port, dir } = started;
        Ok(Proxy {
            kind,
            port,
            dir,
            process,
        })
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// What the server wrote to stdout/stderr and its error log.
    pub fn log(&self) -> String {
        let mut out = std::fs::read_to_string(&self.process.log).unwrap_or_default();
        for f in ["error.log", "cache.log"] {
            out.push_str(&std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default());
        }
        out
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }
}

fn is_root(dir: &Path) -> bool {
    std::fs::metadata(dir)
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

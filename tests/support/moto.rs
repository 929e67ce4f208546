//! A real moto server (AWS emulator) per test: free port, ready when it answers HTTP, stopped by
//! pid on Drop, log in its temp dir. Scenarios are built through the AWS APIs by
//! `tests/support/alb_fixture.py` (boto3, setup only); what is tested is wspath's own code.

use super::backend::python;
use super::cli::{run, CliOutput};
use super::process::{start_server, ServerProcess, Started};
use super::repo_root;
use serde_json::Value;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;
use std::time::Duration;

/// Budget of one fixture-script run or one `wspath` run against moto.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Moto {
    // Dropped first: the server stops before its temp dir goes.
    server: ServerProcess,
    pub endpoint: String,
    dir: tempfile::TempDir,
}

/// True once something on `port` answers an HTTP request (listening is not yet serving).
fn answers_http(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 8];
    s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: moto\r\n\r\n")
        .is_ok()
        && s.read_exact(&mut head).is_ok()
        && head.starts_with(b"HTTP/1.")
}

impl Moto {
    /// Starts `python -m moto.server` (what `moto_server` runs) on a free 127.0.0.1 port.
    pub fn start() -> io::Result<Moto> {
        let started = start_server(
            "moto",
            "moto.log",
            false,
            |_, port| {
                let mut cmd = Command::new(python());
                cmd.args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ]);
                Ok(cmd)
            },
            // Listening is not yet serving.
            |_, port| answers_http(port),
        )?;
        let Started { process, port, dir } = started;
        Ok(Moto {
            server: process,
            endpoint: format!("http://127.0.0.1:{port}"),
            dir,
        })
    }

    fn fixture(&self, args: &[&str], spec: Option<&Value>) -> io::Result<Value> {
        let mut cmd = Command::new(python());
        cmd.arg(repo_root().join("tests/support/alb_fixture.py"))
            .arg(&self.endpoint)
            .args(args);
        if let Some(v) = spec {
            // The spec goes in through a file: `run` closes stdin.
            let path = self.dir.path().join("spec.json");
            std::fs::write(&path, v.to_string())?;
            cmd.env("ALB_FIXTURE_SPEC", &path);
        }
        let out = run(cmd, RUN_TIMEOUT)?;
        if out.code != Some(0) {
            return Err(io::Error::other(format!(
                "alb_fixture.py {args:?} failed: {}",
                out.describe()
            )));
        }
        serde_json::from_str(&out.stdout)
            .map_err(|e| io::Error::other(format!("alb_fixture.py printed no JSON ({e})")))
    }

    /// Builds the scenario `spec` (see alb_fixture.py) and returns its ARNs.
    pub fn build(&self, spec: Value) -> io::Result<Value> {
        self.fixture(&["build"], Some(&spec))
    }

    /// Rules, LB attributes and TG attributes as AWS reports them (for before/after).
    pub fn dump(&self, lb_arn: &str) -> io::Result<Value> {
        self.fixture(&["dump", lb_arn], None)
    }

    /// `wspath ARGS…` pointed at this moto with dummy credentials, cut off from the user's
    /// AWS configuration and from instance metadata.
    pub fn wspath(&self, args: &[&str]) -> io::Result<CliOutput> {
        self.wspath_as(args, "testing", "testing")
    }

    pub fn wspath_as(&self, args: &[&str], key_id: &str, secret: &str) -> io::Result<CliOutput> {
        self.wspath_env(args, key_id, secret, &[])
    }

    /// [`Moto::wspath_as`] with `env` set last (over this moto's endpoint, for one).
    pub fn wspath_env(
        &self,
        args: &[&str],
        key_id: &str,
        secret: &str,
        env: &[(&str, &str)],
    ) -> io::Result<CliOutput> {
        let mut cmd = Command::new(super::cli::wspath_bin());
        cmd.args(args)
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", key_id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("no-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied());
        run(cmd, RUN_TIMEOUT)
    }

    /// An ELBv2 client for the library API, built as a caller of the provider would.
    pub fn client(&self) -> wspath_providers::aws_alb::Client {
        use wspath_providers::aws_alb::sdk::config::{BehaviorVersion, Credentials, Region};
        let conf = wspath_providers::aws_alb::sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .http_client(wspath_providers::aws_alb::https_client())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .build();
        wspath_providers::aws_alb::Client::from_conf(conf)
    }
}

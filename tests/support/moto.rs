//! A real moto server (AWS emulator) per test: free port, readiness by polling, stopped by pid
//! on Drop, log in a temp dir. Scenarios are built through the AWS APIs by
//! `tests/support/alb_fixture.py` (boto3, setup only); wspath's own code is what is tested.

use serde_json::Value;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn python() -> PathBuf {
    match std::env::var_os("WSPATH_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    }
}

fn fixture_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/alb_fixture.py")
}

pub struct Moto {
    child: Child,
    pub endpoint: String,
    dir: tempfile::TempDir,
}

impl Moto {
    /// Starts moto on a free port and returns once it answers HTTP.
    pub fn start() -> Moto {
        let dir = tempfile::tempdir().expect("temp dir");
        // A port picked by the OS can be taken again before moto binds it: retry a few times.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let log = std::fs::File::create(dir.path().join("moto.log")).expect("log file");
            let mut child = Command::new(python())
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python().display()));
            if wait_ready(&mut child, SocketAddr::from(([127, 0, 0, 1], port))) {
                return Moto {
                    child,
                    endpoint: format!("http://127.0.0.1:{port}"),
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "moto did not start; see its log in {}",
            dir.path().display()
        );
    }
}

/// True once moto answers HTTP on `addr`; false if it exited or did not come up in time.
fn wait_ready(child: &mut Child, addr: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            // Listening is not yet serving: ask for a page and wait for the status line.
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            if s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: moto\r\n\r\n")
                .is_ok()
            {
                let mut buf = [0u8; 12];
                if std::io::Read::read_exact(&mut s, &mut buf).is_ok()
                    && buf.starts_with(b"HTTP/1.")
                {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Moto {
    fn run_fixture(&self, args: &[&str], stdin: Option<&Value>) -> Value {
        let mut child = Command::new(python())
            .arg(fixture_script())
            .arg(&self.endpoint)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fixture script");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(v) = stdin {
                input
                    .write_all(v.to_string().as_bytes())
                    .expect("write spec");
            }
        }
        let out = child.wait_with_output().expect("fixture output");
        assert!(
            out.status.success(),
            "fixture {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("fixture JSON")
    }

    /// Builds the scenario `spec` (see alb_fixture.py) and returns its ARNs.
    pub fn build(&self, spec: Value) -> Value {
        self.run_fixture(&["build"], Some(&spec))
    }

    /// Rules, LB attributes and TG attributes as AWS reports them (for before/after).
    pub fn dump(&self, lb_arn: &str) -> Value {
        self.run_fixture(&["dump", lb_arn], None)
    }

    /// `wspath` pointed at this moto with dummy credentials, isolated from the user's AWS files.
    pub fn wspath(&self, args: &[&str]) -> Output {
        self.wspath_as(args, "testing", "testing")
    }

    pub fn wspath_as(&self, args: &[&str], key_id: &str, secret: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_wspath"))
            .args(args)
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
            .output()
            .expect("run wspath")
    }

    /// An ELBv2 client for the library API, as a caller would build one.
    pub fn client(&self) -> wspath_providers::aws_alb::Client {
        use wspath_providers::aws_alb::sdk::config::{BehaviorVersion, Credentials, Region};
        let conf = wspath_providers::aws_alb::sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .build();
        wspath_providers::aws_alb::Client::from_conf(conf)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

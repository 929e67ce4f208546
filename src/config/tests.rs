//! The file's contract: what is accepted, what each mistake says and where.

use super::*;
use crate::HopKind;

fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some("tok-123".into()),
        "HOST" => Some("127.0.0.1".into()),
        _ => None,
    }
}

fn ok(text: &str) -> ConfigFile {
    parse(text, Path::new("ci/wspath.toml"), &env).unwrap()
}

fn err(text: &str) -> String {
    parse(text, Path::new("ci/wspath.toml"), &env)
        .unwrap_err()
        .to_string()
}

const FULL: &str = r#"
[defaults]
timeout = "5s"
headers = ["Authorization: Bearer ${TOKEN}"]
protocol = "chat.v2"

[[check]]
name = "chat"
target = "ws://app.test/ws"
hops = ["nginx=ws://${HOST}:8080", "backend=ws://127.0.0.1:9000"]
nginx_conf = "deploy/nginx.conf"

[[check]]
target = "ws://app.test/other"
timeout = "1s"
no_origin = true
aws = { alb = "my-alb", region = "eu-west-1" }
cloudflare = false

[[lint]]
nginx = "deploy/nginx.conf"
path = "/ws"

[module.edge]
timeout = "3s"
hops = ["nginx=ws://127.0.0.1:8080{target_path}", "backend:backend=ws://{target_host}:{target_port}"]
"#;

#[test]
fn a_full_file() {
    let f = ok(FULL);
    assert_eq!(f.checks.len(), 2);
    let chat = &f.checks[0];
    assert_eq!(chat.name, "chat");
    assert_eq!(chat.pos, Pos { line: 7, column: 1 });
    assert_eq!(chat.options.timeout, Duration::from_secs(5));
    assert_eq!(
        chat.options.headers,
        vec![("Authorization".to_string(), "Bearer tok-123".to_string())]
    );
    assert_eq!(chat.options.protocols, vec!["chat.v2".to_string()]);
    assert_eq!(
        chat.nginx_conf.as_deref(),
        Some(Path::new("ci/deploy/nginx.conf"))
    );
    let config = chat.config();
    assert_eq!(config.hops.len(), 2);
    assert_eq!(
        config.hops[0].connect,
        Some(("127.0.0.1".to_string(), 8080))
    );
    assert_eq!(config.hops[0].kind, HopKind::Proxy);
    assert_eq!(config.probe.origin.as_deref(), Some("http://app.test"));

    let other = &f.checks[1];
    assert_eq!(other.name, "ws://app.test/other");
    assert_eq!(other.options.timeout, Duration::from_secs(1));
    // Defaults not overridden stay.
    assert_eq!(other.options.headers.len(), 1);
    assert_eq!(other.options.origin, OriginChoice::None);
    assert_eq!(other.config().probe.origin, None);
    assert_eq!(other.options.cloudflare, Some(false));
    let aws = other.options.aws.as_ref().unwrap();
    assert!(aws.enabled);
    assert_eq!(aws.alb.as_deref(), Some("my-alb"));
    // No hops: the target itself.
    assert_eq!(other.config().hops, vec![Hop::direct(&other.target)]);

    assert_eq!(f.lints.len(), 1);
    assert_eq!(f.lints[0].nginx, Path::new("ci/deploy/nginx.conf"));
    assert_eq!(f.lints[0].idle, Duration::from_secs(60));
    assert_eq!(f.lints[0].path.as_deref(), Some("/ws"));

    let m = &f.modules["edge"];
    assert_eq!(m.options.timeout, Duration::from_secs(3));
    assert_eq!(m.options.headers.len(), 1, "defaults apply to modules");
    assert!(m.hops[0].contains("{target_path}"), "kept unexpanded");
    let target = Target::parse("ws://chat.test:8443/live").unwrap();
    let c = m.config(target).unwrap();
    assert_eq!(c.hops[0].path, "/live");
    assert_eq!(c.hops[1].connect, Some(("chat.test".to_string(), 8443)));
    assert_eq!(c.hops[1].kind, HopKind::Backend);
}

#[test]
fn unknown_key_suggests_the_closest() {
    let e = err("[[check]]\ntarget = \"ws://a/\"\ntimout = \"5s\"\n");
    assert!(
        e.starts_with("ci/wspath.toml:3:1: unknown key `timout`: did you mean `timeout`?"),
        "{e}"
    );
    let e = err("[defualts]\n");
    assert!(e.contains("did you mean `defaults`?"), "{e}");
    let e = err("[[check]]\ntarget = \"ws://a/\"\nzzzzqqq = 1\n");
    assert!(
        e.contains("unknown key `zzzzqqq`") && !e.contains("did you mean"),
        "{e}"
    );
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = err("[[check]]\ntarget = \"ws://a/\nname = 1\n");
    assert!(e.starts_with("ci/wspath.toml:2:"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let e = err("[[check]]\nname = \"x\"\n");
    assert!(
        e.starts_with("ci/wspath.toml:1:1: missing key `target`"),
        "{e}"
    );
    let e = err("[[check]]\ntarget = \"ws://a/\"\ninsecure = \"yes\"\n");
    assert!(e.starts_with("ci/wspath.toml:3:12:"), "{e}");
}

#[test]
fn unset_variable_is_named() {
    let e = err("[defaults]\nheaders = [\"X-Key: ${NOT_SET}\"]\n");
    assert!(
        e.starts_with("ci/wspath.toml:2:12: environment variable NOT_SET is not set"),
        "{e}"
    );
}

#[test]
fn values_are_validated_where_written() {
    let e = err("[[check]]\ntarget = \"http://a/\"\n");
    assert!(
        e.starts_with("ci/wspath.toml:2:10: invalid target URL"),
        "{e}"
    );
    let e = err("[[check]]\ntarget = \"ws://a/\"\nhops = [\"a=1.2.3.4:80\", \"a=1.2.3.5:80\"]\n");
    assert!(
        e.starts_with("ci/wspath.toml:3:25: hop name 'a' is used twice"),
        "{e}"
    );
    let e = err("[defaults]\ntimeout = \"ten\"\n");
    assert!(
        e.starts_with("ci/wspath.toml:2:11: invalid timeout 'ten'"),
        "{e}"
    );
    let e = err("[defaults]\nheaders = [\"Authorization: Bearer ${TOKEN}\\u0007\"]\n");
    assert!(
        e.contains("'Authorization: <redacted>'") && !e.contains("tok-123"),
        "{e}"
    );
    let e = err("[[check]]\ntarget = \"ws://a/\"\n[[check]]\ntarget = \"ws://a/\"\n");
    assert!(
        e.contains("a check named 'ws://a/' is already defined"),
        "{e}"
    );
    let e = err("[module.m]\nhops = [\"bad name=ws://{target_host}:1\"]\n");
    assert!(
        e.starts_with("ci/wspath.toml:2:9: invalid hop 'bad name=ws://{target_host}:1'"),
        "{e}"
    );
    let e = err("[defaults]\naws = \"yes\"\n");
    assert!(e.contains("expected aws = true"), "{e}");
}

#[test]
fn closest_key() {
    assert_eq!(
        closest("nginx_cnf", &["nginx_conf", "name"]),
        Some("nginx_conf")
    );
    assert_eq!(closest("q", &["timeout"]), None);
}

#[test]
fn the_schema_describes_the_same_file() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/audit.schema.json")).unwrap();
    let compiled = jsonschema::JSONSchema::compile(&schema).unwrap();
    let doc: serde_json::Value = toml::from_str(FULL).unwrap();
    if let Err(errors) = compiled.validate(&doc) {
        let all: Vec<String> = errors.map(|e| e.to_string()).collect();
        panic!("{all:?}");
    }
    let typo: serde_json::Value =
        toml::from_str("[[check]]\ntarget = \"ws://a/\"\ntimout = \"5s\"\n").unwrap();
    assert!(!compiled.is_valid(&typo));
}

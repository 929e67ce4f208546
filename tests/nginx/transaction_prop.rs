//! Property: whatever the include layout and whatever the fix plans, `fix --nginx --yes`
//! leaves the live tree byte-identical to before, or a tree real `nginx -t` passes.

use super::transaction::Debian;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// How one WebSocket location starts out.
#[derive(Debug, Clone)]
struct Loc {
    /// 0 bare proxy_pass, 1 HTTP/1.0, 2 `Connection close` from a snippet, 3 already right.
    kind: u8,
    /// In a file of its own under conf.d (else in the site).
    in_conf_d: bool,
    /// A directive nginx refuses at -t time (an upstream that does not exist).
    invalid: bool,
}

fn location(i: usize, l: &Loc) -> String {
    let pass = if l.invalid {
        "proxy_pass http://no_such_upstream_wspath;".to_string()
    } else {
        "proxy_pass http://app;".to_string()
    };
    let body = match l.kind {
        0 => pass,
        1 => format!("{pass}\n        proxy_http_version 1.0;"),
        2 => format!("{pass}\n        include snippets/proxy{i}.conf;"),
        _ => format!("{pass}\n        proxy_http_version 1.1;\n        proxy_set_header Upgrade $http_upgrade;\n        proxy_set_header Connection \"upgrade\";"),
    };
    format!("    location /ws{i}/ {{\n        {body}\n    }}\n")
}

fn layout(locs: &[Loc]) -> Debian {
    let mut site = String::from(
        "upstream app {\n    server 127.0.0.1:9000;\n}\n\nserver {\n    listen 127.0.0.1:8080;\n",
    );
    let mut conf_d = Vec::new();
    for (i, l) in locs.iter().enumerate() {
        if l.in_conf_d {
            site.push_str(&format!("    include conf.d/loc{i}.inc;\n"));
            conf_d.push((format!("conf.d/loc{i}.inc"), location(i, l)));
        } else {
            site.push_str(&location(i, l));
        }
    }
    site.push_str("}\n");
    let d = Debian::with_site(&site);
    for (path, text) in conf_d {
        std::fs::write(d.etc().join(path), text).unwrap();
    }
    for (i, l) in locs.iter().enumerate() {
        if l.kind == 2 {
            std::fs::write(
                d.etc().join(format!("snippets/proxy{i}.conf")),
                "proxy_http_version 1.1;\nproxy_set_header Connection close;\n",
            )
            .unwrap();
        }
    }
    d
}

fn loc() -> impl Strategy<Value = Loc> {
    (0u8..4, any::<bool>(), prop::bool::weighted(0.2)).prop_map(|(kind, in_conf_d, invalid)| Loc {
        kind,
        in_conf_d,
        invalid,
    })
}

#[test]
fn the_live_tree_is_unchanged_or_passes_nginx_t() {
    // Each case starts nginx -t three times and wspath once: a few dozen cases cover the
    // combinations without weighing on CI.
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(loc(), 1..4),
        0usize..3,
        prop::option::of(prop_oneof![Just("2m"), Just("1h")]),
    );
    let changed = std::cell::Cell::new(0);
    let refused = std::cell::Cell::new(0);
    runner
        .run(&strategy, |(locs, target, idle)| {
            let d = layout(&locs);
            let before = d.snapshot();
            let path = format!("/ws{}/", target.min(locs.len() - 1));
            let mut args = vec!["--yes"];
            if let Some(i) = idle {
                args.extend(["--idle", i]);
            }
            let mut cmd = std::process::Command::new(crate::support::cli::wspath_bin());
            cmd.args(["fix", "--nginx"])
                .arg(d.conf())
                .args(["--path", &path])
                .args(&args)
                .env("NO_COLOR", "1")
                .env("XDG_STATE_HOME", d.state());
            let out = crate::support::cli::run(cmd, std::time::Duration::from_secs(90)).unwrap();
            let after = d.snapshot();
            let names: Vec<_> = after.keys().collect();
            prop_assert_eq!(
                names,
                before.keys().collect::<Vec<_>>(),
                "no file added or removed"
            );
            if after != before {
                changed.set(changed.get() + 1);
                let (ok, why) = d.nginx_t();
                prop_assert!(
                    ok,
                    "changed tree fails nginx -t: {}\n{}",
                    why,
                    out.describe()
                );
                prop_assert_eq!(out.code, Some(0), "{}", out.describe());
            } else {
                prop_assert!(out.code != Some(1), "{}", out.describe());
                if out.code == Some(2) {
                    refused.set(refused.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    // The property says something only if both sides happened.
    assert!(changed.get() > 0, "no case applied a change");
    assert!(refused.get() > 0, "no case was refused");
}

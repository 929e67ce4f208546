//! The human output of a real broken path, read as an on-call engineer reads it in an
//! 80-column terminal.

use super::*;

#[test]
fn human_output_fits_80_columns_and_keeps_secrets() {
    let backend = backend_path();
    let wrong = closed_port().expect("port");
    let nginx = proxy(Kind::Nginx, &format!("127.0.0.1:{wrong}"), &Setup::good());
    let lb = proxy(Kind::Haproxy, &nginx.addr(), &Setup::good());
    let out = human(
        TARGET,
        &[
            ("lb", &lb.addr()),
            ("nginx", &nginx.addr()),
            ("backend", backend.addr(0)),
        ],
        &["-H", "Authorization: Bearer s3cr3t-token"],
    );
    let why = out.describe();
    assert_eq!(out.code, Some(1), "{why}");
    assert!(!out.stdout.contains("s3cr3t-token"), "{why}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let hop_line = |name: &str| {
        lines
            .iter()
            .position(|l| {
                l.trim_start().starts_with(&format!("✗ {name} "))
                    || l.trim_start().starts_with(&format!("~ {name} "))
            })
            .unwrap_or_else(|| panic!("no line for {name}\n{why}"))
    };
    // The hop line holds the columns and the short verdict; what the hop said is beneath it.
    let n = hop_line("nginx");
    assert!(lines[n].ends_with("Bad Gateway  ← culprit"), "{why}");
    assert!(lines[n + 1].starts_with("      502 Bad Gateway"), "{why}");
    assert!(lines[hop_line("lb")].ends_with("(passes it on)"), "{why}");
    // Everything but the hop lines (columns) and the curl line (pasted whole) fits 80 columns.
    for line in &lines {
        let columns = line.contains(" ms ") || line.ends_with(" ms");
        if !columns && !line.trim_start().starts_with("reproduce:") {
            assert!(line.chars().count() <= 80, "too wide: {line:?}\n{why}");
        }
    }
    let culprit: String = lines
        .iter()
        .skip_while(|l| !l.starts_with("✗ culprit:"))
        .take_while(|l| !l.trim_start().starts_with("reproduce:"))
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(culprit.contains("proxy_pass"), "{why}");
    assert!(culprit.contains(backend.addr(0)), "{why}");
}

//! The equivalent `curl` command for one hop, so a user can reproduce a probe by hand. Like the
//! probe it keeps the target's Host and SNI and only changes where it connects (`--connect-to`).
//! Secret header values are redacted.

use crate::hop::Hop;
use crate::probe::redact::shown_value;
use crate::probe::ProbeOptions;
use crate::target::{bracket, Scheme, Target};

/// `curl -i -N --http1.1 [--connect-to …] [-k|--cacert …] -H … URL` for this hop; `headers` are the
/// request headers as sent (see [`super::request::request_headers`]).
///
/// Every probe builds one (a report shows it for any hop that fails, and the JSON carries it for
/// every hop), so it is written into one buffer rather than assembled from argument strings.
pub fn curl_command(
    target: &Target,
    hop: &Hop,
    options: &ProbeOptions,
    headers: &[(String, String)],
) -> String {
    let http = match hop.scheme {
        Scheme::Ws => "http",
        Scheme::Wss => "https",
    };
    // The URL carries the Host header curl sends: the target's, exactly as the probe sends it.
    let host_header = target.host_header();
    let url_port = if target.port == target.scheme.default_port() {
        hop.scheme.default_port()
    } else {
        target.port
    };
    let mut cmd = String::with_capacity(
        160 + hop.path.len()
            + headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 8)
                .sum::<usize>(),
    );
    cmd.push_str("curl -i -N --http1.1");
    if let Some((host, port)) = &hop.connect {
        cmd.push_str(" --connect-to ");
        push_quoted(
            &mut cmd,
            &format!(
                "{}:{url_port}:{}:{port}",
                bracket(&target.host),
                bracket(host)
            ),
        );
    }
    if hop.scheme.is_tls() {
        if options.insecure {
            cmd.push_str(" -k");
        }
        if let Some(path) = &options.cacert {
            cmd.push_str(" --cacert ");
            push_quoted(&mut cmd, &path.display().to_string());
        }
    }
    let mut header = String::new();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("host") && value == &host_header {
            continue; // curl derives it from the URL
        }
        if name.eq_ignore_ascii_case("user-agent") {
            cmd.push_str(" -A ");
            push_quoted(&mut cmd, value);
            continue;
        }
        header.clear();
        header.push_str(name);
        header.push_str(": ");
        header.push_str(&shown_value(name, value));
        cmd.push_str(" -H ");
        push_quoted(&mut cmd, &header);
    }
    cmd.push(' ');
    let url = format!("{http}://{host_header}{}", hop.path);
    push_quoted(&mut cmd, &url);
    cmd
}

/// Appends `s` to `out` with POSIX shell single-quoting, only when needed.
fn push_quoted(out: &mut String, s: &str) {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        out.push_str(s);
        return;
    }
    out.push('\'');
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            out.push_str(r"'\''");
        }
        out.push_str(part);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopSpec;
    use crate::probe::request::request_headers;

    fn render(target: &str, hop: &str, edit: impl FnOnce(&mut ProbeOptions)) -> String {
        let target = Target::parse(target).unwrap();
        let hop = HopSpec::parse(hop).unwrap().resolve(&target);
        let mut options = ProbeOptions::new(&target);
        edit(&mut options);
        let headers = request_headers(&target, &options, "dGhlIHNhbXBsZSBub25jZQ==");
        curl_command(&target, &hop, &options, &headers)
    }

    #[test]
    fn plain_hop_connects_to_its_address_with_the_target_host() {
        let cmd = render(
            "wss://example.com/ws/chat",
            "nginx=ws://10.0.1.5:80",
            |_| {},
        );
        assert_eq!(
            cmd,
            "curl -i -N --http1.1 --connect-to example.com:80:10.0.1.5:80 \
             -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
             -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13' \
             -H 'Origin: https://example.com' -A wspath/0.1.0 http://example.com/ws/chat"
                .replace("0.1.0", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn tls_hop_keeps_port_and_flags_and_redacts_secrets() {
        let cmd = render("wss://example.com:8443/ws?x=1", "lb=[::1]:9443", |o| {
            o.insecure = true;
            o.cacert = Some("/tmp/my ca.pem".into());
            o.headers = vec![
                ("Authorization".into(), "Bearer s3cr3t".into()),
                ("Cookie".into(), "sid=abc".into()),
                ("X-Trace".into(), "it's".into()),
            ];
        });
        assert!(
            cmd.contains("--connect-to 'example.com:8443:[::1]:9443'"),
            "{cmd}"
        );
        assert!(cmd.contains(" -k --cacert '/tmp/my ca.pem' "), "{cmd}");
        assert!(
            cmd.contains("-H 'Authorization: Bearer <redacted>'"),
            "{cmd}"
        );
        assert!(cmd.contains("-H 'Cookie: <redacted>'"), "{cmd}");
        assert!(cmd.contains(r"-H 'X-Trace: it'\''s'"), "{cmd}");
        assert!(!cmd.contains("s3cr3t") && !cmd.contains("sid=abc"), "{cmd}");
        assert!(cmd.ends_with(" 'https://example.com:8443/ws?x=1'"), "{cmd}");
    }

    #[test]
    fn direct_hop_has_no_connect_to() {
        let cmd = render("wss://example.com/ws", "edge", |_| {});
        assert!(!cmd.contains("--connect-to"), "{cmd}");
        assert!(cmd.ends_with(" https://example.com/ws"), "{cmd}");
    }
}

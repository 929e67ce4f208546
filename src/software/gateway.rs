//! Gateway error pages read by meaning, not only by status: Apache's `500 Proxy Error`,
//! Squid's ERR_* pages, Varnish's "Backend fetch failed", Envoy's "upstream connect error",
//! Cloudflare's 52x pages all say that the hop could not get an answer from the next one, and
//! most say why (TLS, connect, timeout).

use crate::verdict::Verdict;

/// One recognisable gateway page.
#[derive(Debug)]
pub struct GatewayPage {
    /// Lowercase text in the body (or the `X-Squid-Error` header) that marks it.
    pub has: &'static str,
    /// Only for this status (`None`: any 5xx).
    pub status: Option<u16>,
    /// The verdict it means when its status alone would not say gateway (Apache's 500,
    /// Cloudflare's 52x).
    pub verdict: Verdict,
    /// What it means, for the probe's detail.
    pub cause: &'static str,
}

const fn page(has: &'static str, verdict: Verdict, cause: &'static str) -> GatewayPage {
    GatewayPage {
        has,
        status: None,
        verdict,
        cause,
    }
}

const fn at(status: u16, verdict: Verdict, cause: &'static str) -> GatewayPage {
    GatewayPage {
        has: "",
        status: Some(status),
        verdict,
        cause,
    }
}

use Verdict as V;

/// Most specific first.
#[rustfmt::skip]
pub const PAGES: &[GatewayPage] = &[
    // Apache httpd mod_proxy (capture, Apache/2.4.71: "500 Proxy Error … Reason: Error during
    // SSL Handshake with remote server" for an https:// ProxyPass to a plain port).
    page("error during ssl handshake with remote server", V::BadGateway, "a gateway error: the TLS handshake with the next hop failed"),
    page("error reading from remote server", V::BadGateway, "a gateway error: the next hop closed the connection or sent no valid answer"),
    page("the proxy server could not handle the request", V::BadGateway, "a gateway error: the proxy could not get an answer from the next hop"),
    page("the proxy server received an invalid response from an upstream server", V::BadGateway, "a gateway error: the next hop sent no valid answer"),
    // Squid error pages (squid-cache.org/Doc/config/error_directory, X-Squid-Error header).
    page("err_secure_connect_fail", V::BadGateway, "a gateway error: Squid's TLS connection to its peer failed"),
    page("err_connect_fail", V::ServiceUnavailable, "a gateway error: Squid could not connect to its peer"),
    page("err_read_timeout", V::GatewayTimeout, "a gateway error: Squid's peer did not answer in time"),
    page("err_zero_size_object", V::BadGateway, "a gateway error: Squid's peer closed the connection without an answer"),
    page("err_cannot_forward", V::ServiceUnavailable, "a gateway error: Squid has no peer to forward this request to"),
    // Varnish (built-in vcl_backend_error: "Error 503 Backend fetch failed").
    page("backend fetch failed", V::ServiceUnavailable, "a gateway error: Varnish could not fetch from its backend"),
    // Envoy local replies (envoyproxy.io docs, "upstream connect error or disconnect/reset
    // before headers. reset reason: connection failure" / "…: TLS error").
    page("reset reason: connection failure", V::ServiceUnavailable, "a gateway error: Envoy could not connect to the upstream"),
    page("tls error", V::ServiceUnavailable, "a gateway error: Envoy's TLS handshake with the upstream failed"),
    page("upstream connect error", V::ServiceUnavailable, "a gateway error: Envoy could not connect to the upstream"),
    page("upstream request timeout", V::GatewayTimeout, "a gateway error: the upstream did not answer within Envoy's route timeout"),
    // tinyproxy answers a refused or failed upstream connection with its own "500 Unable to
    // connect" page ("tinyproxy was unable to connect to the remote web server.", reqs.c
    // `indicate_http_error (connptr, 500, "Unable to connect", …)`; capture: tinyproxy 1.11.1
    // in front of a stopped backend).
    page("was unable to connect to the remote web server", V::BadGateway, "a gateway error: tinyproxy could not connect to its upstream"),
    // Cloudflare 5xx (developers.cloudflare.com/support/troubleshooting/cloudflare-errors/).
    at(520, V::BadGateway, "a gateway error (Cloudflare 520): the origin answered something empty or unexpected"),
    at(521, V::BadGateway, "a gateway error (Cloudflare 521): the origin refused the connection"),
    at(522, V::GatewayTimeout, "a gateway error (Cloudflare 522): the connection to the origin timed out"),
    at(523, V::BadGateway, "a gateway error (Cloudflare 523): the origin is unreachable"),
    at(524, V::GatewayTimeout, "a gateway error (Cloudflare 524): the origin did not answer within 100 s"),
    at(525, V::BadGateway, "a gateway error (Cloudflare 525): the TLS handshake with the origin failed"),
    at(526, V::BadGateway, "a gateway error (Cloudflare 526): the origin's certificate is not valid"),
];

/// The gateway page a 5xx answer is, if any: `body` and `squid_error` lowercase.
pub fn gateway_page(status: u16, body: &str, squid_error: &str) -> Option<&'static GatewayPage> {
    if !(500..600).contains(&status) {
        return None;
    }
    PAGES.iter().find(|p| match p.status {
        Some(s) => s == status,
        None => body.contains(p.has) || squid_error.contains(p.has),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apache_500_proxy_error_is_a_tls_gateway_error() {
        let body = "<h1>proxy error</h1>\nthe proxy server could not handle the request<p>reason: <strong>error during ssl handshake with remote server</strong>";
        let p = gateway_page(500, body, "").unwrap();
        assert_eq!(p.verdict, Verdict::BadGateway);
        assert!(p.cause.contains("TLS"));
        assert!(gateway_page(404, body, "").is_none());
        assert_eq!(
            gateway_page(503, "", "err_connect_fail 111")
                .unwrap()
                .verdict,
            Verdict::ServiceUnavailable
        );
        assert_eq!(
            gateway_page(525, "", "").unwrap().verdict,
            Verdict::BadGateway
        );
        assert!(gateway_page(500, "internal error", "").is_none());
    }
}

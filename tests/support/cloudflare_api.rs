//! A stateful local Cloudflare API v4 for tests: zones, DNS records and zone settings held in
//! memory, answered the way Cloudflare's OpenAPI document (tests/fixtures/cloudflare/
//! openapi-subset.json) says: the v4 envelope, paging with `result_info`, 400/6003 for
//! credentials it cannot use, 403/10000 for a token without the permission, 429 with
//! `retry-after`, `editable` settings. It is put behind Prism (`support::prism`), which checks
//! every request and answer against that document, so the fake cannot drift from the contract
//! unnoticed.
//!
//! A plain blocking server on its own threads (127.0.0.1, port 0), so sync tests that run the
//! `wspath` binary can use it; stopped on Drop.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The permissions of a token, as Cloudflare names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Perm {
    ZoneRead,
    DnsRead,
    ZoneSettingsRead,
    ZoneSettingsWrite,
}

pub const ALL_PERMS: &[Perm] = &[
    Perm::ZoneRead,
    Perm::DnsRead,
    Perm::ZoneSettingsRead,
    Perm::ZoneSettingsWrite,
];

#[derive(Debug, Clone)]
pub struct FakeSetting {
    pub value: Value,
    pub editable: bool,
    /// Answer reads with an error, as Cloudflare does for a setting the plan does not have.
    pub readable: bool,
    pub modified_on: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FakeRecord {
    pub id: String,
    pub record_type: String,
    pub name: String,
    pub content: String,
    pub proxied: bool,
}

#[derive(Debug, Clone)]
pub struct FakeZone {
    pub id: String,
    pub name: String,
    pub settings: BTreeMap<String, FakeSetting>,
    pub records: Vec<FakeRecord>,
}

/// One request the fake answered.
#[derive(Debug, Clone)]
pub struct Served {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

#[derive(Debug, Default)]
pub struct State {
    /// token → permissions.
    pub tokens: BTreeMap<String, HashSet<Perm>>,
    /// (email, global key) → permissions.
    pub keys: BTreeMap<(String, String), HashSet<Perm>>,
    pub zones: Vec<FakeZone>,
    /// The most a page holds whatever `per_page` asks (Cloudflare caps it too); small values
    /// make tests walk several pages.
    pub max_per_page: usize,
    /// Answer the next N requests whose path starts with the prefix with 429 + `retry-after`.
    pub throttle: Option<(String, u32)>,
    pub retry_after_secs: u32,
    pub served: Vec<Served>,
}

/// The running fake. `state()` reads or changes what it serves.
pub struct CloudflareApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const T0: &str = "2024-01-01T05:20:00.12345Z";

impl CloudflareApi {
    /// An empty account: no tokens, no zones.
    pub fn start() -> io::Result<CloudflareApi> {
        let state = Arc::new(Mutex::new(State {
            max_per_page: 100,
            retry_after_secs: 1,
            ..State::default()
        }));
        let handler_state = state.clone();
        let (addr, stop, thread) = serve("cloudflare-api fake", move |req| {
            handle(&handler_state, req)
        })?;
        Ok(CloudflareApi {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// One zone `name` with a proxied A record for `host` and Cloudflare's defaults, except
    /// `websockets` as given; `token` may do everything.
    pub fn with_site(token: &str, zone: &str, host: &str, websockets: &str) -> io::Result<Self> {
        let api = CloudflareApi::start()?;
        api.add_token(token, ALL_PERMS);
        api.add_zone(zone);
        api.set_setting(zone, "websockets", json!(websockets), true);
        api.add_record(zone, "A", host, "198.51.100.4", true);
        Ok(api)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_token(&self, token: &str, perms: &[Perm]) {
        self.state()
            .tokens
            .insert(token.to_string(), perms.iter().copied().collect());
    }

    pub fn add_key(&self, email: &str, key: &str, perms: &[Perm]) {
        self.state().keys.insert(
            (email.to_string(), key.to_string()),
            perms.iter().copied().collect(),
        );
    }

    /// A zone with the settings a new Free-plan zone has; `proxy_read_timeout` is an
    /// Enterprise setting, so reading it is an error, as on Cloudflare.
    pub fn add_zone(&self, name: &str) -> String {
        let mut state = self.state();
        let id = format!("{:032x}", state.zones.len() as u128 + 0x0de1_u128);
        let mut settings = BTreeMap::new();
        let mut put = |k: &str, v: Value, readable: bool| {
            settings.insert(
                k.to_string(),
                FakeSetting {
                    value: v,
                    editable: true,
                    readable,
                    modified_on: None,
                },
            );
        };
        put("websockets", json!("on"), true);
        put("ssl", json!("full"), true);
        put("always_use_https", json!("off"), true);
        put("min_tls_version", json!("1.0"), true);
        put("origin_max_http_version", json!("2"), true);
        put("proxy_read_timeout", json!(100), false);
        put("http2", json!("on"), true);
        put("http3", json!("on"), true);
        put("0rtt", json!("off"), true);
        put("tls_1_3", json!("on"), true);
        put("opportunistic_encryption", json!("on"), true);
        state.zones.push(FakeZone {
            id: id.clone(),
            name: name.to_string(),
            settings,
            records: Vec::new(),
        });
        id
    }

    pub fn zone_id(&self, zone: &str) -> String {
        self.state()
            .zones
            .iter()
            .find(|z| z.name == zone)
            .map(|z| z.id.clone())
            .unwrap_or_default()
    }

    pub fn set_setting(&self, zone: &str, setting: &str, value: Value, editable: bool) {
        let mut state = self.state();
        if let Some(z) = state.zones.iter_mut().find(|z| z.name == zone) {
            let s = z
                .settings
                .entry(setting.to_string())
                .or_insert(FakeSetting {
                    value: value.clone(),
                    editable,
                    readable: true,
                    modified_on: None,
                });
            s.value = value;
            s.editable = editable;
            s.readable = true;
        }
    }

    pub fn setting(&self, zone: &str, setting: &str) -> Option<Value> {
        self.state()
            .zones
            .iter()
            .find(|z| z.name == zone)
            .and_then(|z| z.settings.get(setting))
            .map(|s| s.value.clone())
    }

    pub fn add_record(
        &self,
        zone: &str,
        record_type: &str,
        name: &str,
        content: &str,
        proxied: bool,
    ) {
        let mut state = self.state();
        let n = state.zones.iter().map(|z| z.records.len()).sum::<usize>();
        if let Some(z) = state.zones.iter_mut().find(|z| z.name == zone) {
            z.records.push(FakeRecord {
                id: format!("{:032x}", 0x4ec0_u128 + n as u128),
                record_type: record_type.to_string(),
                name: name.to_string(),
                content: content.to_string(),
                proxied,
            });
        }
    }

    /// The next `count` requests to a path starting with `prefix` get 429 + `retry-after`.
    pub fn throttle(&self, prefix: &str, count: u32) {
        self.state().throttle = Some((prefix.to_string(), count));
    }

    /// Requests served so far, with method and path (`GET /zones`).
    pub fn served(&self) -> Vec<Served> {
        self.state().served.clone()
    }

    /// How many requests were `METHOD path` (path without the query).
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.served()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .count()
    }
}

impl Drop for CloudflareApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A request as the mini server hands it to a handler.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request head exactly as received (for relaying).
    pub raw_head: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What a handler answers: the full response bytes (status line, headers, body).
pub type RawResponse = Vec<u8>;

/// Serves one request per connection on 127.0.0.1:0 until the returned flag is set.
pub fn serve(
    what: &'static str,
    handler: impl Fn(Request) -> RawResponse + Send + Sync + 'static,
) -> io::Result<(SocketAddr, Arc<AtomicBool>, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let handler = Arc::new(handler);
    let thread = std::thread::Builder::new()
        .name(what.to_string())
        .spawn(move || {
            for conn in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let handler = handler.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                    let response = match read_request(&mut conn) {
                        Ok(Some(req)) => handler(req),
                        Ok(None) => return,
                        Err(e) => response(400, &[], &format!("bad request: {e}")),
                    };
                    let _ = conn.write_all(&response);
                    let _ = conn.flush();
                });
            }
        })?;
    Ok((addr, stop, thread))
}

/// Reads one request (head + content-length or chunked body); `None` when the peer only
/// connected (readiness probes).
pub fn read_request(conn: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take(16 * 1024)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::other(
                    "connection closed inside the request head",
                ))
            };
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if head.len() > 64 * 1024 {
            return Err(io::Error::other("request head over 64 KiB"));
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed
        .parse(&head)
        .map_err(|e| io::Error::other(format!("request head: {e}")))?;
    let method = parsed.method.unwrap_or("").to_string();
    let target = parsed.path.unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = get("content-length").and_then(|v| v.trim().parse::<usize>().ok()) {
        body.resize(len.min(1 << 20), 0);
        reader.read_exact(&mut body)?;
    } else if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::other("bad chunk size"))?;
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        body,
        raw_head: head,
    }))
}

/// A complete response with `Connection: close`.
pub fn response(status: u16, headers: &[(&str, String)], body: &str) -> RawResponse {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    out.push_str(body);
    out.into_bytes()
}

fn ok(result: Value, result_info: Option<Value>) -> RawResponse {
    let mut doc = json!({"success": true, "errors": [], "messages": [], "result": result});
    if let Some(info) = result_info {
        doc["result_info"] = info;
    }
    response(200, &[], &doc.to_string())
}

fn fail(status: u16, errors: Value) -> RawResponse {
    fail_with(status, errors, &[])
}

fn fail_with(status: u16, errors: Value, headers: &[(&str, String)]) -> RawResponse {
    let doc = json!({"success": false, "errors": errors, "messages": [], "result": null});
    response(status, headers, &doc.to_string())
}

fn forbidden() -> RawResponse {
    fail(
        403,
        json!([{"code": 10000, "message": "Authentication error"}]),
    )
}

fn handle(state: &Arc<Mutex<State>>, req: Request) -> RawResponse {
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    let answer = route(&mut st, &req);
    let status = std::str::from_utf8(&answer[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    st.served.push(Served {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status,
    });
    answer
}

fn route(st: &mut State, req: &Request) -> RawResponse {
    if let Some((prefix, left)) = st.throttle.as_mut() {
        if *left > 0 && req.path.starts_with(prefix.as_str()) {
            *left -= 1;
            return fail_with(
                429,
                json!([{"code": 1015, "message": "You are being rate limited"}]),
                &[("Retry-After", st.retry_after_secs.to_string())],
            );
        }
    }
    // Who is calling: a Bearer token or the email + global key pair.
    let perms: HashSet<Perm> = if let Some(auth) = req.header("authorization") {
        match auth.strip_prefix("Bearer ").and_then(|t| st.tokens.get(t)) {
            Some(p) => p.clone(),
            None => {
                return fail(
                    400,
                    json!([{"code": 6003, "message": "Invalid request headers",
                        "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}]),
                )
            }
        }
    } else {
        let email = req.header("x-auth-email").unwrap_or("").to_string();
        let key = req.header("x-auth-key").unwrap_or("").to_string();
        match st.keys.get(&(email, key)) {
            Some(p) => p.clone(),
            None => {
                return fail(
                    400,
                    json!([{"code": 6003, "message": "Invalid request headers",
                        "error_chain": [{"code": 6103, "message": "Invalid format for X-Auth-Key header"}]}]),
                )
            }
        }
    };
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["user", "tokens", "verify"]) => ok(
            json!({"id": "ed17574386854bf78a67040be0a770b0", "status": "active"}),
            None,
        ),
        ("GET", ["zones"]) => {
            if !perms.contains(&Perm::ZoneRead) {
                return forbidden();
            }
            let name = req.query_param("name");
            let zones: Vec<Value> = st
                .zones
                .iter()
                .filter(|z| {
                    name.as_deref()
                        .map_or(true, |n| z.name.eq_ignore_ascii_case(n))
                })
                .map(zone_json)
                .collect();
            page(st, req, zones, 20)
        }
        ("GET", ["zones", id, "dns_records"]) => {
            if !perms.contains(&Perm::DnsRead) {
                return forbidden();
            }
            let Some(zone) = st.zones.iter().find(|z| z.id == *id) else {
                return no_zone();
            };
            let name = req.query_param("name");
            let records: Vec<Value> = zone
                .records
                .iter()
                .filter(|r| {
                    name.as_deref()
                        .map_or(true, |n| r.name.eq_ignore_ascii_case(n))
                })
                .map(|r| record_json(zone, r))
                .collect();
            page(st, req, records, 100)
        }
        ("GET", ["zones", id, "settings", setting]) => {
            if !perms.contains(&Perm::ZoneSettingsRead) {
                return forbidden();
            }
            let Some(zone) = st.zones.iter().find(|z| z.id == *id) else {
                return no_zone();
            };
            match zone.settings.get(*setting) {
                Some(s) if s.readable => ok(setting_json(setting, s), None),
                Some(_) => fail(
                    403,
                    json!([{"code": 1009, "message": format!("the {setting} setting is not available on this zone's plan")}]),
                ),
                None => fail(
                    404,
                    json!([{"code": 7003, "message": "No route for the URI"}]),
                ),
            }
        }
        ("PATCH", ["zones", id, "settings", setting]) => {
            if !perms.contains(&Perm::ZoneSettingsWrite) {
                return forbidden();
            }
            let value = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|b| b.get("value").cloned());
            let Some(zone) = st.zones.iter_mut().find(|z| z.id == *id) else {
                return no_zone();
            };
            let Some(s) = zone.settings.get_mut(*setting) else {
                return fail(
                    404,
                    json!([{"code": 7003, "message": "No route for the URI"}]),
                );
            };
            let Some(value) = value.filter(|v| valid_value(setting, v)) else {
                return fail(
                    400,
                    json!([{"code": 1007, "message": format!("Invalid value for zone setting {setting}")}]),
                );
            };
            if !s.editable {
                return fail(
                    400,
                    json!([{"code": 1008, "message": format!("the {setting} setting is not editable on this zone's plan")}]),
                );
            }
            s.value = value;
            s.modified_on = Some("2024-06-26T12:00:00.00000Z".to_string());
            ok(setting_json(setting, s), None)
        }
        _ => fail(
            404,
            json!([{"code": 7003, "message": "No route for the URI"}]),
        ),
    }
}

fn no_zone() -> RawResponse {
    fail(
        404,
        json!([{"code": 7003, "message": "Could not route to /zones, perhaps your object identifier is invalid?"}]),
    )
}

fn valid_value(setting: &str, v: &Value) -> bool {
    match setting {
        "websockets" | "always_use_https" => matches!(v.as_str(), Some("on" | "off")),
        _ => !v.is_null(),
    }
}

/// One page of `items`: `page`/`per_page` from the query, `per_page` capped by the fake.
fn page(st: &State, req: &Request, items: Vec<Value>, default_per_page: usize) -> RawResponse {
    let num = |k: &str, d: usize| {
        req.query_param(k)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(d)
    };
    let page = num("page", 1);
    let per_page = num("per_page", default_per_page).min(st.max_per_page.max(1));
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let info =
        json!({"page": page, "per_page": per_page, "count": slice.len(), "total_count": total});
    ok(Value::Array(slice), Some(info))
}

fn zone_json(z: &FakeZone) -> Value {
    json!({
        "id": z.id,
        "name": z.name,
        "development_mode": 0,
        "owner": {"id": "7c5dae5552338874e5053f2534d2767a", "name": "wspath tests", "type": "user"},
        "account": {"id": "01a7362d577a6c3019a474fd6f485823", "name": "wspath tests"},
        "meta": {"cdn_only": false, "dns_only": false, "foundation_dns": false, "page_rule_quota": 3, "phishing_detected": false, "step": 2},
        "name_servers": ["bob.ns.cloudflare.com", "lola.ns.cloudflare.com"],
        "original_name_servers": null,
        "original_registrar": null,
        "original_dnshost": null,
        "created_on": T0,
        "modified_on": T0,
        "activated_on": T0,
    })
}

fn record_json(z: &FakeZone, r: &FakeRecord) -> Value {
    json!({
        "id": r.id,
        "type": r.record_type,
        "name": r.name,
        "content": r.content,
        "proxied": r.proxied,
        "proxiable": true,
        "locked": false,
        "ttl": 1,
        "zone_id": z.id,
        "zone_name": z.name,
        "meta": {"auto_added": false, "source": "primary"},
        "tags": [],
        "created_on": T0,
        "modified_on": T0,
    })
}

fn setting_json(id: &str, s: &FakeSetting) -> Value {
    json!({"id": id, "value": s.value, "editable": s.editable, "modified_on": s.modified_on})
}

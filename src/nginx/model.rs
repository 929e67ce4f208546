//! The configuration as nginx sees it at run time: includes spliced in place, servers, locations
//! (nested, `if`), upstreams, maps, and the effective proxy settings of each location under
//! nginx's inheritance rules.
//!
//! Two rules matter most for WebSockets. Array directives (`proxy_set_header`) inherit only as a
//! whole: one `proxy_set_header` at a level drops every one from above. Scalar directives
//! (`proxy_http_version`, timeouts) inherit individually until overridden.

use super::parser::{Config, Directive};
use super::version::Version;
use std::collections::HashMap;
use std::time::Duration;

pub type NodeId = usize;

/// A directive in the spliced tree; `children` have includes replaced by the files they name.
#[derive(Debug, Clone)]
pub struct Node<'c> {
    pub d: &'c Directive,
    /// `d.name`, kept beside the node: the child index and lookups read names of many nodes,
    /// and a directive is a cache line or two away.
    pub name: &'c str,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
}

/// How a location matches (nginx's modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Exact,
    PrefixNoRegex,
    Prefix,
    Regex,
    RegexCaseless,
    Named,
}

pub struct Model<'c> {
    pub config: &'c Config,
    pub nodes: Vec<Node<'c>>,
    pub roots: Vec<NodeId>,
    pub version: Version,
    /// Variables defined by `map`, `geo`, `split_clients`, `set` (name without `$`) → the node.
    variables: HashMap<String, NodeId>,
    /// Every block's children grouped by interned name (stable within a name), so the children
    /// of one name are a contiguous slice found by binary search: a block such as `http` can hold
    /// thousands of children and a scan per lookup made lint quadratic.
    child_keys: Vec<&'c str>,
    child_ids: Vec<NodeId>,
    /// Per node: where its children start in `child_keys`/`child_ids`, and how many.
    child_range: Vec<(usize, usize)>,
    /// `upstream NAME` blocks of http, by name (the first one wins, as nginx refuses duplicates).
    upstreams: HashMap<&'c str, NodeId, Fnv>,
}

/// FNV-1a: the index is hashed a few hundred thousand times per parse and SipHash's DoS
/// resistance buys nothing for keys read from a local file.
#[derive(Default, Clone, Copy)]
pub struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub type Fnv = std::hash::BuildHasherDefault<FnvHasher>;

/// One `listen` of a server, as far as choosing the server goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// `None` for a unix socket.
    pub port: Option<u16>,
    /// `listen … ssl`, or `ssl on;` in the server.
    pub ssl: bool,
    /// `listen … http2`.
    pub http2: bool,
    /// `default_server` (or the old `default`).
    pub default: bool,
}

/// The port of a `listen` address: `80`, `127.0.0.1:8080`, `[::]:443`, `*:80`, `localhost`
/// (80); `None` for `unix:`.
fn listen_port(addr: &str) -> Option<u16> {
    if addr.starts_with("unix:") {
        return None;
    }
    if addr.bytes().all(|b| b.is_ascii_digit()) {
        return addr.parse().ok();
    }
    let after_host = match addr.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
        None => addr.rsplit_once(':').map_or("", |(_, p)| p),
    };
    let port = after_host.trim_start_matches(':');
    if port.is_empty() {
        Some(80)
    } else {
        port.parse().ok()
    }
}

/// Where a setting's effective value comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'c> {
    Set(&'c Directive),
    Default,
}

/// The `proxy_set_header` list in force, and the block it is defined in (`None`: only nginx's
/// defaults apply).
#[derive(Debug, Clone)]
pub struct HeaderSet<'c> {
    pub level: Option<NodeId>,
    pub headers: Vec<&'c Directive>,
}

impl<'c> HeaderSet<'c> {
    /// The last `proxy_set_header NAME` (header names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'c Directive> {
        self.headers
            .iter()
            .rev()
            .find(|d| d.arg(0).is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .copied()
    }
}

/// How many directives the spliced tree may hold: files included over and over (each including
/// the next twice: 2^n copies from n small files) would otherwise cost time and memory
/// exponential in the input. Real configurations include a snippet per server, far below this.
pub const SPLICE_FACTOR: usize = 16;
/// The floor of that limit, so a small file including a larger snippet many times still reads.
pub const SPLICE_FLOOR: usize = 100_000;

fn splice_limit(directives_read: usize) -> usize {
    directives_read
        .saturating_mul(SPLICE_FACTOR)
        .max(SPLICE_FLOOR)
}

fn splice_error(d: &Directive, config: &Config, msg: String) -> crate::Error {
    crate::Error::NginxConfig {
        location: format!("{}:{}", config.files[d.file].path, d.line),
        message: msg,
    }
}

impl<'c> Model<'c> {
    /// Splice includes; an include loop (which makes nginx itself crash) is an error at the
    /// include that closes it.
    pub fn build(config: &'c Config, version: Version) -> Result<Model<'c>, crate::Error> {
        let mut m = Model {
            config,
            nodes: Vec::new(),
            roots: Vec::new(),
            version,
            variables: HashMap::new(),
            child_keys: Vec::new(),
            child_ids: Vec::new(),
            child_range: Vec::new(),
            upstreams: HashMap::default(),
        };
        // Every file once; included twice is rarer than the reallocations this saves.
        m.nodes.reserve(config.directive_count);
        let mut stack = vec![0usize];
        let roots = m.add_all(&config.files[0].directives, None, &mut stack)?;
        m.roots = roots;
        let total: usize = m.nodes.iter().map(|n| n.children.len()).sum();
        let mut group: Vec<(&'c str, NodeId)> = Vec::new();
        m.child_keys.reserve(total);
        m.child_ids.reserve(total);
        m.child_range.reserve(m.nodes.len());
        for n in &m.nodes {
            if n.children.is_empty() {
                m.child_range.push((m.child_keys.len(), 0));
                continue;
            }
            group.clear();
            group.extend(n.children.iter().map(|&c| (m.nodes[c].name, c)));
            // (name, id) keeps file order within a name without a stable sort's scratch buffer.
            group.sort_unstable();
            m.child_range.push((m.child_keys.len(), group.len()));
            m.child_keys.extend(group.iter().map(|&(k, _)| k));
            m.child_ids.extend(group.iter().map(|&(_, c)| c));
        }
        let mut upstreams: HashMap<&'c str, NodeId, Fnv> = HashMap::default();
        for h in m.top("http") {
            for &u in m.own(h, "upstream") {
                if let Some(name) = m.nodes[u].d.args.first() {
                    upstreams.entry(name.text.as_str()).or_insert(u);
                }
            }
        }
        m.upstreams = upstreams;
        Ok(m)
    }

    fn add_all(
        &mut self,
        ds: &'c [Directive],
        parent: Option<NodeId>,
        stack: &mut Vec<usize>,
    ) -> Result<Vec<NodeId>, crate::Error> {
        // One node per directive unless an include splices in more: sized once, no slack.
        let mut out = Vec::with_capacity(ds.len());
        for d in ds {
            if let Some(files) = &d.includes {
                for &f in files {
                    if stack.contains(&f) {
                        let chain: Vec<String> = stack
                            .iter()
                            .chain(std::iter::once(&f))
                            .map(|&i| self.config.files[i].path.clone())
                            .collect();
                        return Err(splice_error(
                            d,
                            self.config,
                            format!("include loop: {}", chain.join(" -> ")),
                        ));
                    }
                    stack.push(f);
                    let ids = self.add_all(&self.config.files[f].directives, parent, stack)?;
                    stack.pop();
                    out.extend(ids);
                    let limit = splice_limit(self.config.directive_count);
                    if self.nodes.len() > limit {
                        return Err(splice_error(
                            d,
                            self.config,
                            format!(
                                "includes expand to more than {limit} directives ({} in the files read); wspath refuses to read further",
                                self.config.directive_count
                            ),
                        ));
                    }
                }
                continue;
            }
            let id = self.nodes.len();
            self.nodes.push(Node {
                d,
                name: d.name.as_ref(),
                parent,
                children: Vec::new(),
            });
            let defined = match d.name.as_ref() {
                "map" | "split_clients" => d.arg(1),
                "geo" if d.block.is_some() => d.args.last().map(|a| a.text.as_str()),
                "set" | "set_by_lua_block" | "set_by_lua" => d.arg(0),
                _ => None,
            };
            if let Some(var) = defined.and_then(|v| v.strip_prefix('$')) {
                self.variables.entry(var.to_string()).or_insert(id);
            }
            if let Some(b) = &d.block {
                let children = self.add_all(&b.children, Some(id), stack)?;
                self.nodes[id].children = children;
            }
            out.push(id);
        }
        Ok(out)
    }

    pub fn node(&self, id: NodeId) -> &Node<'c> {
        &self.nodes[id]
    }

    pub fn name(&self, id: NodeId) -> &'c str {
        self.nodes[id].name
    }

    /// Direct children named `name`.
    pub fn own(&self, id: NodeId, name: &str) -> &[NodeId] {
        let Some(&(start, len)) = self.child_range.get(id) else {
            return &[];
        };
        let keys = &self.child_keys[start..start + len];
        let lo = keys.partition_point(|&k| k < name);
        let hi = lo + keys[lo..].partition_point(|&k| k == name);
        &self.child_ids[start + lo..start + hi]
    }

    fn top(&self, name: &str) -> Vec<NodeId> {
        self.roots
            .iter()
            .copied()
            .filter(|&r| self.nodes[r].d.name == name)
            .collect()
    }

    pub fn http(&self) -> Option<NodeId> {
        self.top("http").into_iter().next()
    }

    pub fn servers(&self) -> Vec<NodeId> {
        self.top("http")
            .into_iter()
            .flat_map(|h| self.own(h, "server").iter().copied())
            .collect()
    }

    /// Every location (nested too) and every `if` inside one, in file order.
    pub fn scopes(&self, server: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut todo: Vec<NodeId> = self.own(server, "location").iter().rev().copied().collect();
        while let Some(id) = todo.pop() {
            out.push(id);
            todo.extend(
                self.nodes[id]
                    .children
                    .iter()
                    .rev()
                    .copied()
                    .filter(|&c| matches!(self.name(c), "location" | "if")),
            );
        }
        out
    }

    /// The server that serves `host` (exact name, then wildcards, then regexes, then the
    /// default/first server), as nginx picks among servers sharing a listen address.
    pub fn server_for(&self, host: Option<&str>) -> Option<NodeId> {
        self.server_for_listen(host, None, None)
    }

    /// The `listen` directives of a server, parsed (a server without one listens on port 80).
    pub fn listens(&self, server: NodeId) -> Vec<Listen> {
        let own = self.listen_directives(server);
        if own.is_empty() {
            return vec![Listen {
                port: Some(80),
                ssl: self.ssl_on(server),
                http2: false,
                default: false,
            }];
        }
        own.into_iter().map(|(_, l)| l).collect()
    }

    /// `ssl on;` (before nginx 1.25): every listen of the server speaks TLS.
    fn ssl_on(&self, server: NodeId) -> bool {
        self.own(server, "ssl").iter().any(|&d| {
            self.nodes[d]
                .d
                .arg(0)
                .is_some_and(|a| a.eq_ignore_ascii_case("on"))
        })
    }

    /// Each `listen` directive of a server with what it says.
    pub fn listen_directives(&self, server: NodeId) -> Vec<(&'c Directive, Listen)> {
        let ssl_on = self.ssl_on(server);
        self.own(server, "listen")
            .iter()
            .map(|&l| {
                let d = self.nodes[l].d;
                let has = |w: &str| d.args.iter().skip(1).any(|a| a.text == w);
                let listen = Listen {
                    port: d.arg(0).and_then(listen_port),
                    ssl: ssl_on || has("ssl"),
                    http2: has("http2"),
                    default: has("default_server") || has("default"),
                };
                (d, listen)
            })
            .collect()
    }

    /// The server nginx picks for a request to `port` (over TLS when `tls`) with Host `host`:
    /// first the servers listening on that port (nginx chooses by address before name), else,
    /// when none does (the port seen from outside differs: NAT, a container's mapping), the
    /// servers whose listen matches the scheme; then by name among those, else their default
    /// server, else the first of them.
    pub fn server_for_listen(
        &self,
        host: Option<&str>,
        port: Option<u16>,
        tls: Option<bool>,
    ) -> Option<NodeId> {
        let all = self.servers();
        let on_port: Vec<NodeId> = match port {
            Some(p) => all
                .iter()
                .copied()
                .filter(|&s| self.listens(s).iter().any(|l| l.port == Some(p)))
                .collect(),
            None => Vec::new(),
        };
        let by_scheme: Vec<NodeId> = match tls {
            Some(t) if on_port.is_empty() => all
                .iter()
                .copied()
                .filter(|&s| self.listens(s).iter().any(|l| l.ssl == t))
                .collect(),
            _ => Vec::new(),
        };
        let servers = if !on_port.is_empty() {
            on_port
        } else if !by_scheme.is_empty() {
            by_scheme
        } else {
            all
        };
        if let Some(host) = host {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            for tier in NameTier::ALL {
                let named = servers
                    .iter()
                    .find(|&&s| self.server_names(s).iter().any(|n| tier.matches(n, &host)));
                if let Some(&s) = named {
                    return Some(s);
                }
            }
        }
        let default = servers.iter().find(|&&s| {
            self.listens(s)
                .iter()
                .any(|l| l.default && port.map_or(true, |p| l.port == Some(p)))
        });
        default.or(servers.first()).copied()
    }

    /// Every server that may answer `host` when the port is not known: all those naming it
    /// exactly (a `return 301` server on port 80 and the TLS server often share the name), else
    /// all matching a wildcard, else a regex, else [`Model::server_for`]'s default.
    pub fn servers_named(&self, host: &str) -> Vec<NodeId> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        for tier in NameTier::ALL {
            let found: Vec<NodeId> = self
                .servers()
                .into_iter()
                .filter(|&s| self.server_names(s).iter().any(|n| tier.matches(n, &host)))
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        self.server_for(Some(&host)).into_iter().collect()
    }

    /// The `server_name` arguments of `server`, lowercased (nginx compares names so).
    fn server_names(&self, server: NodeId) -> Vec<String> {
        self.own(server, "server_name")
            .iter()
            .flat_map(|&n| {
                self.nodes[n]
                    .d
                    .args
                    .iter()
                    .map(|a| a.text.as_str().to_ascii_lowercase())
            })
            .collect()
    }

    /// The named location `@name` of `server`, for `try_files … @name` and `error_page … @name`.
    pub fn named_location(&self, server: NodeId, name: &str) -> Option<NodeId> {
        self.own(server, "location")
            .iter()
            .copied()
            .find(|&l| self.location_pattern(l) == (Modifier::Named, name))
    }

    /// The named location an internal redirect for status `code` at `scope` goes to: the
    /// `error_page` list in force there (inherited only as a whole, like proxy_set_header)
    /// naming `code` with an `@name` target (`error_page 418 = @websocket;`).
    pub fn error_page_target(&self, server: NodeId, scope: NodeId, code: &str) -> Option<NodeId> {
        let level = self
            .levels(scope)
            .find(|&l| !self.own(l, "error_page").is_empty())?;
        self.own(level, "error_page").iter().find_map(|&e| {
            let d = self.nodes[e].d;
            let (target, codes) = d.args.split_last()?;
            let names_code = codes.iter().any(|c| c.text == code);
            (names_code && target.text.starts_with('@'))
                .then(|| self.named_location(server, &target.text))
                .flatten()
        })
    }

    /// Where a request for a path that is not a file ends up: a location that does not pass
    /// requests on itself but ends `try_files` with `@name` hands them to that named location
    /// (Django Channels', Mastodon's and many Rails recipes: `try_files $uri @app;`).
    pub fn try_files_target(&self, server: NodeId, location: NodeId) -> Option<NodeId> {
        const PASSES: [&str; 6] = [
            "proxy_pass",
            "fastcgi_pass",
            "uwsgi_pass",
            "scgi_pass",
            "memcached_pass",
            "grpc_pass",
        ];
        if PASSES.iter().any(|p| !self.own(location, p).is_empty()) {
            return None;
        }
        let tf = self.own(location, "try_files").last()?;
        let last = self.nodes[*tf].d.args.last()?.text.as_str();
        last.starts_with('@')
            .then(|| self.named_location(server, last))
            .flatten()
    }

    /// A location's modifier and pattern (`location ~* \.php$`, `location =/x`).
    pub fn location_pattern(&self, id: NodeId) -> (Modifier, &'c str) {
        let d = self.nodes[id].d;
        let a = |i: usize| d.args[i].text.as_str();
        let modifier = |m: &str| match m {
            "=" => Some(Modifier::Exact),
            "^~" => Some(Modifier::PrefixNoRegex),
            "~" => Some(Modifier::Regex),
            "~*" => Some(Modifier::RegexCaseless),
            _ => None,
        };
        if d.args.len() >= 2 {
            if let Some(m) = modifier(a(0)) {
                return (m, a(1));
            }
        }
        let p = d.arg(0).unwrap_or_default();
        for (prefix, m) in [
            ("^~", Modifier::PrefixNoRegex),
            ("~*", Modifier::RegexCaseless),
            ("=", Modifier::Exact),
            ("~", Modifier::Regex),
            ("@", Modifier::Named),
        ] {
            if let Some(rest) = p.strip_prefix(prefix) {
                let rest = if m == Modifier::Named { p } else { rest };
                return (m, rest);
            }
        }
        (Modifier::Prefix, p)
    }

    /// The location nginx picks for `uri` in `server`: exact match, else the longest prefix
    /// (then its nested locations), else the first matching regex (unless the prefix was `^~`).
    pub fn find_location(&self, server: NodeId, uri: &str) -> Option<NodeId> {
        let uri = uri.split(['?', '#']).next().unwrap_or(uri);
        self.find_in(server, uri).map(|(id, _)| id)
    }

    /// The location that makes nginx answer `uri` with a 301 to `uri/` instead of serving it: a
    /// prefix (or exact) location named `uri/` that passes requests on (`proxy_pass`,
    /// `fastcgi_pass`, …) sets nginx's auto-redirect, which beats shorter prefixes and every
    /// regex; only a location matching `uri` itself (`location = /ws`, `location /ws`) serves
    /// it instead. See ngx_http_core_find_static_location (`auto_redirect`) and the `location`
    /// directive's documentation.
    pub fn slash_redirect(&self, server: NodeId, uri: &str) -> Option<NodeId> {
        let uri = uri.split(['?', '#']).next().unwrap_or(uri);
        if uri.ends_with('/') {
            return None;
        }
        let slashed = format!("{uri}/");
        self.slash_redirect_in(server, uri, &slashed)
    }

    fn slash_redirect_in(&self, parent: NodeId, uri: &str, slashed: &str) -> Option<NodeId> {
        const PASSES: [&str; 6] = [
            "proxy_pass",
            "fastcgi_pass",
            "uwsgi_pass",
            "scgi_pass",
            "memcached_pass",
            "grpc_pass",
        ];
        let locs = self.own(parent, "location");
        let static_named = |l: NodeId, name: &str| {
            let (m, p) = self.location_pattern(l);
            matches!(
                m,
                Modifier::Exact | Modifier::Prefix | Modifier::PrefixNoRegex
            ) && p == name
        };
        if locs.iter().any(|&l| static_named(l, uri)) {
            return None;
        }
        if let Some(&l) = locs.iter().find(|&&l| {
            static_named(l, slashed) && PASSES.iter().any(|d| !self.own(l, d).is_empty())
        }) {
            return Some(l);
        }
        // Nested locations are searched inside the longest prefix that holds the URI.
        let outer = locs
            .iter()
            .filter(|&&l| {
                let (m, p) = self.location_pattern(l);
                matches!(m, Modifier::Prefix | Modifier::PrefixNoRegex) && uri.starts_with(p)
            })
            .max_by_key(|&&l| self.location_pattern(l).1.len())?;
        self.slash_redirect_in(*outer, uri, slashed)
    }

    /// (location, matched by exact/regex so search stops) among the locations directly in `parent`.
    fn find_in(&self, parent: NodeId, uri: &str) -> Option<(NodeId, bool)> {
        let locs = self.own(parent, "location");
        let mut best: Option<(NodeId, usize, bool)> = None;
        for &l in locs {
            let (m, p) = self.location_pattern(l);
            match m {
                Modifier::Exact if p == uri => return Some((l, true)),
                Modifier::Prefix | Modifier::PrefixNoRegex
                    if uri.starts_with(p) && best.map_or(true, |(_, len, _)| p.len() > len) =>
                {
                    best = Some((l, p.len(), m == Modifier::PrefixNoRegex));
                }
                _ => {}
            }
        }
        let mut found = None;
        if let Some((l, _, noregex)) = best {
            match self.find_in(l, uri) {
                Some((inner, true)) => return Some((inner, true)),
                Some((inner, false)) => found = Some(inner),
                None => found = Some(l),
            }
            if noregex {
                // `^~` skips the regexes of its own level only; an outer level still tries its own.
                return found.map(|f| (f, false));
            }
        }
        for &l in locs {
            let (m, p) = self.location_pattern(l);
            let caseless = match m {
                Modifier::Regex => false,
                Modifier::RegexCaseless => true,
                _ => continue,
            };
            if pcre_match(p, caseless, uri) {
                return match self.find_in(l, uri) {
                    Some((inner, _)) => Some((inner, true)),
                    None => Some((l, true)),
                };
            }
        }
        found.map(|f| (f, false))
    }

    /// Blocks from `scope` outwards to the top (the levels settings inherit through).
    pub fn levels(&self, scope: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(scope), move |&c| self.nodes[c].parent)
    }

    /// `proxy_set_header` in force at `scope`: the innermost level that has any.
    pub fn headers(&self, scope: NodeId) -> HeaderSet<'c> {
        for level in self.levels(scope) {
            let own = self.own(level, "proxy_set_header");
            if !own.is_empty() {
                return HeaderSet {
                    level: Some(level),
                    headers: own.iter().map(|&n| self.nodes[n].d).collect(),
                };
            }
        }
        HeaderSet {
            level: None,
            headers: Vec::new(),
        }
    }

    /// A scalar directive in force at `scope` (the innermost one set), with the level holding it.
    pub fn scalar(&self, scope: NodeId, name: &str) -> Option<(NodeId, &'c Directive)> {
        self.levels(scope).find_map(|level| {
            self.own(level, name)
                .last()
                .map(|&n| (level, self.nodes[n].d))
        })
    }

    /// `proxy_http_version` in force, as (major, minor), and where it came from.
    pub fn http_version(&self, scope: NodeId) -> ((u32, u32), Source<'c>) {
        match self.scalar(scope, "proxy_http_version") {
            Some((_, d)) => {
                let v = d.arg(0).unwrap_or("1.0");
                let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
                let major = it.next().unwrap_or(1);
                let minor = it.next().unwrap_or(0);
                ((major, minor), Source::Set(d))
            }
            None => (self.version.default_http_version(), Source::Default),
        }
    }

    /// A timeout in force (`proxy_read_timeout` …; nginx's default is 60 s).
    pub fn timeout(&self, scope: NodeId, name: &str) -> (Duration, Source<'c>) {
        match self.scalar(scope, name) {
            Some((_, d)) => (
                d.arg(0)
                    .and_then(parse_time)
                    .unwrap_or(Duration::from_secs(60)),
                Source::Set(d),
            ),
            None => (Duration::from_secs(60), Source::Default),
        }
    }

    /// The `proxy_pass` of a scope (never inherited).
    pub fn proxy_pass(&self, scope: NodeId) -> Option<&'c Directive> {
        self.own(scope, "proxy_pass")
            .last()
            .map(|&n| self.nodes[n].d)
    }

    /// The upstream block named `name`, if any (`proxy_pass http://name`).
    pub fn upstream(&self, name: &str) -> Option<NodeId> {
        self.upstreams.get(name).copied()
    }

    /// The upstream a `proxy_pass` URL names, if it names one.
    pub fn upstream_of(&self, proxy_pass: &Directive) -> Option<NodeId> {
        let url = proxy_pass.arg(0)?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let host = rest.split(['/', ':']).next()?;
        self.upstream(host)
    }

    /// Does a `map`, `geo`, `split_clients` or `set` define `$name`?
    pub fn defines_variable(&self, name: &str) -> bool {
        self.variables.contains_key(name)
    }

    /// The `map` block defining `$name`.
    pub fn map_for(&self, name: &str) -> Option<NodeId> {
        self.variables
            .get(name)
            .copied()
            .filter(|&n| self.nodes[n].d.name == "map")
    }

    /// The value a map gives when its source variable holds `input` (exact keys, then regexes
    /// in order, then `default`).
    pub fn map_value(&self, map: NodeId, input: &str) -> String {
        let entries = || self.nodes[map].children.iter().map(|&c| self.nodes[c].d);
        let value = |d: &Directive| d.arg(0).unwrap_or_default().to_string();
        // String keys match case-insensitively (nginx lowercases both sides: a `WebSocket`
        // key matches the `websocket` browsers send; checked on nginx 1.22).
        if let Some(d) = entries().find(|d| {
            !d.name.starts_with('~') && d.name.eq_ignore_ascii_case(input) && d.name != "default"
        }) {
            return value(d);
        }
        for d in entries() {
            let matched = if let Some(p) = d.name.strip_prefix("~*") {
                pcre_match(p, true, input)
            } else if let Some(p) = d.name.strip_prefix('~') {
                pcre_match(p, false, input)
            } else {
                continue;
            };
            if matched {
                return value(d);
            }
        }
        entries()
            .find(|d| d.name == "default")
            .map(value)
            .unwrap_or_default()
    }
}

/// A PCRE pattern as nginx compiles it (location, map and server_name regexes): lookaround
/// and backreferences included, which the `regex` crate refuses (`location ~ ^/(?!static/)` is
/// common); `caseless` is `~*`. `None` when even PCRE-style parsing fails: the caller then
/// cannot say whether it matches.
pub fn pcre(pattern: &str, caseless: bool) -> Option<fancy_regex::Regex> {
    let p = if caseless {
        format!("(?i){pattern}")
    } else {
        pattern.to_string()
    };
    fancy_regex::RegexBuilder::new(&p)
        .backtrack_limit(100_000)
        .build()
        .ok()
}

/// Does the PCRE pattern match? A pattern that cannot be compiled, or a match that runs past
/// the backtracking limit, does not.
pub fn pcre_match(pattern: &str, caseless: bool, text: &str) -> bool {
    pcre(pattern, caseless).is_some_and(|r| r.is_match(text).unwrap_or(false))
}

/// nginx's time syntax: `60`, `60s`, `1m30s`, `500ms`, `1h`, `1d`, and parts separated by
/// spaces (`"1h 30m"`, quoted in a config), which ngx_parse_time skips.
pub fn parse_time(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        rest = rest.trim_start_matches(' ');
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (Duration::from_millis(1), 2)
        } else {
            match rest.chars().next() {
                None => (Duration::from_secs(1), 0),
                Some('s') => (Duration::from_secs(1), 1),
                Some('m') => (Duration::from_secs(60), 1),
                Some('h') => (Duration::from_secs(3600), 1),
                Some('d') => (Duration::from_secs(86_400), 1),
                Some('w') => (Duration::from_secs(604_800), 1),
                Some('M') => (Duration::from_secs(2_592_000), 1),
                Some('y') => (Duration::from_secs(31_536_000), 1),
                _ => return None,
            }
        };
        total += unit * u32::try_from(n).ok()?;
        rest = &rest[len..];
    }
    Some(total)
}

/// How a `server_name` matches a Host, in the order nginx tries them: an exact name, then a
/// wildcard (`*.example.com`, `.example.com`, `www.example.*`), then a regex (`~…`).
#[derive(Clone, Copy)]
enum NameTier {
    Exact,
    Wildcard,
    Regex,
}

impl NameTier {
    const ALL: [NameTier; 3] = [NameTier::Exact, NameTier::Wildcard, NameTier::Regex];

    /// Whether `name` (lowercased) matches `host` (lowercased, no trailing dot) in this tier.
    fn matches(self, name: &str, host: &str) -> bool {
        match self {
            NameTier::Exact => name == host,
            NameTier::Wildcard => {
                if let Some(suffix) = name.strip_prefix("*.") {
                    host.ends_with(&format!(".{suffix}"))
                } else if let Some(suffix) = name.strip_prefix('.') {
                    host == suffix || host.ends_with(&format!(".{suffix}"))
                } else if let Some(prefix) = name.strip_suffix(".*") {
                    host.starts_with(&format!("{prefix}."))
                } else {
                    false
                }
            }
            NameTier::Regex => name
                .strip_prefix('~')
                .is_some_and(|r| pcre_match(r, false, host)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::parser::parse_with;

    fn config(src: &str) -> Config {
        parse_with("/t/nginx.conf".into(), src.into(), |p| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                p.to_string(),
            ))
        })
    }

    const LOCS: &str = "http { server {
        location / { }
        location /ws/ { location /ws/admin/ { } location ~ \\.json$ { } }
        location ^~ /static/ { }
        location = /exact { }
        location ~* ^/WS/chat { }
        location ~ ^/ws/chat { }
        location /static/x/ { }
    } }";

    fn pick(m: &Model, uri: &str) -> String {
        let s = m.servers()[0];
        let l = m.find_location(s, uri).unwrap();
        m.nodes[l]
            .d
            .args
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn location_matching_like_nginx() {
        let c = config(LOCS);
        let m = Model::build(&c, Version::OLDEST).unwrap();
        assert_eq!(pick(&m, "/exact"), "= /exact");
        assert_eq!(pick(&m, "/exact/more"), "/");
        assert_eq!(pick(&m, "/ws/chat"), "~* ^/WS/chat");
        assert_eq!(pick(&m, "/ws/other"), "/ws/");
        assert_eq!(pick(&m, "/ws/admin/x"), "/ws/admin/");
        assert_eq!(pick(&m, "/ws/a.json"), "~ \\.json$");
        assert_eq!(pick(&m, "/static/x/a"), "/static/x/");
        assert_eq!(pick(&m, "/static/a?q=1"), "^~ /static/");
    }

    #[test]
    fn array_headers_drop_inherited_scalars_inherit() {
        let c = config(
            "http { proxy_http_version 1.1; server { proxy_set_header Upgrade $http_upgrade;
             location / { proxy_set_header Host $host; proxy_pass http://a; } } }",
        );
        let m = Model::build(&c, Version::OLDEST).unwrap();
        let loc = m.scopes(m.servers()[0])[0];
        let h = m.headers(loc);
        assert_eq!(h.level, Some(loc));
        assert!(h.get("upgrade").is_none());
        assert_eq!(m.http_version(loc).0, (1, 1));
    }

    #[test]
    fn the_server_is_chosen_by_port_and_tls_before_the_name() {
        let c = config(
            "http { server { server_name a.test; listen 80; return 301 https://$host; }
              server { server_name a.test; listen [::]:443 ssl; listen 127.0.0.1:8443 ssl; }
              server { listen 8080 default_server; } server { server_name b.test; ssl on; } }",
        );
        let m = Model::build(&c, Version::OLDEST).unwrap();
        let s = m.servers();
        assert_eq!(m.server_for(Some("a.test")), Some(s[0]));
        assert_eq!(
            m.server_for_listen(Some("a.test"), Some(443), Some(true)),
            Some(s[1])
        );
        assert_eq!(
            m.server_for_listen(Some("a.test"), Some(8443), None),
            Some(s[1])
        );
        // No server listens on the port seen from outside: the scheme decides.
        assert_eq!(
            m.server_for_listen(Some("a.test"), Some(30443), Some(true)),
            Some(s[1])
        );
        assert_eq!(
            m.server_for_listen(Some("x.test"), Some(8080), Some(false)),
            Some(s[2])
        );
        // `ssl on;` without a listen: port 80 over TLS.
        assert_eq!(
            m.listens(s[3])[0],
            Listen {
                port: Some(80),
                ssl: true,
                http2: false,
                default: false
            }
        );
        assert_eq!(listen_port("unix:/run/a.sock"), None);
        assert_eq!(listen_port("localhost"), Some(80));
        assert_eq!(listen_port("*:8000"), Some(8000));
    }

    #[test]
    fn pcre_patterns_nginx_accepts() {
        assert!(pcre_match("^/(?!assets/)", false, "/cable"));
        assert!(!pcre_match("^/(?!assets/)", false, "/assets/a.js"));
        assert!(pcre_match("^/(?<room>[^/]+)$", false, "/lobby"));
        assert!(pcre_match("upgrade", true, "keep-alive, Upgrade"));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_time("75"), Some(Duration::from_secs(75)));
        assert_eq!(parse_time("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("2m 30s"), Some(Duration::from_secs(150)));
        assert_eq!(parse_time("1h  30m 5"), Some(Duration::from_secs(5405)));
    }
}

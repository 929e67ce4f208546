//! One path builder for every test that needs a chain of real servers: start from the
//! innermost hop (a backend, an address with nothing behind it), put proxies of any [`Kind`] in
//! front one by one, and get the `--hop` list back, outermost first.
//!
//! ```ignore
//! let path = WsPath::backend(Backend::start()?)
//!     .front("lb", Kind::Haproxy, &Setup::good())?
//!     .front("edge", Kind::Apache, &Setup::no_websocket())?;
//! wspath(&["check", TARGET, "--json"].iter().chain(&path.hop_args())…)
//! ```

use super::backend::Backend;
use super::proxy::{Kind, Proxy, Setup};
use std::any::Any;
use std::io;
use std::path::Path;

/// A chain of running servers and the hop names the test gives them; every server stops when
/// this is dropped.
#[derive(Default)]
pub struct WsPath {
    /// `NAME=ADDRESS` (or `NAME=ws://…`), innermost first.
    hops: Vec<String>,
    /// The address each hop listens on, innermost first.
    addrs: Vec<String>,
    /// Whatever keeps the servers running (stopped on Drop).
    servers: Vec<Box<dyn Any>>,
}

impl std::fmt::Debug for WsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsPath").field("hops", &self.hops).finish()
    }
}

impl WsPath {
    /// A path whose innermost hop is the echo `backend`, named `backend`.
    pub fn backend(backend: Backend) -> WsPath {
        WsPath::new().inner("backend", &backend.addr(), backend)
    }

    /// A path whose innermost hop is `addr`, named `name`, kept alive by `server` (anything
    /// that stops its server on Drop; `()` for an address with nothing behind it).
    pub fn to(name: &str, addr: &str, server: impl Any) -> WsPath {
        WsPath::new().inner(name, addr, server)
    }

    fn new() -> WsPath {
        WsPath::default()
    }

    fn inner(mut self, name: &str, addr: &str, server: impl Any) -> WsPath {
        self.hops.push(format!("{name}={addr}"));
        self.addrs.push(addr.to_string());
        self.servers.push(Box::new(server));
        self
    }

    /// Starts `kind` in front of the current outermost hop, set up as `setup` says, and names
    /// it `name` (`lb`, `edge`, `apache`, `proxy:lb`, …).
    /// A hop serving TLS (`setup.listen_tls`) is listed as `wss://ADDRESS`, so it is probed
    /// with TLS whatever the target's scheme.
    pub fn front(self, name: &str, kind: Kind, setup: &Setup) -> io::Result<WsPath> {
        let proxy = Proxy::in_front_of(kind, self.outer_addr(), setup)?;
        let addr = proxy.addr();
        let hop = match setup.listen_tls {
            Some(_) => format!("wss://{addr}"),
            None => addr.clone(),
        };
        let mut path = self.inner(name, &hop, proxy);
        // The next proxy in front connects to the bare address.
        *path.addrs.last_mut().expect("just pushed") = addr;
        Ok(path)
    }

    /// Starts `kind` in front of the current outermost hop with a whole config
    /// `config(dir, port, inner)` of the test's own.
    pub fn front_with(
        self,
        name: &str,
        kind: Kind,
        config: impl Fn(&Path, u16, &str) -> String,
    ) -> io::Result<WsPath> {
        let inner = self.outer_addr().to_string();
        let proxy = Proxy::start(kind, |dir, port| config(dir, port, &inner))?;
        let addr = proxy.addr();
        Ok(self.inner(name, &addr, proxy))
    }

    /// Starts nginx in front of the current outermost hop with a layout of the test's own:
    /// `body(inner)` is the inside of its one `server` for app.test, listening with `listen`
    /// options (see [`super::nginx::site`]).
    pub fn front_nginx(
        self,
        name: &str,
        listen: &str,
        body: impl Fn(&str) -> String,
    ) -> io::Result<WsPath> {
        self.front_with(name, Kind::Nginx, |dir, port, inner| {
            super::nginx::site(dir, port, listen, &body(inner))
        })
    }

    /// Adds a hop the test started itself (a TLS nginx, a fake), listening on `addr`.
    pub fn front_server(self, name: &str, addr: &str, server: impl Any) -> WsPath {
        self.inner(name, addr, server)
    }

    /// The address of the outermost hop so far.
    pub fn outer_addr(&self) -> &str {
        self.addrs.last().map(String::as_str).unwrap_or("")
    }

    /// The address of hop `i`, counted from the outermost (0).
    pub fn addr(&self, i: usize) -> &str {
        &self.addrs[self.addrs.len() - 1 - i]
    }

    /// `NAME=ADDRESS` for every hop, outermost first.
    pub fn hops(&self) -> Vec<String> {
        self.hops.iter().rev().cloned().collect()
    }

    /// `(NAME, ADDRESS)` for every hop, outermost first.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.hops
            .iter()
            .rev()
            .map(|h| h.split_once('=').expect("NAME=ADDRESS"))
            .collect()
    }

    /// `--hop NAME=ADDRESS` for every hop, outermost first, ready to append to a command line.
    pub fn hop_args(&self) -> Vec<String> {
        self.hops()
            .into_iter()
            .flat_map(|h| ["--hop".to_string(), h])
            .collect()
    }

    /// The running proxy of hop `i` (counted from the outermost), if the builder started it.
    pub fn proxy(&self, i: usize) -> Option<&Proxy> {
        self.server(i)
    }

    /// What keeps hop `i` (counted from the outermost) running, if it is a `T` (a
    /// [`Backend`], a [`Proxy`], the test's own server).
    pub fn server<T: Any>(&self, i: usize) -> Option<&T> {
        self.servers[self.servers.len() - 1 - i].downcast_ref::<T>()
    }

    /// Like [`WsPath::server`], to stop it or change it.
    pub fn server_mut<T: Any>(&mut self, i: usize) -> Option<&mut T> {
        let n = self.servers.len();
        self.servers[n - 1 - i].downcast_mut::<T>()
    }
}

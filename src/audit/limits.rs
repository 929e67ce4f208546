//! How hard an audit may hit the hops it measures: a global bound on connections and a bound
//! per resolved address, so the audit never becomes the load that breaks a hop.
//!
//! A check takes, before it starts, one global permit per hop and one permit per hop on the
//! semaphore of the address that hop connects to, and holds them to its end (every connection
//! the walk opens, idle hold included, is inside them). Permits are taken in one global order
//! (addresses sorted, then global), so two checks can never wait on each other; and a check
//! waiting for a busy address holds no global permit, so it never idles capacity that checks
//! bound elsewhere could use.

use crate::hop::Hop;
use crate::target::Target;
use crate::walk::CheckConfig;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The semaphores of one audit.
#[derive(Debug)]
pub struct Limits {
    global: Arc<Semaphore>,
    global_max: usize,
    per_host: usize,
    hosts: Mutex<HashMap<Address, Arc<Semaphore>>>,
}

/// Held while a check runs; dropping it frees the permits.
#[derive(Debug)]
pub struct Permits {
    // A check of one address (most) holds one address permit and the global one: no vector.
    _first: Option<OwnedSemaphorePermit>,
    _more: Vec<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

/// The address a hop's connection goes to: the first resolved IP and the port, or the name and
/// port as written when it does not resolve (the probe then reports the DNS failure). Ordered,
/// so every check takes its address permits in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Address {
    Ip(SocketAddr),
    Name(String, u16),
}

impl Limits {
    /// `concurrency` connections at once in all, `per_host` per resolved address (both ≥ 1).
    pub fn new(concurrency: usize, per_host: usize) -> Limits {
        let concurrency = concurrency.max(1);
        Limits {
            global: Arc::new(Semaphore::new(concurrency)),
            global_max: concurrency,
            per_host: per_host.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn host(&self, key: &Address) -> Arc<Semaphore> {
        // A poisoned lock only means another check panicked while inserting; the map is fine.
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = hosts.get(key) {
            return s.clone();
        }
        hosts
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// `count` permits of the address `key` (clamped to the bound, so a check wider than it
    /// still runs).
    async fn take(&self, key: &Address, count: u32) -> Option<OwnedSemaphorePermit> {
        let n = count.min(self.per_host as u32);
        // The semaphores are never closed, so acquiring cannot fail.
        self.host(key).acquire_many_owned(n).await.ok()
    }

    /// Waits until every hop of `config` may connect.
    pub async fn acquire(&self, config: &CheckConfig) -> Permits {
        let (first, more) = match config.hops.as_slice() {
            [] => (None, Vec::new()),
            [hop] => {
                let (host, port) = connects_to(hop, &config.target);
                (self.take(&address(host, port).await, 1).await, Vec::new())
            }
            hops => {
                let mut per_address: BTreeMap<Address, u32> = BTreeMap::new();
                for hop in hops {
                    let (host, port) = connects_to(hop, &config.target);
                    *per_address.entry(address(host, port).await).or_default() += 1;
                }
                let mut held = Vec::with_capacity(per_address.len());
                for (key, count) in per_address {
                    held.extend(self.take(&key, count).await);
                }
                (None, held)
            }
        };
        let n = config.hops.len().clamp(1, self.global_max) as u32;
        let global = self.global.clone().acquire_many_owned(n).await.ok();
        Permits {
            _first: first,
            _more: more,
            _global: global,
        }
    }
}

/// The host and port `hop` connects to.
fn connects_to<'a>(hop: &'a Hop, target: &'a Target) -> (&'a str, u16) {
    match &hop.connect {
        Some((host, port)) => (host.as_str(), *port),
        None => (target.host.as_str(), target.port),
    }
}

/// The address `host:port` connects to (see [`Address`]).
async fn address(host: &str, port: u16) -> Address {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Address::Ip(SocketAddr::new(ip, port));
    }
    match tokio::net::lookup_host((bare, port)).await {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => Address::Ip(a),
            None => Address::Name(bare.to_string(), port),
        },
        Err(_) => Address::Name(bare.to_string(), port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hop::HopSpec;
    use crate::probe::ProbeOptions;
    use crate::Target;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn config(hops: &[&str]) -> CheckConfig {
        let target = Target::parse("ws://app.test/ws").unwrap();
        CheckConfig {
            hops: hops
                .iter()
                .map(|h| HopSpec::parse(h).unwrap().resolve(&target))
                .collect(),
            probe: ProbeOptions::new(&target),
            target,
            compare: Vec::new(),
        }
    }

    #[tokio::test]
    async fn per_address_bound_holds_under_many_checks() {
        let limits = Arc::new(Limits::new(32, 3));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let (limits, running, peak) = (limits.clone(), running.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let c = config(&["backend=127.0.0.1:9"]);
                let _p = limits.acquire(&c).await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_check_waiting_for_a_busy_address_leaves_global_room_for_others() {
        let limits = Arc::new(Limits::new(2, 1));
        let busy = config(&["backend=127.0.0.1:9"]);
        let _running = limits.acquire(&busy).await;
        let waiting = {
            let (limits, busy) = (limits.clone(), busy.clone());
            tokio::spawn(async move { limits.acquire(&busy).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let elsewhere = config(&["backend=127.0.0.2:9"]);
        tokio::time::timeout(Duration::from_secs(2), limits.acquire(&elsewhere))
            .await
            .expect("a check bound elsewhere starts while another waits for its address");
        waiting.abort();
    }

    #[tokio::test]
    async fn a_check_wider_than_the_bounds_still_runs() {
        let limits = Limits::new(1, 1);
        let c = config(&["a=127.0.0.1:1", "b=127.0.0.1:1", "c=127.0.0.2:1"]);
        let _p = tokio::time::timeout(Duration::from_secs(5), limits.acquire(&c))
            .await
            .expect("clamped to the bounds, not deadlocked");
    }
}

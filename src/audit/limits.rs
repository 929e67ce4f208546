//! How hard an audit may hit the hops it measures: a global bound on connections and a bound
//! per resolved address, so the audit never becomes the load that breaks a hop.
//!
//! A check takes, before it starts, one global permit per hop and one permit per hop on the
//! semaphore of the address that hop connects to, and holds them to its end (every connection
//! the walk opens, idle hold included, is inside them). Permits are taken in one global order
//! (addresses sorted, then global), so two checks can never wait on each other; and a check
//! waiting for a busy address holds no global permit, so it never idles capacity that checks
//! bound elsewhere could use.

use crate::walk::CheckConfig;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The semaphores of one audit.
#[derive(Debug)]
pub struct Limits {
    global: Arc<Semaphore>,
    global_max: usize,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while a check runs; dropping it frees the permits.
#[derive(Debug)]
pub struct Permits {
    _held: Vec<OwnedSemaphorePermit>,
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

    fn host(&self, key: &str) -> Arc<Semaphore> {
        // A poisoned lock only means another check panicked while inserting; the map is fine.
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// Waits until every hop of `config` may connect.
    pub async fn acquire(&self, config: &CheckConfig) -> Permits {
        let mut per_address: BTreeMap<String, u32> = BTreeMap::new();
        for hop in &config.hops {
            let (host, port) = hop
                .connect
                .clone()
                .unwrap_or_else(|| (config.target.host.clone(), config.target.port));
            *per_address
                .entry(address_key(&host, port).await)
                .or_default() += 1;
        }
        let mut held = Vec::with_capacity(per_address.len() + 1);
        // The semaphores are never closed, so acquiring cannot fail.
        for (key, count) in per_address {
            let n = count.min(self.per_host as u32);
            if let Ok(p) = self.host(&key).acquire_many_owned(n).await {
                held.push(p);
            }
        }
        let n = config.hops.len().clamp(1, self.global_max) as u32;
        if let Ok(p) = self.global.clone().acquire_many_owned(n).await {
            held.push(p);
        }
        Permits { _held: held }
    }
}

/// The address a hop's connection goes to: the first resolved IP and the port, or the name as
/// written when it does not resolve (the probe then reports the DNS failure).
async fn address_key(host: &str, port: u16) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return std::net::SocketAddr::new(ip, port).to_string();
    }
    match tokio::net::lookup_host((bare, port)).await {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => a.to_string(),
            None => format!("{bare}:{port}"),
        },
        Err(_) => format!("{bare}:{port}"),
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

//! A process-wide "stop now and report what you have" request.
//!
//! The binary turns SIGINT/SIGTERM into [`request`]; the walk and the idle hold listen with
//! [`wait`], so a Ctrl-C during `--idle 30s` still yields the report of the hops seen so far.
//! A global, because a signal is one per process and every probe of the walk must hear it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use tokio::sync::Notify;

static REQUESTED: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Asks every running walk to stop and report.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
    notify().notify_waiters();
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Resolves once a stop is requested (at once if it already was).
pub async fn wait() {
    loop {
        // Created before the check: `notify_waiters` wakes every `Notified` that exists.
        let notified = notify().notified();
        if requested() {
            return;
        }
        notified.await;
    }
}

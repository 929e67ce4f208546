//! SIGINT and SIGTERM. During a walk the first one asks the engine to stop and report what it
//! has (`wspath::interrupt`), and the run then exits 130 (SIGINT) or 143 (SIGTERM) after
//! printing that partial report; at any other time, or on a second signal, it exits at once
//! with that code, as a shell expects of a program killed by the signal.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use tokio::signal::unix::{signal, SignalKind};

static EXIT: AtomicU8 = AtomicU8::new(0);
static WALKING: AtomicBool = AtomicBool::new(false);
static DEFERRED: AtomicBool = AtomicBool::new(false);

/// Starts listening (on the runtime); call once, from inside it.
pub fn listen() {
    for (kind, code) in [
        (SignalKind::interrupt(), 130),
        (SignalKind::terminate(), 143),
    ] {
        let Ok(mut stream) = signal(kind) else {
            continue;
        };
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                on_signal(code);
            }
        });
    }
}

fn on_signal(code: u8) {
    let first = EXIT
        .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if DEFERRED.load(Ordering::SeqCst) {
        // A fix transaction stops at its next safe step and reports; the exit code is ours.
        return;
    }
    if first && WALKING.load(Ordering::SeqCst) {
        wspath::interrupt::request();
        return;
    }
    std::process::exit(i32::from(code));
}

/// A command that handles SIGINT/SIGTERM itself (a fix writing files, which must not die
/// between two renames): from now on a signal only sets the exit code.
pub fn defer_to_command() {
    DEFERRED.store(true, Ordering::SeqCst);
}

/// While `walking`, a signal stops the walk (which then reports) instead of the process.
pub fn set_walking(walking: bool) {
    WALKING.store(walking, Ordering::SeqCst);
}

/// 130 or 143 once a signal stopped a walk. `None` when a command that handles signals itself
/// (a fix transaction) was running: its own outcome and exit code stand.
pub fn exit_code() -> Option<u8> {
    if DEFERRED.load(Ordering::SeqCst) {
        return None;
    }
    match EXIT.load(Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}

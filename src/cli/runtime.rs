//! The tokio runtime each command needs, no bigger: a check drives one connection per hop, so
//! its runtime has a thread per hop at most (one hop: a single-threaded runtime); an audit's is
//! sized from its connection bound; the rest keep the default.

use super::Command;
use tokio::runtime::{Builder, Runtime};

pub fn for_command(command: &Command) -> std::io::Result<Runtime> {
    // Counting cores reads the cgroup files (a dozen syscalls and their parsing): only when
    // the answer can matter, not for the usual check of one hop.
    let cores = || std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match command {
        Command::Check(args) if args.hops.len() <= 1 => Some(1),
        Command::Check(args) => Some(args.hops.len().min(cores())),
        Command::Audit(args) => Some(args.worker_threads()),
        _ => None,
    };
    match threads {
        Some(1) => Builder::new_current_thread().enable_all().build(),
        Some(n) => Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => Builder::new_multi_thread().enable_all().build(),
    }
}

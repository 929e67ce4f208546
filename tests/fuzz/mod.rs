//! Fuzzing on the stable toolchain: every parser that reads bytes from outside (response head,
//! frames after a 101, nginx configuration, target URL and `--hop`) is fed (1) its checked-in
//! corpus in `tests/fuzz/corpus/TARGET/` plus the project's own fixtures as seeds, and (2) for a
//! bounded time, inputs mutated from those seeds by `arbtest` (random, reproducible by seed).
//! A case fails on a panic or when it takes longer than [`CASE_LIMIT`]; its input is written to
//! `target/fuzz-failures/TARGET/` so it can be added to the corpus once fixed.
//!
//! `WSPATH_FUZZ_MS` sets the fuzz budget per target (default [`DEFAULT_BUDGET_MS`]); a failing
//! run prints `ARBTEST_SEED`, which replays exactly that run. `fuzz/` has the same targets for
//! cargo-fuzz (nightly, not needed by CI).

mod mutate;
mod targets;

use crate::support::repo_root;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use targets::Fuzz;

/// The slowest one input may be, in a debug build on a loaded 2-core machine.
const CASE_LIMIT: Duration = Duration::from_secs(3);
/// Fuzz time per target in `cargo test`.
const DEFAULT_BUDGET_MS: u64 = 3000;
/// Stack of the threads the cases run on: the 2 MiB every spawned Rust thread gets by default
/// (and tokio's workers), not more. The nginx parser recurses per nested block; inputs nest
/// thousands of levels deep, and its depth limit must refuse them before that stack runs out.
const STACK: usize = 2 << 20;

fn target(name: &str) -> Fuzz {
    targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
}

/// Runs one input; on a panic or a slow case, keeps the input and fails.
fn run_case(name: &str, fuzz: Fuzz, input: &[u8]) {
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| fuzz(input)));
    let took = start.elapsed();
    if let Err(panic) = result {
        let kept = keep_failure(name, input);
        eprintln!("fuzz {name}: panic on the input kept in {}", kept.display());
        resume_unwind(panic);
    }
    if took > CASE_LIMIT {
        let kept = keep_failure(name, input);
        panic!(
            "fuzz {name}: one input took {took:?} (limit {CASE_LIMIT:?}); kept in {}",
            kept.display()
        );
    }
}

fn keep_failure(name: &str, input: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = repo_root().join("target/fuzz-failures").join(name);
    let path = dir.join(format!("{:016x}", h.finish()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(&path, input);
    path
}

/// Every file under `dir` (recursively) whose name ends with one of `extensions` (all files
/// when empty), sorted.
fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if extensions.is_empty()
                || extensions.iter().any(|x| p.to_string_lossy().ends_with(x))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The seeds of a target: its corpus and the fixtures the project already has of its kind.
fn seeds(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = repo_root();
    let mut paths = files(&root.join("tests/fuzz/corpus").join(name), &[]);
    match name {
        "head" => paths.extend(files(&root.join("src/probe/fixtures"), &[".http"])),
        "nginx" => paths.extend(files(&root.join("tests/fixtures/nginx"), &[".conf"])),
        _ => {}
    }
    let seeds: Vec<(PathBuf, Vec<u8>)> = paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    assert!(seeds.len() >= 3, "fuzz {name}: only {} seeds", seeds.len());
    seeds
}

/// Runs `f` on a thread with a [`STACK`]-sized stack.
fn on_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn fuzz thread");
    if let Err(panic) = handle.join() {
        resume_unwind(panic);
    }
}

/// Every seed once, unchanged.
fn replay(name: &'static str) {
    on_stack(move || {
        let fuzz = target(name);
        for (path, bytes) in seeds(name) {
            let result = catch_unwind(AssertUnwindSafe(|| run_case(name, fuzz, &bytes)));
            if let Err(panic) = result {
                eprintln!("fuzz {name}: corpus file {} fails", path.display());
                resume_unwind(panic);
            }
        }
    });
}

/// Mutated seeds for the budget (`WSPATH_FUZZ_MS`, else [`DEFAULT_BUDGET_MS`]).
fn fuzz(name: &'static str) {
    let budget = std::env::var("WSPATH_FUZZ_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BUDGET_MS);
    on_stack(move || {
        let fuzz = target(name);
        let seeds: Vec<Vec<u8>> = seeds(name).into_iter().map(|(_, b)| b).collect();
        let dictionary = mutate::dictionary(name);
        let max_len = mutate::max_len(name);
        let mut cases = 0u64;
        arbtest::arbtest(|u| {
            let seed = u.choose(&seeds)?;
            let other = u.choose(&seeds)?;
            let input = mutate::mutate(u, seed, other, dictionary, max_len)?;
            run_case(name, fuzz, &input);
            cases += 1;
            Ok(())
        })
        .size_min(64)
        .size_max(4096)
        .budget_ms(budget)
        .run();
        eprintln!("fuzz {name}: {cases} cases in {budget} ms, no failure");
        assert!(cases > 0, "fuzz {name}: no case ran");
    });
}

#[test]
fn corpus_head() {
    replay("head");
}

#[test]
fn corpus_frames() {
    replay("frames");
}

#[test]
fn corpus_nginx() {
    replay("nginx");
}

#[test]
fn corpus_url() {
    replay("url");
}

#[test]
fn fuzz_head() {
    fuzz("head");
}

#[test]
fn fuzz_frames() {
    fuzz("frames");
}

#[test]
fn fuzz_nginx() {
    fuzz("nginx");
}

#[test]
fn fuzz_url() {
    fuzz("url");
}

//! The nginx analyzer against real nginx and crossplane: `--dump`, `lint nginx`, `fix --nginx`.
//! (A directory, not tests/nginx_*.rs, so cargo does not also build each file as its own test.)

mod dump;
mod e2e;
mod field;
mod fix;
mod lint;
mod transaction;
mod transaction_prop;

//! The one integration-test binary: real nginx, HAProxy and WebSocket backends on 127.0.0.1.
//!
//! One binary (not one per file) so cargo links once; each area adds its `mod` line here.

mod alb;
mod audit;
mod check;
mod cloudflare;
mod field;
mod fuzz;
mod hardening;
mod http2;
mod nginx;
mod paths;
mod probe;
mod serve;
mod software;
mod support;

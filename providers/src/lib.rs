//! Thin adapters that read CDN and load-balancer configuration and report it as facts.
//! They never decide whether a fact is a problem: the rules that do live in `wspath`.

pub mod aws_alb;
pub mod cloudflare;
mod error;

pub use error::Error;

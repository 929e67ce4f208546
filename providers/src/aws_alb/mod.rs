//! AWS ELBv2: load balancer, listeners, rules, target groups and health as facts for the lb hop,
//! and the few additive writes `wspath fix --alb` makes. Callers pass their own
//! [`Client`] (see [`client::connect`]) so tests can point it at an emulator. The SDK is built
//! without its default HTTP client: a `Client` made from an [`sdk::Config`] of one's own needs
//! [`https_client`] (or another) in it.

pub mod client;
mod errors;
pub mod matching;
pub mod model;
pub mod read;
pub mod write;

pub use aws_sdk_elasticloadbalancingv2 as sdk;
pub use aws_sdk_elasticloadbalancingv2::Client;
pub use client::{connect, https_client, ClientOptions};
pub use errors::action;
pub use matching::{route, Route};
pub use model::*;
pub use read::{
    find_load_balancer, find_target_group, is_elb_dns_name, read, region_of_dns_name, LbRef,
};
pub use write::{apply, AlbChange, Applied};

//! Rules: provider facts → findings. The one place that decides what a fact means for WebSockets.

pub mod alb;
pub mod cloudflare;

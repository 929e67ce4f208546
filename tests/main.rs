//! The one integration-test binary: real nginx, HAProxy and WebSocket backends on 127.0.0.1.
mod alb;

//! One-hop probe against a local backend beside the raw floor; prints the ratio.
fn main() {}

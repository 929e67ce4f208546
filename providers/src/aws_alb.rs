//! AWS ELBv2: load balancer, listeners, rules, target groups and health as facts for the lb hop.

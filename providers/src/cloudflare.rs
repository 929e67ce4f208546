//! Cloudflare API v4: zone, DNS record and settings facts for the edge hop.

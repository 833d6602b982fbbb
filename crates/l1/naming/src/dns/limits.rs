//! The DNS server's settings.

use std::time::Duration;

use super::TCP_IDLE;

/// The DNS server's per-client limits.
#[derive(Debug, Clone)]
pub struct DnsLimits {
    /// UDP responses a second per client (IPv4 address or IPv6 /56), after the
    /// burst. An authoritative server's clients are resolvers that cache for the
    /// TTL: 100 a second is far above what one resolver asks of one zone.
    pub udp_rate_per_s: u32,
    /// UDP responses a client may get at once.
    pub udp_burst: u32,
    /// Whether loopback clients are limited too. Off by default: a datagram with a
    /// loopback source cannot arrive from another host (Linux drops such
    /// "martians"), so spoofing cannot reflect to it, and a local load generator
    /// (`ghostplane-bench dns`) measures the server rather than the limit.
    pub rate_limit_loopback: bool,
    /// A TCP connection idle this long (or this slow to send a query or take a
    /// reply) is closed.
    pub tcp_idle: Duration,
}

impl Default for DnsLimits {
    fn default() -> Self {
        Self {
            udp_rate_per_s: 100,
            udp_burst: 200,
            rate_limit_loopback: false,
            tcp_idle: TCP_IDLE,
        }
    }
}

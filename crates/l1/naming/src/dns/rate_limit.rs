//! Response-rate limiting for UDP: a token bucket per client, in a bounded table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::{RATE_SLIP, RateVerdict, client_prefix};

/// How often, at most, a full table is swept of idle clients: a sweep walks the
/// whole table, so a flood of new addresses must not cause one per datagram.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    limited: u32,
}

/// Token buckets per client ([`client_prefix`]): `burst` responses at once, then
/// `rate_per_s`. The table holds at most `clients_max` clients; when it is full,
/// clients whose bucket has refilled are swept, and if none has, new clients share
/// one overflow bucket (so a spoofed flood from many addresses gets one client's
/// rate, and the known clients keep theirs).
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_s: f64,
    burst: f64,
    clients_max: usize,
    clients: HashMap<IpAddr, Bucket>,
    overflow: Bucket,
    swept_at: Option<Instant>,
}

impl RateLimiter {
    /// A limiter of `rate_per_s` responses a second per client, `burst` at once,
    /// tracking at most `clients_max` clients.
    pub fn new(rate_per_s: u32, burst: u32, clients_max: usize) -> Self {
        let now = Instant::now();
        let full = |burst: u32| Bucket {
            tokens: f64::from(burst),
            at: now,
            limited: 0,
        };
        Self {
            rate_per_s: f64::from(rate_per_s),
            burst: f64::from(burst.max(1)),
            clients_max: clients_max.max(1),
            clients: HashMap::new(),
            overflow: full(burst.max(1)),
            swept_at: None,
        }
    }

    /// Clients tracked now (at most `clients_max`).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Whether to answer a query from `ip` at `now`.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> RateVerdict {
        let key = client_prefix(ip);
        if !self.clients.contains_key(&key) && self.clients.len() >= self.clients_max {
            self.sweep(now);
        }
        let bucket = if self.clients.len() < self.clients_max || self.clients.contains_key(&key) {
            self.clients.entry(key).or_insert(Bucket {
                tokens: self.burst,
                at: now,
                limited: 0,
            })
        } else {
            &mut self.overflow
        };
        let verdict = take(bucket, now, self.rate_per_s, self.burst);
        debug_assert!(self.clients.len() <= self.clients_max);
        verdict
    }

    /// Drops clients whose bucket would be full by now: forgetting them loses
    /// nothing.
    fn sweep(&mut self, now: Instant) {
        if self
            .swept_at
            .is_some_and(|at| now.saturating_duration_since(at) < SWEEP_EVERY)
        {
            return;
        }
        self.swept_at = Some(now);
        let (rate, burst) = (self.rate_per_s, self.burst);
        self.clients.retain(|_, b| {
            b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
        });
    }
}

/// Refills `bucket` to `now` and takes a token, or counts a limited query.
fn take(bucket: &mut Bucket, now: Instant, rate_per_s: f64, burst: f64) -> RateVerdict {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * rate_per_s).min(burst);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        return RateVerdict::Answer;
    }
    bucket.limited = bucket.limited.wrapping_add(1);
    if bucket.limited.is_multiple_of(RATE_SLIP) {
        RateVerdict::Slip
    } else {
        RateVerdict::Drop
    }
}

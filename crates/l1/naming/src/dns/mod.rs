//! Authoritative DNS for the native TLDs, from the naming module's records: over UDP
//! and TCP (our own loops on tokio sockets), and DNS-over-HTTPS on the L1 HTTP port
//! (RFC 8484 wire format at `/dns-query`, `GET ?dns=` and `POST`; the JSON form at
//! `/resolve?name=&type=`, as Google's and Cloudflare's resolvers lay it out).
//!
//! ```text
//! UDP datagram ──► not a query (QR=1, < 12 bytes)? dropped
//!   │              RateLimiter (token bucket per client) ──► drop | slip (TC=1) | ok
//! TCP frame ─────► TcpSlots (per-address and total caps, idle timeout)
//! DoH body ──────►─┐
//!                  ▼
//!     NameServer::reply: header → opcode ≠ QUERY? NOTIMP │ EDNS version > 0? BADVERS
//!                  │  one question, else FORMERR
//!                  ▼
//!     NameServer::answer(name, type) ── AnswerCache hit (this head)? ──► the answer
//!                  │  miss: naming::resolve (point reads), CNAMEs in the zone followed
//!                  ▼
//!     encode with an OPT record iff the query had one; over UDP at most
//!     min(client's EDNS size, 1232) bytes (512 without EDNS), else a TC=1 reply
//! ```
//!
//! **Answers.** Names outside the five TLDs are REFUSED (not ours). A name that is
//! not registered, or released, is NXDOMAIN; a live one (active or in grace) without
//! records of the asked type is NODATA. A TLD answers its SOA. Negative answers
//! carry the TLD's SOA (its minimum: [`NEGATIVE_TTL`] s). Opcodes other than QUERY
//! get NOTIMP; malformed queries get FORMERR when their id is readable.
//!
//! **CNAMEs** (RFC 1034 §3.6.2, §4.3.2; RFC 2181 §10.1). The naming module keeps one
//! CNAME per name (a new one replaces the old). A CNAME set beside other DNS records
//! of the name is ignored when answering: the name answers its own records, and
//! NODATA for the rest. A CNAME whose target is in our zone is followed, at most
//! [`CNAME_CHAIN_MAX`] links, stopping at a loop; the answer's code is the last
//! name's (NXDOMAIN for a missing target, RFC 6604).
//!
//! **TTLs** (RFC 2181 §8). Served at most [`TTL_MAX`] (2^31 − 1) and at most the time
//! left before the name is released (the end of its grace period, in the genesis's
//! years: `blocks_per_year` blocks are 365 days), so no resolver holds a record into
//! the next registration of the name.
//!
//! **Limits.** UDP replies: [`UDP_PAYLOAD_MAX`]. UDP responses per client: a token
//! bucket ([`DnsLimits`]), clients in a table of at most [`RATE_CLIENTS_MAX`].
//! TCP: [`TCP_CONNECTIONS_MAX`] connections, [`TCP_CONNECTIONS_PER_IP_MAX`] per
//! address, closed after [`TCP_IDLE`] without a whole query. Cache:
//! [`CACHE_BYTES_MAX`] bytes (an estimate of what its answers hold) and
//! [`CACHE_ENTRIES_MAX`] entries, dropped whenever the head moves.

mod answer;
mod cache;
mod cache_usage;
mod doh;
mod kind;
mod limits;
mod name_server;
mod rate_limit;
mod rate_verdict;
mod records;
mod server;
mod tcp_slot;
mod tcp_slots;
mod transport;

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

pub use answer::Answer;
pub use cache_usage::CacheUsage;
pub use doh::doh_routes;
pub use limits::DnsLimits;
pub use name_server::NameServer;
pub use rate_limit::RateLimiter;
pub use rate_verdict::RateVerdict;
pub use server::{DnsError, DnsServer, serve, serve_with};

/// Cached answers held at most (the fuzz target's allocation bound is stated from
/// it: 512 bytes an entry covers [`CACHE_BYTES_MAX`] with room to spare).
pub const CACHE_ENTRIES_MAX: usize = 65_536;
/// Bytes the answer cache holds at most, as estimated per entry (key, records,
/// table slot). A name's records are at most 16 KiB, so this keeps at least 512 of
/// the largest answers, and ~30,000 typical ones.
pub const CACHE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// TTL of negative answers (the SOA minimum), seconds.
pub const NEGATIVE_TTL: u32 = 60;
/// The largest TTL served: RFC 2181 §8 reads TTLs as 31-bit.
pub const TTL_MAX: u32 = (1 << 31) - 1;
/// CNAME links followed in one answer: enough for any sane chain, and a bound on
/// the reads and the answer size a chain of subnames can cost.
pub const CNAME_CHAIN_MAX: usize = 8;
/// The largest UDP reply, and the payload size our OPT record advertises: 1232
/// bytes fit an IPv6 datagram in a 1280-byte MTU without fragmentation (the DNS
/// Flag Day 2020 figure). With [`RATE_SLIP`] and the rate limit, this bounds what
/// a spoofed query can reflect: ~30× a 40-byte query, for the client's burst only.
pub const UDP_PAYLOAD_MAX: u16 = 1232;
/// The UDP reply size without EDNS, and the floor of an advertised one (RFC 1035
/// §4.2.1, RFC 6891 §6.2.5).
pub const UDP_PAYLOAD_MIN: u16 = 512;
/// Clients the UDP rate limiter tracks at most (~64 bytes each, ~4 MiB); past it,
/// idle clients are swept (at most once a second) and the rest share one bucket.
pub const RATE_CLIENTS_MAX: usize = 65_536;
/// Every this many rate-limited UDP queries of a client, one gets a TC=1 reply no
/// larger than the query (so a real client behind a busy address retries over
/// TCP); the others get nothing (BIND's "slip 2").
pub const RATE_SLIP: u32 = 2;
/// TCP connections open at most: each holds a task and a 64 KiB frame at most.
pub const TCP_CONNECTIONS_MAX: usize = 128;
/// TCP connections open at most from one address (an IPv6 /56): one address cannot
/// take every slot.
pub const TCP_CONNECTIONS_PER_IP_MAX: usize = 8;
/// A TCP connection idle this long (or this slow to send a query or take a reply) is
/// closed (RFC 7766 §6.2.3 asks for seconds, not minutes).
pub const TCP_IDLE: Duration = Duration::from_secs(10);
/// Tasks reading the UDP socket at most (each answers one datagram at a time).
pub const UDP_WORKERS_MAX: usize = 8;

/// The key a client is counted under: its IPv4 address, or its IPv6 /56 (a site
/// holds a whole prefix, so counting single IPv6 addresses would count nothing).
pub(crate) fn client_prefix(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 72) - 1)).into()),
        },
    }
}

/// A DNS query for `name` and `kind` in wire format (clients and tests).
pub fn query_message(id: u16, name: &str, kind: RecordType) -> Option<Vec<u8>> {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.add_query(Query::query(Name::from_ascii(name).ok()?, kind));
    message.to_vec().ok()
}

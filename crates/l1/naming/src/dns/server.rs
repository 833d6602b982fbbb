//! The UDP and TCP listeners.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use super::tcp_slot::TcpSlot;
use super::tcp_slots::TcpSlots;
use super::transport::Transport;
use super::{
    DnsLimits, NameServer, RATE_CLIENTS_MAX, RateLimiter, RateVerdict, TCP_CONNECTIONS_MAX,
    TCP_CONNECTIONS_PER_IP_MAX, UDP_WORKERS_MAX,
};

/// Why the DNS server did not start.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// A socket could not be bound (the port is taken, or not ours to bind).
    #[error("DNS on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
}

/// A DNS header's length: anything shorter is not a DNS message, and gets nothing.
const HEADER_BYTES: usize = 12;

/// A running DNS server; dropping it stops it too.
pub struct DnsServer {
    /// The UDP address bound.
    pub udp: SocketAddr,
    /// The TCP address bound.
    pub tcp: SocketAddr,
    tasks: JoinSet<()>,
}

impl DnsServer {
    /// Stops serving: the listeners and every open connection.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Serves `names` over UDP and TCP on `addr` (port 0: a free port, the same number
/// for both if it can), with the default [`DnsLimits`].
pub async fn serve(names: Arc<NameServer>, addr: SocketAddr) -> Result<DnsServer, DnsError> {
    serve_with(names, addr, DnsLimits::default()).await
}

/// [`serve`] with `limits`.
pub async fn serve_with(
    names: Arc<NameServer>,
    addr: SocketAddr,
    limits: DnsLimits,
) -> Result<DnsServer, DnsError> {
    let bind = |source: std::io::Error| DnsError::Bind { addr, source };
    let udp = UdpSocket::bind(addr).await.map_err(bind)?;
    let udp_addr = udp.local_addr().map_err(bind)?;
    let tcp_at = if addr.port() == 0 { udp_addr } else { addr };
    let tcp = match TcpListener::bind(tcp_at).await {
        Ok(tcp) => tcp,
        Err(_) if addr.port() == 0 => TcpListener::bind(addr).await.map_err(bind)?,
        Err(e) => return Err(bind(e)),
    };
    let tcp_addr = tcp.local_addr().map_err(bind)?;
    let mut tasks = JoinSet::new();
    let udp = Arc::new(udp);
    let limiter = Arc::new(Mutex::new(RateLimiter::new(
        limits.udp_rate_per_s,
        limits.udp_burst,
        RATE_CLIENTS_MAX,
    )));
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, UDP_WORKERS_MAX);
    for _ in 0..workers {
        tasks.spawn(serve_udp(
            Arc::clone(&udp),
            Arc::clone(&names),
            Arc::clone(&limiter),
            limits.rate_limit_loopback,
        ));
    }
    let slots = TcpSlots::new(TCP_CONNECTIONS_MAX, TCP_CONNECTIONS_PER_IP_MAX);
    tasks.spawn(serve_tcp(tcp, names, slots, limits.tcp_idle));
    Ok(DnsServer {
        udp: udp_addr,
        tcp: tcp_addr,
        tasks,
    })
}

/// One UDP worker: reads a datagram, answers it (or not), and reads the next.
async fn serve_udp(
    socket: Arc<UdpSocket>,
    names: Arc<NameServer>,
    limiter: Arc<Mutex<RateLimiter>>,
    rate_limit_loopback: bool,
) {
    // A datagram is at most 65,507 bytes; a longer one is cut by the kernel.
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // ICMP errors from earlier sends surface here; the socket lives on,
                // and an error that repeats does not spin.
                tracing::debug!("dns: udp receive: {e}");
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let query = &buf[..n];
        // Never answer a response (QR=1): two servers would answer each other.
        if n < HEADER_BYTES || query[2] & 0x80 != 0 || !answerable(from) {
            continue;
        }
        let verdict = if from.ip().is_loopback() && !rate_limit_loopback {
            RateVerdict::Answer
        } else {
            match limiter.lock() {
                Ok(mut limiter) => limiter.check(from.ip(), Instant::now()),
                Err(_) => RateVerdict::Drop,
            }
        };
        let transport = match verdict {
            RateVerdict::Answer => Transport::Udp,
            RateVerdict::Slip => {
                metrics::counter!("ghostd_dns_rate_limited_total", "action" => "slip").increment(1);
                Transport::UdpSlip
            }
            RateVerdict::Drop => {
                metrics::counter!("ghostd_dns_rate_limited_total", "action" => "drop").increment(1);
                continue;
            }
        };
        if let Some(reply) = names.reply(query, transport)
            && let Err(e) = socket.send_to(&reply, from).await
        {
            tracing::debug!("dns: udp send to {from}: {e}");
        }
    }
}

/// Whether a reply to `from` can go anywhere (hickory-server's check, kept): not
/// port 0, not an unspecified or broadcast address.
fn answerable(from: SocketAddr) -> bool {
    let ip = from.ip();
    from.port() != 0
        && !ip.is_unspecified()
        && !matches!(ip, std::net::IpAddr::V4(v4) if v4.is_broadcast())
}

/// Accepts TCP connections while slots allow; one more is closed at once.
async fn serve_tcp(
    listener: TcpListener,
    names: Arc<NameServer>,
    slots: Arc<TcpSlots>,
    idle: Duration,
) {
    // Dropped with this task (at shutdown), the set aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or a connection reset before accept: wait a
                // little rather than spin.
                tracing::debug!("dns: tcp accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let Some(slot) = slots.take(from.ip()) else {
            metrics::counter!("ghostd_dns_tcp_refused_total").increment(1);
            drop(stream);
            continue;
        };
        connections.spawn(serve_connection(stream, Arc::clone(&names), slot, idle));
    }
}

/// One TCP connection (RFC 1035 §4.2.2 framing), answered in order, until the
/// client closes it or is idle (or slow) for `idle`.
async fn serve_connection(
    mut stream: TcpStream,
    names: Arc<NameServer>,
    _slot: TcpSlot,
    idle: Duration,
) {
    let mut buf = Vec::new();
    loop {
        let mut len = [0u8; 2];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut len)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        buf.resize(usize::from(u16::from_be_bytes(len)), 0);
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut buf)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        if buf.len() < HEADER_BYTES || buf[2] & 0x80 != 0 {
            return;
        }
        let Some(reply) = names.reply(&buf, Transport::Stream) else {
            return;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut frame = Vec::with_capacity(2 + reply.len());
        frame.extend_from_slice(&reply_len.to_be_bytes());
        frame.extend_from_slice(&reply);
        if !matches!(
            tokio::time::timeout(idle, stream.write_all(&frame)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
}

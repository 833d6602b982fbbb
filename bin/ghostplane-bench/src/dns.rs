//! `ghostplane-bench dns`: loads a running ghostd's name server and prints one line:
//! `qps=… p50_ms=… p99_ms=… errors=…`.
//!
//! 1. Registers `--name` (default `bench.ghost`) for dev0 with an A and a TXT record
//!    if it does not resolve yet (L1 transactions). 2. For `--duration-s`,
//!    `--connections` concurrent clients ask for its TXT record: over UDP (one
//!    socket each, hickory-proto messages; a reply not back within 1 s is an
//!    error) or DoH JSON (`GET /resolve?name=&type=TXT`, keep-alive HTTP).
//!    Latency is per query, client side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use ghostd_types::Call;
use ghostd_types::api::NamingApiClient;
use ghostd_types::naming::{DnsKind, NamingCall, Record};
use ghostplane::wallet;
use ghostplane_primitives::Keypair;
use hickory_proto::rr::RecordType;

use crate::identity::{http_get_phase, phase};

/// Transport to load.
#[derive(Clone, Copy, ValueEnum)]
pub enum DnsTarget {
    /// DNS over UDP.
    Udp,
    /// DNS-over-HTTPS, JSON form, on the L1 HTTP port.
    Doh,
}

/// Options of `ghostplane-bench dns`.
#[derive(Args)]
pub struct DnsBenchArgs {
    /// Transport.
    #[arg(long, value_enum, default_value = "udp")]
    target: DnsTarget,
    /// The DNS server (UDP).
    #[arg(long, default_value = "127.0.0.1:5353")]
    dns: SocketAddr,
    /// ghostd JSON-RPC (set-up and DoH).
    #[arg(long, default_value = "127.0.0.1:8545")]
    l1: SocketAddr,
    /// The name queried (registered for dev0 if it does not resolve).
    #[arg(long, default_value = "bench.ghost")]
    name: String,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    connections: usize,
}

async fn ensure_name(args: &DnsBenchArgs) -> Result<()> {
    let rpc = wallet::client(&format!("http://{}", args.l1))?;
    if rpc
        .resolve(args.name.clone())
        .await
        .map_err(wallet::l1_error)?
        .is_some()
    {
        return Ok(());
    }
    eprintln!("registering {}", args.name);
    let key = Keypair::dev(0);
    let timeout = Duration::from_secs(60);
    let calls = [
        NamingCall::Register {
            name: args.name.clone(),
            owner: key.public_key(),
            years: 1,
        },
        NamingCall::SetRecord {
            name: args.name.clone(),
            record: Record::Dns {
                kind: DnsKind::A,
                value: "127.0.0.1".into(),
                ttl: 300,
            },
        },
        NamingCall::SetRecord {
            name: args.name.clone(),
            record: Record::Dns {
                kind: DnsKind::Txt,
                value: "ghostplane bench".into(),
                ttl: 300,
            },
        },
    ];
    for call in calls {
        wallet::send_l1(&rpc, &key, Call::Naming(call), timeout).await?;
    }
    Ok(())
}

/// Runs the bench.
pub async fn run(args: DnsBenchArgs) -> Result<()> {
    ensure_name(&args).await?;
    let duration = Duration::from_secs(args.duration_s);
    let mut done = match args.target {
        DnsTarget::Udp => {
            let server = args.dns;
            let fqdn = format!("{}.", args.name.trim_end_matches('.'));
            let next_id = Arc::new(AtomicU16::new(1));
            let mut sockets = Vec::with_capacity(args.connections);
            for _ in 0..args.connections {
                let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
                socket.connect(server).await?;
                sockets.push(Arc::new(tokio::sync::Mutex::new(socket)));
            }
            let sockets = Arc::new(sockets);
            let pick = Arc::new(AtomicU16::new(0));
            phase(args.connections, duration, move || {
                let (sockets, pick, next_id, fqdn) =
                    (sockets.clone(), pick.clone(), next_id.clone(), fqdn.clone());
                async move {
                    // A socket is held for one exchange, so no client reads
                    // another's reply.
                    let index = pick.fetch_add(1, Ordering::Relaxed) as usize % sockets.len();
                    let socket = sockets[index].lock().await;
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    let Some(query) = ghostd_naming::dns::query_message(id, &fqdn, RecordType::TXT)
                    else {
                        return false;
                    };
                    if socket.send(&query).await.is_err() {
                        return false;
                    }
                    let mut buf = [0u8; 1500];
                    loop {
                        match tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf))
                            .await
                        {
                            Ok(Ok(n)) if n >= 2 && buf[..2] == id.to_be_bytes() => return true,
                            Ok(Ok(_)) => continue,
                            _ => return false,
                        }
                    }
                }
            })
            .await
        }
        DnsTarget::Doh => {
            let uri: hyper::Uri = format!("http://{}/resolve?name={}&type=TXT", args.l1, args.name)
                .parse()
                .context("DoH URI")?;
            http_get_phase(args.connections, duration, uri).await
        }
    };
    println!(
        "qps={:.0} p50_ms={:.2} p99_ms={:.2} errors={}",
        done.rate(),
        done.percentile_ms(0.50),
        done.percentile_ms(0.99),
        done.errors
    );
    Ok(())
}

//! Strangers on the p2p port of a 4-validator network of real processes (issue 33,
//! item 3):
//!
//! - after ~15 s of ledger load (so that sync pages are large), a peer that sends
//!   10,000 sync requests and never reads its stream: the validator's resident
//!   memory grows by less than 256 MiB (the figures are printed) and blocks
//!   continue;
//! - 500 concurrent connections, each with a valid hello under a key of its own,
//!   kept open and redialed when closed, spread over the four validators: a
//!   validator killed and restarted meanwhile gets back in (each genesis validator
//!   has a slot of its own, and authenticates for it) and blocks continue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use ghostd::consensus::net::{Identity, client_config, frame_bytes, handshake};
use ghostd::consensus::wire::NetMsg;
use ghostplane_primitives::Keypair;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;

async fn wait_height(c: &HttpClient, target: u64, what: &str, within: Duration) {
    let started = Instant::now();
    while l1_head(c).await.is_none_or(|h| h < target) {
        assert!(
            started.elapsed() < within,
            "{what} did not reach height {target} in {within:?} (head {:?})",
            l1_head(c).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A stranger's connection with a valid hello under a fresh key.
async fn stranger(
    endpoint: &quinn::Endpoint,
    addr: SocketAddr,
    chain_id: u64,
) -> Option<(quinn::Connection, quinn::SendStream, quinn::RecvStream)> {
    let connection = endpoint.connect(addr, "ghostd").ok()?.await.ok()?;
    let identity = Identity {
        chain_id,
        key: Keypair::generate(),
        validators: Default::default(),
    };
    let (_, send, recv) = handshake(&connection, &identity, true).await.ok()?;
    Some((connection, send, recv))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_exhaust_a_validator_or_keep_a_restarted_one_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let base = free_testnet_base();
    let lines = init_testnet(data, base);
    // The genesis is borsh, and its chain id (u64, little-endian) comes first.
    let genesis = std::fs::read(data.join("testnet/genesis.borsh")).unwrap();
    let chain_id = u64::from_le_bytes(genesis[..8].try_into().unwrap());
    let mut nodes: Vec<Option<Devnet>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| Some(spawn_line(data, &i.to_string(), line)))
        .collect();
    let rpc = |i: u16| SocketAddr::from(([127, 0, 0, 1], base + 10 * i));
    let p2p = |i: u16| SocketAddr::from(([127, 0, 0, 1], base + 10 * i + 1));
    let clients: Vec<HttpClient> = (0..4).map(|i| client(rpc(i))).collect();
    for c in &clients {
        wait_height(c, 1, "a validator", Duration::from_secs(120)).await;
    }
    wait_height(&clients[0], 3, "the network", Duration::from_secs(60)).await;

    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(client_config().unwrap());

    // Blocks worth syncing: ~15 s of ledger transfers, so that a page of 64
    // blocks is ~100 KiB or more (on a chain of empty blocks a flood of sync
    // requests costs little whatever the transport does).
    let load = std::process::Command::new(bench_binary())
        .args(["l1-load", "--l1", &rpc(0).to_string()])
        .args(["--tps", "600", "--duration-s", "15", "--senders", "64"])
        .args(["--drain-s", "10"])
        .output()
        .unwrap();
    assert!(
        load.status.success(),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );

    // 10,000 sync requests from one peer that never reads.
    let pid = nodes[1].as_ref().unwrap().pid();
    let rss_before = rss_kib(pid);
    let (_connection, mut send, _recv) = stranger(&endpoint, p2p(1), chain_id)
        .await
        .expect("a stranger gets a slot on an idle validator");
    let request = frame_bytes(&borsh::to_vec(&NetMsg::SyncRequest { from: 1 }).unwrap());
    let mut sent = 0;
    for _ in 0..10_000 {
        if tokio::time::timeout(Duration::from_secs(5), send.write_all(&request))
            .await
            .is_err()
        {
            break;
        }
        sent += 1;
    }
    let top = l1_head(&clients[1]).await.unwrap();
    wait_height(
        &clients[1],
        top + 3,
        "validator 1 under a sync flood",
        Duration::from_secs(60),
    )
    .await;
    let rss_after = rss_kib(pid);
    println!(
        "sync flood: {sent} requests sent; validator RSS {} MiB before, {} MiB after",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(
        rss_after < rss_before + 256 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );

    // 500 strangers, kept connected, while validator 2 restarts.
    let stop = Arc::new(AtomicBool::new(false));
    let held = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for k in 0..500u16 {
        let endpoint = endpoint.clone();
        let stop = stop.clone();
        let held = held.clone();
        let addr = p2p(k % 4);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some((connection, _send, _recv)) = stranger(&endpoint, addr, chain_id).await
                {
                    held.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        _ = connection.closed() => {}
                        _ = async { while !stop.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        } } => {}
                    }
                    held.fetch_sub(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let squatting = held.load(Ordering::Relaxed);
    nodes[2].take().unwrap().kill();
    nodes[2] = Some(spawn_line(data, "2-restarted", &lines[2]));
    let top = l1_head(&clients[0]).await.unwrap();
    wait_height(
        &clients[2],
        top + 3,
        "restarted validator 2",
        Duration::from_secs(120),
    )
    .await;
    wait_height(&clients[0], top + 3, "validator 0", Duration::from_secs(60)).await;
    let status = call(&clients[2], "consensus_status", rpc_params![]).await;
    println!(
        "500 strangers: {squatting} connections held before the restart; validator 2 after it: {status}"
    );
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    assert!(
        squatting > 0,
        "no stranger got a slot: the test did not squat"
    );
}

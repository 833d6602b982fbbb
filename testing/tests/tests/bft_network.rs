//! ghostd as a BFT network of real processes: `ghostplane l1 init-testnet`, four
//! validator processes on 127.0.0.1 talking QUIC, transactions sent to different
//! nodes, then faults:
//!
//! - every node holds the same block at every height;
//! - SIGKILL one validator: heights keep advancing (3 of 4 is a quorum);
//! - SIGKILL a second: the chain stops, and nothing conflicting is committed;
//! - restart both: the chain resumes, and they sync to the same head and state;
//! - a full node started late syncs to the head;
//! - a devnet settles on the network, and a withdrawal reaches `finalized`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use ghostd::{Call, LedgerCall};
use ghostplane_primitives::{Codec, Keypair, L1Address, TokenId};
use ghostplane_test_utils::sign_l1;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use serde_json::Value;

fn rpc_of(base: u16, i: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], base + 10 * i))
}

async fn block(c: &HttpClient, height: u64) -> Value {
    call(c, "ghost_getBlock", rpc_params![height]).await
}

/// Waits until `client`'s head reaches `target`.
async fn wait_height(c: &HttpClient, target: u64, what: &str, dir: &Path) {
    let started = Instant::now();
    loop {
        if l1_head(c).await.is_some_and(|h| h >= target) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{what}: height {target} not reached (head {:?}); logs in {}",
            l1_head(c).await,
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every client that has height h holds the same block there, for h in 1..=top.
async fn same_blocks(clients: &[&HttpClient], top: u64) {
    for height in 1..=top {
        let mut first: Option<Value> = None;
        for c in clients {
            let b = block(c, height).await;
            if b.is_null() {
                continue;
            }
            match &first {
                None => first = Some(b),
                Some(a) => {
                    assert_eq!(a["hash"], b["hash"], "different blocks at height {height}");
                    assert_eq!(a["stateDigest"], b["stateDigest"]);
                }
            }
        }
    }
}

async fn send(c: &HttpClient, key: &Keypair, nonce: u64, to: &Keypair, amount: u128) -> String {
    let transfer = Call::Ledger(LedgerCall::Transfer {
        id: u128::from(nonce) << 64 | u128::from(key.public_key().0[0]) | 1,
        to: L1Address(to.public_key().0),
        token: TokenId::Gcc,
        amount,
    });
    let tx = sign_l1(key, nonce, transfer);
    let out = call(
        c,
        "ghost_sendTransaction",
        rpc_params![hex::encode(tx.encode())],
    )
    .await;
    out["hash"].as_str().unwrap().to_string()
}

async fn included(c: &HttpClient, hash: &str) -> bool {
    let view = call(c, "ghost_getTransaction", rpc_params![hash]).await;
    view["status"] == "included"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_agree_survive_one_crash_halt_at_two_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let base = free_testnet_base();
    let lines = init_testnet(data, base);
    assert_eq!(lines.len(), 4);
    assert!(lines[1].contains(&format!("--rpc-addr 127.0.0.1:{}", base + 10)));

    let mut nodes: Vec<Option<Devnet>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| Some(spawn_line(data, &i.to_string(), line)))
        .collect();
    let clients: Vec<HttpClient> = (0..4).map(|i| client(rpc_of(base, i))).collect();
    for (i, c) in clients.iter().enumerate() {
        let log = data.join(format!("log-{i}/devnet.log"));
        let started = Instant::now();
        while l1_head(c).await.is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "validator {i} did not come up:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    wait_height(&clients[0], 3, "the network's first blocks", data).await;

    // Transactions sent to different nodes reach the proposers and are included.
    let mut hashes = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        for n in 0..3u64 {
            let key = Keypair::dev(i as u32);
            hashes.push(send(c, &key, n, &Keypair::dev(9), 10 + n as u128).await);
        }
    }
    let started = Instant::now();
    for hash in &hashes {
        while !included(&clients[3], hash).await {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "transaction {hash} was not included"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let top = l1_head(&clients[0]).await.unwrap();
    wait_height(&clients[3], top, "validator 3", data).await;
    let all: Vec<&HttpClient> = clients.iter().collect();
    same_blocks(&all, top).await;
    let status = call(&clients[1], "consensus_status", rpc_params![]).await;
    assert_eq!(status["mode"], "bft");
    assert!(status["peers"].as_u64().unwrap() >= 3, "{status}");
    let shown = Command::new(binary())
        .args([
            "l1",
            "status",
            "--rpc",
            &format!("http://{}", rpc_of(base, 1)),
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("mode        bft"), "{shown}");
    assert!(shown.contains("role        validator 0x"), "{shown}");
    let commit = call(&clients[2], "consensus_getCommit", rpc_params![top]).await;
    assert!(commit["signers"].as_array().unwrap().len() >= 3, "{commit}");

    // One validator down: 3 of 4 still decide.
    nodes[3].take().unwrap().kill();
    let at = l1_head(&clients[0]).await.unwrap();
    wait_height(&clients[0], at + 3, "after one crash", data).await;
    wait_height(&clients[2], at + 3, "after one crash", data).await;

    // Two down: no quorum, the chain stops.
    nodes[2].take().unwrap().kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopped = [
        l1_head(&clients[0]).await.unwrap(),
        l1_head(&clients[1]).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = [
        l1_head(&clients[0]).await.unwrap(),
        l1_head(&clients[1]).await.unwrap(),
    ];
    assert_eq!(stopped, later, "the chain advanced without a quorum");
    let top = later[0].max(later[1]);
    same_blocks(&[&clients[0], &clients[1]], top).await;

    // Both back: the chain resumes and the restarted nodes catch up.
    nodes[2] = Some(spawn_line(data, "2b", &lines[2]));
    nodes[3] = Some(spawn_line(data, "3b", &lines[3]));
    wait_height(&clients[0], top + 3, "after the restarts", data).await;
    let resumed = l1_head(&clients[0]).await.unwrap();
    for c in &clients {
        wait_height(c, resumed, "a restarted validator", data).await;
    }
    same_blocks(&all, resumed).await;

    // A full node started late syncs to the head.
    let full_line = std::fs::read_to_string(data.join("testnet/full-node.txt")).unwrap();
    let _full = spawn_line(data, "full", full_line.trim());
    let full = client(rpc_of(base, 4));
    let target = l1_head(&clients[0]).await.unwrap();
    wait_height(&full, target, "the full node", data).await;
    let mut with_full = all.clone();
    with_full.push(&full);
    same_blocks(&with_full, target).await;
    let status = call(&full, "consensus_status", rpc_params![]).await;
    assert!(status["validator"].is_null(), "{status}");

    // A devnet settles on the network (through validator 0) and finalizes.
    let ports = Ports {
        l1: rpc_of(base, 0),
        ..Ports::free()
    };
    let l1_url = format!("http://{}", ports.l1);
    let _devnet = Devnet::start(data, &ports, &["--l1-url", &l1_url]);
    wait_up(ports.l2, "l2_blockNumber", &data.join("devnet.log")).await;
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev5", "--token", "MANA", "--amount", "900", "--wait",
            "executed",
        ],
    ));
    assert!(out.contains("executed"), "{out}");
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx",
            "withdraw",
            "--from",
            "dev5",
            "--token",
            "MANA",
            "--amount",
            "400",
            "--wait",
            "finalized",
        ],
    ));
    assert!(out.contains("finalized"), "{out}");
    // The settlement transactions went through consensus: every node has them.
    let top = l1_head(&clients[1]).await.unwrap();
    wait_height(&clients[3], top, "validator 3", data).await;
    same_blocks(&all, top).await;
}

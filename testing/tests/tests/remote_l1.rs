//! The L1 as its own process: `ghostplane l1` (standalone ghostd) and a devnet that
//! settles on it over JSON-RPC (`--l1-url`, the `RpcL1` client). Deposit, withdraw,
//! finality and balances across the two processes; a devnet whose genesis does not
//! match the L1's refuses to start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::*;
use ghostplane_primitives::{Keypair, TokenId};
use jsonrpsee::rpc_params;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_settles_on_a_separate_ghostd_process() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("devnet.log");
    let ports = Ports::free();
    let mut l1_command = Command::new(binary());
    l1_command
        .args(["l1", "--chunk-ops", "2", "--block-time-ms", "100"])
        .arg("--data-dir")
        .arg(data.join("l1"))
        .arg("--keys-dir")
        .arg(data.join("keys"))
        .args(["--rpc-addr", &ports.l1.to_string()])
        .args(["--metrics-addr", &free_tcp().to_string()])
        .args(["--dns-addr", "127.0.0.1:0"]);
    let _l1 = Devnet::spawn(data, l1_command);
    wait_up(ports.l1, "ghost_blockNumber", &log).await;

    // A devnet with another genesis (other dev accounts) is refused.
    let wrong = Command::new(binary())
        .args(["devnet", "--chunk-ops", "2", "--dev-accounts", "3"])
        .arg("--data-dir")
        .arg(data.join("wrong"))
        .arg("--keys-dir")
        .arg(data.join("keys"))
        .args(["--l1-url", &format!("http://{}", ports.l1)])
        .args(["--rpc-addr", &free_tcp().to_string()])
        .args(["--quic-addr", &free_udp().to_string()])
        .args(["--coordinator-addr", &free_tcp().to_string()])
        .args(["--metrics-addr", &free_tcp().to_string()])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("another genesis"), "{stderr}");

    let l1_url = format!("http://{}", ports.l1);
    let _devnet = Devnet::start(data, &ports, &["--l1-url", &l1_url]);
    wait_up(ports.l2, "l2_blockNumber", &log).await;

    let dev4 = Keypair::dev(4);
    let dev4_l1 = dev4.public_key().to_hex();
    ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev4", "--token", "MANA", "--amount", "900", "--wait",
            "executed",
        ],
    ));
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx",
            "withdraw",
            "--from",
            "dev4",
            "--token",
            "MANA",
            "--amount",
            "400",
            "--wait",
            "finalized",
        ],
    ));
    assert!(out.contains("finalized"), "{out}");

    let l1 = client(ports.l1);
    let l2 = client(ports.l2);
    assert_eq!(
        l1_balance(&l1, &dev4_l1, TokenId::Mana).await,
        DEV - 900 + 400
    );
    assert_eq!(l2_balance(&l2, &dev4, TokenId::Mana).await, DEV + 900 - 400);
    let status = call(&l1, "rollup_status", rpc_params![]).await;
    assert_eq!(status["committedBatch"], status["finalizedBatch"]);
    assert!(status["finalizedBatch"].as_u64().unwrap() >= 1);
}

//! Load above settlement's speed must not strand a deposit.
//!
//! A flood of transfers far faster than the merkleizer and the prover can settle,
//! and one L1 deposit in the middle of it. Before back-pressure, execution ran
//! ahead without limit: the deposit's L2 block was planned after the L1's
//! forced-inclusion window had passed, the L1 refused every batch that did not
//! consume it, and settlement retried the refused plan forever. Now the sequencer
//! answers "settlement is behind" (-32023) once the backlog passes its bounds, the
//! deposit (which does not go through admission) is consumed by a committed batch
//! inside the window, and no commit is refused for an overdue deposit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, Keypair, Recipient, TokenId, Transaction,
};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use serde_json::Value;

/// Forced-inclusion window in L1 blocks (100 ms each in the test devnet): 25 s.
const WINDOW_BLOCKS: &str = "250";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_lands_in_its_window_under_a_flood() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("devnet.log");
    let ports = Ports::free();
    let _devnet = Devnet::start(
        data,
        &ports,
        &[
            "--forced-inclusion-blocks",
            WINDOW_BLOCKS,
            "--settlement-unplanned-txs-max",
            "400",
            "--settlement-unproven-jobs-max",
            "6",
        ],
    );
    wait_up(ports.l2, "l2_blockNumber", &log).await;
    wait_up(ports.l1, "ghost_blockNumber", &log).await;
    let l2 = client(ports.l2);
    let l1 = client(ports.l1);

    // The flood: dev accounts 3..16, batches of 128, as fast as the node answers,
    // for at most 60 s (bounded in time and count).
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let behind = Arc::new(AtomicU64::new(0));
    let flood = {
        let (stop, accepted, behind) = (stop.clone(), accepted.clone(), behind.clone());
        let l2 = client(ports.l2);
        tokio::spawn(async move {
            let mut nonces = [0u64; 16];
            let started = Instant::now();
            let mut round = 0u32;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                let sender = 3 + (round % 13);
                round += 1;
                let key = Keypair::dev(sender);
                let first = nonces[sender as usize];
                let batch: Vec<String> = (0..128)
                    .map(|i| {
                        let tx = Transaction::Transfer {
                            from: AccountId::new(sender).unwrap(),
                            to: Recipient::Account(AccountId::new(1).unwrap()),
                            token: TokenId::Gcc,
                            amount: 1,
                            // Above the devnet's floor (its proof slot and
                            // pubdata at the data price).
                            fee: 1_000,
                            nonce: first + i,
                        };
                        hex::encode(key.sign(DEVNET_CHAIN_ID, tx).encode())
                    })
                    .collect();
                let Ok(results) = l2
                    .request::<Vec<Value>, _>("l2_sendTransactionBatch", rpc_params![batch])
                    .await
                else {
                    continue;
                };
                // Only a prefix of in-order nonces can be accepted; resume after it.
                let taken = results
                    .iter()
                    .take_while(|r| r.get("hash").is_some())
                    .count();
                nonces[sender as usize] += taken as u64;
                accepted.fetch_add(taken as u64, Ordering::Relaxed);
                let refused_behind = results
                    .iter()
                    .filter(|r| r["error"]["code"] == -32023)
                    .count();
                behind.fetch_add(refused_behind as u64, Ordering::Relaxed);
                if refused_behind > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        })
    };

    // Let the backlog build, then deposit from L1 into a fresh L2 key.
    tokio::time::sleep(Duration::from_secs(6)).await;
    std::fs::create_dir_all(data.join("wallet")).unwrap();
    let bob = Keypair::from_seed(&[77; 32]);
    std::fs::write(data.join("wallet/bob.key"), hex::encode(bob.seed())).unwrap();
    let deposited_at = call(&l1, "ghost_blockNumber", rpc_params![])
        .await
        .as_u64()
        .unwrap();
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx",
            "deposit",
            "--from",
            "dev2",
            "--to",
            "bob",
            "--token",
            "MANA",
            "--amount",
            "4242",
            "--wait",
            "committed",
        ],
    ));
    assert!(out.contains("committed"), "{out}");
    let status = call(&l1, "rollup_status", rpc_params![]).await;
    let consumed = status["depositsConsumed"].as_u64().unwrap();
    assert!(consumed >= 1, "{status}");
    let committed_at = call(&l1, "ghost_blockNumber", rpc_params![])
        .await
        .as_u64()
        .unwrap();
    let window: u64 = WINDOW_BLOCKS.parse().unwrap();
    assert!(
        committed_at - deposited_at <= window + 5,
        "deposit at L1 block {deposited_at}, consumed by block {committed_at}"
    );
    assert_eq!(l2_balance(&l2, &bob, TokenId::Mana).await, 4242);

    // (Whether more batches follow depends on proving: while 6 chunk jobs wait
    // unproven, admission is closed and no new L2 blocks come. Not asserted here.)
    stop.store(true, Ordering::Relaxed);
    flood.await.unwrap();
    // The flood was held back by settlement, not let through without limit.
    assert!(
        behind.load(Ordering::Relaxed) > 0,
        "no SettlementBehind answer"
    );
    assert!(accepted.load(Ordering::Relaxed) > 0);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !log_text.contains("the batch leaves it out"),
        "the L1 refused a batch for an overdue deposit"
    );
}

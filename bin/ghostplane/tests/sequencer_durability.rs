//! Runs `ghostplane sequencer` as a real process, sends transfers under load, kills
//! it with SIGKILL, restarts it on the same data directory, and checks that every
//! transaction acknowledged as accepted is executed exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, Keypair, Recipient, TokenId, Transaction,
};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

const SENDERS: u32 = 6;
/// Receives every transfer; not a sender, so its balance counts executions.
const SINK: u32 = 7;
const BATCH: u64 = 25;

fn transfer(from: u32, nonce: u64) -> String {
    let tx = Transaction::Transfer {
        from: AccountId::new(from).unwrap(),
        to: Recipient::Account(AccountId::new(SINK).unwrap()),
        token: TokenId::Spirit,
        amount: 1,
        fee: 1,
        nonce,
    };
    hex::encode(Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx).encode())
}

async fn account(client: &HttpClient, id: u32) -> Value {
    client
        .request("l2_getAccount", rpc_params![id])
        .await
        .unwrap()
}

fn balance(account: &Value) -> u128 {
    account["balances"]["SPIRIT"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_transactions_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = support::start(dir.path());
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(&node.rpc)
        .unwrap();
    let sink_before = balance(&account(&client, SINK).await);

    // Each sender submits batches of consecutive nonces, one batch at a time, and
    // records what was acknowledged.
    let accepted: Arc<Mutex<HashMap<String, (u32, u64)>>> = Arc::new(Mutex::new(HashMap::new()));
    let total_accepted = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for from in 1..=SENDERS {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .build(&node.rpc)
            .unwrap();
        let accepted = Arc::clone(&accepted);
        let total_accepted = Arc::clone(&total_accepted);
        let killed = Arc::clone(&killed);
        senders.push(tokio::spawn(async move {
            let mut nonce = 0;
            while !killed.load(Ordering::SeqCst) && nonce < 4000 {
                let batch: Vec<String> =
                    (nonce..nonce + BATCH).map(|n| transfer(from, n)).collect();
                let results: Vec<Value> = match client
                    .request("l2_sendTransactionBatch", rpc_params![batch])
                    .await
                {
                    Ok(results) => results,
                    Err(_) => return, // the node died mid-request: nothing here was acknowledged
                };
                for (offset, result) in results.iter().enumerate() {
                    let hash = result["hash"]
                        .as_str()
                        .expect("an accepted transfer")
                        .to_string();
                    accepted
                        .lock()
                        .unwrap()
                        .insert(hash, (from, nonce + offset as u64));
                    total_accepted.fetch_add(1, Ordering::SeqCst);
                }
                nonce += BATCH;
            }
        }));
    }

    // Kill the node while it is under load.
    let deadline = Instant::now() + Duration::from_secs(60);
    while total_accepted.load(Ordering::SeqCst) < 600 {
        assert!(Instant::now() < deadline, "load did not get going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node.child.kill().unwrap(); // SIGKILL
    killed.store(true, Ordering::SeqCst);
    node.child.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 600);

    // Restart on the same data directory: the WAL is replayed.
    let mut node = support::start(dir.path());
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(&node.rpc)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut pending: Vec<&String> = accepted.keys().collect();
    let mut first_pass = true;
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} accepted transactions never executed",
            pending.len()
        );
        let mut still = Vec::new();
        for hash in pending {
            let receipt: Value = client
                .request("l2_getTransactionReceipt", rpc_params![hash.clone()])
                .await
                .unwrap();
            if receipt.is_null() {
                still.push(hash);
            } else {
                assert_eq!(receipt["status"], "success", "{hash}: {receipt}");
            }
        }
        if first_pass {
            eprintln!(
                "{} acknowledged; {} without a receipt right after the restart",
                accepted.len(),
                still.len()
            );
            first_pass = false;
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Exactly once: every sender's nonce moved by the number of its transfers that
    // ran, and the sink received exactly one unit per such transfer, so none ran
    // twice. Transfers sent but never acknowledged may or may not have run.
    let mut executed_total: u128 = 0;
    for from in 1..=SENDERS {
        let acknowledged = accepted
            .values()
            .filter(|(sender, _)| *sender == from)
            .count() as u64;
        let highest = accepted
            .values()
            .filter(|(sender, _)| *sender == from)
            .map(|(_, n)| n + 1)
            .max()
            .unwrap_or(0);
        let nonce = account(&client, from).await["nonce"].as_u64().unwrap();
        assert!(
            nonce >= highest && nonce >= acknowledged,
            "sender {from}: nonce {nonce}, acknowledged {acknowledged}"
        );
        executed_total += u128::from(nonce);
    }
    let sink_after = balance(&account(&client, SINK).await);
    assert_eq!(
        sink_after - sink_before,
        executed_total,
        "a transfer ran twice or was lost"
    );

    node.child.kill().unwrap();
    node.child.wait().unwrap();
}

//! Shared by the sequencer's RPC tests: start a sequencer on 127.0.0.1, submit a
//! transaction and wait for its receipt over JSON-RPC.

#![allow(dead_code)]

use std::time::Duration;

use ghostplane_primitives::{Amount, Codec, DEVNET_CHAIN_ID, Keypair, Transaction};
use ghostplane_sequencer::{Sequencer, SequencerConfig};
use ghostplane_test_utils::dev_l2_genesis;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use serde_json::Value;

/// Each dev account's funds in every token.
pub const FUNDS: Amount = 1_000_000_000;

/// A sequencer in `dir` on ephemeral ports, 20 ms blocks, four funded dev
/// accounts.
pub async fn start(dir: &std::path::Path) -> Sequencer {
    start_priced(dir, ghostplane_executor::Prices::default()).await
}

/// [`start`], charging `prices`.
pub async fn start_priced(dir: &std::path::Path, prices: ghostplane_executor::Prices) -> Sequencer {
    let mut config = SequencerConfig::new(dir.to_path_buf());
    config.prices = prices;
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 20;
    config.executor_threads = 2;
    Sequencer::start(config, dev_l2_genesis(4, [FUNDS; 4]))
        .await
        .unwrap()
}

/// Submits `tx` signed by dev key `from` and waits for its receipt, whatever its
/// status.
pub async fn submit_any(client: &HttpClient, from: u32, tx: Transaction) -> Value {
    let signed = Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx);
    let accepted: Value = client
        .request(
            "l2_sendTransaction",
            rpc_params![hex::encode(signed.encode())],
        )
        .await
        .unwrap();
    let hash = accepted["hash"].as_str().unwrap().to_string();
    for _ in 0..800 {
        let receipt: Value = client
            .request("l2_getTransactionReceipt", rpc_params![hash.clone()])
            .await
            .unwrap();
        if !receipt.is_null() {
            return receipt;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{hash} not executed after 20 s");
}

/// [`submit_any`], asserting that the transaction succeeded.
pub async fn submit(client: &HttpClient, from: u32, tx: Transaction) -> Value {
    let receipt = submit_any(client, from, tx).await;
    assert_eq!(receipt["status"], "success", "{receipt}");
    receipt
}

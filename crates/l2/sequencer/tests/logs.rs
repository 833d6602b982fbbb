//! Event queries and subscriptions over JSON-RPC and WebSocket (real sockets on
//! 127.0.0.1): filters, paging, and a subscription that resumes after its last
//! event across a reconnect, seeing every event exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use std::time::Duration;

use common::{start, submit};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{AccountId, TokenId, Transaction};
use ghostplane_rpc::codes;
use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{Value, json};

fn id(n: u32) -> AccountId {
    AccountId::new(n).unwrap()
}

/// A registry `set` of key `[key; 32]` by account 2: one event, topic = the key.
fn set(registry: ghostplane_primitives::ContractAddress, key: u8, nonce: u64) -> Transaction {
    Transaction::Call {
        from: id(2),
        contract: registry,
        input: [&[0u8][..], &[key; 32], b"hi"].concat(),
        token: TokenId::Gcc,
        value: 0,
        fuel_limit: 1_000_000,
        fee: 1_000_000,
        nonce,
    }
}

async fn next_log(sub: &mut Subscription<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("a log within 20 s")
        .unwrap()
        .unwrap()
}

fn topic(key: u8) -> String {
    format!("0x{}", hex::encode([key; 32]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_queried_paged_and_streamed_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let sequencer = start(dir.path()).await;
    let http = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();
    let ws_url = format!("ws://{}", sequencer.rpc_addr);

    let code = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../executor/contracts/registry.wat"
    ))
    .unwrap();
    let deploy = Transaction::Deploy {
        from: id(1),
        code,
        init: vec![],
        token: TokenId::Gcc,
        value: 0,
        fee: 10_000_000,
        nonce: 0,
    };
    submit(&http, 1, deploy).await;
    let registry = contract_address(id(1), 0);
    for (nonce, key) in (1..=6u8).enumerate() {
        submit(&http, 2, set(registry, key, nonce as u64)).await;
    }

    // All six, by contract; then in pages of four.
    let filter = json!({ "contract": registry.to_string() });
    let page: Value = http
        .request("l2_getLogs", rpc_params![filter])
        .await
        .unwrap();
    let logs = page["logs"].as_array().unwrap().clone();
    assert_eq!(logs.len(), 6, "{page}");
    let topics: Vec<_> = logs.iter().map(|l| l["topic"].clone()).collect();
    assert_eq!(topics, (1..=6).map(|k| json!(topic(k))).collect::<Vec<_>>());
    assert!(page["next"].is_null());
    let first: Value = http
        .request(
            "l2_getLogs",
            rpc_params![json!({ "contract": registry.to_string(), "limit": 4 })],
        )
        .await
        .unwrap();
    assert_eq!(first["logs"].as_array().unwrap().len(), 4);
    let rest: Value = http
        .request(
            "l2_getLogs",
            rpc_params![
                json!({ "contract": registry.to_string(), "limit": 4, "after": first["next"] })
            ],
        )
        .await
        .unwrap();
    assert_eq!(rest["logs"].as_array().unwrap()[..], logs[4..]);
    // By topic, any contract; an unknown topic finds nothing.
    let by_topic: Value = http
        .request(
            "l2_getLogs",
            rpc_params![json!({ "topics": [topic(3), topic(5)] })],
        )
        .await
        .unwrap();
    assert_eq!(
        by_topic["logs"].as_array().unwrap()[..],
        [logs[2].clone(), logs[4].clone()]
    );
    let none: Value = http
        .request("l2_getLogs", rpc_params![json!({ "topics": [topic(9)] })])
        .await
        .unwrap();
    assert!(none["logs"].as_array().unwrap().is_empty());

    // A subscription from block 0 replays the six; the client drops after three.
    let ws = WsClientBuilder::default().build(&ws_url).await.unwrap();
    let mut sub: Subscription<Value> = ws
        .subscribe(
            "l2_subscribeLogs",
            rpc_params![json!({ "contract": registry.to_string(), "fromBlock": 0 })],
            "l2_unsubscribeLogs",
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_log(&mut sub).await);
    }
    drop(sub);
    drop(ws);
    // Two more events while it is away.
    for (nonce, key) in [(6u64, 7u8), (7, 8)] {
        submit(&http, 2, set(registry, key, nonce)).await;
    }
    // It resumes after its last event: the rest, then new ones as they come.
    let ws = WsClientBuilder::default().build(&ws_url).await.unwrap();
    let last = seen.last().unwrap()["position"].clone();
    let mut sub: Subscription<Value> = ws
        .subscribe(
            "l2_subscribeLogs",
            rpc_params![json!({ "contract": registry.to_string(), "after": last })],
            "l2_unsubscribeLogs",
        )
        .await
        .unwrap();
    for _ in 0..5 {
        seen.push(next_log(&mut sub).await);
    }
    submit(&http, 2, set(registry, 9, 8)).await;
    seen.push(next_log(&mut sub).await);
    let got: Vec<_> = seen.iter().map(|l| l["topic"].clone()).collect();
    assert_eq!(got, (1..=9).map(|k| json!(topic(k))).collect::<Vec<_>>());
    let mut positions: Vec<_> = seen.iter().map(|l| l["position"].to_string()).collect();
    positions.dedup();
    assert_eq!(positions.len(), 9, "each event once");

    // Typed errors.
    for bad in [
        json!({ "topics": ["zz"] }),
        json!({ "contract": "0x12" }),
        json!({ "fromBlock": 5, "toBlock": 4 }),
        json!({ "after": "1:2" }),
    ] {
        match http
            .request::<Value, _>("l2_getLogs", rpc_params![bad.clone()])
            .await
        {
            Err(jsonrpsee::core::ClientError::Call(e)) => {
                assert_eq!(e.code(), codes::INVALID_PARAMS, "{bad}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let refused = ws
        .subscribe::<Value, _>(
            "l2_subscribeLogs",
            rpc_params![json!({ "toBlock": 3 })],
            "l2_unsubscribeLogs",
        )
        .await;
    assert!(refused.is_err());
    sequencer.shutdown().await;
}

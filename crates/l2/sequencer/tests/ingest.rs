//! The sequencer in process, over real sockets on 127.0.0.1: JSON-RPC, WebSocket
//! subscriptions, QUIC, typed errors, statuses, WAL trimming.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::time::Duration;

use ghostplane_primitives::{
    AccountId, Amount, ChainId, Codec, DEVNET_CHAIN_ID, Keypair, L2Genesis, Recipient,
    SignedTransaction, TokenId, Transaction,
};
use ghostplane_sequencer::wal::Wal;
use ghostplane_sequencer::{QuicClient, QuicReply, Sequencer, SequencerConfig};
use ghostplane_test_utils::dev_l2_genesis;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::Value;

const FUNDS: Amount = 1_000_000_000;

fn genesis(count: u32) -> L2Genesis {
    dev_l2_genesis(count, [FUNDS; 4])
}

async fn start(dir: &std::path::Path) -> Sequencer {
    let mut config = SequencerConfig::new(dir.to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 20;
    config.nonce_gap_timeout_ms = 500;
    config.executor_threads = 2;
    Sequencer::start(config, genesis(6)).await.unwrap()
}

fn transfer(from: u32, to: u32, amount: Amount, fee: Amount, nonce: u64) -> SignedTransaction {
    let tx = Transaction::Transfer {
        from: AccountId::new(from).unwrap(),
        to: Recipient::Account(AccountId::new(to).unwrap()),
        token: TokenId::Gcc,
        amount,
        fee,
        nonce,
    };
    Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx)
}

fn hex_of(tx: &SignedTransaction) -> String {
    hex::encode(tx.encode())
}

async fn wait_executed(client: &impl ClientT, hash: &str) -> Value {
    for _ in 0..800 {
        let status: Value = client
            .request("l2_getTransactionStatus", rpc_params![hash])
            .await
            .unwrap();
        if status["status"] != "received" && status["status"] != "accepted" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{hash} not final after 20 s");
}

async fn error_of(client: &impl ClientT, tx: String) -> (i32, String, Value) {
    match client
        .request::<Value, _>("l2_sendTransaction", rpc_params![tx])
        .await
    {
        Err(jsonrpsee::core::ClientError::Call(error)) => (
            error.code(),
            error.message().to_string(),
            error
                .data()
                .map(|d| serde_json::from_str(d.get()).unwrap())
                .unwrap_or(Value::Null),
        ),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_accepts_executes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sequencer = start(dir.path()).await;
    let url = format!("http://{}", sequencer.rpc_addr);
    let client = HttpClientBuilder::default().build(&url).unwrap();

    let chain: u64 = client.request("l2_chainId", rpc_params![]).await.unwrap();
    assert_eq!(chain, DEVNET_CHAIN_ID.0);

    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", sequencer.rpc_addr))
        .await
        .unwrap();
    let mut blocks = ws
        .subscribe::<Value, _>(
            "l2_subscribeNewBlocks",
            rpc_params![],
            "l2_unsubscribeNewBlocks",
        )
        .await
        .unwrap();

    let tx = transfer(1, 2, 500, 3, 0);
    let accepted: Value = client
        .request("l2_sendTransaction", rpc_params![hex_of(&tx)])
        .await
        .unwrap();
    let hash = accepted["hash"].as_str().unwrap().to_string();
    assert_eq!(hash, tx.hash().to_string());
    assert_eq!(accepted["status"], "accepted");

    let status = wait_executed(&client, &hash).await;
    assert_eq!(
        status,
        serde_json::json!({ "status": "executed", "block": status["block"], "success": true })
    );
    let receipt: Value = client
        .request("l2_getTransactionReceipt", rpc_params![hash.clone()])
        .await
        .unwrap();
    assert_eq!(receipt["status"], "success");
    assert_eq!(receipt["feePaid"], "3");
    let block_number = receipt["block"].as_u64().unwrap();

    // The included transaction itself: its fields and exactly the bytes sent.
    let included: Value = client
        .request("l2_getTransaction", rpc_params![hash.clone()])
        .await
        .unwrap();
    assert_eq!(included["hash"], hash.as_str());
    assert_eq!(included["block"], receipt["block"]);
    assert_eq!(included["index"], receipt["index"]);
    assert_eq!(included["raw"], format!("0x{}", hex_of(&tx)));
    assert_eq!(
        included["tx"],
        serde_json::json!({
            "kind": "transfer", "from": 1, "to": { "account": 2 }, "token": "GCC",
            "amount": "500", "fee": "3", "nonce": "0",
        })
    );
    assert_eq!(
        included["signer"],
        format!("0x{}", Keypair::dev(1).public_key().to_hex())
    );
    let unknown: Value = client
        .request(
            "l2_getTransaction",
            rpc_params![format!("0x{}", "ab".repeat(32))],
        )
        .await
        .unwrap();
    assert!(unknown.is_null());

    let account: Value = client
        .request("l2_getAccount", rpc_params![2])
        .await
        .unwrap();
    assert_eq!(account["balances"]["GCC"], (FUNDS + 500).to_string());
    let by_key: Value = client
        .request(
            "l2_getAccount",
            rpc_params![Keypair::dev(1).public_key().to_hex()],
        )
        .await
        .unwrap();
    assert_eq!(by_key["id"], 1);
    assert_eq!(by_key["nonce"], 1);

    // Replaying the executed transaction's bytes is refused, and does not make the
    // original look rejected: its receipt is what its status reports.
    let replay = client
        .request::<Value, _>("l2_sendTransaction", rpc_params![hex_of(&tx)])
        .await;
    assert!(replay.is_err(), "{replay:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after: Value = client
        .request("l2_getTransactionStatus", rpc_params![hash.clone()])
        .await
        .unwrap();
    assert_eq!(after["status"], "executed", "{after}");

    let block: Value = client
        .request("l2_getBlock", rpc_params![block_number])
        .await
        .unwrap();
    assert_eq!(block["transactions"], serde_json::json!([hash]));
    let latest: u64 = client
        .request("l2_blockNumber", rpc_params![])
        .await
        .unwrap();
    assert!(latest >= block_number);

    // The block subscription saw it.
    let announced = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let block = blocks.next().await.unwrap().unwrap();
            if block["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h == &Value::from(hash.clone()))
            {
                return block;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(announced["number"], block_number);

    // A status subscription on an executed transaction reports it (and stays open
    // for settlement: committed, finalized).
    let mut watch = ws
        .subscribe::<Value, _>(
            "l2_subscribeTransactionStatus",
            rpc_params![hash.clone()],
            "l2_unsubscribeTransactionStatus",
        )
        .await
        .unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap()["status"], "executed");

    // GET /health over plain HTTP.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(sequencer.rpc_addr)
        .await
        .unwrap();
    socket
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("ok"), "{response}");
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sequencer = start(dir.path()).await;
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();

    // Malformed hex and bytes.
    assert_eq!(error_of(&client, "zz".into()).await.0, -32002);
    assert_eq!(error_of(&client, "00".into()).await.0, -32002);
    // Trailing byte.
    let mut bytes = transfer(1, 2, 1, 1, 0).encode();
    bytes.push(0);
    assert_eq!(error_of(&client, hex::encode(bytes)).await.0, -32002);
    // Oversize.
    let huge = "00".repeat(ghostplane_primitives::SIGNED_TX_BYTES_MAX + 1);
    assert_eq!(error_of(&client, huge).await.0, -32001);
    // Wrong chain id.
    let other_chain = Keypair::dev(1).sign(ChainId(7), transfer(1, 2, 1, 1, 0).tx);
    let (code, _, data) = error_of(&client, hex_of(&other_chain)).await;
    assert_eq!(code, -32004);
    assert_eq!(data["chainId"], 7);
    // Bad signature.
    let mut forged = transfer(1, 2, 1, 1, 0);
    forged.signature.0[5] ^= 1;
    assert_eq!(error_of(&client, hex_of(&forged)).await.0, -32005);
    // Signer is not the account's key.
    let impostor = Keypair::dev(3).sign(DEVNET_CHAIN_ID, transfer(1, 2, 1, 1, 0).tx);
    assert_eq!(error_of(&client, hex_of(&impostor)).await.0, -32007);
    // Unknown sender.
    let ghost = Keypair::dev(40).sign(DEVNET_CHAIN_ID, transfer(40, 2, 1, 1, 0).tx);
    assert_eq!(error_of(&client, hex_of(&ghost)).await.0, -32006);
    // Zero amount (stateless).
    assert_eq!(
        error_of(&client, hex_of(&transfer(1, 2, 0, 1, 0))).await.0,
        -32003
    );

    // Nonce too low, with the expected nonce.
    let first = transfer(1, 2, 1, 1, 0);
    let _: Value = client
        .request("l2_sendTransaction", rpc_params![hex_of(&first)])
        .await
        .unwrap();
    let (code, _, data) = error_of(&client, hex_of(&transfer(1, 2, 2, 1, 0))).await;
    assert_eq!(code, -32010);
    assert_eq!(data["expectedNonce"], 1);
    // The same transaction again while pending, or after, is refused.
    let again = error_of(&client, hex_of(&first)).await.0;
    assert!(again == -32013 || again == -32010, "{again}");

    // Too far ahead.
    let (code, _, data) = error_of(&client, hex_of(&transfer(1, 2, 1, 1, 500))).await;
    assert_eq!(code, -32011);
    assert_eq!(data["maxGap"], 64);

    // Replacement: a waiting nonce is replaced only by a higher fee.
    let waiting = transfer(4, 2, 1, 5, 2);
    let _: Value = client
        .request("l2_sendTransaction", rpc_params![hex_of(&waiting)])
        .await
        .unwrap();
    let (code, _, data) = error_of(&client, hex_of(&transfer(4, 2, 9, 5, 2))).await;
    assert_eq!(code, -32012);
    assert_eq!(data["existingFee"], "5");
    let better = transfer(4, 2, 9, 6, 2);
    let _: Value = client
        .request("l2_sendTransaction", rpc_params![hex_of(&better)])
        .await
        .unwrap();
    let status: Value = client
        .request(
            "l2_getTransactionStatus",
            rpc_params![waiting.hash().to_string()],
        )
        .await
        .unwrap();
    assert_eq!(status["status"], "dropped");
    // Filling the gap releases the replacement.
    for nonce in 0..2 {
        let _: Value = client
            .request(
                "l2_sendTransaction",
                rpc_params![hex_of(&transfer(4, 3, 1, 1, nonce))],
            )
            .await
            .unwrap();
    }
    assert_eq!(
        wait_executed(&client, &better.hash().to_string()).await["status"],
        "executed"
    );

    // A future nonce whose gap never fills is dropped after the timeout.
    let stranded = transfer(5, 2, 1, 1, 3);
    let _: Value = client
        .request("l2_sendTransaction", rpc_params![hex_of(&stranded)])
        .await
        .unwrap();
    let status = wait_executed(&client, &stranded.hash().to_string()).await;
    assert_eq!(status["status"], "dropped");
    assert!(status["reason"].as_str().unwrap().contains("gap"));

    // Batch: mixed results, one per transaction.
    let batch = vec![
        hex_of(&transfer(2, 3, 1, 1, 0)),
        "xyz".to_string(),
        hex_of(&transfer(2, 3, 1, 1, 1)),
    ];
    let results: Vec<Value> = client
        .request("l2_sendTransactionBatch", rpc_params![batch])
        .await
        .unwrap();
    assert!(results[0]["hash"].is_string());
    assert_eq!(results[1]["error"]["code"], -32002);
    assert!(results[2]["hash"].is_string());

    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_ingest_and_wal_trim() {
    let dir = tempfile::tempdir().unwrap();
    let sequencer = start(dir.path()).await;
    let client = QuicClient::connect(sequencer.quic_addr, &sequencer.quic_certificate)
        .await
        .unwrap();
    let mut stream = client.open_stream().await.unwrap();
    let mut hashes = Vec::new();
    for nonce in 0..20 {
        let tx = transfer(3, 1, 10, 1, nonce);
        match stream.submit(&tx.encode()).await.unwrap() {
            QuicReply::Accepted(hash) => {
                assert_eq!(hash, tx.hash());
                hashes.push(hash);
            }
            other => panic!("rejected: {other:?}"),
        }
    }
    // A bad transaction gets a typed rejection on the same stream.
    let mut forged = transfer(3, 1, 10, 1, 20);
    forged.signature.0[0] ^= 1;
    assert!(matches!(
        stream.submit(&forged.encode()).await.unwrap(),
        QuicReply::Rejected { code: -32005, .. }
    ));

    // Pipelined on a second stream: many frames in flight while replies stream back
    // (a reader that abandoned a half-read frame would lose the framing here).
    let (mut sender, mut receiver) = client.open_stream().await.unwrap().split();
    let writer = tokio::spawn(async move {
        for nonce in 20..1020 {
            sender
                .send(&transfer(3, 1, 10, 1, nonce).encode())
                .await
                .unwrap();
        }
        sender.finish().unwrap();
    });
    let mut accepted = 0;
    while let Some(reply) = receiver.next().await.unwrap() {
        assert!(matches!(reply, QuicReply::Accepted(_)), "{reply:?}");
        accepted += 1;
    }
    writer.await.unwrap();
    assert_eq!(accepted, 1000);

    let rpc = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();
    for hash in &hashes {
        assert_eq!(
            wait_executed(&rpc, &hash.to_string()).await["status"],
            "executed"
        );
    }
    let mut nonce = Value::Null;
    for _ in 0..800 {
        let account: Value = rpc.request("l2_getAccount", rpc_params![3]).await.unwrap();
        nonce = account["nonce"].clone();
        if nonce == 1020 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(nonce, 1020, "all 1020 QUIC transfers executed");
    // Untrusted certificate: refused.
    let other = rcgen_like_cert();
    assert!(
        QuicClient::connect(sequencer.quic_addr, &other)
            .await
            .is_err()
    );

    client.close().await;
    sequencer.shutdown().await;
    // Everything executed, so the WAL is empty.
    let wal = Wal::open(&dir.path().join("wal")).unwrap();
    assert_eq!(wal.entries().unwrap().len(), 0);
}

/// A certificate the server does not have: the one of another sequencer.
fn rcgen_like_cert() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    ghostplane_sequencer::quic::load_or_create_certificate(dir.path())
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_nonce_counts_pooled_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SequencerConfig::new(dir.path().to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    // A long block: accepted transactions wait in the pool for a while.
    config.block_time_ms = 3_000;
    config.executor_threads = 2;
    let sequencer = Sequencer::start(config, genesis(6)).await.unwrap();
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();
    let first = transfer(3, 4, 10, 1, 0);
    client
        .request::<Value, _>("l2_sendTransaction", rpc_params![hex_of(&first)])
        .await
        .unwrap();
    let account: Value = client
        .request("l2_getAccount", rpc_params![3])
        .await
        .unwrap();
    assert_eq!(account["nonce"], 0, "{account}");
    assert_eq!(account["pendingNonce"], 1, "{account}");
    // A wallet signing with pendingNonce sends the next one without a clash.
    let second = transfer(3, 4, 10, 1, 1);
    client
        .request::<Value, _>("l2_sendTransaction", rpc_params![hex_of(&second)])
        .await
        .unwrap();
    wait_executed(&client, &second.hash().to_string()).await;
    let account: Value = client
        .request("l2_getAccount", rpc_params![3])
        .await
        .unwrap();
    assert_eq!(account["nonce"], 2);
    assert_eq!(account["pendingNonce"], 2);
    sequencer.shutdown().await;
}

/// A connection's in-flight bound is shared by its streams: with room for one
/// transaction at a time, three streams pipelining at once still get every reply,
/// in order per stream (a slot leaked or held across streams would hang here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connection_bound_is_shared_by_its_streams() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SequencerConfig::new(dir.path().to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 20;
    config.quic_connection_in_flight_max = 1;
    let sequencer = Sequencer::start(config, genesis(6)).await.unwrap();
    let client = QuicClient::connect(sequencer.quic_addr, &sequencer.quic_certificate)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for sender in 1..=3u32 {
        let (mut send, mut receive) = client.open_stream().await.unwrap().split();
        let txs: Vec<SignedTransaction> = (0..100).map(|n| transfer(sender, 0, 1, 1, n)).collect();
        let expected: Vec<_> = txs.iter().map(|tx| tx.hash()).collect();
        tasks.push(tokio::spawn(async move {
            for tx in &txs {
                send.send(&tx.encode()).await.unwrap();
            }
            send.finish().unwrap();
        }));
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(reply) = receive.next().await.unwrap() {
                match reply {
                    QuicReply::Accepted(hash) => got.push(hash),
                    other => panic!("rejected: {other:?}"),
                }
            }
            assert_eq!(got, expected, "stream of sender {sender}");
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a stream stalled under the shared bound")
            .unwrap();
    }
    client.close().await;
    sequencer.shutdown().await;
}

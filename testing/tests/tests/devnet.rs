//! End to end: a real `ghostplane devnet` process, the real CLI, real proofs.
//!
//! Deposit L1 → L2, transfer on L2, withdraw L2 → L1; SIGKILL the devnet with a
//! withdrawal and an accepted transfer in flight, restart it on the same data, and
//! check that everything reaches `finalized` exactly once, with balances on both
//! layers to the unit. Then forged batches sent straight to the L1 are refused and
//! change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
/// `docs/state-commitment.md` rebuilt from its text (the prover's test shares it).
#[path = "../../../crates/proof/prover/tests/reference/mod.rs"]
mod reference;

use std::time::Duration;

use common::*;
use ghostd::{BatchCommit, Call, L1_DEVNET_CHAIN_ID, RollupCall};
use ghostplane_primitives::{
    AccountId, DEVNET_CHAIN_ID, FieldBytes, Keypair, PubdataOp, TokenId, encode_pubdata,
};
use ghostplane_test_utils::sign_l1;
use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::http_client::HttpClient;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::Value;

/// The devnet created dev0's DID at start (its banner prints it); the `id` commands change it, and a token
/// issued locally verifies on the node until it is revoked.
fn identity_through_the_cli(data: &std::path::Path, ports: &Ports) {
    // The devnet created it before it reported up.
    let did =
        ghostd_types::identity::DidId::derive(L1_DEVNET_CHAIN_ID, &Keypair::dev(0).public_key())
            .to_string();
    let shown: Value = serde_json::from_str(&ok(cli(data, ports, &["id", "show"]))).unwrap();
    assert_eq!(shown["didDocument"]["id"], did);
    let out = ok(cli(
        data,
        ports,
        &["id", "key-new", "signing", "--secp256k1"],
    ));
    assert!(out.contains("zQ3s"), "{out}");
    ok(cli(
        data,
        ports,
        &[
            "id",
            "add-key",
            "--fragment",
            "k1",
            "--key",
            "signing",
            "--relationships",
            "assertionMethod",
        ],
    ));
    let shown: Value = serde_json::from_str(&ok(cli(data, ports, &["id", "show", &did]))).unwrap();
    assert_eq!(
        shown["didDocument"]["assertionMethod"][1],
        format!("{did}#k1")
    );
    let token = ok(cli(
        data,
        ports,
        &[
            "id",
            "token",
            "issue",
            "--key",
            "signing",
            "--fragment",
            "k1",
            "--aud",
            "svc",
            "--jti",
            "t-1",
        ],
    ))
    .trim()
    .to_string();
    let out = ok(cli(
        data,
        ports,
        &["id", "token", "verify", &token, "--aud", "svc"],
    ));
    assert!(out.contains("\"valid\": true"), "{out}");
    ok(cli(data, ports, &["id", "token", "revoke", "--jti", "t-1"]));
    let refused = cli(
        data,
        ports,
        &["id", "token", "verify", &token, "--aud", "svc"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("revoked"));
}

/// A name registered and pointed at dev3's L2 account; a transfer to the name lands
/// there; the name answers over DNS-over-HTTPS on the L1 port.
async fn names_through_the_cli(data: &std::path::Path, ports: &Ports, l2: &HttpClient) {
    ok(cli(
        data,
        ports,
        &[
            "name",
            "register",
            "dev3.ghost",
            "--from",
            "dev0",
            "--owner",
            "dev3",
        ],
    ));
    ok(cli(
        data,
        ports,
        &[
            "name",
            "set-record",
            "dev3.ghost",
            "--type",
            "l2",
            "--value",
            "dev3",
            "--from",
            "dev3",
        ],
    ));
    ok(cli(
        data,
        ports,
        &[
            "name",
            "set-record",
            "dev3.ghost",
            "--type",
            "TXT",
            "--value",
            "hi",
            "--from",
            "dev3",
        ],
    ));
    let shown = ok(cli(data, ports, &["name", "resolve", "dev3.ghost"]));
    assert!(shown.contains("\"state\": \"active\""), "{shown}");
    let dev3 = Keypair::dev(3);
    let before = l2_balance(l2, &dev3, TokenId::Mana).await;
    let out = ok(cli(
        data,
        ports,
        &[
            "tx",
            "transfer",
            "--from",
            "dev1",
            "--to",
            "dev3.ghost",
            "--token",
            "MANA",
            "--amount",
            "5",
            "--wait",
            "executed",
        ],
    ));
    assert!(out.contains("dev3.ghost resolves to L2 key"), "{out}");
    assert_eq!(l2_balance(l2, &dev3, TokenId::Mana).await, before + 5);
    // A name without an L2 address is a clear error.
    ok(cli(
        data,
        ports,
        &["name", "register", "empty.ghost", "--from", "dev0"],
    ));
    let refused = cli(
        data,
        ports,
        &[
            "tx",
            "transfer",
            "--from",
            "dev1",
            "--to",
            "empty.ghost",
            "--token",
            "MANA",
            "--amount",
            "5",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no L2 address record"));
    // DoH JSON on the L1 port.
    let doh = http_get(ports.l1, "/resolve?name=dev3.ghost&type=TXT").await;
    assert!(doh.contains("\"Status\":0") && doh.contains("hi"), "{doh}");
}

/// The ledger CLI on the devnet: dev0's DID (the genesis issuer) mints, a non-issuer
/// cannot, a hold is partly posted, and a linked payment with one impossible leg
/// moves nothing.
fn ledger_through_the_cli(data: &std::path::Path, ports: &Ports) {
    let spirit = |who: &str| -> u128 {
        let out = ok(cli(
            data,
            ports,
            &["ledger", "account", who, "--token", "SPIRIT"],
        ));
        let view: Value = serde_json::from_str(&out).unwrap();
        view["balance"].as_str().unwrap().parse().unwrap()
    };
    let (dev4, dev5) = (spirit("dev4"), spirit("dev5"));
    let supply = |_: ()| -> u128 {
        let view: Value =
            serde_json::from_str(&ok(cli(data, ports, &["ledger", "supply", "SPIRIT"]))).unwrap();
        view["supply"].as_str().unwrap().parse().unwrap()
    };
    let before = supply(());
    let mint = [
        "ledger", "mint", "--from", "dev0", "--to", "dev4", "--token", "SPIRIT", "--amount", "1000",
    ];
    ok(cli(data, ports, &mint));
    assert_eq!(supply(()), before + 1000);
    let mut refused = mint;
    refused[3] = "dev1";
    let out = cli(data, ports, &refused);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unauthorized"));
    let held = ok(cli(
        data,
        ports,
        &[
            "ledger",
            "transfer",
            "--from",
            "dev4",
            "--to",
            "dev5",
            "--token",
            "SPIRIT",
            "--amount",
            "300",
            "--hold",
            "--timeout",
            "100",
        ],
    ));
    let id = held
        .lines()
        .find_map(|l| l.strip_prefix("transfer id "))
        .unwrap()
        .to_string();
    ok(cli(
        data,
        ports,
        &["ledger", "post", &id, "--from", "dev5", "--amount", "100"],
    ));
    assert_eq!(spirit("dev4"), dev4 + 1000 - 100);
    assert_eq!(spirit("dev5"), dev5 + 100);
    let out = cli(
        data,
        ports,
        &[
            "ledger",
            "pay",
            "--from",
            "dev4",
            "--token",
            "SPIRIT",
            "dev5=1",
            "dev6=100000000000000000000000",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("linked_event_failed"));
    assert_eq!(spirit("dev5"), dev5 + 100);
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// JSON-RPC ids on one of the devnet's servers, over HTTP and WebSocket: a number
/// jsonrpsee cannot read is echoed, an invalid id is `-32600` with `id: null`, and a
/// batch answers every call.
async fn ids_get_spec_replies(addr: std::net::SocketAddr) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_util::compat::TokioAsyncReadCompatExt;
    let call = |id: &str| format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"system_health"}}"#);
    let cases = [
        (call("1.5"), r#""id":1.5,"result""#),
        (
            call("18446744073709551616"),
            r#""id":18446744073709551616,"result""#,
        ),
        (call("true"), r#""id":null,"error":{"code":-32600"#),
        (call("[1]"), r#""id":null,"error":{"code":-32600"#),
        (call(r#"{"a":1}"#), r#""id":null,"error":{"code":-32600"#),
        (
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"system_health"}"#.to_string(),
            r#""id":null,"error":{"code":-32600"#,
        ),
    ];
    let http = |body: String| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    };
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let host = addr.to_string();
    let mut ws = soketto::handshake::Client::new(stream.compat(), &host, "/");
    let accepted = ws.handshake().await.unwrap();
    assert!(matches!(
        accepted,
        soketto::handshake::ServerResponse::Accepted { .. }
    ));
    let (mut tx, mut rx) = ws.into_builder().finish();
    for (request, reply) in &cases {
        let over_http = http(request.clone()).await;
        assert!(over_http.contains(reply), "{addr}: {request} → {over_http}");
        tx.send_text(request).await.unwrap();
        tx.flush().await.unwrap();
        let mut message = Vec::new();
        rx.receive_data(&mut message).await.unwrap();
        let over_ws = String::from_utf8(message).unwrap();
        assert!(
            over_ws.contains(reply),
            "{addr} (WebSocket): {request} → {over_ws}"
        );
    }
    let batch = format!("[{},{},{}]", call("1"), call("true"), call("2.5"));
    let replies = http(batch).await;
    let (_, body) = replies.split_once("\r\n\r\n").unwrap();
    let replies: Vec<serde_json::Value> = serde_json::from_str(body).unwrap();
    assert_eq!(replies.len(), 3, "{body}");
    assert_eq!(replies[0]["id"], 1);
    assert_eq!(replies[1]["error"]["code"], -32600);
    assert_eq!(replies[2]["id"], 2.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_transfer_withdraw_survive_sigkill_and_finalize() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("devnet.log");
    let ports = Ports::free();
    let devnet = Devnet::start(data, &ports, &[]);
    wait_up(ports.l2, "l2_blockNumber", &log).await;
    wait_up(ports.l1, "ghost_blockNumber", &log).await;
    let l2 = client(ports.l2);
    let l1 = client(ports.l1);
    wait_up(ports.coordinator, "prover_status", &log).await;
    for server in [ports.l2, ports.l1, ports.coordinator] {
        ids_get_spec_replies(server).await;
    }

    // A fresh key: no L2 account, no L1 funds.
    std::fs::create_dir_all(data.join("wallet")).unwrap();

    identity_through_the_cli(data, &ports);
    names_through_the_cli(data, &ports, &l2).await;
    ledger_through_the_cli(data, &ports);

    let alice = Keypair::from_seed(&[42; 32]);
    std::fs::write(data.join("wallet/alice.key"), hex::encode(alice.seed())).unwrap();
    let alice_l1 = alice.public_key().to_hex();
    let dev2_l1 = Keypair::dev(2).public_key().to_hex();

    // L1 → L2: dev2's L1 SPIRIT into a new L2 account for alice.
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev2", "--to", "alice", "--token", "SPIRIT", "--amount",
            "5000", "--wait", "executed",
        ],
    ));
    assert!(out.contains("executed"), "{out}");
    assert_eq!(l2_balance(&l2, &alice, TokenId::Spirit).await, 5000);
    assert_eq!(l1_balance(&l1, &dev2_l1, TokenId::Spirit).await, DEV - 5000);

    // GCC for alice's fees (every L2 transaction pays at least `l2_minFee`).
    ok(cli(
        data,
        &ports,
        &[
            "tx", "deposit", "--from", "dev2", "--to", "alice", "--token", "GCC", "--amount",
            "10000", "--wait", "executed",
        ],
    ));

    // L2 transfer: alice → dev1 (the minimum fee).
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx", "transfer", "--from", "alice", "--to", "dev1", "--token", "SPIRIT", "--amount",
            "1000", "--wait", "executed",
        ],
    ));
    let transfer_hash = hash_of(&out);

    // L2 → L1: alice withdraws 2000 SPIRIT to her L1 address.
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx", "withdraw", "--from", "alice", "--token", "SPIRIT", "--amount", "2000", "--wait",
            "executed",
        ],
    ));
    let withdraw_hash = hash_of(&out);

    // The devnet's metrics endpoint counts what it did, in Prometheus text format.
    let metrics = scrape(ports.metrics);
    assert!(counter_total(&metrics, "ghostplane_sequencer_received_total") >= 2.0);
    assert!(counter_total(&metrics, "ghostplane_sequencer_accepted_total") >= 2.0);
    assert!(counter_total(&metrics, "ghostplane_sequencer_blocks_total") >= 1.0);
    assert!(counter_total(&metrics, "ghostd_blocks_total") >= 1.0);
    for name in [
        "ghostplane_sequencer_block_execute_seconds_count",
        "ghostd_block_seal_seconds_count",
        "ghostplane_settlement_l2_block",
        "ghostplane_prover_jobs",
    ] {
        assert!(
            metrics.samples.iter().any(|s| s.metric == name),
            "{name} is not exported"
        );
    }

    // One more transfer, only acknowledged as accepted; then SIGKILL at once.
    let out = ok(cli(
        data,
        &ports,
        &[
            "tx", "transfer", "--from", "dev0", "--to", "dev3", "--token", "GCC", "--amount", "777",
        ],
    ));
    let accepted_hash = hash_of(&out);
    devnet.kill();

    // Restart on the same data: everything reaches finality.
    let devnet = Devnet::start(data, &ports, &[]);
    wait_up(ports.l2, "l2_blockNumber", &log).await;
    wait_up(ports.l1, "ghost_blockNumber", &log).await;
    // Over WebSocket, the accepted transfer's status moves forward to `finalized`.
    let ws = WsClientBuilder::default()
        .build(format!("ws://{}", ports.l2))
        .await
        .unwrap();
    let mut watch = ws
        .subscribe::<Value, _>(
            "l2_subscribeTransactionStatus",
            rpc_params![accepted_hash.trim_start_matches("0x")],
            "l2_unsubscribeTransactionStatus",
        )
        .await
        .unwrap();
    let order = ["unknown", "accepted", "executed", "committed", "finalized"];
    let mut seen: Vec<String> = Vec::new();
    tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(update) = watch.next().await {
            let status = update.unwrap()["status"].as_str().unwrap().to_string();
            seen.push(status.clone());
            if status == "finalized" {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no finalized status over WebSocket: {seen:?}"));
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("finalized"),
        "{seen:?}"
    );
    eprintln!("statuses over WebSocket: {seen:?}");

    // Every metric the Grafana dashboard plots is exported by the devnet: before the
    // restart (it took submissions) or after it (it settled and proved).
    let late = scrape(ports.metrics);
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana-dashboard.json"
    ))
    .unwrap();
    let names = dashboard_metrics(&dashboard);
    assert!(names.len() > 30, "{names:?}");
    let exported: std::collections::HashSet<&str> = metrics
        .samples
        .iter()
        .chain(&late.samples)
        .map(|s| s.metric.as_str())
        .collect();
    // The parser folds a histogram's `_bucket` series into one sample of its base name.
    let is_exported = |name: &str| {
        exported.contains(name)
            || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|b| exported.contains(b))
            })
    };
    let missing: Vec<&String> = names.iter().filter(|name| !is_exported(name)).collect();
    assert!(
        missing.is_empty(),
        "the dashboard plots unexported {missing:?}"
    );

    for hash in [&transfer_hash, &withdraw_hash, &accepted_hash] {
        let out = ok(cli(
            data,
            &ports,
            &["tx", "status", hash, "--wait", "finalized"],
        ));
        assert!(out.contains("finalized"), "{hash}: {out}");
    }
    // The finalized withdrawal's status says the L1 released it.
    let out = ok(cli(data, &ports, &["tx", "status", &withdraw_hash]));
    assert!(
        out.contains("withdrawal 2000 SPIRIT") && out.trim_end().ends_with(": released"),
        "{out}"
    );
    // And the batch that carried it: its L1 commit and proof blocks.
    assert!(
        out.contains("committed in L1 block") && out.contains("proven and final in L1 block"),
        "{out}"
    );
    let status: Value = call(
        &l2,
        "l2_getTransactionStatus",
        rpc_params![withdraw_hash.clone()],
    )
    .await;
    let block = status["block"].as_u64().unwrap();
    let batch = call(&l1, "rollup_getBatchOfBlock", rpc_params![block]).await;
    assert!(
        batch["firstBlock"].as_u64().unwrap() <= block
            && block <= batch["lastBlock"].as_u64().unwrap()
            && batch["finalizedAt"].is_u64(),
        "{batch}"
    );
    let ahead = call(
        &l1,
        "rollup_getBatchOfBlock",
        rpc_params![block + 1_000_000],
    )
    .await;
    assert!(ahead.is_null(), "{ahead}");

    // Contracts, end to end: deployed and called through the CLI, re-executed by
    // the L1 at commit, proven, finalized. A relay calls a counter (a call between
    // contracts); the receipt is printed.
    let contracts = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/l2/executor/contracts"
    );
    let mut addresses = Vec::new();
    for name in ["counter", "relay"] {
        let file = format!("{contracts}/{name}.wat");
        addresses.push(dev4_deploy(data, &ports, &file, None, "finalized"));
    }
    let input = format!(
        "{}{}00",
        addresses[0].trim_start_matches("0x"),
        "ff".repeat(8)
    );
    let out = ok(cli(
        data,
        &ports,
        &[
            "contract",
            "call",
            &addresses[1],
            "--from",
            "dev4",
            "--input",
            &input,
            "--wait",
            "finalized",
        ],
    ));
    assert!(out.contains("finalized"), "{out}");
    assert!(out.contains("outcome    success"), "{out}");
    // status 0, the relay saw nothing under its key, the counter returned 1.
    assert!(
        out.contains("return     0x00000000ffffffff0100000000000000"),
        "{out}"
    );

    // Contracts holding value: an AMM of SPIRIT and MANA deployed by dev4, funded
    // by calls carrying value, then a swap that pays out by a contract move; dev4
    // withdraws the proceeds to the L1. All finalized (re-executed, proven).
    let amm = format!("{contracts}/amm.wat");
    let pool = dev4_deploy(data, &ports, &amm, Some("0102"), "executed");
    for token in ["SPIRIT", "MANA"] {
        let out = ok(cli(
            data,
            &ports,
            &[
                "contract", "call", &pool, "--from", "dev4", "--input", "01", "--token", token,
                "--value", "1000000", "--wait", "executed",
            ],
        ));
        assert!(out.contains("outcome    success"), "{token}: {out}");
    }
    let dev4 = Keypair::dev(4);
    let (spirit, mana) = (
        l2_balance(&l2, &dev4, TokenId::Spirit).await,
        l2_balance(&l2, &dev4, TokenId::Mana).await,
    );
    let input = format!("02{}", hex::encode(1u64.to_le_bytes()));
    let out = dev4_call(
        data,
        &ports,
        &pool,
        &input,
        Some(("SPIRIT", "10000")),
        "finalized",
    );
    assert!(out.contains("outcome    success"), "{out}");
    // out = 1e6 · 10_000 · 997 / (1e6 · 1000 + 10_000 · 997) = 9871
    let paid: u128 = 1_000_000 * 10_000 * 997 / (1_000_000 * 1000 + 10_000 * 997);
    assert!(
        out.contains(&format!(
            "return     0x{}",
            hex::encode((paid as u64).to_le_bytes())
        )),
        "{out}"
    );
    assert_eq!(
        l2_balance(&l2, &dev4, TokenId::Spirit).await,
        spirit - 10_000
    );
    assert_eq!(l2_balance(&l2, &dev4, TokenId::Mana).await, mana + paid);
    let dev4_l1 = dev4.public_key().to_hex();
    let l1_mana = l1_balance(&l1, &dev4_l1, TokenId::Mana).await;
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
            &paid.to_string(),
            "--wait",
            "finalized",
        ],
    ));
    assert!(out.contains("finalized"), "{out}");
    assert_eq!(
        l1_balance(&l1, &dev4_l1, TokenId::Mana).await,
        l1_mana + paid
    );

    // The other way, through the router (which pays the pool with value and
    // passes the proceeds on): 5,000 MANA for SPIRIT. Then the owner removes
    // liquidity. Both finalized.
    let router = format!("{contracts}/router.wat");
    let router = dev4_deploy(data, &ports, &router, None, "executed");
    let (spirit, mana) = (
        l2_balance(&l2, &dev4, TokenId::Spirit).await,
        l2_balance(&l2, &dev4, TokenId::Mana).await,
    );
    let input = format!(
        "01{}{:02x}{}",
        pool.trim_start_matches("0x"),
        TokenId::Spirit.id(),
        hex::encode(1u64.to_le_bytes())
    );
    let out = ok(cli(
        data,
        &ports,
        &[
            "contract",
            "call",
            &router,
            "--from",
            "dev4",
            "--input",
            &input,
            "--token",
            "MANA",
            "--value",
            "5000",
            "--wait",
            "finalized",
        ],
    ));
    assert!(out.contains("outcome    success"), "{out}");
    // The pool now holds 1,010,000 SPIRIT and 1,000,000 − 9,871 MANA.
    let back: u128 = 1_010_000 * 5_000 * 997 / ((1_000_000 - paid) * 1000 + 5_000 * 997);
    assert_eq!(l2_balance(&l2, &dev4, TokenId::Spirit).await, spirit + back);
    assert_eq!(l2_balance(&l2, &dev4, TokenId::Mana).await, mana - 5_000);
    let input = format!("0301{}", hex::encode(100_000u64.to_le_bytes()));
    let out = dev4_call(data, &ports, &pool, &input, None, "finalized");
    assert!(out.contains("outcome    success"), "{out}");
    assert_eq!(
        l2_balance(&l2, &dev4, TokenId::Spirit).await,
        spirit + back + 100_000
    );

    // An escrow: dev4 deploys it for seller dev3 with itself as arbiter, funds it
    // with 7,000 GHOST (held by the contract), then releases it to dev3. Finalized.
    let escrow = format!("{contracts}/escrow.wat");
    let escrow = dev4_deploy(data, &ports, &escrow, Some("0300000004000000"), "executed");
    let dev3 = Keypair::dev(3);
    let seller_ghost = l2_balance(&l2, &dev3, TokenId::Ghost).await;
    let out = dev4_call(
        data,
        &ports,
        &escrow,
        "01",
        Some(("GHOST", "7000")),
        "executed",
    );
    assert!(out.contains("outcome    success"), "{out}");
    assert_eq!(l2_balance(&l2, &dev3, TokenId::Ghost).await, seller_ghost);
    let out = dev4_call(data, &ports, &escrow, "02", None, "finalized");
    assert!(out.contains("outcome    success"), "{out}");
    assert_eq!(
        l2_balance(&l2, &dev3, TokenId::Ghost).await,
        seller_ghost + 7000
    );
    // Status: released (2), buyer dev4 (4), GHOST (3), 7,000.
    // (Waited to finalized: the forged batches below need no batch in flight.)
    let out = dev4_call(data, &ports, &escrow, "04", None, "finalized");
    assert!(
        out.contains(&format!(
            "return     0x0204000000{:02x}{}",
            TokenId::Ghost.id(),
            hex::encode(7000u128.to_le_bytes())
        )),
        "{out}"
    );

    // The escrow's storage is in the finalized root: the L1 tracks a storage root
    // that is not the empty one (the vector `storage_empty_root` of
    // state-commitment.md), and its leaf's key field, which a proven
    // `ContractKey` slot carried into the account tree.
    let storage = call(
        &l1,
        "rollup_getContractStorage",
        rpc_params![escrow.clone()],
    )
    .await;
    assert_ne!(
        storage["storageRoot"].as_str().unwrap(),
        "009bb7998cff8704ffe804812bca9ae0b1455ea431194bce890b09fd6a34cbb4",
        "{storage}"
    );
    assert_eq!(storage["keyField"].as_str().unwrap().len(), 64, "{storage}");
    let nowhere = "07".repeat(32);
    let none = call(&l1, "rollup_getContractStorage", rpc_params![nowhere]).await;
    assert!(none.is_null(), "{none}");

    state_proofs(&l1, &l2, &escrow, &alice).await;
    let seller_key = format!("01{}", "00".repeat(31));
    let out = ok(cli(
        data,
        &ports,
        &["contract", "proof", &escrow, "--key", &seller_key],
    ));
    let proof: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    check_proof(&proof).unwrap_or_else(|e| panic!("{e}: {proof}"));

    // Balances, to the unit, on both layers: nothing lost, nothing doubled.
    assert_eq!(l2_balance(&l2, &alice, TokenId::Spirit).await, 2000);
    assert_eq!(
        l2_balance(&l2, &Keypair::dev(1), TokenId::Spirit).await,
        DEV + 1000
    );
    assert_eq!(
        l2_balance(&l2, &Keypair::dev(3), TokenId::Gcc).await,
        DEV + 777
    );
    assert_eq!(l1_balance(&l1, &alice_l1, TokenId::Spirit).await, 2000);
    assert_eq!(l1_balance(&l1, &dev2_l1, TokenId::Spirit).await, DEV - 5000);
    let escrow = ghostd::modules::ledger::bridge_escrow().to_hex();
    let escrow = call(&l1, "ledger_getAccount", rpc_params![escrow, "SPIRIT"]).await;
    assert_eq!(
        escrow["balance"].as_str().unwrap(),
        (16 * DEV + 5000 - 2000).to_string()
    );
    let status = call(&l1, "rollup_status", rpc_params![]).await;
    assert_eq!(status["committedBatch"], status["finalizedBatch"]);
    assert_eq!(status["depositsConsumed"], 2); // SPIRIT, then GCC for fees

    // Forged batches, straight to the L1: refused with typed errors, nothing changes.
    let before = call(&l1, "rollup_status", rpc_params![]).await;
    let next = before["committedBatch"].as_u64().unwrap() + 1;
    let first_block = before["committedL2Block"].as_u64().unwrap() + 1;
    let operator = Keypair::from_seed(blake3::hash(b"ghostplane/devnet/operator").as_bytes());
    let nonce = call(
        &l1,
        "ghost_getAccount",
        rpc_params![operator.public_key().to_hex()],
    )
    .await["nonce"]
        .as_u64()
        .unwrap();
    let commit = |pubdata: Vec<u8>, number: u64| {
        Call::Rollup(RollupCall::Commit(BatchCommit {
            number,
            first_block,
            last_block: first_block,
            fee_account: AccountId::ZERO,
            pubdata,
            new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
            chunk_count: 1,
        }))
    };
    let mallory = Keypair::from_seed(&[7; 32]);
    let stolen = PubdataOp::Withdraw {
        from: AccountId::new(1).unwrap(),
        to: ghostplane_primitives::L1Address(mallory.public_key().0),
        token: TokenId::Gcc,
        amount: 1_000,
        fee: 0,
        // Signed by mallory, not by account 1's key.
        signature: mallory
            .sign(
                DEVNET_CHAIN_ID,
                ghostplane_primitives::Transaction::Withdraw {
                    from: AccountId::new(1).unwrap(),
                    to: ghostplane_primitives::L1Address(mallory.public_key().0),
                    token: TokenId::Gcc,
                    amount: 1_000,
                    fee: 0,
                    nonce: 0,
                },
            )
            .signature,
    };
    let pubdata = encode_pubdata(std::slice::from_ref(&stolen)).unwrap();
    let error = send_forged(&l1, sign_l1(&mallory, 0, commit(pubdata.clone(), next))).await;
    assert!(error.contains("not a rollup operator"), "{error}");
    let error = send_forged(&l1, sign_l1(&operator, nonce, commit(pubdata, next))).await;
    assert!(error.contains("bad signature"), "{error}");
    let error = send_forged(&l1, sign_l1(&operator, nonce, commit(Vec::new(), next + 1))).await;
    assert!(error.contains("out of order"), "{error}");
    let skipped = PubdataOp::Deposit {
        queue_index: 5,
        to: AccountId::new(1).unwrap(),
        to_key: Keypair::dev(1).public_key(),
        token: TokenId::Gcc,
        amount: 1,
    };
    let pubdata = encode_pubdata(&[skipped]).unwrap();
    let error = send_forged(&l1, sign_l1(&operator, nonce, commit(pubdata, next))).await;
    assert!(error.contains("does not match the queue"), "{error}");
    let prove = Call::Rollup(RollupCall::Prove {
        number: next,
        first_chunk: 0,
        chunk_roots: vec![FieldBytes::from_bytes([0; 32]).unwrap()],
        proofs: vec![vec![0; 128]],
    });
    let error = send_forged(&l1, sign_l1(&operator, nonce, prove)).await;
    assert!(error.contains("cannot be proven"), "{error}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = call(&l1, "rollup_status", rpc_params![]).await;
    assert_eq!(before, after, "a refused batch changed the rollup state");
    assert_eq!(
        l1_balance(&l1, &mallory.public_key().to_hex(), TokenId::Gcc).await,
        0
    );
    drop(devnet);
}

/// The metric names a Grafana dashboard's queries use (`ghost…` identifiers).
/// `l2_getProof` against the finalized root: the escrow's leaf with a present and
/// an absent slot, and alice's leaf, each checked by the documented rule
/// ([`check_proof`], from the document alone); tampered answers fail it.
async fn state_proofs(l1: &HttpClient, l2: &HttpClient, escrow: &str, alice: &Keypair) {
    let seller_key = format!("01{}", "00".repeat(31));
    let status_key = format!("02{}", "00".repeat(31));
    let absent_key = format!("09{}", "00".repeat(31));
    let keys = vec![seller_key, status_key, absent_key];
    // Settlement reports the finalized root each round: wait for the L1's.
    let mut proof = Value::Null;
    let mut anchored = false;
    for _ in 0..100 {
        let status = call(l1, "rollup_status", rpc_params![]).await;
        proof = call(l2, "l2_getProof", rpc_params![escrow, keys.clone()]).await;
        if proof["batch"] == status["finalizedBatch"] {
            assert_eq!(proof["root"], status["finalizedRoot"], "{proof}");
            anchored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(anchored, "no answer at the L1's finalized batch: {proof}");
    check_proof(&proof).unwrap_or_else(|e| panic!("{e}: {proof}"));
    let slots = proof["contract"]["storage"].as_array().unwrap();
    assert_eq!(slots[0]["value"].as_str().unwrap().len(), 16, "{proof}"); // seller ‖ arbiter
    assert!(slots[1]["value"].is_string(), "{proof}");
    assert!(slots[2]["value"].is_null(), "{proof}");
    // Tampered: a sibling, a value, a storage root: each fails the check.
    let mut bad = proof.clone();
    bad["siblings"][3] = Value::String("00".repeat(32));
    assert!(check_proof(&bad).is_err());
    let mut bad = proof.clone();
    bad["contract"]["storage"][1]["value"] = Value::String("00".into());
    assert!(check_proof(&bad).is_err());
    let mut bad = proof.clone();
    bad["contract"]["storage"][2]["value"] = Value::String(String::new());
    assert!(check_proof(&bad).is_err());
    let mut bad = proof.clone();
    bad["contract"]["storageRoot"] = proof["contract"]["storage"][0]["siblings"]
        .get(0)
        .cloned()
        .unwrap_or(Value::String("00".repeat(32)));
    assert!(check_proof(&bad).is_err());

    // Alice's leaf, by her key: her finalized SPIRIT (2,000) in it.
    let proof = call(l2, "l2_getProof", rpc_params![alice.public_key().to_hex()]).await;
    check_proof(&proof).unwrap_or_else(|e| panic!("{e}: {proof}"));
    // Its root is the one the L1 recorded for that batch.
    let batch = call(l1, "rollup_getBatch", rpc_params![proof["batch"].clone()]).await;
    assert_eq!(proof["root"], batch["newRoot"], "{batch}");
    // An id no account had: the empty leaf, its path checked too.
    let nobody = call(l2, "l2_getProof", rpc_params!["70000"]).await;
    assert!(nobody["leaf"].is_null(), "{nobody}");
    check_proof(&nobody).unwrap_or_else(|e| panic!("{e}: {nobody}"));
    assert_eq!(proof["leaf"]["balances"][1], "2000", "{proof}");
    let mut bad = proof.clone();
    bad["leaf"]["balances"][1] = Value::String("2001".into());
    assert!(check_proof(&bad).is_err());

    // l2_getProof per second (one client, the escrow with three slots).
    let started = std::time::Instant::now();
    let n = 50;
    for _ in 0..n {
        call(l2, "l2_getProof", rpc_params![escrow, keys.clone()]).await;
    }
    eprintln!(
        "load: l2_getProof (account + 3 storage slots) {:.0}/s over {n} calls, one client",
        f64::from(n) / started.elapsed().as_secs_f64()
    );
}

fn bytes32(value: &Value) -> Result<[u8; 32], String> {
    let text = value.as_str().ok_or("not a string")?;
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{text:?} is not 32 bytes of hex"))
}

fn bytes(value: &Value) -> Result<Vec<u8>, String> {
    hex::decode(value.as_str().ok_or("not a string")?).map_err(|e| e.to_string())
}

/// Checks an `l2_getProof` answer by `docs/state-commitment.md` ("Answering
/// l2_getProof"), with the document's rule written again ([`reference`]).
fn check_proof(p: &Value) -> Result<(), String> {
    use reference::{
        climb, contract_key_field, empty, hash_leaf, leaf_fields, pack, slot_fields, slot_index,
        sponge, storage_empty, unpack,
    };
    let root = bytes32(&p["root"])?;
    let account = p["account"].as_u64().ok_or("no account")?;
    let siblings = p["siblings"]
        .as_array()
        .ok_or("no siblings")?
        .iter()
        .map(|s| bytes32(s).map(|b| unpack(&b)))
        .collect::<Result<Vec<_>, _>>()?;
    if siblings.len() != reference::DEPTH {
        return Err(format!("{} siblings", siblings.len()));
    }
    let leaf = &p["leaf"];
    let key = if leaf.is_null() {
        None
    } else {
        Some(bytes32(&leaf["key"])?)
    };
    let digest = match key {
        None => empty()[0],
        Some(key) => {
            let balances: Vec<u128> = leaf["balances"]
                .as_array()
                .ok_or("no balances")?
                .iter()
                .map(|b| b.as_str().and_then(|b| b.parse().ok()).ok_or("bad balance"))
                .collect::<Result<_, _>>()?;
            let balances: [u128; 4] = balances.try_into().map_err(|_| "not four balances")?;
            let nonce = leaf["nonce"].as_u64().ok_or("no nonce")?;
            hash_leaf(&leaf_fields(&key, nonce, &balances))
        }
    };
    if pack(&climb(u128::from(account), digest, &siblings)) != root {
        return Err("the account path does not reach the root".into());
    }
    let contract = &p["contract"];
    if contract.is_null() {
        return Ok(());
    }
    let storage_root = unpack(&bytes32(&contract["storageRoot"])?);
    let field = contract_key_field(
        &bytes32(&contract["address"])?,
        &bytes32(&contract["codeHash"])?,
        &storage_root,
    );
    if key != Some(field) {
        return Err("the leaf's key field is not the contract's".into());
    }
    let empty_storage = storage_empty();
    for slot in contract["storage"].as_array().ok_or("no storage")? {
        let key = bytes32(&slot["key"])?;
        let index = slot_index(&key);
        let leaf = match (&slot["value"], &slot["held"]) {
            (Value::String(_), _) => sponge(&slot_fields(&key, &bytes(&slot["value"])?)),
            (Value::Null, Value::Object(held)) => {
                let other = bytes32(&held["key"])?;
                if other == key || slot_index(&other) != index {
                    return Err("a held path not held by another key".into());
                }
                sponge(&slot_fields(&other, &bytes(&held["value"])?))
            }
            _ => empty_storage[0],
        };
        let occupied: u128 = slot["occupied"]
            .as_str()
            .and_then(|o| o.parse().ok())
            .ok_or("bad occupied")?;
        let mut listed = slot["siblings"].as_array().ok_or("no siblings")?.iter();
        let mut path = Vec::with_capacity(reference::STORAGE_DEPTH);
        for (h, empty) in empty_storage[..reference::STORAGE_DEPTH].iter().enumerate() {
            path.push(if (occupied >> h) & 1 == 1 {
                unpack(&bytes32(listed.next().ok_or("too few siblings")?)?)
            } else {
                *empty
            });
        }
        if listed.next().is_some() {
            return Err("too many siblings".into());
        }
        if climb(index, leaf, &path) != storage_root {
            return Err(format!(
                "slot {} does not reach the storage root",
                slot["key"]
            ));
        }
    }
    Ok(())
}

fn dashboard_metrics(dashboard: &str) -> std::collections::BTreeSet<String> {
    let json: Value = serde_json::from_str(dashboard).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for panel in json["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(start) = rest.find("ghost") {
                let tail = &rest[start..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                names.insert(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
    }
    names
}

/// The address `ghostplane contract deploy` printed.
fn deployed_address(out: &str) -> String {
    out.lines()
        .find_map(|line| line.strip_prefix("contract "))
        .unwrap_or_else(|| panic!("no address printed: {out}"))
        .trim()
        .to_string()
}

/// `ghostplane contract deploy FILE --from dev4 [--init INIT] --wait WAIT`, which
/// must succeed; the contract's address.
fn dev4_deploy(
    data: &std::path::Path,
    ports: &Ports,
    file: &str,
    init: Option<&str>,
    wait: &str,
) -> String {
    let mut args = vec!["contract", "deploy", file, "--from", "dev4", "--wait", wait];
    if let Some(init) = init {
        args.extend(["--init", init]);
    }
    let out = ok(cli(data, ports, &args));
    assert!(out.contains("outcome    success"), "{file}: {out}");
    deployed_address(&out)
}

/// `ghostplane contract call ADDRESS --from dev4 --input INPUT [--token T --value
/// N] --wait WAIT`; its output.
fn dev4_call(
    data: &std::path::Path,
    ports: &Ports,
    address: &str,
    input: &str,
    value: Option<(&str, &str)>,
    wait: &str,
) -> String {
    let mut args = vec![
        "contract", "call", address, "--from", "dev4", "--input", input, "--wait", wait,
    ];
    if let Some((token, amount)) = value {
        args.extend(["--token", token, "--value", amount]);
    }
    ok(cli(data, ports, &args))
}

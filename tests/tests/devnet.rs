//! End to end: a real `ghostplane devnet` process, the real CLI, real proofs.
//!
//! Deposit L1 → L2, transfer on L2, withdraw L2 → L1; SIGKILL the devnet with a
//! withdrawal and an accepted transfer in flight, restart it on the same data, and
//! check that everything reaches `finalized` exactly once, with balances on both
//! layers to the unit. Then forged batches sent straight to the L1 are refused and
//! change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ghostd::{BatchCommit, Call, L1_DEVNET_CHAIN_ID, L1Transaction, RollupCall};
use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, FieldBytes, Keypair, PubdataOp, TokenId, encode_pubdata,
};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::Value;

const DEV: u128 = 1_000_000_000_000_000_000;

fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("ghostplane");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p ghostplane-cli` (cargo test --workspace does)",
        path.display()
    );
    path
}

fn free_tcp() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn free_udp() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

struct Ports {
    l2: SocketAddr,
    quic: SocketAddr,
    l1: SocketAddr,
    coordinator: SocketAddr,
}

struct Devnet {
    child: Child,
}

impl Devnet {
    fn start(data: &Path, ports: &Ports) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("devnet.log"))
            .unwrap();
        let child = Command::new(binary())
            .args(["devnet", "--chunk-ops", "2", "--prover-threads", "2"])
            .args(["--l1-block-time-ms", "100", "--batch-interval-ms", "300"])
            .arg("--data-dir")
            .arg(data.join("chain"))
            .arg("--keys-dir")
            .arg(data.join("keys"))
            .args(["--rpc-addr", &ports.l2.to_string()])
            .args(["--quic-addr", &ports.quic.to_string()])
            .args(["--l1-rpc-addr", &ports.l1.to_string()])
            .args(["--coordinator-addr", &ports.coordinator.to_string()])
            .env("RUST_LOG", "info,jsonrpsee=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self { child }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(addr: SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(format!("http://{addr}"))
        .unwrap()
}

async fn call(
    client: &HttpClient,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> Value {
    client.request::<Value, _>(method, params).await.unwrap()
}

async fn wait_up(addr: SocketAddr, method: &str, log: &Path) {
    let started = Instant::now();
    let c = client(addr);
    while c.request::<Value, _>(method, rpc_params![]).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "devnet did not come up; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs a CLI command against the devnet; killed (and the test failed) if it takes
/// more than three minutes, so a stuck pipeline cannot hang CI.
fn cli(data: &Path, ports: &Ports, args: &[&str]) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .arg("--rpc")
        .arg(format!("http://{}", ports.l2))
        .arg("--l1-rpc")
        .arg(format!("http://{}", ports.l1))
        .arg("--wallet-dir")
        .arg(data.join("wallet"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(180) {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "`ghostplane {}` timed out\nstdout:\n{}\ndevnet log:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                std::fs::read_to_string(data.join("devnet.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "command failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn hash_of(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("0x") && w.len() == 66)
        .unwrap()
        .to_string()
}

async fn l2_balance(l2: &HttpClient, key: &Keypair, token: TokenId) -> u128 {
    let account = call(l2, "l2_getAccount", rpc_params![key.public_key().to_hex()]).await;
    account["balances"][token.symbol()]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn l1_balance(l1: &HttpClient, address: &str, token: TokenId) -> u128 {
    let account = call(l1, "ghost_getAccount", rpc_params![address]).await;
    account["balances"][token.symbol()]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn send_forged(l1: &HttpClient, tx: ghostd::SignedL1Transaction) -> String {
    match l1
        .request::<Value, _>(
            "ghost_sendTransaction",
            rpc_params![hex::encode(tx.encode())],
        )
        .await
    {
        Ok(value) => panic!("forged transaction was accepted: {value}"),
        Err(jsonrpsee::core::ClientError::Call(object)) => object.message().to_string(),
        Err(other) => panic!("transport error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposit_transfer_withdraw_survive_sigkill_and_finalize() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("devnet.log");
    let ports = Ports {
        l2: free_tcp(),
        quic: free_udp(),
        l1: free_tcp(),
        coordinator: free_tcp(),
    };
    let devnet = Devnet::start(data, &ports);
    wait_up(ports.l2, "l2_blockNumber", &log).await;
    wait_up(ports.l1, "ghost_blockNumber", &log).await;
    let l2 = client(ports.l2);
    let l1 = client(ports.l1);

    // A fresh key: no L2 account, no L1 funds.
    std::fs::create_dir_all(data.join("wallet")).unwrap();
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

    // L2 transfer: alice → dev1 (fee 0).
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
    let devnet = Devnet::start(data, &ports);
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

    for hash in [&transfer_hash, &withdraw_hash, &accepted_hash] {
        let out = ok(cli(
            data,
            &ports,
            &["tx", "status", hash, "--wait", "finalized"],
        ));
        assert!(out.contains("finalized"), "{hash}: {out}");
    }

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
    assert_eq!(status["depositsConsumed"], 1);

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
    let sign = |key: &Keypair, nonce: u64, call: Call| {
        L1Transaction {
            chain_id: L1_DEVNET_CHAIN_ID,
            from: key.public_key(),
            nonce,
            call,
        }
        .sign(key)
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
    let error = send_forged(&l1, sign(&mallory, 0, commit(pubdata.clone(), next))).await;
    assert!(error.contains("not a rollup operator"), "{error}");
    let error = send_forged(&l1, sign(&operator, nonce, commit(pubdata, next))).await;
    assert!(error.contains("bad signature"), "{error}");
    let error = send_forged(&l1, sign(&operator, nonce, commit(Vec::new(), next + 1))).await;
    assert!(error.contains("out of order"), "{error}");
    let skipped = PubdataOp::Deposit {
        queue_index: 5,
        to: AccountId::new(1).unwrap(),
        to_key: Keypair::dev(1).public_key(),
        token: TokenId::Gcc,
        amount: 1,
    };
    let pubdata = encode_pubdata(&[skipped]).unwrap();
    let error = send_forged(&l1, sign(&operator, nonce, commit(pubdata, next))).await;
    assert!(error.contains("does not match the queue"), "{error}");
    let prove = Call::Rollup(RollupCall::Prove {
        number: next,
        chunk_roots: vec![FieldBytes::from_bytes([0; 32]).unwrap()],
        proofs: vec![[0; 128]],
    });
    let error = send_forged(&l1, sign(&operator, nonce, prove)).await;
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

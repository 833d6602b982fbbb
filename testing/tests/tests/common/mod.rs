//! Shared helpers: the `ghostplane` binary as devnet / L1 processes, the
//! `ghostplane-bench` binary, free ports, CLI invocations with a deadline, balance
//! queries.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ghostplane_primitives::{Codec, Keypair, TokenId};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

pub const DEV: u128 = 1_000_000_000_000_000_000;

/// The `ghostplane` binary (operator and user commands).
pub fn binary() -> PathBuf {
    built_binary("ghostplane")
}

/// The `ghostplane-bench` binary (load, soak, benchmarks).
pub fn bench_binary() -> PathBuf {
    built_binary("ghostplane-bench")
}

/// `name` in the target directory, next to this test's `deps/` directory (the
/// package `name`'s own tests make `cargo test --workspace` build it).
fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p {name}` (cargo test --workspace does)",
        path.display()
    );
    path
}

pub fn free_tcp() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub fn free_udp() -> SocketAddr {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub struct Ports {
    pub l2: SocketAddr,
    pub quic: SocketAddr,
    pub l1: SocketAddr,
    pub coordinator: SocketAddr,
    pub metrics: SocketAddr,
}

impl Ports {
    /// Free ports on 127.0.0.1 (bound, then released).
    pub fn free() -> Self {
        Self {
            l2: free_tcp(),
            quic: free_udp(),
            l1: free_tcp(),
            coordinator: free_tcp(),
            metrics: free_tcp(),
        }
    }
}

/// A `ghostplane` process, killed when dropped; its stderr goes to `<data>/devnet.log`.
pub struct Devnet {
    child: Child,
}

impl Devnet {
    /// `ghostplane devnet` with small chunks and fast blocks, plus `extra` flags.
    pub fn start(data: &Path, ports: &Ports, extra: &[&str]) -> Self {
        let mut command = Command::new(binary());
        command
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
            .args(["--metrics-addr", &ports.metrics.to_string()])
            .args(["--dns-addr", "127.0.0.1:0"])
            .args(extra);
        Self::spawn(data, command)
    }

    /// Any `ghostplane` command as a long-running process.
    pub fn spawn(data: &Path, mut command: Command) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("devnet.log"))
            .unwrap();
        let child = command
            .env(
                "RUST_LOG",
                "info,jsonrpsee=warn,arc_malachitebft_core_consensus=warn",
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self { child }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
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

pub fn client(addr: SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(30))
        .build(format!("http://{addr}"))
        .unwrap()
}

pub async fn call(
    client: &HttpClient,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> Value {
    client.request::<Value, _>(method, params).await.unwrap()
}

pub async fn wait_up(addr: SocketAddr, method: &str, log: &Path) {
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
pub fn cli(data: &Path, ports: &Ports, args: &[&str]) -> Output {
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

pub fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "command failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

pub fn hash_of(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("0x") && w.len() == 66)
        .unwrap()
        .to_string()
}

pub async fn l2_balance(l2: &HttpClient, key: &Keypair, token: TokenId) -> u128 {
    let account = call(l2, "l2_getAccount", rpc_params![key.public_key().to_hex()]).await;
    account["balances"][token.symbol()]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub async fn l1_balance(l1: &HttpClient, address: &str, token: TokenId) -> u128 {
    let account = call(l1, "ghost_getAccount", rpc_params![address]).await;
    account["balances"][token.symbol()]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub async fn send_forged(l1: &HttpClient, tx: ghostd::SignedL1Transaction) -> String {
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

/// `GET /metrics` from a served metrics endpoint, parsed as Prometheus text.
pub fn scrape(addr: SocketAddr) -> prometheus_parse::Scrape {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // HTTP/1.0: the answer is not chunked and the connection closes after it.
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200"),
        "{head}"
    );
    let lines = body.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap()
}

/// The sum of a counter's samples (all label sets) in a scrape.
pub fn counter_total(scrape: &prometheus_parse::Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// A base port whose testnet ports (4 validators + a full node, 4 ports each at
/// `base + 10·i + k`) are free now.
pub fn free_testnet_base() -> u16 {
    let mut seed = std::process::id() as u64 * 7919 + 17;
    loop {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let base = 20_000 + (seed >> 33) as u16 % 30_000;
        let all_free = (0..5u16).all(|i| {
            (0..4u16).all(|k| {
                let port = base + 10 * i + k;
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                TcpListener::bind(addr).is_ok() && UdpSocket::bind(addr).is_ok()
            })
        });
        if all_free {
            return base;
        }
    }
}

/// `ghostplane l1 init-testnet` for 4 validators at `base` into `<data>/testnet`:
/// the command line of each validator (from `commands.txt`).
pub fn init_testnet(data: &Path, base: u16) -> Vec<String> {
    let out = data.join("testnet");
    let init = Command::new(binary())
        .args([
            "l1",
            "init-testnet",
            "--validators",
            "4",
            "--chunk-ops",
            "2",
        ])
        .args(["--base-port", &base.to_string()])
        .arg("--out")
        .arg(&out)
        .arg("--keys-dir")
        .arg(data.join("keys"))
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let commands = std::fs::read_to_string(out.join("commands.txt")).unwrap();
    commands.lines().map(str::to_string).collect()
}

/// Runs one line of `commands.txt` as a process, logging to `<dir>/log-<name>`.
pub fn spawn_line(dir: &Path, name: &str, line: &str) -> Devnet {
    let log_dir = dir.join(format!("log-{name}"));
    std::fs::create_dir_all(&log_dir).unwrap();
    let mut words = line.split_whitespace();
    words.next(); // "ghostplane"
    let mut command = Command::new(binary());
    command.args(words);
    Devnet::spawn(&log_dir, command)
}

/// An L1 node's head height, if it answers.
pub async fn l1_head(c: &HttpClient) -> Option<u64> {
    c.request::<u64, _>("ghost_blockNumber", rpc_params![])
        .await
        .ok()
}

//! `ghostplane-bench soak`: a devnet as a child process under a mixed load, killed
//! with SIGKILL every `--kill-every-s` seconds and restarted on the same data
//! directory; at the end, what was acknowledged is checked against what happened.
//!
//! Load (one submission per tick, `--tps` ticks a second), each of one unit so
//! that balances count transactions:
//! - L2 transfers of SPIRIT from dev1..dev4 to dev5, over JSON-RPC and (three in
//!   ten submissions) over QUIC, whose `Accepted` is the same durable promise;
//! - L2 withdrawals of MANA from dev1..dev4 to a fresh L1 address W;
//! - L1 deposits of GHOST from dev7 to a fresh L2 key D;
//! - calls of a counter contract deployed by dev6 at the start.
//!
//! A submission is *acknowledged* when its JSON-RPC call returned `accepted` (a
//! hash). At the end, after the chain settles:
//! - `lost`: acknowledged transactions (L2, and the L1 deposits) without a
//!   receipt, plus units missing from dev5, D or W against every submission that
//!   executed (acknowledged or not: a reply lost to a kill may still have been
//!   made durable);
//! - `doubled`: units on dev5, D or W beyond that;
//! - conservation: for every token, the L2 supply (every account) equals the L1
//!   bridge escrow, and the L1 total over the dev accounts, W and the escrow is
//!   what it was at the start;
//! - finality resumed after every restart (the finalized batch moved on before the
//!   next kill, or before the end).
//!
//! It prints `kills=… acked=… lost=0 doubled=0 finalized=…` and exits non-zero if
//! anything was lost, doubled or not conserved, or finality did not resume.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use ghostd_types::api::{GhostApiClient, RollupApiClient};
use ghostd_types::{Call, L1_DEVNET_CHAIN_ID, L1Transaction, RollupCall};
use ghostplane::wallet::client;
use ghostplane_l2_api::{AccountQuery, L2ApiClient};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, Amount, Codec, DEVNET_CHAIN_ID, Keypair, L1Address, Recipient, TokenId, Transaction,
    tx_hash,
};
use ghostplane_sequencer::{QuicClient, QuicReply};
use jsonrpsee::http_client::HttpClient;

/// Options of `ghostplane-bench soak`.
#[derive(Args)]
pub struct SoakArgs {
    /// How long the load runs, seconds.
    #[arg(long, default_value_t = 600)]
    duration_s: u64,
    /// SIGKILL the devnet this often, seconds (then restart it on the same data).
    #[arg(long, default_value_t = 60)]
    kill_every_s: u64,
    /// Submissions per second.
    #[arg(long, default_value_t = 20)]
    tps: u32,
    /// Where the devnet keeps its data (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Ops per proof chunk of the devnet (small chunks keep finality quick).
    #[arg(long, default_value_t = 2)]
    chunk_ops: u32,
    /// Most seconds to wait for the chain to settle after a restart and at the end.
    #[arg(long, default_value_t = 300)]
    settle_timeout_s: u64,
    /// The `ghostplane` binary that runs the devnet (default: the one next to this
    /// binary).
    #[arg(long)]
    ghostplane: Option<PathBuf>,
}

/// Transfer senders (dev accounts with L2 funds).
const SENDERS: [u32; 4] = [1, 2, 3, 4];
/// Receives every transfer.
const RECEIVER: u32 = 5;
/// Deploys the counter contract.
const DEPLOYER: u32 = 6;
/// Sends every deposit (on L1).
const DEPOSITOR: u32 = 7;
/// Most GCC a deploy may cost (what it does not use is refunded).
const DEPLOY_FEE: Amount = 1 << 40;
/// Most GCC a contract call may cost (refunded past the fuel it burns).
const CALL_FEE: Amount = 1 << 32;

/// One submission.
struct Sent {
    kind: Kind,
    /// The L2 hash (L1 hash for deposits), hex.
    hash: String,
    /// Whether the server acknowledged it.
    acked: bool,
    /// Whether it went over QUIC.
    quic: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Transfer,
    Withdraw,
    Deposit,
    Call,
}

/// The devnet child and how to start it again.
struct Devnet {
    exe: PathBuf,
    data: PathBuf,
    ports: [SocketAddr; 5],
    chunk_ops: u32,
    child: Option<Child>,
}

/// The `ghostplane` binary in this binary's directory (cargo builds both there).
fn ghostplane_beside_me() -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot locate this binary")?;
    let path = me.with_file_name("ghostplane");
    if !path.exists() {
        bail!(
            "{} is missing: build it (`cargo build -p ghostplane`) or pass --ghostplane",
            path.display()
        );
    }
    Ok(path)
}

fn free_port(udp: bool) -> Result<SocketAddr> {
    Ok(if udp {
        std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?
    })
}

impl Devnet {
    fn l2(&self) -> String {
        format!("http://{}", self.ports[0])
    }

    fn l1(&self) -> String {
        format!("http://{}", self.ports[2])
    }

    fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.join("devnet.log"))?;
        let [rpc, quic, l1, coordinator, metrics] = self.ports.map(|a| a.to_string());
        let child = Command::new(&self.exe)
            .arg("devnet")
            .args([
                "--chunk-ops",
                &self.chunk_ops.to_string(),
                "--prover-threads",
                "2",
            ])
            .args(["--l1-block-time-ms", "100", "--batch-interval-ms", "300"])
            .arg("--data-dir")
            .arg(self.data.join("chain"))
            .arg("--keys-dir")
            .arg(self.data.join("keys"))
            .args([
                "--rpc-addr",
                &rpc,
                "--quic-addr",
                &quic,
                "--l1-rpc-addr",
                &l1,
            ])
            .args([
                "--coordinator-addr",
                &coordinator,
                "--metrics-addr",
                &metrics,
            ])
            .args(["--dns-addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start the devnet")?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL, and reap.
    fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    async fn wait_up(&mut self, timeout: Duration) -> Result<(HttpClient, HttpClient)> {
        let (l2, l1) = (client(&self.l2())?, client(&self.l1())?);
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "the devnet exited ({status}); see {}",
                    self.data.join("devnet.log").display()
                );
            }
            if L2ApiClient::block_number(&l2).await.is_ok()
                && GhostApiClient::block_number(&l1).await.is_ok()
            {
                return Ok((l2, l1));
            }
            if started.elapsed() > timeout {
                bail!("the devnet did not come up in {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Per-account next nonces, the contract, and everything sent.
struct Load {
    nonces: BTreeMap<u32, u64>,
    l1_nonce: u64,
    contract: ghostplane_primitives::ContractAddress,
    fee: Amount,
    withdraw_to: Keypair,
    deposit_to: Keypair,
    sent: Vec<Sent>,
    /// Whether the nonces are unknown after a failed submission (re-read before
    /// the next one).
    dirty: bool,
    /// Why submissions were refused, and how often.
    refusals: BTreeMap<String, u64>,
    /// The devnet's QUIC ingest address.
    quic_addr: SocketAddr,
    /// A QUIC connection and its stream (dropped when it fails; made again at the
    /// next resync).
    quic: Option<(QuicClient, ghostplane_sequencer::quic::QuicStream)>,
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap_or(AccountId::MAX)
}

async fn l2_nonce(l2: &HttpClient, account: u32) -> Result<u64> {
    let view = L2ApiClient::get_account(l2, AccountQuery::Id(account.into()))
        .await?
        .with_context(|| format!("L2 account {account} missing"))?;
    Ok(view.pending_nonce)
}

async fn l2_balance(l2: &HttpClient, key: &Keypair, token: TokenId) -> Result<u128> {
    let view = L2ApiClient::get_account(l2, AccountQuery::Key(key.public_key().to_hex())).await?;
    Ok(match view {
        Some(view) => view
            .balances
            .get(token.symbol())
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(0),
        None => 0,
    })
}

async fn l1_balance(l1: &HttpClient, address: L1Address, token: TokenId) -> Result<u128> {
    let view = GhostApiClient::get_account(l1, address.to_hex()).await?;
    Ok(view
        .balances
        .get(token.symbol())
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(0))
}

impl Load {
    fn refused(&mut self, why: String) {
        // The reason without its figures, so that like refusals count together.
        let why = why.split(" (").next().unwrap_or_default();
        let why: String = why.chars().take(120).collect();
        *self.refusals.entry(why).or_default() += 1;
    }

    /// Re-reads every nonce (after a restart or a failed submission).
    async fn resync(&mut self, l2: &HttpClient, l1: &HttpClient) -> Result<()> {
        for account in SENDERS.into_iter().chain([DEPLOYER]) {
            self.nonces.insert(account, l2_nonce(l2, account).await?);
        }
        // L1 blocks come every 100 ms: let the pool drain before reading.
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.l1_nonce =
            GhostApiClient::get_account(l1, Keypair::dev(DEPOSITOR).public_key().to_hex())
                .await?
                .nonce;
        if let Err(e) = self.connect_quic(l2).await {
            // QUIC submissions are refused until a later resync connects.
            self.refused(format!("quic: cannot connect: {e}"));
        }
        self.dirty = false;
        Ok(())
    }

    /// Connects the QUIC stream if there is none (after a start or a failure).
    async fn connect_quic(&mut self, l2: &HttpClient) -> Result<()> {
        if self.quic.is_none() {
            let cert = hex::decode(L2ApiClient::quic_certificate(l2).await?)
                .context("bad certificate hex")?;
            // A server not listening yet would leave the handshake waiting for
            // quinn's idle timeout: give up sooner and retry at the next resync.
            let client = tokio::time::timeout(
                Duration::from_secs(5),
                QuicClient::connect(self.quic_addr, &cert),
            )
            .await
            .context("no QUIC handshake in 5 s")??;
            let stream = client.open_stream().await?;
            self.quic = Some((client, stream));
        }
        Ok(())
    }

    /// Submits over QUIC: `Ok` when accepted, else why not (the connection is
    /// dropped on a transport failure).
    async fn submit_quic(&mut self, bytes: &[u8]) -> Result<(), String> {
        let Some((_, stream)) = self.quic.as_mut() else {
            return Err("quic: not connected".into());
        };
        let reply = tokio::time::timeout(Duration::from_secs(10), stream.submit(bytes)).await;
        match reply {
            Ok(Ok(QuicReply::Accepted(_))) => Ok(()),
            Ok(Ok(QuicReply::Rejected { code, message })) => {
                Err(format!("quic: rejected {code}: {message}"))
            }
            Ok(Err(e)) => {
                self.quic = None;
                Err(format!("quic: {e}"))
            }
            Err(_) => {
                self.quic = None;
                Err("quic: no reply in 10 s".into())
            }
        }
    }

    async fn send_l2(
        &mut self,
        l2: &HttpClient,
        kind: Kind,
        from: u32,
        tx: Transaction,
        quic: bool,
    ) {
        let signed = Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx);
        let bytes = signed.encode();
        let hash = tx_hash(&bytes).to_hex();
        let reply = if quic {
            self.submit_quic(&bytes).await
        } else {
            L2ApiClient::send_transaction(l2, hex::encode(&bytes))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let acked = reply.is_ok();
        if let Err(e) = reply {
            self.refused(e);
        }
        if acked {
            *self.nonces.entry(from).or_default() += 1;
        } else {
            self.dirty = true;
        }
        self.sent.push(Sent {
            kind,
            hash,
            acked,
            quic,
        });
    }

    async fn tick(&mut self, n: u64, l2: &HttpClient, l1: &HttpClient) {
        let from = SENDERS[(n / 4 % SENDERS.len() as u64) as usize];
        let nonce = self.nonces.get(&from).copied().unwrap_or(0);
        match n % 10 {
            0 => {
                let tx = L1Transaction {
                    chain_id: L1_DEVNET_CHAIN_ID,
                    from: Keypair::dev(DEPOSITOR).public_key(),
                    nonce: self.l1_nonce,
                    call: Call::Rollup(RollupCall::Deposit {
                        recipient: self.deposit_to.public_key(),
                        token: TokenId::Ghost,
                        amount: 1,
                    }),
                }
                .sign(&Keypair::dev(DEPOSITOR));
                let hash = tx.hash().to_hex();
                let reply = GhostApiClient::send_transaction(l1, hex::encode(tx.encode())).await;
                let acked = reply.is_ok();
                if let Err(e) = reply {
                    self.refused(e.to_string());
                }
                if acked {
                    self.l1_nonce += 1;
                } else {
                    self.dirty = true;
                }
                self.sent.push(Sent {
                    kind: Kind::Deposit,
                    hash,
                    acked,
                    quic: false,
                });
            }
            1 => {
                let tx = Transaction::Withdraw {
                    from: id(from),
                    to: L1Address(self.withdraw_to.public_key().0),
                    token: TokenId::Mana,
                    amount: 1,
                    fee: self.fee,
                    nonce,
                };
                self.send_l2(l2, Kind::Withdraw, from, tx, false).await;
            }
            2 => {
                let tx = Transaction::Call {
                    token: TokenId::Gcc,
                    value: 0,
                    from: id(from),
                    contract: self.contract,
                    input: Vec::new(),
                    fuel_limit: 100_000,
                    fee: CALL_FEE,
                    nonce,
                };
                self.send_l2(l2, Kind::Call, from, tx, false).await;
            }
            tag => {
                let tx = Transaction::Transfer {
                    from: id(from),
                    to: Recipient::Account(id(RECEIVER)),
                    token: TokenId::Spirit,
                    amount: 1,
                    fee: self.fee,
                    nonce,
                };
                self.send_l2(l2, Kind::Transfer, from, tx, tag >= 7).await;
            }
        }
    }
}

async fn finalized_batch(l1: &HttpClient) -> Result<u64> {
    Ok(RollupApiClient::status(l1).await?.finalized_batch)
}

/// The receipt of L2 transaction `hash`: `None` while there is none, else its
/// error (`None` when it executed successfully).
async fn l2_outcome(l2: &HttpClient, hash: &str) -> Result<Option<Option<String>>> {
    Ok(L2ApiClient::get_transaction_receipt(l2, hash.to_string())
        .await?
        .map(|r| r.outcome.error))
}

/// The receipt of submission `hash` (on L1 for deposits, else on L2): `None`
/// while there is none, else its error (`None` when it executed successfully).
async fn outcome(
    l2: &HttpClient,
    l1: &HttpClient,
    kind: Kind,
    hash: &str,
) -> Result<Option<Option<String>>> {
    Ok(match kind {
        Kind::Deposit => GhostApiClient::get_transaction(l1, hash.to_string())
            .await?
            .receipt
            .map(|r| r.outcome.error),
        _ => l2_outcome(l2, hash).await?,
    })
}

/// Waits until every acknowledged L2 transaction so far has a receipt; returns how
/// many still have none at the timeout.
async fn settle_l2(l2: &HttpClient, sent: &[Sent], timeout: Duration) -> Result<u64> {
    let started = Instant::now();
    let mut from = 0;
    let acked: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.acked && s.kind != Kind::Deposit)
        .collect();
    while from < acked.len() {
        if l2_outcome(l2, &acked[from].hash).await?.is_some() {
            from += 1;
        } else if started.elapsed() > timeout {
            let mut missing = 0;
            for s in &acked[from..] {
                missing += u64::from(l2_outcome(l2, &s.hash).await?.is_none());
            }
            return Ok(missing);
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(0)
}

/// Token totals on L1 over the dev accounts, `extra` and the escrow.
async fn l1_totals(l1: &HttpClient, extra: L1Address) -> Result<BTreeMap<TokenId, u128>> {
    let mut totals = BTreeMap::new();
    let addresses: Vec<L1Address> = (0..8)
        .map(|i| L1Address(Keypair::dev(i).public_key().0))
        .chain([extra, ghostd_types::ledger::bridge_escrow()])
        .collect();
    for token in TokenId::ALL {
        let mut sum = 0u128;
        for address in &addresses {
            sum += l1_balance(l1, *address, token).await?;
        }
        totals.insert(token, sum);
    }
    Ok(totals)
}

/// Every token's L2 supply (all accounts, from id 0 until one is missing).
async fn l2_supply(l2: &HttpClient) -> Result<BTreeMap<TokenId, u128>> {
    let mut supply: BTreeMap<TokenId, u128> = TokenId::ALL.into_iter().map(|t| (t, 0)).collect();
    let mut account = 0u64;
    while let Some(view) = L2ApiClient::get_account(l2, AccountQuery::Id(account)).await? {
        for token in TokenId::ALL {
            if let Some(v) = view.balances.get(token.symbol()) {
                *supply.entry(token).or_default() += v.parse::<u128>()?;
            }
        }
        account += 1;
    }
    Ok(supply)
}

/// Runs the soak.
pub async fn run(args: SoakArgs) -> Result<()> {
    if args.kill_every_s == 0 || args.tps == 0 {
        bail!("--kill-every-s and --tps must be at least 1");
    }
    let temp = tempfile::tempdir()?;
    let data = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&data)?;
    let mut devnet = Devnet {
        exe: match args.ghostplane.clone() {
            Some(path) => path,
            None => ghostplane_beside_me()?,
        },
        data: data.clone(),
        ports: [
            free_port(false)?,
            free_port(true)?,
            free_port(false)?,
            free_port(false)?,
            free_port(false)?,
        ],
        chunk_ops: args.chunk_ops,
        child: None,
    };
    let settle = Duration::from_secs(args.settle_timeout_s);
    devnet.start()?;
    let (mut l2, mut l1) = devnet.wait_up(settle).await?;
    println!(
        "devnet up (data {}, log {})",
        data.display(),
        data.join("devnet.log").display()
    );

    let withdraw_to = Keypair::from_seed(&[0x57; 32]);
    let deposit_to = Keypair::from_seed(&[0xd0; 32]);
    // A transfer's floor; a withdrawal posts more bytes (an L1 address): twice
    // the transfer's floor covers both at any data price.
    let fee: Amount = L2ApiClient::min_fee(&l2).await?.parse::<Amount>()? * 2;
    let l1_start = l1_totals(&l1, L1Address(withdraw_to.public_key().0)).await?;
    let receiver_start = l2_balance(&l2, &Keypair::dev(RECEIVER), TokenId::Spirit).await?;
    let withdrawn_start =
        l1_balance(&l1, L1Address(withdraw_to.public_key().0), TokenId::Mana).await?;
    let deposited_start = l2_balance(&l2, &deposit_to, TokenId::Ghost).await?;

    // The counter contract.
    let deploy_nonce = l2_nonce(&l2, DEPLOYER).await?;
    let code = wat::parse_str(include_str!(
        "../../../crates/l2/executor/contracts/counter.wat"
    ))?;
    let deploy = Keypair::dev(DEPLOYER).sign(
        DEVNET_CHAIN_ID,
        Transaction::Deploy {
            token: TokenId::Gcc,
            value: 0,
            from: id(DEPLOYER),
            code,
            init: Vec::new(),
            fee: DEPLOY_FEE,
            nonce: deploy_nonce,
        },
    );
    let deploy_hash = L2ApiClient::send_transaction(&l2, hex::encode(deploy.encode())).await?;
    let mut load = Load {
        nonces: BTreeMap::new(),
        l1_nonce: 0,
        contract: contract_address(id(DEPLOYER), deploy_nonce),
        fee,
        withdraw_to,
        deposit_to,
        sent: Vec::new(),
        dirty: false,
        refusals: BTreeMap::new(),
        quic_addr: devnet.ports[1],
        quic: None,
    };
    let started = Instant::now();
    loop {
        if let Some(error) = l2_outcome(&l2, &deploy_hash.hash).await? {
            if let Some(error) = error {
                bail!("the counter contract's deploy failed: {error}");
            }
            break;
        }
        if started.elapsed() > settle {
            bail!("the contract deploy did not execute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    load.resync(&l2, &l1).await?;

    let run_for = Duration::from_secs(args.duration_s);
    let kill_every = Duration::from_secs(args.kill_every_s);
    let tick = Duration::from_secs_f64(1.0 / f64::from(args.tps));
    let started = Instant::now();
    let mut next_kill = started + kill_every;
    let mut kills = 0u32;
    let mut resumed = 0u32;
    let mut finalized_at_restart = finalized_batch(&l1).await?;
    let mut resumed_since_restart = true;
    let mut n = 0u64;
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while started.elapsed() < run_for {
        interval.tick().await;
        if Instant::now() >= next_kill {
            if !resumed_since_restart {
                resumed_since_restart =
                    finalized_batch(&l1).await.unwrap_or(0) > finalized_at_restart;
                resumed += u32::from(resumed_since_restart && kills > 0);
            }
            // The connection dies with the process: make a new one after the restart.
            load.quic = None;
            devnet.kill()?;
            kills += 1;
            devnet.start()?;
            (l2, l1) = devnet.wait_up(settle).await?;
            let missing = settle_l2(&l2, &load.sent, settle).await?;
            load.resync(&l2, &l1).await?;
            finalized_at_restart = finalized_batch(&l1).await?;
            resumed_since_restart = false;
            println!(
                "kill {kills} at {:.0}s: restarted; acked so far {} (missing after restart: {missing}); finalized batch {finalized_at_restart}",
                started.elapsed().as_secs_f64(),
                load.sent.iter().filter(|s| s.acked).count()
            );
            next_kill += kill_every;
            continue;
        }
        if !resumed_since_restart && finalized_batch(&l1).await.unwrap_or(0) > finalized_at_restart
        {
            resumed_since_restart = true;
            resumed += 1;
        }
        if load.dirty {
            // A failed submission (e.g. backpressure): nonces are unknown until the
            // pool settles.
            tokio::time::sleep(Duration::from_millis(500)).await;
            if load.resync(&l2, &l1).await.is_err() {
                continue;
            }
        }
        load.tick(n, &l2, &l1).await;
        n += 1;
    }

    // Settle: every acked L2 transaction executed, deposits in, withdrawals released.
    println!(
        "load done after {:.0}s; settling",
        started.elapsed().as_secs_f64()
    );
    // Settle: wait until every acknowledged submission has a receipt and the
    // receivers hold what executed. Deposits and withdrawals land asynchronously,
    // and a submission whose reply a kill cut off may still execute. A refused
    // submission can be sent again with the same nonce, as the same bytes: each
    // transaction counts once (acknowledged if any of its sends was).
    let mut unique: BTreeMap<&str, (Kind, bool)> = BTreeMap::new();
    for s in &load.sent {
        let entry = unique.entry(s.hash.as_str()).or_insert((s.kind, false));
        entry.1 |= s.acked;
    }
    // hash → the receipt's error (None: executed successfully). A receipt, once
    // there, does not change.
    let mut outcomes: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let settle_started = Instant::now();
    let (mut transfers, mut deposits, mut withdrawals);
    let mut executed: BTreeMap<Kind, u128>;
    let mut unreceipted: Vec<(&str, Kind)>;
    let mut passes = 0u32;
    loop {
        passes += 1;
        for (&hash, &(kind, _)) in &unique {
            if !outcomes.contains_key(hash)
                && let Some(error) = outcome(&l2, &l1, kind, hash).await?
            {
                outcomes.insert(hash, error);
            }
        }
        executed = BTreeMap::new();
        for (hash, error) in &outcomes {
            if error.is_none() {
                *executed.entry(unique[hash].0).or_default() += 1;
            }
        }
        unreceipted = unique
            .iter()
            .filter(|(hash, (_, acked))| *acked && !outcomes.contains_key(*hash))
            .map(|(hash, (kind, _))| (*hash, *kind))
            .collect();
        transfers =
            l2_balance(&l2, &Keypair::dev(RECEIVER), TokenId::Spirit).await? - receiver_start;
        deposits = l2_balance(&l2, &load.deposit_to, TokenId::Ghost).await? - deposited_start;
        withdrawals = l1_balance(
            &l1,
            L1Address(load.withdraw_to.public_key().0),
            TokenId::Mana,
        )
        .await?
            - withdrawn_start;
        let want = |kind| executed.get(&kind).copied().unwrap_or(0);
        let done = unreceipted.is_empty()
            && transfers == want(Kind::Transfer)
            && deposits == want(Kind::Deposit)
            && withdrawals == want(Kind::Withdraw);
        if done || settle_started.elapsed() > settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "settled in {passes} passes, {:.1}s",
        settle_started.elapsed().as_secs_f64()
    );
    if !resumed_since_restart && finalized_batch(&l1).await? > finalized_at_restart {
        resumed += 1;
    }
    for (why, count) in &load.refusals {
        println!("refused {count}×: {why}");
    }
    let mut failed: BTreeMap<Kind, (u64, &str)> = BTreeMap::new();
    for (hash, error) in &outcomes {
        if let Some(error) = error {
            let entry = failed.entry(unique[hash].0).or_insert((0, error));
            entry.0 += 1;
        }
    }
    for (kind, (count, first)) in &failed {
        println!("{kind:?}: {count} executed and failed (first: {first})");
    }
    for (hash, kind) in &unreceipted {
        println!("acknowledged, no receipt: {kind:?} {hash}");
    }
    let want = |kind| executed.get(&kind).copied().unwrap_or(0);
    let (want_transfers, want_deposits, want_withdrawals) = (
        want(Kind::Transfer),
        want(Kind::Deposit),
        want(Kind::Withdraw),
    );
    let shortfall = |got: u128, want: u128| want.saturating_sub(got) as u64;
    let excess = |got: u128, want: u128| got.saturating_sub(want) as u64;
    println!(
        "acknowledged without a receipt: {}; executed successfully: transfers {want_transfers}, deposits {want_deposits}, withdrawals {want_withdrawals}",
        unreceipted.len()
    );
    let lost = unreceipted.len() as u64
        + shortfall(transfers, want_transfers)
        + shortfall(deposits, want_deposits)
        + shortfall(withdrawals, want_withdrawals);
    let doubled = excess(transfers, want_transfers)
        + excess(deposits, want_deposits)
        + excess(withdrawals, want_withdrawals);

    // Conservation across L1 and L2.
    let supply = l2_supply(&l2).await?;
    let escrow = ghostd_types::ledger::bridge_escrow();
    let mut conserved = true;
    for token in TokenId::ALL {
        let in_escrow = l1_balance(&l1, escrow, token).await?;
        if supply[&token] != in_escrow {
            conserved = false;
            println!(
                "{}: L2 supply {} but the L1 escrow holds {in_escrow}",
                token.symbol(),
                supply[&token]
            );
        }
    }
    let l1_end = l1_totals(&l1, L1Address(load.withdraw_to.public_key().0)).await?;
    if l1_end != l1_start {
        conserved = false;
        println!("L1 totals moved: {l1_start:?} → {l1_end:?}");
    }
    let acked = load.sent.iter().filter(|s| s.acked).count();
    let unacked = load.sent.len() - acked;
    let finalized = finalized_batch(&l1).await?;
    println!(
        "kills={kills} acked={acked} lost={lost} doubled={doubled} finalized={finalized} resumed={resumed}/{kills} conserved={conserved} unacked={unacked} transfers={transfers} deposits={deposits} withdrawals={withdrawals} calls={} quic_acked={}",
        want(Kind::Call),
        load.sent.iter().filter(|s| s.acked && s.quic).count()
    );
    devnet.kill()?;
    if lost > 0 || doubled > 0 || !conserved || resumed < kills {
        bail!(
            "the soak failed: see the line above and {}",
            data.join("devnet.log").display()
        );
    }
    Ok(())
}

//! `ghostplane devnet`: everything in one process — ghostd (embedded L1), the
//! sequencer and executor, the prover coordinator with an in-process worker, and
//! settlement — with development defaults; and `ghostplane l1`, a standalone ghostd.
//!
//! The devnet is wired as an engine ([`Devnet::new`] builds the parts,
//! [`Devnet::start`] starts them, [`Running::run`] joins them): one part that fails
//! stops all, and the shutdown's errors are returned. The banner is printed apart
//! ([`Banner`]), from what `start` bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use ghostd::consensus::BftHandle;
use ghostd::modules::ledger;
use ghostd::{
    EmbeddedL1, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, Producer, RollupGenesis,
};
use ghostd_types::rollup::ContractFees;
use ghostplane_primitives::{DEVNET_CHAIN_ID, FieldBytes, Keypair, L1Address, L2Genesis, TokenId};
use ghostplane_prover::{
    AccountTree, Coordinator, CoordinatorConfig, ProofBackend, ProofSystem, WorkerAuth,
    WorkerConfig, WorkerToken, run_worker,
};
use ghostplane_sequencer::{Sequencer, SequencerConfig};
use ghostplane_settlement::{
    CF_SETTLEMENT, L1Client, RpcL1, Settlement, SettlementConfig, run_deposit_watcher,
    run_forced_watcher, tree_genesis,
};
use jsonrpsee::server::ServerHandle;

use crate::sequencer::{DEV_BALANCE, dev_genesis, wait_for_signal};
use ghostplane::backend::BackendArgs;

/// Options of `ghostplane devnet`.
#[derive(Args)]
pub struct DevnetArgs {
    /// Data directory (one RocksDB per component, proving keys, wallet).
    #[arg(long, default_value = "./.ghostplane")]
    data_dir: PathBuf,
    /// Keep all chain data in a temporary directory, deleted on exit.
    #[arg(long)]
    ephemeral: bool,
    /// The proof system (groth16 keys are cached in --keys-dir: they depend only on
    /// the circuit, so an ephemeral devnet reuses them too).
    #[command(flatten)]
    backend: BackendArgs,
    /// L2 JSON-RPC (HTTP + WebSocket).
    #[arg(long, default_value = "127.0.0.1:9090")]
    rpc_addr: SocketAddr,
    /// L2 QUIC ingest.
    #[arg(long, default_value = "127.0.0.1:9091")]
    quic_addr: SocketAddr,
    /// L1 (ghostd) JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8545")]
    l1_rpc_addr: SocketAddr,
    /// Settle on a running ghostd (`ghostplane l1`) at this URL instead of the
    /// embedded one; its genesis must be this devnet's (same dev accounts, proof
    /// system, chunk size and forced-inclusion window).
    #[arg(long)]
    l1_url: Option<String>,
    /// Prover coordinator JSON-RPC (external workers may join here).
    #[arg(long, default_value = "127.0.0.1:9095")]
    coordinator_addr: SocketAddr,
    /// Authoritative DNS for the native TLDs (UDP and TCP; `:53` in production).
    /// DNS-over-HTTPS is on the L1 JSON-RPC port (`/dns-query`, `/resolve`).
    #[arg(long, default_value = "127.0.0.1:5353")]
    dns_addr: SocketAddr,
    /// Prometheus metrics endpoint (`GET /metrics`).
    #[arg(long, default_value = "127.0.0.1:9100")]
    metrics_addr: SocketAddr,
    /// Development accounts funded at genesis on both layers.
    #[arg(long, default_value_t = 16)]
    dev_accounts: u32,
    /// L2: longest wait (ms) from a block's first transaction to its cut.
    #[arg(long, default_value_t = 5)]
    block_time_ms: u64,
    /// L1 block interval (ms).
    #[arg(long, default_value_t = 500)]
    l1_block_time_ms: u64,
    /// Wait this long for more L2 blocks before cutting a batch (ms).
    #[arg(long, default_value_t = 1000)]
    batch_interval_ms: u64,
    /// A deposit must be included on L2 within this many L1 blocks.
    #[arg(long, default_value_t = 600)]
    forced_inclusion_blocks: u64,
    /// Exit mode may be switched on this many L1 blocks after a deposit's
    /// forced-inclusion deadline, or after an unproven batch's commit.
    #[arg(long, default_value_t = ghostd_types::rollup::EXIT_WINDOW_BLOCKS_DEFAULT)]
    exit_window_blocks: u64,
    /// Least fee of an L2 transaction, in GCC base units (each takes a proof slot).
    #[arg(long, default_value_t = 1)]
    fee_min: u128,
    /// The L1 data price: GCC base units per byte of pubdata an L2 transaction
    /// adds (a genesis parameter; with `--l1-url`, the remote L1's is used).
    #[arg(long, default_value_t = DATA_PRICE_DEFAULT)]
    data_price: u128,
    /// Executed-but-unbatched L2 transactions above which the sequencer answers
    /// "settlement is behind" (the merkleizer must clear them well within the
    /// forced-inclusion window).
    #[arg(long, default_value_t = 20_000)]
    settlement_unplanned_txs_max: u64,
    /// Unproven chunk proof jobs above which the sequencer answers "settlement is
    /// behind". Default: what holds about 32 768 ops (at most 256 jobs): 32 STARK
    /// segments of 1024 ops, 256 Groth16 chunks. Transactions executed before the
    /// bound was hit are still planned, so the queue can pass it by what
    /// `--settlement-unplanned-txs-max` transactions make. Queued witnesses (~4.7 MB
    /// a full STARK segment) are on disk, not in memory.
    #[arg(long)]
    settlement_unproven_jobs_max: Option<u64>,
    /// Threads of the in-process prover worker (0 = no in-process worker).
    #[arg(long, default_value_t = default_threads())]
    prover_threads: usize,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// The devnet operator key: commits batches. Derived from a public seed.
pub fn operator_key() -> Keypair {
    Keypair::from_seed(blake3::hash(b"ghostplane/devnet/operator").as_bytes())
}

/// `ghostplane devnet`: build every part, start them, print where they listen, and
/// run until Ctrl-C/SIGTERM or until a part fails.
pub async fn run(args: DevnetArgs) -> Result<()> {
    ghostplane_rpc::metrics::serve_metrics(args.metrics_addr)?;
    let running = Devnet::new(args).await?.start().await?;
    running.banner.print();
    running.run().await
}

/// Where the devnet settles.
enum L1 {
    /// ghostd in this process: opened, not yet serving.
    Embedded(Ghostd),
    /// A running ghostd whose genesis is this devnet's.
    Remote { url: String, client: Arc<RpcL1> },
}

/// Where the running devnet settles.
enum RunningL1 {
    /// ghostd in this process, serving.
    Embedded(Box<L1Services>),
    /// A running ghostd elsewhere.
    Remote(Arc<RpcL1>),
}

/// The devnet engine (as commonware alto's `engine.rs`): [`Devnet::new`] builds every
/// part, [`Devnet::start`] starts them, [`Running::run`] joins them until a signal
/// or until one fails, then stops all and reports what did not stop cleanly.
///
/// ```text
///  new:   data dir, proof backend, prover DB + L2 genesis tree, L1 genesis,
///         L1 (embedded ghostd opened | remote ghostd's genesis checked),
///         worker tokens, prover coordinator
///  start: L1 RPC, block producer, dev0's DID, DNS   (embedded only)
///         sequencer (L2 RPC + QUIC), coordinator RPC,
///         tasks: in-process prover worker, settlement, deposit watcher
///  run:   signal | a task ends  →  stop tasks (worker aborted), coordinator RPC,
///         sequencer, L1 services; errors are returned, not dropped
/// ```
pub struct Devnet {
    args: DevnetArgs,
    data_dir: PathBuf,
    backend: Arc<dyn ProofBackend>,
    db: Arc<rocksdb::DB>,
    l2_genesis: L2Genesis,
    /// The rollup genesis's fuel per batch: the sequencer's block bound and
    /// settlement's batch bound (the L1 refuses a batch past it).
    batch_fuel_max: u64,
    /// The genesis's prices (the remote L1's with `--l1-url`).
    fees: ContractFees,
    l1: L1,
    coordinator: Coordinator,
    /// Tokens of external workers (the file) and of the in-process one (never
    /// written, so that a ban of an external worker's token does not stop it).
    token_file: PathBuf,
    in_process_token: WorkerToken,
    /// The data of an `--ephemeral` devnet, deleted on drop (declared last: after
    /// every part that uses it).
    temp: Option<tempfile::TempDir>,
}

impl Devnet {
    /// Builds every part: opens the databases, computes the geneses, checks a remote
    /// L1's genesis. Nothing listens yet.
    pub async fn new(args: DevnetArgs) -> Result<Self> {
        let temp = if args.ephemeral {
            Some(tempfile::tempdir().context("cannot create a temporary directory")?)
        } else {
            None
        };
        let data_dir = temp
            .as_ref()
            .map_or_else(|| args.data_dir.clone(), |temp| temp.path().to_path_buf());
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;

        let backend_args = args.backend.clone();
        let backend = tokio::task::spawn_blocking(move || backend_args.load(true))
            .await?
            .context("proof backend")?;

        // Prover database: account tree, proof jobs, batch plans.
        let db = ghostplane_prover::open_db_with(&data_dir.join("prover"), &[CF_SETTLEMENT])
            .context("prover database")?;
        let l2_genesis = dev_genesis(args.dev_accounts);
        let genesis_root = {
            let mut tree = AccountTree::open(Arc::clone(&db), backend.tree_hash())?;
            tree_genesis(&db, &mut tree, &l2_genesis)?
        };
        let genesis = devnet_genesis(
            backend.as_ref(),
            args.dev_accounts,
            (args.forced_inclusion_blocks, args.exit_window_blocks),
            genesis_root,
            ContractFees {
                fee_min: args.fee_min,
                data_price: args.data_price,
                ..ContractFees::default()
            },
        );
        let mut fees = genesis.rollup.contract_fees;
        let l1 = match &args.l1_url {
            None => {
                let mut l1_config = GhostdConfig::new(data_dir.clone());
                l1_config.rpc_addr = args.l1_rpc_addr;
                l1_config.block_time_ms = args.l1_block_time_ms;
                L1::Embedded(Ghostd::open(l1_config, &genesis).context("ghostd")?)
            }
            Some(url) => {
                let (client, theirs) = remote_l1(url, &genesis).await?;
                fees = theirs;
                L1::Remote {
                    url: url.clone(),
                    client: Arc::new(client),
                }
            }
        };

        let token_file = data_dir.join("prover-worker-tokens");
        let external_tokens = ghostplane_prover::auth::load_or_create_token_file(&token_file)
            .context("prover worker tokens")?;
        let in_process_token = WorkerToken::generate()?;
        let coordinator = Coordinator::open(
            Arc::clone(&db),
            Arc::clone(&backend),
            CoordinatorConfig {
                listen: args.coordinator_addr,
                auth: WorkerAuth::tokens(external_tokens.iter().chain([&in_process_token])),
                ..CoordinatorConfig::default()
            },
        )?;
        Ok(Self {
            batch_fuel_max: genesis.rollup.batch_fuel_max,
            fees,
            args,
            data_dir,
            backend,
            db,
            l2_genesis,
            l1,
            coordinator,
            token_file,
            in_process_token,
            temp,
        })
    }

    /// Starts every part, the L1 first (the L2's deposits and settlement read it).
    pub async fn start(self) -> Result<Running> {
        let Self {
            args,
            data_dir,
            backend,
            db,
            l2_genesis,
            batch_fuel_max,
            fees,
            l1,
            coordinator,
            token_file,
            in_process_token,
            temp,
        } = self;

        let (l1, l1_endpoint, dns) = match l1 {
            L1::Embedded(node) => {
                let (rpc, addr) = ghostd::rpc::serve(&node).await.context("ghostd JSON-RPC")?;
                let producer = node.start_producer();
                create_dev_did(&node).await?;
                let dns = serve_dns(&node, args.dns_addr).await;
                let dns_line = dns_line(&dns, addr);
                let services = L1Services {
                    node,
                    rpc,
                    producer: Some(producer),
                    bft: None,
                    dns,
                };
                (
                    RunningL1::Embedded(Box::new(services)),
                    format!("http://{addr}  ws://{addr}  (embedded ghostd"),
                    Some(dns_line),
                )
            }
            L1::Remote { url, client } => (
                RunningL1::Remote(client),
                format!("{url}  (remote ghostd"),
                None,
            ),
        };

        // L2.
        let mut config = SequencerConfig::new(data_dir.join("sequencer"));
        config.rpc_addr = args.rpc_addr;
        config.quic_addr = args.quic_addr;
        config.block_time_ms = args.block_time_ms;
        config.block_fuel_max = batch_fuel_max;
        config.prices = ghostplane_executor::Prices {
            fuel_price: fees.fuel_price,
            fee_min: fees.fee_min,
            data_price: fees.data_price,
        };
        // The block explorer at /explorer/, reading the L1 this devnet settles on.
        config.routes = ghostplane_explorer::routes(&ghostplane_explorer::ExplorerConfig {
            l1_url: match &args.l1_url {
                Some(url) => url.clone(),
                None => format!("http://{}", args.l1_rpc_addr),
            },
        });
        // A Groth16 rollup takes no contract transactions (its L1 would refuse them).
        config.proof_system = backend.system();
        config.settlement_unplanned_txs_max = args.settlement_unplanned_txs_max;
        config.settlement_unproven_jobs_max =
            args.settlement_unproven_jobs_max.unwrap_or_else(|| {
                (UNPROVEN_OPS_DEFAULT / backend.segment_ops_max().max(1) as u64).clamp(1, 256)
            });
        std::fs::create_dir_all(&config.data_dir)?;
        let sequencer = Sequencer::start(config, &l2_genesis)
            .await
            .context("cannot start the sequencer")?;

        // Prover coordinator and the in-process worker.
        let (coordinator_rpc, coordinator_addr) = coordinator.serve().await?;
        let stop = Arc::new(AtomicBool::new(false));
        let worker = (args.prover_threads > 0).then(|| {
            let worker = run_worker(
                WorkerConfig {
                    coordinator: format!("http://{coordinator_addr}"),
                    threads: args.prover_threads,
                    jobs: 0,
                    name: "devnet-worker".into(),
                    // A quiet L2's segment is leased within 25 ms of its plan.
                    idle_poll: Duration::from_millis(25),
                    proofs_max: 0,
                    token: Some(in_process_token),
                },
                Arc::clone(&backend),
                Arc::clone(&stop),
            );
            Task {
                name: "the in-process prover worker",
                // A proof in progress may take long: the worker is not waited for.
                abort_on_stop: true,
                handle: tokio::spawn(async move { worker.await.map(drop).map_err(Into::into) }),
            }
        });

        // Settlement and the deposit watcher.
        let mut settlement_config = SettlementConfig::new(L1_DEVNET_CHAIN_ID, DEVNET_CHAIN_ID);
        settlement_config.batch_interval = Duration::from_millis(args.batch_interval_ms);
        // Rounds every 25 ms: a quiet L2's batch is planned, committed with its
        // proofs and reported final within a few rounds (issue 38).
        settlement_config.poll = Duration::from_millis(25);
        settlement_config.batch_fuel_max = batch_fuel_max;
        // l2_getProof: read from the trees settlement writes, at the finalized batch.
        sequencer.set_state_proofs(Arc::new(
            ghostplane_settlement::TreeProofs::new(Arc::clone(&db), backend.tree_hash())
                .context("state proofs")?,
        ));
        let pipeline = Pipeline {
            db,
            coordinator,
            sequencer: &sequencer,
            operator: operator_key(),
            config: settlement_config,
            stop: Arc::clone(&stop),
        };
        let settlement = match &l1 {
            RunningL1::Embedded(services) => {
                pipeline.spawn(Arc::new(EmbeddedL1::new(services.node.clone())))?
            }
            RunningL1::Remote(client) => pipeline.spawn(Arc::clone(client))?,
        };
        // Shutdown order: settlement and the watcher finish their round, then the
        // worker stops.
        let tasks = settlement.into_iter().chain(worker).collect();

        let banner = Banner {
            l2_rpc: sequencer.rpc_addr,
            l2_quic: sequencer.quic_addr,
            metrics: args.metrics_addr,
            l1_endpoint,
            l1_remote: args.l1_url.is_some(),
            dns,
            coordinator: coordinator_addr,
            proof_system: backend.system(),
            segment_ops: backend.segment_ops_max(),
            prover_threads: args.prover_threads,
            token_file,
            data_dir,
            ephemeral: args.ephemeral,
            dev_accounts: args.dev_accounts,
        };
        Ok(Running {
            banner,
            stop,
            tasks,
            coordinator_rpc,
            sequencer,
            l1,
            _temp: temp,
        })
    }
}

/// A spawned part of the devnet. It runs until `stop` is set: ending before that is
/// a failure.
struct Task {
    name: &'static str,
    /// Abort it at shutdown instead of waiting for it to see `stop`.
    abort_on_stop: bool,
    handle: tokio::task::JoinHandle<Result<()>>,
}

impl Task {
    /// Stops the task (see [`Task::abort_on_stop`]) and waits for it.
    async fn join(self) -> Result<()> {
        if self.abort_on_stop {
            self.handle.abort();
        }
        let name = self.name;
        match self.handle.await {
            Ok(result) => result.with_context(|| format!("{name} failed")),
            Err(e) if e.is_cancelled() => Ok(()),
            Err(e) => Err(anyhow::anyhow!("{name} panicked: {e}")),
        }
    }
}

/// The running devnet.
pub struct Running {
    /// Where each part listens, for the banner.
    pub banner: Banner,
    stop: Arc<AtomicBool>,
    /// Spawned parts, in shutdown order.
    tasks: Vec<Task>,
    coordinator_rpc: ServerHandle,
    sequencer: Sequencer,
    l1: RunningL1,
    /// Declared last: deleted after every part has stopped.
    _temp: Option<tempfile::TempDir>,
}

impl Running {
    /// Runs until Ctrl-C/SIGTERM or until a part stops (which is a failure); then
    /// stops every part. Returns the failure and every error of the shutdown.
    pub async fn run(mut self) -> Result<()> {
        let ended = tokio::select! {
            () = wait_for_signal() => None,
            (result, index, _) = futures::future::select_all(
                self.tasks.iter_mut().map(|task| &mut task.handle),
            ) => Some((index, result)),
        };
        let mut errors = Vec::new();
        if let Some((index, result)) = ended {
            let name = self.tasks.remove(index).name;
            errors.push(match result {
                Ok(Ok(())) => anyhow::anyhow!("{name} stopped on its own"),
                Ok(Err(e)) => e.context(format!("{name} failed")),
                Err(e) => anyhow::anyhow!("{name} panicked: {e}"),
            });
        }
        println!("shutting down");
        errors.extend(self.shutdown().await);
        one_error(errors)
    }

    /// Stops every part, in order: the tasks, the coordinator's RPC, the sequencer,
    /// the L1. Every part is stopped even if one fails; the errors are returned.
    async fn shutdown(self) -> Vec<anyhow::Error> {
        let mut errors = Vec::new();
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            if let Err(e) = task.join().await {
                errors.push(e);
            }
        }
        if let Err(e) = self.coordinator_rpc.stop() {
            errors.push(anyhow::anyhow!("prover coordinator JSON-RPC: {e}"));
        }
        self.sequencer.shutdown().await;
        if let RunningL1::Embedded(l1) = self.l1 {
            errors.extend(l1.shutdown().await);
        }
        errors
    }
}

/// The services of a ghostd run by this process (the devnet's embedded one, or
/// `ghostplane l1`).
struct L1Services {
    node: Ghostd,
    rpc: ServerHandle,
    /// The solo block producer (none under BFT).
    producer: Option<Producer>,
    /// BFT consensus (none when solo).
    bft: Option<BftHandle>,
    /// Authoritative DNS (none if its address was in use).
    dns: Option<ghostd_naming::dns::DnsServer>,
}

impl L1Services {
    /// Stops serving RPC, then block production, then DNS; returns what failed.
    async fn shutdown(self) -> Vec<anyhow::Error> {
        let mut errors = Vec::new();
        if let Err(e) = self.rpc.stop() {
            errors.push(anyhow::anyhow!("ghostd JSON-RPC: {e}"));
        }
        if let Some(producer) = self.producer {
            producer.stop();
        }
        if let Some(bft) = self.bft {
            bft.stop();
        }
        if let Some(dns) = self.dns {
            dns.shutdown().await;
        }
        errors
    }
}

/// What the devnet's banner shows.
pub struct Banner {
    l2_rpc: SocketAddr,
    l2_quic: SocketAddr,
    metrics: SocketAddr,
    /// The L1's URL and its kind, without the closing parenthesis.
    l1_endpoint: String,
    l1_remote: bool,
    /// The embedded L1's DNS line.
    dns: Option<String>,
    coordinator: SocketAddr,
    proof_system: ProofSystem,
    segment_ops: usize,
    prover_threads: usize,
    token_file: PathBuf,
    data_dir: PathBuf,
    ephemeral: bool,
    dev_accounts: u32,
}

impl Banner {
    /// Prints where everything listens, the dev accounts and what to try.
    pub fn print(&self) {
        let coordinator = self.coordinator;
        println!("ghostplane devnet is running (Ctrl-C to stop)");
        println!(
            "  L2 json-rpc   http://{0}  ws://{0}  (chain id {1})",
            self.l2_rpc, DEVNET_CHAIN_ID.0
        );
        println!("  L2 quic       {}", self.l2_quic);
        println!("  explorer      http://{}/explorer/", self.l2_rpc);
        println!("  metrics       http://{}/metrics", self.metrics);
        println!(
            "  L1 json-rpc   {}, chain id {L1_DEVNET_CHAIN_ID})",
            self.l1_endpoint
        );
        if let Some(dns) = &self.dns {
            println!("  dns           {dns}");
        }
        println!(
            "  prover        http://{coordinator}  ({}, {} ops per segment; in-process worker: {} threads; external workers: ghostplane prover --proof-system {} --coordinator {coordinator} --token-file {})",
            self.proof_system,
            self.segment_ops,
            self.prover_threads,
            self.proof_system,
            self.token_file.display()
        );
        println!(
            "  data          {}{}",
            self.data_dir.display(),
            if self.ephemeral { " (ephemeral)" } else { "" }
        );
        println!(
            "  dev accounts  dev0..dev{} = Keypair::dev(i), a PUBLIC seed: never hold value with them",
            self.dev_accounts.saturating_sub(1)
        );
        println!(
            "                each has {DEV_BALANCE} of every token on L1 and on L2 (account id = i)"
        );
        for i in 0..self.dev_accounts {
            let key = Keypair::dev(i);
            println!(
                "    dev{i}  public_key={}  seed={}",
                key.public_key().to_hex(),
                hex::encode(key.seed())
            );
        }
        println!(
            "  dev0 DID      {}{}",
            ghostplane::identity::did_of(&Keypair::dev(0)),
            if self.l1_remote {
                "  (create it: ghostplane id create --signer dev0)"
            } else {
                ""
            }
        );
        println!(
            "  try: ghostplane tx transfer --from dev0 --to dev1 --token GCC --amount 1000 --wait finalized"
        );
        println!("       ghostplane id show   (dev0's DID document)");
    }
}

/// A client of the ghostd at `url`, whose genesis must be `genesis` (the validator
/// set aside: solo or BFT, the rollup does not mind which).
/// Connects to the L1 at `url` if it runs this devnet's genesis, its consensus
/// and prices aside: returns the client and the L1's prices (which the L2 uses).
async fn remote_l1(url: &str, genesis: &Genesis) -> Result<(RpcL1, ContractFees)> {
    let client = RpcL1::new(url)?;
    let theirs = client
        .genesis()
        .await
        .with_context(|| format!("cannot reach ghostd at {url}"))?;
    let mut ours = genesis.clone();
    ours.consensus = theirs.consensus.clone();
    ours.rollup.contract_fees = theirs.rollup.contract_fees;
    if theirs.hash() != ours.hash() {
        bail!(
            "ghostd at {url} runs another genesis ({}, this devnet's is {}): start it (or `l1 init-testnet`) with the same --dev-accounts, --proof-system, --chunk-ops and --forced-inclusion-blocks",
            theirs.hash(),
            ours.hash()
        );
    }
    Ok((client, theirs.rollup.contract_fees))
}

/// The settlement side of the devnet, over any L1 client.
struct Pipeline<'a> {
    db: Arc<rocksdb::DB>,
    coordinator: Coordinator,
    sequencer: &'a Sequencer,
    operator: Keypair,
    config: SettlementConfig,
    stop: Arc<AtomicBool>,
}

impl Pipeline<'_> {
    /// Spawns the settlement loop and the L1 queue watchers (deposits, forced
    /// withdrawals).
    fn spawn<C: L1Client>(self, client: Arc<C>) -> Result<[Task; 3]> {
        let settlement = Settlement::new(
            Arc::clone(&client),
            self.db,
            self.coordinator,
            self.sequencer.reader(),
            self.sequencer.settled_marks(),
            self.operator,
            self.config,
        )?;
        let settlement = settlement.run(Arc::clone(&self.stop));
        let forced = run_forced_watcher(
            Arc::clone(&client),
            self.sequencer.forced_withdrawals(),
            Duration::from_millis(200),
            ghostplane_primitives::clock::system(),
            Arc::clone(&self.stop),
        );
        let watcher = run_deposit_watcher(
            client,
            self.sequencer.deposits(),
            Duration::from_millis(200),
            ghostplane_primitives::clock::system(),
            self.stop,
        );
        Ok([
            Task {
                name: "settlement",
                abort_on_stop: false,
                handle: tokio::spawn(async move {
                    settlement.await;
                    Ok(())
                }),
            },
            Task {
                name: "the deposit watcher",
                abort_on_stop: false,
                handle: tokio::spawn(async move {
                    watcher.await;
                    Ok(())
                }),
            },
            Task {
                name: "the forced-withdrawal watcher",
                abort_on_stop: false,
                handle: tokio::spawn(async move {
                    forced.await;
                    Ok(())
                }),
            },
        ])
    }
}

/// Unproven ops the sequencer lets pile up behind the prover by default.
const UNPROVEN_OPS_DEFAULT: u64 = 32_768;

/// The devnet's L1 data price (GCC base units per pubdata byte): a transfer's
/// floor is then ~170 base units, its 1 for the proof slot and the rest for its
/// bytes.
pub const DATA_PRICE_DEFAULT: u128 = 1;

/// The devnet's L1 genesis: every dev account funded on the ledger, the escrow
/// backing the L2 genesis balances, the rollup set up for `backend`, contract
/// transactions priced by `contract_fees` (the sequencer's executor must use the
/// same: the L1 re-executes them with these).
pub fn devnet_genesis(
    backend: &dyn ProofBackend,
    dev_accounts: u32,
    (forced_inclusion_blocks, exit_window_blocks): (u64, u64),
    genesis_root: FieldBytes,
    contract_fees: ContractFees,
) -> Genesis {
    let l2_genesis = dev_genesis(dev_accounts);
    let mut allocations = Vec::new();
    for key in l2_genesis.keys() {
        for token in TokenId::ALL {
            allocations.push((L1Address(key.0), token, DEV_BALANCE));
        }
    }
    for token in TokenId::ALL {
        allocations.push((
            ledger::bridge_escrow(),
            token,
            DEV_BALANCE * u128::from(dev_accounts),
        ));
    }
    Genesis {
        chain_id: L1_DEVNET_CHAIN_ID,
        timestamp_ms: 0,
        allocations,
        naming: Default::default(),
        // dev0's DID issues every token (the devnet creates it at start); it may
        // grant ledger:mint:<TOKEN> to other DIDs.
        issuers: TokenId::ALL
            .into_iter()
            .map(|token| {
                let did = ghostplane::identity::did_of(&Keypair::dev(0));
                (token, ledger::IssuerAuthority::Did(did))
            })
            .collect(),
        consensus: ghostd_types::consensus::ConsensusMode::Solo,
        rollup: RollupGenesis {
            l2_chain_id: DEVNET_CHAIN_ID,
            operators: vec![operator_key().public_key()],
            proof: ghostplane_prover::proof_params(backend),
            genesis_root,
            genesis_accounts: l2_genesis.keys(),
            genesis_balances: l2_genesis.accounts().iter().map(|a| a.balances).collect(),
            forced_inclusion_blocks,
            exit_window_blocks,
            forced_withdrawal_fee: ghostd_types::rollup::FORCED_WITHDRAWAL_FEE_DEFAULT,
            deposit_queue_max: 10_000,
            contract_fees,
            batch_fuel_max: ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT,
        },
    }
}

/// The account root of the devnet's L2 genesis (computed in a scratch tree).
pub fn devnet_genesis_root(backend: &dyn ProofBackend, dev_accounts: u32) -> Result<FieldBytes> {
    let scratch = tempfile::tempdir()?;
    let db = ghostplane_prover::open_db_with(scratch.path(), &[CF_SETTLEMENT])?;
    let mut tree = AccountTree::open(Arc::clone(&db), backend.tree_hash())?;
    Ok(tree_genesis(&db, &mut tree, dev_genesis(dev_accounts))?)
}

/// Options of `ghostplane l1`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct L1Args {
    /// Operator commands (without one: run the node).
    #[command(subcommand)]
    command: Option<crate::testnet::L1Command>,
    /// A genesis file (`l1 init-testnet` writes one); without it, the devnet
    /// genesis (solo) built from the options below.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// BFT: this validator's key file (hex seed); without it, a full node that
    /// follows the validators and serves RPC.
    #[arg(long)]
    validator_key: Option<PathBuf>,
    /// BFT: QUIC address for peers.
    #[arg(long, default_value = "127.0.0.1:8546")]
    p2p_addr: SocketAddr,
    /// BFT: more peers to dial (comma-separated `host:port`), besides the
    /// validators' addresses in the genesis (a validator dials those listed before
    /// it; a full node dials all).
    #[arg(long, value_delimiter = ',')]
    peers: Vec<SocketAddr>,
    /// Data directory.
    #[arg(long, default_value = "./.ghostplane/l1")]
    data_dir: PathBuf,
    /// JSON-RPC (HTTP + WebSocket).
    #[arg(long, default_value = "127.0.0.1:8545")]
    rpc_addr: SocketAddr,
    /// Authoritative DNS for the native TLDs (UDP and TCP; `:53` in production).
    /// DNS-over-HTTPS is on the L1 JSON-RPC port (`/dns-query`, `/resolve`).
    #[arg(long, default_value = "127.0.0.1:5353")]
    dns_addr: SocketAddr,
    /// Prometheus metrics endpoint (`GET /metrics`).
    #[arg(long, default_value = "127.0.0.1:9100")]
    metrics_addr: SocketAddr,
    /// Block interval (ms).
    #[arg(long, default_value_t = 500)]
    block_time_ms: u64,
    /// Development accounts of the devnet genesis.
    #[arg(long, default_value_t = 16)]
    dev_accounts: u32,
    /// Forced-inclusion window for deposits (L1 blocks).
    #[arg(long, default_value_t = 600)]
    forced_inclusion_blocks: u64,
    /// The L1 data price this genesis publishes (`rollup_fees`): GCC base units
    /// per byte of L2 pubdata.
    #[arg(long, default_value_t = DATA_PRICE_DEFAULT)]
    data_price: u128,
    /// Exit mode may be switched on this many L1 blocks after a deposit's
    /// forced-inclusion deadline, or after an unproven batch's commit.
    #[arg(long, default_value_t = ghostd_types::rollup::EXIT_WINDOW_BLOCKS_DEFAULT)]
    exit_window_blocks: u64,
    /// Most transactions per L1 block.
    #[arg(long, default_value_t = 10_000)]
    block_txs_max: usize,
    /// Most transactions waiting in the mempool.
    #[arg(long, default_value_t = 40_000)]
    mempool_max: usize,
    /// The proof system whose verifier goes in the genesis (groth16: the verifying
    /// key comes from the cached keys).
    #[command(flatten)]
    backend: BackendArgs,
}

/// `ghostplane l1`: a standalone ghostd with the devnet genesis (single validator).
/// Serves DNS for the native TLDs on `addr`; a port in use is a warning (the rest
/// of the node runs), since 5353 is also mDNS's port.
async fn serve_dns(node: &Ghostd, addr: SocketAddr) -> Option<ghostd_naming::dns::DnsServer> {
    let names =
        ghostd_naming::dns::NameServer::new(node.chain_view(), node.genesis().naming.clone());
    match ghostd_naming::dns::serve(names, addr).await {
        Ok(server) => Some(server),
        Err(e) => {
            tracing::warn!("DNS is not served: {e}; pass --dns-addr to pick another address");
            None
        }
    }
}

fn dns_line(dns: &Option<ghostd_naming::dns::DnsServer>, http: SocketAddr) -> String {
    match dns {
        Some(dns) => format!(
            "udp {} tcp {}; DoH http://{http}/dns-query and /resolve?name=&type=  (dig @{} -p {} alice.ghost TXT)",
            dns.udp,
            dns.tcp,
            dns.udp.ip(),
            dns.udp.port()
        ),
        None => format!("not served (address in use); DoH http://{http}/dns-query"),
    }
}

/// Creates dev0's `did:ghost` on the embedded L1 unless it exists, and waits for
/// its block (so that dev0's next L1 nonce is free when the devnet says it runs).
async fn create_dev_did(l1: &Ghostd) -> Result<()> {
    let key = Keypair::dev(0);
    let did = ghostplane::identity::did_of(&key);
    if l1
        .read(|s| ghostd::modules::identity::record(s, &did))?
        .is_some()
    {
        return Ok(());
    }
    let tx = ghostd::L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce: l1.nonce(&key.public_key())?,
        call: ghostd::Call::Identity(ghostd_types::identity::IdentityCall::Create {
            soulbound: false,
        }),
    }
    .sign(&key);
    let hash = l1.submit(tx).context("creating dev0's DID")?;
    for _ in 0..600 {
        if l1.receipt(&hash)?.is_some() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the L1 did not include dev0's DID within 30 s")
}

pub async fn run_l1(args: L1Args) -> Result<()> {
    if let Some(command) = args.command {
        return crate::testnet::run(command).await;
    }
    ghostplane_rpc::metrics::serve_metrics(args.metrics_addr)?;
    let genesis = match &args.genesis {
        Some(path) => crate::testnet::read_genesis(path)?,
        None => {
            let backend_args = args.backend.clone();
            let backend = tokio::task::spawn_blocking(move || backend_args.load(true))
                .await?
                .context("proof backend")?;
            devnet_genesis(
                backend.as_ref(),
                args.dev_accounts,
                (args.forced_inclusion_blocks, args.exit_window_blocks),
                devnet_genesis_root(backend.as_ref(), args.dev_accounts)?,
                ContractFees {
                    data_price: args.data_price,
                    ..ContractFees::default()
                },
            )
        }
    };
    std::fs::create_dir_all(&args.data_dir)?;
    let mut config = GhostdConfig::new(args.data_dir.clone());
    config.rpc_addr = args.rpc_addr;
    config.block_time_ms = args.block_time_ms;
    config.block_txs_max = args.block_txs_max;
    config.mempool_max = args.mempool_max;
    let node = Ghostd::open(config, &genesis).context("ghostd")?;
    let (rpc, addr) = ghostd::rpc::serve(&node).await.context("ghostd JSON-RPC")?;
    let (producer, bft) = match &genesis.consensus {
        ghostd_types::consensus::ConsensusMode::Solo => {
            if args.validator_key.is_some() {
                bail!("--validator-key is for a BFT genesis; this genesis runs solo");
            }
            (Some(node.start_producer()), None)
        }
        ghostd_types::consensus::ConsensusMode::Bft(_) => {
            let key = args
                .validator_key
                .as_deref()
                .map(crate::testnet::read_key)
                .transpose()?;
            let validator = key.as_ref().map(|k| k.public_key());
            let handle = ghostd::consensus::runtime::start(
                node.clone(),
                ghostd::consensus::BftConfig {
                    key,
                    listen: args.p2p_addr,
                    peers: args.peers.clone(),
                },
            )
            .context("BFT consensus")?;
            match validator {
                Some(key) => println!("  validator {key}"),
                None => println!("  full node (no --validator-key): following the validators"),
            }
            println!(
                "  p2p       quic://{} ({} peers listed)",
                handle.p2p_addr().unwrap_or(args.p2p_addr),
                args.peers.len()
            );
            (None, Some(handle))
        }
    };
    let dns = serve_dns(&node, args.dns_addr).await;
    let dns_line = dns_line(&dns, addr);
    let services = L1Services {
        node,
        rpc,
        producer,
        bft,
        dns,
    };
    println!("ghostd (L1) is running (Ctrl-C to stop)");
    println!(
        "  json-rpc  http://{addr}  ws://{addr}  (chain id {})",
        genesis.chain_id
    );
    println!("  dns       {dns_line}");
    println!("  genesis   {}", genesis.hash());
    println!("  metrics   http://{}/metrics", args.metrics_addr);
    println!("  data      {}", args.data_dir.display());
    println!("  settle an L2 on it: ghostplane devnet --l1-url http://{addr}");
    wait_for_signal().await;
    println!("shutting down");
    one_error(services.shutdown().await)
}

/// `errors` as one result: each is reported.
fn one_error(mut errors: Vec<anyhow::Error>) -> Result<()> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => bail!(
            "{n} errors: {}",
            errors
                .iter()
                .map(|e| format!("{e:#}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

//! `ghostplane prover`: a proving worker, plus key setup and circuit facts.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use ghostplane_prover::{ChunkKeys, CircuitShape, DEVNET_CHUNK_OPS, WorkerConfig, run_worker};

/// `ghostplane prover [--coordinator ADDR --threads T] | info | setup`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProverArgs {
    #[command(subcommand)]
    command: Option<ProverCommand>,
    #[command(flatten)]
    worker: WorkerArgs,
}

#[derive(Subcommand)]
enum ProverCommand {
    /// Print one line: chunk_ops, constraints, constraints per transfer, proving key size.
    Info(KeyArgs),
    /// Build (INSECURE, devnet seed) or load the chunk keys and print where they are.
    Setup(KeyArgs),
}

/// Which keys to use.
#[derive(Args, Clone)]
pub struct KeyArgs {
    /// Op slots per chunk (keys are per chunk size).
    #[arg(long, default_value_t = DEVNET_CHUNK_OPS)]
    chunk_ops: usize,
    /// Where devnet keys are cached (built on first use from the public seed: INSECURE).
    #[arg(long, default_value = "./.ghostplane/keys")]
    keys_dir: PathBuf,
    /// Proving key made elsewhere (e.g. by a ceremony); needs --vk.
    #[arg(long, requires = "vk")]
    pk: Option<PathBuf>,
    /// Verifying key made elsewhere; needs --pk.
    #[arg(long, requires = "pk")]
    vk: Option<PathBuf>,
}

#[derive(Args)]
struct WorkerArgs {
    /// Coordinator address (host:port or URL), e.g. 127.0.0.1:9095.
    #[arg(long)]
    coordinator: Option<String>,
    /// Proving threads.
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(1, |n| n.get()))]
    threads: usize,
    /// Name reported to the coordinator.
    #[arg(long, default_value = "worker")]
    name: String,
    /// Exit after this many accepted proofs (0 = run until interrupted).
    #[arg(long, default_value_t = 0)]
    proofs_max: u64,
    /// File holding this worker's token (its first line that is not a comment), one
    /// the coordinator's operator listed; `ghostplane devnet` prints where its file is.
    #[arg(long)]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    keys: KeyArgs,
}

fn load_keys(args: &KeyArgs) -> anyhow::Result<ChunkKeys> {
    match (&args.pk, &args.vk) {
        (Some(pk), Some(vk)) => ChunkKeys::load(pk, vk, args.chunk_ops)
            .with_context(|| format!("loading keys {} and {}", pk.display(), vk.display())),
        _ => ChunkKeys::load_or_setup(&args.keys_dir, args.chunk_ops, true)
            .with_context(|| format!("keys in {}", args.keys_dir.display())),
    }
}

/// Runs the command.
pub async fn run(args: ProverArgs) -> anyhow::Result<()> {
    match args.command {
        Some(ProverCommand::Info(keys)) => {
            let per_op = CircuitShape::constraints_per_op()?;
            let loaded = tokio::task::spawn_blocking(move || load_keys(&keys)).await??;
            let shape = loaded.shape();
            println!(
                "proof_system=groth16 chunk_ops={} constraints={} constraints_per_transfer={} proving_key_bytes={}",
                shape.chunk_ops,
                shape.constraints,
                per_op,
                loaded.proving_key_bytes()
            );
        }
        Some(ProverCommand::Setup(keys)) => {
            let dir = keys.keys_dir.clone();
            let loaded = tokio::task::spawn_blocking(move || load_keys(&keys)).await??;
            println!(
                "circuit {} chunk_ops={} constraints={} keys in {} (verifying key: {} bytes)",
                hex::encode(loaded.shape().circuit_hash()),
                loaded.shape().chunk_ops,
                loaded.shape().constraints,
                dir.display(),
                loaded.verifier().vk_bytes().len()
            );
        }
        None => {
            let w = args.worker;
            let coordinator = w
                .coordinator
                .context("give --coordinator ADDR to run a worker (or use `prover info`)")?;
            let url = if coordinator.starts_with("http") {
                coordinator
            } else {
                format!("http://{coordinator}")
            };
            let token = w
                .token_file
                .as_deref()
                .map(ghostplane_prover::auth::read_worker_token)
                .transpose()?;
            if token.is_none() {
                eprintln!(
                    "no --token-file: only a coordinator with open registration admits this worker"
                );
            }
            let keys_args = w.keys.clone();
            let keys = tokio::task::spawn_blocking(move || load_keys(&keys_args)).await??;
            eprintln!(
                "prover worker `{}`: {} threads, chunk_ops={}, coordinator {url}",
                w.name,
                w.threads,
                keys.shape().chunk_ops
            );
            let stop = Arc::new(AtomicBool::new(false));
            let config = WorkerConfig {
                coordinator: url,
                threads: w.threads,
                name: w.name,
                idle_poll: Duration::from_millis(200),
                proofs_max: w.proofs_max,
                token,
            };
            let worker = tokio::spawn(run_worker(config, Arc::new(keys), Arc::clone(&stop)));
            tokio::select! {
                r = worker => { r??; }
                _ = tokio::signal::ctrl_c() => {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
    Ok(())
}

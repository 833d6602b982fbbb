//! `ghostplane prover`: a proving worker, plus key setup and circuit facts.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use ghostplane_prover::stark::DEVNET_SEGMENT_SLOTS;
use ghostplane_prover::{CircuitShape, ProofSystem, WorkerConfig, run_worker};
use ghostplane_stark::config::FriSettings;

use ghostplane::backend::BackendArgs;

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
    /// Print one line: the proof system and its sizes (groth16: constraints and
    /// proving key size; stark: segment size and FRI security).
    Info(BackendArgs),
    /// groth16: build (INSECURE, devnet seed) or load the chunk keys and print
    /// where they are. stark: there is no setup.
    Setup(BackendArgs),
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
    /// Serve this worker's Prometheus metrics (proofs, prove time) on this address.
    #[arg(long)]
    metrics_addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs the command.
pub async fn run(args: ProverArgs) -> anyhow::Result<()> {
    match args.command {
        Some(ProverCommand::Info(backend)) if backend.proof_system == ProofSystem::Stark => {
            let settings = FriSettings::SETTLEMENT;
            let loaded = backend.load(false)?;
            println!(
                "proof_system=stark segment_slots={} log_blowup={} fri_queries={} pow_bits={} fri_log_arity={} fri_log_final_poly_len={} conjectured_bits={} params_hash={}",
                backend.chunk_ops.unwrap_or(DEVNET_SEGMENT_SLOTS),
                settings.log_blowup,
                settings.num_queries,
                settings.query_pow_bits,
                ghostplane_stark::config::FRI_LOG_ARITY,
                ghostplane_stark::config::FRI_LOG_FINAL_POLY_LEN,
                settings.conjectured_bits(),
                hex::encode(loaded.params_hash())
            );
        }
        Some(ProverCommand::Info(backend)) => {
            let per_op = CircuitShape::constraints_per_op()?;
            let loaded = tokio::task::spawn_blocking(move || backend.groth16_keys(true)).await??;
            let shape = loaded.shape();
            println!(
                "proof_system=groth16 chunk_ops={} constraints={} constraints_per_transfer={} proving_key_bytes={}",
                shape.chunk_ops,
                shape.constraints,
                per_op,
                loaded.proving_key_bytes()
            );
        }
        Some(ProverCommand::Setup(backend)) if backend.proof_system == ProofSystem::Stark => {
            println!("proof_system=stark has no setup: nothing to build or trust");
        }
        Some(ProverCommand::Setup(backend)) => {
            let dir = backend.keys_dir.clone();
            let loaded = tokio::task::spawn_blocking(move || backend.groth16_keys(true)).await??;
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
            if let Some(addr) = w.metrics_addr {
                ghostplane_rpc::metrics::serve_metrics(addr)?;
            }
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
            let backend_args = w.backend.clone();
            let backend = tokio::task::spawn_blocking(move || backend_args.load(true)).await??;
            eprintln!(
                "prover worker `{}`: {}, {} threads, {} ops per segment, coordinator {url}",
                w.name,
                backend.system(),
                w.threads,
                backend.segment_ops_max()
            );
            let stop = Arc::new(AtomicBool::new(false));
            let config = WorkerConfig {
                coordinator: url,
                threads: w.threads,
                jobs: 0,
                name: w.name,
                idle_poll: Duration::from_millis(200),
                proofs_max: w.proofs_max,
                token,
            };
            let worker = tokio::spawn(run_worker(config, backend, Arc::clone(&stop)));
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

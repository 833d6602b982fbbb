//! `ghostplane sequencer`: a standalone L2 node (sequencer + executor) with a
//! development genesis.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ghostplane_primitives::{Amount, ChainId, DEVNET_CHAIN_ID, Keypair, L2Genesis};
use ghostplane_sequencer::{Sequencer, SequencerConfig};

/// Balance of each development account in each token at genesis.
pub const DEV_BALANCE: Amount = 1_000_000_000_000_000_000;

/// Options of `ghostplane sequencer`.
#[derive(Args)]
pub struct SequencerArgs {
    /// Data directory (state, WAL, QUIC certificate).
    #[arg(long, default_value = "./.ghostplane/sequencer")]
    data_dir: PathBuf,
    /// JSON-RPC (HTTP + WebSocket) address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    rpc_addr: SocketAddr,
    /// QUIC ingest address (UDP).
    #[arg(long, default_value = "127.0.0.1:9091")]
    quic_addr: SocketAddr,
    /// Prometheus metrics endpoint (`GET /metrics`).
    #[arg(long, default_value = "127.0.0.1:9100")]
    metrics_addr: SocketAddr,
    /// Chain id.
    #[arg(long, default_value_t = DEVNET_CHAIN_ID.0)]
    chain_id: u64,
    /// Development accounts funded at genesis (ids 0..N, keys from the public dev seed;
    /// account 0 collects fees). Used only when the data directory is new.
    #[arg(long, default_value_t = 16)]
    dev_accounts: u32,
    /// Longest wait, in milliseconds, from a block's first transaction to its cut
    /// (under load blocks are cut as soon as the previous one is done).
    #[arg(long, default_value_t = 5)]
    block_time_ms: u64,
    /// Most transactions per block.
    #[arg(long, default_value_t = 8192)]
    block_txs_max: usize,
    /// Executor threads (default: all cores).
    #[arg(long)]
    executor_threads: Option<usize>,
    /// The L1 (ghostd) JSON-RPC URL the block explorer (`/explorer/` on the
    /// JSON-RPC port) reads batches, L1 blocks, names and DIDs from.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    explorer_l1_url: String,
}

/// The genesis of a development chain: `count` accounts from [`Keypair::dev`].
pub fn dev_genesis(count: u32) -> L2Genesis {
    L2Genesis::new((0..count).map(|i| (Keypair::dev(i).public_key(), [DEV_BALANCE; 4])))
}

pub async fn run(args: SequencerArgs) -> Result<()> {
    let mut config = SequencerConfig::new(args.data_dir.clone());
    config.rpc_addr = args.rpc_addr;
    config.quic_addr = args.quic_addr;
    config.chain_id = ChainId(args.chain_id);
    config.block_time_ms = args.block_time_ms;
    config.block_txs_max = args.block_txs_max;
    config.routes = ghostplane_explorer::routes(&ghostplane_explorer::ExplorerConfig {
        l1_url: args.explorer_l1_url.clone(),
    });
    if let Some(threads) = args.executor_threads {
        config.executor_threads = threads;
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    ghostplane_rpc::metrics::serve_metrics(args.metrics_addr)?;
    let sequencer = Sequencer::start(config, &dev_genesis(args.dev_accounts))
        .await
        .context("cannot start the sequencer")?;
    println!("ghostplane sequencer (chain id {})", args.chain_id);
    println!("  json-rpc  http://{0}  ws://{0}", sequencer.rpc_addr);
    println!("  explorer  http://{}/explorer/", sequencer.rpc_addr);
    println!("  metrics   http://{}/metrics", args.metrics_addr);
    println!(
        "  quic      {} (certificate: {})",
        sequencer.quic_addr,
        args.data_dir.join("quic/cert.der").display()
    );
    println!("  data      {}", args.data_dir.display());
    println!(
        "  dev accounts 0..{} (seed: Keypair::dev(i), public; never use for value)",
        args.dev_accounts
    );
    for i in 0..args.dev_accounts.min(4) {
        let key = Keypair::dev(i);
        println!(
            "    #{i} public_key={} seed={}",
            key.public_key().to_hex(),
            hex::encode(key.seed())
        );
    }
    wait_for_signal().await;
    println!("shutting down");
    sequencer.shutdown().await;
    Ok(())
}

pub async fn wait_for_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

//! `ghostplane-bench read-call`: read calls (`l2_call`) over JSON-RPC against a
//! sequencer started in this process on 127.0.0.1 (temp dir, no settlement): the
//! AMM example is deployed and given liquidity, then `--connections` keep-alive
//! HTTP clients ask for its price (the `quote` method) for `--duration-s`. Prints
//! one line: `calls_per_s=… p50_ms=… p99_ms=… errors=… fuel=…`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use ghostplane_l2_api::{CallRequest, L2ApiClient};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, Keypair, L2Genesis, TokenId, Transaction,
};
use ghostplane_sequencer::{Sequencer, SequencerConfig};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

use crate::identity::phase;

/// Options of `ghostplane-bench read-call`.
#[derive(Args)]
pub struct ReadCallArgs {
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Threads of the sequencer's read-call pool.
    #[arg(long, default_value_t = 2)]
    read_threads: usize,
}

const AMM: &str = include_str!("../../../crates/l2/executor/contracts/amm.wat");

fn id(i: u32) -> Result<AccountId> {
    AccountId::new(i).context("account id")
}

async fn submit(rpc: &HttpClient, tx: Transaction) -> Result<()> {
    let signed = Keypair::dev(0).sign(DEVNET_CHAIN_ID, tx);
    let accepted = L2ApiClient::send_transaction(rpc, hex::encode(signed.encode())).await?;
    for _ in 0..2_000 {
        if let Some(receipt) =
            L2ApiClient::get_transaction_receipt(rpc, accepted.hash.clone()).await?
        {
            if receipt.outcome.status != "success" {
                bail!("setup transaction failed: {receipt:?}");
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!(
        "setup transaction {} not executed after 20 s",
        accepted.hash
    )
}

pub async fn run(args: ReadCallArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = SequencerConfig::new(dir.path().to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse()?;
    config.quic_addr = "127.0.0.1:0".parse()?;
    config.block_time_ms = 5;
    config.read_call_threads = args.read_threads;
    let genesis = L2Genesis::new((0..2).map(|i| (Keypair::dev(i).public_key(), [1u128 << 60; 4])));
    let sequencer = Sequencer::start(config, genesis).await?;
    let url = format!("http://{}", sequencer.rpc_addr);
    let rpc = HttpClientBuilder::default().build(&url)?;

    // The pool: SPIRIT/MANA, 10^12 of each from dev0.
    let code = wat::parse_str(AMM)?;
    submit(
        &rpc,
        Transaction::Deploy {
            from: id(0)?,
            code,
            init: vec![TokenId::Spirit.id(), TokenId::Mana.id()],
            token: TokenId::Gcc,
            value: 0,
            fee: 10_000_000,
            nonce: 0,
        },
    )
    .await?;
    let pool = contract_address(id(0)?, 0);
    for (nonce, token) in [(1, TokenId::Spirit), (2, TokenId::Mana)] {
        submit(
            &rpc,
            Transaction::Call {
                from: id(0)?,
                contract: pool,
                input: vec![1],
                token,
                value: 1_000_000_000_000,
                fuel_limit: 1_000_000,
                fee: 1_000_000,
                nonce,
            },
        )
        .await?;
    }
    let quote = [&[4u8, TokenId::Spirit.id()][..], &1_000u64.to_le_bytes()].concat();
    let request = CallRequest {
        contract: pool.to_string(),
        input: hex::encode(quote),
        from: None,
        fuel: Some(1_000_000),
    };
    let first = L2ApiClient::call(&rpc, request.clone()).await?;
    if first.status != "success" {
        bail!("the quote failed: {first:?}");
    }
    let clients: Vec<HttpClient> = (0..args.connections)
        .map(|_| HttpClientBuilder::default().build(&url))
        .collect::<Result<_, _>>()?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients = std::sync::Arc::new(clients);
    let mut calls = phase(args.connections, Duration::from_secs(args.duration_s), move || {
        let clients = std::sync::Arc::clone(&clients);
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % clients.len();
        let request = request.clone();
        async move {
            matches!(L2ApiClient::call(&clients[i], request).await, Ok(view) if view.status == "success")
        }
    })
    .await;
    println!(
        "calls_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={} fuel={} connections={} read_threads={}",
        calls.rate(),
        calls.percentile_ms(0.50),
        calls.percentile_ms(0.99),
        calls.errors,
        first.fuel_used,
        args.connections,
        args.read_threads
    );
    sequencer.shutdown().await;
    Ok(())
}

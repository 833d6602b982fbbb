//! `ghostplane-bench l1-load`: ledger transfers against a running ghostd, end to
//! end (signed L1 transactions over JSON-RPC, admitted, sealed into blocks).
//!
//! 1. Funds `--senders` fresh keys from development account 1 with linked ledger
//!    transfers (64 per transaction). 2. Signs every transfer ahead of time
//!    (round-robin over the senders, so each sender's nonces go out in order).
//!    3. Submits at `--tps` for `--duration-s` with `ghost_sendTransactionBatch`
//!    over `--connections` WebSocket connections; a batch entry refused because the
//!    mempool is full, or its sender's earlier nonces have not arrived yet (another
//!    connection carries them), is sent again 20 ms later. 4. Watches new blocks over
//!    WebSocket and times each transaction from its submission to the block that
//!    includes it; every 100th included transaction's receipt is read back and a
//!    failed one counts as an error. Ends with one line:
//!    `tps_included=<n> p50_ms=<x> p99_ms=<y> errors=<n> submitted=<n> included=<n>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use ghostd_types::api::{GhostApiClient, LedgerApiClient};
use ghostd_types::ledger::{LINKED_OPS_MAX, LedgerOp, Payee};
use ghostd_types::{Call, L1_DEVNET_CHAIN_ID, L1Transaction, LedgerCall};
use ghostplane_primitives::{Codec, Keypair, L1Address, TokenId};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use tokio::sync::{Mutex, mpsc};

/// Options of `ghostplane-bench l1-load`.
#[derive(Args)]
pub struct L1LoadArgs {
    /// ghostd JSON-RPC address (WebSocket on the same port).
    #[arg(long, default_value = "127.0.0.1:8545")]
    l1: SocketAddr,
    /// Transfers per second to offer.
    #[arg(long, default_value_t = 10_000)]
    tps: u64,
    /// How long to submit, in seconds.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Sending keys to create and fund.
    #[arg(long, default_value_t = 256)]
    senders: u32,
    /// Concurrent WebSocket submitters.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Most transactions per `ghost_sendTransactionBatch`.
    #[arg(long, default_value_t = 1024)]
    batch: usize,
    /// Seconds to wait for the last transactions after submitting ends.
    #[arg(long, default_value_t = 20)]
    drain_s: u64,
}

/// Development account that funds the senders.
const FUNDER: u32 = 1;
const FUNDS_EACH: u128 = 1_000_000_000;

async fn ws(addr: SocketAddr) -> Result<WsClient> {
    WsClientBuilder::default()
        .max_request_size(64 * 1024 * 1024)
        .max_response_size(64 * 1024 * 1024)
        .request_timeout(Duration::from_secs(60))
        .build(format!("ws://{addr}"))
        .await
        .with_context(|| format!("cannot connect to ghostd at ws://{addr}"))
}

fn sign(key: &Keypair, nonce: u64, call: LedgerCall) -> (String, String) {
    let tx = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce,
        call: Call::Ledger(call),
    }
    .sign(key);
    (tx.hash().to_string(), hex::encode(tx.encode()))
}

/// Creates and funds `count` keys from the funder, `LINKED_OPS_MAX` per transaction.
async fn fund(client: &WsClient, count: u32) -> Result<Vec<Keypair>> {
    let funder = Keypair::dev(FUNDER);
    let mut nonce = GhostApiClient::get_account(client, funder.public_key().to_hex())
        .await?
        .nonce;
    let keys: Vec<Keypair> = (0..count).map(|_| Keypair::generate()).collect();
    let base = ghostplane::ledger::new_id() >> 32;
    let mut texts = Vec::new();
    for (c, chunk) in keys.chunks(LINKED_OPS_MAX).enumerate() {
        let ops = chunk
            .iter()
            .enumerate()
            .map(|(i, key)| LedgerOp::Transfer {
                id: base + (c * LINKED_OPS_MAX + i) as u128,
                to: Payee::Address(L1Address(key.public_key().0)),
                token: TokenId::Gcc,
                amount: FUNDS_EACH,
                pending: None,
            })
            .collect();
        texts.push(sign(&funder, nonce, LedgerCall::Ops(ops)).1);
        nonce += 1;
    }
    for answer in GhostApiClient::send_transaction_batch(client, texts).await? {
        if let Some(error) = answer.error {
            bail!("funding transaction refused: {error}");
        }
    }
    let last = keys.last().context("no senders")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = LedgerApiClient::get_account(
            client,
            L1Address(last.public_key().0).to_hex(),
            "GCC".into(),
        )
        .await?;
        if view.balance != "0" {
            return Ok(keys);
        }
        if Instant::now() > deadline {
            bail!("the funding transfers were not included within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the run saw.
#[derive(Default)]
struct Tally {
    sent: HashMap<String, Instant>,
    latencies_ms: Vec<f64>,
    first_sent: Option<Instant>,
    last_included: Option<Instant>,
    refused: u64,
    included_hashes: Vec<String>,
    block_times: Vec<Instant>,
}

/// Runs the load and prints the figures.
pub async fn run(args: L1LoadArgs) -> Result<()> {
    let control = ws(args.l1).await?;
    let keys = fund(&control, args.senders).await?;
    let total = args.tps * args.duration_s;
    println!("funded {} senders; signing {total} transfers", args.senders);
    let base = ghostplane::ledger::new_id() >> 32;
    let n = keys.len() as u64;
    let signed: Vec<(String, String)> = (0..total)
        .map(|i| {
            let key = &keys[(i % n) as usize];
            let to = &keys[((i + 1) % n) as usize];
            let call = LedgerCall::Transfer {
                id: base + u128::from(i),
                to: L1Address(to.public_key().0),
                token: TokenId::Gcc,
                amount: 1,
            };
            sign(key, i / n, call)
        })
        .collect();
    let tally = Arc::new(Mutex::new(Tally::default()));

    // Inclusion watcher.
    let watcher = {
        let tally = tally.clone();
        let client = ws(args.l1).await?;
        let mut blocks = GhostApiClient::subscribe_new_blocks(&client).await?;
        tokio::spawn(async move {
            // The node skips notifications a slow subscriber lags behind on (short
            // blocks, a busy machine): every block from the last one seen up to the
            // notified one is read, so none is missed (those read late count their
            // transactions as included at this notification: a latency a little
            // high, never low).
            let mut next: Option<u64> = None;
            while let Some(item) = blocks.next().await {
                let Ok(header) = item else { continue };
                let now = Instant::now();
                tally.lock().await.block_times.push(now);
                let from = next.unwrap_or(header.number).min(header.number);
                for number in from..=header.number {
                    let Ok(Some(block)) = GhostApiClient::get_block(&client, number).await else {
                        continue;
                    };
                    let mut t = tally.lock().await;
                    for hash in block.transactions {
                        if let Some(sent) = t.sent.remove(&hash) {
                            t.latencies_ms
                                .push(now.duration_since(sent).as_secs_f64() * 1e3);
                            t.last_included = Some(now);
                            t.included_hashes.push(hash);
                        }
                    }
                }
                next = Some(header.number + 1);
            }
        })
    };

    // Submitters. Retries end with the run: what is still refused then is an error.
    let give_up = Instant::now() + Duration::from_secs(args.duration_s + args.drain_s);
    let mut lanes = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..args.connections.max(1) {
        let (tx, mut rx) = mpsc::channel::<Vec<(String, String)>>(64);
        lanes.push(tx);
        let client = ws(args.l1).await?;
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(mut batch) = rx.recv().await {
                loop {
                    {
                        let mut t = tally.lock().await;
                        let now = Instant::now();
                        t.first_sent.get_or_insert(now);
                        for (hash, _) in &batch {
                            t.sent.insert(hash.clone(), now);
                        }
                    }
                    let texts = batch.iter().map(|(_, text)| text.clone()).collect();
                    let answers = match GhostApiClient::send_transaction_batch(&client, texts).await
                    {
                        Ok(answers) => answers,
                        Err(e) => {
                            tracing::warn!("batch failed: {e}");
                            tally.lock().await.refused += batch.len() as u64;
                            break;
                        }
                    };
                    let mut retry = Vec::new();
                    let mut t = tally.lock().await;
                    for (item, answer) in batch.into_iter().zip(answers) {
                        match answer.code {
                            None => {}
                            // Back-pressure: the pool is full, or this sender's
                            // earlier nonces (on another connection) are not in
                            // yet. A client waits and sends it again.
                            Some(code)
                                if code == ghostplane_rpc::codes::POOL_FULL
                                    || code == ghostplane_rpc::codes::NONCE_GAP =>
                            {
                                t.sent.remove(&item.0);
                                retry.push(item);
                            }
                            Some(_) => {
                                t.sent.remove(&item.0);
                                t.refused += 1;
                                if t.refused <= 3 {
                                    tracing::warn!("refused: {}", answer.error.unwrap_or_default());
                                }
                            }
                        }
                    }
                    if !retry.is_empty() && Instant::now() > give_up {
                        t.refused += retry.len() as u64;
                        retry.clear();
                    }
                    drop(t);
                    if retry.is_empty() {
                        break;
                    }
                    batch = retry;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    // Pacing: every 10 ms, what is due goes out in batches, spread over the lanes.
    let traffic_start = p2p_bytes(&control).await;
    let started = Instant::now();
    let mut next = 0usize;
    let mut lane = 0usize;
    let mut signed = signed.into_iter();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    while next < total as usize {
        ticker.tick().await;
        let due =
            ((started.elapsed().as_secs_f64() * args.tps as f64) as usize).min(total as usize);
        while next < due {
            let take = (due - next).min(args.batch.max(1));
            let batch: Vec<_> = signed.by_ref().take(take).collect();
            next += take;
            lanes[lane % lanes.len()]
                .send(batch)
                .await
                .context("a submitter stopped")?;
            lane += 1;
        }
    }
    drop(lanes);
    for task in tasks {
        task.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.drain_s);
    while Instant::now() < deadline && !tally.lock().await.sent.is_empty() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();

    let traffic_end = p2p_bytes(&control).await;
    let mut t = tally.lock().await;
    let mut failed = 0u64;
    for hash in t.included_hashes.iter().step_by(100) {
        let view = GhostApiClient::get_transaction(&control, hash.clone()).await?;
        if view.receipt.is_some_and(|r| r.outcome.error.is_some()) {
            failed += 1;
        }
    }
    let included = t.latencies_ms.len();
    let window = match (t.first_sent, t.last_included) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    t.latencies_ms.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        if t.latencies_ms.is_empty() {
            0.0
        } else {
            t.latencies_ms[((t.latencies_ms.len() - 1) as f64 * q).round() as usize]
        }
    };
    let errors = t.refused + t.sent.len() as u64 + failed * 100;
    println!(
        "tps_included={:.0} p50_ms={:.1} p99_ms={:.1} errors={errors} submitted={total} included={included} failed_sampled={failed}",
        included as f64 / window.max(1e-9),
        pct(0.5),
        pct(0.99),
    );
    // Block cadence while the load ran, and (BFT) this node's peer traffic.
    let first = t.first_sent;
    let mut intervals: Vec<f64> = t
        .block_times
        .windows(2)
        .filter(|w| first.is_some_and(|f| w[0] >= f))
        .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1e3)
        .collect();
    intervals.sort_by(f64::total_cmp);
    if let (Some(median), Some(max)) = (intervals.get(intervals.len() / 2), intervals.last()) {
        println!(
            "blocks={} block_interval_p50_ms={median:.0} block_interval_max_ms={max:.0}",
            intervals.len() + 1
        );
    }
    if let (Some((sent0, received0)), Some((sent1, received1))) = (traffic_start, traffic_end) {
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        println!(
            "p2p_sent_kbps={:.0} p2p_received_kbps={:.0} (this node, over the run)",
            (sent1 - sent0) as f64 * 8.0 / 1e3 / seconds,
            (received1 - received0) as f64 * 8.0 / 1e3 / seconds,
        );
    }
    Ok(())
}

/// A BFT node's peer traffic so far (bytes sent, received); `None` for solo.
async fn p2p_bytes(client: &WsClient) -> Option<(u64, u64)> {
    let status = ghostd_types::api::ConsensusApiClient::status(client)
        .await
        .ok()?;
    (status.mode == "bft").then_some((status.bytes_sent, status.bytes_received))
}

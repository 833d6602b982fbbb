//! `ghostplane-bench load`: drives a running sequencer over JSON-RPC or QUIC and
//! reports throughput and submit-to-executed latency.
//!
//! 1. Funds `--accounts` fresh keys from development account 1 and waits until they
//!    exist. 2. Signs every transfer ahead of time (round-robin over the accounts, so
//!    each sender's nonces go out in order). 3. Submits at `--tps` (or as fast as the
//!    sequencer accepts with `--tps 0`), for `--duration-s`; a transaction refused
//!    for back-pressure (busy, pool full, settlement behind) is sent again 20 ms
//!    later, as a client should, since skipping it would stall its sender. 4. Watches new blocks
//!    over WebSocket to time each transaction to `executed`. Ends with one line:
//!    `tps_accepted=<n> tps_executed=<n> p50_ms=<x> p99_ms=<y> p999_ms=<z> errors=<n>`,
//!    plus `rss_mb=<m>` (the node's resident memory, from `/proc/<pid>/status`) with
//!    `--pid`; `--json` prints the same figures as one JSON object.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use ghostplane_l2_api::{AccountQuery, AccountView, BatchItem, L2ApiClient};
use ghostplane_primitives::{
    AccountId, ChainId, Codec, Hash32, Keypair, Recipient, TokenId, Transaction, tx_hash,
};
use ghostplane_sequencer::{QuicClient, QuicReply};
use indicatif::{ProgressBar, ProgressStyle};
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use tokio::sync::Mutex;

/// Transport to load.
#[derive(Clone, Copy, ValueEnum)]
pub enum Target {
    /// `l2_sendTransactionBatch` over WebSocket.
    Rpc,
    /// Binary frames over QUIC streams.
    Quic,
}

/// Options of `ghostplane-bench load`.
#[derive(Args)]
pub struct LoadArgs {
    /// Transport.
    #[arg(long, value_enum, default_value = "rpc")]
    target: Target,
    /// Transactions per second to offer; 0 = as fast as accepted.
    #[arg(long, default_value_t = 1000)]
    tps: u64,
    /// How long to submit, in seconds.
    #[arg(long, default_value_t = 10)]
    duration_s: u64,
    /// Sending accounts to create and fund.
    #[arg(long, default_value_t = 256)]
    accounts: u32,
    /// Most transactions to pre-sign (bounds memory with `--tps 0`).
    #[arg(long, default_value_t = 200_000)]
    max_txs: u64,
    /// Sequencer JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    rpc: SocketAddr,
    /// Sequencer QUIC address.
    #[arg(long, default_value = "127.0.0.1:9091")]
    quic: SocketAddr,
    /// Concurrent submitters (RPC connections or QUIC streams).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Most transactions per RPC batch request, and unanswered per QUIC stream. At a
    /// fixed `--tps`, each submitter sends what arrives in about 10 ms at a time.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// The node's process id: its resident memory is read after the run (Linux).
    #[arg(long)]
    pid: Option<u32>,
    /// Print the figures as one JSON object instead of `key=value` pairs.
    #[arg(long)]
    json: bool,
}

/// Resident memory of `pid` in MiB, from `/proc/<pid>/status` (`VmRSS`).
fn rss_mb(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kib: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no VmRSS line in {path}"))?;
    Ok(kib / 1024.0)
}

/// Development account that funds the load accounts (0 collects fees).
const FUNDER: u32 = 1;

struct Prepared {
    bytes: Vec<u8>,
    hash: Hash32,
}

async fn account(client: &WsClient, query: AccountQuery) -> Result<Option<AccountView>> {
    Ok(L2ApiClient::get_account(client, query).await?)
}

/// Creates and funds `count` fresh accounts; returns their keys and ids.
async fn fund_accounts(
    client: &WsClient,
    chain: ChainId,
    count: u32,
) -> Result<Vec<(Keypair, AccountId)>> {
    let funder = Keypair::dev(FUNDER);
    let info = account(client, AccountQuery::Id(FUNDER.into())).await?.context(
        "development account 1 does not exist: start the sequencer with --dev-accounts 2 or more",
    )?;
    let mut nonce = info.nonce;
    let keys: Vec<Keypair> = (0..count).map(|_| Keypair::generate()).collect();
    // The floor of a transfer creating an account (its pubdata priced by the L1
    // data price): every such transfer has the same size.
    let template = Transaction::Transfer {
        from: AccountId::new(FUNDER).unwrap_or(AccountId::MAX),
        to: Recipient::NewAccount(Keypair::generate().public_key()),
        token: TokenId::Gcc,
        amount: 1_000_000_000_000,
        fee: 0,
        nonce,
    };
    let create_fee = fee_estimate(client, &template).await?;
    for chunk in keys.chunks(512) {
        let batch: Vec<String> = chunk
            .iter()
            .map(|key| {
                let tx = Transaction::Transfer {
                    from: AccountId::new(FUNDER).unwrap_or(AccountId::MAX),
                    to: Recipient::NewAccount(key.public_key()),
                    token: TokenId::Gcc,
                    amount: 1_000_000_000_000,
                    fee: create_fee,
                    nonce,
                };
                nonce += 1;
                hex::encode(funder.sign(chain, tx).encode())
            })
            .collect();
        let results = L2ApiClient::send_transaction_batch(client, batch).await?;
        if let Some(error) = results.iter().find_map(|r| match r {
            BatchItem::Refused { error } => Some(error),
            BatchItem::Accepted(_) => None,
        }) {
            bail!(
                "funding transfer rejected: {} (code {})",
                error.message,
                error.code
            );
        }
        // One chunk in flight at a time: the funder's pending transactions stay under
        // the node's per-sender limit (1024).
        let last = chunk
            .last()
            .map(|k| k.public_key().to_hex())
            .unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(60);
        while account(client, AccountQuery::Key(last.clone()))
            .await?
            .is_none()
        {
            if Instant::now() > deadline {
                bail!("funding transfers were not executed within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut funded = Vec::with_capacity(keys.len());
    for key in keys {
        loop {
            if let Some(view) =
                account(client, AccountQuery::Key(key.public_key().to_hex())).await?
            {
                funded.push((key, AccountId::new(view.id)?));
                break;
            }
            if Instant::now() > deadline {
                bail!("funded accounts did not appear within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(funded)
}

/// What `l2_estimateFee` asks of `tx` (a native transaction's floor).
async fn fee_estimate(client: &WsClient, tx: &Transaction) -> Result<u128> {
    let estimate = L2ApiClient::estimate_fee(client, hex::encode(tx.encode())).await?;
    estimate
        .total
        .parse()
        .context("l2_estimateFee did not return a decimal total")
}

fn presign(
    accounts: &[(Keypair, AccountId)],
    chain: ChainId,
    total: u64,
    fee: u128,
) -> Vec<Prepared> {
    let n = accounts.len() as u64;
    (0..total)
        .map(|i| {
            let (key, from) = &accounts[(i % n) as usize];
            let (_, to) = &accounts[((i + 1) % n) as usize];
            let tx = Transaction::Transfer {
                from: *from,
                to: Recipient::Account(*to),
                token: TokenId::Gcc,
                amount: 1,
                fee,
                nonce: i / n,
            };
            let bytes = key.sign(chain, tx).encode();
            let hash = tx_hash(&bytes);
            Prepared { bytes, hash }
        })
        .collect()
}

struct Tally {
    accepted: AtomicU64,
    errors: AtomicU64,
    submitted_at: Mutex<HashMap<Hash32, Instant>>,
}

pub async fn run(args: LoadArgs) -> Result<()> {
    let url = format!("ws://{}", args.rpc);
    let client = WsClientBuilder::default()
        .max_request_size(64 * 1024 * 1024)
        .max_response_size(64 * 1024 * 1024)
        .build(&url)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let chain = ChainId(L2ApiClient::chain_id(&client).await?);
    let accounts = args.accounts.max(2);
    eprintln!("funding {accounts} accounts ...");
    let funded = fund_accounts(&client, chain, accounts).await?;
    let total = if args.tps == 0 {
        args.max_txs
    } else {
        (args.tps * args.duration_s).min(args.max_txs)
    };
    eprintln!("signing {total} transfers ...");
    // Every transfer between existing accounts has the same floor.
    let fee: u128 = L2ApiClient::min_fee(&client)
        .await?
        .parse()
        .context("l2_minFee did not return a decimal string")?;
    let prepared = Arc::new(presign(&funded, chain, total, fee));

    let tally = Arc::new(Tally {
        accepted: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        submitted_at: Mutex::new(HashMap::with_capacity(prepared.len())),
    });
    // Executed times, from new-block notifications.
    let executed: Arc<Mutex<HashMap<Hash32, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut blocks = L2ApiClient::subscribe_new_blocks(&client).await?;
    let watcher = {
        let executed = Arc::clone(&executed);
        tokio::spawn(async move {
            while let Some(Ok(block)) = blocks.next().await {
                let now = Instant::now();
                let mut executed = executed.lock().await;
                for hash in &block.transactions {
                    if let Ok(hash) = Hash32::from_hex(hash) {
                        executed.insert(hash, now);
                    }
                }
            }
        })
    };

    let progress = ProgressBar::new(total);
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} accepted {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    let quic_cert = match args.target {
        Target::Quic => {
            let cert = L2ApiClient::quic_certificate(&client).await?;
            Some(hex::decode(cert).context("bad certificate hex")?)
        }
        Target::Rpc => None,
    };
    let connections = args.connections.max(1);
    for _ in 0..connections {
        let ctx = Worker {
            prepared: Arc::clone(&prepared),
            next: Arc::clone(&next),
            tally: Arc::clone(&tally),
            progress: progress.clone(),
            started,
            tps: args.tps,
            duration: Duration::from_secs(args.duration_s),
            batch: args.batch.clamp(1, 1024),
            claim: claim_size(args.tps, connections, args.batch.clamp(1, 1024)),
        };
        let worker = match (args.target, &quic_cert) {
            (Target::Quic, Some(cert)) => {
                let quic = QuicClient::connect(args.quic, cert).await?;
                tokio::spawn(async move { ctx.run_quic(quic).await })
            }
            _ => {
                let ws = WsClientBuilder::default()
                    .max_request_size(64 * 1024 * 1024)
                    .max_response_size(64 * 1024 * 1024)
                    .request_timeout(Duration::from_secs(60))
                    .build(&url)
                    .await?;
                tokio::spawn(async move { ctx.run_rpc(ws).await })
            }
        };
        workers.push(worker);
    }
    for worker in workers {
        worker.await??;
    }
    let submit_elapsed = started.elapsed().as_secs_f64().max(1e-9);
    progress.finish_and_clear();

    // Give the last blocks time to land.
    let accepted_hashes: Vec<(Hash32, Instant)> = tally
        .submitted_at
        .lock()
        .await
        .iter()
        .map(|(h, t)| (*h, *t))
        .collect();
    let settle_deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = {
            let executed = executed.lock().await;
            accepted_hashes
                .iter()
                .filter(|(h, _)| executed.contains_key(h))
                .count()
        };
        if done == accepted_hashes.len() || Instant::now() > settle_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    let executed = executed.lock().await;
    let mut latencies: Vec<f64> = accepted_hashes
        .iter()
        .filter_map(|(hash, at)| {
            executed
                .get(hash)
                .map(|done| done.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last_executed = executed.values().max().copied().unwrap_or(started);
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    let accepted = tally.accepted.load(Ordering::Relaxed);
    let executed_count = latencies.len() as f64;
    let executed_elapsed = last_executed
        .saturating_duration_since(started)
        .as_secs_f64()
        .max(submit_elapsed);
    let errors = tally.errors.load(Ordering::Relaxed) + (accepted - latencies.len() as u64);
    let rss = args.pid.map(rss_mb).transpose()?;
    let figures = serde_json::json!({
        "tps_accepted": (accepted as f64 / submit_elapsed).round(),
        "tps_executed": (executed_count / executed_elapsed).round(),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "p999_ms": percentile(0.999),
        "errors": errors,
        "rss_mb": rss.map(f64::round),
    });
    if args.json {
        println!("{figures}");
    } else {
        let mut line = format!(
            "tps_accepted={:.0} tps_executed={:.0} p50_ms={:.1} p99_ms={:.1} p999_ms={:.1} errors={}",
            accepted as f64 / submit_elapsed,
            executed_count / executed_elapsed,
            percentile(0.50),
            percentile(0.99),
            percentile(0.999),
            errors,
        );
        if let Some(rss) = rss {
            line.push_str(&format!(" rss_mb={rss:.0}"));
        }
        println!("{line}");
    }
    Ok(())
}

/// How many transactions a submitter sends at once. As fast as accepted: full
/// batches. At a fixed rate: what arrives in about 10 ms per submitter, so a rate
/// is offered smoothly rather than in bursts of `batch` that would time the burst.
fn claim_size(tps: u64, connections: usize, batch: usize) -> usize {
    if tps == 0 {
        return batch;
    }
    let per_10ms = tps / (connections.max(1) as u64 * 100);
    usize::try_from(per_10ms).unwrap_or(batch).clamp(1, batch)
}

/// Pause before sending transactions refused for back-pressure again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Refusals that mean "later", not "never".
fn retryable(code: i32) -> bool {
    use ghostplane_rpc::codes;
    matches!(
        code,
        codes::BUSY | codes::POOL_FULL | codes::SENDER_POOL_FULL | codes::SETTLEMENT_BEHIND
    )
}

struct Worker {
    prepared: Arc<Vec<Prepared>>,
    next: Arc<AtomicU64>,
    tally: Arc<Tally>,
    progress: ProgressBar,
    started: Instant,
    tps: u64,
    duration: Duration,
    batch: usize,
    /// Transactions per send (see [`claim_size`]).
    claim: usize,
}

impl Worker {
    /// Claims the next `count` transactions if the schedule allows them now.
    async fn claim(&self, count: usize) -> Option<std::ops::Range<usize>> {
        loop {
            if self.started.elapsed() >= self.duration {
                return None;
            }
            let start = self.next.load(Ordering::Relaxed);
            if start >= self.prepared.len() as u64 {
                return None;
            }
            if self.tps > 0 {
                let allowed = (self.started.elapsed().as_secs_f64() * self.tps as f64) as u64;
                if start >= allowed {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
            }
            let end = (start + count as u64).min(self.prepared.len() as u64);
            if self
                .next
                .compare_exchange(start, end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return Some(start as usize..end as usize);
            }
        }
    }

    async fn record(&self, hash: Hash32, at: Instant, ok: bool) {
        if ok {
            self.tally.accepted.fetch_add(1, Ordering::Relaxed);
            self.tally.submitted_at.lock().await.insert(hash, at);
            self.progress.inc(1);
        } else {
            self.tally.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What to send next: the refused transactions in `again` after a pause (the
    /// node asked to back off), else up to `count` new ones. `None` when the run is
    /// over; refused transactions still waiting then count as errors.
    async fn next_send(&self, again: Vec<usize>, count: usize) -> Option<Vec<usize>> {
        if again.is_empty() {
            return self.claim(count).await.map(Iterator::collect);
        }
        if self.started.elapsed() >= self.duration {
            self.tally
                .errors
                .fetch_add(again.len() as u64, Ordering::Relaxed);
            return None;
        }
        tokio::time::sleep(RETRY_PAUSE).await;
        Some(again)
    }

    async fn run_rpc(self, client: WsClient) -> Result<()> {
        // Refused for back-pressure: sent again in the next request (see `run_quic`).
        let mut again: Vec<usize> = Vec::new();
        while let Some(indexes) = self.next_send(std::mem::take(&mut again), self.claim).await {
            let batch: Vec<String> = indexes
                .iter()
                .map(|i| hex::encode(&self.prepared[*i].bytes))
                .collect();
            let at = Instant::now();
            let results = match L2ApiClient::send_transaction_batch(&client, batch).await {
                Ok(results) => results,
                Err(_) => {
                    self.tally
                        .errors
                        .fetch_add(indexes.len() as u64, Ordering::Relaxed);
                    continue;
                }
            };
            for (index, result) in indexes.iter().zip(results) {
                match result {
                    BatchItem::Refused { error } if retryable(error.code) => again.push(*index),
                    result => {
                        let ok = matches!(result, BatchItem::Accepted(_));
                        self.record(self.prepared[*index].hash, at, ok).await;
                    }
                }
            }
        }
        Ok(())
    }

    async fn run_quic(self, client: QuicClient) -> Result<()> {
        let stream = client.open_stream().await?;
        let (mut sender, mut receiver) = stream.split();
        // At most `batch` transactions unanswered on the stream: past the sequencer's
        // capacity, more in flight only turns into "busy" rejections.
        let window = Arc::new(tokio::sync::Semaphore::new(self.batch));
        let (sent_tx, mut sent_rx) =
            tokio::sync::mpsc::channel::<(Vec<usize>, Instant)>(self.batch);
        // Transactions refused for back-pressure (busy, pool full, settlement behind)
        // are sent again, as a real client would: skipping one would leave a nonce
        // gap that stalls its sender for the rest of the run.
        let retry: Arc<std::sync::Mutex<Vec<usize>>> = Arc::default();
        let reader = {
            let tally = Arc::clone(&self.tally);
            let progress = self.progress.clone();
            let window = Arc::clone(&window);
            let prepared = Arc::clone(&self.prepared);
            let retry = Arc::clone(&retry);
            tokio::spawn(async move {
                let mut accepted = Vec::new();
                let mut again = Vec::new();
                while let Some((indexes, at)) = sent_rx.recv().await {
                    accepted.clear();
                    again.clear();
                    let mut failed = false;
                    for index in indexes {
                        let reply = receiver.next().await;
                        window.add_permits(1);
                        match reply {
                            Ok(Some(QuicReply::Accepted(_))) => {
                                accepted.push((prepared[index].hash, at));
                            }
                            Ok(Some(QuicReply::Rejected { code, .. })) if retryable(code) => {
                                again.push(index);
                            }
                            Ok(Some(QuicReply::Rejected { .. })) => {
                                tally.errors.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {
                                tally.errors.fetch_add(1, Ordering::Relaxed);
                                failed = true;
                                break;
                            }
                        }
                    }
                    // One lock and one count per sent batch, not per transaction.
                    tally
                        .accepted
                        .fetch_add(accepted.len() as u64, Ordering::Relaxed);
                    tally
                        .submitted_at
                        .lock()
                        .await
                        .extend(accepted.iter().copied());
                    progress.inc(accepted.len() as u64);
                    if let Ok(mut retry) = retry.lock() {
                        retry.extend(again.iter().copied());
                    }
                    if failed {
                        break;
                    }
                }
            })
        };
        // Claims never exceed the window, so a claim can always get its permits.
        let claim = self.claim.min(64);
        loop {
            let again: Vec<usize> = retry
                .lock()
                .map(|mut retry| std::mem::take(&mut *retry))
                .unwrap_or_default();
            let Some(indexes) = self.next_send(again, claim).await else {
                break;
            };
            for part in indexes.chunks(claim) {
                window.acquire_many(part.len() as u32).await?.forget();
                let at = Instant::now();
                sender
                    .send_many(part.iter().map(|i| self.prepared[*i].bytes.as_slice()))
                    .await?;
                if sent_tx.send((part.to_vec(), at)).await.is_err() {
                    break;
                }
            }
        }
        sender.finish()?;
        drop(sent_tx);
        reader.await?;
        client.close().await;
        Ok(())
    }
}

//! Sequencer throughput and latency: the ingest pipeline in process (submit →
//! durable "accepted", no sockets), and end to end over QUIC and over HTTP on
//! loopback (submit → executed in a committed block).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, Hash32, Keypair, Recipient, TokenId, Transaction,
};
use ghostplane_sequencer::{QuicClient, Sequencer, SequencerConfig};
use ghostplane_test_utils::dev_l2_genesis;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use tokio::runtime::Runtime;

const SENDERS: u32 = 64;
const TXS_PER_ITER: u64 = 2048;

struct Signer {
    nonces: Vec<u64>,
    keys: Vec<Keypair>,
}

impl Signer {
    fn new() -> Self {
        Self {
            nonces: vec![0; SENDERS as usize + 1],
            keys: (0..=SENDERS).map(Keypair::dev).collect(),
        }
    }

    /// `count` transfers spread over the senders, each sender's nonces in order.
    fn next(&mut self, count: u64) -> Vec<(Vec<u8>, Hash32)> {
        (0..count)
            .map(|i| {
                let from = 1 + (i % u64::from(SENDERS)) as u32;
                let nonce = self.nonces[from as usize];
                self.nonces[from as usize] += 1;
                let tx = Transaction::Transfer {
                    from: AccountId::new(from).unwrap_or(AccountId::MAX),
                    to: Recipient::Account(AccountId::new(0).unwrap_or(AccountId::MAX)),
                    token: TokenId::Gcc,
                    amount: 1,
                    fee: 1,
                    nonce,
                };
                let signed = self.keys[from as usize].sign(DEVNET_CHAIN_ID, tx);
                (signed.encode(), signed.hash())
            })
            .collect()
    }
}

fn start(runtime: &Runtime, dir: &std::path::Path) -> Sequencer {
    let mut config = SequencerConfig::new(dir.to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    config.quic_addr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    config.block_time_ms = 10;
    config.sender_pending_max = 1 << 16;
    let genesis = dev_l2_genesis(SENDERS + 1, [1u128 << 100; 4]);
    runtime
        .block_on(Sequencer::start(config, genesis))
        .unwrap_or_else(|e| panic!("start: {e}"))
}

/// Waits until every hash in `hashes` appears in a block.
async fn executed(
    blocks: &mut tokio::sync::broadcast::Receiver<ghostplane_sequencer::BlockEvent>,
    hashes: &[Hash32],
) {
    let mut left: std::collections::HashSet<Hash32> = hashes.iter().copied().collect();
    while !left.is_empty() {
        match tokio::time::timeout(Duration::from_secs(30), blocks.recv()).await {
            Ok(Ok(block)) => {
                for hash in &block.transactions {
                    left.remove(hash);
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => panic!("{} transactions never executed", left.len()),
        }
    }
}

fn ingest(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sequencer = start(&runtime, dir.path());
    let mut signer = Signer::new();

    let mut group = c.benchmark_group("sequencer");
    group.throughput(Throughput::Elements(TXS_PER_ITER));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    let ingest = sequencer.ingest();
    group.bench_function("pipeline_in_process_to_accepted", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = signer.next(TXS_PER_ITER);
                let started = Instant::now();
                runtime.block_on(async {
                    let receivers: Vec<_> = batch
                        .into_iter()
                        .map(|(bytes, _)| ingest.submit(bytes).unwrap_or_else(|e| panic!("{e}")))
                        .collect();
                    for receiver in receivers {
                        receiver
                            .await
                            .unwrap_or_else(|e| panic!("{e}"))
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                });
                total += started.elapsed();
            }
            total
        })
    });

    let quic = runtime
        .block_on(QuicClient::connect(
            sequencer.quic_addr,
            &sequencer.quic_certificate,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut blocks = sequencer.subscribe_blocks();
    group.bench_function("quic_loopback_to_executed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = signer.next(TXS_PER_ITER);
                let hashes: Vec<Hash32> = batch.iter().map(|(_, h)| *h).collect();
                let started = Instant::now();
                runtime.block_on(async {
                    let (mut sender, mut receiver) = quic
                        .open_stream()
                        .await
                        .unwrap_or_else(|e| panic!("{e}"))
                        .split();
                    let writer = tokio::spawn(async move {
                        for (bytes, _) in batch {
                            sender.send(&bytes).await.unwrap_or_else(|e| panic!("{e}"));
                        }
                        sender.finish().unwrap_or_else(|e| panic!("{e}"));
                    });
                    while let Some(reply) = receiver.next().await.unwrap_or_else(|e| panic!("{e}"))
                    {
                        assert!(
                            matches!(reply, ghostplane_sequencer::QuicReply::Accepted(_)),
                            "{reply:?}"
                        );
                    }
                    writer.await.unwrap_or_else(|e| panic!("{e}"));
                    executed(&mut blocks, &hashes).await;
                });
                total += started.elapsed();
            }
            total
        })
    });

    let http = Arc::new(
        HttpClientBuilder::default()
            .max_request_size(64 * 1024 * 1024)
            .build(format!("http://{}", sequencer.rpc_addr))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    group.bench_function("http_loopback_to_executed", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = signer.next(TXS_PER_ITER);
                let hashes: Vec<Hash32> = batch.iter().map(|(_, h)| *h).collect();
                let started = Instant::now();
                runtime.block_on(async {
                    let mut requests = Vec::new();
                    for chunk in batch.chunks(256) {
                        let texts: Vec<String> =
                            chunk.iter().map(|(bytes, _)| hex::encode(bytes)).collect();
                        let http = Arc::clone(&http);
                        requests.push(tokio::spawn(async move {
                            let results: Vec<serde_json::Value> = http
                                .request("l2_sendTransactionBatch", rpc_params![texts])
                                .await
                                .unwrap_or_else(|e| panic!("{e}"));
                            assert!(
                                results.iter().all(|r| r.get("hash").is_some()),
                                "{results:?}"
                            );
                        }));
                    }
                    for request in requests {
                        request.await.unwrap_or_else(|e| panic!("{e}"));
                    }
                    executed(&mut blocks, &hashes).await;
                });
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
    runtime.block_on(quic.close());
    runtime.block_on(sequencer.shutdown());
}

criterion_group!(benches, ingest);
criterion_main!(benches);

//! BFT consensus benches: checking a commit certificate (4 and 100 validators),
//! and deciding one height with 4 in-process validators (real ghostd nodes on
//! RocksDB, Malachite's state machine, execution of the proposed block on every
//! validator, the synced commit; messages passed in memory, so this is the cost of
//! consensus without the network): an empty block, and 1000 transfers (measured
//! over two heights: the empty block already in flight when they arrive, then the
//! block that carries them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::{Arc, Mutex};

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ghostd::consensus::wire::NetMsg;
use ghostd::consensus::{Out, Replica};
use ghostd::{Call, L1_DEVNET_CHAIN_ID, LedgerCall, SignedL1Transaction};
use ghostd_types::consensus::{
    BftParams, Commit, ConsensusMode, GenesisValidator, Timeouts, VoteKind, verify_commit,
    vote_signing_bytes,
};
use ghostplane_primitives::{Hash32, Keypair, L1Address, TokenId};
use ghostplane_test_utils::sign_l1;

fn params(keys: &[Keypair]) -> BftParams {
    BftParams {
        validators: keys
            .iter()
            .map(|k| GenesisValidator {
                key: k.public_key(),
                power: 1,
                p2p: None,
            })
            .collect(),
        timeouts: Timeouts {
            commit_ms: 0,
            ..Timeouts::default()
        },
    }
}

fn certificate(c: &mut Criterion) {
    let mut group = c.benchmark_group("consensus");
    for n in [4u32, 100] {
        let keys: Vec<Keypair> = (0..n).map(|i| Keypair::dev(500 + i)).collect();
        let params = params(&keys);
        let block = Hash32([3; 32]);
        let message =
            vote_signing_bytes(L1_DEVNET_CHAIN_ID, VoteKind::Precommit, 9, 0, Some(block));
        let quorum = (n as usize * 2) / 3 + 1;
        let commit = Commit {
            height: 9,
            round: 0,
            block,
            signatures: keys[..quorum]
                .iter()
                .map(|k| (k.public_key(), k.sign_bytes(&message)))
                .collect(),
        };
        group.bench_function(format!("verify_commit_{n}_validators"), |b| {
            b.iter(|| {
                verify_commit(L1_DEVNET_CHAIN_ID, &params, 9, block, black_box(&commit)).unwrap()
            })
        });
    }
    group.finish();
}

/// Transactions each node's clients submitted, waiting to be gossiped.
type Gossiped = Arc<Mutex<Vec<(usize, Vec<SignedL1Transaction>)>>>;

/// Four replicas passing messages in memory.
struct Net {
    replicas: Vec<Replica>,
    _dirs: Vec<tempfile::TempDir>,
    inbox: VecDeque<(usize, usize, NetMsg)>,
    gossip: Gossiped,
}

impl Net {
    fn new(funded: &[Keypair]) -> Self {
        let keys: Vec<Keypair> = (0..4).map(|i| Keypair::dev(600 + i)).collect();
        let genesis = common::genesis(funded, 1_000_000_000, ConsensusMode::Bft(params(&keys)));
        let gossip = Arc::new(Mutex::new(Vec::new()));
        let mut replicas = Vec::new();
        let mut dirs = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let (dir, node) = common::open(&genesis, |c| c.block_txs_max = 4096);
            let sink = gossip.clone();
            node.set_gossip(Box::new(move |txs| sink.lock().unwrap().push((i, txs))));
            replicas.push(Replica::new(node, Some(key)).unwrap());
            dirs.push(dir);
        }
        let mut net = Net {
            replicas,
            _dirs: dirs,
            inbox: VecDeque::new(),
            gossip,
        };
        for i in 0..4 {
            let outs = net.replicas[i].start();
            net.route(i, outs);
        }
        net
    }

    fn route(&mut self, from: usize, outs: Vec<Out>) {
        for out in outs {
            match out {
                Out::Broadcast(msg) => {
                    for to in (0..4).filter(|&to| to != from) {
                        self.inbox.push_back((to, from, msg.clone()));
                    }
                }
                Out::Send(to, msg) => self.inbox.push_back((to as usize, from, msg)),
                // No message is lost here, so no round needs a timeout.
                Out::Schedule { .. } | Out::Cancel(_) | Out::CancelAll | Out::Wake(_) => {}
            }
        }
    }

    fn gossip(&mut self) {
        let batches: Vec<_> = std::mem::take(&mut *self.gossip.lock().unwrap());
        for (from, txs) in batches {
            let out = self.replicas[from].gossip(txs);
            self.route(from, vec![out]);
        }
    }

    /// Delivers messages until every replica has committed one more block.
    fn decide_one(&mut self) {
        let target = self.replicas[0].node().head().number + 1;
        while self
            .replicas
            .iter()
            .any(|r| r.node().head().number < target)
        {
            let (to, from, msg) = self.inbox.pop_front().expect("consensus stalled");
            let outs = self.replicas[to].on_message(from as u64, msg);
            self.route(to, outs);
        }
    }
}

fn transfers(
    keys: &[Keypair],
    nonces: &mut [u64],
    n: usize,
    id: &mut u128,
) -> Vec<SignedL1Transaction> {
    (0..n)
        .map(|i| {
            let k = i % keys.len();
            *id += 1;
            let call = Call::Ledger(LedgerCall::Transfer {
                id: *id,
                to: L1Address([7; 32]),
                token: TokenId::Gcc,
                amount: 1,
            });
            let tx = sign_l1(&keys[k], nonces[k], call);
            nonces[k] += 1;
            tx
        })
        .collect()
}

fn decide(c: &mut Criterion) {
    let senders: Vec<Keypair> = (0..256).map(|i| Keypair::dev(1000 + i)).collect();
    let mut group = c.benchmark_group("consensus");
    group.sample_size(20);
    let mut net = Net::new(&senders);
    group.bench_function("decide_empty_block_4_validators", |b| {
        b.iter(|| net.decide_one())
    });
    let mut nonces = vec![0u64; senders.len()];
    let mut id = 0u128;
    // Two heights: the empty one in flight, then the one with the transfers.
    group.bench_function("decide_1000_transfers_4_validators", |b| {
        b.iter_batched(
            || transfers(&senders, &mut nonces, 1000, &mut id),
            |txs| {
                // Every validator holds them (as gossip would leave them), so the
                // proposer of this height, whichever it is, takes them.
                for r in &net.replicas {
                    for chunk in txs.chunks(1000) {
                        r.node().submit_batch_from_peer(chunk.to_vec());
                    }
                }
                net.gossip();
                // The next height's block was proposed before these arrived (its
                // proposer builds as soon as the previous height ends): decide it,
                // then the one that carries them.
                let mut included = 0;
                for _ in 0..3 {
                    net.decide_one();
                    included += net.replicas[0].node().head().tx_count;
                    if included == 1000 {
                        break;
                    }
                }
                assert_eq!(included, 1000);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, certificate, decide);
criterion_main!(benches);

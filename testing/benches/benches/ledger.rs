//! Ledger (ghostd) benches: applying ledger calls to state (a plain transfer, a
//! pending transfer and its post, a linked chain of 64), admitting a batch of
//! signed transfers (`Ghostd::submit_batch`: signatures in parallel, dry runs, one
//! synced write), and sealing a block of 4096 transfers (one synced write).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ghostd::modules::ledger::{self, LedgerContext};
use ghostd::state::Layer;
use ghostd::{Call, Ghostd, LedgerCall, SignedL1Transaction};
use ghostd_types::ledger::{LINKED_OPS_MAX, LedgerOp, Payee};
use ghostplane_primitives::{Keypair, L1Address, TokenId};
use ghostplane_test_utils::sign_l1;

const SENDERS: u32 = 256;
const ADMIT_BATCH: usize = 1024;
const BLOCK_TXS: usize = 4096;

fn addr(key: &Keypair) -> L1Address {
    L1Address(key.public_key().0)
}

fn transfer(id: u128, to: &Keypair) -> LedgerOp {
    LedgerOp::Transfer {
        id,
        to: Payee::Address(addr(to)),
        token: TokenId::Gcc,
        amount: 1,
        pending: None,
    }
}

/// Signed transfers, round-robin over `keys` from their current nonces, ids from
/// `*next_id`.
fn signed(
    node: &Ghostd,
    keys: &[Keypair],
    count: usize,
    next_id: &mut u128,
) -> Vec<SignedL1Transaction> {
    let nonces: Vec<u64> = keys
        .iter()
        .map(|k| node.nonce(&k.public_key()).unwrap())
        .collect();
    (0..count)
        .map(|i| {
            let k = i % keys.len();
            *next_id += 1;
            let call = Call::Ledger(LedgerCall::Transfer {
                id: *next_id,
                to: addr(&keys[(k + 1) % keys.len()]),
                token: TokenId::Gcc,
                amount: 1,
            });
            sign_l1(&keys[k], nonces[k] + (i / keys.len()) as u64, call)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let keys: Vec<Keypair> = (0..SENDERS).map(Keypair::dev).collect();
    let (_dir, node) = common::node_with(&keys, 1 << 100, |config| {
        config.block_txs_max = BLOCK_TXS;
        config.mempool_max = 4 * BLOCK_TXS;
    });
    let naming = ghostd::modules::naming::NameResolver::default();
    let ctx = LedgerContext {
        from: keys[0].public_key(),
        block: 1,
        naming: &naming,
    };
    let mut group = c.benchmark_group("ledger");

    // Applying calls to state (RocksDB reads, layered writes), nothing committed.
    let mut id = 1u128 << 64;
    group.throughput(Throughput::Elements(1));
    group.bench_function("apply transfer", |b| {
        b.iter(|| {
            id += 1;
            node.read(|state| {
                let mut layer = Layer::new(state);
                let call = LedgerCall::Ops(vec![transfer(id, &keys[1])]);
                ledger::apply(&mut layer, &ctx, black_box(&call)).unwrap();
                black_box(layer.writes().len())
            })
        })
    });
    group.bench_function("apply pending + post", |b| {
        b.iter(|| {
            id += 2;
            node.read(|state| {
                let mut layer = Layer::new(state);
                let call = LedgerCall::Ops(vec![
                    LedgerOp::Transfer {
                        id,
                        to: Payee::Address(addr(&keys[1])),
                        token: TokenId::Gcc,
                        amount: 5,
                        pending: Some(10),
                    },
                    LedgerOp::Post {
                        id: id + 1,
                        pending_id: id,
                        amount: Some(3),
                    },
                ]);
                ledger::apply(&mut layer, &ctx, black_box(&call)).unwrap();
                black_box(layer.writes().len())
            })
        })
    });
    group.throughput(Throughput::Elements(LINKED_OPS_MAX as u64));
    group.bench_function("apply linked chain (64 transfers)", |b| {
        b.iter(|| {
            node.read(|state| {
                let mut layer = Layer::new(state);
                let ops = (0..LINKED_OPS_MAX)
                    .map(|i| {
                        id += 1;
                        transfer(id, &keys[1 + i % 8])
                    })
                    .collect();
                ledger::apply(&mut layer, &ctx, &LedgerCall::Ops(ops)).unwrap();
                black_box(layer.writes().len())
            })
        })
    });

    // Admission: what ghost_sendTransactionBatch does after decoding.
    let mut next_id = 1u128;
    group.throughput(Throughput::Elements(ADMIT_BATCH as u64));
    group.bench_function("admit batch (1024 signed transfers)", |b| {
        b.iter_batched(
            || {
                node.seal().unwrap();
                signed(&node, &keys, ADMIT_BATCH, &mut next_id)
            },
            |txs| {
                let results = node.submit_batch(txs);
                assert!(results.iter().all(Result::is_ok));
                black_box(results.len())
            },
            BatchSize::PerIteration,
        )
    });

    // Sealing: apply 4096 transfers, check invariants, one synced write.
    node.seal().unwrap();
    group.throughput(Throughput::Elements(BLOCK_TXS as u64));
    group.sample_size(20);
    group.bench_function("seal block (4096 ledger transfers)", |b| {
        b.iter_batched(
            || {
                let txs = signed(&node, &keys, BLOCK_TXS, &mut next_id);
                assert!(node.submit_batch(txs).iter().all(Result::is_ok));
            },
            |()| {
                let header = node.seal().unwrap();
                assert_eq!(header.tx_count as usize, BLOCK_TXS);
                black_box(header)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(ledger_benches, benches);
criterion_main!(ledger_benches);

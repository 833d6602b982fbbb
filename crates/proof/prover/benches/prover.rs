//! Prover benches: native Poseidon, tree batch update, witness generation per op
//! (the merkleizer over the RocksDB tree, under each backend's hash), Groth16 prove
//! time per chunk (CHUNK_OPS 4 and 16) and verification.
//!
//! Under `cargo test --all-targets` (criterion's test mode, one run per bench) only
//! the 4-slot chunk is proven; `cargo bench` also proves 16-slot chunks, whose devnet
//! keys (about 280k constraints) are set up once and cached in `target/bench-keys`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_groth16::PoseidonTree;
use ghostplane_primitives::merkle::node_hash;
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, Fr, Keypair, PubdataOp, Signature, TokenId,
};
use ghostplane_prover::stark::DEVNET_SEGMENT_SLOTS;
use ghostplane_prover::{
    AccountTree, ChunkKeys, ChunkWitness, Groth16Backend, Merkleizer, ProofBackend, StarkBackend,
};
use ghostplane_stark::config::FriSettings;

const ACCOUNTS: u32 = 1024;

fn genesis(n: u32) -> Vec<(AccountId, AccountLeaf)> {
    (0..n)
        .map(|i| {
            let mut leaf = AccountLeaf::new(Keypair::dev(i % 64).public_key());
            leaf.balances = [1u128 << 100, 1 << 90, 0, 0];
            (AccountId::new(i).unwrap(), leaf)
        })
        .collect()
}

fn transfers(n: usize) -> Vec<PubdataOp> {
    (0..n)
        .map(|i| PubdataOp::Transfer {
            from: AccountId::new(1 + (i as u32 * 2) % (ACCOUNTS - 1)).unwrap(),
            to: AccountId::new(1 + (i as u32 * 2 + 1) % (ACCOUNTS - 1)).unwrap(),
            token: if i % 2 == 0 {
                TokenId::Gcc
            } else {
                TokenId::Spirit
            },
            amount: 1_000 + i as u128,
            fee: 3,
            signature: Signature([0; 64]),
        })
        .collect()
}

fn fresh_tree(backend: &dyn ProofBackend) -> (tempfile::TempDir, AccountTree) {
    let dir = tempfile::tempdir().unwrap();
    let db = ghostplane_prover::open_db(dir.path()).unwrap();
    let mut tree = AccountTree::open(db, backend.tree_hash()).unwrap();
    tree.update_many(&genesis(ACCOUNTS)).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    (dir, tree)
}

fn chunks(chunk_ops: usize, count: usize) -> Vec<ChunkWitness> {
    let backend = Groth16Backend::witnesses_only(chunk_ops);
    let (_dir, mut tree) = fresh_tree(&backend);
    Merkleizer::new(&mut tree, &backend, ChainId(1))
        .build_batch(
            BatchNumber(1),
            AccountId::ZERO,
            &transfers(chunk_ops * count),
        )
        .unwrap()
        .iter()
        .map(|job| borsh::from_slice(&job.witness).unwrap())
        .collect()
}

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../target/bench-keys")
}

fn native(c: &mut Criterion) {
    let mut g = c.benchmark_group("prover/poseidon");
    let leaf = genesis(1)[0].1;
    g.bench_function("leaf (7 inputs)", |b| b.iter(|| black_box(&leaf).hash()));
    let children = [
        Fr::from(1u64),
        Fr::from(2u64),
        Fr::from(3u64),
        Fr::from(4u64),
    ];
    g.bench_function("node (4 inputs)", |b| {
        b.iter(|| node_hash(black_box(&children)))
    });
    g.finish();

    let mut g = c.benchmark_group("prover/tree");
    g.sample_size(10);
    let leaves = genesis(4096);
    g.throughput(Throughput::Elements(leaves.len() as u64));
    g.bench_function("batch update 4096 accounts (parallel levels)", |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().unwrap();
                let db = ghostplane_prover::open_db(dir.path()).unwrap();
                let tree = AccountTree::open(db, Arc::new(PoseidonTree)).unwrap();
                (dir, tree)
            },
            |(_dir, mut tree)| tree.update_many(&leaves).unwrap(),
        )
    });
    g.finish();

    let mut g = c.benchmark_group("prover/merkleizer");
    g.sample_size(10);
    let groth16 = Groth16Backend::witnesses_only(16);
    let ops = transfers(64);
    g.throughput(Throughput::Elements(ops.len() as u64));
    g.bench_function(
        "witness per transfer (64 transfers, groth16 chunk 16)",
        |b| {
            b.iter_with_setup(
                || fresh_tree(&groth16),
                |(_dir, mut tree)| {
                    Merkleizer::new(&mut tree, &groth16, ChainId(1))
                        .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
                        .unwrap()
                },
            )
        },
    );
    // The STARK backend's jobs: Poseidon2 paths for both legs of every op, the
    // witness encoded for the worker. One full devnet segment.
    let stark = StarkBackend::new(FriSettings::SETTLEMENT, DEVNET_SEGMENT_SLOTS).unwrap();
    let ops = transfers(DEVNET_SEGMENT_SLOTS - 1);
    g.throughput(Throughput::Elements(ops.len() as u64));
    g.bench_function(
        "witness per transfer (1023 transfers, stark segment 1024)",
        |b| {
            b.iter_with_setup(
                || fresh_tree(&stark),
                |(_dir, mut tree)| {
                    Merkleizer::new(&mut tree, &stark, ChainId(1))
                        .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
                        .unwrap()
                },
            )
        },
    );
    g.finish();
}

fn groth16(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[4, 16] } else { &[4] };
    let mut g = c.benchmark_group("prover/groth16");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for &chunk_ops in sizes {
        let keys = ChunkKeys::load_or_setup(&keys_dir(), chunk_ops, true).unwrap();
        let witness = chunks(chunk_ops, 1).remove(0);
        g.throughput(Throughput::Elements(chunk_ops as u64));
        g.bench_with_input(
            BenchmarkId::new("prove chunk", chunk_ops),
            &witness,
            |b, w| b.iter(|| keys.prove(w).unwrap()),
        );
        if chunk_ops == sizes[0] {
            let proof = keys.prove(&witness).unwrap();
            g.throughput(Throughput::Elements(1));
            g.bench_function("verify chunk proof", |b| {
                b.iter(|| keys.verifier().verify(&witness, &proof).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, native, groth16);
criterion_main!(benches);

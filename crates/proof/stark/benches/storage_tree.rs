//! The native cost of a contract's storage tree (depth 64, hashed slot paths):
//! a slot write (path sponge, leaf sponge, 64 node compressions) into a tree of
//! 10,000 slots; and the proof steps an L1 that checks storage natively would run
//! (`storage::apply_steps`): a read checked against the root, and writes checked
//! and applied. One thread.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_stark::storage::{SlotStep, StorageTree, apply_steps};

const SLOTS: u32 = 10_000;
const WRITES: u32 = 1_000;

fn key(i: u32) -> [u8; 32] {
    *blake3::hash(&i.to_le_bytes()).as_bytes()
}

fn storage(c: &mut Criterion) {
    let mut tree = StorageTree::new();
    for i in 0..SLOTS {
        tree.set(&key(i), Some(&i.to_le_bytes()))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut group = c.benchmark_group("storage_tree");
    group.throughput(Throughput::Elements(u64::from(WRITES)));
    group.sample_size(10);
    group.bench_function("write_32_byte_values_into_10k_slots", |b| {
        let mut round = 0u32;
        b.iter(|| {
            round += 1;
            for i in 0..WRITES {
                let value = [round as u8; 32];
                black_box(
                    tree.set(&key(i), Some(&value))
                        .unwrap_or_else(|e| panic!("{e}")),
                );
            }
        })
    });
    // What an L1 checking storage natively would run per transaction: one proof
    // step per slot, checked against the running root, the writes applied.
    let root = tree.root();
    let mut proving = tree.clone();
    let reads: Vec<SlotStep> = (0..WRITES)
        .map(|i| {
            proving
                .step(&key(i), None)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let bytes: usize = reads
        .iter()
        .map(|s| borsh::to_vec(s).map_or(0, |b| b.len()))
        .sum();
    println!(
        "storage proof step of a read in a {SLOTS}-slot tree: {} bytes on average",
        bytes / reads.len()
    );
    group.bench_function("check_a_read_step_against_the_root", |b| {
        b.iter(|| {
            for step in &reads {
                let after = apply_steps(root, std::slice::from_ref(step), |_| None)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(after, root);
            }
        })
    });
    let mut proving = tree.clone();
    let value = [7u8; 32];
    let writes: Vec<SlotStep> = (0..WRITES)
        .map(|i| {
            proving
                .step(&key(i), Some(Some(&value)))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    group.bench_function("check_and_apply_write_steps", |b| {
        b.iter(|| {
            let after = apply_steps(root, &writes, |_| Some(Some(&value)))
                .unwrap_or_else(|e| panic!("{e}"));
            let _ = black_box(after);
        })
    });
    group.finish();
}

criterion_group!(benches, storage);
criterion_main!(benches);

//! The native cost of a contract's storage tree (depth 64, hashed slot paths):
//! a slot write (path sponge, leaf sponge, 64 node compressions) into a tree of
//! 10,000 slots, and checking one slot's path against the root (what an L1 that
//! checks a read set natively would do per read). One thread.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_stark::storage::{StorageTree, slot_index, slot_leaf, storage_root_from_path};

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
    let root = tree.root();
    let reads: Vec<_> = (0..WRITES)
        .map(|i| {
            let k = key(i);
            let (index, siblings) = tree.path(&k);
            (k, tree.get(&k).map(<[u8]>::to_vec), index, siblings)
        })
        .collect();
    group.bench_function("check_a_read_against_the_root", |b| {
        b.iter(|| {
            for (k, value, index, siblings) in &reads {
                assert_eq!(slot_index(k), *index);
                let leaf = slot_leaf(k, value.as_deref()).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(storage_root_from_path(*index, leaf, siblings), root);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, storage);
criterion_main!(benches);

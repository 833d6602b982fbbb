//! The leaf-update AIR at segment sizes: prove and verify time per update on a
//! 2-thread rayon pool (`STARK_THREADS` overrides), the proof size, and the native
//! tree's update rate (the witness side) on one thread. The tree holds 10 000
//! funded accounts; a transfer is about two leaf updates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_stark::config::{self, FriSettings, Val};
use ghostplane_stark::hash::LeafFields;
use ghostplane_stark::tree::{LeafUpdate, Tree};
use ghostplane_stark::update_air::{UpdateAir, generate_trace};
use p3_field::PrimeCharacteristicRing;

const ACCOUNTS: u32 = 10_000;

fn fields(seed: u32) -> LeafFields {
    core::array::from_fn(|i| Val::from_u32((seed.wrapping_mul(2_654_435_761) >> 2) ^ i as u32))
}

fn funded_tree() -> Tree {
    let mut tree = Tree::new();
    for i in 0..ACCOUNTS {
        tree.update(i, fields(i)).unwrap();
    }
    tree
}

fn updates(tree: &mut Tree, n: usize) -> Vec<LeafUpdate> {
    (0..n)
        .map(|i| {
            let index = (i as u32).wrapping_mul(7_919) % ACCOUNTS;
            tree.update(index, fields(i as u32 + ACCOUNTS)).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let threads = std::env::var("STARK_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let settings = FriSettings::SETTLEMENT;
    let config = config::config(settings);
    let air = UpdateAir::new();

    let mut group = c.benchmark_group("stark_tree");
    group.throughput(Throughput::Elements(1024));
    group.bench_function("native_update_1024_one_thread", |b| {
        b.iter_batched(
            funded_tree,
            |mut tree| updates(&mut tree, 1024),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let mut group = c.benchmark_group(format!("stark_update_air_{threads}_threads"));
    group.sample_size(10);
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[256, 1024, 4096] } else { &[16] };
    for &n in sizes {
        let mut tree = funded_tree();
        let old_root = tree.root();
        let ups = updates(&mut tree, n);
        let public: Vec<Val> = old_root.iter().chain(tree.root().iter()).copied().collect();
        let trace = generate_trace(old_root, &ups, settings.log_blowup).unwrap();
        let proof = pool
            .install(|| p3_uni_stark::prove(&config, &air, trace, &public))
            .unwrap();
        let bytes = postcard::to_allocvec(&proof).map(|b| b.len()).unwrap_or(0);
        println!(
            "updates={n} rows={} proof_bytes={bytes} conjectured_bits={}",
            n * ghostplane_stark::update_air::ROWS_PER_UPDATE,
            settings.conjectured_bits()
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("prove_{n}_updates"), |b| {
            b.iter(|| {
                pool.install(|| {
                    let trace = generate_trace(old_root, &ups, settings.log_blowup).unwrap();
                    p3_uni_stark::prove(&config, &air, black_box(trace), &public)
                })
            })
        });
        group.bench_function(format!("verify_{n}_updates"), |b| {
            b.iter(|| p3_uni_stark::verify(&config, &air, black_box(&proof), &public))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The segment AIR at real sizes: prove and verify time per op (random transfers on
//! a tree of 10 000 funded accounts) on a 2-thread rayon pool (`STARK_THREADS`
//! overrides), the proof size, the native witness side (applying the ops to the
//! tree) and the L1's commitment rebuild, each on one thread.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_stark::config::{self, FriSettings};
use ghostplane_stark::security::security;
use ghostplane_stark::segment::{Account, Op, OpKind, SegmentHeader, build_segment, commitment};
use ghostplane_stark::segment_air::{OP_ROWS, SegmentAir, WIDTH, generate_trace};
use ghostplane_stark::tree::Tree;

const ACCOUNTS: u32 = 10_000;
const HEADER: SegmentHeader = SegmentHeader {
    chain_id: 7,
    batch: 1,
    segment: 0,
    fee_account: 0,
};

fn key(i: u32) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&i.to_le_bytes());
    k[31] = 0x5a;
    k
}

fn funded_tree() -> Tree {
    let mut tree = Tree::new();
    for i in 0..ACCOUNTS {
        let mut account = Account::new(key(i));
        account.balances = [1 << 60, 1 << 40, 0, 0];
        tree.update(i, account.fields()).unwrap();
    }
    tree
}

/// `n` transfers between pseudo-random funded accounts, each sender's nonces in order.
fn transfers(n: usize) -> Vec<Op> {
    let mut nonces = vec![0u64; ACCOUNTS as usize];
    (0..n)
        .map(|i| {
            let from = ((i as u64 * 7_919) % u64::from(ACCOUNTS - 1)) as u32 + 1;
            let to = ((i as u64 * 104_729 + 13) % u64::from(ACCOUNTS - 1)) as u32 + 1;
            let nonce = nonces[from as usize];
            nonces[from as usize] += 1;
            Op {
                kind: OpKind::Transfer,
                token: (i % 2) as u8,
                a_index: from,
                a_key: key(from),
                b_index: to,
                b_data: key(to),
                b_new: false,
                nonce,
                amount: 1_000 + i as u128,
                fee: 3,
            }
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
    let air = SegmentAir::new();
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[256, 1024] } else { &[4] };

    let mut group = c.benchmark_group("stark_segment_witness");
    let n = *sizes.last().unwrap_or(&4);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("build_{n}_ops_one_thread"), |b| {
        let ops = transfers(n - 1);
        b.iter_batched(
            funded_tree,
            |mut tree| build_segment(&mut tree, HEADER, &ops, n).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // The L1's side: rebuilding the commitment from the segment's ops.
    let mut tree = funded_tree();
    let ops = build_segment(&mut tree, HEADER, &transfers(n - 1), n)
        .unwrap()
        .ops();
    group.bench_function(format!("commitment_rebuild_{n}_ops_one_thread"), |b| {
        b.iter(|| commitment(&HEADER, black_box(&ops)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group(format!("stark_segment_{threads}_threads"));
    group.sample_size(10);
    for &n in sizes {
        let mut tree = funded_tree();
        let witness = build_segment(&mut tree, HEADER, &transfers(n - 1), n).unwrap();
        let public = witness.public_values().unwrap();
        let trace = generate_trace(&witness, settings.log_blowup).unwrap();
        let proof = pool
            .install(|| p3_uni_stark::prove(&config, &air, trace, &public))
            .unwrap();
        let bytes = postcard::to_allocvec(&proof).map(|b| b.len()).unwrap_or(0);
        let level = security(settings, (n * OP_ROWS).trailing_zeros() as usize).unwrap();
        println!(
            "ops={n} rows={} width={WIDTH} proof_bytes={bytes} {settings:?} \
             proven_johnson_bits={:.1} proven_unique_bits={:.1} conjectured_bits={:.1}",
            n * OP_ROWS,
            level.proven_johnson_bits,
            level.proven_unique_bits,
            level.conjectured_bits
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("trace_{n}_ops"), |b| {
            b.iter(|| pool.install(|| generate_trace(black_box(&witness), settings.log_blowup)))
        });
        group.bench_function(format!("prove_{n}_ops"), |b| {
            b.iter(|| {
                pool.install(|| {
                    let trace = generate_trace(&witness, settings.log_blowup).unwrap();
                    p3_uni_stark::prove(&config, &air, black_box(trace), &public)
                })
            })
        });
        group.bench_function(format!("verify_{n}_ops"), |b| {
            b.iter(|| p3_uni_stark::verify(&config, &air, black_box(&proof), &public))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

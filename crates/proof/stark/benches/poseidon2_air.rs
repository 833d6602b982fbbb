//! How fast the STARK configuration proves Poseidon2 permutations: Plonky3's
//! vectorized Poseidon2 AIR (KoalaBear, width 16, canonical round constants),
//! proven and verified with [`ghostplane_stark::config`] on a 2-thread rayon pool.
//! Throughput is permutations per second; the proof size is printed once.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ghostplane_stark::config::{self, FriSettings, Val};
use p3_koala_bear::{
    GenericPoseidon2LinearLayersKoalaBear, KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16, KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL, KOALABEAR_POSEIDON2_RC_16_INTERNAL,
    KOALABEAR_S_BOX_DEGREE,
};
use p3_matrix::Matrix;
use p3_poseidon2_air::{RoundConstants, VectorizedPoseidon2Air};

const VECTOR_LEN: usize = 8;
type Air = VectorizedPoseidon2Air<
    Val,
    GenericPoseidon2LinearLayersKoalaBear,
    16,
    KOALABEAR_S_BOX_DEGREE,
    0,
    KOALABEAR_POSEIDON2_HALF_FULL_ROUNDS,
    KOALABEAR_POSEIDON2_PARTIAL_ROUNDS_16,
    VECTOR_LEN,
>;

fn air() -> Air {
    Air::new(RoundConstants::new(
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL,
        KOALABEAR_POSEIDON2_RC_16_INTERNAL,
        KOALABEAR_POSEIDON2_RC_16_EXTERNAL_FINAL,
    ))
}

fn prove_poseidon2(c: &mut Criterion) {
    let threads = std::env::var("STARK_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => panic!("rayon pool: {e}"),
    };
    let settings = FriSettings::SETTLEMENT;
    let config = config::config(settings);
    let air = air();
    let mut group = c.benchmark_group(format!("stark_poseidon2_{threads}_threads"));
    group.sample_size(10);
    // Under `cargo test --all-targets` (one run per bench, debug constraint checks)
    // only a small trace is proven.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[14, 16, 18] } else { &[10] };
    for &log_perms in sizes {
        let perms = 1usize << log_perms;
        let trace = air.generate_vectorized_trace_rows(perms, settings.log_blowup);
        let proof = pool.install(|| p3_uni_stark::prove(&config, &air, trace.clone(), &[]));
        let proof = match proof {
            Ok(proof) => proof,
            Err(e) => panic!("prove: {e:?}"),
        };
        let bytes = postcard::to_allocvec(&proof).map(|b| b.len()).unwrap_or(0);
        println!(
            "perms=2^{log_perms} rows={} width={} proof_bytes={bytes} log_blowup={} fri_queries={} pow_bits={}",
            trace.height(),
            trace.width(),
            settings.log_blowup,
            settings.num_queries,
            settings.query_pow_bits
        );
        group.throughput(Throughput::Elements(perms as u64));
        group.bench_function(format!("prove_2^{log_perms}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    let trace = air.generate_vectorized_trace_rows(perms, settings.log_blowup);
                    p3_uni_stark::prove(&config, &air, black_box(trace), &[])
                })
            })
        });
        group.bench_function(format!("verify_2^{log_perms}"), |b| {
            b.iter(|| p3_uni_stark::verify(&config, &air, black_box(&proof), &[]))
        });
    }
    group.finish();
}

criterion_group!(benches, prove_poseidon2);
criterion_main!(benches);

//! The leaf-update AIR proves real root transitions and refuses forged ones: each
//! forgery must fail to prove (the debug constraint check, or a proof that does not
//! verify) or fail to verify.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use ghostplane_stark::config::{self, FriSettings, Val};
use ghostplane_stark::hash::{DIGEST, Digest, LEAF_FIELDS, LeafFields};
use ghostplane_stark::tree::{LeafUpdate, Tree};
use ghostplane_stark::update_air::{UpdateAir, generate_trace};
use p3_field::PrimeCharacteristicRing;
use p3_matrix::dense::RowMajorMatrix;

/// Few queries: these tests check soundness of the constraints, not FRI's.
const TEST_FRI: FriSettings = FriSettings {
    log_blowup: 1,
    num_queries: 8,
    query_pow_bits: 1,
};

fn fields(seed: u32) -> LeafFields {
    core::array::from_fn(|i| Val::from_u32(seed.wrapping_mul(7919) + i as u32))
}

fn public(old: Digest, new: Digest) -> Vec<Val> {
    old.iter().chain(new.iter()).copied().collect()
}

/// Four updates (two on the same leaf) on a tree with a few accounts.
fn scenario() -> (Digest, Vec<LeafUpdate>, Digest) {
    let mut tree = Tree::new();
    for i in 0..10u32 {
        tree.update(i * 3, fields(i)).unwrap();
    }
    let old_root = tree.root();
    let updates = vec![
        tree.update(3, fields(100)).unwrap(),
        tree.update(4, fields(101)).unwrap(),
        tree.update(3, fields(102)).unwrap(),
        tree.update(1 << 27, fields(103)).unwrap(),
    ];
    (old_root, updates, tree.root())
}

/// True when a proof is produced and verifies against `public_values`.
fn proves(trace: RowMajorMatrix<Val>, public_values: &[Val]) -> bool {
    let config = config::config(TEST_FRI);
    let air = UpdateAir::new();
    let proof = catch_unwind(AssertUnwindSafe(|| {
        p3_uni_stark::prove(&config, &air, trace, public_values)
    }));
    match proof {
        Ok(Ok(proof)) => p3_uni_stark::verify(&config, &air, &proof, public_values).is_ok(),
        _ => false,
    }
}

#[test]
fn valid_updates_prove_and_verify() {
    let (old_root, updates, new_root) = scenario();
    let trace = generate_trace(old_root, &updates, TEST_FRI.log_blowup).unwrap();
    assert!(proves(trace, &public(old_root, new_root)));
}

#[test]
fn a_proof_does_not_verify_for_other_roots() {
    let (old_root, updates, new_root) = scenario();
    let config = config::config(TEST_FRI);
    let air = UpdateAir::new();
    let trace = generate_trace(old_root, &updates, TEST_FRI.log_blowup).unwrap();
    let proof = p3_uni_stark::prove(&config, &air, trace, &public(old_root, new_root)).unwrap();
    let mut tampered = new_root;
    tampered[0] += Val::ONE;
    assert!(p3_uni_stark::verify(&config, &air, &proof, &public(old_root, tampered)).is_err());
    assert!(p3_uni_stark::verify(&config, &air, &proof, &public(new_root, new_root)).is_err());
    assert!(p3_uni_stark::verify(&config, &air, &proof, &public(old_root, new_root)).is_ok());
}

#[test]
fn a_wrong_old_leaf_does_not_prove() {
    let (old_root, mut updates, new_root) = scenario();
    updates[1].old[5] += Val::ONE;
    let trace = generate_trace(old_root, &updates, TEST_FRI.log_blowup).unwrap();
    assert!(!proves(trace, &public(old_root, new_root)));
}

#[test]
fn a_wrong_sibling_does_not_prove() {
    let (old_root, mut updates, new_root) = scenario();
    updates[2].siblings[7][0] += Val::ONE;
    let trace = generate_trace(old_root, &updates, TEST_FRI.log_blowup).unwrap();
    assert!(!proves(trace, &public(old_root, new_root)));
}

#[test]
fn skipping_an_update_does_not_prove() {
    let (old_root, updates, new_root) = scenario();
    // Update 1 replaced by a no-op: the chain no longer reaches the new root.
    let mut forged = updates.clone();
    forged[1].new = forged[1].old;
    let trace = generate_trace(old_root, &forged, TEST_FRI.log_blowup).unwrap();
    assert!(!proves(trace, &public(old_root, new_root)));
}

#[test]
fn tampered_trace_cells_do_not_prove() {
    let (old_root, updates, new_root) = scenario();
    let clean = generate_trace(old_root, &updates, TEST_FRI.log_blowup).unwrap();
    let width = clean.width;
    // A path bit flipped, a running-root cell, a cell of a permutation.
    let bit_col = width - 1 - DIGEST - 1;
    let root_col = width - 1 - DIGEST;
    for (row, col) in [(40usize, bit_col), (70, root_col), (9, 20)] {
        let mut trace = clean.clone();
        trace.values[row * width + col] += Val::ONE;
        assert!(
            !proves(trace, &public(old_root, new_root)),
            "row {row} col {col}"
        );
    }
}

#[test]
fn empty_leaf_content_is_all_zero() {
    let tree = Tree::new();
    assert_eq!(tree.leaf(12345), [Val::ZERO; LEAF_FIELDS]);
}

#[test]
fn bad_segments_get_typed_errors() {
    use ghostplane_stark::update_air::TraceError;
    let (old_root, mut updates, _) = scenario();
    assert_eq!(
        generate_trace(old_root, &updates[..3], 1).err(),
        Some(TraceError::UpdateCount(3))
    );
    assert_eq!(
        generate_trace(old_root, &[], 1).err(),
        Some(TraceError::UpdateCount(0))
    );
    updates[0].index = 1 << 28;
    assert_eq!(
        generate_trace(old_root, &updates, 1).err(),
        Some(TraceError::IndexOutOfRange(1 << 28))
    );
}

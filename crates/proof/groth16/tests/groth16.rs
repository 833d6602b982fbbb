//! Real Groth16 proofs of a small chunk: setup, key files, prove, verify, refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::batch as common;

use common::*;
use ghostplane_groth16::keys::{ChunkVerifier, PROOF_BYTES};
use ghostplane_groth16::{ChunkKeys, ChunkProof, Groth16Error};
use ghostplane_primitives::Fr;

#[test]
fn prove_verify_and_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let keys = ChunkKeys::load_or_setup(&keys_dir, 1, false).unwrap();

    // Key files reload to the same circuit, and refuse a different shape.
    let (pk, vk) = keys.store(&keys_dir).unwrap();
    let reloaded = ChunkKeys::load(&pk, &vk, 1).unwrap();
    assert_eq!(reloaded.shape(), keys.shape());
    assert!(matches!(
        ChunkKeys::load(&pk, &vk, 2),
        Err(Groth16Error::KeyMismatch { .. })
    ));
    // The seeded devnet setup is deterministic: the same verifying key again.
    assert_eq!(
        ChunkKeys::devnet_setup(1).unwrap().verifier().vk_bytes(),
        keys.verifier().vk_bytes()
    );

    let tree_dir = tempfile::tempdir().unwrap();
    let (_db, mut tree) = open_tree(tree_dir.path());
    genesis(&mut tree);
    let chunks = build(&mut tree, 1, &mixed_ops());
    let chunk = &chunks[1]; // the transfer that creates account 3

    let proof = reloaded.prove(chunk).unwrap();
    assert_eq!(proof.0.len(), PROOF_BYTES);
    keys.verifier().verify(chunk, &proof).unwrap();

    // The exported verifying key verifies the same proof.
    let exported =
        ChunkVerifier::from_bytes(keys.shape().circuit_hash(), &keys.verifier().vk_bytes())
            .unwrap();
    exported.verify(chunk, &proof).unwrap();

    // Wrong public inputs, another chunk's statement, corrupted bytes: refused.
    let mut inputs = chunk.public_inputs();
    inputs[1] += Fr::from(1u64);
    assert!(matches!(
        exported.verify_inputs(&inputs, &proof),
        Err(Groth16Error::BadProof)
    ));
    assert!(exported.verify(&chunks[0], &proof).is_err());
    let mut bytes = proof.0;
    bytes[5] ^= 1;
    assert!(exported.verify(chunk, &ChunkProof(bytes)).is_err());
    assert!(ChunkProof::from_hex("zz").is_none());

    // A job cut for another chunk size is refused before proving.
    let other = build_on_fresh_tree(2);
    assert!(matches!(
        keys.prove(&other[0]),
        Err(Groth16Error::WrongChunkSize {
            found: 2,
            expected: 1
        })
    ));
}

fn build_on_fresh_tree(chunk_ops: usize) -> Vec<ghostplane_groth16::ChunkWitness> {
    let dir = tempfile::tempdir().unwrap();
    let (_db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    build(&mut tree, chunk_ops, &mixed_ops())
}

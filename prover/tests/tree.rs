//! The versioned account tree: old versions stay provable, commits survive reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::sync::Arc;

use ghostplane_primitives::{FieldBytes, MerkleProof};
use ghostplane_prover::AccountTree;
use ghostplane_prover::groth16::PoseidonTree;
use rocksdb::WriteBatch;

/// The 4-ary path the tree returns, as a primitives Merkle proof.
fn merkle(index: ghostplane_primitives::AccountId, path: &[[u8; 32]]) -> MerkleProof {
    let mut siblings = [[FieldBytes::ZERO; 3]; 12];
    for (level, nodes) in siblings.iter_mut().zip(path.chunks_exact(3)) {
        for (slot, node) in level.iter_mut().zip(nodes) {
            *slot = FieldBytes::from_bytes(*node).unwrap();
        }
    }
    MerkleProof { index, siblings }
}

#[test]
fn every_committed_version_stays_provable_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let (db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    let root0 = tree.root().unwrap();
    let ops = mixed_ops();
    build(&mut tree, 4, &ops[..2]);
    tree.commit(1, WriteBatch::default()).unwrap();
    let root1 = tree.root().unwrap();
    build(&mut tree, 4, &ops[3..]);
    tree.commit(2, WriteBatch::default()).unwrap();
    let root2 = tree.root().unwrap();
    assert!(root0 != root1 && root1 != root2);

    for (version, root) in [(0, root0), (1, root1), (2, root2)] {
        assert_eq!(tree.root_at(version).unwrap(), root);
        for i in 0..5 {
            let (leaf, path) = tree.proof_at(id(i), version).unwrap();
            assert!(
                merkle(id(i), &path).verify(root.to_fr(), leaf.as_ref()),
                "account {i} at v{version}"
            );
        }
    }
    // Account 3 did not exist at genesis: its empty leaf is proven there.
    let (leaf, path) = tree.proof_at(id(3), 0).unwrap();
    assert!(leaf.is_none() && merkle(id(3), &path).verify(root0.to_fr(), None));
    // Versions cannot go backwards.
    assert!(tree.commit(2, WriteBatch::default()).is_err());

    // Pending (uncommitted) updates are not persisted.
    build(&mut tree, 4, &ops[..1]);
    assert!(tree.is_dirty());
    drop(tree);
    // A store written with one tree hash refuses the other.
    let stark =
        ghostplane_prover::StarkBackend::new(ghostplane_stark::config::FriSettings::SETTLEMENT, 4)
            .unwrap();
    assert!(matches!(
        AccountTree::open(
            Arc::clone(&db),
            ghostplane_prover::ProofBackend::tree_hash(&stark)
        ),
        Err(ghostplane_prover::ProverError::TreeHashMismatch { .. })
    ));
    let reopened = AccountTree::open(db, Arc::new(PoseidonTree)).unwrap();
    assert_eq!(reopened.version(), 2);
    assert_eq!(reopened.root().unwrap(), root2);
}

//! The versioned account tree: old versions stay provable, commits survive reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::batch as common;

use common::*;
use std::sync::Arc;

use ghostplane_groth16::PoseidonTree;
use ghostplane_primitives::{AccountLeaf, FieldBytes, MerkleProof};
use ghostplane_prover::AccountTree;
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

/// A staged sequence of writes and reads, hashed in one flush, gives every entry the
/// path it had at its moment and ends at the same root as updating one leaf at a
/// time, for both tree hashes (4-ary BN254 Poseidon, binary KoalaBear Poseidon2).
#[test]
fn a_flushed_sequence_equals_one_update_at_a_time() {
    let stark =
        ghostplane_prover::StarkBackend::new(ghostplane_stark::config::FriSettings::SETTLEMENT, 4)
            .unwrap();
    let hashes: [Arc<dyn ghostplane_prover::TreeHash>; 2] = [
        Arc::new(PoseidonTree),
        ghostplane_prover::ProofBackend::tree_hash(&stark),
    ];
    for hash in hashes {
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let open = |dir: &tempfile::TempDir| {
            let db = ghostplane_prover::open_db(dir.path()).unwrap();
            let mut tree = AccountTree::open(db, Arc::clone(&hash)).unwrap();
            tree.update_many(&genesis_leaves()).unwrap();
            tree.commit(0, WriteBatch::default()).unwrap();
            tree
        };
        let (mut one, mut staged) = (open(&dir_a), open(&dir_b));
        // Writes to neighbours, repeats, far leaves and new accounts; reads in between
        // (a read of a leaf written earlier in the sequence must see that write).
        let mut seed = 0x9e37_79b9_u32;
        let mut expected = Vec::new();
        for step in 0..200u32 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let account = match step % 4 {
                0 => id(seed % 6),
                1 => id(seed % 70),
                2 => id(seed % (1 << 20)),
                _ => id(step % 3),
            };
            if seed.is_multiple_of(5) {
                expected.push(one.path(account).unwrap());
                staged.stage_read(account);
            } else {
                let mut leaf = AccountLeaf::new(key(seed % 9));
                leaf.nonce = u64::from(step);
                leaf.balances[(seed % 4) as usize] = u128::from(seed);
                let (old, path) = one.update(account, leaf).unwrap();
                expected.push(path);
                assert_eq!(staged.stage(account, leaf).unwrap(), old);
                assert_eq!(staged.leaf(account).unwrap(), Some(leaf));
            }
            // Reading a root with writes staged is a caller's bug, refused.
            if step == 7 {
                assert!(matches!(
                    staged.root(),
                    Err(ghostplane_prover::ProverError::Unflushed(_))
                ));
            }
            // Flush mid-way too: later flushes build on earlier ones.
            if step == 99 {
                let paths = staged.flush().unwrap();
                assert_eq!(paths, expected, "{} first half", hash.name());
                expected.clear();
                assert_eq!(staged.root().unwrap(), one.root().unwrap());
            }
        }
        assert_eq!(staged.flush().unwrap(), expected, "{}", hash.name());
        assert_eq!(
            staged.root().unwrap(),
            one.root().unwrap(),
            "{}",
            hash.name()
        );
        one.commit(1, WriteBatch::default()).unwrap();
        staged.commit(1, WriteBatch::default()).unwrap();
        assert_eq!(staged.root_at(1).unwrap(), one.root_at(1).unwrap());
    }
}

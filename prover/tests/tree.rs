//! The versioned account tree: old versions stay provable, commits survive reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ghostplane_prover::AccountTree;
use rocksdb::WriteBatch;

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
            let (leaf, proof) = tree.proof_at(id(i), version).unwrap();
            assert!(
                proof.verify(root, leaf.as_ref()),
                "account {i} at v{version}"
            );
        }
    }
    // Account 3 did not exist at genesis: its empty leaf is proven there.
    let (leaf, proof) = tree.proof_at(id(3), 0).unwrap();
    assert!(leaf.is_none() && proof.verify(root0, None));
    // Versions cannot go backwards.
    assert!(tree.commit(2, WriteBatch::default()).is_err());

    // Pending (uncommitted) updates are not persisted.
    build(&mut tree, 4, &ops[..1]);
    assert!(tree.is_dirty());
    drop(tree);
    let reopened = AccountTree::open(db).unwrap();
    assert_eq!(reopened.version(), 2);
    assert_eq!(reopened.root().unwrap(), root2);
}

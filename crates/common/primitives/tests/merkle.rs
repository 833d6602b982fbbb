//! Merkle proofs of the account tree verify for members and fail for tampering.
//!
//! The tree here is a small reference implementation (a map of leaves, hashed
//! recursively); the prover crate owns the real, persistent tree.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::collections::BTreeMap;

use ghostplane_primitives::merkle::{empty_subtree_roots, node_hash, state_root};
use ghostplane_primitives::*;
use proptest::collection::btree_map;
use proptest::prelude::*;

struct ReferenceTree {
    leaves: BTreeMap<u32, AccountLeaf>,
}

impl ReferenceTree {
    /// Root of the subtree of `height` whose leftmost leaf is `prefix << (2 * height)`.
    fn subtree(&self, height: usize, prefix: u32) -> Fr {
        let width = 1u64 << (2 * height);
        let start = u64::from(prefix) * width;
        let occupied = self
            .leaves
            .range(start as u32..)
            .next()
            .is_some_and(|(i, _)| u64::from(*i) < start + width);
        if !occupied {
            return empty_subtree_roots()[height];
        }
        if height == 0 {
            return self.leaves[&prefix].hash();
        }
        let children: [Fr; 4] =
            std::array::from_fn(|c| self.subtree(height - 1, prefix * 4 + c as u32));
        node_hash(&children)
    }

    fn root(&self) -> Fr {
        self.subtree(ACCOUNT_TREE_DEPTH, 0)
    }

    fn proof(&self, index: AccountId) -> MerkleProof {
        let siblings = std::array::from_fn(|height| {
            let own = index.get() >> (2 * height);
            let parent = own / 4;
            let mut others = (0..4u32)
                .filter(|c| parent * 4 + c != own)
                .map(|c| FieldBytes::from(self.subtree(height, parent * 4 + c)));
            std::array::from_fn(|_| others.next().unwrap())
        });
        MerkleProof { index, siblings }
    }
}

fn leaf(seed: u8, nonce: u64, balance: u128) -> AccountLeaf {
    AccountLeaf {
        public_key: PublicKey([seed; 32]),
        nonce,
        balances: [balance, balance / 2, 3, u128::MAX],
    }
}

fn leaves() -> impl Strategy<Value = BTreeMap<u32, AccountLeaf>> {
    btree_map(
        prop_oneof![0u32..64, 0u32..(1 << 24)],
        (any::<u8>(), any::<u64>(), any::<u128>()).prop_map(|(s, n, b)| leaf(s, n, b)),
        1..6,
    )
}

#[test]
fn empty_tree_root_is_the_empty_subtree_root() {
    let tree = ReferenceTree {
        leaves: BTreeMap::new(),
    };
    assert_eq!(tree.root(), empty_subtree_roots()[ACCOUNT_TREE_DEPTH]);
    let id = AccountId::new(12345).unwrap();
    let proof = tree.proof(id);
    assert!(proof.verify(tree.root(), None));
    assert!(!proof.verify(tree.root(), Some(&leaf(1, 0, 0))));
}

#[test]
fn state_root_binds_both_roots() {
    let a = Fr::from(1u64);
    let b = Fr::from(2u64);
    assert_eq!(state_root(a, b), poseidon(&[a, b]).unwrap());
    assert_ne!(state_root(a, b), state_root(b, a));
}

#[test]
fn leaf_hash_commits_to_every_field() {
    let base = leaf(4, 10, 1000);
    let mut variants = vec![];
    let mut v = base;
    v.public_key.0[0] ^= 1;
    variants.push(v);
    let mut v = base;
    v.public_key.0[31] ^= 1;
    variants.push(v);
    let mut v = base;
    v.nonce += 1;
    variants.push(v);
    for token in 0..4 {
        let mut v = base;
        v.balances[token] ^= 1;
        variants.push(v);
    }
    for variant in variants {
        assert_ne!(variant.hash(), base.hash(), "{variant:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every member's proof verifies, and the empty slots' proofs verify as empty.
    #[test]
    fn members_verify(leaves in leaves(), probe in 0u32..(1 << 24)) {
        let tree = ReferenceTree { leaves };
        let root = tree.root();
        for (index, leaf) in &tree.leaves {
            let proof = tree.proof(AccountId::new(*index).unwrap());
            prop_assert!(proof.verify(root, Some(leaf)));
        }
        if !tree.leaves.contains_key(&probe) {
            prop_assert!(tree.proof(AccountId::new(probe).unwrap()).verify(root, None));
        }
    }

    /// A tampered leaf, sibling, index or root makes the proof fail.
    #[test]
    fn tampering_fails(
        leaves in leaves(),
        pick in any::<prop::sample::Index>(),
        level in 0usize..ACCOUNT_TREE_DEPTH,
        slot in 0usize..3,
    ) {
        let tree = ReferenceTree { leaves };
        let root = tree.root();
        let (index, member) = tree.leaves.iter().nth(pick.index(tree.leaves.len())).unwrap();
        let id = AccountId::new(*index).unwrap();
        let proof = tree.proof(id);
        prop_assert!(proof.verify(root, Some(member)));

        let mut other = *member;
        other.balances[0] = other.balances[0].wrapping_add(1);
        prop_assert!(!proof.verify(root, Some(&other)), "tampered leaf");
        prop_assert!(!proof.verify(root, None), "member claimed empty");

        let mut bad_path = proof.clone();
        let sibling = bad_path.siblings[level][slot].to_fr();
        bad_path.siblings[level][slot] = FieldBytes::from(sibling + Fr::from(1u64));
        prop_assert!(!bad_path.verify(root, Some(member)), "tampered sibling");

        let mut bad_index = proof.clone();
        bad_index.index = AccountId::new(index ^ (1 << (2 * level))).unwrap();
        prop_assert!(!bad_index.verify(root, Some(member)), "moved index");

        prop_assert!(!proof.verify(root + Fr::from(1u64), Some(member)), "tampered root");
    }
}

//! A sparse binary account tree of depth [`DEPTH`] over the Poseidon2 hash, in memory.
//!
//! Leaf `i` is account id `i`; an absent leaf has all-zero content. Only non-empty
//! nodes are stored; an empty subtree of height `h` has the digest `empty[h]`.
//! [`Tree::update`] returns the witness the update AIR proves.

use std::collections::HashMap;

use p3_field::PrimeCharacteristicRing;

use crate::config::Val;
use crate::hash::{
    Digest, LEAF_FIELDS, LeafFields, compress, hash_leaf, parent_input, permute, truncate,
};

/// Tree depth: 2^24 accounts (16.7M), the same dense ids as the Groth16 tree
/// (4^12 leaves). A leaf update is 6 sponge rows plus 24 level rows, so two updates
/// and the op's commitment rows fill 64 rows (see `segment_air`).
pub const DEPTH: usize = 24;

/// The highest account index plus one.
pub const CAPACITY: u64 = 1 << DEPTH;

/// One leaf update: what the AIR needs to move the root from `old` to `new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafUpdate {
    /// The account index.
    pub index: u32,
    /// The leaf before.
    pub old: LeafFields,
    /// The leaf after.
    pub new: LeafFields,
    /// Siblings from the leaf level (0) up.
    pub siblings: [Digest; DEPTH],
}

/// Errors of the native tree.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
    /// The index does not fit the tree.
    #[error("account index {0} is outside the tree (capacity 2^{DEPTH})")]
    IndexOutOfRange(u32),
}

/// The tree.
#[derive(Clone, Debug)]
pub struct Tree {
    /// `empty[h]`: digest of an empty subtree of height `h` (`empty[0]` is a leaf).
    empty: [Digest; DEPTH + 1],
    /// Non-empty nodes by (height, index at that height).
    nodes: HashMap<(u8, u32), Digest>,
    leaves: HashMap<u32, LeafFields>,
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        let mut empty = [[Val::ZERO; 8]; DEPTH + 1];
        empty[0] = hash_leaf(&[Val::ZERO; LEAF_FIELDS]);
        for h in 1..=DEPTH {
            empty[h] = compress(&empty[h - 1], &empty[h - 1]);
        }
        Self {
            empty,
            nodes: HashMap::new(),
            leaves: HashMap::new(),
        }
    }

    fn node(&self, height: usize, index: u32) -> Digest {
        self.nodes
            .get(&(height as u8, index))
            .copied()
            .unwrap_or(self.empty[height])
    }

    /// The root digest.
    pub fn root(&self) -> Digest {
        self.node(DEPTH, 0)
    }

    /// A leaf's content (all zeros if absent).
    pub fn leaf(&self, index: u32) -> LeafFields {
        self.leaves
            .get(&index)
            .copied()
            .unwrap_or([Val::ZERO; LEAF_FIELDS])
    }

    /// The siblings of leaf `index`, from the leaf level up.
    pub fn siblings(&self, index: u32) -> Result<[Digest; DEPTH], TreeError> {
        if u64::from(index) >= CAPACITY {
            return Err(TreeError::IndexOutOfRange(index));
        }
        Ok(core::array::from_fn(|h| self.node(h, (index >> h) ^ 1)))
    }

    /// Sets leaf `index` to `new` and returns the update's witness.
    pub fn update(&mut self, index: u32, new: LeafFields) -> Result<LeafUpdate, TreeError> {
        let siblings = self.siblings(index)?;
        let old = self.leaf(index);
        let mut digest = hash_leaf(&new);
        self.nodes.insert((0, index), digest);
        for (h, sibling) in siblings.iter().enumerate() {
            digest = parent(&digest, sibling, index, h);
            self.nodes.insert((h as u8 + 1, index >> (h + 1)), digest);
        }
        self.leaves.insert(index, new);
        Ok(LeafUpdate {
            index,
            old,
            new,
            siblings,
        })
    }
}

/// The root reached from `leaf` at `index` with `siblings`.
pub fn root_from_path(index: u32, leaf: &LeafFields, siblings: &[Digest; DEPTH]) -> Digest {
    let mut digest = hash_leaf(leaf);
    for (h, sibling) in siblings.iter().enumerate() {
        digest = parent(&digest, sibling, index, h);
    }
    digest
}

/// The digest at height `h + 1` above `cur` (at height `h` on the path of `index`).
fn parent(cur: &Digest, sibling: &Digest, index: u32, h: usize) -> Digest {
    truncate(&permute(parent_input(cur, sibling, (index >> h) & 1 == 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(seed: u32) -> LeafFields {
        core::array::from_fn(|i| Val::from_u32(seed * 1000 + i as u32))
    }

    #[test]
    fn updates_move_the_root_along_the_witness_paths() {
        let mut tree = Tree::new();
        let empty_root = tree.root();
        let mut root = empty_root;
        for (index, seed) in [(0u32, 1u32), (1, 2), (5, 3), (1 << 23, 4), (1, 5)] {
            let update = tree.update(index, fields(seed)).unwrap();
            assert_eq!(root_from_path(index, &update.old, &update.siblings), root);
            root = tree.root();
            assert_eq!(root_from_path(index, &update.new, &update.siblings), root);
        }
        assert_ne!(root, empty_root);
        assert_eq!(
            tree.update(1 << 24, fields(9)),
            Err(TreeError::IndexOutOfRange(1 << 24))
        );
    }
}

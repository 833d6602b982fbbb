//! Sparse binary trees over the Poseidon2 hash, in memory.
//!
//! - [`SparseTree`]: the shape both state trees share (node compression, empty
//!   subtrees, paths), generic over its depth.
//! - [`Tree`]: the account tree, depth [`DEPTH`]. Leaf `i` is account id `i`; an
//!   absent leaf has all-zero content. Only non-empty nodes are stored; an empty
//!   subtree of height `h` has the digest `empty[h]`. [`Tree::update`] returns the
//!   witness the update AIR proves.
//! - A contract's storage tree, depth 64, is [`crate::storage::StorageTree`].

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

/// A sparse binary tree of depth `D` over leaf digests: the node hashing, empty
/// subtrees and paths that the account tree and every contract's storage tree
/// share. Leaf `i`'s path: at height `h`, bit `h` of `i` set means the node is the
/// right child. Only non-empty nodes are stored.
#[derive(Clone, Debug)]
pub struct SparseTree<const D: usize> {
    /// `empty[h]`: digest of an empty subtree of height `h` (`empty[0]` is a leaf).
    empty: Vec<Digest>,
    /// Non-empty nodes by (height, index at that height).
    nodes: HashMap<(u8, u128), Digest>,
}

impl<const D: usize> SparseTree<D> {
    /// An empty tree whose absent leaves hash to `empty_leaf`.
    pub fn new(empty_leaf: Digest) -> Self {
        let mut empty = Vec::with_capacity(D + 1);
        empty.push(empty_leaf);
        for h in 1..=D {
            empty.push(compress(&empty[h - 1], &empty[h - 1]));
        }
        Self {
            empty,
            nodes: HashMap::new(),
        }
    }

    /// The digest of an empty subtree of height `h` (at most `D`).
    pub fn empty(&self, h: usize) -> Digest {
        self.empty[h]
    }

    /// The node at `height` and `index` (counted at that height).
    pub fn node(&self, height: usize, index: u128) -> Digest {
        self.nodes
            .get(&(height as u8, index))
            .copied()
            .unwrap_or(self.empty[height])
    }

    /// The root digest.
    pub fn root(&self) -> Digest {
        self.node(D, 0)
    }

    /// The siblings of leaf `index`, from the leaf level up. `index` must be
    /// below `2^D`; callers check it.
    pub fn siblings(&self, index: u128) -> [Digest; D] {
        core::array::from_fn(|h| self.node(h, above(index, h) ^ 1))
    }

    /// Sets leaf `index`'s digest; returns the siblings of its path (unchanged by
    /// the update).
    pub fn set(&mut self, index: u128, leaf: Digest) -> [Digest; D] {
        let siblings = self.siblings(index);
        let mut digest = leaf;
        self.nodes.insert((0, index), digest);
        for (h, sibling) in siblings.iter().enumerate() {
            digest = parent(&digest, sibling, index, h);
            self.nodes
                .insert((h as u8 + 1, above(index, h + 1)), digest);
        }
        siblings
    }
}

/// The index at height `h` of the node above leaf `index` (0 at or above 128).
pub fn above(index: u128, h: usize) -> u128 {
    index.checked_shr(h as u32).unwrap_or(0)
}

/// The root reached by climbing from leaf digest `leaf` at `index` with `siblings`.
pub fn climb<const D: usize>(index: u128, leaf: Digest, siblings: &[Digest; D]) -> Digest {
    let mut digest = leaf;
    for (h, sibling) in siblings.iter().enumerate() {
        digest = parent(&digest, sibling, index, h);
    }
    digest
}

/// The account tree.
#[derive(Clone, Debug)]
pub struct Tree {
    tree: SparseTree<DEPTH>,
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
        Self {
            tree: SparseTree::new(hash_leaf(&[Val::ZERO; LEAF_FIELDS])),
            leaves: HashMap::new(),
        }
    }

    /// The root digest.
    pub fn root(&self) -> Digest {
        self.tree.root()
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
        Ok(self.tree.siblings(u128::from(index)))
    }

    /// Sets leaf `index` to `new` and returns the update's witness.
    pub fn update(&mut self, index: u32, new: LeafFields) -> Result<LeafUpdate, TreeError> {
        if u64::from(index) >= CAPACITY {
            return Err(TreeError::IndexOutOfRange(index));
        }
        let old = self.leaf(index);
        let siblings = self.tree.set(u128::from(index), hash_leaf(&new));
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
    climb(u128::from(index), hash_leaf(leaf), siblings)
}

/// The digest at height `h + 1` above `cur` (at height `h` on the path of `index`).
pub fn parent(cur: &Digest, sibling: &Digest, index: u128, h: usize) -> Digest {
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

//! The account tree (DESIGN §3.2): sparse, index-addressed, 4-ary, depth 12, Poseidon,
//! stored in RocksDB and versioned per batch.
//!
//! Layout: column `tree_nodes` maps `height ‖ index ‖ version` (1 + 4 + 8 bytes, big
//! endian) to a 32-byte node (height 0 holds leaf hashes); column `tree_leaves` maps
//! `index ‖ version` to the borsh-encoded [`AccountLeaf`]. A node or leaf read "at
//! version v" is the newest entry with version ≤ v; a missing node is the root of an
//! empty subtree. Nothing is ever overwritten, so roots and Merkle proofs of every
//! committed batch stay readable. (Pruning versions below the last finalized batch
//! is not built; the tree grows by ~13 nodes per touched account per batch.)
//!
//! Updates go to an in-memory overlay and reach RocksDB in one atomic write batch
//! at [`AccountTree::commit`], together with whatever the caller adds (the merkleizer
//! adds the batch's proof jobs), so tree version and jobs can never disagree.

use std::collections::HashMap;
use std::sync::Arc;

use borsh::BorshDeserialize;
use ghostplane_primitives::merkle::{empty_subtree_roots, node_hash, path_positions};
use ghostplane_primitives::{
    ACCOUNT_TREE_ARITY, ACCOUNT_TREE_DEPTH, AccountId, AccountLeaf, FieldBytes, Fr, MerkleProof,
};
use rayon::prelude::*;
use rocksdb::{DB, Direction, IteratorMode, WriteBatch};

use crate::error::ProverError;

/// Column of tree nodes.
pub const CF_NODES: &str = "tree_nodes";
/// Column of leaves.
pub const CF_LEAVES: &str = "tree_leaves";
/// Column of small metadata values.
pub const CF_META: &str = "meta";

const META_TREE_VERSION: &[u8] = b"tree_version";

/// Siblings of one path, leaf level first.
pub type Siblings = [[FieldBytes; ACCOUNT_TREE_ARITY - 1]; ACCOUNT_TREE_DEPTH];

type NodeKey = (u8, u32);

/// The versioned account tree.
pub struct AccountTree {
    db: Arc<DB>,
    version: u64,
    nodes: HashMap<NodeKey, Fr>,
    leaves: HashMap<u32, AccountLeaf>,
}

fn node_key(height: u8, index: u32, version: u64) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = height;
    k[1..5].copy_from_slice(&index.to_be_bytes());
    k[5..].copy_from_slice(&version.to_be_bytes());
    k
}

fn leaf_key(index: u32, version: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&index.to_be_bytes());
    k[4..].copy_from_slice(&version.to_be_bytes());
    k
}

fn account_index(id: AccountId) -> u32 {
    // AccountId is below 2^24 by construction.
    u32::try_from(id.index()).unwrap_or(u32::MAX)
}

impl AccountTree {
    /// Opens the tree stored in `db` (which must have the [`CF_NODES`], [`CF_LEAVES`]
    /// and [`CF_META`] columns) at its last committed version.
    pub fn open(db: Arc<DB>) -> Result<Self, ProverError> {
        let meta = cf(&db, CF_META)?;
        let version = match db.get_cf(meta, META_TREE_VERSION)? {
            Some(bytes) => u64::from_be_bytes(
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| ProverError::Corrupt("tree version"))?,
            ),
            None => 0,
        };
        Ok(Self {
            db,
            version,
            nodes: HashMap::new(),
            leaves: HashMap::new(),
        })
    }

    /// The last committed version (0 = nothing committed, or genesis).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether uncommitted updates are pending.
    pub fn is_dirty(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// Drops uncommitted updates.
    pub fn discard(&mut self) {
        self.nodes.clear();
        self.leaves.clear();
    }

    fn read_versioned(
        &self,
        column: &'static str,
        key: &[u8],
        prefix_len: usize,
    ) -> Result<Option<Vec<u8>>, ProverError> {
        let handle = cf(&self.db, column)?;
        let mut iter = self
            .db
            .iterator_cf(handle, IteratorMode::From(key, Direction::Reverse));
        match iter.next() {
            Some(item) => {
                let (k, v) = item?;
                if k.len() == key.len() && k[..prefix_len] == key[..prefix_len] {
                    Ok(Some(v.to_vec()))
                } else {
                    Ok(None)
                }
            }
            None => Ok(None),
        }
    }

    fn node_at(&self, height: u8, index: u32, version: u64) -> Result<Fr, ProverError> {
        let key = node_key(height, index, version);
        match self.read_versioned(CF_NODES, &key, 5)? {
            Some(bytes) => {
                let arr: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| ProverError::Corrupt("tree node"))?;
                Ok(FieldBytes::from_bytes(arr)
                    .map_err(|_| ProverError::Corrupt("tree node"))?
                    .to_fr())
            }
            None => Ok(empty_subtree_roots()[usize::from(height)]),
        }
    }

    /// The current node (pending updates included).
    fn node(&self, height: u8, index: u32) -> Result<Fr, ProverError> {
        match self.nodes.get(&(height, index)) {
            Some(v) => Ok(*v),
            None => self.node_at(height, index, u64::MAX),
        }
    }

    /// The current accounts root (pending updates included).
    pub fn root(&self) -> Result<Fr, ProverError> {
        self.node(ACCOUNT_TREE_DEPTH as u8, 0)
    }

    /// The accounts root as of committed `version`.
    pub fn root_at(&self, version: u64) -> Result<Fr, ProverError> {
        self.node_at(ACCOUNT_TREE_DEPTH as u8, 0, version)
    }

    fn leaf_at(&self, index: u32, version: u64) -> Result<Option<AccountLeaf>, ProverError> {
        match self.read_versioned(CF_LEAVES, &leaf_key(index, version), 4)? {
            Some(bytes) => Ok(Some(
                AccountLeaf::try_from_slice(&bytes).map_err(|_| ProverError::Corrupt("leaf"))?,
            )),
            None => Ok(None),
        }
    }

    /// The current leaf of `id` (`None` if the account does not exist).
    pub fn leaf(&self, id: AccountId) -> Result<Option<AccountLeaf>, ProverError> {
        let index = account_index(id);
        match self.leaves.get(&index) {
            Some(l) => Ok(Some(*l)),
            None => self.leaf_at(index, u64::MAX),
        }
    }

    fn siblings_with(
        &self,
        id: AccountId,
        read: impl Fn(u8, u32) -> Result<Fr, ProverError>,
    ) -> Result<Siblings, ProverError> {
        let mut out = [[FieldBytes::ZERO; ACCOUNT_TREE_ARITY - 1]; ACCOUNT_TREE_DEPTH];
        let mut index = account_index(id);
        for (height, level) in out.iter_mut().enumerate() {
            let first = index - index % 4;
            let mut slot = 0;
            for child in first..first + 4 {
                if child != index {
                    level[slot] = FieldBytes::from(read(height as u8, child)?);
                    slot += 1;
                }
            }
            index /= 4;
        }
        Ok(out)
    }

    /// The Merkle proof of `id` as of committed `version`, with its leaf.
    pub fn proof_at(
        &self,
        id: AccountId,
        version: u64,
    ) -> Result<(Option<AccountLeaf>, MerkleProof), ProverError> {
        let siblings = self.siblings_with(id, |h, i| self.node_at(h, i, version))?;
        let leaf = self.leaf_at(account_index(id), version)?;
        Ok((
            leaf,
            MerkleProof {
                index: id,
                siblings,
            },
        ))
    }

    /// Sets the leaf of `id` and returns its previous value and the path siblings
    /// (which the update leaves as they were): what a circuit leg needs.
    pub fn update(
        &mut self,
        id: AccountId,
        leaf: AccountLeaf,
    ) -> Result<(Option<AccountLeaf>, Siblings), ProverError> {
        let old = self.leaf(id)?;
        let siblings = self.siblings_with(id, |h, i| self.node(h, i))?;
        let mut index = account_index(id);
        let mut current = leaf.hash();
        self.nodes.insert((0, index), current);
        for (height, position) in path_positions(id).into_iter().enumerate() {
            let mut children = [Fr::from(0u64); ACCOUNT_TREE_ARITY];
            let mut others = siblings[height].iter();
            for (slot, child) in children.iter_mut().enumerate() {
                *child = if slot == position {
                    current
                } else {
                    others.next().map_or(Fr::from(0u64), |s| s.to_fr())
                };
            }
            current = node_hash(&children);
            index /= 4;
            self.nodes.insert((height as u8 + 1, index), current);
        }
        self.leaves.insert(account_index(id), leaf);
        Ok((old, siblings))
    }

    /// Sets many leaves at once, hashing each level's dirty nodes in parallel. Faster
    /// than [`Self::update`] per leaf, but yields no per-leaf witnesses (genesis).
    pub fn update_many(&mut self, leaves: &[(AccountId, AccountLeaf)]) -> Result<(), ProverError> {
        let hashed: Vec<(u32, Fr)> = leaves
            .par_iter()
            .map(|(id, leaf)| (account_index(*id), leaf.hash()))
            .collect();
        let mut dirty: Vec<u32> = Vec::with_capacity(hashed.len());
        for ((index, hash), (_, leaf)) in hashed.into_iter().zip(leaves) {
            self.nodes.insert((0, index), hash);
            self.leaves.insert(index, *leaf);
            dirty.push(index);
        }
        for height in 1..=ACCOUNT_TREE_DEPTH as u8 {
            let mut parents: Vec<u32> = dirty.iter().map(|i| i / 4).collect();
            parents.sort_unstable();
            parents.dedup();
            let computed: Vec<Result<(u32, Fr), ProverError>> = parents
                .par_iter()
                .map(|&parent| {
                    let mut children = [Fr::from(0u64); ACCOUNT_TREE_ARITY];
                    for (slot, child) in children.iter_mut().enumerate() {
                        *child = self.node(height - 1, parent * 4 + slot as u32)?;
                    }
                    Ok((parent, node_hash(&children)))
                })
                .collect();
            for item in computed {
                let (parent, hash) = item?;
                self.nodes.insert((height, parent), hash);
            }
            dirty = parents;
        }
        Ok(())
    }

    /// Writes the pending updates as `version` (which must be above the current one),
    /// plus `extra`, in one atomic synced write.
    pub fn commit(&mut self, version: u64, mut extra: WriteBatch) -> Result<(), ProverError> {
        if version <= self.version && self.version != 0 {
            return Err(ProverError::VersionOrder {
                current: self.version,
                requested: version,
            });
        }
        let nodes = cf(&self.db, CF_NODES)?;
        let leaves = cf(&self.db, CF_LEAVES)?;
        let meta = cf(&self.db, CF_META)?;
        for ((height, index), value) in &self.nodes {
            extra.put_cf(
                nodes,
                node_key(*height, *index, version),
                FieldBytes::from(*value).as_bytes(),
            );
        }
        for (index, leaf) in &self.leaves {
            let bytes = borsh::to_vec(leaf).map_err(|_| ProverError::Corrupt("leaf encode"))?;
            extra.put_cf(leaves, leaf_key(*index, version), bytes);
        }
        extra.put_cf(meta, META_TREE_VERSION, version.to_be_bytes());
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(extra, &options)?;
        self.version = version;
        self.discard();
        Ok(())
    }
}

impl AccountTree {
    /// Rewinds the tree to `version`: every node and leaf written by a later
    /// version is deleted, in one synced write with `extra`. For a batch plan the L1
    /// refused, which settlement then plans again; the L1 never saw the later
    /// versions, so no proof or root it holds refers to them. Scans both columns:
    /// a recovery step, not a hot path.
    pub fn rewind(&mut self, version: u64, mut extra: WriteBatch) -> Result<(), ProverError> {
        if version > self.version {
            return Err(ProverError::VersionOrder {
                current: self.version,
                requested: version,
            });
        }
        self.discard();
        for name in [CF_NODES, CF_LEAVES] {
            let column = cf(&self.db, name)?;
            for item in self.db.iterator_cf(column, IteratorMode::Start) {
                let (key, _) = item?;
                let written_at = key
                    .len()
                    .checked_sub(8)
                    .and_then(|at| <[u8; 8]>::try_from(&key[at..]).ok())
                    .map(u64::from_be_bytes)
                    .ok_or(ProverError::Corrupt("tree key"))?;
                if written_at > version {
                    extra.delete_cf(column, key);
                }
            }
        }
        let meta = cf(&self.db, CF_META)?;
        extra.put_cf(meta, META_TREE_VERSION, version.to_be_bytes());
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(extra, &options)?;
        self.version = version;
        Ok(())
    }
}

/// Looks up a column family handle.
pub(crate) fn cf<'a>(
    db: &'a DB,
    name: &'static str,
) -> Result<&'a rocksdb::ColumnFamily, ProverError> {
    db.cf_handle(name).ok_or(ProverError::MissingColumn(name))
}

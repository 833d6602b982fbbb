//! The account tree (DESIGN §3.2): sparse, index-addressed, stored in RocksDB and
//! versioned per batch. Its shape and hash are the proof backend's
//! ([`crate::backend::TreeHash`]): 4-ary depth 12 over BN254 Poseidon for Groth16,
//! binary depth 24 over KoalaBear Poseidon2 for the STARK.
//!
//! Layout: column `tree_nodes` maps `height ‖ index ‖ version` (1 + 4 + 8 bytes, big
//! endian) to a 32-byte node (height 0 holds leaf hashes); column `tree_leaves` maps
//! `index ‖ version` to the borsh-encoded [`AccountLeaf`]. A node or leaf read "at
//! version v" is the newest entry with version ≤ v; a missing node is the root of an
//! empty subtree. Nothing is ever overwritten, so roots of every committed batch stay
//! readable. (Pruning versions below the last finalized batch is not built; the tree
//! grows by ~depth nodes per touched account per batch.)
//!
//! Leaf writes are staged ([`AccountTree::stage`], [`AccountTree::stage_read`]) and
//! hashed together at [`AccountTree::flush`], level by level: all the hashes of one
//! level are independent, so the backend's [`TreeHash::nodes`] packs and
//! parallelizes them, while each staged entry still gets the siblings its path had
//! at its moment in the sequence (what a proof leg needs).
//!
//! Updates go to an in-memory overlay and reach RocksDB in one atomic write batch
//! at [`AccountTree::commit`], together with whatever the caller adds (the merkleizer
//! adds the batch's proof jobs), so tree version and jobs can never disagree. The
//! newest committed nodes and leaves are cached in memory (at most
//! [`CACHE_ENTRIES_MAX`] entries; the cache is dropped when full or on a rewind),
//! so the merkleizer reads RocksDB only for nodes it has not seen.
//!
//! The tree owns the contracts' storage trees ([`AccountTree::storage`]), so one
//! commit writes both, one discard drops both and one rewind rewinds both.

use std::sync::Arc;

use borsh::BorshDeserialize;
use ghostplane_primitives::{AccountId, AccountLeaf, FieldBytes};
use rayon::prelude::*;
use rocksdb::{DB, Direction, IteratorMode, WriteBatch};

use crate::backend::{Node, TreeHash};
use crate::error::ProverError;
use crate::storage_trees::StorageTrees;

/// Column of tree nodes.
pub const CF_NODES: &str = "tree_nodes";
/// Column of leaves.
pub const CF_LEAVES: &str = "tree_leaves";
/// Column of small metadata values.
pub const CF_META: &str = "meta";

/// Most cached committed nodes plus leaves (~100 bytes each).
pub const CACHE_ENTRIES_MAX: usize = 1 << 21;

const META_TREE_VERSION: &[u8] = b"tree_version";
const META_TREE_HASH: &[u8] = b"tree_hash";

type NodeKey = (u8, u32);
type HashMap<K, V> = ahash::AHashMap<K, V>;

/// A leaf write (or, with no leaf, a path read) waiting for [`AccountTree::flush`].
struct Staged {
    index: u32,
    leaf: Option<AccountLeaf>,
}

/// The versioned account tree.
pub struct AccountTree {
    db: Arc<DB>,
    hash: Arc<dyn TreeHash>,
    version: u64,
    nodes: HashMap<NodeKey, Node>,
    leaves: HashMap<u32, AccountLeaf>,
    cached_nodes: HashMap<NodeKey, Node>,
    cached_leaves: HashMap<u32, Option<AccountLeaf>>,
    staged: Vec<Staged>,
    /// The contracts' storage trees, versioned and committed with this tree.
    storage: StorageTrees,
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
    /// and [`CF_META`] columns) at its last committed version. A store written with
    /// another tree hash (the other proof system) is refused.
    pub fn open(db: Arc<DB>, hash: Arc<dyn TreeHash>) -> Result<Self, ProverError> {
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
        let name = hash.name();
        match db.get_cf(meta, META_TREE_HASH)? {
            Some(stored) if stored != name.as_bytes() => {
                return Err(ProverError::TreeHashMismatch {
                    stored: String::from_utf8_lossy(&stored).into_owned(),
                    requested: name.to_string(),
                });
            }
            Some(_) => {}
            None => db.put_cf(meta, META_TREE_HASH, name.as_bytes())?,
        }
        Ok(Self {
            storage: StorageTrees::open(Arc::clone(&db))?,
            db,
            hash,
            version,
            nodes: HashMap::new(),
            leaves: HashMap::new(),
            cached_nodes: HashMap::new(),
            cached_leaves: HashMap::new(),
            staged: Vec::new(),
        })
    }

    /// The contracts' storage trees, to read (committed versions: see
    /// [`StorageTrees::step_at`]).
    pub fn storage_trees(&self) -> &StorageTrees {
        &self.storage
    }

    /// The tree's hash and shape.
    pub fn hash(&self) -> &Arc<dyn TreeHash> {
        &self.hash
    }

    /// The last committed version (0 = nothing committed, or genesis).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether uncommitted updates are pending.
    pub fn is_dirty(&self) -> bool {
        !self.nodes.is_empty() || !self.staged.is_empty() || self.storage.is_dirty()
    }

    /// The contracts' storage trees kept with this tree: their pending updates are
    /// committed, discarded and rewound with its own.
    pub fn storage(&mut self) -> &mut StorageTrees {
        &mut self.storage
    }

    /// Drops uncommitted updates (staged ones included).
    pub fn discard(&mut self) {
        self.storage.discard();
        self.nodes.clear();
        self.leaves.clear();
        self.staged.clear();
    }

    fn flushed(&self) -> Result<(), ProverError> {
        if self.staged.is_empty() {
            Ok(())
        } else {
            Err(ProverError::Unflushed(self.staged.len()))
        }
    }

    fn read_versioned(
        &self,
        column: &'static str,
        key: &[u8],
        prefix_len: usize,
    ) -> Result<Option<Vec<u8>>, ProverError> {
        read_versioned(&self.db, column, key, prefix_len)
    }

    fn node_at(&self, height: u8, index: u32, version: u64) -> Result<Node, ProverError> {
        let key = node_key(height, index, version);
        match self.read_versioned(CF_NODES, &key, 5)? {
            Some(bytes) => bytes
                .as_slice()
                .try_into()
                .map_err(|_| ProverError::Corrupt("tree node")),
            None => Ok(self.hash.empty(usize::from(height))),
        }
    }

    /// The current node (pending updates included).
    fn node(&self, height: u8, index: u32) -> Result<Node, ProverError> {
        if let Some(v) = self.nodes.get(&(height, index)) {
            return Ok(*v);
        }
        if let Some(v) = self.cached_nodes.get(&(height, index)) {
            return Ok(*v);
        }
        self.node_at(height, index, u64::MAX)
    }

    /// [`Self::node`], remembering a committed node it had to read.
    fn node_cached(&mut self, height: u8, index: u32) -> Result<Node, ProverError> {
        if let Some(v) = self.nodes.get(&(height, index)) {
            return Ok(*v);
        }
        if let Some(v) = self.cached_nodes.get(&(height, index)) {
            return Ok(*v);
        }
        let v = self.node_at(height, index, u64::MAX)?;
        self.make_room();
        self.cached_nodes.insert((height, index), v);
        Ok(v)
    }

    fn make_room(&mut self) {
        if self.cached_nodes.len() + self.cached_leaves.len() >= CACHE_ENTRIES_MAX {
            self.cached_nodes.clear();
            self.cached_leaves.clear();
        }
    }

    fn depth(&self) -> u8 {
        self.hash.depth() as u8
    }

    /// The current accounts root (pending updates included).
    pub fn root(&self) -> Result<FieldBytes, ProverError> {
        self.flushed()?;
        root_bytes(self.node(self.depth(), 0)?)
    }

    /// The accounts root as of committed `version`.
    pub fn root_at(&self, version: u64) -> Result<FieldBytes, ProverError> {
        root_bytes(self.node_at(self.depth(), 0, version)?)
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
    pub fn leaf(&mut self, id: AccountId) -> Result<Option<AccountLeaf>, ProverError> {
        let index = account_index(id);
        if let Some(l) = self.leaves.get(&index) {
            return Ok(Some(*l));
        }
        if let Some(l) = self.cached_leaves.get(&index) {
            return Ok(*l);
        }
        let leaf = self.leaf_at(index, u64::MAX)?;
        self.make_room();
        self.cached_leaves.insert(index, leaf);
        Ok(leaf)
    }

    /// The siblings of `id`'s path, leaf level first, each level's `arity − 1`
    /// siblings in child order (the leaf's own slot left out).
    pub fn path(&mut self, id: AccountId) -> Result<Vec<Node>, ProverError> {
        self.flushed()?;
        let arity = self.hash.arity() as u32;
        let depth = self.hash.depth();
        let mut out = Vec::with_capacity(depth * (arity as usize - 1));
        let mut index = account_index(id);
        for height in 0..depth {
            let first = index - index % arity;
            for child in first..first + arity {
                if child != index {
                    out.push(self.node_cached(height as u8, child)?);
                }
            }
            index /= arity;
        }
        Ok(out)
    }

    /// The siblings of `id`'s path as of committed `version` (see [`Self::path`]),
    /// with its leaf.
    pub fn proof_at(
        &self,
        id: AccountId,
        version: u64,
    ) -> Result<(Option<AccountLeaf>, Vec<Node>), ProverError> {
        let arity = self.hash.arity() as u32;
        let mut out = Vec::new();
        let mut index = account_index(id);
        for height in 0..self.hash.depth() {
            let first = index - index % arity;
            for child in first..first + arity {
                if child != index {
                    out.push(self.node_at(height as u8, child, version)?);
                }
            }
            index /= arity;
        }
        Ok((self.leaf_at(account_index(id), version)?, out))
    }

    /// Sets the leaf of `id` and returns its previous value and the path siblings
    /// (which the update leaves as they were): what a proof leg needs. One
    /// [`Self::stage`] and [`Self::flush`]; the merkleizer stages a whole segment.
    pub fn update(
        &mut self,
        id: AccountId,
        leaf: AccountLeaf,
    ) -> Result<(Option<AccountLeaf>, Vec<Node>), ProverError> {
        self.flushed()?;
        let old = self.stage(id, leaf)?;
        let siblings = self.flush()?.pop().unwrap_or_default();
        Ok((old, siblings))
    }

    /// Sets the leaf of `id` now ([`Self::leaf`] sees it) and stages the hashing of
    /// its path for [`Self::flush`]. Returns the previous leaf.
    pub fn stage(
        &mut self,
        id: AccountId,
        leaf: AccountLeaf,
    ) -> Result<Option<AccountLeaf>, ProverError> {
        let old = self.leaf(id)?;
        let index = account_index(id);
        self.leaves.insert(index, leaf);
        self.staged.push(Staged {
            index,
            leaf: Some(leaf),
        });
        Ok(old)
    }

    /// Stages a read of `id`'s path at this point of the staged sequence (the path
    /// a leg that rewrites the leaf with itself proves).
    pub fn stage_read(&mut self, id: AccountId) {
        self.staged.push(Staged {
            index: account_index(id),
            leaf: None,
        });
    }

    /// Hashes every staged write, level by level, and returns each staged entry's
    /// path siblings (as [`Self::path`] orders them) as they were just before it,
    /// in staging order. The root afterwards is the root after the last write.
    ///
    /// At each height one pass in staging order tracks the newest value of every
    /// node the staged writes touched, so each entry reads its siblings as of its
    /// own moment; the parents of all writes at that height are then independent
    /// and go to [`TreeHash::nodes`] in one call.
    pub fn flush(&mut self) -> Result<Vec<Vec<Node>>, ProverError> {
        let staged = std::mem::take(&mut self.staged);
        if staged.is_empty() {
            return Ok(Vec::new());
        }
        let hash = Arc::clone(&self.hash);
        let arity = hash.arity() as u32;
        let depth = hash.depth();
        let (written, leaves): (Vec<usize>, Vec<AccountLeaf>) = staged
            .iter()
            .enumerate()
            .filter_map(|(t, s)| s.leaf.map(|leaf| (t, leaf)))
            .unzip();
        // value[t]: entry t's node at the current height, just after entry t.
        let mut value = vec![Node::default(); staged.len()];
        for (&t, digest) in written.iter().zip(hash.leaves(&leaves)) {
            value[t] = digest;
        }
        let mut index: Vec<u32> = staged.iter().map(|s| s.index).collect();
        let siblings_per_path = depth * (arity as usize - 1);
        let mut paths: Vec<Vec<Node>> = staged
            .iter()
            .map(|_| Vec::with_capacity(siblings_per_path))
            .collect();
        let mut inputs: Vec<Node> = Vec::with_capacity(written.len() * arity as usize);
        let mut level: HashMap<u32, Node> = HashMap::new();
        for height in 0..=depth {
            let h = height as u8;
            level.clear();
            inputs.clear();
            for (t, entry) in staged.iter().enumerate() {
                let i = index[t];
                if entry.leaf.is_some() {
                    level.insert(i, value[t]);
                } else {
                    value[t] = self.level_node(&level, h, i)?;
                }
                if height == depth {
                    continue;
                }
                let first = i - i % arity;
                for child in first..first + arity {
                    let v = if child == i {
                        value[t]
                    } else {
                        let v = self.level_node(&level, h, child)?;
                        paths[t].push(v);
                        v
                    };
                    if entry.leaf.is_some() {
                        inputs.push(v);
                    }
                }
            }
            for (&i, v) in &level {
                self.nodes.insert((h, i), *v);
            }
            if height < depth {
                for (&t, parent) in written.iter().zip(hash.nodes(&inputs)) {
                    value[t] = parent;
                }
                for i in &mut index {
                    *i /= arity;
                }
            }
        }
        Ok(paths)
    }

    /// A node as of the current point of a flush: `level` holds the nodes of this
    /// height the flush has written so far.
    fn level_node(
        &mut self,
        level: &HashMap<u32, Node>,
        height: u8,
        index: u32,
    ) -> Result<Node, ProverError> {
        match level.get(&index) {
            Some(v) => Ok(*v),
            None => self.node_cached(height, index),
        }
    }

    /// Sets many leaves at once, hashing each level's dirty nodes in parallel. Faster
    /// than [`Self::update`] per leaf, but yields no per-leaf witnesses (genesis).
    pub fn update_many(&mut self, leaves: &[(AccountId, AccountLeaf)]) -> Result<(), ProverError> {
        self.flushed()?;
        let hash = Arc::clone(&self.hash);
        let arity = hash.arity() as u32;
        let hashed: Vec<(u32, Node)> = leaves
            .par_iter()
            .map(|(id, leaf)| (account_index(*id), hash.leaf(leaf)))
            .collect();
        let mut dirty: Vec<u32> = Vec::with_capacity(hashed.len());
        for ((index, digest), (_, leaf)) in hashed.into_iter().zip(leaves) {
            self.nodes.insert((0, index), digest);
            self.leaves.insert(index, *leaf);
            dirty.push(index);
        }
        for height in 1..=self.depth() {
            let mut parents: Vec<u32> = dirty.iter().map(|i| i / arity).collect();
            parents.sort_unstable();
            parents.dedup();
            let computed: Vec<Result<(u32, Node), ProverError>> = parents
                .par_iter()
                .map(|&parent| {
                    let children = (0..arity)
                        .map(|slot| self.node(height - 1, parent * arity + slot))
                        .collect::<Result<Vec<Node>, ProverError>>()?;
                    Ok((parent, hash.node(&children)))
                })
                .collect();
            for item in computed {
                let (parent, digest) = item?;
                self.nodes.insert((height, parent), digest);
            }
            dirty = parents;
        }
        Ok(())
    }

    /// Writes the pending updates as `version` (which must be above the current one),
    /// plus `extra`, in one atomic synced write.
    pub fn commit(&mut self, version: u64, mut extra: WriteBatch) -> Result<(), ProverError> {
        self.flushed()?;
        if version <= self.version && self.version != 0 {
            return Err(ProverError::VersionOrder {
                current: self.version,
                requested: version,
            });
        }
        let nodes = cf(&self.db, CF_NODES)?;
        let leaves = cf(&self.db, CF_LEAVES)?;
        let meta = cf(&self.db, CF_META)?;
        self.storage.stage(version, &mut extra)?;
        for ((height, index), value) in &self.nodes {
            extra.put_cf(nodes, node_key(*height, *index, version), value);
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
        if self.cached_nodes.len() + self.nodes.len() >= CACHE_ENTRIES_MAX {
            self.cached_nodes.clear();
            self.cached_leaves.clear();
        }
        self.cached_nodes.extend(self.nodes.drain());
        self.cached_leaves
            .extend(self.leaves.drain().map(|(i, l)| (i, Some(l))));
        Ok(())
    }

    /// Rewinds the tree, and the contract storage trees kept with it
    /// ([`crate::StorageTrees`]), to `version`: every node, leaf and slot written by
    /// a later version is deleted, in one synced write with `extra`. For a batch plan the L1
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
        self.cached_nodes.clear();
        self.cached_leaves.clear();
        // The contract storage trees are versioned with the account tree.
        for name in [
            CF_NODES,
            CF_LEAVES,
            crate::storage_trees::CF_STORAGE_NODES,
            crate::storage_trees::CF_STORAGE_SLOTS,
            crate::storage_trees::CF_STORAGE_CONTRACTS,
        ] {
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

/// The newest value of a versioned key: `key` ends with a big-endian version, and
/// the entry read is the last one at or below it whose first `prefix_len` bytes
/// are `key`'s (`None`: never written).
pub(crate) fn read_versioned(
    db: &DB,
    column: &'static str,
    key: &[u8],
    prefix_len: usize,
) -> Result<Option<Vec<u8>>, ProverError> {
    let handle = cf(db, column)?;
    let mut iter = db.iterator_cf(handle, IteratorMode::From(key, Direction::Reverse));
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

fn root_bytes(node: Node) -> Result<FieldBytes, ProverError> {
    FieldBytes::from_bytes(node).map_err(|_| ProverError::Corrupt("tree root"))
}

/// Looks up a column family handle.
pub(crate) fn cf<'a>(
    db: &'a DB,
    name: &'static str,
) -> Result<&'a rocksdb::ColumnFamily, ProverError> {
    db.cf_handle(name).ok_or(ProverError::MissingColumn(name))
}

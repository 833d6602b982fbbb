//! Contract storage trees in the prover's store (issue 36, design B: see
//! `docs/contract-state-proof.md`): one depth-64 tree per contract account, the
//! shape of `ghostplane_stark::storage`, versioned with the account tree so that a
//! batch plan writes both atomically and a rewound plan rewinds both
//! ([`crate::AccountTree::rewind`] scans these columns too).
//!
//! Layout:
//! - column [`CF_STORAGE_NODES`]: `contract ‖ height ‖ index ‖ version` (4 + 1 + 8 +
//!   8 bytes, big endian) to a packed digest (32 bytes); a missing node is the empty
//!   subtree of its height;
//! - column [`CF_STORAGE_SLOTS`]: `contract ‖ index ‖ version` (4 + 8 + 8 bytes) to
//!   the borsh of the slot at that path (`None` once deleted).
//!
//! A node or slot read "now" is the pending one, else the newest committed one.
//! [`StorageTrees::step`] gives the proof step of one slot (its leaf and path as
//! the trees stand) and applies its write; [`StorageTrees::stage`] adds the pending
//! updates to the caller's write batch at a version, which the caller commits with
//! the account tree's.
//!
//! Not wired yet: the merkleizer will call [`StorageTrees::step`] for the slots each
//! contract transaction reads and writes, and settlement will commit them with its
//! plans.
//!
//! Limits: pending updates grow by at most 65 nodes and one slot per step; the
//! caller stages them once per batch.

use std::collections::HashMap;
use std::sync::Arc;

use ghostplane_primitives::AccountId;
use ghostplane_stark::hash::Digest;
use ghostplane_stark::storage::{
    CompactPath, STORAGE_DEPTH, SlotLeaf, SlotStep, empty_storage_subtree, slot_index,
};
use ghostplane_stark::tree::{above, parent};
use ghostplane_stark::wire::{pack_digest, unpack_digest};
use rocksdb::{DB, WriteBatch};

use crate::error::ProverError;
use crate::tree::{cf, read_versioned};

/// Column of storage tree nodes.
pub const CF_STORAGE_NODES: &str = "storage_nodes";
/// Column of storage slots.
pub const CF_STORAGE_SLOTS: &str = "storage_slots";

/// A slot: its key and value.
type Slot = ([u8; 32], Vec<u8>);

fn node_key(contract: u32, height: u8, index: u64, version: u64) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[..4].copy_from_slice(&contract.to_be_bytes());
    k[4] = height;
    k[5..13].copy_from_slice(&index.to_be_bytes());
    k[13..].copy_from_slice(&version.to_be_bytes());
    k
}

fn slot_key(contract: u32, index: u64, version: u64) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..4].copy_from_slice(&contract.to_be_bytes());
    k[4..12].copy_from_slice(&index.to_be_bytes());
    k[12..].copy_from_slice(&version.to_be_bytes());
    k
}

/// Every contract's storage tree.
pub struct StorageTrees {
    db: Arc<DB>,
    nodes: HashMap<(u32, u8, u64), Digest>,
    slots: HashMap<(u32, u64), Option<Slot>>,
}

impl StorageTrees {
    /// The trees stored in `db` (opened by [`crate::open_db`]).
    pub fn open(db: Arc<DB>) -> Result<Self, ProverError> {
        cf(&db, CF_STORAGE_NODES)?;
        cf(&db, CF_STORAGE_SLOTS)?;
        Ok(Self {
            db,
            nodes: HashMap::new(),
            slots: HashMap::new(),
        })
    }

    fn node(&self, contract: u32, height: usize, index: u64) -> Result<Digest, ProverError> {
        if let Some(d) = self.nodes.get(&(contract, height as u8, index)) {
            return Ok(*d);
        }
        let key = node_key(contract, height as u8, index, u64::MAX);
        match read_versioned(&self.db, CF_STORAGE_NODES, &key, 13)? {
            Some(bytes) => {
                let packed: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| ProverError::Corrupt("storage node"))?;
                unpack_digest(&packed).map_err(|_| ProverError::Corrupt("storage node"))
            }
            None => Ok(empty_storage_subtree(height)),
        }
    }

    fn slot(&self, contract: u32, index: u64) -> Result<Option<Slot>, ProverError> {
        if let Some(slot) = self.slots.get(&(contract, index)) {
            return Ok(slot.clone());
        }
        let key = slot_key(contract, index, u64::MAX);
        match read_versioned(&self.db, CF_STORAGE_SLOTS, &key, 12)? {
            Some(bytes) => borsh::from_slice::<Option<Slot>>(&bytes)
                .map_err(|_| ProverError::Corrupt("storage slot")),
            None => Ok(None),
        }
    }

    /// Contract `contract`'s storage root now.
    pub fn root(&self, contract: AccountId) -> Result<Digest, ProverError> {
        self.node(contract.get(), STORAGE_DEPTH, 0)
    }

    /// The proof step of slot `key` of `contract` (its leaf and path as the trees
    /// stand), then the write `new` if given (`Some(None)`: delete). A write to a
    /// path another key holds is refused and changes nothing.
    pub fn step(
        &mut self,
        contract: AccountId,
        key: &[u8; 32],
        new: Option<Option<&[u8]>>,
    ) -> Result<SlotStep, ProverError> {
        let c = contract.get();
        let index = slot_index(key);
        let mut siblings = [empty_storage_subtree(0); STORAGE_DEPTH];
        for (h, sibling) in siblings.iter_mut().enumerate() {
            *sibling = self.node(c, h, above(index, h) ^ 1)?;
        }
        let stored = self.slot(c, index)?;
        let old = SlotLeaf::of(key, stored.as_ref().map(|(k, v)| (k, v.as_slice())));
        if let Some(new) = new
            && let Some(leaf) = old.written(key, new)?
        {
            let mut digest = leaf;
            self.nodes.insert((c, 0, index), digest);
            for (h, sibling) in siblings.iter().enumerate() {
                digest = parent(&digest, sibling, index, h);
                self.nodes
                    .insert((c, h as u8 + 1, above(index, h + 1)), digest);
            }
            self.slots
                .insert((c, index), new.map(|value| (*key, value.to_vec())));
        }
        Ok(SlotStep {
            key: *key,
            old,
            path: CompactPath::compact(&siblings),
        })
    }

    /// Whether updates are pending.
    pub fn is_dirty(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// Drops the pending updates.
    pub fn discard(&mut self) {
        self.nodes.clear();
        self.slots.clear();
    }

    /// Moves the pending updates into `batch` as `version` (the account tree's
    /// version this batch commits: [`crate::AccountTree::commit`] with `batch`).
    pub fn stage(&mut self, version: u64, batch: &mut WriteBatch) -> Result<(), ProverError> {
        let nodes = cf(&self.db, CF_STORAGE_NODES)?;
        let slots = cf(&self.db, CF_STORAGE_SLOTS)?;
        for ((c, h, i), digest) in self.nodes.drain() {
            batch.put_cf(nodes, node_key(c, h, i, version), pack_digest(&digest));
        }
        for ((c, i), slot) in self.slots.drain() {
            let bytes =
                borsh::to_vec(&slot).map_err(|_| ProverError::Corrupt("storage slot encode"))?;
            batch.put_cf(slots, slot_key(c, i, version), bytes);
        }
        Ok(())
    }
}

//! A contract's storage tree, and the key field that commits a contract's code and
//! storage in its account leaf.
//!
//! The shapes are decided and fixed by known-answer vectors in
//! `docs/state-commitment.md` ("Contract leaves and storage"); the AIR that proves
//! their updates and the wiring of the storage root into the account tree are
//! issue 36's. In short:
//!
//! - **slot key** `k`: 32 bytes, as nine 30-bit limbs ([`key_limbs`], the same as an
//!   account key's);
//! - **path** `i(k)`: 128 bits from the first six elements `e0 … e5` of
//!   [`sponge`]`(k_0..k_8, SLOT_PATH_DOMAIN)`: the low 22 bits of `e0` and `e1`, then
//!   the low 21 bits of `e2` to `e5`, most significant first ([`slot_index`]);
//! - **leaf** of a present slot: [`sponge`]`(k_0..k_8, 1, len, v_0, …)` with the value
//!   packed 3 bytes per element, little-endian ([`slot_fields`]); an absent slot is
//!   [`empty_slot_leaf`], the sponge of 16 zeros. A present empty value is not absent;
//! - **tree**: binary, depth [`STORAGE_DEPTH`], the account tree's node hash and
//!   child order ([`SparseTree`]);
//! - **contract key field**: the packed digest of
//!   [`sponge`]`(address limbs, code-hash limbs, storage root, CONTRACT_LEAF_DOMAIN)`
//!   ([`contract_key_field`]).
//!
//! Two keys whose paths collide cannot both be present: writing the second is
//! [`StorageError::PathTaken`], which would stop settlement (the executor stores
//! both). So paths are 128 bits: finding *any* colliding pair of keys (a birthday
//! search, what an attacker needs) takes ~2^64 hashes; with 64-bit paths it took
//! ~2^32, a few CPU-hours (issue 36's review).
//!
//! Limits: a value is at most [`SLOT_VALUE_BYTES_MAX`] bytes (the executor's bound),
//! so a leaf is at most 45 sponge blocks.

use std::collections::HashMap;

pub use ghostplane_primitives::storage_proof::{CompactPath, SlotLeaf, SlotStep};
use p3_field::PrimeCharacteristicRing;

use crate::config::Val;
use crate::hash::{DIGEST, Digest, sponge};
use crate::segment::{KEY_LIMBS, key_limbs};
use crate::tree::{SparseTree, climb};
use crate::wire::{pack_digest, unpack_digest};

/// Depth of a storage tree: 2^128 paths.
pub const STORAGE_DEPTH: usize = 128;
/// The largest storage value, in bytes (`ghostplane_primitives::STORAGE_VALUE_BYTES_MAX`).
pub const SLOT_VALUE_BYTES_MAX: usize = 1024;
/// The element after a key's limbs in the sponge that gives its path.
pub const SLOT_PATH_DOMAIN: u32 = 2;
/// The element after a key's limbs in a present slot's leaf.
pub const SLOT_PRESENT: u32 = 1;
/// The last element of a contract key field's sponge.
pub const CONTRACT_LEAF_DOMAIN: u32 = 3;
/// Elements of the all-zero leaf that an absent slot hashes as.
pub const EMPTY_SLOT_ELEMENTS: usize = 16;
/// Value bytes per element of a slot's leaf.
pub const VALUE_BYTES_PER_ELEMENT: usize = 3;

/// Why a storage update is refused. The tree is unchanged.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum StorageError {
    /// The value is over the bound.
    #[error("a storage value of {0} bytes is over the {SLOT_VALUE_BYTES_MAX}-byte bound")]
    ValueTooLong(usize),
    /// Another key holds the path this key hashes to.
    #[error(
        "storage key {} hashes to path {index:#034x}, which key {} already holds; use another key",
        hex(key),
        hex(held_by)
    )]
    PathTaken {
        /// The path.
        index: u128,
        /// The key written.
        key: [u8; 32],
        /// The key present at that path.
        held_by: [u8; 32],
    },
    /// A proof step's path does not lead from its old leaf to the root it is
    /// checked against.
    #[error(
        "storage proof step {step}: the path of key {} does not reach the storage root",
        hex(key)
    )]
    WrongPath {
        /// The step.
        step: usize,
        /// Its key.
        key: [u8; 32],
    },
    /// A proof step's path lists a different number of siblings than its bitmap
    /// says, or a sibling that is not a packed digest.
    #[error("storage proof step {step}: malformed path ({reason})")]
    MalformedPath {
        /// The step.
        step: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A key with a second step: a transaction's proof has one step per slot.
    #[error("storage proof step {step}: key {} already has a step", hex(key))]
    RepeatedKey {
        /// The step.
        step: usize,
        /// Its key.
        key: [u8; 32],
    },
    /// A proof step shows the key's path held by another key, and is asked to
    /// write the key, or names the key itself as the holder.
    #[error(
        "storage proof step {step}: key {} is held by another key's path",
        hex(key)
    )]
    HeldPath {
        /// The step.
        step: usize,
        /// Its key.
        key: [u8; 32],
    },
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn limbs(bytes: &[u8; 32]) -> [Val; KEY_LIMBS] {
    key_limbs(bytes).map(Val::from_u32)
}

/// The path of slot `key` in its contract's storage tree.
pub fn slot_index(key: &[u8; 32]) -> u128 {
    let mut input = [Val::ZERO; KEY_LIMBS + 1];
    input[..KEY_LIMBS].copy_from_slice(&limbs(key));
    input[KEY_LIMBS] = Val::from_u32(SLOT_PATH_DOMAIN);
    let e = sponge(&input);
    let low = |v: Val, bits: u32| {
        u128::from(p3_field::PrimeField32::as_canonical_u32(&v)) & ((1u128 << bits) - 1)
    };
    (low(e[0], 22) << 106)
        | (low(e[1], 22) << 84)
        | (low(e[2], 21) << 63)
        | (low(e[3], 21) << 42)
        | (low(e[4], 21) << 21)
        | low(e[5], 21)
}

/// The elements of a present slot's leaf (before zero padding): the key's limbs,
/// [`SLOT_PRESENT`], the value's length in bytes, then the value 3 bytes per
/// element, `b[3j] + b[3j+1]·2^8 + b[3j+2]·2^16` (missing bytes 0).
pub fn slot_fields(key: &[u8; 32], value: &[u8]) -> Result<Vec<Val>, StorageError> {
    if value.len() > SLOT_VALUE_BYTES_MAX {
        return Err(StorageError::ValueTooLong(value.len()));
    }
    let mut fields = Vec::with_capacity(KEY_LIMBS + 2 + value.len().div_ceil(3));
    fields.extend_from_slice(&limbs(key));
    fields.push(Val::from_u32(SLOT_PRESENT));
    fields.push(Val::from_u32(value.len() as u32));
    fields.extend(value.chunks(VALUE_BYTES_PER_ELEMENT).map(|chunk| {
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, b)| v | u32::from(*b) << (8 * i));
        Val::from_u32(v)
    }));
    Ok(fields)
}

/// The leaf digest of an absent slot: the sponge of [`EMPTY_SLOT_ELEMENTS`] zeros.
pub fn empty_slot_leaf() -> Digest {
    sponge(&[Val::ZERO; EMPTY_SLOT_ELEMENTS])
}

/// The leaf digest of slot `key`: [`empty_slot_leaf`] when absent.
pub fn slot_leaf(key: &[u8; 32], value: Option<&[u8]>) -> Result<Digest, StorageError> {
    match value {
        Some(value) => Ok(sponge(&slot_fields(key, value)?)),
        None => Ok(empty_slot_leaf()),
    }
}

/// The root reached by climbing from a slot's leaf digest with its path's siblings.
pub fn storage_root_from_path(
    index: u128,
    leaf: Digest,
    siblings: &[Digest; STORAGE_DEPTH],
) -> Digest {
    climb(index, leaf, siblings)
}

/// The key field of a contract's account leaf: the packed digest of the sponge over
/// its address's nine limbs, its code hash's nine limbs, its storage root and
/// [`CONTRACT_LEAF_DOMAIN`]. It stands where a user account has its ed25519 key, so
/// a storage write changes the contract's leaf, and the code cannot change.
pub fn contract_key_field(
    address: &[u8; 32],
    code_hash: &[u8; 32],
    storage_root: &Digest,
) -> [u8; 32] {
    let mut input = Vec::with_capacity(2 * KEY_LIMBS + DIGEST + 1);
    input.extend_from_slice(&limbs(address));
    input.extend_from_slice(&limbs(code_hash));
    input.extend_from_slice(storage_root);
    input.push(Val::from_u32(CONTRACT_LEAF_DOMAIN));
    pack_digest(&sponge(&input))
}

/// One slot update: what a proof of it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotUpdate {
    /// The slot's path.
    pub index: u128,
    /// The value before (`None`: absent).
    pub old: Option<Vec<u8>>,
    /// Siblings from the leaf level up (unchanged by the update).
    pub siblings: [Digest; STORAGE_DEPTH],
}

#[derive(Clone, Debug)]
struct Slot {
    key: [u8; 32],
    value: Vec<u8>,
}

/// One contract's storage tree, in memory.
#[derive(Clone, Debug)]
pub struct StorageTree {
    tree: SparseTree<STORAGE_DEPTH>,
    slots: HashMap<u128, Slot>,
}

impl Default for StorageTree {
    fn default() -> Self {
        Self::new()
    }
}

impl StorageTree {
    /// An empty storage tree (a new contract's).
    pub fn new() -> Self {
        Self {
            tree: SparseTree::new(empty_slot_leaf()),
            slots: HashMap::new(),
        }
    }

    /// The storage root.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// Slot `key`'s value, `None` if absent.
    pub fn get(&self, key: &[u8; 32]) -> Option<&[u8]> {
        self.slots
            .get(&slot_index(key))
            .filter(|slot| slot.key == *key)
            .map(|slot| slot.value.as_slice())
    }

    /// The siblings of slot `key`'s path: with its leaf they prove its value, or,
    /// with the empty leaf or another key's leaf at that path, its absence.
    pub fn path(&self, key: &[u8; 32]) -> (u128, [Digest; STORAGE_DEPTH]) {
        let index = slot_index(key);
        (index, self.tree.siblings(index))
    }

    /// Writes slot `key` (`None` deletes it). Deleting an absent slot changes
    /// nothing.
    pub fn set(
        &mut self,
        key: &[u8; 32],
        value: Option<&[u8]>,
    ) -> Result<SlotUpdate, StorageError> {
        let index = slot_index(key);
        let current = self.leaf_at(key, index);
        let old = current.value().map(<[u8]>::to_vec);
        let Some(leaf) = written_leaf(&current, key, value)? else {
            return Ok(SlotUpdate {
                index,
                old,
                siblings: self.tree.siblings(index),
            });
        };
        let siblings = self.tree.set(index, leaf);
        match value {
            Some(value) => {
                self.slots.insert(
                    index,
                    Slot {
                        key: *key,
                        value: value.to_vec(),
                    },
                );
            }
            None => {
                self.slots.remove(&index);
            }
        }
        Ok(SlotUpdate {
            index,
            old,
            siblings,
        })
    }

    /// What slot `key`'s path (`index`) holds.
    fn leaf_at(&self, key: &[u8; 32], index: u128) -> SlotLeaf {
        SlotLeaf::of(
            key,
            self.slots
                .get(&index)
                .map(|slot| (&slot.key, slot.value.as_slice())),
        )
    }
}

/// The leaf digest after writing `new` (`None`: delete) to `key` over the leaf
/// `old`; `Ok(None)` when the write changes nothing (deleting a key whose path
/// another key holds). Writing a value where another key holds the path is
/// [`StorageError::PathTaken`].
pub fn written_leaf(
    old: &SlotLeaf,
    key: &[u8; 32],
    new: Option<&[u8]>,
) -> Result<Option<Digest>, StorageError> {
    match (old, new) {
        (SlotLeaf::Held { key: held_by, .. }, Some(_)) => Err(StorageError::PathTaken {
            index: slot_index(key),
            key: *key,
            held_by: *held_by,
        }),
        (SlotLeaf::Held { .. }, None) => Ok(None),
        (_, new) => slot_leaf(key, new).map(Some),
    }
}

/// The digest of the leaf `old` shows on slot `key`'s path.
fn leaf_digest(old: &SlotLeaf, key: &[u8; 32]) -> Result<Digest, StorageError> {
    match old {
        SlotLeaf::Absent => Ok(empty_slot_leaf()),
        SlotLeaf::Present(value) => slot_leaf(key, Some(value)),
        SlotLeaf::Held { key, value } => slot_leaf(key, Some(value)),
    }
}

/// The empty subtrees of a storage tree, computed once.
fn storage_empty() -> &'static [Digest] {
    static EMPTY: std::sync::OnceLock<Vec<Digest>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| {
        let tree = SparseTree::<STORAGE_DEPTH>::new(empty_slot_leaf());
        (0..=STORAGE_DEPTH).map(|h| tree.empty(h)).collect()
    })
}

/// The root of an empty storage tree (a new contract's).
pub fn empty_storage_root() -> Digest {
    storage_empty()[STORAGE_DEPTH]
}

/// The digest of an empty storage subtree of height `h` (at most
/// [`STORAGE_DEPTH`]; `0` is the empty leaf).
pub fn empty_storage_subtree(h: usize) -> Digest {
    storage_empty()[h]
}

/// Leaves out the empty siblings of `siblings`.
pub fn compact_path(siblings: &[Digest; STORAGE_DEPTH]) -> CompactPath {
    let empty = storage_empty();
    let mut occupied = 0u128;
    let mut nodes = Vec::new();
    for (h, sibling) in siblings.iter().enumerate() {
        if *sibling != empty[h] {
            occupied |= 1 << h;
            nodes.push(pack_digest(sibling));
        }
    }
    CompactPath { occupied, nodes }
}

/// The full path of a compact one (of proof step `step`); refused unless it lists
/// exactly the siblings its bitmap says, each a packed digest.
pub fn expand_path(
    path: &CompactPath,
    step: usize,
) -> Result<[Digest; STORAGE_DEPTH], StorageError> {
    if path.nodes.len() != path.occupied.count_ones() as usize {
        return Err(StorageError::MalformedPath {
            step,
            reason: "sibling count differs from the bitmap",
        });
    }
    let empty = storage_empty();
    let mut nodes = path.nodes.iter();
    let mut siblings = [empty[0]; STORAGE_DEPTH];
    for (h, sibling) in siblings.iter_mut().enumerate() {
        *sibling = if path.occupied >> h & 1 == 1 {
            let packed = nodes.next().ok_or(StorageError::MalformedPath {
                step,
                reason: "sibling count differs from the bitmap",
            })?;
            unpack_digest(packed).map_err(|_| StorageError::MalformedPath {
                step,
                reason: "a sibling is not a packed digest",
            })?
        } else {
            empty[h]
        };
    }
    Ok(siblings)
}

/// Checks a storage proof against `root` and applies writes: one step per slot
/// the transaction read or wrote; for each step in order, its old leaf must lie on
/// its path under the running root; then, if `write(key)` gives a new value
/// (`Some(None)`: delete), the running root becomes the one with that leaf.
/// Returns the final root. What the L1 runs on a contract transaction's read and
/// write sets (the values the trace read are each step's `old.value()`).
pub fn apply_steps<'v>(
    root: Digest,
    steps: &[SlotStep],
    write: impl Fn(&[u8; 32]) -> Option<Option<&'v [u8]>>,
) -> Result<Digest, StorageError> {
    let mut root = root;
    let mut seen = std::collections::HashSet::with_capacity(steps.len());
    for (step, s) in steps.iter().enumerate() {
        if !seen.insert(s.key) {
            return Err(StorageError::RepeatedKey { step, key: s.key });
        }
        let index = slot_index(&s.key);
        if let SlotLeaf::Held { key, .. } = &s.old
            && (key == &s.key || slot_index(key) != index)
        {
            return Err(StorageError::HeldPath { step, key: s.key });
        }
        let siblings = expand_path(&s.path, step)?;
        let old = leaf_digest(&s.old, &s.key)?;
        if climb(index, old, &siblings) != root {
            return Err(StorageError::WrongPath { step, key: s.key });
        }
        if let Some(new) = write(&s.key) {
            match written_leaf(&s.old, &s.key, new) {
                Ok(Some(leaf)) => root = climb(index, leaf, &siblings),
                Ok(None) => {}
                Err(StorageError::PathTaken { .. }) => {
                    return Err(StorageError::HeldPath { step, key: s.key });
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(root)
}

impl StorageTree {
    /// The proof step of slot `key` (its leaf and path as the tree stands), then
    /// the write `new` if given (`Some(None)`: delete): what the executor posts for
    /// each slot a transaction reads or writes, in order.
    pub fn step(
        &mut self,
        key: &[u8; 32],
        new: Option<Option<&[u8]>>,
    ) -> Result<SlotStep, StorageError> {
        let index = slot_index(key);
        let old = self.leaf_at(key, index);
        let path = compact_path(&self.tree.siblings(index));
        if let Some(new) = new {
            self.set(key, new)?;
        }
        Ok(SlotStep {
            key: *key,
            old,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> [u8; 32] {
        core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
    }

    #[test]
    fn writes_move_the_root_along_their_paths() {
        let mut tree = StorageTree::new();
        let empty = tree.root();
        let mut root = empty;
        let writes: [(u8, Option<&[u8]>); 5] = [
            (1, Some(b"one")),
            (2, Some(b"")),
            (3, Some(&[7; SLOT_VALUE_BYTES_MAX])),
            (1, Some(b"uno")),
            (2, None),
        ];
        for (seed, value) in writes {
            let k = key(seed);
            let old = tree.get(&k).map(<[u8]>::to_vec);
            let update = tree.set(&k, value).unwrap();
            assert_eq!(update.old, old);
            let before = slot_leaf(&k, old.as_deref()).unwrap();
            assert_eq!(
                storage_root_from_path(update.index, before, &update.siblings),
                root
            );
            root = tree.root();
            let after = slot_leaf(&k, value).unwrap();
            assert_eq!(
                storage_root_from_path(update.index, after, &update.siblings),
                root
            );
            assert_eq!(tree.get(&k), value);
        }
        // Deleting every slot brings back the empty root.
        tree.set(&key(1), None).unwrap();
        tree.set(&key(3), None).unwrap();
        assert_eq!(tree.root(), empty);
    }

    #[test]
    fn an_empty_value_is_not_an_absent_slot() {
        let k = key(9);
        assert_ne!(slot_leaf(&k, Some(b"")).unwrap(), empty_slot_leaf());
        assert_ne!(
            slot_leaf(&k, Some(b"")).unwrap(),
            slot_leaf(&k, Some(&[0])).unwrap()
        );
        let mut tree = StorageTree::new();
        let empty = tree.root();
        tree.set(&k, Some(b"")).unwrap();
        assert_ne!(tree.root(), empty);
        assert_eq!(tree.get(&k), Some(&b""[..]));
    }

    #[test]
    fn values_over_the_bound_are_refused_and_change_nothing() {
        let mut tree = StorageTree::new();
        let root = tree.root();
        let long = vec![1u8; SLOT_VALUE_BYTES_MAX + 1];
        assert_eq!(
            tree.set(&key(1), Some(&long)),
            Err(StorageError::ValueTooLong(SLOT_VALUE_BYTES_MAX + 1))
        );
        assert_eq!(tree.root(), root);
    }

    #[test]
    fn a_path_held_by_another_key_is_refused() {
        // Paths are 128 bits of a hash: collide them by planting a slot at the path of
        // another key directly.
        let (a, b) = (key(1), key(2));
        let mut tree = StorageTree::new();
        tree.set(&a, Some(b"a")).unwrap();
        let index = slot_index(&a);
        tree.slots.insert(
            slot_index(&b),
            Slot {
                key: a,
                value: b"a".to_vec(),
            },
        );
        let root = tree.root();
        assert_eq!(
            tree.set(&b, Some(b"b")),
            Err(StorageError::PathTaken {
                index: slot_index(&b),
                key: b,
                held_by: a,
            })
        );
        assert_eq!(tree.get(&b), None);
        assert_eq!(tree.root(), root);
        assert_ne!(index, slot_index(&b));
    }

    #[test]
    fn the_contract_key_field_binds_address_code_and_storage() {
        let root = StorageTree::new().root();
        let field = contract_key_field(&key(1), &key(2), &root);
        assert_ne!(field, contract_key_field(&key(3), &key(2), &root));
        assert_ne!(field, contract_key_field(&key(1), &key(3), &root));
        let mut other = root;
        other[7] += Val::ONE;
        assert_ne!(field, contract_key_field(&key(1), &key(2), &other));
        assert_eq!(field[0], 0, "a packed digest");
    }

    /// A transaction's steps on `tree`, one per slot: the slots read (written too,
    /// if they are), then the slots only written.
    fn steps(
        tree: &mut StorageTree,
        reads: &[[u8; 32]],
        writes: &[([u8; 32], Option<Vec<u8>>)],
    ) -> Vec<SlotStep> {
        let written = |k: &[u8; 32]| {
            writes
                .iter()
                .find(|(w, _)| w == k)
                .map(|(_, v)| v.as_deref())
        };
        let mut out: Vec<SlotStep> = reads
            .iter()
            .map(|k| tree.step(k, written(k)).unwrap())
            .collect();
        for (k, v) in writes.iter().filter(|(k, _)| !reads.contains(k)) {
            out.push(tree.step(k, Some(v.as_deref())).unwrap());
        }
        out
    }

    fn writes_of<'w>(
        writes: &'w [([u8; 32], Option<Vec<u8>>)],
    ) -> impl Fn(&[u8; 32]) -> Option<Option<&'w [u8]>> + 'w {
        |k| {
            writes
                .iter()
                .find(|(w, _)| w == k)
                .map(|(_, v)| v.as_deref())
        }
    }

    #[test]
    fn proof_steps_check_reads_and_carry_writes_to_the_trees_root() {
        let mut tree = StorageTree::new();
        for i in 0..200u8 {
            tree.set(&key(i), Some(&[i; 5])).unwrap();
        }
        let before = tree.root();
        // Reads of present, empty-valued and absent slots; writes that update,
        // create, empty and delete.
        tree.set(&key(7), Some(b"")).unwrap();
        let before_tx = tree.root();
        assert_ne!(before, before_tx);
        let reads = [key(3), key(7), key(250)];
        let writes = vec![
            (key(3), Some(b"three".to_vec())),
            (key(251), Some(vec![1; SLOT_VALUE_BYTES_MAX])),
            (key(9), Some(Vec::new())),
            (key(10), None),
            (key(252), None),
        ];
        let proof = steps(&mut tree, &reads, &writes);
        assert_eq!(proof[0].old, SlotLeaf::Present(vec![3; 5]));
        assert_eq!(proof[1].old, SlotLeaf::Present(Vec::new()));
        assert_eq!(proof[2].old, SlotLeaf::Absent);
        // Empty siblings are left out: a few hundred slots list a dozen or so.
        assert!(proof.iter().all(|s| s.path.nodes.len() < 20));
        let after = apply_steps(before_tx, &proof, writes_of(&writes)).unwrap();
        assert_eq!(after, tree.root());
        // Without the writes, the steps after the first write do not fit.
        assert!(matches!(
            apply_steps(before_tx, &proof, |_| None),
            Err(StorageError::WrongPath { step: 1, .. })
        ));
        // Encoded and decoded, the same proof.
        let bytes = borsh::to_vec(&proof).unwrap();
        let decoded: Vec<SlotStep> = borsh::from_slice(&bytes).unwrap();
        assert_eq!(decoded, proof);
    }

    #[test]
    fn forged_proof_steps_are_refused() {
        let mut tree = StorageTree::new();
        for i in 0..50u8 {
            tree.set(&key(i), Some(&[i; 3])).unwrap();
        }
        let root = tree.root();
        let writes = vec![(key(4), Some(b"new".to_vec()))];
        let proof = steps(&mut tree, &[key(2), key(60)], &writes);
        let check = |proof: &[SlotStep]| apply_steps(root, proof, writes_of(&writes));
        assert_eq!(check(&proof), Ok(tree.root()));
        // A slot with two steps.
        let p = vec![proof[0].clone(), proof[0].clone()];
        assert!(matches!(
            apply_steps(root, &p, |_| None),
            Err(StorageError::RepeatedKey { step: 1, .. })
        ));
        // A read value that is not the tree's; an absence that is a presence; a
        // presence that is an absence.
        let mut p = proof.clone();
        p[0].old = SlotLeaf::Present(vec![9; 3]);
        assert!(matches!(
            check(&p),
            Err(StorageError::WrongPath { step: 0, .. })
        ));
        let mut p = proof.clone();
        p[0].old = SlotLeaf::Absent;
        assert!(matches!(
            check(&p),
            Err(StorageError::WrongPath { step: 0, .. })
        ));
        let mut p = proof.clone();
        p[1].old = SlotLeaf::Present(Vec::new());
        assert!(matches!(
            check(&p),
            Err(StorageError::WrongPath { step: 1, .. })
        ));
        // A sibling changed; a sibling left out; one that is not a digest.
        let mut p = proof.clone();
        p[2].path.nodes[0][31] ^= 1;
        assert!(matches!(
            check(&p),
            Err(StorageError::WrongPath { step: 2, .. })
        ));
        let mut p = proof.clone();
        p[2].path.nodes.pop();
        assert!(matches!(
            check(&p),
            Err(StorageError::MalformedPath { step: 2, .. })
        ));
        let mut p = proof.clone();
        p[2].path.nodes[0] = [0xff; 32];
        assert!(matches!(
            check(&p),
            Err(StorageError::MalformedPath { step: 2, .. })
        ));
        // Steps out of order: a read's path, taken before the write, does not fit
        // the root after it.
        let p = vec![proof[2].clone(), proof[0].clone()];
        assert!(matches!(
            apply_steps(root, &p, writes_of(&writes)),
            Err(StorageError::WrongPath { step: 1, .. })
        ));
        // A write left out of the applied set: the next step's path is stale.
        let mut tree2 = tree.clone();
        let later = tree2.step(&key(3), None).unwrap();
        let mut p = proof.clone();
        p.push(later);
        assert_eq!(
            apply_steps(root, &p, writes_of(&writes)),
            Ok(tree.root()),
            "with the write applied, the later step fits"
        );
        assert!(matches!(
            apply_steps(root, &p, |_| None),
            Err(StorageError::WrongPath { step: 3, .. })
        ));
        // A path "held" by another key that does not hash to it, or by the key itself.
        let mut p = proof.clone();
        p[1].old = SlotLeaf::Held {
            key: key(5),
            value: vec![5; 3],
        };
        assert!(matches!(
            check(&p),
            Err(StorageError::HeldPath { step: 1, .. })
        ));
        let mut p = proof.clone();
        p[1].old = SlotLeaf::Held {
            key: key(60),
            value: Vec::new(),
        };
        assert!(matches!(
            check(&p),
            Err(StorageError::HeldPath { step: 1, .. })
        ));
    }

    #[test]
    fn slot_paths_use_all_128_bits() {
        let mut high = 0u128;
        let mut low = 0u128;
        for seed in 0..64u8 {
            let i = slot_index(&key(seed));
            high |= i >> 127;
            low |= i & 1;
        }
        assert_eq!((high, low), (1, 1));
    }
}

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
//! - **path** `i(k)`: 64 bits from the first three elements `e0, e1, e2` of
//!   [`sponge`]`(k_0..k_8, SLOT_PATH_DOMAIN)`: the low 22 bits of `e0`, then the low
//!   21 bits of `e1` and of `e2`, most significant first ([`slot_index`]);
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
//! [`StorageError::PathTaken`]. Finding a key that lands on a given key's path takes
//! ~2^64 hashes; a chance collision needs ~2^32 slots in one contract.
//!
//! Limits: a value is at most [`SLOT_VALUE_BYTES_MAX`] bytes (the executor's bound),
//! so a leaf is at most 45 sponge blocks.

use std::collections::HashMap;

use p3_field::PrimeCharacteristicRing;

use crate::config::Val;
use crate::hash::{DIGEST, Digest, sponge};
use crate::segment::{KEY_LIMBS, key_limbs};
use crate::tree::{SparseTree, climb};
use crate::wire::pack_digest;

/// Depth of a storage tree: 2^64 paths.
pub const STORAGE_DEPTH: usize = 64;
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
        "storage key {} hashes to path {index:#018x}, which key {} already holds; use another key",
        hex(key),
        hex(held_by)
    )]
    PathTaken {
        /// The path.
        index: u64,
        /// The key written.
        key: [u8; 32],
        /// The key present at that path.
        held_by: [u8; 32],
    },
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn limbs(bytes: &[u8; 32]) -> [Val; KEY_LIMBS] {
    key_limbs(bytes).map(Val::from_u32)
}

/// The path of slot `key` in its contract's storage tree.
pub fn slot_index(key: &[u8; 32]) -> u64 {
    let mut input = [Val::ZERO; KEY_LIMBS + 1];
    input[..KEY_LIMBS].copy_from_slice(&limbs(key));
    input[KEY_LIMBS] = Val::from_u32(SLOT_PATH_DOMAIN);
    let e = sponge(&input);
    let low = |v: Val, bits: u32| {
        u64::from(p3_field::PrimeField32::as_canonical_u32(&v)) & ((1u64 << bits) - 1)
    };
    (low(e[0], 22) << 42) | (low(e[1], 21) << 21) | low(e[2], 21)
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
    index: u64,
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
    pub index: u64,
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
    slots: HashMap<u64, Slot>,
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
    pub fn path(&self, key: &[u8; 32]) -> (u64, [Digest; STORAGE_DEPTH]) {
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
        let old = match self.slots.get(&index) {
            Some(slot) if slot.key != *key => {
                if value.is_none() {
                    return Ok(SlotUpdate {
                        index,
                        old: None,
                        siblings: self.tree.siblings(index),
                    });
                }
                return Err(StorageError::PathTaken {
                    index,
                    key: *key,
                    held_by: slot.key,
                });
            }
            Some(slot) => Some(slot.value.clone()),
            None => None,
        };
        let leaf = slot_leaf(key, value)?;
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
        // Paths are 64 bits of a hash: collide them by planting a slot at the path of
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

    #[test]
    fn slot_paths_use_all_64_bits() {
        let mut high = 0u64;
        let mut low = 0u64;
        for seed in 0..64u8 {
            let i = slot_index(&key(seed));
            high |= i >> 63;
            low |= i & 1;
        }
        assert_eq!((high, low), (1, 1));
    }
}

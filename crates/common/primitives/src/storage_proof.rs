//! Storage proofs as the pubdata carries them: plain data, no hashing.
//!
//! Every contract transaction's trace is followed, after its moves, by one
//! `StorageProof` op ([`crate::PubdataOp::StorageProof`]): one [`SlotStep`] per slot
//! the transaction read or wrote, in [`ContractTrace::storage_accesses`](crate::trace::ContractTrace::storage_accesses) order, each
//! showing the slot's leaf and path in its contract's storage tree as the steps
//! before it left the tree. Every L1 validator checks them against the storage
//! roots it tracks and applies the trace's writes (`ghostplane_stark::storage::
//! apply_steps`), which gives each contract's new storage root; the batch's
//! `ContractKey` ops then carry the new roots into the proven account tree.
//!
//! The shapes (tree, leaf, path, key field) are in `docs/state-commitment.md`; the
//! hashing that gives them meaning is `ghostplane_stark::storage`.
//!
//! Limits: a proof has at most [`STORAGE_PROOF_STEPS_MAX`] steps (one per distinct
//! slot a trace may read or write), a path at most 128 siblings, a value at most
//! [`STORAGE_VALUE_BYTES_MAX`]; an encoded proof is at most
//! [`STORAGE_PROOF_BYTES_MAX`].

use borsh::{BorshDeserialize, BorshSerialize};

use crate::codec::Codec;
use crate::constants::STORAGE_VALUE_BYTES_MAX;
use crate::trace::{STORAGE_READS_PER_TX_MAX, STORAGE_WRITES_PER_TX_MAX};

/// Most steps in one transaction's storage proof: every slot it may read, and
/// every slot it may write.
pub const STORAGE_PROOF_STEPS_MAX: usize = STORAGE_READS_PER_TX_MAX + STORAGE_WRITES_PER_TX_MAX;
/// Depth of a storage tree (`ghostplane_stark::storage::STORAGE_DEPTH`): the most
/// siblings a path lists.
pub const STORAGE_PATH_NODES_MAX: usize = 128;
/// Largest encoded storage proof: every step at its largest (a held leaf with its
/// key and a full value, and a full path) fits.
pub const STORAGE_PROOF_BYTES_MAX: usize = 4 + STORAGE_PROOF_STEPS_MAX
    * (32 + 1 + 32 + 4 + STORAGE_VALUE_BYTES_MAX + 16 + 4 + STORAGE_PATH_NODES_MAX * 32);

/// What a slot's path held before a proof step.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum SlotLeaf {
    /// Nothing: the empty leaf (the key is absent).
    Absent,
    /// The key, with this value (possibly empty).
    Present(Vec<u8>),
    /// Another key, with its value: the key is absent, and cannot be written.
    Held {
        /// The key that holds the path.
        key: [u8; 32],
        /// Its value.
        value: Vec<u8>,
    },
}

impl SlotLeaf {
    /// What slot `key`'s path holds, given the slot stored at that path (its key
    /// and value), if any.
    pub fn of(key: &[u8; 32], stored: Option<(&[u8; 32], &[u8])>) -> Self {
        match stored {
            None => Self::Absent,
            Some((k, value)) if k == key => Self::Present(value.to_vec()),
            Some((k, value)) => Self::Held {
                key: *k,
                value: value.to_vec(),
            },
        }
    }

    /// The key's value this leaf shows (`None`: absent).
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Self::Present(value) => Some(value),
            Self::Absent | Self::Held { .. } => None,
        }
    }
}

/// A path with its empty siblings left out: bit `h` of `occupied` is set when
/// sibling `h` is not the empty subtree of height `h`, and `nodes` holds those
/// siblings, packed (`ghostplane_stark::wire::pack_digest`), leaf level first. A
/// slot of a contract with `n` slots has about `log2(n)` of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CompactPath {
    /// Which siblings are listed.
    pub occupied: u128,
    /// The listed siblings, packed.
    pub nodes: Vec<[u8; 32]>,
}

/// One slot's step of a storage proof: the slot's leaf before, and its path's
/// siblings in the tree as the steps before it left it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SlotStep {
    /// The slot's key.
    pub key: [u8; 32],
    /// What its path held before this step.
    pub old: SlotLeaf,
    /// Its path.
    pub path: CompactPath,
}

/// One contract transaction's storage proof: a step per slot it read or wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StorageProof {
    /// The steps, in [`ContractTrace::storage_accesses`](crate::trace::ContractTrace::storage_accesses) order.
    pub steps: Vec<SlotStep>,
}

/// A storage proof outside the limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StorageProofError {
    /// More steps than a transaction may touch slots.
    #[error("{count} storage proof steps, over the limit of {STORAGE_PROOF_STEPS_MAX}")]
    TooManySteps {
        /// How many.
        count: usize,
    },
    /// A path listing more siblings than the tree is deep.
    #[error("storage proof step {step} lists {count} siblings, over the tree depth of 128")]
    PathTooLong {
        /// The step.
        step: usize,
        /// How many.
        count: usize,
    },
    /// A value over the storage bound.
    #[error(
        "storage proof step {step} shows a value of {len} bytes, over the {STORAGE_VALUE_BYTES_MAX}-byte bound"
    )]
    ValueTooLong {
        /// The step.
        step: usize,
        /// Its length.
        len: usize,
    },
}

impl StorageProof {
    /// Checks the counts and sizes against the limits.
    pub fn check(&self) -> Result<(), StorageProofError> {
        if self.steps.len() > STORAGE_PROOF_STEPS_MAX {
            return Err(StorageProofError::TooManySteps {
                count: self.steps.len(),
            });
        }
        for (step, s) in self.steps.iter().enumerate() {
            if s.path.nodes.len() > STORAGE_PATH_NODES_MAX {
                return Err(StorageProofError::PathTooLong {
                    step,
                    count: s.path.nodes.len(),
                });
            }
            let len = match &s.old {
                SlotLeaf::Absent => 0,
                SlotLeaf::Present(value) | SlotLeaf::Held { value, .. } => value.len(),
            };
            if len > STORAGE_VALUE_BYTES_MAX {
                return Err(StorageProofError::ValueTooLong { step, len });
            }
        }
        Ok(())
    }
}

impl Codec for StorageProof {
    const ENCODED_BYTES_MAX: usize = STORAGE_PROOF_BYTES_MAX;
    const TYPE_NAME: &'static str = "storage proof";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::ReceiptStatus;
    use crate::trace::{ContractTrace, StorageSlot};
    use crate::types::{BlockNumber, ContractAddress, Hash32};

    fn slot(contract: u8, key: u8, value: Option<&[u8]>) -> StorageSlot {
        StorageSlot {
            contract: ContractAddress([contract; 32]),
            key: Hash32([key; 32]),
            value: value.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn accesses_are_reads_then_unread_writes_each_once() {
        let trace = ContractTrace {
            block: BlockNumber(1),
            time_ms: 0,
            fuel: 0,
            gas_used: 0,
            status: ReceiptStatus::Success,
            reads: vec![slot(1, 1, Some(b"a")), slot(2, 1, None)],
            writes: vec![slot(1, 2, Some(b"b")), slot(1, 1, None), slot(1, 2, None)],
            balances: vec![],
            events: vec![],
        };
        let got: Vec<_> = trace
            .storage_accesses()
            .iter()
            .map(|a| (a.contract.0[0], a.key[0], a.read, a.write))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 1, Some(Some(&b"a"[..])), Some(None)),
                (2, 1, Some(None), None),
                (1, 2, None, Some(Some(&b"b"[..]))),
            ]
        );
    }

    #[test]
    fn a_proof_over_the_limits_is_refused() {
        let step = |old| SlotStep {
            key: [0; 32],
            old,
            path: CompactPath::default(),
        };
        let long = StorageProof {
            steps: vec![step(SlotLeaf::Present(vec![
                0;
                STORAGE_VALUE_BYTES_MAX + 1
            ]))],
        };
        assert!(matches!(
            long.check(),
            Err(StorageProofError::ValueTooLong { step: 0, .. })
        ));
        let mut path = step(SlotLeaf::Absent);
        path.path.nodes = vec![[0; 32]; STORAGE_PATH_NODES_MAX + 1];
        let deep = StorageProof { steps: vec![path] };
        assert!(matches!(
            deep.check(),
            Err(StorageProofError::PathTooLong { count: 129, .. })
        ));
        let many = StorageProof {
            steps: vec![step(SlotLeaf::Absent); STORAGE_PROOF_STEPS_MAX + 1],
        };
        assert!(matches!(
            many.check(),
            Err(StorageProofError::TooManySteps { .. })
        ));
    }
}

//! Contract storage at commit (issue 36, design B: `docs/contract-state-proof.md`).
//!
//! The L1 tracks every contract's storage root (`storage/<address>`: its account,
//! code hash and root), from its deploy (the empty root) on. A batch's pubdata
//! carries, after each contract transaction's trace and moves, one `StorageProof`
//! op: a step per slot the trace read or wrote, in
//! `ContractTrace::storage_accesses` order. The commit check, in op order:
//!
//! ```text
//! StorageProof after trace T (its moves between)
//!   ▼ one step per access of T, each for the access's key
//!   ▼ each read's value is the step's old value (what re-execution then runs on)
//!   ▼ per contract, in order: apply_steps(tracked root, steps, T's writes)
//!   │   checks each old leaf on its path under the running root, applies writes
//!   ▼ the new root is tracked; a contract that is not deployed (a failed deploy's
//!     own address) has the empty root and may not be written
//! ContractKey tail (the batch's last ops)
//!   ▼ exactly one per contract whose root differs from its root before the batch,
//!     in account order, each naming contract_key_field(address, code hash, root)
//!   ▼ the slot re-keys the contract's leaf from its old key field to that one,
//!     so the proven account tree commits every contract's storage root
//! ```
//!
//! So the reads that re-execution runs on are the real state, the writes it
//! checks are what the new roots contain, and the proof's commitment `C` binds the
//! new roots (through the `ContractKey` slots' key fields) to the finalized root.
//!
//! Work: a step costs ~100 µs (read) to ~190 µs (write) of Poseidon2 per validator;
//! a proof has at most `STORAGE_PROOF_STEPS_MAX` steps, a trace at most as many
//! accesses, and a batch's traces are bounded by its fuel and bytes.

use std::collections::{BTreeMap, VecDeque};

use ghostd_module::state::{self, Layer, StateError};
use ghostplane_primitives::{
    AccountId, ContractAddress, ContractTrace, Hash32, PubdataOp, PublicKey, StorageProof,
};
use ghostplane_prover::storage_trees::contract_leaf_key;
use ghostplane_stark::hash::Digest;
use ghostplane_stark::storage::{apply_steps, empty_storage_root};
use ghostplane_stark::wire::{pack_digest, unpack_digest};

use super::{PREFIX, RollupError};

/// A contract's storage as the L1 tracks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct ContractStorage {
    /// Its account id.
    pub account: u32,
    /// Its code hash.
    pub code_hash: [u8; 32],
    /// Its storage root, packed.
    pub root: [u8; 32],
}

fn storage_key(address: &ContractAddress) -> Vec<u8> {
    state::key(PREFIX, &[b"storage", &address.0])
}

/// The storage the L1 tracks for the contract at `address` (deployed by a
/// committed batch).
pub fn contract_storage(
    state: &dyn state::Read,
    address: &ContractAddress,
) -> Result<Option<ContractStorage>, StateError> {
    state::get(state, &storage_key(address))
}

/// A touched contract during a batch: where its storage stood before it.
struct Touched {
    address: ContractAddress,
    code_hash: Hash32,
    before: Digest,
}

/// The batch's storage bookkeeping, op by op.
#[derive(Default)]
pub(crate) struct StorageRoots {
    /// Contracts whose storage a proof touched, by account.
    touched: BTreeMap<u32, Touched>,
    /// Once the tail starts: the `ContractKey` ops still expected.
    tail: Option<VecDeque<(AccountId, PublicKey)>>,
}

fn corrupt(address: &ContractAddress, reason: &str) -> RollupError {
    RollupError::State(StateError::Corrupt {
        key: hex::encode(storage_key(address)),
        reason: reason.into(),
    })
}

fn unpack(address: &ContractAddress, root: &[u8; 32]) -> Result<Digest, RollupError> {
    unpack_digest(root).map_err(|_| corrupt(address, "the storage root is not a packed digest"))
}

impl StorageRoots {
    /// Records a deploy's contract with empty storage; its account leaf's key field.
    pub(crate) fn deploy(
        state: &mut Layer<'_>,
        address: &ContractAddress,
        account: AccountId,
        code_hash: &Hash32,
    ) -> PublicKey {
        let root = empty_storage_root();
        state.put(
            storage_key(address),
            &ContractStorage {
                account: account.get(),
                code_hash: code_hash.0,
                root: pack_digest(&root),
            },
        );
        contract_leaf_key(address, code_hash, &root)
    }

    /// Checks the storage proof at op `op` for `trace` and applies its writes.
    pub(crate) fn check_proof(
        &mut self,
        state: &mut Layer<'_>,
        op: usize,
        trace: &ContractTrace,
        proof: &StorageProof,
    ) -> Result<(), RollupError> {
        let refuse = |reason: String| RollupError::StorageProof { op, reason };
        if self.tail.is_some() {
            return Err(RollupError::ContractKey {
                op,
                detail: "a storage proof after the batch's ContractKey ops".into(),
            });
        }
        let accesses = trace.storage_accesses();
        if proof.steps.len() != accesses.len() {
            return Err(refuse(format!(
                "{} steps for the {} slots its trace read or wrote",
                proof.steps.len(),
                accesses.len()
            )));
        }
        // Steps per contract, in order, with the contract's writes.
        let mut by_contract: Vec<(&ContractAddress, Vec<usize>)> = Vec::new();
        for (j, (access, step)) in accesses.iter().zip(&proof.steps).enumerate() {
            if step.key != *access.key {
                return Err(refuse(format!(
                    "step {j} is for another key than the trace's"
                )));
            }
            if let Some(read) = access.read
                && step.old.value() != read
            {
                return Err(refuse(format!(
                    "step {j}: the trace read a value the storage tree does not hold"
                )));
            }
            match by_contract.iter_mut().find(|(c, _)| *c == access.contract) {
                Some((_, steps)) => steps.push(j),
                None => by_contract.push((access.contract, vec![j])),
            }
        }
        for (address, indices) in by_contract {
            let steps: Vec<_> = indices.iter().map(|&j| proof.steps[j].clone()).collect();
            let write = |key: &[u8; 32]| {
                indices
                    .iter()
                    .find(|&&j| accesses[j].key == key)
                    .and_then(|&j| accesses[j].write)
            };
            let tracked = contract_storage(state, address)?;
            let root = match &tracked {
                Some(t) => unpack(address, &t.root)?,
                None => empty_storage_root(),
            };
            let new = apply_steps(root, &steps, write).map_err(|e| refuse(e.to_string()))?;
            let Some(mut tracked) = tracked else {
                if indices.iter().any(|&j| accesses[j].write.is_some()) {
                    return Err(refuse(format!(
                        "it writes storage of {address}, which is not a deployed contract"
                    )));
                }
                continue;
            };
            if new != root {
                self.touched.entry(tracked.account).or_insert(Touched {
                    address: *address,
                    code_hash: Hash32(tracked.code_hash),
                    before: root,
                });
                tracked.root = pack_digest(&new);
                state.put(storage_key(address), &tracked);
            }
        }
        Ok(())
    }

    /// The expected tail: a `ContractKey` per contract whose root changed.
    fn expected_tail(
        &self,
        state: &Layer<'_>,
        op: usize,
    ) -> Result<VecDeque<(AccountId, PublicKey)>, RollupError> {
        let mut tail = VecDeque::new();
        for (account, t) in &self.touched {
            let tracked = contract_storage(state, &t.address)?
                .ok_or_else(|| corrupt(&t.address, "a touched contract has no storage record"))?;
            let root = unpack(&t.address, &tracked.root)?;
            if root != t.before {
                let id = AccountId::new(*account).map_err(|_| RollupError::Overflow {
                    op,
                    what: "contract account id",
                })?;
                tail.push_back((id, contract_leaf_key(&t.address, &t.code_hash, &root)));
            }
        }
        Ok(tail)
    }

    /// Checks `ContractKey` op `op` against the tail the batch's proofs call for.
    pub(crate) fn rekey(
        &mut self,
        state: &Layer<'_>,
        op: usize,
        contract: AccountId,
        key: &PublicKey,
    ) -> Result<(), RollupError> {
        if self.tail.is_none() {
            self.tail = Some(self.expected_tail(state, op)?);
        }
        let expected = self.tail.as_mut().and_then(VecDeque::pop_front);
        match expected {
            Some((id, k)) if id == contract && k == *key => Ok(()),
            Some((id, _)) if id == contract => Err(RollupError::ContractKey {
                op,
                detail: format!(
                    "contract account {contract} gets a key field that is not its storage root's"
                ),
            }),
            Some((id, _)) => Err(RollupError::ContractKey {
                op,
                detail: format!(
                    "the next ContractKey op must re-key contract account {id}, not {contract}"
                ),
            }),
            None => Err(RollupError::ContractKey {
                op,
                detail: format!(
                    "contract account {contract} is re-keyed, but the batch left its storage root unchanged (or it was re-keyed already)"
                ),
            }),
        }
    }

    /// An op other than `ContractKey` at `op`: refused once the tail started.
    pub(crate) fn not_tail(&self, op: usize) -> Result<(), RollupError> {
        if self.tail.is_some() {
            return Err(RollupError::ContractKey {
                op,
                detail: "an op after the batch's ContractKey ops (they end the batch)".into(),
            });
        }
        Ok(())
    }

    /// At the end of the batch's ops (`ops` of them): no `ContractKey` op missing.
    pub(crate) fn finish(&mut self, state: &Layer<'_>, ops: usize) -> Result<(), RollupError> {
        let left = match self.tail.take() {
            Some(left) => left,
            None => self.expected_tail(state, ops)?,
        };
        match left.front() {
            None => Ok(()),
            Some((id, _)) => Err(RollupError::ContractKey {
                op: ops,
                detail: format!(
                    "the batch changes contract account {id}'s storage root but has no ContractKey op for it"
                ),
            }),
        }
    }
}

/// Is op `i` a contract transaction's trace or move (what a storage proof follows)?
pub(crate) fn follows_trace(ops: &[PubdataOp], i: usize) -> bool {
    i > 0
        && matches!(
            ops[i - 1],
            PubdataOp::ContractTrace(_) | PubdataOp::ContractMove { .. }
        )
}

//! State proofs from the prover's trees ([`TreeProofs`]): what the sequencer's
//! `l2_getProof` answers with (`ghostplane_sequencer::StateProofs`).
//!
//! The account tree and the contracts' storage trees keep every committed batch
//! as a version (nothing is overwritten), and a version at or below the L1's
//! finalized batch never changes again (a rewind drops only versions above the
//! L1's committed batch). So a proof reads the trees at the finalized batch
//! through a reader of its own, beside settlement's writer, with no lock: it
//! checks first that the tree's root at that batch is the L1's finalized root,
//! and checks every answer against it before returning it (a failed check is
//! [`ProofError::RootMismatch`], never a wrong answer).
//!
//! Cost: one RocksDB seek per sibling: 24 for an account (the STARK tree) and
//! 128 per storage key; the sequencer bounds keys per call to 64.

use std::sync::Arc;

use ghostplane_primitives::storage_proof::SlotLeaf;
use ghostplane_primitives::{AccountLeaf, ContractAddress, Hash32};
use ghostplane_prover::storage_trees::contract_leaf_key;
use ghostplane_prover::{AccountTree, TreeHash};
use ghostplane_sequencer::api::{
    AccountLeafView, ContractProofView, HeldSlotView, ProofView, SlotProofView,
};
use ghostplane_sequencer::{ProofError, ProofRequest, StateProofs};
use ghostplane_stark::storage::apply_steps;
use ghostplane_stark::wire::pack_digest;
use rocksdb::DB;

/// Proofs read from the prover's database (the one settlement writes).
pub struct TreeProofs {
    tree: AccountTree,
}

impl TreeProofs {
    /// A reader of the trees in `db` (the prover's database), hashed with `hash`
    /// (the proof backend's tree hash).
    pub fn new(
        db: Arc<DB>,
        hash: Arc<dyn TreeHash>,
    ) -> Result<Self, ghostplane_prover::ProverError> {
        Ok(Self {
            tree: AccountTree::open(db, hash)?,
        })
    }
}

fn read(e: impl std::fmt::Display) -> ProofError {
    ProofError::Read(e.to_string())
}

fn leaf_view(leaf: &AccountLeaf) -> AccountLeafView {
    AccountLeafView {
        key: leaf.public_key.to_hex(),
        nonce: leaf.nonce,
        balances: leaf.balances.iter().map(ToString::to_string).collect(),
    }
}

impl StateProofs for TreeProofs {
    fn prove(&self, request: &ProofRequest) -> Result<ProofView, ProofError> {
        let batch = request.batch;
        let mismatch = ProofError::RootMismatch { batch };
        let root = self.tree.root_at(batch).map_err(read)?;
        if root.as_bytes() != &request.root {
            return Err(mismatch);
        }
        let hash = self.tree.hash();
        let (leaf, siblings) = self.tree.proof_at(request.account, batch).map_err(read)?;
        // An absent account's path leads from the empty leaf (all zeros: the
        // zero leaf's digest, where the backend's tree uses it as empty).
        let zero = AccountLeaf {
            public_key: ghostplane_primitives::PublicKey([0; 32]),
            nonce: 0,
            balances: [0; 4],
        };
        let index = u32::try_from(request.account.index()).map_err(read)?;
        let checked = leaf
            .as_ref()
            .or((hash.leaf(&zero) == hash.empty(0)).then_some(&zero));
        if let Some(checked) = checked {
            let reached = ghostplane_prover::backend::root_from_path(
                hash.as_ref(),
                index,
                checked,
                &siblings,
            );
            if reached != Some(request.root) {
                return Err(mismatch);
            }
        }
        let contract = match &request.contract {
            None => None,
            Some((address, keys)) => Some(self.contract(request, &leaf, address, keys)?),
        };
        Ok(ProofView {
            batch,
            root: hex::encode(request.root),
            tree_hash: hash.name().to_string(),
            account: request.account.get(),
            leaf: leaf.as_ref().map(leaf_view),
            siblings: siblings.iter().map(hex::encode).collect(),
            contract,
        })
    }
}

impl TreeProofs {
    /// A contract's storage root and slots at the batch, checked against its
    /// leaf's key field and its root.
    fn contract(
        &self,
        request: &ProofRequest,
        leaf: &Option<AccountLeaf>,
        address: &ContractAddress,
        keys: &[[u8; 32]],
    ) -> Result<ContractProofView, ProofError> {
        let batch = request.batch;
        let storage = self.tree.storage_trees();
        let not_that = ProofError::NotThatContract {
            account: request.account,
            contract: *address,
            batch,
        };
        let deployed = storage
            .contract_at(address, batch)
            .map_err(read)?
            .ok_or(not_that.clone())?;
        if deployed.account != request.account.get() {
            return Err(not_that);
        }
        let root = storage.root_at(request.account, batch).map_err(read)?;
        let code_hash = Hash32(deployed.code_hash);
        if leaf.map(|l| l.public_key) != Some(contract_leaf_key(address, &code_hash, &root)) {
            return Err(ProofError::RootMismatch { batch });
        }
        let steps = keys
            .iter()
            .map(|key| storage.step_at(request.account, key, batch))
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?;
        // Every path leads to the root (reads only: nothing is written).
        if apply_steps(root, &steps, |_| None).map_err(read)? != root {
            return Err(ProofError::RootMismatch { batch });
        }
        Ok(ContractProofView {
            address: address.to_hex(),
            code_hash: hex::encode(code_hash.0),
            storage_root: hex::encode(pack_digest(&root)),
            storage: steps
                .iter()
                .map(|step| SlotProofView {
                    key: hex::encode(step.key),
                    value: step.old.value().map(hex::encode),
                    held: match &step.old {
                        SlotLeaf::Held { key, value } => Some(HeldSlotView {
                            key: hex::encode(key),
                            value: hex::encode(value),
                        }),
                        SlotLeaf::Absent | SlotLeaf::Present(_) => None,
                    },
                    occupied: step.path.occupied.to_string(),
                    siblings: step.path.nodes.iter().map(hex::encode).collect(),
                })
                .collect(),
        })
    }
}

//! The L2 state rebuilt from the L1 alone (issue 37): no sequencer, no L2 data
//! directory, no operator. What a user runs in exit mode to find its leaf and path.
//!
//! ```text
//! L1History::genesis ─► the rollup genesis: proof parameters (the tree's hash)
//!   │                    and the L2 genesis (keys and balances)
//!   ▼ genesis leaves into the tree; root == the genesis root
//! for batch n in tree.version()+1 ..= the last finalized batch:
//!   ▼ L1History::batch_commit(n): the commit an L1 block holds, its pubdata
//!   │  hashing to the module's record
//!   ▼ decode; the contracts' storage trees take every write of the batch's
//!   │  traces (`StorageTrees::complete` on the ops less their storage proofs and
//!   │  `ContractKey` tail), which must give back exactly the committed proofs and
//!   │  tail: the storage rebuilt is the one the contracts' leaves commit
//!   ▼ the merkleizer applies the ops (the prover's one rule)
//!   ▼ root == the commit's root; the tree (storage included) commits version n
//! the last root == the L1's finalized root (else the rebuild is refused)
//! ```
//!
//! Resumable: a tree already at version `v` continues from batch `v + 1`. Work:
//! the merkleizer's, per op (it also builds the segments' witnesses, which a
//! rebuild then drops).

use std::sync::Arc;

use ghostd_types::client::{L1Error, L1History};
use ghostplane_primitives::{BatchNumber, FieldBytes, PubdataOp, decode_pubdata};
use ghostplane_prover::{AccountTree, Merkleizer, ProofBackend};
use rocksdb::WriteBatch;

/// Why a rebuild stopped.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The L1 could not be read.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The tree failed.
    #[error("prover tree: {0}")]
    Prover(#[from] ghostplane_prover::ProverError),
    /// Committed pubdata does not decode.
    #[error("batch {batch}'s pubdata: {source}")]
    Pubdata {
        /// The batch.
        batch: u64,
        /// The decoder's error.
        source: ghostplane_primitives::PubdataError,
    },
    /// The genesis does not record the L2 genesis balances.
    #[error(
        "the L1 genesis does not record the L2 genesis balances (rollup.genesis_balances): the state cannot be rebuilt from the L1 alone"
    )]
    NoL2Genesis,
    /// The genesis's proof parameters do not give a backend.
    #[error("the genesis's proof parameters: {0}")]
    Backend(String),
    /// A root differs from the L1's.
    #[error("after {what}, the rebuilt root is {got}, the L1 records {expected}")]
    RootMismatch {
        /// Where.
        what: String,
        /// The L1's.
        expected: FieldBytes,
        /// The rebuild's.
        got: FieldBytes,
    },
    /// A batch's storage proofs or contract keys are not what its traces give.
    #[error(
        "batch {0}'s storage proofs or contract keys differ from what its contract traces give"
    )]
    StorageMismatch(u64),
    /// A batch the L1 counts as committed is missing.
    #[error("the L1 has no commit of batch {0}")]
    MissingBatch(u64),
    /// The tree is ahead of the L1's finalized batches.
    #[error("the tree is at batch {tree}, past the L1's last finalized batch {finalized}")]
    Ahead {
        /// The tree's version.
        tree: u64,
        /// The L1's.
        finalized: u64,
    },
}

/// Where a rebuild ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// The last finalized batch, applied.
    pub batch: u64,
    /// Its root (equal to the L1's finalized root).
    pub root: FieldBytes,
    /// Ops applied by this run.
    pub ops: u64,
}

/// The backend of `l1`'s genesis (its tree hash is what the rebuild uses).
pub async fn genesis_backend(l1: &impl L1History) -> Result<Arc<dyn ProofBackend>, RebuildError> {
    let genesis = l1.genesis().await?;
    let params = &genesis.rollup.proof;
    ghostplane_prover::backend::verifier_from_params(
        params.system,
        params.params_hash,
        &params.verifier_params,
        params.segment_ops_max(),
    )
    .map_err(|e| RebuildError::Backend(e.to_string()))
}

/// Rebuilds `tree` (opened with `backend`'s tree hash) up to the L1's last
/// finalized batch, from the L1 alone.
pub async fn rebuild(
    l1: &impl L1History,
    backend: &dyn ProofBackend,
    tree: &mut AccountTree,
) -> Result<Rebuilt, RebuildError> {
    let genesis = l1.genesis().await?;
    let rollup = genesis.rollup;
    let state = l1.rollup_state().await?;
    if tree.version() == 0 && tree.root_at(0)? != rollup.genesis_root {
        let l2 = rollup.l2_genesis().ok_or(RebuildError::NoL2Genesis)?;
        let leaves = l2.leaves().ok_or(RebuildError::NoL2Genesis)?;
        tree.update_many(&leaves)?;
        tree.commit(0, WriteBatch::default())?;
        let root = tree.root()?;
        if root != rollup.genesis_root {
            return Err(RebuildError::RootMismatch {
                what: "the L2 genesis".into(),
                expected: rollup.genesis_root,
                got: root,
            });
        }
    }
    if tree.version() > state.finalized {
        return Err(RebuildError::Ahead {
            tree: tree.version(),
            finalized: state.finalized,
        });
    }
    let mut ops_applied = 0u64;
    for number in tree.version() + 1..=state.finalized {
        let commit = l1
            .batch_commit(number)
            .await?
            .ok_or(RebuildError::MissingBatch(number))?;
        let ops = decode_pubdata(&commit.pubdata).map_err(|source| RebuildError::Pubdata {
            batch: number,
            source,
        })?;
        // The contracts' storage, from the traces' writes.
        let bare: Vec<PubdataOp> = ops
            .iter()
            .filter(|op| !op.is_storage_completion())
            .cloned()
            .collect();
        let completed = tree.storage().complete(&bare);
        let storage_matches = match &completed {
            Ok(completed) => *completed == ops,
            Err(_) => false,
        };
        if !storage_matches {
            tree.discard();
            return Err(match completed {
                Err(e) => e.into(),
                Ok(_) => RebuildError::StorageMismatch(number),
            });
        }
        let built = Merkleizer::new(tree, backend, rollup.l2_chain_id).build_batch(
            BatchNumber(number),
            commit.fee_account,
            &ops,
        );
        if let Err(e) = built {
            tree.discard();
            return Err(e.into());
        }
        let root = tree.root()?;
        if root != commit.new_root {
            tree.discard();
            return Err(RebuildError::RootMismatch {
                what: format!("batch {number}"),
                expected: commit.new_root,
                got: root,
            });
        }
        tree.commit(number, WriteBatch::default())?;
        ops_applied += ops.len() as u64;
    }
    let root = tree.root()?;
    if root != state.finalized_root {
        return Err(RebuildError::RootMismatch {
            what: format!("the last finalized batch ({})", state.finalized),
            expected: state.finalized_root,
            got: root,
        });
    }
    Ok(Rebuilt {
        batch: state.finalized,
        root,
        ops: ops_applied,
    })
}

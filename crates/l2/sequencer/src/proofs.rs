//! State proofs (`l2_getProof`): the sequencer answers them through a
//! [`StateProofs`] that settlement provides (it owns the prover's account and
//! storage trees, versioned per batch), against the last finalized batch and root
//! settlement read from the L1 ([`crate::SettledMarks::finalized_root`]).
//! A sequencer without settlement has none and answers `UNAVAILABLE`.

use ghostplane_l2_api::ProofView;
use ghostplane_primitives::{AccountId, ContractAddress};

/// What `l2_getProof` proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRequest {
    /// The finalized batch.
    pub batch: u64,
    /// Its account root, as the L1 holds it (32 bytes).
    pub root: [u8; 32],
    /// The account (its leaf index).
    pub account: AccountId,
    /// The contract whose account it is, if any, with the storage keys to prove.
    pub contract: Option<(ContractAddress, Vec<[u8; 32]>)>,
}

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The trees do not (or no longer) hold the batch with the L1's root.
    #[error("the prover's tree at batch {batch} does not have the L1's finalized root; retry")]
    RootMismatch {
        /// The batch.
        batch: u64,
    },
    /// The account at that id is not the contract asked for at that batch.
    #[error(
        "account {account} is not contract {contract} at finalized batch {batch} (deployed after it?)"
    )]
    NotThatContract {
        /// The account.
        account: AccountId,
        /// The contract.
        contract: ContractAddress,
        /// The batch.
        batch: u64,
    },
    /// Reading the trees failed.
    #[error("reading the prover's trees failed: {0}")]
    Read(String),
}

/// Makes state proofs from the trees a batch committed.
pub trait StateProofs: Send + Sync {
    /// The leaf of `request.account` and, for a contract, its storage root and
    /// slots, each with its path, as of `request.batch` (checked to have
    /// `request.root`).
    fn prove(&self, request: &ProofRequest) -> Result<ProofView, ProofError>;
}

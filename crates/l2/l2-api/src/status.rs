//! [`TxStatus`]: where a transaction is in its life, as `l2_getTransactionStatus`
//! answers and `l2_subscribeTransactionStatus` notifies it.

use serde::{Deserialize, Serialize};

/// Where a transaction is in its life, as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum TxStatus {
    /// Decoded and queued for verification.
    Received,
    /// Durable in the WAL: will be executed unless dropped.
    Accepted,
    /// Included in a block.
    Executed {
        /// The block.
        block: u64,
        /// Whether it succeeded (a failed one still paid its fee).
        success: bool,
    },
    /// Its block is in a batch whose pubdata is committed on the L1.
    Committed {
        /// The block.
        block: u64,
        /// Whether it succeeded.
        success: bool,
    },
    /// Its batch's proof is verified on the L1: final.
    Finalized {
        /// The block.
        block: u64,
        /// Whether it succeeded.
        success: bool,
    },
    /// Refused at submission.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Accepted, then removed without execution (replaced, gap timeout, or dropped
    /// by the executor).
    Dropped {
        /// Why.
        reason: String,
    },
    /// Never seen, or forgotten (the status board is bounded; a deposit not yet
    /// picked up).
    Unknown,
}

impl TxStatus {
    /// Whether the sequencer's own part is over (the status board forgets it; later
    /// changes come from settlement).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TxStatus::Executed { .. }
                | TxStatus::Committed { .. }
                | TxStatus::Finalized { .. }
                | TxStatus::Rejected { .. }
                | TxStatus::Dropped { .. }
        )
    }

    /// The status's name on the wire (`accepted`, `executed`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            TxStatus::Received => "received",
            TxStatus::Accepted => "accepted",
            TxStatus::Executed { .. } => "executed",
            TxStatus::Committed { .. } => "committed",
            TxStatus::Finalized { .. } => "finalized",
            TxStatus::Rejected { .. } => "rejected",
            TxStatus::Dropped { .. } => "dropped",
            TxStatus::Unknown => "unknown",
        }
    }

    /// The including block and whether the transaction succeeded, once executed.
    pub fn executed(&self) -> Option<(u64, bool)> {
        match self {
            TxStatus::Executed { block, success }
            | TxStatus::Committed { block, success }
            | TxStatus::Finalized { block, success } => Some((*block, *success)),
            _ => None,
        }
    }

    /// Why it was rejected or dropped.
    pub fn reason(&self) -> Option<&str> {
        match self {
            TxStatus::Rejected { reason } | TxStatus::Dropped { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the status can never change again.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TxStatus::Finalized { .. } | TxStatus::Rejected { .. } | TxStatus::Dropped { .. }
        )
    }
}

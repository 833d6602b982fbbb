//! Why a submission was refused, with stable JSON-RPC error codes.

use ghostplane_primitives::{
    AccountId, ChainId, CodecError, Hash32, Nonce, SignatureError, StatelessError,
};
use ghostplane_proof_api::ProofSystem;
use ghostplane_rpc::codes;

/// Why a submitted transaction was not accepted. Each variant has a stable code
/// ([`SubmitError::code`]) and machine-readable data ([`SubmitError::data`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Larger than `tx_bytes_max`.
    #[error("transaction is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a valid encoding (hex or binary).
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// A stateless check failed.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] StatelessError),
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The transaction's chain.
        got: ChainId,
    },
    /// The signature does not verify (or the key is not a valid ed25519 key).
    #[error("bad signature: {0}")]
    BadSignature(SignatureError),
    /// The sender has no account.
    #[error("sender account {0} does not exist")]
    UnknownSender(AccountId),
    /// The signer key does not own the sending account.
    #[error("signer key is not the key of account {0}")]
    SignerMismatch(AccountId),
    /// A contract transaction (`Deploy` or `Call`) on a rollup whose genesis uses
    /// Groth16: contract state is proven by the STARK only, so the L1 refuses a
    /// Groth16 batch that holds one.
    #[error(
        "contract transactions need the STARK backend; this rollup's genesis uses Groth16 (a development backend for native transfers)"
    )]
    ContractsUnsupported,
    /// The nonce was already used or is already queued.
    #[error("nonce {got} too low: next nonce for account {account} is {expected}")]
    NonceTooLow {
        /// Sender.
        account: AccountId,
        /// The next usable nonce.
        expected: Nonce,
        /// The transaction's nonce.
        got: Nonce,
    },
    /// The nonce is too far ahead of the sender's next nonce.
    #[error("nonce {got} is more than {max_gap} ahead of the next nonce {expected}")]
    NonceGapTooLarge {
        /// The next usable nonce.
        expected: Nonce,
        /// The transaction's nonce.
        got: Nonce,
        /// The window.
        max_gap: u64,
    },
    /// A transaction with this nonce is waiting and this one does not pay more.
    #[error(
        "a transaction with nonce {nonce} is already waiting with fee {existing_fee}: replace it with a higher fee"
    )]
    ReplacementUnderpriced {
        /// The nonce.
        nonce: Nonce,
        /// Fee of the waiting transaction.
        existing_fee: u128,
    },
    /// The same transaction is already in the pool.
    #[error("transaction {0} is already pending")]
    AlreadyKnown(Hash32),
    /// The sender has too many transactions pending.
    #[error(
        "account {account} has {pending} transactions pending, the limit; retry after {retry_after_ms} ms"
    )]
    SenderPoolFull {
        /// Sender.
        account: AccountId,
        /// Its pending count.
        pending: usize,
        /// Retry hint.
        retry_after_ms: u64,
    },
    /// The pool is full.
    #[error("transaction pool is full; retry after {retry_after_ms} ms")]
    PoolFull {
        /// Retry hint.
        retry_after_ms: u64,
    },
    /// The fee is below the transaction's floor: the least fee per proof slot
    /// (a deploy or call), or, for a native transaction, that plus its pubdata at
    /// the L1 data price (`ghostplane_executor::fees`).
    #[error(
        "fee {offered} is below this transaction's minimum of {}: execution {} + {} pubdata bytes × {data_price} (GCC base units); offer the estimate (l2_estimateFee)",
        min.total, min.execution, min.pubdata_bytes
    )]
    FeeBelowMinimum {
        /// The transaction's (maximum) fee.
        offered: u128,
        /// The floor, in parts.
        min: ghostplane_executor::FeeParts,
        /// The data price it was computed with.
        data_price: u128,
    },
    /// Settlement (batch planning or proving) is behind execution by more than the
    /// configured bound; the transaction was not taken.
    #[error(
        "settlement is behind ({unplanned_txs} transactions not yet batched, {unproven_jobs} proof jobs not yet proven); retry after {retry_after_ms} ms"
    )]
    SettlementBehind {
        /// Executed or pooled transactions not yet in a planned batch.
        unplanned_txs: u64,
        /// Chunk proof jobs not yet proven.
        unproven_jobs: u64,
        /// Suggested wait.
        retry_after_ms: u64,
    },
    /// Settlement stopped for good (the rollup is in exit mode, or the L1's
    /// re-execution of the contracts disagrees with this node's): nothing new
    /// would ever settle, so nothing new is taken.
    #[error("settlement has stopped ({reason}); this sequencer takes no new transactions")]
    SettlementStopped {
        /// Why settlement stopped.
        reason: String,
    },
    /// A pipeline stage is behind (ingest queue full, or the pipeline's byte
    /// budget taken).
    #[error("sequencer is busy; retry after {retry_after_ms} ms")]
    Busy {
        /// Retry hint.
        retry_after_ms: u64,
    },
    /// The sequencer is shutting down or failed.
    #[error("sequencer unavailable: {0}")]
    Unavailable(String),
}

impl From<CodecError> for SubmitError {
    fn from(error: CodecError) -> Self {
        match error {
            CodecError::Oversize { len, max, .. } => SubmitError::TooLarge { len, max },
            other => SubmitError::Malformed(other.to_string()),
        }
    }
}

impl SubmitError {
    /// Every value [`SubmitError::kind`] returns: the rejection counter is
    /// registered at zero for each, so dashboards see every reason from the start.
    pub const KINDS: [&'static str; 19] = [
        "too_large",
        "malformed",
        "invalid",
        "wrong_chain",
        "bad_signature",
        "unknown_sender",
        "signer_mismatch",
        "contracts_unsupported",
        "nonce_too_low",
        "nonce_gap",
        "replacement_underpriced",
        "already_known",
        "sender_pool_full",
        "pool_full",
        "fee_below_minimum",
        "settlement_behind",
        "settlement_stopped",
        "busy",
        "unavailable",
    ];

    /// A short stable name (the `reason` label of the rejection metric), one of
    /// [`SubmitError::KINDS`].
    pub fn kind(&self) -> &'static str {
        match self {
            SubmitError::TooLarge { .. } => "too_large",
            SubmitError::Malformed(_) => "malformed",
            SubmitError::Invalid(_) => "invalid",
            SubmitError::WrongChain { .. } => "wrong_chain",
            SubmitError::BadSignature(_) => "bad_signature",
            SubmitError::UnknownSender(_) => "unknown_sender",
            SubmitError::SignerMismatch(_) => "signer_mismatch",
            SubmitError::ContractsUnsupported => "contracts_unsupported",
            SubmitError::NonceTooLow { .. } => "nonce_too_low",
            SubmitError::NonceGapTooLarge { .. } => "nonce_gap",
            SubmitError::ReplacementUnderpriced { .. } => "replacement_underpriced",
            SubmitError::AlreadyKnown(_) => "already_known",
            SubmitError::SenderPoolFull { .. } => "sender_pool_full",
            SubmitError::PoolFull { .. } => "pool_full",
            SubmitError::FeeBelowMinimum { .. } => "fee_below_minimum",
            SubmitError::SettlementBehind { .. } => "settlement_behind",
            SubmitError::SettlementStopped { .. } => "settlement_stopped",
            SubmitError::Busy { .. } => "busy",
            SubmitError::Unavailable(_) => "unavailable",
        }
    }

    /// Stable JSON-RPC error code, from the project-wide table ([`codes`]).
    pub fn code(&self) -> i32 {
        match self {
            SubmitError::TooLarge { .. } => codes::TOO_LARGE,
            SubmitError::Malformed(_) => codes::MALFORMED,
            SubmitError::Invalid(_) => codes::INVALID,
            SubmitError::WrongChain { .. } => codes::WRONG_CHAIN,
            SubmitError::BadSignature(_) => codes::BAD_SIGNATURE,
            SubmitError::UnknownSender(_) => codes::UNKNOWN_SENDER,
            SubmitError::SignerMismatch(_) => codes::SIGNER_MISMATCH,
            SubmitError::ContractsUnsupported => codes::CONTRACTS_UNSUPPORTED,
            SubmitError::NonceTooLow { .. } => codes::NONCE_TOO_LOW,
            SubmitError::NonceGapTooLarge { .. } => codes::NONCE_GAP,
            SubmitError::ReplacementUnderpriced { .. } => codes::REPLACEMENT_UNDERPRICED,
            SubmitError::AlreadyKnown(_) => codes::ALREADY_KNOWN,
            SubmitError::SenderPoolFull { .. } => codes::SENDER_POOL_FULL,
            SubmitError::PoolFull { .. } => codes::POOL_FULL,
            SubmitError::Busy { .. } => codes::BUSY,
            SubmitError::SettlementBehind { .. } => codes::SETTLEMENT_BEHIND,
            SubmitError::SettlementStopped { .. } => codes::SETTLEMENT_STOPPED,
            SubmitError::FeeBelowMinimum { .. } => codes::FEE_BELOW_MINIMUM,
            SubmitError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }

    /// Data a client can act on (expected nonce, retry hint, limits).
    pub fn data(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            SubmitError::TooLarge { len, max } => json!({ "len": len, "max": max }),
            SubmitError::WrongChain { expected, got } => {
                json!({ "expectedChainId": expected.0, "chainId": got.0 })
            }
            SubmitError::UnknownSender(account) | SubmitError::SignerMismatch(account) => {
                json!({ "account": account.get() })
            }
            SubmitError::NonceTooLow {
                account,
                expected,
                got,
            } => {
                json!({ "account": account.get(), "expectedNonce": expected, "nonce": got })
            }
            SubmitError::NonceGapTooLarge {
                expected,
                got,
                max_gap,
            } => {
                json!({ "expectedNonce": expected, "nonce": got, "maxGap": max_gap })
            }
            SubmitError::ReplacementUnderpriced {
                nonce,
                existing_fee,
            } => {
                json!({ "nonce": nonce, "existingFee": existing_fee.to_string() })
            }
            SubmitError::ContractsUnsupported => json!({
                "proofSystem": ProofSystem::Groth16.name(),
                "requiredProofSystem": ProofSystem::Stark.name()
            }),
            SubmitError::AlreadyKnown(hash) => json!({ "hash": hash.to_string() }),
            SubmitError::SenderPoolFull {
                account,
                pending,
                retry_after_ms,
            } => {
                json!({ "account": account.get(), "pending": pending, "retryAfterMs": retry_after_ms })
            }
            SubmitError::PoolFull { retry_after_ms } | SubmitError::Busy { retry_after_ms } => {
                json!({ "retryAfterMs": retry_after_ms })
            }
            SubmitError::FeeBelowMinimum {
                offered,
                min,
                data_price,
            } => json!({
                "fee": offered.to_string(),
                "minFee": min.total.to_string(),
                "estimate": {
                    "execution": min.execution.to_string(),
                    "pubdataBytes": min.pubdata_bytes,
                    "dataPrice": data_price.to_string(),
                    "pubdata": min.pubdata.to_string(),
                    "total": min.total.to_string(),
                },
            }),
            SubmitError::SettlementBehind {
                unplanned_txs,
                unproven_jobs,
                retry_after_ms,
            } => json!({
                "unplannedTxs": unplanned_txs,
                "unprovenJobs": unproven_jobs,
                "retryAfterMs": retry_after_ms
            }),
            SubmitError::SettlementStopped { reason } => json!({ "reason": reason }),
            SubmitError::Malformed(_)
            | SubmitError::Invalid(_)
            | SubmitError::BadSignature(_)
            | SubmitError::Unavailable(_) => serde_json::Value::Null,
        }
    }
}

//! The prover's error type.

use ghostplane_primitives::AccountId;

/// Everything that can go wrong in the prover crate.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// RocksDB failed.
    #[error("prover store: {0}")]
    Db(#[from] rocksdb::Error),
    /// A column family is missing: the store was opened with the wrong layout.
    #[error("prover store is missing column family `{0}`")]
    MissingColumn(&'static str),
    /// A stored value does not decode.
    #[error("prover store holds a corrupt {0}; restore the data dir from a backup")]
    Corrupt(&'static str),
    /// A commit would not move the tree forward.
    #[error("tree version {requested} is not after the committed version {current}")]
    VersionOrder {
        /// Committed version.
        current: u64,
        /// Requested version.
        requested: u64,
    },
    /// An op names an account the tree does not hold.
    #[error("op {op} touches account {account:?}, which the tree does not hold")]
    UnknownAccount {
        /// Position of the op in the batch.
        op: usize,
        /// The account.
        account: AccountId,
    },
    /// An op cannot be applied to the tree: the executor's ops and the tree disagree.
    #[error("op {op} cannot be applied to the account tree: {reason}")]
    InvalidOp {
        /// Position of the op in the batch.
        op: usize,
        /// What failed.
        reason: &'static str,
    },
    /// The tree was read or committed with staged writes not yet hashed.
    #[error(
        "the account tree has {0} staged writes that were not flushed (a bug in the caller: flush before reading roots or committing)"
    )]
    Unflushed(usize),
    /// The store's tree was written with another hash (another proof system).
    #[error(
        "the prover store's account tree uses {stored}, this node is configured for {requested}; use a fresh data dir or the proof system it was created with"
    )]
    TreeHashMismatch {
        /// The stored tree hash.
        stored: String,
        /// The configured one.
        requested: String,
    },
    /// The proof backend refused.
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// A contract storage update was refused (a value over the bound, or a key
    /// whose path another key holds).
    #[error("contract storage: {0}")]
    Storage(#[from] ghostplane_stark::storage::StorageError),
    /// Groth16 keys, setup or proofs (the `ghostplane-groth16` backend's own errors).
    #[error(transparent)]
    Groth16(#[from] ghostplane_groth16::Groth16Error),
    /// File system error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

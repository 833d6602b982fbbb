//! What goes into a block execution and what comes out.

use ghostplane_primitives::{
    AccountId, Amount, BlockNumber, Codec, ContractAddress, DepositEvent, ForcedWithdrawalEvent,
    Hash32, L2BlockHeader, Nonce, PubdataOp, Receipt, SignedTransaction, StatelessError,
};

use crate::state::StateWrite;

/// One entry of an ordered L2 block.
#[derive(Debug, Clone)]
pub enum BlockItem {
    /// A user transaction. Its signature must already have been verified for the
    /// executor's chain id (the sequencer does this in batches at ingest); the executor
    /// checks that the signer key is the sending account's key.
    Transaction {
        /// The transaction.
        tx: SignedTransaction,
        /// Its hash (blake3 of the signed encoding).
        hash: Hash32,
    },
    /// An L1 deposit, consumed in L1 queue order.
    Deposit(DepositEvent),
    /// A withdrawal forced from the L1, consumed in its queue's order: pays
    /// `min(requested, balance)`, never fails.
    ForcedWithdrawal(ForcedWithdrawalEvent),
}

impl BlockItem {
    /// Wraps a signature-verified transaction, computing its hash.
    pub fn transaction(tx: SignedTransaction) -> Self {
        let hash = tx.hash();
        BlockItem::Transaction { tx, hash }
    }

    /// The item's hash: the transaction hash, or blake3 of the encoded L1 event.
    pub fn hash(&self) -> Hash32 {
        match self {
            BlockItem::Transaction { hash, .. } => *hash,
            BlockItem::Deposit(deposit) => Hash32(*blake3::hash(&deposit.encode()).as_bytes()),
            BlockItem::ForcedWithdrawal(forced) => {
                Hash32(*blake3::hash(&forced.encode()).as_bytes())
            }
        }
    }
}

/// An ordered block to execute.
#[derive(Debug, Clone)]
pub struct BlockInput {
    /// Height; must follow the last committed block.
    pub number: BlockNumber,
    /// Wall-clock time of the block, ms since the Unix epoch (contracts can read it).
    pub timestamp_ms: u64,
    /// Account credited with the block's fees, after its last transaction.
    pub fee_account: AccountId,
    /// The items, in order.
    pub items: Vec<BlockItem>,
}

/// Why a transaction was left out of the block. A dropped transaction changes no
/// state, pays nothing and gets no receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    /// The sending account does not exist.
    #[error("sender account {0} does not exist")]
    UnknownSender(AccountId),
    /// The sending account is a contract's: contracts move tokens only by their
    /// code, and send no transactions.
    #[error("account {0} is a contract's: contracts send no transactions")]
    ContractSender(AccountId),
    /// The signer key is not the sending account's key.
    #[error("signer key is not the key of account {0}")]
    SignerMismatch(AccountId),
    /// The nonce is not the account's next nonce.
    #[error("nonce {got} is wrong: account nonce is {expected}")]
    BadNonce {
        /// The account's nonce.
        expected: Nonce,
        /// The transaction's nonce.
        got: Nonce,
    },
    /// The fee is below the chain's minimum.
    #[error("fee {offered} is below the minimum fee {min}")]
    FeeBelowMinimum {
        /// The transaction's (maximum) fee.
        offered: Amount,
        /// The minimum.
        min: Amount,
    },
    /// A transfer to a new key offers less than the minimum fee plus the account
    /// creation fee ([`ACCOUNT_CREATION_FEE`](ghostplane_primitives::ACCOUNT_CREATION_FEE)).
    #[error(
        "fee {offered} is below {min}: a transfer to a new key pays the minimum fee plus the account creation fee"
    )]
    AccountCreationFee {
        /// The transaction's fee.
        offered: Amount,
        /// The minimum fee plus the account creation fee.
        min: Amount,
    },
    /// The sender cannot pay the (maximum) fee in GCC.
    #[error("cannot pay the fee: needs {needed} GCC, has {available}")]
    CannotPayFee {
        /// The fee.
        needed: Amount,
        /// GCC balance.
        available: Amount,
    },
    /// The transaction fails a stateless check.
    #[error(transparent)]
    Stateless(#[from] StatelessError),
    /// The block's pubdata budget cannot take this transaction's ops and storage
    /// writes; resubmit it (a transaction over the whole budget never fits).
    #[error(
        "block pubdata budget full: the transaction needs {needed} bytes, {left} are left (at most {max} per block)"
    )]
    BlockPubdataFull {
        /// Bytes the transaction would add.
        needed: usize,
        /// Bytes left in the block.
        left: usize,
        /// The per-block budget.
        max: usize,
    },
    /// The block's contract fuel budget (the genesis's fuel per batch, so that any
    /// block fits a batch) is used up.
    #[error(
        "block fuel budget full: the transaction's contract code is given {needed} fuel, {left} is left (at most {max} per block)"
    )]
    BlockFuelFull {
        /// Fuel its contract code was given.
        needed: u64,
        /// Fuel left in the block.
        left: u64,
        /// The per-block budget.
        max: u64,
    },
}

/// A transaction left out of the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTx {
    /// Position in the input block.
    pub index: u32,
    /// Transaction hash.
    pub hash: Hash32,
    /// Why.
    pub reason: DropReason,
}

/// Everything a block's execution produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// The block header (includes the chained execution digest).
    pub header: L2BlockHeader,
    /// One receipt per included item, in order.
    pub receipts: Vec<Receipt>,
    /// The signed encoding of each included transaction (L1 events have none),
    /// by hash, in order: kept for `l2_getTransaction`.
    pub bodies: Vec<(Hash32, Vec<u8>)>,
    /// Transactions left out, with reasons.
    pub dropped: Vec<DroppedTx>,
    /// The ops in execution order, as the prover and pubdata need them: transfers,
    /// new-account transfers, deposits, withdrawals, `FeeOnly` for failed
    /// transactions, and for each deploy or call its `ContractTx` (or `FeeOnly`),
    /// `ContractTrace` and `ContractMove`s.
    pub ops: Vec<PubdataOp>,
    /// The contract storage diff: final value per touched slot (`None` = deleted),
    /// sorted by contract and slot.
    pub storage_diff: Vec<(ContractAddress, [u8; 32], Option<Vec<u8>>)>,
    /// Every state write of the block, sorted by key: what is committed.
    pub writes: Vec<StateWrite>,
    /// GCC credited to the fee account.
    pub fees_collected: Amount,
}

impl BlockOutput {
    /// The block's pubdata: its ops in order (each contract transaction's op
    /// followed by its `ContractTrace` and its `ContractMove`s).
    pub fn pubdata(&self) -> Result<Vec<u8>, ghostplane_primitives::PubdataError> {
        ghostplane_primitives::encode_pubdata(&self.ops)
    }
}

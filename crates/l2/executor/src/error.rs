//! The executor's error: what stops a block from being executed or committed.

use ghostplane_primitives::AccountId;

use crate::state::StoreError;
use crate::wasm::RuntimeError;

/// Errors that stop a block from being executed or committed. None of them is a
/// transaction's fault: those end in receipts or drops.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The contract runtime failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The store has no genesis block yet.
    #[error("the state store has no genesis: run genesis first")]
    NoGenesis,
    /// Genesis was asked for on a store that already has blocks.
    #[error("the state store already has a genesis block")]
    GenesisExists,
    /// Genesis lists more accounts than the tree holds, or a key twice.
    #[error("invalid genesis: {0}")]
    BadGenesis(String),
    /// The block's fee account does not exist.
    #[error("fee account {0} does not exist")]
    UnknownFeeAccount(AccountId),
    /// The block does not follow the last committed block.
    #[error("block {got} does not follow block {last}")]
    OutOfOrder {
        /// The block offered.
        got: u64,
        /// The last committed block.
        last: u64,
    },
    /// Crediting fees would overflow the fee account (impossible with a bounded supply).
    #[error("fee account balance would overflow")]
    FeeOverflow,
    /// A deposit would overflow a balance (impossible with a bounded supply).
    #[error("deposit {queue_index} would overflow a balance")]
    DepositOverflow {
        /// The deposit.
        queue_index: u64,
    },
    /// A deposit needs a new account and the tree is full. Unreachable while the
    /// L1 enforces the deposit reserve (see `rules::deposit_item`); kept as a block
    /// error because pubdata has no op to hand the deposit back for a refund.
    #[error("deposit {queue_index} needs a new account and all 2^24 ids are taken")]
    AccountsExhausted {
        /// The deposit.
        queue_index: u64,
    },
    /// A forced withdrawal names an account this L2 does not have as a user's.
    /// Unreachable: the L1 queues one only for a user's account in committed
    /// state, which the sequencer's state extends.
    #[error(
        "forced withdrawal {queue_index} names account {account}, which is not a user's account here"
    )]
    ForcedAccount {
        /// The request.
        queue_index: u64,
        /// The account.
        account: AccountId,
    },
    /// The block's pubdata cannot be encoded (a value over the format's limits).
    #[error("block pubdata: {0}")]
    Pubdata(#[from] ghostplane_primitives::PubdataError),
    /// Re-execution was asked of a transaction that is not a deploy or a call.
    #[error("only deploys and calls are re-executed")]
    NotAContractTransaction,
    /// Re-executing a posted contract transaction dropped it: the posted ops
    /// cannot be what the sequencer produced.
    #[error("the transaction is dropped on re-execution: {0}")]
    DroppedOnReexecution(String),
    /// The thread pool could not be built.
    #[error("cannot start the executor thread pool: {0}")]
    ThreadPool(String),
    /// The block has more items than allowed.
    #[error("block has {got} items, over the {max} limit")]
    BlockTooLarge {
        /// Items in the block.
        got: usize,
        /// The limit.
        max: usize,
    },
}

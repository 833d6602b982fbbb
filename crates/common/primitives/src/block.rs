//! Receipts, L2 block headers, batch headers, and the L1's deposit and forced
//! withdrawal events.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::codec::Codec;
use crate::constants::{HEADER_BYTES_MAX, RECEIPT_BYTES_MAX};
use crate::poseidon::FieldBytes;
use crate::types::{
    AccountId, Amount, BatchNumber, BlockNumber, ContractAddress, Hash32, L1Address, PublicKey,
    TokenId,
};

/// Why an included transaction failed. A failed transaction still pays its fee and
/// consumes its nonce; all its other effects are rolled back.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, thiserror::Error)]
pub enum FailureReason {
    /// The sender lacks the balance for the amount plus fee.
    #[error("insufficient {token} balance: needed {needed}, available {available}")]
    InsufficientBalance {
        /// Token short.
        token: TokenId,
        /// Amount needed.
        needed: Amount,
        /// Amount held.
        available: Amount,
    },
    /// A credit would overflow the recipient's balance.
    #[error("{token} balance of account {account} would overflow")]
    BalanceOverflow {
        /// Token.
        token: TokenId,
        /// The account credited.
        account: AccountId,
    },
    /// The recipient account does not exist.
    #[error("account {0} does not exist")]
    UnknownAccount(AccountId),
    /// A transfer to a new account named a key that already has an account.
    #[error("key {0} already has an account: transfer to its account id instead")]
    AccountExists(PublicKey),
    /// A new-account transfer named bytes that are not a usable ed25519 key.
    #[error("{0} is not a valid ed25519 public key")]
    InvalidPublicKey(PublicKey),
    /// The offered (maximum) fee does not cover the fixed cost.
    #[error("fee {offered} GCC is below the {needed} GCC this transaction costs")]
    FeeTooLow {
        /// The cost.
        needed: Amount,
        /// The fee offered.
        offered: Amount,
    },
    /// The account tree is full.
    #[error("no free account id left")]
    AccountsExhausted,
    /// No contract at the address.
    #[error("no contract at {0}")]
    UnknownContract(ContractAddress),
    /// The module failed validation at deploy time.
    #[error("invalid contract module: {0}")]
    InvalidModule(String),
    /// The call used all its fuel.
    #[error("out of fuel after {fuel_used} units")]
    OutOfFuel {
        /// Fuel burned.
        fuel_used: u64,
    },
    /// The contract trapped (memory bound, stack overflow, unreachable, ...).
    #[error("contract trapped: {0}")]
    Trap(String),
    /// The contract reverted with data.
    #[error("contract reverted ({} bytes of data)", .0.len())]
    Revert(Vec<u8>),
    /// The contract nested calls deeper than the executor allows. The limit is
    /// counted in wasm frames by the executor's own instrumentation, so it is the
    /// same on every machine (a native stack overflow is not).
    #[error("call depth exceeded: more than {max} nested calls")]
    CallDepthExceeded {
        /// Most nested calls allowed.
        max: u32,
    },
}

/// Outcome of an included transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ReceiptStatus {
    /// All effects applied.
    Success,
    /// Fee charged and nonce consumed; every other effect rolled back.
    Failed(FailureReason),
}

/// An event emitted by a contract.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Event {
    /// The emitting contract.
    pub contract: ContractAddress,
    /// A 32-byte topic chosen by the contract.
    pub topic: Hash32,
    /// Event payload.
    pub data: Vec<u8>,
}

/// The result of one included transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Receipt {
    /// Hash of the signed transaction.
    pub tx_hash: Hash32,
    /// Block that included it.
    pub block: BlockNumber,
    /// Position in the block.
    pub index: u32,
    /// Outcome.
    pub status: ReceiptStatus,
    /// Fuel burned (0 for native ops).
    pub gas_used: u64,
    /// GCC charged.
    pub fee_paid: Amount,
    /// Events, in emission order (empty if the transaction failed).
    pub events: Vec<Event>,
    /// Data returned by a contract call.
    pub return_data: Vec<u8>,
}

impl Codec for Receipt {
    const ENCODED_BYTES_MAX: usize = RECEIPT_BYTES_MAX;
    const TYPE_NAME: &'static str = "receipt";
}

/// Header of an L2 block.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L2BlockHeader {
    /// Height.
    pub number: BlockNumber,
    /// Hash of the previous header (zero for genesis).
    pub parent_hash: Hash32,
    /// Wall-clock time the block was cut, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Account that collects the block's fees.
    pub fee_account: AccountId,
    /// Transactions in the block.
    pub tx_count: u32,
    /// blake3 over the block's transaction hashes, in order.
    pub transactions_hash: Hash32,
    /// The executor's digest, chained over every block's state diff up to this one.
    pub execution_digest: Hash32,
}

impl L2BlockHeader {
    /// The block hash: blake3 of the canonical encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.encode()).as_bytes())
    }
}

impl Codec for L2BlockHeader {
    const ENCODED_BYTES_MAX: usize = HEADER_BYTES_MAX;
    const TYPE_NAME: &'static str = "L2 block header";
}

/// Header of a batch: consecutive L2 blocks settled on L1 together.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchHeader {
    /// Batch number, consecutive from 1.
    pub number: BatchNumber,
    /// First L2 block in the batch.
    pub first_block: BlockNumber,
    /// Last L2 block in the batch (inclusive).
    pub last_block: BlockNumber,
    /// Account tree root before the batch.
    pub old_accounts_root: FieldBytes,
    /// Account tree root after the batch.
    pub new_accounts_root: FieldBytes,
    /// Contract storage root after the batch (attested, not proven).
    pub new_contracts_root: FieldBytes,
    /// blake3 of the batch's pubdata.
    pub pubdata_hash: Hash32,
    /// Number of proof chunks.
    pub chunk_count: u32,
    /// Deposit queue position after the batch's last consumed deposit.
    pub deposits_consumed_to: u64,
}

impl BatchHeader {
    /// The batch hash: blake3 of the canonical encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.encode()).as_bytes())
    }
}

impl Codec for BatchHeader {
    const ENCODED_BYTES_MAX: usize = HEADER_BYTES_MAX;
    const TYPE_NAME: &'static str = "batch header";
}

/// A deposit made on L1, queued for inclusion on L2.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DepositEvent {
    /// Position in the L1 deposit queue, from 0.
    pub queue_index: u64,
    /// L1 block that queued it (forced inclusion is counted from here).
    pub l1_block: u64,
    /// Key of the L2 account credited; the account is created if it does not exist.
    pub recipient: PublicKey,
    /// Token deposited.
    pub token: TokenId,
    /// Amount deposited.
    pub amount: Amount,
    /// Hash of the L1 transaction that made the deposit.
    pub l1_tx_hash: Hash32,
}

impl Codec for DepositEvent {
    const ENCODED_BYTES_MAX: usize = HEADER_BYTES_MAX;
    const TYPE_NAME: &'static str = "deposit event";
}

/// A withdrawal forced from L1: queued by the L1 for an L2 account whose owner
/// signed the request, and included by the sequencer within the forced-inclusion
/// window like a deposit. The L2 withdraws `min(amount, balance)`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ForcedWithdrawalEvent {
    /// Position in the L1 forced-withdrawal queue, from 0.
    pub queue_index: u64,
    /// L1 block that queued it (forced inclusion is counted from here).
    pub l1_block: u64,
    /// The L2 account withdrawn from.
    pub account: AccountId,
    /// Token.
    pub token: TokenId,
    /// Most to withdraw ([`Amount::MAX`]: the whole balance).
    pub amount: Amount,
    /// The L1 recipient.
    pub recipient: L1Address,
    /// Hash of the L1 transaction that queued it.
    pub l1_tx_hash: Hash32,
}

impl Codec for ForcedWithdrawalEvent {
    const ENCODED_BYTES_MAX: usize = HEADER_BYTES_MAX;
    const TYPE_NAME: &'static str = "forced withdrawal event";
}

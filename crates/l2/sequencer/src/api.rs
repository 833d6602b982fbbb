//! The L2's JSON-RPC API as a typed jsonrpsee trait ([`L2Api`]): the server
//! ([`crate::rpc`]) implements the generated `L2ApiServer`; the wallet and the load
//! generator call the generated `L2ApiClient`. No `l2_*` method name is written
//! outside this trait.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `l2_sendTransaction` | signed tx, hex | [`Accepted`] once durable |
//! | `l2_sendTransactionBatch` | array of hex (≤ `rpc_batch_max`) | one [`BatchItem`] each |
//! | `l2_getTransactionStatus` | hash | [`TxStatus`] (`unknown` if never seen) |
//! | `l2_getTransactionReceipt` | hash | [`ReceiptView`] or `null` |
//! | `l2_getAccount` | account id or public key (hex) | [`AccountView`] or `null` |
//! | `l2_getBlock` | number | [`BlockView`] or `null` |
//! | `l2_blockNumber` | | last block number |
//! | `l2_chainId` | | chain id |
//! | `l2_minFee` | | least fee a transaction must offer (GCC base units, decimal string) |
//! | `l2_quicCertificate` | | the QUIC server certificate, DER hex (pin it) |
//! | `l2_subscribeNewBlocks` | | notifications `l2_newBlock` ([`BlockView`]) |
//! | `l2_subscribeTransactionStatus` | hash | notifications `l2_transactionStatus` ([`TxStatus`]) until final |
//!
//! Amounts are decimal strings (u128 does not fit a JSON number). Errors carry the
//! stable codes and data of [`SubmitError`](crate::SubmitError), from the
//! project-wide table `ghostplane_rpc::codes`.

use std::collections::BTreeMap;

use ghostplane_primitives::{L2BlockHeader, Receipt, ReceiptStatus};
use ghostplane_rpc::Outcome;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};

/// Result of a handler.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

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

/// A transaction taken (durable in the WAL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Its hash.
    pub hash: String,
    /// Always `accepted`.
    pub status: String,
}

impl Accepted {
    /// The answer for `hash`.
    pub fn new(hash: &ghostplane_primitives::Hash32) -> Self {
        Self {
            hash: hash.to_string(),
            status: "accepted".into(),
        }
    }
}

/// A refused entry of a batch submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemError {
    /// The code ([`SubmitError::code`](crate::SubmitError::code)).
    pub code: i32,
    /// What went wrong.
    pub message: String,
    /// Machine-readable details (`null` if none).
    pub data: serde_json::Value,
}

/// One entry of `l2_sendTransactionBatch`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchItem {
    /// Taken.
    Accepted(Accepted),
    /// Refused.
    Refused {
        /// Why.
        error: ItemError,
    },
}

/// How `l2_getAccount` names an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AccountQuery {
    /// By id.
    Id(u64),
    /// By public key (hex).
    Key(String),
}

/// An L2 account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Account id.
    pub id: u32,
    /// Its key (hex).
    pub public_key: String,
    /// Next nonce as executed.
    pub nonce: u64,
    /// The nonce a new transaction should use (past those waiting in the pool).
    pub pending_nonce: u64,
    /// Balance by token symbol, decimal strings.
    pub balances: BTreeMap<String, String>,
}

/// An L2 block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderView {
    /// Block number.
    pub number: u64,
    /// Header hash.
    pub hash: String,
    /// Parent's hash.
    pub parent_hash: String,
    /// Cut time, ms since the epoch.
    pub timestamp_ms: u64,
    /// Account that collected the fees.
    pub fee_account: u32,
    /// Transactions in the block.
    pub tx_count: u32,
    /// blake3 over the transaction hashes.
    pub transactions_hash: String,
    /// Digest of the block's execution.
    pub execution_digest: String,
}

impl From<&L2BlockHeader> for HeaderView {
    fn from(header: &L2BlockHeader) -> Self {
        Self {
            number: header.number.0,
            hash: header.hash().to_string(),
            parent_hash: header.parent_hash.to_string(),
            timestamp_ms: header.timestamp_ms,
            fee_account: header.fee_account.get(),
            tx_count: header.tx_count,
            transactions_hash: header.transactions_hash.to_string(),
            execution_digest: header.execution_digest.to_string(),
        }
    }
}

/// A block: header and transaction hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The header.
    #[serde(flatten)]
    pub header: HeaderView,
    /// Transaction hashes, in order.
    pub transactions: Vec<String>,
}

/// A contract event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// Emitting contract.
    pub contract: String,
    /// Topic.
    pub topic: String,
    /// Data, hex.
    pub data: String,
}

/// A transaction's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptView {
    /// Transaction, block, position, `success` or `failed` and why.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Fuel used.
    pub gas_used: u64,
    /// Fee paid (decimal).
    pub fee_paid: String,
    /// Contract events.
    pub events: Vec<EventView>,
    /// Contract return data, hex.
    pub return_data: String,
}

impl From<&Receipt> for ReceiptView {
    fn from(receipt: &Receipt) -> Self {
        let failure = match &receipt.status {
            ReceiptStatus::Success => None,
            ReceiptStatus::Failed(reason) => Some(reason.to_string()),
        };
        Self {
            outcome: Outcome::new(receipt.tx_hash, receipt.block.0, receipt.index, failure),
            gas_used: receipt.gas_used,
            fee_paid: receipt.fee_paid.to_string(),
            events: receipt
                .events
                .iter()
                .map(|e| EventView {
                    contract: e.contract.to_string(),
                    topic: e.topic.to_string(),
                    data: hex::encode(&e.data),
                })
                .collect(),
            return_data: hex::encode(&receipt.return_data),
        }
    }
}

/// The sequencer (`l2_*`).
#[rpc(server, client, namespace = "l2")]
pub trait L2Api {
    /// Submits a signed transaction (borsh, hex); answers once it is durable.
    #[method(name = "sendTransaction")]
    async fn send_transaction(&self, tx: String) -> RpcResult<Accepted>;

    /// Submits up to `rpc_batch_max` transactions; one answer each, in order.
    #[method(name = "sendTransactionBatch")]
    async fn send_transaction_batch(&self, txs: Vec<String>) -> RpcResult<Vec<BatchItem>>;

    /// Where a transaction is.
    #[method(name = "getTransactionStatus")]
    fn get_transaction_status(&self, hash: String) -> RpcResult<TxStatus>;

    /// An executed transaction's receipt.
    #[method(name = "getTransactionReceipt")]
    fn get_transaction_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>>;

    /// An account by id or key.
    #[method(name = "getAccount")]
    fn get_account(&self, account: AccountQuery) -> RpcResult<Option<AccountView>>;

    /// A block by number.
    #[method(name = "getBlock")]
    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>>;

    /// The last block's number.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<u64>;

    /// The chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<u64>;

    /// The least fee a transaction must offer (decimal string).
    #[method(name = "minFee")]
    fn min_fee(&self) -> RpcResult<String>;

    /// The QUIC server certificate, DER hex.
    #[method(name = "quicCertificate")]
    fn quic_certificate(&self) -> RpcResult<String>;

    /// New blocks as they are cut.
    #[subscription(name = "subscribeNewBlocks" => "newBlock", unsubscribe = "unsubscribeNewBlocks", item = BlockView)]
    async fn subscribe_new_blocks(&self) -> SubscriptionResult;

    /// A transaction's status changes, until it is final.
    #[subscription(name = "subscribeTransactionStatus" => "transactionStatus", unsubscribe = "unsubscribeTransactionStatus", item = TxStatus)]
    async fn subscribe_transaction_status(&self, hash: String) -> SubscriptionResult;
}

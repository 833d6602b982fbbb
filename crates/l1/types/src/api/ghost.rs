//! The chain namespace (`ghost_*`): blocks, transactions, accounts, status, and
//! the views it answers with.

use std::collections::BTreeMap;

use ghostplane_primitives::{Codec, CodecError};
use ghostplane_rpc::Outcome;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::rollup::RollupView;
use super::{RpcResult, unhex};
use crate::tx::{L1Header, L1Outcome, L1Receipt};

/// Most transactions per `ghost_sendTransactionBatch` call.
pub const SEND_BATCH_MAX: usize = 4096;

/// An L1 block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderView {
    /// Height.
    pub number: u64,
    /// Header hash.
    pub hash: String,
    /// Parent's hash.
    pub parent_hash: String,
    /// Sealing time, ms since the epoch.
    pub timestamp_ms: u64,
    /// blake3 over the transaction hashes.
    pub transactions_hash: String,
    /// Chained digest of the block's state writes.
    pub state_digest: String,
    /// Transactions in the block.
    pub tx_count: u32,
}

impl From<&L1Header> for HeaderView {
    fn from(header: &L1Header) -> Self {
        Self {
            number: header.number,
            hash: header.hash().to_string(),
            parent_hash: header.parent_hash.to_string(),
            timestamp_ms: header.timestamp_ms,
            transactions_hash: header.transactions_hash.to_string(),
            state_digest: header.state_digest.to_string(),
            tx_count: header.tx_count,
        }
    }
}

/// A block: its header and its transactions' hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// The header.
    #[serde(flatten)]
    pub header: HeaderView,
    /// Transaction hashes, in order.
    pub transactions: Vec<String>,
}

/// A transaction taken into the mempool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// Its hash.
    pub hash: String,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxState {
    /// Waiting in the mempool.
    Pending,
    /// In a block (the receipt says how it ended).
    Included,
    /// Never seen, or dropped from the mempool.
    Unknown,
}

/// An included transaction's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptView {
    /// Transaction, block, position, `success` or `failed` and why.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The module that refused it (`ledger`, `rollup`, `identity`, `naming`;
    /// `null` on success).
    #[serde(default)]
    pub module: Option<String>,
    /// That module's result code (`null` on success; see `L1Outcome::Failed`).
    #[serde(default)]
    pub code: Option<u16>,
    /// For a deposit: its queue index.
    pub deposit_index: Option<u64>,
    /// The receipt's borsh encoding, hex.
    pub encoded: String,
}

impl From<&L1Receipt> for ReceiptView {
    fn from(receipt: &L1Receipt) -> Self {
        let (failure, module, code) = match &receipt.outcome {
            L1Outcome::Success => (None, None, None),
            L1Outcome::Failed {
                module,
                code,
                message,
            } => (
                Some(message.clone()),
                Some(module.name().to_string()),
                Some(*code),
            ),
        };
        Self {
            outcome: Outcome::new(receipt.tx_hash, receipt.block, receipt.index, failure),
            module,
            code,
            deposit_index: receipt.deposit_index,
            encoded: hex::encode(receipt.encode()),
        }
    }
}

impl ReceiptView {
    /// The receipt, from `encoded`.
    pub fn decode(&self) -> Result<L1Receipt, CodecError> {
        L1Receipt::decode(&unhex(&self.encoded)?)
    }
}

/// `ghost_getTransaction`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionView {
    /// Where it is.
    pub status: TxState,
    /// The receipt once included.
    pub receipt: Option<ReceiptView>,
}

/// An L1 account: its nonce and ledger balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The address (hex).
    pub address: String,
    /// Next nonce.
    pub nonce: u64,
    /// Balance by token symbol, decimal strings.
    pub balances: BTreeMap<String, String>,
}

/// `ghost_status`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// L1 chain id.
    pub chain_id: u64,
    /// Head header.
    pub head: HeaderView,
    /// Transactions waiting in the mempool.
    pub mempool: usize,
    /// Rollup counters.
    pub rollup: RollupView,
}

/// One entry of `ghost_sendTransactionBatch`'s answer: a hash, or an error and
/// its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSubmitted {
    /// The transaction hash, if it entered the mempool.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hash: Option<String>,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// The error's code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<i32>,
}

/// The chain: blocks, transactions, accounts (`ghost_*`).
#[rpc(server, client, namespace = "ghost")]
pub trait GhostApi {
    /// The L1 chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<u64>;

    /// The head's height.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<u64>;

    /// blake3 of the genesis, hex.
    #[method(name = "genesisHash")]
    fn genesis_hash(&self) -> RpcResult<String>;

    /// The genesis itself: its borsh encoding, hex.
    #[method(name = "getGenesis")]
    fn get_genesis(&self) -> RpcResult<String>;

    /// A block by height.
    #[method(name = "getBlock")]
    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>>;

    /// Submits a signed transaction (borsh, hex); answers once it is in the
    /// (durable) mempool. Blocking: the dry run of a batch commit verifies every
    /// signature in it.
    #[method(name = "sendTransaction", blocking)]
    fn send_transaction(&self, tx: String) -> RpcResult<Submitted>;

    /// Submits up to [`SEND_BATCH_MAX`] signed transactions (hex) in one durable
    /// write: one answer each, in order.
    #[method(name = "sendTransactionBatch", blocking)]
    fn send_transaction_batch(&self, txs: Vec<String>) -> RpcResult<Vec<BatchSubmitted>>;

    /// Where a transaction is.
    #[method(name = "getTransaction")]
    fn get_transaction(&self, hash: String) -> RpcResult<TransactionView>;

    /// An included transaction itself: its borsh encoding, hex (`null` if no
    /// block holds it). How anyone reads a batch's pubdata back from the L1.
    #[method(name = "getRawTransaction")]
    fn get_raw_transaction(&self, hash: String) -> RpcResult<Option<String>>;

    /// An account's nonce and balances.
    #[method(name = "getAccount")]
    fn get_account(&self, address: String) -> RpcResult<AccountView>;

    /// Head, mempool size and rollup counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<StatusView>;

    /// New block headers as they are committed.
    #[subscription(name = "subscribeNewBlocks" => "newBlock", unsubscribe = "unsubscribeNewBlocks", item = HeaderView)]
    async fn subscribe_new_blocks(&self) -> SubscriptionResult;
}

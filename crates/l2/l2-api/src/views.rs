//! What the `l2_*` methods answer: JSON views of accounts, blocks and receipts
//! (built from the primitives' types), submission answers, and how an account is
//! named in a query. Amounts are decimal strings (u128 does not fit a JSON number).

use std::collections::BTreeMap;

use ghostplane_primitives::{Event, FailureReason, L2BlockHeader, Receipt, ReceiptStatus};
use ghostplane_rpc::Outcome;
use serde::{Deserialize, Serialize};

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
    /// The code (the sequencer's `SubmitError::code`, from `ghostplane_rpc::codes`).
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

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            contract: e.contract.to_string(),
            topic: e.topic.to_string(),
            data: hex::encode(&e.data),
        }
    }
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
    /// A reverted call's revert data, hex (absent unless the call reverted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_data: Option<String>,
}

impl From<&Receipt> for ReceiptView {
    fn from(receipt: &Receipt) -> Self {
        let failure = match &receipt.status {
            ReceiptStatus::Success => None,
            ReceiptStatus::Failed(reason) => Some(reason.to_string()),
        };
        let revert_data = match &receipt.status {
            ReceiptStatus::Failed(FailureReason::Revert(data)) => Some(hex::encode(data)),
            _ => None,
        };
        Self {
            outcome: Outcome::new(receipt.tx_hash, receipt.block.0, receipt.index, failure),
            gas_used: receipt.gas_used,
            fee_paid: receipt.fee_paid.to_string(),
            events: receipt.events.iter().map(EventView::from).collect(),
            return_data: hex::encode(&receipt.return_data),
            revert_data,
        }
    }
}

/// A read call (`l2_call`): run a contract's `call` on the latest executed state;
/// its writes are reported and discarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRequest {
    /// The contract's address (64 hex digits, `0x` optional).
    pub contract: String,
    /// Its input, hex (`0x` optional; empty for none).
    #[serde(default)]
    pub input: String,
    /// The account `caller()` answers (default: none, an id no account has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// Fuel for the call (default and maximum: the node's read-call limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// What a read call did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// The block whose state it ran on.
    pub block: u64,
    /// `success` or `failed`.
    pub status: String,
    /// Why it failed (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Return data, hex (empty for a failed call).
    pub return_data: String,
    /// A reverted call's revert data, hex (absent unless it reverted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_data: Option<String>,
    /// Fuel burnt (a transaction adds its base charge).
    pub fuel_used: u64,
    /// Events it would emit.
    pub events: Vec<EventView>,
    /// Storage writes it made, discarded.
    pub discarded_writes: usize,
    /// Token moves it made, discarded.
    pub discarded_moves: usize,
}

/// Which events `l2_getLogs` and `l2_subscribeLogs` select.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFilterView {
    /// Only this contract's events (address hex; any contract if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// Only these topics (32-byte hex each; any of them; any topic if empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// First block, inclusive (`l2_getLogs`: default 0; `l2_subscribeLogs`:
    /// default the next block, so only new events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_block: Option<u64>,
    /// Last block, inclusive (`l2_getLogs` only; default the last executed block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_block: Option<u64>,
    /// Resume after this position (a page's `next`, `block:tx:log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Most logs in the page (default and maximum 1,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// One indexed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    /// Its block.
    pub block: u64,
    /// Its transaction's index in the block.
    pub tx_index: u32,
    /// Its index among the transaction's events.
    pub log_index: u32,
    /// Its position, `block:tx:log` (what `after` takes).
    pub position: String,
    /// The emitting transaction.
    pub tx_hash: String,
    /// The emitting contract.
    pub contract: String,
    /// Its topic.
    pub topic: String,
    /// Its data, hex.
    pub data: String,
}

/// One page of `l2_getLogs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogPageView {
    /// The events, in chain order.
    pub logs: Vec<LogView>,
    /// If the range may hold more: pass it as `after` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A withdrawal and where it is (`l2_getWithdrawal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalView {
    /// The withdrawing transaction (or the L1 forced withdrawal's item).
    pub tx_hash: String,
    /// Its L2 block.
    pub block: u64,
    /// Its position in the block.
    pub index: u32,
    /// A forced withdrawal (queued on the L1) rather than a signed one.
    pub forced: bool,
    /// The L2 account debited.
    pub account: u32,
    /// The L1 recipient (hex).
    pub recipient: String,
    /// Token symbol.
    pub token: String,
    /// Amount (decimal; what the L1 releases).
    pub amount: String,
    /// `failed` (nothing withdrawn), `executed` (debited on the L2), `committed`
    /// (its batch is on the L1, not yet proven), or `released` (its batch is
    /// final: the L1 has credited the recipient).
    pub state: String,
}

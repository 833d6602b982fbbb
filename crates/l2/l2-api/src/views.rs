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

/// An included transaction (`l2_getTransaction`): where it is, who signed it, its
/// fields, and its signed encoding.
///
/// `tx` has the shape the TypeScript client and `testing/vectors/encoding.json`
/// use: `kind` (`transfer`, `withdraw`, `deploy`, `call`), `from` (an account id),
/// amounts, fees, nonces and fuel as decimal strings, bytes as `0x` hex, `to` of a
/// transfer `{account}` or `{newAccount}`; a deploy gives `codeHash` and
/// `codeBytes` instead of its code (the code is in `raw`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// Its hash.
    pub hash: String,
    /// The block that included it.
    pub block: u64,
    /// Its position in the block.
    pub index: u32,
    /// The chain id it was signed for (decimal).
    pub chain_id: String,
    /// The signer's public key (hex).
    pub signer: String,
    /// The signature (hex).
    pub signature: String,
    /// The transaction's fields.
    pub tx: serde_json::Value,
    /// The signed transaction's canonical encoding (borsh, hex): what was submitted.
    pub raw: String,
}

impl TransactionView {
    /// The view of `signed` (encoded as `raw`), included at `block`, `index`.
    pub fn new(
        signed: &ghostplane_primitives::SignedTransaction,
        raw: &[u8],
        block: u64,
        index: u32,
    ) -> Self {
        Self {
            hash: ghostplane_primitives::tx_hash(raw).to_string(),
            block,
            index,
            chain_id: signed.chain_id.0.to_string(),
            signer: format!("0x{}", hex::encode(signed.signer.0)),
            signature: format!("0x{}", hex::encode(signed.signature.0)),
            tx: transaction_json(&signed.tx),
            raw: format!("0x{}", hex::encode(raw)),
        }
    }
}

/// A transaction's fields as JSON (see [`TransactionView`]).
pub fn transaction_json(tx: &ghostplane_primitives::Transaction) -> serde_json::Value {
    use ghostplane_primitives::{Recipient, Transaction};
    use serde_json::json;
    let hex0x = |bytes: &[u8]| format!("0x{}", hex::encode(bytes));
    match tx {
        Transaction::Transfer {
            from,
            to,
            token,
            amount,
            fee,
            nonce,
        } => json!({
            "kind": "transfer",
            "from": from.get(),
            "to": match to {
                Recipient::Account(a) => json!({ "account": a.get() }),
                Recipient::NewAccount(key) => json!({ "newAccount": hex0x(&key.0) }),
            },
            "token": token.symbol(),
            "amount": amount.to_string(),
            "fee": fee.to_string(),
            "nonce": nonce.to_string(),
        }),
        Transaction::Withdraw {
            from,
            to,
            token,
            amount,
            fee,
            nonce,
        } => json!({
            "kind": "withdraw",
            "from": from.get(),
            "to": hex0x(&to.0),
            "token": token.symbol(),
            "amount": amount.to_string(),
            "fee": fee.to_string(),
            "nonce": nonce.to_string(),
        }),
        Transaction::Deploy {
            from,
            code,
            init,
            token,
            value,
            fee,
            nonce,
        } => json!({
            "kind": "deploy",
            "from": from.get(),
            "codeHash": ghostplane_primitives::tx::code_hash(code).to_string(),
            "codeBytes": code.len(),
            "init": hex0x(init),
            "token": token.symbol(),
            "value": value.to_string(),
            "fee": fee.to_string(),
            "nonce": nonce.to_string(),
            "contract": ghostplane_primitives::tx::contract_address(*from, *nonce).to_string(),
        }),
        Transaction::Call {
            from,
            contract,
            input,
            fuel_limit,
            token,
            value,
            fee,
            nonce,
        } => json!({
            "kind": "call",
            "from": from.get(),
            "contract": contract.to_string(),
            "input": hex0x(input),
            "fuelLimit": fuel_limit.to_string(),
            "token": token.symbol(),
            "value": value.to_string(),
            "fee": fee.to_string(),
            "nonce": nonce.to_string(),
        }),
    }
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

/// A transaction's fee in parts (`l2_estimateFee`): offer `total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeEstimateView {
    /// The execution part: the proof slot (and an account it creates) for a native
    /// transaction; fuel × the fuel price (at least the minimum) for a deploy or
    /// call (decimal).
    pub execution: String,
    /// Pubdata bytes it adds to the L1.
    pub pubdata_bytes: u64,
    /// The L1 data price per byte (decimal).
    pub data_price: String,
    /// `pubdataBytes × dataPrice` (decimal).
    pub pubdata: String,
    /// What to offer, and what it is charged on the same state (decimal).
    pub total: String,
    /// Fuel a deploy or call is charged (0 for a native transaction).
    pub gas_used: u64,
    /// A deploy or call's outcome if included now: `success` or `failed`.
    pub status: String,
    /// Why it would fail (absent on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The last executed block when it was estimated.
    pub block: u64,
}

/// Most blocks one `l2_feeHistory` answers.
pub const FEE_HISTORY_BLOCKS_MAX: u64 = 1_024;

/// The prices, and what recent blocks paid (`l2_feeHistory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeHistoryView {
    /// GCC base units per unit of fuel (decimal).
    pub fuel_price: String,
    /// The least fee of a transaction (decimal).
    pub fee_min: String,
    /// The L1 data price per pubdata byte (decimal).
    pub data_price: String,
    /// The blocks asked for, oldest first (blocks executed before the fee index
    /// existed are left out).
    pub blocks: Vec<BlockFeesView>,
}

/// What one block's transactions paid and used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockFeesView {
    /// The block.
    pub number: u64,
    /// Items with a receipt.
    pub items: u32,
    /// Fuel charged.
    pub gas_used: u64,
    /// Fees paid (decimal).
    pub fees_paid: String,
    /// Its pubdata bytes (storage proofs excluded).
    pub pubdata_bytes: u64,
}

/// Most storage keys one `l2_getProof` proves.
pub const PROOF_KEYS_MAX: usize = 64;

/// `l2_getProof`'s answer: an account's leaf and storage slots with their Merkle
/// paths against the L1's last finalized account root (the rule:
/// `docs/state-commitment.md`, "Answering l2_getProof").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofView {
    /// The finalized L1 batch whose root this is against.
    pub batch: u64,
    /// That batch's account root (32 bytes, hex): `rollup_getBatch(batch)`'s new
    /// root, `rollup_status`'s `finalizedRoot` while it is the last.
    pub root: String,
    /// The tree's hash and shape (`poseidon2-koalabear-binary-24` for the STARK).
    pub tree_hash: String,
    /// The account id (its leaf index).
    pub account: u32,
    /// Its leaf at that batch; `null` if no account had that id then (the path
    /// then proves the empty leaf).
    pub leaf: Option<AccountLeafView>,
    /// The path's siblings, leaf level first (each level's `arity − 1` siblings in
    /// child order), 32 bytes hex each.
    pub siblings: Vec<String>,
    /// For a contract: its storage root and the slots asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<ContractProofView>,
}

/// An account leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLeafView {
    /// The key field (a user's public key; a contract's key field), hex.
    pub key: String,
    /// Its nonce.
    pub nonce: u64,
    /// Its balances by token id (GCC, SPIRIT, MANA, GHOST), decimal.
    pub balances: Vec<String>,
}

/// A contract's storage at a finalized batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractProofView {
    /// Its address (hex).
    pub address: String,
    /// blake3 of its code (hex).
    pub code_hash: String,
    /// Its storage root, packed (hex): with the address and code hash it makes
    /// the leaf's key field.
    pub storage_root: String,
    /// The slots asked for, in the order asked.
    pub storage: Vec<SlotProofView>,
}

/// One storage slot with its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotProofView {
    /// The key (32 bytes, hex).
    pub key: String,
    /// Its value (hex; `""` for an empty value), or `null` if absent.
    pub value: Option<String>,
    /// When absent because another key holds its path: that key and value (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<HeldSlotView>,
    /// Which siblings are not the empty subtree (bit `h`: height `h`), decimal.
    pub occupied: String,
    /// Those siblings, packed (hex), leaf level first.
    pub siblings: Vec<String>,
}

/// Another key holding a slot's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldSlotView {
    /// That key (hex).
    pub key: String,
    /// Its value (hex).
    pub value: String,
}

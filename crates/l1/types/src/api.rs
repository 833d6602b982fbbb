//! ghostd's JSON-RPC API as typed traits: the server (`ghostd::rpc`) implements the
//! generated `*Server` traits, clients (settlement's [`RpcL1`](crate::RpcL1), the
//! wallet) call the generated `*Client` methods. No method name is written twice.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `ghost_chainId` | | L1 chain id |
//! | `ghost_blockNumber` | | head height |
//! | `ghost_genesisHash` | | blake3 of the genesis (hex) |
//! | `ghost_getGenesis` | | the genesis, borsh (hex) |
//! | `ghost_getBlock` | number | [`BlockView`] or `null` |
//! | `ghost_sendTransaction` | signed tx, hex | [`Submitted`] once in the mempool |
//! | `ghost_sendTransactionBatch` | signed txs, hex (≤ [`SEND_BATCH_MAX`]) | one [`BatchSubmitted`] each, in order |
//! | `ghost_getTransaction` | hash | [`TransactionView`] |
//! | `ghost_getAccount` | address (hex) | [`AccountView`] |
//! | `ghost_status` | | [`StatusView`] |
//! | `ghost_subscribeNewBlocks` | | notifications `ghost_newBlock` ([`HeaderView`]) |
//! | `ledger_getAccount` | address, token symbol | [`LedgerAccountView`] |
//! | `ledger_getTransfer` | id (decimal string) | [`TransferView`] or `null` |
//! | `ledger_supply` | token symbol | [`SupplyView`] |
//! | `ledger_getAccountTransfers` | owner (hex, DID or name), token, [`PageOptions`] | [`TransfersPage`] |
//! | `ledger_getAccountHistory` | owner, token, [`PageOptions`] | [`HistoryPage`] |
//! | `consensus_status` | | [`ConsensusStatus`](crate::consensus::ConsensusStatus) |
//! | `consensus_getCommit` | height | [`CommitView`] or `null` |
//! | `rollup_status` | | [`RollupView`] |
//! | `rollup_getBatch` | number | [`BatchView`] or `null` |
//! | `rollup_getDeposits` | from index, max (≤ [`DEPOSITS_PER_CALL_MAX`]) | [`DepositView`]s |
//! | `identity_resolve` | DID, [`ResolveOptions`] | a W3C DID Resolution result (JSON) |
//! | `identity_hasPermission` | DID, permission, grantor DID (optional) | [`PermissionView`] |
//! | `identity_getGrants` | DID | [`GrantView`]s |
//! | `identity_verifyToken` | JWT, [`VerifyOptions`] | [`TokenVerdict`] |
//! | `naming_resolve` | name | [`NameView`] or `null` (unregistered or released) |
//! | `naming_reverse` | L1 key (hex) | its forward-verified primary name, or `null` |
//! | `naming_events` | name, from index, max (≤ 256) | [`NameEventView`]s |
//! | `naming_price` | name, years | GCC base units (decimal string) |
//!
//! Identity changes are L1 transactions (`Call::Identity`) sent with
//! `ghost_sendTransaction`. The same resolution is served over HTTP at
//! `GET /1.0/identifiers/{did}` (the DIF Universal Resolver driver convention).
//!
//! Amounts are decimal strings (u128 does not fit a JSON number); hashes, roots and
//! keys are hex. Views that a client must read exactly carry `encoded`: the record's
//! borsh encoding, hex. Errors carry the codes of `ghostplane_rpc::codes`.

use std::collections::BTreeMap;

use ghostplane_primitives::{Codec, CodecError, DepositEvent};
use ghostplane_rpc::Outcome;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};

use crate::identity::Grant;
use crate::identity::jwt::{Claims, HeldPermission, TokenError, VerifiedToken};
use crate::ledger::{LedgerAccount, LedgerTransfer};
use crate::naming::{NameEvent, Record};
use crate::rollup::{BatchRecord, RollupState};
use crate::tx::{L1Header, L1Outcome, L1Receipt};

/// Most transactions per `ghost_sendTransactionBatch` call.
pub const SEND_BATCH_MAX: usize = 4096;

/// Most deposits per `rollup_getDeposits` call.
pub const DEPOSITS_PER_CALL_MAX: u64 = 1024;

/// Result of a handler.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

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

/// The rollup module's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupView {
    /// Last committed batch.
    pub committed_batch: u64,
    /// Last finalized batch.
    pub finalized_batch: u64,
    /// Account root after the last finalized batch (hex).
    pub finalized_root: String,
    /// Last L2 block of a committed batch.
    pub committed_l2_block: u64,
    /// Last L2 block of a finalized batch.
    pub finalized_l2_block: u64,
    /// Next L2 account id.
    pub next_account: u32,
    /// Deposits ever queued.
    pub deposits_queued: u64,
    /// Deposits consumed by committed batches.
    pub deposits_consumed: u64,
    /// Hash chain over the queued deposits.
    pub deposit_queue_hash: String,
    /// [`RollupState`]'s borsh encoding, hex.
    pub encoded: String,
}

impl From<&RollupState> for RollupView {
    fn from(state: &RollupState) -> Self {
        Self {
            committed_batch: state.committed,
            finalized_batch: state.finalized,
            finalized_root: state.finalized_root.to_hex(),
            committed_l2_block: state.committed_l2_block,
            finalized_l2_block: state.finalized_l2_block,
            next_account: state.next_account,
            deposits_queued: state.deposits_queued,
            deposits_consumed: state.deposits_consumed,
            deposit_queue_hash: state.deposit_queue_hash.to_string(),
            encoded: hex::encode(state.encode()),
        }
    }
}

impl RollupView {
    /// The counters, from `encoded`.
    pub fn decode(&self) -> Result<RollupState, CodecError> {
        RollupState::decode(&unhex(&self.encoded)?)
    }
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

/// A ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerAccountView {
    /// Owner (hex).
    pub address: String,
    /// Token symbol.
    pub token: String,
    /// Sum of reserved (pending) debits.
    pub debits_pending: String,
    /// Sum of posted debits, modulo 2^128 (a running volume).
    pub debits_posted: String,
    /// Sum of reserved (pending) credits.
    pub credits_pending: String,
    /// Sum of posted credits, modulo 2^128 (a running volume).
    pub credits_posted: String,
    /// Posted credits minus posted debits.
    pub balance: String,
    /// What may still be debited (pending debits count).
    pub available: String,
    /// Flag names (`debits_must_not_exceed_credits`, `history`, `closed`, …).
    pub flags: Vec<String>,
    /// Entries in the audit trail.
    pub entries: u64,
}

impl LedgerAccountView {
    /// The view of `account`.
    pub fn new(
        address: &ghostplane_primitives::L1Address,
        token: ghostplane_primitives::TokenId,
        account: &LedgerAccount,
    ) -> Self {
        Self {
            address: address.to_string(),
            token: token.symbol().to_string(),
            debits_pending: account.debits_pending.to_string(),
            debits_posted: account.debits_posted.to_string(),
            credits_pending: account.credits_pending.to_string(),
            credits_posted: account.credits_posted.to_string(),
            balance: account.balance().to_string(),
            available: account.available().to_string(),
            flags: account
                .flags
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            entries: account.entries,
        }
    }
}

/// A ledger transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferView {
    /// Id (decimal).
    pub id: String,
    /// Debited owner.
    pub debit: String,
    /// Credited owner.
    pub credit: String,
    /// Token symbol.
    pub token: String,
    /// Amount (decimal).
    pub amount: String,
    /// For a post or void: the pending transfer (decimal).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pending_id: Option<String>,
    /// For a pending transfer: blocks until it expires (0: never).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timeout: Option<u64>,
    /// Flag names (`pending`, `post_pending_transfer`, `void_pending_transfer`,
    /// `linked`).
    pub flags: Vec<String>,
    /// For a pending transfer: `pending`, `posted`, `voided` or `expired`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    /// Kind (`Genesis`, `Transfer`, `Deposit`, `Withdrawal`, `NameFee`, `Mint`,
    /// `Burn`, `Expiry`).
    pub code: String,
    /// L1 block that applied it.
    pub block: u64,
    /// For a mint or burn: the signing key (hex).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub authorized_by: Option<String>,
    /// For a mint or burn by a DID issuer: the DID.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub authorized_as: Option<String>,
    /// The DID or name the credit address was resolved from.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub via: Option<String>,
}

impl TransferView {
    /// The view of `t`, with a pending transfer's status.
    pub fn new(t: &LedgerTransfer, status: Option<crate::ledger::PendingStatus>) -> Self {
        use crate::ledger::{PendingStatus, TransferFlags};
        let resolving = t
            .flags
            .has(TransferFlags::POST_PENDING | TransferFlags::VOID_PENDING);
        Self {
            id: t.id.to_string(),
            debit: t.debit.to_string(),
            credit: t.credit.to_string(),
            token: t.token.symbol().to_string(),
            amount: t.amount.to_string(),
            pending_id: resolving.then(|| t.pending_id.to_string()),
            timeout: t.flags.has(TransferFlags::PENDING).then_some(t.timeout),
            flags: t.flags.names().into_iter().map(String::from).collect(),
            status: status.map(|s| {
                match s {
                    PendingStatus::Pending => "pending",
                    PendingStatus::Posted(_) => "posted",
                    PendingStatus::Voided(_) => "voided",
                    PendingStatus::Expired(_) => "expired",
                }
                .to_string()
            }),
            code: t.code.name().to_string(),
            block: t.block,
            authorized_by: t.authorizer.map(|a| a.key.to_hex()),
            authorized_as: t.authorizer.and_then(|a| a.did).map(|d| d.to_string()),
            via: t.via.clone(),
        }
    }
}

impl From<&LedgerTransfer> for TransferView {
    fn from(t: &LedgerTransfer) -> Self {
        Self::new(t, None)
    }
}

/// Paging of an account's audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOptions {
    /// Start at the first entry in this L1 block or later (ignored with a cursor).
    #[serde(default)]
    pub from_block: u64,
    /// Most entries (default and at most [`crate::ledger::PAGE_LIMIT_MAX`]).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<u64>,
}

/// One audit-trail entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    /// Its position in the account's trail.
    pub seq: u64,
    /// The transfer.
    pub transfer: TransferView,
}

/// A page of an account's transfers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransfersPage {
    /// Entries, oldest first.
    pub entries: Vec<EntryView>,
    /// Pass as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<u64>,
}

/// An account's balances after one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    /// Its position in the account's trail.
    pub seq: u64,
    /// The transfer that changed them (decimal).
    pub transfer: String,
    /// Its block.
    pub block: u64,
    /// Pending debits after it.
    pub debits_pending: String,
    /// Posted debits after it.
    pub debits_posted: String,
    /// Pending credits after it.
    pub credits_pending: String,
    /// Posted credits after it.
    pub credits_posted: String,
}

impl BalanceView {
    /// The view of `snapshot`, entry `seq`.
    pub fn new(seq: u64, snapshot: &crate::ledger::BalanceSnapshot) -> Self {
        Self {
            seq,
            transfer: snapshot.transfer.to_string(),
            block: snapshot.block,
            debits_pending: snapshot.debits_pending.to_string(),
            debits_posted: snapshot.debits_posted.to_string(),
            credits_pending: snapshot.credits_pending.to_string(),
            credits_posted: snapshot.credits_posted.to_string(),
        }
    }
}

/// A page of an account's balance history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// Balances, oldest first (entries from before `history` was set are absent).
    pub balances: Vec<BalanceView>,
    /// Pass as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<u64>,
}

/// A token's supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupplyView {
    /// Token symbol.
    pub token: String,
    /// Outstanding: issued less burned.
    pub supply: String,
    /// Ever issued (genesis and mints: the issuance account's debits).
    pub issued: String,
    /// Ever burned (and withdrawn to the issuance account: its credits).
    pub burned: String,
    /// The issuer (hex key or DID); `null`: fixed supply.
    pub issuer: Option<String>,
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

/// A committed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// Number.
    pub number: u64,
    /// First L2 block.
    pub first_block: u64,
    /// Last L2 block.
    pub last_block: u64,
    /// blake3 of the pubdata.
    pub pubdata_hash: String,
    /// Claimed root after the batch (hex).
    pub new_root: String,
    /// Proof chunks.
    pub chunks: usize,
    /// Withdrawals released on finality.
    pub withdrawals: usize,
    /// Deposits consumed up to (exclusive).
    pub deposits_consumed_to: u64,
    /// L1 block of the commit.
    pub committed_at: u64,
    /// L1 block of the last proof, once final.
    pub finalized_at: Option<u64>,
}

impl From<&BatchRecord> for BatchView {
    fn from(record: &BatchRecord) -> Self {
        Self {
            number: record.number,
            first_block: record.first_block,
            last_block: record.last_block,
            pubdata_hash: record.pubdata_hash.to_string(),
            new_root: record.new_root.to_hex(),
            chunks: record.commitments.len(),
            withdrawals: record.withdrawals.len(),
            deposits_consumed_to: record.deposits_consumed_to,
            committed_at: record.committed_at,
            finalized_at: record.finalized_at,
        }
    }
}

/// A queued deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositView {
    /// Queue index.
    pub queue_index: u64,
    /// L1 block that queued it.
    pub l1_block: u64,
    /// L2 key credited (hex).
    pub recipient: String,
    /// Token symbol.
    pub token: String,
    /// Amount (decimal).
    pub amount: String,
    /// The depositing L1 transaction.
    pub l1_tx_hash: String,
    /// The [`DepositEvent`]'s encoding, hex.
    pub encoded: String,
}

impl From<&DepositEvent> for DepositView {
    fn from(event: &DepositEvent) -> Self {
        Self {
            queue_index: event.queue_index,
            l1_block: event.l1_block,
            recipient: event.recipient.to_string(),
            token: event.token.symbol().to_string(),
            amount: event.amount.to_string(),
            l1_tx_hash: event.l1_tx_hash.to_string(),
            encoded: hex::encode(event.encode()),
        }
    }
}

impl DepositView {
    /// The event, from `encoded`.
    pub fn decode(&self) -> Result<DepositEvent, CodecError> {
        DepositEvent::decode(&unhex(&self.encoded)?)
    }
}

fn unhex(text: &str) -> Result<Vec<u8>, CodecError> {
    hex::decode(text).map_err(|e| CodecError::Invalid {
        type_name: "hex field",
        reason: e.to_string(),
    })
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

/// The ledger module (`ledger_*`).
#[rpc(server, client, namespace = "ledger")]
pub trait LedgerApi {
    /// An `(owner, token)` account.
    #[method(name = "getAccount")]
    fn get_account(&self, address: String, token: String) -> RpcResult<LedgerAccountView>;

    /// A transfer by id (decimal u128 string).
    #[method(name = "getTransfer")]
    fn get_transfer(&self, id: String) -> RpcResult<Option<TransferView>>;

    /// A token's outstanding supply (token by symbol).
    #[method(name = "supply")]
    fn supply(&self, token: String) -> RpcResult<SupplyView>;

    /// A page of the transfers that touched an account.
    #[method(name = "getAccountTransfers")]
    fn get_account_transfers(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<TransfersPage>;

    /// A page of an account's balances after each change (accounts with `history`).
    #[method(name = "getAccountHistory")]
    fn get_account_history(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<HistoryPage>;
}

/// Consensus (`consensus_*`).
#[rpc(server, client, namespace = "consensus")]
pub trait ConsensusApi {
    /// Height, round, the head's signers, peers, sync state and counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<crate::consensus::ConsensusStatus>;

    /// The commit certificate of block `height` (BFT chains).
    #[method(name = "getCommit")]
    fn get_commit(&self, height: u64) -> RpcResult<Option<CommitView>>;
}

/// A commit certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitView {
    /// Block height.
    pub height: u64,
    /// The deciding round.
    pub round: u32,
    /// The block's header hash.
    pub block: String,
    /// Signer keys (hex), in certificate order.
    pub signers: Vec<String>,
    /// The certificate's borsh encoding (hex): check it with
    /// `ghostd_types::consensus::verify_commit`.
    pub encoded: String,
}

/// The rollup module (`rollup_*`).
#[rpc(server, client, namespace = "rollup")]
pub trait RollupApi {
    /// The module's counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<RollupView>;

    /// A committed batch.
    #[method(name = "getBatch")]
    fn get_batch(&self, number: u64) -> RpcResult<Option<BatchView>>;

    /// Up to `max` (≤ [`DEPOSITS_PER_CALL_MAX`]) queued deposits from `from`.
    #[method(name = "getDeposits")]
    fn get_deposits(&self, from: u64, max: u64) -> RpcResult<Vec<DepositView>>;
}

/// `versionId`: DID Resolution passes it as a string; a number is taken too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VersionId {
    /// `"1234"`.
    Text(String),
    /// `1234`.
    Number(u64),
}

/// Options of `identity_resolve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveOptions {
    /// The version written at this L1 height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    /// The version current at this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_time: Option<String>,
}

/// Answer of `identity_hasPermission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionView {
    /// Whether the DID holds it (from the grantor asked for, or from anyone).
    pub held: bool,
    /// The grantors it holds it from.
    pub grantors: Vec<String>,
    /// The head height the answer is for.
    pub height: u64,
}

/// A grant a DID holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// Permission.
    pub permission: String,
    /// Grantor DID.
    pub grantor: String,
    /// Height from which it no longer holds.
    pub expires: Option<u64>,
    /// Height granted at.
    pub granted: u64,
}

impl From<&Grant> for GrantView {
    fn from(grant: &Grant) -> Self {
        Self {
            permission: grant.permission.clone(),
            grantor: grant.grantor.to_string(),
            expires: grant.expires,
            granted: grant.granted,
        }
    }
}

/// Options of `identity_verifyToken`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyOptions {
    /// The audience the verifier is: a token that names an audience must name this
    /// one, and a token with an audience is refused when this is absent (RFC 7519
    /// §4.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// DIDs whose grants the verifier trusts (at most [`VERIFY_GRANTORS_MAX`]): a
    /// claimed permission counts only if one of them granted it to the subject.
    /// Empty: only the token's issuer, when it is not the subject itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grantors: Vec<String>,
}

/// Most grantors one `identity_verifyToken` call may name (each costs a lookup per
/// claimed permission); more is an invalid-params error.
pub const VERIFY_GRANTORS_MAX: usize = 16;

/// Answer of `identity_verifyToken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenVerdict {
    /// Whether every check passed.
    pub valid: bool,
    /// Why not: a stable name ([`TokenError::kind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why not, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The verified claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    /// Who granted each claimed permission (in claim order): a grant proves what
    /// its grantor vouches for, so a relying party checks that it trusts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<HeldPermission>,
    /// The head height the checks ran at.
    pub height: u64,
}

impl TokenVerdict {
    /// The verdict of a check at `height`.
    pub fn new(result: Result<VerifiedToken, TokenError>, height: u64) -> Self {
        match result {
            Ok(verified) => Self {
                valid: true,
                error: None,
                message: None,
                claims: Some(verified.claims),
                grants: verified.grants,
                height,
            },
            Err(e) => Self {
                valid: false,
                error: Some(e.kind().to_string()),
                message: Some(e.to_string()),
                claims: None,
                grants: Vec::new(),
                height,
            },
        }
    }
}

/// The `identity` namespace.
#[rpc(server, client, namespace = "identity")]
pub trait IdentityApi {
    /// A W3C DID Resolution result for a `did:ghost` or `did:key` DID. A malformed
    /// DID gives `didResolutionMetadata.error = invalidDid`, not an RPC error.
    #[method(name = "resolve")]
    fn resolve(&self, did: String, options: Option<ResolveOptions>)
    -> RpcResult<serde_json::Value>;

    /// Whether `did` holds `permission` (from `grantor`, if given) at the head.
    #[method(name = "hasPermission")]
    fn has_permission(
        &self,
        did: String,
        permission: String,
        grantor: Option<String>,
    ) -> RpcResult<PermissionView>;

    /// The grants `did` holds (expired ones included).
    #[method(name = "getGrants")]
    fn get_grants(&self, did: String) -> RpcResult<Vec<GrantView>>;

    /// Verifies an access token at the head.
    #[method(name = "verifyToken")]
    fn verify_token(&self, jwt: String, options: Option<VerifyOptions>) -> RpcResult<TokenVerdict>;
}

/// A record of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RecordView {
    /// An address (`value` hex).
    Addr {
        /// Coin type.
        coin: u32,
        /// Hex.
        value: String,
    },
    /// A text record.
    Text {
        /// Key.
        key: String,
        /// Value.
        value: String,
    },
    /// A contenthash (hex).
    Contenthash {
        /// Hex.
        value: String,
    },
    /// A DNS record.
    Dns {
        /// `A`, `AAAA`, `CNAME`, `TXT` or `MX`.
        kind: String,
        /// Presentation form.
        value: String,
        /// Seconds.
        ttl: u32,
    },
    /// A DID.
    Did {
        /// The DID.
        value: String,
    },
}

impl From<&Record> for RecordView {
    fn from(record: &Record) -> Self {
        match record {
            Record::Addr { coin, value } => Self::Addr {
                coin: *coin,
                value: hex::encode(value),
            },
            Record::Text { key, value } => Self::Text {
                key: key.clone(),
                value: value.clone(),
            },
            Record::Contenthash(bytes) => Self::Contenthash {
                value: hex::encode(bytes),
            },
            Record::Dns { kind, value, ttl } => Self::Dns {
                kind: kind.as_str().to_string(),
                value: value.clone(),
                ttl: *ttl,
            },
            Record::Did(did) => Self::Did {
                value: did.to_string(),
            },
        }
    }
}

/// A live name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameView {
    /// Normalized name.
    pub name: String,
    /// Its namehash (hex).
    pub node: String,
    /// Owner's L1 key (hex).
    pub owner: String,
    /// Manager's L1 key (hex).
    pub manager: Option<String>,
    /// Height from which it is expired.
    pub expires: u64,
    /// Height of this registration.
    pub registered: u64,
    /// `active` or `grace` (frozen).
    pub state: String,
    /// Records.
    pub records: Vec<RecordView>,
    /// Whether the `did` record and the DID's `alsoKnownAs` (`dns:<name>`) agree.
    pub did_linked: bool,
    /// The head height of the answer.
    pub height: u64,
}

/// An event of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameEventView {
    /// L1 height.
    pub height: u64,
    /// Kind.
    pub kind: String,
    /// Details.
    pub detail: String,
}

impl From<&NameEvent> for NameEventView {
    fn from(event: &NameEvent) -> Self {
        Self {
            height: event.height,
            kind: event.kind.clone(),
            detail: event.detail.clone(),
        }
    }
}

/// The `naming` namespace.
#[rpc(server, client, namespace = "naming")]
pub trait NamingApi {
    /// A live name with its records (`null` if unregistered or released).
    #[method(name = "resolve")]
    fn resolve(&self, name: String) -> RpcResult<Option<NameView>>;

    /// The primary name of an L1 key, if its address record points back.
    #[method(name = "reverse")]
    fn reverse(&self, key: String) -> RpcResult<Option<String>>;

    /// A name's events from index `from`.
    #[method(name = "events")]
    fn events(&self, name: String, from: u32, max: u32) -> RpcResult<Vec<NameEventView>>;

    /// What registering or renewing `name` for `years` costs (GCC base units).
    #[method(name = "price")]
    fn price(&self, name: String, years: u32) -> RpcResult<String>;
}

//! The ledger namespace (`ledger_*`): accounts, transfers, supply, audit-trail
//! pages, and the views it answers with.

use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::RpcResult;
use crate::ledger::{LedgerAccount, LedgerTransfer};

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

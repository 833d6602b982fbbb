//! The ledger: a double-entry journal of GCC, SPIRIT, MANA and GHOST in the
//! TigerBeetle model.
//!
//! - An account is `(owner, token)` with four counters (`debits_pending`,
//!   `debits_posted`, `credits_pending`, `credits_posted`) and flags. Every account
//!   has `debits_must_not_exceed_credits` (pending debits count) except the token's
//!   issuance account, which has `credits_must_not_exceed_debits`: its net debit is
//!   the outstanding supply, which cannot go negative. Owners may set `history`
//!   (balances kept after each change) and `closed` (refuses new transfers, posted
//!   or pending; posts and voids of earlier reservations, expiries, withdrawals from
//!   the bridge and genesis still reach it: a debtor cannot escape a hold, and a
//!   user cannot block the rollup's finality, by closing an account).
//! - A transfer debits one account and credits another of the same token, and is
//!   stored forever under its 128-bit id. Ids with the top bit clear are the
//!   client's; ids with it set are the node's (genesis, deposits, withdrawals,
//!   expiries). Re-sending a transfer is a no-op ([`Posted::AlreadyExists`]);
//!   reusing its id for another is [`LedgerError::ExistsWithDifferent`], naming
//!   the first differing field.
//! - Two-phase transfers: a pending transfer reserves the amount in both accounts'
//!   pending counters, optionally for a timeout in L1 blocks. A post (by the debtor
//!   or the creditor) posts all or part and releases the rest; a void (by the
//!   creditor) releases all. At the start of block `created + timeout`, before its
//!   transactions, [`begin_block`] expires what is still pending, so from that block
//!   on a post or void gets [`LedgerError::Expired`]. Each pending transfer
//!   resolves once.
//! - Mint and burn: the genesis names each token's issuer, a key or a DID; a DID
//!   issuer may grant `ledger:mint:<TOKEN>` to other DIDs. Mints debit the issuance
//!   account, burns credit it; both record their [`Authorizer`]. The issuer itself
//!   replaces the issuer.
//! - [`LedgerCall::Ops`] applies 1 to [`LINKED_OPS_MAX`] operations all or none; a
//!   failure is [`LedgerError::Linked`] naming the failing index.
//! - A transfer's receiver may be a DID or a `.ghost` name, resolved when the
//!   transfer applies; the address is recorded with what it was resolved from.
//! - Audit trail: every transfer appends an entry to both accounts' trails
//!   (paged by [`account_entries`]); accounts with `history` also keep a balance
//!   snapshot per entry ([`account_history`]).
//! - Invariants, per token, checked after every block by [`check_totals`]:
//!   Σ debits_posted = Σ credits_posted, Σ debits_pending = Σ credits_pending, and
//!   the supply counter = the issuance account's net debit.
//! - Limits: a token's outstanding supply is at most [`SUPPLY_MAX`] (checked at
//!   mint), so every balance and pending sum fits in a u128 with room to spare. The
//!   posted counters are running volumes with no bound (the same coins can move back
//!   and forth forever): they wrap at 2^128 and balances are their wrapping
//!   difference, exact because a balance is at most the supply. A transfer is never
//!   refused because of how much has moved before it; TigerBeetle refuses instead
//!   (`overflows_debits_posted`), which here would let one holder of a large
//!   balance stop a token, and with it the rollup's withdrawals.
//!
//! - Result codes: [`LedgerError::code`] names each refusal (TigerBeetle's names
//!   where it has one), [`LedgerError::number`] numbers it for receipts
//!   (`L1Outcome::Failed { module: ledger, code }`); the table is on
//!   [`LedgerError::number`].
//!
//! The chain drives it as [`Ledger`], a [`Module`]: genesis allocations and
//! issuers, [`begin_block`] (expiries), the calls, and [`check_totals`] at block
//! end. It offers [`Payments`] to other modules (naming fees) and resolves
//! `.ghost` receivers through [`Names`] (the naming module's), so it imports no
//! naming code.
//!
//! State (prefix `ledger`): `account/<owner><token>`, `transfer/<id>`,
//! `pending/<id>` ([`PendingStatus`]), `totals/<token>` ([`Totals`]),
//! `issuer/<token>`, `entry/<owner><token><seq>`, `history/<owner><token><seq>`,
//! `expiry/<block>` (count) and `expiry/<block>/<i>` (pending id).

use std::sync::Arc;

use ghostd_types::Genesis;
use ghostd_types::identity::DidId;
use ghostplane_primitives::{Amount, L1Address, PublicKey, TokenId};

use super::identity;
use crate::module::{
    BlockContext, CallContext, Module, ModuleError, Names, PaymentError, Payments, Refusal,
};
use crate::state::{self, Layer, Read, StateError};
use crate::types::{Call, LedgerCall, ModuleId};

const PREFIX: &str = "ledger";

pub use ghostd_types::ledger::{
    AccountEntry, AccountFlags, Authorizer, BalanceSnapshot, EXPIRIES_PER_BLOCK_MAX,
    IssuerAuthority, LINKED_OPS_MAX, LedgerAccount, LedgerOp, LedgerTransfer, PAGE_LIMIT_MAX,
    PENDING_TIMEOUT_MAX, Payee, PendingStatus, SYSTEM_ID_BIT, Totals, TransferCode, TransferField,
    TransferFlags, bridge_escrow, issuer, mint_permission, naming_treasury, system_transfer_id,
};

/// The most of a token that may be outstanding (genesis allocations plus mints less
/// burns). A quarter of `u128::MAX`: a balance plus any pending amounts, or an L2
/// balance plus a deposit and a fee, is at most a small multiple of the supply and
/// so cannot overflow; without a cap a minter could mint near `u128::MAX` and make
/// every later sum of that token overflow.
pub const SUPPLY_MAX: Amount = u128::MAX / 4;

/// What applying a transfer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Newly applied.
    Created,
    /// Already applied with the same fields: nothing changed.
    AlreadyExists,
}

/// Why a ledger operation was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Zero amounts are not transfers.
    #[error("transfer amount must be greater than zero")]
    ZeroAmount,
    /// Id zero is reserved.
    #[error("transfer id must not be zero")]
    ZeroId,
    /// Client ids must have the top bit clear.
    #[error("transfer id {0:#x} has the top bit set: those ids are reserved for the node")]
    ReservedId(u128),
    /// Debit and credit are the same account.
    #[error("a transfer must move value between two different accounts")]
    SameAccount,
    /// The id is taken by a transfer that differs in `field`.
    #[error(
        "transfer id {id:#x} already exists with a different {field}; a retry must repeat the transfer exactly, a new transfer needs a new id"
    )]
    ExistsWithDifferent {
        /// The id.
        id: u128,
        /// The first field that differs.
        field: TransferField,
    },
    /// The debited account cannot cover the amount (pending debits count).
    #[error("{token} available balance {available} is less than the {amount} to move")]
    InsufficientFunds {
        /// Token.
        token: TokenId,
        /// Posted credits less posted and pending debits.
        available: Amount,
        /// Asked.
        amount: Amount,
    },
    /// The credited account may not be credited past its debits (a burn of more
    /// than the outstanding supply).
    #[error("{token}: crediting {amount} would exceed the account's debits")]
    ExceedsDebits {
        /// Token.
        token: TokenId,
        /// Asked.
        amount: Amount,
    },
    /// A counter would overflow u128.
    #[error("{token} counter would overflow")]
    Overflow {
        /// Token.
        token: TokenId,
    },
    /// A mint (or genesis allocation) would take the supply past [`SUPPLY_MAX`].
    #[error(
        "{token}: minting {amount} would take the outstanding supply {supply} past the cap {SUPPLY_MAX} (u128::MAX / 4); burn some first, or mint less"
    )]
    SupplyExceeded {
        /// Token.
        token: TokenId,
        /// Outstanding supply before.
        supply: Amount,
        /// Asked.
        amount: Amount,
    },
    /// A party's account is closed.
    #[error("the {token} account of {owner} is closed: it takes no new transfers")]
    AccountClosed {
        /// Owner.
        owner: L1Address,
        /// Token.
        token: TokenId,
    },
    /// Users cannot pay into the issuance account (burns do that).
    #[error("the issuance account takes only mints and burns; use a burn to destroy supply")]
    IssuanceAccount,
    /// No transfer has the pending id.
    #[error("no transfer has id {0:#x}")]
    PendingNotFound(u128),
    /// The pending id names a transfer that is not pending.
    #[error("transfer {0:#x} is not a pending transfer")]
    NotPending(u128),
    /// The pending transfer was posted already.
    #[error("pending transfer {pending:#x} was already posted by {by:#x}")]
    AlreadyPosted {
        /// The pending transfer.
        pending: u128,
        /// The post.
        by: u128,
    },
    /// The pending transfer was voided already.
    #[error("pending transfer {pending:#x} was already voided by {by:#x}")]
    AlreadyVoided {
        /// The pending transfer.
        pending: u128,
        /// The void.
        by: u128,
    },
    /// The pending transfer's timeout passed: it was released.
    #[error("pending transfer {0:#x} expired at its timeout; its amount was released")]
    Expired(u128),
    /// A post asks for more than is pending.
    #[error("cannot post {amount} of pending transfer {pending:#x}, which reserves {reserved}")]
    ExceedsPendingAmount {
        /// The pending transfer.
        pending: u128,
        /// Asked.
        amount: Amount,
        /// Reserved.
        reserved: Amount,
    },
    /// The signer may not do this.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The timeout is too long.
    #[error("pending timeout {0} is over the {PENDING_TIMEOUT_MAX}-block limit")]
    TimeoutTooLong(u64),
    /// Too many pending transfers expire at that block.
    #[error(
        "{EXPIRIES_PER_BLOCK_MAX} pending transfers already expire at block {0}; choose another timeout"
    )]
    ExpiryBlockFull(u64),
    /// An operations call holds none, or too many.
    #[error("a ledger call holds 1 to {LINKED_OPS_MAX} operations, not {0}")]
    OpCount(usize),
    /// One operation of a linked chain failed; none applied.
    #[error(
        "operation {index} of {count} failed: {source}; the other operations failed as linked_event_failed and none was applied"
    )]
    Linked {
        /// The failing operation.
        index: usize,
        /// Operations in the chain.
        count: usize,
        /// Why it failed.
        source: Box<LedgerError>,
    },
    /// A DID or name receiver does not resolve to an address.
    #[error("receiver {payee} does not resolve to an L1 address: {reason}")]
    UnresolvedPayee {
        /// The receiver as given.
        payee: String,
        /// Why.
        reason: &'static str,
    },
    /// Flags an owner may not change.
    #[error("account flags {0:#x} are not the owner's to change (only history and closed are)")]
    FlagsNotSettable(u16),
    /// After a block, a token's debits and credits differ: a bug, the block is refused.
    #[error("ledger out of balance for {token}: {what} {left} != {right}")]
    OutOfBalance {
        /// Token.
        token: TokenId,
        /// Which sums.
        what: &'static str,
        /// Left side.
        left: Amount,
        /// Right side.
        right: Amount,
    },
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

impl LedgerError {
    /// A stable snake-case result code (TigerBeetle's names where it has one).
    pub fn code(&self) -> String {
        match self {
            Self::ZeroAmount => "amount_must_not_be_zero".into(),
            Self::ZeroId => "id_must_not_be_zero".into(),
            Self::ReservedId(_) => "id_must_not_be_int_max".into(),
            Self::SameAccount => "accounts_must_be_different".into(),
            Self::ExistsWithDifferent { field, .. } => {
                format!("exists_with_different_{}", field.name())
            }
            Self::InsufficientFunds { .. } => "exceeds_credits".into(),
            Self::ExceedsDebits { .. } => "exceeds_debits".into(),
            Self::Overflow { .. } => "overflows".into(),
            Self::SupplyExceeded { .. } => "exceeds_supply_max".into(),
            Self::AccountClosed { .. } => "account_closed".into(),
            Self::IssuanceAccount => "issuance_account".into(),
            Self::PendingNotFound(_) => "pending_transfer_not_found".into(),
            Self::NotPending(_) => "pending_transfer_not_pending".into(),
            Self::AlreadyPosted { .. } => "pending_transfer_already_posted".into(),
            Self::AlreadyVoided { .. } => "pending_transfer_already_voided".into(),
            Self::Expired(_) => "pending_transfer_expired".into(),
            Self::ExceedsPendingAmount { .. } => "exceeds_pending_transfer_amount".into(),
            Self::Unauthorized(_) => "unauthorized".into(),
            Self::TimeoutTooLong(_) => "timeout_too_long".into(),
            Self::ExpiryBlockFull(_) => "expiry_block_full".into(),
            Self::OpCount(_) => "op_count".into(),
            Self::Linked { source, .. } => source.code(),
            Self::UnresolvedPayee { .. } => "unresolved_payee".into(),
            Self::FlagsNotSettable(_) => "flags_not_settable".into(),
            Self::OutOfBalance { .. } => "out_of_balance".into(),
            Self::State(_) => "storage".into(),
        }
    }

    /// The stable result code receipts carry (`L1Outcome::Failed { code }`), one per
    /// [`LedgerError::code`] name; never reused or renumbered:
    ///
    /// | code | name | code | name |
    /// | ---: | --- | ---: | --- |
    /// | 1 | `amount_must_not_be_zero` | 14 | `pending_transfer_already_posted` |
    /// | 2 | `id_must_not_be_zero` | 15 | `pending_transfer_already_voided` |
    /// | 3 | `id_must_not_be_int_max` | 16 | `pending_transfer_expired` |
    /// | 4 | `accounts_must_be_different` | 17 | `exceeds_pending_transfer_amount` |
    /// | 5 | `exists_with_different_<field>` | 18 | `unauthorized` |
    /// | 6 | `exceeds_credits` | 19 | `timeout_too_long` |
    /// | 7 | `exceeds_debits` | 20 | `expiry_block_full` |
    /// | 8 | `overflows` | 21 | `op_count` |
    /// | 9 | `exceeds_supply_max` | 22 | `unresolved_payee` |
    /// | 10 | `account_closed` | 23 | `flags_not_settable` |
    /// | 11 | `issuance_account` | 24 | `out_of_balance` |
    /// | 12 | `pending_transfer_not_found` | 25 | `storage` |
    /// | 13 | `pending_transfer_not_pending` | | |
    ///
    /// A linked chain's failure ([`LedgerError::Linked`]) has its failing
    /// operation's code (the message names the index), as [`LedgerError::code`].
    pub fn number(&self) -> u16 {
        match self {
            Self::ZeroAmount => 1,
            Self::ZeroId => 2,
            Self::ReservedId(_) => 3,
            Self::SameAccount => 4,
            Self::ExistsWithDifferent { .. } => 5,
            Self::InsufficientFunds { .. } => 6,
            Self::ExceedsDebits { .. } => 7,
            Self::Overflow { .. } => 8,
            Self::SupplyExceeded { .. } => 9,
            Self::AccountClosed { .. } => 10,
            Self::IssuanceAccount => 11,
            Self::PendingNotFound(_) => 12,
            Self::NotPending(_) => 13,
            Self::AlreadyPosted { .. } => 14,
            Self::AlreadyVoided { .. } => 15,
            Self::Expired(_) => 16,
            Self::ExceedsPendingAmount { .. } => 17,
            Self::Unauthorized(_) => 18,
            Self::TimeoutTooLong(_) => 19,
            Self::ExpiryBlockFull(_) => 20,
            Self::OpCount(_) => 21,
            Self::Linked { source, .. } => source.number(),
            Self::UnresolvedPayee { .. } => 22,
            Self::FlagsNotSettable(_) => 23,
            Self::OutOfBalance { .. } => 24,
            Self::State(_) => 25,
        }
    }
}

impl From<LedgerError> for ModuleError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::State(e) => ModuleError::Storage(e),
            e => ModuleError::Refused(Refusal::new(
                ModuleId::LEDGER,
                e.number(),
                format!("ledger [{}]: {e}", e.code()),
                e,
            )),
        }
    }
}

fn account_key(owner: &L1Address, token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"account", &owner.0, &[token.id()]])
}

fn transfer_key(id: u128) -> Vec<u8> {
    state::key(PREFIX, &[b"transfer", &id.to_be_bytes()])
}

fn pending_key(id: u128) -> Vec<u8> {
    state::key(PREFIX, &[b"pending", &id.to_be_bytes()])
}

fn totals_key(token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"totals", &[token.id()]])
}

fn issuer_key(token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"issuer", &[token.id()]])
}

fn entry_key(owner: &L1Address, token: TokenId, seq: u64) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"entry", &owner.0, &[token.id()], &seq.to_be_bytes()],
    )
}

fn history_key(owner: &L1Address, token: TokenId, seq: u64) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"history", &owner.0, &[token.id()], &seq.to_be_bytes()],
    )
}

fn expiry_count_key(block: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"expiry", &block.to_be_bytes()])
}

fn expiry_key(block: u64, index: u32) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"expiry", &block.to_be_bytes(), &index.to_be_bytes()],
    )
}

/// An account's counters and flags (an untouched account's defaults if new).
pub fn account(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
) -> Result<LedgerAccount, StateError> {
    Ok(state::get(state, &account_key(owner, token))?
        .unwrap_or_else(|| LedgerAccount::opened(owner)))
}

/// The posted balance of `owner` in `token`.
pub fn balance(state: &dyn Read, owner: &L1Address, token: TokenId) -> Result<Amount, StateError> {
    Ok(account(state, owner, token)?.balance())
}

/// A transfer.
pub fn transfer_by_id(state: &dyn Read, id: u128) -> Result<Option<LedgerTransfer>, StateError> {
    state::get(state, &transfer_key(id))
}

/// Where the pending transfer `id` stands (`None`: not a pending transfer).
pub fn pending_status(state: &dyn Read, id: u128) -> Result<Option<PendingStatus>, StateError> {
    state::get(state, &pending_key(id))
}

/// The token's sums and supply.
pub fn totals(state: &dyn Read, token: TokenId) -> Result<Totals, StateError> {
    Ok(state::get(state, &totals_key(token))?.unwrap_or_default())
}

/// The token's issuer (`None`: fixed supply).
pub fn issuer_of(state: &dyn Read, token: TokenId) -> Result<Option<IssuerAuthority>, StateError> {
    state::get(state, &issuer_key(token))
}

/// Writes the genesis issuers.
pub fn set_genesis_issuers(state: &mut Layer<'_>, issuers: &[(TokenId, IssuerAuthority)]) {
    for (token, authority) in issuers {
        state.put(issuer_key(*token), authority);
    }
}

/// Checks a client-chosen id.
pub fn check_client_id(id: u128) -> Result<(), LedgerError> {
    if id == 0 {
        return Err(LedgerError::ZeroId);
    }
    if id & SYSTEM_ID_BIT != 0 {
        return Err(LedgerError::ReservedId(id));
    }
    Ok(())
}

/// Whether a transfer of `code` reaches closed accounts (the node's own movements
/// must never be refusable by a user).
fn forced(code: TransferCode) -> bool {
    matches!(
        code,
        TransferCode::Genesis | TransferCode::Withdrawal | TransferCode::Expiry
    )
}

/// Adds to a bounded counter (pending sums, the supply: at most [`SUPPLY_MAX`]
/// each, so this never fails unless a bug broke that bound).
fn add(a: Amount, b: Amount, token: TokenId) -> Result<Amount, LedgerError> {
    a.checked_add(b).ok_or(LedgerError::Overflow { token })
}

/// Adds `amount` to the posted counters of both accounts and the token's totals:
/// running volumes, wrapping at 2^128 (see the module's limits).
fn post_volumes(
    debit: &mut LedgerAccount,
    credit: &mut LedgerAccount,
    totals: &mut Totals,
    amount: Amount,
) {
    debit.debits_posted = debit.debits_posted.wrapping_add(amount);
    credit.credits_posted = credit.credits_posted.wrapping_add(amount);
    totals.debits_posted = totals.debits_posted.wrapping_add(amount);
    totals.credits_posted = totals.credits_posted.wrapping_add(amount);
}

/// Applies a posted (plain) transfer. The caller has checked who may debit the
/// account; the node's own movements (genesis, deposits, fees, withdrawals) come
/// through here.
pub fn post(state: &mut Layer<'_>, transfer: &LedgerTransfer) -> Result<Posted, LedgerError> {
    apply_transfer(state, transfer)
}

/// The id check every transfer starts with: `Some` if the id is taken.
fn existing(state: &dyn Read, transfer: &LedgerTransfer) -> Result<Option<Posted>, LedgerError> {
    let Some(existing) = transfer_by_id(state, transfer.id)? else {
        return Ok(None);
    };
    match existing.first_difference(transfer) {
        None => Ok(Some(Posted::AlreadyExists)),
        Some(field) => Err(LedgerError::ExistsWithDifferent {
            id: transfer.id,
            field,
        }),
    }
}

/// Applies `transfer`: posted, pending, post-pending or void-pending by its flags.
fn apply_transfer(state: &mut Layer<'_>, t: &LedgerTransfer) -> Result<Posted, LedgerError> {
    if t.id == 0 {
        return Err(LedgerError::ZeroId);
    }
    let resolving = t
        .flags
        .has(TransferFlags::POST_PENDING | TransferFlags::VOID_PENDING);
    if t.amount == 0 && !resolving {
        return Err(LedgerError::ZeroAmount);
    }
    if t.debit == t.credit {
        return Err(LedgerError::SameAccount);
    }
    if let Some(done) = existing(state, t)? {
        return Ok(done);
    }
    let token = t.token;
    let mut debit = account(state, &t.debit, token)?;
    let mut credit = account(state, &t.credit, token)?;
    let mut totals = totals(state, token)?;
    // Only posted movements change the supply: out of the issuance account
    // (genesis, mints) adds, into it (burns) removes. Checked before anything is
    // written.
    let posts = !t
        .flags
        .has(TransferFlags::PENDING | TransferFlags::VOID_PENDING);
    if posts && t.debit == issuer() {
        if t.amount > SUPPLY_MAX - totals.supply.min(SUPPLY_MAX) {
            return Err(LedgerError::SupplyExceeded {
                token,
                supply: totals.supply,
                amount: t.amount,
            });
        }
        totals.supply += t.amount;
    } else if posts && t.credit == issuer() {
        totals.supply = totals.supply.saturating_sub(t.amount);
    }
    if resolving {
        let pending = resolvable(state, t.pending_id)?;
        let post = t.flags.has(TransferFlags::POST_PENDING);
        if post {
            if t.amount == 0 {
                return Err(LedgerError::ZeroAmount);
            }
            if t.amount > pending.amount {
                return Err(LedgerError::ExceedsPendingAmount {
                    pending: pending.id,
                    amount: t.amount,
                    reserved: pending.amount,
                });
            }
            // No closed-account check: the reservation predates any closing, and a
            // debtor must not escape a hold by closing its account.
        }
        // Release the whole reservation; a post then posts its part.
        let release = |counter: &mut Amount| -> Result<(), LedgerError> {
            *counter = counter
                .checked_sub(pending.amount)
                .ok_or(LedgerError::Overflow { token })?;
            Ok(())
        };
        release(&mut debit.debits_pending)?;
        release(&mut credit.credits_pending)?;
        release(&mut totals.debits_pending)?;
        release(&mut totals.credits_pending)?;
        let status = if post {
            post_volumes(&mut debit, &mut credit, &mut totals, t.amount);
            PendingStatus::Posted(t.id)
        } else if t.code == TransferCode::Expiry {
            PendingStatus::Expired(t.id)
        } else {
            PendingStatus::Voided(t.id)
        };
        state.put(pending_key(pending.id), &status);
    } else {
        if !forced(t.code) {
            check_open(&debit, &t.debit, token)?;
            check_open(&credit, &t.credit, token)?;
        }
        check_limits(&debit, &credit, t.amount, token)?;
        if t.flags.has(TransferFlags::PENDING) {
            debit.debits_pending = add(debit.debits_pending, t.amount, token)?;
            credit.credits_pending = add(credit.credits_pending, t.amount, token)?;
            totals.debits_pending = add(totals.debits_pending, t.amount, token)?;
            totals.credits_pending = add(totals.credits_pending, t.amount, token)?;
            if t.timeout > 0 {
                schedule_expiry(state, t)?;
            }
            state.put(pending_key(t.id), &PendingStatus::Pending);
        } else {
            post_volumes(&mut debit, &mut credit, &mut totals, t.amount);
        }
    }
    touch(state, &t.debit, &mut debit, t)?;
    touch(state, &t.credit, &mut credit, t)?;
    state.put(totals_key(token), &totals);
    state.put(transfer_key(t.id), t);
    Ok(Posted::Created)
}

/// The pending transfer `id`, if it can still be posted or voided.
fn resolvable(state: &dyn Read, id: u128) -> Result<LedgerTransfer, LedgerError> {
    let pending = transfer_by_id(state, id)?.ok_or(LedgerError::PendingNotFound(id))?;
    match pending_status(state, id)? {
        None => Err(LedgerError::NotPending(id)),
        Some(PendingStatus::Pending) => Ok(pending),
        Some(PendingStatus::Posted(by)) => Err(LedgerError::AlreadyPosted { pending: id, by }),
        Some(PendingStatus::Voided(by)) => Err(LedgerError::AlreadyVoided { pending: id, by }),
        Some(PendingStatus::Expired(_)) => Err(LedgerError::Expired(id)),
    }
}

fn check_open(
    account: &LedgerAccount,
    owner: &L1Address,
    token: TokenId,
) -> Result<(), LedgerError> {
    if account.flags.has(AccountFlags::CLOSED) {
        return Err(LedgerError::AccountClosed {
            owner: *owner,
            token,
        });
    }
    Ok(())
}

/// The balance rules of both accounts' flags, pending amounts included. Compares
/// net amounts (bounded by the supply), never the running posted volumes, so no
/// sum here can overflow.
fn check_limits(
    debit: &LedgerAccount,
    credit: &LedgerAccount,
    amount: Amount,
    token: TokenId,
) -> Result<(), LedgerError> {
    if debit
        .flags
        .has(AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS)
        && amount > debit.available()
    {
        return Err(LedgerError::InsufficientFunds {
            token,
            available: debit.available(),
            amount,
        });
    }
    if credit
        .flags
        .has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS)
        && amount > credit.net_debit().saturating_sub(credit.credits_pending)
    {
        return Err(LedgerError::ExceedsDebits { token, amount });
    }
    Ok(())
}

/// Appends `t` to `owner`'s audit trail (and its balances, with `history`) and
/// writes the account.
fn touch(
    state: &mut Layer<'_>,
    owner: &L1Address,
    account: &mut LedgerAccount,
    t: &LedgerTransfer,
) -> Result<(), LedgerError> {
    let seq = account.entries;
    account.entries += 1;
    state.put(
        entry_key(owner, t.token, seq),
        &AccountEntry {
            transfer: t.id,
            block: t.block,
        },
    );
    if account.flags.has(AccountFlags::HISTORY) {
        state.put(
            history_key(owner, t.token, seq),
            &BalanceSnapshot {
                transfer: t.id,
                block: t.block,
                debits_pending: account.debits_pending,
                debits_posted: account.debits_posted,
                credits_pending: account.credits_pending,
                credits_posted: account.credits_posted,
            },
        );
    }
    state.put(account_key(owner, t.token), &*account);
    Ok(())
}

fn schedule_expiry(state: &mut Layer<'_>, t: &LedgerTransfer) -> Result<(), LedgerError> {
    if t.timeout > PENDING_TIMEOUT_MAX {
        return Err(LedgerError::TimeoutTooLong(t.timeout));
    }
    let at = t.block + t.timeout;
    let count: u32 = state::get(state, &expiry_count_key(at))?.unwrap_or(0);
    if count >= EXPIRIES_PER_BLOCK_MAX {
        return Err(LedgerError::ExpiryBlockFull(at));
    }
    state.put(expiry_key(at, count), &t.id);
    state.put(expiry_count_key(at), &(count + 1));
    Ok(())
}

/// Runs before block `number`'s transactions: releases every pending transfer
/// whose timeout ends at this block (by a node void with code `Expiry`). Returns
/// how many expired.
pub fn begin_block(state: &mut Layer<'_>, number: u64) -> Result<u32, LedgerError> {
    let Some(count) = state::get::<u32>(state, &expiry_count_key(number))? else {
        return Ok(0);
    };
    let mut expired = 0;
    for i in 0..count {
        let key = expiry_key(number, i);
        let Some(id) = state::get::<u128>(state, &key)? else {
            continue;
        };
        state.delete(key);
        if pending_status(state, id)? != Some(PendingStatus::Pending) {
            continue;
        }
        let pending = transfer_by_id(state, id)?.ok_or(LedgerError::PendingNotFound(id))?;
        let void = LedgerTransfer {
            id: system_transfer_id(&[b"expiry", &id.to_be_bytes()]),
            pending_id: id,
            flags: TransferFlags(TransferFlags::VOID_PENDING),
            ..LedgerTransfer::posted(
                0,
                pending.debit,
                pending.credit,
                pending.token,
                pending.amount,
                TransferCode::Expiry,
                number,
            )
        };
        apply_transfer(state, &void)?;
        expired += 1;
    }
    state.delete(expiry_count_key(number));
    Ok(expired)
}

/// What a ledger call runs against.
pub struct LedgerContext<'a> {
    /// The (verified) signer.
    pub from: PublicKey,
    /// The block being built.
    pub block: u64,
    /// Resolves `.ghost` receivers (the naming module implements [`Names`] for
    /// its parameters).
    pub naming: &'a dyn Names,
}

/// Applies a ledger call.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &LedgerContext<'_>,
    call: &LedgerCall,
) -> Result<(), LedgerError> {
    match call {
        LedgerCall::Transfer {
            id,
            to,
            token,
            amount,
        } => {
            let op = LedgerOp::Transfer {
                id: *id,
                to: Payee::Address(*to),
                token: *token,
                amount: *amount,
                pending: None,
            };
            apply_op(state, ctx, &op, false).map(|_| ())
        }
        LedgerCall::Ops(ops) => {
            if ops.is_empty() || ops.len() > LINKED_OPS_MAX {
                return Err(LedgerError::OpCount(ops.len()));
            }
            let count = ops.len();
            for (index, op) in ops.iter().enumerate() {
                let linked = index + 1 < count;
                apply_op(state, ctx, op, linked).map_err(|e| {
                    if count == 1 {
                        e
                    } else {
                        LedgerError::Linked {
                            index,
                            count,
                            source: Box::new(e),
                        }
                    }
                })?;
            }
            Ok(())
        }
        LedgerCall::SetAccountFlags { token, set, clear } => {
            let bad = (set | clear) & !AccountFlags::OWNER_SETTABLE;
            if bad != 0 {
                return Err(LedgerError::FlagsNotSettable(bad));
            }
            let owner = L1Address(ctx.from.0);
            let mut account = account(state, &owner, *token)?;
            account.flags.0 = (account.flags.0 | set) & !clear;
            state.put(account_key(&owner, *token), &account);
            Ok(())
        }
        LedgerCall::SetIssuer { token, authority } => {
            authorize_issuer(state, ctx, *token, None, false)?;
            state.put(issuer_key(*token), authority);
            Ok(())
        }
    }
}

/// Applies one operation of a call (`linked`: not the last of a chain).
pub fn apply_op(
    state: &mut Layer<'_>,
    ctx: &LedgerContext<'_>,
    op: &LedgerOp,
    linked: bool,
) -> Result<Posted, LedgerError> {
    check_client_id(op.id())?;
    let signer = L1Address(ctx.from.0);
    let link = if linked { TransferFlags::LINKED } else { 0 };
    let transfer = match op {
        LedgerOp::Transfer {
            id,
            to,
            token,
            amount,
            pending,
        } => {
            let (credit, via) = resolve_payee(state, ctx.block, ctx.naming, to)?;
            if credit == issuer() {
                return Err(LedgerError::IssuanceAccount);
            }
            let (flags, timeout) = match pending {
                Some(timeout) => (TransferFlags::PENDING, *timeout),
                None => (0, 0),
            };
            if timeout > PENDING_TIMEOUT_MAX {
                return Err(LedgerError::TimeoutTooLong(timeout));
            }
            LedgerTransfer {
                timeout,
                flags: TransferFlags(flags | link),
                via,
                ..LedgerTransfer::posted(
                    *id,
                    signer,
                    credit,
                    *token,
                    *amount,
                    TransferCode::Transfer,
                    ctx.block,
                )
            }
        }
        LedgerOp::Post {
            id,
            pending_id,
            amount,
        } => {
            let pending = transfer_by_id(state, *pending_id)?
                .ok_or(LedgerError::PendingNotFound(*pending_id))?;
            if signer != pending.debit && signer != pending.credit {
                return Err(LedgerError::Unauthorized(format!(
                    "only the debtor or the creditor of pending transfer {pending_id:#x} may post it"
                )));
            }
            LedgerTransfer {
                pending_id: *pending_id,
                flags: TransferFlags(TransferFlags::POST_PENDING | link),
                ..LedgerTransfer::posted(
                    *id,
                    pending.debit,
                    pending.credit,
                    pending.token,
                    amount.unwrap_or(pending.amount),
                    pending.code,
                    ctx.block,
                )
            }
        }
        LedgerOp::Void { id, pending_id } => {
            let pending = transfer_by_id(state, *pending_id)?
                .ok_or(LedgerError::PendingNotFound(*pending_id))?;
            if signer != pending.credit {
                return Err(LedgerError::Unauthorized(format!(
                    "only the creditor of pending transfer {pending_id:#x} may void it; the debtor's reservation ends at its timeout"
                )));
            }
            LedgerTransfer {
                pending_id: *pending_id,
                flags: TransferFlags(TransferFlags::VOID_PENDING | link),
                ..LedgerTransfer::posted(
                    *id,
                    pending.debit,
                    pending.credit,
                    pending.token,
                    pending.amount,
                    pending.code,
                    ctx.block,
                )
            }
        }
        LedgerOp::Mint {
            id,
            to,
            token,
            amount,
            as_did,
        } => {
            let authorizer = authorize_issuer(state, ctx, *token, *as_did, true)?;
            let (credit, via) = resolve_payee(state, ctx.block, ctx.naming, to)?;
            LedgerTransfer {
                flags: TransferFlags(link),
                authorizer: Some(authorizer),
                via,
                ..LedgerTransfer::posted(
                    *id,
                    issuer(),
                    credit,
                    *token,
                    *amount,
                    TransferCode::Mint,
                    ctx.block,
                )
            }
        }
        LedgerOp::Burn {
            id,
            token,
            amount,
            as_did,
        } => {
            let authorizer = authorize_issuer(state, ctx, *token, *as_did, true)?;
            LedgerTransfer {
                flags: TransferFlags(link),
                authorizer: Some(authorizer),
                ..LedgerTransfer::posted(
                    *id,
                    signer,
                    issuer(),
                    *token,
                    *amount,
                    TransferCode::Burn,
                    ctx.block,
                )
            }
        }
    };
    apply_transfer(state, &transfer)
}

/// The address a receiver names at `block`, and what it was resolved from.
pub fn resolve_payee(
    state: &dyn Read,
    block: u64,
    names: &dyn Names,
    payee: &Payee,
) -> Result<(L1Address, Option<String>), LedgerError> {
    let unresolved = |reason| LedgerError::UnresolvedPayee {
        payee: payee.to_string(),
        reason,
    };
    match payee {
        Payee::Address(address) => Ok((*address, None)),
        Payee::Did(did) => {
            let key =
                identity::payment_key(state, did)?.ok_or_else(|| unresolved("no such live DID"))?;
            Ok((L1Address(key.0), Some(did.to_string())))
        }
        Payee::Name(name) => {
            let (name, address) = names
                .resolve_l1(state, name, block)?
                .ok_or_else(|| unresolved("the name is not registered, or was released"))?;
            let address = address.ok_or_else(|| unresolved("the name has no L1 address record"))?;
            Ok((address, Some(name)))
        }
    }
}

/// Checks that the signer may mint, burn, or (with `grantees` false) replace the
/// issuer of `token`, acting for `as_did` if given.
fn authorize_issuer(
    state: &dyn Read,
    ctx: &LedgerContext<'_>,
    token: TokenId,
    as_did: Option<DidId>,
    grantees: bool,
) -> Result<Authorizer, LedgerError> {
    let unauthorized = |why: String| Err(LedgerError::Unauthorized(why));
    match issuer_of(state, token)? {
        None => unauthorized(format!(
            "{token} has no issuer: its supply is fixed at genesis"
        )),
        Some(IssuerAuthority::Key(key)) => {
            if as_did.is_some() {
                return unauthorized(format!(
                    "the {token} issuer is a key, not a DID: sign with it and name no DID"
                ));
            }
            if key != ctx.from {
                return unauthorized(format!("only the {token} issuer key may do this"));
            }
            Ok(Authorizer {
                key: ctx.from,
                did: None,
            })
        }
        Some(IssuerAuthority::Did(issuer_did)) => {
            let acting = as_did.unwrap_or(issuer_did);
            if !identity::acts_for(state, &acting, &ctx.from)? {
                return unauthorized(format!(
                    "the signer is not a capabilityInvocation key of live {acting} or of its controllers"
                ));
            }
            if acting != issuer_did {
                let holds = grantees
                    && !identity::has_permission(
                        state,
                        &acting,
                        &mint_permission(token),
                        Some(&issuer_did),
                        ctx.block,
                    )?
                    .is_empty();
                if !holds {
                    return unauthorized(if grantees {
                        format!(
                            "{acting} holds no live {} granted by the issuer {issuer_did}",
                            mint_permission(token)
                        )
                    } else {
                        format!("only the issuer {issuer_did} itself may replace the issuer")
                    });
                }
            }
            Ok(Authorizer {
                key: ctx.from,
                did: Some(acting),
            })
        }
    }
}

/// A page: entries with their sequence numbers, and the cursor of the next page
/// (`None`: the end).
pub type Page<T> = (Vec<(u64, T)>, Option<u64>);

/// The sequence numbers a page covers: from `cursor`, or without one from the
/// first entry at or after `from_block`; at most `limit` (≤ [`PAGE_LIMIT_MAX`]).
/// Also returns the next page's cursor.
fn page_range(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    from_block: u64,
    cursor: Option<u64>,
    limit: u32,
) -> Result<(std::ops::Range<u64>, Option<u64>), StateError> {
    let entries = account(state, owner, token)?.entries;
    let start = match cursor {
        Some(cursor) => cursor,
        None => first_at_or_after(state, owner, token, entries, from_block)?,
    };
    let end = entries.min(start.saturating_add(u64::from(limit.clamp(1, PAGE_LIMIT_MAX))));
    Ok((start..end, (end < entries).then_some(end)))
}

/// A page of an account's audit trail (see [`page_range`]).
pub fn account_entries(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    from_block: u64,
    cursor: Option<u64>,
    limit: u32,
) -> Result<Page<LedgerTransfer>, StateError> {
    let (range, next) = page_range(state, owner, token, from_block, cursor, limit)?;
    let mut out = Vec::new();
    for seq in range {
        let entry: Option<AccountEntry> = state::get(state, &entry_key(owner, token, seq))?;
        if let Some(entry) = entry
            && let Some(transfer) = transfer_by_id(state, entry.transfer)?
        {
            out.push((seq, transfer));
        }
    }
    Ok((out, next))
}

/// A page of an account's balance history: the entries recorded while it had
/// `history`, paged like [`account_entries`] (a page may hold fewer than `limit`).
pub fn account_history(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    from_block: u64,
    cursor: Option<u64>,
    limit: u32,
) -> Result<Page<BalanceSnapshot>, StateError> {
    let (range, next) = page_range(state, owner, token, from_block, cursor, limit)?;
    let mut out = Vec::new();
    for seq in range {
        if let Some(snapshot) = state::get(state, &history_key(owner, token, seq))? {
            out.push((seq, snapshot));
        }
    }
    Ok((out, next))
}

/// The first entry sequence number whose block is at least `block` (entries are in
/// block order): a binary search.
fn first_at_or_after(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    entries: u64,
    block: u64,
) -> Result<u64, StateError> {
    let (mut lo, mut hi) = (0, entries);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let entry: Option<AccountEntry> = state::get(state, &entry_key(owner, token, mid))?;
        if entry.is_some_and(|e| e.block < block) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Checks, for every token: Σ debits_posted = Σ credits_posted, Σ debits_pending =
/// Σ credits_pending, and the supply counter = the issuance account's net debit.
/// Run after every block; a failure means a bug and the block is not committed.
pub fn check_totals(state: &dyn Read) -> Result<(), LedgerError> {
    for token in TokenId::ALL {
        let t = totals(state, token)?;
        let net = account(state, &issuer(), token)?.net_debit();
        for (what, left, right) in [
            (
                "debits posted vs credits posted",
                t.debits_posted,
                t.credits_posted,
            ),
            (
                "debits pending vs credits pending",
                t.debits_pending,
                t.credits_pending,
            ),
            ("supply vs issuance account net", t.supply, net),
        ] {
            if left != right {
                return Err(LedgerError::OutOfBalance {
                    token,
                    what,
                    left,
                    right,
                });
            }
        }
    }
    Ok(())
}

/// The ledger as the chain drives it (see the module docs).
pub struct Ledger {
    names: Arc<dyn Names>,
}

impl Ledger {
    /// A ledger that resolves `.ghost` receivers through `names`.
    pub fn new(names: Arc<dyn Names>) -> Self {
        Self { names }
    }
}

impl Module for Ledger {
    fn id(&self) -> ModuleId {
        ModuleId::LEDGER
    }

    /// The genesis allocations (node transfers from the issuance account), then
    /// the tokens' issuers.
    fn genesis(&self, state: &mut Layer<'_>, genesis: &Genesis) -> Result<(), ModuleError> {
        for (i, (to, token, amount)) in genesis.allocations.iter().enumerate() {
            post(
                state,
                &LedgerTransfer::posted(
                    system_transfer_id(&[b"genesis", &(i as u64).to_be_bytes()]),
                    issuer(),
                    *to,
                    *token,
                    *amount,
                    TransferCode::Genesis,
                    0,
                ),
            )
            .map_err(|e| {
                Refusal::new(
                    ModuleId::LEDGER,
                    e.number(),
                    format!("allocation {i}: {e}"),
                    e,
                )
            })?;
        }
        set_genesis_issuers(state, &genesis.issuers);
        Ok(())
    }

    /// Expires the pending transfers whose timeout ends at this block.
    fn begin_block(&self, state: &mut Layer<'_>, block: &BlockContext) -> Result<(), ModuleError> {
        let expired = begin_block(state, block.number)?;
        if expired > 0 {
            metrics::counter!("ghostd_ledger_expired_total").increment(u64::from(expired));
        }
        Ok(())
    }

    fn apply(
        &self,
        state: &mut Layer<'_>,
        ctx: &CallContext,
        call: &Call,
    ) -> Result<crate::module::Applied, ModuleError> {
        let Call::Ledger(call) = call else {
            return Err(crate::module::misrouted(ModuleId::LEDGER, call));
        };
        let ledger = LedgerContext {
            from: ctx.from,
            block: ctx.block.number,
            naming: self.names.as_ref(),
        };
        apply(state, &ledger, call)?;
        Ok(crate::module::Applied::default())
    }

    /// [`check_totals`].
    fn end_block(&self, state: &dyn Read, _block: &BlockContext) -> Result<(), ModuleError> {
        Ok(check_totals(state)?)
    }
}

impl Payments for Ledger {
    fn post(&self, state: &mut Layer<'_>, transfer: &LedgerTransfer) -> Result<(), PaymentError> {
        match post(state, transfer) {
            Ok(_) => Ok(()),
            Err(LedgerError::State(e)) => Err(PaymentError::Storage(e)),
            Err(e) => Err(PaymentError::Refused {
                code: e.number(),
                message: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use super::*;

    use crate::state::MemState as Mem;

    fn transfer(id: u128, debit: L1Address, credit: L1Address, amount: Amount) -> LedgerTransfer {
        LedgerTransfer::posted(
            id,
            debit,
            credit,
            TokenId::Spirit,
            amount,
            TransferCode::Transfer,
            1,
        )
    }

    #[test]
    fn double_entry_idempotent_ids_and_no_overdraft() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let alice = L1Address([1; 32]);
        let bob = L1Address([2; 32]);
        let genesis = LedgerTransfer {
            code: TransferCode::Genesis,
            ..transfer(system_transfer_id(&[b"g"]), issuer(), alice, 100)
        };
        assert_eq!(post(&mut state, &genesis).unwrap(), Posted::Created);
        let t = transfer(7, alice, bob, 60);
        assert_eq!(post(&mut state, &t).unwrap(), Posted::Created);
        // Same id, same fields: a retry, nothing moves twice.
        assert_eq!(post(&mut state, &t).unwrap(), Posted::AlreadyExists);
        assert_eq!(balance(&state, &alice, TokenId::Spirit).unwrap(), 40);
        assert_eq!(balance(&state, &bob, TokenId::Spirit).unwrap(), 60);
        // Same id, other fields: refused.
        let other = transfer(7, alice, bob, 61);
        assert!(matches!(
            post(&mut state, &other),
            Err(LedgerError::ExistsWithDifferent {
                id: 7,
                field: TransferField::Amount
            })
        ));
        // The first differing field is named, in TigerBeetle's order.
        let carol = L1Address([3; 32]);
        assert!(matches!(
            post(&mut state, &transfer(7, alice, carol, 61)),
            Err(LedgerError::ExistsWithDifferent {
                field: TransferField::Credit,
                ..
            })
        ));
        assert!(matches!(
            post(&mut state, &transfer(7, carol, bob, 60)),
            Err(LedgerError::ExistsWithDifferent {
                field: TransferField::Debit,
                ..
            })
        ));
        // Overdraft refused, nothing written.
        let before = state.writes().clone();
        assert!(matches!(
            post(&mut state, &transfer(8, alice, bob, 41)),
            Err(LedgerError::InsufficientFunds { available: 40, .. })
        ));
        assert_eq!(&before, state.writes());
        assert!(matches!(
            post(&mut state, &transfer(9, alice, alice, 1)),
            Err(LedgerError::SameAccount)
        ));
        assert!(matches!(
            post(&mut state, &transfer(10, alice, bob, 0)),
            Err(LedgerError::ZeroAmount)
        ));
        assert!(check_client_id(SYSTEM_ID_BIT | 5).is_err());
        assert!(check_client_id(5).is_ok());
        check_totals(&state).unwrap();
        let issuer_account = account(&state, &issuer(), TokenId::Spirit).unwrap();
        assert_eq!(issuer_account.debits_posted, 100);
        assert_eq!(totals(&state, TokenId::Spirit).unwrap().supply, 100);
    }

    #[test]
    fn closed_accounts_still_receive_the_nodes_movements() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let user = L1Address([4; 32]);
        let genesis = LedgerTransfer::posted(
            system_transfer_id(&[b"g"]),
            issuer(),
            bridge_escrow(),
            TokenId::Gcc,
            100,
            TransferCode::Genesis,
            0,
        );
        post(&mut state, &genesis).unwrap();
        let mut closed = LedgerAccount::opened(&user);
        closed.flags.0 |= AccountFlags::CLOSED;
        state.put(account_key(&user, TokenId::Gcc), &closed);
        // A user transfer is refused; a withdrawal from the bridge is not (a user
        // closing an account must not be able to stall finality).
        let deposit_like = LedgerTransfer::posted(
            system_transfer_id(&[b"d"]),
            bridge_escrow(),
            user,
            TokenId::Gcc,
            10,
            TransferCode::Transfer,
            1,
        );
        assert!(matches!(
            post(&mut state, &deposit_like),
            Err(LedgerError::AccountClosed { .. })
        ));
        let withdrawal = LedgerTransfer {
            code: TransferCode::Withdrawal,
            ..deposit_like
        };
        post(&mut state, &withdrawal).unwrap();
        assert_eq!(balance(&state, &user, TokenId::Gcc).unwrap(), 10);
        check_totals(&state).unwrap();
    }

    #[test]
    fn out_of_balance_totals_are_caught() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        state.put(
            totals_key(TokenId::Mana),
            &Totals {
                debits_posted: 5,
                credits_posted: 4,
                ..Totals::default()
            },
        );
        assert!(matches!(
            check_totals(&state),
            Err(LedgerError::OutOfBalance {
                token: TokenId::Mana,
                ..
            })
        ));
        state.put(
            totals_key(TokenId::Mana),
            &Totals {
                supply: 3,
                ..Totals::default()
            },
        );
        assert!(matches!(
            check_totals(&state),
            Err(LedgerError::OutOfBalance {
                what: "supply vs issuance account net",
                ..
            })
        ));
    }
}

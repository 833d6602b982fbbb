//! [`LedgerError`]: why a ledger operation was refused, with its stable name
//! ([`LedgerError::code`]) and receipt number ([`LedgerError::number`], the table),
//! and its mapping to a module refusal.

use ghostplane_primitives::{Amount, L1Address, TokenId};

use super::{
    EXPIRIES_PER_BLOCK_MAX, LINKED_OPS_MAX, PENDING_TIMEOUT_MAX, SUPPLY_MAX, TransferField,
};
use ghostd_module::ModuleFailure;
use ghostd_module::state::StateError;
use ghostd_types::tx::ModuleId;

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

impl ModuleFailure for LedgerError {
    const MODULE: ModuleId = ModuleId::LEDGER;

    fn result_code(&self) -> u16 {
        self.number()
    }

    /// `ledger [<code name>]: <error>`.
    fn message(&self) -> String {
        format!("ledger [{}]: {self}", self.code())
    }

    fn into_storage(self) -> Result<StateError, Self> {
        match self {
            Self::State(e) => Ok(e),
            e => Err(e),
        }
    }
}

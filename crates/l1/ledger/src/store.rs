//! The ledger's state layout (prefix `ledger`: the key of each record) and the
//! plain reads of its records: accounts, transfers, pending statuses, totals,
//! issuers.

use ghostplane_primitives::{Amount, L1Address, TokenId};

use super::{IssuerAuthority, LedgerAccount, LedgerTransfer, PendingStatus, Totals};
use ghostd_module::state::{self, Read, StateError};

const PREFIX: &str = "ledger";

pub(super) fn account_key(owner: &L1Address, token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"account", &owner.0, &[token.id()]])
}

pub(super) fn transfer_key(id: u128) -> Vec<u8> {
    state::key(PREFIX, &[b"transfer", &id.to_be_bytes()])
}

pub(super) fn pending_key(id: u128) -> Vec<u8> {
    state::key(PREFIX, &[b"pending", &id.to_be_bytes()])
}

pub(super) fn totals_key(token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"totals", &[token.id()]])
}

pub(super) fn issuer_key(token: TokenId) -> Vec<u8> {
    state::key(PREFIX, &[b"issuer", &[token.id()]])
}

pub(super) fn entry_key(owner: &L1Address, token: TokenId, seq: u64) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"entry", &owner.0, &[token.id()], &seq.to_be_bytes()],
    )
}

pub(super) fn history_key(owner: &L1Address, token: TokenId, seq: u64) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"history", &owner.0, &[token.id()], &seq.to_be_bytes()],
    )
}

pub(super) fn expiry_count_key(block: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"expiry", &block.to_be_bytes()])
}

pub(super) fn expiry_key(block: u64, index: u32) -> Vec<u8> {
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

//! The audit trail: every transfer appends an entry to both accounts' trails
//! (and a balance snapshot, with `history`), paged by [`account_entries`] and
//! [`account_history`].

use ghostplane_primitives::{L1Address, TokenId};

use super::store::{account, account_key, entry_key, history_key, transfer_by_id};
use super::{
    AccountEntry, AccountFlags, BalanceSnapshot, LedgerAccount, LedgerError, LedgerTransfer,
    PAGE_LIMIT_MAX,
};
use ghostd_module::state::{self, Layer, Read, StateError};

/// Appends `t` to `owner`'s audit trail (and its balances, with `history`) and
/// writes the account.
pub(super) fn touch(
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

/// A page: entries with their sequence numbers, and the cursor of the next page
/// (`None`: the end).
pub type Page<T> = (Vec<(u64, T)>, Option<u64>);

/// Which page of an account's trail: from `cursor`, or without one from the first
/// entry at or after `from_block`; at most `limit` entries (clamped to 1 ..=
/// [`PAGE_LIMIT_MAX`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    /// Where a page without a cursor starts: the first entry in this block or later.
    pub from_block: u64,
    /// The previous page's next cursor.
    pub cursor: Option<u64>,
    /// Most entries.
    pub limit: u32,
}

/// The sequence numbers `page` covers, and the next page's cursor.
fn page_range(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    page: PageQuery,
) -> Result<(std::ops::Range<u64>, Option<u64>), StateError> {
    let entries = account(state, owner, token)?.entries;
    let start = match page.cursor {
        Some(cursor) => cursor,
        None => first_at_or_after(state, owner, token, entries, page.from_block)?,
    };
    let limit = page.limit.clamp(1, PAGE_LIMIT_MAX);
    let end = entries.min(start.saturating_add(u64::from(limit)));
    Ok((start..end, (end < entries).then_some(end)))
}

/// A page of an account's audit trail.
pub fn account_entries(
    state: &dyn Read,
    owner: &L1Address,
    token: TokenId,
    page: PageQuery,
) -> Result<Page<LedgerTransfer>, StateError> {
    let (range, next) = page_range(state, owner, token, page)?;
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
    page: PageQuery,
) -> Result<Page<BalanceSnapshot>, StateError> {
    let (range, next) = page_range(state, owner, token, page)?;
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

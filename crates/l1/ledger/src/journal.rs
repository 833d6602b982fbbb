//! The journal: applying one transfer (posted, pending, post-pending or
//! void-pending) to both accounts and the token's totals, with the id, balance,
//! closed-account and supply checks; and the per-block invariant check
//! ([`check_totals`]).

use ghostplane_primitives::{Amount, L1Address, TokenId};

use super::expiry::schedule_expiry;
use super::store::{account, pending_key, totals, totals_key, transfer_by_id, transfer_key};
use super::trail::touch;
use super::{
    AccountFlags, LedgerAccount, LedgerError, LedgerTransfer, PendingStatus, SYSTEM_ID_BIT, Totals,
    TransferCode, TransferFlags, issuer, pending_status,
};
use ghostd_module::state::{Layer, Read};

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
pub(super) fn apply_transfer(
    state: &mut Layer<'_>,
    t: &LedgerTransfer,
) -> Result<Posted, LedgerError> {
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

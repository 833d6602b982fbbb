//! Two-phase timeouts: scheduling a pending transfer's expiry block, and
//! [`begin_block`], which voids what is still pending when that block starts.

use super::journal::apply_transfer;
use super::store::{expiry_count_key, expiry_key, pending_status, transfer_by_id};
use super::{
    EXPIRIES_PER_BLOCK_MAX, LedgerError, LedgerTransfer, PENDING_TIMEOUT_MAX, PendingStatus,
    TransferCode, TransferFlags, system_transfer_id,
};
use ghostd_module::state::{self, Layer};

pub(super) fn schedule_expiry(
    state: &mut Layer<'_>,
    t: &LedgerTransfer,
) -> Result<(), LedgerError> {
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

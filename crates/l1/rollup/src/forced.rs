//! Forced withdrawals (issue 37): an L2 account's owner queues a withdrawal on the
//! L1, and the operator must include it within the forced-inclusion window.
//!
//! ```text
//! ForceWithdraw (any L1 signer; the L2 account's key signs the request)
//!   ▼ not a Groth16 rollup (its circuit has no forced withdrawal op)
//!   ▼ the account is a user's the L1 knows (committed pubdata or the genesis)
//!   ▼ its key signed FORCED_WITHDRAWAL_DOMAIN ‖ chain ‖ account ‖ token ‖ amount ‖
//!   │  recipient ‖ count (the account's requests so far: each signature is
//!   │  usable once)
//!   ▼ queue below deposit_queue_max pending; the signer pays forced_withdrawal_fee
//!   │  GCC to the rollup treasury
//!   ▼ ForcedWithdrawalEvent queued; the count moves on
//! Commit: the batch's ForcedWithdraw ops consume the queue in order; each pays
//!   `min(requested, balance)` (the L1 checks the op against the request, the
//!   proof binds the balance); a commit after a request's deadline that leaves it
//!   out is refused; exit mode follows the exit window later.
//! ```
//!
//! Limits: at most `deposit_queue_max` requests wait at once, each a fixed-size
//! record (~120 bytes), and each costs its signer the fee: flooding the queue costs
//! `deposit_queue_max × fee` and blocks nobody's deposits (a queue of its own).

use ghostd_ledger::{self as ledger, LedgerTransfer, TransferCode};
use ghostd_module::state::{self, Layer, Read, StateError};
use ghostd_types::rollup::{ForcedWithdrawalRequest, RollupGenesis};
use ghostplane_primitives::{AccountId, ForcedWithdrawalEvent, Hash32, L1Address, PubdataOp};
use ghostplane_prover::ProofSystem;

use super::{PREFIX, RollupError, l2_account, state_key, status};

fn forced_key(index: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"forced", &index.to_be_bytes()])
}

fn count_key(account: AccountId) -> Vec<u8> {
    state::key(PREFIX, &[b"forced-count", &account.get().to_be_bytes()])
}

/// A queued forced withdrawal.
pub fn forced_withdrawal(
    state: &dyn Read,
    index: u64,
) -> Result<Option<ForcedWithdrawalEvent>, StateError> {
    state::get(state, &forced_key(index))
}

/// How many forced withdrawals `account` has queued (the next request signs this).
pub fn request_count(state: &dyn Read, account: AccountId) -> Result<u64, StateError> {
    Ok(state::get(state, &count_key(account))?.unwrap_or(0))
}

/// Queues `request`, paid by L1 signer `from`, at L1 block `l1_block`. Returns its
/// queue index.
pub fn force_withdraw_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    from: &L1Address,
    request: &ForcedWithdrawalRequest,
    l1_block: u64,
    tx_hash: Hash32,
) -> Result<u64, RollupError> {
    let refuse = |detail: &str| RollupError::ForcedWithdrawal {
        account: request.account,
        detail: detail.into(),
    };
    if genesis.proof.system == ProofSystem::Groth16 {
        return Err(refuse(
            "this rollup proves with Groth16, whose circuit has no forced withdrawal; exit mode is the way out",
        ));
    }
    if request.amount == 0 {
        return Err(refuse("the amount is zero"));
    }
    let account = l2_account(state, request.account)?
        .ok_or_else(|| refuse("no such account in committed state"))?;
    if account.contract {
        return Err(refuse(
            "a contract's account signs nothing, so it cannot force a withdrawal",
        ));
    }
    let count = request_count(state, request.account)?;
    let message = ForcedWithdrawalRequest::signing_message(
        genesis.l2_chain_id,
        request.account,
        request.token,
        request.amount,
        &request.recipient,
        count,
    );
    ghostplane_primitives::keys::verify(&account.key, &message, &request.signature).map_err(
        |_| {
            refuse(&format!(
                "the signature is not the account key's over this request with count {count}"
            ))
        },
    )?;
    let mut st = status(state)?;
    let pending = st.forced_queued - st.forced_consumed;
    if pending >= genesis.deposit_queue_max {
        return Err(RollupError::QueueFull(pending));
    }
    if genesis.forced_withdrawal_fee > 0 {
        ledger::post(
            state,
            &LedgerTransfer::posted(
                ledger::system_transfer_id(&[b"forced-withdrawal-fee", &tx_hash.0]),
                *from,
                ledger::rollup_treasury(),
                ghostplane_primitives::TokenId::Gcc,
                genesis.forced_withdrawal_fee,
                TransferCode::ForcedWithdrawalFee,
                l1_block,
            ),
        )?;
    }
    let event = ForcedWithdrawalEvent {
        queue_index: st.forced_queued,
        l1_block,
        account: request.account,
        token: request.token,
        amount: request.amount,
        recipient: request.recipient,
        l1_tx_hash: tx_hash,
    };
    state.put(forced_key(event.queue_index), &event);
    state.put(count_key(request.account), &(count + 1));
    st.forced_queued += 1;
    state.put(state_key(), &st);
    Ok(event.queue_index)
}

/// Checks a batch's `ForcedWithdraw` op at position `op` against the queue, whose
/// next unconsumed index is `next`; returns the index after it.
pub(crate) fn check_op(
    state: &dyn Read,
    op: usize,
    next: u64,
    pubdata: &PubdataOp,
) -> Result<u64, RollupError> {
    let PubdataOp::ForcedWithdraw {
        queue_index,
        from,
        to,
        token,
        amount,
        full,
    } = pubdata
    else {
        return Ok(next);
    };
    let mismatch = |detail| RollupError::ForcedWithdrawalMismatch {
        op,
        expected: next,
        got: *queue_index,
        detail,
    };
    if *queue_index != next {
        return Err(mismatch(""));
    }
    let queued =
        forced_withdrawal(state, next)?.ok_or(mismatch(": no such forced withdrawal is queued"))?;
    if queued.account != *from || queued.token != *token || queued.recipient != *to {
        return Err(mismatch(": account, token or recipient differs"));
    }
    // `full`: the whole balance, which the proof binds to leave zero; it may be
    // below the request, never above. Otherwise exactly the request.
    if (*full && *amount > queued.amount) || (!*full && *amount != queued.amount) {
        return Err(mismatch(
            ": the amount is neither the request nor a whole balance below it",
        ));
    }
    Ok(next + 1)
}

/// The oldest forced withdrawal not consumed by index `consumed`, if it is past
/// its deadline (`l1_block` over its block plus `window`): `(index, queued_at,
/// deadline)`.
pub(crate) fn overdue(
    state: &dyn Read,
    consumed: u64,
    window: u64,
    l1_block: u64,
) -> Result<Option<(u64, u64, u64)>, StateError> {
    Ok(forced_withdrawal(state, consumed)?.and_then(|oldest| {
        let deadline = oldest.l1_block.saturating_add(window);
        (l1_block > deadline).then_some((oldest.queue_index, oldest.l1_block, deadline))
    }))
}

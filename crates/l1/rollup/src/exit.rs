//! Exit mode (issue 37): users leave without the operator.
//!
//! ```text
//! ActivateExit (anyone)
//!   ▼ due? the oldest queued deposit or forced withdrawal is past forced
//!   │  inclusion + exit window, or
//!   │  batch finalized+1 was committed more than the exit window ago, unproven
//!   │  (a quiet L2 never qualifies: both need something the operator owes)
//!   ▼ committed, unproven batches reverted (`revert::revert_to`: their undo
//!   │  records restore the L1's accounts, keys and contracts' records, and the
//!   │  counters go back to the last finalized batch)
//!   ▼ every deposit not consumed by a finalized batch refunded from the escrow
//!   │  to its L1 sender
//!   ▼ ExitState { since, reason, batch, root = the finalized root } recorded;
//!     from now on deposits, commits and proofs are refused
//! ExitClaim (anyone submits; the L2 account's key signs)
//!   ▼ exit mode on; (account, token) not claimed before
//!   ▼ the leaf's key signed EXIT_CLAIM_DOMAIN ‖ L2 chain id ‖ account ‖ token ‖
//!   │  recipient (a contract's key field is no key: its balances stay in the
//!   │  escrow, see docs/security.md)
//!   ▼ the leaf and path climb to the exit root with the genesis backend's hash
//!   ▼ the escrow pays the leaf's balance of the token to the recipient
//! ```
//!
//! Limits: activation refunds at most the deposits queued since the last
//! finalized batch (the queue bound plus what reverted batches consumed); a claim
//! is one path of the tree's depth and one signature.

use ghostd_ledger::{self as ledger, LedgerTransfer, TransferCode};
use ghostd_module::state::{self, Layer, Read, StateError};
use ghostd_types::rollup::{EXIT_PATH_NODES_MAX, ExitClaim, ExitReason, ExitState, RollupGenesis};
use ghostplane_primitives::{AccountId, FieldBytes, L1Address, TokenId};
use ghostplane_prover::ProofBackend;
use ghostplane_prover::backend::root_from_path;

use super::{PREFIX, RollupError, batch, deposit, status};

fn exit_key() -> Vec<u8> {
    state::key(PREFIX, &[b"exit"])
}

fn claimed_key(account: AccountId, token: TokenId) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"claimed", &account.get().to_be_bytes(), &[token.id()]],
    )
}

pub(crate) fn deposit_sender_key(index: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"deposit-sender", &index.to_be_bytes()])
}

/// The exit state, once exit mode is on.
pub fn exit_state(state: &dyn Read) -> Result<Option<ExitState>, StateError> {
    state::get(state, &exit_key())
}

/// Whether `(account, token)` was claimed in exit mode.
pub fn claimed(state: &dyn Read, account: AccountId, token: TokenId) -> Result<bool, StateError> {
    Ok(state::get::<u8>(state, &claimed_key(account, token))?.is_some())
}

/// Refuses every call but a claim once exit mode is on.
pub(crate) fn refuse_in_exit(state: &dyn Read) -> Result<(), RollupError> {
    match exit_state(state)? {
        Some(exit) => Err(RollupError::ExitMode { since: exit.since }),
        None => Ok(()),
    }
}

/// Why exit mode may be switched on at L1 block `l1_block`, if it may.
fn due(
    state: &dyn Read,
    genesis: &RollupGenesis,
    l1_block: u64,
) -> Result<Option<ExitReason>, RollupError> {
    let st = status(state)?;
    let window = genesis
        .forced_inclusion_blocks
        .saturating_add(genesis.exit_window_blocks);
    // The older of the two queues' oldest overdue items names the reason.
    let deposit_overdue = deposit(state, st.deposits_consumed)?
        .filter(|oldest| l1_block > oldest.l1_block.saturating_add(window))
        .map(|oldest| ExitReason::DepositOverdue {
            index: oldest.queue_index,
            queued_at: oldest.l1_block,
        });
    let forced_overdue = crate::forced::overdue(state, st.forced_consumed, window, l1_block)?
        .map(|(index, queued_at, _)| ExitReason::ForcedWithdrawalOverdue { index, queued_at });
    let queued_at = |reason: &ExitReason| match reason {
        ExitReason::DepositOverdue { queued_at, .. }
        | ExitReason::ForcedWithdrawalOverdue { queued_at, .. } => *queued_at,
        ExitReason::BatchUnproven { committed_at, .. } => *committed_at,
    };
    if let Some(reason) = [deposit_overdue, forced_overdue]
        .into_iter()
        .flatten()
        .min_by_key(queued_at)
    {
        return Ok(Some(reason));
    }
    // Measured from `unproven_since`, which a revert never moves: reverting and
    // committing again cannot put this off.
    if st.committed > st.finalized
        && let Some(since) = st.unproven_since
        && l1_block > since.saturating_add(genesis.exit_window_blocks)
    {
        return Ok(Some(ExitReason::BatchUnproven {
            number: st.finalized + 1,
            committed_at: since,
        }));
    }
    Ok(None)
}

/// Switches exit mode on at L1 block `l1_block`, if it is due (see the module
/// docs); reverts unproven batches and refunds deposits.
pub fn activate_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    l1_block: u64,
) -> Result<ExitState, RollupError> {
    refuse_in_exit(state)?;
    let reason = due(state, genesis, l1_block)?.ok_or(RollupError::ExitNotDue)?;
    let st = status(state)?;
    // Deposits consumed by the last finalized batch stay credited on L2.
    let refund_from = match st.finalized {
        0 => 0,
        n => {
            batch(state, n)?
                .ok_or(RollupError::NoState)?
                .deposits_consumed_to
        }
    };
    // Unproven batches reverted with their undo records (the L1's accounts,
    // keys and contracts' records back to the finalized batch).
    let reverted = crate::revert::revert_to(state, st.finalized)?;
    for index in refund_from..st.deposits_queued {
        let event = deposit(state, index)?.ok_or(RollupError::NoState)?;
        let sender: L1Address =
            state::get(state, &deposit_sender_key(index))?.ok_or(RollupError::NoState)?;
        let transfer = LedgerTransfer::posted(
            ledger::system_transfer_id(&[b"exit-refund", &index.to_be_bytes()]),
            ledger::bridge_escrow(),
            sender,
            event.token,
            event.amount,
            TransferCode::Withdrawal,
            l1_block,
        );
        ledger::post(state, &transfer)?;
    }
    // The counters are the finalized batch's (`revert_to`): deposits after it are
    // refunded just above; forced withdrawals after it were never paid, and their
    // owners claim their whole balances at the exit root instead.
    let exit = ExitState {
        since: l1_block,
        reason,
        batch: st.finalized,
        root: st.finalized_root,
        reverted,
        refunded: st.deposits_queued - refund_from,
    };
    state.put(exit_key(), &exit);
    Ok(exit)
}

/// Pays `claim` in exit mode at L1 block `l1_block`; returns the amount.
pub fn claim_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    backend: &dyn ProofBackend,
    claim: &ExitClaim,
    l1_block: u64,
) -> Result<u128, RollupError> {
    let refuse = |detail: &str| RollupError::ExitClaim {
        account: claim.account,
        token: claim.token,
        detail: detail.into(),
    };
    let exit = exit_state(state)?.ok_or_else(|| refuse("the rollup is not in exit mode"))?;
    if claimed(state, claim.account, claim.token)? {
        return Err(refuse("already claimed"));
    }
    if claim.path.len() > EXIT_PATH_NODES_MAX {
        return Err(refuse("the path is longer than any tree's"));
    }
    let message = ExitClaim::signing_message(
        genesis.l2_chain_id,
        claim.account,
        claim.token,
        &claim.recipient,
    );
    ghostplane_primitives::keys::verify(&claim.leaf.public_key, &message, &claim.signature)
        .map_err(|_| {
            refuse(
                "the signature is not the leaf key's over this claim (a contract's account cannot claim)",
            )
        })?;
    let hash = backend.tree_hash();
    let index = u32::try_from(claim.account.index()).unwrap_or(u32::MAX);
    let root = root_from_path(hash.as_ref(), index, &claim.leaf, &claim.path)
        .ok_or_else(|| refuse("the path has the wrong number of siblings for this tree"))?;
    if FieldBytes::from_bytes(root).ok() != Some(exit.root) {
        return Err(refuse(
            "the leaf and path do not climb to the exit root (the last finalized batch's)",
        ));
    }
    let amount = claim.leaf.balances[usize::from(claim.token.id())];
    if amount == 0 {
        return Err(refuse("the balance is zero"));
    }
    let transfer = LedgerTransfer::posted(
        ledger::system_transfer_id(&[
            b"exit-claim",
            &claim.account.get().to_be_bytes(),
            &[claim.token.id()],
        ]),
        ledger::bridge_escrow(),
        claim.recipient,
        claim.token,
        amount,
        TransferCode::Withdrawal,
        l1_block,
    );
    ledger::post(state, &transfer)?;
    state.put(claimed_key(claim.account, claim.token), &1u8);
    Ok(amount)
}

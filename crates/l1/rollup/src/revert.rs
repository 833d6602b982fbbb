//! Batch revert (issue 37): committed batches that are not proven yet can be
//! taken back, by the operator (`RevertBatches`, zkSync's `revertBlocks`) or by
//! exit mode, so that a batch that can never be proven does not halt finality.
//!
//! ```text
//! Commit n (commit_call in a child layer)
//!   ▼ undo record n: every key the commit wrote (but the counters and batch n's
//!     record) with its value before, the next account id before, and the
//!     new-key deposits it consumed
//! Prove: batch n final ▼ undo record n dropped (finalized batches never revert)
//! RevertBatches { to } (operator; finalized ≤ to < committed)
//!   ▼ for n = committed down to to + 1: restore undo record n's values, drop
//!   │  batch n's record
//!   ▼ counters back to batch `to`: committed, the L2 block, deposits and forced
//!     withdrawals consumed, the next account id, new-key deposits pending; the
//!     proving progress of batch finalized + 1 reset
//! ```
//!
//! What a commit writes besides the counters is its own: the L2 accounts it
//! registered or bumped, the keys it registered, the contracts' balances and
//! storage roots, and its record. Deposits queued in between write their own
//! keys (the queue, the seen-key index for unseen keys), never a commit's, so
//! restoring a commit's keys undoes it alone. One corner: a deposit queued after
//! a commit registered its key is not counted as a new-key deposit; if the revert
//! unregisters the key and the re-planned batch no longer creates the account,
//! that deposit creates it uncounted (the account-space reserve is 2^16 ids).
//!
//! Limits: one undo record per unfinalized batch (the batches in flight), each
//! bounded by its commit's writes, which its pubdata bounds.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostd_module::state::{self, Layer, Read, Writes};
use ghostd_types::rollup::RollupGenesis;
use ghostplane_primitives::PublicKey;

use super::{PREFIX, RollupError, batch, batch_key, state_key, status};

/// What batch `n`'s commit changed, to take it back.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
struct CommitUndo {
    /// Each key the commit wrote (but the counters and the batch record), with
    /// its value before (`None`: absent).
    before: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The next L2 account id before the commit.
    next_account: u32,
    /// New-key deposits the commit consumed (pending again after a revert).
    new_key_consumed: u64,
}

fn undo_key(number: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"undo", &number.to_be_bytes()])
}

/// Runs `commit` (batch `number`'s commit check) in a layer of its own over
/// `state`, then keeps its writes and the undo record that takes them back.
pub(crate) fn commit_with_undo(
    state: &mut Layer<'_>,
    number: u64,
    commit: impl FnOnce(&mut Layer<'_>) -> Result<(), RollupError>,
) -> Result<(), RollupError> {
    let before = status(state)?;
    let writes = {
        let mut layer = Layer::new(state);
        commit(&mut layer)?;
        layer.into_writes()
    };
    let counters = [state_key(), batch_key(number)];
    let mut undo = Vec::with_capacity(writes.len());
    for key in writes.keys().filter(|k| !counters.contains(k)) {
        undo.push((key.clone(), state.get(key)?));
    }
    state.absorb(writes);
    let after = status(state)?;
    state.put(
        undo_key(number),
        &CommitUndo {
            before: undo,
            next_account: before.next_account,
            new_key_consumed: before
                .new_key_deposits_pending
                .saturating_sub(after.new_key_deposits_pending),
        },
    );
    Ok(())
}

/// Batch `number` is final: it can never be reverted, so its undo record goes.
pub(crate) fn finalized(state: &mut Layer<'_>, number: u64) {
    state.delete(undo_key(number));
}

/// Reverts the committed, unproven batches after `to` (see the module docs);
/// returns how many. `to` must be at least the last finalized batch.
pub(crate) fn revert_to(state: &mut Layer<'_>, to: u64) -> Result<u64, RollupError> {
    let mut st = status(state)?;
    if to < st.finalized || to > st.committed {
        return Err(RollupError::RevertRange {
            to,
            finalized: st.finalized,
            committed: st.committed,
        });
    }
    for number in (to + 1..=st.committed).rev() {
        let undo: CommitUndo = state::get(state, &undo_key(number))?.ok_or(RollupError::NoState)?;
        let restore: Writes = undo.before.into_iter().collect();
        state.absorb(restore);
        st.next_account = undo.next_account;
        st.new_key_deposits_pending = st
            .new_key_deposits_pending
            .saturating_add(undo.new_key_consumed);
        state.delete(batch_key(number));
        state.delete(undo_key(number));
    }
    let reverted = st.committed - to;
    let (l2_block, deposits, forced) = match to {
        0 => (0, 0, 0),
        n => {
            let record = batch(state, n)?.ok_or(RollupError::NoState)?;
            (
                record.last_block,
                record.deposits_consumed_to,
                record.forced_consumed_to,
            )
        }
    };
    st.committed = to;
    st.committed_l2_block = l2_block;
    st.deposits_consumed = deposits;
    st.forced_consumed = forced;
    if to == st.finalized {
        st.proving_chunks = 0;
        st.proving_root = st.finalized_root;
    }
    state.put(state_key(), &st);
    Ok(reverted)
}

/// The operator's `RevertBatches { to }`.
pub fn revert_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    from: &PublicKey,
    to: u64,
) -> Result<u64, RollupError> {
    if !genesis.operators.contains(from) {
        return Err(RollupError::NotOperator(*from));
    }
    let st = status(state)?;
    if to >= st.committed {
        return Err(RollupError::RevertRange {
            to,
            finalized: st.finalized,
            committed: st.committed,
        });
    }
    revert_to(state, to)
}

/// Whether batch `number` has an undo record (committed and not final).
pub fn has_undo(state: &dyn Read, number: u64) -> Result<bool, state::StateError> {
    Ok(state.get(&undo_key(number))?.is_some())
}

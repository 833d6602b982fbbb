//! Deposits: lock in the bridge escrow, queue the event (hash-chained).

use super::*;

/// Queues a deposit from `from`'s ledger account. Returns its queue index.
#[allow(clippy::too_many_arguments)]
pub fn deposit_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    from: &PublicKey,
    recipient: PublicKey,
    token: TokenId,
    amount: Amount,
    l1_block: u64,
    tx_hash: Hash32,
) -> Result<u64, RollupError> {
    if amount == 0 {
        return Err(RollupError::ZeroDeposit);
    }
    ghostplane_primitives::keys::validate_public_key(&recipient)
        .map_err(|_| RollupError::BadRecipient)?;
    let mut st = status(state)?;
    let pending = st.deposits_queued - st.deposits_consumed;
    if pending >= genesis.deposit_queue_max {
        return Err(RollupError::QueueFull(pending));
    }
    ledger::post(
        state,
        &LedgerTransfer::posted(
            ledger::system_transfer_id(&[b"deposit", &tx_hash.0]),
            L1Address(from.0),
            ledger::bridge_escrow(),
            token,
            amount,
            TransferCode::Deposit,
            l1_block,
        ),
    )?;
    let event = DepositEvent {
        queue_index: st.deposits_queued,
        l1_block,
        recipient,
        token,
        amount,
        l1_tx_hash: tx_hash,
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(&st.deposit_queue_hash.0);
    hasher.update(&borsh::to_vec(&event).map_err(|_| RollupError::NoState)?);
    st.deposit_queue_hash = Hash32(*hasher.finalize().as_bytes());
    state.put(deposit_key(event.queue_index), &event);
    st.deposits_queued += 1;
    state.put(state_key(), &st);
    Ok(event.queue_index)
}

//! Deposits: lock in the bridge escrow, queue the event (hash-chained).

use ghostplane_primitives::{
    ACCOUNT_ID_LIMIT, Amount, DepositEvent, Hash32, L1Address, PublicKey,
    TRANSFER_ACCOUNT_ID_LIMIT, TokenId,
};

use super::{RollupError, RollupGenesis, deposit_key, seen_key, state_key, status};
use ghostd_ledger::{self as ledger, LedgerTransfer, TransferCode};
use ghostd_module::state::{self, Layer};

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
    // A key the L1 has not seen may need a new account when the L2 credits it.
    // Transfers never create ids from TRANSFER_ACCOUNT_ID_LIMIT up, so the L2's next
    // id is at most max(next_account, that limit) plus the new-key deposits it has
    // credited since the last commit, all counted here: queue this one only if the
    // ids left take it too.
    if state::get::<u64>(state, &seen_key(&recipient))?.is_none() {
        let taken = u64::from(st.next_account.max(TRANSFER_ACCOUNT_ID_LIMIT))
            .saturating_add(st.new_key_deposits_pending);
        if taken >= u64::from(ACCOUNT_ID_LIMIT) {
            return Err(RollupError::AccountsFull {
                next_account: st.next_account,
                pending: st.new_key_deposits_pending,
                limit: ACCOUNT_ID_LIMIT,
            });
        }
        st.new_key_deposits_pending += 1;
        state.put(seen_key(&recipient), &st.deposits_queued);
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
    // Its sender, for a refund if exit mode comes before a finalized batch
    // consumes it.
    state.put(
        crate::exit::deposit_sender_key(event.queue_index),
        &L1Address(from.0),
    );
    st.deposits_queued += 1;
    state.put(state_key(), &st);
    Ok(event.queue_index)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use ghostplane_primitives::{DEPOSIT_ACCOUNTS_RESERVED, Keypair};
    use ghostplane_prover::ProofSystem;

    use ghostplane_primitives::{AccountId, ChainId, FieldBytes, PubdataOp};

    use super::*;
    use crate::{ProofParams, apply_genesis, commit_call};
    use ghostd_ledger::issuer;
    use ghostd_types::tx::BatchCommit;

    use ghostd_module::state::MemState as Mem;

    fn depositor() -> PublicKey {
        Keypair::from_seed(&[1; 32]).public_key()
    }

    fn key(i: u8) -> PublicKey {
        Keypair::from_seed(&[i; 32]).public_key()
    }

    /// Genesis accounts `key(100)` and `key(101)`; the depositor holds SPIRIT.
    fn setup(state: &mut Layer<'_>) -> RollupGenesis {
        let genesis = RollupGenesis {
            l2_chain_id: ChainId(1),
            operators: Vec::new(),
            proof: ProofParams {
                system: ProofSystem::Stark,
                chunk_ops: 2,
                params_hash: [0; 32],
                verifier_params: Vec::new(),
            },
            genesis_root: FieldBytes::from_bytes([0; 32]).unwrap(),
            genesis_accounts: vec![key(100), key(101)],
            forced_inclusion_blocks: 100,
            exit_window_blocks: 100,
            forced_withdrawal_fee: 1_000,
            genesis_balances: Vec::new(),
            deposit_queue_max: 100,
            contract_fees: Default::default(),
            batch_fuel_max: ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT,
        };
        apply_genesis(state, &genesis).unwrap();
        ledger::post(
            state,
            &LedgerTransfer::posted(
                ledger::system_transfer_id(&[b"genesis"]),
                issuer(),
                L1Address(depositor().0),
                TokenId::Spirit,
                1_000_000,
                TransferCode::Genesis,
                0,
            ),
        )
        .unwrap();
        genesis
    }

    fn deposit(
        state: &mut Layer<'_>,
        genesis: &RollupGenesis,
        to: PublicKey,
    ) -> Result<u64, RollupError> {
        let st = status(state)?;
        let mut tx = Layer::new(state);
        let result = deposit_call(
            &mut tx,
            genesis,
            &depositor(),
            to,
            TokenId::Spirit,
            10,
            1,
            Hash32([st.deposits_queued as u8; 32]),
        );
        if result.is_ok() {
            let writes = tx.into_writes();
            state.absorb(writes);
        }
        result
    }

    #[test]
    fn a_genesis_with_a_zero_window_is_refused() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let mut genesis = setup(&mut state);
        for zero in [
            |g: &mut RollupGenesis| g.forced_inclusion_blocks = 0,
            |g: &mut RollupGenesis| g.exit_window_blocks = 0,
        ] {
            let mut bad = genesis.clone();
            zero(&mut bad);
            let mut fresh = Layer::new(&base);
            assert!(matches!(
                apply_genesis(&mut fresh, &bad),
                Err(RollupError::Genesis(_))
            ));
        }
        genesis.exit_window_blocks = 1;
        apply_genesis(&mut Layer::new(&base), &genesis).unwrap();
    }

    #[test]
    fn new_key_deposits_stop_when_the_queued_ones_fill_the_account_space() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let genesis = setup(&mut state);
        // As if all ids but two were taken.
        let mut st = status(&state).unwrap();
        st.next_account = ACCOUNT_ID_LIMIT - 2;
        state.put(state_key(), &st);

        // Known keys are always accepted: a genesis key, before and after.
        deposit(&mut state, &genesis, key(100)).unwrap();
        // Two new keys take the two ids left.
        deposit(&mut state, &genesis, key(1)).unwrap();
        deposit(&mut state, &genesis, key(2)).unwrap();
        // A third new key would have no id when the L2 credits it: refused.
        let refused = deposit(&mut state, &genesis, key(3));
        assert!(
            matches!(refused, Err(RollupError::AccountsFull { .. })),
            "{refused:?}"
        );
        // Keys already queued, or known, are still accepted.
        deposit(&mut state, &genesis, key(1)).unwrap();
        deposit(&mut state, &genesis, key(101)).unwrap();
        assert_eq!(status(&state).unwrap().deposits_queued, 5);
    }

    #[test]
    fn new_key_deposits_queued_count_against_the_deposit_reserve() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let genesis = setup(&mut state);
        // Few accounts, but transfers may take every id below the reserve before
        // these deposits are credited: the queued new-key deposits must fit in it.
        let mut st = status(&state).unwrap();
        assert_eq!(st.next_account, 2);
        st.new_key_deposits_pending = u64::from(DEPOSIT_ACCOUNTS_RESERVED) - 1;
        state.put(state_key(), &st);
        deposit(&mut state, &genesis, key(1)).unwrap();
        assert!(matches!(
            deposit(&mut state, &genesis, key(2)),
            Err(RollupError::AccountsFull { .. })
        ));
        deposit(&mut state, &genesis, key(1)).unwrap();
        deposit(&mut state, &genesis, key(100)).unwrap();
        assert_eq!(
            status(&state).unwrap().new_key_deposits_pending,
            u64::from(DEPOSIT_ACCOUNTS_RESERVED)
        );
    }

    #[test]
    fn a_commit_whose_transfer_creates_a_reserved_id_is_refused() {
        let base = Mem(HashMap::new());
        let mut state = Layer::new(&base);
        let mut genesis = setup(&mut state);
        let operator = key(50);
        genesis.operators = vec![operator];
        let mut st = status(&state).unwrap();
        st.next_account = TRANSFER_ACCOUNT_ID_LIMIT;
        state.put(state_key(), &st);
        let op = PubdataOp::TransferToNew {
            from: AccountId::new(1).unwrap(),
            to: AccountId::new(TRANSFER_ACCOUNT_ID_LIMIT).unwrap(),
            to_key: key(7),
            token: TokenId::Mana,
            amount: 1,
            fee: 1_001,
            signature: ghostplane_primitives::Signature([0; 64]),
        };
        let commit = BatchCommit {
            number: 1,
            first_block: 1,
            last_block: 1,
            fee_account: AccountId::ZERO,
            pubdata: ghostplane_primitives::encode_pubdata(&[op]).unwrap(),
            new_root: FieldBytes::from_bytes([0; 32]).unwrap(),
            chunk_count: 1,
        };
        let backend = ghostplane_prover::StarkBackend::new(
            ghostplane_stark::config::FriSettings::SETTLEMENT,
            2,
        )
        .unwrap();
        let reexecutor = ghostplane_executor::Reexecutor::new().unwrap();
        let refused = commit_call(
            &mut state,
            &genesis,
            &backend,
            &reexecutor,
            &operator,
            &commit,
            1,
        );
        assert!(
            matches!(
                refused,
                Err(RollupError::AccountReserved { op: 0, id, .. }) if id == TRANSFER_ACCOUNT_ID_LIMIT
            ),
            "{refused:?}"
        );
    }
}

//! Batch commit: signatures, deposits and forced withdrawals in queue order
//! ([`crate::forced`]), account registration, the
//! chunk commitments cut exactly as the prover's merkleizer cuts them, and every
//! contract transaction re-executed ([`crate::contracts`]). Under a Groth16 genesis,
//! no contract op (fee-only `Deploy`/`Call`, `ContractTrace`).

use ghostplane_executor::Reexecutor;
use ghostplane_primitives::tx::{code_hash, contract_address};
use ghostplane_primitives::{
    AccountId, Amount, BatchNumber, ChainId, ContractTrace, FieldBytes, Hash32, PubdataOp,
    PublicKey, SignedTransaction, TRANSFER_ACCOUNT_ID_LIMIT, TokenId, Transaction, decode_pubdata,
};
use ghostplane_prover::{
    ChunkHeader, ChunkOp, CutError, Cutter, ProofBackend, ProofSystem, SlotAccounts,
};
use rayon::prelude::*;

use super::{
    BATCH_BLOCKS_MAX, BatchRecord, KEY_REGISTERED, L2Account, RollupError, RollupGenesis,
    SIGNATURE_BATCH_MIN, Withdrawal, account_key, batch_key, contract_balances,
    contract_balances_key, deposit, l2_account, seen_key, state_key, status,
};
use crate::storage::{StorageRoots, follows_trace};
use ghostd_module::state::{self, Layer};
use ghostd_types::tx::BatchCommit;

/// Accounts touched by a batch, as the L1 tracks them.
struct Accounts<'s, 'a> {
    state: &'s mut Layer<'a>,
    next: u32,
}

impl Accounts<'_, '_> {
    fn get(&self, op: usize, id: AccountId) -> Result<L2Account, RollupError> {
        l2_account(self.state, id)?.ok_or(RollupError::UnknownAccount { op, account: id })
    }

    /// Records account `id` (which must be the next id) with `key`.
    fn put_next(
        &mut self,
        op: usize,
        id: AccountId,
        key: PublicKey,
        contract: bool,
    ) -> Result<(), RollupError> {
        if id.get() != self.next {
            return Err(RollupError::AccountId {
                op,
                expected: self.next,
                got: id.get(),
            });
        }
        self.state.put(
            account_key(id),
            &L2Account {
                key,
                nonce: 0,
                contract,
            },
        );
        self.next += 1;
        Ok(())
    }

    fn create(&mut self, op: usize, id: AccountId, key: PublicKey) -> Result<(), RollupError> {
        self.put_next(op, id, key, false)?;
        // A key first named by a queued deposit keeps that deposit's index until
        // the deposit is consumed (it is counted as pending until then).
        if state::get::<u64>(self.state, &seen_key(&key))?.is_none() {
            self.state.put(seen_key(&key), &KEY_REGISTERED);
        }
        Ok(())
    }

    /// Ids from [`TRANSFER_ACCOUNT_ID_LIMIT`] up are kept for deposits.
    fn outside_reserve(op: usize, id: AccountId) -> Result<(), RollupError> {
        if id.get() >= TRANSFER_ACCOUNT_ID_LIMIT {
            return Err(RollupError::AccountReserved {
                op,
                id: id.get(),
                limit: TRANSFER_ACCOUNT_ID_LIMIT,
            });
        }
        Ok(())
    }

    /// [`Self::create`] for a transfer, outside the deposits' reserve.
    fn create_by_transfer(
        &mut self,
        op: usize,
        id: AccountId,
        key: PublicKey,
    ) -> Result<(), RollupError> {
        Self::outside_reserve(op, id)?;
        self.create(op, id, key)
    }

    /// A deploy's new contract account (ids as a transfer's). Its key field is
    /// not registered as a key: deposits never reach it.
    fn create_contract(
        &mut self,
        op: usize,
        id: AccountId,
        key: PublicKey,
    ) -> Result<(), RollupError> {
        Self::outside_reserve(op, id)?;
        self.put_next(op, id, key, true)
    }

    /// Credits `amount` of `token` to account `to` if it is a contract's (the L1
    /// tracks only contracts' balances: a user's are proven, not re-executed).
    fn credit(
        &mut self,
        op: usize,
        to: AccountId,
        contract: bool,
        token: TokenId,
        amount: Amount,
    ) -> Result<(), RollupError> {
        if !contract || amount == 0 {
            return Ok(());
        }
        let mut balances = contract_balances(self.state, to)?;
        let balance = &mut balances[usize::from(token.id())];
        *balance = balance.checked_add(amount).ok_or(RollupError::Overflow {
            op,
            what: "contract balance",
        })?;
        self.state.put(contract_balances_key(to), &balances);
        Ok(())
    }

    /// Debits a contract's move from its tracked balance; a move beyond it is
    /// refused.
    fn debit_contract(
        &mut self,
        op: usize,
        from: AccountId,
        token: TokenId,
        amount: Amount,
    ) -> Result<(), RollupError> {
        let mut balances = contract_balances(self.state, from)?;
        let balance = &mut balances[usize::from(token.id())];
        *balance = balance
            .checked_sub(amount)
            .ok_or(RollupError::ContractOverdraft {
                op,
                account: from,
                token,
                balance: *balance,
                amount,
            })?;
        self.state.put(contract_balances_key(from), &balances);
        Ok(())
    }

    /// A contract transaction's balances read (`trace`, posted after op `op`) must
    /// be the contracts' balances the L1 tracks at that point: re-execution runs
    /// on them. Users' balances read are bound by the proof (a debit beyond a
    /// balance is unprovable).
    fn check_reads(&self, op: usize, trace: &ContractTrace) -> Result<(), RollupError> {
        for read in &trace.balances {
            // Users' accounts are skipped; an account that does not exist yet (a
            // deploy's own) holds nothing.
            if l2_account(self.state, read.account)?.is_some_and(|a| !a.contract) {
                continue;
            }
            let tracked =
                contract_balances(self.state, read.account)?[usize::from(read.token.id())];
            if tracked != read.amount {
                return Err(RollupError::ContractBalanceRead {
                    op,
                    account: read.account,
                    token: read.token,
                    posted: read.amount,
                    tracked,
                });
            }
        }
        Ok(())
    }

    fn bump(
        &mut self,
        op: usize,
        id: AccountId,
        mut account: L2Account,
    ) -> Result<(), RollupError> {
        account.nonce = account
            .nonce
            .checked_add(1)
            .ok_or(RollupError::Overflow { op, what: "nonce" })?;
        self.state.put(account_key(id), &account);
        Ok(())
    }
}

/// Cuts slots into segments with the prover's rule ([`Cutter`], the merkleizer's).
struct Segments<'b> {
    backend: &'b dyn ProofBackend,
    cutter: Cutter,
    chain_id: ChainId,
    batch: BatchNumber,
    open: Vec<ChunkOp>,
    chunks: Vec<(ChunkHeader, Vec<ChunkOp>)>,
}

impl Segments<'_> {
    fn push(
        &mut self,
        op: usize,
        sender: Option<AccountId>,
        slot: ChunkOp,
    ) -> Result<(), RollupError> {
        if self.cutter.closes_before(sender) {
            self.close(op)?;
        }
        let full = self.cutter.push(slot.fee).map_err(|e| cut_error(op, e))?;
        self.open.push(slot);
        if full {
            self.close(op)?;
        }
        Ok(())
    }

    fn close(&mut self, op: usize) -> Result<(), RollupError> {
        let header = ChunkHeader {
            chain_id: self.chain_id,
            batch: self.batch,
            chunk_index: self.cutter.close().map_err(|e| cut_error(op, e))?,
            fee_account: self.cutter.fee_account(),
        };
        self.chunks.push((header, std::mem::take(&mut self.open)));
        Ok(())
    }

    /// Each chunk's `C` and slot count (hash-heavy: computed in parallel, chunks are
    /// independent). The backend pads the ops as its prover does.
    fn finish(mut self) -> Result<Vec<(FieldBytes, u32)>, RollupError> {
        if self.cutter.closes_at_end() {
            self.close(usize::MAX)?;
        }
        let backend = self.backend;
        Ok(self
            .chunks
            .par_iter()
            .map(|(header, ops)| backend.commitment(header, ops))
            .collect())
    }
}

fn cut_error(op: usize, e: CutError) -> RollupError {
    RollupError::Overflow {
        op,
        what: match e {
            CutError::FeeOverflow => "segment fees",
            CutError::TooManySegments => "segment count",
        },
    }
}

/// What contract op `op` is (`deploy`, `call`, `contract trace`, `contract move`),
/// if it is one.
fn contract_op(op: &PubdataOp) -> Option<&'static str> {
    match op.contract_tx() {
        Some(Transaction::Deploy { .. }) => Some("deploy"),
        Some(_) => Some("call"),
        None => match op {
            PubdataOp::ContractTrace(_) => Some("contract trace"),
            PubdataOp::ContractMove { .. } => Some("contract move"),
            PubdataOp::StorageProof(_) => Some("storage proof"),
            PubdataOp::ContractKey { .. } => Some("contract key"),
            _ => None,
        },
    }
}

/// Refuses the first contract op of a Groth16 rollup's batch: contract state is
/// proven by the STARK only, so Groth16 (the development backend for native
/// transfers) takes none. An honest Groth16 sequencer never builds such a batch
/// (it refuses `Deploy` and `Call` at submission).
fn check_contracts_allowed(system: ProofSystem, ops: &[PubdataOp]) -> Result<(), RollupError> {
    if system != ProofSystem::Groth16 {
        return Ok(());
    }
    match ops
        .iter()
        .enumerate()
        .find_map(|(op, o)| contract_op(o).map(|what| (op, what)))
    {
        Some((op, what)) => Err(RollupError::ContractsUnsupported { op, what }),
        None => Ok(()),
    }
}

/// Checks and records a batch commit from `from` at L1 block `l1_block`.
#[allow(clippy::too_many_arguments)]
pub fn commit_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    backend: &dyn ProofBackend,
    reexecutor: &Reexecutor,
    from: &PublicKey,
    commit: &BatchCommit,
    l1_block: u64,
) -> Result<(), RollupError> {
    if !genesis.operators.contains(from) {
        return Err(RollupError::NotOperator(*from));
    }
    let mut st = status(state)?;
    if commit.number != st.committed + 1 {
        return Err(RollupError::BatchOrder {
            expected: st.committed + 1,
            got: commit.number,
        });
    }
    let first_expected = st.committed_l2_block + 1;
    if commit.first_block != first_expected || commit.last_block < commit.first_block {
        return Err(RollupError::BlockRange {
            expected: first_expected,
            first: commit.first_block,
            last: commit.last_block,
        });
    }
    // The range is the operator's claim (pubdata carries no block boundaries); bound
    // it so it cannot run the counter to overflow.
    let blocks = commit.last_block - commit.first_block + 1;
    if blocks > BATCH_BLOCKS_MAX {
        return Err(RollupError::TooManyBlocks {
            blocks,
            max: BATCH_BLOCKS_MAX,
        });
    }
    let ops = decode_pubdata(&commit.pubdata)?;
    check_contracts_allowed(genesis.proof.system, &ops)?;
    let chain_id = genesis.l2_chain_id;
    let mut accounts = Accounts {
        state,
        next: st.next_account,
    };
    if accounts.get(usize::MAX, commit.fee_account)?.contract {
        return Err(RollupError::FeeAccountContract(commit.fee_account));
    }
    let mut cutter = Segments {
        backend,
        cutter: Cutter::new(genesis.proof.chunk_ops.max(1) as usize, commit.fee_account),
        chain_id,
        batch: BatchNumber(commit.number),
        open: Vec::new(),
        chunks: Vec::new(),
    };
    let mut signed: Vec<(usize, AccountId, SignedTransaction)> = Vec::new();
    // The next account id where each deploy or call stands (a deploy takes it).
    let mut next_at: Vec<(usize, u32)> = Vec::new();
    let mut withdrawals = Vec::new();
    let mut consumed = st.deposits_consumed;
    let mut forced_consumed = st.forced_consumed;
    let mut new_key_pending = st.new_key_deposits_pending;
    let mut storage = StorageRoots::default();
    // The trace the next storage proof is for.
    let mut last_trace = None;
    for (i, op) in ops.iter().enumerate() {
        if !matches!(op, PubdataOp::ContractKey { .. }) {
            storage.not_tail(i)?;
        }
        // A contract's moves come right after its transaction's trace.
        if let PubdataOp::ContractMove { .. } = op
            && !(i > 0
                && matches!(
                    ops[i - 1],
                    PubdataOp::ContractTrace(_) | PubdataOp::ContractMove { .. }
                ))
        {
            return Err(RollupError::ContractMoveStray { op: i });
        }
        // The balances a contract transaction read are those before it.
        if op.contract_tx().is_some()
            && let Some(PubdataOp::ContractTrace(trace)) = ops.get(i + 1)
        {
            accounts.check_reads(i, trace)?;
        }
        let sender = op.sender();
        let mut slot_accounts = SlotAccounts::NONE;
        if let Some(from) = sender {
            let account = accounts.get(i, from)?;
            // A contract's account pays only by the moves its code makes; a user's
            // only by what it signed.
            let is_move = matches!(op, PubdataOp::ContractMove { .. });
            if is_move && !account.contract {
                return Err(RollupError::ContractMoveStray { op: i });
            }
            if !is_move && account.contract {
                return Err(RollupError::ContractSender {
                    op: i,
                    account: from,
                });
            }
            if let PubdataOp::FeeOnly { tx, .. } | PubdataOp::ContractTx { tx, .. } = op
                && tx.nonce() != account.nonce
            {
                return Err(RollupError::Nonce {
                    op: i,
                    expected: account.nonce,
                    got: tx.nonce(),
                });
            }
            if op.contract_tx().is_some() {
                next_at.push((i, accounts.next));
            }
            if let Some(tx) = op.signed_transaction(chain_id, account.nonce, account.key) {
                if let Err(reason) = tx.tx.check_stateless() {
                    return Err(RollupError::Stateless { op: i, reason });
                }
                signed.push((i, from, tx));
            }
            accounts.bump(i, from, account)?;
            slot_accounts.sender_key = account.key;
            slot_accounts.sender_nonce = account.nonce;
        }
        match op {
            PubdataOp::Transfer {
                to, token, amount, ..
            } => {
                let receiver = accounts.get(i, *to)?;
                accounts.credit(i, *to, receiver.contract, *token, *amount)?;
                slot_accounts.receiver_key = receiver.key;
            }
            PubdataOp::TransferToNew { to, to_key, .. } => {
                accounts.create_by_transfer(i, *to, *to_key)?;
            }
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => {
                let expected = consumed;
                let mismatch = |detail| RollupError::DepositMismatch {
                    op: i,
                    expected,
                    got: *queue_index,
                    detail,
                };
                if *queue_index != consumed {
                    return Err(mismatch(""));
                }
                let queued = deposit(accounts.state, consumed)?
                    .ok_or_else(|| mismatch(": no such deposit is queued"))?;
                if queued.recipient != *to_key || queued.token != *token || queued.amount != *amount
                {
                    return Err(mismatch(": recipient, token or amount differs"));
                }
                consumed += 1;
                if state::get::<u64>(accounts.state, &seen_key(to_key))? == Some(*queue_index) {
                    new_key_pending =
                        new_key_pending
                            .checked_sub(1)
                            .ok_or(RollupError::Overflow {
                                op: i,
                                what: "new-key deposits pending",
                            })?;
                    accounts.state.put(seen_key(to_key), &KEY_REGISTERED);
                }
                let new = match l2_account(accounts.state, *to)? {
                    Some(existing) if existing.key == *to_key => {
                        accounts.credit(i, *to, existing.contract, *token, *amount)?;
                        false
                    }
                    Some(_) => return Err(mismatch(": the account has another key")),
                    None => {
                        accounts.create(i, *to, *to_key)?;
                        true
                    }
                };
                slot_accounts.receiver_new = new;
            }
            PubdataOp::Withdraw {
                to, token, amount, ..
            } => {
                withdrawals.push(Withdrawal {
                    to: *to,
                    token: *token,
                    amount: *amount,
                });
            }
            PubdataOp::FeeOnly { fee_paid, tx, .. }
            | PubdataOp::ContractTx { fee_paid, tx, .. } => {
                // The proof only shows the amount was debited; the signed maximum
                // is what binds it to the user's consent.
                if *fee_paid > tx.fee() {
                    return Err(RollupError::FeeOverMaximum {
                        op: i,
                        paid: *fee_paid,
                        max: tx.fee(),
                    });
                }
                // A successful deploy creates its contract's account; a call pays
                // the contract's (which re-execution checks is the address's).
                if let PubdataOp::ContractTx { contract, .. } = op {
                    if let Transaction::Deploy {
                        from, nonce, code, ..
                    } = tx
                    {
                        let key = StorageRoots::deploy(
                            accounts.state,
                            &contract_address(*from, *nonce),
                            *contract,
                            &code_hash(code),
                        );
                        accounts.create_contract(i, *contract, key)?;
                        slot_accounts.receiver_key = key;
                        slot_accounts.receiver_new = true;
                    } else {
                        let receiver = accounts.get(i, *contract)?;
                        if !receiver.contract {
                            return Err(RollupError::Reexecution {
                                op: i,
                                reason: format!("account {contract} is not a contract's"),
                            });
                        }
                        slot_accounts.receiver_key = receiver.key;
                    }
                    // Re-execution checks it is the transaction's contract.
                    if let Some((token, value)) = tx.value() {
                        accounts.credit(i, *contract, true, token, value)?;
                    }
                }
            }
            PubdataOp::ContractMove {
                from,
                to,
                token,
                amount,
            } => {
                accounts.debit_contract(i, *from, *token, *amount)?;
                let receiver = accounts.get(i, *to)?;
                accounts.credit(i, *to, receiver.contract, *token, *amount)?;
                slot_accounts.receiver_key = receiver.key;
            }
            PubdataOp::ForcedWithdraw {
                from,
                to,
                token,
                amount,
                ..
            } => {
                forced_consumed = crate::forced::check_op(accounts.state, i, forced_consumed, op)?;
                // A user's account (the request was checked against it); the
                // slot names its key, which the proof binds to the leaf.
                let account = accounts.get(i, *from)?;
                slot_accounts.sender_key = account.key;
                withdrawals.push(Withdrawal {
                    to: *to,
                    token: *token,
                    amount: *amount,
                });
            }
            PubdataOp::ContractTrace(trace) => last_trace = Some(trace),
            PubdataOp::StorageProof(proof) => {
                let trace = last_trace.take().filter(|_| follows_trace(&ops, i)).ok_or(
                    RollupError::StorageProofPlacement {
                        op: i,
                        detail: "a storage proof that does not end a contract transaction's trace and moves",
                    },
                )?;
                storage.check_proof(accounts.state, i, trace, proof)?;
            }
            PubdataOp::ContractKey { contract, key } => {
                storage.rekey(accounts.state, i, *contract, key)?;
                let mut account = accounts.get(i, *contract)?;
                slot_accounts.sender_key = account.key;
                account.key = *key;
                accounts.state.put(account_key(*contract), &account);
            }
        }
        // The slot, by the merkleizer's rule (`None`: a contract trace, which the
        // re-execution below checks).
        if let Some(slot) = ChunkOp::from_pubdata(op, &slot_accounts) {
            cutter.push(i, op.debited(), slot)?;
        }
    }
    storage.finish(accounts.state, ops.len())?;
    // Every signature, as one batch: the same rule the sequencer admits with
    // (ed25519-dalek's cofactored batch equation, falling back to strict
    // single verification to name the culprit), so a transaction the sequencer
    // accepted is never refused here. The batch is all-or-nothing and its random
    // coefficients make a wrong acceptance negligible, so validators agree.
    // Sub-batches verify in parallel: under ZIP-215 a batch accepts exactly when
    // every member does, so splitting changes no verdict.
    let refs: Vec<&SignedTransaction> = signed.iter().map(|(_, _, tx)| tx).collect();
    let part = refs
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(SIGNATURE_BATCH_MIN);
    let results: Vec<_> = refs
        .par_chunks(part)
        .flat_map_iter(|part| ghostplane_primitives::verify_transaction_refs(part, chain_id))
        .collect();
    if let Some(((op, account, _), _)) = signed.iter().zip(&results).find(|(_, r)| r.is_err()) {
        return Err(RollupError::BadSignature {
            op: *op,
            account: *account,
        });
    }
    // Contract logic, re-executed (signatures first: no wasm runs for a forgery).
    crate::contracts::reexecute_batch(
        accounts.state,
        genesis,
        reexecutor,
        &ops,
        (commit.first_block, commit.last_block),
        |i| {
            let tx = signed
                .binary_search_by_key(&i, |(op, _, _)| *op)
                .ok()
                .map(|at| &signed[at].2)?;
            let next = next_at
                .binary_search_by_key(&i, |(op, _)| *op)
                .ok()
                .map(|at| next_at[at].1)?;
            Some((tx, next))
        },
    )?;
    // Forced inclusion: the oldest deposit left waiting must not be overdue.
    if let Some(oldest) = deposit(accounts.state, consumed)? {
        let deadline = oldest
            .l1_block
            .saturating_add(genesis.forced_inclusion_blocks);
        if l1_block > deadline {
            return Err(RollupError::DepositOverdue {
                index: oldest.queue_index,
                queued_at: oldest.l1_block,
                deadline,
            });
        }
    }
    // And the oldest forced withdrawal left waiting.
    if let Some((index, queued_at, deadline)) = crate::forced::overdue(
        accounts.state,
        forced_consumed,
        genesis.forced_inclusion_blocks,
        l1_block,
    )? {
        return Err(RollupError::ForcedWithdrawalOverdue {
            index,
            queued_at,
            deadline,
        });
    }
    let next_account = accounts.next;
    let (commitments, slots): (Vec<FieldBytes>, Vec<u32>) = cutter.finish()?.into_iter().unzip();
    if commitments.len() != commit.chunk_count as usize {
        return Err(RollupError::ChunkCount {
            expected: commitments.len() as u32,
            got: commit.chunk_count,
        });
    }
    state.put(
        batch_key(commit.number),
        &BatchRecord {
            number: commit.number,
            first_block: commit.first_block,
            last_block: commit.last_block,
            pubdata_hash: Hash32(*blake3::hash(&commit.pubdata).as_bytes()),
            new_root: commit.new_root,
            fee_account: commit.fee_account,
            commitments,
            slots,
            withdrawals,
            deposits_consumed_to: consumed,
            forced_consumed_to: forced_consumed,
            committed_at: l1_block,
            finalized_at: None,
        },
    );
    st.committed = commit.number;
    st.unproven_since.get_or_insert(l1_block);
    st.committed_l2_block = commit.last_block;
    st.next_account = next_account;
    st.deposits_consumed = consumed;
    st.forced_consumed = forced_consumed;
    st.new_key_deposits_pending = new_key_pending;
    state.put(state_key(), &st);
    Ok(())
}

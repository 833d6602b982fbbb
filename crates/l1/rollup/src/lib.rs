//! # ghostd-rollup
//!
//! The rollup module of ghostd: the bridge between the L1 ledger and the Ghostplane L2.
//!
//! - **Deposits** lock tokens from the sender's ledger account in the bridge escrow
//!   and append a [`DepositEvent`] to a queue, hash-chained (`h' = blake3(h ‖ event)`).
//! - **Commit** (operator only) takes batch `n = committed + 1`: decodes its pubdata
//!   (under a Groth16 genesis, refuses any contract op: contract state is proven by
//!   the STARK only, so Groth16 stays a backend for native transfers);
//!   for every signed op, rebuilds the L2 transaction from the sender's key
//!   (registered by earlier pubdata or the genesis) and the nonce this module tracks,
//!   and verifies its ed25519 signature (batch verification, the sequencer's rule); checks that deposits
//!   are consumed in queue order with the queued recipient, token and amount, and
//!   that no deposit left in the queue is older than `forced_inclusion_blocks`;
//!   registers created accounts (ids must be dense); cuts the ops into chunks exactly
//!   as the prover's merkleizer does and records each chunk's commitment `C` (the
//!   genesis backend's hash) and slot count, and the claimed new root. Nothing about
//!   balances is trusted here: the proofs cover them.
//! - **Prove** (anyone) takes chunks of batch `finalized + 1` from its next unproven
//!   one (`proving_chunks`): rebuilds each chunk's statement `(root_{i-1}, root_i,
//!   header, C_i, slots)`, where `root_0` is the last finalized root, and verifies the
//!   proofs in parallel with the genesis's [`ProofBackend`] (a STARK or Groth16).
//!   When the last chunk is proven and the roots end at the batch's claimed root, the
//!   batch is final and its withdrawals are released from the escrow to their L1
//!   recipients. A withdrawal the ledger refuses is recorded ([`unpaid_withdrawal`])
//!   and left in the escrow: batches finalize in order, so one unpayable leg must
//!   never stop finality. Proofs may come in several transactions, so that STARK proofs
//!   (hundreds of KB each) never need one larger than the L1 transaction limit.
//!
//! Any failed check returns a [`RollupError`]; the transaction's state layer is
//! dropped, so a forged batch changes nothing.
//!
//! Limits: the deposit queue holds at most `deposit_queue_max` unconsumed deposits;
//! a batch's pubdata is bounded by the L1 transaction size.
//!
//! Account space: the L2 has 2^24 account ids, and a deposit to a new key must
//! always find one (a deposit the L2 cannot credit would stop the L2: commits must
//! consume deposits in order). Transfers may create ids only below
//! `TRANSFER_ACCOUNT_ID_LIMIT` (the commit refuses one above); the L1 remembers
//! every key it has seen (the genesis, created accounts in committed pubdata,
//! queued deposits) and queues a deposit to an unseen key only while
//! `max(next_account, TRANSFER_ACCOUNT_ID_LIMIT) + new-key deposits pending`
//! stays within `ACCOUNT_ID_LIMIT`; otherwise it refuses it
//! ([`RollupError::AccountsFull`]) and nothing is locked.
//!
//! Layout: [`deposit`], [`commit`] and [`prove`] hold the three calls, [`error`]
//! their refusals and result codes ([`RollupError::code`]); this file the records'
//! keys, reads, the genesis, and [`Rollup`], the [`Module`] the chain drives (only
//! operators may send `Prove`: [`Module::authorize`]); [`verifier`] builds the
//! genesis's proof backend; `rpc` serves the `rollup_*` namespace of
//! `ghostd_types::api::RollupApi` over a [`ChainView`]. Its wire types and RPC
//! trait live in `ghostd_types` (clients link no node code). It posts deposits and
//! withdrawals through `ghostd-ledger`'s journal. Its tests run through a real
//! node: ghostd's `tests/chain.rs`, settlement's and the end-to-end suites.
//!
//! - **Exit mode** ([`exit`]): once a deposit is overdue past the genesis's exit
//!   window, or a committed batch stayed unproven that long, anyone may switch it
//!   on: unproven batches are reverted, unfinalized deposits refunded, and each L2
//!   account owner claims its balances at the last finalized root by a signed
//!   Merkle path ([`exit::claim_call`]).
//!
//! - **Forced withdrawals** ([`forced`]): an L2 account's owner queues a signed
//!   withdrawal on the L1 (its signer pays `forced_withdrawal_fee`); commits must
//!   include it, paying `min(requested, balance)`, within
//!   `forced_inclusion_blocks`, as deposits.
//!
//! - **Batch revert** ([`revert`]): every commit keeps an undo record until its
//!   batch is final; the operator (or exit mode) reverts committed, unproven
//!   batches with it, so that one that can never be proven does not halt
//!   finality.

use ghostplane_executor::Reexecutor;
use ghostplane_primitives::{AccountId, Amount, DepositEvent, Hash32, PublicKey};
use ghostplane_prover::ProofBackend;

use std::sync::Arc;

use ghostd_module::state::{self, Layer, Read, StateError};
use ghostd_module::{
    Applied, ApplyResult, CallContext, ChainView, Module, ModuleError, Refusal, misrouted,
};
use ghostd_types::api::RollupApiServer;
use ghostd_types::tx::{Call, ModuleId, RollupCall};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

pub mod commit;
mod contracts;
pub mod deposit;
pub mod error;
pub mod exit;
pub mod forced;
pub mod prove;
pub mod revert;
mod rpc;
pub mod storage;
pub mod verifier;
pub mod verify_log;

pub use rpc::RollupRpc;

pub use commit::commit_call;
pub use contracts::contract_record;
pub use deposit::deposit_call;
pub use error::RollupError;
pub use prove::prove_call;

const PREFIX: &str = "rollup";
/// The smallest signature sub-batch the commit check verifies on one thread (the
/// batch equation's multiscalar multiplication pays off with size).
const SIGNATURE_BATCH_MIN: usize = 64;

pub use ghostd_types::rollup::{
    BATCH_BLOCKS_MAX, BatchRecord, L2Account, ProofParams, RollupGenesis, RollupState, Withdrawal,
};

fn state_key() -> Vec<u8> {
    state::key(PREFIX, &[b"state"])
}

fn account_key(id: AccountId) -> Vec<u8> {
    state::key(PREFIX, &[b"account", &id.get().to_be_bytes()])
}

/// The L1 has seen an L2 key: the value is the queue index of the deposit that
/// first named it (counted in `new_key_deposits_pending` until consumed), or
/// [`KEY_REGISTERED`] once it is in committed state (the genesis, or an account
/// created by committed pubdata).
fn seen_key(key: &PublicKey) -> Vec<u8> {
    state::key(PREFIX, &[b"key", &key.0])
}

/// [`seen_key`]'s value for a key registered by the genesis or committed pubdata.
const KEY_REGISTERED: u64 = u64::MAX;

fn deposit_key(index: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"deposit", &index.to_be_bytes()])
}

fn batch_key(number: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"batch", &number.to_be_bytes()])
}

fn unpaid_key(number: u64, index: u32) -> Vec<u8> {
    state::key(
        PREFIX,
        &[b"unpaid", &number.to_be_bytes(), &index.to_be_bytes()],
    )
}

/// The module's counters.
pub fn status(state: &dyn Read) -> Result<RollupState, RollupError> {
    state::get(state, &state_key())?.ok_or(RollupError::NoState)
}

/// A committed batch.
pub fn batch(state: &dyn Read, number: u64) -> Result<Option<BatchRecord>, StateError> {
    state::get(state, &batch_key(number))
}

/// Why withdrawal `index` of finalized batch `number` could not be posted (a
/// ledger result code), if it could not: the batch is final anyway and the funds
/// stay in the escrow.
pub fn unpaid_withdrawal(
    state: &dyn Read,
    number: u64,
    index: u32,
) -> Result<Option<String>, StateError> {
    state::get(state, &unpaid_key(number, index))
}

/// A queued deposit.
pub fn deposit(state: &dyn Read, index: u64) -> Result<Option<DepositEvent>, StateError> {
    state::get(state, &deposit_key(index))
}

/// What the L1 knows of an L2 account.
pub fn l2_account(state: &dyn Read, id: AccountId) -> Result<Option<L2Account>, StateError> {
    state::get(state, &account_key(id))
}

pub(crate) fn contract_balances_key(id: AccountId) -> Vec<u8> {
    state::key(PREFIX, &[b"contract-balances", &id.get().to_be_bytes()])
}

/// A contract account's four balances (by `TokenId::id`) as the L1 tracks them from
/// committed pubdata: every op that credits or debits a contract's account, in
/// order. All zero for an account that is not a contract's.
pub fn contract_balances(state: &dyn Read, id: AccountId) -> Result<[Amount; 4], StateError> {
    Ok(state::get(state, &contract_balances_key(id))?.unwrap_or_default())
}

/// Writes the genesis state.
pub fn apply_genesis(state: &mut Layer<'_>, genesis: &RollupGenesis) -> Result<(), RollupError> {
    // With a zero window, a deposit, forced withdrawal or commit would be overdue
    // (or exit mode due) in the very next block: the operator could not comply.
    if genesis.forced_inclusion_blocks == 0 {
        return Err(RollupError::Genesis(
            "forced_inclusion_blocks must be at least 1",
        ));
    }
    if genesis.exit_window_blocks == 0 {
        return Err(RollupError::Genesis(
            "exit_window_blocks must be at least 1",
        ));
    }
    for (i, key) in genesis.genesis_accounts.iter().enumerate() {
        let id = AccountId::new(i as u32).map_err(|_| RollupError::Overflow {
            op: i,
            what: "genesis account id",
        })?;
        state.put(
            account_key(id),
            &L2Account {
                key: *key,
                nonce: 0,
                contract: false,
            },
        );
        state.put(seen_key(key), &KEY_REGISTERED);
    }
    state.put(
        state_key(),
        &RollupState {
            committed: 0,
            finalized: 0,
            finalized_root: genesis.genesis_root,
            proving_chunks: 0,
            proving_root: genesis.genesis_root,
            committed_l2_block: 0,
            finalized_l2_block: 0,
            next_account: genesis.genesis_accounts.len() as u32,
            deposits_queued: 0,
            deposits_consumed: 0,
            deposit_queue_hash: Hash32([0; 32]),
            new_key_deposits_pending: 0,
            forced_queued: 0,
            forced_consumed: 0,
            unproven_since: None,
        },
    );
    Ok(())
}

/// The rollup module as the chain drives it: the genesis's rollup parameters, its
/// proof backend (verifier and ops commitment) and the contract re-executor.
pub struct Rollup {
    genesis: RollupGenesis,
    backend: Arc<dyn ProofBackend>,
    reexecutor: Reexecutor,
    /// This node's verify times, served by `rollup_getBatch` (not consensus).
    verify_log: Arc<verify_log::VerifyLog>,
}

impl Rollup {
    /// The module for `genesis`, verifying with `backend`, keeping the contracts'
    /// compiled artifacts in `artifacts` (node-local; see
    /// `WasmRuntime::with_artifacts`). Fails if the contract runtime cannot start
    /// on this node.
    pub fn new(
        genesis: RollupGenesis,
        backend: Arc<dyn ProofBackend>,
        artifacts: &std::path::Path,
    ) -> Result<Self, ghostplane_executor::ExecError> {
        Ok(Self {
            genesis,
            backend,
            reexecutor: Reexecutor::with_artifacts(artifacts)?,
            verify_log: Arc::default(),
        })
    }
}

impl Rollup {
    /// Checks and records `commit` with its undo record.
    fn commit(
        &self,
        state: &mut Layer<'_>,
        ctx: &CallContext,
        commit: &ghostd_types::tx::BatchCommit,
    ) -> Result<(), RollupError> {
        revert::commit_with_undo(state, commit.number, |state| {
            commit_call(
                state,
                &self.genesis,
                self.backend.as_ref(),
                &self.reexecutor,
                &ctx.from,
                commit,
                ctx.block.number,
            )
        })
    }
}

impl Module for Rollup {
    fn id(&self) -> ModuleId {
        ModuleId::ROLLUP
    }

    fn genesis(
        &self,
        state: &mut Layer<'_>,
        genesis: &ghostd_types::Genesis,
    ) -> Result<(), ModuleError> {
        Ok(apply_genesis(state, &genesis.rollup)?)
    }

    /// A `Prove` costs every validator a proof verification, so only the rollup
    /// operators (genesis `rollup.operators`) send one.
    fn authorize(&self, from: &PublicKey, call: &Call) -> Result<(), Refusal> {
        match call {
            Call::Rollup(
                RollupCall::Prove { .. }
                | RollupCall::CommitProven { .. }
                | RollupCall::RevertBatches { .. },
            ) if !self.genesis.operators.contains(from) => {
                Err(Refusal::of(RollupError::NotOperator(*from)))
            }
            _ => Ok(()),
        }
    }

    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        let Call::Rollup(call) = call else {
            return Err(misrouted(ModuleId::ROLLUP, call));
        };
        let block = ctx.block.number;
        if !matches!(call, RollupCall::ExitClaim(_)) {
            exit::refuse_in_exit(state)?;
        }
        match call {
            RollupCall::Deposit {
                recipient,
                token,
                amount,
            } => Ok(Applied {
                deposit_index: Some(deposit_call(
                    state,
                    &self.genesis,
                    &ctx.from,
                    *recipient,
                    *token,
                    *amount,
                    block,
                    ctx.tx_hash,
                )?),
            }),
            RollupCall::Commit(commit) => {
                let started = std::time::Instant::now();
                let checked = self.commit(state, ctx, commit);
                metrics::histogram!("ghostd_commit_check_seconds")
                    .record(started.elapsed().as_secs_f64());
                checked?;
                Ok(Applied::default())
            }
            RollupCall::Prove {
                number,
                first_chunk,
                chunk_roots,
                proofs,
            } => {
                let started = std::time::Instant::now();
                let verified = prove_call(
                    state,
                    &self.genesis,
                    self.backend.as_ref(),
                    *number,
                    *first_chunk,
                    chunk_roots,
                    proofs,
                    block,
                    &self.verify_log,
                );
                metrics::histogram!("ghostd_prove_verify_seconds")
                    .record(started.elapsed().as_secs_f64());
                verified?;
                Ok(Applied::default())
            }
            RollupCall::ActivateExit => {
                let exit = exit::activate_call(state, &self.genesis, block)?;
                tracing::warn!(
                    since = exit.since,
                    batch = exit.batch,
                    reverted = exit.reverted,
                    refunded = exit.refunded,
                    reason = ?exit.reason,
                    "rollup exit mode switched on"
                );
                Ok(Applied::default())
            }
            RollupCall::ExitClaim(claim) => {
                exit::claim_call(state, &self.genesis, self.backend.as_ref(), claim, block)?;
                Ok(Applied::default())
            }
            RollupCall::CommitProven {
                commit,
                chunk_roots,
                proofs,
            } => {
                let st = status(state)?;
                if commit.number != st.finalized + 1 {
                    return Err(RollupError::ProveOrder {
                        expected: st.finalized + 1,
                        got: commit.number,
                        committed: st.committed,
                    }
                    .into());
                }
                let started = std::time::Instant::now();
                self.commit(state, ctx, commit)?;
                metrics::histogram!("ghostd_commit_check_seconds")
                    .record(started.elapsed().as_secs_f64());
                let proving = std::time::Instant::now();
                prove_call(
                    state,
                    &self.genesis,
                    self.backend.as_ref(),
                    commit.number,
                    0,
                    chunk_roots,
                    proofs,
                    block,
                    &self.verify_log,
                )?;
                // All its chunks, or nothing: a partial proof would leave the
                // batch committed and waiting, which a plain commit does.
                if status(state)?.finalized != commit.number {
                    return Err(RollupError::ProofCount {
                        chunks: commit.chunk_count as usize,
                        roots: chunk_roots.len(),
                        proofs: proofs.len(),
                    }
                    .into());
                }
                metrics::histogram!("ghostd_prove_verify_seconds")
                    .record(proving.elapsed().as_secs_f64());
                Ok(Applied::default())
            }
            RollupCall::RevertBatches { to } => {
                let reverted = revert::revert_call(state, &self.genesis, &ctx.from, *to)?;
                tracing::warn!(to, reverted, "rollup batches reverted by the operator");
                Ok(Applied::default())
            }
            RollupCall::ForceWithdraw(request) => {
                forced::force_withdraw_call(
                    state,
                    &self.genesis,
                    &ghostplane_primitives::L1Address(ctx.from.0),
                    request,
                    block,
                    ctx.tx_hash,
                )?;
                Ok(Applied::default())
            }
        }
    }

    /// The `rollup_*` namespace.
    fn rpc(&self, chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        Ok(Some(
            RollupRpc::new(
                chain.clone(),
                self.genesis.contract_fees,
                Arc::clone(&self.verify_log),
            )
            .into_rpc()
            .remove_context(),
        ))
    }
}

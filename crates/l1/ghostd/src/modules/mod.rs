//! The node's modules. Each owns a key prefix in the state, a call type, and a
//! JSON-RPC namespace; [`apply`] routes a transaction's call to its module. New
//! modules (naming) add a [`Call`] variant, a file here and a namespace, and touch
//! nothing else in the chain.

pub mod identity;
pub mod ledger;
pub mod naming;
pub mod rollup;

use ghostplane_primitives::{Hash32, PublicKey};
use ghostplane_prover::ProofBackend;

use crate::state::{Layer, StateError};
use crate::types::{Call, RollupCall};

/// Why a call was refused (the transaction's effects are dropped).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Refused by the ledger (its result code in brackets, e.g. `exceeds_credits`).
    #[error("ledger [{code}]: {0}", code = .0.code())]
    Ledger(#[from] ledger::LedgerError),
    /// Refused by the rollup module.
    #[error("rollup: {0}")]
    Rollup(#[from] rollup::RollupError),
    /// Refused by the identity module.
    #[error("identity: {0}")]
    Identity(#[from] identity::IdentityError),
    /// Refused by the naming module.
    #[error("naming: {0}")]
    Naming(#[from] naming::NamingError),
}

impl CallError {
    /// The local storage failure behind this error, if it is one: not a verdict on
    /// the call but this node failing to read its state, which another node would
    /// not share. Block execution aborts on it rather than record a failed receipt
    /// (that would fork this node's state digest from the others').
    pub fn into_storage(self) -> Result<StateError, Self> {
        use identity::IdentityError;
        use ledger::LedgerError;
        use naming::NamingError;
        use rollup::RollupError;
        match self {
            Self::Ledger(LedgerError::State(e))
            | Self::Identity(IdentityError::State(e))
            | Self::Naming(NamingError::State(e) | NamingError::Fee(LedgerError::State(e)))
            | Self::Rollup(RollupError::State(e) | RollupError::Ledger(LedgerError::State(e))) => {
                Ok(e)
            }
            other => Err(other),
        }
    }
}

/// What a call runs against besides state.
pub struct CallContext<'a> {
    /// The rollup genesis.
    pub rollup: &'a rollup::RollupGenesis,
    /// The naming parameters (genesis).
    pub naming: &'a ghostd_types::naming::NamingParams,
    /// The genesis's proof backend (verifier and ops commitment).
    pub backend: &'a dyn ProofBackend,
    /// The L1 chain id.
    pub chain_id: u64,
    /// Height of the block being built.
    pub block: u64,
    /// Its timestamp, ms since the epoch.
    pub time_ms: u64,
    /// The transaction's hash.
    pub tx_hash: Hash32,
    /// The transaction's (verified) sender.
    pub from: PublicKey,
}

/// Who may send `call` at all, checked at admission for every transaction (a
/// parked one included, whose dry run waits) and again in [`apply`]: a `Prove`
/// costs every validator a proof verification, so only the rollup operators
/// (genesis `rollup.operators`) send one.
pub fn authorize(
    rollup: &rollup::RollupGenesis,
    from: &PublicKey,
    call: &Call,
) -> Result<(), CallError> {
    match call {
        Call::Rollup(RollupCall::Prove { .. }) if !rollup.operators.contains(from) => {
            Err(CallError::Rollup(rollup::RollupError::NotOperator(*from)))
        }
        _ => Ok(()),
    }
}

/// Applies `call`; returns the deposit queue index for a deposit.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &CallContext<'_>,
    call: &Call,
) -> Result<Option<u64>, CallError> {
    authorize(ctx.rollup, &ctx.from, call)?;
    match call {
        Call::Identity(call) => {
            let identity = identity::IdentityContext {
                chain_id: ctx.chain_id,
                stamp: ghostd_types::identity::Stamp {
                    height: ctx.block,
                    time_ms: ctx.time_ms,
                },
                from: ctx.from,
            };
            identity::apply(state, &identity, call)?;
            Ok(None)
        }
        Call::Naming(call) => {
            let naming = naming::NamingContext {
                params: ctx.naming,
                height: ctx.block,
                tx_hash: ctx.tx_hash,
                from: ctx.from,
            };
            naming::apply(state, &naming, call)?;
            Ok(None)
        }
        Call::Ledger(call) => {
            let ledger = ledger::LedgerContext {
                from: ctx.from,
                block: ctx.block,
                naming: ctx.naming,
            };
            ledger::apply(state, &ledger, call)?;
            Ok(None)
        }
        Call::Rollup(RollupCall::Deposit {
            recipient,
            token,
            amount,
        }) => Ok(Some(rollup::deposit_call(
            state,
            ctx.rollup,
            &ctx.from,
            *recipient,
            *token,
            *amount,
            ctx.block,
            ctx.tx_hash,
        )?)),
        Call::Rollup(RollupCall::Commit(commit)) => {
            let started = std::time::Instant::now();
            let checked =
                rollup::commit_call(state, ctx.rollup, ctx.backend, &ctx.from, commit, ctx.block);
            metrics::histogram!("ghostd_commit_check_seconds")
                .record(started.elapsed().as_secs_f64());
            checked?;
            Ok(None)
        }
        Call::Rollup(RollupCall::Prove {
            number,
            first_chunk,
            chunk_roots,
            proofs,
        }) => {
            let started = std::time::Instant::now();
            let verified = rollup::prove_call(
                state,
                ctx.rollup,
                ctx.backend,
                *number,
                *first_chunk,
                chunk_roots,
                proofs,
                ctx.block,
            );
            metrics::histogram!("ghostd_prove_verify_seconds")
                .record(started.elapsed().as_secs_f64());
            verified?;
            Ok(None)
        }
    }
}

//! The node's modules, and the one place that names them: [`all`] builds the
//! registry the chain drives through the [`Module`](crate::module::Module) hooks.
//! Each module is its own crate (`ghostd-ledger`, `ghostd-rollup`,
//! `ghostd-identity`, `ghostd-naming`, re-exported here under their short names),
//! owns a key prefix in the state, a [`Call`](crate::types::Call) variant and a
//! JSON-RPC namespace (its `Module::rpc` hook), and numbers its refusals (its error
//! enum's `code()`; the ledger's `number()`). A new module is a crate implementing
//! `Module` over `ghostd-module`, a `Call` variant and a [`ModuleId`] in
//! `ghostd-types`, and an entry in [`all`]; it touches nothing in the chain.
//!
//! Modules that need each other meet through the service traits of
//! [`crate::module`], wired here: the ledger resolves `.ghost` receivers through
//! the naming module's [`Names`](crate::module::Names), and the naming module
//! pays its fees through the ledger's [`Payments`](crate::module::Payments).

pub use ghostd_identity as identity;
pub use ghostd_ledger as ledger;
pub use ghostd_naming as naming;
pub use ghostd_rollup as rollup;

use std::sync::Arc;

use ghostd_types::Genesis;

use crate::module::{ModuleFailure, Modules, Refusal};
use crate::types::ModuleId;

/// The modules of a chain with `genesis`, in hook order: ledger, rollup, identity,
/// naming. The order is consensus (it fixes the order of effects at genesis and
/// at each block's start and end). `data_dir` is the node's (the rollup module keeps
/// compiled contract artifacts under it).
pub fn all(genesis: &Genesis, data_dir: &std::path::Path) -> Result<Modules, String> {
    let proof = &genesis.rollup.proof;
    let backend =
        rollup::verifier::verifier(proof).map_err(|e| format!("{} verifier: {e}", proof.system))?;
    let names = naming::NameResolver(genesis.naming.clone());
    let ledger = Arc::new(ledger::Ledger::new(Arc::new(names)));
    Modules::new(vec![
        Box::new(Arc::clone(&ledger)),
        Box::new(
            rollup::Rollup::new(
                genesis.rollup.clone(),
                backend,
                &data_dir.join("contract-artifacts"),
            )
            .map_err(|e| format!("contract re-executor: {e}"))?,
        ),
        Box::new(identity::Identity),
        Box::new(naming::Naming::new(genesis.naming.clone(), ledger)),
    ])
}

/// A refused call, typed by module: for callers that match on one module's errors
/// (the chain itself only reads [`Refusal`]'s module, code and message).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Refused by the ledger (its result code in brackets, e.g. `exceeds_credits`).
    #[error("ledger [{code}]: {0}", code = .0.code())]
    Ledger(ledger::LedgerError),
    /// Refused by the rollup module.
    #[error("rollup: {0}")]
    Rollup(rollup::RollupError),
    /// Refused by the identity module.
    #[error("identity: {0}")]
    Identity(identity::IdentityError),
    /// Refused by the naming module.
    #[error("naming: {0}")]
    Naming(naming::NamingError),
    /// Refused by a module this enum does not list.
    #[error(transparent)]
    Other(Refusal),
}

impl CallError {
    /// The module that refused.
    pub fn module(&self) -> ModuleId {
        self.module_and_code().0
    }

    /// Its stable result code (as the receipt would carry it).
    pub fn code(&self) -> u16 {
        self.module_and_code().1
    }

    /// Both, as each module's [`ModuleFailure`] states them.
    fn module_and_code(&self) -> (ModuleId, u16) {
        fn of<E: ModuleFailure>(e: &E) -> (ModuleId, u16) {
            (E::MODULE, e.result_code())
        }
        match self {
            Self::Ledger(e) => of(e),
            Self::Rollup(e) => of(e),
            Self::Identity(e) => of(e),
            Self::Naming(e) => of(e),
            Self::Other(refusal) => (refusal.module(), refusal.code()),
        }
    }
}

impl From<Refusal> for CallError {
    fn from(refusal: Refusal) -> Self {
        let refusal = match refusal.downcast() {
            Ok(e) => return Self::Ledger(e),
            Err(refusal) => refusal,
        };
        let refusal = match refusal.downcast() {
            Ok(e) => return Self::Rollup(e),
            Err(refusal) => refusal,
        };
        let refusal = match refusal.downcast() {
            Ok(e) => return Self::Identity(e),
            Err(refusal) => refusal,
        };
        match refusal.downcast() {
            Ok(e) => Self::Naming(e),
            Err(refusal) => Self::Other(refusal),
        }
    }
}

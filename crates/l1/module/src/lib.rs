//! # ghostd-module
//!
//! What the L1 chain asks of a module, and nothing about any module in particular:
//! the crate every module crate (`ghostd-ledger`, `ghostd-rollup`,
//! `ghostd-identity`, `ghostd-naming`) and the chain (`ghostd`) build on.
//!
//! A module owns a key prefix in the state, a [`Call`] variant (its
//! [`ModuleId`], [`Call::module`]) and a JSON-RPC namespace. The chain holds a
//! [`Modules`] registry (built in one place, `ghostd::modules::all`) and calls every
//! module through the hooks of [`Module`], in registry order, in the manner of
//! Substrate's `Hooks::{on_initialize, on_finalize, integrity_test}`:
//!
//! ```text
//! genesis        Module::genesis        each module writes its initial state
//! admission      Module::authorize      may this sender send this call at all?
//! block start    Module::begin_block    e.g. the ledger expires pending transfers
//! each tx        Module::apply          the call's own module, in a child layer
//! block end      Module::end_block      invariants (e.g. the ledger's totals);
//!                                       a failure means a bug: no commit
//! RPC server     Module::rpc            its JSON-RPC namespace, over a ChainView
//!                Module::http_routes    its plain-HTTP routes (DID resolver, DoH)
//! ```
//!
//! Modules that need each other do so through the narrow service traits here
//! ([`Payments`], [`Names`]), wired by the registry builder, so that no module
//! imports another's internals. (Two modules do link another's crate, a DAG: the
//! rollup posts deposits and withdrawals through the ledger's journal, and the
//! ledger checks mint grants in the identity module's state.)
//!
//! Refusals are numbered: [`Refusal`] carries the module, its stable result code
//! and the message, which the receipt records (`L1Outcome::Failed`). A module's
//! typed error implements [`ModuleFailure`] (its module, code and message, and
//! which of its variants is a storage failure rather than a verdict); `?` then
//! turns it into a [`ModuleError`] in any hook.
//!
//! [`state`]: the flat key-value state, read through [`state::Layer`]s of
//! uncommitted writes over a [`state::Read`] (RocksDB's committed state in the
//! node, [`state::MemState`] in unit tests). [`ChainView`]: what a module's RPC
//! and services may read of the chain (the head, the clock, the committed state),
//! so that no module links the node.
//!
//! Limits: none of its own; a [`Modules`] registry holds at most one module per id.

pub mod state;

use std::sync::Arc;

use ghostd_types::tx::{Call, ModuleId};
use ghostplane_rpc::routes::GetRoute;
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;
use jsonrpsee::types::ErrorObjectOwned;

use ghostd_types::Genesis;
use ghostd_types::ledger::LedgerTransfer;
use ghostplane_primitives::{Hash32, L1Address, PublicKey};

use crate::state::{Layer, Read, StateError};

/// The block a hook or call runs in.
#[derive(Debug, Clone, Copy)]
pub struct BlockContext {
    /// The L1 chain id.
    pub chain_id: u64,
    /// Height of the block being built.
    pub number: u64,
    /// Its timestamp, ms since the epoch.
    pub time_ms: u64,
}

/// What a call runs against besides state.
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    /// The block.
    pub block: BlockContext,
    /// The transaction's hash.
    pub tx_hash: Hash32,
    /// The transaction's (verified) sender.
    pub from: PublicKey,
}

/// What an applied call leaves in its receipt besides success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// For a deposit: its queue index.
    pub deposit_index: Option<u64>,
}

/// What [`Module::apply`] returns.
pub type ApplyResult = Result<Applied, ModuleError>;

/// A module's refusal: which module, its stable result code, the message, and the
/// module's own typed error (for callers that know the module:
/// [`Refusal::downcast`]).
#[derive(Debug)]
pub struct Refusal {
    module: ModuleId,
    code: u16,
    message: String,
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl Refusal {
    /// `error` refused by `module` with result `code`; `message` is what receipts
    /// and RPC errors say.
    pub fn new(
        module: ModuleId,
        code: u16,
        message: String,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            module,
            code,
            message,
            error: Box::new(error),
        }
    }

    /// `error`, a verdict of its module's: with the module's code and message.
    pub fn of<E: ModuleFailure>(error: E) -> Self {
        Self::new(E::MODULE, error.result_code(), error.message(), error)
    }

    /// The module that refused.
    pub fn module(&self) -> ModuleId {
        self.module
    }

    /// Its stable result code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The module's typed error, if it is a `T`; else the refusal back.
    pub fn downcast<T: std::error::Error + 'static>(self) -> Result<T, Self> {
        match self.error.downcast::<T>() {
            Ok(error) => Ok(*error),
            Err(error) => Err(Self { error, ..self }),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// Why a hook or call did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The module refused: a verdict every node shares (the transaction's receipt
    /// records it; in a block hook it means a bug, and the block is not committed).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// This node failed to read its state: not a verdict on the call, and one
    /// another node would not share. Block execution aborts on it rather than
    /// record a failed receipt (that would fork this node's state digest).
    #[error(transparent)]
    Storage(#[from] StateError),
}

/// A module's typed error, as the chain records it: a refusal with the module's
/// stable code and message ([`Refusal::of`]), except the variants that wrap a
/// [`StateError`] (this node's failure, not a verdict: [`ModuleError::Storage`]).
pub trait ModuleFailure: std::error::Error + Send + Sync + Sized + 'static {
    /// The module whose error this is.
    const MODULE: ModuleId;

    /// Its stable result code.
    fn result_code(&self) -> u16;

    /// What receipts and RPC errors say: `<module>: <error>` unless the module
    /// says otherwise.
    fn message(&self) -> String {
        format!("{}: {self}", Self::MODULE)
    }

    /// The state error it wraps, if it is one; else itself.
    fn into_storage(self) -> Result<StateError, Self>;
}

impl<E: ModuleFailure> From<E> for ModuleError {
    fn from(error: E) -> Self {
        match error.into_storage() {
            Ok(e) => Self::Storage(e),
            Err(e) => Self::Refused(Refusal::of(e)),
        }
    }
}

/// An L1 module, as the chain drives it. Every hook but [`Module::apply`] has a
/// default that does nothing.
pub trait Module: Send + Sync {
    /// Its id: the calls it takes are those whose [`Call::module`] is this.
    fn id(&self) -> ModuleId;

    /// Writes its part of the genesis state.
    fn genesis(&self, _state: &mut Layer<'_>, _genesis: &Genesis) -> Result<(), ModuleError> {
        Ok(())
    }

    /// Who may send `call` at all: checked at admission for every transaction
    /// (a parked one included, whose dry run waits) and again before
    /// [`Module::apply`]. Cheap and stateless.
    fn authorize(&self, _from: &PublicKey, _call: &Call) -> Result<(), Refusal> {
        Ok(())
    }

    /// Runs before the block's transactions.
    fn begin_block(
        &self,
        _state: &mut Layer<'_>,
        _block: &BlockContext,
    ) -> Result<(), ModuleError> {
        Ok(())
    }

    /// Applies one of its calls in the transaction's own layer (dropped if this
    /// fails).
    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult;

    /// Runs after the block's transactions: checks the module's invariants. An
    /// error is a bug; the block is not committed.
    fn end_block(&self, _state: &dyn Read, _block: &BlockContext) -> Result<(), ModuleError> {
        Ok(())
    }

    /// Its JSON-RPC namespace, served over `chain` (`None`: it has none).
    fn rpc(&self, _chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        Ok(None)
    }

    /// Its plain-HTTP `GET`/`POST` routes on the RPC port, served over `chain`.
    fn http_routes(&self, _chain: &ChainView) -> Vec<GetRoute> {
        Vec::new()
    }
}

/// A shared module (one also serving another module, as the ledger serves the
/// naming module's fees) is a module.
impl<M: Module + ?Sized> Module for Arc<M> {
    fn id(&self) -> ModuleId {
        (**self).id()
    }

    fn genesis(&self, state: &mut Layer<'_>, genesis: &Genesis) -> Result<(), ModuleError> {
        (**self).genesis(state, genesis)
    }

    fn authorize(&self, from: &PublicKey, call: &Call) -> Result<(), Refusal> {
        (**self).authorize(from, call)
    }

    fn begin_block(&self, state: &mut Layer<'_>, block: &BlockContext) -> Result<(), ModuleError> {
        (**self).begin_block(state, block)
    }

    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        (**self).apply(state, ctx, call)
    }

    fn end_block(&self, state: &dyn Read, block: &BlockContext) -> Result<(), ModuleError> {
        (**self).end_block(state, block)
    }

    fn rpc(&self, chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        (**self).rpc(chain)
    }

    fn http_routes(&self, chain: &ChainView) -> Vec<GetRoute> {
        (**self).http_routes(chain)
    }
}

/// The modules of a chain, in the order their hooks run (the order is consensus:
/// it fixes the order of effects, and so the state).
pub struct Modules {
    list: Vec<Box<dyn Module>>,
}

impl Modules {
    /// A registry of `list`, in that order; at most one module per id.
    pub fn new(list: Vec<Box<dyn Module>>) -> Result<Self, String> {
        for (i, module) in list.iter().enumerate() {
            if list[..i].iter().any(|m| m.id() == module.id()) {
                return Err(format!("module {} registered twice", module.id()));
            }
        }
        Ok(Self { list })
    }

    /// The modules, in hook order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.list.iter().map(|m| m.as_ref())
    }

    fn owner(&self, call: &Call) -> Result<&dyn Module, ModuleError> {
        let id = call.module();
        self.iter().find(|m| m.id() == id).ok_or_else(|| {
            ModuleError::Refused(Refusal::new(
                id,
                CODE_NO_MODULE,
                format!("{id}: this chain runs no such module"),
                NoModule(id),
            ))
        })
    }

    /// Every module's genesis, in order.
    pub fn genesis(&self, state: &mut Layer<'_>, genesis: &Genesis) -> Result<(), ModuleError> {
        self.iter().try_for_each(|m| m.genesis(state, genesis))
    }

    /// Whether `from` may send `call` ([`Module::authorize`] of its module).
    pub fn authorize(&self, from: &PublicKey, call: &Call) -> Result<(), ModuleError> {
        Ok(self.owner(call)?.authorize(from, call)?)
    }

    /// Every module's [`Module::begin_block`], in order.
    pub fn begin_block(
        &self,
        state: &mut Layer<'_>,
        block: &BlockContext,
    ) -> Result<(), ModuleError> {
        self.iter().try_for_each(|m| m.begin_block(state, block))
    }

    /// Hands `call` to its module: authorizes, then applies.
    pub fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        let module = self.owner(call)?;
        module.authorize(&ctx.from, call)?;
        module.apply(state, ctx, call)
    }

    /// Every module's [`Module::end_block`], in order.
    pub fn end_block(&self, state: &dyn Read, block: &BlockContext) -> Result<(), ModuleError> {
        self.iter().try_for_each(|m| m.end_block(state, block))
    }
}

/// The result code of a call whose module this chain does not run (every module's
/// codes start at 1; 0 is never a code, [`u16::MAX`] is this).
pub const CODE_NO_MODULE: u16 = u16::MAX;

/// A call for a module the chain does not run.
#[derive(Debug, thiserror::Error)]
#[error("no module {0}")]
pub struct NoModule(pub ModuleId);

/// What a module returns for a call that is not its own ([`Modules`] never hands
/// it one: a bug).
pub fn misrouted(module: ModuleId, call: &Call) -> ModuleError {
    ModuleError::Refused(Refusal::new(
        module,
        CODE_NO_MODULE,
        format!(
            "{module}: a {} call reached the wrong module",
            call.module()
        ),
        NoModule(call.module()),
    ))
}

/// Why a payment was not made.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Refused (the paying module's result `code`).
    #[error("{message}")]
    Refused {
        /// The paying module's result code.
        code: u16,
        /// Why.
        message: String,
    },
    /// State could not be read.
    #[error(transparent)]
    Storage(#[from] StateError),
}

/// Moving value between accounts, as the ledger offers it to other modules (the
/// naming module's fees): Substrate's `Currency`, narrowed to what is used.
pub trait Payments: Send + Sync {
    /// Posts `transfer` (a node transfer: its id has the system bit set).
    fn post(&self, state: &mut Layer<'_>, transfer: &LedgerTransfer) -> Result<(), PaymentError>;
}

/// Resolving a name to an L1 address, as the naming module offers it to the ledger
/// (a transfer to a `.ghost` name).
pub trait Names: Send + Sync {
    /// The live name `name` at `height`: its normalized form and its L1 address
    /// record, if it has one; `None` if the name is not registered, or released.
    #[allow(clippy::type_complexity)]
    fn resolve_l1(
        &self,
        state: &dyn Read,
        name: &str,
        height: u64,
    ) -> Result<Option<(String, Option<L1Address>)>, StateError>;
}

/// The chain as a module's RPC and services see it: read-only, and no more than
/// they need. The node implements it (`ghostd::Ghostd`).
pub trait Chain: Send + Sync + 'static {
    /// Height of the latest committed block.
    fn head_number(&self) -> u64;

    /// The node's clock, ms since the epoch.
    fn now_ms(&self) -> u64;

    /// The committed state at the head.
    fn committed(&self) -> Box<dyn Read + '_>;
}

/// A shared handle on the [`Chain`], cloned into every RPC handler.
#[derive(Clone)]
pub struct ChainView(Arc<dyn Chain>);

impl ChainView {
    /// A view of `chain`.
    pub fn new(chain: Arc<dyn Chain>) -> Self {
        Self(chain)
    }

    /// Height of the latest committed block.
    pub fn head_number(&self) -> u64 {
        self.0.head_number()
    }

    /// The node's clock, ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }

    /// Runs `f` against the committed state.
    pub fn read<T>(&self, f: impl FnOnce(&dyn Read) -> T) -> T {
        f(self.0.committed().as_ref())
    }
}

/// An RPC parameter naming an L1 address: 32 bytes of hex, `0x` optional.
pub fn parse_address(text: &str) -> Result<L1Address, ErrorObjectOwned> {
    L1Address::from_hex(text.strip_prefix("0x").unwrap_or(text)).map_err(|_| {
        ghostplane_rpc::invalid_params(format!("{text:?} is not a 32-byte hex address"))
    })
}

//! # ghostd-ledger
//!
//! The ledger module of ghostd: a double-entry journal of GCC, SPIRIT, MANA and GHOST in the
//! TigerBeetle model.
//!
//! - An account is `(owner, token)` with four counters (`debits_pending`,
//!   `debits_posted`, `credits_pending`, `credits_posted`) and flags. Every account
//!   has `debits_must_not_exceed_credits` (pending debits count) except the token's
//!   issuance account, which has `credits_must_not_exceed_debits`: its net debit is
//!   the outstanding supply, which cannot go negative. Owners may set `history`
//!   (balances kept after each change) and `closed` (refuses new transfers, posted
//!   or pending; posts and voids of earlier reservations, expiries, withdrawals from
//!   the bridge and genesis still reach it: a debtor cannot escape a hold, and a
//!   user cannot block the rollup's finality, by closing an account).
//! - A transfer debits one account and credits another of the same token, and is
//!   stored forever under its 128-bit id. Ids with the top bit clear are the
//!   client's; ids with it set are the node's (genesis, deposits, withdrawals,
//!   expiries). Re-sending a transfer is a no-op ([`Posted::AlreadyExists`]);
//!   reusing its id for another is [`LedgerError::ExistsWithDifferent`], naming
//!   the first differing field.
//! - Two-phase transfers: a pending transfer reserves the amount in both accounts'
//!   pending counters, optionally for a timeout in L1 blocks. A post (by the debtor
//!   or the creditor) posts all or part and releases the rest; a void (by the
//!   creditor) releases all. At the start of block `created + timeout`, before its
//!   transactions, [`begin_block`] expires what is still pending, so from that block
//!   on a post or void gets [`LedgerError::Expired`]. Each pending transfer
//!   resolves once.
//! - Mint and burn: the genesis names each token's issuer, a key or a DID; a DID
//!   issuer may grant `ledger:mint:<TOKEN>` to other DIDs. Mints debit the issuance
//!   account, burns credit it; both record their [`Authorizer`]. The issuer itself
//!   replaces the issuer.
//! - [`LedgerCall::Ops`](ghostd_types::tx::LedgerCall::Ops) applies 1 to [`LINKED_OPS_MAX`] operations all or none; a
//!   failure is [`LedgerError::Linked`] naming the failing index.
//! - A transfer's receiver may be a DID or a `.ghost` name, resolved when the
//!   transfer applies; the address is recorded with what it was resolved from.
//! - Audit trail: every transfer appends an entry to both accounts' trails
//!   (paged by [`account_entries`]); accounts with `history` also keep a balance
//!   snapshot per entry ([`account_history`]).
//! - Invariants, per token, checked after every block by [`check_totals`]:
//!   Σ debits_posted = Σ credits_posted, Σ debits_pending = Σ credits_pending, and
//!   the supply counter = the issuance account's net debit.
//! - Limits: a token's outstanding supply is at most [`SUPPLY_MAX`] (checked at
//!   mint), so every balance and pending sum fits in a u128 with room to spare. The
//!   posted counters are running volumes with no bound (the same coins can move back
//!   and forth forever): they wrap at 2^128 and balances are their wrapping
//!   difference, exact because a balance is at most the supply. A transfer is never
//!   refused because of how much has moved before it; TigerBeetle refuses instead
//!   (`overflows_debits_posted`), which here would let one holder of a large
//!   balance stop a token, and with it the rollup's withdrawals.
//!
//! - Result codes: [`LedgerError::code`] names each refusal (TigerBeetle's names
//!   where it has one), [`LedgerError::number`] numbers it for receipts
//!   (`L1Outcome::Failed { module: ledger, code }`); the table is on
//!   [`LedgerError::number`].
//!
//! The chain drives it as [`Ledger`], a [`Module`]: genesis allocations and
//! issuers, [`begin_block`] (expiries), the calls, and [`check_totals`] at block
//! end. It offers [`Payments`] to other modules (naming fees) and resolves
//! `.ghost` receivers through [`Names`] (the naming module's), so it imports no
//! naming code.
//!
//! State (prefix `ledger`): `account/<owner><token>`, `transfer/<id>`,
//! `pending/<id>` ([`PendingStatus`]), `totals/<token>` ([`Totals`]),
//! `issuer/<token>`, `entry/<owner><token><seq>`, `history/<owner><token><seq>`,
//! `expiry/<block>` (count) and `expiry/<block>/<i>` (pending id).
//!
//! Layout: `error` ([`LedgerError`] and its codes), `store` (state keys and plain
//! reads), `journal` (applying one transfer; [`check_totals`]), `expiry`
//! (timeouts; [`begin_block`]), `trail` (audit trail and its pages), `issuance`
//! (issuers and who may mint or burn), `call` (ledger calls and linked operations,
//! receivers by DID or name), `rpc` (the `ledger_*` namespace of
//! `ghostd_types::api::LedgerApi`, served over a [`ChainView`]); this file: the
//! [`Ledger`] module. Its wire types and RPC trait live in `ghostd_types` (so that
//! clients link no node code) and are re-exported here. Its tests: `tests/ledger.rs`
//! (through a real node), `tests/ledger_model.rs` (a model-based proptest of the
//! journal), the unit tests in `tests.rs`.

use std::sync::Arc;

use ghostd_types::Genesis;

use ghostd_module::state::{Layer, Read};
use ghostd_module::{
    Applied, ApplyResult, BlockContext, CallContext, ChainView, Module, ModuleError, Names,
    PaymentError, Payments, Refusal, misrouted,
};
use ghostd_types::api::LedgerApiServer;
use ghostd_types::tx::{Call, ModuleId};
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

mod call;
mod error;
mod expiry;
mod issuance;
mod journal;
mod rpc;
mod store;
mod trail;

pub use ghostd_types::ledger::{
    AccountEntry, AccountFlags, Authorizer, BalanceSnapshot, EXPIRIES_PER_BLOCK_MAX,
    IssuerAuthority, LINKED_OPS_MAX, LedgerAccount, LedgerOp, LedgerTransfer, PAGE_LIMIT_MAX,
    PENDING_TIMEOUT_MAX, Payee, PendingStatus, SYSTEM_ID_BIT, Totals, TransferCode, TransferField,
    TransferFlags, bridge_escrow, issuer, mint_permission, naming_treasury, rollup_treasury,
    system_transfer_id,
};

pub use rpc::LedgerRpc;

pub use call::{LedgerContext, apply, apply_op, resolve_payee};
pub use error::LedgerError;
pub use expiry::begin_block;
pub use issuance::set_genesis_issuers;
pub use journal::{Posted, SUPPLY_MAX, check_client_id, check_totals, post};
pub use store::{account, balance, issuer_of, pending_status, totals, transfer_by_id};
pub use trail::{Page, PageQuery, account_entries, account_history};

/// The ledger as the chain drives it (see the module docs).
pub struct Ledger {
    names: Arc<dyn Names>,
}

impl Ledger {
    /// A ledger that resolves `.ghost` receivers through `names`.
    pub fn new(names: Arc<dyn Names>) -> Self {
        Self { names }
    }
}

impl Module for Ledger {
    fn id(&self) -> ModuleId {
        ModuleId::LEDGER
    }

    /// The genesis allocations (node transfers from the issuance account), then
    /// the tokens' issuers.
    fn genesis(&self, state: &mut Layer<'_>, genesis: &Genesis) -> Result<(), ModuleError> {
        for (i, (to, token, amount)) in genesis.allocations.iter().enumerate() {
            post(
                state,
                &LedgerTransfer::posted(
                    system_transfer_id(&[b"genesis", &(i as u64).to_be_bytes()]),
                    issuer(),
                    *to,
                    *token,
                    *amount,
                    TransferCode::Genesis,
                    0,
                ),
            )
            .map_err(|e| {
                Refusal::new(
                    ModuleId::LEDGER,
                    e.number(),
                    format!("allocation {i}: {e}"),
                    e,
                )
            })?;
        }
        set_genesis_issuers(state, &genesis.issuers);
        Ok(())
    }

    /// Expires the pending transfers whose timeout ends at this block.
    fn begin_block(&self, state: &mut Layer<'_>, block: &BlockContext) -> Result<(), ModuleError> {
        let expired = begin_block(state, block.number)?;
        if expired > 0 {
            metrics::counter!("ghostd_ledger_expired_total").increment(u64::from(expired));
        }
        Ok(())
    }

    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        let Call::Ledger(call) = call else {
            return Err(misrouted(ModuleId::LEDGER, call));
        };
        let ledger = LedgerContext {
            from: ctx.from,
            block: ctx.block.number,
            naming: self.names.as_ref(),
        };
        apply(state, &ledger, call)?;
        Ok(Applied::default())
    }

    /// [`check_totals`].
    fn end_block(&self, state: &dyn Read, _block: &BlockContext) -> Result<(), ModuleError> {
        Ok(check_totals(state)?)
    }

    /// The `ledger_*` namespace.
    fn rpc(&self, chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        let rpc = LedgerRpc::new(chain.clone(), Arc::clone(&self.names));
        Ok(Some(rpc.into_rpc().remove_context()))
    }
}

impl Payments for Ledger {
    fn post(&self, state: &mut Layer<'_>, transfer: &LedgerTransfer) -> Result<(), PaymentError> {
        match post(state, transfer) {
            Ok(_) => Ok(()),
            Err(LedgerError::State(e)) => Err(PaymentError::Storage(e)),
            Err(e) => Err(PaymentError::Refused {
                code: e.number(),
                message: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;

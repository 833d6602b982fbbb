//! Ledger calls: a transfer, a chain of linked operations (transfers, posts,
//! voids, mints, burns), account flags, the issuer; and resolving a receiver given
//! as a DID or a `.ghost` name.

use ghostplane_primitives::{L1Address, PublicKey};

use super::issuance::authorize_issuer;
use super::journal::{Posted, apply_transfer, check_client_id};
use super::store::{account, account_key, issuer_key, transfer_by_id};
use super::{
    AccountFlags, LINKED_OPS_MAX, LedgerError, LedgerOp, LedgerTransfer, PENDING_TIMEOUT_MAX,
    Payee, TransferCode, TransferFlags, issuer,
};
use ghostd_identity as identity;
use ghostd_module::Names;
use ghostd_module::state::{Layer, Read};
use ghostd_types::tx::LedgerCall;

/// What a ledger call runs against.
pub struct LedgerContext<'a> {
    /// The (verified) signer.
    pub from: PublicKey,
    /// The block being built.
    pub block: u64,
    /// Resolves `.ghost` receivers (the naming module implements [`Names`] for
    /// its parameters).
    pub naming: &'a dyn Names,
}

/// Applies a ledger call.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &LedgerContext<'_>,
    call: &LedgerCall,
) -> Result<(), LedgerError> {
    match call {
        LedgerCall::Transfer {
            id,
            to,
            token,
            amount,
        } => {
            let op = LedgerOp::Transfer {
                id: *id,
                to: Payee::Address(*to),
                token: *token,
                amount: *amount,
                pending: None,
            };
            apply_op(state, ctx, &op, false).map(|_| ())
        }
        LedgerCall::Ops(ops) => {
            if ops.is_empty() || ops.len() > LINKED_OPS_MAX {
                return Err(LedgerError::OpCount(ops.len()));
            }
            let count = ops.len();
            for (index, op) in ops.iter().enumerate() {
                let linked = index + 1 < count;
                apply_op(state, ctx, op, linked).map_err(|e| {
                    if count == 1 {
                        e
                    } else {
                        LedgerError::Linked {
                            index,
                            count,
                            source: Box::new(e),
                        }
                    }
                })?;
            }
            Ok(())
        }
        LedgerCall::SetAccountFlags { token, set, clear } => {
            let bad = (set | clear) & !AccountFlags::OWNER_SETTABLE;
            if bad != 0 {
                return Err(LedgerError::FlagsNotSettable(bad));
            }
            let owner = L1Address(ctx.from.0);
            let mut account = account(state, &owner, *token)?;
            account.flags.0 = (account.flags.0 | set) & !clear;
            state.put(account_key(&owner, *token), &account);
            Ok(())
        }
        LedgerCall::SetIssuer { token, authority } => {
            authorize_issuer(state, ctx, *token, None, false)?;
            state.put(issuer_key(*token), authority);
            Ok(())
        }
    }
}

/// Applies one operation of a call (`linked`: not the last of a chain).
pub fn apply_op(
    state: &mut Layer<'_>,
    ctx: &LedgerContext<'_>,
    op: &LedgerOp,
    linked: bool,
) -> Result<Posted, LedgerError> {
    check_client_id(op.id())?;
    let signer = L1Address(ctx.from.0);
    let link = if linked { TransferFlags::LINKED } else { 0 };
    let transfer = match op {
        LedgerOp::Transfer {
            id,
            to,
            token,
            amount,
            pending,
        } => {
            let (credit, via) = resolve_payee(state, ctx.block, ctx.naming, to)?;
            if credit == issuer() {
                return Err(LedgerError::IssuanceAccount);
            }
            let (flags, timeout) = match pending {
                Some(timeout) => (TransferFlags::PENDING, *timeout),
                None => (0, 0),
            };
            if timeout > PENDING_TIMEOUT_MAX {
                return Err(LedgerError::TimeoutTooLong(timeout));
            }
            LedgerTransfer {
                timeout,
                flags: TransferFlags(flags | link),
                via,
                ..LedgerTransfer::posted(
                    *id,
                    signer,
                    credit,
                    *token,
                    *amount,
                    TransferCode::Transfer,
                    ctx.block,
                )
            }
        }
        LedgerOp::Post {
            id,
            pending_id,
            amount,
        } => {
            let pending = transfer_by_id(state, *pending_id)?
                .ok_or(LedgerError::PendingNotFound(*pending_id))?;
            if signer != pending.debit && signer != pending.credit {
                return Err(LedgerError::Unauthorized(format!(
                    "only the debtor or the creditor of pending transfer {pending_id:#x} may post it"
                )));
            }
            LedgerTransfer {
                pending_id: *pending_id,
                flags: TransferFlags(TransferFlags::POST_PENDING | link),
                ..LedgerTransfer::posted(
                    *id,
                    pending.debit,
                    pending.credit,
                    pending.token,
                    amount.unwrap_or(pending.amount),
                    pending.code,
                    ctx.block,
                )
            }
        }
        LedgerOp::Void { id, pending_id } => {
            let pending = transfer_by_id(state, *pending_id)?
                .ok_or(LedgerError::PendingNotFound(*pending_id))?;
            if signer != pending.credit {
                return Err(LedgerError::Unauthorized(format!(
                    "only the creditor of pending transfer {pending_id:#x} may void it; the debtor's reservation ends at its timeout"
                )));
            }
            LedgerTransfer {
                pending_id: *pending_id,
                flags: TransferFlags(TransferFlags::VOID_PENDING | link),
                ..LedgerTransfer::posted(
                    *id,
                    pending.debit,
                    pending.credit,
                    pending.token,
                    pending.amount,
                    pending.code,
                    ctx.block,
                )
            }
        }
        LedgerOp::Mint {
            id,
            to,
            token,
            amount,
            as_did,
        } => {
            let authorizer = authorize_issuer(state, ctx, *token, *as_did, true)?;
            let (credit, via) = resolve_payee(state, ctx.block, ctx.naming, to)?;
            LedgerTransfer {
                flags: TransferFlags(link),
                authorizer: Some(authorizer),
                via,
                ..LedgerTransfer::posted(
                    *id,
                    issuer(),
                    credit,
                    *token,
                    *amount,
                    TransferCode::Mint,
                    ctx.block,
                )
            }
        }
        LedgerOp::Burn {
            id,
            token,
            amount,
            as_did,
        } => {
            let authorizer = authorize_issuer(state, ctx, *token, *as_did, true)?;
            LedgerTransfer {
                flags: TransferFlags(link),
                authorizer: Some(authorizer),
                ..LedgerTransfer::posted(
                    *id,
                    signer,
                    issuer(),
                    *token,
                    *amount,
                    TransferCode::Burn,
                    ctx.block,
                )
            }
        }
    };
    apply_transfer(state, &transfer)
}

/// The address a receiver names at `block`, and what it was resolved from.
pub fn resolve_payee(
    state: &dyn Read,
    block: u64,
    names: &dyn Names,
    payee: &Payee,
) -> Result<(L1Address, Option<String>), LedgerError> {
    let unresolved = |reason| LedgerError::UnresolvedPayee {
        payee: payee.to_string(),
        reason,
    };
    match payee {
        Payee::Address(address) => Ok((*address, None)),
        Payee::Did(did) => {
            let key =
                identity::payment_key(state, did)?.ok_or_else(|| unresolved("no such live DID"))?;
            Ok((L1Address(key.0), Some(did.to_string())))
        }
        Payee::Name(name) => {
            let (name, address) = names
                .resolve_l1(state, name, block)?
                .ok_or_else(|| unresolved("the name is not registered, or was released"))?;
            let address = address.ok_or_else(|| unresolved("the name has no L1 address record"))?;
            Ok((address, Some(name)))
        }
    }
}

//! Issuers: writing the genesis issuers, and checking that a signer may mint,
//! burn or replace a token's issuer (a key, or a DID and its `ledger:mint:<TOKEN>`
//! grantees).

use ghostd_types::identity::DidId;
use ghostplane_primitives::TokenId;

use super::call::LedgerContext;
use super::store::{issuer_key, issuer_of};
use super::{Authorizer, IssuerAuthority, LedgerError, mint_permission};
use ghostd_identity as identity;
use ghostd_module::state::{Layer, Read};

/// Writes the genesis issuers.
pub fn set_genesis_issuers(state: &mut Layer<'_>, issuers: &[(TokenId, IssuerAuthority)]) {
    for (token, authority) in issuers {
        state.put(issuer_key(*token), authority);
    }
}

/// Checks that the signer may mint, burn, or (with `grantees` false) replace the
/// issuer of `token`, acting for `as_did` if given.
pub(super) fn authorize_issuer(
    state: &dyn Read,
    ctx: &LedgerContext<'_>,
    token: TokenId,
    as_did: Option<DidId>,
    grantees: bool,
) -> Result<Authorizer, LedgerError> {
    let unauthorized = |why: String| Err(LedgerError::Unauthorized(why));
    match issuer_of(state, token)? {
        None => unauthorized(format!(
            "{token} has no issuer: its supply is fixed at genesis"
        )),
        Some(IssuerAuthority::Key(key)) => {
            if as_did.is_some() {
                return unauthorized(format!(
                    "the {token} issuer is a key, not a DID: sign with it and name no DID"
                ));
            }
            if key != ctx.from {
                return unauthorized(format!("only the {token} issuer key may do this"));
            }
            Ok(Authorizer {
                key: ctx.from,
                did: None,
            })
        }
        Some(IssuerAuthority::Did(issuer_did)) => {
            let acting = as_did.unwrap_or(issuer_did);
            if !identity::acts_for(state, &acting, &ctx.from)? {
                return unauthorized(format!(
                    "the signer is not a capabilityInvocation key of live {acting} or of its controllers"
                ));
            }
            if acting != issuer_did {
                let holds = grantees
                    && !identity::has_permission(
                        state,
                        &acting,
                        &mint_permission(token),
                        Some(&issuer_did),
                        ctx.block,
                    )?
                    .is_empty();
                if !holds {
                    return unauthorized(if grantees {
                        format!(
                            "{acting} holds no live {} granted by the issuer {issuer_did}",
                            mint_permission(token)
                        )
                    } else {
                        format!("only the issuer {issuer_did} itself may replace the issuer")
                    });
                }
            }
            Ok(Authorizer {
                key: ctx.from,
                did: Some(acting),
            })
        }
    }
}

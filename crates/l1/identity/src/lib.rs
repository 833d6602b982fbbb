//! # ghostd-identity
//!
//! The identity module of ghostd: `did:ghost` DIDs with W3C DID Core 1.0 documents, their
//! version history, permission grants between DIDs, revoked access tokens, and the
//! read side: DID Resolution results, permission lookups and token verification.
//!
//! State (prefix `identity`):
//!
//! | key | value |
//! | --- | --- |
//! | `did/<id>` | [`DidRecord`](ghostd_types::identity::DidRecord): current document, flags, created/updated, version count |
//! | `version/<id>/<n>` (n: u32 BE) | [`DidVersion`](ghostd_types::identity::DidVersion) n (0 = creation) |
//! | `grants/<id>` | the grants the DID holds, at most [`GRANTS_PER_DID_MAX`](ghostd_types::identity::GRANTS_PER_DID_MAX), at most [`GRANTS_PER_GRANTOR_MAX`](ghostd_types::identity::GRANTS_PER_GRANTOR_MAX) from one grantor |
//! | `revoked/<issuer id>/<blake3(jti)>` | height of a token revocation |
//!
//! Rules: a change is authorized by the transaction's sender key being an Ed25519
//! method in the DID's `capabilityInvocation`, or in a (live) `did:ghost`
//! controller's, or a `did:key` controller's key. A document always keeps at least
//! one Ed25519 `capabilityInvocation` method, fragments are unique across methods
//! and services, and every limit of `ghostd_types::identity` holds after each change.
//! A deactivated DID never changes again. Several changes in one block make one
//! version (its `versionId` is the block height).
//!
//! Layout: `error` ([`IdentityError`] and its codes), `store` (state keys and
//! plain reads), `call` (identity calls, creation, versions), `document` (document
//! changes and their checks), `authority` (who may act for a DID; [`acts_for`],
//! [`payment_key`]), `permission` (grants; [`has_permission`]), `resolution` (DID
//! Resolution and JSON-LD; [`resolve`]), `token` (access tokens; [`verify_token`]),
//! `rpc` (the `identity_*` namespace of `ghostd_types::api::IdentityApi` and the
//! DIF Universal Resolver route [`resolver_route`], over a [`ChainView`]); this
//! file: the [`Identity`] module. Its wire types and RPC trait live in
//! `ghostd_types` (clients link no node code). Its tests: `tests/identity.rs`,
//! through a real node and its RPC server.

use ghostd_types::identity::Stamp;

use ghostd_module::state::Layer;
use ghostd_module::{Applied, ApplyResult, CallContext, ChainView, Module, misrouted};
use ghostd_types::api::IdentityApiServer;
use ghostd_types::tx::{Call, ModuleId};
use ghostplane_rpc::routes::GetRoute;
use jsonrpsee::RpcModule;
use jsonrpsee::core::RegisterMethodError;

mod authority;
mod call;
mod document;
mod error;
mod permission;
mod resolution;
mod rpc;
mod store;
mod token;

pub use authority::{acts_for, payment_key};
pub use call::{IdentityContext, apply};
pub use error::IdentityError;
pub use permission::has_permission;
pub use resolution::{
    DID_LD_JSON, VersionQuery, did_key_document, document_json, parse_time, resolution_error,
    resolve, timestamp,
};
pub use rpc::{IdentityRpc, resolver_route};
pub use store::{grants, is_revoked, record, version};
pub use token::{verify_token, verify_token_from};

/// The identity module as the chain drives it.
pub struct Identity;

impl Module for Identity {
    fn id(&self) -> ModuleId {
        ModuleId::IDENTITY
    }

    fn apply(&self, state: &mut Layer<'_>, ctx: &CallContext, call: &Call) -> ApplyResult {
        let Call::Identity(call) = call else {
            return Err(misrouted(ModuleId::IDENTITY, call));
        };
        let identity = IdentityContext {
            chain_id: ctx.block.chain_id,
            stamp: Stamp {
                height: ctx.block.number,
                time_ms: ctx.block.time_ms,
            },
            from: ctx.from,
        };
        apply(state, &identity, call)?;
        Ok(Applied::default())
    }

    /// The `identity_*` namespace.
    fn rpc(&self, chain: &ChainView) -> Result<Option<RpcModule<()>>, RegisterMethodError> {
        Ok(Some(
            IdentityRpc::new(chain.clone()).into_rpc().remove_context(),
        ))
    }

    /// `GET /1.0/identifiers/{did}`: [`resolver_route`].
    fn http_routes(&self, chain: &ChainView) -> Vec<GetRoute> {
        vec![resolver_route(chain.clone())]
    }
}

//! Identity calls: dispatching a call to its DID (signed for it), creating a DID,
//! and writing a DID's new version (one per block).

use ghostd_types::identity::{
    DidDocument, DidId, DidRecord, DidVersion, IdentityCall, JTI_BYTES_MAX, KeyMaterial,
    Relationship, Stamp, VerificationMethod,
};
use ghostplane_primitives::PublicKey;

use super::IdentityError;
use super::authority::authorized;
use super::document::{change, check_document};
use super::permission::{grant, revoke};
use super::store::{did_key_of, record, revoked_key, version_key};
use ghostd_module::state::{Layer, Read};

/// What an identity call runs against.
pub struct IdentityContext {
    /// The L1 chain id (DIDs derive from it).
    pub chain_id: u64,
    /// This block.
    pub stamp: Stamp,
    /// The transaction's verified sender.
    pub from: PublicKey,
}

/// Applies `call`. `Revoke` may be signed for the grantee; every other call but
/// `Create` is signed for the DID it names.
pub fn apply(
    state: &mut Layer<'_>,
    ctx: &IdentityContext,
    call: &IdentityCall,
) -> Result<(), IdentityError> {
    match call {
        IdentityCall::Create { soulbound } => create(state, ctx, *soulbound),
        IdentityCall::Grant {
            did,
            grantee,
            permission,
            expires,
        } => {
            signed_for(state, did, &ctx.from)?;
            grant(state, ctx, *did, *grantee, permission, *expires)
        }
        IdentityCall::Revoke {
            did,
            grantee,
            grantor,
            permission,
        } => {
            if did != grantor && did != grantee {
                return Err(IdentityError::NotGrantParty);
            }
            signed_for(state, did, &ctx.from)?;
            revoke(state, *grantee, *grantor, permission)
        }
        IdentityCall::RevokeToken { did, jti } => {
            signed_for(state, did, &ctx.from)?;
            if jti.is_empty() || jti.len() > JTI_BYTES_MAX {
                return Err(IdentityError::InvalidJti);
            }
            state.put(revoked_key(did, jti), &ctx.stamp.height);
            Ok(())
        }
        IdentityCall::AddMethod { did, .. }
        | IdentityCall::RemoveMethod { did, .. }
        | IdentityCall::SetRelationships { did, .. }
        | IdentityCall::RotateKey { did, .. }
        | IdentityCall::AddService { did, .. }
        | IdentityCall::RemoveService { did, .. }
        | IdentityCall::SetControllers { did, .. }
        | IdentityCall::SetAlsoKnownAs { did, .. }
        | IdentityCall::Deactivate { did } => {
            let mut current = signed_for(state, did, &ctx.from)?;
            change(state, did, &mut current, call)?;
            check_document(&current.document)?;
            write_version(state, did, current, ctx.stamp);
            Ok(())
        }
    }
}

/// The record of `did`, if it is live and `from` may change it.
fn signed_for(state: &dyn Read, did: &DidId, from: &PublicKey) -> Result<DidRecord, IdentityError> {
    let current = record(state, did)?.ok_or(IdentityError::NotFound(*did))?;
    if current.deactivated {
        return Err(IdentityError::Deactivated(*did));
    }
    if !authorized(state, did, &current.document, from)? {
        return Err(IdentityError::NotAuthorized(*did));
    }
    Ok(current)
}

fn create(
    state: &mut Layer<'_>,
    ctx: &IdentityContext,
    soulbound: bool,
) -> Result<(), IdentityError> {
    let did = DidId::derive(ctx.chain_id, &ctx.from);
    if record(state, &did)?.is_some() {
        return Err(IdentityError::AlreadyExists(did));
    }
    let key = KeyMaterial::Ed25519(ctx.from.0);
    key.validate().map_err(|_| IdentityError::InvalidKey)?;
    let record = DidRecord {
        document: DidDocument {
            methods: vec![VerificationMethod {
                fragment: "key-1".into(),
                key,
                relationships: Relationship::bits(&[
                    Relationship::Authentication,
                    Relationship::AssertionMethod,
                    Relationship::CapabilityInvocation,
                    Relationship::CapabilityDelegation,
                ]),
            }],
            ..DidDocument::default()
        },
        soulbound,
        deactivated: false,
        created: ctx.stamp,
        updated: ctx.stamp,
        versions: 0,
    };
    write_version(state, &did, record, ctx.stamp);
    Ok(())
}

/// Stores `record` as the DID's new current version (replacing this block's
/// version if the DID already changed in it).
fn write_version(state: &mut Layer<'_>, did: &DidId, mut record: DidRecord, stamp: Stamp) {
    let index = match record.versions {
        n if n > 0 && record.updated.height == stamp.height => n - 1,
        n => n,
    };
    record.versions = index + 1;
    record.updated = stamp;
    state.put(
        version_key(did, index),
        &DidVersion {
            stamp,
            document: record.document.clone(),
            deactivated: record.deactivated,
        },
    );
    state.put(did_key_of(did), &record);
}

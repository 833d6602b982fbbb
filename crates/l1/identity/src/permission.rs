//! Permission grants between DIDs: granting and revoking (with the per-DID and
//! per-grantor quotas), and [`has_permission`], the lookup other modules gate on.

use ghostd_types::identity::{
    DidId, GRANTS_PER_DID_MAX, GRANTS_PER_GRANTOR_MAX, Grant, valid_permission,
};

use super::IdentityError;
use super::call::IdentityContext;
use super::store::{grants, grants_key, record};
use ghostd_module::state::{Layer, Read, StateError};

/// The grantors from which `did` holds `permission` at `height` (only `grantor`'s,
/// if given). A grant from a deactivated grantor no longer holds. Modules that gate
/// on a permission (ledger mint, naming) ask with the grantor that has authority
/// over it: anyone may grant any name.
pub fn has_permission(
    state: &dyn Read,
    did: &DidId,
    permission: &str,
    grantor: Option<&DidId>,
    height: u64,
) -> Result<Vec<DidId>, StateError> {
    let mut holders = Vec::new();
    for grant in grants(state, did)? {
        if grant.permission != permission
            || !grant.holds_at(height)
            || grantor.is_some_and(|g| *g != grant.grantor)
        {
            continue;
        }
        if record(state, &grant.grantor)?.is_some_and(|r| !r.deactivated) {
            holders.push(grant.grantor);
        }
    }
    Ok(holders)
}

pub(super) fn grant(
    state: &mut Layer<'_>,
    ctx: &IdentityContext,
    grantor: DidId,
    grantee: DidId,
    permission: &str,
    expires: Option<u64>,
) -> Result<(), IdentityError> {
    if !valid_permission(permission) {
        return Err(IdentityError::InvalidPermission(permission.to_string()));
    }
    if let Some(expires) = expires
        && expires <= ctx.stamp.height
    {
        return Err(IdentityError::ExpiryPassed {
            expires,
            height: ctx.stamp.height,
        });
    }
    match record(state, &grantee)? {
        None => return Err(IdentityError::NotFound(grantee)),
        Some(r) if r.deactivated => return Err(IdentityError::Deactivated(grantee)),
        Some(_) => {}
    }
    let mut held = grants(state, &grantee)?;
    let entry = Grant {
        permission: permission.to_string(),
        grantor,
        expires,
        granted: ctx.stamp.height,
    };
    match held
        .iter_mut()
        .find(|g| g.grantor == grantor && g.permission == permission)
    {
        Some(existing) => *existing = entry,
        None => {
            // Expired grants make room first.
            held.retain(|g| g.holds_at(ctx.stamp.height));
            // One grantor's grants take at most its quota of the grantee's slots,
            // so a stranger cannot take them all.
            if held.iter().filter(|g| g.grantor == grantor).count() >= GRANTS_PER_GRANTOR_MAX {
                return Err(IdentityError::TooMany {
                    what: "grants held by the grantee from one grantor",
                    max: GRANTS_PER_GRANTOR_MAX,
                });
            }
            if held.len() >= GRANTS_PER_DID_MAX {
                return Err(IdentityError::TooMany {
                    what: "grants held by the grantee",
                    max: GRANTS_PER_DID_MAX,
                });
            }
            held.push(entry);
        }
    }
    state.put(grants_key(&grantee), &held);
    Ok(())
}

pub(super) fn revoke(
    state: &mut Layer<'_>,
    grantee: DidId,
    grantor: DidId,
    permission: &str,
) -> Result<(), IdentityError> {
    let mut held = grants(state, &grantee)?;
    let before = held.len();
    held.retain(|g| !(g.grantor == grantor && g.permission == permission));
    if held.len() == before {
        return Err(IdentityError::NoSuchGrant {
            grantee,
            grantor,
            permission: permission.to_string(),
        });
    }
    state.put(grants_key(&grantee), &held);
    Ok(())
}

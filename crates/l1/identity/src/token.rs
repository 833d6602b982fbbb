//! Access tokens: verifying a JWT signed by a DID's key against the chain
//! (issuer, key, time, audience, revocation, subject, and the grantor of each
//! claimed permission).

use ghostd_types::identity::jwt::{self, Claims, HeldPermission, TokenError, VerifiedToken};
use ghostd_types::identity::{DidId, JTI_BYTES_MAX, Relationship};

use super::permission::has_permission;
use super::store::{is_revoked, record};
use ghostd_module::state::{Read, StateError};

/// Verifies `token` at the head (`height`) and time `now_s` (Unix seconds), with
/// the default grantor rule of [`verify_token_from`]: a claimed permission counts
/// if the token's issuer granted it to the subject, and the issuer is not the
/// subject itself.
pub fn verify_token(
    state: &dyn Read,
    token: &str,
    audience: Option<&str>,
    now_s: u64,
    height: u64,
) -> Result<Result<VerifiedToken, TokenError>, StateError> {
    verify_token_from(state, token, audience, &[], now_s, height)
}

/// Verifies `token` at the head (`height`) and time `now_s` (Unix seconds): no
/// `crit` header, signature against the issuer's current document, a live issuer,
/// the key still in authentication or assertionMethod, `exp` and `nbf`, the
/// audience (a token naming one is refused unless `audience` is among them, RFC
/// 7519 §4.1.3), a `jti` that `RevokeToken` can name, revocation, a live subject,
/// and that the subject holds every claimed permission from a grantor
/// the check accepts: one of `grantors` if the verifier names any, else the token's
/// issuer unless it is the subject. Anyone may grant any permission name to anyone,
/// itself included, so a grant proves only what its grantor vouches for: a DID's
/// grant to itself counts only where the verifier names that DID. The result names
/// the grantor of each permission.
pub fn verify_token_from(
    state: &dyn Read,
    token: &str,
    audience: Option<&str>,
    grantors: &[DidId],
    now_s: u64,
    height: u64,
) -> Result<Result<VerifiedToken, TokenError>, StateError> {
    let decoded = match jwt::decode(token) {
        Ok(decoded) => decoded,
        Err(e) => return Ok(Err(e)),
    };
    let claims = &decoded.claims;
    let Ok(issuer) = DidId::parse(&claims.iss) else {
        return Ok(Err(TokenError::IssuerNotFound(claims.iss.clone())));
    };
    let Some(current) = record(state, &issuer)? else {
        return Ok(Err(TokenError::IssuerNotFound(claims.iss.clone())));
    };
    if current.deactivated {
        return Ok(Err(TokenError::IssuerDeactivated(claims.iss.clone())));
    }
    let kid = &decoded.header.kid;
    let method = kid
        .strip_prefix(claims.iss.as_str())
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|fragment| current.document.method(fragment));
    let Some(method) = method else {
        return Ok(Err(TokenError::UnknownKey(kid.clone())));
    };
    if !method.has(Relationship::Authentication) && !method.has(Relationship::AssertionMethod) {
        return Ok(Err(TokenError::KeyNotAuthorized(kid.clone())));
    }
    if let Err(e) = decoded.verify_signature(&method.key) {
        return Ok(Err(e));
    }
    if now_s >= claims.exp {
        return Ok(Err(TokenError::Expired {
            exp: claims.exp,
            now: now_s,
        }));
    }
    if now_s < claims.nbf {
        return Ok(Err(TokenError::NotYetValid {
            nbf: claims.nbf,
            now: now_s,
        }));
    }
    match audience {
        Some(audience) if !claims.aud.contains(audience) => {
            return Ok(Err(TokenError::WrongAudience(audience.to_string())));
        }
        // RFC 7519 §4.1.3: a verifier that does not identify itself with a value
        // in `aud` rejects a token that has one.
        None if !claims.aud.is_empty() => {
            return Ok(Err(TokenError::AudienceNotNamed(
                serde_json::to_string(&claims.aud).unwrap_or_default(),
            )));
        }
        _ => {}
    }
    // A jti that no RevokeToken can name would make the token irrevocable.
    if claims.jti.is_empty() || claims.jti.len() > JTI_BYTES_MAX {
        return Ok(Err(TokenError::BadJti(claims.jti.len())));
    }
    if is_revoked(state, &issuer, &claims.jti)? {
        return Ok(Err(TokenError::Revoked(claims.jti.clone())));
    }
    if let Ok(subject) = DidId::parse(&claims.sub)
        && subject != issuer
        && record(state, &subject)?.is_some_and(|r| r.deactivated)
    {
        return Ok(Err(TokenError::SubjectDeactivated(claims.sub.clone())));
    }
    let grants = match held_permissions(state, claims, issuer, grantors, height)? {
        Ok(grants) => grants,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(VerifiedToken {
        claims: decoded.claims,
        grants,
    }))
}

/// The accepted grantor of each permission `claims` claim for their subject (see
/// [`verify_token_from`]), or the first that is not held from one.
fn held_permissions(
    state: &dyn Read,
    claims: &Claims,
    issuer: DidId,
    grantors: &[DidId],
    height: u64,
) -> Result<Result<Vec<HeldPermission>, TokenError>, StateError> {
    let subject = DidId::parse(&claims.sub).ok();
    let issuer_only = [issuer];
    let accepted: &[DidId] = match (grantors.is_empty(), subject) {
        (false, _) => grantors,
        // A self-issued token: the subject vouching for itself proves nothing.
        (true, Some(subject)) if subject == issuer => &[],
        (true, _) => &issuer_only,
    };
    let mut held = Vec::with_capacity(claims.permissions.len());
    for permission in &claims.permissions {
        let from = match &subject {
            Some(subject) => has_permission(state, subject, permission, None, height)?,
            None => Vec::new(),
        };
        match from.iter().find(|g| accepted.contains(g)) {
            Some(grantor) => held.push(HeldPermission {
                permission: permission.clone(),
                grantor: grantor.to_string(),
            }),
            None if from.is_empty() => {
                return Ok(Err(TokenError::PermissionNotHeld(permission.clone())));
            }
            None => {
                return Ok(Err(TokenError::GrantorNotAccepted {
                    permission: permission.clone(),
                    grantors: from.iter().map(DidId::to_string).collect(),
                }));
            }
        }
    }
    Ok(Ok(held))
}

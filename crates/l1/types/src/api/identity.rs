//! The identity namespace (`identity_*`): DID resolution, permissions, grants and
//! token verification, and the views and options it uses.

use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::RpcResult;
use crate::identity::Grant;
use crate::identity::jwt::{Claims, HeldPermission, TokenError, VerifiedToken};

/// `versionId`: DID Resolution passes it as a string; a number is taken too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum VersionId {
    /// `"1234"`.
    Text(String),
    /// `1234`.
    Number(u64),
}

/// Options of `identity_resolve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveOptions {
    /// The version written at this L1 height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<VersionId>,
    /// The version current at this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_time: Option<String>,
}

/// Answer of `identity_hasPermission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionView {
    /// Whether the DID holds it (from the grantor asked for, or from anyone).
    pub held: bool,
    /// The grantors it holds it from.
    pub grantors: Vec<String>,
    /// The head height the answer is for.
    pub height: u64,
}

/// A grant a DID holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// Permission.
    pub permission: String,
    /// Grantor DID.
    pub grantor: String,
    /// Height from which it no longer holds.
    pub expires: Option<u64>,
    /// Height granted at.
    pub granted: u64,
}

impl From<&Grant> for GrantView {
    fn from(grant: &Grant) -> Self {
        Self {
            permission: grant.permission.clone(),
            grantor: grant.grantor.to_string(),
            expires: grant.expires,
            granted: grant.granted,
        }
    }
}

/// Options of `identity_verifyToken`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyOptions {
    /// The audience the verifier is: a token that names an audience must name this
    /// one, and a token with an audience is refused when this is absent (RFC 7519
    /// §4.1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// DIDs whose grants the verifier trusts (at most [`VERIFY_GRANTORS_MAX`]): a
    /// claimed permission counts only if one of them granted it to the subject.
    /// Empty: only the token's issuer, when it is not the subject itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grantors: Vec<String>,
}

/// Most grantors one `identity_verifyToken` call may name (each costs a lookup per
/// claimed permission); more is an invalid-params error.
pub const VERIFY_GRANTORS_MAX: usize = 16;

/// Answer of `identity_verifyToken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenVerdict {
    /// Whether every check passed.
    pub valid: bool,
    /// Why not: a stable name ([`TokenError::kind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why not, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The verified claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    /// Who granted each claimed permission (in claim order): a grant proves what
    /// its grantor vouches for, so a relying party checks that it trusts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<HeldPermission>,
    /// The head height the checks ran at.
    pub height: u64,
}

impl TokenVerdict {
    /// The verdict of a check at `height`.
    pub fn new(result: Result<VerifiedToken, TokenError>, height: u64) -> Self {
        match result {
            Ok(verified) => Self {
                valid: true,
                error: None,
                message: None,
                claims: Some(verified.claims),
                grants: verified.grants,
                height,
            },
            Err(e) => Self {
                valid: false,
                error: Some(e.kind().to_string()),
                message: Some(e.to_string()),
                claims: None,
                grants: Vec::new(),
                height,
            },
        }
    }
}

/// The `identity` namespace.
#[rpc(server, client, namespace = "identity")]
pub trait IdentityApi {
    /// A W3C DID Resolution result for a `did:ghost` or `did:key` DID. A malformed
    /// DID gives `didResolutionMetadata.error = invalidDid`, not an RPC error.
    #[method(name = "resolve")]
    fn resolve(&self, did: String, options: Option<ResolveOptions>)
    -> RpcResult<serde_json::Value>;

    /// Whether `did` holds `permission` (from `grantor`, if given) at the head.
    #[method(name = "hasPermission")]
    fn has_permission(
        &self,
        did: String,
        permission: String,
        grantor: Option<String>,
    ) -> RpcResult<PermissionView>;

    /// The grants `did` holds (expired ones included).
    #[method(name = "getGrants")]
    fn get_grants(&self, did: String) -> RpcResult<Vec<GrantView>>;

    /// Verifies an access token at the head.
    #[method(name = "verifyToken")]
    fn verify_token(&self, jwt: String, options: Option<VerifyOptions>) -> RpcResult<TokenVerdict>;
}

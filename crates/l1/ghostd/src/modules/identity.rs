//! The identity module: `did:ghost` DIDs with W3C DID Core 1.0 documents, their
//! version history, permission grants between DIDs, revoked access tokens, and the
//! read side: DID Resolution results, permission lookups and token verification.
//!
//! State (prefix `identity`):
//!
//! | key | value |
//! | --- | --- |
//! | `did/<id>` | [`DidRecord`]: current document, flags, created/updated, version count |
//! | `version/<id>/<n>` (n: u32 BE) | [`DidVersion`] n (0 = creation) |
//! | `grants/<id>` | the grants the DID holds, at most [`GRANTS_PER_DID_MAX`], at most [`GRANTS_PER_GRANTOR_MAX`] from one grantor |
//! | `revoked/<issuer id>/<blake3(jti)>` | height of a token revocation |
//!
//! Rules: a change is authorized by the transaction's sender key being an Ed25519
//! method in the DID's `capabilityInvocation`, or in a (live) `did:ghost`
//! controller's, or a `did:key` controller's key. A document always keeps at least
//! one Ed25519 `capabilityInvocation` method, fragments are unique across methods
//! and services, and every limit of `ghostd_types::identity` holds after each change.
//! A deactivated DID never changes again. Several changes in one block make one
//! version (its `versionId` is the block height).

use chrono::{DateTime, SecondsFormat};
use ghostd_types::identity::jwt::{self, Claims, HeldPermission, TokenError, VerifiedToken};
use ghostd_types::identity::{
    ALSO_KNOWN_AS_MAX, CONTROLLERS_MAX, Controller, DOCUMENT_BYTES_MAX, DidDocument, DidId,
    DidRecord, DidVersion, GRANTS_PER_DID_MAX, GRANTS_PER_GRANTOR_MAX, Grant, IdentifierError,
    IdentityCall, JTI_BYTES_MAX, KeyMaterial, METHODS_MAX, Relationship, SERVICE_TYPE_BYTES_MAX,
    SERVICES_MAX, Service, Stamp, VerificationMethod, did_key, parse_did_key, valid_fragment,
    valid_permission, valid_uri,
};
use ghostplane_primitives::PublicKey;
use ghostplane_primitives::codec::to_bytes;
use serde_json::{Value, json};

use crate::module::{Applied, CallContext, Module, ModuleError, Refusal, misrouted};
use crate::state::{self, Layer, Read, StateError};
use crate::types::{Call, ModuleId};

const PREFIX: &str = "identity";

/// Why an identity call was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The sender already created its DID.
    #[error("{0} already exists: a key creates one DID (add keys to it instead)")]
    AlreadyExists(DidId),
    /// No such DID.
    #[error("{0} does not exist")]
    NotFound(DidId),
    /// The DID is deactivated.
    #[error("{0} is deactivated; a deactivated DID never changes again")]
    Deactivated(DidId),
    /// The sender's key may not change this DID.
    #[error("the sender key is not a capabilityInvocation key of {0} or of one of its controllers")]
    NotAuthorized(DidId),
    /// A fragment is taken.
    #[error("fragment #{0} is already used by a method or service of this document")]
    DuplicateFragment(String),
    /// No method or service has the fragment.
    #[error("no {what} #{fragment} in this document")]
    UnknownFragment {
        /// Method or service.
        what: &'static str,
        /// The fragment.
        fragment: String,
    },
    /// A fragment is malformed.
    #[error("fragment {0:?} is invalid: use 1-64 of A-Z a-z 0-9 . _ -")]
    InvalidFragment(String),
    /// The change would leave no Ed25519 capabilityInvocation method.
    #[error(
        "the document must keep at least one Ed25519 capabilityInvocation method (it is what signs changes)"
    )]
    LastCapabilityInvocation,
    /// The DID is soulbound.
    #[error("{0} is soulbound: its controllers can only be itself")]
    Soulbound(DidId),
    /// A count limit.
    #[error("too many {what}: at most {max}")]
    TooMany {
        /// What.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The document is too large.
    #[error("the document would encode to {0} bytes; at most {DOCUMENT_BYTES_MAX}")]
    DocumentTooLarge(usize),
    /// A URI is malformed.
    #[error("{0:?} is not an absolute URI of at most 512 printable ASCII bytes")]
    InvalidUri(String),
    /// A service type is malformed.
    #[error("service type {0:?} is invalid: 1-64 printable ASCII bytes")]
    InvalidServiceType(String),
    /// A permission name is malformed.
    #[error(
        "permission {0:?} is invalid: 1-128 of a-z A-Z 0-9 : . _ - (not starting or ending with :)"
    )]
    InvalidPermission(String),
    /// A relationship bit set is malformed.
    #[error("relationship bits {0:#x} are invalid (five relationships: bits 0-4)")]
    InvalidRelationships(u8),
    /// A key is not a valid point.
    #[error("the key is not a valid public key of its curve")]
    InvalidKey,
    /// A controller is malformed or does not resolve.
    #[error("controller {0} is not a live did:ghost DID or an Ed25519 did:key")]
    InvalidController(String),
    /// A grant's expiry is not in the future.
    #[error("grant expiry height {expires} is not above the current height {height}")]
    ExpiryPassed {
        /// Asked expiry.
        expires: u64,
        /// This block.
        height: u64,
    },
    /// No such grant.
    #[error("{grantee} holds no {permission:?} grant from {grantor}")]
    NoSuchGrant {
        /// Holder.
        grantee: DidId,
        /// Grantor.
        grantor: DidId,
        /// Permission.
        permission: String,
    },
    /// Only the grantor or the grantee may end a grant.
    #[error("only the grantor or the grantee may revoke a grant")]
    NotGrantParty,
    /// A `jti` is too long or empty.
    #[error("jti must be 1-{JTI_BYTES_MAX} bytes")]
    InvalidJti,
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

impl IdentityError {
    /// The stable result code receipts carry (`L1Outcome::Failed { module:
    /// identity, code }`), numbered in declaration order and never reused or
    /// renumbered (a new refusal takes the next number): 1 `AlreadyExists`, 2 `NotFound`, 3 `Deactivated`, 4 `NotAuthorized`, 5 `DuplicateFragment`, 6 `UnknownFragment`, 7 `InvalidFragment`, 8 `LastCapabilityInvocation`, 9 `Soulbound`, 10 `TooMany`, 11 `DocumentTooLarge`, 12 `InvalidUri`, 13 `InvalidServiceType`, 14 `InvalidPermission`, 15 `InvalidRelationships`, 16 `InvalidKey`, 17 `InvalidController`, 18 `ExpiryPassed`, 19 `NoSuchGrant`, 20 `NotGrantParty`, 21 `InvalidJti`, 22 `State`.
    pub fn code(&self) -> u16 {
        match self {
            Self::AlreadyExists(_) => 1,
            Self::NotFound(_) => 2,
            Self::Deactivated(_) => 3,
            Self::NotAuthorized(_) => 4,
            Self::DuplicateFragment(_) => 5,
            Self::UnknownFragment { .. } => 6,
            Self::InvalidFragment(_) => 7,
            Self::LastCapabilityInvocation => 8,
            Self::Soulbound(_) => 9,
            Self::TooMany { .. } => 10,
            Self::DocumentTooLarge(_) => 11,
            Self::InvalidUri(_) => 12,
            Self::InvalidServiceType(_) => 13,
            Self::InvalidPermission(_) => 14,
            Self::InvalidRelationships(_) => 15,
            Self::InvalidKey => 16,
            Self::InvalidController(_) => 17,
            Self::ExpiryPassed { .. } => 18,
            Self::NoSuchGrant { .. } => 19,
            Self::NotGrantParty => 20,
            Self::InvalidJti => 21,
            Self::State(_) => 22,
        }
    }
}

impl From<IdentityError> for ModuleError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::State(e) => ModuleError::Storage(e),
            e => ModuleError::Refused(Refusal::new(
                ModuleId::IDENTITY,
                e.code(),
                format!("identity: {e}"),
                e,
            )),
        }
    }
}

/// The identity module as the chain drives it.
pub struct Identity;

impl Module for Identity {
    fn id(&self) -> ModuleId {
        ModuleId::IDENTITY
    }

    fn apply(
        &self,
        state: &mut Layer<'_>,
        ctx: &CallContext,
        call: &Call,
    ) -> Result<Applied, ModuleError> {
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
}

/// What an identity call runs against.
pub struct IdentityContext {
    /// The L1 chain id (DIDs derive from it).
    pub chain_id: u64,
    /// This block.
    pub stamp: Stamp,
    /// The transaction's verified sender.
    pub from: PublicKey,
}

fn did_key_of(did: &DidId) -> Vec<u8> {
    state::key(PREFIX, &[b"did", &did.0])
}

fn version_key(did: &DidId, n: u32) -> Vec<u8> {
    state::key(PREFIX, &[b"version", &did.0, &n.to_be_bytes()])
}

fn grants_key(did: &DidId) -> Vec<u8> {
    state::key(PREFIX, &[b"grants", &did.0])
}

fn revoked_key(issuer: &DidId, jti: &str) -> Vec<u8> {
    state::key(
        PREFIX,
        &[
            b"revoked",
            &issuer.0,
            blake3::hash(jti.as_bytes()).as_bytes(),
        ],
    )
}

/// A DID's record.
pub fn record(state: &dyn Read, did: &DidId) -> Result<Option<DidRecord>, StateError> {
    state::get(state, &did_key_of(did))
}

/// Version `n` of a DID's document.
pub fn version(state: &dyn Read, did: &DidId, n: u32) -> Result<Option<DidVersion>, StateError> {
    state::get(state, &version_key(did, n))
}

/// The grants `did` holds (expired ones included).
pub fn grants(state: &dyn Read, did: &DidId) -> Result<Vec<Grant>, StateError> {
    Ok(state::get(state, &grants_key(did))?.unwrap_or_default())
}

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

/// Whether the token `jti` of `issuer` is revoked.
pub fn is_revoked(state: &dyn Read, issuer: &DidId, jti: &str) -> Result<bool, StateError> {
    Ok(state.get(&revoked_key(issuer, jti))?.is_some())
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

/// Applies a document change to `current` (checked afterwards as a whole).
fn change(
    state: &dyn Read,
    did: &DidId,
    current: &mut DidRecord,
    call: &IdentityCall,
) -> Result<(), IdentityError> {
    let document = &mut current.document;
    match call {
        IdentityCall::AddMethod { method, .. } => {
            check_method(method)?;
            check_new_fragment(document, &method.fragment)?;
            document.methods.push(method.clone());
        }
        IdentityCall::RemoveMethod { fragment, .. } => {
            let before = document.methods.len();
            document.methods.retain(|m| m.fragment != *fragment);
            if document.methods.len() == before {
                return Err(unknown_method(fragment));
            }
        }
        IdentityCall::SetRelationships {
            fragment,
            relationships,
            ..
        } => {
            check_relationships(*relationships)?;
            let method = document
                .methods
                .iter_mut()
                .find(|m| m.fragment == *fragment)
                .ok_or_else(|| unknown_method(fragment))?;
            method.relationships = *relationships;
        }
        IdentityCall::RotateKey {
            old, fragment, key, ..
        } => {
            let index = document
                .methods
                .iter()
                .position(|m| m.fragment == *old)
                .ok_or_else(|| unknown_method(old))?;
            let relationships = document.methods[index].relationships;
            document.methods.remove(index);
            let method = VerificationMethod {
                fragment: fragment.clone(),
                key: *key,
                relationships,
            };
            check_method(&method)?;
            check_new_fragment(document, fragment)?;
            document.methods.insert(index, method);
        }
        IdentityCall::AddService { service, .. } => {
            check_service(service)?;
            check_new_fragment(document, &service.fragment)?;
            document.services.push(service.clone());
        }
        IdentityCall::RemoveService { fragment, .. } => {
            let before = document.services.len();
            document.services.retain(|s| s.fragment != *fragment);
            if document.services.len() == before {
                return Err(IdentityError::UnknownFragment {
                    what: "service",
                    fragment: fragment.clone(),
                });
            }
        }
        IdentityCall::SetControllers { controllers, .. } => {
            if current.soulbound && controllers.iter().any(|c| *c != Controller::Ghost(*did)) {
                return Err(IdentityError::Soulbound(*did));
            }
            let mut unique: Vec<Controller> = Vec::with_capacity(controllers.len());
            for controller in controllers {
                check_controller(state, controller)?;
                if !unique.contains(controller) {
                    unique.push(*controller);
                }
            }
            document.controllers = unique;
        }
        IdentityCall::SetAlsoKnownAs { uris, .. } => {
            if let Some(bad) = uris.iter().find(|u| !valid_uri(u)) {
                return Err(IdentityError::InvalidUri(bad.clone()));
            }
            document.also_known_as = uris.clone();
        }
        IdentityCall::Deactivate { .. } => current.deactivated = true,
        IdentityCall::Create { .. }
        | IdentityCall::Grant { .. }
        | IdentityCall::Revoke { .. }
        | IdentityCall::RevokeToken { .. } => {}
    }
    Ok(())
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

/// Whether `from` may act for `did`: the DID is live and `from` is one of its
/// Ed25519 `capabilityInvocation` keys, or a live controller's (what changing it
/// takes; the ledger asks the same of an issuer).
pub fn acts_for(state: &dyn Read, did: &DidId, from: &PublicKey) -> Result<bool, StateError> {
    match record(state, did)? {
        Some(r) if !r.deactivated => authorized(state, did, &r.document, from),
        _ => Ok(false),
    }
}

/// The key a live DID is paid at: its first Ed25519 `capabilityInvocation` method
/// (every document keeps one).
pub fn payment_key(state: &dyn Read, did: &DidId) -> Result<Option<PublicKey>, StateError> {
    let Some(r) = record(state, did)? else {
        return Ok(None);
    };
    if r.deactivated {
        return Ok(None);
    }
    Ok(r.document.methods.iter().find_map(|m| match m.key {
        KeyMaterial::Ed25519(key) if m.has(Relationship::CapabilityInvocation) => {
            Some(PublicKey(key))
        }
        _ => None,
    }))
}

/// Whether `from` may change `did` (whose current document is `document`).
fn authorized(
    state: &dyn Read,
    did: &DidId,
    document: &DidDocument,
    from: &PublicKey,
) -> Result<bool, StateError> {
    if invokes(document, from) {
        return Ok(true);
    }
    for controller in &document.controllers {
        match controller {
            Controller::Key(key) if key == from => return Ok(true),
            Controller::Ghost(other) if other != did => {
                if let Some(r) = record(state, other)?
                    && !r.deactivated
                    && invokes(&r.document, from)
                {
                    return Ok(true);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

/// Whether `key` is an Ed25519 capabilityInvocation method of `document`.
fn invokes(document: &DidDocument, key: &PublicKey) -> bool {
    document
        .methods
        .iter()
        .any(|m| m.key == KeyMaterial::Ed25519(key.0) && m.has(Relationship::CapabilityInvocation))
}

fn unknown_method(fragment: &str) -> IdentityError {
    IdentityError::UnknownFragment {
        what: "verification method",
        fragment: fragment.to_string(),
    }
}

fn check_relationships(bits: u8) -> Result<(), IdentityError> {
    if bits & !Relationship::MASK != 0 {
        return Err(IdentityError::InvalidRelationships(bits));
    }
    Ok(())
}

fn check_method(method: &VerificationMethod) -> Result<(), IdentityError> {
    if !valid_fragment(&method.fragment) {
        return Err(IdentityError::InvalidFragment(method.fragment.clone()));
    }
    check_relationships(method.relationships)?;
    method.key.validate().map_err(|_| IdentityError::InvalidKey)
}

fn check_service(service: &Service) -> Result<(), IdentityError> {
    if !valid_fragment(&service.fragment) {
        return Err(IdentityError::InvalidFragment(service.fragment.clone()));
    }
    if service.kind.is_empty()
        || service.kind.len() > SERVICE_TYPE_BYTES_MAX
        || !service.kind.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(IdentityError::InvalidServiceType(service.kind.clone()));
    }
    if !valid_uri(&service.endpoint) {
        return Err(IdentityError::InvalidUri(service.endpoint.clone()));
    }
    Ok(())
}

fn check_new_fragment(document: &DidDocument, fragment: &str) -> Result<(), IdentityError> {
    let taken = document.methods.iter().any(|m| m.fragment == fragment)
        || document.services.iter().any(|s| s.fragment == fragment);
    if taken {
        return Err(IdentityError::DuplicateFragment(fragment.to_string()));
    }
    Ok(())
}

fn check_controller(state: &dyn Read, controller: &Controller) -> Result<(), IdentityError> {
    let live = match controller {
        Controller::Ghost(did) => record(state, did)?.is_some_and(|r| !r.deactivated),
        Controller::Key(key) => KeyMaterial::Ed25519(key.0).validate().is_ok(),
    };
    if !live {
        return Err(IdentityError::InvalidController(controller.to_string()));
    }
    Ok(())
}

/// The limits and invariants every stored document keeps.
fn check_document(document: &DidDocument) -> Result<(), IdentityError> {
    let limits = [
        ("verification methods", document.methods.len(), METHODS_MAX),
        ("services", document.services.len(), SERVICES_MAX),
        ("controllers", document.controllers.len(), CONTROLLERS_MAX),
        (
            "alsoKnownAs URIs",
            document.also_known_as.len(),
            ALSO_KNOWN_AS_MAX,
        ),
    ];
    if let Some((what, _, max)) = limits.into_iter().find(|(_, n, max)| n > max) {
        return Err(IdentityError::TooMany { what, max });
    }
    if !document.methods.iter().any(|m| {
        matches!(m.key, KeyMaterial::Ed25519(_)) && m.has(Relationship::CapabilityInvocation)
    }) {
        return Err(IdentityError::LastCapabilityInvocation);
    }
    let bytes = to_bytes(document).len();
    if bytes > DOCUMENT_BYTES_MAX {
        return Err(IdentityError::DocumentTooLarge(bytes));
    }
    Ok(())
}

fn grant(
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

fn revoke(
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

// ---------------------------------------------------------------------------
// Resolution.
// ---------------------------------------------------------------------------

/// Which version to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionQuery {
    /// The current one.
    Latest,
    /// The version written at this L1 height.
    Id(u64),
    /// The version current at this time (ms since the epoch).
    Time(u64),
}

/// `application/did+ld+json`: the content type of a resolved document.
pub const DID_LD_JSON: &str = "application/did+ld+json";

/// RFC 3339 UTC without fractional seconds.
pub fn timestamp(ms: u64) -> String {
    DateTime::from_timestamp((ms / 1000) as i64, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Parses an RFC 3339 time to ms since the epoch.
pub fn parse_time(text: &str) -> Option<u64> {
    let time = DateTime::parse_from_rfc3339(text).ok()?;
    u64::try_from(time.timestamp_millis()).ok()
}

/// The W3C DID Resolution result for `did` (a `did:ghost` or `did:key`).
pub fn resolve(state: &dyn Read, did: &str, query: VersionQuery) -> Result<Value, StateError> {
    if did.starts_with("did:key:") {
        return Ok(match parse_did_key(did) {
            Ok(key) if query == VersionQuery::Latest => {
                resolution(Some(did_key_document(&key)), json!({}))
            }
            Ok(_) => failure("notFound"),
            Err(_) => failure("invalidDid"),
        });
    }
    let id = match DidId::parse(did) {
        Ok(id) => id,
        Err(IdentifierError::MethodNotSupported(_)) => return Ok(failure("methodNotSupported")),
        Err(_) => return Ok(failure("invalidDid")),
    };
    let Some(current) = record(state, &id)? else {
        return Ok(failure("notFound"));
    };
    let index = match query {
        VersionQuery::Latest => Some(current.versions.saturating_sub(1)),
        VersionQuery::Id(height) => {
            find_version(state, &id, current.versions, |v| v.stamp.height <= height)?
                .filter(|(_, v)| v.stamp.height == height)
                .map(|(n, _)| n)
        }
        VersionQuery::Time(ms) => {
            find_version(state, &id, current.versions, |v| v.stamp.time_ms <= ms)?.map(|(n, _)| n)
        }
    };
    let Some(index) = index else {
        return Ok(failure("notFound"));
    };
    let Some(chosen) = version(state, &id, index)? else {
        return Ok(failure("notFound"));
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("created".into(), timestamp(current.created.time_ms).into());
    if index > 0 {
        metadata.insert("updated".into(), timestamp(chosen.stamp.time_ms).into());
    }
    if chosen.deactivated {
        metadata.insert("deactivated".into(), true.into());
    }
    metadata.insert("versionId".into(), chosen.stamp.height.to_string().into());
    if let Some(next) = version(state, &id, index + 1)? {
        metadata.insert("nextUpdate".into(), timestamp(next.stamp.time_ms).into());
        metadata.insert("nextVersionId".into(), next.stamp.height.to_string().into());
    }
    Ok(resolution(
        Some(document_json(&id, &chosen.document)),
        Value::Object(metadata),
    ))
}

/// The last version (index and record) for which `at_or_before` holds, by binary
/// search (versions are in height and time order).
fn find_version(
    state: &dyn Read,
    did: &DidId,
    count: u32,
    at_or_before: impl Fn(&DidVersion) -> bool,
) -> Result<Option<(u32, DidVersion)>, StateError> {
    let (mut low, mut high) = (0u32, count);
    let mut found = None;
    while low < high {
        let mid = low + (high - low) / 2;
        let Some(v) = version(state, did, mid)? else {
            break;
        };
        if at_or_before(&v) {
            found = Some((mid, v));
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    Ok(found)
}

fn resolution(document: Option<Value>, metadata: Value) -> Value {
    json!({
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": document,
        "didResolutionMetadata": { "contentType": DID_LD_JSON },
        "didDocumentMetadata": metadata,
    })
}

fn failure(error: &str) -> Value {
    json!({
        "@context": "https://w3id.org/did-resolution/v1",
        "didDocument": null,
        "didResolutionMetadata": { "error": error },
        "didDocumentMetadata": {},
    })
}

/// A resolution result's `didResolutionMetadata.error`, if any.
pub fn resolution_error(result: &Value) -> Option<&str> {
    result["didResolutionMetadata"]["error"].as_str()
}

/// The DID Core JSON-LD of `did`'s `document`.
pub fn document_json(did: &DidId, document: &DidDocument) -> Value {
    let id = did.to_string();
    let mut out = serde_json::Map::new();
    out.insert(
        "@context".into(),
        json!([
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1"
        ]),
    );
    out.insert("id".into(), id.clone().into());
    if !document.controllers.is_empty() {
        let controllers: Vec<String> = document.controllers.iter().map(|c| c.to_string()).collect();
        out.insert("controller".into(), controllers.into());
    }
    if !document.also_known_as.is_empty() {
        out.insert("alsoKnownAs".into(), document.also_known_as.clone().into());
    }
    let methods: Vec<Value> = document
        .methods
        .iter()
        .map(|m| {
            json!({
                "id": format!("{id}#{}", m.fragment),
                "type": "Multikey",
                "controller": id,
                "publicKeyMultibase": m.key.to_multibase(),
            })
        })
        .collect();
    out.insert("verificationMethod".into(), methods.into());
    for relationship in Relationship::ALL {
        let refs: Vec<String> = document
            .methods
            .iter()
            .filter(|m| m.has(relationship))
            .map(|m| format!("{id}#{}", m.fragment))
            .collect();
        if !refs.is_empty() {
            out.insert(relationship.property().into(), refs.into());
        }
    }
    if !document.services.is_empty() {
        let services: Vec<Value> = document
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": format!("{id}#{}", s.fragment),
                    "type": s.kind,
                    "serviceEndpoint": s.endpoint,
                })
            })
            .collect();
        out.insert("service".into(), services.into());
    }
    Value::Object(out)
}

/// The document of an Ed25519 `did:key` (did:key spec, without the derived X25519
/// keyAgreement key).
pub fn did_key_document(key: &PublicKey) -> Value {
    let did = did_key(key);
    let multibase = KeyMaterial::Ed25519(key.0).to_multibase();
    let vm = format!("{did}#{multibase}");
    json!({
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1"
        ],
        "id": did,
        "verificationMethod": [{
            "id": vm,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase,
        }],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityInvocation": [vm],
        "capabilityDelegation": [vm],
    })
}

// ---------------------------------------------------------------------------
// Access tokens.
// ---------------------------------------------------------------------------

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

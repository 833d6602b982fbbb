//! Who may act for a DID: its Ed25519 `capabilityInvocation` keys and its live
//! controllers' ([`acts_for`]), and the key a DID is paid at ([`payment_key`]).

use ghostd_types::identity::{Controller, DidDocument, DidId, KeyMaterial, Relationship};
use ghostplane_primitives::PublicKey;

use super::store::record;
use ghostd_module::state::{Read, StateError};

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
pub(super) fn authorized(
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

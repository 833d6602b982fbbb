//! The identity module's state layout (prefix `identity`: the key of each record)
//! and the plain reads of its records: DID records, versions, grants held,
//! revoked tokens.

use ghostd_types::identity::{DidId, DidRecord, DidVersion, Grant};

use ghostd_module::state::{self, Read, StateError};

const PREFIX: &str = "identity";

pub(super) fn did_key_of(did: &DidId) -> Vec<u8> {
    state::key(PREFIX, &[b"did", &did.0])
}

pub(super) fn version_key(did: &DidId, n: u32) -> Vec<u8> {
    state::key(PREFIX, &[b"version", &did.0, &n.to_be_bytes()])
}

pub(super) fn grants_key(did: &DidId) -> Vec<u8> {
    state::key(PREFIX, &[b"grants", &did.0])
}

pub(super) fn revoked_key(issuer: &DidId, jti: &str) -> Vec<u8> {
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

/// Whether the token `jti` of `issuer` is revoked.
pub fn is_revoked(state: &dyn Read, issuer: &DidId, jti: &str) -> Result<bool, StateError> {
    Ok(state.get(&revoked_key(issuer, jti))?.is_some())
}

//! The read side of documents: W3C DID Resolution results ([`resolve`]) for
//! `did:ghost` (any version, by id or time) and `did:key`, the DID Core JSON-LD of
//! a document, and the RFC 3339 timestamps they carry.

use chrono::{DateTime, SecondsFormat};
use ghostd_types::identity::{
    DidDocument, DidId, DidVersion, IdentifierError, KeyMaterial, Relationship, did_key,
    parse_did_key,
};
use ghostplane_primitives::PublicKey;
use serde_json::{Value, json};

use super::store::{record, version};
use ghostd_module::state::{Read, StateError};

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

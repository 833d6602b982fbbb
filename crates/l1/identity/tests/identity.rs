//! The identity module end to end on a real node: create → resolve, rotation and
//! historical versions, deactivation, every refusal the issue lists (each changes
//! nothing but the sender's nonce), controllers, permissions, access tokens, the
//! W3C DID Core data model of every document produced, and the HTTP resolver route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::node as common;

use std::time::Duration;

use common::{Fixture, T0_MS, fixture, tx};
use ghostd::modules::CallError;
use ghostd::{L1_DEVNET_CHAIN_ID, L1Outcome, SubmitError};
use ghostd_identity::{self as identity, VersionQuery};
use ghostd_types::identity::jwt::{
    self, Audience, Claims, HeldPermission, TokenError, TokenKey, VerifiedToken,
};
use ghostd_types::identity::{
    Controller, DidId, IdentityCall, KeyMaterial, METHODS_MAX, Relationship, Service,
    VerificationMethod, did_key,
};
use ghostplane_primitives::Keypair;
use ghostplane_primitives::clock::Clock;
use serde_json::Value;

/// Identity-specific checks on the shared fixture.
trait IdentityFixture {
    fn refused(&self, key: &Keypair, call: IdentityCall) -> String;
    fn resolve(&self, did: &str, query: VersionQuery) -> Value;
    fn document(&self, did: &DidId) -> Value;
    fn verify(&self, token: &str, aud: Option<&str>) -> Result<Claims, TokenError>;
    fn verify_from(
        &self,
        token: &str,
        aud: Option<&str>,
        grantors: &[DidId],
    ) -> Result<VerifiedToken, TokenError>;
}

impl IdentityFixture for Fixture {
    /// Submits `call`, which must be refused with an identity error; checks that
    /// nothing but (at most) the nonce changed.
    fn refused(&self, key: &Keypair, call: IdentityCall) -> String {
        let did = call.did();
        let before = did.map(|d| self.resolve(&d.to_string(), VersionQuery::Latest));
        let message = match self.node.submit(tx(key, self.nonce(key), call.into())) {
            Err(SubmitError::Refused(CallError::Identity(e))) => e.to_string(),
            other => panic!("expected an identity refusal, got {other:?}"),
        };
        self.seal();
        if let Some(did) = did {
            assert_eq!(
                before.unwrap(),
                self.resolve(&did.to_string(), VersionQuery::Latest)
            );
        }
        message
    }

    fn resolve(&self, did: &str, query: VersionQuery) -> Value {
        self.node
            .read(|s| identity::resolve(s, did, query))
            .unwrap()
    }

    fn document(&self, did: &DidId) -> Value {
        let result = self.resolve(&did.to_string(), VersionQuery::Latest);
        check_resolution(&result);
        result["didDocument"].clone()
    }

    /// Verifies with the default grantor rule (the issuer, unless it is the subject).
    fn verify(&self, token: &str, aud: Option<&str>) -> Result<Claims, TokenError> {
        let height = self.node.head().number;
        let now = self.clock.unix_ms() / 1000;
        self.node
            .read(|s| identity::verify_token(s, token, aud, now, height))
            .unwrap()
            .map(|verified| verified.claims)
    }

    /// Verifies accepting permissions granted by `grantors` only.
    fn verify_from(
        &self,
        token: &str,
        aud: Option<&str>,
        grantors: &[DidId],
    ) -> Result<VerifiedToken, TokenError> {
        let height = self.node.head().number;
        let now = self.clock.unix_ms() / 1000;
        self.node
            .read(|s| identity::verify_token_from(s, token, aud, grantors, now, height))
            .unwrap()
    }
}

fn did_of(key: &Keypair) -> DidId {
    DidId::derive(L1_DEVNET_CHAIN_ID, &key.public_key())
}

fn ed(key: &Keypair) -> KeyMaterial {
    KeyMaterial::Ed25519(key.public_key().0)
}

fn method(fragment: &str, key: KeyMaterial, relationships: &[Relationship]) -> VerificationMethod {
    VerificationMethod {
        fragment: fragment.into(),
        key,
        relationships: Relationship::bits(relationships),
    }
}

fn secp() -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&[42; 32]).unwrap()
}

fn secp_key() -> KeyMaterial {
    KeyMaterial::Secp256k1(jwt::compressed(secp().verifying_key()))
}

// ---------------------------------------------------------------------------
// The W3C data model checks.
// ---------------------------------------------------------------------------

/// DID syntax (DID Core §3.1): `did:` method-name `:` method-specific-id.
fn is_did(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("did:") else {
        return false;
    };
    let Some((method, id)) = rest.split_once(':') else {
        return false;
    };
    let idchar = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'%');
    !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !id.is_empty()
        && !id.ends_with(':')
        && id.bytes().all(|b| idchar(b) || b == b':')
}

/// A DID URL with a fragment: `<did>#<fragment>`.
fn is_did_url(text: &str) -> bool {
    let Some((did, fragment)) = text.split_once('#') else {
        return false;
    };
    is_did(did)
        && !fragment.is_empty()
        && fragment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b))
}

fn is_timestamp(value: &Value) -> bool {
    // XML Schema dateTime normalized to UTC, no fractional seconds.
    let Some(text) = value.as_str() else {
        return false;
    };
    text.len() == 20
        && text.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        && !text.contains('.')
}

/// Checks a document against the DID Core 1.0 data model: required properties,
/// DID / DID URL syntax of every id, and relationship references that resolve
/// within the document.
fn check_document(doc: &Value) {
    let contexts = doc["@context"].as_array().expect("@context is an array");
    assert_eq!(contexts[0], "https://www.w3.org/ns/did/v1");
    let id = doc["id"].as_str().expect("id");
    assert!(is_did(id), "{id}");
    if let Some(controllers) = doc.get("controller") {
        for c in controllers.as_array().unwrap() {
            assert!(is_did(c.as_str().unwrap()), "{c}");
        }
    }
    if let Some(aka) = doc.get("alsoKnownAs") {
        for uri in aka.as_array().unwrap() {
            assert!(uri.as_str().unwrap().contains(':'));
        }
    }
    let mut method_ids = Vec::new();
    for vm in doc["verificationMethod"].as_array().unwrap() {
        let vm_id = vm["id"].as_str().unwrap();
        assert!(is_did_url(vm_id), "{vm_id}");
        assert!(vm_id.starts_with(id));
        assert_eq!(vm["type"], "Multikey");
        assert!(is_did(vm["controller"].as_str().unwrap()));
        let multibase = vm["publicKeyMultibase"].as_str().unwrap();
        KeyMaterial::from_multibase(multibase).unwrap();
        assert!(!method_ids.contains(&vm_id), "duplicate id {vm_id}");
        method_ids.push(vm_id);
    }
    for relationship in Relationship::ALL {
        if let Some(refs) = doc.get(relationship.property()) {
            for r in refs.as_array().unwrap() {
                let r = r.as_str().unwrap();
                assert!(
                    method_ids.contains(&r),
                    "{r} does not resolve in the document"
                );
            }
        }
    }
    if let Some(services) = doc.get("service") {
        for s in services.as_array().unwrap() {
            let sid = s["id"].as_str().unwrap();
            assert!(is_did_url(sid), "{sid}");
            assert!(!method_ids.contains(&sid), "service id {sid} is a method's");
            assert!(s["type"].is_string());
            assert!(s["serviceEndpoint"].is_string());
        }
    }
}

/// Checks a DID Resolution result's shape (and its document, if any).
fn check_resolution(result: &Value) {
    assert_eq!(result["@context"], "https://w3id.org/did-resolution/v1");
    let resolution = &result["didResolutionMetadata"];
    let metadata = result["didDocumentMetadata"].as_object().unwrap();
    match resolution.get("error") {
        Some(error) => {
            assert!(result["didDocument"].is_null());
            assert!(
                [
                    "invalidDid",
                    "notFound",
                    "methodNotSupported",
                    "invalidOptions"
                ]
                .contains(&error.as_str().unwrap())
            );
        }
        None => {
            assert_eq!(resolution["contentType"], "application/did+ld+json");
            check_document(&result["didDocument"]);
            for key in ["created", "updated", "nextUpdate"] {
                if let Some(value) = metadata.get(key) {
                    assert!(is_timestamp(value), "{key}: {value}");
                }
            }
            for key in ["versionId", "nextVersionId"] {
                if let Some(value) = metadata.get(key) {
                    assert!(value.as_str().unwrap().parse::<u64>().is_ok());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

#[test]
fn create_resolve_rotate_history_and_deactivate() {
    let f = fixture();
    let alice = Keypair::dev(0);
    let did = did_of(&alice);
    assert_eq!(
        identity::resolution_error(&f.resolve(&did.to_string(), VersionQuery::Latest)),
        Some("notFound")
    );
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    let created_at = f.node.head().number;
    let doc = f.document(&did);
    assert_eq!(doc["id"], did.to_string());
    let key1 = format!("{did}#key-1");
    assert_eq!(doc["verificationMethod"][0]["id"], key1);
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyMultibase"],
        ed(&alice).to_multibase()
    );
    assert_eq!(doc["capabilityInvocation"][0], key1);
    assert!(doc.get("keyAgreement").is_none());
    let meta = &f.resolve(&did.to_string(), VersionQuery::Latest)["didDocumentMetadata"];
    assert_eq!(meta["versionId"], created_at.to_string());
    assert_eq!(meta["created"], "2026-12-05T00:00:01Z");
    assert!(meta.get("updated").is_none());

    // Rotate key-1 out for a new key: atomically, with its relationships.
    let bob_key = Keypair::dev(1);
    f.ok(
        &alice,
        IdentityCall::RotateKey {
            did,
            old: "key-1".into(),
            fragment: "key-2".into(),
            key: ed(&bob_key),
        },
    );
    let rotated_at = f.node.head().number;
    let doc = f.document(&did);
    assert_eq!(doc["verificationMethod"].as_array().unwrap().len(), 1);
    assert_eq!(doc["capabilityInvocation"][0], format!("{did}#key-2"));
    // The old key can no longer change the DID; the new one can.
    let refusal = f.refused(
        &alice,
        IdentityCall::SetAlsoKnownAs {
            did,
            uris: vec!["https://alice.example".into()],
        },
    );
    assert!(
        refusal.contains("not a capabilityInvocation key"),
        "{refusal}"
    );
    f.ok(
        &bob_key,
        IdentityCall::AddService {
            did,
            service: Service {
                fragment: "hub".into(),
                kind: "LinkedDomains".into(),
                endpoint: "https://alice.example".into(),
            },
        },
    );
    let serviced_at = f.node.head().number;

    // History: the creation version still has the old key; metadata chains.
    let old = f.resolve(&did.to_string(), VersionQuery::Id(created_at));
    check_resolution(&old);
    assert_eq!(old["didDocument"]["verificationMethod"][0]["id"], key1);
    assert_eq!(
        old["didDocumentMetadata"]["nextVersionId"],
        rotated_at.to_string()
    );
    assert_eq!(
        old["didDocumentMetadata"]["nextUpdate"],
        "2026-12-05T00:00:02Z"
    );
    let middle = f.resolve(&did.to_string(), VersionQuery::Id(rotated_at));
    assert_eq!(
        middle["didDocumentMetadata"]["updated"],
        "2026-12-05T00:00:02Z"
    );
    assert!(middle["didDocument"].get("service").is_none());
    // By time: a moment after the rotation, before the service.
    let by_time = f.resolve(&did.to_string(), VersionQuery::Time(T0_MS + 2_500));
    assert_eq!(
        by_time["didDocumentMetadata"]["versionId"],
        rotated_at.to_string()
    );
    // No version at a height where nothing changed; none before creation.
    assert_eq!(
        identity::resolution_error(
            &f.resolve(&did.to_string(), VersionQuery::Id(created_at + 100))
        ),
        Some("notFound")
    );
    assert_eq!(
        identity::resolution_error(&f.resolve(&did.to_string(), VersionQuery::Time(T0_MS))),
        Some("notFound")
    );
    let latest = f.resolve(&did.to_string(), VersionQuery::Latest);
    assert_eq!(
        latest["didDocumentMetadata"]["versionId"],
        serviced_at.to_string()
    );
    assert!(latest["didDocumentMetadata"].get("nextVersionId").is_none());

    // Deactivation is permanent.
    f.ok(&bob_key, IdentityCall::Deactivate { did });
    let gone = f.resolve(&did.to_string(), VersionQuery::Latest);
    check_resolution(&gone);
    assert_eq!(gone["didDocumentMetadata"]["deactivated"], true);
    let refusal = f.refused(&bob_key, IdentityCall::Deactivate { did });
    assert!(refusal.contains("deactivated"), "{refusal}");
    let refusal = f.refused(
        &bob_key,
        IdentityCall::RemoveService {
            did,
            fragment: "hub".into(),
        },
    );
    assert!(refusal.contains("deactivated"), "{refusal}");
    // The version before deactivation still resolves, not deactivated.
    let before = f.resolve(&did.to_string(), VersionQuery::Id(serviced_at));
    assert!(before["didDocumentMetadata"].get("deactivated").is_none());
}

#[test]
fn every_refusal_is_typed_and_changes_nothing() {
    let f = fixture();
    let alice = Keypair::dev(0);
    let mallory = Keypair::dev(2);
    let did = did_of(&alice);
    f.ok(&alice, IdentityCall::Create { soulbound: true });
    f.ok(&mallory, IdentityCall::Create { soulbound: false });

    let r = f.refused(&alice, IdentityCall::Create { soulbound: false });
    assert!(r.contains("already exists"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("key-1", secp_key(), &[Relationship::AssertionMethod]),
        },
    );
    assert!(r.contains("already used"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("bad fragment", secp_key(), &[]),
        },
    );
    assert!(r.contains("fragment"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("k", KeyMaterial::Secp256k1([5; 33]), &[]),
        },
    );
    assert!(r.contains("not a valid public key"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::RemoveMethod {
            did,
            fragment: "key-1".into(),
        },
    );
    assert!(
        r.contains("at least one Ed25519 capabilityInvocation"),
        "{r}"
    );
    let r = f.refused(
        &alice,
        IdentityCall::SetRelationships {
            did,
            fragment: "key-1".into(),
            relationships: Relationship::bits(&[Relationship::Authentication]),
        },
    );
    assert!(r.contains("capabilityInvocation"), "{r}");
    // A secp256k1 key cannot sign L1 transactions, so it does not count.
    f.ok(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("k1", secp_key(), &[Relationship::CapabilityInvocation]),
        },
    );
    let r = f.refused(
        &alice,
        IdentityCall::RemoveMethod {
            did,
            fragment: "key-1".into(),
        },
    );
    assert!(r.contains("capabilityInvocation"), "{r}");
    // Signed by a key that is no controller's.
    let r = f.refused(&mallory, IdentityCall::Deactivate { did });
    assert!(r.contains("not a capabilityInvocation key"), "{r}");
    // Soulbound: the controller set may not name another party.
    let r = f.refused(
        &alice,
        IdentityCall::SetControllers {
            did,
            controllers: vec![Controller::Ghost(did_of(&mallory))],
        },
    );
    assert!(r.contains("soulbound"), "{r}");
    f.ok(
        &alice,
        IdentityCall::SetControllers {
            did,
            controllers: vec![Controller::Ghost(did)],
        },
    );
    // Unknown DID, unknown fragment, bad URI, bad permission.
    let nobody = did_of(&Keypair::dev(7));
    let r = f.refused(&alice, IdentityCall::Deactivate { did: nobody });
    assert!(r.contains("does not exist"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::RemoveService {
            did,
            fragment: "none".into(),
        },
    );
    assert!(r.contains("no service"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::SetAlsoKnownAs {
            did,
            uris: vec!["not a uri".into()],
        },
    );
    assert!(r.contains("URI"), "{r}");
    let r = f.refused(
        &alice,
        IdentityCall::Grant {
            did,
            grantee: did_of(&mallory),
            permission: "bad permission".into(),
            expires: None,
        },
    );
    assert!(r.contains("permission"), "{r}");
    // The method limit.
    for i in 0..METHODS_MAX - 2 {
        f.ok(
            &alice,
            IdentityCall::AddMethod {
                did,
                method: method(&format!("m{i}"), ed(&Keypair::dev(100 + i as u32)), &[]),
            },
        );
    }
    let r = f.refused(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("one-too-many", ed(&Keypair::dev(200)), &[]),
        },
    );
    assert!(r.contains("at most 32"), "{r}");

    // A call that passes admission but fails in its block (its predecessor in the
    // same block deactivates the DID): the receipt carries the error, only the
    // nonce moves.
    let n = f.nonce(&mallory);
    let mallory_did = did_of(&mallory);
    f.node
        .submit(tx(
            &mallory,
            n,
            IdentityCall::Deactivate { did: mallory_did }.into(),
        ))
        .unwrap();
    let late = f
        .node
        .submit(tx(
            &mallory,
            n + 1,
            IdentityCall::SetAlsoKnownAs {
                did: mallory_did,
                uris: vec!["https://m.example".into()],
            }
            .into(),
        ))
        .unwrap();
    f.seal();
    match f.node.receipt(&late).unwrap().unwrap().outcome {
        L1Outcome::Failed { message: e, .. } => assert!(e.contains("deactivated"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.nonce(&mallory), n + 2);
    let doc = f.document(&mallory_did);
    assert!(doc.get("alsoKnownAs").is_none());
}

#[test]
fn controllers_act_for_a_did() {
    let f = fixture();
    let alice = Keypair::dev(0);
    let carol = Keypair::dev(3);
    let dave = Keypair::dev(4);
    let did = did_of(&alice);
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    f.ok(&carol, IdentityCall::Create { soulbound: false });
    // A did:ghost controller and a did:key controller.
    f.ok(
        &alice,
        IdentityCall::SetControllers {
            did,
            controllers: vec![
                Controller::Ghost(did_of(&carol)),
                Controller::Key(dave.public_key()),
            ],
        },
    );
    let doc = f.document(&did);
    assert_eq!(doc["controller"][0], did_of(&carol).to_string());
    assert_eq!(doc["controller"][1], did_key(&dave.public_key()));
    f.ok(
        &carol,
        IdentityCall::SetAlsoKnownAs {
            did,
            uris: vec!["https://alice.example".into()],
        },
    );
    f.ok(
        &dave,
        IdentityCall::AddService {
            did,
            service: Service {
                fragment: "inbox".into(),
                kind: "DIDCommMessaging".into(),
                endpoint: "https://alice.example/inbox".into(),
            },
        },
    );
    let doc = f.document(&did);
    assert_eq!(doc["alsoKnownAs"][0], "https://alice.example");
    assert_eq!(doc["service"][0]["id"], format!("{did}#inbox"));
    // A deactivated controller no longer acts.
    f.ok(
        &carol,
        IdentityCall::Deactivate {
            did: did_of(&carol),
        },
    );
    f.refused(&carol, IdentityCall::SetAlsoKnownAs { did, uris: vec![] });
    // A controller that does not exist is refused.
    let r = f.refused(
        &alice,
        IdentityCall::SetControllers {
            did,
            controllers: vec![Controller::Ghost(did_of(&Keypair::dev(6)))],
        },
    );
    assert!(r.contains("controller"), "{r}");

    // did:key resolves locally.
    let result = f.resolve(&did_key(&dave.public_key()), VersionQuery::Latest);
    check_resolution(&result);
    assert_eq!(
        result["didDocument"]["verificationMethod"][0]["publicKeyMultibase"],
        ed(&dave).to_multibase()
    );
}

#[test]
fn permissions_are_granted_expire_and_are_revoked() {
    let f = fixture();
    let (issuer, holder) = (Keypair::dev(0), Keypair::dev(1));
    let (gi, gh) = (did_of(&issuer), did_of(&holder));
    f.ok(&issuer, IdentityCall::Create { soulbound: false });
    f.ok(&holder, IdentityCall::Create { soulbound: false });
    let held = |permission: &str, grantor: Option<&DidId>| {
        let height = f.node.head().number;
        f.node
            .read(|s| identity::has_permission(s, &gh, permission, grantor, height))
            .unwrap()
    };
    assert!(held("ledger:mint:GCC", None).is_empty());
    let expires = f.node.head().number + 3;
    f.ok(
        &issuer,
        IdentityCall::Grant {
            did: gi,
            grantee: gh,
            permission: "ledger:mint:GCC".into(),
            expires: Some(expires),
        },
    );
    assert_eq!(held("ledger:mint:GCC", None), vec![gi]);
    assert_eq!(held("ledger:mint:GCC", Some(&gi)), vec![gi]);
    assert!(held("ledger:mint:GCC", Some(&gh)).is_empty());
    assert!(held("naming:register:gcc", None).is_empty());
    // Only the grantor (or grantee) may revoke.
    let stranger = Keypair::dev(5);
    f.ok(&stranger, IdentityCall::Create { soulbound: false });
    let r = f.refused(
        &stranger,
        IdentityCall::Revoke {
            did: did_of(&stranger),
            grantee: gh,
            grantor: gi,
            permission: "ledger:mint:GCC".into(),
        },
    );
    assert!(r.contains("grantor or the grantee"), "{r}");
    // Expiry.
    while f.node.head().number < expires {
        f.seal();
    }
    assert!(held("ledger:mint:GCC", None).is_empty());
    // Granted again without expiry, then revoked by the grantor.
    let grant = IdentityCall::Grant {
        did: gi,
        grantee: gh,
        permission: "naming:register:gcc".into(),
        expires: None,
    };
    f.ok(&issuer, grant.clone());
    assert_eq!(held("naming:register:gcc", None), vec![gi]);
    f.ok(
        &issuer,
        IdentityCall::Revoke {
            did: gi,
            grantee: gh,
            grantor: gi,
            permission: "naming:register:gcc".into(),
        },
    );
    assert!(held("naming:register:gcc", None).is_empty());
    // Renounced by the grantee.
    f.ok(&issuer, grant);
    f.ok(
        &holder,
        IdentityCall::Revoke {
            did: gh,
            grantee: gh,
            grantor: gi,
            permission: "naming:register:gcc".into(),
        },
    );
    assert!(held("naming:register:gcc", None).is_empty());
    let r = f.refused(
        &holder,
        IdentityCall::Revoke {
            did: gh,
            grantee: gh,
            grantor: gi,
            permission: "naming:register:gcc".into(),
        },
    );
    assert!(r.contains("holds no"), "{r}");
    // A deactivated grantor's grants no longer hold.
    f.ok(
        &issuer,
        IdentityCall::Grant {
            did: gi,
            grantee: gh,
            permission: "x:y".into(),
            expires: None,
        },
    );
    assert_eq!(held("x:y", None), vec![gi]);
    f.ok(&issuer, IdentityCall::Deactivate { did: gi });
    assert!(held("x:y", None).is_empty());
}

fn claims(iss: &DidId, permissions: &[&str], now_s: u64) -> Claims {
    Claims {
        iss: iss.to_string(),
        sub: iss.to_string(),
        aud: Audience::One("https://api.example".into()),
        exp: now_s + 60,
        nbf: now_s,
        iat: now_s,
        jti: "token-1".into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn tokens_verify_until_rotated_expired_revoked_or_overclaimed() {
    let f = fixture();
    let (alice, authority) = (Keypair::dev(0), Keypair::dev(3));
    let (did, z) = (did_of(&alice), did_of(&authority));
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    f.ok(&authority, IdentityCall::Create { soulbound: false });
    // An authority grants the DID the permission its first token claims; the
    // verifier accepts that authority's grants.
    f.ok(
        &authority,
        IdentityCall::Grant {
            did: z,
            grantee: did,
            permission: "ledger:mint:GCC".into(),
            expires: None,
        },
    );
    let now = f.clock.unix_ms() / 1000;
    let aud = Some("https://api.example");

    // EdDSA with key-1, and ES256K with a secp256k1 assertion key.
    let token = jwt::sign(
        &claims(&did, &["ledger:mint:GCC"], now),
        &format!("{did}#key-1"),
        &TokenKey::Ed25519(Keypair::dev(0)),
    );
    let verified = f.verify_from(&token, aud, &[z]).unwrap();
    assert_eq!(verified.claims.sub, did.to_string());
    assert_eq!(
        verified.grants,
        vec![HeldPermission {
            permission: "ledger:mint:GCC".into(),
            grantor: z.to_string(),
        }]
    );
    f.ok(
        &alice,
        IdentityCall::AddMethod {
            did,
            method: method("k1", secp_key(), &[Relationship::AssertionMethod]),
        },
    );
    let es = jwt::sign(
        &claims(&did, &[], now),
        &format!("{did}#k1"),
        &TokenKey::Secp256k1(secp()),
    );
    f.verify(&es, aud).unwrap();
    assert_eq!(
        f.verify(&es, Some("https://other.example")),
        Err(TokenError::WrongAudience("https://other.example".into()))
    );
    // A permission the DID lacks.
    let greedy = jwt::sign(
        &claims(&did, &["ledger:mint:GCC", "ledger:burn:GCC"], now),
        &format!("{did}#key-1"),
        &TokenKey::Ed25519(Keypair::dev(0)),
    );
    assert_eq!(
        f.verify_from(&greedy, aud, &[z]),
        Err(TokenError::PermissionNotHeld("ledger:burn:GCC".into()))
    );
    // The secp256k1 key taken out of assertionMethod: refused.
    f.ok(
        &alice,
        IdentityCall::SetRelationships {
            did,
            fragment: "k1".into(),
            relationships: 0,
        },
    );
    assert!(matches!(
        f.verify(&es, aud),
        Err(TokenError::KeyNotAuthorized(_))
    ));
    // Revoked by jti.
    f.ok(
        &alice,
        IdentityCall::RevokeToken {
            did,
            jti: "token-1".into(),
        },
    );
    assert_eq!(
        f.verify(&token, aud),
        Err(TokenError::Revoked("token-1".into()))
    );
    // Another token of key-1, then key-1 rotated out.
    let fresh = jwt::sign(
        &Claims {
            jti: "token-2".into(),
            ..claims(&did, &[], now)
        },
        &format!("{did}#key-1"),
        &TokenKey::Ed25519(Keypair::dev(0)),
    );
    f.verify(&fresh, aud).unwrap();
    f.ok(
        &alice,
        IdentityCall::RotateKey {
            did,
            old: "key-1".into(),
            fragment: "key-2".into(),
            key: ed(&Keypair::dev(1)),
        },
    );
    assert!(matches!(
        f.verify(&fresh, aud),
        Err(TokenError::UnknownKey(_))
    ));
    // Expiry: a key-2 token, valid now, refused after exp.
    let short = jwt::sign(
        &Claims {
            jti: "token-3".into(),
            ..claims(&did, &[], now)
        },
        &format!("{did}#key-2"),
        &TokenKey::Ed25519(Keypair::dev(1)),
    );
    f.verify(&short, aud).unwrap();
    // A key-2 signature presented as key-1's (which no longer exists) or
    // tampered: refused.
    let mut forged = short.clone();
    forged.pop();
    forged.push(if short.ends_with('A') { 'B' } else { 'A' });
    assert!(f.verify(&forged, aud).is_err());
    f.clock.advance(Duration::from_secs(120));
    assert!(matches!(
        f.verify(&short, aud),
        Err(TokenError::Expired { .. })
    ));
    // Not yet valid.
    let future = jwt::sign(
        &Claims {
            nbf: now + 10_000,
            exp: now + 20_000,
            ..claims(&did, &[], now)
        },
        &format!("{did}#key-2"),
        &TokenKey::Ed25519(Keypair::dev(1)),
    );
    assert!(matches!(
        f.verify(&future, aud),
        Err(TokenError::NotYetValid { .. })
    ));
    // Deactivated issuer.
    f.ok(&Keypair::dev(1), IdentityCall::Deactivate { did });
    assert!(matches!(
        f.verify(&future, aud),
        Err(TokenError::IssuerDeactivated(_))
    ));
}

/// Anyone may grant any permission name to anyone, itself included, so a grant
/// proves something only through who made it. A token's permissions count when its
/// issuer granted them (and is not the subject itself), or when a grantor the
/// verifier names did; the verdict names the grantor of each.
#[test]
fn self_granted_or_stranger_granted_permissions_do_not_verify() {
    let f = fixture();
    let (alice, authority, stranger) = (Keypair::dev(0), Keypair::dev(2), Keypair::dev(3));
    let (a, z, s) = (did_of(&alice), did_of(&authority), did_of(&stranger));
    for key in [&alice, &authority, &stranger] {
        f.ok(key, IdentityCall::Create { soulbound: false });
    }
    let grant = |grantor: &Keypair, did: DidId, permission: &str| {
        f.ok(
            grantor,
            IdentityCall::Grant {
                did,
                grantee: a,
                permission: permission.into(),
                expires: None,
            },
        );
    };
    let now = f.clock.unix_ms() / 1000;
    let aud = Some("https://api.example");
    let sign_as = |key: &Keypair, iss: &DidId, jti: &str, permissions: &[&str]| {
        let claims = Claims {
            sub: a.to_string(),
            jti: jti.into(),
            ..claims(iss, permissions, now)
        };
        jwt::sign(
            &claims,
            &format!("{iss}#key-1"),
            &TokenKey::Ed25519(key.clone()),
        )
    };

    // Alice grants herself a permission and signs a token about herself: the
    // permission is not held (the case: it verified as valid).
    grant(&alice, a, "ledger:mint:GCC");
    let own = sign_as(&alice, &a, "own", &["ledger:mint:GCC"]);
    assert_eq!(
        f.verify(&own, aud),
        Err(TokenError::GrantorNotAccepted {
            permission: "ledger:mint:GCC".into(),
            grantors: vec![a.to_string()],
        }),
        "a self-granted permission verified"
    );
    // Nor when the verifier names the authority it trusts.
    assert!(matches!(
        f.verify_from(&own, aud, &[z]),
        Err(TokenError::GrantorNotAccepted { .. })
    ));
    // A stranger's grant does not make the authority's token about alice hold.
    grant(&stranger, s, "naming:register:gcc");
    let by_authority = sign_as(&authority, &z, "z-1", &["naming:register:gcc"]);
    assert_eq!(
        f.verify(&by_authority, aud),
        Err(TokenError::GrantorNotAccepted {
            permission: "naming:register:gcc".into(),
            grantors: vec![s.to_string()],
        }),
        "a stranger's grant verified for the issuer's token"
    );
    // The issuer's own grant does, and the result names it.
    grant(&authority, z, "naming:register:gcc");
    assert_eq!(
        f.verify_from(&by_authority, aud, &[]).unwrap().grants,
        vec![HeldPermission {
            permission: "naming:register:gcc".into(),
            grantor: z.to_string(),
        }]
    );
    // Alice's own token holds what the authority granted her when the verifier
    // names the authority, not otherwise.
    let own_by_z = sign_as(&alice, &a, "own-2", &["naming:register:gcc"]);
    assert!(matches!(
        f.verify(&own_by_z, aud),
        Err(TokenError::GrantorNotAccepted { .. })
    ));
    assert_eq!(
        f.verify_from(&own_by_z, aud, &[z]).unwrap().grants[0].grantor,
        z.to_string()
    );
    // A verifier that names alice herself accepts her grant to herself: its choice.
    assert_eq!(
        f.verify_from(&own, aud, &[a]).unwrap().grants[0].grantor,
        a.to_string()
    );
    // A permission nobody granted.
    let unheld = sign_as(&authority, &z, "z-2", &["x:y"]);
    assert_eq!(
        f.verify(&unheld, aud),
        Err(TokenError::PermissionNotHeld("x:y".into()))
    );
}

#[test]
fn malformed_dids_resolve_to_typed_errors() {
    let f = fixture();
    for (did, error) in [
        ("did:ghost:0OIl", "invalidDid"),
        ("did:ghost:", "invalidDid"),
        ("not a did", "invalidDid"),
        ("did:key:z6Mk", "invalidDid"),
        ("did:web:example.com", "methodNotSupported"),
        ("did:ghost:1111111111111111", "notFound"),
    ] {
        let result = f.resolve(did, VersionQuery::Latest);
        check_resolution(&result);
        assert_eq!(identity::resolution_error(&result), Some(error), "{did}");
    }
}

/// `GET /1.0/identifiers/{did}` and the `identity_*` JSON-RPC methods on a served
/// node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_over_http_and_json_rpc() {
    use ghostd_types::api::{
        IdentityApiClient, ResolveOptions, VERIFY_GRANTORS_MAX, VerifyOptions, VersionId,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let f = fixture();
    let alice = Keypair::dev(0);
    let did = did_of(&alice);
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    let created_at = f.node.head().number;
    let (_server, addr) = ghostd::rpc::serve(&f.node).await.unwrap();

    let get = |path: String| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let status: u16 = response[9..12].parse().unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
        (status, body)
    };
    let (status, body) = get(format!("/1.0/identifiers/{did}")).await;
    assert_eq!(status, 200, "{body}");
    let result: Value = serde_json::from_str(&body).unwrap();
    check_resolution(&result);
    assert_eq!(result["didDocument"]["id"], did.to_string());
    let encoded = did.to_string().replace(':', "%3A");
    let (status, _) = get(format!("/1.0/identifiers/{encoded}?versionId={created_at}")).await;
    assert_eq!(status, 200);
    let (status, body) = get("/1.0/identifiers/did:ghost:0OIl".into()).await;
    assert_eq!(status, 400);
    assert!(body.contains("invalidDid"));
    let (status, _) = get("/1.0/identifiers/did:ghost:1111111111111111".into()).await;
    assert_eq!(status, 404);
    let (status, _) = get("/1.0/identifiers/did:web:example.com".into()).await;
    assert_eq!(status, 501);

    let client = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(format!("http://{addr}"))
        .unwrap();
    let result = client
        .resolve(
            did.to_string(),
            Some(ResolveOptions {
                version_id: Some(VersionId::Number(created_at)),
                version_time: None,
            }),
        )
        .await
        .unwrap();
    check_resolution(&result);
    let malformed = client.resolve("did:ghost:!!".into(), None).await.unwrap();
    assert_eq!(identity::resolution_error(&malformed), Some("invalidDid"));
    let bad_time = client
        .resolve(
            did.to_string(),
            Some(ResolveOptions {
                version_id: None,
                version_time: Some("yesterday".into()),
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        identity::resolution_error(&bad_time),
        Some("invalidOptions")
    );
    let permission = client
        .has_permission(did.to_string(), "a:b".into(), None)
        .await
        .unwrap();
    assert!(!permission.held);
    assert!(
        client
            .has_permission("did:ghost:!!".into(), "a:b".into(), None)
            .await
            .is_err()
    );
    let verdict = client.verify_token("x.y.z".into(), None).await.unwrap();
    assert!(!verdict.valid);
    assert_eq!(verdict.error.as_deref(), Some("malformed"));
    // The verdict names the grantor of each permission; a self-granted one is
    // refused with a stable error name.
    let authority = Keypair::dev(3);
    let z = did_of(&authority);
    f.ok(&authority, IdentityCall::Create { soulbound: false });
    for (key, grantor, permission) in [(&authority, z, "svc:read"), (&alice, did, "svc:admin")] {
        f.ok(
            key,
            IdentityCall::Grant {
                did: grantor,
                grantee: did,
                permission: permission.into(),
                expires: None,
            },
        );
    }
    let now = f.clock.unix_ms() / 1000;
    let by_z = jwt::sign(
        &Claims {
            sub: did.to_string(),
            ..claims(&z, &["svc:read"], now)
        },
        &format!("{z}#key-1"),
        &TokenKey::Ed25519(authority.clone()),
    );
    let for_api = |grantors: Vec<String>| {
        Some(VerifyOptions {
            aud: Some("https://api.example".into()),
            grantors,
        })
    };
    // The token names an audience: a verifier that names none refuses it.
    let verdict = client.verify_token(by_z.clone(), None).await.unwrap();
    assert!(!verdict.valid);
    assert_eq!(verdict.error.as_deref(), Some("audienceNotNamed"));
    let verdict = client
        .verify_token(by_z, for_api(Vec::new()))
        .await
        .unwrap();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(
        verdict.grants,
        vec![HeldPermission {
            permission: "svc:read".into(),
            grantor: z.to_string(),
        }]
    );
    let own = jwt::sign(
        &claims(&did, &["svc:admin"], now),
        &format!("{did}#key-1"),
        &TokenKey::Ed25519(alice.clone()),
    );
    let verdict = client
        .verify_token(own.clone(), for_api(Vec::new()))
        .await
        .unwrap();
    assert!(!verdict.valid);
    assert_eq!(verdict.error.as_deref(), Some("grantorNotAccepted"));
    assert!(verdict.grants.is_empty());
    // A caller names the grantors it trusts: the authority's grant is not alice's
    // to herself, hers counts when the caller names her.
    let verdict = client
        .verify_token(own.clone(), for_api(vec![z.to_string()]))
        .await
        .unwrap();
    assert_eq!(verdict.error.as_deref(), Some("grantorNotAccepted"));
    let verdict = client
        .verify_token(own.clone(), for_api(vec![z.to_string(), did.to_string()]))
        .await
        .unwrap();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(
        verdict.grants,
        vec![HeldPermission {
            permission: "svc:admin".into(),
            grantor: did.to_string(),
        }]
    );
    // Bounded, and each must be a DID: invalid params otherwise.
    let many = vec![z.to_string(); VERIFY_GRANTORS_MAX + 1];
    let error = client
        .verify_token(own.clone(), for_api(many))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("at most 16"), "{error}");
    let error = client
        .verify_token(own, for_api(vec!["did:ghost:!!".into()]))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.to_lowercase().contains("invalid"), "{error}");
}

/// Signs `claims` under a header with extra members (`crit` and the like), as a
/// token from another library could.
fn sign_with_header(claims: &Claims, header: Value, key: &Keypair) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let claims = serde_json::to_value(claims).unwrap();
    let input = format!("{}.{}", part(&header), part(&claims));
    let signature = key.sign_bytes(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.0))
}

/// Issue 33 item 9 (JWT): a token that names an audience is refused by a verifier
/// that names none (RFC 7519 §4.1.3: a party that does not identify itself with an
/// `aud` value must reject it); a `jti` that no `RevokeToken` could name (empty or
/// over `JTI_BYTES_MAX`) is refused, since such a token could never be revoked; a
/// `crit` header is refused (RFC 7515 §4.1.11: this verifier understands no
/// extension); a token about a deactivated subject is refused.
#[test]
fn tokens_refused_for_audience_jti_crit_or_deactivated_subject() {
    use ghostd_types::identity::JTI_BYTES_MAX;
    let f = fixture();
    let (alice, bob) = (Keypair::dev(0), Keypair::dev(1));
    let (a, b) = (did_of(&alice), did_of(&bob));
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    f.ok(&bob, IdentityCall::Create { soulbound: false });
    let now = f.clock.unix_ms() / 1000;
    let aud = Some("https://api.example");
    let kid = format!("{a}#key-1");
    let sign = |claims: &Claims| jwt::sign(claims, &kid, &TokenKey::Ed25519(alice.clone()));
    let kind = |r: Result<Claims, TokenError>| r.map(|_| ()).map_err(|e| e.kind());

    // Audience: named by the token, not by the verifier.
    let token = sign(&claims(&a, &[], now));
    assert_eq!(kind(f.verify(&token, aud)), Ok(()));
    assert_eq!(
        kind(f.verify(&token, None)),
        Err("audienceNotNamed"),
        "a token with aud verified for a verifier that names no audience"
    );
    // A token with no audience at all is for anyone.
    let anyone = sign(&Claims {
        aud: Audience::Many(Vec::new()),
        ..claims(&a, &[], now)
    });
    assert_eq!(kind(f.verify(&anyone, None)), Ok(()));

    // jti bounds: what RevokeToken accepts (1..=JTI_BYTES_MAX bytes).
    for jti in [String::new(), "j".repeat(JTI_BYTES_MAX + 1)] {
        let token = sign(&Claims {
            jti: jti.clone(),
            ..claims(&a, &[], now)
        });
        assert_eq!(
            kind(f.verify(&token, aud)),
            Err("badJti"),
            "a token with a {}-byte jti (never revocable) verified",
            jti.len()
        );
    }
    let longest = sign(&Claims {
        jti: "j".repeat(JTI_BYTES_MAX),
        ..claims(&a, &[], now)
    });
    assert_eq!(kind(f.verify(&longest, aud)), Ok(()));

    // crit: an extension this verifier does not understand.
    let critical = sign_with_header(
        &claims(&a, &[], now),
        serde_json::json!({
            "alg": "EdDSA", "typ": "JWT", "kid": kid,
            "crit": ["x-bound"], "x-bound": true,
        }),
        &alice,
    );
    assert_eq!(
        kind(f.verify(&critical, aud)),
        Err("criticalHeader"),
        "a token with a crit header verified"
    );
    // The same header without crit (an unknown member is ignored, RFC 7515 §4).
    let extra = sign_with_header(
        &claims(&a, &[], now),
        serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid, "x-bound": true}),
        &alice,
    );
    assert_eq!(kind(f.verify(&extra, aud)), Ok(()));

    // A deactivated subject.
    let about_bob = sign(&Claims {
        sub: b.to_string(),
        jti: "about-bob".into(),
        ..claims(&a, &[], now)
    });
    assert_eq!(kind(f.verify(&about_bob, aud)), Ok(()));
    f.ok(&bob, IdentityCall::Deactivate { did: b });
    assert_eq!(
        kind(f.verify(&about_bob, aud)),
        Err("subjectDeactivated"),
        "a token about a deactivated subject verified"
    );
}

/// Issue 33 item 9: strangers filled a DID's 64 grant slots (anyone may grant
/// anything to anyone). One grantor holds at most `GRANTS_PER_GRANTOR_MAX` of a
/// grantee's slots; re-granting the same permission replaces its grant; an
/// expired grant frees its slot; the total stays `GRANTS_PER_DID_MAX`.
#[test]
fn one_grantor_fills_at_most_its_quota_of_a_dids_grants() {
    use ghostd_types::identity::{GRANTS_PER_DID_MAX, GRANTS_PER_GRANTOR_MAX};
    let f = fixture();
    let (alice, stranger, authority) = (Keypair::dev(0), Keypair::dev(2), Keypair::dev(3));
    let (a, s, z) = (did_of(&alice), did_of(&stranger), did_of(&authority));
    for key in [&alice, &stranger, &authority] {
        f.ok(key, IdentityCall::Create { soulbound: false });
    }
    let grant = |did: DidId, permission: String| IdentityCall::Grant {
        did,
        grantee: a,
        permission,
        expires: None,
    };
    for i in 0..GRANTS_PER_GRANTOR_MAX {
        f.ok(&stranger, grant(s, format!("junk:{i}")));
    }
    let r = f.refused(&stranger, grant(s, "junk:more".into()));
    assert!(r.contains("from one grantor"), "{r}");
    // The same permission again replaces the grant, and takes no new slot.
    f.ok(&stranger, grant(s, "junk:0".into()));
    // Another grantor still has room.
    f.ok(&authority, grant(z, "svc:read".into()));
    assert_eq!(
        identity_grants(&f, &a).len(),
        GRANTS_PER_GRANTOR_MAX + 1,
        "total {GRANTS_PER_DID_MAX}"
    );
}

fn identity_grants(f: &Fixture, did: &DidId) -> Vec<ghostd_types::identity::Grant> {
    f.node.read(|s| identity::grants(s, did)).unwrap()
}

/// Issue 33 item 9: a local storage error inside a module (here a corrupt stored
/// record: a decode failure, as a failing disk would give) became a failed receipt,
/// so this node committed a block whose state digest no other node has (a fork).
/// It must abort the block instead: nothing is written, the transaction waits.
#[test]
fn a_storage_error_in_a_module_aborts_the_block() {
    let f = fixture();
    let alice = Keypair::dev(0);
    let did = did_of(&alice);
    f.ok(&alice, IdentityCall::Create { soulbound: false });
    let call = IdentityCall::SetAlsoKnownAs {
        did,
        uris: vec!["https://alice.example".into()],
    };
    let hash = f
        .node
        .submit(tx(&alice, f.nonce(&alice), call.into()))
        .unwrap();
    let common::Fixture {
        _dir: dir,
        node,
        clock,
    } = f;
    let head = node.head();
    drop(node);
    // Corrupt alice's stored DID record behind the node's back.
    {
        let path = dir.path().join("l1").join("l1");
        let cfs = rocksdb::DB::list_cf(&rocksdb::Options::default(), &path).unwrap();
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &path, cfs).unwrap();
        let cf = db.cf_handle(ghostd::state::CF_STATE).unwrap();
        let key = ghostd::state::key("identity", &[b"did", &did.0]);
        assert!(
            db.get_cf(cf, &key).unwrap().is_some(),
            "the record's key moved"
        );
        db.put_cf(cf, &key, [0xff; 3]).unwrap();
    }
    let genesis = common::genesis(
        &dir,
        Default::default(),
        Vec::new(),
        ghostd_types::consensus::ConsensusMode::Solo,
    );
    let (node, _clock) = common::open(&dir, &genesis, clock.clone());
    assert_eq!(node.head(), head);
    assert!(node.is_pending(&hash), "the transaction was not restored");
    clock.advance(Duration::from_secs(1));
    let sealed = node.seal();
    assert!(
        matches!(sealed, Err(ghostd::NodeError::State(_))),
        "a storage error became a receipt: {sealed:?}, {:?}",
        node.receipt(&hash)
    );
    assert_eq!(node.head(), head, "a block was committed");
    assert!(node.receipt(&hash).unwrap().is_none());
    assert!(
        node.is_pending(&hash),
        "the transaction must wait, not be dropped"
    );
}

/// Issue 33 item 9: a transaction parked for an earlier nonce skipped the admission
/// dry run, so a call that fails went into a block as a failed receipt (block room
/// and every validator's execution, for nothing). A parked transaction is dry-run
/// when the block is built: if its call fails it is dropped (no receipt, its nonce
/// unused), with the sender's later transactions that now follow a gap.
#[test]
fn a_parked_transaction_that_fails_is_dropped_at_release() {
    let f = fixture();
    let bob = Keypair::dev(5);
    let n = f.nonce(&bob);
    let ghost = DidId::derive(L1_DEVNET_CHAIN_ID, &Keypair::dev(6).public_key());
    // n+1 fails (no such DID), n+2 would succeed, n succeeds: sent n+1, n+2, n.
    let failing = tx(
        &bob,
        n + 1,
        IdentityCall::SetAlsoKnownAs {
            did: ghost,
            uris: Vec::new(),
        }
        .into(),
    );
    let follower = tx(&bob, n + 2, IdentityCall::Create { soulbound: true }.into());
    let first = tx(&bob, n, IdentityCall::Create { soulbound: false }.into());
    let failing = f.node.submit(failing).unwrap();
    let follower = f.node.submit(follower).unwrap();
    let first = f.node.submit(first).unwrap();
    f.seal();
    assert_eq!(
        f.node.receipt(&first).unwrap().map(|r| r.outcome),
        Some(L1Outcome::Success)
    );
    assert_eq!(
        f.node.receipt(&failing).unwrap(),
        None,
        "a parked transaction that fails went into a block"
    );
    assert_eq!(f.node.receipt(&follower).unwrap(), None);
    assert_eq!(f.nonce(&bob), n + 1);
    assert!(!f.node.is_pending(&failing) && !f.node.is_pending(&follower));
    assert_eq!(f.node.mempool_len(), 0);
    // The sender goes on from its next nonce.
    f.ok(
        &bob,
        IdentityCall::SetAlsoKnownAs {
            did: did_of(&bob),
            uris: vec!["https://bob.example".into()],
        },
    );
}

//! Access tokens: JWTs (RFC 7519) in JWS compact serialization, signed with EdDSA
//! (RFC 8037, Ed25519) or ES256K (RFC 8812, secp256k1 with SHA-256, low-S `r ‖ s`).
//!
//! The header carries `kid` = the DID URL of the signing verification method
//! (`did:ghost:…#key-N`); the claims carry `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`,
//! `jti` and a `permissions` array. This module signs and decodes and checks a
//! signature against a key; which key a DID holds, whether it is still in the right
//! relationship, expiry, revocation and permissions are checked by the node
//! (`identity_verifyToken`), against the chain's head.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ghostplane_primitives::{Keypair, PublicKey, Signature};
use k256::ecdsa::signature::{Signer, Verifier};
use serde::{Deserialize, Serialize};

use super::KeyMaterial;

/// Largest token accepted, bytes.
pub const TOKEN_BYTES_MAX: usize = 8 * 1024;
/// Most permissions a token claims.
pub const TOKEN_PERMISSIONS_MAX: usize = 32;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than [`TOKEN_BYTES_MAX`].
    #[error("token is {0} bytes; at most {TOKEN_BYTES_MAX} are accepted")]
    TooLarge(usize),
    /// Not a JWS compact serialization of a JSON header and claims.
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not EdDSA or ES256K.
    #[error("token algorithm {0:?} is not supported (EdDSA and ES256K are)")]
    UnsupportedAlgorithm(String),
    /// `alg` does not match the key `kid` names.
    #[error("token algorithm {alg} does not match the {key_alg} key its kid names")]
    AlgorithmMismatch {
        /// The header's `alg`.
        alg: String,
        /// The key's algorithm.
        key_alg: &'static str,
    },
    /// The key bytes are not a valid key.
    #[error("the verification key is not a valid public key")]
    BadKey,
    /// The signature does not verify.
    #[error("token signature does not verify against the key its kid names")]
    BadSignature,
    /// `kid` is not a DID URL of the issuer, or names no method of its document.
    #[error("kid {0:?} names no verification method of the issuer's current document")]
    UnknownKey(String),
    /// The method is not (any more) in authentication or assertionMethod.
    #[error("kid {0:?} is not in the issuer's authentication or assertionMethod")]
    KeyNotAuthorized(String),
    /// The issuer DID does not resolve.
    #[error("token issuer {0} is not found")]
    IssuerNotFound(String),
    /// The issuer DID is deactivated.
    #[error("token issuer {0} is deactivated")]
    IssuerDeactivated(String),
    /// `exp` has passed.
    #[error("token expired at {exp} (now {now}, Unix seconds)")]
    Expired {
        /// Expiry.
        exp: u64,
        /// Now.
        now: u64,
    },
    /// `nbf` is in the future.
    #[error("token is not valid before {nbf} (now {now}, Unix seconds)")]
    NotYetValid {
        /// Not before.
        nbf: u64,
        /// Now.
        now: u64,
    },
    /// `aud` does not contain the expected audience.
    #[error("token audience does not include {0:?}")]
    WrongAudience(String),
    /// The token names an audience and the verifier names none: a party that does
    /// not identify itself with a value in `aud` must reject the token (RFC 7519
    /// §4.1.3).
    #[error(
        "the token is for audience {0}, and the verifier named none: name the audience you are (RFC 7519 §4.1.3)"
    )]
    AudienceNotNamed(String),
    /// `jti` is empty or longer than `JTI_BYTES_MAX`: no `RevokeToken` could name
    /// it, so the token could never be revoked.
    #[error("token jti is {0} bytes; 1-{max} are accepted (what RevokeToken can name)", max = super::JTI_BYTES_MAX)]
    BadJti(usize),
    /// The header has `crit`: an extension that must be understood, and this
    /// verifier understands none (RFC 7515 §4.1.11).
    #[error("token header marks {0} critical; no header extension is understood")]
    CriticalHeader(String),
    /// The subject DID is deactivated.
    #[error("token subject {0} is deactivated")]
    SubjectDeactivated(String),
    /// The issuer revoked the token.
    #[error("token {0:?} was revoked by its issuer")]
    Revoked(String),
    /// The subject does not hold a claimed permission.
    #[error("the subject does not hold the claimed permission {0:?}")]
    PermissionNotHeld(String),
    /// The subject holds a claimed permission, but only from grantors the check
    /// does not accept (anyone may grant any permission name, itself included).
    #[error(
        "the subject holds the claimed permission {permission:?} only from {}, which this check does not accept: a permission counts when the token's issuer granted it (and is not the subject itself), or a grantor the verifier names",
        .grantors.join(", ")
    )]
    GrantorNotAccepted {
        /// The permission.
        permission: String,
        /// Who granted it (DIDs).
        grantors: Vec<String>,
    },
}

impl TokenError {
    /// A short stable name of the refusal, for machines.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge(_) => "tooLarge",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedAlgorithm(_) => "unsupportedAlgorithm",
            Self::AlgorithmMismatch { .. } => "algorithmMismatch",
            Self::BadKey => "badKey",
            Self::BadSignature => "badSignature",
            Self::UnknownKey(_) => "unknownKey",
            Self::KeyNotAuthorized(_) => "keyNotAuthorized",
            Self::IssuerNotFound(_) => "issuerNotFound",
            Self::IssuerDeactivated(_) => "issuerDeactivated",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "notYetValid",
            Self::WrongAudience(_) => "wrongAudience",
            Self::AudienceNotNamed(_) => "audienceNotNamed",
            Self::BadJti(_) => "badJti",
            Self::CriticalHeader(_) => "criticalHeader",
            Self::SubjectDeactivated(_) => "subjectDeactivated",
            Self::Revoked(_) => "revoked",
            Self::PermissionNotHeld(_) => "permissionNotHeld",
            Self::GrantorNotAccepted { .. } => "grantorNotAccepted",
        }
    }
}

/// `aud`: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is among them.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(one) => one == audience,
            Self::Many(many) => many.iter().any(|a| a == audience),
        }
    }

    /// Whether it names no audience (an empty array): a token for anyone.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Many(many) if many.is_empty())
    }
}

/// The JOSE header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `EdDSA` or `ES256K`.
    pub alg: String,
    /// `JWT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// The DID URL of the signing method.
    pub kid: String,
}

/// The claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer DID.
    pub iss: String,
    /// Subject DID.
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Not before, Unix seconds.
    pub nbf: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Token id (revocable by it).
    pub jti: String,
    /// Permissions claimed for the subject.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A claimed permission of a verified token, and the grantor whose grant made it
/// count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPermission {
    /// The permission.
    pub permission: String,
    /// The DID that granted it to the subject.
    pub grantor: String,
}

/// A token that passed every check: its claims, and who granted each claimed
/// permission (in claim order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The claims.
    pub claims: Claims,
    /// One per claimed permission.
    pub grants: Vec<HeldPermission>,
}

/// A key that signs tokens.
pub enum TokenKey {
    /// Ed25519 (EdDSA).
    Ed25519(Keypair),
    /// secp256k1 (ES256K).
    Secp256k1(k256::ecdsa::SigningKey),
}

impl TokenKey {
    /// Its public key material.
    pub fn public(&self) -> KeyMaterial {
        match self {
            Self::Ed25519(key) => KeyMaterial::Ed25519(key.public_key().0),
            Self::Secp256k1(key) => KeyMaterial::Secp256k1(compressed(key.verifying_key())),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => key.sign_bytes(message).0.to_vec(),
            Self::Secp256k1(key) => {
                let signature: k256::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }
}

/// The compressed SEC1 encoding of a secp256k1 key.
pub fn compressed(key: &k256::ecdsa::VerifyingKey) -> [u8; 33] {
    let point = key.to_encoded_point(true);
    let mut out = [0u8; 33];
    out.copy_from_slice(point.as_bytes());
    out
}

/// Signs `claims` with `key`; `kid` names the key's verification method.
pub fn sign(claims: &Claims, kid: &str, key: &TokenKey) -> String {
    let header = Header {
        alg: key.public().jws_alg().to_string(),
        typ: Some("JWT".into()),
        kid: kid.to_string(),
    };
    let mut token = format!("{}.{}", json_b64(&header), json_b64(claims));
    let signature = key.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

fn json_b64(value: &impl Serialize) -> String {
    #[allow(clippy::expect_used)]
    let json = serde_json::to_vec(value).expect("a header or claims serialize to JSON");
    URL_SAFE_NO_PAD.encode(json)
}

/// A decoded (not yet verified) token.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Header.
    pub header: Header,
    /// Claims.
    pub claims: Claims,
    /// `header.claims`, the bytes signed.
    pub signing_input: String,
    /// The signature.
    pub signature: Vec<u8>,
}

/// Decodes `token` (size, shape, base64url, JSON, `alg`); checks no signature.
pub fn decode(token: &str) -> Result<Decoded, TokenError> {
    if token.len() > TOKEN_BYTES_MAX {
        return Err(TokenError::TooLarge(token.len()));
    }
    let malformed = |why: &str| TokenError::Malformed(why.to_string());
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("a JWT is three base64url parts joined by dots"));
    };
    let b64 = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| malformed(&format!("the {what} is not base64url")))
    };
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&b64(header, "header")?)
            .map_err(|e| malformed(&format!("header: {e}")))?;
    // No header extension is understood, so none may be critical (RFC 7515
    // §4.1.11); other unknown members are ignored (§4).
    if let Some(crit) = header.get("crit") {
        return Err(TokenError::CriticalHeader(crit.to_string()));
    }
    let header: Header = serde_json::from_value(serde_json::Value::Object(header))
        .map_err(|e| malformed(&format!("header: {e}")))?;
    if header.alg != "EdDSA" && header.alg != "ES256K" {
        return Err(TokenError::UnsupportedAlgorithm(header.alg));
    }
    let claims_json: Claims = serde_json::from_slice(&b64(claims, "claims set")?)
        .map_err(|e| malformed(&format!("claims: {e}")))?;
    if claims_json.permissions.len() > TOKEN_PERMISSIONS_MAX {
        return Err(malformed(&format!(
            "more than {TOKEN_PERMISSIONS_MAX} permissions"
        )));
    }
    let signing_input_len = token.len() - signature.len() - 1;
    Ok(Decoded {
        header,
        claims: claims_json,
        signing_input: token[..signing_input_len].to_string(),
        signature: b64(signature, "signature")?,
    })
}

impl Decoded {
    /// Checks the signature against `key` (whose algorithm must be the header's).
    pub fn verify_signature(&self, key: &KeyMaterial) -> Result<(), TokenError> {
        if self.header.alg != key.jws_alg() {
            return Err(TokenError::AlgorithmMismatch {
                alg: self.header.alg.clone(),
                key_alg: key.jws_alg(),
            });
        }
        let message = self.signing_input.as_bytes();
        match key {
            KeyMaterial::Ed25519(key) => {
                let signature: [u8; 64] = self
                    .signature
                    .as_slice()
                    .try_into()
                    .map_err(|_| TokenError::BadSignature)?;
                ghostplane_primitives::keys::verify(
                    &PublicKey(*key),
                    message,
                    &Signature(signature),
                )
                .map_err(|_| TokenError::BadSignature)
            }
            KeyMaterial::Secp256k1(key) => {
                let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map_err(|_| TokenError::BadKey)?;
                let signature = k256::ecdsa::Signature::from_slice(&self.signature)
                    .map_err(|_| TokenError::BadSignature)?;
                // High-S signatures are refused (one signature per message and key).
                if signature.normalize_s().is_some() {
                    return Err(TokenError::BadSignature);
                }
                key.verify(message, &signature)
                    .map_err(|_| TokenError::BadSignature)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "did:ghost:x".into(),
            sub: "did:ghost:x".into(),
            aud: Audience::One("svc".into()),
            exp: 20,
            nbf: 10,
            iat: 10,
            jti: "t1".into(),
            permissions: vec!["a:b".into()],
        }
    }

    #[test]
    fn both_algorithms_sign_and_verify_and_tampering_fails() {
        let keys = [
            TokenKey::Ed25519(Keypair::dev(1)),
            TokenKey::Secp256k1(k256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap()),
        ];
        for key in &keys {
            let token = sign(&claims(), "did:ghost:x#key-1", key);
            let decoded = decode(&token).unwrap();
            assert_eq!(decoded.claims, claims());
            assert_eq!(decoded.header.alg, key.public().jws_alg());
            decoded.verify_signature(&key.public()).unwrap();
            // Another claims set under the same signature.
            let mut parts: Vec<&str> = token.split('.').collect();
            let other = json_b64(&Claims {
                exp: 99,
                ..claims()
            });
            parts[1] = &other;
            let forged = decode(&parts.join(".")).unwrap();
            assert_eq!(
                forged.verify_signature(&key.public()),
                Err(TokenError::BadSignature)
            );
        }
        let ed = decode(&sign(&claims(), "k", &keys[0])).unwrap();
        assert!(matches!(
            ed.verify_signature(&keys[1].public()),
            Err(TokenError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(matches!(decode("a.b"), Err(TokenError::Malformed(_))));
        assert!(matches!(decode("a.b.c.d"), Err(TokenError::Malformed(_))));
        assert!(matches!(
            decode(&"a".repeat(TOKEN_BYTES_MAX + 1)),
            Err(TokenError::TooLarge(_))
        ));
        let none = format!(
            "{}.{}.",
            json_b64(&serde_json::json!({"alg": "none", "kid": "k"})),
            json_b64(&claims())
        );
        assert!(matches!(
            decode(&none),
            Err(TokenError::UnsupportedAlgorithm(_))
        ));
    }
}

//! The identity module's records and calls: `did:ghost` DIDs, their documents in
//! the W3C DID Core 1.0 data model, permission grants, and the identifiers and key
//! encodings they use (`did:ghost`, `did:key`, Multikey).
//!
//! - A `did:ghost` id is base58btc of the first 16 bytes of
//!   `blake3(chain id (8 bytes, big endian) ‖ the creating ed25519 key)`: it is
//!   self-certifying and never changes, whatever keys the document later holds.
//! - A document's verification methods each carry their relationships as a bit set,
//!   so every relationship reference resolves within the document by construction.
//! - Everything here is borsh and consensus-critical; the JSON shapes of DID Core
//!   are produced from it by the node (`ghostd::modules::identity`).
//!
//! The method's specification: `docs/did-ghost.md`.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::PublicKey;

pub mod jwt;

/// `did:ghost:` prefix.
pub const DID_GHOST_PREFIX: &str = "did:ghost:";
/// `did:key:` prefix.
pub const DID_KEY_PREFIX: &str = "did:key:";

/// Most verification methods in a document.
pub const METHODS_MAX: usize = 32;
/// Most services in a document.
pub const SERVICES_MAX: usize = 32;
/// Most controllers of a document.
pub const CONTROLLERS_MAX: usize = 8;
/// Most `alsoKnownAs` URIs.
pub const ALSO_KNOWN_AS_MAX: usize = 8;
/// Most grants a DID holds at once (grants from all grantors together).
pub const GRANTS_PER_DID_MAX: usize = 64;
/// Most grants a DID holds at once from one grantor. Anyone may grant anything to
/// anyone, so without it one stranger could take all [`GRANTS_PER_DID_MAX`] slots
/// and leave no room for the grants that matter; with it, filling them takes
/// `GRANTS_PER_DID_MAX / GRANTS_PER_GRANTOR_MAX` = 8 DIDs (each created and paid
/// for on the L1), and the grantee can see who they are.
pub const GRANTS_PER_GRANTOR_MAX: usize = 8;
/// Largest encoded document (borsh), bytes.
pub const DOCUMENT_BYTES_MAX: usize = 16 * 1024;
/// Longest fragment (the part after `#`), characters.
pub const FRAGMENT_CHARS_MAX: usize = 64;
/// Longest URI (service endpoint, `alsoKnownAs`), bytes.
pub const URI_BYTES_MAX: usize = 512;
/// Longest service type, bytes.
pub const SERVICE_TYPE_BYTES_MAX: usize = 64;
/// Longest permission name, bytes.
pub const PERMISSION_BYTES_MAX: usize = 128;
/// Longest JWT id (`jti`) that can be revoked, bytes.
pub const JTI_BYTES_MAX: usize = 128;

/// Multicodec prefix of an Ed25519 public key (`ed-pub`, varint 0xed).
const MULTICODEC_ED25519: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of a compressed secp256k1 public key (`secp256k1-pub`, 0xe7).
const MULTICODEC_SECP256K1: [u8; 2] = [0xe7, 0x01];

/// Why an identifier, key or name does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// Not a DID of a method this node knows, or malformed.
    #[error("{0:?} is not a valid DID: {1}")]
    InvalidDid(String, &'static str),
    /// A DID of another method.
    #[error("DID method of {0:?} is not supported (did:ghost and did:key are)")]
    MethodNotSupported(String),
    /// A Multikey value does not decode.
    #[error("{0:?} is not a supported Multikey (base58btc Ed25519 or secp256k1): {1}")]
    InvalidMultikey(String, &'static str),
}

/// A `did:ghost` identifier (16 bytes; shown as `did:ghost:<base58btc>`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct DidId(pub [u8; 16]);

impl DidId {
    /// The DID that `creator` creates on chain `chain_id`.
    pub fn derive(chain_id: u64, creator: &PublicKey) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&chain_id.to_be_bytes());
        hasher.update(&creator.0);
        let mut id = [0u8; 16];
        id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        Self(id)
    }

    /// Parses `did:ghost:<base58btc of 16 bytes>` (no path, query or fragment).
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        let invalid = |why| IdentifierError::InvalidDid(text.to_string(), why);
        let Some(rest) = text.strip_prefix(DID_GHOST_PREFIX) else {
            return Err(match text.strip_prefix("did:") {
                Some(rest) if rest.split(':').next().is_some_and(valid_method_name) => {
                    IdentifierError::MethodNotSupported(text.to_string())
                }
                _ => invalid("a DID is did:<method>:<id>"),
            });
        };
        if rest.is_empty() || rest.len() > 24 {
            return Err(invalid("the id is 16 bytes in base58btc"));
        }
        let bytes = bs58::decode(rest)
            .into_vec()
            .map_err(|_| invalid("the id is not base58btc"))?;
        let id: [u8; 16] = bytes
            .try_into()
            .map_err(|_| invalid("the id is not 16 bytes"))?;
        let did = Self(id);
        // One spelling per id (base58 has none other, but leading zeros must match).
        if did.id_text() != rest {
            return Err(invalid("the id is not in canonical base58btc"));
        }
        Ok(did)
    }

    /// The method-specific id (base58btc).
    pub fn id_text(&self) -> String {
        bs58::encode(self.0).into_string()
    }
}

impl fmt::Display for DidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DID_GHOST_PREFIX}{}", self.id_text())
    }
}

impl fmt::Debug for DidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn valid_method_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Public key material of a verification method.
#[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub enum KeyMaterial {
    /// An Ed25519 key (32 bytes).
    Ed25519([u8; 32]),
    /// A compressed secp256k1 key (33 bytes, SEC1).
    Secp256k1([u8; 33]),
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_multibase())
    }
}

impl KeyMaterial {
    /// `publicKeyMultibase`: `z` ‖ base58btc(multicodec ‖ key). Ed25519 keys start
    /// `z6Mk`, secp256k1 keys `zQ3s`.
    pub fn to_multibase(&self) -> String {
        let mut bytes = Vec::with_capacity(35);
        match self {
            Self::Ed25519(key) => {
                bytes.extend_from_slice(&MULTICODEC_ED25519);
                bytes.extend_from_slice(key);
            }
            Self::Secp256k1(key) => {
                bytes.extend_from_slice(&MULTICODEC_SECP256K1);
                bytes.extend_from_slice(key);
            }
        }
        format!("z{}", bs58::encode(bytes).into_string())
    }

    /// Parses a `publicKeyMultibase` value (checks that the key is a valid point).
    pub fn from_multibase(text: &str) -> Result<Self, IdentifierError> {
        let invalid = |why| IdentifierError::InvalidMultikey(text.to_string(), why);
        let body = text
            .strip_prefix('z')
            .ok_or_else(|| invalid("not base58btc (must start with z)"))?;
        if body.len() > 64 {
            return Err(invalid("too long"));
        }
        let bytes = bs58::decode(body)
            .into_vec()
            .map_err(|_| invalid("not base58btc"))?;
        let key = match bytes.split_at_checked(2) {
            Some((codec, key)) if codec == MULTICODEC_ED25519 => Self::Ed25519(
                key.try_into()
                    .map_err(|_| invalid("an Ed25519 key is 32 bytes"))?,
            ),
            Some((codec, key)) if codec == MULTICODEC_SECP256K1 => Self::Secp256k1(
                key.try_into()
                    .map_err(|_| invalid("a secp256k1 key is 33 bytes (compressed)"))?,
            ),
            _ => return Err(invalid("unknown multicodec")),
        };
        key.validate()
            .map_err(|_| invalid("not a valid curve point"))?;
        Ok(key)
    }

    /// Checks that the key is a valid public key of its curve.
    pub fn validate(&self) -> Result<(), jwt::TokenError> {
        match self {
            Self::Ed25519(key) => {
                ghostplane_primitives::keys::validate_public_key(&PublicKey(*key))
                    .map_err(|_| jwt::TokenError::BadKey)
            }
            Self::Secp256k1(key) => k256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                .map(|_| ())
                .map_err(|_| jwt::TokenError::BadKey),
        }
    }

    /// The JWS algorithm this key signs with (`EdDSA` or `ES256K`).
    pub fn jws_alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "EdDSA",
            Self::Secp256k1(_) => "ES256K",
        }
    }
}

/// The five verification relationships of DID Core, as bits of
/// [`VerificationMethod::relationships`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Relationship {
    /// `authentication`.
    Authentication = 1,
    /// `assertionMethod`.
    AssertionMethod = 2,
    /// `keyAgreement`.
    KeyAgreement = 4,
    /// `capabilityInvocation`.
    CapabilityInvocation = 8,
    /// `capabilityDelegation`.
    CapabilityDelegation = 16,
}

impl Relationship {
    /// All five, in DID Core's order.
    pub const ALL: [Self; 5] = [
        Self::Authentication,
        Self::AssertionMethod,
        Self::KeyAgreement,
        Self::CapabilityInvocation,
        Self::CapabilityDelegation,
    ];
    /// The bits of all five.
    pub const MASK: u8 = 31;

    /// The property name in a DID document.
    pub fn property(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::AssertionMethod => "assertionMethod",
            Self::KeyAgreement => "keyAgreement",
            Self::CapabilityInvocation => "capabilityInvocation",
            Self::CapabilityDelegation => "capabilityDelegation",
        }
    }

    /// Parses a property name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.property() == name)
    }

    /// The bit set of `relationships`.
    pub fn bits(relationships: &[Self]) -> u8 {
        relationships.iter().fold(0, |bits, r| bits | *r as u8)
    }
}

/// A verification method (type `Multikey`; its controller is the DID itself).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VerificationMethod {
    /// The fragment: the method's id is `<did>#<fragment>`.
    #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
    pub fragment: String,
    /// The key.
    pub key: KeyMaterial,
    /// The relationships it is referenced from ([`Relationship`] bits).
    pub relationships: u8,
}

impl VerificationMethod {
    /// Whether it is in `relationship`.
    pub fn has(&self, relationship: Relationship) -> bool {
        self.relationships & relationship as u8 != 0
    }
}

/// A service endpoint.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Service {
    /// The fragment: the service's id is `<did>#<fragment>`.
    #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
    pub fragment: String,
    /// `type`.
    #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
    pub kind: String,
    /// `serviceEndpoint` (a URI).
    #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
    pub endpoint: String,
}

/// A controller of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub enum Controller {
    /// Another (or the same) `did:ghost` DID: its `capabilityInvocation` keys act.
    Ghost(DidId),
    /// A `did:key` Ed25519 DID: its one key acts.
    Key(PublicKey),
}

impl Controller {
    /// Parses `did:ghost:…` or `did:key:z6Mk…`.
    pub fn parse(text: &str) -> Result<Self, IdentifierError> {
        if text.starts_with(DID_KEY_PREFIX) {
            return Ok(Self::Key(parse_did_key(text)?));
        }
        Ok(Self::Ghost(DidId::parse(text)?))
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ghost(did) => write!(f, "{did}"),
            Self::Key(key) => f.write_str(&did_key(key)),
        }
    }
}

/// The `did:key` of an Ed25519 key (`did:key:z6Mk…`).
pub fn did_key(key: &PublicKey) -> String {
    format!(
        "{DID_KEY_PREFIX}{}",
        KeyMaterial::Ed25519(key.0).to_multibase()
    )
}

/// Parses an Ed25519 `did:key` (no fragment) into its key.
pub fn parse_did_key(text: &str) -> Result<PublicKey, IdentifierError> {
    let invalid = |why| IdentifierError::InvalidDid(text.to_string(), why);
    let body = text
        .strip_prefix(DID_KEY_PREFIX)
        .ok_or_else(|| invalid("not a did:key"))?;
    match KeyMaterial::from_multibase(body) {
        Ok(KeyMaterial::Ed25519(key)) => Ok(PublicKey(key)),
        Ok(KeyMaterial::Secp256k1(_)) => Err(invalid("only Ed25519 did:key DIDs are supported")),
        Err(_) => Err(invalid("the key is not an Ed25519 Multikey")),
    }
}

/// A DID document's content (the DID itself is the key it is stored under).
#[derive(Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidDocument {
    /// `controller` (empty: the DID controls itself).
    pub controllers: Vec<Controller>,
    /// `alsoKnownAs`.
    pub also_known_as: Vec<String>,
    /// `verificationMethod`.
    pub methods: Vec<VerificationMethod>,
    /// `service`.
    pub services: Vec<Service>,
}

impl DidDocument {
    /// The method with `fragment`.
    pub fn method(&self, fragment: &str) -> Option<&VerificationMethod> {
        self.methods.iter().find(|m| m.fragment == fragment)
    }
}

/// When something happened on the L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct Stamp {
    /// L1 block height.
    pub height: u64,
    /// That block's timestamp, ms since the epoch.
    pub time_ms: u64,
}

/// A DID's current record.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidRecord {
    /// The current document.
    pub document: DidDocument,
    /// Set at creation: the controller set may never name another party.
    pub soulbound: bool,
    /// Deactivated (permanent).
    pub deactivated: bool,
    /// Creation.
    pub created: Stamp,
    /// Last change.
    pub updated: Stamp,
    /// Versions stored (version `n` is under index `n`, 0 = creation).
    pub versions: u32,
}

/// One stored version of a DID document.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct DidVersion {
    /// When this version was written (`versionId` is its height).
    pub stamp: Stamp,
    /// The document.
    pub document: DidDocument,
    /// Whether this version deactivated the DID.
    pub deactivated: bool,
}

/// A permission held by a DID.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Grant {
    /// The permission (e.g. `ledger:mint:GCC`).
    pub permission: String,
    /// Who granted it.
    pub grantor: DidId,
    /// L1 height from which it no longer holds (`None`: until revoked).
    pub expires: Option<u64>,
    /// Height it was granted at.
    pub granted: u64,
}

impl Grant {
    /// Whether it holds at `height`.
    pub fn holds_at(&self, height: u64) -> bool {
        self.expires.is_none_or(|expiry| height < expiry)
    }
}

/// A call into the identity module. Every call but `Create` names the DID it
/// changes and must be signed (the L1 transaction's sender key) by an Ed25519 key
/// in that DID's `capabilityInvocation`, or in a `did:ghost` controller's, or by a
/// `did:key` controller's key.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum IdentityCall {
    /// Creates the sender's DID ([`DidId::derive`]) with the sender's key as
    /// `#key-1` in authentication, assertionMethod, capabilityInvocation and
    /// capabilityDelegation.
    Create {
        /// Forbid ever handing the controller set to another party.
        soulbound: bool,
    },
    /// Adds a verification method.
    AddMethod {
        /// The DID.
        did: DidId,
        /// The method (a new fragment).
        method: VerificationMethod,
    },
    /// Removes a verification method.
    RemoveMethod {
        /// The DID.
        did: DidId,
        /// Its fragment.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        fragment: String,
    },
    /// Sets the relationships a method is referenced from.
    SetRelationships {
        /// The DID.
        did: DidId,
        /// The method's fragment.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        fragment: String,
        /// [`Relationship`] bits.
        relationships: u8,
    },
    /// Replaces a method by a new one with the same relationships, atomically.
    RotateKey {
        /// The DID.
        did: DidId,
        /// The method rotated out.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        old: String,
        /// The new method's fragment.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        fragment: String,
        /// The new key.
        key: KeyMaterial,
    },
    /// Adds a service.
    AddService {
        /// The DID.
        did: DidId,
        /// The service (a new fragment).
        service: Service,
    },
    /// Removes a service.
    RemoveService {
        /// The DID.
        did: DidId,
        /// Its fragment.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        fragment: String,
    },
    /// Sets the controllers (empty: the DID controls itself).
    SetControllers {
        /// The DID.
        did: DidId,
        /// The new set.
        controllers: Vec<Controller>,
    },
    /// Sets `alsoKnownAs` (empty clears it).
    SetAlsoKnownAs {
        /// The DID.
        did: DidId,
        /// URIs.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::strings")]
        uris: Vec<String>,
    },
    /// Deactivates the DID, for good.
    Deactivate {
        /// The DID.
        did: DidId,
    },
    /// `did` grants `permission` to `grantee` (replacing an earlier grant of the same
    /// permission by `did`).
    Grant {
        /// The grantor.
        did: DidId,
        /// Who receives it.
        grantee: DidId,
        /// The permission.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        permission: String,
        /// L1 height from which it no longer holds.
        expires: Option<u64>,
    },
    /// Ends a grant. `did` is its grantor, or its grantee renouncing it.
    Revoke {
        /// The grantor or the grantee.
        did: DidId,
        /// Who holds it.
        grantee: DidId,
        /// The grantor of the grant ended.
        grantor: DidId,
        /// The permission.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        permission: String,
    },
    /// Revokes an access token that `did` issued, by its `jti`.
    RevokeToken {
        /// The token's issuer.
        did: DidId,
        /// The token's `jti`.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")]
        jti: String,
    },
}

impl IdentityCall {
    /// The DID the call changes (`None` for `Create`, whose DID is the sender's).
    pub fn did(&self) -> Option<DidId> {
        match self {
            Self::Create { .. } => None,
            Self::AddMethod { did, .. }
            | Self::RemoveMethod { did, .. }
            | Self::SetRelationships { did, .. }
            | Self::RotateKey { did, .. }
            | Self::AddService { did, .. }
            | Self::RemoveService { did, .. }
            | Self::SetControllers { did, .. }
            | Self::SetAlsoKnownAs { did, .. }
            | Self::Deactivate { did }
            | Self::Grant { did, .. }
            | Self::Revoke { did, .. }
            | Self::RevokeToken { did, .. } => Some(*did),
        }
    }
}

/// Whether `fragment` is a valid fragment here: 1–64 of `A–Z a–z 0–9 . _ -`.
pub fn valid_fragment(fragment: &str) -> bool {
    !fragment.is_empty()
        && fragment.len() <= FRAGMENT_CHARS_MAX
        && fragment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether `permission` is a valid permission name: 1–128 of `a–z 0–9 A–Z : . _ -`,
/// not starting or ending with `:`.
pub fn valid_permission(permission: &str) -> bool {
    !permission.is_empty()
        && permission.len() <= PERMISSION_BYTES_MAX
        && !permission.starts_with(':')
        && !permission.ends_with(':')
        && permission
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'))
}

/// Whether `uri` is an absolute URI as DID Core needs it (RFC 3986 `scheme:rest`,
/// printable ASCII, at most [`URI_BYTES_MAX`] bytes).
pub fn valid_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    uri.len() <= URI_BYTES_MAX
        && !rest.is_empty()
        && scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && uri.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn did_ghost_round_trips_and_refuses_malformed_ids() {
        let did = DidId::derive(7, &PublicKey([3; 32]));
        let text = did.to_string();
        assert!(text.starts_with("did:ghost:"));
        assert_eq!(DidId::parse(&text).unwrap(), did);
        assert_ne!(DidId::derive(8, &PublicKey([3; 32])), did);
        for bad in [
            "did:ghost:",
            "did:ghost:0OIl",
            "did:ghost:abc",
            "ghost:abc",
            "did:ghost:2222222222222222222222222222",
            "",
        ] {
            assert!(
                matches!(DidId::parse(bad), Err(IdentifierError::InvalidDid(..))),
                "{bad}"
            );
        }
        assert!(matches!(
            DidId::parse("did:web:example.com"),
            Err(IdentifierError::MethodNotSupported(_))
        ));
    }

    #[test]
    fn multikeys_follow_the_did_key_spec() {
        // did:key spec test vector (Ed25519).
        let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        let key = parse_did_key(did).unwrap();
        assert_eq!(did_key(&key), did);
        let secp = k256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let point: [u8; 33] = secp
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        let multibase = KeyMaterial::Secp256k1(point).to_multibase();
        assert!(multibase.starts_with("zQ3s"), "{multibase}");
        assert_eq!(
            KeyMaterial::from_multibase(&multibase).unwrap(),
            KeyMaterial::Secp256k1(point)
        );
        assert!(KeyMaterial::from_multibase("z6Mk").is_err());
        assert!(KeyMaterial::from_multibase("u6Mk").is_err());
        assert!(parse_did_key(&format!("did:key:{multibase}")).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_fragment("key-1"));
        assert!(!valid_fragment("key 1"));
        assert!(!valid_fragment(""));
        assert!(valid_permission("ledger:mint:GCC"));
        assert!(!valid_permission("ledger mint"));
        assert!(!valid_permission(":x"));
        assert!(valid_uri("https://example.com/a"));
        assert!(!valid_uri("no-scheme"));
        assert!(!valid_uri("1http://x"));
        assert!(!valid_uri("https://exa mple.com"));
    }
}

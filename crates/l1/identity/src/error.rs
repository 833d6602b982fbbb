//! [`IdentityError`]: why an identity call was refused, with its stable result
//! code ([`IdentityError::code`], the table), and its mapping to a module refusal.

use ghostd_types::identity::{DOCUMENT_BYTES_MAX, DidId, JTI_BYTES_MAX};

use ghostd_module::ModuleFailure;
use ghostd_module::state::StateError;
use ghostd_types::tx::ModuleId;

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

impl ModuleFailure for IdentityError {
    const MODULE: ModuleId = ModuleId::IDENTITY;

    fn result_code(&self) -> u16 {
        self.code()
    }

    fn into_storage(self) -> Result<StateError, Self> {
        match self {
            Self::State(e) => Ok(e),
            e => Err(e),
        }
    }
}

//! Document changes: applying one change to a DID's document, and the checks
//! every method, service, controller and whole document passes (fragments,
//! relationships, keys, URIs, limits, the last capabilityInvocation key).

use ghostd_types::identity::{
    ALSO_KNOWN_AS_MAX, CONTROLLERS_MAX, Controller, DOCUMENT_BYTES_MAX, DidDocument, DidId,
    DidRecord, IdentityCall, KeyMaterial, METHODS_MAX, Relationship, SERVICE_TYPE_BYTES_MAX,
    SERVICES_MAX, Service, VerificationMethod, valid_fragment, valid_uri,
};
use ghostplane_primitives::codec::to_bytes;

use super::IdentityError;
use super::store::record;
use ghostd_module::state::Read;

/// Applies a document change to `current` (checked afterwards as a whole).
pub(super) fn change(
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
pub(super) fn check_document(document: &DidDocument) -> Result<(), IdentityError> {
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

//! The identity namespace (`identity_*`): DID resolution, permissions, grants and
//! token verification; and the same resolution over HTTP ([`resolver_route`]).

use ghostd_types::api::{
    GrantView, IdentityApiServer, PermissionView, ResolveOptions, RpcResult, TokenVerdict,
    VERIFY_GRANTORS_MAX, VerifyOptions, VersionId,
};
use ghostd_types::identity::DidId;
use ghostplane_rpc::routes::{GetRoute, RouteReply};
use ghostplane_rpc::{internal, invalid_params as invalid};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;

use ghostd_module::ChainView;

use crate::{self as identity, VersionQuery};

/// The `identity_*` handlers, over the chain's committed state.
pub struct IdentityRpc {
    chain: ChainView,
}

impl IdentityRpc {
    /// Handlers over `chain`.
    pub fn new(chain: ChainView) -> Self {
        Self { chain }
    }
}

fn parse_did(text: &str) -> Result<DidId, ErrorObjectOwned> {
    DidId::parse(text).map_err(|e| invalid(e.to_string()))
}

/// The version a resolution asks for, or the DID Resolution error
/// `invalidOptions`.
fn version_query(options: &ResolveOptions) -> Result<VersionQuery, Value> {
    let invalid_options = || {
        serde_json::json!({
            "@context": "https://w3id.org/did-resolution/v1",
            "didDocument": null,
            "didResolutionMetadata": { "error": "invalidOptions" },
            "didDocumentMetadata": {},
        })
    };
    match (&options.version_id, &options.version_time) {
        (Some(_), Some(_)) => Err(invalid_options()),
        (Some(VersionId::Number(height)), None) => Ok(VersionQuery::Id(*height)),
        (Some(VersionId::Text(text)), None) => text
            .parse()
            .map(VersionQuery::Id)
            .map_err(|_| invalid_options()),
        (None, Some(time)) => identity::parse_time(time)
            .map(VersionQuery::Time)
            .ok_or_else(invalid_options),
        (None, None) => Ok(VersionQuery::Latest),
    }
}

/// Resolves `did` at `options` on `chain`'s committed state.
fn resolve_on(
    chain: &ChainView,
    did: &str,
    options: &ResolveOptions,
) -> Result<Value, ErrorObjectOwned> {
    match version_query(options) {
        Ok(query) => chain
            .read(|s| identity::resolve(s, did, query))
            .map_err(internal),
        Err(result) => Ok(result),
    }
}

#[jsonrpsee::core::async_trait]
impl IdentityApiServer for IdentityRpc {
    fn resolve(&self, did: String, options: Option<ResolveOptions>) -> RpcResult<Value> {
        resolve_on(&self.chain, &did, &options.unwrap_or_default())
    }

    fn has_permission(
        &self,
        did: String,
        permission: String,
        grantor: Option<String>,
    ) -> RpcResult<PermissionView> {
        let did = parse_did(&did)?;
        let grantor = grantor.as_deref().map(parse_did).transpose()?;
        let height = self.chain.head_number();
        let grantors = self
            .chain
            .read(|s| identity::has_permission(s, &did, &permission, grantor.as_ref(), height))
            .map_err(internal)?;
        Ok(PermissionView {
            held: !grantors.is_empty(),
            grantors: grantors.iter().map(DidId::to_string).collect(),
            height,
        })
    }

    fn get_grants(&self, did: String) -> RpcResult<Vec<GrantView>> {
        let did = parse_did(&did)?;
        let grants = self
            .chain
            .read(|s| identity::grants(s, &did))
            .map_err(internal)?;
        Ok(grants.iter().map(GrantView::from).collect())
    }

    fn verify_token(&self, jwt: String, options: Option<VerifyOptions>) -> RpcResult<TokenVerdict> {
        let options = options.unwrap_or_default();
        if options.grantors.len() > VERIFY_GRANTORS_MAX {
            return Err(invalid(format!(
                "{} grantors named: at most {VERIFY_GRANTORS_MAX}",
                options.grantors.len()
            )));
        }
        let grantors = options
            .grantors
            .iter()
            .map(|g| parse_did(g))
            .collect::<Result<Vec<_>, _>>()?;
        let height = self.chain.head_number();
        let now_s = self.chain.now_ms() / 1000;
        let result = self
            .chain
            .read(|s| {
                identity::verify_token_from(
                    s,
                    &jwt,
                    options.aud.as_deref(),
                    &grantors,
                    now_s,
                    height,
                )
            })
            .map_err(internal)?;
        Ok(TokenVerdict::new(result, height))
    }
}

/// `GET /1.0/identifiers/{did}[?versionId=N|versionTime=T]`: the DIF Universal
/// Resolver driver convention. 200 with the resolution result, or 400
/// (`invalidDid`, `invalidOptions`), 404 (`notFound`), 501
/// (`methodNotSupported`), 500 (storage).
pub fn resolver_route(chain: ChainView) -> GetRoute {
    const RESULT: &str = "application/ld+json;profile=\"https://w3id.org/did-resolution\"";
    GetRoute {
        prefix: "/1.0/identifiers/",
        post: false,
        handler: std::sync::Arc::new(move |request| {
            let options = ResolveOptions {
                version_id: ghostplane_rpc::routes::query_param(request.query, "versionId")
                    .map(VersionId::Text),
                version_time: ghostplane_rpc::routes::query_param(request.query, "versionTime"),
            };
            match resolve_on(&chain, request.tail, &options) {
                Ok(result) => {
                    let status = match identity::resolution_error(&result) {
                        None => 200,
                        Some("notFound") => 404,
                        Some("methodNotSupported") => 501,
                        Some(_) => 400,
                    };
                    RouteReply {
                        status,
                        content_type: RESULT,
                        body: result.to_string().into_bytes(),
                        max_age: None,
                    }
                }
                Err(e) => RouteReply::text(500, e.message()),
            }
        }),
    }
}

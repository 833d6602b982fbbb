//! # ghostplane-rpc
//!
//! What the three JSON-RPC servers (the L2 sequencer, ghostd, the prover
//! coordinator) share, so that a rule about the wire lives in one place:
//!
//! - [`codes`]: the project-wide error-code table. Every code has one meaning
//!   whichever server returns it; docs/rpc.md documents the table.
//! - [`serve`]: the server bootstrap. HTTP and WebSocket on one port, `GET /health`
//!   proxied to the module's `system_health` method, bounded request and response
//!   bodies, connections, subscriptions and batches. CORS allows any origin
//!   ([`cors`]): the block explorer served on the L2's port reads the L1's, and
//!   dapps call both from their own pages. No method holds a credential or acts
//!   for the caller beyond what a signed payload authorizes, so a page on another
//!   origin can do nothing that `curl` cannot.
//! - [`ids`]: JSON-RPC ids as the spec has them (a number is echoed, anything
//!   else is `-32600` with `id: null`), in front of jsonrpsee on HTTP and WebSocket.
//! - [`routes`]: plain `GET` routes beside JSON-RPC on the same port
//!   ([`serve_with_routes`]), e.g. ghostd's DID resolver at `/1.0/identifiers/{did}`.
//! - [`invalid_params`], [`internal`], [`error`]: typed errors for handlers.
//! - [`metrics::serve_metrics`]: the Prometheus endpoint every binary serves.
//!
//! ## Data flow
//!
//! ```text
//! a crate's RpcModule (from its #[rpc(server)] trait) + Limits ──► serve ──► (handle, bound address)
//! handler failure ──► error(code from codes, message, data) ──► JSON-RPC error object
//! ```
//!
//! ## Limits
//!
//! Every server is started with explicit [`Limits`]; nothing here is unbounded.

use std::net::SocketAddr;

use jsonrpsee::server::middleware::http::ProxyGetRequestLayer;
use jsonrpsee::server::{BatchRequestConfig, RpcModule, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;

pub mod codes;
pub mod ids;
pub mod metrics;
pub mod routes;

/// The method `GET /health` is answered by; every module served by [`serve`]
/// registers it.
pub const HEALTH_METHOD: &str = "system_health";

/// A server's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request or response body, bytes.
    pub body_bytes_max: u32,
    /// Most open connections.
    pub connections_max: u32,
    /// Most subscriptions per connection.
    pub subscriptions_per_connection_max: u32,
    /// Most calls in one JSON-RPC batch (0: batches refused).
    pub batch_max: u32,
}

impl Limits {
    /// `body_bytes_max` with jsonrpsee's connection bound (256), 1024 subscriptions
    /// per connection and batches of at most 64 calls.
    pub fn with_body(body_bytes_max: u32) -> Self {
        Self {
            body_bytes_max,
            connections_max: 256,
            subscriptions_per_connection_max: 1024,
            batch_max: 64,
        }
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The health route could not be set up (a bug).
    #[error("health route: {0}")]
    Health(String),
}

/// Starts `module` on `addr` (port 0 picks a free one) with `limits`; returns the
/// server's handle and bound address. The module must register [`HEALTH_METHOD`].
pub async fn serve<T: Send + Sync + 'static>(
    addr: SocketAddr,
    limits: Limits,
    module: RpcModule<T>,
) -> Result<(ServerHandle, SocketAddr), ServeError> {
    serve_with_routes(addr, limits, module, Vec::new()).await
}

/// How long a browser may cache a CORS preflight answer, seconds.
pub const CORS_MAX_AGE_SECS: u64 = 600;

/// The CORS layer of every server: any origin, `GET` and `POST`, the
/// `Content-Type` header, no credentials; preflights (`OPTIONS`) are answered here
/// and cached for [`CORS_MAX_AGE_SECS`].
pub fn cors() -> tower_http::cors::CorsLayer {
    use tower_http::cors::{Any, CorsLayer};
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(CORS_MAX_AGE_SECS))
}

/// [`serve`], with plain `GET` `routes` on the same port.
pub async fn serve_with_routes<T: Send + Sync + 'static>(
    addr: SocketAddr,
    limits: Limits,
    module: RpcModule<T>,
    routes: Vec<routes::GetRoute>,
) -> Result<(ServerHandle, SocketAddr), ServeError> {
    let health = ProxyGetRequestLayer::new([("/health", HEALTH_METHOD)])
        .map_err(|e| ServeError::Health(e.to_string()))?;
    let batches = match limits.batch_max {
        0 => BatchRequestConfig::Disabled,
        n => BatchRequestConfig::Limit(n),
    };
    let config = ServerConfig::builder()
        .max_request_body_size(limits.body_bytes_max)
        .max_response_body_size(limits.body_bytes_max)
        .max_connections(limits.connections_max)
        .max_subscriptions_per_connection(limits.subscriptions_per_connection_max)
        .set_batch_request_config(batches)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(cors())
                .layer(routes::GetRoutesLayer::new(routes))
                .layer(health)
                .layer(ids::IdGuardLayer::new(limits.body_bytes_max)),
        )
        .build(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = server
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((server.start(module), local))
}

/// An error with `code` (from [`codes`]), a message a user can act on, and
/// optional machine-readable data.
pub fn error(
    code: i32,
    message: impl Into<String>,
    data: Option<impl Serialize>,
) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), data)
}

/// [`codes::INVALID_PARAMS`] with `message`.
pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    error(codes::INVALID_PARAMS, message, None::<()>)
}

/// [`codes::INTERNAL`]: the server failed behind a query (storage); retry or
/// report it.
pub fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    self::error(codes::INTERNAL, error.to_string(), None::<()>)
}

/// Where and how a transaction ended: the fields every receipt view shares (flatten
/// it into the view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The transaction's hash.
    pub tx_hash: String,
    /// Its block.
    pub block: u64,
    /// Its position in the block.
    pub index: u32,
    /// `success` or `failed`.
    pub status: String,
    /// Why it failed (`null` on success).
    pub error: Option<String>,
}

impl Outcome {
    /// The outcome of `tx_hash` at `block`/`index`; `failure` is why it failed.
    pub fn new(
        tx_hash: impl std::fmt::Display,
        block: u64,
        index: u32,
        failure: Option<String>,
    ) -> Self {
        Self {
            tx_hash: tx_hash.to_string(),
            block,
            index,
            status: if failure.is_some() {
                "failed"
            } else {
                "success"
            }
            .into(),
            error: failure,
        }
    }
}

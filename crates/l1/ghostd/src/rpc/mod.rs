//! JSON-RPC over HTTP and WebSocket on one port (default 127.0.0.1:8545), plus
//! `GET /health`: the server side of [`ghostd_types::api`] (method table there).
//! Submission errors carry the codes of [`SubmitError::code`](crate::SubmitError::code), from the project-wide
//! table `ghostplane_rpc::codes`.
//!
//! One file per namespace, each with its own handler type over the node:
//! `ghost`, `ledger`, `consensus`, `rollup`, `identity` (also the
//! HTTP resolver route), `naming`. [`module`] merges them with `system_health`;
//! [`serve`] adds the HTTP routes (DID resolver, DNS over HTTPS).

use std::net::SocketAddr;

use ghostd_types::api::{
    ConsensusApiServer, GhostApiServer, IdentityApiServer, LedgerApiServer, NamingApiServer,
    RollupApiServer,
};
use ghostplane_primitives::L1Address;
use ghostplane_rpc::{internal, invalid_params as invalid};
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;

use crate::node::{Ghostd, NodeError};

mod consensus;
mod ghost;
mod identity;
mod ledger;
mod naming;
mod rollup;

pub use identity::resolver_route;

fn parse_address(text: &str) -> Result<L1Address, ErrorObjectOwned> {
    L1Address::from_hex(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex address")))
}

/// Builds the RPC module: the six namespaces and `system_health`.
pub fn module(node: Ghostd) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(());
    module.merge(GhostApiServer::into_rpc(ghost::GhostRpc::new(node.clone())))?;
    module.merge(LedgerApiServer::into_rpc(ledger::LedgerRpc::new(
        node.clone(),
    )))?;
    module.merge(RollupApiServer::into_rpc(rollup::RollupRpc::new(
        node.clone(),
    )))?;
    module.merge(ConsensusApiServer::into_rpc(consensus::ConsensusRpc::new(
        node.clone(),
    )))?;
    module.merge(IdentityApiServer::into_rpc(identity::IdentityRpc::new(
        node.clone(),
    )))?;
    module.merge(NamingApiServer::into_rpc(naming::NamingRpc::new(
        node.clone(),
    )))?;
    module.register_method(ghostplane_rpc::HEALTH_METHOD, move |_, _, _| {
        node.read(crate::modules::rollup::status)
            .map(|_| "ok")
            .map_err(internal)
    })?;
    Ok(module)
}

/// Starts the JSON-RPC server on the configured address; returns its handle and
/// bound address.
pub async fn serve(node: &Ghostd) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let limits = ghostplane_rpc::Limits::with_body(node.config().rpc_body_bytes_max);
    let module = module(node.clone()).map_err(|e| NodeError::Rpc(e.to_string()))?;
    let mut routes = vec![resolver_route(node.clone())];
    routes.extend(crate::dns::doh_routes(crate::dns::NameServer::new(
        node.clone(),
    )));
    ghostplane_rpc::serve_with_routes(node.config().rpc_addr, limits, module, routes)
        .await
        .map_err(|e| NodeError::Rpc(e.to_string()))
}

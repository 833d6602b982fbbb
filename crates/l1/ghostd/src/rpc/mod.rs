//! JSON-RPC over HTTP and WebSocket on one port (default 127.0.0.1:8545), plus
//! `GET /health`: the server side of [`ghostd_types::api`] (method table there).
//! Submission errors carry the codes of [`SubmitError::code`](crate::SubmitError::code), from the project-wide
//! table `ghostplane_rpc::codes`.
//!
//! The chain's own namespaces, one file and one handler type each: `ghost`,
//! `consensus`. The modules' namespaces come from their crates, through the
//! `Module::rpc` hook of every module the node runs (ledger, rollup, identity,
//! naming), served over the node's [`ChainView`](crate::module::ChainView).
//! [`module`] merges them with `system_health`; [`serve`] adds the modules' HTTP
//! routes (`Module::http_routes`: the DID resolver, DNS over HTTPS).

use std::net::SocketAddr;

use ghostd_types::api::{ConsensusApiServer, GhostApiServer};
use ghostplane_rpc::internal;
use jsonrpsee::server::{RpcModule, ServerHandle};

use crate::node::{Ghostd, NodeError};

mod consensus;
mod ghost;

/// Builds the RPC module: the chain's namespaces, every module's, and
/// `system_health`.
pub fn module(node: Ghostd) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(());
    module.merge(GhostApiServer::into_rpc(ghost::GhostRpc::new(node.clone())))?;
    module.merge(ConsensusApiServer::into_rpc(consensus::ConsensusRpc::new(
        node.clone(),
    )))?;
    let chain = node.chain_view();
    for each in node.modules().iter() {
        if let Some(namespace) = each.rpc(&chain)? {
            module.merge(namespace)?;
        }
    }
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
    let chain = node.chain_view();
    let routes = node
        .modules()
        .iter()
        .flat_map(|m| m.http_routes(&chain))
        .collect();
    ghostplane_rpc::serve_with_routes(node.config().rpc_addr, limits, module, routes)
        .await
        .map_err(|e| NodeError::Rpc(e.to_string()))
}

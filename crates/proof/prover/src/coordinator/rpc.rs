//! [`CoordinatorRpc`]: the coordinator as a JSON-RPC server. It implements
//! [`ProverApiServer`] by calling the [`Coordinator`]'s methods and mapping their
//! errors to [`CoordinatorError::code`], and runs lease expiry while it serves.

use std::net::SocketAddr;
use std::time::Duration;

use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::json;

use super::{Coordinator, CoordinatorError, CoordinatorStatus, JobId, Lease, Registration};
use crate::api::{ProverApiServer, RpcResult};
use crate::error::ProverError;

/// The JSON-RPC face of a [`Coordinator`].
pub(super) struct CoordinatorRpc {
    coordinator: Coordinator,
}

impl CoordinatorRpc {
    pub(super) fn new(coordinator: Coordinator) -> Self {
        Self { coordinator }
    }

    /// Starts the JSON-RPC server; also runs lease expiry twice a second.
    pub(super) async fn serve(self) -> Result<(ServerHandle, SocketAddr), ProverError> {
        let rpc_error = |e: String| ProverError::Io {
            context: "prover coordinator RPC".into(),
            source: std::io::Error::other(e),
        };
        let expiry = self.coordinator.clone();
        let config = self.coordinator.config();
        let limits = ghostplane_rpc::Limits::with_body(config.rpc_body_bytes_max);
        let listen = config.listen;
        let module = self.into_module().map_err(|e| rpc_error(e.to_string()))?;
        let (handle, local) = ghostplane_rpc::serve(listen, limits, module)
            .await
            .map_err(|e| rpc_error(e.to_string()))?;
        let stopped = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            while !stopped.is_stopped() {
                tick.tick().await;
                if let Err(e) = expiry.expire_leases() {
                    tracing::error!(error = %e, "lease expiry failed");
                }
            }
        });
        Ok((handle, local))
    }

    /// The `prover_*` methods and the health check.
    fn into_module(self) -> Result<RpcModule<Self>, jsonrpsee::core::RegisterMethodError> {
        let mut module = self.into_rpc();
        module.register_method(ghostplane_rpc::HEALTH_METHOD, |_, rpc, _| {
            let c = &rpc.coordinator;
            json!({
                "ok": true,
                "circuit": hex::encode(c.params_hash()),
                "proof_system": c.backend().system(),
                "time_ms": c.config().clock.unix_ms(),
            })
        })?;
        Ok(module)
    }
}

fn rpc_err(e: &CoordinatorError) -> ErrorObjectOwned {
    ghostplane_rpc::error(e.code(), e.to_string(), None::<()>)
}

fn job_param(text: &str) -> Result<JobId, ErrorObjectOwned> {
    JobId::parse(text).ok_or_else(|| {
        ghostplane_rpc::invalid_params(format!("`{text}` is not a job id (batch:chunk)"))
    })
}

impl ProverApiServer for CoordinatorRpc {
    fn register(
        &self,
        circuit_hash: String,
        name: String,
        token: Option<String>,
    ) -> RpcResult<Registration> {
        self.coordinator
            .register(&circuit_hash, &name, token.as_deref())
            .map_err(|e| rpc_err(&e))
    }

    fn lease(&self, session: String) -> RpcResult<Option<Lease>> {
        self.coordinator.lease(&session).map_err(|e| rpc_err(&e))
    }

    fn heartbeat(&self, session: String, job: String) -> RpcResult<u64> {
        let left = self
            .coordinator
            .heartbeat(&session, job_param(&job)?)
            .map_err(|e| rpc_err(&e))?;
        Ok(u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
    }

    fn submit(
        &self,
        session: String,
        job: String,
        proof: String,
        prove_ms: u64,
    ) -> RpcResult<bool> {
        self.coordinator
            .submit(&session, job_param(&job)?, &proof, prove_ms)
            .map_err(|e| rpc_err(&e))?;
        Ok(true)
    }

    fn status(&self) -> RpcResult<CoordinatorStatus> {
        Ok(self.coordinator.status())
    }

    fn batch_proofs(&self, batch: u64) -> RpcResult<Option<Vec<String>>> {
        let proofs = self
            .coordinator
            .batch_proofs(batch)
            .map_err(|e| rpc_err(&e))?;
        Ok(proofs.map(|p| p.iter().map(hex::encode).collect()))
    }
}

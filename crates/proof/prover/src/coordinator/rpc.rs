//! The JSON-RPC side: [`ProverApiServer`] over the coordinator, and the server.

use super::*;

impl Coordinator {
    /// Starts the JSON-RPC server; also runs lease expiry twice a second.
    pub async fn serve(&self) -> Result<(ServerHandle, SocketAddr), ProverError> {
        let rpc_error = |e: String| ProverError::Io {
            context: "prover coordinator RPC".into(),
            source: std::io::Error::other(e),
        };
        let module = rpc_module(self.clone()).map_err(|e| rpc_error(e.to_string()))?;
        let limits = ghostplane_rpc::Limits::with_body(self.config.rpc_body_bytes_max);
        let (handle, local) = ghostplane_rpc::serve(self.config.listen, limits, module)
            .await
            .map_err(|e| rpc_error(e.to_string()))?;
        let expiry = self.clone();
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
}

fn rpc_err(e: &CoordinatorError) -> ErrorObjectOwned {
    ghostplane_rpc::error(e.code(), e.to_string(), None::<()>)
}

fn job_param(text: &str) -> Result<JobId, ErrorObjectOwned> {
    JobId::parse(text).ok_or_else(|| {
        ghostplane_rpc::invalid_params(format!("`{text}` is not a job id (batch:chunk)"))
    })
}

impl ProverApiServer for Coordinator {
    fn register(
        &self,
        circuit_hash: String,
        name: String,
        token: Option<String>,
    ) -> RpcResult<Registration> {
        Coordinator::register(self, &circuit_hash, &name, token.as_deref()).map_err(|e| rpc_err(&e))
    }

    fn lease(&self, session: String) -> RpcResult<Option<Lease>> {
        Coordinator::lease(self, &session).map_err(|e| rpc_err(&e))
    }

    fn heartbeat(&self, session: String, job: String) -> RpcResult<u64> {
        let left =
            Coordinator::heartbeat(self, &session, job_param(&job)?).map_err(|e| rpc_err(&e))?;
        Ok(u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
    }

    fn submit(
        &self,
        session: String,
        job: String,
        proof: String,
        prove_ms: u64,
    ) -> RpcResult<bool> {
        Coordinator::submit(self, &session, job_param(&job)?, &proof, prove_ms)
            .map_err(|e| rpc_err(&e))?;
        Ok(true)
    }

    fn status(&self) -> RpcResult<CoordinatorStatus> {
        Ok(Coordinator::status(self))
    }

    fn batch_proofs(&self, batch: u64) -> RpcResult<Option<Vec<String>>> {
        let proofs = Coordinator::batch_proofs(self, batch).map_err(|e| rpc_err(&e))?;
        Ok(proofs.map(|p| p.iter().map(hex::encode).collect()))
    }
}

fn rpc_module(
    coordinator: Coordinator,
) -> Result<RpcModule<Coordinator>, jsonrpsee::core::RegisterMethodError> {
    let mut module = coordinator.into_rpc();
    module.register_method(ghostplane_rpc::HEALTH_METHOD, |_, c, _| {
        json!({
            "ok": true,
            "circuit": hex::encode(c.params_hash()),
            "proof_system": c.backend.system(),
            "time_ms": c.config.clock.unix_ms(),
        })
    })?;
    Ok(module)
}

//! The prover coordinator's JSON-RPC API as a typed jsonrpsee trait
//! ([`ProverApi`]): the coordinator implements the generated `ProverApiServer`,
//! workers call the generated `ProverApiClient` (through
//! [`CoordinatorClient`](crate::worker::CoordinatorClient)). No `prover_*` method
//! name is written outside this trait.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `prover_register` | circuit hash (hex), worker name, token (optional) | [`Registration`] |
//! | `prover_lease` | session | [`Lease`] or `null` (no ready job) |
//! | `prover_heartbeat` | session, job (`batch:chunk`) | ms the lease now lasts |
//! | `prover_submit` | session, job, proof (hex), prove time (ms) | `true` once verified |
//! | `prover_status` | | [`CoordinatorStatus`] |
//! | `prover_batchProofs` | batch | each chunk's proof (hex) once all are proven, else `null` |
//!
//! Errors carry [`CoordinatorError::code`](crate::coordinator::CoordinatorError::code),
//! from the project-wide table `ghostplane_rpc::codes`.

use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;

use crate::coordinator::{CoordinatorStatus, Lease, Registration};

/// Result of a handler.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// The coordinator (`prover_*`).
#[rpc(server, client, namespace = "prover")]
pub trait ProverApi {
    /// Registers a worker whose keys are for `circuit_hash`, presenting `token`.
    #[method(name = "register")]
    fn register(
        &self,
        circuit_hash: String,
        name: String,
        token: Option<String>,
    ) -> RpcResult<Registration>;

    /// Leases the oldest ready job to the worker of `session`.
    #[method(name = "lease", blocking)]
    fn lease(&self, session: String) -> RpcResult<Option<Lease>>;

    /// Extends the lease on `job`; returns the milliseconds it now lasts.
    #[method(name = "heartbeat")]
    fn heartbeat(&self, session: String, job: String) -> RpcResult<u64>;

    /// Submits the proof of `job` (hex); `true` once it verifies.
    #[method(name = "submit", blocking)]
    fn submit(&self, session: String, job: String, proof: String, prove_ms: u64)
    -> RpcResult<bool>;

    /// Counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<CoordinatorStatus>;

    /// Every chunk proof of `batch` (hex), once all are proven.
    #[method(name = "batchProofs", blocking)]
    fn batch_proofs(&self, batch: u64) -> RpcResult<Option<Vec<String>>>;
}

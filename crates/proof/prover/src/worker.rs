//! A stateless prover worker: registers with a coordinator (presenting its token),
//! leases chunk jobs, proves them on its own rayon pool and submits the proofs,
//! renewing its lease by heartbeat while it proves.
//!
//! A worker holds nothing but its keys and token: killing one loses at most the job
//! it was proving, which the coordinator leases again once the lease expires. It
//! stops with [`WorkerError::Refused`] when the coordinator refuses it for good
//! (another circuit, a missing or unlisted token, a ban); while its token is
//! suspended it waits and registers again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ghostplane_rpc::codes;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

use crate::api::ProverApiClient;
use crate::auth::WorkerToken;
use crate::backend::ProofBackend;
use crate::coordinator::{CoordinatorStatus, Lease, Registration};
use crate::error::ProverError;

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Coordinator URL (`http://127.0.0.1:9095`).
    pub coordinator: String,
    /// Proving threads.
    pub threads: usize,
    /// Jobs proven at once, sharing the threads (each lease loop is its own
    /// coordinator session); 0: one per thread. Two segments on two threads keep
    /// both busy through each proof's serial stretches (~10% more proofs/s).
    pub jobs: usize,
    /// Name reported to the coordinator.
    pub name: String,
    /// Wait between polls when the queue is empty.
    pub idle_poll: Duration,
    /// Stop after this many proofs (0 = run until stopped).
    pub proofs_max: u64,
    /// The token presented when registering (`None`: only open coordinators admit it).
    pub token: Option<WorkerToken>,
}

/// Wait before registering again while the worker's token is suspended.
pub const SUSPENDED_RETRY: Duration = Duration::from_secs(60);

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The coordinator refused us for good (circuit mismatch, token, ban).
    #[error("coordinator refused this worker: {0}")]
    Refused(String),
    /// Local failure.
    #[error(transparent)]
    Prover(#[from] ProverError),
    /// Client construction failed.
    #[error("cannot reach coordinator at {url}: {reason}")]
    Client {
        /// URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A JSON-RPC client for the coordinator.
#[derive(Clone)]
pub struct CoordinatorClient {
    client: HttpClient,
}

impl CoordinatorClient {
    /// Connects (lazily) to `url`.
    pub fn new(url: &str) -> Result<Self, WorkerError> {
        let client = HttpClientBuilder::default()
            .max_request_size(32 * 1024 * 1024)
            .max_response_size(32 * 1024 * 1024)
            .request_timeout(Duration::from_secs(60))
            .build(url)
            .map_err(|e| WorkerError::Client {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self { client })
    }

    /// `prover_register`: the worker number and the session secret for later calls.
    pub async fn register(
        &self,
        circuit_hash: &str,
        name: &str,
        token: Option<&WorkerToken>,
    ) -> Result<Registration, jsonrpsee::core::ClientError> {
        let token = token.map(WorkerToken::expose);
        ProverApiClient::register(
            &self.client,
            circuit_hash.to_string(),
            name.to_string(),
            token.map(str::to_string),
        )
        .await
    }

    /// `prover_lease`.
    pub async fn lease(
        &self,
        session: &str,
    ) -> Result<Option<Lease>, jsonrpsee::core::ClientError> {
        ProverApiClient::lease(&self.client, session.to_string()).await
    }

    /// `prover_heartbeat`: milliseconds the lease now lasts.
    pub async fn heartbeat(
        &self,
        session: &str,
        job: &str,
    ) -> Result<u64, jsonrpsee::core::ClientError> {
        ProverApiClient::heartbeat(&self.client, session.to_string(), job.to_string()).await
    }

    /// `prover_submit`.
    pub async fn submit(
        &self,
        session: &str,
        job: &str,
        proof_hex: &str,
        prove_ms: u64,
    ) -> Result<bool, jsonrpsee::core::ClientError> {
        ProverApiClient::submit(
            &self.client,
            session.to_string(),
            job.to_string(),
            proof_hex.to_string(),
            prove_ms,
        )
        .await
    }

    /// `prover_status`.
    pub async fn status(&self) -> Result<CoordinatorStatus, jsonrpsee::core::ClientError> {
        ProverApiClient::status(&self.client).await
    }
}

/// The coordinator's error code, if the call reached it.
pub fn error_code(e: &jsonrpsee::core::ClientError) -> Option<i32> {
    match e {
        jsonrpsee::core::ClientError::Call(obj) => Some(obj.code()),
        _ => None,
    }
}

/// Whether the coordinator refused this worker for good.
fn is_final(e: &jsonrpsee::core::ClientError) -> bool {
    matches!(
        error_code(e),
        Some(
            codes::CIRCUIT_MISMATCH | codes::TOKEN_MISSING | codes::TOKEN_REJECTED | codes::BANNED
        )
    )
}

/// Runs a worker until `stop` is set (or `proofs_max` proofs are accepted):
/// `config.jobs` lease loops (one per thread by default) over one proving pool.
/// The first loop the coordinator refuses for good stops the others.
pub async fn run_worker(
    config: WorkerConfig,
    backend: Arc<dyn ProofBackend>,
    stop: Arc<AtomicBool>,
) -> Result<u64, WorkerError> {
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads.max(1))
            .thread_name(|i| format!("prove-{i}"))
            .build()
            .map_err(|e| WorkerError::Client {
                url: config.coordinator.clone(),
                reason: format!("cannot start {} proving threads: {e}", config.threads),
            })?,
    );
    let jobs = match config.jobs {
        0 => config.threads.max(1),
        n => n,
    };
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop_all = Arc::new(AtomicBool::new(false));
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..jobs {
        let lease_loop = lease_loop(
            config.clone(),
            Arc::clone(&backend),
            Arc::clone(&pool),
            Arc::clone(&stop),
            Arc::clone(&stop_all),
            Arc::clone(&accepted),
        );
        loops.spawn(lease_loop);
    }
    let mut first_error = None;
    while let Some(ended) = loops.join_next().await {
        let error = match ended {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(e) => Some(WorkerError::Client {
                url: config.coordinator.clone(),
                reason: format!("a lease loop panicked: {e}"),
            }),
        };
        if let Some(e) = error {
            stop_all.store(true, Ordering::Relaxed);
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(accepted.load(Ordering::Relaxed)),
    }
}

/// One lease loop: register, lease a job, prove it on `pool` (heartbeating),
/// submit; until `stop` or `stop_all`, or `proofs_max` proofs in all.
async fn lease_loop(
    config: WorkerConfig,
    backend: Arc<dyn ProofBackend>,
    pool: Arc<rayon::ThreadPool>,
    stop: Arc<AtomicBool>,
    stop_all: Arc<AtomicBool>,
    accepted: Arc<std::sync::atomic::AtomicU64>,
) -> Result<(), WorkerError> {
    let client = CoordinatorClient::new(&config.coordinator)?;
    let circuit = hex::encode(backend.params_hash());
    let mut backoff = Duration::from_millis(200);
    let mut session: Option<String> = None;
    while !stop.load(Ordering::Relaxed) && !stop_all.load(Ordering::Relaxed) {
        let id = match &session {
            Some(s) => s.clone(),
            None => match client
                .register(&circuit, &config.name, config.token.as_ref())
                .await
            {
                Ok(registration) => {
                    tracing::info!(worker = registration.worker, "registered with coordinator");
                    backoff = Duration::from_millis(200);
                    session = Some(registration.session.clone());
                    registration.session
                }
                Err(e) if is_final(&e) => return Err(WorkerError::Refused(e.to_string())),
                Err(e) if error_code(&e) == Some(codes::SUSPENDED) => {
                    tracing::error!(error = %e, "worker token suspended; waiting");
                    tokio::time::sleep(SUSPENDED_RETRY).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot register with the coordinator; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        let lease = match client.lease(&id).await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                tokio::time::sleep(config.idle_poll).await;
                continue;
            }
            Err(e) if is_final(&e) => return Err(WorkerError::Refused(e.to_string())),
            Err(e) => {
                // Unknown session (coordinator restarted, evicted) or network: register
                // again.
                tracing::warn!(error = %e, "lease failed; re-registering");
                session = None;
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        if lease.proof_system != backend.system() {
            return Err(WorkerError::Refused(format!(
                "job {} is for {}, this worker proves {}",
                lease.job,
                lease.proof_system,
                backend.system()
            )));
        }
        let Ok(witness) = hex::decode(&lease.witness) else {
            tracing::error!(job = lease.job, "job witness is not hex; skipping");
            continue;
        };
        tracing::info!(job = lease.job, "proving");
        let started = Instant::now();
        let proving = {
            let backend = Arc::clone(&backend);
            let pool = Arc::clone(&pool);
            tokio::task::spawn_blocking(move || pool.install(|| backend.prove(&witness)))
        };
        tokio::pin!(proving);
        let beat = Duration::from_millis((lease.lease_ms / 3).max(50));
        let mut lost = false;
        let result = loop {
            tokio::select! {
                r = &mut proving => break r,
                () = tokio::time::sleep(beat), if !lost => {
                    if let Err(e) = client.heartbeat(&id, &lease.job).await {
                        // The lease is gone (expired, hold limit, coordinator restart):
                        // finish proving to free the pool, but do not submit.
                        lost = matches!(
                            error_code(&e),
                            Some(codes::NOT_LEASED | codes::UNKNOWN_WORKER)
                        );
                        tracing::warn!(job = lease.job, error = %e, lost, "heartbeat refused");
                    }
                }
            }
        };
        if lost {
            continue;
        }
        let proof = match result {
            Ok(Ok(proof)) => proof,
            Ok(Err(e)) => {
                tracing::error!(job = lease.job, error = %e, "proving failed");
                continue;
            }
            Err(e) => {
                tracing::error!(job = lease.job, error = %e, "proving task panicked");
                continue;
            }
        };
        let prove_ms = started.elapsed().as_millis() as u64;
        metrics::histogram!("ghostplane_worker_prove_seconds")
            .record(started.elapsed().as_secs_f64());
        match client
            .submit(&id, &lease.job, &hex::encode(&proof), prove_ms)
            .await
        {
            Ok(_) => {
                let total = accepted.fetch_add(1, Ordering::Relaxed) + 1;
                metrics::counter!("ghostplane_worker_proofs_total", "result" => "accepted")
                    .increment(1);
                tracing::info!(job = lease.job, prove_ms, "proof accepted");
                if config.proofs_max > 0 && total >= config.proofs_max {
                    stop_all.store(true, Ordering::Relaxed);
                    break;
                }
            }
            Err(e) if is_final(&e) => return Err(WorkerError::Refused(e.to_string())),
            Err(e) if error_code(&e) == Some(codes::BAD_PROOF) => {
                // Our own proof did not verify: keys or build differ from the
                // coordinator's in a way the circuit hash did not catch.
                tracing::error!(job = lease.job, error = %e, "proof refused");
            }
            Err(e) => {
                metrics::counter!("ghostplane_worker_proofs_total", "result" => "refused")
                    .increment(1);
                tracing::warn!(job = lease.job, error = %e, "proof not accepted");
            }
        }
    }
    Ok(())
}

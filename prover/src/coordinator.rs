//! The job coordinator: a persistent queue of chunk proof jobs, leased to workers
//! over JSON-RPC, with every submitted proof verified before it is accepted.
//!
//! Job life: `queued → leased(worker, deadline) → proven`, or back to `queued` when the
//! lease expires or the proof is refused, and `failed` after `attempts_max` leases.
//! Leases are renewed by heartbeats. Jobs live in the `jobs` column of the prover's
//! RocksDB (key `batch ‖ chunk`, big endian), written together with the tree version
//! that produced them; proven jobs are written with a synced write before the worker
//! is told "accepted". Leases are not persisted: after a restart every unproven job is
//! queued again (its attempt count kept).
//!
//! JSON-RPC methods (default 127.0.0.1:9095, `GET /health` too):
//! `prover_register(circuit_hash, name)`, `prover_lease(worker)`,
//! `prover_heartbeat(worker, job)`, `prover_submit(worker, job, proof, prove_ms)`,
//! `prover_status()`, `prover_batchProofs(batch)`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use borsh::{BorshDeserialize, BorshSerialize};
use jsonrpsee::server::middleware::http::ProxyGetRequestLayer;
use jsonrpsee::server::{RpcModule, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use rocksdb::{DB, WriteBatch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ProverError;
use crate::keys::{ChunkProof, ChunkVerifier};
use crate::tree::{AccountTree, cf};
use crate::witness::ChunkWitness;

/// Column of jobs.
pub const CF_JOBS: &str = "jobs";

/// Coordinator bounds and timing.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// JSON-RPC listen address.
    pub listen: SocketAddr,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// Leases a job gets before it is marked failed.
    pub attempts_max: u32,
    /// Most unproven jobs held; enqueueing more is refused (backpressure).
    pub jobs_max: usize,
    /// Most registered workers.
    pub workers_max: usize,
    /// Largest RPC request or response (a job's witness travels hex-encoded).
    pub rpc_body_bytes_max: u32,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9095)),
            lease: Duration::from_secs(60),
            attempts_max: 5,
            jobs_max: 100_000,
            workers_max: 1024,
            rpc_body_bytes_max: 16 * 1024 * 1024,
        }
    }
}

/// Identifies a job: batch number and chunk index.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct JobId {
    /// Batch.
    pub batch: u64,
    /// Chunk within the batch.
    pub chunk: u32,
}

impl JobId {
    fn key(&self) -> [u8; 12] {
        let mut k = [0u8; 12];
        k[..8].copy_from_slice(&self.batch.to_be_bytes());
        k[8..].copy_from_slice(&self.chunk.to_be_bytes());
        k
    }

    /// `batch:chunk`.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.batch, self.chunk)
    }

    /// Parses `batch:chunk`.
    pub fn parse(text: &str) -> Option<Self> {
        let (b, c) = text.split_once(':')?;
        Some(Self {
            batch: b.parse().ok()?,
            chunk: c.parse().ok()?,
        })
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker (not persisted across restarts).
    Leased {
        /// The worker.
        worker: u64,
    },
    /// Proven; the proof verified.
    Proven {
        /// The proof.
        proof: [u8; 128],
        /// The worker that proved it.
        worker: u64,
    },
    /// Gave up after `attempts_max` leases.
    Failed,
}

/// A stored job.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub struct JobRecord {
    /// Id.
    pub id: JobId,
    /// State.
    pub state: JobState,
    /// Leases handed out so far.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// The witness.
    pub witness: ChunkWitness,
}

/// Why the coordinator refused a request.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The worker's circuit is not the coordinator's.
    #[error(
        "worker circuit {worker} differs from the coordinator's {coordinator}; use keys for the same circuit"
    )]
    CircuitMismatch {
        /// The worker's circuit hash.
        worker: String,
        /// Ours.
        coordinator: String,
    },
    /// Unknown worker id (never registered, or the coordinator restarted).
    #[error("unknown worker {0}; register again")]
    UnknownWorker(u64),
    /// Too many workers.
    #[error("the coordinator already has {0} workers")]
    TooManyWorkers(usize),
    /// The job is unknown, or not leased to this worker.
    #[error("job {0} is not leased to this worker")]
    NotLeased(String),
    /// The proof did not verify; the job went back to the queue.
    #[error("proof for job {job} refused: {reason}")]
    BadProof {
        /// The job.
        job: String,
        /// Why.
        reason: String,
    },
    /// The queue is full.
    #[error("job queue full ({0} unproven jobs); wait for proofs")]
    QueueFull(usize),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] ProverError),
}

impl CoordinatorError {
    /// Stable JSON-RPC error code.
    pub fn code(&self) -> i32 {
        match self {
            Self::CircuitMismatch { .. } => -32101,
            Self::UnknownWorker(_) => -32102,
            Self::TooManyWorkers(_) => -32103,
            Self::NotLeased(_) => -32104,
            Self::BadProof { .. } => -32105,
            Self::QueueFull(_) => -32106,
            Self::Store(_) => -32000,
        }
    }
}

impl From<rocksdb::Error> for CoordinatorError {
    fn from(e: rocksdb::Error) -> Self {
        Self::Store(ProverError::Db(e))
    }
}

/// A lease handed to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lease {
    /// `batch:chunk`.
    pub job: String,
    /// Borsh-encoded [`ChunkWitness`], hex.
    pub witness: String,
    /// Milliseconds the lease lasts without a heartbeat.
    pub lease_ms: u64,
}

/// Counters for `prover_status` and metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CoordinatorStatus {
    /// Jobs waiting.
    pub queued: usize,
    /// Jobs leased.
    pub leased: usize,
    /// Jobs proven since start (including ones proven before a restart).
    pub proven: usize,
    /// Jobs given up on.
    pub failed: usize,
    /// Registered workers.
    pub workers: usize,
    /// Proofs accepted in the last 60 s.
    pub proofs_last_minute: usize,
    /// Median prove time reported by workers over the last 100 proofs (ms).
    pub prove_ms_median: u64,
    /// Proofs refused since start.
    pub refused: usize,
    /// Leases that expired since start.
    pub expired: usize,
    /// Current leases: `job → worker`.
    pub leases: BTreeMap<String, u64>,
}

struct LeaseState {
    worker: u64,
    deadline: Instant,
}

struct Inner {
    queue: VecDeque<JobId>,
    leases: HashMap<JobId, LeaseState>,
    records: HashMap<JobId, JobRecord>,
    proven: usize,
    failed: usize,
    refused: usize,
    expired: usize,
    /// Registered workers: name and when they last called.
    workers: HashMap<u64, (String, Instant)>,
    next_worker: u64,
    accepted_at: VecDeque<Instant>,
    prove_ms: VecDeque<u64>,
}

/// The coordinator. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    db: Arc<DB>,
    verifier: Arc<ChunkVerifier>,
    chunk_ops: usize,
    config: Arc<CoordinatorConfig>,
    inner: Arc<Mutex<Inner>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Coordinator {
    /// Opens the coordinator over the prover's RocksDB, reloading unproven jobs.
    pub fn open(
        db: Arc<DB>,
        verifier: ChunkVerifier,
        chunk_ops: usize,
        config: CoordinatorConfig,
    ) -> Result<Self, ProverError> {
        let mut inner = Inner {
            queue: VecDeque::new(),
            leases: HashMap::new(),
            records: HashMap::new(),
            proven: 0,
            failed: 0,
            refused: 0,
            expired: 0,
            workers: HashMap::new(),
            next_worker: 1,
            accepted_at: VecDeque::new(),
            prove_ms: VecDeque::new(),
        };
        {
            let jobs = cf(&db, CF_JOBS)?;
            for item in db.iterator_cf(jobs, rocksdb::IteratorMode::Start) {
                let (_, value) = item?;
                let mut record = JobRecord::try_from_slice(&value)
                    .map_err(|_| ProverError::Corrupt("job record"))?;
                match record.state {
                    JobState::Proven { .. } => inner.proven += 1,
                    JobState::Failed => inner.failed += 1,
                    JobState::Queued | JobState::Leased { .. } => {
                        record.state = JobState::Queued;
                        inner.queue.push_back(record.id);
                        inner.records.insert(record.id, record);
                    }
                }
            }
        }
        Ok(Self {
            db,
            verifier: Arc::new(verifier),
            chunk_ops,
            config: Arc::new(config),
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The coordinator's circuit hash.
    pub fn circuit_hash(&self) -> [u8; 32] {
        self.verifier.circuit_hash()
    }

    /// Commits `tree` at `batch` together with the batch's jobs, in one write.
    pub fn enqueue_batch(
        &self,
        tree: &mut AccountTree,
        batch: u64,
        chunks: Vec<ChunkWitness>,
    ) -> Result<Vec<JobId>, CoordinatorError> {
        self.enqueue_batch_with(tree, batch, chunks, WriteBatch::default())
    }

    /// [`Coordinator::enqueue_batch`], with the caller's own records (`write`) in the
    /// same atomic write.
    pub fn enqueue_batch_with(
        &self,
        tree: &mut AccountTree,
        batch: u64,
        chunks: Vec<ChunkWitness>,
        mut write: WriteBatch,
    ) -> Result<Vec<JobId>, CoordinatorError> {
        let pending = {
            let inner = self.lock();
            inner.queue.len() + inner.leases.len()
        };
        if pending + chunks.len() > self.config.jobs_max {
            return Err(CoordinatorError::QueueFull(pending));
        }
        let jobs = cf(&self.db, CF_JOBS)?;
        let mut records = Vec::with_capacity(chunks.len());
        for (i, witness) in chunks.into_iter().enumerate() {
            let id = JobId {
                batch,
                chunk: u32::try_from(i).unwrap_or(u32::MAX),
            };
            let record = JobRecord {
                id,
                state: JobState::Queued,
                attempts: 0,
                last_error: None,
                witness,
            };
            write.put_cf(jobs, id.key(), encode(&record)?);
            records.push(record);
        }
        tree.commit(batch, write)?;
        let mut inner = self.lock();
        let ids: Vec<JobId> = records.iter().map(|r| r.id).collect();
        for record in records {
            inner.queue.push_back(record.id);
            inner.records.insert(record.id, record);
        }
        Ok(ids)
    }

    fn persist(&self, record: &JobRecord, sync: bool) -> Result<(), CoordinatorError> {
        let jobs = cf(&self.db, CF_JOBS)?;
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(sync);
        self.db
            .put_cf_opt(jobs, record.id.key(), encode(record)?, &options)?;
        Ok(())
    }

    /// Registers a worker whose keys are for `circuit_hash`.
    pub fn register(&self, circuit_hash: &str, name: &str) -> Result<u64, CoordinatorError> {
        let ours = hex::encode(self.circuit_hash());
        if !circuit_hash.eq_ignore_ascii_case(&ours) {
            return Err(CoordinatorError::CircuitMismatch {
                worker: circuit_hash.chars().take(64).collect(),
                coordinator: ours,
            });
        }
        let mut inner = self.lock();
        if inner.workers.len() >= self.config.workers_max {
            // Forget workers that hold no lease and have been silent for two leases
            // (a restarted worker registers again under a new id).
            let stale = Instant::now()
                .checked_sub(self.config.lease * 2)
                .unwrap_or_else(Instant::now);
            let holding: std::collections::HashSet<u64> =
                inner.leases.values().map(|l| l.worker).collect();
            inner
                .workers
                .retain(|id, (_, seen)| holding.contains(id) || *seen > stale);
        }
        if inner.workers.len() >= self.config.workers_max {
            return Err(CoordinatorError::TooManyWorkers(inner.workers.len()));
        }
        let id = inner.next_worker;
        inner.next_worker += 1;
        inner.workers.insert(
            id,
            (name.chars().take(64).collect::<String>(), Instant::now()),
        );
        tracing::info!(worker = id, name, "prover worker registered");
        Ok(id)
    }

    /// Returns expired leases to the queue (or fails jobs out of attempts).
    pub fn expire_leases(&self) -> Result<(), CoordinatorError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let expired: Vec<JobId> = inner
            .leases
            .iter()
            .filter(|(_, l)| l.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            inner.leases.remove(&id);
            inner.expired += 1;
            self.requeue(&mut inner, id, "lease expired without a proof".into())?;
        }
        Ok(())
    }

    fn requeue(
        &self,
        inner: &mut Inner,
        id: JobId,
        reason: String,
    ) -> Result<(), CoordinatorError> {
        let attempts_max = self.config.attempts_max;
        let Some(record) = inner.records.get_mut(&id) else {
            return Ok(());
        };
        record.last_error = Some(reason);
        let failed = record.attempts >= attempts_max;
        record.state = if failed {
            JobState::Failed
        } else {
            JobState::Queued
        };
        let snapshot = record.clone();
        self.persist(&snapshot, false)?;
        if failed {
            tracing::warn!(
                job = id.to_text(),
                "proof job failed after {attempts_max} attempts"
            );
            inner.records.remove(&id);
            inner.failed += 1;
        } else {
            inner.queue.push_front(id);
        }
        Ok(())
    }

    /// Leases the next queued job to `worker`, if any.
    pub fn lease(&self, worker: u64) -> Result<Option<Lease>, CoordinatorError> {
        self.expire_leases()?;
        let mut inner = self.lock();
        match inner.workers.get_mut(&worker) {
            Some((_, seen)) => *seen = Instant::now(),
            None => return Err(CoordinatorError::UnknownWorker(worker)),
        }
        let Some(id) = inner.queue.pop_front() else {
            return Ok(None);
        };
        inner.leases.insert(
            id,
            LeaseState {
                worker,
                deadline: Instant::now() + self.config.lease,
            },
        );
        let Some(record) = inner.records.get_mut(&id) else {
            return Ok(None);
        };
        record.attempts += 1;
        record.state = JobState::Leased { worker };
        let witness = hex::encode(encode(&record.witness)?);
        tracing::info!(
            job = id.to_text(),
            worker,
            attempt = record.attempts,
            "job leased"
        );
        Ok(Some(Lease {
            job: id.to_text(),
            witness,
            lease_ms: self.config.lease.as_millis() as u64,
        }))
    }

    /// Renews `worker`'s lease on `job`.
    pub fn heartbeat(&self, worker: u64, job: JobId) -> Result<(), CoordinatorError> {
        let mut inner = self.lock();
        if let Some((_, seen)) = inner.workers.get_mut(&worker) {
            *seen = Instant::now();
        }
        match inner.leases.get_mut(&job) {
            Some(lease) if lease.worker == worker => {
                lease.deadline = Instant::now() + self.config.lease;
                Ok(())
            }
            _ => Err(CoordinatorError::NotLeased(job.to_text())),
        }
    }

    /// Accepts a proof for `job` from `worker` if it verifies; otherwise the job goes
    /// back to the queue and the proof is refused.
    pub fn submit(
        &self,
        worker: u64,
        job: JobId,
        proof: &str,
        prove_ms: u64,
    ) -> Result<(), CoordinatorError> {
        let witness = {
            let inner = self.lock();
            match (inner.leases.get(&job), inner.records.get(&job)) {
                (Some(lease), Some(record)) if lease.worker == worker => record.witness.clone(),
                _ => return Err(CoordinatorError::NotLeased(job.to_text())),
            }
        };
        let verdict = match ChunkProof::from_hex(proof) {
            Some(p) => self.verifier.verify(&witness, &p).map(|()| p),
            None => Err(ProverError::BadProof),
        };
        let mut inner = self.lock();
        // The lease may have expired while we verified.
        match inner.leases.get(&job) {
            Some(lease) if lease.worker == worker => {}
            _ => return Err(CoordinatorError::NotLeased(job.to_text())),
        }
        inner.leases.remove(&job);
        match verdict {
            Ok(p) => {
                let Some(mut record) = inner.records.remove(&job) else {
                    return Err(CoordinatorError::NotLeased(job.to_text()));
                };
                record.state = JobState::Proven { proof: p.0, worker };
                record.last_error = None;
                if let Err(e) = self.persist(&record, true) {
                    inner.records.insert(job, record);
                    inner.queue.push_front(job);
                    return Err(e);
                }
                inner.proven += 1;
                let now = Instant::now();
                inner.accepted_at.push_back(now);
                while inner.accepted_at.len() > 10_000
                    || inner
                        .accepted_at
                        .front()
                        .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
                {
                    inner.accepted_at.pop_front();
                }
                inner.prove_ms.push_back(prove_ms);
                if inner.prove_ms.len() > 100 {
                    inner.prove_ms.pop_front();
                }
                tracing::info!(job = job.to_text(), worker, prove_ms, "proof accepted");
                Ok(())
            }
            Err(e) => {
                inner.refused += 1;
                let reason = e.to_string();
                tracing::warn!(job = job.to_text(), worker, %reason, "proof refused");
                self.requeue(&mut inner, job, format!("worker {worker}: {reason}"))?;
                Err(CoordinatorError::BadProof {
                    job: job.to_text(),
                    reason,
                })
            }
        }
    }

    /// The stored record of a job.
    pub fn job(&self, id: JobId) -> Result<Option<JobRecord>, CoordinatorError> {
        if let Some(r) = self.lock().records.get(&id) {
            return Ok(Some(r.clone()));
        }
        let jobs = cf(&self.db, CF_JOBS)?;
        match self.db.get_cf(jobs, id.key())? {
            Some(bytes) => Ok(Some(
                JobRecord::try_from_slice(&bytes)
                    .map_err(|_| ProverError::Corrupt("job record"))?,
            )),
            None => Ok(None),
        }
    }

    /// All chunk proofs of `batch` in chunk order, once every chunk is proven.
    pub fn batch_proofs(&self, batch: u64) -> Result<Option<Vec<ChunkProof>>, CoordinatorError> {
        let mut proofs = Vec::new();
        for chunk in 0.. {
            match self.job(JobId { batch, chunk })? {
                Some(JobRecord {
                    state: JobState::Proven { proof, .. },
                    ..
                }) => proofs.push(ChunkProof(proof)),
                Some(_) => return Ok(None),
                None => break,
            }
        }
        Ok((!proofs.is_empty()).then_some(proofs))
    }

    /// Current counters.
    pub fn status(&self) -> CoordinatorStatus {
        let inner = self.lock();
        let mut prove_ms: Vec<u64> = inner.prove_ms.iter().copied().collect();
        prove_ms.sort_unstable();
        let now = Instant::now();
        CoordinatorStatus {
            queued: inner.queue.len(),
            leased: inner.leases.len(),
            proven: inner.proven,
            failed: inner.failed,
            workers: inner.workers.len(),
            proofs_last_minute: inner
                .accepted_at
                .iter()
                .filter(|t| now.duration_since(**t) <= Duration::from_secs(60))
                .count(),
            prove_ms_median: prove_ms.get(prove_ms.len() / 2).copied().unwrap_or(0),
            refused: inner.refused,
            expired: inner.expired,
            leases: inner
                .leases
                .iter()
                .map(|(id, l)| (id.to_text(), l.worker))
                .collect(),
        }
    }

    /// Chunk size of the coordinator's circuit.
    pub fn chunk_ops(&self) -> usize {
        self.chunk_ops
    }

    /// Starts the JSON-RPC server; also runs lease expiry every second.
    pub async fn serve(&self) -> Result<(ServerHandle, SocketAddr), ProverError> {
        let rpc_error = |e: String| ProverError::Io {
            context: "prover coordinator RPC".into(),
            source: std::io::Error::other(e),
        };
        let health = ProxyGetRequestLayer::new([("/health", "system_health")])
            .map_err(|e| rpc_error(e.to_string()))?;
        let server_config = ServerConfig::builder()
            .max_request_body_size(self.config.rpc_body_bytes_max)
            .max_response_body_size(self.config.rpc_body_bytes_max)
            .build();
        let server = Server::builder()
            .set_config(server_config)
            .set_http_middleware(tower::ServiceBuilder::new().layer(health))
            .build(self.config.listen)
            .await
            .map_err(|e| rpc_error(format!("cannot listen on {}: {e}", self.config.listen)))?;
        let local = server.local_addr().map_err(|e| rpc_error(e.to_string()))?;
        let module = rpc_module(self.clone()).map_err(|e| rpc_error(e.to_string()))?;
        let handle = server.start(module);
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

fn encode<T: BorshSerialize>(value: &T) -> Result<Vec<u8>, ProverError> {
    borsh::to_vec(value).map_err(|_| ProverError::Corrupt("encode"))
}

fn rpc_err(e: &CoordinatorError) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(e.code(), e.to_string(), None::<()>)
}

fn bad_params(message: String) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, message, None::<()>)
}

fn job_param(text: &str) -> Result<JobId, ErrorObjectOwned> {
    JobId::parse(text).ok_or_else(|| bad_params(format!("`{text}` is not a job id (batch:chunk)")))
}

fn rpc_module(
    coordinator: Coordinator,
) -> Result<RpcModule<Coordinator>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(coordinator);
    module.register_method("system_health", |_, c, _| {
        json!({ "ok": true, "circuit": hex::encode(c.circuit_hash()), "time_ms": now_ms() })
    })?;
    module.register_method("prover_register", |params, c, _| {
        let (hash, name): (String, String) =
            params.parse().map_err(|e| bad_params(e.to_string()))?;
        let id = c.register(&hash, &name).map_err(|e| rpc_err(&e))?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "worker": id,
            "chunk_ops": c.chunk_ops(),
            "lease_ms": c.config.lease.as_millis() as u64,
        }))
    })?;
    module.register_blocking_method("prover_lease", |params, c, _| {
        let worker: u64 = params.one().map_err(|e| bad_params(e.to_string()))?;
        let lease = c.lease(worker).map_err(|e| rpc_err(&e))?;
        Ok::<Option<Lease>, ErrorObjectOwned>(lease)
    })?;
    module.register_method("prover_heartbeat", |params, c, _| {
        let (worker, job): (u64, String) = params.parse().map_err(|e| bad_params(e.to_string()))?;
        c.heartbeat(worker, job_param(&job)?)
            .map_err(|e| rpc_err(&e))?;
        Ok::<bool, ErrorObjectOwned>(true)
    })?;
    module.register_blocking_method("prover_submit", |params, c, _| {
        let (worker, job, proof, prove_ms): (u64, String, String, u64) =
            params.parse().map_err(|e| bad_params(e.to_string()))?;
        c.submit(worker, job_param(&job)?, &proof, prove_ms)
            .map_err(|e| rpc_err(&e))?;
        Ok::<bool, ErrorObjectOwned>(true)
    })?;
    module.register_method("prover_status", |_, c, _| {
        Ok::<CoordinatorStatus, ErrorObjectOwned>(c.status())
    })?;
    module.register_blocking_method("prover_batchProofs", |params, c, _| {
        let batch: u64 = params.one().map_err(|e| bad_params(e.to_string()))?;
        let proofs = c.batch_proofs(batch).map_err(|e| rpc_err(&e))?;
        Ok::<Option<Vec<String>>, ErrorObjectOwned>(
            proofs.map(|p| p.iter().map(ChunkProof::to_hex).collect()),
        )
    })?;
    Ok(module)
}

//! The job coordinator: a persistent queue of chunk proof jobs, leased to
//! authenticated workers over JSON-RPC, with every submitted proof verified before it
//! is accepted.
//!
//! ```text
//!  enqueue_batch (one write with the tree version)
//!        │
//!        ▼             lease (one per worker, oldest job first)
//!     queued ────────────────────────────────────────────► leased(worker, deadline)
//!      ▲  ▲                                                   │      │        │
//!      │  └──── refused proof: back at once, strike ──────────┘      │        │
//!      │                                                             │        │ proof
//!   retrying ◄── lost lease (no heartbeat, hold cap, abandoned): ────┘        │ verifies
//!   (backoff)    strike, the job waits base·2^(n-1) ≤ max                     ▼
//!                                                          proven (synced write, final)
//! ```
//!
//! **Job life.** Nothing a worker does makes a job terminal: a job is either proven
//! (with a proof that verified) or will be leased again. A refused proof is the
//! worker's fault, not the job's: the job goes straight back to the queue. A lease
//! that ends without a proof (no heartbeat for `lease`, held past `lease_hold_max`,
//! or abandoned by leasing another job) sends the job to wait out an exponential
//! backoff (`retry_backoff_base · 2^(n-1)`, capped at `retry_backoff_max`, `n` the
//! job's consecutive lost leases), so that a job that crashes workers does not starve
//! the others. Leases are renewed by heartbeats, but never past `lease_hold_max` after
//! they were granted. Jobs live in the `jobs` column of the prover's RocksDB (key
//! `batch ‖ chunk`, big endian), written together with the tree version that produced
//! them; a job's witness lives beside it in the `witnesses` column, is read only to
//! lease the job (never held in memory) and is deleted when the job is proven; proven
//! jobs are written with a synced write before the worker is told
//! "accepted". Leases, backoffs and strikes are not persisted: after a restart every
//! unproven job is queued again. Jobs that an older coordinator marked `failed` are
//! queued again when the coordinator opens.
//!
//! **Auth.** A worker registers with one of the tokens the operator listed
//! ([`WorkerAuth`]: a token file, one per line) and gets back a session secret (32
//! random bytes) that it presents on every later call; the public worker number in
//! `prover_status` is not a credential. Without a token a worker is refused, unless
//! the coordinator was opened with [`WorkerAuth::open`] (logged as a warning), in
//! which case token-less workers are second class. Every refused proof and every lost
//! lease is a strike against the worker's token (or, without a token, its session);
//! an accepted proof clears them. At `strikes_max` strikes the worker is banned: all
//! sessions of its token are dropped (their leases go back to the queue) and the
//! token is refused for `suspension`. The banned worker is told why
//! ([`CoordinatorError::Banned`]), and registrations with the token meanwhile get
//! [`CoordinatorError::Suspended`]. To ban a token for good, remove it from the file
//! and restart the coordinator.
//!
//! **Bounds.** `jobs_max` unproven jobs (enqueueing more is refused), one lease per
//! worker, leases held at most `lease_hold_max`, `workers_max` sessions of which at
//! most `workers_per_token_max` per token (a new session of a full token replaces
//! that token's least recently seen). When the registry is full, an authenticated
//! registration evicts a token-less worker first, then a worker silent for two leases
//! that holds none; a token-less registration may only evict a silent token-less
//! worker, so it can never push out an authenticated one.
//!
//! JSON-RPC (default 127.0.0.1:9095, `GET /health` too): the coordinator's
//! `CoordinatorRpc` (`rpc.rs`) implements [`ProverApi`](crate::api::ProverApi) (method
//! table there) by calling the [`Coordinator`]. Error codes: [`CoordinatorError::code`].
//!
//! **Parts.** The [`Coordinator`] owns its parts as fields: a `JobStore` (`store.rs`:
//! job records and witnesses on disk, no state of its own), a `JobTable` (`jobs.rs`:
//! ready, backing-off and leased jobs, worker sessions, strikes; each step at an
//! explicit `now`, behind the coordinator's one mutex, and given the store for the
//! writes it makes) and the [`ProofBackend`] that verifies proofs outside that mutex.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_rpc::codes;
use jsonrpsee::server::ServerHandle;
use rocksdb::{DB, WriteBatch};
use serde::{Deserialize, Serialize};

pub use crate::auth::WorkerAuth;
use crate::auth::random_bytes;
use crate::backend::{Job, ProofBackend, ProofSystem};
use crate::error::ProverError;
use crate::tree::AccountTree;

mod jobs;
mod rpc;
mod store;

use jobs::JobTable;
use rpc::CoordinatorRpc;
use store::JobStore;

/// Column of job records (id, state, attempts, statement; the witness is not in it).
pub const CF_JOBS: &str = "jobs";
/// Column of unproven jobs' witnesses (same key as the job), kept out of the records
/// and out of memory: a witness is megabytes, and a record is written again on every
/// state change. Deleted when the job is proven.
pub const CF_WITNESSES: &str = "witnesses";

/// Default lease without a heartbeat.
pub const LEASE: Duration = Duration::from_secs(60);
/// Default longest hold of one lease, heartbeats included: far above the time to
/// prove one chunk (seconds for the devnet circuit), so only a stuck or hoarding
/// worker reaches it.
pub const LEASE_HOLD_MAX: Duration = Duration::from_secs(30 * 60);
/// Default backoff after a job's first lost lease; doubles with each further one.
pub const RETRY_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Default cap of a job's backoff.
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(5 * 60);
/// Default strikes (refused proofs and lost leases, with no accepted proof in
/// between) before a worker is banned.
pub const STRIKES_MAX: u32 = 3;
/// Default time a banned worker's token is refused.
pub const SUSPENSION: Duration = Duration::from_secs(15 * 60);
/// Default most sessions per token.
pub const WORKERS_PER_TOKEN_MAX: usize = 64;
/// Longest worker name kept (characters).
pub const WORKER_NAME_CHARS_MAX: usize = 64;

/// Coordinator bounds, timing and who may register.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// JSON-RPC listen address.
    pub listen: SocketAddr,
    /// Which workers may register (default: none; give it the operator's tokens).
    pub auth: WorkerAuth,
    /// How long a lease lasts without a heartbeat.
    pub lease: Duration,
    /// Longest a lease can be held, heartbeats included; then it is lost.
    pub lease_hold_max: Duration,
    /// Backoff after a job's first lost lease (doubles per further lost lease).
    pub retry_backoff_base: Duration,
    /// Most backoff of a job.
    pub retry_backoff_max: Duration,
    /// Strikes without an accepted proof before a worker is banned.
    pub strikes_max: u32,
    /// How long a banned worker's token is refused.
    pub suspension: Duration,
    /// Most unproven jobs held; enqueueing more is refused (backpressure).
    pub jobs_max: usize,
    /// Most registered worker sessions.
    pub workers_max: usize,
    /// Most sessions of one token.
    pub workers_per_token_max: usize,
    /// Largest RPC request or response (a job's witness travels hex-encoded).
    pub rpc_body_bytes_max: u32,
    /// Time: leases, backoffs and bans (tests pass a manual clock).
    pub clock: SharedClock,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9095)),
            auth: WorkerAuth::default(),
            lease: LEASE,
            lease_hold_max: LEASE_HOLD_MAX,
            retry_backoff_base: RETRY_BACKOFF_BASE,
            retry_backoff_max: RETRY_BACKOFF_MAX,
            strikes_max: STRIKES_MAX,
            suspension: SUSPENSION,
            jobs_max: 100_000,
            workers_max: 1024,
            workers_per_token_max: WORKERS_PER_TOKEN_MAX,
            rpc_body_bytes_max: 16 * 1024 * 1024,
            clock: clock::system(),
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
    /// Waiting for a worker (possibly waiting out a backoff first).
    Queued,
    /// Held by a worker (not persisted across restarts).
    Leased {
        /// The worker's public number.
        worker: u64,
    },
    /// Proven; the proof verified.
    Proven {
        /// The proof (the backend's bytes).
        proof: Vec<u8>,
        /// The worker that proved it.
        worker: u64,
    },
    /// Legacy: written by coordinators before issue 19 after five leases without a
    /// proof. Never written now; such jobs are queued again on open.
    Failed,
}

/// A stored job.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub struct JobRecord {
    /// Id.
    pub id: JobId,
    /// State.
    pub state: JobState,
    /// Leases of this job that ended in a proof or were lost (leases that ended in a
    /// refused proof do not count: that was the worker's fault). No limit applies.
    pub attempts: u32,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// The statement. Its `witness` is empty: witnesses are stored apart
    /// ([`CF_WITNESSES`]) and read only when the job is leased.
    pub job: Job,
}

/// Why the coordinator refused a request. [`CoordinatorError::code`] gives the stable
/// JSON-RPC error code.
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
    /// Unknown session.
    #[error(
        "unknown worker session (never registered, evicted, banned, or the coordinator restarted); register again"
    )]
    UnknownWorker,
    /// The registry is full of workers that may not be evicted.
    #[error(
        "the coordinator already has {0} live workers; retry later, or ask the operator to raise workers_max"
    )]
    TooManyWorkers(usize),
    /// The job is unknown, or not (any more) leased to this worker.
    #[error(
        "job {0} is not leased to this worker (never leased, or the lease expired or reached its hold limit)"
    )]
    NotLeased(String),
    /// The proof did not verify; the job went back to the queue and the worker got a
    /// strike.
    #[error(
        "proof for job {job} refused: {reason}; the job was queued again; strike {strikes} of {strikes_max} against this worker"
    )]
    BadProof {
        /// The job.
        job: String,
        /// Why.
        reason: String,
        /// Strikes of the worker's token (or session) now.
        strikes: u32,
        /// Strikes at which it is banned.
        strikes_max: u32,
    },
    /// The queue is full.
    #[error("job queue full ({0} unproven jobs); wait for proofs")]
    QueueFull(usize),
    /// The coordinator admits only workers with a listed token.
    #[error(
        "this coordinator admits only workers with a token it lists; give the worker --token-file with a token from the operator's token file"
    )]
    TokenMissing,
    /// The token is not listed.
    #[error(
        "worker token is not in the coordinator's token file; check the worker's --token-file against the operator's list"
    )]
    TokenRejected,
    /// The worker collected `strikes_max` strikes without an accepted proof.
    #[error(
        "worker {worker} banned after {strikes} strikes (refused proofs or lost leases) without an accepted proof; last: {reason}; {consequence}. Check the worker's keys, build and network before restarting it"
    )]
    Banned {
        /// The worker's public number.
        worker: u64,
        /// Strikes collected.
        strikes: u32,
        /// The last strike.
        reason: String,
        /// What the ban does (token suspended for how long, or session dropped).
        consequence: String,
    },
    /// The token is suspended after a ban.
    #[error(
        "this worker's token is suspended for another {remaining_secs} s after a ban ({reason}); fix the worker, or ask the operator for another token"
    )]
    Suspended {
        /// Seconds until the token is accepted again.
        remaining_secs: u64,
        /// Why it was banned.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] ProverError),
}

impl CoordinatorError {
    /// Stable JSON-RPC error code, from the project-wide table
    /// ([`ghostplane_rpc::codes`]).
    pub fn code(&self) -> i32 {
        match self {
            Self::CircuitMismatch { .. } => codes::CIRCUIT_MISMATCH,
            Self::UnknownWorker => codes::UNKNOWN_WORKER,
            Self::TooManyWorkers(_) => codes::TOO_MANY_WORKERS,
            Self::NotLeased(_) => codes::NOT_LEASED,
            Self::BadProof { .. } => codes::BAD_PROOF,
            Self::QueueFull(_) => codes::QUEUE_FULL,
            Self::TokenMissing => codes::TOKEN_MISSING,
            Self::TokenRejected => codes::TOKEN_REJECTED,
            Self::Banned { .. } => codes::BANNED,
            Self::Suspended { .. } => codes::SUSPENDED,
            Self::Store(_) => codes::INTERNAL,
        }
    }
}

impl From<rocksdb::Error> for CoordinatorError {
    fn from(e: rocksdb::Error) -> Self {
        Self::Store(ProverError::Db(e))
    }
}

/// What `prover_register` hands back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    /// Public worker number (shown in `prover_status`; not a credential).
    pub worker: u64,
    /// Session secret for every later call (64 hex digits). Do not log it.
    pub session: String,
    /// The coordinator's proof system.
    pub proof_system: ProofSystem,
    /// Most ops per segment.
    pub chunk_ops: usize,
    /// Milliseconds a lease lasts without a heartbeat.
    pub lease_ms: u64,
    /// Longest a lease can be held, heartbeats included (ms).
    pub lease_hold_max_ms: u64,
}

/// A lease handed to a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lease {
    /// `batch:chunk`.
    pub job: String,
    /// The proof system the witness is for (a worker refuses another).
    pub proof_system: ProofSystem,
    /// The backend's witness bytes, hex.
    pub witness: String,
    /// Milliseconds the lease lasts without a heartbeat.
    pub lease_ms: u64,
    /// Milliseconds the lease can be held at most, heartbeats included.
    pub hold_ms: u64,
}

/// Counters for `prover_status` and metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CoordinatorStatus {
    /// Jobs waiting for a worker (unproven and not leased).
    pub queued: usize,
    /// Of which waiting out a backoff after a lost lease.
    pub retrying: usize,
    /// Jobs leased.
    pub leased: usize,
    /// Jobs proven (including ones proven before a restart).
    pub proven: usize,
    /// Registered worker sessions.
    pub workers: usize,
    /// Of which registered without a token (open registration only).
    pub workers_unauthenticated: usize,
    /// Proofs accepted in the last 60 s.
    pub proofs_last_minute: usize,
    /// Median prove time reported by workers over the last 100 proofs (ms).
    pub prove_ms_median: u64,
    /// Proofs refused since start.
    pub refused: usize,
    /// Leases that expired since start (no heartbeat, or the hold limit).
    pub expired: usize,
    /// Of which ended by the hold limit.
    pub capped: usize,
    /// Leases given up by their worker leasing another job.
    pub abandoned: usize,
    /// Workers banned since start.
    pub banned: usize,
    /// Sessions evicted to make room since start.
    pub evicted: usize,
    /// Current leases: `job → worker`.
    pub leases: BTreeMap<String, u64>,
}

/// The coordinator: the `JobStore` on disk, the `JobTable` of jobs, leases and
/// workers in memory (behind one mutex, never held while a proof is verified), and
/// the proof backend that checks every proof. Served over JSON-RPC by
/// `CoordinatorRpc`. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    store: JobStore,
    table: Arc<Mutex<JobTable>>,
    backend: Arc<dyn ProofBackend>,
    config: Arc<CoordinatorConfig>,
}

impl Coordinator {
    /// Opens the coordinator over the prover's RocksDB, reloading unproven jobs (and
    /// queueing again any job an older coordinator marked failed).
    pub fn open(
        db: Arc<DB>,
        backend: Arc<dyn ProofBackend>,
        config: CoordinatorConfig,
    ) -> Result<Self, ProverError> {
        if config.auth.admits_unauthenticated() {
            tracing::warn!(
                tokens = config.auth.token_count(),
                "prover coordinator: OPEN registration, workers without a token are admitted; use it only where every host that reaches the coordinator is trusted"
            );
        } else if config.auth.token_count() == 0 {
            tracing::warn!(
                "prover coordinator lists no worker token: every worker registration will be refused"
            );
        }
        let config = Arc::new(config);
        let (store, loaded) = JobStore::open(db)?;
        let table = JobTable::new(Arc::clone(&config), loaded);
        Ok(Self {
            store,
            table: Arc::new(Mutex::new(table)),
            backend,
            config,
        })
    }

    fn lock(&self) -> MutexGuard<'_, JobTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn config(&self) -> &CoordinatorConfig {
        &self.config
    }

    /// The backend's parameter hash (workers must present the same).
    pub fn params_hash(&self) -> [u8; 32] {
        self.backend.params_hash()
    }

    /// The proof backend.
    pub fn backend(&self) -> &Arc<dyn ProofBackend> {
        &self.backend
    }

    /// Most ops per segment of the coordinator's backend.
    pub fn chunk_ops(&self) -> usize {
        self.backend.segment_ops_max()
    }

    /// Jobs not proven yet (queued, waiting out a backoff, or leased): what
    /// settlement's back-pressure counts. Cheaper than [`Coordinator::status`].
    /// Also refreshes the job and worker gauges (settlement asks every round).
    pub fn unproven_jobs(&self) -> usize {
        let table = self.lock();
        table.publish_gauges();
        table.unproven()
    }

    /// Current counters.
    pub fn status(&self) -> CoordinatorStatus {
        let table = self.lock();
        table.status(self.config.clock.now())
    }

    /// Commits `tree` at `batch` together with the batch's jobs, in one write.
    pub fn enqueue_batch(
        &self,
        tree: &mut AccountTree,
        batch: u64,
        chunks: Vec<Job>,
    ) -> Result<Vec<JobId>, CoordinatorError> {
        self.enqueue_batch_with(tree, batch, chunks, WriteBatch::default())
    }

    /// [`Coordinator::enqueue_batch`], with the caller's own records (`write`) in the
    /// same atomic write.
    pub fn enqueue_batch_with(
        &self,
        tree: &mut AccountTree,
        batch: u64,
        chunks: Vec<Job>,
        mut write: WriteBatch,
    ) -> Result<Vec<JobId>, CoordinatorError> {
        let pending = self.lock().unproven();
        if pending + chunks.len() > self.config.jobs_max {
            return Err(CoordinatorError::QueueFull(pending));
        }
        let records = self.store.stage_batch(batch, chunks, &mut write)?;
        tree.commit(batch, write)?;
        let ids: Vec<JobId> = records.iter().map(|r| r.id).collect();
        self.lock().enqueue(records);
        Ok(ids)
    }

    /// The stored record of a job (its `job.witness` is empty: see
    /// [`JobRecord::job`]).
    pub fn job(&self, id: JobId) -> Result<Option<JobRecord>, CoordinatorError> {
        if let Some(record) = self.lock().record(&id) {
            return Ok(Some(record));
        }
        self.store.record(id)
    }

    /// All chunk proofs of `batch` in chunk order, once every chunk is proven.
    pub fn batch_proofs(&self, batch: u64) -> Result<Option<Vec<Vec<u8>>>, CoordinatorError> {
        let mut proofs = Vec::new();
        for chunk in 0.. {
            match self.job(JobId { batch, chunk })? {
                Some(JobRecord {
                    state: JobState::Proven { proof, .. },
                    ..
                }) => proofs.push(proof),
                Some(_) => return Ok(None),
                None => break,
            }
        }
        Ok((!proofs.is_empty()).then_some(proofs))
    }

    /// Stages into `write` the deletion of every job of batch `from` and later (for a
    /// batch plan settlement drops and makes again); call [`Self::forget_batches_from`]
    /// once `write` is durable.
    pub fn stage_forget_batches_from(
        &self,
        from: u64,
        write: &mut WriteBatch,
    ) -> Result<(), CoordinatorError> {
        self.store.stage_forget_from(from, write)
    }

    /// Forgets, in memory, every job of batch `from` and later (leases included:
    /// a proof submitted for one is then refused as not leased).
    pub fn forget_batches_from(&self, from: u64) {
        self.lock().forget_from(from);
    }

    /// Registers a worker whose keys are for `circuit_hash`, presenting `token` (one
    /// the operator listed; `None` only works with open registration).
    pub fn register(
        &self,
        circuit_hash: &str,
        name: &str,
        token: Option<&str>,
    ) -> Result<Registration, CoordinatorError> {
        self.register_at(circuit_hash, name, token, self.config.clock.now())
    }

    /// [`Coordinator::register`] at an explicit time.
    pub fn register_at(
        &self,
        circuit_hash: &str,
        name: &str,
        token: Option<&str>,
        now: Instant,
    ) -> Result<Registration, CoordinatorError> {
        let ours = hex::encode(self.params_hash());
        if !circuit_hash.eq_ignore_ascii_case(&ours) {
            return Err(CoordinatorError::CircuitMismatch {
                worker: circuit_hash.chars().take(64).collect(),
                coordinator: ours,
            });
        }
        let token = match token.filter(|t| !t.is_empty()) {
            Some(t) => Some(
                self.config
                    .auth
                    .identify(t)
                    .ok_or(CoordinatorError::TokenRejected)?,
            ),
            None if self.config.auth.admits_unauthenticated() => None,
            None => return Err(CoordinatorError::TokenMissing),
        };
        let secret = random_bytes().map_err(|e| ProverError::Io {
            context: "worker session".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let session = hex::encode(secret);
        let worker = self
            .lock()
            .register(&self.store, &session, name, token, now)?;
        Ok(Registration {
            worker,
            session,
            proof_system: self.backend.system(),
            chunk_ops: self.backend.segment_ops_max(),
            lease_ms: self.config.lease.as_millis() as u64,
            lease_hold_max_ms: self.config.lease_hold_max.as_millis() as u64,
        })
    }

    /// Ends expired leases (the job waits out its backoff; the holder gets a strike)
    /// and readies jobs whose backoff is over.
    pub fn expire_leases(&self) -> Result<(), CoordinatorError> {
        self.expire_leases_at(self.config.clock.now())
    }

    /// [`Coordinator::expire_leases`] at an explicit time.
    pub fn expire_leases_at(&self, now: Instant) -> Result<(), CoordinatorError> {
        self.lock().expire(&self.store, now)
    }

    /// Leases the oldest ready job to the worker of `session`, if any. A worker holds
    /// one lease: a lease it still holds is abandoned (a lost lease).
    pub fn lease(&self, session: &str) -> Result<Option<Lease>, CoordinatorError> {
        self.lease_at(session, self.config.clock.now())
    }

    /// [`Coordinator::lease`] at an explicit time.
    pub fn lease_at(&self, session: &str, now: Instant) -> Result<Option<Lease>, CoordinatorError> {
        // The witness is read under the lock (a job being forgotten must not lose it
        // half-way) and encoded after it.
        let Some(granted) = self.lock().lease(&self.store, session, now)? else {
            return Ok(None);
        };
        let witness = hex::encode(&*granted.witness);
        tracing::info!(
            job = granted.job.to_text(),
            worker = granted.worker,
            attempt = granted.attempt,
            "job leased"
        );
        Ok(Some(Lease {
            job: granted.job.to_text(),
            proof_system: self.backend.system(),
            witness,
            lease_ms: self.config.lease.as_millis() as u64,
            hold_ms: self.config.lease_hold_max.as_millis() as u64,
        }))
    }

    /// Renews the lease on `job` of the worker of `session`, up to the lease's hold
    /// limit. Returns how long the lease now lasts.
    pub fn heartbeat(&self, session: &str, job: JobId) -> Result<Duration, CoordinatorError> {
        self.heartbeat_at(session, job, self.config.clock.now())
    }

    /// [`Coordinator::heartbeat`] at an explicit time.
    pub fn heartbeat_at(
        &self,
        session: &str,
        job: JobId,
        now: Instant,
    ) -> Result<Duration, CoordinatorError> {
        self.lock().heartbeat(&self.store, session, job, now)
    }

    /// Accepts a proof for `job` from the worker of `session` if it verifies;
    /// otherwise the job goes back to the queue at once, the worker gets a strike and
    /// the proof is refused.
    pub fn submit(
        &self,
        session: &str,
        job: JobId,
        proof: &str,
        prove_ms: u64,
    ) -> Result<(), CoordinatorError> {
        self.submit_at(session, job, proof, prove_ms, self.config.clock.now())
    }

    /// [`Coordinator::submit`] at an explicit time.
    pub fn submit_at(
        &self,
        session: &str,
        job: JobId,
        proof: &str,
        prove_ms: u64,
        now: Instant,
    ) -> Result<(), CoordinatorError> {
        let statement = self
            .lock()
            .leased_statement(&self.store, session, job, now)?;
        // Verified without the lock: other workers lease and submit meanwhile.
        let limit = self.backend.proof_bytes_max();
        let verdict = if proof.len() > 2 * limit {
            Err(format!(
                "{} hex digits; a {} proof has at most {limit} bytes",
                proof.len(),
                self.backend.system()
            ))
        } else {
            match hex::decode(proof) {
                Ok(p) => self
                    .backend
                    .verify(&statement, &p)
                    .map(|()| p)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("proof is not hex: {e}")),
            }
        };
        self.lock()
            .settle(&self.store, session, job, verdict, prove_ms, now)
    }

    /// Starts the JSON-RPC server (`CoordinatorRpc`); also runs lease expiry twice a
    /// second.
    pub async fn serve(&self) -> Result<(ServerHandle, SocketAddr), ProverError> {
        CoordinatorRpc::new(self.clone()).serve().await
    }
}

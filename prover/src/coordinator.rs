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
//! them; proven jobs are written with a synced write before the worker is told
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
//! JSON-RPC (default 127.0.0.1:9095, `GET /health` too): the coordinator implements
//! [`ProverApi`](crate::api::ProverApi) (method table there). Error codes:
//! [`CoordinatorError::code`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_rpc::codes;

use crate::api::{ProverApiServer, RpcResult};
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use rocksdb::{DB, WriteBatch};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use crate::auth::WorkerAuth;
use crate::auth::random_bytes;
use crate::backend::{Job, ProofBackend, ProofSystem};
use crate::error::ProverError;
use crate::tree::{AccountTree, cf};

/// Column of jobs.
pub const CF_JOBS: &str = "jobs";

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
    /// The statement and the witness.
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

/// blake3 of a session secret: the registry never holds the secret itself.
type SessionKey = [u8; 32];

fn session_key(session: &str) -> SessionKey {
    *blake3::hash(session.as_bytes()).as_bytes()
}

struct LeaseState {
    session: SessionKey,
    worker: u64,
    granted: Instant,
    deadline: Instant,
}

struct WorkerEntry {
    id: u64,
    name: String,
    /// Index of its token in the auth list; `None`: registered without one.
    token: Option<usize>,
    seen: Instant,
    /// Strikes of a token-less session (a token's strikes are in [`TokenState`]).
    strikes: u32,
    /// The one job it holds.
    lease: Option<JobId>,
}

/// Per listed token: strikes since its last accepted proof, and a suspension.
#[derive(Default)]
struct TokenState {
    strikes: u32,
    suspended: Option<(Instant, String)>,
}

#[derive(Default)]
struct Counters {
    proven: usize,
    refused: usize,
    expired: usize,
    capped: usize,
    abandoned: usize,
    banned: usize,
    evicted: usize,
}

struct Inner {
    /// Jobs ready to lease, oldest first (batches finalize in order).
    ready: BTreeSet<JobId>,
    /// Jobs waiting out a backoff, by the time they are ready again.
    retrying: BTreeSet<(Instant, JobId)>,
    /// Consecutive lost leases per unproven job (the backoff exponent).
    lost: HashMap<JobId, u32>,
    leases: HashMap<JobId, LeaseState>,
    records: HashMap<JobId, JobRecord>,
    workers: HashMap<SessionKey, WorkerEntry>,
    tokens: Vec<TokenState>,
    next_worker: u64,
    counters: Counters,
    accepted_at: VecDeque<Instant>,
    prove_ms: VecDeque<u64>,
}

impl Inner {
    /// Removes `job`'s lease, also from its holder's entry.
    fn take_lease(&mut self, job: JobId) -> Option<LeaseState> {
        let lease = self.leases.remove(&job)?;
        if let Some(entry) = self.workers.get_mut(&lease.session)
            && entry.lease == Some(job)
        {
            entry.lease = None;
        }
        Some(lease)
    }

    fn unproven(&self) -> usize {
        self.ready.len() + self.retrying.len() + self.leases.len()
    }
}

/// How a lease ended without a proof.
#[derive(Debug, Clone, Copy)]
enum Loss {
    /// No heartbeat within `lease`.
    Expired,
    /// Held for `lease_hold_max`.
    Capped,
    /// Its worker leased another job.
    Abandoned,
}

/// What a strike did.
enum Strike {
    /// Strikes of the worker's token (or session) now.
    Counted(u32),
    /// The worker was banned.
    Banned(CoordinatorError),
}

/// Backoff before the retry that follows a job's `lost`-th consecutive lost lease.
fn retry_delay(base: Duration, max: Duration, lost: u32) -> Duration {
    let doublings = lost.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings).min(max)
}

/// The coordinator. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    db: Arc<DB>,
    backend: Arc<dyn ProofBackend>,
    config: Arc<CoordinatorConfig>,
    inner: Arc<Mutex<Inner>>,
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
        let mut inner = Inner {
            ready: BTreeSet::new(),
            retrying: BTreeSet::new(),
            lost: HashMap::new(),
            leases: HashMap::new(),
            records: HashMap::new(),
            workers: HashMap::new(),
            tokens: (0..config.auth.token_count())
                .map(|_| TokenState::default())
                .collect(),
            next_worker: 1,
            counters: Counters::default(),
            accepted_at: VecDeque::new(),
            prove_ms: VecDeque::new(),
        };
        {
            let jobs = cf(&db, CF_JOBS)?;
            let mut revived = WriteBatch::default();
            for item in db.iterator_cf(jobs, rocksdb::IteratorMode::Start) {
                let (_, value) = item?;
                let mut record = JobRecord::try_from_slice(&value)
                    .map_err(|_| ProverError::Corrupt("job record"))?;
                match record.state {
                    JobState::Proven { .. } => inner.counters.proven += 1,
                    JobState::Failed => {
                        // Written by the old attempts limit: a worker's garbage must not
                        // stop finality, so the job is simply proven again.
                        tracing::warn!(
                            job = record.id.to_text(),
                            last_error = record.last_error.as_deref().unwrap_or(""),
                            "proof job was marked failed by an older coordinator; queued again"
                        );
                        record.state = JobState::Queued;
                        revived.put_cf(jobs, record.id.key(), encode(&record)?);
                        inner.ready.insert(record.id);
                        inner.records.insert(record.id, record);
                    }
                    JobState::Queued | JobState::Leased { .. } => {
                        record.state = JobState::Queued;
                        inner.ready.insert(record.id);
                        inner.records.insert(record.id, record);
                    }
                }
            }
            if !revived.is_empty() {
                db.write(revived)?;
            }
        }
        Ok(Self {
            db,
            backend,
            config: Arc::new(config),
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The backend's parameter hash (workers must present the same).
    pub fn params_hash(&self) -> [u8; 32] {
        self.backend.params_hash()
    }

    /// The proof backend.
    pub fn backend(&self) -> &Arc<dyn ProofBackend> {
        &self.backend
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
        let jobs = cf(&self.db, CF_JOBS)?;
        let mut records = Vec::with_capacity(chunks.len());
        for (i, job) in chunks.into_iter().enumerate() {
            let id = JobId {
                batch,
                chunk: u32::try_from(i).unwrap_or(u32::MAX),
            };
            let record = JobRecord {
                id,
                state: JobState::Queued,
                attempts: 0,
                last_error: None,
                job,
            };
            write.put_cf(jobs, id.key(), encode(&record)?);
            records.push(record);
        }
        tree.commit(batch, write)?;
        let mut inner = self.lock();
        let ids: Vec<JobId> = records.iter().map(|r| r.id).collect();
        for record in records {
            inner.ready.insert(record.id);
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
        let mut inner = self.lock();
        if let Some(i) = token {
            if let Some((until, reason)) = inner.tokens[i].suspended.clone() {
                if until > now {
                    return Err(CoordinatorError::Suspended {
                        remaining_secs: until.duration_since(now).as_secs().max(1),
                        reason,
                    });
                }
                inner.tokens[i].suspended = None;
            }
            // A restarted worker registers again under the same token: its old session
            // is the one to go.
            let of_token = inner.workers.values().filter(|w| w.token == token).count();
            if of_token >= self.config.workers_per_token_max {
                let oldest = inner
                    .workers
                    .iter()
                    .filter(|(_, w)| w.token == token)
                    .min_by_key(|(_, w)| w.seen)
                    .map(|(k, _)| *k);
                if let Some(key) = oldest {
                    self.drop_session(&mut inner, key, "replaced by a newer session of its token")?;
                    inner.counters.evicted += 1;
                }
            }
        }
        if inner.workers.len() >= self.config.workers_max
            && let Some(key) = self.eviction_victim(&inner, token.is_some(), now)
        {
            self.drop_session(&mut inner, key, "evicted to make room for another worker")?;
            inner.counters.evicted += 1;
        }
        if inner.workers.len() >= self.config.workers_max {
            return Err(CoordinatorError::TooManyWorkers(inner.workers.len()));
        }
        let session = hex::encode(secret);
        let id = inner.next_worker;
        inner.next_worker += 1;
        let name: String = name.chars().take(WORKER_NAME_CHARS_MAX).collect();
        tracing::info!(
            worker = id,
            name,
            authenticated = token.is_some(),
            "prover worker registered"
        );
        inner.workers.insert(
            session_key(&session),
            WorkerEntry {
                id,
                name,
                token,
                seen: now,
                strikes: 0,
                lease: None,
            },
        );
        Ok(Registration {
            worker: id,
            session,
            proof_system: self.backend.system(),
            chunk_ops: self.backend.segment_ops_max(),
            lease_ms: self.config.lease.as_millis() as u64,
            lease_hold_max_ms: self.config.lease_hold_max.as_millis() as u64,
        })
    }

    /// The session to evict for a new registration, if any may be: token-less
    /// sessions first (only an authenticated registration may evict a live one), then
    /// sessions silent for two leases that hold no lease; among equals, one holding no
    /// lease, then the least recently seen.
    fn eviction_victim(
        &self,
        inner: &Inner,
        authenticated: bool,
        now: Instant,
    ) -> Option<SessionKey> {
        let silent_before = now.checked_sub(self.config.lease * 2);
        let silent =
            |w: &WorkerEntry| w.lease.is_none() && silent_before.is_some_and(|t| w.seen <= t);
        inner
            .workers
            .iter()
            .filter(|(_, w)| match (w.token.is_some(), authenticated) {
                (false, true) => true,
                (false, false) | (true, true) => silent(w),
                (true, false) => false,
            })
            .min_by_key(|(_, w)| (w.token.is_some(), !silent(w), w.lease.is_some(), w.seen))
            .map(|(k, _)| *k)
    }

    /// Unregisters a session; its lease (if any) goes back to the queue at once, with
    /// no strike and no backoff.
    fn drop_session(
        &self,
        inner: &mut Inner,
        key: SessionKey,
        why: &str,
    ) -> Result<(), CoordinatorError> {
        let Some(entry) = inner.workers.remove(&key) else {
            return Ok(());
        };
        tracing::info!(
            worker = entry.id,
            name = entry.name,
            why,
            "prover worker unregistered"
        );
        if let Some(job) = entry.lease
            && inner.leases.remove(&job).is_some()
        {
            self.requeue(inner, job, format!("worker {}: {why}", entry.id), None)?;
        }
        Ok(())
    }

    /// Puts `job` back: ready at once, or after `retry_at`.
    fn requeue(
        &self,
        inner: &mut Inner,
        job: JobId,
        reason: String,
        retry_at: Option<Instant>,
    ) -> Result<(), CoordinatorError> {
        let Some(record) = inner.records.get_mut(&job) else {
            return Ok(());
        };
        record.state = JobState::Queued;
        record.last_error = Some(reason);
        let snapshot = record.clone();
        // Queued again before the write: a failed write must not lose the job.
        match retry_at {
            Some(at) => inner.retrying.insert((at, job)),
            None => inner.ready.insert(job),
        };
        self.persist(&snapshot, false)
    }

    /// Ends `job`'s lease without a proof: the job waits out its backoff, and the
    /// holder gets a strike.
    fn lose_lease(
        &self,
        inner: &mut Inner,
        job: JobId,
        loss: Loss,
        now: Instant,
    ) -> Result<Option<Strike>, CoordinatorError> {
        let Some(lease) = inner.take_lease(job) else {
            return Ok(None);
        };
        let what = match loss {
            Loss::Expired => {
                inner.counters.expired += 1;
                "lease expired without a heartbeat".to_string()
            }
            Loss::Capped => {
                inner.counters.expired += 1;
                inner.counters.capped += 1;
                format!(
                    "lease held for the limit of {} s without a proof",
                    self.config.lease_hold_max.as_secs()
                )
            }
            Loss::Abandoned => {
                inner.counters.abandoned += 1;
                "lease abandoned: the worker leased another job".to_string()
            }
        };
        let lost = {
            let n = inner.lost.entry(job).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let delay = retry_delay(
            self.config.retry_backoff_base,
            self.config.retry_backoff_max,
            lost,
        );
        tracing::warn!(
            job = job.to_text(),
            worker = lease.worker,
            ?loss,
            retry_in_ms = delay.as_millis() as u64,
            "proof job lease lost"
        );
        let reason = format!("worker {}: {what}", lease.worker);
        self.requeue(inner, job, reason.clone(), Some(now + delay))?;
        self.strike(
            inner,
            lease.session,
            format!("job {}: {what}", job.to_text()),
            now,
        )
        .map(Some)
    }

    /// Counts a strike against a session's token (or the session); bans at
    /// `strikes_max`.
    fn strike(
        &self,
        inner: &mut Inner,
        session: SessionKey,
        reason: String,
        now: Instant,
    ) -> Result<Strike, CoordinatorError> {
        let Some(entry) = inner.workers.get_mut(&session) else {
            return Ok(Strike::Counted(0));
        };
        let (worker, token) = (entry.id, entry.token);
        let strikes = match token {
            Some(i) => {
                let state = &mut inner.tokens[i];
                state.strikes = state.strikes.saturating_add(1);
                state.strikes
            }
            None => {
                entry.strikes = entry.strikes.saturating_add(1);
                entry.strikes
            }
        };
        if strikes < self.config.strikes_max {
            return Ok(Strike::Counted(strikes));
        }
        inner.counters.banned += 1;
        let (victims, consequence): (Vec<SessionKey>, String) = match token {
            Some(i) => {
                inner.tokens[i] = TokenState {
                    strikes: 0,
                    suspended: Some((now + self.config.suspension, reason.clone())),
                };
                (
                    inner
                        .workers
                        .iter()
                        .filter(|(_, w)| w.token == Some(i))
                        .map(|(k, _)| *k)
                        .collect(),
                    format!(
                        "its token is refused for {} s and every session of it was dropped",
                        self.config.suspension.as_secs()
                    ),
                )
            }
            None => (vec![session], "its session was dropped".to_string()),
        };
        tracing::warn!(worker, strikes, reason, consequence, "prover worker banned");
        let why = format!("worker {worker} banned: {reason}");
        for key in victims {
            self.drop_session(inner, key, &why)?;
        }
        Ok(Strike::Banned(CoordinatorError::Banned {
            worker,
            strikes,
            reason,
            consequence,
        }))
    }

    /// Ends leases past their deadline and readies jobs whose backoff is over.
    fn expire_locked(&self, inner: &mut Inner, now: Instant) -> Result<(), CoordinatorError> {
        let mut due: Vec<(JobId, Loss)> = inner
            .leases
            .iter()
            .filter(|(_, l)| l.deadline <= now)
            .map(|(id, l)| {
                let capped = l.deadline >= l.granted + self.config.lease_hold_max;
                (*id, if capped { Loss::Capped } else { Loss::Expired })
            })
            .collect();
        due.sort_by_key(|(id, _)| *id);
        for (job, loss) in due {
            // A ban here reaches its worker on its next call (UnknownWorker, then
            // Suspended when it registers again).
            self.lose_lease(inner, job, loss, now)?;
        }
        while let Some(&(at, job)) = inner.retrying.first() {
            if at > now {
                break;
            }
            inner.retrying.pop_first();
            inner.ready.insert(job);
        }
        Ok(())
    }

    /// Ends expired leases (the job waits out its backoff; the holder gets a strike)
    /// and readies jobs whose backoff is over.
    pub fn expire_leases(&self) -> Result<(), CoordinatorError> {
        self.expire_leases_at(self.config.clock.now())
    }

    /// [`Coordinator::expire_leases`] at an explicit time.
    pub fn expire_leases_at(&self, now: Instant) -> Result<(), CoordinatorError> {
        let mut inner = self.lock();
        self.expire_locked(&mut inner, now)
    }

    /// Leases the oldest ready job to the worker of `session`, if any. A worker holds
    /// one lease: a lease it still holds is abandoned (a lost lease).
    pub fn lease(&self, session: &str) -> Result<Option<Lease>, CoordinatorError> {
        self.lease_at(session, self.config.clock.now())
    }

    /// [`Coordinator::lease`] at an explicit time.
    pub fn lease_at(&self, session: &str, now: Instant) -> Result<Option<Lease>, CoordinatorError> {
        let key = session_key(session);
        let mut inner = self.lock();
        self.expire_locked(&mut inner, now)?;
        let (worker, held) = match inner.workers.get_mut(&key) {
            Some(entry) => {
                entry.seen = now;
                (entry.id, entry.lease)
            }
            None => return Err(CoordinatorError::UnknownWorker),
        };
        if let Some(job) = held
            && let Some(Strike::Banned(e)) =
                self.lose_lease(&mut inner, job, Loss::Abandoned, now)?
        {
            return Err(e);
        }
        let Some(job) = inner.ready.pop_first() else {
            return Ok(None);
        };
        let Some(record) = inner.records.get_mut(&job) else {
            debug_assert!(false, "ready job {} has no record", job.to_text());
            return Ok(None);
        };
        let witness = hex::encode(&record.job.witness);
        record.attempts = record.attempts.saturating_add(1);
        record.state = JobState::Leased { worker };
        let attempt = record.attempts;
        let deadline = (now + self.config.lease).min(now + self.config.lease_hold_max);
        inner.leases.insert(
            job,
            LeaseState {
                session: key,
                worker,
                granted: now,
                deadline,
            },
        );
        if let Some(entry) = inner.workers.get_mut(&key) {
            entry.lease = Some(job);
        }
        tracing::info!(job = job.to_text(), worker, attempt, "job leased");
        Ok(Some(Lease {
            job: job.to_text(),
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
        let key = session_key(session);
        let mut inner = self.lock();
        self.expire_locked(&mut inner, now)?;
        match inner.workers.get_mut(&key) {
            Some(entry) => entry.seen = now,
            None => return Err(CoordinatorError::UnknownWorker),
        }
        let hold_max = self.config.lease_hold_max;
        let lease = self.config.lease;
        match inner.leases.get_mut(&job) {
            Some(l) if l.session == key => {
                l.deadline = (now + lease).min(l.granted + hold_max);
                Ok(l.deadline.saturating_duration_since(now))
            }
            _ => Err(CoordinatorError::NotLeased(job.to_text())),
        }
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
        let key = session_key(session);
        let statement = {
            let mut inner = self.lock();
            self.expire_locked(&mut inner, now)?;
            match inner.workers.get_mut(&key) {
                Some(entry) => entry.seen = now,
                None => return Err(CoordinatorError::UnknownWorker),
            }
            match (inner.leases.get(&job), inner.records.get(&job)) {
                (Some(lease), Some(record)) if lease.session == key => record.job.statement.clone(),
                _ => return Err(CoordinatorError::NotLeased(job.to_text())),
            }
        };
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
        let mut inner = self.lock();
        // The lease may have been lost while we verified.
        let worker = match inner.leases.get(&job) {
            Some(lease) if lease.session == key => lease.worker,
            _ => return Err(CoordinatorError::NotLeased(job.to_text())),
        };
        inner.take_lease(job);
        match verdict {
            Ok(p) => {
                let Some(mut record) = inner.records.remove(&job) else {
                    return Err(CoordinatorError::NotLeased(job.to_text()));
                };
                record.state = JobState::Proven { proof: p, worker };
                record.last_error = None;
                if let Err(e) = self.persist(&record, true) {
                    record.state = JobState::Queued;
                    inner.records.insert(job, record);
                    inner.ready.insert(job);
                    return Err(e);
                }
                inner.lost.remove(&job);
                if let Some(entry) = inner.workers.get_mut(&key) {
                    entry.strikes = 0;
                    if let Some(i) = entry.token {
                        inner.tokens[i].strikes = 0;
                    }
                }
                inner.counters.proven += 1;
                inner.accepted_at.push_back(now);
                while inner.accepted_at.len() > 10_000
                    || inner.accepted_at.front().is_some_and(|t| {
                        now.saturating_duration_since(*t) > Duration::from_secs(60)
                    })
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
            Err(reason) => {
                inner.counters.refused += 1;
                tracing::warn!(job = job.to_text(), worker, %reason, "proof refused");
                if let Some(record) = inner.records.get_mut(&job) {
                    // The worker's fault, not the job's.
                    record.attempts = record.attempts.saturating_sub(1);
                }
                self.requeue(
                    &mut inner,
                    job,
                    format!("worker {worker}: proof refused: {reason}"),
                    None,
                )?;
                let strike = self.strike(
                    &mut inner,
                    key,
                    format!("proof for job {} refused: {reason}", job.to_text()),
                    now,
                )?;
                match strike {
                    Strike::Banned(banned) => Err(banned),
                    Strike::Counted(strikes) => Err(CoordinatorError::BadProof {
                        job: job.to_text(),
                        reason,
                        strikes,
                        strikes_max: self.config.strikes_max,
                    }),
                }
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

    /// Stages into `write` the deletion of every job of batch `from` and later (for a
    /// batch plan settlement drops and makes again); call [`Self::forget_batches_from`]
    /// once `write` is durable.
    pub fn stage_forget_batches_from(
        &self,
        from: u64,
        write: &mut WriteBatch,
    ) -> Result<(), CoordinatorError> {
        // From the store, not from memory: proven jobs are only on disk, and a proof of
        // the dropped plan must not be taken for one of the new plan's chunks.
        let jobs = cf(&self.db, CF_JOBS)?;
        let start = JobId {
            batch: from,
            chunk: 0,
        }
        .key();
        let forward = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
        for item in self.db.iterator_cf(jobs, forward) {
            let (key, _) = item?;
            write.delete_cf(jobs, key);
        }
        Ok(())
    }

    /// Forgets, in memory, every job of batch `from` and later (leases included:
    /// a proof submitted for one is then refused as not leased).
    pub fn forget_batches_from(&self, from: u64) {
        let mut inner = self.lock();
        let doomed: Vec<JobId> = inner
            .records
            .keys()
            .filter(|id| id.batch >= from)
            .copied()
            .collect();
        for id in doomed {
            inner.take_lease(id);
            inner.records.remove(&id);
            inner.ready.remove(&id);
            inner.lost.remove(&id);
        }
        inner.retrying.retain(|(_, id)| id.batch < from);
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

    /// Jobs not proven yet (queued, waiting out a backoff, or leased): what
    /// settlement's back-pressure counts. Cheaper than [`Coordinator::status`].
    pub fn unproven_jobs(&self) -> usize {
        let inner = self.lock();
        inner.ready.len() + inner.retrying.len() + inner.leases.len()
    }

    /// Current counters.
    pub fn status(&self) -> CoordinatorStatus {
        let inner = self.lock();
        let mut prove_ms: Vec<u64> = inner.prove_ms.iter().copied().collect();
        prove_ms.sort_unstable();
        let now = self.config.clock.now();
        CoordinatorStatus {
            queued: inner.ready.len() + inner.retrying.len(),
            retrying: inner.retrying.len(),
            leased: inner.leases.len(),
            proven: inner.counters.proven,
            workers: inner.workers.len(),
            workers_unauthenticated: inner.workers.values().filter(|w| w.token.is_none()).count(),
            proofs_last_minute: inner
                .accepted_at
                .iter()
                .filter(|t| now.saturating_duration_since(**t) <= Duration::from_secs(60))
                .count(),
            prove_ms_median: prove_ms.get(prove_ms.len() / 2).copied().unwrap_or(0),
            refused: inner.counters.refused,
            expired: inner.counters.expired,
            capped: inner.counters.capped,
            abandoned: inner.counters.abandoned,
            banned: inner.counters.banned,
            evicted: inner.counters.evicted,
            leases: inner
                .leases
                .iter()
                .map(|(id, l)| (id.to_text(), l.worker))
                .collect(),
        }
    }

    /// Most ops per segment of the coordinator's backend.
    pub fn chunk_ops(&self) -> usize {
        self.backend.segment_ops_max()
    }

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

fn encode<T: BorshSerialize>(value: &T) -> Result<Vec<u8>, ProverError> {
    borsh::to_vec(value).map_err(|_| ProverError::Corrupt("encode"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(300);
        let delays: Vec<u64> = [1, 2, 3, 9, 10, 32, u32::MAX]
            .iter()
            .map(|n| retry_delay(base, max, *n).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 256, 300, 300, 300]);
        assert_eq!(retry_delay(base, max, 0), base);
    }
}

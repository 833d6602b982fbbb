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

mod jobs;
mod rpc;
mod store;

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

/// The coordinator. Cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    db: Arc<DB>,
    backend: Arc<dyn ProofBackend>,
    config: Arc<CoordinatorConfig>,
    inner: Arc<Mutex<Inner>>,
}

impl Coordinator {
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

    /// Jobs not proven yet (queued, waiting out a backoff, or leased): what
    /// settlement's back-pressure counts. Cheaper than [`Coordinator::status`].
    /// Also refreshes the job and worker gauges (settlement asks every round).
    pub fn unproven_jobs(&self) -> usize {
        let inner = self.lock();
        metrics::gauge!("ghostplane_prover_jobs", "state" => "queued")
            .set((inner.ready.len() + inner.retrying.len()) as f64);
        metrics::gauge!("ghostplane_prover_jobs", "state" => "leased")
            .set(inner.leases.len() as f64);
        metrics::gauge!("ghostplane_prover_workers").set(inner.workers.len() as f64);
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
}

#[cfg(test)]
mod tests {
    use super::jobs::retry_delay;
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

//! [`JobTable`]: the coordinator's memory of jobs and workers, each step at an
//! explicit `now`: registration and eviction, leasing, heartbeats, settling a
//! verified (or refused) proof, expiry, strikes and bans. The
//! [`Coordinator`](super::Coordinator) holds it behind its one mutex and hands it
//! the [`JobStore`] for the writes a step makes; proofs are verified outside it.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::store::{JobStore, Loaded};
use super::{
    CoordinatorConfig, CoordinatorError, CoordinatorStatus, JobId, JobRecord, JobState,
    WORKER_NAME_CHARS_MAX,
};
use crate::backend::Statement;
use crate::error::ProverError;

/// blake3 of a session secret: the registry never holds the secret itself.
pub(super) type SessionKey = [u8; 32];

pub(super) fn session_key(session: &str) -> SessionKey {
    *blake3::hash(session.as_bytes()).as_bytes()
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

/// A job handed to a worker, for the coordinator to build its [`Lease`](super::Lease).
pub(super) struct Granted<'s> {
    pub(super) job: JobId,
    pub(super) worker: u64,
    pub(super) attempt: u32,
    /// The job's witness, pinned in the store (encoded once the lock is released).
    pub(super) witness: rocksdb::DBPinnableSlice<'s>,
}

/// Unproven jobs (ready, backing off, leased), the worker sessions that lease them,
/// and the strikes and suspensions of their tokens. Not persisted, except job
/// records on each state change (through the [`JobStore`] a step is given).
pub(super) struct JobTable {
    config: Arc<CoordinatorConfig>,
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

impl JobTable {
    /// A table of what the store `loaded`: every unproven job ready, no workers.
    pub(super) fn new(config: Arc<CoordinatorConfig>, loaded: Loaded) -> Self {
        let mut table = Self {
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
            config,
        };
        table.counters.proven = loaded.proven;
        table.enqueue(loaded.unproven);
        table
    }

    /// Adds queued jobs, ready at once.
    pub(super) fn enqueue(&mut self, records: Vec<JobRecord>) {
        for record in records {
            self.ready.insert(record.id);
            self.records.insert(record.id, record);
        }
    }

    /// Jobs not proven yet: ready, backing off, or leased.
    pub(super) fn unproven(&self) -> usize {
        self.ready.len() + self.retrying.len() + self.leases.len()
    }

    /// The record of an unproven job.
    pub(super) fn record(&self, id: &JobId) -> Option<JobRecord> {
        self.records.get(id).cloned()
    }

    /// Sets the job and worker gauges.
    pub(super) fn publish_gauges(&self) {
        metrics::gauge!("ghostplane_prover_jobs", "state" => "queued")
            .set((self.ready.len() + self.retrying.len()) as f64);
        metrics::gauge!("ghostplane_prover_jobs", "state" => "leased")
            .set(self.leases.len() as f64);
        metrics::gauge!("ghostplane_prover_workers").set(self.workers.len() as f64);
    }

    /// Current counters, at `now`.
    pub(super) fn status(&self, now: Instant) -> CoordinatorStatus {
        let mut prove_ms: Vec<u64> = self.prove_ms.iter().copied().collect();
        prove_ms.sort_unstable();
        CoordinatorStatus {
            queued: self.ready.len() + self.retrying.len(),
            retrying: self.retrying.len(),
            leased: self.leases.len(),
            proven: self.counters.proven,
            workers: self.workers.len(),
            workers_unauthenticated: self.workers.values().filter(|w| w.token.is_none()).count(),
            proofs_last_minute: self
                .accepted_at
                .iter()
                .filter(|t| now.saturating_duration_since(**t) <= Duration::from_secs(60))
                .count(),
            prove_ms_median: prove_ms.get(prove_ms.len() / 2).copied().unwrap_or(0),
            refused: self.counters.refused,
            expired: self.counters.expired,
            capped: self.counters.capped,
            abandoned: self.counters.abandoned,
            banned: self.counters.banned,
            evicted: self.counters.evicted,
            leases: self
                .leases
                .iter()
                .map(|(id, l)| (id.to_text(), l.worker))
                .collect(),
        }
    }

    /// Registers a session with secret `session` for the holder of token `token` (an
    /// index into the auth list; `None`: token-less, already allowed by the caller),
    /// making room if the token or the registry is full. Returns the worker number.
    pub(super) fn register(
        &mut self,
        store: &JobStore,
        session: &str,
        name: &str,
        token: Option<usize>,
        now: Instant,
    ) -> Result<u64, CoordinatorError> {
        if let Some(i) = token {
            if let Some((until, reason)) = self.tokens[i].suspended.clone() {
                if until > now {
                    return Err(CoordinatorError::Suspended {
                        remaining_secs: until.duration_since(now).as_secs().max(1),
                        reason,
                    });
                }
                self.tokens[i].suspended = None;
            }
            // A restarted worker registers again under the same token: its old session
            // is the one to go.
            let of_token = self.workers.values().filter(|w| w.token == token).count();
            if of_token >= self.config.workers_per_token_max {
                let oldest = self
                    .workers
                    .iter()
                    .filter(|(_, w)| w.token == token)
                    .min_by_key(|(_, w)| w.seen)
                    .map(|(k, _)| *k);
                if let Some(key) = oldest {
                    self.drop_session(store, key, "replaced by a newer session of its token")?;
                    self.counters.evicted += 1;
                }
            }
        }
        if self.workers.len() >= self.config.workers_max
            && let Some(key) = self.eviction_victim(token.is_some(), now)
        {
            self.drop_session(store, key, "evicted to make room for another worker")?;
            self.counters.evicted += 1;
        }
        if self.workers.len() >= self.config.workers_max {
            return Err(CoordinatorError::TooManyWorkers(self.workers.len()));
        }
        let id = self.next_worker;
        self.next_worker += 1;
        let name: String = name.chars().take(WORKER_NAME_CHARS_MAX).collect();
        tracing::info!(
            worker = id,
            name,
            authenticated = token.is_some(),
            "prover worker registered"
        );
        self.workers.insert(
            session_key(session),
            WorkerEntry {
                id,
                name,
                token,
                seen: now,
                strikes: 0,
                lease: None,
            },
        );
        Ok(id)
    }

    /// The session to evict for a new registration, if any may be: token-less
    /// sessions first (only an authenticated registration may evict a live one), then
    /// sessions silent for two leases that hold no lease; among equals, one holding no
    /// lease, then the least recently seen.
    fn eviction_victim(&self, authenticated: bool, now: Instant) -> Option<SessionKey> {
        let silent_before = now.checked_sub(self.config.lease * 2);
        let silent =
            |w: &WorkerEntry| w.lease.is_none() && silent_before.is_some_and(|t| w.seen <= t);
        self.workers
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
        &mut self,
        store: &JobStore,
        key: SessionKey,
        why: &str,
    ) -> Result<(), CoordinatorError> {
        let Some(entry) = self.workers.remove(&key) else {
            return Ok(());
        };
        tracing::info!(
            worker = entry.id,
            name = entry.name,
            why,
            "prover worker unregistered"
        );
        if let Some(job) = entry.lease
            && self.leases.remove(&job).is_some()
        {
            self.requeue(store, job, format!("worker {}: {why}", entry.id), None)?;
        }
        Ok(())
    }

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

    /// Puts `job` back: ready at once, or after `retry_at`.
    fn requeue(
        &mut self,
        store: &JobStore,
        job: JobId,
        reason: String,
        retry_at: Option<Instant>,
    ) -> Result<(), CoordinatorError> {
        let Some(record) = self.records.get_mut(&job) else {
            return Ok(());
        };
        record.state = JobState::Queued;
        record.last_error = Some(reason);
        let snapshot = record.clone();
        // Queued again before the write: a failed write must not lose the job.
        match retry_at {
            Some(at) => self.retrying.insert((at, job)),
            None => self.ready.insert(job),
        };
        store.persist(&snapshot)
    }

    /// Ends `job`'s lease without a proof: the job waits out its backoff, and the
    /// holder gets a strike.
    fn lose_lease(
        &mut self,
        store: &JobStore,
        job: JobId,
        loss: Loss,
        now: Instant,
    ) -> Result<Option<Strike>, CoordinatorError> {
        let Some(lease) = self.take_lease(job) else {
            return Ok(None);
        };
        let what = match loss {
            Loss::Expired => {
                self.counters.expired += 1;
                "lease expired without a heartbeat".to_string()
            }
            Loss::Capped => {
                self.counters.expired += 1;
                self.counters.capped += 1;
                format!(
                    "lease held for the limit of {} s without a proof",
                    self.config.lease_hold_max.as_secs()
                )
            }
            Loss::Abandoned => {
                self.counters.abandoned += 1;
                "lease abandoned: the worker leased another job".to_string()
            }
        };
        let lost = {
            let n = self.lost.entry(job).or_insert(0);
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
        self.requeue(store, job, reason.clone(), Some(now + delay))?;
        self.strike(
            store,
            lease.session,
            format!("job {}: {what}", job.to_text()),
            now,
        )
        .map(Some)
    }

    /// Counts a strike against a session's token (or the session); bans at
    /// `strikes_max`.
    fn strike(
        &mut self,
        store: &JobStore,
        session: SessionKey,
        reason: String,
        now: Instant,
    ) -> Result<Strike, CoordinatorError> {
        let Some(entry) = self.workers.get_mut(&session) else {
            return Ok(Strike::Counted(0));
        };
        let (worker, token) = (entry.id, entry.token);
        let strikes = match token {
            Some(i) => {
                let state = &mut self.tokens[i];
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
        self.counters.banned += 1;
        let (victims, consequence): (Vec<SessionKey>, String) = match token {
            Some(i) => {
                self.tokens[i] = TokenState {
                    strikes: 0,
                    suspended: Some((now + self.config.suspension, reason.clone())),
                };
                (
                    self.workers
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
            self.drop_session(store, key, &why)?;
        }
        Ok(Strike::Banned(CoordinatorError::Banned {
            worker,
            strikes,
            reason,
            consequence,
        }))
    }

    /// Ends leases past their deadline (the job waits out its backoff; the holder
    /// gets a strike) and readies jobs whose backoff is over.
    pub(super) fn expire(
        &mut self,
        store: &JobStore,
        now: Instant,
    ) -> Result<(), CoordinatorError> {
        let mut due: Vec<(JobId, Loss)> = self
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
            self.lose_lease(store, job, loss, now)?;
        }
        while let Some(&(at, job)) = self.retrying.first() {
            if at > now {
                break;
            }
            self.retrying.pop_first();
            self.ready.insert(job);
        }
        Ok(())
    }

    /// Marks the session seen at `now`; its worker number, and the job it holds.
    fn touch(
        &mut self,
        key: &SessionKey,
        now: Instant,
    ) -> Result<(u64, Option<JobId>), CoordinatorError> {
        match self.workers.get_mut(key) {
            Some(entry) => {
                entry.seen = now;
                Ok((entry.id, entry.lease))
            }
            None => Err(CoordinatorError::UnknownWorker),
        }
    }

    /// Leases the oldest ready job to the worker of `session`, if any, with its
    /// witness as `store` holds it (read here, so that a job being forgotten cannot
    /// lose its witness half-way). A lease the worker still holds is abandoned.
    pub(super) fn lease<'s>(
        &mut self,
        store: &'s JobStore,
        session: &str,
        now: Instant,
    ) -> Result<Option<Granted<'s>>, CoordinatorError> {
        let key = session_key(session);
        self.expire(store, now)?;
        let (worker, held) = self.touch(&key, now)?;
        if let Some(job) = held
            && let Some(Strike::Banned(e)) = self.lose_lease(store, job, Loss::Abandoned, now)?
        {
            return Err(e);
        }
        let Some(job) = self.ready.pop_first() else {
            return Ok(None);
        };
        let Some(witness) = store.witness(job)? else {
            self.ready.insert(job);
            return Err(ProverError::Corrupt("job witness missing from the store").into());
        };
        let Some(record) = self.records.get_mut(&job) else {
            debug_assert!(false, "ready job {} has no record", job.to_text());
            return Ok(None);
        };
        record.attempts = record.attempts.saturating_add(1);
        record.state = JobState::Leased { worker };
        let attempt = record.attempts;
        let deadline = (now + self.config.lease).min(now + self.config.lease_hold_max);
        self.leases.insert(
            job,
            LeaseState {
                session: key,
                worker,
                granted: now,
                deadline,
            },
        );
        if let Some(entry) = self.workers.get_mut(&key) {
            entry.lease = Some(job);
        }
        Ok(Some(Granted {
            job,
            worker,
            attempt,
            witness,
        }))
    }

    /// Renews the lease on `job` of the worker of `session`, up to the lease's hold
    /// limit. Returns how long the lease now lasts.
    pub(super) fn heartbeat(
        &mut self,
        store: &JobStore,
        session: &str,
        job: JobId,
        now: Instant,
    ) -> Result<Duration, CoordinatorError> {
        let key = session_key(session);
        self.expire(store, now)?;
        self.touch(&key, now)?;
        let hold_max = self.config.lease_hold_max;
        let lease = self.config.lease;
        match self.leases.get_mut(&job) {
            Some(l) if l.session == key => {
                l.deadline = (now + lease).min(l.granted + hold_max);
                Ok(l.deadline.saturating_duration_since(now))
            }
            _ => Err(CoordinatorError::NotLeased(job.to_text())),
        }
    }

    /// The first half of a proof submission: the statement the proof of `job` must
    /// prove, if the worker of `session` holds its lease.
    pub(super) fn leased_statement(
        &mut self,
        store: &JobStore,
        session: &str,
        job: JobId,
        now: Instant,
    ) -> Result<Statement, CoordinatorError> {
        let key = session_key(session);
        self.expire(store, now)?;
        self.touch(&key, now)?;
        match (self.leases.get(&job), self.records.get(&job)) {
            (Some(lease), Some(record)) if lease.session == key => Ok(record.job.statement.clone()),
            _ => Err(CoordinatorError::NotLeased(job.to_text())),
        }
    }

    /// The second half, after the proof was checked outside the lock: a proof that
    /// verified (`Ok`) makes the job proven (a synced write) and clears the worker's
    /// strikes; a refused one (`Err(reason)`) queues the job again at once and
    /// strikes the worker.
    pub(super) fn settle(
        &mut self,
        store: &JobStore,
        session: &str,
        job: JobId,
        verdict: Result<Vec<u8>, String>,
        prove_ms: u64,
        now: Instant,
    ) -> Result<(), CoordinatorError> {
        let key = session_key(session);
        // The lease may have been lost while the proof was verified.
        let worker = match self.leases.get(&job) {
            Some(lease) if lease.session == key => lease.worker,
            _ => return Err(CoordinatorError::NotLeased(job.to_text())),
        };
        self.take_lease(job);
        match verdict {
            Ok(p) => {
                let Some(mut record) = self.records.remove(&job) else {
                    return Err(CoordinatorError::NotLeased(job.to_text()));
                };
                record.state = JobState::Proven { proof: p, worker };
                record.last_error = None;
                if let Err(e) = store.persist(&record) {
                    record.state = JobState::Queued;
                    self.records.insert(job, record);
                    self.ready.insert(job);
                    return Err(e);
                }
                self.lost.remove(&job);
                if let Some(entry) = self.workers.get_mut(&key) {
                    entry.strikes = 0;
                    if let Some(i) = entry.token {
                        self.tokens[i].strikes = 0;
                    }
                }
                self.counters.proven += 1;
                self.accepted_at.push_back(now);
                while self.accepted_at.len() > 10_000
                    || self.accepted_at.front().is_some_and(|t| {
                        now.saturating_duration_since(*t) > Duration::from_secs(60)
                    })
                {
                    self.accepted_at.pop_front();
                }
                self.prove_ms.push_back(prove_ms);
                metrics::histogram!("ghostplane_prover_prove_seconds")
                    .record(prove_ms as f64 / 1000.0);
                metrics::counter!("ghostplane_prover_proven_total").increment(1);
                if self.prove_ms.len() > 100 {
                    self.prove_ms.pop_front();
                }
                tracing::info!(job = job.to_text(), worker, prove_ms, "proof accepted");
                Ok(())
            }
            Err(reason) => {
                self.counters.refused += 1;
                tracing::warn!(job = job.to_text(), worker, %reason, "proof refused");
                if let Some(record) = self.records.get_mut(&job) {
                    // The worker's fault, not the job's.
                    record.attempts = record.attempts.saturating_sub(1);
                }
                self.requeue(
                    store,
                    job,
                    format!("worker {worker}: proof refused: {reason}"),
                    None,
                )?;
                let strike = self.strike(
                    store,
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

    /// Forgets every job of batch `from` and later (leases included: a proof
    /// submitted for one is then refused as not leased).
    pub(super) fn forget_from(&mut self, from: u64) {
        let doomed: Vec<JobId> = self
            .records
            .keys()
            .filter(|id| id.batch >= from)
            .copied()
            .collect();
        for id in doomed {
            self.take_lease(id);
            self.records.remove(&id);
            self.ready.remove(&id);
            self.lost.remove(&id);
        }
        self.retrying.retain(|(_, id)| id.batch < from);
    }
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

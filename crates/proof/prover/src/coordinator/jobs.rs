//! Workers and leases, each step at an explicit `now`: registration and eviction,
//! leasing, heartbeats, proof submission (verified), expiry, strikes and bans.

use super::*;

/// How a lease ended without a proof.
#[derive(Debug, Clone, Copy)]
pub(super) enum Loss {
    /// No heartbeat within `lease`.
    Expired,
    /// Held for `lease_hold_max`.
    Capped,
    /// Its worker leased another job.
    Abandoned,
}

/// What a strike did.
pub(super) enum Strike {
    /// Strikes of the worker's token (or session) now.
    Counted(u32),
    /// The worker was banned.
    Banned(CoordinatorError),
}

/// Backoff before the retry that follows a job's `lost`-th consecutive lost lease.
pub(super) fn retry_delay(base: Duration, max: Duration, lost: u32) -> Duration {
    let doublings = lost.saturating_sub(1).min(31);
    base.saturating_mul(1u32 << doublings).min(max)
}

impl Coordinator {
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
        self.persist(&snapshot)
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
        // Read under the lock (a job being forgotten must not lose its witness
        // half-way), encoded after it.
        let Some(witness) = self.witness(job)? else {
            inner.ready.insert(job);
            return Err(ProverError::Corrupt("job witness missing from the store").into());
        };
        let Some(record) = inner.records.get_mut(&job) else {
            debug_assert!(false, "ready job {} has no record", job.to_text());
            return Ok(None);
        };
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
        drop(inner);
        let witness = hex::encode(&*witness);
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
                if let Err(e) = self.persist(&record) {
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
                metrics::histogram!("ghostplane_prover_prove_seconds")
                    .record(prove_ms as f64 / 1000.0);
                metrics::counter!("ghostplane_prover_proven_total").increment(1);
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
}

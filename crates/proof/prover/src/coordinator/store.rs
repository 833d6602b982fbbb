//! The job store: opening (and reviving unfinished jobs), enqueueing a batch's
//! chunk jobs, persisting job records, and reading proofs back.

use super::*;
use ghostplane_primitives::codec::to_bytes;

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
            let witnesses = cf(&db, CF_WITNESSES)?;
            let mut revived = WriteBatch::default();
            for item in db.iterator_cf(jobs, rocksdb::IteratorMode::Start) {
                let (_, value) = item?;
                let mut record = JobRecord::try_from_slice(&value)
                    .map_err(|_| ProverError::Corrupt("job record"))?;
                if !record.job.witness.is_empty() {
                    // Written before witnesses had their own column: move it there
                    // (or drop it, once proven).
                    let witness = std::mem::take(&mut record.job.witness);
                    if !matches!(record.state, JobState::Proven { .. }) {
                        revived.put_cf(witnesses, record.id.key(), witness);
                    }
                    revived.put_cf(jobs, record.id.key(), to_bytes(&record));
                }
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
                        revived.put_cf(jobs, record.id.key(), to_bytes(&record));
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
        let witnesses = cf(&self.db, CF_WITNESSES)?;
        let mut records = Vec::with_capacity(chunks.len());
        for (i, mut job) in chunks.into_iter().enumerate() {
            let id = JobId {
                batch,
                chunk: u32::try_from(i).unwrap_or(u32::MAX),
            };
            write.put_cf(witnesses, id.key(), std::mem::take(&mut job.witness));
            let record = JobRecord {
                id,
                state: JobState::Queued,
                attempts: 0,
                last_error: None,
                job,
            };
            write.put_cf(jobs, id.key(), to_bytes(&record));
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

    /// Writes `record`; a proven one with a synced write that also deletes its
    /// witness.
    pub(super) fn persist(&self, record: &JobRecord) -> Result<(), CoordinatorError> {
        let jobs = cf(&self.db, CF_JOBS)?;
        let mut write = WriteBatch::default();
        write.put_cf(jobs, record.id.key(), to_bytes(record));
        let proven = matches!(record.state, JobState::Proven { .. });
        if proven {
            write.delete_cf(cf(&self.db, CF_WITNESSES)?, record.id.key());
        }
        let mut options = rocksdb::WriteOptions::default();
        options.set_sync(proven);
        self.db.write_opt(write, &options)?;
        Ok(())
    }

    /// The witness of an unproven job (`None` once proven or forgotten).
    pub(super) fn witness(
        &self,
        id: JobId,
    ) -> Result<Option<rocksdb::DBPinnableSlice<'_>>, CoordinatorError> {
        Ok(self
            .db
            .get_pinned_cf(cf(&self.db, CF_WITNESSES)?, id.key())?)
    }

    /// The stored record of a job (its `job.witness` is empty: see
    /// [`JobRecord::job`]).
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
        let start = JobId {
            batch: from,
            chunk: 0,
        }
        .key();
        for column in [CF_JOBS, CF_WITNESSES] {
            let column = cf(&self.db, column)?;
            let forward = rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward);
            for item in self.db.iterator_cf(column, forward) {
                let (key, _) = item?;
                write.delete_cf(column, key);
            }
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
}

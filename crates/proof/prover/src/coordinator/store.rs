//! [`JobStore`]: the coordinator's jobs on disk. Records in [`CF_JOBS`], witnesses
//! apart in [`CF_WITNESSES`], both keyed `batch ‖ chunk`. It holds no state of its
//! own beyond the database handle: what is leased, queued or backing off lives in
//! the [`JobTable`](super::jobs::JobTable).

use std::sync::Arc;

use borsh::BorshDeserialize;
use ghostplane_primitives::codec::to_bytes;
use rocksdb::{DB, WriteBatch};

use super::{CF_JOBS, CF_WITNESSES, CoordinatorError, JobId, JobRecord, JobState};
use crate::backend::Job;
use crate::error::ProverError;
use crate::tree::cf;

/// What [`JobStore::open`] found on disk.
pub(super) struct Loaded {
    /// Every unproven job, queued (leases are not persisted).
    pub(super) unproven: Vec<JobRecord>,
    /// How many jobs were proven before.
    pub(super) proven: usize,
}

/// The job records and witnesses in the prover's RocksDB. Cheap to clone.
#[derive(Clone)]
pub(super) struct JobStore {
    db: Arc<DB>,
}

impl JobStore {
    /// Reads every job back: unproven ones (and any an older coordinator marked
    /// failed) come back queued; records written with an inline witness have it
    /// moved to its own column.
    pub(super) fn open(db: Arc<DB>) -> Result<(Self, Loaded), ProverError> {
        let mut loaded = Loaded {
            unproven: Vec::new(),
            proven: 0,
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
                    JobState::Proven { .. } => loaded.proven += 1,
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
                        loaded.unproven.push(record);
                    }
                    JobState::Queued | JobState::Leased { .. } => {
                        record.state = JobState::Queued;
                        loaded.unproven.push(record);
                    }
                }
            }
            if !revived.is_empty() {
                db.write(revived)?;
            }
        }
        Ok((Self { db }, loaded))
    }

    /// Stages into `write` batch `batch`'s jobs, queued, with their witnesses apart;
    /// returns their records (witness-less) for the job table.
    pub(super) fn stage_batch(
        &self,
        batch: u64,
        chunks: Vec<Job>,
        write: &mut WriteBatch,
    ) -> Result<Vec<JobRecord>, CoordinatorError> {
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
        Ok(records)
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

    /// The stored record of a job, as last written.
    pub(super) fn record(&self, id: JobId) -> Result<Option<JobRecord>, CoordinatorError> {
        let jobs = cf(&self.db, CF_JOBS)?;
        match self.db.get_cf(jobs, id.key())? {
            Some(bytes) => Ok(Some(
                JobRecord::try_from_slice(&bytes)
                    .map_err(|_| ProverError::Corrupt("job record"))?,
            )),
            None => Ok(None),
        }
    }

    /// Stages into `write` the deletion of every job (record and witness) of batch
    /// `from` and later.
    pub(super) fn stage_forget_from(
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
}

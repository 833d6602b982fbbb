//! Coordinator bounds: job queue backpressure, worker registry limits and eviction,
//! and the fleet lock-outs of issue 19 item 4 (auth, strikes and bans, no terminal
//! jobs, capped lease holds, one lease per worker). Time is passed explicitly
//! (`*_at(.., now)`), so no test sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ghostplane_test_utils::batch as common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use ghostplane_prover::coordinator::{
    CF_JOBS, CF_WITNESSES, CoordinatorError, JobId, JobRecord, JobState,
};
use ghostplane_prover::{
    ChunkKeys, Coordinator, CoordinatorConfig, Groth16Backend, Job, ProofBackend, WorkerAuth,
    WorkerToken,
};

/// The Groth16 backend over one-op chunks.
fn groth16() -> Arc<dyn ProofBackend> {
    Arc::new(Groth16Backend::new(Arc::new(
        ChunkKeys::devnet_setup(1).unwrap(),
    )))
}

#[test]
fn queue_and_worker_bounds() {
    let backend = groth16();
    let dir = tempfile::tempdir().unwrap();
    let (db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    let token = WorkerToken::generate().unwrap();
    let coordinator = Coordinator::open(
        db.clone(),
        Arc::clone(&backend),
        CoordinatorConfig {
            lease: Duration::from_millis(20),
            jobs_max: 5,
            workers_max: 1,
            auth: WorkerAuth::tokens([&token]),
            ..CoordinatorConfig::default()
        },
    )
    .unwrap();

    // Seven chunks do not fit a five-job queue: refused, and the tree is not committed.
    let chunks = jobs(&mut tree, backend.as_ref(), &mixed_ops());
    assert_eq!(chunks.len(), 7);
    assert!(matches!(
        coordinator.enqueue_batch(&mut tree, 1, chunks),
        Err(CoordinatorError::QueueFull(0))
    ));
    assert_eq!(tree.version(), 0);
    tree.discard();
    let chunks = jobs(&mut tree, &Groth16Backend::witnesses_only(4), &mixed_ops());
    let queued = chunks.len();
    coordinator.enqueue_batch(&mut tree, 1, chunks).unwrap();
    assert_eq!(tree.version(), 1);

    // One worker slot: a second registration is refused while the first is live, and
    // accepted once the first has been silent for two leases.
    let circuit = hex::encode(backend.params_hash());
    let t0 = Instant::now();
    let first = coordinator
        .register_at(&circuit, "first", Some(token.expose()), t0)
        .unwrap();
    assert!(matches!(
        coordinator.register_at(&circuit, "second", Some(token.expose()), t0),
        Err(CoordinatorError::TooManyWorkers(1))
    ));
    let later = t0 + Duration::from_millis(60);
    let second = coordinator
        .register_at(&circuit, "second", Some(token.expose()), later)
        .unwrap();
    assert!(matches!(
        coordinator.lease_at(&first.session, later),
        Err(CoordinatorError::UnknownWorker)
    ));
    assert!(
        coordinator
            .lease_at(&second.session, later)
            .unwrap()
            .is_some()
    );

    // Jobs survive a restart of the coordinator (leases do not: the job is queued again).
    drop(coordinator);
    let reopened = Coordinator::open(db, backend, CoordinatorConfig::default()).unwrap();
    let status = reopened.status();
    assert_eq!(
        (status.queued, status.leased, status.proven),
        (queued, 0, 0)
    );
}

// ---- issue 19 item 4: the fleet cannot be locked out ----
//
// Each test below was first written against the coordinator before the fix (same
// scenario, old API) and failed there; the failure is noted above each.

const SECOND: Duration = Duration::from_secs(1);

struct Fleet {
    _dir: tempfile::TempDir,
    db: Arc<rocksdb::DB>,
    backend: Arc<dyn ProofBackend>,
    coordinator: Coordinator,
    chunks: Vec<Job>,
    circuit: String,
    /// Listed tokens.
    tokens: [WorkerToken; 2],
}

/// A coordinator listing two tokens, with one batch of seven one-op chunks queued.
fn fleet(config: impl FnOnce(&[WorkerToken; 2]) -> CoordinatorConfig) -> Fleet {
    let backend = groth16();
    let dir = tempfile::tempdir().unwrap();
    let (db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    let tokens = [
        WorkerToken::generate().unwrap(),
        WorkerToken::generate().unwrap(),
    ];
    let coordinator = Coordinator::open(db.clone(), Arc::clone(&backend), config(&tokens)).unwrap();
    let chunks = jobs(&mut tree, backend.as_ref(), &mixed_ops());
    coordinator
        .enqueue_batch(&mut tree, 1, chunks.clone())
        .unwrap();
    let circuit = hex::encode(backend.params_hash());
    Fleet {
        _dir: dir,
        db,
        backend,
        coordinator,
        chunks,
        circuit,
        tokens,
    }
}

fn listed(tokens: &[WorkerToken; 2]) -> CoordinatorConfig {
    CoordinatorConfig {
        auth: WorkerAuth::tokens(tokens),
        ..CoordinatorConfig::default()
    }
}

impl Fleet {
    fn register(&self, token: usize, name: &str, now: Instant) -> String {
        self.coordinator
            .register_at(&self.circuit, name, Some(self.tokens[token].expose()), now)
            .unwrap()
            .session
    }
}

fn job(chunk: u32) -> JobId {
    JobId { batch: 1, chunk }
}

const GARBAGE: &str = concat!(
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000"
);

/// Before: `register(circuit, "anyone")` returned `Ok(1)`: anyone could register.
#[test]
fn registration_needs_a_listed_token() {
    let f = fleet(listed);
    let c = &f.coordinator;
    assert!(matches!(
        c.register(&f.circuit, "anyone", None),
        Err(CoordinatorError::TokenMissing)
    ));
    let stranger = WorkerToken::generate().unwrap();
    let err = c
        .register(&f.circuit, "stranger", Some(stranger.expose()))
        .unwrap_err();
    assert!(matches!(err, CoordinatorError::TokenRejected), "{err}");
    assert!(err.to_string().contains("--token-file"), "{err}");
    // The circuit is checked first, whatever the token.
    assert!(matches!(
        c.register(&"00".repeat(32), "x", Some(f.tokens[0].expose())),
        Err(CoordinatorError::CircuitMismatch { .. })
    ));
    let ok = c
        .register(&f.circuit, "operator's", Some(f.tokens[1].expose()))
        .unwrap();
    assert_eq!(ok.session.len(), 64);
    assert_eq!(c.status().workers, 1);

    // The default configuration lists no token and admits nobody (fail closed);
    // open registration must be asked for.
    let closed = Coordinator::open(
        f.db.clone(),
        Arc::clone(&f.backend),
        CoordinatorConfig::default(),
    )
    .unwrap();
    assert!(matches!(
        closed.register(&f.circuit, "anyone", Some(f.tokens[0].expose())),
        Err(CoordinatorError::TokenRejected)
    ));
    let open = Coordinator::open(
        f.db.clone(),
        Arc::clone(&f.backend),
        CoordinatorConfig {
            auth: WorkerAuth::open(),
            ..CoordinatorConfig::default()
        },
    )
    .unwrap();
    open.register(&f.circuit, "anyone", None).unwrap();
    assert_eq!(open.status().workers_unauthenticated, 1);
}

/// Before: the public status named the holder (`1:0 → 1`), and a stranger's
/// `submit(1, 1:0, garbage)` was judged as worker 1's: the proof was refused and the
/// honest worker's lease cancelled (`leases.get("1:0")` was `None`).
#[test]
fn the_public_worker_number_is_no_credential() {
    let f = fleet(listed);
    let c = &f.coordinator;
    let t0 = Instant::now();
    let honest = c
        .register_at(&f.circuit, "honest", Some(f.tokens[0].expose()), t0)
        .unwrap();
    let lease = c.lease_at(&honest.session, t0).unwrap().unwrap();
    let (leased, holder) = c.status().leases.into_iter().next().unwrap();
    assert_eq!(
        (leased.as_str(), holder),
        (lease.job.as_str(), honest.worker)
    );

    // Posing as the worker by its number, or with a session of one's own.
    let err = c
        .submit_at(&holder.to_string(), job(0), GARBAGE, 1, t0)
        .unwrap_err();
    assert!(matches!(err, CoordinatorError::UnknownWorker), "{err}");
    assert!(matches!(
        c.heartbeat_at(&holder.to_string(), job(0), t0),
        Err(CoordinatorError::UnknownWorker)
    ));
    let other = f.register(1, "other", t0);
    assert!(matches!(
        c.submit_at(&other, job(0), GARBAGE, 1, t0),
        Err(CoordinatorError::NotLeased(_))
    ));
    let status = c.status();
    assert_eq!(status.leases.get(&leased), Some(&honest.worker));
    assert_eq!(status.refused, 0);
}

/// Before: after five refused proofs job 1:0 was `Failed` for good (round 4 of 8),
/// and batch 1 could never finalize.
#[test]
fn refused_proofs_count_against_the_worker_not_the_job() {
    let f = fleet(listed);
    let c = &f.coordinator;
    let t0 = Instant::now();
    let cheat = f.register(0, "cheat", t0);
    for strike in 1..=2 {
        let lease = c.lease_at(&cheat, t0).unwrap().unwrap();
        assert_eq!(lease.job, "1:0", "the refused job is queued again, first");
        let err = c.submit_at(&cheat, job(0), GARBAGE, 1, t0).unwrap_err();
        match err {
            CoordinatorError::BadProof {
                strikes,
                strikes_max,
                ..
            } => assert_eq!((strikes, strikes_max), (strike, 3)),
            other => panic!("{other}"),
        }
        let record = c.job(job(0)).unwrap().unwrap();
        assert_eq!(record.state, JobState::Queued);
        assert_eq!(record.attempts, 0, "refused leases do not count");
    }
    // A valid proof of another chunk is refused just the same; it is the third strike
    // and bans the worker: it is told why, its session is gone, its token suspended.
    c.lease_at(&cheat, t0).unwrap().unwrap();
    let wrong_statement = hex::encode(f.backend.prove(&f.chunks[1].witness).unwrap());
    let err = c
        .submit_at(&cheat, job(0), &wrong_statement, 1, t0)
        .unwrap_err();
    assert!(
        matches!(err, CoordinatorError::Banned { strikes: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("refused for 900 s"), "{err}");
    assert!(matches!(
        c.lease_at(&cheat, t0),
        Err(CoordinatorError::UnknownWorker)
    ));
    let err = c
        .register_at(&f.circuit, "cheat again", Some(f.tokens[0].expose()), t0)
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoordinatorError::Suspended {
                remaining_secs: 900,
                ..
            }
        ),
        "{err}"
    );
    let status = c.status();
    assert_eq!((status.refused, status.banned, status.queued), (3, 1, 7));
    assert_eq!(c.job(job(0)).unwrap().unwrap().state, JobState::Queued);

    // Another token is unaffected; its worker proves the job. Strikes count without
    // an accepted proof in between: one is cleared by an accepted proof.
    let honest = f.register(1, "honest", t0);
    c.lease_at(&honest, t0).unwrap().unwrap();
    assert!(matches!(
        c.submit_at(&honest, job(0), GARBAGE, 1, t0),
        Err(CoordinatorError::BadProof { strikes: 1, .. })
    ));
    c.lease_at(&honest, t0).unwrap().unwrap();
    let proof = hex::encode(f.backend.prove(&f.chunks[0].witness).unwrap());
    c.submit_at(&honest, job(0), &proof, 1, t0).unwrap();
    assert!(matches!(
        c.job(job(0)).unwrap().unwrap().state,
        JobState::Proven { .. }
    ));
    c.lease_at(&honest, t0).unwrap().unwrap();
    assert!(matches!(
        c.submit_at(&honest, job(1), GARBAGE, 1, t0),
        Err(CoordinatorError::BadProof { strikes: 1, .. })
    ));

    // The suspension ends.
    let later = t0 + Duration::from_secs(901);
    f.register(0, "cheat, later", later);
}

/// Before: a job marked `Failed` on disk stayed failed on open (`state == Failed`,
/// not queued).
#[test]
fn failed_jobs_on_disk_are_queued_again() {
    let f = fleet(listed);
    let jobs = f.chunks.len();
    let mut record = f.coordinator.job(job(0)).unwrap().unwrap();
    drop(f.coordinator);
    // What the old code wrote after `attempts_max` leases.
    record.state = JobState::Failed;
    let key = key_of(job(0));
    let column = f.db.cf_handle(CF_JOBS).unwrap();
    f.db.put_cf(column, key, borsh::to_vec(&record).unwrap())
        .unwrap();
    let reopened =
        Coordinator::open(f.db.clone(), Arc::clone(&f.backend), listed(&f.tokens)).unwrap();
    assert_eq!(
        reopened.job(job(0)).unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(reopened.status().queued, jobs);
    // Written back as queued.
    let stored: JobRecord = borsh::from_slice(&f.db.get_cf(column, key).unwrap().unwrap()).unwrap();
    assert_eq!(stored.state, JobState::Queued);
}

fn key_of(id: JobId) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&id.batch.to_be_bytes());
    key[8..].copy_from_slice(&id.chunk.to_be_bytes());
    key
}

/// Before: every queued job's witness (megabytes for a real segment) sat in the
/// coordinator's memory and was written again with each state change. Now it is in
/// its own column, read only to lease the job, and deleted once the job is proven.
#[test]
fn witnesses_live_on_disk_until_proven() {
    let f = fleet(listed);
    let c = &f.coordinator;
    let t0 = Instant::now();
    let witnesses = f.db.cf_handle(CF_WITNESSES).unwrap();
    let jobs = f.db.cf_handle(CF_JOBS).unwrap();
    for (i, chunk) in f.chunks.iter().enumerate() {
        let id = job(i as u32);
        assert!(c.job(id).unwrap().unwrap().job.witness.is_empty());
        let stored: JobRecord =
            borsh::from_slice(&f.db.get_cf(jobs, key_of(id)).unwrap().unwrap()).unwrap();
        assert!(stored.job.witness.is_empty());
        assert_eq!(
            f.db.get_cf(witnesses, key_of(id)).unwrap().unwrap(),
            chunk.witness
        );
    }

    let session = f.register(0, "w", t0);
    let lease = c.lease_at(&session, t0).unwrap().unwrap();
    assert_eq!(lease.job, "1:0");
    assert_eq!(hex::decode(&lease.witness).unwrap(), f.chunks[0].witness);
    let proof = hex::encode(f.backend.prove(&f.chunks[0].witness).unwrap());
    c.submit_at(&session, job(0), &proof, 1, t0).unwrap();
    assert!(f.db.get_cf(witnesses, key_of(job(0))).unwrap().is_none());
    assert!(f.db.get_cf(witnesses, key_of(job(1))).unwrap().is_some());
    assert_eq!(c.batch_proofs(1).unwrap(), None);

    // A re-plan forgets the batch's witnesses with its jobs.
    let mut write = rocksdb::WriteBatch::default();
    c.stage_forget_batches_from(1, &mut write).unwrap();
    f.db.write(write).unwrap();
    c.forget_batches_from(1);
    assert!(f.db.get_cf(witnesses, key_of(job(1))).unwrap().is_none());
    assert!(c.job(job(1)).unwrap().is_none());
}

/// Records written before witnesses had their own column carry the witness inline:
/// opening moves it to the witness column, and a lease still hands it out.
#[test]
fn inline_witnesses_are_moved_on_open() {
    let f = fleet(listed);
    let jobs = f.db.cf_handle(CF_JOBS).unwrap();
    let witnesses = f.db.cf_handle(CF_WITNESSES).unwrap();
    let mut record = f.coordinator.job(job(0)).unwrap().unwrap();
    drop(f.coordinator);
    record.job.witness = f.chunks[0].witness.clone();
    f.db.put_cf(jobs, key_of(job(0)), borsh::to_vec(&record).unwrap())
        .unwrap();
    f.db.delete_cf(witnesses, key_of(job(0))).unwrap();

    let reopened =
        Coordinator::open(f.db.clone(), Arc::clone(&f.backend), listed(&f.tokens)).unwrap();
    let stored: JobRecord =
        borsh::from_slice(&f.db.get_cf(jobs, key_of(job(0))).unwrap().unwrap()).unwrap();
    assert!(stored.job.witness.is_empty());
    assert_eq!(
        f.db.get_cf(witnesses, key_of(job(0))).unwrap().unwrap(),
        f.chunks[0].witness
    );
    let session = reopened
        .register_at(&f.circuit, "w", Some(f.tokens[0].expose()), Instant::now())
        .unwrap()
        .session;
    let lease = reopened
        .lease_at(&session, Instant::now())
        .unwrap()
        .unwrap();
    assert_eq!(hex::decode(&lease.witness).unwrap(), f.chunks[0].witness);
}

/// Before: heartbeats every 10 ms held a 40 ms lease for 2 s (and would have for
/// ever).
#[test]
fn heartbeats_cannot_hold_a_lease_forever() {
    let f = fleet(|tokens| CoordinatorConfig {
        lease: 10 * SECOND,
        lease_hold_max: 60 * SECOND,
        ..listed(tokens)
    });
    let c = &f.coordinator;
    let t0 = Instant::now();
    let holder = f.register(0, "holder", t0);
    let lease = c.lease_at(&holder, t0).unwrap().unwrap();
    assert_eq!((lease.job.as_str(), lease.hold_ms), ("1:0", 60_000));
    for s in (5..60).step_by(5) {
        let left = c.heartbeat_at(&holder, job(0), t0 + s * SECOND).unwrap();
        assert_eq!(left, (10 * SECOND).min((60 - s) * SECOND), "at {s} s");
    }
    // At the hold limit the lease is lost like an expired one: the holder gets a
    // strike and the job waits out its backoff, then goes to another worker.
    let limit = t0 + 60 * SECOND;
    assert!(matches!(
        c.heartbeat_at(&holder, job(0), limit),
        Err(CoordinatorError::NotLeased(_))
    ));
    let status = c.status();
    assert_eq!((status.leased, status.expired, status.capped), (0, 1, 1));
    assert_eq!(status.retrying, 1);
    let record = c.job(job(0)).unwrap().unwrap();
    assert!(
        record.last_error.unwrap().contains("held for the limit"),
        "the reason is kept for the operator"
    );
    let other = f.register(1, "other", limit);
    assert_eq!(c.lease_at(&other, limit).unwrap().unwrap().job, "1:1");
    let other2 = f.register(1, "other 2", limit + SECOND);
    assert_eq!(
        c.lease_at(&other2, limit + SECOND).unwrap().unwrap().job,
        "1:0"
    );
    // The holder's strike: the token's next refused proof is its second.
    c.lease_at(&holder, limit + SECOND).unwrap().unwrap();
    assert!(matches!(
        c.submit_at(&holder, job(2), GARBAGE, 1, limit + SECOND),
        Err(CoordinatorError::BadProof { strikes: 2, .. })
    ));
}

/// Before: one worker leased all 7 jobs.
#[test]
fn one_lease_per_worker() {
    let f = fleet(listed);
    let c = &f.coordinator;
    let t0 = Instant::now();
    let greedy = f.register(0, "greedy", t0);
    assert_eq!(c.lease_at(&greedy, t0).unwrap().unwrap().job, "1:0");
    // Leasing again abandons the held lease: a lost lease (strike, backoff).
    assert_eq!(c.lease_at(&greedy, t0).unwrap().unwrap().job, "1:1");
    let status = c.status();
    assert_eq!(
        (status.leased, status.abandoned, status.retrying),
        (1, 1, 1)
    );
    assert_eq!(c.lease_at(&greedy, t0).unwrap().unwrap().job, "1:2");
    let err = c.lease_at(&greedy, t0).unwrap_err();
    assert!(matches!(err, CoordinatorError::Banned { .. }), "{err}");
    let status = c.status();
    assert_eq!((status.leased, status.retrying, status.queued), (0, 3, 7));
}

/// Before: four registrations filled a four-worker registry and the operator's worker
/// got `TooManyWorkers(4)`.
#[test]
fn registrations_cannot_lock_out_the_fleet() {
    let f = fleet(|tokens| CoordinatorConfig {
        workers_max: 4,
        workers_per_token_max: 3,
        auth: WorkerAuth::tokens(tokens).with_unauthenticated(true),
        ..CoordinatorConfig::default()
    });
    let c = &f.coordinator;
    let t0 = Instant::now();
    let squatters: Vec<_> = (0..4)
        .map(|i| {
            c.register_at(&f.circuit, &format!("squatter {i}"), None, t0)
                .unwrap()
        })
        .collect();
    assert!(matches!(
        c.register_at(&f.circuit, "squatter 4", None, t0),
        Err(CoordinatorError::TooManyWorkers(4))
    ));
    // Token-less workers make room for authenticated ones, even live ones holding a
    // lease (the job goes back to the queue at once, without a strike).
    c.lease_at(&squatters[0].session, t0).unwrap().unwrap();
    let a = f.register(0, "a", t0);
    let status = c.status();
    assert_eq!((status.workers, status.workers_unauthenticated), (4, 3));
    let b = f.register(0, "b", t0);
    let c1 = f.register(1, "c", t0);
    let d = f.register(1, "d", t0);
    let status = c.status();
    assert_eq!((status.workers, status.workers_unauthenticated), (4, 0));
    assert_eq!((status.leased, status.queued, status.retrying), (0, 7, 0));
    assert!(matches!(
        c.lease_at(&squatters[0].session, t0),
        Err(CoordinatorError::UnknownWorker)
    ));

    // A token-less registration never pushes an authenticated worker out, not even a
    // long-silent one.
    let much_later = t0 + 3600 * SECOND;
    assert!(matches!(
        c.register_at(&f.circuit, "squatter 5", None, much_later),
        Err(CoordinatorError::TooManyWorkers(4))
    ));
    // An authenticated one replaces a silent worker, but not a live one.
    for live in [&a, &b, &c1] {
        c.lease_at(live, much_later).unwrap();
    }
    f.register(1, "e", much_later);
    assert!(matches!(
        c.lease_at(&d, much_later),
        Err(CoordinatorError::UnknownWorker)
    ));
    assert!(matches!(
        c.register_at(&f.circuit, "f", Some(f.tokens[0].expose()), much_later),
        Err(CoordinatorError::TooManyWorkers(4))
    ));
}

/// A token may hold `workers_per_token_max` sessions; a new one replaces the least
/// recently seen (a restarted worker registers again under its token).
#[test]
fn sessions_per_token_are_bounded() {
    let f = fleet(|tokens| CoordinatorConfig {
        workers_per_token_max: 2,
        ..listed(tokens)
    });
    let c = &f.coordinator;
    let t0 = Instant::now();
    let first = f.register(0, "first", t0);
    let second = f.register(0, "second", t0 + SECOND);
    let third = f.register(0, "third", t0 + 2 * SECOND);
    assert_eq!(c.status().workers, 2);
    assert!(matches!(
        c.lease_at(&first, t0 + 2 * SECOND),
        Err(CoordinatorError::UnknownWorker)
    ));
    c.lease_at(&second, t0 + 2 * SECOND).unwrap().unwrap();
    c.lease_at(&third, t0 + 2 * SECOND).unwrap().unwrap();
}

/// A job whose leases keep getting lost waits 1 s, 2 s, 4 s ... (capped) before its
/// next lease, while other jobs go on. (Before: it failed after five leases.)
#[test]
fn lost_leases_back_off_exponentially_and_never_fail_the_job() {
    let f = fleet(|tokens| CoordinatorConfig {
        lease: 10 * SECOND,
        retry_backoff_base: SECOND,
        retry_backoff_max: 8 * SECOND,
        strikes_max: 1000,
        ..listed(tokens)
    });
    let c = &f.coordinator;
    let mut now = Instant::now();
    let worker = f.register(0, "crashes on 1:0", now);
    let mut backoffs = Vec::new();
    for _ in 0..7 {
        let lease = c.lease_at(&worker, now).unwrap().unwrap();
        assert_eq!(lease.job, "1:0");
        now += 10 * SECOND; // no heartbeat: the lease expires
        c.expire_leases_at(now).unwrap();
        assert_eq!(c.status().retrying, 1);
        // Not ready before its backoff is over; then first again.
        let mut waited = Duration::ZERO;
        while c.status().retrying == 1 {
            waited += SECOND / 2;
            c.expire_leases_at(now + waited).unwrap();
        }
        backoffs.push(waited.as_millis() as u64);
        now += waited;
    }
    assert_eq!(backoffs, [1000, 2000, 4000, 8000, 8000, 8000, 8000]);
    let record = c.job(job(0)).unwrap().unwrap();
    assert_eq!((record.state, record.attempts), (JobState::Queued, 7));
    assert_eq!(c.status().expired, 7);
}

/// Settlement drops the plans of batches the L1 refused and plans them again: every
/// job of those batches is forgotten, proven ones included, or `batch_proofs` would
/// mix the old plan's proofs into the new one's.
#[test]
fn forgotten_batches_leave_no_proofs_behind() {
    let f = fleet(listed);
    let c = &f.coordinator;
    let t0 = Instant::now();
    let worker = f.register(0, "prover", t0);
    c.lease_at(&worker, t0).unwrap().unwrap();
    let proof = hex::encode(f.backend.prove(&f.chunks[0].witness).unwrap());
    c.submit_at(&worker, job(0), &proof, 1, t0).unwrap();
    c.lease_at(&worker, t0).unwrap().unwrap();

    let mut write = rocksdb::WriteBatch::default();
    c.stage_forget_batches_from(1, &mut write).unwrap();
    f.db.write(write).unwrap();
    c.forget_batches_from(1);
    for chunk in 0..f.chunks.len() as u32 {
        assert!(
            c.job(job(chunk)).unwrap().is_none(),
            "job 1:{chunk} is left"
        );
    }
    assert!(c.batch_proofs(1).unwrap().is_none());
    let status = c.status();
    assert_eq!((status.queued, status.leased), (0, 0));
    assert!(matches!(
        c.submit_at(&worker, job(1), GARBAGE, 1, t0),
        Err(CoordinatorError::NotLeased(_))
    ));
}

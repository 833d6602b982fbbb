//! Coordinator bounds: job queue backpressure, worker registry limits and eviction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use ghostplane_prover::coordinator::CoordinatorError;
use ghostplane_prover::{ChunkKeys, Coordinator, CoordinatorConfig};

#[test]
fn queue_and_worker_bounds() {
    let keys = ChunkKeys::devnet_setup(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (db, mut tree) = open_tree(dir.path());
    genesis(&mut tree);
    let coordinator = Coordinator::open(
        db.clone(),
        keys.verifier().clone(),
        1,
        CoordinatorConfig {
            lease: Duration::from_millis(20),
            jobs_max: 5,
            workers_max: 1,
            ..CoordinatorConfig::default()
        },
    )
    .unwrap();

    // Seven chunks do not fit a five-job queue: refused, and the tree is not committed.
    let chunks = build(&mut tree, 1, &mixed_ops());
    assert_eq!(chunks.len(), 7);
    assert!(matches!(
        coordinator.enqueue_batch(&mut tree, 1, chunks),
        Err(CoordinatorError::QueueFull(0))
    ));
    assert_eq!(tree.version(), 0);
    tree.discard();
    let chunks = build(&mut tree, 4, &mixed_ops());
    let jobs = chunks.len();
    coordinator.enqueue_batch(&mut tree, 1, chunks).unwrap();
    assert_eq!(tree.version(), 1);

    // One worker slot: a second registration is refused while the first is live, and
    // accepted once the first has been silent for two leases.
    let circuit = hex::encode(keys.shape().circuit_hash());
    let first = coordinator.register(&circuit, "first").unwrap();
    assert!(matches!(
        coordinator.register(&circuit, "second"),
        Err(CoordinatorError::TooManyWorkers(1))
    ));
    std::thread::sleep(Duration::from_millis(60));
    let second = coordinator.register(&circuit, "second").unwrap();
    assert!(matches!(
        coordinator.lease(first),
        Err(CoordinatorError::UnknownWorker(_))
    ));
    assert!(coordinator.lease(second).unwrap().is_some());

    // Jobs survive a restart of the coordinator (leases do not: the job is queued again).
    drop(coordinator);
    let reopened =
        Coordinator::open(db, keys.verifier().clone(), 1, CoordinatorConfig::default()).unwrap();
    let status = reopened.status();
    assert_eq!((status.queued, status.leased, status.proven), (jobs, 0, 0));
}

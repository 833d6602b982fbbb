//! The prover fleet for real: an in-process coordinator (as the L2 node runs it) and
//! two `ghostplane prover` worker processes presenting a token from a token file. One
//! worker is killed with SIGKILL while it holds a lease; the job is leased again and
//! proven by the other. Before the workers start, a worker with the wrong circuit is
//! refused, worker processes with a wrong token or none are refused and exit, and a
//! worker submitting a proof of the wrong statement is refused without the job being
//! marked proven (or failed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, Keypair, PubdataOp, Signature, TokenId,
};
use ghostplane_prover::auth::{load_or_create_token_file, read_worker_token};
use ghostplane_prover::coordinator::{CoordinatorStatus, JobId, JobState};
use ghostplane_prover::worker::CoordinatorClient;
use ghostplane_prover::{
    AccountTree, ChunkKeys, Coordinator, CoordinatorConfig, Groth16Backend, Merkleizer,
    ProofBackend, WorkerAuth, WorkerToken,
};

const CHUNK_OPS: usize = 1;
const JOBS: usize = 4;

fn worker_command(addr: &str, keys: &Path, name: &str, token_file: Option<&Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ghostplane"));
    command
        .args(["prover", "--coordinator", addr, "--threads", "1"])
        .args(["--proof-system", "groth16"])
        .args(["--chunk-ops", &CHUNK_OPS.to_string()])
        .arg("--keys-dir")
        .arg(keys)
        .args(["--name", name])
        .stdout(Stdio::null());
    if let Some(file) = token_file {
        command.arg("--token-file").arg(file);
    }
    command
}

fn spawn_worker(addr: &str, keys: &Path, name: &str, token_file: &Path) -> Child {
    worker_command(addr, keys, name, Some(token_file))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

/// Runs a worker that the coordinator must refuse: it exits with an error within a
/// minute. Returns its stderr.
fn refused_worker(addr: &str, keys: &Path, name: &str, token_file: Option<&Path>) -> String {
    let mut child = worker_command(addr, keys, name, token_file)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn worker");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("worker `{name}` was not refused within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        !status.success(),
        "worker `{name}` exited successfully: {stderr}"
    );
    stderr
}

async fn wait_for(
    client: &CoordinatorClient,
    what: &str,
    timeout: Duration,
    mut done: impl FnMut(&CoordinatorStatus) -> bool,
) -> CoordinatorStatus {
    let deadline = Instant::now() + timeout;
    loop {
        let status = client.status().await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_job_is_released_and_bad_proofs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let keys = ChunkKeys::load_or_setup(&keys_dir, CHUNK_OPS, false).unwrap();
    let backend: std::sync::Arc<dyn ProofBackend> =
        std::sync::Arc::new(Groth16Backend::new(std::sync::Arc::new(keys)));

    // A batch of JOBS transfers, one per chunk.
    let db = ghostplane_prover::open_db(&dir.path().join("prover")).unwrap();
    let mut tree = AccountTree::open(db.clone(), backend.tree_hash()).unwrap();
    let genesis: Vec<_> = (0..3u32)
        .map(|i| {
            let mut leaf = AccountLeaf::new(Keypair::dev(i).public_key());
            leaf.balances = [1_000_000, 0, 0, 0];
            (AccountId::new(i).unwrap(), leaf)
        })
        .collect();
    tree.update_many(&genesis).unwrap();
    tree.commit(0, rocksdb::WriteBatch::default()).unwrap();
    let ops: Vec<PubdataOp> = (0..JOBS)
        .map(|i| PubdataOp::Transfer {
            from: AccountId::new(1).unwrap(),
            to: AccountId::new(2).unwrap(),
            token: TokenId::Gcc,
            amount: 100 + i as u128,
            fee: 1,
            signature: Signature([0; 64]),
        })
        .collect();
    let chunks = Merkleizer::new(&mut tree, backend.as_ref(), ChainId(7))
        .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
        .unwrap();
    assert_eq!(chunks.len(), JOBS);
    let wrong_statement = hex::encode(backend.prove(&chunks[1].witness).unwrap());

    // The operator's token file (as `ghostplane devnet` writes it) and a second listed
    // token for the cheat, so that its strikes are its own.
    let token_file = dir.path().join("prover-worker-tokens");
    let fleet_tokens = load_or_create_token_file(&token_file).unwrap();
    let cheat_token = WorkerToken::generate().unwrap();
    let coordinator = Coordinator::open(
        db,
        std::sync::Arc::clone(&backend),
        CoordinatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            lease: Duration::from_secs(3),
            auth: WorkerAuth::tokens(fleet_tokens.iter().chain([&cheat_token])),
            ..CoordinatorConfig::default()
        },
    )
    .unwrap();
    coordinator.enqueue_batch(&mut tree, 1, chunks).unwrap();
    let (server, addr) = coordinator.serve().await.unwrap();
    let url = format!("http://{addr}");
    let client = CoordinatorClient::new(&url).unwrap();

    // A worker for another circuit is refused.
    let circuit = hex::encode(backend.params_hash());
    let err = client
        .register(&"00".repeat(32), "stranger", Some(&fleet_tokens[0]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("differs"), "{err}");

    // Worker processes with a token the operator did not list, or with none, are
    // refused and exit, saying why; they never got a session.
    let wrong_file = dir.path().join("wrong-token");
    std::fs::write(&wrong_file, format!("{}\n", "ab".repeat(32))).unwrap();
    let stderr = refused_worker(&url, &keys_dir, "wrong token", Some(&wrong_file));
    assert!(
        stderr.contains("not in the coordinator's token file"),
        "{stderr}"
    );
    let stderr = refused_worker(&url, &keys_dir, "no token", None);
    assert!(stderr.contains("--token-file"), "{stderr}");
    assert_eq!(client.status().await.unwrap().workers, 0);
    assert_eq!(read_worker_token(&token_file).unwrap(), fleet_tokens[0]);

    // A worker that submits a proof of another chunk is refused; nothing is proven.
    let cheat = client
        .register(&circuit, "cheat", Some(&cheat_token))
        .await
        .unwrap();
    // Its public number is no credential.
    let lease = client.lease(&cheat.session).await.unwrap().unwrap();
    assert_eq!(lease.job, "1:0");
    let err = client
        .submit(&cheat.worker.to_string(), &lease.job, &"00".repeat(128), 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown worker session"), "{err}");
    let err = client
        .submit(&cheat.session, &lease.job, &wrong_statement, 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(err.to_string().contains("strike 1 of 3"), "{err}");
    let lease = client.lease(&cheat.session).await.unwrap().unwrap();
    assert_eq!(lease.job, "1:0", "the refused job is queued again, first");
    let err = client
        .submit(&cheat.session, &lease.job, &"00".repeat(128), 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    let job0 = JobId { batch: 1, chunk: 0 };
    assert_eq!(
        coordinator.job(job0).unwrap().unwrap().state,
        JobState::Queued
    );
    let status = client.status().await.unwrap();
    assert_eq!((status.proven, status.refused, status.queued), (0, 2, JOBS));

    // Worker 1 takes a job and is killed while proving it.
    let mut first = spawn_worker(&url, &keys_dir, "first", &token_file);
    let leased = wait_for(&client, "worker 1 lease", Duration::from_secs(60), |s| {
        !s.leases.is_empty()
    })
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let (killed_job, first_id) = leased
        .leases
        .iter()
        .next()
        .map(|(j, w)| (j.clone(), *w))
        .unwrap();
    assert_ne!(first_id, cheat.worker);

    // Worker 2 proves everything, including the killed worker's job once its lease
    // expires.
    let mut second = spawn_worker(&url, &keys_dir, "second", &token_file);
    let done = wait_for(&client, "all proofs", Duration::from_secs(300), |s| {
        s.proven == JOBS
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(
        done.expired >= 1,
        "the killed worker's lease expired: {done:?}"
    );
    assert_eq!((done.banned, done.retrying), (0, 0));

    let killed = coordinator
        .job(JobId::parse(&killed_job).unwrap())
        .unwrap()
        .unwrap();
    match killed.state {
        JobState::Proven { worker, .. } => assert_ne!(worker, first_id),
        other => panic!("job {killed_job} not proven: {other:?}"),
    }
    assert!(
        killed.attempts >= 2,
        "job was leased again: {}",
        killed.attempts
    );

    // Every accepted proof verifies against its chunk's public inputs.
    let proofs = coordinator.batch_proofs(1).unwrap().unwrap();
    assert_eq!(proofs.len(), JOBS);
    for (chunk, proof) in proofs.iter().enumerate() {
        let record = coordinator
            .job(JobId {
                batch: 1,
                chunk: chunk as u32,
            })
            .unwrap()
            .unwrap();
        backend.verify(&record.job.statement, proof).unwrap();
    }
    server.stop().unwrap();
}

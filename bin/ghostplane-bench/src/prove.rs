//! `ghostplane-bench prove`: proves N random transfers on a tree of funded accounts
//! with one proof system and prints one line:
//!
//! ```text
//! proof_system=… ops=… threads=… prove_s=… ops_per_s=… verify_ms=… proof_bytes=…
//!   witness_ops_per_s=… commit_check_ops_per_s=…
//! ```
//!
//! It runs the devnet's settlement path: the RocksDB account tree, the merkleizer,
//! the backend's proof jobs, the L1's commitment rebuild, prove and verify.
//! `witness_ops_per_s` is the merkleizer (applying the ops to the tree, recording
//! the paths and encoding the jobs, one thread); `commit_check_ops_per_s` is the
//! L1's rebuild of the ops commitment from pubdata (one thread); `proof_bytes` is
//! the largest segment proof.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ghostplane::backend::BackendArgs;
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, Keypair, PubdataOp, Signature, TokenId,
};
use ghostplane_prover::{AccountTree, ChunkOp, Merkleizer, OpKind};

/// `ghostplane-bench prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// Transfers to prove.
    #[arg(long, default_value_t = 1023)]
    ops: usize,
    /// Proving threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Funded accounts in the tree.
    #[arg(long, default_value_t = 10_000)]
    accounts: u32,
    /// The proof system and segment size (the devnet's by default).
    #[command(flatten)]
    backend: BackendArgs,
}

/// Upper bound on `--ops`: keeps a run's memory bounded (a 16k-op STARK segment
/// needs about 8 GiB).
const OPS_MAX: usize = 16_383;

/// Upper bound on `--accounts`: the tree keeps ~25 nodes per account.
const ACCOUNTS_MAX: u32 = 1 << 20;

/// The pair of distinct accounts transfer `i` moves between (ids 1..accounts).
fn pair(i: usize, accounts: u32) -> (u32, u32) {
    let n = u64::from(accounts - 1);
    let from = (i as u64).wrapping_mul(7_919) % n + 1;
    let mut to = (i as u64).wrapping_mul(104_729).wrapping_add(13) % n + 1;
    if to == from {
        to = to % n + 1;
    }
    (from as u32, to as u32)
}

/// Runs the command.
pub fn run(args: ProveArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=OPS_MAX).contains(&args.ops),
        "--ops must be 1..={OPS_MAX}"
    );
    anyhow::ensure!(
        (3..=ACCOUNTS_MAX).contains(&args.accounts),
        "--accounts must be 3..={ACCOUNTS_MAX}"
    );
    anyhow::ensure!(args.threads >= 1, "--threads must be at least 1");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("building the proving thread pool")?;
    println!("{}", bench(&args, &pool)?);
    Ok(())
}

/// The devnet path end to end: RocksDB tree, merkleizer, the backend's jobs, the L1's
/// commitment rebuild, prove, verify.
fn bench(args: &ProveArgs, pool: &rayon::ThreadPool) -> anyhow::Result<String> {
    let backend = args.backend.load(true)?;
    let dir = tempfile::tempdir().context("temporary tree directory")?;
    let db = ghostplane_prover::open_db(dir.path())?;
    let mut tree = AccountTree::open(db, backend.tree_hash())?;
    let keys: Vec<_> = (0..64).map(|i| Keypair::dev(i).public_key()).collect();
    let key = |i: u32| keys[i as usize % keys.len()];
    let genesis: Vec<(AccountId, AccountLeaf)> = (0..args.accounts)
        .map(|i| {
            let mut leaf = AccountLeaf::new(key(i));
            leaf.balances = [1u128 << 100, 1 << 90, 0, 0];
            AccountId::new(i).map(|id| (id, leaf))
        })
        .collect::<Result<_, _>>()?;
    tree.update_many(&genesis)?;
    tree.commit(0, rocksdb::WriteBatch::default())?;
    let mut nonces = vec![0u64; args.accounts as usize];
    let mut ops = Vec::with_capacity(args.ops);
    let mut chunk_ops = Vec::with_capacity(args.ops);
    for i in 0..args.ops {
        let (from, to) = pair(i, args.accounts);
        let token = if i % 2 == 0 {
            TokenId::Gcc
        } else {
            TokenId::Spirit
        };
        let amount = 1_000 + i as u128;
        ops.push(PubdataOp::Transfer {
            from: AccountId::new(from)?,
            to: AccountId::new(to)?,
            token,
            amount,
            fee: 3,
            signature: Signature([0; 64]),
        });
        // What the L1 rebuilds from that pubdata and the keys and nonces it tracks.
        chunk_ops.push(ChunkOp {
            kind: OpKind::Transfer,
            token,
            a_index: AccountId::new(from)?,
            a_key: key(from),
            b_index: AccountId::new(to)?,
            b_data: key(to).0,
            b_new: false,
            nonce: nonces[from as usize],
            amount,
            fee: 3,
        });
        nonces[from as usize] += 1;
    }

    // The merkleizer on one thread (its per-level hashing would use every thread of
    // the pool it runs in).
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("building the witness thread pool")?;
    let started = Instant::now();
    let jobs = one_thread
        .install(|| {
            Merkleizer::new(&mut tree, backend.as_ref(), ChainId(1)).build_batch(
                BatchNumber(1),
                AccountId::ZERO,
                &ops,
            )
        })
        .context("building the segment witnesses")?;
    let witness_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let per = backend.segment_ops_max();
    for (job, ops) in jobs.iter().zip(chunk_ops.chunks(per)) {
        let (c, _) = backend.commitment(&job.statement.header, ops);
        anyhow::ensure!(
            c == job.statement.commitment,
            "commitment rebuild disagrees"
        );
    }
    let commit_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let proofs = pool.install(|| {
        jobs.iter()
            .map(|job| backend.prove(&job.witness))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let prove_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for (job, proof) in jobs.iter().zip(&proofs) {
        backend
            .verify(&job.statement, proof)
            .context("verifying a segment")?;
    }
    let verify_ms = started.elapsed().as_secs_f64() * 1e3 / jobs.len().max(1) as f64;
    let slots: usize = jobs.iter().map(|j| j.statement.slots as usize).sum();
    Ok(format!(
        "proof_system={} ops={} slots={slots} segments={} threads={} prove_s={prove_s:.2} \
         ops_per_s={:.2} verify_ms={verify_ms:.1} proof_bytes={} witness_ops_per_s={:.0} \
         commit_check_ops_per_s={:.0}",
        backend.system(),
        args.ops,
        jobs.len(),
        args.threads,
        args.ops as f64 / prove_s,
        proofs.iter().map(Vec::len).max().unwrap_or(0),
        args.ops as f64 / witness_s,
        args.ops as f64 / commit_s,
    ))
}

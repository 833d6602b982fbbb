//! `ghostplane-bench prove`: proves N random transfers (or, with `--workload
//! swaps`, N AMM swaps) on a tree of funded accounts with one proof system and
//! prints one line:
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
//!
//! A swap is what the executor posts for one (`ContractTx` carrying the value in,
//! its trace, and the pool's `ContractMove` out); its proof is its two slots, the
//! value in and the move out, since the traces are re-executed by the L1, not
//! proven. `ops_per_s` then counts swaps.

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
    /// `transfers`, or `swaps`: AMM swaps against one pool (two proof slots each).
    #[arg(long, default_value = "transfers")]
    workload: Workload,
    /// The proof system and segment size (the devnet's by default).
    #[command(flatten)]
    backend: BackendArgs,
}

/// What `ghostplane-bench prove` proves.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    /// Native transfers, one slot each.
    Transfers,
    /// AMM swaps: a value call to one pool and the pool's payment back.
    Swaps,
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

/// `ops` swaps against one pool at the account after the users: each a `ContractTx`
/// (SPIRIT in, the fee), its trace (minimal: the pool's two reserve slots read and
/// written, not executed) and the pool's `ContractMove` (MANA out), with the slots
/// the L1 rebuilds for them. The storage proofs and the batch's `ContractKey` op
/// are added by `StorageTrees::complete`, as settlement adds them.
fn swaps(
    args: &ProveArgs,
    tree: &mut AccountTree,
    key: &dyn Fn(u32) -> ghostplane_primitives::PublicKey,
    ops: &mut Vec<PubdataOp>,
    chunk_ops: &mut Vec<ChunkOp>,
) -> anyhow::Result<()> {
    use ghostplane_primitives::tx::{code_hash, contract_address};
    use ghostplane_primitives::{ContractTrace, Hash32, ReceiptStatus, StorageSlot, Transaction};
    use ghostplane_prover::SlotAccounts;
    use ghostplane_prover::storage_trees::new_contract_leaf_key;
    let pool = AccountId::new(args.accounts)?;
    let address = contract_address(AccountId::new(1)?, 0);
    let code = code_hash(b"the bench's pool");
    let pool_key = new_contract_leaf_key(&address, &code);
    let mut leaf = AccountLeaf::new(pool_key);
    leaf.balances = [0, 1 << 90, 1 << 90, 0];
    tree.update_many(&[(pool, leaf)])?;
    tree.storage().register(&address, pool, &code);
    tree.commit(1, rocksdb::WriteBatch::default())?;
    let mut nonces = vec![0u64; args.accounts as usize];
    let mut reserves = [1u128 << 90, 1u128 << 90];
    let reserve = |slot: u8, value: Option<u128>| StorageSlot {
        contract: address,
        key: Hash32([slot; 32]),
        value: value.map(|v| v.to_le_bytes().to_vec()),
    };
    for i in 0..args.ops {
        let (user, _) = pair(i, args.accounts);
        let value = 1_000 + i as u128;
        let tx = Transaction::Call {
            from: AccountId::new(user)?,
            contract: address,
            input: vec![2, 1, 0, 0, 0, 0, 0, 0, 0],
            fuel_limit: 200_000,
            token: TokenId::Spirit,
            value,
            fee: 200_000,
            nonce: nonces[user as usize],
        };
        let call = PubdataOp::ContractTx {
            fee_paid: 114_958,
            contract: pool,
            tx,
            signature: Signature([0; 64]),
        };
        let out = PubdataOp::ContractMove {
            from: pool,
            to: AccountId::new(user)?,
            token: TokenId::Mana,
            amount: value * 997 / 1000,
        };
        let accounts = SlotAccounts {
            sender_key: key(user),
            sender_nonce: nonces[user as usize],
            receiver_key: pool_key,
            receiver_new: false,
        };
        chunk_ops.extend(ChunkOp::from_pubdata(&call, &accounts));
        let accounts = SlotAccounts {
            sender_key: pool_key,
            // The pool's nonce counts its moves: one per swap.
            sender_nonce: i as u64,
            receiver_key: key(user),
            receiver_new: false,
        };
        chunk_ops.extend(ChunkOp::from_pubdata(&out, &accounts));
        // The first swap finds the reserves unwritten (absent).
        let read = |slot: u8, v: u128| reserve(slot, (i > 0).then_some(v));
        let reads = vec![read(0, reserves[0]), read(1, reserves[1])];
        reserves = [reserves[0] + value, reserves[1] - value * 997 / 1000];
        ops.push(call);
        ops.push(PubdataOp::ContractTrace(Box::new(ContractTrace {
            block: ghostplane_primitives::BlockNumber(1),
            time_ms: 0,
            fuel: 85_042,
            gas_used: 114_958,
            status: ReceiptStatus::Success,
            reads,
            writes: vec![reserve(0, Some(reserves[0])), reserve(1, Some(reserves[1]))],
            balances: Vec::new(),
            events: Vec::new(),
        })));
        ops.push(out);
        nonces[user as usize] += 1;
    }
    Ok(())
}

/// Completes swap pubdata with its storage proofs and `ContractKey` op (what
/// settlement's planning does), adds the `ContractKey` slots to `chunk_ops`, and
/// checks the proofs as the L1 does. Returns the completed ops, the seconds the
/// completion took and the seconds the L1's checks took.
fn complete_swaps(
    tree: &mut AccountTree,
    ops: &[PubdataOp],
    chunk_ops: &mut Vec<ChunkOp>,
) -> anyhow::Result<(Vec<PubdataOp>, f64, f64)> {
    use ghostplane_stark::storage::{apply_steps, empty_storage_root};
    let started = Instant::now();
    let completed = tree.storage().complete(ops)?;
    let complete_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut root = empty_storage_root();
    let mut trace = None;
    for op in &completed {
        match op {
            PubdataOp::ContractTrace(t) => trace = Some(t),
            PubdataOp::StorageProof(proof) => {
                let t = trace.take().context("a storage proof without a trace")?;
                let accesses = t.storage_accesses();
                root = apply_steps(root, &proof.steps, |key| {
                    accesses.iter().find(|a| a.key == key).and_then(|a| a.write)
                })?;
            }
            _ => {}
        }
    }
    let check_s = started.elapsed().as_secs_f64();
    for op in &completed {
        if let PubdataOp::ContractKey { contract, .. } = op {
            let accounts = ghostplane_prover::SlotAccounts {
                sender_key: tree.leaf(*contract)?.context("the pool's leaf")?.public_key,
                ..ghostplane_prover::SlotAccounts::NONE
            };
            chunk_ops.extend(ChunkOp::from_pubdata(op, &accounts));
        }
    }
    Ok((completed, complete_s, check_s))
}

/// `n` per `seconds` (0 when nothing was timed: a workload without storage).
fn per_s(n: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
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
    let (mut storage_s, mut storage_check_s) = (0.0, 0.0);
    if args.workload == Workload::Swaps {
        swaps(args, &mut tree, &key, &mut ops, &mut chunk_ops)?;
        let (completed, complete_s, check_s) = complete_swaps(&mut tree, &ops, &mut chunk_ops)?;
        (ops, storage_s, storage_check_s) = (completed, complete_s, check_s);
    }
    let transfers = match args.workload {
        Workload::Transfers => args.ops,
        Workload::Swaps => 0,
    };
    for i in 0..transfers {
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
        use rayon::prelude::*;
        jobs.par_iter()
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
         commit_check_ops_per_s={:.0} storage_proof_ops_per_s={:.0} storage_check_ops_per_s={:.0} \
         pubdata_bytes={}",
        backend.system(),
        args.ops,
        jobs.len(),
        args.threads,
        args.ops as f64 / prove_s,
        proofs.iter().map(Vec::len).max().unwrap_or(0),
        args.ops as f64 / witness_s,
        args.ops as f64 / commit_s,
        per_s(args.ops, storage_s),
        per_s(args.ops, storage_check_s),
        ghostplane_primitives::encode_pubdata(&ops)?.len(),
    ))
}

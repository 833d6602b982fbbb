//! `ghostplane bench prove`: proves N random transfers on a tree of funded accounts
//! with one proof system and prints one line:
//!
//! ```text
//! proof_system=… ops=… threads=… prove_s=… ops_per_s=… verify_ms=… proof_bytes=…
//!   witness_ops_per_s=… commit_check_ops_per_s=…
//! ```
//!
//! `witness_ops_per_s` is the merkleizer side (applying the ops to the tree and
//! recording the paths, one thread); `commit_check_ops_per_s` is the L1's
//! rebuild of the ops commitment from pubdata (one thread).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ghostplane_primitives::{
    AccountId, AccountLeaf, BatchNumber, ChainId, Keypair, PubdataOp, Signature, TokenId,
};
use ghostplane_prover::{AccountTree, ChunkKeys, DEVNET_CHUNK_OPS, Merkleizer};
use ghostplane_stark::config::FriSettings;
use ghostplane_stark::proof::SegmentProver;
use ghostplane_stark::segment::{Account, Op, OpKind, SegmentHeader, build_segment, commitment};
use ghostplane_stark::tree::Tree;

/// Which proof system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProofSystem {
    /// Plonky3 STARK over KoalaBear (no trusted setup).
    Stark,
    /// arkworks Groth16 over BN254 (devnet keys from a public seed: insecure).
    Groth16,
}

/// `ghostplane bench prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// Transfers to prove.
    #[arg(long, default_value_t = 1023)]
    ops: usize,
    /// Proving threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Proof system.
    #[arg(long, value_enum, default_value_t = ProofSystem::Stark)]
    proof_system: ProofSystem,
    /// Funded accounts in the tree.
    #[arg(long, default_value_t = 10_000)]
    accounts: u32,
    /// Groth16 only: where devnet keys are cached.
    #[arg(long, default_value = "./.ghostplane/keys")]
    keys_dir: PathBuf,
}

/// Upper bound on `--ops`: keeps a run's memory bounded (a 16k-op STARK segment
/// needs about 8 GiB).
const OPS_MAX: usize = 16_383;

/// Upper bound on `--accounts`: the in-memory tree keeps ~25 nodes per account.
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
    let line = match args.proof_system {
        ProofSystem::Stark => stark(&args, &pool)?,
        ProofSystem::Groth16 => groth16(&args, &pool)?,
    };
    println!("{line}");
    Ok(())
}

fn key(i: u32) -> [u8; 32] {
    let mut k = *blake3::hash(&i.to_le_bytes()).as_bytes();
    k[0] |= 1;
    k
}

fn stark(args: &ProveArgs, pool: &rayon::ThreadPool) -> anyhow::Result<String> {
    let mut tree = Tree::new();
    for i in 0..args.accounts {
        let mut account = Account::new(key(i));
        account.balances = [1 << 100, 1 << 90, 0, 0];
        tree.update(i, account.fields())
            .context("funding the bench tree")?;
    }
    let mut nonces = vec![0u64; args.accounts as usize];
    let ops: Vec<Op> = (0..args.ops)
        .map(|i| {
            let (from, to) = pair(i, args.accounts);
            let nonce = nonces[from as usize];
            nonces[from as usize] += 1;
            Op {
                kind: OpKind::Transfer,
                token: (i % 2) as u8,
                a_index: from,
                a_key: key(from),
                b_index: to,
                b_data: key(to),
                b_new: false,
                nonce,
                amount: 1_000 + i as u128,
                fee: 3,
            }
        })
        .collect();
    let header = SegmentHeader {
        chain_id: 1,
        batch: 1,
        segment: 0,
        fee_account: 0,
    };
    let slots = (args.ops + 1).next_power_of_two().max(2);
    let started = Instant::now();
    let witness = build_segment(&mut tree, header, &ops, slots).context("building the segment")?;
    let witness_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let rebuilt = commitment(&header, &witness.ops());
    let commit_s = started.elapsed().as_secs_f64();
    let public = witness.public_values();
    anyhow::ensure!(public[24..] == rebuilt, "commitment rebuild disagrees");

    let prover = SegmentProver::new(FriSettings::SETTLEMENT);
    let started = Instant::now();
    let proof = pool
        .install(|| prover.prove(&witness))
        .context("proving the segment")?;
    let prove_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    prover
        .verify(&proof, &public)
        .context("verifying the segment")?;
    let verify_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(format!(
        "proof_system=stark ops={} slots={slots} threads={} prove_s={prove_s:.2} ops_per_s={:.1} \
         verify_ms={verify_ms:.1} proof_bytes={} witness_ops_per_s={:.0} \
         commit_check_ops_per_s={:.0} conjectured_bits={}",
        args.ops,
        args.threads,
        args.ops as f64 / prove_s,
        proof.0.len(),
        slots as f64 / witness_s,
        slots as f64 / commit_s,
        FriSettings::SETTLEMENT.conjectured_bits()
    ))
}

fn groth16(args: &ProveArgs, pool: &rayon::ThreadPool) -> anyhow::Result<String> {
    let chunk_ops = DEVNET_CHUNK_OPS;
    let keys = ChunkKeys::load_or_setup(&args.keys_dir, chunk_ops, true)
        .with_context(|| format!("keys in {}", args.keys_dir.display()))?;
    let dir = tempfile::tempdir().context("temporary tree directory")?;
    let db = ghostplane_prover::open_db(dir.path())?;
    let mut tree = AccountTree::open(db)?;
    let genesis: Vec<(AccountId, AccountLeaf)> = (0..args.accounts)
        .map(|i| {
            let mut leaf = AccountLeaf::new(Keypair::dev(i % 64).public_key());
            leaf.balances = [1u128 << 100, 1 << 90, 0, 0];
            AccountId::new(i).map(|id| (id, leaf))
        })
        .collect::<Result<_, _>>()?;
    tree.update_many(&genesis)?;
    tree.commit(0, rocksdb::WriteBatch::default())?;
    let ops: Vec<PubdataOp> = (0..args.ops)
        .map(|i| {
            let (from, to) = pair(i, args.accounts);
            Ok(PubdataOp::Transfer {
                from: AccountId::new(from)?,
                to: AccountId::new(to)?,
                token: if i % 2 == 0 {
                    TokenId::Gcc
                } else {
                    TokenId::Spirit
                },
                amount: 1_000 + i as u128,
                fee: 3,
                signature: Signature([0; 64]),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let started = Instant::now();
    let chunks = Merkleizer::new(&mut tree, chunk_ops, ChainId(1))
        .build_batch(BatchNumber(1), AccountId::ZERO, &ops)
        .context("building the chunk witnesses")?;
    let witness_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proofs = pool.install(|| {
        chunks
            .iter()
            .map(|w| keys.prove(w))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let prove_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for (w, p) in chunks.iter().zip(&proofs) {
        keys.verifier().verify(w, p)?;
    }
    let verify_ms = started.elapsed().as_secs_f64() * 1e3 / chunks.len().max(1) as f64;
    let slots = chunks.len() * chunk_ops;
    Ok(format!(
        "proof_system=groth16 ops={} slots={slots} threads={} prove_s={prove_s:.2} ops_per_s={:.2} \
         verify_ms={verify_ms:.1} proof_bytes={} witness_ops_per_s={:.0} chunks={}",
        args.ops,
        args.threads,
        args.ops as f64 / prove_s,
        proofs.len() * ghostplane_prover::keys::PROOF_BYTES,
        slots as f64 / witness_s,
        chunks.len()
    ))
}

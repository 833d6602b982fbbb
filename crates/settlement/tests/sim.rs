//! Settlement under a faulty L1, simulated round by round.
//!
//! A real sequencer, a real prover database and coordinator, and a real embedded
//! ghostd; between settlement and ghostd sits [`FaultyL1`], driven by a seeded RNG.
//! It fails calls as unavailable, refuses transactions that were never sent, drops
//! transactions it acknowledged, and forgets its whole mempool. The L1 makes a block
//! each time settlement polls for a receipt, so the L1's progress is a function of
//! the rounds, not of wall time. At random rounds `Settlement` (and the coordinator)
//! are rebuilt from the same database, as after a crash.
//!
//! After every round:
//! - the L1's counters and the L2's status marks never go backwards;
//! - every committed batch was committed by exactly one successful transaction;
//! - the L1's finalized root is the prover tree's root at that batch;
//! - the L2's status marks never pass the L1's.
//!
//! Then faults stop and settlement must finalize every L2 block (liveness).
//! `GHOSTPLANE_SIM_SEEDS` (default 4) sets how many seeds run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::prove_ready;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ghostd::{
    Call, EmbeddedL1, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, L1Outcome, L1Receipt,
    RollupCall, RollupState, SignedL1Transaction,
};
use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{
    AccountId, Amount, Codec, DEVNET_CHAIN_ID, DepositEvent, Hash32, Keypair, L2Genesis, PublicKey,
    Recipient, TokenId, Transaction,
};
use ghostplane_prover::coordinator::CoordinatorConfig;
use ghostplane_prover::{AccountTree, Coordinator, ProofBackend, StarkBackend, WorkerAuth};
use ghostplane_sequencer::{Sequencer, SequencerConfig};
use ghostplane_settlement::{
    CF_SETTLEMENT, L1Client, L1Error, Settlement, SettlementConfig, tree_genesis,
};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, dev_l2_genesis};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

const BALANCE: Amount = 1_000_000_000;
const ACCOUNTS: u32 = 3;
/// Rounds with faults and new L2 transactions.
const FAULTY_ROUNDS: u32 = 24;
/// Rounds allowed, without faults, to finalize everything.
const DRAIN_ROUNDS_MAX: u32 = 80;

/// Injected faults, counted.
#[derive(Default)]
struct Faults {
    unavailable: AtomicU64,
    refused: AtomicU64,
    dropped: AtomicU64,
    forgotten: AtomicU64,
}

impl Faults {
    /// Unavailable, refused, dropped, forgotten.
    fn counts(&self) -> [u64; 4] {
        [
            self.unavailable.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
            self.dropped.load(Ordering::SeqCst),
            self.forgotten.load(Ordering::SeqCst),
        ]
    }
}

/// The embedded L1 behind a seeded fault injector with its own mempool.
struct FaultyL1 {
    node: Ghostd,
    inner: EmbeddedL1,
    rng: Mutex<ChaCha8Rng>,
    /// Acknowledged, not yet handed to the node (the mempool it can forget).
    held: Mutex<Vec<SignedL1Transaction>>,
    enabled: AtomicBool,
    faults: Faults,
}

impl FaultyL1 {
    /// True with probability `percent`%, while faults are enabled.
    fn roll(&self, percent: u32) -> bool {
        self.enabled.load(Ordering::SeqCst) && self.rng.lock().unwrap().next_u32() % 100 < percent
    }

    fn unavailable(&self) -> Result<(), L1Error> {
        if self.roll(5) {
            self.faults.unavailable.fetch_add(1, Ordering::SeqCst);
            return Err(L1Error::Unavailable("injected outage".into()));
        }
        Ok(())
    }

    /// One L1 block: the held transactions reach the node (or are forgotten), and
    /// the node seals.
    fn advance(&self) {
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        if !held.is_empty() && self.roll(5) {
            self.faults.forgotten.fetch_add(1, Ordering::SeqCst);
        } else {
            for tx in held {
                // A refusal here loses the transaction, as a real mempool would.
                let _ = self.node.submit(tx);
            }
        }
        self.node.seal().unwrap();
    }
}

impl L1Client for FaultyL1 {
    async fn rollup_status(&self) -> Result<RollupState, L1Error> {
        self.unavailable()?;
        self.inner.rollup_status().await
    }

    async fn deposits(&self, from: u64, max: u64) -> Result<Vec<DepositEvent>, L1Error> {
        self.unavailable()?;
        self.inner.deposits(from, max).await
    }

    async fn forced_withdrawals(
        &self,
        from: u64,
        max: u64,
    ) -> Result<Vec<ghostplane_primitives::ForcedWithdrawalEvent>, L1Error> {
        self.unavailable()?;
        self.inner.forced_withdrawals(from, max).await
    }
    async fn nonce(&self, address: PublicKey) -> Result<u64, L1Error> {
        self.unavailable()?;
        self.inner.nonce(address).await
    }

    async fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, L1Error> {
        self.unavailable()?;
        if self.roll(5) {
            self.faults.refused.fetch_add(1, Ordering::SeqCst);
            return Err(L1Error::Refused {
                code: ghostplane_rpc::codes::CALL_REFUSED,
                message: "injected refusal".into(),
                refusal: None,
            });
        }
        let hash = tx.hash();
        if self.roll(10) {
            self.faults.dropped.fetch_add(1, Ordering::SeqCst);
        } else {
            self.held.lock().unwrap().push(tx);
        }
        Ok(hash)
    }

    async fn receipt(&self, hash: Hash32) -> Result<Option<L1Receipt>, L1Error> {
        self.advance();
        self.unavailable()?;
        self.inner.receipt(hash).await
    }

    async fn is_pending(&self, hash: Hash32) -> Result<bool, L1Error> {
        self.unavailable()?;
        let held = self.held.lock().unwrap().iter().any(|tx| tx.hash() == hash);
        Ok(held || self.inner.is_pending(hash).await?)
    }
}

fn l2_genesis() -> L2Genesis {
    dev_l2_genesis(ACCOUNTS, [BALANCE; 4])
}

fn operator() -> Keypair {
    Keypair::from_seed(&[9; 32])
}

fn l1_genesis(backend: &dyn ProofBackend, root: ghostplane_primitives::FieldBytes) -> Genesis {
    L1GenesisBuilder::new(ghostplane_prover::proof_params(backend))
        .l2_chain_id(DEVNET_CHAIN_ID)
        .operator(operator().public_key())
        .genesis_root(root)
        .genesis_accounts(l2_genesis().keys())
        .forced_inclusion_blocks(1_000_000)
        .build()
}

fn transfer(from: u32, to: u32, nonce: u64) -> Vec<u8> {
    let tx = Transaction::Transfer {
        from: AccountId::new(from).unwrap(),
        to: Recipient::Account(AccountId::new(to).unwrap()),
        token: TokenId::Gcc,
        amount: 3,
        fee: 1,
        nonce,
    };
    Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx).encode()
}

/// What the checks remember between rounds.
#[derive(Default)]
struct Seen {
    l1: Option<RollupState>,
    marks: (u64, u64),
    /// L1 blocks scanned for commits.
    scanned: u64,
    /// Successful commit transactions per batch.
    commits: HashMap<u64, HashSet<Hash32>>,
}

fn check(
    seed: u64,
    round: u32,
    node: &Ghostd,
    db: &Arc<rocksdb::DB>,
    backend: &dyn ProofBackend,
    sequencer: &Sequencer,
    seen: &mut Seen,
) {
    let at = format!("seed {seed}, round {round}");
    let l1 = node.read(ghostd::modules::rollup::status).unwrap();
    if let Some(before) = &seen.l1 {
        assert!(
            l1.committed >= before.committed,
            "{at}: committed went back"
        );
        assert!(
            l1.finalized >= before.finalized,
            "{at}: finalized went back"
        );
        assert!(
            l1.committed_l2_block >= before.committed_l2_block
                && l1.finalized_l2_block >= before.finalized_l2_block,
            "{at}: L2 block counters went back"
        );
    }
    let marks = sequencer.settled_marks();
    let now = (marks.committed(), marks.finalized());
    assert!(
        now.0 >= seen.marks.0 && now.1 >= seen.marks.1,
        "{at}: status marks went back"
    );
    assert!(
        now.0 <= l1.committed_l2_block && now.1 <= l1.finalized_l2_block,
        "{at}: status marks {now:?} passed the L1's ({}, {})",
        l1.committed_l2_block,
        l1.finalized_l2_block
    );
    seen.marks = now;

    // Every commit the L1 took, once per batch.
    let head = node.head().number;
    for number in seen.scanned + 1..=head {
        let block = node.block(number).unwrap().unwrap();
        for tx in &block.transactions {
            let (Call::Rollup(RollupCall::Commit(commit))
            | Call::Rollup(RollupCall::CommitProven { commit, .. })) = &tx.tx.call
            else {
                continue;
            };
            let receipt = node.receipt(&tx.hash()).unwrap().unwrap();
            if receipt.outcome == L1Outcome::Success {
                seen.commits
                    .entry(commit.number)
                    .or_default()
                    .insert(tx.hash());
            }
        }
    }
    seen.scanned = head;
    for batch in 1..=l1.committed {
        let commits = seen.commits.get(&batch).map_or(0, HashSet::len);
        assert_eq!(commits, 1, "{at}: batch {batch} committed {commits} times");
    }
    assert!(
        seen.commits.keys().all(|batch| *batch <= l1.committed),
        "{at}: a commit past the L1's count"
    );

    if l1.finalized > 0 {
        let tree = AccountTree::open(Arc::clone(db), backend.tree_hash()).unwrap();
        assert_eq!(
            tree.root_at(l1.finalized).unwrap(),
            l1.finalized_root,
            "{at}: the finalized root is not the tree's root at batch {}",
            l1.finalized
        );
    }
    seen.l1 = Some(l1);
}

async fn simulate(seed: u64) -> [u64; 4] {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let backend: Arc<dyn ProofBackend> =
        Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap());
    let db = ghostplane_prover::open_db_with(&dir.path().join("prover"), &[CF_SETTLEMENT]).unwrap();
    let root = {
        let mut tree = AccountTree::open(Arc::clone(&db), backend.tree_hash()).unwrap();
        tree_genesis(&db, &mut tree, l2_genesis()).unwrap()
    };
    let mut l1_config = GhostdConfig::new(dir.path().join("l1"));
    l1_config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    let node = Ghostd::open(l1_config, &l1_genesis(backend.as_ref(), root)).unwrap();
    let l1 = Arc::new(FaultyL1 {
        node: node.clone(),
        inner: EmbeddedL1::new(node.clone()),
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5eed)),
        held: Mutex::new(Vec::new()),
        enabled: AtomicBool::new(true),
        faults: Faults::default(),
    });

    let mut config = SequencerConfig::new(dir.path().join("sequencer"));
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 10;
    config.executor_threads = 1;
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let sequencer = Sequencer::start(config, l2_genesis()).await.unwrap();
    let ingest = sequencer.ingest();

    let coordinator_config = || CoordinatorConfig {
        auth: WorkerAuth::open(),
        ..CoordinatorConfig::default()
    };
    let clock = ManualClock::new(1_700_000_000_000);
    let mut settlement_config = SettlementConfig::new(L1_DEVNET_CHAIN_ID, DEVNET_CHAIN_ID);
    settlement_config.batch_blocks_max = 3;
    settlement_config.batch_interval = Duration::ZERO;
    settlement_config.batches_in_flight_max = 3;
    settlement_config.clock = clock.clone();
    let build = |coordinator: &Coordinator| {
        Settlement::new(
            Arc::clone(&l1),
            Arc::clone(&db),
            coordinator.clone(),
            sequencer.reader(),
            sequencer.settled_marks(),
            operator(),
            settlement_config.clone(),
        )
        .unwrap()
    };
    let mut coordinator =
        Coordinator::open(Arc::clone(&db), Arc::clone(&backend), coordinator_config()).unwrap();
    let mut settlement = build(&coordinator);
    let mut nonces = [0u64; ACCOUNTS as usize];
    let mut seen = Seen::default();
    let mut rebuilds = 0;

    for round in 0..FAULTY_ROUNDS + DRAIN_ROUNDS_MAX {
        if round == FAULTY_ROUNDS {
            l1.enabled.store(false, Ordering::SeqCst);
        }
        if round < FAULTY_ROUNDS {
            for _ in 0..rng.next_u32() % 3 {
                let from = rng.next_u32() % ACCOUNTS;
                let to = (from + 1) % ACCOUNTS;
                let nonce = &mut nonces[from as usize];
                ingest
                    .submit_and_wait(transfer(from, to, *nonce))
                    .await
                    .unwrap();
                *nonce += 1;
            }
            // Let the sequencer cut the block (its timer is real time).
            tokio::time::sleep(Duration::from_millis(15)).await;
            if rng.next_u32() % 100 < 15 {
                // A crash: settlement and the coordinator start again from the disk.
                drop(settlement);
                coordinator =
                    Coordinator::open(Arc::clone(&db), Arc::clone(&backend), coordinator_config())
                        .unwrap();
                settlement = build(&coordinator);
                rebuilds += 1;
            }
        }
        clock.advance(Duration::from_secs(1));
        let _ = settlement.round().await;
        prove_ready(&coordinator);
        check(
            seed,
            round,
            &node,
            &db,
            backend.as_ref(),
            &sequencer,
            &mut seen,
        );
        if round >= FAULTY_ROUNDS {
            let head = sequencer.reader().last_header().unwrap().unwrap().number.0;
            let finalized = seen.l1.as_ref().map_or(0, |state| state.finalized_l2_block);
            if finalized == head && sequencer.settled_marks().finalized() == head {
                drop(settlement);
                sequencer.shutdown().await;
                let state = seen.l1.as_ref().unwrap();
                eprintln!(
                    "seed {seed}: {} batches final over {head} L2 blocks after {round} rounds, {rebuilds} rebuilds, faults {:?}",
                    state.finalized,
                    l1.faults.counts()
                );
                return l1.faults.counts();
            }
        }
    }
    panic!("seed {seed}: settlement never finalized the L2 once the faults stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_survives_a_faulty_l1() {
    let seeds: u64 = std::env::var("GHOSTPLANE_SIM_SEEDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let mut total = [0u64; 4];
    for seed in 0..seeds {
        let counts = simulate(seed).await;
        for (sum, n) in total.iter_mut().zip(counts) {
            *sum += n;
        }
    }
    // The faults were really injected (over the seeds, every kind).
    assert!(
        total.iter().all(|n| *n > 0),
        "faults injected (unavailable, refused, dropped, forgotten): {total:?}"
    );
}

//! A batch the L1 refuses for an overdue deposit is planned again, through the
//! deposit.
//!
//! The whole settlement side runs in-process over a real embedded ghostd, a real
//! sequencer and a real prover database; only the L1 client is wrapped, so that the
//! test can hold commits back ("the L1 is unreachable") while the L1 keeps making
//! blocks. Batch 2 is planned before a deposit reaches the L2; commits are held back
//! past the deposit's forced-inclusion deadline; then the L1 refuses batch 2 (it
//! leaves the overdue deposit out). Before the fix the refused plan was sent again
//! forever and the rollup stopped; now settlement rewinds the plan and cuts batch 2
//! again through the L2 block holding the deposit, and the L1 takes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::prove_ready;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ghostd::{
    Call, EmbeddedL1, Genesis, Ghostd, GhostdConfig, L1_DEVNET_CHAIN_ID, L1Outcome, L1Receipt,
    RollupCall, RollupState, SignedL1Transaction,
};
use ghostplane_primitives::{
    AccountId, Amount, Codec, DEVNET_CHAIN_ID, DepositEvent, Hash32, Keypair, L2Genesis, PublicKey,
    Recipient, TokenId, Transaction,
};
use ghostplane_prover::coordinator::CoordinatorConfig;
use ghostplane_prover::{AccountTree, Coordinator, ProofBackend, StarkBackend};
use ghostplane_sequencer::{Sequencer, SequencerConfig};
use ghostplane_settlement::{
    CF_SETTLEMENT, L1Client, L1Error, Settlement, SettlementConfig, run_deposit_watcher,
    run_forced_watcher, tree_genesis,
};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, dev_l2_genesis, l1_address, sign_l1};

const BALANCE: Amount = 1_000_000_000;
/// Forced-inclusion window: 40 L1 blocks of 50 ms.
const WINDOW_BLOCKS: u64 = 40;

/// The embedded L1, with commits held back while `hold` is set. Counts the commits
/// the L1 refused.
struct GatedL1 {
    inner: EmbeddedL1,
    hold: AtomicBool,
    /// Refuse every commit as the L1 refuses a batch whose contract re-execution
    /// differs (rollup code 33).
    refuse_contracts: AtomicBool,
    refused: AtomicU64,
    /// Commits go to the L1 with a wrong root (re-signed with the operator key):
    /// batches no proof can ever finalize.
    corrupt_root: AtomicBool,
    /// Proofs the L1 refused.
    proofs_refused: AtomicU64,
}

impl GatedL1 {
    fn is_commit(tx: &SignedL1Transaction) -> bool {
        matches!(
            tx.tx.call,
            Call::Rollup(RollupCall::Commit(_) | RollupCall::CommitProven { .. })
        )
    }
}

impl L1Client for GatedL1 {
    async fn rollup_status(&self) -> Result<RollupState, L1Error> {
        self.inner.rollup_status().await
    }
    async fn deposits(&self, from: u64, max: u64) -> Result<Vec<DepositEvent>, L1Error> {
        self.inner.deposits(from, max).await
    }
    async fn forced_withdrawals(
        &self,
        from: u64,
        max: u64,
    ) -> Result<Vec<ghostplane_primitives::ForcedWithdrawalEvent>, L1Error> {
        self.inner.forced_withdrawals(from, max).await
    }
    async fn nonce(&self, address: PublicKey) -> Result<u64, L1Error> {
        self.inner.nonce(address).await
    }
    async fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, L1Error> {
        if Self::is_commit(&tx) && self.hold.load(Ordering::SeqCst) {
            return Err(L1Error::Unavailable("held back by the test".into()));
        }
        if Self::is_commit(&tx) && self.refuse_contracts.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(L1Error::Refused {
                code: ghostplane_rpc::codes::CALL_REFUSED,
                message: "rollup: op 0: re-executing the contract transaction gives another result (test)".into(),
                refusal: Some((ghostd_types::tx::ModuleId::ROLLUP, 33)),
            });
        }
        let commit = Self::is_commit(&tx);
        let mut tx = tx;
        if commit && self.corrupt_root.load(Ordering::SeqCst) {
            let mut inner = tx.tx.clone();
            // A commit alone, with a root no proof reaches.
            if let Call::Rollup(RollupCall::CommitProven { commit, .. }) = &inner.call {
                inner.call = Call::Rollup(RollupCall::Commit(commit.clone()));
            }
            if let Call::Rollup(RollupCall::Commit(batch)) = &mut inner.call {
                batch.new_root = ghostplane_primitives::FieldBytes::from_bytes([0; 32]).unwrap();
            }
            tx = inner.sign(&operator());
        }
        let prove = matches!(tx.tx.call, Call::Rollup(RollupCall::Prove { .. }));
        let result = self.inner.submit(tx).await;
        if commit && matches!(result, Err(L1Error::Refused { .. })) {
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
        if prove && matches!(result, Err(L1Error::Refused { .. })) {
            self.proofs_refused.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    async fn receipt(&self, hash: Hash32) -> Result<Option<L1Receipt>, L1Error> {
        let receipt = self.inner.receipt(hash).await?;
        if let Some(L1Receipt {
            outcome: L1Outcome::Failed {
                message: reason, ..
            },
            ..
        }) = &receipt
            && reason.contains("leaves it out")
        {
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
        Ok(receipt)
    }
    async fn is_pending(&self, hash: Hash32) -> Result<bool, L1Error> {
        self.inner.is_pending(hash).await
    }
}

fn l2_genesis() -> L2Genesis {
    dev_l2_genesis(2, [BALANCE; 4])
}

fn l1_genesis(backend: &dyn ProofBackend, root: ghostplane_primitives::FieldBytes) -> Genesis {
    L1GenesisBuilder::new(ghostplane_prover::proof_params(backend))
        .allocate(
            l1_address(&Keypair::dev(0).public_key()),
            TokenId::Mana,
            BALANCE,
        )
        .allocate(
            l1_address(&Keypair::dev(0).public_key()),
            TokenId::Gcc,
            BALANCE,
        )
        .fund_escrow(BALANCE * 2)
        .l2_chain_id(DEVNET_CHAIN_ID)
        .operator(operator().public_key())
        .genesis_root(root)
        .genesis_accounts(l2_genesis().keys())
        .forced_inclusion_blocks(WINDOW_BLOCKS)
        .build()
}

fn operator() -> Keypair {
    Keypair::from_seed(&[9; 32])
}

fn transfer(nonce: u64) -> Vec<u8> {
    let tx = Transaction::Transfer {
        from: AccountId::new(0).unwrap(),
        to: Recipient::Account(AccountId::new(1).unwrap()),
        token: TokenId::Gcc,
        amount: 5,
        fee: 1,
        nonce,
    };
    Keypair::dev(0).sign(DEVNET_CHAIN_ID, tx).encode()
}

async fn until<F: FnMut() -> bool>(what: &str, mut done: F) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status(l1: &EmbeddedL1) -> RollupState {
    l1.rollup_status().await.unwrap()
}

/// Everything the tests run: a real embedded ghostd making 50 ms blocks, a real
/// sequencer, a coordinator with no worker (batches are committed, not proven),
/// and settlement and the deposit watcher over the gated L1.
struct Harness {
    _dir: tempfile::TempDir,
    node: Ghostd,
    producer: ghostd::Producer,
    embedded: EmbeddedL1,
    sequencer: Sequencer,
    coordinator: Coordinator,
    gated: Arc<GatedL1>,
    stop: Arc<AtomicBool>,
    settlement: tokio::task::JoinHandle<()>,
    watcher: tokio::task::JoinHandle<()>,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let backend: Arc<dyn ProofBackend> =
        Arc::new(StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap());
    let db = ghostplane_prover::open_db_with(&dir.path().join("prover"), &[CF_SETTLEMENT]).unwrap();
    let root = {
        let mut tree = AccountTree::open(Arc::clone(&db), backend.tree_hash()).unwrap();
        tree_genesis(&db, &mut tree, l2_genesis()).unwrap()
    };

    let mut l1_config = GhostdConfig::new(dir.path().join("l1"));
    l1_config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    l1_config.block_time_ms = 50;
    let node = Ghostd::open(l1_config, &l1_genesis(backend.as_ref(), root)).unwrap();
    let producer = node.start_producer();
    let embedded = EmbeddedL1::new(node.clone());

    let mut config = SequencerConfig::new(dir.path().join("sequencer"));
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 50;
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let sequencer = Sequencer::start(config, l2_genesis()).await.unwrap();

    // No worker: nothing is proven unless a test proves in-process
    // (`prove_ready`, open to any worker).
    let coordinator = Coordinator::open(
        Arc::clone(&db),
        Arc::clone(&backend),
        CoordinatorConfig {
            auth: ghostplane_prover::WorkerAuth::open(),
            ..CoordinatorConfig::default()
        },
    )
    .unwrap();
    let gated = Arc::new(GatedL1 {
        inner: embedded.clone(),
        hold: AtomicBool::new(false),
        refuse_contracts: AtomicBool::new(false),
        refused: AtomicU64::new(0),
        corrupt_root: AtomicBool::new(false),
        proofs_refused: AtomicU64::new(0),
    });
    let mut settlement_config = SettlementConfig::new(L1_DEVNET_CHAIN_ID, DEVNET_CHAIN_ID);
    settlement_config.batch_interval = Duration::from_millis(200);
    settlement_config.poll = Duration::from_millis(100);
    settlement_config.retry_backoff = Duration::from_millis(200);
    let settlement = Settlement::new(
        Arc::clone(&gated),
        Arc::clone(&db),
        coordinator.clone(),
        sequencer.reader(),
        sequencer.settled_marks(),
        operator(),
        settlement_config,
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let settlement = tokio::spawn(settlement.run(Arc::clone(&stop)));
    tokio::spawn(run_forced_watcher(
        Arc::clone(&gated),
        sequencer.forced_withdrawals(),
        Duration::from_millis(50),
        ghostplane_primitives::clock::system(),
        Arc::clone(&stop),
    ));
    let watcher = tokio::spawn(run_deposit_watcher(
        Arc::clone(&gated),
        sequencer.deposits(),
        Duration::from_millis(50),
        ghostplane_primitives::clock::system(),
        Arc::clone(&stop),
    ));
    Harness {
        _dir: dir,
        node,
        producer,
        embedded,
        sequencer,
        coordinator,
        gated,
        stop,
        settlement,
        watcher,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_is_planned_again_through_the_overdue_deposit() {
    let Harness {
        _dir,
        node,
        producer,
        embedded,
        sequencer,
        coordinator,
        gated,
        stop,
        settlement,
        watcher,
    } = harness().await;
    let ingest = sequencer.ingest();

    // Batch 1 commits normally.
    ingest.submit_and_wait(transfer(0)).await.unwrap();
    let started = Instant::now();
    while status(&embedded).await.committed < 1 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "batch 1 never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Commits held back; batch 2 is planned without the deposit (its chunk jobs
    // queue up at the coordinator).
    gated.hold.store(true, Ordering::SeqCst);
    let queued_before = coordinator.status().queued;
    ingest.submit_and_wait(transfer(1)).await.unwrap();
    until("batch 2 to be planned", || {
        coordinator.status().queued > queued_before
    })
    .await;
    let queued_batch_2 = coordinator.status().queued;

    // The deposit, into a new L2 key.
    let recipient = Keypair::from_seed(&[42; 32]).public_key();
    let dev0 = Keypair::dev(0);
    let deposit = sign_l1(
        &dev0,
        embedded.nonce(dev0.public_key()).await.unwrap(),
        Call::Rollup(RollupCall::Deposit {
            recipient,
            token: TokenId::Mana,
            amount: 777,
        }),
    );
    let hash = embedded.submit(deposit).await.unwrap();
    let started = Instant::now();
    let deposited_at = loop {
        if let Some(receipt) = embedded.receipt(hash).await.unwrap() {
            assert_eq!(receipt.outcome, L1Outcome::Success);
            break receipt.block;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "deposit not included"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // The deposit reaches the L2 and a later batch is planned with it; the deadline
    // passes while commits are still held back.
    until("the deposit's batch to be planned", || {
        coordinator.status().queued > queued_batch_2
    })
    .await;
    let started = Instant::now();
    while node.head().number <= deposited_at + WINDOW_BLOCKS + 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "L1 stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&embedded).await.committed, 1);

    // Commits flow again: batch 2 as planned is refused, then planned again through
    // the deposit and taken.
    gated.hold.store(false, Ordering::SeqCst);
    let started = Instant::now();
    let state = loop {
        let state = status(&embedded).await;
        if state.deposits_consumed == 1 {
            break state;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the overdue deposit was never committed: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        gated.refused.load(Ordering::SeqCst) >= 1,
        "the L1 never refused the plan that left the deposit out"
    );
    assert!(state.committed >= 2);
    // The L2 carries on: a new transfer is committed after the re-plan.
    ingest.submit_and_wait(transfer(2)).await.unwrap();
    let head = sequencer.reader().last_header().unwrap().unwrap().number.0;
    let started = Instant::now();
    while status(&embedded).await.committed_l2_block < head {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no commit after the re-plan"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    stop.store(true, Ordering::SeqCst);
    let _ = settlement.await;
    let _ = watcher.await;
    sequencer.shutdown().await;
    producer.stop();
}

/// A commit refused because re-executing its contracts differs would be refused
/// again for the same plan: settlement stops (its task ends) after the first such
/// refusal instead of resending it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_stops_on_a_contract_re_execution_refusal() {
    let h = harness().await;
    h.gated.refuse_contracts.store(true, Ordering::SeqCst);
    h.sequencer
        .ingest()
        .submit_and_wait(transfer(0))
        .await
        .unwrap();
    let started = Instant::now();
    while !h.settlement.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "settlement kept running after the refusal"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.gated.refused.load(Ordering::SeqCst),
        1,
        "the refused plan was sent again"
    );
    assert_eq!(status(&h.embedded).await.committed, 0);
    // Nothing new would settle: the sequencer takes nothing new.
    let refused = h.sequencer.ingest().submit_and_wait(transfer(1)).await;
    assert!(
        matches!(&refused, Err(ghostplane_sequencer::SubmitError::SettlementStopped { reason }) if reason.contains("re-execut")),
        "{refused:?}"
    );
    h.stop.store(true, Ordering::SeqCst);
    let _ = h.watcher.await;
    h.sequencer.shutdown().await;
    h.producer.stop();
}

/// Batch revert (issue 37): batch 2 reaches the L1 with a root no proof can
/// reach, so its proofs are refused and finality stops; the operator reverts it
/// (`RevertBatches { to: 1 }`); settlement sees the L1's committed count fall,
/// plans batch 2 again from the same L2 blocks with fresh proof jobs, commits it
/// and proves it: finality resumes, and the L2 transaction in it stands,
/// executed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unprovable_batch_is_reverted_planned_again_and_proven() {
    let h = harness().await;
    let ingest = h.sequencer.ingest();
    let until_l1 = |what: &'static str, done: fn(&RollupState) -> bool| {
        let embedded = h.embedded.clone();
        let coordinator = h.coordinator.clone();
        async move {
            let started = Instant::now();
            loop {
                prove_ready(&coordinator);
                let state = status(&embedded).await;
                if done(&state) {
                    return state;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(90),
                    "timed out waiting for {what}: {state:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    ingest.submit_and_wait(transfer(0)).await.unwrap();
    until_l1("batch 1 to be final", |s| s.finalized >= 1).await;

    h.gated.corrupt_root.store(true, Ordering::SeqCst);
    let hash = ingest.submit_and_wait(transfer(1)).await.unwrap();
    until_l1("batch 2 to be committed", |s| s.committed >= 2).await;
    h.gated.corrupt_root.store(false, Ordering::SeqCst);
    let started = Instant::now();
    while h.gated.proofs_refused.load(Ordering::SeqCst) == 0 {
        prove_ready(&h.coordinator);
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no proof was refused"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stuck = status(&h.embedded).await;
    assert_eq!((stuck.committed, stuck.finalized), (2, 1), "{stuck:?}");
    prove_ready(&h.coordinator);
    assert_eq!(
        h.coordinator.status().queued,
        0,
        "batch 2's jobs are all proven"
    );

    // The operator reverts it (its key also signs settlement's transactions: a
    // nonce taken meanwhile is retried).
    let started = Instant::now();
    loop {
        let nonce = h.embedded.nonce(operator().public_key()).await.unwrap();
        let revert = sign_l1(
            &operator(),
            nonce,
            Call::Rollup(RollupCall::RevertBatches { to: 1 }),
        );
        if let Ok(sent) = h.embedded.submit(revert).await {
            let receipt = loop {
                if let Some(receipt) = h.embedded.receipt(sent).await.unwrap() {
                    break Some(receipt);
                }
                if !h.embedded.is_pending(sent).await.unwrap() {
                    break None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            if receipt.is_some_and(|r| r.outcome == L1Outcome::Success) {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the revert never landed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Planned again: fresh jobs for batch 2 (its old proofs are forgotten).
    until("batch 2's jobs to be made again", || {
        h.coordinator.status().queued > 0
    })
    .await;
    let state = until_l1("batch 2 to be final again", |s| s.finalized >= 2).await;
    let receipt = h.sequencer.reader().receipt(&hash).unwrap().unwrap();
    assert_eq!(
        receipt.status,
        ghostplane_primitives::ReceiptStatus::Success
    );
    assert!(receipt.block.0 <= state.finalized_l2_block, "{state:?}");

    h.stop.store(true, Ordering::SeqCst);
    let _ = h.settlement.await;
    let _ = h.watcher.await;
    h.sequencer.shutdown().await;
    h.producer.stop();
}

/// A forced withdrawal of all the fee account's GCC, while fee-paying transfers
/// flow: the sequencer puts forced withdrawals in blocks without transactions, so
/// the executor's balance (fees credited at a block's end) is the proof's (fees
/// credited before a debit of the fee account) and the whole-balance withdrawal
/// empties it exactly; the batch is proven and the L1 pays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_withdrawal_of_the_fee_accounts_whole_balance_is_proven() {
    use ghostd_types::rollup::{FORCED_WITHDRAWAL_ALL, ForcedWithdrawalRequest};
    let h = harness().await;
    let ingest = h.sequencer.ingest();
    let dev0 = Keypair::dev(0);
    let recipient = ghostplane_primitives::L1Address([0x5a; 32]);
    let message = ForcedWithdrawalRequest::signing_message(
        DEVNET_CHAIN_ID,
        AccountId::new(0).unwrap(),
        TokenId::Gcc,
        FORCED_WITHDRAWAL_ALL,
        &recipient,
        0,
    );
    let request = Call::Rollup(RollupCall::ForceWithdraw(ForcedWithdrawalRequest {
        account: AccountId::new(0).unwrap(),
        token: TokenId::Gcc,
        amount: FORCED_WITHDRAWAL_ALL,
        recipient,
        signature: dev0.sign_bytes(&message),
    }));
    // dev1 pays account 0 (the fee account) fees all along.
    let dev1 = Keypair::dev(1);
    let pay = |nonce: u64| {
        let tx = Transaction::Transfer {
            from: AccountId::new(1).unwrap(),
            to: Recipient::Account(AccountId::new(0).unwrap()),
            token: TokenId::Mana,
            amount: 1,
            fee: 3,
            nonce,
        };
        dev1.sign(DEVNET_CHAIN_ID, tx).encode()
    };
    ingest.submit_and_wait(pay(0)).await.unwrap();
    h.embedded
        .submit(sign_l1(
            &dev0,
            h.embedded.nonce(dev0.public_key()).await.unwrap(),
            request,
        ))
        .await
        .unwrap();
    let mut next = 1;
    let started = Instant::now();
    let state = loop {
        // Keep fee-paying transfers coming while the request is fed in.
        for _ in 0..4 {
            let _ = ingest.submit(pay(next));
            next += 1;
        }
        prove_ready(&h.coordinator);
        let state = status(&h.embedded).await;
        if state.forced_consumed == 1 && state.finalized == state.committed {
            break state;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the forced withdrawal was never finalized: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(state.finalized >= 1);
    let paid = h
        .node
        .read(|s| ghostd::modules::ledger::balance(s, &recipient, TokenId::Gcc))
        .unwrap();
    assert!(paid >= BALANCE, "paid {paid}");
    h.stop.store(true, Ordering::SeqCst);
    let _ = h.settlement.await;
    let _ = h.watcher.await;
    h.sequencer.shutdown().await;
    h.producer.stop();
}

//! Admission limits that keep one user from stalling the rollup: the minimum fee,
//! the per-sender bound on in-order transactions, back-pressure from settlement,
//! and the byte budget of everything held between submission and execution. (On the code before these rules, a zero-fee transaction was
//! accepted, in-order transactions passed the per-sender bound, and nothing slowed
//! admission to settlement's pace.) And the proof system's rule: a Groth16 rollup
//! takes no contract transactions (before it, a Groth16 sequencer accepted them).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use ghostplane_primitives::clock::ManualClock;
use ghostplane_primitives::{
    AccountId, Amount, ContractAddress, DEVNET_CHAIN_ID, Keypair, L2Genesis, Recipient,
    SignedTransaction, TokenId, Transaction,
};
use ghostplane_proof_api::ProofSystem;
use ghostplane_sequencer::{Sequencer, SequencerConfig, SubmitError};
use ghostplane_test_utils::dev_l2_genesis;

const FUNDS: Amount = 1_000_000_000;

fn genesis(count: u32) -> L2Genesis {
    dev_l2_genesis(count, [FUNDS; 4])
}

fn config(dir: &std::path::Path) -> SequencerConfig {
    let mut config = SequencerConfig::new(dir.to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.quic_addr = "127.0.0.1:0".parse().unwrap();
    config.executor_threads = 1;
    config
}

fn transfer(from: u32, fee: Amount, nonce: u64) -> SignedTransaction {
    let tx = Transaction::Transfer {
        from: AccountId::new(from).unwrap(),
        to: Recipient::Account(AccountId::new(0).unwrap()),
        token: TokenId::Gcc,
        amount: 1,
        fee,
        nonce,
    };
    Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx)
}

fn bytes(tx: &SignedTransaction) -> Vec<u8> {
    ghostplane_primitives::Codec::encode(tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_below_the_minimum_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.prices.fee_min = 10;
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    for fee in [0, 9] {
        let error = ingest
            .submit_and_wait(bytes(&transfer(1, fee, 0)))
            .await
            .unwrap_err();
        assert_eq!(
            error,
            SubmitError::FeeBelowMinimum {
                offered: fee,
                min: ghostplane_executor::FeeParts {
                    execution: 10,
                    total: 10,
                    ..Default::default()
                },
                data_price: 0,
            }
        );
        assert_eq!(error.code(), -32014);
    }
    ingest
        .submit_and_wait(bytes(&transfer(1, 10, 0)))
        .await
        .unwrap();
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_to_a_new_key_pays_the_account_creation_fee() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.prices.fee_min = 10;
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    let to_new = |fee| {
        let tx = Transaction::Transfer {
            from: AccountId::new(1).unwrap(),
            to: Recipient::NewAccount(Keypair::from_seed(&[77; 32]).public_key()),
            token: TokenId::Gcc,
            amount: 1,
            fee,
            nonce: 0,
        };
        Keypair::dev(1).sign(DEVNET_CHAIN_ID, tx)
    };
    let min = 10 + ghostplane_primitives::ACCOUNT_CREATION_FEE;
    let error = ingest
        .submit_and_wait(bytes(&to_new(min - 1)))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SubmitError::FeeBelowMinimum {
            offered: min - 1,
            min: ghostplane_executor::FeeParts {
                execution: min,
                total: min,
                ..Default::default()
            },
            data_price: 0,
        }
    );
    ingest.submit_and_wait(bytes(&to_new(min))).await.unwrap();
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_order_transactions_count_against_the_sender_bound() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.sender_pending_max = 4;
    // Blocks far apart: admitted transactions stay pooled.
    config.block_time_ms = 60_000;
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    for nonce in 0..4 {
        ingest
            .submit_and_wait(bytes(&transfer(2, 1, nonce)))
            .await
            .unwrap();
    }
    let error = ingest
        .submit_and_wait(bytes(&transfer(2, 1, 4)))
        .await
        .unwrap_err();
    assert!(
        matches!(error, SubmitError::SenderPoolFull { pending: 4, .. }),
        "{error:?}"
    );
    // Another sender is not affected.
    ingest
        .submit_and_wait(bytes(&transfer(3, 1, 0)))
        .await
        .unwrap();
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_backlog_holds_admission_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.settlement_unplanned_txs_max = 100;
    config.settlement_unproven_jobs_max = 8;
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    let marks = sequencer.settled_marks();
    // No settlement has reported: no back-pressure (a standalone sequencer).
    ingest
        .submit_and_wait(bytes(&transfer(1, 1, 0)))
        .await
        .unwrap();
    // Planning behind.
    let behind = |error: SubmitError, jobs: u64| {
        assert!(
            matches!(error, SubmitError::SettlementBehind { unproven_jobs, .. } if unproven_jobs == jobs),
            "{error:?}"
        );
        assert_eq!(error.code(), -32023);
    };
    marks.report_backlog(101, 0);
    let error = ingest.submit_and_wait(bytes(&transfer(1, 1, 1))).await;
    behind(error.unwrap_err(), 0);
    // Proving behind.
    marks.report_backlog(0, 9);
    let error = ingest.submit_and_wait(bytes(&transfer(1, 1, 1))).await;
    behind(error.unwrap_err(), 9);
    // Caught up: admitted again.
    marks.report_backlog(10, 8);
    ingest
        .submit_and_wait(bytes(&transfer(1, 1, 1)))
        .await
        .unwrap();
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_transactions_are_bounded_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    // Room for three transactions as the pipeline counts them (encoding, decoded
    // copy, queue entries): 2 * len + 256 each.
    let len = bytes(&transfer(1, 1, 1)).len();
    config.pipeline_bytes_max = 3 * (2 * len + 256);
    // Future nonces wait in the pool (holding their bytes) until the gap times out,
    // on a clock the test moves.
    config.nonce_gap_timeout_ms = 3_000;
    let clock = ManualClock::new(1_700_000_000_000);
    config.clock = clock.clone();
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    for nonce in 1..=3 {
        ingest
            .submit_and_wait(bytes(&transfer(1, 1, nonce)))
            .await
            .unwrap();
    }
    // Full: any sender is told to come back later, and nothing is recorded.
    let busy = || async {
        matches!(
            ingest.submit_and_wait(bytes(&transfer(2, 1, 0))).await,
            Err(SubmitError::Busy { .. })
        )
    };
    assert!(busy().await);
    // Real time passing does not expire them: only the clock does.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(busy().await, "expired before the deadline");
    clock.advance(std::time::Duration::from_millis(2_999));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(busy().await, "expired before the deadline");
    // Once the waiting transactions leave the pool (gap timeout), their bytes are
    // free again (the admission stage looks every 100 ms).
    clock.advance(std::time::Duration::from_millis(1));
    let mut attempts = 0;
    loop {
        match ingest.submit_and_wait(bytes(&transfer(2, 1, 0))).await {
            Ok(_) => break,
            Err(SubmitError::Busy { .. }) => {
                attempts += 1;
                assert!(attempts < 300, "the byte budget was never given back");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    sequencer.shutdown().await;
}

/// A deploy from `from` at `nonce`: the empty WASM module (what the executor makes
/// of it does not matter here, only whether the sequencer takes it).
fn deploy(from: u32, nonce: u64) -> SignedTransaction {
    let tx = Transaction::Deploy {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(from).unwrap(),
        code: b"\0asm\x01\0\0\0".to_vec(),
        init: Vec::new(),
        fee: 1_000_000,
        nonce,
    };
    Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx)
}

fn call(from: u32, nonce: u64) -> SignedTransaction {
    let tx = Transaction::Call {
        token: TokenId::Gcc,
        value: 0,
        from: AccountId::new(from).unwrap(),
        contract: ContractAddress([3; 32]),
        input: Vec::new(),
        fuel_limit: 1_000,
        fee: 1_000_000,
        nonce,
    };
    Keypair::dev(from).sign(DEVNET_CHAIN_ID, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groth16_rollup_refuses_contract_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.proof_system = ProofSystem::Groth16;
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    let reader = sequencer.reader();
    let sender = AccountId::new(1).unwrap();
    let head = reader.last_header().unwrap().map(|h| h.number);
    for tx in [deploy(1, 0), call(1, 0)] {
        let error = ingest.submit_and_wait(bytes(&tx)).await.unwrap_err();
        assert_eq!(error, SubmitError::ContractsUnsupported);
        assert_eq!(error.code(), -32008);
        assert_eq!(error.kind(), "contracts_unsupported");
        assert!(
            error.to_string().starts_with(
                "contract transactions need the STARK backend; this rollup's genesis uses Groth16"
            ),
            "{error}"
        );
        assert_eq!(error.data()["requiredProofSystem"], "stark");
        // Nothing recorded: no receipt, no block, the nonce still free.
        let hash = ghostplane_primitives::tx_hash(&bytes(&tx));
        assert_eq!(reader.receipt(&hash).unwrap(), None);
    }
    assert_eq!(reader.last_header().unwrap().map(|h| h.number), head);
    assert_eq!(reader.state().account(sender).unwrap().unwrap().nonce, 0);
    // It remains a rollup for native transfers: nonce 0 is still the sender's.
    ingest
        .submit_and_wait(bytes(&transfer(1, 1, 0)))
        .await
        .unwrap();
    sequencer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stark_rollup_takes_contract_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    assert_eq!(config.proof_system, ProofSystem::Stark, "the default");
    let sequencer = Sequencer::start(config, genesis(4)).await.unwrap();
    let ingest = sequencer.ingest();
    let hash = ingest.submit_and_wait(bytes(&deploy(1, 0))).await.unwrap();
    // Executed (as a deploy or a fee-only failure): it went all the way.
    let reader = sequencer.reader();
    let mut attempts = 0;
    while reader.receipt(&hash).unwrap().is_none() {
        attempts += 1;
        assert!(attempts < 500, "the deploy was never executed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sequencer.shutdown().await;
}

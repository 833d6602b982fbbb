//! The two `L1Client`s agree: the embedded one and JSON-RPC against a served ghostd.
//! Refusals come back typed; an unreachable L1 is `Unavailable`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ghostd::EmbeddedL1;
use ghostd::modules::ledger;
use ghostd::{Call, Genesis, Ghostd, GhostdConfig, L1Outcome, RollupCall};
use ghostplane_primitives::{ChainId, Keypair, TokenId};
use ghostplane_prover::StarkBackend;
use ghostplane_settlement::{L1Client, L1Error, RpcL1};
use ghostplane_stark::config::FriSettings;
use ghostplane_test_utils::{L1GenesisBuilder, sign_l1};

fn genesis() -> Genesis {
    let backend = StarkBackend::new(FriSettings::SETTLEMENT, 2).unwrap();
    L1GenesisBuilder::new(ghostplane_prover::proof_params(&backend))
        .fund([Keypair::dev(0).public_key()], TokenId::Gcc, 1_000)
        .l2_chain_id(ChainId(1))
        .deposit_queue_max(10)
        .build()
}

async fn included<C: L1Client>(
    client: &C,
    hash: ghostplane_primitives::Hash32,
) -> ghostd::L1Receipt {
    for _ in 0..200 {
        if let Some(receipt) = client.receipt(hash).await.unwrap() {
            return receipt;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("transaction {hash} was not included");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_and_rpc_clients_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = GhostdConfig::new(dir.path().to_path_buf());
    config.rpc_addr = "127.0.0.1:0".parse().unwrap();
    config.block_time_ms = 50;
    let node = Ghostd::open(config, &genesis()).unwrap();
    let (server, addr) = ghostd::rpc::serve(&node).await.unwrap();
    let producer = node.start_producer();
    let embedded = EmbeddedL1::new(node.clone());
    let rpc = RpcL1::new(&format!("http://{addr}")).unwrap();

    let dev0 = Keypair::dev(0);
    let recipient = Keypair::from_seed(&[1; 32]).public_key();
    let deposit = |nonce, amount| {
        let call = Call::Rollup(RollupCall::Deposit {
            recipient,
            token: TokenId::Gcc,
            amount,
        });
        sign_l1(&dev0, nonce, call)
    };
    assert_eq!(rpc.nonce(dev0.public_key()).await.unwrap(), 0);
    let hash = rpc.submit(deposit(0, 300)).await.unwrap();
    let receipt = included(&rpc, hash).await;
    assert_eq!(receipt.outcome, L1Outcome::Success);
    assert_eq!(receipt.deposit_index, Some(0));
    assert_eq!(receipt, included(&embedded, hash).await);
    assert!(!rpc.is_pending(hash).await.unwrap());

    let hash = embedded.submit(deposit(1, 200)).await.unwrap();
    included(&embedded, hash).await;
    let over_rpc = rpc.deposits(0, 10).await.unwrap();
    assert_eq!(over_rpc.len(), 2);
    assert_eq!(over_rpc, embedded.deposits(0, 10).await.unwrap());
    assert_eq!(over_rpc[1].amount, 200);
    assert!(rpc.deposits(2, 10).await.unwrap().is_empty());
    let status = rpc.rollup_status().await.unwrap();
    assert_eq!(status, embedded.rollup_status().await.unwrap());
    assert_eq!(status.deposits_queued, 2);
    assert_eq!(rpc.nonce(dev0.public_key()).await.unwrap(), 2);
    assert_eq!(
        node.read(|s| ledger::balance(s, &ledger::bridge_escrow(), TokenId::Gcc))
            .unwrap(),
        500
    );

    // Refusals are typed on both paths: an overdraft, a replayed nonce.
    for client_result in [
        rpc.submit(deposit(2, 1_000)).await,
        embedded.submit(deposit(2, 1_000)).await,
    ] {
        match client_result {
            Err(L1Error::Refused {
                code,
                message,
                refusal,
            }) => {
                assert_eq!(code, ghostplane_rpc::codes::CALL_REFUSED);
                assert!(message.contains("less than"), "{message}");
                // The refusing module and its result code, on both paths.
                let (module, result) = refusal.expect("a module refused");
                assert_eq!(module, ghostd_types::tx::ModuleId::ROLLUP, "a deposit");
                assert!(result > 0);
            }
            other => panic!("overdraft accepted: {other:?}"),
        }
    }
    assert!(matches!(
        rpc.submit(deposit(0, 1)).await,
        Err(L1Error::Refused {
            code: ghostplane_rpc::codes::NONCE_TOO_LOW,
            ..
        })
    ));

    producer.stop();
    let _ = server.stop();
    server.stopped().await;
    // The L1 is gone: the client says so, and settlement retries later.
    assert!(matches!(
        rpc.rollup_status().await,
        Err(L1Error::Unavailable(_))
    ));
}

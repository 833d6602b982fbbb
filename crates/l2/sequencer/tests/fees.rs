//! Fees that price pubdata, over JSON-RPC (real sockets on 127.0.0.1):
//! `l2_estimateFee` is what a transaction offering it is charged, a transaction
//! with more pubdata pays more, a fee below the floor is refused with the
//! estimate in the error's data, and `l2_feeHistory` reports what blocks paid.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::{start_priced, submit};
use ghostplane_executor::Prices;
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, Codec, DEVNET_CHAIN_ID, Keypair, Recipient, TokenId, Transaction,
};
use ghostplane_rpc::codes;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

const DATA_PRICE: u128 = 3;

fn id(n: u32) -> AccountId {
    AccountId::new(n).unwrap()
}

fn amount(value: &Value) -> u128 {
    value.as_str().unwrap().parse().unwrap()
}

async fn estimate(client: &HttpClient, tx: &Transaction) -> Value {
    client
        .request("l2_estimateFee", rpc_params![hex::encode(tx.encode())])
        .await
        .unwrap()
}

fn with_fee(mut tx: Transaction, total: u128) -> Transaction {
    tx.set_fee(total);
    tx
}

/// The estimate's parts add up, at the data price.
fn check_parts(estimate: &Value) -> u128 {
    let bytes = u128::from(estimate["pubdataBytes"].as_u64().unwrap());
    assert_eq!(amount(&estimate["dataPrice"]), DATA_PRICE);
    assert_eq!(
        amount(&estimate["pubdata"]),
        DATA_PRICE * bytes,
        "{estimate}"
    );
    let total = amount(&estimate["total"]);
    assert_eq!(
        total,
        amount(&estimate["execution"]) + amount(&estimate["pubdata"])
    );
    total
}

/// A sequencer charging [`DATA_PRICE`] per pubdata byte, and a client of it.
async fn priced(dir: &std::path::Path) -> (ghostplane_sequencer::Sequencer, HttpClient) {
    let prices = Prices {
        fuel_price: 1,
        fee_min: 1,
        data_price: DATA_PRICE,
    };
    let sequencer = start_priced(dir, prices).await;
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();
    (sequencer, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_is_the_charge_and_pubdata_is_priced() {
    let dir = tempfile::tempdir().unwrap();
    let (sequencer, client) = priced(dir.path()).await;

    // A native transfer: its floor is the proof slot and its bytes.
    let transfer = Transaction::Transfer {
        from: id(1),
        to: Recipient::Account(id(2)),
        token: TokenId::Spirit,
        amount: 10,
        fee: 0,
        nonce: 0,
    };
    let floor = estimate(&client, &transfer).await;
    let total = check_parts(&floor);
    assert_eq!(amount(&floor["execution"]), 1);
    assert!(floor["pubdataBytes"].as_u64().unwrap() >= 104, "{floor}");
    let min_fee: String = client.request("l2_minFee", rpc_params![]).await.unwrap();
    assert_eq!(min_fee.parse::<u128>().unwrap(), total);

    // One below: refused, the estimate in the error's data; nothing changes.
    let below = Keypair::dev(1).sign(DEVNET_CHAIN_ID, with_fee(transfer.clone(), total - 1));
    let refused = client
        .request::<Value, _>(
            "l2_sendTransaction",
            rpc_params![hex::encode(below.encode())],
        )
        .await;
    let Err(jsonrpsee::core::ClientError::Call(error)) = refused else {
        panic!("a fee below the floor was taken: {refused:?}");
    };
    assert_eq!(error.code(), codes::FEE_BELOW_MINIMUM);
    let data: Value = serde_json::from_str(error.data().unwrap().get()).unwrap();
    assert_eq!(amount(&data["minFee"]), total);
    assert_eq!(amount(&data["estimate"]["total"]), total);
    assert_eq!(data["estimate"]["pubdataBytes"], floor["pubdataBytes"]);

    // At the estimate: included and charged exactly it.
    let receipt = submit(&client, 1, with_fee(transfer, total)).await;
    assert_eq!(amount(&receipt["feePaid"]), total);

    // A transfer to a new key posts its key: more pubdata, a higher floor.
    let to_new = Transaction::Transfer {
        from: id(1),
        to: Recipient::NewAccount(Keypair::generate().public_key()),
        token: TokenId::Spirit,
        amount: 10,
        fee: 0,
        nonce: 1,
    };
    let to_new_floor = estimate(&client, &to_new).await;
    check_parts(&to_new_floor);
    assert!(
        to_new_floor["pubdataBytes"].as_u64() > floor["pubdataBytes"].as_u64(),
        "{to_new_floor} vs {floor}"
    );

    // A deploy: its code is pubdata. Offering the estimate, charged exactly it.
    let code = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../executor/contracts/token.wat"
    ))
    .unwrap();
    let deploy = Transaction::Deploy {
        from: id(1),
        code: code.clone(),
        init: vec![],
        token: TokenId::Gcc,
        value: 0,
        fee: 0,
        nonce: 1,
    };
    let deploy_estimate = estimate(&client, &deploy).await;
    let deploy_total = check_parts(&deploy_estimate);
    assert_eq!(deploy_estimate["status"], "success", "{deploy_estimate}");
    assert!(deploy_estimate["pubdataBytes"].as_u64().unwrap() > code.len() as u64);
    let deployed = submit(&client, 1, with_fee(deploy, deploy_total)).await;
    assert_eq!(amount(&deployed["feePaid"]), deploy_total);
    assert_eq!(deployed["gasUsed"], deploy_estimate["gasUsed"]);
    let token = contract_address(id(1), 1);

    // Calls: each offered its estimate is charged exactly it.
    let call = |from: u32, nonce: u64, input: Vec<u8>| Transaction::Call {
        from: id(from),
        contract: token,
        input,
        token: TokenId::Gcc,
        value: 0,
        fuel_limit: 1_000_000,
        fee: 0,
        nonce,
    };
    let mint = call(2, 0, [&[0u8][..], &1_000u64.to_le_bytes()].concat());
    let mint_estimate = estimate(&client, &mint).await;
    let mint_total = check_parts(&mint_estimate);
    let minted = submit(&client, 2, with_fee(mint, mint_total)).await;
    assert_eq!(amount(&minted["feePaid"]), mint_total);
    assert_eq!(minted["gasUsed"], mint_estimate["gasUsed"]);

    // A transfer writes two slots and emits an event; a balance read reads one
    // slot: more pubdata, more paid for it.
    let send = call(
        2,
        1,
        [&[1u8][..], &3u32.to_le_bytes(), &5u64.to_le_bytes()].concat(),
    );
    let read = call(2, 1, [&[2u8][..], &2u32.to_le_bytes()].concat());
    let (send_estimate, read_estimate) = (
        estimate(&client, &send).await,
        estimate(&client, &read).await,
    );
    check_parts(&send_estimate);
    check_parts(&read_estimate);
    assert!(
        amount(&send_estimate["pubdata"]) > amount(&read_estimate["pubdata"]),
        "{send_estimate} vs {read_estimate}"
    );
    let send_total = amount(&send_estimate["total"]);
    let sent = submit(&client, 2, with_fee(send, send_total)).await;
    assert_eq!(amount(&sent["feePaid"]), send_total);

    // Estimates of what would be dropped, and bad input, get typed errors.
    let unknown = Transaction::Call {
        from: id(1_000),
        contract: token,
        input: vec![2],
        token: TokenId::Gcc,
        value: 0,
        fuel_limit: 1_000_000,
        fee: 0,
        nonce: 0,
    };
    let dropped = client
        .request::<Value, _>("l2_estimateFee", rpc_params![hex::encode(unknown.encode())])
        .await;
    match dropped {
        Err(jsonrpsee::core::ClientError::Call(e)) => {
            assert_eq!(e.code(), codes::WOULD_BE_DROPPED, "{e}");
        }
        other => panic!("expected WOULD_BE_DROPPED, got {other:?}"),
    }
    let garbage = client
        .request::<Value, _>("l2_estimateFee", rpc_params!["zz"])
        .await;
    assert!(garbage.is_err());

    // The history reports the blocks, and what the sent call's block paid.
    let history: Value = client
        .request("l2_feeHistory", rpc_params![1_024])
        .await
        .unwrap();
    assert_eq!(amount(&history["dataPrice"]), DATA_PRICE);
    let block = sent["block"].as_u64().unwrap();
    let entry = history["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["number"] == block)
        .unwrap_or_else(|| panic!("block {block} not in {history}"));
    assert!(amount(&entry["feesPaid"]) >= send_total, "{entry}");
    assert!(entry["pubdataBytes"].as_u64().unwrap() > 0);
    let too_many = client
        .request::<Value, _>("l2_feeHistory", rpc_params![1_025])
        .await;
    assert!(too_many.is_err());

    sequencer.shutdown().await;
}

/// A deploy or call pays for the pubdata of its own bytes however it ends: one
/// offering only the minimum fee with a 16 KiB input would post 16 KiB for 1
/// GCC unit (as a failed call's `FeeOnly` op). Refused at submission with its
/// floor, and dropped by the executor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_transaction_pays_for_its_own_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (sequencer, client) = priced(dir.path()).await;
    let call = Transaction::Call {
        from: id(1),
        contract: ghostplane_primitives::ContractAddress([9; 32]),
        input: vec![0xab; ghostplane_primitives::CALL_INPUT_BYTES_MAX],
        token: TokenId::Gcc,
        value: 0,
        fuel_limit: 1_000_000,
        fee: 1,
        nonce: 0,
    };
    let signed = Keypair::dev(1).sign(DEVNET_CHAIN_ID, call.clone());
    let refused = client
        .request::<Value, _>(
            "l2_sendTransaction",
            rpc_params![hex::encode(signed.encode())],
        )
        .await;
    let Err(jsonrpsee::core::ClientError::Call(error)) = refused else {
        panic!("a call paying 1 for 16 KiB of pubdata was taken: {refused:?}");
    };
    assert_eq!(error.code(), codes::FEE_BELOW_MINIMUM);
    let data: Value = serde_json::from_str(error.data().unwrap().get()).unwrap();
    let floor = amount(&data["minFee"]);
    assert!(
        floor > DATA_PRICE * ghostplane_primitives::CALL_INPUT_BYTES_MAX as u128,
        "{data}"
    );
    // At its floor it is taken (and fails: no contract there), paying the floor.
    let receipt = common::submit_any(&client, 1, with_fee(call, floor)).await;
    assert_eq!(receipt["status"], "failed", "{receipt}");
    assert_eq!(amount(&receipt["feePaid"]), floor);
    sequencer.shutdown().await;
}

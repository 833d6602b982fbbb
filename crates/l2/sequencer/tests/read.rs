//! Reading contracts over JSON-RPC (real sockets on 127.0.0.1): `l2_call` answers
//! what a transaction would and changes nothing; `l2_getStorage` reads a slot;
//! bad requests get typed errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

mod common;

use common::{FUNDS, start, submit, submit_any};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{AccountId, CALL_INPUT_BYTES_MAX, TokenId, Transaction};
use ghostplane_rpc::codes;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::{Value, json};

fn token_code() -> Vec<u8> {
    wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../executor/contracts/token.wat"
    ))
    .unwrap()
}

fn id(n: u32) -> AccountId {
    AccountId::new(n).unwrap()
}

async fn call_error(client: &HttpClient, request: Value) -> i32 {
    match client
        .request::<Value, _>("l2_call", rpc_params![request])
        .await
    {
        Err(jsonrpsee::core::ClientError::Call(error)) => error.code(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_calls_and_storage_over_json_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let sequencer = start(dir.path()).await;
    let client = HttpClientBuilder::default()
        .build(format!("http://{}", sequencer.rpc_addr))
        .unwrap();

    let deploy = Transaction::Deploy {
        from: id(1),
        code: token_code(),
        init: vec![],
        token: TokenId::Gcc,
        value: 0,
        fee: 10_000_000,
        nonce: 0,
    };
    submit(&client, 1, deploy).await;
    let token = contract_address(id(1), 0);
    let mint = Transaction::Call {
        from: id(2),
        contract: token,
        input: [&[0u8][..], &1_000u64.to_le_bytes()].concat(),
        token: TokenId::Gcc,
        value: 0,
        fuel_limit: 1_000_000,
        fee: 1_000_000,
        nonce: 0,
    };
    let minted = submit(&client, 2, mint).await;

    // The mint's block: by number, by hash, and its receipts in one call.
    let number = minted["block"].as_u64().unwrap();
    let block: Value = client
        .request("l2_getBlock", rpc_params![number])
        .await
        .unwrap();
    let by_hash: Value = client
        .request("l2_getBlockByHash", rpc_params![block["hash"].clone()])
        .await
        .unwrap();
    assert_eq!(by_hash, block);
    let unknown: Value = client
        .request("l2_getBlockByHash", rpc_params![hex::encode([3u8; 32])])
        .await
        .unwrap();
    assert!(unknown.is_null());
    let receipts: Value = client
        .request("l2_getBlockReceipts", rpc_params![number])
        .await
        .unwrap();
    let receipts = receipts.as_array().unwrap();
    assert_eq!(
        receipts.len(),
        block["transactions"].as_array().unwrap().len()
    );
    assert!(receipts.contains(&minted), "{receipts:?}");
    // From a position past the block's last: an empty page.
    let past: Value = client
        .request(
            "l2_getBlockReceipts",
            rpc_params![number, receipts.len() as u32],
        )
        .await
        .unwrap();
    assert_eq!(past, serde_json::json!([]));
    let ahead: Value = client
        .request("l2_getBlockReceipts", rpc_params![number + 1_000])
        .await
        .unwrap();
    assert!(ahead.is_null());

    // balance_of(2) = 1000, as a read call.
    let balance_of = hex::encode([&[2u8][..], &2u32.to_le_bytes()].concat());
    let request = json!({ "contract": token.to_string(), "input": balance_of });
    let view: Value = client
        .request("l2_call", rpc_params![request.clone()])
        .await
        .unwrap();
    assert_eq!(view["status"], "success", "{view}");
    assert_eq!(view["returnData"], hex::encode(1_000u64.to_le_bytes()));
    assert!(view["fuelUsed"].as_u64().unwrap() > 0);

    // A transfer as a read call: reported, discarded.
    let transfer = [&[1u8][..], &3u32.to_le_bytes(), &400u64.to_le_bytes()].concat();
    let sim: Value = client
        .request(
            "l2_call",
            rpc_params![json!({
                "contract": token.to_string(),
                "input": format!("0x{}", hex::encode(&transfer)),
                "from": 2,
            })],
        )
        .await
        .unwrap();
    assert_eq!(sim["status"], "success", "{sim}");
    assert_eq!(sim["events"].as_array().unwrap().len(), 1);
    assert_eq!(sim["discardedWrites"], 2);
    let again: Value = client
        .request("l2_call", rpc_params![request])
        .await
        .unwrap();
    assert_eq!(again["returnData"], hex::encode(1_000u64.to_le_bytes()));
    // Without `from` the caller has no balance: the transfer reverts.
    let reverted: Value = client
        .request(
            "l2_call",
            rpc_params![json!({ "contract": token.to_string(), "input": hex::encode(&transfer) })],
        )
        .await
        .unwrap();
    assert_eq!(reverted["status"], "failed");
    assert_eq!(reverted["revertData"], hex::encode(b"insufficient balance"));

    // Storage: account 2's balance slot, an absent slot, an unknown contract.
    let mut slot = [0u8; 32];
    slot[0] = 1;
    slot[1..5].copy_from_slice(&2u32.to_le_bytes());
    let value: Option<String> = client
        .request(
            "l2_getStorage",
            rpc_params![token.to_string(), hex::encode(slot)],
        )
        .await
        .unwrap();
    assert_eq!(value, Some(hex::encode(1_000u64.to_le_bytes())));
    let absent: Option<String> = client
        .request(
            "l2_getStorage",
            rpc_params![token.to_string(), hex::encode([9u8; 32])],
        )
        .await
        .unwrap();
    assert_eq!(absent, None);
    let nobody = hex::encode([7u8; 32]);
    match client
        .request::<Option<String>, _>(
            "l2_getStorage",
            rpc_params![nobody.clone(), hex::encode(slot)],
        )
        .await
    {
        Err(jsonrpsee::core::ClientError::Call(e)) => {
            assert_eq!(e.code(), codes::UNKNOWN_CONTRACT)
        }
        other => panic!("{other:?}"),
    }

    // Withdrawals: one that debits (executed; no settlement runs here), one that
    // fails (more than the balance), and hashes that are not withdrawals.
    let to = ghostplane_primitives::L1Address([0x11; 32]);
    let withdraw = |amount, nonce| Transaction::Withdraw {
        from: id(3),
        to,
        token: TokenId::Spirit,
        amount,
        fee: 10,
        nonce,
    };
    let ok = submit_any(&client, 3, withdraw(500, 0)).await;
    let view: Value = client
        .request("l2_getWithdrawal", rpc_params![ok["txHash"].clone()])
        .await
        .unwrap();
    assert_eq!(view["state"], "executed", "{view}");
    assert_eq!(view["amount"], "500");
    assert_eq!(view["token"], "SPIRIT");
    assert_eq!(view["account"], 3);
    assert_eq!(view["forced"], false);
    assert_eq!(view["recipient"], to.to_string());
    let failed = submit_any(&client, 3, withdraw(FUNDS * 10, 1)).await;
    let view: Value = client
        .request("l2_getWithdrawal", rpc_params![failed["txHash"].clone()])
        .await
        .unwrap();
    assert_eq!(view["state"], "failed", "{view}");
    let none: Value = client
        .request("l2_getWithdrawal", rpc_params![hex::encode([5u8; 32])])
        .await
        .unwrap();
    assert!(none.is_null());
    match client
        .request::<Value, _>("l2_getWithdrawal", rpc_params![minted["txHash"].clone()])
        .await
    {
        Err(jsonrpsee::core::ClientError::Call(e)) => assert_eq!(e.code(), codes::INVALID_PARAMS),
        other => panic!("a call is not a withdrawal: {other:?}"),
    }

    // Typed errors.
    let contract = token.to_string();
    assert_eq!(
        call_error(&client, json!({ "contract": nobody })).await,
        codes::UNKNOWN_CONTRACT
    );
    assert_eq!(
        call_error(&client, json!({ "contract": contract, "fuel": u64::MAX })).await,
        codes::FUEL_TOO_HIGH
    );
    let huge = "00".repeat(CALL_INPUT_BYTES_MAX + 1);
    assert_eq!(
        call_error(&client, json!({ "contract": contract, "input": huge })).await,
        codes::INPUT_TOO_LARGE
    );
    assert_eq!(
        call_error(&client, json!({ "contract": contract, "input": "zz" })).await,
        codes::INVALID_PARAMS
    );
    assert_eq!(
        call_error(&client, json!({ "contract": "0x12" })).await,
        codes::INVALID_PARAMS
    );
    sequencer.shutdown().await;
}

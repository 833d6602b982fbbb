//! Known-answer vectors of the wire encoding, written once in
//! `testing/vectors/encoding.json` and read by both clients' test suites: this
//! one (the Rust types the nodes decode) and the TypeScript client's
//! (`sdk/ts`, `npm test`). Each vector gives a transaction as JSON, its canonical
//! (borsh) encoding, the exact bytes its signature covers, the signed encoding
//! and its hash; plus dev keys and contract addresses.
//!
//! The file is the contract between the two: this test rebuilds every value from
//! the Rust code and fails on any difference. To write the file again after a
//! deliberate change of the encoding: `GHOSTPLANE_WRITE_VECTORS=1 cargo test
//! --test encoding_vectors` (and the TypeScript client must change with it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failure.

use std::path::{Path, PathBuf};

use ghostd_types::{Call, L1_DEVNET_CHAIN_ID, L1Transaction, LedgerCall, RollupCall};
use ghostplane_primitives::tx::contract_address;
use ghostplane_primitives::{
    AccountId, ChainId, Codec, ContractAddress, DEVNET_CHAIN_ID, Keypair, L1Address, Recipient,
    TokenId, Transaction,
};
use serde_json::{Value, json};

fn file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/encoding.json")
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn id(i: u32) -> AccountId {
    AccountId::new(i).unwrap()
}

/// A transaction as the TypeScript client writes it (`sdk/ts`): the fields
/// `l2_getTransaction` answers (`ghostplane_l2_api::transaction_json`), except that
/// a deploy carries its code (hex) rather than the code's hash, length and address.
fn l2_json(tx: &Transaction) -> Value {
    let mut json = ghostplane_l2_api::transaction_json(tx);
    if let Transaction::Deploy { code, .. } = tx {
        let fields = json.as_object_mut().unwrap();
        for derived in ["codeHash", "codeBytes", "contract"] {
            fields.remove(derived);
        }
        fields.insert("code".into(), Value::String(hex0x(code)));
    }
    json
}

fn l2_vector(name: &str, signer: u32, chain_id: ChainId, tx: Transaction) -> Value {
    let key = Keypair::dev(signer);
    let signed = key.sign(chain_id, tx.clone());
    signed.verify(chain_id).unwrap();
    json!({
        "name": name,
        "signer": signer,
        "chainId": chain_id.0.to_string(),
        "tx": l2_json(&tx),
        "encoding": hex0x(&tx.encode()),
        "signingMessage": hex0x(&tx.signing_message(chain_id)),
        "signed": hex0x(&signed.encode()),
        "hash": hex0x(&signed.hash().0),
    })
}

fn l1_vector(name: &str, signer: u32, nonce: u64, call: Call, call_json: Value) -> Value {
    let key = Keypair::dev(signer);
    let tx = L1Transaction {
        chain_id: L1_DEVNET_CHAIN_ID,
        from: key.public_key(),
        nonce,
        call,
    };
    let message = tx.signing_message();
    let signed = tx.clone().sign(&key);
    signed.verify().unwrap();
    json!({
        "name": name,
        "signer": signer,
        "tx": {
            "chainId": L1_DEVNET_CHAIN_ID.to_string(),
            "from": hex0x(&key.public_key().0),
            "nonce": nonce.to_string(),
            "call": call_json,
        },
        "signingMessage": hex0x(&message),
        "signed": hex0x(&signed.encode()),
        "hash": hex0x(&signed.hash().0),
    })
}

fn vectors() -> Value {
    let dev = |i: u32| Keypair::dev(i).public_key();
    let big = (1u128 << 127) + 5;
    let l2 = vec![
        l2_vector(
            "transfer to an existing account",
            1,
            DEVNET_CHAIN_ID,
            Transaction::Transfer {
                from: id(1),
                to: Recipient::Account(id(2)),
                token: TokenId::Gcc,
                amount: 1000,
                fee: 137,
                nonce: 0,
            },
        ),
        l2_vector(
            "transfer to a new key",
            3,
            DEVNET_CHAIN_ID,
            Transaction::Transfer {
                from: id(3),
                to: Recipient::NewAccount(dev(20)),
                token: TokenId::Spirit,
                amount: 5,
                fee: 1165,
                nonce: 7,
            },
        ),
        l2_vector(
            "transfer with wide integers, another chain",
            4,
            ChainId(0x0123_4567_89ab_cdef),
            Transaction::Transfer {
                from: id(4),
                to: Recipient::Account(id((1 << 24) - 1)),
                token: TokenId::Ghost,
                amount: big,
                fee: (1u128 << 64) + 1,
                nonce: 1 << 63,
            },
        ),
        l2_vector(
            "withdraw",
            2,
            DEVNET_CHAIN_ID,
            Transaction::Withdraw {
                from: id(2),
                to: L1Address(dev(2).0),
                token: TokenId::Mana,
                amount: 2000,
                fee: 164,
                nonce: 1,
            },
        ),
        l2_vector(
            "deploy",
            1,
            DEVNET_CHAIN_ID,
            Transaction::Deploy {
                from: id(1),
                code: b"\0asm\x01\0\0\0".to_vec(),
                init: vec![1, 2, 3],
                token: TokenId::Ghost,
                value: 0,
                fee: 100_000,
                nonce: 3,
            },
        ),
        l2_vector(
            "call with value",
            5,
            DEVNET_CHAIN_ID,
            Transaction::Call {
                from: id(5),
                contract: contract_address(id(1), 3),
                input: vec![4, 2, 0, 0, 0],
                fuel_limit: 1_000_000,
                token: TokenId::Gcc,
                value: 10,
                fee: 50_000,
                nonce: 9,
            },
        ),
        l2_vector(
            "call with empty input",
            6,
            DEVNET_CHAIN_ID,
            Transaction::Call {
                from: id(6),
                contract: ContractAddress([0xab; 32]),
                input: Vec::new(),
                fuel_limit: 100_000_000,
                token: TokenId::Spirit,
                value: 0,
                fee: 1,
                nonce: 0,
            },
        ),
    ];
    let l1 = vec![
        l1_vector(
            "deposit",
            2,
            0,
            Call::Rollup(RollupCall::Deposit {
                recipient: dev(5),
                token: TokenId::Spirit,
                amount: 5000,
            }),
            json!({
                "kind": "deposit", "recipient": hex0x(&dev(5).0), "token": "SPIRIT", "amount": "5000",
            }),
        ),
        l1_vector(
            "ledger transfer",
            3,
            4,
            Call::Ledger(LedgerCall::Transfer {
                id: (1u128 << 100) + 7,
                to: L1Address(dev(4).0),
                token: TokenId::Ghost,
                amount: 12_345,
            }),
            json!({
                "kind": "ledgerTransfer", "id": ((1u128 << 100) + 7).to_string(),
                "to": hex0x(&dev(4).0), "token": "GHOST", "amount": "12345",
            }),
        ),
    ];
    let dev_keys: Vec<Value> = [0u32, 1, 2, 15, 20]
        .iter()
        .map(|&i| {
            let key = Keypair::dev(i);
            json!({ "index": i, "seed": hex0x(&key.seed()), "publicKey": hex0x(&key.public_key().0) })
        })
        .collect();
    let addresses: Vec<Value> = [(1u32, 0u64), (1, 3), ((1 << 24) - 1, u64::MAX)]
        .iter()
        .map(|&(deployer, nonce)| {
            json!({
                "deployer": deployer,
                "nonce": nonce.to_string(),
                "address": hex0x(&contract_address(id(deployer), nonce).0),
            })
        })
        .collect();
    json!({
        "about": "Known answers of Ghostplane's wire encoding, checked by testing/tests/tests/encoding_vectors.rs (Rust) and sdk/ts (TypeScript). Hex is 0x-prefixed; integers wider than 32 bits are decimal strings.",
        "l2": l2,
        "l1": l1,
        "devKeys": dev_keys,
        "contractAddresses": addresses,
    })
}

#[test]
fn the_shared_vectors_are_what_the_rust_code_encodes() {
    let computed = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("GHOSTPLANE_WRITE_VECTORS").is_some() {
        std::fs::write(file(), &computed).unwrap();
        return;
    }
    let written = std::fs::read_to_string(file()).unwrap();
    assert!(
        written == computed,
        "testing/vectors/encoding.json differs from what the Rust code encodes; if the \
         encoding changed on purpose, write it again with GHOSTPLANE_WRITE_VECTORS=1 and \
         change the TypeScript client with it. Computed:\n{computed}"
    );
    // The file also decodes back to the same transactions.
    let parsed: Value = serde_json::from_str(&written).unwrap();
    for vector in parsed["l2"].as_array().unwrap() {
        let signed = hex::decode(&vector["signed"].as_str().unwrap()[2..]).unwrap();
        let decoded = ghostplane_primitives::SignedTransaction::decode(&signed).unwrap();
        assert_eq!(
            hex0x(&decoded.tx.encode()),
            vector["encoding"].as_str().unwrap()
        );
    }
}

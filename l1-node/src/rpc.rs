//! JSON-RPC over HTTP and WebSocket on one port (default 127.0.0.1:8545), plus
//! `GET /health`.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `ghost_chainId` | | L1 chain id |
//! | `ghost_blockNumber` | | head height |
//! | `ghost_genesisHash` | | blake3 of the genesis (hex) |
//! | `ghost_getBlock` | number | header and transaction hashes, or `null` |
//! | `ghost_sendTransaction` | signed tx, hex | `{hash}` once in the mempool |
//! | `ghost_getTransaction` | hash | `{status: "pending" \| "included" \| "unknown", receipt}` |
//! | `ghost_getAccount` | address (hex) | `{address, nonce, balances}` |
//! | `ghost_status` | | head, mempool size, rollup counters |
//! | `ghost_subscribeNewBlocks` | | notifications `ghost_newBlock` |
//! | `ledger_getAccount` | address, token symbol | `{debitsPosted, creditsPosted, balance}` |
//! | `ledger_getTransfer` | id (decimal string) | transfer or `null` |
//! | `rollup_status` | | committed / finalized batches, roots, deposit queue |
//! | `rollup_getBatch` | number | batch record or `null` |
//! | `rollup_getDeposits` | from index, max (≤ 1024) | queued deposits, each with its encoding |
//!
//! Amounts are decimal strings. Submission errors carry the stable codes of
//! [`SubmitError::code`].

use std::net::SocketAddr;

use ghostplane_primitives::{Codec, Hash32, L1Address, PublicKey, TokenId};
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::modules::{ledger, rollup};
use crate::node::{Ghostd, NodeError, SubmitError};
use crate::types::{L1_TX_BYTES_MAX, L1Header, L1Outcome, L1Receipt};

/// Most deposits per `rollup_getDeposits` call.
pub const DEPOSITS_PER_CALL_MAX: u64 = 1024;

use ghostplane_rpc::{internal, invalid_params as invalid};

fn parse_token(text: &str) -> Result<TokenId, ErrorObjectOwned> {
    TokenId::ALL
        .into_iter()
        .find(|t| t.symbol().eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            invalid(format!(
                "unknown token {text:?}: use GCC, SPIRIT, MANA or GHOST"
            ))
        })
}

fn parse_address(text: &str) -> Result<L1Address, ErrorObjectOwned> {
    L1Address::from_hex(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex address")))
}

/// JSON of a header.
pub fn header_json(header: &L1Header) -> Value {
    json!({
        "number": header.number,
        "hash": header.hash().to_string(),
        "parentHash": header.parent_hash.to_string(),
        "timestampMs": header.timestamp_ms,
        "transactionsHash": header.transactions_hash.to_string(),
        "stateDigest": header.state_digest.to_string(),
        "txCount": header.tx_count,
    })
}

/// JSON of a receipt.
pub fn receipt_json(receipt: &L1Receipt) -> Value {
    let (status, error) = match &receipt.outcome {
        L1Outcome::Success => ("success", Value::Null),
        L1Outcome::Failed(reason) => ("failed", json!(reason)),
    };
    json!({
        "txHash": receipt.tx_hash.to_string(),
        "block": receipt.block,
        "index": receipt.index,
        "status": status,
        "error": error,
        "depositIndex": receipt.deposit_index,
        "encoded": hex::encode(receipt.encode()),
    })
}

/// JSON of the rollup counters.
pub fn rollup_json(state: &rollup::RollupState) -> Value {
    json!({
        "committedBatch": state.committed,
        "finalizedBatch": state.finalized,
        "finalizedRoot": state.finalized_root.to_hex(),
        "committedL2Block": state.committed_l2_block,
        "finalizedL2Block": state.finalized_l2_block,
        "nextAccount": state.next_account,
        "depositsQueued": state.deposits_queued,
        "depositsConsumed": state.deposits_consumed,
        "depositQueueHash": state.deposit_queue_hash.to_string(),
        "encoded": hex::encode(ghostplane_primitives::codec::to_bytes(state)),
    })
}

fn account_json(node: &Ghostd, address: L1Address) -> Result<Value, ErrorObjectOwned> {
    let nonce = node.nonce(&PublicKey(address.0)).map_err(internal)?;
    let mut balances = serde_json::Map::new();
    for token in TokenId::ALL {
        let balance = node
            .read(|s| ledger::balance(s, &address, token))
            .map_err(internal)?;
        balances.insert(token.symbol().to_string(), json!(balance.to_string()));
    }
    Ok(json!({ "address": address.to_string(), "nonce": nonce, "balances": balances }))
}

fn submit_error(error: &SubmitError) -> ErrorObjectOwned {
    ghostplane_rpc::error(error.code(), error.to_string(), None::<()>)
}

/// Builds the RPC module.
pub fn module(node: Ghostd) -> Result<RpcModule<Ghostd>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(node);
    module.register_method("ghost_chainId", |_, node, _| node.genesis().chain_id)?;
    module.register_method("ghost_blockNumber", |_, node, _| node.head().number)?;
    module.register_method("ghost_genesisHash", |_, node, _| {
        node.genesis().hash().to_hex()
    })?;
    module.register_method("ghost_getBlock", |params, node, _| {
        let number: u64 = params.one().map_err(|e| invalid(e.to_string()))?;
        let Some(block) = node.block(number).map_err(internal)? else {
            return Ok::<Value, ErrorObjectOwned>(Value::Null);
        };
        let mut value = header_json(&block.header);
        value["transactions"] = json!(
            block
                .transactions
                .iter()
                .map(|tx| tx.hash().to_string())
                .collect::<Vec<_>>()
        );
        Ok(value)
    })?;
    // Blocking: the dry run of a batch commit verifies every signature in it.
    module.register_blocking_method("ghost_sendTransaction", |params, node, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        let digits = text.strip_prefix("0x").unwrap_or(&text);
        if digits.len() > L1_TX_BYTES_MAX * 2 {
            return Err(submit_error(&SubmitError::Malformed(format!(
                "over the {L1_TX_BYTES_MAX}-byte limit"
            ))));
        }
        let bytes = hex::decode(digits)
            .map_err(|e| submit_error(&SubmitError::Malformed(format!("not hex: {e}"))))?;
        let hash = node.submit_bytes(&bytes).map_err(|e| submit_error(&e))?;
        Ok(json!({ "hash": hash.to_string() }))
    })?;
    module.register_method("ghost_getTransaction", |params, node, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        let hash = Hash32::from_hex(text.strip_prefix("0x").unwrap_or(&text))
            .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex hash")))?;
        if let Some(receipt) = node.receipt(&hash).map_err(internal)? {
            return Ok::<Value, ErrorObjectOwned>(
                json!({ "status": "included", "receipt": receipt_json(&receipt) }),
            );
        }
        let status = if node.is_pending(&hash) {
            "pending"
        } else {
            "unknown"
        };
        Ok(json!({ "status": status, "receipt": null }))
    })?;
    module.register_method("ghost_getAccount", |params, node, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        account_json(node, parse_address(&text)?)
    })?;
    module.register_method("ghost_status", |_, node, _| {
        let head = node.head();
        let rollup = node.read(rollup::status).map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "chainId": node.genesis().chain_id,
            "head": header_json(&head),
            "mempool": node.mempool_len(),
            "rollup": rollup_json(&rollup),
        }))
    })?;
    module.register_method("ledger_getAccount", |params, node, _| {
        let (address, token): (String, String) =
            params.parse().map_err(|e| invalid(e.to_string()))?;
        let address = parse_address(&address)?;
        let token = parse_token(&token)?;
        let account = node
            .read(|s| ledger::account(s, &address, token))
            .map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(json!({
            "address": address.to_string(),
            "token": token.symbol(),
            "debitsPosted": account.debits_posted.to_string(),
            "creditsPosted": account.credits_posted.to_string(),
            "balance": account.balance().to_string(),
        }))
    })?;
    module.register_method("ledger_getTransfer", |params, node, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        let id: u128 = text
            .parse()
            .map_err(|_| invalid("transfer id must be a decimal u128 string"))?;
        let Some(t) = node
            .read(|s| ledger::transfer_by_id(s, id))
            .map_err(internal)?
        else {
            return Ok::<Value, ErrorObjectOwned>(Value::Null);
        };
        Ok(json!({
            "id": t.id.to_string(),
            "debit": t.debit.to_string(),
            "credit": t.credit.to_string(),
            "token": t.token.symbol(),
            "amount": t.amount.to_string(),
            "code": format!("{:?}", t.code),
            "block": t.block,
        }))
    })?;
    module.register_method("rollup_status", |_, node, _| {
        let rollup = node.read(rollup::status).map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(rollup_json(&rollup))
    })?;
    module.register_method("rollup_getBatch", |params, node, _| {
        let number: u64 = params.one().map_err(|e| invalid(e.to_string()))?;
        let Some(record) = node.read(|s| rollup::batch(s, number)).map_err(internal)? else {
            return Ok::<Value, ErrorObjectOwned>(Value::Null);
        };
        Ok(json!({
            "number": record.number,
            "firstBlock": record.first_block,
            "lastBlock": record.last_block,
            "pubdataHash": record.pubdata_hash.to_string(),
            "newRoot": record.new_root.to_hex(),
            "chunks": record.commitments.len(),
            "withdrawals": record.withdrawals.len(),
            "depositsConsumedTo": record.deposits_consumed_to,
            "committedAt": record.committed_at,
            "finalizedAt": record.finalized_at,
        }))
    })?;
    module.register_method("rollup_getDeposits", |params, node, _| {
        let (from, max): (u64, u64) = params.parse().map_err(|e| invalid(e.to_string()))?;
        let max = max.min(DEPOSITS_PER_CALL_MAX);
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            let Some(event) = node.read(|s| rollup::deposit(s, index)).map_err(internal)? else {
                break;
            };
            out.push(json!({
                "queueIndex": event.queue_index,
                "l1Block": event.l1_block,
                "recipient": event.recipient.to_string(),
                "token": event.token.symbol(),
                "amount": event.amount.to_string(),
                "l1TxHash": event.l1_tx_hash.to_string(),
                "encoded": hex::encode(event.encode()),
            }));
        }
        Ok::<Value, ErrorObjectOwned>(Value::Array(out))
    })?;
    module.register_method("system_health", |_, node, _| {
        node.read(rollup::status).map(|_| "ok").map_err(internal)
    })?;
    module.register_subscription(
        "ghost_subscribeNewBlocks",
        "ghost_newBlock",
        "ghost_unsubscribeNewBlocks",
        |_, pending, node, _| async move {
            let mut blocks = node.subscribe();
            let sink = pending.accept().await?;
            loop {
                let header = match blocks.recv().await {
                    Ok(header) => header,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                sink.send(serde_json::value::to_raw_value(&header_json(&header))?)
                    .await?;
            }
        },
    )?;
    Ok(module)
}

/// Starts the JSON-RPC server on the configured address; returns its handle and
/// bound address.
pub async fn serve(node: &Ghostd) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let limits = ghostplane_rpc::Limits::with_body(node.config().rpc_body_bytes_max);
    let module = module(node.clone()).map_err(|e| NodeError::Rpc(e.to_string()))?;
    ghostplane_rpc::serve(node.config().rpc_addr, limits, module)
        .await
        .map_err(|e| NodeError::Rpc(e.to_string()))
}

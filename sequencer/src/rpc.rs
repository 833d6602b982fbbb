//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee), plus `GET /health`.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `l2_sendTransaction` | signed tx, hex | `{hash, status: "accepted"}` once durable |
//! | `l2_sendTransactionBatch` | array of hex (≤ `rpc_batch_max`) | one `{hash}` or `{error}` each |
//! | `l2_getTransactionStatus` | hash | status object (`unknown` if never seen) |
//! | `l2_getTransactionReceipt` | hash | receipt or `null` |
//! | `l2_getAccount` | account id or public key (hex) | `{id, publicKey, nonce, pendingNonce, balances}` or `null` |
//! | `l2_getBlock` | number | header and transaction hashes, or `null` |
//! | `l2_blockNumber` | | last block number |
//! | `l2_chainId` | | chain id |
//! | `l2_minFee` | | least fee a transaction must offer (GCC base units, decimal string) |
//! | `l2_quicCertificate` | | the QUIC server certificate, DER hex (pin it) |
//! | `l2_subscribeNewBlocks` | | notifications `l2_newBlock` |
//! | `l2_subscribeTransactionStatus` | hash | notifications `l2_transactionStatus` until final |
//!
//! Amounts are decimal strings (u128 does not fit a JSON number). Errors carry the
//! stable codes and data of [`SubmitError`].

use std::net::SocketAddr;
use std::sync::Arc;

use ghostplane_executor::StoreReader;
use ghostplane_primitives::{
    AccountId, BlockNumber, Hash32, L2BlockHeader, PublicKey, Receipt, ReceiptStatus, TokenId,
};
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::config::SequencerConfig;
use crate::error::{SubmitError, TxStatus};
use crate::pipeline::{BlockEvent, Ingest};
use crate::status::StatusBoard;

/// How often a status subscription re-reads the status even without an event.
const STATUS_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// What the RPC handlers share.
pub struct RpcContext {
    /// Submission handle.
    pub ingest: Ingest,
    /// Committed state, receipts and blocks.
    pub reader: StoreReader,
    /// In-flight statuses.
    pub status: Arc<StatusBoard>,
    /// New blocks.
    pub blocks: broadcast::Sender<BlockEvent>,
    /// Status changes.
    pub statuses: broadcast::Sender<(Hash32, TxStatus)>,
    /// Settlement progress.
    pub marks: Arc<crate::settled::SettledMarks>,
    /// Next nonce of each sender with transactions in the pool.
    pub pending_nonces: Arc<papaya::HashMap<AccountId, ghostplane_primitives::Nonce>>,
    /// Settings.
    pub config: Arc<SequencerConfig>,
    /// QUIC certificate (DER).
    pub quic_certificate: Vec<u8>,
}

fn submit_error(error: &SubmitError) -> ErrorObjectOwned {
    let data = error.data();
    ErrorObjectOwned::owned(
        error.code(),
        error.to_string(),
        (!data.is_null()).then_some(data),
    )
}

use ghostplane_rpc::{internal, invalid_params as invalid};

fn parse_hash(text: &str) -> Result<Hash32, ErrorObjectOwned> {
    Hash32::from_hex(text).map_err(|_| invalid(format!("{text:?} is not a 32-byte hex hash")))
}

fn decode_hex(text: &str, max: usize) -> Result<Vec<u8>, SubmitError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() > max * 2 {
        return Err(SubmitError::TooLarge {
            len: digits.len() / 2,
            max,
        });
    }
    hex::decode(digits).map_err(|e| SubmitError::Malformed(format!("not hex: {e}")))
}

async fn send_one(ctx: &RpcContext, text: &str) -> Result<Hash32, SubmitError> {
    let bytes = decode_hex(text, ctx.config.tx_bytes_max)?;
    ctx.ingest.submit_and_wait(bytes).await
}

/// JSON of a block header.
pub fn header_json(header: &L2BlockHeader) -> Value {
    json!({
        "number": header.number.0,
        "hash": header.hash().to_string(),
        "parentHash": header.parent_hash.to_string(),
        "timestampMs": header.timestamp_ms,
        "feeAccount": header.fee_account.get(),
        "txCount": header.tx_count,
        "transactionsHash": header.transactions_hash.to_string(),
        "executionDigest": header.execution_digest.to_string(),
    })
}

/// JSON of a receipt.
pub fn receipt_json(receipt: &Receipt) -> Value {
    let (status, error) = match &receipt.status {
        ReceiptStatus::Success => ("success", Value::Null),
        ReceiptStatus::Failed(reason) => ("failed", json!(reason.to_string())),
    };
    json!({
        "txHash": receipt.tx_hash.to_string(),
        "block": receipt.block.0,
        "index": receipt.index,
        "status": status,
        "error": error,
        "gasUsed": receipt.gas_used,
        "feePaid": receipt.fee_paid.to_string(),
        "events": receipt.events.iter().map(|e| json!({
            "contract": e.contract.to_string(),
            "topic": e.topic.to_string(),
            "data": hex::encode(&e.data),
        })).collect::<Vec<_>>(),
        "returnData": hex::encode(&receipt.return_data),
    })
}

fn status_of(ctx: &RpcContext, hash: &Hash32) -> Result<Value, ErrorObjectOwned> {
    // A receipt is final word: a later duplicate submission of the same bytes is
    // rejected (nonce used), and that must not hide that the original executed.
    if let Some(receipt) = ctx.reader.receipt(hash).map_err(internal)? {
        return serde_json::to_value(
            ctx.marks
                .status(receipt.block.0, receipt.status == ReceiptStatus::Success),
        )
        .map_err(internal);
    }
    match ctx.status.get(hash) {
        Some(status) => serde_json::to_value(status).map_err(internal),
        None => Ok(json!({ "status": "unknown" })),
    }
}

fn account_json(ctx: &RpcContext, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let query: Value = params.one().map_err(|e| invalid(e.to_string()))?;
    let state = ctx.reader.state();
    let id = match &query {
        Value::Number(n) => {
            let id = n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid("account id out of range"))?;
            Some(AccountId::new(id).map_err(|e| invalid(e.to_string()))?)
        }
        Value::String(text) => {
            let key = PublicKey::from_hex(text)
                .map_err(|_| invalid("expected an account id or a 32-byte hex public key"))?;
            state.account_of(&key).map_err(internal)?
        }
        _ => {
            return Err(invalid(
                "expected an account id or a 32-byte hex public key",
            ));
        }
    };
    let Some(id) = id else { return Ok(Value::Null) };
    let Some(account) = state.account(id).map_err(internal)? else {
        return Ok(Value::Null);
    };
    let mut balances = serde_json::Map::new();
    for token in TokenId::ALL {
        let balance = state.balance(id, token).map_err(internal)?;
        balances.insert(token.symbol().to_string(), json!(balance.to_string()));
    }
    // The nonce a new transaction should use: past the ones waiting in the pool.
    let pending_nonce = ctx
        .pending_nonces
        .pin()
        .get(&id)
        .map_or(account.nonce, |pending| (*pending).max(account.nonce));
    Ok(json!({
        "id": id.get(),
        "publicKey": account.public_key.to_string(),
        "nonce": account.nonce,
        "pendingNonce": pending_nonce,
        "balances": balances,
    }))
}

fn block_json(reader: &StoreReader, number: u64) -> Result<Value, ErrorObjectOwned> {
    let Some(header) = reader.header(BlockNumber(number)).map_err(internal)? else {
        return Ok(Value::Null);
    };
    let transactions = reader
        .block_transactions(BlockNumber(number))
        .map_err(internal)?
        .unwrap_or_default();
    let mut value = header_json(&header);
    value["transactions"] = json!(
        transactions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    Ok(value)
}

/// Builds the RPC module.
pub fn module(
    ctx: RpcContext,
) -> Result<RpcModule<RpcContext>, jsonrpsee::core::RegisterMethodError> {
    let mut module = RpcModule::new(ctx);
    module.register_async_method("l2_sendTransaction", |params, ctx, _| async move {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        let hash = send_one(&ctx, &text).await.map_err(|e| submit_error(&e))?;
        Ok::<Value, ErrorObjectOwned>(json!({ "hash": hash.to_string(), "status": "accepted" }))
    })?;
    module.register_async_method("l2_sendTransactionBatch", |params, ctx, _| async move {
        let texts: Vec<String> = params.one().map_err(|e| invalid(e.to_string()))?;
        let max = ctx.config.rpc_batch_max as usize;
        if texts.len() > max {
            return Err(invalid(format!("batch of {} transactions is over the {max} limit", texts.len())));
        }
        // Submit all first so they share verification and WAL batches, then wait.
        let pending: Vec<_> = texts
            .iter()
            .map(|text| decode_hex(text, ctx.config.tx_bytes_max).and_then(|bytes| ctx.ingest.submit(bytes)))
            .collect();
        let mut results = Vec::with_capacity(pending.len());
        for entry in pending {
            let outcome = match entry {
                Ok(receiver) => receiver.await.unwrap_or_else(|_| {
                    Err(SubmitError::Unavailable("the pipeline dropped the request".into()))
                }),
                Err(e) => Err(e),
            };
            results.push(match outcome {
                Ok(hash) => json!({ "hash": hash.to_string(), "status": "accepted" }),
                Err(e) => json!({ "error": { "code": e.code(), "message": e.to_string(), "data": e.data() } }),
            });
        }
        Ok::<Value, ErrorObjectOwned>(Value::Array(results))
    })?;
    module.register_method("l2_getTransactionStatus", |params, ctx, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        status_of(ctx, &parse_hash(&text)?)
    })?;
    module.register_method("l2_getTransactionReceipt", |params, ctx, _| {
        let text: String = params.one().map_err(|e| invalid(e.to_string()))?;
        let receipt = ctx.reader.receipt(&parse_hash(&text)?).map_err(internal)?;
        Ok::<Value, ErrorObjectOwned>(receipt.as_ref().map_or(Value::Null, receipt_json))
    })?;
    module.register_method("l2_getAccount", |params, ctx, _| account_json(ctx, &params))?;
    module.register_method("l2_getBlock", |params, ctx, _| {
        let number: u64 = params.one().map_err(|e| invalid(e.to_string()))?;
        block_json(&ctx.reader, number)
    })?;
    module.register_method("l2_blockNumber", |_, ctx, _| {
        let header = ctx.reader.last_header().map_err(internal)?;
        Ok::<u64, ErrorObjectOwned>(header.map_or(0, |h| h.number.0))
    })?;
    module.register_method("l2_chainId", |_, ctx, _| ctx.config.chain_id.0)?;
    // Decimal string: fees are u128.
    module.register_method("l2_minFee", |_, ctx, _| ctx.config.fee_min.to_string())?;
    module.register_method("l2_quicCertificate", |_, ctx, _| {
        hex::encode(&ctx.quic_certificate)
    })?;
    module.register_method("system_health", |_, ctx, _| {
        ctx.reader.last_header().map(|_| "ok").map_err(internal)
    })?;
    module.register_subscription(
        "l2_subscribeNewBlocks",
        "l2_newBlock",
        "l2_unsubscribeNewBlocks",
        |_, pending, ctx, _| async move {
            let mut blocks = ctx.blocks.subscribe();
            let sink = pending.accept().await?;
            loop {
                let event = match blocks.recv().await {
                    Ok(event) => event,
                    // A slow subscriber skips what it missed and goes on.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                let mut value = header_json(&event.header);
                value["transactions"] = json!(
                    event
                        .transactions
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                );
                sink.send(serde_json::value::to_raw_value(&value)?).await?;
            }
        },
    )?;
    module.register_subscription(
        "l2_subscribeTransactionStatus",
        "l2_transactionStatus",
        "l2_unsubscribeTransactionStatus",
        |params, pending, ctx, _| async move {
            let text: String = match params.one() {
                Ok(text) => text,
                Err(e) => {
                    pending.reject(invalid(e.to_string())).await;
                    return Ok(());
                }
            };
            let hash = match parse_hash(&text) {
                Ok(hash) => hash,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            // Subscribe before reading the current status so no change is missed.
            let mut updates = ctx.statuses.subscribe();
            let sink = pending.accept().await?;
            let mut current = status_of(&ctx, &hash).unwrap_or(Value::Null);
            sink.send(serde_json::value::to_raw_value(&current)?)
                .await?;
            let mut recheck = tokio::time::interval(STATUS_RECHECK);
            recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                if current
                    .get("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| matches!(s, "finalized" | "rejected" | "dropped"))
                {
                    return Ok(());
                }
                // A client that goes away ends the subscription at once (without
                // this, waiting for `finalized` could outlive it indefinitely).
                // A periodic re-read covers what no event announces (marks restored
                // silently after a restart).
                let update = tokio::select! {
                    update = updates.recv() => Some(update),
                    _ = recheck.tick() => None,
                    () = sink.closed() => return Ok(()),
                };
                match update {
                    // Re-read rather than trust the event: a duplicate submission of
                    // an executed transaction publishes `rejected` for its hash, but
                    // its receipt is what counts.
                    Some(Ok((changed, _))) if changed == hash => {}
                    Some(Ok(_)) => continue,
                    None | Some(Err(broadcast::error::RecvError::Lagged(_))) => {}
                    Some(Err(broadcast::error::RecvError::Closed)) => return Ok(()),
                }
                let latest = status_of(&ctx, &hash).unwrap_or(Value::Null);
                if latest != current {
                    current = latest;
                    sink.send(serde_json::value::to_raw_value(&current)?)
                        .await?;
                }
            }
        },
    )?;
    Ok(module)
}

/// Starts the server on `addr`; returns its handle and bound address.
pub async fn serve(
    addr: SocketAddr,
    ctx: RpcContext,
) -> Result<(ServerHandle, SocketAddr), crate::StartError> {
    let config = Arc::clone(&ctx.config);
    let limits = ghostplane_rpc::Limits {
        body_bytes_max: config.rpc_body_bytes_max,
        connections_max: config.rpc_connections_max,
        subscriptions_per_connection_max: config.subscriptions_per_connection_max,
        batch_max: config.rpc_batch_max,
    };
    let module = module(ctx).map_err(|e| crate::StartError::Rpc(e.to_string()))?;
    ghostplane_rpc::serve(addr, limits, module)
        .await
        .map_err(|e| crate::StartError::Rpc(e.to_string()))
}

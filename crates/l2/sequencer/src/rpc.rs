//! JSON-RPC over HTTP and WebSocket on one port (jsonrpsee), plus `GET /health`:
//! the server side of `L2Api` ([`ghostplane_l2_api::L2ApiServer`]; method table in
//! `ghostplane_l2_api`). Errors carry the stable codes and data of [`SubmitError`].

use std::net::SocketAddr;
use std::sync::Arc;

use ghostplane_executor::fees;
use ghostplane_executor::logs::{LOG_BLOCK_RANGE_MAX, LOGS_PAGE_MAX};
use ghostplane_executor::readcall::{READ_CALL_FUEL_MAX, READ_CALLER_NONE};
use ghostplane_executor::{
    Log, LogFilter, LogPosition, LogQueryError, ReadCall, ReadCallError, ReadCaller, StateKey,
    StateReader, StateValue, StoreReader,
};
use std::collections::BTreeMap;

use ghostplane_l2_api::{
    Accepted, AccountQuery, AccountView, BLOCK_RECEIPTS_PAGE_MAX, BatchItem, BlockFeesView,
    BlockView, CallRequest, CallView, EventView, FEE_HISTORY_BLOCKS_MAX, FeeEstimateView,
    FeeHistoryView, HeaderView, ItemError, L2ApiServer, LogFilterView, LogPageView, LogView,
    PROOF_KEYS_MAX, ProofView, ReceiptView, RpcResult, TransactionView, TxStatus, WithdrawalView,
};
use ghostplane_primitives::{
    AccountId, BlockNumber, CALL_INPUT_BYTES_MAX, Codec, ContractAddress, FailureReason, Hash32,
    L2BlockHeader, PubdataOp, PublicKey, ReceiptStatus, Recipient, SIGNED_TX_BYTES_MAX,
    SignedTransaction, TokenId, Transaction, decode_pubdata,
};
use jsonrpsee::PendingSubscriptionSink;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use tokio::sync::broadcast;

use crate::config::SequencerConfig;
use crate::error::SubmitError;
use crate::pipeline::{BlockEvent, Ingest};
use crate::proofs::{ProofError, ProofRequest};
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
    pub marks: Arc<crate::l1_feed::SettledMarks>,
    /// Next nonce of each sender with transactions in the pool.
    pub pending_nonces: Arc<papaya::HashMap<AccountId, ghostplane_primitives::Nonce>>,
    /// Settings.
    pub config: Arc<SequencerConfig>,
    /// QUIC certificate (DER).
    pub quic_certificate: Vec<u8>,
    /// Read calls (`l2_call`), on a pool of their own.
    pub read_calls: Arc<ReadCaller>,
}

/// A read call's or estimate's outcome as the API names it.
fn status_name(result: &Result<(), FailureReason>) -> &'static str {
    if result.is_ok() { "success" } else { "failed" }
}

fn read_call_error(error: &ReadCallError) -> ErrorObjectOwned {
    let code = match error {
        ReadCallError::UnknownContract(_) => codes::UNKNOWN_CONTRACT,
        ReadCallError::FuelTooHigh { .. } => codes::FUEL_TOO_HIGH,
        ReadCallError::InputTooLarge(_) => codes::INPUT_TOO_LARGE,
        ReadCallError::Busy => codes::BUSY,
        ReadCallError::WouldBeDropped(_) => codes::WOULD_BE_DROPPED,
        ReadCallError::Node(_) => codes::INTERNAL,
    };
    ErrorObjectOwned::owned(code, error.to_string(), None::<()>)
}

/// How often a log subscription re-reads the head even without a block event.
const LOGS_RECHECK: std::time::Duration = std::time::Duration::from_millis(250);

fn parse_position(text: &str) -> Result<LogPosition, ErrorObjectOwned> {
    let bad = || invalid(format!("{text:?} is not a log position `block:tx:log`"));
    let mut parts = text.split(':');
    let mut next = || parts.next().ok_or_else(bad);
    let position = LogPosition {
        block: next()?.parse().map_err(|_| bad())?,
        tx: next()?.parse().map_err(|_| bad())?,
        log: next()?.parse().map_err(|_| bad())?,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(position)
}

fn position_text(p: LogPosition) -> String {
    format!("{}:{}:{}", p.block, p.tx, p.log)
}

/// `view` as a store filter over `from..=to` unless it names its own bounds.
fn log_filter(view: &LogFilterView, from: u64, to: u64) -> Result<LogFilter, ErrorObjectOwned> {
    let contract = view.contract.as_deref().map(parse_contract).transpose()?;
    let topics = view
        .topics
        .iter()
        .map(|t| {
            Hash32::from_hex(t).map_err(|_| invalid(format!("{t:?} is not a 32-byte hex topic")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LogFilter {
        contract,
        topics,
        from_block: BlockNumber(view.from_block.unwrap_or(from)),
        to_block: BlockNumber(view.to_block.unwrap_or(to)),
        after: view.after.as_deref().map(parse_position).transpose()?,
        limit: view.limit.unwrap_or(LOGS_PAGE_MAX),
    })
}

fn log_error(error: &LogQueryError) -> ErrorObjectOwned {
    match error {
        LogQueryError::Range { .. } | LogQueryError::Topics(_) => invalid(error.to_string()),
        LogQueryError::Store(e) => internal(e),
    }
}

fn log_view(log: &Log) -> LogView {
    LogView {
        block: log.position.block,
        tx_index: log.position.tx,
        log_index: log.position.log,
        position: position_text(log.position),
        tx_hash: log.tx_hash.to_string(),
        contract: log.contract.to_string(),
        topic: log.topic.to_string(),
        data: hex::encode(&log.data),
    }
}

fn parse_contract(text: &str) -> Result<ContractAddress, ErrorObjectOwned> {
    ContractAddress::from_hex(text)
        .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex contract address")))
}

fn submit_error(error: &SubmitError) -> ErrorObjectOwned {
    let data = error.data();
    ErrorObjectOwned::owned(
        error.code(),
        error.to_string(),
        (!data.is_null()).then_some(data),
    )
}

use ghostplane_rpc::{codes, internal, invalid_params as invalid};

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

fn status_of(ctx: &RpcContext, hash: &Hash32) -> Result<TxStatus, ErrorObjectOwned> {
    // A receipt is final word: a later duplicate submission of the same bytes is
    // rejected (nonce used), and that must not hide that the original executed.
    if let Some(receipt) = ctx.reader.receipt(hash).map_err(internal)? {
        return Ok(ctx
            .marks
            .status(receipt.block.0, receipt.status == ReceiptStatus::Success));
    }
    Ok(ctx.status.get(hash).unwrap_or(TxStatus::Unknown))
}

fn block_view(header: &L2BlockHeader, transactions: impl IntoIterator<Item = Hash32>) -> BlockView {
    BlockView {
        header: HeaderView::from(header),
        transactions: transactions.into_iter().map(|h| h.to_string()).collect(),
    }
}

impl RpcContext {
    /// What a read call or a fee estimate runs on: a place among the read calls
    /// in flight, the last executed header and the committed state.
    fn read_on_head(
        &self,
    ) -> RpcResult<(
        ghostplane_executor::ReadPermit,
        L2BlockHeader,
        Arc<dyn StateReader>,
    )> {
        let permit = self.read_calls.reserve().map_err(|e| read_call_error(&e))?;
        let header = self
            .reader
            .last_header()
            .map_err(internal)?
            .ok_or_else(|| internal("no block has been executed"))?;
        Ok((permit, header, Arc::new(self.reader.state())))
    }
}

#[jsonrpsee::core::async_trait]
impl L2ApiServer for RpcContext {
    async fn send_transaction(&self, text: String) -> RpcResult<Accepted> {
        let hash = send_one(self, &text).await.map_err(|e| submit_error(&e))?;
        Ok(Accepted::new(&hash))
    }

    async fn send_transaction_batch(&self, texts: Vec<String>) -> RpcResult<Vec<BatchItem>> {
        let max = self.config.rpc_batch_max as usize;
        if texts.len() > max {
            return Err(invalid(format!(
                "batch of {} transactions is over the {max} limit",
                texts.len()
            )));
        }
        // Submit all first so they share verification and WAL batches, then wait.
        let pending: Vec<_> = texts
            .iter()
            .map(|text| {
                decode_hex(text, self.config.tx_bytes_max)
                    .and_then(|bytes| self.ingest.submit(bytes))
            })
            .collect();
        let mut results = Vec::with_capacity(pending.len());
        for entry in pending {
            let outcome = match entry {
                Ok(receiver) => receiver.await.unwrap_or_else(|_| {
                    Err(SubmitError::Unavailable(
                        "the pipeline dropped the request".into(),
                    ))
                }),
                Err(e) => Err(e),
            };
            results.push(match outcome {
                Ok(hash) => BatchItem::Accepted(Accepted::new(&hash)),
                Err(e) => BatchItem::Refused {
                    error: ItemError {
                        code: e.code(),
                        message: e.to_string(),
                        data: e.data(),
                    },
                },
            });
        }
        Ok(results)
    }

    fn get_transaction_status(&self, hash: String) -> RpcResult<TxStatus> {
        status_of(self, &parse_hash(&hash)?)
    }

    fn get_transaction(&self, hash: String) -> RpcResult<Option<TransactionView>> {
        let hash = parse_hash(&hash)?;
        let Some(raw) = self.reader.transaction(&hash).map_err(internal)? else {
            return Ok(None);
        };
        let receipt = self
            .reader
            .receipt(&hash)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("transaction {hash} has a body but no receipt")))?;
        let signed = SignedTransaction::decode(&raw).map_err(internal)?;
        Ok(Some(TransactionView::new(
            &signed,
            &raw,
            receipt.block.0,
            receipt.index,
        )))
    }

    fn get_transaction_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>> {
        let receipt = self.reader.receipt(&parse_hash(&hash)?).map_err(internal)?;
        Ok(receipt.as_ref().map(ReceiptView::from))
    }

    fn get_withdrawal(&self, hash: String) -> RpcResult<Option<WithdrawalView>> {
        let hash = parse_hash(&hash)?;
        let Some(receipt) = self.reader.receipt(&hash).map_err(internal)? else {
            return Ok(None);
        };
        let pubdata = self
            .reader
            .block_pubdata(receipt.block)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {} has no pubdata", receipt.block.0)))?;
        let ops = decode_pubdata(&pubdata).map_err(internal)?;
        // Each included item leads with one op; contract traces, moves and the
        // storage completion follow theirs.
        let head = ops
            .iter()
            .filter(|op| {
                !matches!(
                    op,
                    PubdataOp::ContractTrace(_)
                        | PubdataOp::ContractMove { .. }
                        | PubdataOp::StorageProof(_)
                        | PubdataOp::ContractKey { .. }
                )
            })
            .nth(receipt.index as usize)
            .ok_or_else(|| internal("the receipt's op is missing from its block"))?;
        let (forced, account, recipient, token, amount) = match head {
            PubdataOp::Withdraw {
                from,
                to,
                token,
                amount,
                ..
            } => (false, *from, *to, *token, *amount),
            PubdataOp::ForcedWithdraw {
                from,
                to,
                token,
                amount,
                ..
            } => (true, *from, *to, *token, *amount),
            PubdataOp::FeeOnly {
                tx:
                    Transaction::Withdraw {
                        from,
                        to,
                        token,
                        amount,
                        ..
                    },
                ..
            } => (false, *from, *to, *token, *amount),
            _ => return Err(invalid(format!("{hash} is not a withdrawal"))),
        };
        let success = receipt.status == ReceiptStatus::Success;
        let state = match self.marks.status(receipt.block.0, success) {
            _ if !success => "failed",
            TxStatus::Finalized { .. } => "released",
            TxStatus::Committed { .. } => "committed",
            _ => "executed",
        };
        Ok(Some(WithdrawalView {
            tx_hash: hash.to_string(),
            block: receipt.block.0,
            index: receipt.index,
            forced,
            account: account.get(),
            recipient: recipient.to_string(),
            token: token.symbol().to_string(),
            amount: amount.to_string(),
            state: state.into(),
        }))
    }

    fn get_account(&self, query: AccountQuery) -> RpcResult<Option<AccountView>> {
        let state = self.reader.state();
        let id = match &query {
            AccountQuery::Id(n) => {
                let id = u32::try_from(*n).map_err(|_| invalid("account id out of range"))?;
                Some(AccountId::new(id).map_err(|e| invalid(e.to_string()))?)
            }
            AccountQuery::Key(text) => {
                let key = PublicKey::from_hex(text)
                    .map_err(|_| invalid("expected an account id or a 32-byte hex public key"))?;
                state.account_of(&key).map_err(internal)?
            }
        };
        let Some(id) = id else { return Ok(None) };
        let Some(account) = state.account(id).map_err(internal)? else {
            return Ok(None);
        };
        let mut balances = BTreeMap::new();
        for token in TokenId::ALL {
            let balance = state.balance(id, token).map_err(internal)?;
            balances.insert(token.symbol().to_string(), balance.to_string());
        }
        // The nonce a new transaction should use: past the ones waiting in the pool.
        let pending_nonce = self
            .pending_nonces
            .pin()
            .get(&id)
            .map_or(account.nonce, |pending| (*pending).max(account.nonce));
        Ok(Some(AccountView {
            id: id.get(),
            public_key: account.public_key.to_string(),
            nonce: account.nonce,
            pending_nonce,
            balances,
        }))
    }

    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>> {
        let Some(header) = self.reader.header(BlockNumber(number)).map_err(internal)? else {
            return Ok(None);
        };
        let transactions = self
            .reader
            .block_transactions(BlockNumber(number))
            .map_err(internal)?
            .unwrap_or_default();
        Ok(Some(block_view(&header, transactions)))
    }

    async fn call(&self, request: CallRequest) -> RpcResult<CallView> {
        let contract = parse_contract(&request.contract)?;
        let digits = request.input.strip_prefix("0x").unwrap_or(&request.input);
        if digits.len() > CALL_INPUT_BYTES_MAX * 2 {
            return Err(read_call_error(&ReadCallError::InputTooLarge(
                digits.len() / 2,
            )));
        }
        let input = hex::decode(digits).map_err(|e| invalid(format!("input is not hex: {e}")))?;
        let caller = match request.from {
            Some(n) => AccountId::new(n).map_err(|e| invalid(e.to_string()))?,
            None => READ_CALLER_NONE,
        };
        let call = ReadCall {
            contract,
            input,
            caller,
            fuel: request.fuel.unwrap_or(READ_CALL_FUEL_MAX),
        };
        call.check().map_err(|e| read_call_error(&e))?;
        let (permit, header, state) = self.read_on_head()?;
        let reads = Arc::clone(&self.read_calls);
        let out = tokio::task::spawn_blocking(move || {
            reads.call(permit, state, header.number, header.timestamp_ms, call)
        })
        .await
        .map_err(internal)?
        .map_err(|e| read_call_error(&e))?;
        let revert_data = match &out.result {
            Err(FailureReason::Revert(data)) => Some(hex::encode(data)),
            _ => None,
        };
        Ok(CallView {
            block: out.block.0,
            status: status_name(&out.result).into(),
            failure: out.result.as_ref().err().map(ToString::to_string),
            return_data: hex::encode(&out.return_data),
            revert_data,
            fuel_used: out.fuel_used,
            events: out.events.iter().map(EventView::from).collect(),
            discarded_writes: out.discarded_writes,
            discarded_moves: out.discarded_moves,
        })
    }

    async fn get_proof(&self, target: String, keys: Option<Vec<String>>) -> RpcResult<ProofView> {
        let keys = keys.unwrap_or_default();
        if keys.len() > PROOF_KEYS_MAX {
            return Err(invalid(format!(
                "{} keys asked; at most {PROOF_KEYS_MAX} a call",
                keys.len()
            )));
        }
        let mut slots = Vec::with_capacity(keys.len());
        for key in &keys {
            let key = Hash32::from_hex(key)
                .map_err(|_| invalid(format!("{key:?} is not a 32-byte hex storage key")))?;
            if slots.contains(&key.0) {
                return Err(invalid(format!("key {key} is asked twice")));
            }
            slots.push(key.0);
        }
        let unavailable =
            |why: &str| ErrorObjectOwned::owned(codes::UNAVAILABLE, why.to_string(), None::<()>);
        let proofs = self.marks.state_proofs().ok_or_else(|| {
            unavailable("this node keeps no prover tree (a sequencer without settlement)")
        })?;
        let (batch, root) = self
            .marks
            .finalized_root()
            .ok_or_else(|| unavailable("no finalized batch is known yet; retry"))?;
        // The target: an account id, a contract address or a public key.
        let state = self.reader.state();
        let (account, contract) = if let Ok(n) = target.parse::<u32>() {
            (AccountId::new(n).map_err(|e| invalid(e.to_string()))?, None)
        } else {
            let bytes = Hash32::from_hex(&target).map_err(|_| {
                invalid(format!(
                    "{target:?} is neither an account id nor a 32-byte hex key or address"
                ))
            })?;
            let address = ContractAddress(bytes.0);
            match state.get(&StateKey::Contract(address)).map_err(internal)? {
                Some(StateValue::Contract(record)) => (record.account, Some(address)),
                _ => match state
                    .get(&StateKey::KeyIndex(PublicKey(bytes.0)))
                    .map_err(internal)?
                {
                    Some(StateValue::AccountId(id)) => (id, None),
                    _ => {
                        return Err(invalid(format!(
                            "no account has key {target} and no contract is deployed there"
                        )));
                    }
                },
            }
        };
        if contract.is_none() && !slots.is_empty() {
            return Err(invalid("storage keys need a contract address"));
        }
        let request = ProofRequest {
            batch,
            root,
            account,
            contract: contract.map(|address| (address, slots)),
        };
        // Proofs share the read calls' places in flight (a proof reads up to 64 ×
        // 128 tree nodes): a flood is refused with BUSY, not queued.
        let permit = self.read_calls.reserve().map_err(|e| read_call_error(&e))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            proofs.prove(&request)
        })
        .await
        .map_err(internal)?
        .map_err(|e| match e {
            ProofError::Read(_) => internal(e),
            ProofError::NotThatContract { .. } => invalid(e.to_string()),
            ProofError::RootMismatch { .. } => unavailable(&e.to_string()),
        })
    }

    fn get_storage(&self, contract: String, key: String) -> RpcResult<Option<String>> {
        let contract = parse_contract(&contract)?;
        let key = Hash32::from_hex(&key)
            .map_err(|_| invalid(format!("{key:?} is not a 32-byte hex storage key")))?;
        let state = self.reader.state();
        match state.get(&StateKey::Contract(contract)).map_err(internal)? {
            Some(StateValue::Contract(_)) => {}
            _ => {
                return Err(read_call_error(&ReadCallError::UnknownContract(contract)));
            }
        }
        match state
            .get(&StateKey::Storage(contract, key.0))
            .map_err(internal)?
        {
            Some(StateValue::Bytes(value)) => Ok(Some(hex::encode(&value[..]))),
            None => Ok(None),
            Some(other) => Err(internal(format!("storage slot holds {other:?}"))),
        }
    }

    fn get_block_by_hash(&self, hash: String) -> RpcResult<Option<BlockView>> {
        let hash = parse_hash(&hash)?;
        match self.reader.block_number_of(&hash).map_err(internal)? {
            Some(number) => self.get_block(number.0),
            None => Ok(None),
        }
    }

    fn get_block_receipts(
        &self,
        number: u64,
        from: Option<u32>,
    ) -> RpcResult<Option<Vec<ReceiptView>>> {
        let from = from.unwrap_or(0) as usize;
        let receipts = self
            .reader
            .block_receipts(BlockNumber(number), from, BLOCK_RECEIPTS_PAGE_MAX)
            .map_err(internal)?;
        Ok(receipts.map(|r| r.iter().map(ReceiptView::from).collect()))
    }

    fn get_logs(&self, filter: LogFilterView) -> RpcResult<LogPageView> {
        let head = self
            .reader
            .last_header()
            .map_err(internal)?
            .map_or(0, |h| h.number.0);
        let filter = log_filter(&filter, 0, head)?;
        let page = self.reader.logs(&filter).map_err(|e| log_error(&e))?;
        Ok(LogPageView {
            logs: page.logs.iter().map(log_view).collect(),
            next: page.next.map(position_text),
        })
    }

    fn block_number(&self) -> RpcResult<u64> {
        let header = self.reader.last_header().map_err(internal)?;
        Ok(header.map_or(0, |h| h.number.0))
    }

    fn chain_id(&self) -> RpcResult<u64> {
        Ok(self.config.chain_id.0)
    }

    fn min_fee(&self) -> RpcResult<String> {
        // The floor of a transfer between existing accounts: every one has the
        // same encoded length (fixed-width ids and amounts), so any will do.
        let transfer = Transaction::Transfer {
            from: AccountId::MAX,
            to: Recipient::Account(AccountId::MAX),
            token: TokenId::Gcc,
            amount: u128::MAX,
            fee: u128::MAX,
            nonce: u64::MAX,
        };
        Ok(fees::floor(self.config.prices, &transfer).total.to_string())
    }

    async fn estimate_fee(&self, tx: String) -> RpcResult<FeeEstimateView> {
        let digits = tx.strip_prefix("0x").unwrap_or(&tx);
        if digits.len() > SIGNED_TX_BYTES_MAX * 2 {
            return Err(invalid(format!(
                "transaction of {} bytes is over the {SIGNED_TX_BYTES_MAX}-byte limit",
                digits.len() / 2
            )));
        }
        let bytes = hex::decode(digits).map_err(|e| invalid(format!("tx is not hex: {e}")))?;
        let tx = Transaction::decode(&bytes)
            .map_err(|e| invalid(format!("not an unsigned transaction: {e}")))?;
        tx.check_stateless().map_err(|e| invalid(e.to_string()))?;
        let (permit, header, state) = self.read_on_head()?;
        let reads = Arc::clone(&self.read_calls);
        let (prices, fuel_max) = (self.config.prices, self.config.block_fuel_max);
        let out = tokio::task::spawn_blocking(move || {
            reads.estimate(
                permit,
                state,
                header.number,
                header.timestamp_ms,
                prices,
                fuel_max,
                tx,
            )
        })
        .await
        .map_err(internal)?
        .map_err(|e| read_call_error(&e))?;
        Ok(FeeEstimateView {
            execution: out.parts.execution.to_string(),
            pubdata_bytes: out.parts.pubdata_bytes,
            data_price: prices.data_price.to_string(),
            pubdata: out.parts.pubdata.to_string(),
            total: out.parts.total.to_string(),
            gas_used: out.gas_used,
            status: status_name(&out.result).into(),
            failure: out.result.as_ref().err().map(ToString::to_string),
            block: out.block.0,
        })
    }

    fn fee_history(&self, blocks: u64) -> RpcResult<FeeHistoryView> {
        if blocks > FEE_HISTORY_BLOCKS_MAX {
            return Err(invalid(format!(
                "{blocks} blocks asked; at most {FEE_HISTORY_BLOCKS_MAX} a call"
            )));
        }
        let head = self
            .reader
            .last_header()
            .map_err(internal)?
            .map_or(0, |h| h.number.0);
        let first = (head + 1).saturating_sub(blocks);
        let mut views = Vec::with_capacity(blocks as usize);
        for number in first..=head {
            if blocks == 0 {
                break;
            }
            if let Some(fees) = self
                .reader
                .block_fees(BlockNumber(number))
                .map_err(internal)?
            {
                views.push(BlockFeesView {
                    number,
                    items: fees.items,
                    gas_used: fees.gas_used,
                    fees_paid: fees.fees_paid.to_string(),
                    pubdata_bytes: fees.pubdata_bytes,
                });
            }
        }
        let prices = self.config.prices;
        Ok(FeeHistoryView {
            fuel_price: prices.fuel_price.to_string(),
            fee_min: prices.fee_min.to_string(),
            data_price: prices.data_price.to_string(),
            blocks: views,
        })
    }

    fn quic_certificate(&self) -> RpcResult<String> {
        Ok(hex::encode(&self.quic_certificate))
    }

    async fn subscribe_new_blocks(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut blocks = self.blocks.subscribe();
        let sink = pending.accept().await?;
        loop {
            let event = match blocks.recv().await {
                Ok(event) => event,
                // A slow subscriber skips what it missed and goes on.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let view = block_view(&event.header, event.transactions.iter().copied());
            sink.send(serde_json::value::to_raw_value(&view)?).await?;
        }
    }

    async fn subscribe_logs(
        &self,
        pending: PendingSubscriptionSink,
        view: LogFilterView,
    ) -> SubscriptionResult {
        let head = |reader: &StoreReader| {
            reader
                .last_header()
                .map(|h| h.map_or(0, |h| h.number.0))
                .map_err(internal)
        };
        let after = match view.after.as_deref().map(parse_position).transpose() {
            Ok(after) => after,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        // From `fromBlock`; else from `after`'s block (resuming); else new blocks only.
        let start = match (view.from_block, after, head(&self.reader)) {
            (Some(from), _, _) => from,
            (None, Some(after), _) => after.block,
            (None, None, Ok(head)) => head + 1,
            (None, None, Err(e)) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        let base = match log_filter(&view, start, start) {
            Ok(base) if view.to_block.is_none() => base,
            Ok(_) => {
                pending
                    .reject(invalid("a log subscription takes no `toBlock`"))
                    .await;
                return Ok(());
            }
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        // Subscribe before reading the head so that no block is missed; every
        // block's events are read from the index, so each is sent once, in order.
        let mut blocks = self.blocks.subscribe();
        let sink = pending.accept().await?;
        let mut next_block = start;
        let mut after = after;
        loop {
            let head = head(&self.reader)?;
            if next_block <= head {
                let to = head.min(next_block.saturating_add(LOG_BLOCK_RANGE_MAX - 1));
                // `after` (resuming) applies to the first range only.
                let mut filter = LogFilter {
                    from_block: BlockNumber(next_block),
                    to_block: BlockNumber(to),
                    after: after.take(),
                    limit: LOGS_PAGE_MAX,
                    ..base.clone()
                };
                loop {
                    let page = self.reader.logs(&filter).map_err(|e| log_error(&e))?;
                    for log in &page.logs {
                        sink.send(serde_json::value::to_raw_value(&log_view(log))?)
                            .await?;
                    }
                    match page.next {
                        Some(next) => filter.after = Some(next),
                        None => break,
                    }
                }
                next_block = to + 1;
                continue;
            }
            tokio::select! {
                event = blocks.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = event {
                        return Ok(());
                    }
                }
                () = sink.closed() => return Ok(()),
                () = tokio::time::sleep(LOGS_RECHECK) => {}
            }
        }
    }

    async fn subscribe_transaction_status(
        &self,
        pending: PendingSubscriptionSink,
        text: String,
    ) -> SubscriptionResult {
        let hash = match parse_hash(&text) {
            Ok(hash) => hash,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        // Subscribe before reading the current status so no change is missed.
        let mut updates = self.statuses.subscribe();
        let sink = pending.accept().await?;
        let mut current = status_of(self, &hash)?;
        sink.send(serde_json::value::to_raw_value(&current)?)
            .await?;
        let mut recheck = tokio::time::interval(STATUS_RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if current.is_terminal() {
                return Ok(());
            }
            // A client that goes away ends the subscription at once (without this,
            // waiting for `finalized` could outlive it indefinitely). A periodic
            // re-read covers what no event announces (marks restored silently after
            // a restart).
            let update = tokio::select! {
                update = updates.recv() => Some(update),
                _ = recheck.tick() => None,
                () = sink.closed() => return Ok(()),
            };
            match update {
                // Re-read rather than trust the event: a duplicate submission of an
                // executed transaction publishes `rejected` for its hash, but its
                // receipt is what counts.
                Some(Ok((changed, _))) if changed == hash => {}
                Some(Ok(_)) => continue,
                None | Some(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Some(Err(broadcast::error::RecvError::Closed)) => return Ok(()),
            }
            if let Ok(latest) = status_of(self, &hash)
                && latest != current
            {
                current = latest;
                sink.send(serde_json::value::to_raw_value(&current)?)
                    .await?;
            }
        }
    }
}

/// Builds the RPC module: `L2Api` ([`L2ApiServer`]) and `system_health`.
pub fn module(
    ctx: RpcContext,
) -> Result<RpcModule<RpcContext>, jsonrpsee::core::RegisterMethodError> {
    let mut module = ctx.into_rpc();
    module.register_method(ghostplane_rpc::HEALTH_METHOD, |_, ctx, _| {
        ctx.reader.last_header().map(|_| "ok").map_err(internal)
    })?;
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
    ghostplane_rpc::serve_with_routes(addr, limits, module, config.routes.clone())
        .await
        .map_err(|e| crate::StartError::Rpc(e.to_string()))
}

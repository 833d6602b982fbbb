//! JSON-RPC over HTTP and WebSocket on one port (default 127.0.0.1:8545), plus
//! `GET /health`: the server side of [`ghostd_types::api`] (method table there).
//! Submission errors carry the codes of [`SubmitError::code`], from the project-wide
//! table `ghostplane_rpc::codes`.

use std::net::SocketAddr;

use ghostd_types::api::{
    AccountView, BatchView, BlockView, DEPOSITS_PER_CALL_MAX, DepositView, GhostApiServer,
    GrantView, HeaderView, IdentityApiServer, LedgerAccountView, LedgerApiServer, NameEventView,
    NameView, NamingApiServer, PermissionView, RecordView, ResolveOptions, RollupApiServer,
    RollupView, RpcResult, StatusView, Submitted, TokenVerdict, TransactionView, TransferView,
    TxState, VERIFY_GRANTORS_MAX, VerifyOptions, VersionId,
};
use ghostd_types::identity::DidId;
use ghostplane_primitives::{Hash32, L1Address, PublicKey, TokenId};
use ghostplane_rpc::routes::{GetRoute, RouteReply};
use ghostplane_rpc::{internal, invalid_params as invalid};
use jsonrpsee::PendingSubscriptionSink;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::server::{RpcModule, ServerHandle, SubscriptionMessage};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::modules::identity::{self, VersionQuery};
use crate::modules::{ledger, naming, rollup};
use crate::node::{Ghostd, NodeError, SubmitError};
use crate::state::StateError;
use crate::types::{L1_TX_BYTES_MAX, SignedL1Transaction};
use ghostd_types::api::{
    BalanceView, BatchSubmitted, CommitView, ConsensusApiServer, EntryView, HistoryPage,
    PageOptions, SEND_BATCH_MAX, SupplyView, TransfersPage,
};
use ghostd_types::ledger::{PAGE_LIMIT_MAX, Payee};
use ghostplane_primitives::Codec;

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

fn refused(error: &SubmitError) -> BatchSubmitted {
    BatchSubmitted {
        hash: None,
        error: Some(error.to_string()),
        code: Some(error.code()),
    }
}

fn submit_error(error: &SubmitError) -> ErrorObjectOwned {
    ghostplane_rpc::error(error.code(), error.to_string(), None::<()>)
}

/// The handlers: one node behind all three namespaces.
#[derive(Clone)]
struct Handlers(Ghostd);

#[jsonrpsee::core::async_trait]
impl GhostApiServer for Handlers {
    fn chain_id(&self) -> RpcResult<u64> {
        Ok(self.0.genesis().chain_id)
    }

    fn block_number(&self) -> RpcResult<u64> {
        Ok(self.0.head().number)
    }

    fn genesis_hash(&self) -> RpcResult<String> {
        Ok(self.0.genesis().hash().to_hex())
    }

    fn get_genesis(&self) -> RpcResult<String> {
        Ok(hex::encode(ghostplane_primitives::codec::to_bytes(
            self.0.genesis(),
        )))
    }

    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>> {
        let Some(block) = self.0.block(number).map_err(internal)? else {
            return Ok(None);
        };
        Ok(Some(BlockView {
            header: HeaderView::from(&block.header),
            transactions: block
                .transactions
                .iter()
                .map(|tx| tx.hash().to_string())
                .collect(),
        }))
    }

    fn send_transaction(&self, text: String) -> RpcResult<Submitted> {
        let digits = text.strip_prefix("0x").unwrap_or(&text);
        if digits.len() > L1_TX_BYTES_MAX * 2 {
            return Err(submit_error(&SubmitError::Malformed(format!(
                "over the {L1_TX_BYTES_MAX}-byte limit"
            ))));
        }
        let bytes = hex::decode(digits)
            .map_err(|e| submit_error(&SubmitError::Malformed(format!("not hex: {e}"))))?;
        let hash = self.0.submit_bytes(&bytes).map_err(|e| submit_error(&e))?;
        Ok(Submitted {
            hash: hash.to_string(),
        })
    }

    fn send_transaction_batch(&self, texts: Vec<String>) -> RpcResult<Vec<BatchSubmitted>> {
        if texts.len() > SEND_BATCH_MAX {
            return Err(invalid(format!(
                "{} transactions is over the {SEND_BATCH_MAX} a batch may hold",
                texts.len()
            )));
        }
        let mut answers: Vec<Option<BatchSubmitted>> = Vec::with_capacity(texts.len());
        let mut txs = Vec::new();
        let mut slots = Vec::new();
        for text in &texts {
            let digits = text.strip_prefix("0x").unwrap_or(text);
            let decoded = if digits.len() > L1_TX_BYTES_MAX * 2 {
                Err(SubmitError::Malformed(format!(
                    "over the {L1_TX_BYTES_MAX}-byte limit"
                )))
            } else {
                hex::decode(digits)
                    .map_err(|e| SubmitError::Malformed(format!("not hex: {e}")))
                    .and_then(|bytes| {
                        SignedL1Transaction::decode(&bytes)
                            .map_err(|e| SubmitError::Malformed(e.to_string()))
                    })
            };
            match decoded {
                Ok(tx) => {
                    slots.push(answers.len());
                    answers.push(None);
                    txs.push(tx);
                }
                Err(e) => answers.push(Some(refused(&e))),
            }
        }
        for (slot, result) in slots.into_iter().zip(self.0.submit_batch(txs)) {
            answers[slot] = Some(match result {
                Ok(hash) => BatchSubmitted {
                    hash: Some(hash.to_string()),
                    error: None,
                    code: None,
                },
                Err(e) => refused(&e),
            });
        }
        Ok(answers.into_iter().flatten().collect())
    }

    fn get_transaction(&self, text: String) -> RpcResult<TransactionView> {
        let hash = Hash32::from_hex(text.strip_prefix("0x").unwrap_or(&text))
            .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex hash")))?;
        if let Some(receipt) = self.0.receipt(&hash).map_err(internal)? {
            return Ok(TransactionView {
                status: TxState::Included,
                receipt: Some((&receipt).into()),
            });
        }
        let status = if self.0.is_pending(&hash) {
            TxState::Pending
        } else {
            TxState::Unknown
        };
        Ok(TransactionView {
            status,
            receipt: None,
        })
    }

    fn get_account(&self, text: String) -> RpcResult<AccountView> {
        let address = parse_address(&text)?;
        let nonce = self.0.nonce(&PublicKey(address.0)).map_err(internal)?;
        let mut balances = std::collections::BTreeMap::new();
        for token in TokenId::ALL {
            let balance = self
                .0
                .read(|s| ledger::balance(s, &address, token))
                .map_err(internal)?;
            balances.insert(token.symbol().to_string(), balance.to_string());
        }
        Ok(AccountView {
            address: address.to_string(),
            nonce,
            balances,
        })
    }

    fn status(&self) -> RpcResult<StatusView> {
        let head = self.0.head();
        let rollup = self.0.read(rollup::status).map_err(internal)?;
        Ok(StatusView {
            chain_id: self.0.genesis().chain_id,
            head: HeaderView::from(&head),
            mempool: self.0.mempool_len(),
            rollup: RollupView::from(&rollup),
        })
    }

    async fn subscribe_new_blocks(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut blocks = self.0.subscribe();
        let sink = pending.accept().await?;
        loop {
            let header = match blocks.recv().await {
                Ok(header) => header,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let message = SubscriptionMessage::from(serde_json::value::to_raw_value(
                &HeaderView::from(&header),
            )?);
            sink.send(message).await?;
        }
    }
}

impl LedgerApiServer for Handlers {
    fn get_account(&self, address: String, token: String) -> RpcResult<LedgerAccountView> {
        let address = parse_address(&address)?;
        let token = parse_token(&token)?;
        let account = self
            .0
            .read(|s| ledger::account(s, &address, token))
            .map_err(internal)?;
        Ok(LedgerAccountView::new(&address, token, &account))
    }

    fn get_transfer(&self, id: String) -> RpcResult<Option<TransferView>> {
        let id: u128 = id
            .parse()
            .map_err(|_| invalid("transfer id must be a decimal u128 string"))?;
        let found = self
            .0
            .read(|s| -> Result<_, StateError> {
                let Some(transfer) = ledger::transfer_by_id(s, id)? else {
                    return Ok(None);
                };
                Ok(Some((transfer, ledger::pending_status(s, id)?)))
            })
            .map_err(internal)?;
        Ok(found.map(|(t, status)| TransferView::new(&t, status)))
    }

    fn supply(&self, token: String) -> RpcResult<SupplyView> {
        let token = parse_token(&token)?;
        let (totals, issued, issuer) = self
            .0
            .read(|s| -> Result<_, StateError> {
                Ok((
                    ledger::totals(s, token)?,
                    ledger::account(s, &ledger::issuer(), token)?,
                    ledger::issuer_of(s, token)?,
                ))
            })
            .map_err(internal)?;
        Ok(SupplyView {
            token: token.symbol().to_string(),
            supply: totals.supply.to_string(),
            issued: issued.debits_posted.to_string(),
            burned: issued.credits_posted.to_string(),
            issuer: issuer.map(|i| i.to_string()),
        })
    }

    fn get_account_transfers(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<TransfersPage> {
        let owner = self.owner(&owner)?;
        let token = parse_token(&token)?;
        let options = options.unwrap_or_default();
        let (entries, next_cursor) = self
            .0
            .read(|s| -> Result<_, StateError> {
                let (entries, next) = ledger::account_entries(
                    s,
                    &owner,
                    token,
                    options.from_block,
                    options.cursor,
                    options.limit.unwrap_or(PAGE_LIMIT_MAX),
                )?;
                let mut out = Vec::with_capacity(entries.len());
                for (seq, t) in entries {
                    let status = ledger::pending_status(s, t.id)?;
                    out.push(EntryView {
                        seq,
                        transfer: TransferView::new(&t, status),
                    });
                }
                Ok((out, next))
            })
            .map_err(internal)?;
        Ok(TransfersPage {
            entries,
            next_cursor,
        })
    }

    fn get_account_history(
        &self,
        owner: String,
        token: String,
        options: Option<PageOptions>,
    ) -> RpcResult<HistoryPage> {
        let owner = self.owner(&owner)?;
        let token = parse_token(&token)?;
        let options = options.unwrap_or_default();
        let (balances, next_cursor) = self
            .0
            .read(|s| {
                ledger::account_history(
                    s,
                    &owner,
                    token,
                    options.from_block,
                    options.cursor,
                    options.limit.unwrap_or(PAGE_LIMIT_MAX),
                )
            })
            .map_err(internal)?;
        Ok(HistoryPage {
            balances: balances
                .iter()
                .map(|(seq, b)| BalanceView::new(*seq, b))
                .collect(),
            next_cursor,
        })
    }
}

impl Handlers {
    /// An account owner given as a hex address, a `did:ghost` or a name (resolved
    /// at the head).
    fn owner(&self, text: &str) -> Result<L1Address, ErrorObjectOwned> {
        let payee = Payee::parse(text).ok_or_else(|| {
            invalid(format!(
                "{text:?} is not a 32-byte hex address, a did:ghost or a name"
            ))
        })?;
        let head = self.0.head().number;
        let naming = &self.0.genesis().naming;
        let resolved = self
            .0
            .read(|s| ledger::resolve_payee(s, head, naming, &payee));
        match resolved {
            Ok((address, _)) => Ok(address),
            Err(ledger::LedgerError::State(e)) => Err(internal(e)),
            Err(e) => Err(invalid(e.to_string())),
        }
    }
}

impl ConsensusApiServer for Handlers {
    fn status(&self) -> RpcResult<ghostd_types::consensus::ConsensusStatus> {
        Ok(self.0.consensus_status())
    }

    fn get_commit(&self, height: u64) -> RpcResult<Option<CommitView>> {
        let commit = self.0.commit_certificate(height).map_err(internal)?;
        Ok(commit.map(|c| CommitView {
            height: c.height,
            round: c.round,
            block: c.block.to_hex(),
            signers: c.signatures.iter().map(|(k, _)| k.to_hex()).collect(),
            encoded: hex::encode(c.encode()),
        }))
    }
}

impl RollupApiServer for Handlers {
    fn status(&self) -> RpcResult<RollupView> {
        let rollup = self.0.read(rollup::status).map_err(internal)?;
        Ok(RollupView::from(&rollup))
    }

    fn get_batch(&self, number: u64) -> RpcResult<Option<BatchView>> {
        let record = self
            .0
            .read(|s| rollup::batch(s, number))
            .map_err(internal)?;
        Ok(record.as_ref().map(BatchView::from))
    }

    fn get_deposits(&self, from: u64, max: u64) -> RpcResult<Vec<DepositView>> {
        let max = max.min(DEPOSITS_PER_CALL_MAX);
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            let Some(event) = self
                .0
                .read(|s| rollup::deposit(s, index))
                .map_err(internal)?
            else {
                break;
            };
            out.push(DepositView::from(&event));
        }
        Ok(out)
    }
}

fn parse_did(text: &str) -> Result<DidId, ErrorObjectOwned> {
    DidId::parse(text).map_err(|e| invalid(e.to_string()))
}

/// The version a resolution asks for, or the DID Resolution error
/// `invalidOptions`.
fn version_query(options: &ResolveOptions) -> Result<VersionQuery, Value> {
    let invalid_options = || {
        serde_json::json!({
            "@context": "https://w3id.org/did-resolution/v1",
            "didDocument": null,
            "didResolutionMetadata": { "error": "invalidOptions" },
            "didDocumentMetadata": {},
        })
    };
    match (&options.version_id, &options.version_time) {
        (Some(_), Some(_)) => Err(invalid_options()),
        (Some(VersionId::Number(height)), None) => Ok(VersionQuery::Id(*height)),
        (Some(VersionId::Text(text)), None) => text
            .parse()
            .map(VersionQuery::Id)
            .map_err(|_| invalid_options()),
        (None, Some(time)) => identity::parse_time(time)
            .map(VersionQuery::Time)
            .ok_or_else(invalid_options),
        (None, None) => Ok(VersionQuery::Latest),
    }
}

/// Resolves `did` at `options` on `node`'s committed state.
fn resolve_on(
    node: &Ghostd,
    did: &str,
    options: &ResolveOptions,
) -> Result<Value, ErrorObjectOwned> {
    match version_query(options) {
        Ok(query) => node
            .read(|s| identity::resolve(s, did, query))
            .map_err(internal),
        Err(result) => Ok(result),
    }
}

#[jsonrpsee::core::async_trait]
impl IdentityApiServer for Handlers {
    fn resolve(&self, did: String, options: Option<ResolveOptions>) -> RpcResult<Value> {
        resolve_on(&self.0, &did, &options.unwrap_or_default())
    }

    fn has_permission(
        &self,
        did: String,
        permission: String,
        grantor: Option<String>,
    ) -> RpcResult<PermissionView> {
        let did = parse_did(&did)?;
        let grantor = grantor.as_deref().map(parse_did).transpose()?;
        let height = self.0.head().number;
        let grantors = self
            .0
            .read(|s| identity::has_permission(s, &did, &permission, grantor.as_ref(), height))
            .map_err(internal)?;
        Ok(PermissionView {
            held: !grantors.is_empty(),
            grantors: grantors.iter().map(DidId::to_string).collect(),
            height,
        })
    }

    fn get_grants(&self, did: String) -> RpcResult<Vec<GrantView>> {
        let did = parse_did(&did)?;
        let grants = self
            .0
            .read(|s| identity::grants(s, &did))
            .map_err(internal)?;
        Ok(grants.iter().map(GrantView::from).collect())
    }

    fn verify_token(&self, jwt: String, options: Option<VerifyOptions>) -> RpcResult<TokenVerdict> {
        let options = options.unwrap_or_default();
        if options.grantors.len() > VERIFY_GRANTORS_MAX {
            return Err(invalid(format!(
                "{} grantors named: at most {VERIFY_GRANTORS_MAX}",
                options.grantors.len()
            )));
        }
        let grantors = options
            .grantors
            .iter()
            .map(|g| parse_did(g))
            .collect::<Result<Vec<_>, _>>()?;
        let height = self.0.head().number;
        let now_s = self.0.config().clock.unix_ms() / 1000;
        let result = self
            .0
            .read(|s| {
                identity::verify_token_from(
                    s,
                    &jwt,
                    options.aud.as_deref(),
                    &grantors,
                    now_s,
                    height,
                )
            })
            .map_err(internal)?;
        Ok(TokenVerdict::new(result, height))
    }
}

#[jsonrpsee::core::async_trait]
impl NamingApiServer for Handlers {
    fn resolve(&self, name: String) -> RpcResult<Option<NameView>> {
        let height = self.0.head().number;
        let params = &self.0.genesis().naming;
        self.0
            .read(|s| {
                let Some((record, state, records)) = naming::resolve(s, &name, height, params)?
                else {
                    return Ok(None);
                };
                let did_linked = naming::did_linked(s, &record.name, &records)?;
                Ok(Some(NameView {
                    node: hex::encode(ghostd_types::naming::namehash(&record.name).0),
                    name: record.name,
                    owner: record.owner.to_hex(),
                    manager: record.manager.map(|m| m.to_hex()),
                    expires: record.expires,
                    registered: record.registered,
                    state: state.as_str().to_string(),
                    records: records.iter().map(RecordView::from).collect(),
                    did_linked,
                    height,
                }))
            })
            .map_err(|e: crate::state::StateError| internal(e))
    }

    fn reverse(&self, key: String) -> RpcResult<Option<String>> {
        let key = PublicKey::from_hex(key.strip_prefix("0x").unwrap_or(&key))
            .map_err(|_| invalid(format!("{key:?} is not a 32-byte hex key")))?;
        let height = self.0.head().number;
        self.0
            .read(|s| naming::reverse(s, &key, height, &self.0.genesis().naming))
            .map_err(internal)
    }

    fn events(&self, name: String, from: u32, max: u32) -> RpcResult<Vec<NameEventView>> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        let hash = ghostd_types::naming::namehash(&normalized);
        let events = self
            .0
            .read(|s| naming::events(s, &hash, from, max))
            .map_err(internal)?;
        Ok(events.iter().map(NameEventView::from).collect())
    }

    fn price(&self, name: String, years: u32) -> RpcResult<String> {
        let normalized =
            ghostd_types::naming::normalize(&name).map_err(|e| invalid(e.to_string()))?;
        self.0
            .genesis()
            .naming
            .price_of(&normalized, years)
            .map(|p| p.to_string())
            .ok_or_else(|| invalid("price overflows"))
    }
}

/// `GET /1.0/identifiers/{did}[?versionId=N|versionTime=T]`: the DIF Universal
/// Resolver driver convention. 200 with the resolution result, or 400
/// (`invalidDid`, `invalidOptions`), 404 (`notFound`), 501
/// (`methodNotSupported`), 500 (storage).
pub fn resolver_route(node: Ghostd) -> GetRoute {
    const RESULT: &str = "application/ld+json;profile=\"https://w3id.org/did-resolution\"";
    GetRoute {
        prefix: "/1.0/identifiers/",
        post: false,
        handler: std::sync::Arc::new(move |request| {
            let options = ResolveOptions {
                version_id: ghostplane_rpc::routes::query_param(request.query, "versionId")
                    .map(VersionId::Text),
                version_time: ghostplane_rpc::routes::query_param(request.query, "versionTime"),
            };
            match resolve_on(&node, request.tail, &options) {
                Ok(result) => {
                    let status = match identity::resolution_error(&result) {
                        None => 200,
                        Some("notFound") => 404,
                        Some("methodNotSupported") => 501,
                        Some(_) => 400,
                    };
                    RouteReply {
                        status,
                        content_type: RESULT,
                        body: result.to_string().into_bytes(),
                        max_age: None,
                    }
                }
                Err(e) => RouteReply::text(500, e.message()),
            }
        }),
    }
}

/// Builds the RPC module: the four namespaces and `system_health`.
pub fn module(node: Ghostd) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    let handlers = Handlers(node.clone());
    let mut module = RpcModule::new(());
    module.merge(GhostApiServer::into_rpc(handlers.clone()))?;
    module.merge(LedgerApiServer::into_rpc(handlers.clone()))?;
    module.merge(RollupApiServer::into_rpc(handlers.clone()))?;
    module.merge(ConsensusApiServer::into_rpc(handlers.clone()))?;
    module.merge(IdentityApiServer::into_rpc(handlers.clone()))?;
    module.merge(NamingApiServer::into_rpc(handlers))?;
    module.register_method(ghostplane_rpc::HEALTH_METHOD, move |_, _, _| {
        node.read(rollup::status).map(|_| "ok").map_err(internal)
    })?;
    Ok(module)
}

/// Starts the JSON-RPC server on the configured address; returns its handle and
/// bound address.
pub async fn serve(node: &Ghostd) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let limits = ghostplane_rpc::Limits::with_body(node.config().rpc_body_bytes_max);
    let module = module(node.clone()).map_err(|e| NodeError::Rpc(e.to_string()))?;
    let mut routes = vec![resolver_route(node.clone())];
    routes.extend(crate::dns::doh_routes(crate::dns::NameServer::new(
        node.clone(),
    )));
    ghostplane_rpc::serve_with_routes(node.config().rpc_addr, limits, module, routes)
        .await
        .map_err(|e| NodeError::Rpc(e.to_string()))
}

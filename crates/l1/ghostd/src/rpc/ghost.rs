//! The chain namespace (`ghost_*`): chain id, genesis, blocks, transaction
//! submission (single and batch) and lookup, accounts, status and the new-block
//! subscription.

use ghostd_types::api::{
    AccountView, BatchSubmitted, BlockView, GhostApiServer, HeaderView, RollupView, RpcResult,
    SEND_BATCH_MAX, StatusView, Submitted, TransactionView, TxState,
};
use ghostplane_primitives::{Codec, Hash32, PublicKey, TokenId};
use ghostplane_rpc::{internal, invalid_params as invalid};
use jsonrpsee::PendingSubscriptionSink;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::server::SubscriptionMessage;
use jsonrpsee::types::ErrorObjectOwned;
use tokio::sync::broadcast;

use crate::module::parse_address;
use crate::modules::{ledger, rollup};
use crate::node::{Ghostd, SubmitError};
use crate::types::{L1_TX_BYTES_MAX, SignedL1Transaction};

fn refused(error: &SubmitError) -> BatchSubmitted {
    BatchSubmitted {
        hash: None,
        error: Some(error.to_string()),
        code: Some(error.code()),
    }
}

fn submit_error(error: &SubmitError) -> ErrorObjectOwned {
    let refusal = match error {
        SubmitError::Refused(refused) => Some(ghostd_types::client::CallRefusal {
            module: refused.module().0,
            result_code: refused.code(),
        }),
        _ => None,
    };
    ghostplane_rpc::error(error.code(), error.to_string(), refusal)
}

/// The `ghost_*` handlers, over the node.
pub(super) struct GhostRpc {
    node: Ghostd,
}

impl GhostRpc {
    /// Handlers over `node`.
    pub(super) fn new(node: Ghostd) -> Self {
        Self { node }
    }
}

#[jsonrpsee::core::async_trait]
impl GhostApiServer for GhostRpc {
    fn chain_id(&self) -> RpcResult<u64> {
        Ok(self.node.genesis().chain_id)
    }

    fn block_number(&self) -> RpcResult<u64> {
        Ok(self.node.head().number)
    }

    fn genesis_hash(&self) -> RpcResult<String> {
        Ok(self.node.genesis().hash().to_hex())
    }

    fn get_genesis(&self) -> RpcResult<String> {
        Ok(hex::encode(ghostplane_primitives::codec::to_bytes(
            self.node.genesis(),
        )))
    }

    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>> {
        let Some(block) = self.node.block(number).map_err(internal)? else {
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
        let hash = self
            .node
            .submit_bytes(&bytes)
            .map_err(|e| submit_error(&e))?;
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
        for (slot, result) in slots.into_iter().zip(self.node.submit_batch(txs)) {
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
        if let Some(receipt) = self.node.receipt(&hash).map_err(internal)? {
            return Ok(TransactionView {
                status: TxState::Included,
                receipt: Some((&receipt).into()),
            });
        }
        let status = if self.node.is_pending(&hash) {
            TxState::Pending
        } else {
            TxState::Unknown
        };
        Ok(TransactionView {
            status,
            receipt: None,
        })
    }

    fn get_raw_transaction(&self, text: String) -> RpcResult<Option<String>> {
        let hash = Hash32::from_hex(text.strip_prefix("0x").unwrap_or(&text))
            .map_err(|_| invalid(format!("{text:?} is not a 32-byte hex hash")))?;
        let Some(receipt) = self.node.receipt(&hash).map_err(internal)? else {
            return Ok(None);
        };
        let block = self.node.block(receipt.block).map_err(internal)?;
        Ok(block
            .and_then(|b| b.transactions.into_iter().nth(receipt.index as usize))
            .map(|tx| hex::encode(ghostplane_primitives::codec::to_bytes(&tx))))
    }

    fn get_account(&self, text: String) -> RpcResult<AccountView> {
        let address = parse_address(&text)?;
        let nonce = self.node.nonce(&PublicKey(address.0)).map_err(internal)?;
        let mut balances = std::collections::BTreeMap::new();
        for token in TokenId::ALL {
            let balance = self
                .node
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
        let head = self.node.head();
        let rollup = self.node.read(rollup::status).map_err(internal)?;
        Ok(StatusView {
            chain_id: self.node.genesis().chain_id,
            head: HeaderView::from(&head),
            mempool: self.node.mempool_len(),
            rollup: RollupView::from(&rollup),
        })
    }

    async fn subscribe_new_blocks(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut blocks = self.node.subscribe();
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

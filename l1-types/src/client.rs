//! The boundary the rollup settles through: [`L1Client`], implemented over JSON-RPC
//! here ([`RpcL1`]) and by ghostd itself for a node in the same process
//! (`ghostd::EmbeddedL1`).

use std::future::Future;
use std::time::Duration;

use borsh::BorshDeserialize;
use ghostplane_primitives::{Codec, DepositEvent, Hash32, PublicKey};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::Value;

use crate::rollup::RollupState;
use crate::tx::{L1Receipt, SignedL1Transaction};

/// Why an L1 call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum L1Error {
    /// The L1 could not be reached or failed internally: retry later.
    #[error("L1 unavailable: {0}")]
    Unavailable(String),
    /// The L1 refused the transaction (typed error from ghostd).
    #[error("L1 refused the transaction ({code}): {message}")]
    Refused {
        /// ghostd's error code.
        code: i32,
        /// ghostd's message.
        message: String,
    },
    /// The L1 answered something this client cannot read.
    #[error("unexpected L1 answer: {0}")]
    Malformed(String),
}

/// What settlement needs from the L1.
pub trait L1Client: Send + Sync + 'static {
    /// The rollup module's counters.
    fn rollup_status(&self) -> impl Future<Output = Result<RollupState, L1Error>> + Send;
    /// Up to `max` queued deposits from queue index `from`.
    fn deposits(
        &self,
        from: u64,
        max: u64,
    ) -> impl Future<Output = Result<Vec<DepositEvent>, L1Error>> + Send;
    /// The next nonce of an L1 account.
    fn nonce(&self, address: PublicKey) -> impl Future<Output = Result<u64, L1Error>> + Send;
    /// Submits a transaction to the mempool.
    fn submit(
        &self,
        tx: SignedL1Transaction,
    ) -> impl Future<Output = Result<Hash32, L1Error>> + Send;
    /// The receipt of an included transaction; `Ok(None)` while pending or unknown.
    fn receipt(
        &self,
        hash: Hash32,
    ) -> impl Future<Output = Result<Option<L1Receipt>, L1Error>> + Send;
    /// Whether the transaction is waiting in the mempool.
    fn is_pending(&self, hash: Hash32) -> impl Future<Output = Result<bool, L1Error>> + Send;
}

/// A remote ghostd over JSON-RPC.
pub struct RpcL1 {
    client: HttpClient,
}

impl RpcL1 {
    /// A client for `url` (`http://127.0.0.1:8545`).
    pub fn new(url: &str) -> Result<Self, L1Error> {
        let client = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(30))
            .max_request_size(16 * 1024 * 1024)
            .max_response_size(16 * 1024 * 1024)
            .build(url)
            .map_err(|e| L1Error::Unavailable(format!("{url}: {e}")))?;
        Ok(Self { client })
    }

    /// The remote chain's genesis hash (to check it is the L1 this L2 expects).
    pub async fn genesis_hash(&self) -> Result<Hash32, L1Error> {
        let value = self.call("ghost_genesisHash", rpc_params![]).await?;
        value
            .as_str()
            .and_then(|h| Hash32::from_hex(h.strip_prefix("0x").unwrap_or(h)).ok())
            .ok_or_else(|| L1Error::Malformed(format!("genesis hash: {value}")))
    }

    async fn call(
        &self,
        method: &str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> Result<Value, L1Error> {
        self.client
            .request::<Value, _>(method, params)
            .await
            .map_err(|e| match e {
                jsonrpsee::core::ClientError::Call(object) => L1Error::Refused {
                    code: object.code(),
                    message: object.message().to_string(),
                },
                other => L1Error::Unavailable(other.to_string()),
            })
    }
}

fn encoded(value: &Value) -> Result<Vec<u8>, L1Error> {
    let text = value
        .get("encoded")
        .and_then(Value::as_str)
        .ok_or_else(|| L1Error::Malformed(format!("no \"encoded\" field in {value}")))?;
    hex::decode(text).map_err(|e| L1Error::Malformed(e.to_string()))
}

impl L1Client for RpcL1 {
    async fn rollup_status(&self) -> Result<RollupState, L1Error> {
        let value = self.call("rollup_status", rpc_params![]).await?;
        RollupState::try_from_slice(&encoded(&value)?)
            .map_err(|e| L1Error::Malformed(e.to_string()))
    }

    async fn deposits(&self, from: u64, max: u64) -> Result<Vec<DepositEvent>, L1Error> {
        let value = self
            .call("rollup_getDeposits", rpc_params![from, max])
            .await?;
        let items = value
            .as_array()
            .ok_or_else(|| L1Error::Malformed("deposits: expected an array".into()))?;
        items
            .iter()
            .map(|item| {
                DepositEvent::decode(&encoded(item)?).map_err(|e| L1Error::Malformed(e.to_string()))
            })
            .collect()
    }

    async fn nonce(&self, address: PublicKey) -> Result<u64, L1Error> {
        let value = self
            .call("ghost_getAccount", rpc_params![address.to_hex()])
            .await?;
        value
            .get("nonce")
            .and_then(Value::as_u64)
            .ok_or_else(|| L1Error::Malformed(format!("account without nonce: {value}")))
    }

    async fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, L1Error> {
        let value = self
            .call(
                "ghost_sendTransaction",
                rpc_params![hex::encode(tx.encode())],
            )
            .await?;
        value
            .get("hash")
            .and_then(Value::as_str)
            .and_then(|h| Hash32::from_hex(h).ok())
            .ok_or_else(|| L1Error::Malformed(format!("no hash in {value}")))
    }

    async fn receipt(&self, hash: Hash32) -> Result<Option<L1Receipt>, L1Error> {
        let value = self
            .call("ghost_getTransaction", rpc_params![hash.to_hex()])
            .await?;
        match value.get("receipt") {
            Some(receipt) if !receipt.is_null() => L1Receipt::decode(&encoded(receipt)?)
                .map(Some)
                .map_err(|e| L1Error::Malformed(e.to_string())),
            _ => Ok(None),
        }
    }

    async fn is_pending(&self, hash: Hash32) -> Result<bool, L1Error> {
        let value = self
            .call("ghost_getTransaction", rpc_params![hash.to_hex()])
            .await?;
        Ok(value.get("status").and_then(Value::as_str) == Some("pending"))
    }
}

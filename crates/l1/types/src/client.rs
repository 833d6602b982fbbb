//! The boundary the rollup settles through: [`L1Client`], implemented over JSON-RPC
//! here ([`RpcL1`]) and by ghostd itself for a node in the same process
//! (`ghostd::EmbeddedL1`); and [`L1History`], what rebuilding the L2 state from
//! the L1 alone reads (the genesis and each committed batch's commit).

use std::future::Future;
use std::time::Duration;

use ghostplane_primitives::{Codec, DepositEvent, ForcedWithdrawalEvent, Hash32, PublicKey};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

use crate::api::{GhostApiClient, RollupApiClient, TxState};

use crate::rollup::RollupState;
use crate::tx::{L1Receipt, ModuleId, SignedL1Transaction};

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
        /// The refusing module and its result code, when a module refused the
        /// call (the JSON-RPC error's `data`: `{"module": id, "resultCode": n}`).
        refusal: Option<(ModuleId, u16)>,
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
    /// Up to `max` queued forced withdrawals from queue index `from`.
    fn forced_withdrawals(
        &self,
        from: u64,
        max: u64,
    ) -> impl Future<Output = Result<Vec<ForcedWithdrawalEvent>, L1Error>> + Send;
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

/// What rebuilding the L2 state from the L1 alone reads (exit mode: no operator).
pub trait L1History: Send + Sync {
    /// The L1 genesis (its rollup part records the L2 genesis).
    fn genesis(&self) -> impl Future<Output = Result<crate::Genesis, L1Error>> + Send;
    /// The rollup module's counters.
    fn rollup_state(&self) -> impl Future<Output = Result<RollupState, L1Error>> + Send;
    /// Batch `number`'s commit as an L1 block holds it, checked against the
    /// module's record of the batch (its pubdata hash); `Ok(None)` if the batch is
    /// not committed.
    fn batch_commit(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Option<crate::tx::BatchCommit>, L1Error>> + Send;
}

/// Batch `number`'s commit (alone or with its proofs) among `transactions` (an
/// L1 block's): the one whose
/// pubdata hashes to `pubdata_hash` and whose root is `new_root`, as the rollup
/// module recorded them (a failed commit of the same batch in the same block
/// cannot match both).
pub fn find_batch_commit(
    transactions: impl IntoIterator<Item = SignedL1Transaction>,
    number: u64,
    pubdata_hash: &Hash32,
    new_root: &[u8; 32],
) -> Option<crate::tx::BatchCommit> {
    use crate::tx::{Call, RollupCall};
    transactions.into_iter().find_map(|tx| match tx.tx.call {
        Call::Rollup(RollupCall::Commit(commit) | RollupCall::CommitProven { commit, .. })
            if commit.number == number
                && commit.new_root.as_bytes() == new_root
                && blake3::hash(&commit.pubdata).as_bytes() == &pubdata_hash.0 =>
        {
            Some(commit)
        }
        _ => None,
    })
}

/// The `data` of a JSON-RPC error for a call a module refused.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRefusal {
    /// The refusing module's id.
    pub module: u8,
    /// Its result code.
    pub result_code: u16,
}

/// A remote ghostd over JSON-RPC, through the generated clients of [`crate::api`].
pub struct RpcL1 {
    client: HttpClient,
}

fn call_error(error: jsonrpsee::core::ClientError) -> L1Error {
    match error {
        jsonrpsee::core::ClientError::Call(object) => L1Error::Refused {
            code: object.code(),
            message: object.message().to_string(),
            refusal: object.data().and_then(|data| {
                let refusal: CallRefusal = serde_json::from_str(data.get()).ok()?;
                Some((ModuleId(refusal.module), refusal.result_code))
            }),
        },
        other => L1Error::Unavailable(other.to_string()),
    }
}

fn malformed(error: impl std::fmt::Display) -> L1Error {
    L1Error::Malformed(error.to_string())
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
        let text = GhostApiClient::genesis_hash(&self.client)
            .await
            .map_err(call_error)?;
        Hash32::from_hex(text.strip_prefix("0x").unwrap_or(&text))
            .map_err(|_| L1Error::Malformed(format!("genesis hash: {text}")))
    }

    /// The node's genesis.
    pub async fn genesis(&self) -> Result<crate::Genesis, L1Error> {
        let text = GhostApiClient::get_genesis(&self.client)
            .await
            .map_err(call_error)?;
        let bytes =
            hex::decode(&text).map_err(|_| L1Error::Malformed("genesis: not hex".into()))?;
        borsh::from_slice(&bytes).map_err(|e| L1Error::Malformed(format!("genesis: {e}")))
    }
}

impl L1Client for RpcL1 {
    async fn rollup_status(&self) -> Result<RollupState, L1Error> {
        RollupApiClient::status(&self.client)
            .await
            .map_err(call_error)?
            .decode()
            .map_err(malformed)
    }

    async fn deposits(&self, from: u64, max: u64) -> Result<Vec<DepositEvent>, L1Error> {
        RollupApiClient::get_deposits(&self.client, from, max)
            .await
            .map_err(call_error)?
            .iter()
            .map(|view| view.decode().map_err(malformed))
            .collect()
    }

    async fn forced_withdrawals(
        &self,
        from: u64,
        max: u64,
    ) -> Result<Vec<ForcedWithdrawalEvent>, L1Error> {
        RollupApiClient::get_forced_withdrawals(&self.client, from, max)
            .await
            .map_err(call_error)?
            .iter()
            .map(|view| view.decode().map_err(malformed))
            .collect()
    }

    async fn nonce(&self, address: PublicKey) -> Result<u64, L1Error> {
        let account = GhostApiClient::get_account(&self.client, address.to_hex())
            .await
            .map_err(call_error)?;
        Ok(account.nonce)
    }

    async fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, L1Error> {
        let submitted = GhostApiClient::send_transaction(&self.client, hex::encode(tx.encode()))
            .await
            .map_err(call_error)?;
        Hash32::from_hex(&submitted.hash)
            .map_err(|_| L1Error::Malformed(format!("hash {:?}", submitted.hash)))
    }

    async fn receipt(&self, hash: Hash32) -> Result<Option<L1Receipt>, L1Error> {
        let view = GhostApiClient::get_transaction(&self.client, hash.to_hex())
            .await
            .map_err(call_error)?;
        view.receipt
            .map(|receipt| receipt.decode().map_err(malformed))
            .transpose()
    }

    async fn is_pending(&self, hash: Hash32) -> Result<bool, L1Error> {
        let view = GhostApiClient::get_transaction(&self.client, hash.to_hex())
            .await
            .map_err(call_error)?;
        Ok(view.status == TxState::Pending)
    }
}

impl L1History for RpcL1 {
    async fn genesis(&self) -> Result<crate::Genesis, L1Error> {
        RpcL1::genesis(self).await
    }

    async fn rollup_state(&self) -> Result<RollupState, L1Error> {
        L1Client::rollup_status(self).await
    }

    async fn batch_commit(&self, number: u64) -> Result<Option<crate::tx::BatchCommit>, L1Error> {
        let Some(record) = RollupApiClient::get_batch(&self.client, number)
            .await
            .map_err(call_error)?
        else {
            return Ok(None);
        };
        let hash = Hash32::from_hex(
            record
                .pubdata_hash
                .strip_prefix("0x")
                .unwrap_or(&record.pubdata_hash),
        )
        .map_err(|_| L1Error::Malformed(format!("pubdata hash {:?}", record.pubdata_hash)))?;
        let block = GhostApiClient::get_block(&self.client, record.committed_at)
            .await
            .map_err(call_error)?
            .ok_or_else(|| {
                L1Error::Malformed(format!("block {} is missing", record.committed_at))
            })?;
        let mut transactions = Vec::new();
        for tx_hash in block.transactions {
            let Some(raw) = GhostApiClient::get_raw_transaction(&self.client, tx_hash)
                .await
                .map_err(call_error)?
            else {
                continue;
            };
            let bytes = hex::decode(&raw)
                .map_err(|_| L1Error::Malformed("raw transaction: not hex".into()))?;
            transactions.push(SignedL1Transaction::decode(&bytes).map_err(malformed)?);
        }
        let mut root = [0u8; 32];
        hex::decode_to_slice(
            record
                .new_root
                .strip_prefix("0x")
                .unwrap_or(&record.new_root),
            &mut root,
        )
        .map_err(|_| L1Error::Malformed(format!("batch root {:?}", record.new_root)))?;
        find_batch_commit(transactions, number, &hash, &root)
            .map(Some)
            .ok_or_else(|| {
                L1Error::Malformed(format!(
                    "block {} holds no commit of batch {number} with the recorded pubdata hash",
                    record.committed_at
                ))
            })
    }
}

//! The `l2` namespace: the typed jsonrpsee trait `L2Api`. The sequencer implements
//! the generated `L2ApiServer`; clients call the generated `L2ApiClient`.

use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;

use crate::status::TxStatus;
use crate::views::{
    Accepted, AccountQuery, AccountView, BatchItem, BlockView, CallRequest, CallView,
    FeeEstimateView, FeeHistoryView, LogFilterView, LogPageView, LogView, ProofView, ReceiptView,
    TransactionView, WithdrawalView,
};

/// Result of a handler.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// The sequencer (`l2_*`).
#[rpc(server, client, namespace = "l2")]
pub trait L2Api {
    /// Submits a signed transaction (borsh, hex); answers once it is durable.
    #[method(name = "sendTransaction")]
    async fn send_transaction(&self, tx: String) -> RpcResult<Accepted>;

    /// Submits up to `rpc_batch_max` transactions; one answer each, in order.
    #[method(name = "sendTransactionBatch")]
    async fn send_transaction_batch(&self, txs: Vec<String>) -> RpcResult<Vec<BatchItem>>;

    /// Where a transaction is.
    #[method(name = "getTransactionStatus")]
    fn get_transaction_status(&self, hash: String) -> RpcResult<TxStatus>;

    /// An included transaction: its fields and signed encoding (`null` until it is
    /// executed, or if unknown).
    #[method(name = "getTransaction")]
    fn get_transaction(&self, hash: String) -> RpcResult<Option<TransactionView>>;

    /// An executed transaction's receipt.
    #[method(name = "getTransactionReceipt")]
    fn get_transaction_receipt(&self, hash: String) -> RpcResult<Option<ReceiptView>>;

    /// A withdrawal by its transaction hash: amount, recipient and state
    /// (`failed`, `executed`, `committed`, `released`); `null` if the L2 has not
    /// executed the hash; `INVALID_PARAMS` if it is not a withdrawal.
    #[method(name = "getWithdrawal")]
    fn get_withdrawal(&self, hash: String) -> RpcResult<Option<WithdrawalView>>;

    /// An account by id or key.
    #[method(name = "getAccount")]
    fn get_account(&self, account: AccountQuery) -> RpcResult<Option<AccountView>>;

    /// A block by number.
    #[method(name = "getBlock")]
    fn get_block(&self, number: u64) -> RpcResult<Option<BlockView>>;

    /// A block by its header hash.
    #[method(name = "getBlockByHash")]
    fn get_block_by_hash(&self, hash: String) -> RpcResult<Option<BlockView>>;

    /// The receipts of a block's transactions, in order, from position `from`
    /// (default 0), at most [`BLOCK_RECEIPTS_PAGE_MAX`](crate::BLOCK_RECEIPTS_PAGE_MAX)
    /// of them (ask again from where the page ended); `null` if the block is not
    /// executed.
    #[method(name = "getBlockReceipts")]
    fn get_block_receipts(
        &self,
        number: u64,
        from: Option<u32>,
    ) -> RpcResult<Option<Vec<ReceiptView>>>;

    /// The last block's number.
    #[method(name = "blockNumber")]
    fn block_number(&self) -> RpcResult<u64>;

    /// The chain id.
    #[method(name = "chainId")]
    fn chain_id(&self) -> RpcResult<u64>;

    /// The least fee of a transfer between existing accounts, its pubdata at the
    /// L1 data price included (decimal string). Other transactions differ: ask
    /// `estimateFee`.
    #[method(name = "minFee")]
    fn min_fee(&self) -> RpcResult<String>;

    /// A transaction's fee (its unsigned canonical encoding, hex; its fee and
    /// nonce are ignored): a native transaction's floor, or a deploy or call run
    /// on the latest state as it would be included next. Errors `WOULD_BE_DROPPED`
    /// and those of `call`.
    #[method(name = "estimateFee")]
    async fn estimate_fee(&self, tx: String) -> RpcResult<FeeEstimateView>;

    /// The prices and the last `blocks` blocks' fees, fuel and pubdata (at most
    /// 1,024 blocks).
    #[method(name = "feeHistory")]
    fn fee_history(&self, blocks: u64) -> RpcResult<FeeHistoryView>;

    /// Runs a contract read-only on the latest executed state: no fee, no nonce;
    /// its writes are reported and discarded. Bounded in fuel, input and
    /// concurrency (errors `UNKNOWN_CONTRACT`, `FUEL_TOO_HIGH`, `INPUT_TOO_LARGE`,
    /// `BUSY` of `ghostplane_rpc::codes`).
    #[method(name = "call")]
    async fn call(&self, request: CallRequest) -> RpcResult<CallView>;

    /// One contract storage slot (32-byte key, hex): its value, hex, or null if
    /// the slot is absent (an empty value is `""`); `UNKNOWN_CONTRACT` if no
    /// contract is deployed there.
    #[method(name = "getStorage")]
    fn get_storage(&self, contract: String, key: String) -> RpcResult<Option<String>>;

    /// An account's leaf (`target`: an account id in decimal, a public key or a
    /// contract address in hex) and, for a contract, the storage slots `keys`
    /// (32-byte hex, at most 64), with their Merkle paths against the L1's last
    /// finalized root. `UNAVAILABLE` when no batch is final yet or the node keeps
    /// no prover tree (a sequencer without settlement).
    #[method(name = "getProof")]
    async fn get_proof(&self, target: String, keys: Option<Vec<String>>) -> RpcResult<ProofView>;

    /// One page of the events a filter selects, in chain order (bounded: 1,000
    /// logs, 100,000 index entries read, 100,000-block ranges, 16 topics); resume
    /// with `after` = the page's `next`.
    #[method(name = "getLogs")]
    fn get_logs(&self, filter: LogFilterView) -> RpcResult<LogPageView>;

    /// The QUIC server certificate, DER hex.
    #[method(name = "quicCertificate")]
    fn quic_certificate(&self) -> RpcResult<String>;

    /// New blocks as they are cut.
    #[subscription(name = "subscribeNewBlocks" => "newBlock", unsubscribe = "unsubscribeNewBlocks", item = BlockView)]
    async fn subscribe_new_blocks(&self) -> SubscriptionResult;

    /// Events as their blocks are executed, each once and in chain order; with
    /// `fromBlock`, the indexed ones from there first; with `after` (a position),
    /// those after it: a client that reconnects with its last event's position
    /// gets every later event exactly once.
    #[subscription(name = "subscribeLogs" => "log", unsubscribe = "unsubscribeLogs", item = LogView)]
    async fn subscribe_logs(&self, filter: LogFilterView) -> SubscriptionResult;

    /// A transaction's status changes, until it is final.
    #[subscription(name = "subscribeTransactionStatus" => "transactionStatus", unsubscribe = "unsubscribeTransactionStatus", item = TxStatus)]
    async fn subscribe_transaction_status(&self, hash: String) -> SubscriptionResult;
}

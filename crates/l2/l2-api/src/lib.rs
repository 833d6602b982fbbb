//! # ghostplane-l2-api
//!
//! The L2's JSON-RPC API, apart from the sequencer that serves it: the typed
//! jsonrpsee trait `L2Api` (in [`l2`]), the views its methods answer, and [`TxStatus`]. The
//! sequencer implements the generated `L2ApiServer`; the wallet, the load generator
//! and every other L2 client call the generated `L2ApiClient`, and link only this
//! crate, `ghostplane-primitives` and `ghostplane-rpc`: no executor, wasmtime, WAL or
//! RocksDB (`testing/tests/tests/layering.rs` checks it). No `l2_*` method name is
//! written outside `L2Api`.
//!
//! ## Data flow
//!
//! ```text
//! client ── L2ApiClient (jsonrpsee, HTTP/WS) ──► sequencer's L2ApiServer impl
//!        ◄── views (AccountView, BlockView, ReceiptView, ...), TxStatus ──┘
//!              built from primitives' L2BlockHeader / Receipt (From impls here)
//! ```
//!
//! ## Layout
//!
//! [`l2`]: the trait (the `l2` namespace); [`views`]: answers and queries;
//! [`status`]: [`TxStatus`].
//!
//! ## Methods
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `l2_sendTransaction` | signed tx, hex | [`Accepted`] once durable |
//! | `l2_sendTransactionBatch` | array of hex (≤ `rpc_batch_max`) | one [`BatchItem`] each |
//! | `l2_getTransactionStatus` | hash | [`TxStatus`] (`unknown` if never seen) |
//! | `l2_getTransactionReceipt` | hash | [`ReceiptView`] or `null` |
//! | `l2_getWithdrawal` | hash | [`WithdrawalView`] (amount, recipient, `failed`/`executed`/`committed`/`released`) or `null` |
//! | `l2_getAccount` | account id or public key (hex) | [`AccountView`] or `null` |
//! | `l2_getBlock` | number | [`BlockView`] or `null` |
//! | `l2_getBlockByHash` | header hash | [`BlockView`] or `null` |
//! | `l2_getBlockReceipts` | number, from position (optional) | the block's [`ReceiptView`]s in order, at most [`BLOCK_RECEIPTS_PAGE_MAX`] a call, or `null` |
//! | `l2_blockNumber` | | last block number |
//! | `l2_chainId` | | chain id |
//! | `l2_minFee` | | least fee of a transfer between existing accounts, its pubdata included (GCC base units, decimal string) |
//! | `l2_estimateFee` | unsigned tx, hex | [`FeeEstimateView`]: execution + pubdata bytes × the L1 data price; offer `total` |
//! | `l2_feeHistory` | block count (≤ [`FEE_HISTORY_BLOCKS_MAX`]) | [`FeeHistoryView`]: the prices and the last blocks' fees, gas and pubdata |
//! | `l2_call` | [`CallRequest`] | [`CallView`]: a read call on the latest state, writes discarded |
//! | `l2_getProof` | account id (decimal), public key or contract address (hex); storage keys (≤ [`PROOF_KEYS_MAX`], a contract's) | [`ProofView`]: the leaf and slots with paths against the last finalized root |
//! | `l2_getStorage` | contract, 32-byte key (hex) | the slot's value (hex) or `null` |
//! | `l2_getLogs` | [`LogFilterView`] | [`LogPageView`]: events in chain order, paged |
//! | `l2_quicCertificate` | | the QUIC server certificate, DER hex (pin it) |
//! | `l2_subscribeNewBlocks` | | notifications `l2_newBlock` ([`BlockView`]) |
//! | `l2_subscribeLogs` | [`LogFilterView`] | notifications `l2_log` ([`LogView`]), each event once, from `fromBlock` |
//! | `l2_subscribeTransactionStatus` | hash | notifications `l2_transactionStatus` ([`TxStatus`]) until final |
//!
//! Amounts are decimal strings (u128 does not fit a JSON number). Errors carry the
//! stable codes and data of the sequencer's `SubmitError`, from the project-wide
//! table `ghostplane_rpc::codes`.
//!
//! ## Invariants
//!
//! - The wire shapes here are the API: renaming a field or a status changes what
//!   every client sees. Statuses are tagged by `status` in camelCase
//!   ([`TxStatus::name`]).

pub mod l2;
pub mod status;
pub mod views;

pub use l2::{L2ApiClient, L2ApiServer, RpcResult};

/// Most receipts one `l2_getBlockReceipts` answers (a block may hold 65,536: a
/// whole block's receipts would pass the 10 MB response bound).
pub const BLOCK_RECEIPTS_PAGE_MAX: usize = 4_096;
pub use status::TxStatus;
pub use views::{
    Accepted, AccountLeafView, AccountQuery, AccountView, BatchItem, BlockFeesView, BlockView,
    CallRequest, CallView, ContractProofView, EventView, FEE_HISTORY_BLOCKS_MAX, FeeEstimateView,
    FeeHistoryView, HeaderView, HeldSlotView, ItemError, LogFilterView, LogPageView, LogView,
    PROOF_KEYS_MAX, ProofView, ReceiptView, SlotProofView, TransactionView, WithdrawalView,
    transaction_json,
};

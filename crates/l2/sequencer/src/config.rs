//! Every bound and timing of the sequencer, with its default.

use std::net::SocketAddr;
use std::path::PathBuf;

use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_primitives::{AccountId, ChainId, DEVNET_CHAIN_ID, SIGNED_TX_BYTES_MAX};
use ghostplane_proof_api::ProofSystem;

/// Sequencer settings. Every queue and request has a bound here; hitting one gives
/// the client a typed error, never unbounded memory.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Data directory: `wal/`, `state/` and the QUIC certificate live here.
    pub data_dir: PathBuf,
    /// Time: nonce-gap deadlines and block timestamps (tests pass a manual clock).
    pub clock: SharedClock,
    /// Chain id transactions must be signed for.
    pub chain_id: ChainId,
    /// The proof system of the rollup this sequencer builds blocks for (its L1
    /// genesis's `ProofParams.system`). Under [`ProofSystem::Groth16`], a development
    /// backend for native transfers, contract transactions (`Deploy`, `Call`) are
    /// refused at submission (`ContractsUnsupported`): the L1 refuses to commit a
    /// Groth16 batch that holds one. Default: [`ProofSystem::Stark`], the default
    /// backend; whoever starts a sequencer for a Groth16 rollup must say so.
    pub proof_system: ProofSystem,
    /// JSON-RPC (HTTP and WebSocket) listen address.
    pub rpc_addr: SocketAddr,
    /// QUIC ingest listen address (UDP).
    pub quic_addr: SocketAddr,
    /// Account that collects block fees.
    pub fee_account: AccountId,
    /// Longest wait from a block's first transaction to its cut (ms). Short blocks
    /// keep submit-to-executed latency low (5 ms: p50 8 ms at 10k tx/s); under load
    /// the builder is never idle and blocks grow toward `block_txs_max` by themselves.
    pub block_time_ms: u64,
    /// Cut a block as soon as it has this many transactions.
    pub block_txs_max: usize,
    /// Transactions admitted but not yet executed, over all senders.
    pub pool_txs_max: usize,
    /// Transactions admitted but not yet executed, per sender.
    pub sender_pending_max: usize,
    /// How far ahead of the sender's next nonce a transaction may be.
    pub nonce_gap_max: u64,
    /// How long a transaction may wait for the nonces before it (ms).
    pub nonce_gap_timeout_ms: u64,
    /// Largest signed transaction accepted (bytes).
    pub tx_bytes_max: usize,
    /// Decoded transactions waiting for signature verification.
    pub ingest_queue_max: usize,
    /// Signatures verified in one batch.
    pub verify_batch_max: usize,
    /// Bytes of decompressed signer keys kept between batches (about 224 per key),
    /// so a repeat sender's key is not decompressed again.
    pub verify_key_cache_bytes: usize,
    /// Transactions written to the WAL with one fsync.
    pub wal_batch_max: usize,
    /// Ordered transactions waiting for the block builder.
    pub builder_queue_max: usize,
    /// Threads of the executor.
    pub executor_threads: usize,
    /// Threads that run read calls (`l2_call`), apart from the executor's.
    pub read_call_threads: usize,
    /// Largest JSON-RPC request body (bytes).
    pub rpc_body_bytes_max: u32,
    /// Most requests in one JSON-RPC batch, and most transactions in one
    /// `l2_sendTransactionBatch`.
    pub rpc_batch_max: u32,
    /// Most JSON-RPC connections at once.
    pub rpc_connections_max: u32,
    /// Most subscriptions per WebSocket connection.
    pub subscriptions_per_connection_max: u32,
    /// Most concurrent QUIC connections.
    pub quic_connections_max: u32,
    /// Most concurrent bidirectional streams per QUIC connection.
    pub quic_streams_per_connection_max: u32,
    /// Most transactions one QUIC stream may have in flight.
    pub quic_stream_in_flight_max: usize,
    /// Most transactions one QUIC connection may have in flight over all its
    /// streams (a reply waiting to be written holds its slot).
    pub quic_connection_in_flight_max: usize,
    /// Retry hint sent with "busy" and "pool full" errors (ms).
    pub retry_after_ms: u64,
    /// Final statuses (rejected, dropped) remembered for status queries.
    pub statuses_retained_max: usize,
    /// L1 deposits waiting for a block.
    pub deposits_queue_max: usize,
    /// Bytes the pipeline may hold for transactions between submission and
    /// execution (stage queues and pool together; each transaction counts twice its
    /// encoded size plus 256 for the decoded copy and queue entries). Past it,
    /// submissions get `Busy`.
    pub pipeline_bytes_max: usize,
    /// The rollup genesis's prices (`rollup_fees` on the L1): fuel, the minimum
    /// fee of a transaction (every transaction takes one proof slot, so a
    /// zero-fee flood would cost the prover fleet and not its senders; refused at
    /// submission and dropped by the executor) and the L1 data price per pubdata
    /// byte (`ghostplane_executor::fees`).
    pub prices: ghostplane_executor::Prices,
    /// Plain `GET` routes served beside JSON-RPC on `rpc_addr` (the binary adds
    /// the block explorer at `/explorer/`). Default: none.
    pub routes: Vec<ghostplane_rpc::routes::GetRoute>,
    /// Most fuel a block's contract code may be given (the rollup genesis's
    /// `batch_fuel_max`, so every block fits a batch the L1 takes).
    pub block_fuel_max: u64,
    /// Executed plus pooled transactions that no planned batch covers yet, above
    /// which new transactions get `SettlementBehind` (only once settlement reports).
    /// Planning (the merkleizer, ~450 ops/s on 2 cores) must clear this well inside
    /// the L1's forced-inclusion window, or deposits behind it would go overdue.
    pub settlement_unplanned_txs_max: u64,
    /// Unproven chunk proof jobs above which new transactions get
    /// `SettlementBehind`; keeps the coordinator's queue from filling (a full queue
    /// stops planning and therefore commits).
    pub settlement_unproven_jobs_max: u64,
}

impl SequencerConfig {
    /// Defaults for a local node in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            clock: clock::system(),
            chain_id: DEVNET_CHAIN_ID,
            proof_system: ProofSystem::Stark,
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 9090)),
            quic_addr: SocketAddr::from(([127, 0, 0, 1], 9091)),
            fee_account: AccountId::new(0).unwrap_or(AccountId::MAX),
            block_time_ms: 5,
            block_txs_max: 8192,
            pool_txs_max: 200_000,
            sender_pending_max: 1024,
            nonce_gap_max: ghostplane_primitives::lanes::GAP_MAX_DEFAULT,
            nonce_gap_timeout_ms: 30_000,
            tx_bytes_max: SIGNED_TX_BYTES_MAX,
            ingest_queue_max: 65_536,
            verify_batch_max: 1024,
            verify_key_cache_bytes: 16 * 1024 * 1024,
            wal_batch_max: 8192,
            builder_queue_max: 65_536,
            executor_threads: std::thread::available_parallelism().map_or(2, usize::from),
            read_call_threads: 2,
            rpc_body_bytes_max: 10 * 1024 * 1024,
            rpc_batch_max: 1024,
            rpc_connections_max: 1024,
            subscriptions_per_connection_max: 64,
            quic_connections_max: 256,
            quic_streams_per_connection_max: 64,
            quic_stream_in_flight_max: 4096,
            quic_connection_in_flight_max: 8192,
            retry_after_ms: 200,
            statuses_retained_max: 100_000,
            deposits_queue_max: 4096,
            pipeline_bytes_max: 512 * 1024 * 1024,
            prices: ghostplane_executor::Prices::default(),
            routes: Vec::new(),
            block_fuel_max: ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT,
            settlement_unplanned_txs_max: 20_000,
            settlement_unproven_jobs_max: 256,
        }
    }
}

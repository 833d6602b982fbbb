//! The chain: genesis, mempool, block sealing and storage.
//!
//! One RocksDB holds blocks (by height), receipts (by transaction hash), module
//! state and the head. Sealing a block applies its transactions through state layers
//! and writes everything in one synced `WriteBatch`; a crash leaves the previous
//! block as the head. The mempool is bounded and durable: a transaction is written
//! (synced) to the `pending` column before `submit` returns its hash, removed in the
//! same write as the block that includes (or obsoletes) it, and reloaded on open.
//!
//! ## Parts
//!
//! [`Ghostd`] is the node's whole API, in one file (`ghostd.rs`); it owns its
//! parts as fields, and its methods delegate to them (the ones that span parts,
//! sealing and committing a decided block, keep the order of locks and writes):
//!
//! ```text
//! Ghostd (ghostd.rs) ── config, genesis, block broadcast, gossip hook
//!  ├─ store: ChainStore         (store.rs)    RocksDB, genesis write, head, blocks,
//!  │                                          receipts, certificates, `pending`
//!  ├─ mempool: Mutex<Mempool>   (mempool.rs)  nonce lanes, release order, limits;
//!  │                                          mempool::check / submit: admission
//!  ├─ builder: BlockBuilder     (block.rs)    executes blocks and dry runs through
//!  │                                          the module registry → Prepared
//!  ├─ seal: Mutex<()>                         one block built and committed at a time
//!  └─ consensus: StatusCell     (bft.rs)      what the BFT thread last published;
//!                                             bft::check_block, the consensus column
//! Producer (producer.rs): a thread calling Ghostd::seal every block_time_ms.
//! ```
//!
//! [`mempool`] admits transactions into nonce lanes (`primitives::lanes`, the
//! sequencer's rule) and hands released ones to blocks in release order;
//! `block` builds a block from them and commits it in one write (the seam BFT
//! consensus plugs into: build = propose, commit = decided); [`producer`] seals on
//! a fixed interval (the single devnet validator); [`bft`] checks blocks others
//! built and keeps the consensus log.
//!
//! ## Locks
//!
//! `seal` is taken before `mempool`; the mempool lock is held through an
//! admission's synced `pending` write (so a block cannot settle a transaction
//! before it is durable), and only briefly while a block is built or committed
//! (taking candidates, asking whether one skipped its dry run, settling), never
//! across a block's write. The head (inside the store) is read under either.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::PublicKey;
use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_primitives::lanes;

use crate::state::{self, StateError};
use crate::types::{L1Header, SignedL1Transaction};

pub mod bft;
pub(crate) mod block;
mod ghostd;
pub mod mempool;
pub mod producer;
mod store;

pub use ghostd::Ghostd;
pub(crate) use mempool::Pending;
pub use mempool::SubmitError;
pub use producer::Producer;

const CF_BLOCKS: &str = "blocks";
const CF_RECEIPTS: &str = "receipts";
const CF_META: &str = "meta";
const CF_PENDING: &str = "pending";
const CF_COMMITS: &str = "commits";
const CF_CONSENSUS: &str = "consensus";

/// How far ahead of its next nonce a sender may queue transactions.
pub const NONCE_GAP_MAX: u64 = lanes::GAP_MAX_DEFAULT;
/// How long (ms) a transaction may wait in the mempool for an earlier nonce
/// before it is dropped (L1 transactions pay no fee, so parked ones must not hold
/// room forever). In time, not blocks: a solo ledger node with 20 ms blocks would
/// drop them after a count of blocks in a few seconds, under a load whose
/// out-of-order arrivals fill their gaps a little later (the 500 ms blocks' 120
/// blocks were 60 s).
pub const PARKED_MS_MAX: u64 = 60_000;
/// Most bytes of transactions in one block: a BFT block must fit one peer frame
/// (64 MiB) with room to spare.
pub const BLOCK_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Table files RocksDB keeps open (least recently used ones are closed past it).
pub const L1_OPEN_FILES_MAX: i32 = 512;
/// Most transactions in one block: a consensus rule, the same on every node (a
/// node's `block_txs_max` only sets how many it puts in the blocks it builds, at
/// most this many).
pub const BLOCK_TXS_MAX: usize = 16_384;
/// Mempool room only rollup operators may take: commits and proofs must get in
/// even when others fill the pool.
pub const MEMPOOL_OPERATOR_RESERVED: usize = 64;
const META_HEAD: &[u8] = b"head";
const META_GENESIS: &[u8] = b"genesis";

/// Node settings.
#[derive(Debug, Clone)]
pub struct GhostdConfig {
    /// Where the RocksDB lives.
    pub data_dir: PathBuf,
    /// JSON-RPC (HTTP + WebSocket) address.
    pub rpc_addr: std::net::SocketAddr,
    /// Block interval (the devnet's single validator seals on this clock).
    pub block_time_ms: u64,
    /// Most transactions waiting in the mempool.
    pub mempool_max: usize,
    /// Most transactions per block this node builds (at most [`BLOCK_TXS_MAX`];
    /// blocks from others are checked against that, not this).
    pub block_txs_max: usize,
    /// Largest JSON-RPC request or response body.
    pub rpc_body_bytes_max: u32,
    /// Time: block timestamps (tests pass a manual clock).
    pub clock: SharedClock,
}

impl GhostdConfig {
    /// Defaults with data in `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            rpc_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8545)),
            block_time_ms: 500,
            mempool_max: 10_000,
            block_txs_max: 1_000,
            rpc_body_bytes_max: 16 * 1024 * 1024,
            clock: clock::system(),
        }
    }
}

/// Why the node could not open or seal.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// RocksDB failed.
    #[error("storage: {0}")]
    Db(#[from] rocksdb::Error),
    /// State failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Stored data is corrupt.
    #[error("stored {0} is corrupt")]
    Corrupt(&'static str),
    /// The genesis is invalid.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A block broke a ledger invariant (a bug): it was not committed.
    #[error("block {block} refused: {reason}")]
    Invariant {
        /// Height.
        block: u64,
        /// What broke.
        reason: String,
    },
    /// A block proposed or synced from a peer does not hold (it is not applied).
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    /// The RPC server failed to start.
    #[error("JSON-RPC server: {0}")]
    Rpc(String),
}

fn nonce_key(address: &PublicKey) -> Vec<u8> {
    state::key("account", &[b"nonce", &address.0])
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A block as stored.
#[derive(Debug, Clone, BorshSerialize, BorshDeserialize)]
pub struct StoredBlock {
    /// Header.
    pub header: L1Header,
    /// Included transactions, in order.
    pub transactions: Vec<SignedL1Transaction>,
}

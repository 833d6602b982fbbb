//! BFT consensus: ghostd as a Tendermint validator network on Malachite.
//!
//! ## Data flow
//!
//! ```text
//! peers ──QUIC (net)──► runtime thread ──► Replica ──► Engine (Malachite core-consensus)
//!                          ▲   timers        │  ▲           │ sign / verify / WAL
//!                          │                 ▼  │ verdicts  ▼
//!                          └──── Out ◄─── Ghostd: build block, execute a peer's block,
//!                                          commit decided block + commit certificate
//! ```
//!
//! - [`context`]: ghostd's types as Malachite's `Context` (the value decided is a
//!   block header hash; votes and proposals are ed25519-signed).
//! - [`engine`]: drives Malachite's state machine synchronously.
//! - [`proposals`]: the blocks of a height, bounded per round and proposer.
//! - [`replica`]: one node: proposals, execution of others' blocks before voting,
//!   commit with certificate in one synced write, sync from peers.
//! - [`wire`]: messages between nodes and write-ahead-log entries (borsh).
//! - [`net`]: QUIC transport (quinn) between nodes.
//! - [`runtime`]: the thread that owns a replica, its timers and its peers.
//!
//! ## Invariants
//!
//! - A validator executes a proposed block and finds the same header before it
//!   tells consensus the block is valid; a synced block is applied only after its
//!   commit certificate verifies against the genesis validator set.
//! - Everything consensus asks to log reaches the node's RocksDB (synced) before
//!   any message of the same step is sent; a restarted validator replays the log of
//!   its height, so it never signs a vote that conflicts with one it signed.
//! - A decided block and its certificate are written in one synced batch.
//!
//! ## Limits
//!
//! Frames are at most [`wire::FRAME_BYTES_MAX`]; gossip batches
//! [`wire::GOSSIP_TXS_MAX`]; sync pages [`wire::SYNC_BLOCKS_MAX`] blocks; blocks
//! kept per round [`proposals::BLOCKS_PER_ROUND_MAX`], for rounds up to
//! [`proposals::ROUND_LOOKAHEAD`] ahead (later ones parked, one per proposer) and
//! per proposer for the next height [`proposals::NEXT_PER_PROPOSER_MAX`]; queued inputs
//! [`engine::INPUT_QUEUE_MAX`]; one slot per genesis validator (authenticated by
//! its key) and [`net::OTHER_PEERS_MAX`] for anyone else, with
//! [`net::PEER_QUEUE_MAX`] queued messages and a byte budget each, and inbound
//! byte budgets per class (see [`net`]); events for the consensus thread
//! [`runtime::EVENTS_MAX`] from validators, [`runtime::OTHER_EVENTS_MAX`] from
//! others; sync requests one in flight per peer ([`runtime`]); gossip batches awaiting admission
//! [`runtime::GOSSIP_BATCHES_MAX`]. What passes a bound is dropped and
//! counted (`ghostd_consensus_dropped_total{reason}`).

pub mod context;
pub mod engine;
pub mod net;
pub(crate) mod proposals;
pub mod replica;
pub mod runtime;
pub mod wire;

pub use replica::{Out, PeerId, Replica};
pub use runtime::{BftConfig, BftHandle, ConsensusStatus};

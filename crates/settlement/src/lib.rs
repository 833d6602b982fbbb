//! # ghostplane-settlement
//!
//! Moves the L2's history onto the L1 and the L1's deposits into the L2.
//!
//! ## Data flow
//!
//! ```text
//! L2 store (blocks + per-block pubdata) ──► plan: merkleizer ──► chunk jobs ──► coordinator ──► workers
//!        │                                          │ (tree + jobs + plan: one write)          │ proofs
//!        │                                          ▼                                          ▼
//!        │                                    commit tx ──► L1 rollup module ◄── prove tx (roots + proofs)
//!        ▼                                                        │
//! sequencer status marks ◄── committed / finalized L2 blocks ─────┘
//! L1 deposit queue ──► deposit watcher ──► sequencer deposit feed ──► next L2 block
//! ```
//!
//! The L1 is reached through [`L1Client`] (from `ghostd-types`, so settlement does
//! not link the node): `ghostd::EmbeddedL1` for a ghostd in this process, [`RpcL1`]
//! for one over JSON-RPC.
//!
//! [`settle`] holds [`Settlement`] (one `round()`: report, commit, prove, plan);
//! [`watcher`] the deposit watcher. `tests/sim.rs` drives rounds against a seeded
//! faulty L1 with crash-rebuilds and checks the invariants below after each.
//!
//! ## Invariants
//!
//! - A batch plan is written atomically with the account tree version and the chunk
//!   jobs it produced. A plan never changes once the L1 has committed it; a plan the
//!   L1 refuses because it leaves out an overdue deposit is rewound (tree, jobs and
//!   later plans, in one write) and made again through that deposit.
//! - Every L1 step is chosen from the L1's own counters, so retries after an L1
//!   outage or a restart of either side never commit or prove a batch twice.
//! - Batches are committed and proven strictly in order.
//!
//! [`proofs`] answers the sequencer's `l2_getProof` from the same trees, read at
//! the finalized batch settlement reports to the sequencer each round.
//!
//! [`rebuild`] is settlement's other direction: the L2 account tree rebuilt from
//! the L1 alone (genesis and committed pubdata), for exit mode.
//!
//! ## Limits
//!
//! `batch_blocks_max` blocks and about `batch_pubdata_bytes_max` bytes of pubdata
//! per batch; at most `batches_in_flight_max` batches planned but not committed;
//! unproven chunk jobs bounded by the coordinator's `jobs_max`.

pub mod proofs;
pub mod rebuild;
pub mod settle;
pub mod watcher;

pub use ghostd_types::client::{L1Client, L1Error, RpcL1};
pub use proofs::TreeProofs;
pub use settle::{
    BatchPlan, CF_SETTLEMENT, Settlement, SettlementConfig, SettlementError, tree_genesis,
};
pub use watcher::{run_deposit_watcher, run_forced_watcher, run_queue_watcher};

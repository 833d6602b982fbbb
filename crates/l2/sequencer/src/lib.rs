//! # ghostplane-sequencer
//!
//! Where users meet Ghostplane: takes signed transactions over JSON-RPC (HTTP and
//! WebSocket, one port) and QUIC, makes them durable, orders them, cuts L2 blocks and
//! runs them through the executor, and tells every client exactly what happened.
//!
//! ## Data flow
//!
//! ```text
//! JSON-RPC :9090 (rpc)      QUIC :9091 (quic)
//!        └──────────┬──────────┘
//!                   ▼ Ingest::submit: size, decode, chain id, proof system
//!                   │   (no contracts under Groth16), stateless checks
//!           bounded ingest queue ──full──► Busy { retry_after_ms }
//!                   ▼ Verifier thread: ed25519 batch verification on rayon
//!                   ▼ Admission thread (single writer): nonce lanes
//!                   │   (ghostplane_primitives::lanes, a pure state machine), pool
//!                   │   bounds, same-nonce replacement (higher fee, before ordering
//!                   │   only), gap window with timeout on the config's clock;
//!                   │   sequence numbers
//!                   ▼ WalWriter thread: RocksDB group commit, one fsync ──► "accepted"
//!                   ▼ Builder thread: block every block_time_ms or block_txs_max,
//!                       executor (parallel), commit ──► "executed" / "dropped",
//!                       WAL trimmed, block broadcast to subscribers
//! ```
//!
//! No stage shares a lock with another: stages hand work over through bounded
//! crossbeam channels, and only the admission thread decides the order. When a later
//! stage falls behind, its input channel fills, the stage before it waits, and new
//! submissions get a typed "busy, retry after" instead of growing memory. See
//! [`pipeline`] for the stages and [`config::SequencerConfig`] for every bound.
//!
//! ## Layout
//!
//! The typed JSON-RPC API (`L2Api`, its views and [`TxStatus`]) lives in
//! `ghostplane-l2-api`, so that clients link it without this crate; it is re-exported
//! here as [`api`]. [`rpc`]: its server side; [`quic`]: the QUIC ingest;
//! [`pipeline`]: one type per stage, each in its own file, owning its state and
//! its channel ends (`Ingest`, `Verifier`, `Admission`, `WalWriter`, `Builder`);
//! [`wal`]: the write-ahead log; [`status`]: in-flight statuses;
//! [`l1_feed`]: what comes back from the L1 side (settlement marks, deposits);
//! [`error`]: [`SubmitError`] with codes from `ghostplane_rpc::codes`.
//!
//! ## Invariants
//!
//! - A transaction is acknowledged as accepted only after its WAL record is fsynced.
//! - After a crash the WAL is replayed in sequence order before new submissions are
//!   taken; nonces make replay idempotent, so every accepted transaction is executed
//!   at most once, and exactly once unless it is dropped (its status then says why).
//! - WAL records are deleted only after the block that executed them is committed.
//! - A sequencer configured for a Groth16 rollup (`SequencerConfig::proof_system`)
//!   admits no contract transaction (`Deploy`, `Call`): contract state is proven by
//!   the STARK only, and the L1 refuses a Groth16 batch holding one
//!   ([`SubmitError::ContractsUnsupported`]). The check is at ingest, so WAL records
//!   written under the same configuration hold none either.
//!
//! ## Transaction statuses
//!
//! `received → accepted → executed`, or `rejected { reason }` at submission, or
//! `dropped { reason }` after acceptance (replaced by a higher fee, nonce gap not
//! filled in time, or dropped by the executor).

pub mod config;
pub mod error;
pub mod l1_feed;
pub mod pipeline;
pub mod proofs;
pub mod quic;
pub mod rpc;
pub mod status;
pub mod wal;

use std::net::SocketAddr;
use std::sync::Arc;

use ghostplane_executor::{ExecError, Executor, ExecutorConfig};
use ghostplane_primitives::L2Genesis;

pub use config::SequencerConfig;
pub use error::SubmitError;
pub use ghostplane_l2_api as api;
pub use ghostplane_l2_api::TxStatus;
pub use l1_feed::{DepositFeed, FeedError, ForcedFeed, L1Feed, QueuedEvent, SettledMarks};
pub use pipeline::{BlockEvent, Ingest};
pub use proofs::{ProofError, ProofRequest, StateProofs};
pub use quic::{QuicClient, QuicReply};

/// Why the sequencer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The executor's store could not be opened or initialised.
    #[error("executor: {0}")]
    Executor(#[from] ExecError),
    /// The WAL could not be opened or read.
    #[error(transparent)]
    Wal(#[from] wal::WalError),
    /// The RPC server could not start.
    #[error("JSON-RPC server: {0}")]
    Rpc(String),
    /// The QUIC server could not start.
    #[error(transparent)]
    Quic(#[from] quic::QuicError),
    /// A pipeline thread could not be started.
    #[error("cannot start pipeline thread: {0}")]
    Thread(String),
}

/// A running sequencer: pipeline threads, RPC server and QUIC endpoint.
pub struct Sequencer {
    pipeline: pipeline::Pipeline,
    reader: ghostplane_executor::StoreReader,
    rpc: jsonrpsee::server::ServerHandle,
    quic: quinn::Endpoint,
    /// Where JSON-RPC listens.
    pub rpc_addr: SocketAddr,
    /// Where QUIC listens.
    pub quic_addr: SocketAddr,
    /// The QUIC certificate (DER), for clients to pin.
    pub quic_certificate: Vec<u8>,
}

impl Sequencer {
    /// Opens the state and WAL in `config.data_dir`, writes the genesis if the state
    /// is new, replays the WAL, and starts serving. Must run inside a tokio runtime.
    pub async fn start(
        config: SequencerConfig,
        genesis: impl Into<L2Genesis>,
    ) -> Result<Self, StartError> {
        let config = Arc::new(config);
        let executor_config = ExecutorConfig {
            threads: config.executor_threads,
            prices: config.prices,
            block_fuel_max: config.block_fuel_max,
            ..ExecutorConfig::default()
        };
        let mut executor = Executor::open(&config.data_dir.join("state"), executor_config)?;
        if executor.store().last_header().is_none() {
            executor.genesis(genesis, config.clock.unix_ms())?;
        }
        let reader = executor.store().reader();
        let read_calls = Arc::new(ghostplane_executor::ReadCaller::new(
            config.read_call_threads,
            &config
                .data_dir
                .join("state")
                .join(ghostplane_executor::ARTIFACTS_DIR),
        )?);
        let own_reader = reader.clone();
        let wal = wal::Wal::open(&config.data_dir.join("wal"))?;
        let (cert, key) = quic::load_or_create_certificate(&config.data_dir.join("quic"))?;
        let pipeline = pipeline::start(Arc::clone(&config), executor, wal)?;
        let (quic, quic_addr) = quic::serve(
            config.quic_addr,
            &cert,
            &key,
            pipeline.ingest.clone(),
            Arc::clone(&config),
        )?;
        let ctx = rpc::RpcContext {
            ingest: pipeline.ingest.clone(),
            reader,
            status: Arc::clone(&pipeline.status),
            blocks: pipeline.blocks.clone(),
            statuses: pipeline.statuses.clone(),
            marks: Arc::clone(&pipeline.marks),
            pending_nonces: Arc::clone(&pipeline.pending_nonces),
            config: Arc::clone(&config),
            quic_certificate: cert.clone(),
            read_calls,
        };
        let (rpc, rpc_addr) = rpc::serve(config.rpc_addr, ctx).await?;
        Ok(Self {
            pipeline,
            reader: own_reader,
            rpc,
            quic,
            rpc_addr,
            quic_addr,
            quic_certificate: cert,
        })
    }

    /// The submission handle (for in-process clients).
    pub fn ingest(&self) -> Ingest {
        self.pipeline.ingest.clone()
    }

    /// Where settlement hands in L1 deposits.
    pub fn deposits(&self) -> DepositFeed {
        self.pipeline.deposits.clone()
    }

    /// Where settlement hands in L1 forced withdrawals.
    pub fn forced_withdrawals(&self) -> ForcedFeed {
        self.pipeline.forced.clone()
    }

    /// Where settlement reports committed and finalized L2 blocks.
    pub fn settled_marks(&self) -> Arc<SettledMarks> {
        Arc::clone(&self.pipeline.marks)
    }

    /// Answers `l2_getProof` with `proofs` from now on (once; later calls are
    /// ignored). The devnet gives settlement's.
    pub fn set_state_proofs(&self, proofs: Arc<dyn StateProofs>) {
        self.pipeline.marks.set_state_proofs(proofs);
    }

    /// Committed blocks, receipts and state.
    pub fn reader(&self) -> ghostplane_executor::StoreReader {
        self.reader.clone()
    }

    /// New-block notifications.
    pub fn subscribe_blocks(&self) -> tokio::sync::broadcast::Receiver<BlockEvent> {
        self.pipeline.blocks.subscribe()
    }

    /// Stops serving, then stops the pipeline after its current block.
    pub async fn shutdown(self) {
        let Sequencer {
            pipeline,
            rpc,
            quic,
            ..
        } = self;
        let _ = rpc.stop();
        rpc.stopped().await;
        quic.close(0u32.into(), b"shutdown");
        // Joining the pipeline threads blocks; do it off the async workers.
        let _ = tokio::task::spawn_blocking(move || pipeline.shutdown()).await;
    }
}

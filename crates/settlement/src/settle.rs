//! The settlement pipeline: plan batches, commit them, prove them, report finality.
//!
//! Each round reads the L1's rollup counters and then does at most one step of each
//! kind, so every step is decided from durable state (the L1, the L2 store, the
//! prover's database) and a restart anywhere resumes where things are:
//!
//! 1. **plan**: new L2 blocks (up to `batch_blocks_max`, `batch_pubdata_bytes_max`)
//!    become batch `tree.version() + 1`: their ops are completed with the
//!    contracts' storage proofs and `ContractKey` tail (`StorageTrees::complete`,
//!    on the storage trees the account tree owns), the merkleizer applies them to
//!    the account tree and cuts chunk jobs; the trees, the jobs and the batch plan
//!    are written in one RocksDB write. A plan whose completed pubdata outgrows one
//!    L1 transaction is made again with half its blocks. At most `batches_in_flight_max` planned batches
//!    wait for their L1 commit; proving may lag behind (bounded by the coordinator's
//!    job limit), so deposits keep being committed within the forced-inclusion window.
//! 2. **commit**: the oldest planned batch the L1 has not committed is sent as a
//!    `Commit` transaction signed by the operator key.
//! 3. **prove**: once every chunk of the oldest committed, unfinalized batch is
//!    proven, its roots and proofs go to the L1 as a `Prove` transaction.
//! 4. **report**: the L1's committed and finalized L2 blocks move the sequencer's
//!    status marks (`committed`, `finalized`).
//!
//! Batches the L1 took back (the operator's `RevertBatches`, for a batch that can
//! never be proven) show as the L1's committed count falling: the plans from the
//! first reverted batch on are dropped with their proof jobs, and the batches are
//! planned again from the same L2 blocks. The L2 blocks stand: their transactions
//! stay executed, once. (Not covered: an L2 execution itself unprovable, which
//! would need the sequencer's state rolled back and the blocks executed again.)
//!
//! A transaction the L1 refuses is logged and retried after `retry_backoff`; one it
//! lost (node restart) is simply sent again: commits and proofs are checked against
//! the L1's counters first, so nothing is applied twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use borsh::BorshDeserialize;
use ghostd_types::tx::ModuleId;
use ghostd_types::{BatchCommit, Call, L1Outcome, L1Transaction, RollupCall, RollupState};
use ghostplane_executor::StoreReader;
use ghostplane_primitives::clock::{self, SharedClock};
use ghostplane_primitives::{
    BatchNumber, BlockNumber, ChainId, FieldBytes, Keypair, L2Genesis, PubdataOp, decode_pubdata,
    encode_pubdata,
};
use ghostplane_prover::coordinator::{JobId, JobState};
use ghostplane_prover::{AccountTree, Coordinator, Merkleizer};
use ghostplane_sequencer::SettledMarks;
use rocksdb::{DB, WriteBatch};

use ghostd_types::client::{L1Client, L1Error};

/// Column family of batch plans (in the prover's database).
pub const CF_SETTLEMENT: &str = "settlement";
const GENESIS_MARK: &[u8] = b"genesis";

/// Why settlement stopped or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    /// The L1 failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The prover side failed.
    #[error("prover: {0}")]
    Prover(#[from] ghostplane_prover::ProverError),
    /// The coordinator failed.
    #[error("coordinator: {0}")]
    Coordinator(#[from] ghostplane_prover::coordinator::CoordinatorError),
    /// The L2 store failed.
    #[error("L2 store: {0}")]
    Store(#[from] ghostplane_executor::StoreError),
    /// RocksDB failed.
    #[error("storage: {0}")]
    Db(#[from] rocksdb::Error),
    /// Stored data does not decode.
    #[error("stored {0} is corrupt")]
    Corrupt(&'static str),
    /// Pubdata failed to decode or encode.
    #[error("pubdata: {0}")]
    Pubdata(#[from] ghostplane_primitives::PubdataError),
    /// The local state and the L1 disagree in a way settlement cannot repair.
    #[error("settlement state diverged: {0}")]
    Diverged(String),
    /// The L1 refused a transaction in a block.
    #[error("L1 refused batch {batch}: {reason}")]
    Refused {
        /// Batch.
        batch: u64,
        /// ghostd's reason.
        reason: String,
        /// The refusing module and its result code, if a module refused.
        refusal: Option<(ModuleId, u16)>,
    },
    /// The L1 refused a batch because re-executing its contract transactions gave
    /// other results than this node's executor (or its traces break the rules):
    /// the same plan would be refused again, so settlement stops. The sequencer's
    /// executor and the L1 disagree (a different wasmtime, rewrite, fuel table or
    /// contract prices than the genesis's): an operator must look.
    #[error(
        "settlement stopped: the L1 refused batch {batch} on re-executing its contracts: {reason}"
    )]
    ContractsDiverged {
        /// Batch.
        batch: u64,
        /// ghostd's reason (the op and what differs).
        reason: String,
    },
    /// The L1 switched the rollup into exit mode: it takes no more commits or
    /// proofs, so settlement stops. Users claim their balances on the L1
    /// (`ghostplane exit claim`).
    #[error(
        "settlement stopped: the rollup is in exit mode on the L1 ({reason}); users claim their finalized balances with `ghostplane exit claim`"
    )]
    ExitMode {
        /// ghostd's reason.
        reason: String,
    },
}

/// Rollup result codes of refusals about contract traces, moves, storage proofs
/// and their re-execution (`ContractTraceMissing` … `ContractKey`): an honest plan
/// never gets one.
const CONTRACT_REFUSALS: std::ops::RangeInclusive<u16> = 30..=42;
/// The rollup result code of a call refused because the rollup is in exit mode.
const EXIT_MODE_REFUSAL: u16 = 43;

/// A planned batch, as stored: exactly the commit it becomes (same fields, same
/// encoding).
pub type BatchPlan = BatchCommit;

/// Settlement settings.
#[derive(Debug, Clone)]
pub struct SettlementConfig {
    /// L1 chain id (what settlement transactions are signed for).
    pub l1_chain_id: u64,
    /// L2 chain id.
    pub l2_chain_id: ChainId,
    /// Most L2 blocks per batch.
    pub batch_blocks_max: u64,
    /// Stop adding blocks to a batch once its pubdata reaches this size.
    pub batch_pubdata_bytes_max: usize,
    /// Most fuel a batch's contract transactions may be given (the rollup
    /// genesis's `batch_fuel_max`): a block that would take the batch past it
    /// starts the next batch.
    pub batch_fuel_max: u64,
    /// Wait at least this long for more blocks before cutting a batch, unless
    /// the L2 is quiet (below).
    pub batch_interval: Duration,
    /// A batch is cut at once when the newest L2 block is this old (no block
    /// came since: the L2 is quiet), so a lone transaction does not wait out the
    /// batch interval. Under load blocks keep coming and the interval rules.
    pub quiet_cut: Duration,
    /// The next batch to finalize waits up to this long after its plan for its
    /// proofs, then goes out as one `CommitProven` (final in one L1 block); a
    /// batch whose proofs take longer is committed alone and proven after.
    pub commit_grace: Duration,
    /// Most planned batches not yet committed on the L1.
    pub batches_in_flight_max: u64,
    /// Pause between rounds.
    pub poll: Duration,
    /// How long to wait for an L1 transaction to be included.
    pub inclusion_timeout: Duration,
    /// Pause after a refused or failed step.
    pub retry_backoff: Duration,
    /// Time: the batch interval and the inclusion timeout (tests pass a manual
    /// clock).
    pub clock: SharedClock,
}

impl SettlementConfig {
    /// Devnet defaults.
    pub fn new(l1_chain_id: u64, l2_chain_id: ChainId) -> Self {
        Self {
            l1_chain_id,
            l2_chain_id,
            batch_blocks_max: 256,
            batch_pubdata_bytes_max: 1024 * 1024,
            batch_fuel_max: ghostplane_primitives::trace::BATCH_FUEL_MAX_DEFAULT,
            batch_interval: Duration::from_millis(1000),
            quiet_cut: Duration::from_millis(50),
            commit_grace: Duration::from_millis(300),
            batches_in_flight_max: 8,
            poll: Duration::from_millis(200),
            inclusion_timeout: Duration::from_secs(60),
            retry_backoff: Duration::from_secs(2),
            clock: clock::system(),
        }
    }
}

/// Writes the L2 genesis accounts into the account tree (once) and returns the
/// genesis root (ids in list order, as the executor's genesis assigns them).
pub fn tree_genesis(
    db: &Arc<DB>,
    tree: &mut AccountTree,
    genesis: impl Into<L2Genesis>,
) -> Result<FieldBytes, SettlementError> {
    let cf = db
        .cf_handle(CF_SETTLEMENT)
        .ok_or(SettlementError::Corrupt("settlement column"))?;
    if db.get_cf(cf, GENESIS_MARK)?.is_none() {
        let leaves = genesis
            .into()
            .leaves()
            .ok_or_else(|| SettlementError::Diverged("too many genesis accounts".into()))?;
        tree.update_many(&leaves)?;
        let mut write = WriteBatch::default();
        write.put_cf(cf, GENESIS_MARK, [1]);
        tree.commit(0, write)?;
    }
    Ok(tree.root_at(0)?)
}

/// The settlement pipeline over one L1 client.
pub struct Settlement<C: L1Client> {
    client: Arc<C>,
    db: Arc<DB>,
    tree: AccountTree,
    coordinator: Coordinator,
    l2: StoreReader,
    marks: Arc<SettledMarks>,
    operator: Keypair,
    config: SettlementConfig,
    last_plan: Instant,
    /// Back-pressure bookkeeping: the last L2 block whose transactions are counted
    /// in `unplanned_txs` (set from the plans on the first round).
    counted_through: Option<u64>,
    /// Transactions of executed L2 blocks that no planned batch covers yet.
    unplanned_txs: u64,
    /// After a refused commit: the next plan must reach this L2 block (the one
    /// holding the deposit the L1 waits for), past the usual batch bounds.
    force_through: Option<u64>,
    /// After a plan whose completed pubdata outgrew one L1 transaction: the most
    /// blocks the next plan takes (halved each time; cleared by a plan that fits).
    blocks_limit: Option<u64>,
    /// The L1's committed count as last read (kept in [`CF_SETTLEMENT`], so a
    /// revert made while settlement was down is noticed too): commits only raise
    /// it, so a lower one means the operator reverted batches (`RevertBatches`).
    seen_committed: Option<u64>,
    /// The last batch planned by this run, and when (its commit waits up to
    /// `commit_grace` for its proofs).
    planned_at: Option<(u64, Instant)>,
    /// A batch whose `CommitProven` the L1 refused for its proofs: it is
    /// committed alone.
    proven_refused: Option<u64>,
}

/// Most pubdata one plan carries: one L1 transaction, less room for the rest of
/// the commit.
const PLAN_PUBDATA_BYTES_MAX: usize = ghostd_types::tx::L1_TX_BYTES_MAX - 64 * 1024;

/// L2 headers read per round to count the unplanned backlog (bounded work per
/// round; a long backlog is counted over several rounds).
const BACKLOG_HEADERS_PER_ROUND_MAX: u64 = 4096;

impl<C: L1Client> Settlement<C> {
    /// A pipeline; `db` is the prover's database (opened with [`CF_SETTLEMENT`]).
    pub fn new(
        client: Arc<C>,
        db: Arc<DB>,
        coordinator: Coordinator,
        l2: StoreReader,
        marks: Arc<SettledMarks>,
        operator: Keypair,
        config: SettlementConfig,
    ) -> Result<Self, SettlementError> {
        let tree = AccountTree::open(Arc::clone(&db), coordinator.backend().tree_hash())?;
        let last_plan = config.clock.now();
        let cf = db
            .cf_handle(CF_SETTLEMENT)
            .ok_or(SettlementError::Corrupt("settlement column"))?;
        let seen_committed = match db.get_cf(cf, SEEN_COMMITTED_KEY)? {
            Some(bytes) => {
                Some(u64::from_be_bytes(bytes.as_slice().try_into().map_err(
                    |_| SettlementError::Corrupt("seen committed count"),
                )?))
            }
            None => None,
        };
        Ok(Self {
            client,
            db,
            tree,
            coordinator,
            l2,
            marks,
            operator,
            config,
            last_plan,
            counted_through: None,
            unplanned_txs: 0,
            force_through: None,
            blocks_limit: None,
            seen_committed,
            planned_at: None,
            proven_refused: None,
        })
    }

    /// The last L2 block covered by a planned batch (0 before the first).
    fn planned_last_block(&self) -> Result<u64, SettlementError> {
        Ok(match self.tree.version() {
            0 => 0,
            n => {
                self.plan(n)?
                    .ok_or(SettlementError::Corrupt("missing batch plan"))?
                    .last_block
            }
        })
    }

    /// Counts the executed transactions no plan covers yet and the unproven proof
    /// jobs, and reports both to the sequencer, whose admission refuses new
    /// transactions while either is over its bound. This is what keeps execution
    /// from running ahead of settlement without limit: a backlog that planning
    /// cannot clear inside the forced-inclusion window would strand deposits.
    fn report_backlog(&mut self, head: u64) -> Result<(), SettlementError> {
        let mut counted = match self.counted_through {
            Some(counted) => counted,
            None => self.planned_last_block()?,
        };
        let until = head.min(counted.saturating_add(BACKLOG_HEADERS_PER_ROUND_MAX));
        while counted < until {
            let header = self
                .l2
                .header(BlockNumber(counted + 1))?
                .ok_or(SettlementError::Corrupt("missing L2 block"))?;
            self.unplanned_txs += u64::from(header.tx_count);
            counted += 1;
        }
        self.counted_through = Some(counted);
        let unproven = self.coordinator.unproven_jobs() as u64;
        self.marks.report_backlog(self.unplanned_txs, unproven);
        Ok(())
    }

    /// Takes the blocks of a new plan off the backlog count.
    fn backlog_planned(&mut self, last_block: u64, planned_txs: u64) {
        match self.counted_through {
            Some(counted) if counted >= last_block => {
                self.unplanned_txs = self.unplanned_txs.saturating_sub(planned_txs);
            }
            // The plan reaches past what was counted: nothing counted is left.
            _ => {
                self.unplanned_txs = 0;
                self.counted_through = Some(last_block);
            }
        }
    }

    /// A stored batch plan.
    pub fn plan(&self, number: u64) -> Result<Option<BatchPlan>, SettlementError> {
        let cf = self
            .db
            .cf_handle(CF_SETTLEMENT)
            .ok_or(SettlementError::Corrupt("settlement column"))?;
        match self.db.get_cf(cf, plan_key(number))? {
            Some(bytes) => Ok(Some(
                BatchPlan::try_from_slice(&bytes).map_err(|_| SettlementError::Corrupt("plan"))?,
            )),
            None => Ok(None),
        }
    }

    /// Runs rounds until `stop` is set. Needs a multi-threaded tokio runtime (planning
    /// runs in `block_in_place`).
    pub async fn run(mut self, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            let pause = match self.round().await {
                Ok(()) => self.config.poll,
                Err(
                    e @ (SettlementError::ContractsDiverged { .. }
                    | SettlementError::ExitMode { .. }),
                ) => {
                    tracing::error!("{e}");
                    metrics::gauge!("ghostplane_settlement_stopped").set(1.0);
                    // Nothing new would settle: the sequencer stops taking it.
                    self.marks.report_stopped(e.to_string());
                    return;
                }
                Err(e) => {
                    tracing::warn!("settlement: {e}; retrying");
                    self.config.retry_backoff
                }
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// One round: plan, commit, prove, report.
    pub async fn round(&mut self) -> Result<(), SettlementError> {
        let l1 = self.client.rollup_status().await?;
        self.marks
            .report(l1.committed_l2_block, l1.finalized_l2_block);
        self.marks
            .report_finalized_root(l1.finalized, *l1.finalized_root.as_bytes());
        let sequenced = self.l2.last_header().map(|h| h.map_or(0, |h| h.number.0));
        if let Ok(head) = &sequenced {
            metrics::gauge!("ghostplane_settlement_l2_block", "stage" => "sequenced")
                .set(*head as f64);
            // How far each settlement stage trails execution, in L2 blocks.
            metrics::gauge!("ghostplane_settlement_lag_blocks", "stage" => "committed")
                .set(head.saturating_sub(l1.committed_l2_block) as f64);
            metrics::gauge!("ghostplane_settlement_lag_blocks", "stage" => "finalized")
                .set(head.saturating_sub(l1.finalized_l2_block) as f64);
        }
        metrics::gauge!("ghostplane_settlement_l2_block", "stage" => "committed")
            .set(l1.committed_l2_block as f64);
        metrics::gauge!("ghostplane_settlement_l2_block", "stage" => "finalized")
            .set(l1.finalized_l2_block as f64);
        metrics::gauge!("ghostplane_settlement_planned_batch").set(self.tree.version() as f64);
        // Batches the L1 took back are planned again from the last one it kept,
        // with fresh proof jobs (a batch is reverted because it cannot be proven).
        if let Some(seen) = self.seen_committed
            && l1.committed < seen
            && l1.committed < self.tree.version()
        {
            let from = l1.committed + 1;
            tokio::task::block_in_place(|| self.rewind_plans(from))?;
            tracing::warn!(
                batches = seen - l1.committed,
                from,
                "the L1 reverted committed batches; planning them again"
            );
        }
        if self.seen_committed != Some(l1.committed) {
            let cf = self
                .db
                .cf_handle(CF_SETTLEMENT)
                .ok_or(SettlementError::Corrupt("settlement column"))?;
            self.db
                .put_cf(cf, SEEN_COMMITTED_KEY, l1.committed.to_be_bytes())?;
            self.seen_committed = Some(l1.committed);
        }
        if self.tree.version() < l1.committed {
            return Err(SettlementError::Diverged(format!(
                "the L1 has batch {} committed but the prover database only has {} planned",
                l1.committed,
                self.tree.version()
            )));
        }
        // Each step runs even if another failed: a proof must not wait on a planning
        // error, nor a commit on a slow prover. The first error is reported.
        let mut first_error = None;
        if let Err(e) = sequenced
            .map_err(SettlementError::from)
            .and_then(|head| self.report_backlog(head))
        {
            first_error.get_or_insert(e);
        }
        let mut finalized_now = false;
        if l1.committed < self.tree.version() {
            match self.commit(l1.committed + 1, &l1).await {
                Ok(proven) => finalized_now = proven,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if !finalized_now
            && l1.finalized < l1.committed
            && let Err(e) = self.prove(l1.finalized + 1, l1.proving_chunks).await
        {
            first_error.get_or_insert(e);
        }
        // Merkleizing is CPU and disk work: keep it off the async workers' backs.
        let plan_started = std::time::Instant::now();
        let planned = tokio::task::block_in_place(|| self.plan_next(&l1));
        metrics::histogram!("ghostplane_settlement_plan_seconds")
            .record(plan_started.elapsed().as_secs_f64());
        if let Err(e) = planned {
            first_error.get_or_insert(e);
        }
        first_error.map_or(Ok(()), Err)
    }

    fn plan_next(&mut self, l1: &RollupState) -> Result<(), SettlementError> {
        let planned = self.tree.version();
        // Bounded by what the L1 has not committed yet, never by proving: commits must
        // keep flowing so queued deposits are consumed within the forced-inclusion
        // window even when the prover fleet is behind (its backlog is bounded by the
        // coordinator's `jobs_max`).
        if planned.saturating_sub(l1.committed) >= self.config.batches_in_flight_max {
            return Ok(());
        }
        let last_block = self.planned_last_block()?;
        let head = self.l2.last_header()?.map_or(0, |h| h.number.0);
        if head <= last_block {
            self.last_plan = self.config.clock.now();
            return Ok(());
        }
        let forced = self.force_through.filter(|through| *through > last_block);
        let blocks_max = self
            .blocks_limit
            .unwrap_or(self.config.batch_blocks_max)
            .min(self.config.batch_blocks_max);
        let full = head - last_block >= blocks_max;
        let quiet = self.l2.header(BlockNumber(head))?.is_some_and(|h| {
            self.config.clock.unix_ms().saturating_sub(h.timestamp_ms)
                >= self.config.quiet_cut.as_millis() as u64
        });
        if !full
            && !quiet
            && forced.is_none()
            && self
                .config
                .clock
                .now()
                .saturating_duration_since(self.last_plan)
                < self.config.batch_interval
        {
            return Ok(());
        }
        // A forced plan goes past the usual bounds, up to what one L1 commit carries.
        let must_reach = |last: u64| forced.is_some_and(|through| last < through);
        let mut ops: Vec<PubdataOp> = Vec::new();
        let mut planned_txs = 0u64;
        let mut bytes = 0usize;
        let mut last = last_block;
        let mut fuel = 0u64;
        let mut fee_account = None;
        while last < head && (last - last_block < blocks_max || must_reach(last)) {
            let number = BlockNumber(last + 1);
            let header = self
                .l2
                .header(number)?
                .ok_or(SettlementError::Corrupt("missing L2 block"))?;
            if fee_account.is_some_and(|f| f != header.fee_account) {
                break;
            }
            let pubdata = self
                .l2
                .block_pubdata(number)?
                .ok_or(SettlementError::Corrupt("missing L2 block pubdata"))?;
            if bytes > 0
                && bytes + pubdata.len() > self.config.batch_pubdata_bytes_max
                && !must_reach(last)
            {
                break;
            }
            if bytes + pubdata.len() > PLAN_PUBDATA_BYTES_MAX {
                if must_reach(last) {
                    return Err(SettlementError::Diverged(format!(
                        "the deposit the L1 waits for is in L2 block {}, which one L1 commit cannot reach from block {}",
                        forced.unwrap_or_default(),
                        last_block + 1
                    )));
                }
                break;
            }
            // Leave room for the rest of the commit transaction.
            if pubdata.len() > ghostd_types::tx::L1_TX_BYTES_MAX - 64 * 1024 {
                return Err(SettlementError::Diverged(format!(
                    "L2 block {} has {} bytes of pubdata, more than one L1 transaction carries",
                    number.0,
                    pubdata.len()
                )));
            }
            let block_ops = decode_pubdata(&pubdata)?;
            let block_fuel = ghostplane_primitives::trace::reexecution_fuel(&block_ops);
            if fuel + block_fuel > self.config.batch_fuel_max {
                if fuel == 0 || must_reach(last) {
                    // A block alone over the bound: the sequencer bounds blocks by
                    // it, so this is a misconfiguration, not a batch to try.
                    return Err(SettlementError::Diverged(format!(
                        "L2 block {} gives its contracts {block_fuel} fuel, over the batch bound {}",
                        number.0, self.config.batch_fuel_max
                    )));
                }
                break;
            }
            fuel += block_fuel;
            bytes += pubdata.len();
            planned_txs += u64::from(header.tx_count);
            ops.extend(block_ops);
            fee_account = Some(header.fee_account);
            last += 1;
        }
        let Some(fee_account) = fee_account else {
            return Ok(());
        };
        let number = planned + 1;
        let backend = Arc::clone(self.coordinator.backend());
        // The storage proofs and ContractKey ops, then the account tree.
        let built = self.tree.storage().complete(&ops).and_then(|ops| {
            Merkleizer::new(&mut self.tree, backend.as_ref(), self.config.l2_chain_id)
                .build_batch(BatchNumber(number), fee_account, &ops)
                .map(|chunks| (ops, chunks))
        });
        let (ops, chunks) = match built {
            Ok(built) => built,
            Err(e) => {
                self.tree.discard();
                return Err(SettlementError::Diverged(format!(
                    "L2 blocks {}..={last} do not apply to the account tree: {e}",
                    last_block + 1
                )));
            }
        };
        let pubdata = encode_pubdata(&ops)?;
        // Storage proofs add to the blocks' pubdata: a batch that no longer fits
        // one L1 transaction is planned again with half its blocks.
        if pubdata.len() > PLAN_PUBDATA_BYTES_MAX {
            self.tree.discard();
            return self.replan_smaller(last_block, last, pubdata.len(), forced.is_some());
        }
        self.blocks_limit = None;
        let plan = BatchPlan {
            number,
            first_block: last_block + 1,
            last_block: last,
            fee_account,
            pubdata,
            new_root: self.tree.root()?,
            chunk_count: chunks.len() as u32,
        };
        let cf = self
            .db
            .cf_handle(CF_SETTLEMENT)
            .ok_or(SettlementError::Corrupt("settlement column"))?;
        let mut write = WriteBatch::default();
        write.put_cf(
            cf,
            plan_key(number),
            ghostplane_primitives::codec::to_bytes(&plan),
        );
        if let Err(e) = self
            .coordinator
            .enqueue_batch_with(&mut self.tree, number, chunks, write)
        {
            self.tree.discard();
            return Err(e.into());
        }
        self.last_plan = self.config.clock.now();
        self.planned_at = Some((number, self.last_plan));
        self.backlog_planned(last, planned_txs);
        if forced.is_some_and(|through| last >= through) {
            self.force_through = None;
        }
        tracing::info!(
            batch = number,
            blocks = %format!("{}..={}", plan.first_block, plan.last_block),
            ops = ops.len(),
            chunks = plan.chunk_count,
            "batch planned; chunk proofs queued"
        );
        Ok(())
    }

    /// A plan of blocks `after + 1..=last` came to `bytes` of pubdata with its
    /// storage proofs, over [`PLAN_PUBDATA_BYTES_MAX`]: the next round plans half
    /// as many blocks. One block (or a plan forced to reach a deposit) cannot
    /// shrink: an operator must look.
    fn replan_smaller(
        &mut self,
        after: u64,
        last: u64,
        bytes: usize,
        forced: bool,
    ) -> Result<(), SettlementError> {
        let blocks = last - after;
        if blocks <= 1 || forced {
            return Err(SettlementError::Diverged(format!(
                "L2 blocks {}..={last} come to {bytes} bytes of pubdata with their storage proofs, over the {PLAN_PUBDATA_BYTES_MAX} one L1 commit carries",
                after + 1
            )));
        }
        self.blocks_limit = Some(blocks / 2);
        tracing::warn!(
            blocks = %format!("{}..={last}", after + 1),
            bytes,
            "batch pubdata with storage proofs is over one L1 transaction; planning fewer blocks"
        );
        Ok(())
    }

    /// Commits batch `number`; `true` if it went out with all its proofs
    /// (`CommitProven`: final at once). The next batch to finalize waits up to
    /// `commit_grace` after its plan for its proofs (nothing is sent meanwhile).
    async fn commit(&mut self, number: u64, l1: &RollupState) -> Result<bool, SettlementError> {
        let plan = self
            .plan(number)?
            .ok_or(SettlementError::Corrupt("missing batch plan"))?;
        let (first_block, last_block) = (plan.first_block, plan.last_block);
        let mut proven = None;
        if number == l1.finalized + 1 && self.proven_refused != Some(number) {
            let budget = PLAN_PUBDATA_BYTES_MAX.saturating_sub(plan.pubdata.len());
            let (roots, proofs, _) = self.proven_chunks(number, 0, budget)?;
            if proofs.len() == plan.chunk_count as usize {
                proven = Some((roots, proofs));
            } else if plan.chunk_count <= COMMIT_PROVEN_CHUNKS_MAX
                && self.planned_at.is_some_and(|(batch, at)| {
                    batch == number
                        && self.config.clock.now().saturating_duration_since(at)
                            < self.config.commit_grace
                })
            {
                return Ok(false);
            }
        }
        let with_proofs = proven.is_some();
        let call = Call::Rollup(match proven {
            Some((chunk_roots, proofs)) => RollupCall::CommitProven {
                commit: plan,
                chunk_roots,
                proofs,
            },
            None => RollupCall::Commit(plan),
        });
        match self.send(number, call).await {
            Ok(()) => {
                tracing::info!(
                    batch = number,
                    proven = with_proofs,
                    "batch committed on L1"
                );
                Ok(with_proofs)
            }
            // Its proofs refused (order, count, a proof, a chunk, the roots): the
            // batch goes out alone next time, and is proven after.
            Err(
                refused @ SettlementError::Refused {
                    refusal: Some((module, 21..=25)),
                    ..
                },
            ) if with_proofs && module == ModuleId::ROLLUP => {
                self.proven_refused = Some(number);
                Err(refused)
            }
            Err(SettlementError::Refused {
                batch,
                reason,
                refusal: Some((module, code)),
            }) if module == ModuleId::ROLLUP && CONTRACT_REFUSALS.contains(&code) => {
                Err(SettlementError::ContractsDiverged { batch, reason })
            }

            Err(refused @ SettlementError::Refused { .. }) => {
                tokio::task::block_in_place(|| {
                    self.replan_after_refusal(number, first_block, last_block, l1)
                })?;
                Err(refused)
            }
            Err(e) => Err(e),
        }
    }

    /// The L1 refused batch `number`. Where a batch ends is settlement's choice, so
    /// if a deposit or forced withdrawal the L1 is waiting for sits in a later L2
    /// block (the batch then leaves it out, which the L1 refuses once it is
    /// overdue), the plan is
    /// dropped and made again to reach that block: the tree and the proof jobs are
    /// rewound to batch `number - 1` and the plans from `number` on are forgotten, in
    /// one write. A refusal with no such deposit would give the same plan again, so
    /// nothing is rewound then.
    fn replan_after_refusal(
        &mut self,
        number: u64,
        first_block: u64,
        last_block: u64,
        l1: &RollupState,
    ) -> Result<(), SettlementError> {
        // The L2 blocks holding the deposit and the forced withdrawal the L1 waits
        // for (each queue's next), if any.
        let mut waiting = None;
        if l1.deposits_consumed < l1.deposits_queued {
            waiting = self.block_of_l1_event(first_block, |op| {
                matches!(op, PubdataOp::Deposit { queue_index, .. } if *queue_index == l1.deposits_consumed)
            })?;
        }
        if l1.forced_consumed < l1.forced_queued {
            let forced = self.block_of_l1_event(first_block, |op| {
                matches!(op, PubdataOp::ForcedWithdraw { queue_index, .. } if *queue_index == l1.forced_consumed)
            })?;
            waiting = waiting.max(forced);
        }
        let Some(through) = waiting else {
            return Ok(());
        };
        if through <= last_block {
            return Ok(());
        }
        self.rewind_plans(number)?;
        self.force_through = Some(through);
        tracing::warn!(
            batch = number,
            deposit = l1.deposits_consumed,
            forced = l1.forced_consumed,
            through,
            "L1 refused the batch; planning it again through the L2 block holding the waiting deposit or forced withdrawal"
        );
        Ok(())
    }

    /// Forgets the plans from batch `number` on: the tree and the proof jobs go
    /// back to batch `number - 1`, and the plans are dropped, in one write.
    fn rewind_plans(&mut self, number: u64) -> Result<(), SettlementError> {
        let cf = self
            .db
            .cf_handle(CF_SETTLEMENT)
            .ok_or(SettlementError::Corrupt("settlement column"))?;
        let mut write = WriteBatch::default();
        for planned in number..=self.tree.version() {
            write.delete_cf(cf, plan_key(planned));
        }
        self.coordinator
            .stage_forget_batches_from(number, &mut write)?;
        self.tree.rewind(number - 1, write)?;
        self.coordinator.forget_batches_from(number);
        // Count the backlog afresh from the rewound plans.
        self.counted_through = None;
        self.unplanned_txs = 0;
        Ok(())
    }

    /// The L2 block, from `from` on, whose pubdata holds an op `wanted` picks (the
    /// L1 event the L1 is waiting for).
    fn block_of_l1_event(
        &self,
        from: u64,
        wanted: impl Fn(&PubdataOp) -> bool,
    ) -> Result<Option<u64>, SettlementError> {
        let head = self.l2.last_header()?.map_or(0, |h| h.number.0);
        for number in from..=head {
            let Some(pubdata) = self.l2.block_pubdata(BlockNumber(number))? else {
                continue;
            };
            if decode_pubdata(&pubdata)?.iter().any(&wanted) {
                return Ok(Some(number));
            }
        }
        Ok(None)
    }

    /// Sends the proven chunks of batch `number` from `first` (the L1's next
    /// unproven chunk) on, as many as fit one L1 transaction; the batch is final
    /// once the last chunk's proof lands.
    async fn prove(&self, number: u64, first: u32) -> Result<(), SettlementError> {
        let budget = ghostd_types::tx::L1_TX_BYTES_MAX - 64 * 1024;
        let (roots, proofs, bytes) = self.proven_chunks(number, first, budget)?;
        if proofs.is_empty() {
            return Ok(());
        }
        let count = proofs.len();
        let call = Call::Rollup(RollupCall::Prove {
            number,
            first_chunk: first,
            chunk_roots: roots,
            proofs,
        });
        self.send(number, call).await?;
        tracing::info!(
            batch = number,
            first,
            count,
            bytes,
            "chunk proofs accepted on L1"
        );
        Ok(())
    }

    /// Batch `number`'s proven chunks from `first` on, in order, as many as fit
    /// `budget` bytes: their roots, proofs and size.
    #[allow(clippy::type_complexity)]
    fn proven_chunks(
        &self,
        number: u64,
        first: u32,
        budget: usize,
    ) -> Result<(Vec<FieldBytes>, Vec<Vec<u8>>, usize), SettlementError> {
        let mut roots = Vec::new();
        let mut proofs = Vec::new();
        let mut bytes = 0usize;
        for chunk in first.. {
            let Some(record) = self.coordinator.job(JobId {
                batch: number,
                chunk,
            })?
            else {
                break;
            };
            let JobState::Proven { proof, .. } = record.state else {
                break;
            };
            if !proofs.is_empty() && bytes + proof.len() + 64 > budget {
                break;
            }
            bytes += proof.len() + 64;
            roots.push(record.job.statement.new_root);
            proofs.push(proof);
        }
        Ok((roots, proofs, bytes))
    }

    /// Signs, submits and waits for inclusion. A refusal because the rollup is in
    /// exit mode is [`SettlementError::ExitMode`].
    async fn send(&self, batch: u64, call: Call) -> Result<(), SettlementError> {
        match self.send_once(batch, call).await {
            Err(SettlementError::Refused {
                reason,
                refusal: Some((module, EXIT_MODE_REFUSAL)),
                ..
            }) if module == ModuleId::ROLLUP => Err(SettlementError::ExitMode { reason }),
            other => other,
        }
    }

    async fn send_once(&self, batch: u64, call: Call) -> Result<(), SettlementError> {
        let from = self.operator.public_key();
        let nonce = self.client.nonce(from).await?;
        let tx = L1Transaction {
            chain_id: self.config.l1_chain_id,
            from,
            nonce,
            call,
        }
        .sign(&self.operator);
        let hash = match self.client.submit(tx).await {
            Ok(hash) => hash,
            Err(L1Error::Refused {
                message, refusal, ..
            }) => {
                return Err(SettlementError::Refused {
                    batch,
                    reason: message,
                    refusal,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let started = self.config.clock.now();
        loop {
            if let Some(receipt) = self.client.receipt(hash).await? {
                return match receipt.outcome {
                    L1Outcome::Success => Ok(()),
                    L1Outcome::Failed {
                        module,
                        code,
                        message,
                    } => Err(SettlementError::Refused {
                        batch,
                        reason: message,
                        refusal: Some((module, code)),
                    }),
                };
            }
            let lost =
                !self.client.is_pending(hash).await? && self.client.receipt(hash).await?.is_none();
            let waited = self.config.clock.now().saturating_duration_since(started);
            if lost || waited > self.config.inclusion_timeout {
                // Lost (a restarted L1) or stuck: the next round decides afresh.
                return Err(L1Error::Unavailable(format!(
                    "L1 transaction {hash} for batch {batch} was not included"
                ))
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Most chunks a batch may have to wait for its proofs before its commit (a
/// quiet L2's small batch; larger ones are committed at once and proven after).
const COMMIT_PROVEN_CHUNKS_MAX: u32 = 2;

/// Where the L1's committed count, as last read, is kept.
const SEEN_COMMITTED_KEY: &[u8] = b"seen-committed";

fn plan_key(number: u64) -> Vec<u8> {
    let mut key = b"plan/".to_vec();
    key.extend_from_slice(&number.to_be_bytes());
    key
}

//! The rollup namespace (`rollup_*`): the module's counters, batches, the
//! deposit queue and contracts' storage roots, and the views it answers with.

use ghostplane_primitives::{Codec, CodecError, DepositEvent, ForcedWithdrawalEvent};
use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::{RpcResult, unhex};
use crate::rollup::{BatchRecord, RollupState};

/// Most deposits per `rollup_getDeposits` call.
pub const DEPOSITS_PER_CALL_MAX: u64 = 1024;

/// The rollup module's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupView {
    /// Last committed batch.
    pub committed_batch: u64,
    /// Last finalized batch.
    pub finalized_batch: u64,
    /// Account root after the last finalized batch (hex).
    pub finalized_root: String,
    /// Last L2 block of a committed batch.
    pub committed_l2_block: u64,
    /// Last L2 block of a finalized batch.
    pub finalized_l2_block: u64,
    /// Next L2 account id.
    pub next_account: u32,
    /// Deposits ever queued.
    pub deposits_queued: u64,
    /// Deposits consumed by committed batches.
    pub deposits_consumed: u64,
    /// Forced withdrawals ever queued.
    pub forced_queued: u64,
    /// Forced withdrawals included by committed batches.
    pub forced_consumed: u64,
    /// Hash chain over the queued deposits.
    pub deposit_queue_hash: String,
    /// [`RollupState`]'s borsh encoding, hex.
    pub encoded: String,
}

impl From<&RollupState> for RollupView {
    fn from(state: &RollupState) -> Self {
        Self {
            committed_batch: state.committed,
            finalized_batch: state.finalized,
            finalized_root: state.finalized_root.to_hex(),
            committed_l2_block: state.committed_l2_block,
            finalized_l2_block: state.finalized_l2_block,
            next_account: state.next_account,
            deposits_queued: state.deposits_queued,
            deposits_consumed: state.deposits_consumed,
            forced_queued: state.forced_queued,
            forced_consumed: state.forced_consumed,
            deposit_queue_hash: state.deposit_queue_hash.to_string(),
            encoded: hex::encode(state.encode()),
        }
    }
}

impl RollupView {
    /// The counters, from `encoded`.
    pub fn decode(&self) -> Result<RollupState, CodecError> {
        RollupState::decode(&unhex(&self.encoded)?)
    }
}

/// A contract's storage as the L1 tracks it from committed batches: what its
/// account leaf's key field commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractStorageView {
    /// Its L2 account id.
    pub account: u32,
    /// blake3 of its code (hex).
    pub code_hash: String,
    /// Its storage root, packed (hex).
    pub storage_root: String,
    /// Its account leaf's key field (hex): commits address, code hash and root.
    pub key_field: String,
}

/// A committed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// Number.
    pub number: u64,
    /// First L2 block.
    pub first_block: u64,
    /// Last L2 block.
    pub last_block: u64,
    /// blake3 of the pubdata.
    pub pubdata_hash: String,
    /// Claimed root after the batch (hex).
    pub new_root: String,
    /// Proof chunks.
    pub chunks: usize,
    /// Withdrawals released on finality.
    pub withdrawals: usize,
    /// Deposits consumed up to (exclusive).
    pub deposits_consumed_to: u64,
    /// L1 block of the commit.
    pub committed_at: u64,
    /// L1 block of the last proof, once final.
    pub finalized_at: Option<u64>,
    /// How long the answering node took to verify each chunk's proof, and its
    /// size: node-local measurements, not consensus (empty when this node did not
    /// apply the proofs since it started, or the batch is unproven).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<ChunkVerifyView>,
}

/// One chunk proof as the answering node verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChunkVerifyView {
    /// The chunk (segment) index in its batch.
    pub chunk: u32,
    /// Wall-clock verification time, microseconds.
    pub micros: u64,
    /// The proof's length, bytes.
    pub proof_bytes: u64,
}

impl From<&BatchRecord> for BatchView {
    fn from(record: &BatchRecord) -> Self {
        Self {
            number: record.number,
            first_block: record.first_block,
            last_block: record.last_block,
            pubdata_hash: record.pubdata_hash.to_string(),
            new_root: record.new_root.to_hex(),
            chunks: record.commitments.len(),
            withdrawals: record.withdrawals.len(),
            deposits_consumed_to: record.deposits_consumed_to,
            committed_at: record.committed_at,
            finalized_at: record.finalized_at,
            verify: Vec::new(),
        }
    }
}

/// Exit mode, once on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitView {
    /// The L1 block that switched it on.
    pub since: u64,
    /// Why, in words.
    pub reason: String,
    /// The last finalized batch: claims are against its root.
    pub batch: u64,
    /// That root (hex).
    pub root: String,
    /// Batches reverted.
    pub reverted: u64,
    /// Deposits refunded.
    pub refunded: u64,
}

impl From<&crate::rollup::ExitState> for ExitView {
    fn from(exit: &crate::rollup::ExitState) -> Self {
        use crate::rollup::ExitReason;
        Self {
            since: exit.since,
            reason: match exit.reason {
                ExitReason::DepositOverdue { index, queued_at } => format!(
                    "deposit {index}, queued at L1 block {queued_at}, was not included in time"
                ),
                ExitReason::ForcedWithdrawalOverdue { index, queued_at } => format!(
                    "forced withdrawal {index}, queued at L1 block {queued_at}, was not included in time"
                ),
                ExitReason::BatchUnproven {
                    number,
                    committed_at,
                } => format!(
                    "batch {number} was not proven in time (a batch has waited for a proof since L1 block {committed_at})"
                ),
            },
            batch: exit.batch,
            root: exit.root.to_string(),
            reverted: exit.reverted,
            refunded: exit.refunded,
        }
    }
}

/// A queued deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositView {
    /// Queue index.
    pub queue_index: u64,
    /// L1 block that queued it.
    pub l1_block: u64,
    /// L2 key credited (hex).
    pub recipient: String,
    /// Token symbol.
    pub token: String,
    /// Amount (decimal).
    pub amount: String,
    /// The depositing L1 transaction.
    pub l1_tx_hash: String,
    /// The [`DepositEvent`]'s encoding, hex.
    pub encoded: String,
}

impl From<&DepositEvent> for DepositView {
    fn from(event: &DepositEvent) -> Self {
        Self {
            queue_index: event.queue_index,
            l1_block: event.l1_block,
            recipient: event.recipient.to_string(),
            token: event.token.symbol().to_string(),
            amount: event.amount.to_string(),
            l1_tx_hash: event.l1_tx_hash.to_string(),
            encoded: hex::encode(event.encode()),
        }
    }
}

impl DepositView {
    /// The event, from `encoded`.
    pub fn decode(&self) -> Result<DepositEvent, CodecError> {
        DepositEvent::decode(&unhex(&self.encoded)?)
    }
}

/// A queued forced withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForcedWithdrawalView {
    /// Queue index.
    pub queue_index: u64,
    /// L1 block that queued it.
    pub l1_block: u64,
    /// The L2 account.
    pub account: u32,
    /// Token symbol.
    pub token: String,
    /// Most to withdraw (decimal; u128::MAX is "the whole balance").
    pub amount: String,
    /// L1 recipient (hex).
    pub recipient: String,
    /// The [`ForcedWithdrawalEvent`]'s encoding, hex.
    pub encoded: String,
}

impl From<&ForcedWithdrawalEvent> for ForcedWithdrawalView {
    fn from(event: &ForcedWithdrawalEvent) -> Self {
        Self {
            queue_index: event.queue_index,
            l1_block: event.l1_block,
            account: event.account.get(),
            token: event.token.symbol().to_string(),
            amount: event.amount.to_string(),
            recipient: event.recipient.to_string(),
            encoded: hex::encode(event.encode()),
        }
    }
}

impl ForcedWithdrawalView {
    /// The event, from `encoded`.
    pub fn decode(&self) -> Result<ForcedWithdrawalEvent, CodecError> {
        ForcedWithdrawalEvent::decode(&unhex(&self.encoded)?)
    }
}

/// The L2's prices (`rollup_fees`), decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeesView {
    /// GCC base units per unit of fuel.
    pub fuel_price: String,
    /// Least fee of a transaction.
    pub fee_min: String,
    /// GCC base units per pubdata byte.
    pub data_price: String,
}

/// The rollup module (`rollup_*`).
#[rpc(server, client, namespace = "rollup")]
pub trait RollupApi {
    /// The module's counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<RollupView>;

    /// A committed batch.
    #[method(name = "getBatch")]
    fn get_batch(&self, number: u64) -> RpcResult<Option<BatchView>>;

    /// The committed batch holding L2 block `l2_block` (its L1 commit and, once
    /// final, proof blocks), if one does.
    #[method(name = "getBatchOfBlock")]
    fn get_batch_of_block(&self, l2_block: u64) -> RpcResult<Option<BatchView>>;

    /// Up to `max` (≤ [`DEPOSITS_PER_CALL_MAX`]) queued deposits from `from`.
    #[method(name = "getDeposits")]
    fn get_deposits(&self, from: u64, max: u64) -> RpcResult<Vec<DepositView>>;

    /// The storage the L1 tracks for the contract at `address` (hex), if a
    /// committed batch deployed one there.
    #[method(name = "getContractStorage")]
    fn get_contract_storage(&self, address: String) -> RpcResult<Option<ContractStorageView>>;

    /// Up to `max` (≤ [`DEPOSITS_PER_CALL_MAX`]) queued forced withdrawals from
    /// queue index `from`.
    #[method(name = "getForcedWithdrawals")]
    fn get_forced_withdrawals(&self, from: u64, max: u64) -> RpcResult<Vec<ForcedWithdrawalView>>;

    /// How many forced withdrawals L2 account `account` has queued: the count its
    /// next request signs.
    #[method(name = "getForcedWithdrawalCount")]
    fn get_forced_withdrawal_count(&self, account: u32) -> RpcResult<u64>;

    /// The L2's prices fixed at genesis: fuel, the least fee, and the L1 data
    /// price per pubdata byte.
    #[method(name = "fees")]
    fn fees(&self) -> RpcResult<FeesView>;

    /// Exit mode: `null` while the rollup runs normally.
    #[method(name = "getExit")]
    fn get_exit(&self) -> RpcResult<Option<ExitView>>;

    /// Whether account `account`'s `token` (`GCC`, `SPIRIT`, `MANA`, `GHOST`) was
    /// claimed in exit mode.
    #[method(name = "exitClaimed")]
    fn exit_claimed(&self, account: u32, token: String) -> RpcResult<bool>;
}

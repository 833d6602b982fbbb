//! Why a rollup call was refused.

use ghostplane_primitives::{AccountId, Amount, FieldBytes, Nonce, PublicKey, TokenId};

use ghostd_ledger::LedgerError;
use ghostd_module::ModuleFailure;
use ghostd_module::state::StateError;
use ghostd_types::tx::ModuleId;

/// Why a rollup call was refused.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    /// Deposits of zero are refused.
    #[error("deposit amount must be greater than zero")]
    ZeroDeposit,
    /// The recipient is not a usable ed25519 key.
    #[error("deposit recipient is not a valid ed25519 public key")]
    BadRecipient,
    /// The queue is full.
    #[error("deposit queue holds {0} unconsumed deposits, the limit; retry later")]
    QueueFull(u64),
    /// A deposit to a key the L2 may not have yet, when the account ids left could
    /// not take it after the new-key deposits already queued. Deposits to keys the
    /// L1 has seen are still accepted.
    #[error(
        "deposit to a new L2 key refused: {pending} queued deposits to new keys already take the account ids left (next id {next_account}, at most {limit}); deposit to an existing L2 account"
    )]
    AccountsFull {
        /// The next L2 account id as of the last commit.
        next_account: u32,
        /// New-key deposits queued and not yet consumed.
        pending: u64,
        /// The account id limit.
        limit: u32,
    },
    /// Only operators commit.
    #[error("{0} is not a rollup operator")]
    NotOperator(PublicKey),
    /// Batches are committed in order.
    #[error("batch {got} is out of order: next batch to commit is {expected}")]
    BatchOrder {
        /// Expected number.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// L2 blocks must continue from the previous batch.
    #[error("batch covers L2 blocks {first}..={last}, but must start at block {expected}")]
    BlockRange {
        /// Expected first block.
        expected: u64,
        /// Given first.
        first: u64,
        /// Given last.
        last: u64,
    },
    /// The pubdata does not decode.
    #[error("pubdata: {0}")]
    Pubdata(#[from] ghostplane_primitives::PubdataError),
    /// An op names an account the L1 does not know.
    #[error("op {op}: L2 account {account} is not registered")]
    UnknownAccount {
        /// Op index.
        op: usize,
        /// Account.
        account: AccountId,
    },
    /// An account creation skips or reuses an id.
    #[error("op {op}: creates account {got}, but the next free id is {expected}")]
    AccountId {
        /// Op index.
        op: usize,
        /// Next free id.
        expected: u32,
        /// Given.
        got: u32,
    },
    /// A transfer creates an account id kept for deposits.
    #[error(
        "op {op}: a transfer creates account {id}, but ids from {limit} up are made only by deposits"
    )]
    AccountReserved {
        /// Op index.
        op: usize,
        /// The id created.
        id: u32,
        /// First id a transfer may not create.
        limit: u32,
    },
    /// A signature does not verify.
    #[error("op {op}: bad signature from account {account}")]
    BadSignature {
        /// Op index.
        op: usize,
        /// Sender.
        account: AccountId,
    },
    /// A fee-only op's transaction has another nonce than the tracked one.
    #[error("op {op}: nonce {got}, expected {expected}")]
    Nonce {
        /// Op index.
        op: usize,
        /// Tracked.
        expected: Nonce,
        /// Given.
        got: Nonce,
    },
    /// Deposits must be consumed in queue order, as queued.
    #[error("op {op}: deposit {got} does not match the queue (next is {expected}){detail}")]
    DepositMismatch {
        /// Op index.
        op: usize,
        /// Next unconsumed index.
        expected: u64,
        /// The op's index.
        got: u64,
        /// What differs.
        detail: &'static str,
    },
    /// A fee-only op charges more than the transaction's signed maximum fee.
    #[error("op {op}: charges a fee of {paid}, the transaction allows at most {max}")]
    FeeOverMaximum {
        /// Op index.
        op: usize,
        /// Charged.
        paid: Amount,
        /// Signed maximum.
        max: Amount,
    },
    /// A signed op's transaction fails the stateless checks the sequencer applies
    /// (a zero-amount withdrawal, say): such an op could never be proven and paid
    /// out, so the batch is refused at commit instead of stalling at prove.
    #[error("op {op}: the transaction is invalid: {reason}")]
    Stateless {
        /// Op index.
        op: usize,
        /// Why.
        reason: ghostplane_primitives::StatelessError,
    },
    /// A batch spans too many L2 blocks.
    #[error("batch spans {blocks} L2 blocks, at most {max} are allowed")]
    TooManyBlocks {
        /// Blocks in the batch.
        blocks: u64,
        /// Limit.
        max: u64,
    },
    /// A deposit waited too long.
    #[error(
        "deposit {index} was queued at L1 block {queued_at} and must be included by block {deadline}; the batch leaves it out"
    )]
    DepositOverdue {
        /// Queue index.
        index: u64,
        /// L1 block of the deposit.
        queued_at: u64,
        /// Last block it could wait to.
        deadline: u64,
    },
    /// The batch claims another chunk count than its ops need.
    #[error("batch needs {expected} chunks, commit says {got}")]
    ChunkCount {
        /// Computed.
        expected: u32,
        /// Claimed.
        got: u32,
    },
    /// An amount or counter overflows.
    #[error("op {op}: {what} overflows")]
    Overflow {
        /// Op index.
        op: usize,
        /// What.
        what: &'static str,
    },
    /// The batch to prove is not the next one.
    #[error(
        "batch {got} cannot be proven now: next batch to prove is {expected} (committed up to {committed})"
    )]
    ProveOrder {
        /// Next to prove.
        expected: u64,
        /// Given.
        got: u64,
        /// Last committed.
        committed: u64,
    },
    /// Proof and root counts must match the chunk count.
    #[error("batch has {chunks} chunks, got {roots} roots and {proofs} proofs")]
    ProofCount {
        /// Chunks.
        chunks: usize,
        /// Roots.
        roots: usize,
        /// Proofs.
        proofs: usize,
    },
    /// A chunk proof does not verify.
    #[error("chunk {chunk}: proof does not verify for its roots and commitment: {reason}")]
    BadProof {
        /// Chunk index.
        chunk: usize,
        /// What the backend said.
        reason: String,
    },
    /// Proofs must continue where the last accepted ones stopped.
    #[error("proofs must start at chunk {expected} of the batch, got {got}")]
    ChunkOrder {
        /// The next unproven chunk.
        expected: u32,
        /// The first chunk sent.
        got: u32,
    },
    /// The last chunk root is not the batch's committed root.
    #[error("chunk roots end at {got}, the batch committed {expected}")]
    RootMismatch {
        /// Committed.
        expected: FieldBytes,
        /// Reached.
        got: FieldBytes,
    },
    /// The ledger refused a movement.
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// State could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// Module state is missing (the genesis was not applied).
    #[error("rollup state is missing")]
    NoState,
    /// A contract op (a deploy or call, as a fee-only op, or a storage write) in a
    /// batch of a rollup whose genesis uses Groth16: contract state is proven by the
    /// STARK only, so such a rollup takes no contracts (its sequencer refuses them).
    #[error(
        "op {op}: a contract {what}; contract transactions need the STARK backend, this rollup's genesis uses Groth16 (a development backend for native transfers)"
    )]
    ContractsUnsupported {
        /// Op index.
        op: usize,
        /// Which contract op: `deploy`, `call` or `contract trace`.
        what: &'static str,
    },
    /// A deploy or call (a fee-only op) not followed by its contract trace.
    #[error("op {op}: a contract transaction without the contract trace after it")]
    ContractTraceMissing {
        /// Op index of the transaction.
        op: usize,
    },
    /// A contract trace that does not follow a deploy or call.
    #[error("op {op}: a contract trace that follows no deploy or call")]
    ContractTraceStray {
        /// Op index of the trace.
        op: usize,
    },
    /// A contract trace's block is outside the batch's range, or its block or time
    /// goes back from the previous trace's.
    #[error(
        "op {op}: contract trace of L2 block {block} at {time_ms} ms is out of order or outside blocks {first}..={last}"
    )]
    ContractTraceOrder {
        /// Op index of the trace.
        op: usize,
        /// Its block.
        block: u64,
        /// Its time.
        time_ms: u64,
        /// The batch's first block.
        first: u64,
        /// The batch's last block.
        last: u64,
    },
    /// The batch's contract transactions are given more fuel than the genesis
    /// allows a batch.
    #[error(
        "the batch's contract transactions are given {fuel} fuel, over the genesis's {max} per batch"
    )]
    BatchFuel {
        /// Fuel given, all the batch's traces together.
        fuel: u64,
        /// The genesis's `batch_fuel_max`.
        max: u64,
    },
    /// Re-executing a contract transaction did not give what the pubdata says.
    #[error("op {op}: re-executing the contract transaction gives another result: {reason}")]
    Reexecution {
        /// Op index of the transaction.
        op: usize,
        /// The first part that differs (fee, outcome, fuel, reads, balances,
        /// writes, events, moves), or why it would not be included.
        reason: String,
    },
    /// A signed op (a transaction) whose sender is a contract's account: contracts
    /// sign nothing.
    #[error("op {op}: account {account} is a contract's, and contracts send no transactions")]
    ContractSender {
        /// Op index.
        op: usize,
        /// The contract's account.
        account: AccountId,
    },
    /// A contract move that does not follow a deploy or call's trace (or its
    /// moves), or whose payer is not a contract's account.
    #[error(
        "op {op}: a contract move outside a contract transaction's moves, or from a user's account"
    )]
    ContractMoveStray {
        /// Op index of the move.
        op: usize,
    },
    /// A contract transaction's trace says it read a contract's balance that is not
    /// the balance the L1 tracks for that contract at that point of the batch.
    #[error(
        "op {op}: its trace reads {posted} {token} in contract account {account}, which holds {tracked} there"
    )]
    ContractBalanceRead {
        /// Op index of the transaction.
        op: usize,
        /// The contract's account.
        account: AccountId,
        /// The token.
        token: TokenId,
        /// The balance the trace claims.
        posted: Amount,
        /// The balance the L1 tracks.
        tracked: Amount,
    },
    /// A contract move of more than the contract holds.
    #[error("op {op}: contract account {account} moves {amount} {token} but holds {balance}")]
    ContractOverdraft {
        /// Op index of the move.
        op: usize,
        /// The contract's account.
        account: AccountId,
        /// The token.
        token: TokenId,
        /// What it holds.
        balance: Amount,
        /// What the move takes.
        amount: Amount,
    },
    /// The batch's fee account is a contract's: fees go to an operator's account.
    #[error("fee account {0} is a contract's account; name an operator's account")]
    FeeAccountContract(AccountId),
    /// A contract transaction's storage proof does not show the slots its trace
    /// read and wrote under the storage roots the L1 tracks: a step for another
    /// key, a read value that is not the tree's, a path that does not reach the
    /// root, a write where another key holds the path, or a write to a contract
    /// that is not deployed.
    #[error("op {op}: the storage proof does not check: {reason}")]
    StorageProof {
        /// Op index of the storage proof.
        op: usize,
        /// The first step that fails, and why.
        reason: String,
    },
    /// A storage proof where none belongs, or a contract transaction without one:
    /// each deploy or call's trace and moves end with exactly one.
    #[error("op {op}: {detail}")]
    StorageProofPlacement {
        /// Op index.
        op: usize,
        /// What is out of place.
        detail: &'static str,
    },
    /// The batch's `ContractKey` tail is not one op per contract whose storage
    /// root the batch changed, in account order, each with the key field of the
    /// root the L1 computed.
    #[error("op {op}: {detail}")]
    ContractKey {
        /// Op index (the batch's op count when an op is missing at the end).
        op: usize,
        /// What differs.
        detail: String,
    },
    /// The rollup is in exit mode: no deposit, commit or proof is taken; owners
    /// claim their balances (`ExitClaim`).
    #[error("the rollup is in exit mode since L1 block {since}: only exit claims are taken")]
    ExitMode {
        /// The L1 block that switched it on.
        since: u64,
    },
    /// Exit mode may not be switched on: no deposit or forced withdrawal is past
    /// its forced-inclusion deadline plus the exit window, and no committed batch
    /// has stayed unproven for the exit window.
    #[error(
        "exit mode is not due: no deposit or forced withdrawal is overdue past the exit window and no committed batch has stayed unproven that long"
    )]
    ExitNotDue,
    /// An exit claim refused.
    #[error("exit claim of account {account}'s {token}: {detail}")]
    ExitClaim {
        /// The account.
        account: AccountId,
        /// The token.
        token: TokenId,
        /// Why.
        detail: String,
    },
    /// A forced withdrawal request refused (nothing queued, no fee taken).
    #[error("forced withdrawal from account {account}: {detail}")]
    ForcedWithdrawal {
        /// The account.
        account: AccountId,
        /// Why.
        detail: String,
    },
    /// A batch's forced withdrawal op is not the next queued request, or does not
    /// pay it as `min(requested, balance)`.
    #[error("op {op}: expected forced withdrawal {expected}, got {got}{detail}")]
    ForcedWithdrawalMismatch {
        /// Op position.
        op: usize,
        /// The next queue index.
        expected: u64,
        /// The op's queue index.
        got: u64,
        /// What differs.
        detail: &'static str,
    },
    /// The batch leaves out a forced withdrawal past its inclusion deadline.
    #[error(
        "forced withdrawal {index} was queued at L1 block {queued_at} and must be included by block {deadline}; the batch leaves it out"
    )]
    ForcedWithdrawalOverdue {
        /// Queue index.
        index: u64,
        /// Its L1 block.
        queued_at: u64,
        /// Last block it could wait to.
        deadline: u64,
    },
    /// A revert to a batch that is finalized-or-later and before the last
    /// committed one was not asked for.
    #[error(
        "cannot revert to batch {to}: only committed, unproven batches revert (finalized {finalized}, committed {committed}), so `to` must be in {finalized}..{committed}"
    )]
    RevertRange {
        /// The batch asked for.
        to: u64,
        /// The last finalized batch.
        finalized: u64,
        /// The last committed batch.
        committed: u64,
    },
    /// The rollup genesis is not usable.
    #[error("rollup genesis: {0}")]
    Genesis(&'static str),
}

impl RollupError {
    /// The stable result code receipts carry (`L1Outcome::Failed { module: rollup,
    /// code }`), numbered in declaration order and never reused or renumbered (a
    /// new refusal takes the next number): 1 `ZeroDeposit`, 2 `BadRecipient`, 3 `QueueFull`, 4 `AccountsFull`, 5 `NotOperator`, 6 `BatchOrder`, 7 `BlockRange`, 8 `Pubdata`, 9 `UnknownAccount`, 10 `AccountId`, 11 `AccountReserved`, 12 `BadSignature`, 13 `Nonce`, 14 `DepositMismatch`, 15 `FeeOverMaximum`, 16 `Stateless`, 17 `TooManyBlocks`, 18 `DepositOverdue`, 19 `ChunkCount`, 20 `Overflow`, 21 `ProveOrder`, 22 `ProofCount`, 23 `BadProof`, 24 `ChunkOrder`, 25 `RootMismatch`, 26 `Ledger`, 27 `State`, 28 `NoState`, 29 `ContractsUnsupported`, 30 `ContractTraceMissing`, 31 `ContractTraceStray`, 32 `ContractTraceOrder`, 33 `Reexecution`, 34 `BatchFuel`, 35 `ContractSender`, 36 `ContractMoveStray`, 37 `ContractBalanceRead`, 38 `ContractOverdraft`, 39 `FeeAccountContract`, 40 `StorageProof`, 41 `StorageProofPlacement`, 42 `ContractKey`, 43 `ExitMode`, 44 `ExitNotDue`, 45 `ExitClaim`, 46 `ForcedWithdrawal`, 47 `ForcedWithdrawalMismatch`, 48 `ForcedWithdrawalOverdue`, 49 `RevertRange`, 50 `Genesis`.
    pub fn code(&self) -> u16 {
        match self {
            Self::ZeroDeposit => 1,
            Self::BadRecipient => 2,
            Self::QueueFull(_) => 3,
            Self::AccountsFull { .. } => 4,
            Self::NotOperator(_) => 5,
            Self::BatchOrder { .. } => 6,
            Self::BlockRange { .. } => 7,
            Self::Pubdata(_) => 8,
            Self::UnknownAccount { .. } => 9,
            Self::AccountId { .. } => 10,
            Self::AccountReserved { .. } => 11,
            Self::BadSignature { .. } => 12,
            Self::Nonce { .. } => 13,
            Self::DepositMismatch { .. } => 14,
            Self::FeeOverMaximum { .. } => 15,
            Self::Stateless { .. } => 16,
            Self::TooManyBlocks { .. } => 17,
            Self::DepositOverdue { .. } => 18,
            Self::ChunkCount { .. } => 19,
            Self::Overflow { .. } => 20,
            Self::ProveOrder { .. } => 21,
            Self::ProofCount { .. } => 22,
            Self::BadProof { .. } => 23,
            Self::ChunkOrder { .. } => 24,
            Self::RootMismatch { .. } => 25,
            Self::Ledger(_) => 26,
            Self::State(_) => 27,
            Self::NoState => 28,
            Self::ContractsUnsupported { .. } => 29,
            Self::ContractTraceMissing { .. } => 30,
            Self::ContractTraceStray { .. } => 31,
            Self::ContractTraceOrder { .. } => 32,
            Self::Reexecution { .. } => 33,
            Self::BatchFuel { .. } => 34,
            Self::ContractSender { .. } => 35,
            Self::ContractMoveStray { .. } => 36,
            Self::ContractBalanceRead { .. } => 37,
            Self::ContractOverdraft { .. } => 38,
            Self::FeeAccountContract(_) => 39,
            Self::StorageProof { .. } => 40,
            Self::StorageProofPlacement { .. } => 41,
            Self::ContractKey { .. } => 42,
            Self::ExitMode { .. } => 43,
            Self::ExitNotDue => 44,
            Self::ExitClaim { .. } => 45,
            Self::ForcedWithdrawal { .. } => 46,
            Self::ForcedWithdrawalMismatch { .. } => 47,
            Self::ForcedWithdrawalOverdue { .. } => 48,
            Self::RevertRange { .. } => 49,
            Self::Genesis(_) => 50,
        }
    }
}

impl ModuleFailure for RollupError {
    const MODULE: ModuleId = ModuleId::ROLLUP;

    fn result_code(&self) -> u16 {
        self.code()
    }

    fn into_storage(self) -> Result<StateError, Self> {
        match self {
            Self::State(e) | Self::Ledger(LedgerError::State(e)) => Ok(e),
            e => Err(e),
        }
    }
}

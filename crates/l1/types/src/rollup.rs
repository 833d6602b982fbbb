//! The rollup module's records: its genesis, counters, batches, L2 accounts,
//! pending withdrawals and exit mode, as stored by ghostd and read by settlement.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{
    AccountId, AccountLeaf, Amount, ChainId, Codec, FieldBytes, Hash32, L1Address, Nonce,
    PublicKey, Signature, TokenId,
};

/// How the rollup is proven: data only here; ghostd builds the verifier from it.
pub use ghostplane_proof_api::{ProofParams, ProofSystem};

/// Most L2 blocks one batch may cover.
pub const BATCH_BLOCKS_MAX: u64 = 65_536;

/// The rollup's genesis: the L2 it settles and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RollupGenesis {
    /// The L2 chain id (signatures and chunk commitments are bound to it).
    pub l2_chain_id: ChainId,
    /// Keys allowed to commit batches.
    pub operators: Vec<PublicKey>,
    /// How segments are proven (fixed for the chain's life).
    pub proof: ProofParams,
    /// Account tree root of the L2 genesis.
    pub genesis_root: FieldBytes,
    /// Keys of the L2 genesis accounts, in id order (their nonces start at 0).
    pub genesis_accounts: Vec<PublicKey>,
    /// Their balances (by `TokenId::id`), in the same order: with the keys, the
    /// whole L2 genesis, so that anyone can rebuild the L2 state from the L1 alone
    /// (exit mode). Empty: not recorded (then nothing can be rebuilt).
    pub genesis_balances: Vec<[Amount; 4]>,
    /// A deposit must be consumed by a batch committed within this many L1 blocks.
    pub forced_inclusion_blocks: u64,
    /// Most unconsumed deposits in the queue.
    pub deposit_queue_max: u64,
    /// What contract transactions cost: the L1 re-executes each with these, so the
    /// sequencer's executor must use the same.
    pub contract_fees: ContractFees,
    /// Most fuel a batch's contract transactions may be given, all together (each
    /// transaction's `ContractTrace::fuel`): bounds the L1's re-execution work per
    /// commit. At least `CALL_FUEL_MAX`; the sequencer bounds each block by it and
    /// settlement cuts batches by it, so an honest batch always fits.
    pub batch_fuel_max: u64,
    /// Exit mode may be switched on once a queued deposit is this many L1 blocks
    /// past its forced-inclusion deadline, or a committed batch has stayed
    /// unproven this many L1 blocks after its commit.
    pub exit_window_blocks: u64,
    /// GCC the L1 signer of a forced withdrawal pays (to the rollup treasury):
    /// it prices the request's L1 bytes and the operator's duty to include it.
    pub forced_withdrawal_fee: Amount,
}

impl RollupGenesis {
    /// The L2 genesis this records (`None` when its balances are not recorded, or
    /// do not match its keys one to one).
    pub fn l2_genesis(&self) -> Option<ghostplane_primitives::L2Genesis> {
        if self.genesis_balances.len() != self.genesis_accounts.len()
            || (self.genesis_balances.is_empty() && !self.genesis_accounts.is_empty())
        {
            return None;
        }
        Some(ghostplane_primitives::L2Genesis::new(
            self.genesis_accounts
                .iter()
                .copied()
                .zip(self.genesis_balances.iter().copied()),
        ))
    }
}

/// The devnet's exit window: 600 L1 blocks (5 minutes at 500 ms).
pub const EXIT_WINDOW_BLOCKS_DEFAULT: u64 = 600;

/// The devnet's forced-withdrawal fee: 1,000 GCC base units.
pub const FORCED_WITHDRAWAL_FEE_DEFAULT: Amount = 1_000;

/// A forced withdrawal's `amount` that asks for the whole balance.
pub const FORCED_WITHDRAWAL_ALL: Amount = Amount::MAX;

/// Domain of a forced withdrawal's signed message.
pub const FORCED_WITHDRAWAL_DOMAIN: &[u8; 32] = b"ghostplane/forced-withdrawal/v1\0";

/// An L2 account owner's request, queued on the L1, to withdraw
/// `min(amount, balance)` of a token to an L1 recipient. The sequencer must
/// include it within the forced-inclusion window, as a deposit; the L1 refuses a
/// later commit that skips it, and exit mode follows if nobody commits.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ForcedWithdrawalRequest {
    /// The L2 account (a user's: a contract's account signs nothing).
    pub account: AccountId,
    /// Token.
    pub token: TokenId,
    /// Most to withdraw; [`FORCED_WITHDRAWAL_ALL`] for the whole balance. Not 0.
    pub amount: Amount,
    /// Who receives it on the L1.
    pub recipient: L1Address,
    /// The account key's signature over [`ForcedWithdrawalRequest::signing_message`]
    /// with the account's request count (`rollup_getForcedWithdrawalCount`).
    pub signature: Signature,
}

impl ForcedWithdrawalRequest {
    /// What the L2 account's key signs: [`FORCED_WITHDRAWAL_DOMAIN`] ‖ L2 chain id
    /// (u64 LE) ‖ account (u32 LE) ‖ token id ‖ amount (u128 LE) ‖ recipient ‖
    /// request count (u64 LE, the account's forced withdrawals queued before).
    /// The count makes each request usable once.
    pub fn signing_message(
        chain_id: ChainId,
        account: AccountId,
        token: TokenId,
        amount: Amount,
        recipient: &L1Address,
        count: u64,
    ) -> Vec<u8> {
        let mut message = Vec::with_capacity(32 + 8 + 4 + 1 + 16 + 32 + 8);
        message.extend_from_slice(FORCED_WITHDRAWAL_DOMAIN);
        message.extend_from_slice(&chain_id.0.to_le_bytes());
        message.extend_from_slice(&account.get().to_le_bytes());
        message.push(token.id());
        message.extend_from_slice(&amount.to_le_bytes());
        message.extend_from_slice(&recipient.0);
        message.extend_from_slice(&count.to_le_bytes());
        message
    }
}

/// Why exit mode was switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ExitReason {
    /// Deposit `index`, queued at L1 block `queued_at`, was not consumed within
    /// the forced-inclusion window plus the exit window.
    DepositOverdue {
        /// Queue index.
        index: u64,
        /// Its L1 block.
        queued_at: u64,
    },
    /// Forced withdrawal `index`, queued at L1 block `queued_at`, was not
    /// included within the forced-inclusion window plus the exit window.
    ForcedWithdrawalOverdue {
        /// Queue index.
        index: u64,
        /// Its L1 block.
        queued_at: u64,
    },
    /// Batch `number` stayed unproven for the exit window after L1 block
    /// `committed_at` (since which a batch has waited for a proof: its commit, or
    /// the previous batch's proof; a revert does not move it).
    BatchUnproven {
        /// The batch.
        number: u64,
        /// Its commit's L1 block.
        committed_at: u64,
    },
}

/// The rollup in exit mode: no more commits, proofs or deposits; owners claim
/// their balances at the frozen root.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ExitState {
    /// The L1 block whose transaction switched it on.
    pub since: u64,
    /// Why.
    pub reason: ExitReason,
    /// The last finalized batch, whose root the claims are against.
    pub batch: u64,
    /// That batch's account root.
    pub root: FieldBytes,
    /// Batches reverted (committed, never proven).
    pub reverted: u64,
    /// Deposits refunded to their L1 senders (queued, or consumed by a reverted
    /// batch).
    pub refunded: u64,
}

/// Domain of an exit claim's signed message.
pub const EXIT_CLAIM_DOMAIN: &[u8; 24] = b"ghostplane/exit-claim/v1";

/// Most path siblings a claim carries (the Groth16 tree: 12 levels of 3).
pub const EXIT_PATH_NODES_MAX: usize = 64;

/// An L2 account owner's claim of one token's balance at the exit root.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ExitClaim {
    /// The L2 account.
    pub account: AccountId,
    /// Its leaf at the exit root.
    pub leaf: AccountLeaf,
    /// The leaf's path siblings, leaf level first (`arity - 1` a level, in child
    /// order, its own position left out: the prover's `AccountTree::proof_at`).
    pub path: Vec<[u8; 32]>,
    /// The token claimed (its whole balance in `leaf`).
    pub token: TokenId,
    /// Who receives it on the L1.
    pub recipient: L1Address,
    /// The leaf key's signature over [`ExitClaim::signing_message`].
    pub signature: Signature,
}

impl ExitClaim {
    /// What the L2 account's key signs: [`EXIT_CLAIM_DOMAIN`] ‖ L2 chain id (u64
    /// LE) ‖ account (u32 LE) ‖ token id ‖ recipient. The chain id stops a replay
    /// on another rollup, the recipient a front-run; a claim pays once per
    /// (account, token).
    pub fn signing_message(
        chain_id: ChainId,
        account: AccountId,
        token: TokenId,
        recipient: &L1Address,
    ) -> Vec<u8> {
        let mut message = Vec::with_capacity(24 + 8 + 4 + 1 + 32);
        message.extend_from_slice(EXIT_CLAIM_DOMAIN);
        message.extend_from_slice(&chain_id.0.to_le_bytes());
        message.extend_from_slice(&account.get().to_le_bytes());
        message.push(token.id());
        message.extend_from_slice(&recipient.0);
        message
    }
}

/// The L2's prices, fixed at genesis: what every L1 validator re-executes
/// contract transactions with, and the L1 data price the L2 charges pubdata at
/// (`ghostplane_executor::fees`; published as `rollup_fees`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractFees {
    /// GCC base units per unit of fuel.
    pub fuel_price: Amount,
    /// Least fee any included transaction pays.
    pub fee_min: Amount,
    /// GCC base units per byte of pubdata: the L1 data price. L1 transactions
    /// are free today, so this is a parameter, not a measured posting cost.
    pub data_price: Amount,
}

impl Default for ContractFees {
    /// 1 per unit of fuel, at least 1, free pubdata (tests'; `ghostplane devnet`
    /// prices pubdata with `--data-price`).
    fn default() -> Self {
        Self {
            fuel_price: 1,
            fee_min: 1,
            data_price: 0,
        }
    }
}

/// The module's counters.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct RollupState {
    /// Last committed batch (0 = none).
    pub committed: u64,
    /// Last finalized batch (0 = none).
    pub finalized: u64,
    /// Account root after the last finalized batch.
    pub finalized_root: FieldBytes,
    /// Chunks of batch `finalized + 1` already proven (proofs may arrive in parts,
    /// so that one L1 transaction never has to carry a whole batch's STARKs).
    pub proving_chunks: u32,
    /// Account root after those chunks.
    pub proving_root: FieldBytes,
    /// Last L2 block covered by a committed batch.
    pub committed_l2_block: u64,
    /// Last L2 block covered by a finalized batch.
    pub finalized_l2_block: u64,
    /// Next L2 account id (all below are registered).
    pub next_account: u32,
    /// Deposits ever queued.
    pub deposits_queued: u64,
    /// Deposits consumed by committed batches.
    pub deposits_consumed: u64,
    /// Hash chain over all queued deposits.
    pub deposit_queue_hash: Hash32,
    /// Queued deposits, not yet consumed by a commit, each to a key that the L1 had
    /// seen neither in committed pubdata, the genesis, nor an earlier deposit: each
    /// may need a new L2 account. A new-key deposit is queued only while
    /// `max(next_account, TRANSFER_ACCOUNT_ID_LIMIT)` plus this count stays within
    /// `ACCOUNT_ID_LIMIT`, so every queued deposit finds an account id.
    pub new_key_deposits_pending: u64,
    /// Forced withdrawals ever queued.
    pub forced_queued: u64,
    /// Forced withdrawals included by committed batches.
    pub forced_consumed: u64,
    /// The L1 block since which a committed batch has waited for its proof: set
    /// by a commit when none waited, moved to the block of each proof that
    /// finalizes a batch while others wait, cleared when none does. A revert
    /// never moves it, so reverting and committing again cannot put off exit
    /// mode's "batch unproven" deadline.
    pub unproven_since: Option<u64>,
}

impl Codec for RollupState {
    const ENCODED_BYTES_MAX: usize = 1024;
    const TYPE_NAME: &'static str = "rollup state";
}

/// What the L1 knows of an L2 account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L2Account {
    /// Its key (fixed at creation).
    pub key: PublicKey,
    /// Next nonce as of the last committed batch (a contract's counts its token
    /// moves).
    pub nonce: Nonce,
    /// A contract's account: it signs nothing, and pays only by `ContractMove` ops
    /// that its re-executed code makes.
    pub contract: bool,
}

/// A withdrawal waiting for its batch to be final.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Withdrawal {
    /// L1 recipient.
    pub to: L1Address,
    /// Token.
    pub token: TokenId,
    /// Amount.
    pub amount: Amount,
}

/// A committed batch.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchRecord {
    /// Number.
    pub number: u64,
    /// First L2 block.
    pub first_block: u64,
    /// Last L2 block.
    pub last_block: u64,
    /// blake3 of the pubdata.
    pub pubdata_hash: Hash32,
    /// Claimed account root after the batch.
    pub new_root: FieldBytes,
    /// Account the batch's fees go to (in every chunk's header).
    pub fee_account: AccountId,
    /// `C` of each chunk.
    pub commitments: Vec<FieldBytes>,
    /// Op slots of each chunk (what its proof's size is fixed by).
    pub slots: Vec<u32>,
    /// Withdrawals to release on finality.
    pub withdrawals: Vec<Withdrawal>,
    /// Deposits consumed up to (exclusive) after this batch.
    pub deposits_consumed_to: u64,
    /// Forced withdrawals included up to (exclusive) after this batch.
    pub forced_consumed_to: u64,
    /// L1 block of the commit.
    pub committed_at: u64,
    /// L1 block of the proof, once final.
    pub finalized_at: Option<u64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The claim message is the one `docs/state-commitment.md` specifies (its
    /// `claim_message` vector, which the prover's vector test rebuilds from the
    /// document's rule).
    #[test]
    fn the_claim_message_is_the_documented_one() {
        let recipient =
            L1Address::from_hex("d6016249b6ccd2cf64af8dc545bb4f2164a4cd319b45b643c92bada1e2371024")
                .unwrap();
        let message = ExitClaim::signing_message(
            ghostplane_primitives::DEVNET_CHAIN_ID,
            AccountId::new(1).unwrap(),
            TokenId::Gcc,
            &recipient,
        );
        assert_eq!(
            hex::encode(message),
            "67686f7374706c616e652f657869742d636c61696d2f7631736f6867000000000100000000d6016249b6ccd2cf64af8dc545bb4f2164a4cd319b45b643c92bada1e2371024"
        );
    }
}

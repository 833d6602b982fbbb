//! The rollup module: the bridge between the L1 ledger and the Ghostplane L2.
//!
//! - **Deposits** lock tokens from the sender's ledger account in the bridge escrow
//!   and append a [`DepositEvent`] to a queue, hash-chained (`h' = blake3(h ‖ event)`).
//! - **Commit** (operator only) takes batch `n = committed + 1`: decodes its pubdata;
//!   for every signed op, rebuilds the L2 transaction from the sender's key
//!   (registered by earlier pubdata or the genesis) and the nonce this module tracks,
//!   and verifies its ed25519 signature (batch verification, the sequencer's rule); checks that deposits
//!   are consumed in queue order with the queued recipient, token and amount, and
//!   that no deposit left in the queue is older than `forced_inclusion_blocks`;
//!   registers created accounts (ids must be dense); cuts the ops into chunks exactly
//!   as the prover's merkleizer does and records each chunk's commitment `C` (the
//!   genesis backend's hash) and slot count, and the claimed new root. Nothing about
//!   balances is trusted here: the proofs cover them.
//! - **Prove** (anyone) takes chunks of batch `finalized + 1` from its next unproven
//!   one (`proving_chunks`): rebuilds each chunk's statement `(root_{i-1}, root_i,
//!   header, C_i, slots)`, where `root_0` is the last finalized root, and verifies the
//!   proofs in parallel with the genesis's [`ProofBackend`] (a STARK or Groth16).
//!   When the last chunk is proven and the roots end at the batch's claimed root, the
//!   batch is final and its withdrawals are released from the escrow to their L1
//!   recipients. Proofs may come in several transactions, so that STARK proofs
//!   (hundreds of KB each) never need one larger than the L1 transaction limit.
//!
//! Any failed check returns a [`RollupError`]; the transaction's state layer is
//! dropped, so a forged batch changes nothing.
//!
//! Limits: the deposit queue holds at most `deposit_queue_max` unconsumed deposits;
//! a batch's pubdata is bounded by the L1 transaction size.
//!
//! Not built yet: reverting committed batches that can never be proven, and an
//! exit ("escape hatch") mode when the operator stops including deposits.

use ghostplane_primitives::{
    AccountId, Amount, BatchNumber, ChainId, DepositEvent, FieldBytes, Hash32, L1Address, Nonce,
    PubdataOp, PublicKey, SignedTransaction, TokenId, decode_pubdata,
};
use ghostplane_prover::{ChunkHeader, ChunkOp, CutError, Cutter, OpKind, ProofBackend, Statement};
use rayon::prelude::*;

use crate::modules::ledger::{self, LedgerError, LedgerTransfer, TransferCode};
use crate::state::{self, Layer, Read, StateError};
use crate::types::BatchCommit;

const PREFIX: &str = "rollup";
/// The smallest signature sub-batch the commit check verifies on one thread (the
/// batch equation's multiscalar multiplication pays off with size).
const SIGNATURE_BATCH_MIN: usize = 64;

pub use ghostd_types::rollup::{
    BATCH_BLOCKS_MAX, BatchRecord, L2Account, ProofParams, RollupGenesis, RollupState, Withdrawal,
};

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
}

fn state_key() -> Vec<u8> {
    state::key(PREFIX, &[b"state"])
}

fn account_key(id: AccountId) -> Vec<u8> {
    state::key(PREFIX, &[b"account", &id.get().to_be_bytes()])
}

fn deposit_key(index: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"deposit", &index.to_be_bytes()])
}

fn batch_key(number: u64) -> Vec<u8> {
    state::key(PREFIX, &[b"batch", &number.to_be_bytes()])
}

/// The module's counters.
pub fn status(state: &dyn Read) -> Result<RollupState, RollupError> {
    state::get(state, &state_key())?.ok_or(RollupError::NoState)
}

/// A committed batch.
pub fn batch(state: &dyn Read, number: u64) -> Result<Option<BatchRecord>, StateError> {
    state::get(state, &batch_key(number))
}

/// A queued deposit.
pub fn deposit(state: &dyn Read, index: u64) -> Result<Option<DepositEvent>, StateError> {
    state::get(state, &deposit_key(index))
}

/// What the L1 knows of an L2 account.
pub fn l2_account(state: &dyn Read, id: AccountId) -> Result<Option<L2Account>, StateError> {
    state::get(state, &account_key(id))
}

/// Writes the genesis state.
pub fn apply_genesis(state: &mut Layer<'_>, genesis: &RollupGenesis) -> Result<(), RollupError> {
    for (i, key) in genesis.genesis_accounts.iter().enumerate() {
        let id = AccountId::new(i as u32).map_err(|_| RollupError::Overflow {
            op: i,
            what: "genesis account id",
        })?;
        state.put(
            account_key(id),
            &L2Account {
                key: *key,
                nonce: 0,
            },
        );
    }
    state.put(
        state_key(),
        &RollupState {
            committed: 0,
            finalized: 0,
            finalized_root: genesis.genesis_root,
            proving_chunks: 0,
            proving_root: genesis.genesis_root,
            committed_l2_block: 0,
            finalized_l2_block: 0,
            next_account: genesis.genesis_accounts.len() as u32,
            deposits_queued: 0,
            deposits_consumed: 0,
            deposit_queue_hash: Hash32([0; 32]),
        },
    );
    Ok(())
}

/// Queues a deposit from `from`'s ledger account. Returns its queue index.
#[allow(clippy::too_many_arguments)]
pub fn deposit_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    from: &PublicKey,
    recipient: PublicKey,
    token: TokenId,
    amount: Amount,
    l1_block: u64,
    tx_hash: Hash32,
) -> Result<u64, RollupError> {
    if amount == 0 {
        return Err(RollupError::ZeroDeposit);
    }
    ghostplane_primitives::keys::validate_public_key(&recipient)
        .map_err(|_| RollupError::BadRecipient)?;
    let mut st = status(state)?;
    let pending = st.deposits_queued - st.deposits_consumed;
    if pending >= genesis.deposit_queue_max {
        return Err(RollupError::QueueFull(pending));
    }
    ledger::post(
        state,
        &LedgerTransfer {
            id: ledger::system_transfer_id(&[b"deposit", &tx_hash.0]),
            debit: L1Address(from.0),
            credit: ledger::bridge_escrow(),
            token,
            amount,
            code: TransferCode::Deposit,
            block: l1_block,
        },
    )?;
    let event = DepositEvent {
        queue_index: st.deposits_queued,
        l1_block,
        recipient,
        token,
        amount,
        l1_tx_hash: tx_hash,
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(&st.deposit_queue_hash.0);
    hasher.update(&borsh::to_vec(&event).map_err(|_| RollupError::NoState)?);
    st.deposit_queue_hash = Hash32(*hasher.finalize().as_bytes());
    state.put(deposit_key(event.queue_index), &event);
    st.deposits_queued += 1;
    state.put(state_key(), &st);
    Ok(event.queue_index)
}

/// Accounts touched by a batch, as the L1 tracks them.
struct Accounts<'s, 'a> {
    state: &'s mut Layer<'a>,
    next: u32,
}

impl Accounts<'_, '_> {
    fn get(&self, op: usize, id: AccountId) -> Result<L2Account, RollupError> {
        l2_account(self.state, id)?.ok_or(RollupError::UnknownAccount { op, account: id })
    }

    fn create(&mut self, op: usize, id: AccountId, key: PublicKey) -> Result<(), RollupError> {
        if id.get() != self.next {
            return Err(RollupError::AccountId {
                op,
                expected: self.next,
                got: id.get(),
            });
        }
        self.state
            .put(account_key(id), &L2Account { key, nonce: 0 });
        self.next += 1;
        Ok(())
    }

    fn bump(
        &mut self,
        op: usize,
        id: AccountId,
        mut account: L2Account,
    ) -> Result<(), RollupError> {
        account.nonce = account
            .nonce
            .checked_add(1)
            .ok_or(RollupError::Overflow { op, what: "nonce" })?;
        self.state.put(account_key(id), &account);
        Ok(())
    }
}

/// Cuts slots into segments with the prover's rule ([`Cutter`], the merkleizer's).
struct Segments<'b> {
    backend: &'b dyn ProofBackend,
    cutter: Cutter,
    chain_id: ChainId,
    batch: BatchNumber,
    open: Vec<ChunkOp>,
    chunks: Vec<(ChunkHeader, Vec<ChunkOp>)>,
}

impl Segments<'_> {
    fn push(
        &mut self,
        op: usize,
        sender: Option<AccountId>,
        slot: ChunkOp,
    ) -> Result<(), RollupError> {
        if self.cutter.closes_before(sender) {
            self.close(op)?;
        }
        let full = self.cutter.push(slot.fee).map_err(|e| cut_error(op, e))?;
        self.open.push(slot);
        if full {
            self.close(op)?;
        }
        Ok(())
    }

    fn close(&mut self, op: usize) -> Result<(), RollupError> {
        let header = ChunkHeader {
            chain_id: self.chain_id,
            batch: self.batch,
            chunk_index: self.cutter.close().map_err(|e| cut_error(op, e))?,
            fee_account: self.cutter.fee_account(),
        };
        self.chunks.push((header, std::mem::take(&mut self.open)));
        Ok(())
    }

    /// Each chunk's `C` and slot count (hash-heavy: computed in parallel, chunks are
    /// independent). The backend pads the ops as its prover does.
    fn finish(mut self) -> Result<Vec<(FieldBytes, u32)>, RollupError> {
        if self.cutter.closes_at_end() {
            self.close(usize::MAX)?;
        }
        let backend = self.backend;
        Ok(self
            .chunks
            .par_iter()
            .map(|(header, ops)| backend.commitment(header, ops))
            .collect())
    }
}

fn cut_error(op: usize, e: CutError) -> RollupError {
    RollupError::Overflow {
        op,
        what: match e {
            CutError::FeeOverflow => "segment fees",
            CutError::TooManySegments => "segment count",
        },
    }
}

/// Checks and records a batch commit from `from` at L1 block `l1_block`.
pub fn commit_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    backend: &dyn ProofBackend,
    from: &PublicKey,
    commit: &BatchCommit,
    l1_block: u64,
) -> Result<(), RollupError> {
    if !genesis.operators.contains(from) {
        return Err(RollupError::NotOperator(*from));
    }
    let mut st = status(state)?;
    if commit.number != st.committed + 1 {
        return Err(RollupError::BatchOrder {
            expected: st.committed + 1,
            got: commit.number,
        });
    }
    let first_expected = st.committed_l2_block + 1;
    if commit.first_block != first_expected || commit.last_block < commit.first_block {
        return Err(RollupError::BlockRange {
            expected: first_expected,
            first: commit.first_block,
            last: commit.last_block,
        });
    }
    // The range is the operator's claim (pubdata carries no block boundaries); bound
    // it so it cannot run the counter to overflow.
    let blocks = commit.last_block - commit.first_block + 1;
    if blocks > BATCH_BLOCKS_MAX {
        return Err(RollupError::TooManyBlocks {
            blocks,
            max: BATCH_BLOCKS_MAX,
        });
    }
    let ops = decode_pubdata(&commit.pubdata)?;
    let chain_id = genesis.l2_chain_id;
    let mut accounts = Accounts {
        state,
        next: st.next_account,
    };
    accounts.get(usize::MAX, commit.fee_account)?;
    let mut cutter = Segments {
        backend,
        cutter: Cutter::new(genesis.proof.chunk_ops.max(1) as usize, commit.fee_account),
        chain_id,
        batch: BatchNumber(commit.number),
        open: Vec::new(),
        chunks: Vec::new(),
    };
    let mut signed: Vec<(usize, AccountId, SignedTransaction)> = Vec::new();
    let mut withdrawals = Vec::new();
    let mut consumed = st.deposits_consumed;
    for (i, op) in ops.iter().enumerate() {
        let sender = op.sender();
        let mut slot = ChunkOp::noop();
        if let Some(from) = sender {
            let account = accounts.get(i, from)?;
            if let PubdataOp::FeeOnly { tx, .. } = op
                && tx.nonce() != account.nonce
            {
                return Err(RollupError::Nonce {
                    op: i,
                    expected: account.nonce,
                    got: tx.nonce(),
                });
            }
            if let Some(tx) = op.signed_transaction(chain_id, account.nonce, account.key) {
                if let Err(reason) = tx.tx.check_stateless() {
                    return Err(RollupError::Stateless { op: i, reason });
                }
                signed.push((i, from, tx));
            }
            accounts.bump(i, from, account)?;
            slot.a_index = from;
            slot.a_key = account.key;
            slot.nonce = account.nonce;
        }
        match op {
            PubdataOp::Transfer {
                to,
                token,
                amount,
                fee,
                ..
            } => {
                let receiver = accounts.get(i, *to)?;
                slot.kind = OpKind::Transfer;
                slot.token = *token;
                slot.b_index = *to;
                slot.b_data = receiver.key.0;
                slot.amount = *amount;
                slot.fee = *fee;
            }
            PubdataOp::TransferToNew {
                to,
                to_key,
                token,
                amount,
                fee,
                ..
            } => {
                accounts.create(i, *to, *to_key)?;
                slot.kind = OpKind::Transfer;
                slot.token = *token;
                slot.b_index = *to;
                slot.b_data = to_key.0;
                slot.b_new = true;
                slot.amount = *amount;
                slot.fee = *fee;
            }
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => {
                let expected = consumed;
                let mismatch = |detail| RollupError::DepositMismatch {
                    op: i,
                    expected,
                    got: *queue_index,
                    detail,
                };
                if *queue_index != consumed {
                    return Err(mismatch(""));
                }
                let queued = deposit(accounts.state, consumed)?
                    .ok_or_else(|| mismatch(": no such deposit is queued"))?;
                if queued.recipient != *to_key || queued.token != *token || queued.amount != *amount
                {
                    return Err(mismatch(": recipient, token or amount differs"));
                }
                consumed += 1;
                let new = match l2_account(accounts.state, *to)? {
                    Some(existing) if existing.key == *to_key => false,
                    Some(_) => return Err(mismatch(": the account has another key")),
                    None => {
                        accounts.create(i, *to, *to_key)?;
                        true
                    }
                };
                slot.kind = OpKind::Deposit;
                slot.token = *token;
                slot.b_index = *to;
                slot.b_data = to_key.0;
                slot.b_new = new;
                slot.nonce = *queue_index;
                slot.amount = *amount;
            }
            PubdataOp::Withdraw {
                to,
                token,
                amount,
                fee,
                ..
            } => {
                slot.kind = OpKind::Withdraw;
                slot.token = *token;
                slot.b_data = to.0;
                slot.amount = *amount;
                slot.fee = *fee;
                withdrawals.push(Withdrawal {
                    to: *to,
                    token: *token,
                    amount: *amount,
                });
            }
            PubdataOp::FeeOnly { fee_paid, tx, .. } => {
                // The proof only shows the amount was debited; the signed maximum
                // is what binds it to the user's consent.
                if *fee_paid > tx.fee() {
                    return Err(RollupError::FeeOverMaximum {
                        op: i,
                        paid: *fee_paid,
                        max: tx.fee(),
                    });
                }
                slot.kind = OpKind::FeeOnly;
                slot.fee = *fee_paid;
            }
            PubdataOp::StorageWrite { .. } => continue,
        }
        cutter.push(i, sender, slot)?;
    }
    // Every signature, as one batch: the same rule the sequencer admits with
    // (ed25519-dalek's cofactored batch equation, falling back to strict
    // single verification to name the culprit), so a transaction the sequencer
    // accepted is never refused here. The batch is all-or-nothing and its random
    // coefficients make a wrong acceptance negligible, so validators agree.
    // Sub-batches verify in parallel: under ZIP-215 a batch accepts exactly when
    // every member does, so splitting changes no verdict.
    let refs: Vec<&SignedTransaction> = signed.iter().map(|(_, _, tx)| tx).collect();
    let part = refs
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(SIGNATURE_BATCH_MIN);
    let results: Vec<_> = refs
        .par_chunks(part)
        .flat_map_iter(|part| ghostplane_primitives::verify_transaction_refs(part, chain_id))
        .collect();
    if let Some(((op, account, _), _)) = signed.iter().zip(&results).find(|(_, r)| r.is_err()) {
        return Err(RollupError::BadSignature {
            op: *op,
            account: *account,
        });
    }
    // Forced inclusion: the oldest deposit left waiting must not be overdue.
    if let Some(oldest) = deposit(accounts.state, consumed)? {
        let deadline = oldest
            .l1_block
            .saturating_add(genesis.forced_inclusion_blocks);
        if l1_block > deadline {
            return Err(RollupError::DepositOverdue {
                index: oldest.queue_index,
                queued_at: oldest.l1_block,
                deadline,
            });
        }
    }
    let next_account = accounts.next;
    let (commitments, slots): (Vec<FieldBytes>, Vec<u32>) = cutter.finish()?.into_iter().unzip();
    if commitments.len() != commit.chunk_count as usize {
        return Err(RollupError::ChunkCount {
            expected: commitments.len() as u32,
            got: commit.chunk_count,
        });
    }
    state.put(
        batch_key(commit.number),
        &BatchRecord {
            number: commit.number,
            first_block: commit.first_block,
            last_block: commit.last_block,
            pubdata_hash: Hash32(*blake3::hash(&commit.pubdata).as_bytes()),
            new_root: commit.new_root,
            fee_account: commit.fee_account,
            commitments,
            slots,
            withdrawals,
            deposits_consumed_to: consumed,
            committed_at: l1_block,
            finalized_at: None,
        },
    );
    st.committed = commit.number;
    st.committed_l2_block = commit.last_block;
    st.next_account = next_account;
    st.deposits_consumed = consumed;
    state.put(state_key(), &st);
    Ok(())
}

/// Verifies chunk proofs of the oldest unfinalized batch, from chunk `first_chunk`
/// (the next unproven one) on, and finalizes the batch once all its chunks are
/// proven, releasing its withdrawals. Each statement is rebuilt here: the roots
/// chain from the last proven one, the header and `C` come from the commit.
#[allow(clippy::too_many_arguments)]
pub fn prove_call(
    state: &mut Layer<'_>,
    genesis: &RollupGenesis,
    backend: &dyn ProofBackend,
    number: u64,
    first_chunk: u32,
    chunk_roots: &[FieldBytes],
    proofs: &[Vec<u8>],
    l1_block: u64,
) -> Result<(), RollupError> {
    let mut st = status(state)?;
    if number != st.finalized + 1 || number > st.committed {
        return Err(RollupError::ProveOrder {
            expected: st.finalized + 1,
            got: number,
            committed: st.committed,
        });
    }
    if first_chunk != st.proving_chunks {
        return Err(RollupError::ChunkOrder {
            expected: st.proving_chunks,
            got: first_chunk,
        });
    }
    let mut record = batch(state, number)?.ok_or(RollupError::NoState)?;
    let chunks = record.commitments.len();
    let left = chunks - (first_chunk as usize).min(chunks);
    if chunk_roots.len() != proofs.len() || proofs.is_empty() || proofs.len() > left {
        return Err(RollupError::ProofCount {
            chunks: left,
            roots: chunk_roots.len(),
            proofs: proofs.len(),
        });
    }
    let mut previous = st.proving_root;
    let statements: Vec<Statement> = chunk_roots
        .iter()
        .enumerate()
        .map(|(i, root)| {
            let chunk = first_chunk as usize + i;
            let statement = Statement {
                header: ChunkHeader {
                    chain_id: genesis.l2_chain_id,
                    batch: BatchNumber(number),
                    chunk_index: chunk as u32,
                    fee_account: record.fee_account,
                },
                old_root: previous,
                new_root: *root,
                commitment: record.commitments[chunk],
                slots: record.slots[chunk],
            };
            previous = *root;
            statement
        })
        .collect();
    // Chunks are independent statements: verify them in parallel.
    let verdicts: Vec<Result<(), String>> = statements
        .par_iter()
        .zip(proofs)
        .map(|(statement, proof)| backend.verify(statement, proof).map_err(|e| e.to_string()))
        .collect();
    if let Some((i, Err(reason))) = verdicts.into_iter().enumerate().find(|(_, v)| v.is_err()) {
        return Err(RollupError::BadProof {
            chunk: first_chunk as usize + i,
            reason,
        });
    }
    let proven = first_chunk as usize + proofs.len();
    if proven < chunks {
        st.proving_chunks = proven as u32;
        st.proving_root = previous;
        state.put(state_key(), &st);
        return Ok(());
    }
    if previous != record.new_root {
        return Err(RollupError::RootMismatch {
            expected: record.new_root,
            got: previous,
        });
    }
    for (i, withdrawal) in record.withdrawals.iter().enumerate() {
        // A withdrawal to the escrow itself leaves the funds where they are (burned
        // for the L2); posting it would be a same-account transfer, refused, and
        // would block finality forever.
        if withdrawal.to == ledger::bridge_escrow() {
            continue;
        }
        ledger::post(
            state,
            &LedgerTransfer {
                id: ledger::system_transfer_id(&[
                    b"withdrawal",
                    &number.to_be_bytes(),
                    &(i as u64).to_be_bytes(),
                ]),
                debit: ledger::bridge_escrow(),
                credit: withdrawal.to,
                token: withdrawal.token,
                amount: withdrawal.amount,
                code: TransferCode::Withdrawal,
                block: l1_block,
            },
        )?;
    }
    record.finalized_at = Some(l1_block);
    state.put(batch_key(number), &record);
    st.finalized = number;
    st.finalized_root = record.new_root;
    st.proving_chunks = 0;
    st.proving_root = record.new_root;
    st.finalized_l2_block = record.last_block;
    state.put(state_key(), &st);
    Ok(())
}

//! The merkleizer: applies a batch's native ops to the account tree, in order, and
//! cuts them into segments (proof jobs).
//!
//! Each op becomes one slot, built by [`ChunkOp::from_pubdata`] (the rule the L1's
//! commit check builds slots with): a successful deploy or call is a transfer of its
//! value to the contract's account (a deploy creates it), a contract's move a
//! transfer from its account with fee 0, a `ContractKey` op a re-keying of the
//! contract's leaf (its new key field commits its new storage root). Contract
//! traces and storage proofs take no slot: the L1 re-executes the first and checks
//! the second. A deploy's leaf starts with the key field of empty storage.
//! The ops are a batch's completed ones ([`crate::StorageTrees::complete`]).
//! Segments are cut by [`crate::cut::Cutter`], the rule ghostd's commit check cuts
//! with too, and padded with no-ops as the backend pads.
//!
//! A segment's leaf writes (and idle legs' path reads) are staged on the tree as the
//! ops are applied and hashed together when the segment closes
//! ([`AccountTree::flush`]); each leg then gets the path it had at its moment in
//! the segment. Op rules (balances, nonces, keys) read leaves, never hashes, so they
//! run at full speed and the hashing is batched per tree level.

use ghostplane_primitives::tx::{code_hash, contract_address};
use ghostplane_primitives::{
    AccountId, AccountLeaf, Amount, BatchNumber, ChainId, PubdataOp, PublicKey, TokenId,
    Transaction,
};
use ghostplane_proof_backend::{ChunkHeader, ChunkOp, SlotAccounts};

use crate::backend::{Job, Leg, ProofBackend, Segment, Slot};
use crate::cut::{CutError, Cutter};
use crate::error::ProverError;
use crate::storage_trees::new_contract_leaf_key;
use crate::tree::AccountTree;

/// Applies ops to an [`AccountTree`] and produces the backend's proof jobs.
pub struct Merkleizer<'a> {
    tree: &'a mut AccountTree,
    backend: &'a dyn ProofBackend,
    chain_id: ChainId,
    idle_paths: bool,
    /// Where each entry staged on the tree belongs, in staging order.
    staged: Vec<LegAt>,
}

/// The leg a staged tree entry's path goes to.
#[derive(Clone, Copy)]
enum LegAt {
    /// Sender leg of the open segment's slot.
    A(usize),
    /// Receiver leg of the open segment's slot.
    B(usize),
    /// The fee credit's idle sender leg.
    FeeIdle,
    /// The fee credit.
    Fee,
}

struct Open {
    old_root: ghostplane_primitives::FieldBytes,
    slots: Vec<Slot>,
    cutter: Cutter,
}

impl<'a> Merkleizer<'a> {
    /// A merkleizer cutting segments of at most `backend.segment_ops_max()` ops. The
    /// tree must have been opened with the backend's tree hash.
    pub fn new(
        tree: &'a mut AccountTree,
        backend: &'a dyn ProofBackend,
        chain_id: ChainId,
    ) -> Self {
        let idle_paths = tree.hash().idle_legs_need_paths();
        Self {
            tree,
            backend,
            chain_id,
            idle_paths,
            staged: Vec::new(),
        }
    }

    /// Applies `ops` (a batch, in execution order) and returns its proof jobs, one
    /// per segment. The tree is left with the batch applied but not committed; on
    /// error the caller should [`AccountTree::discard`].
    pub fn build_batch(
        &mut self,
        batch: BatchNumber,
        fee_account: AccountId,
        ops: &[PubdataOp],
    ) -> Result<Vec<Job>, ProverError> {
        let max = self.backend.segment_ops_max().max(1);
        let mut jobs = Vec::new();
        let mut open = Open {
            old_root: self.tree.root()?,
            slots: Vec::with_capacity(max.min(4096)),
            cutter: Cutter::new(max, fee_account),
        };
        for (position, op) in ops.iter().enumerate() {
            if matches!(op, PubdataOp::ContractTrace(_) | PubdataOp::StorageProof(_)) {
                continue;
            }
            if open.cutter.closes_before(op.debited()) {
                self.close(&mut open, &mut jobs, batch, fee_account)?;
            }
            let slot = self.apply(position, open.slots.len(), op)?;
            let full = open
                .cutter
                .push(slot.op.fee)
                .map_err(|e| cut_error(position, e))?;
            open.slots.push(slot);
            if full {
                self.close(&mut open, &mut jobs, batch, fee_account)?;
            }
        }
        if open.cutter.closes_at_end() {
            self.close(&mut open, &mut jobs, batch, fee_account)?;
        }
        Ok(jobs)
    }

    /// A leg that rewrites `id` with itself (a path, staged at `at`, only if the
    /// backend needs it).
    fn idle(&mut self, at: LegAt, id: AccountId) -> Result<Leg, ProverError> {
        if !self.idle_paths {
            return Ok(Leg::idle());
        }
        let leaf = self
            .tree
            .leaf(id)?
            .unwrap_or(AccountLeaf::new(PublicKey([0; 32])));
        self.tree.stage_read(id);
        self.staged.push(at);
        Ok(Leg {
            index: id,
            before: leaf,
            after: leaf,
            siblings: Vec::new(),
        })
    }

    /// Sets `id`'s leaf to `after`, staging its path for the leg at `at` (the
    /// leg's siblings are filled when the segment closes).
    fn write(&mut self, at: LegAt, id: AccountId, after: AccountLeaf) -> Result<(), ProverError> {
        self.tree.stage(id, after)?;
        self.staged.push(at);
        Ok(())
    }

    fn close(
        &mut self,
        open: &mut Open,
        jobs: &mut Vec<Job>,
        batch: BatchNumber,
        fee_account: AccountId,
    ) -> Result<(), ProverError> {
        let padded = self.backend.padded_ops(open.slots.len());
        // Padding: one no-op slot whose idle legs are read once (nothing changes
        // between the copies), cloned after its paths are filled.
        let pad_at = open.slots.len();
        if pad_at < padded {
            let noop = ChunkOp::noop();
            let a = self.idle(LegAt::A(pad_at), noop.a_index)?;
            let b = self.idle(LegAt::B(pad_at), noop.b_index)?;
            open.slots.push(Slot { op: noop, a, b });
        }
        let op_index = usize::MAX;
        let mut fee_idle = self.idle(LegAt::FeeIdle, AccountId::ZERO)?;
        let mut leaf = self
            .tree
            .leaf(fee_account)?
            .ok_or(ProverError::UnknownAccount {
                op: op_index,
                account: fee_account,
            })?;
        let before = leaf;
        leaf.balances[0] =
            leaf.balances[0]
                .checked_add(open.cutter.fees())
                .ok_or(ProverError::InvalidOp {
                    op: op_index,
                    reason: "fee account balance overflows",
                })?;
        self.write(LegAt::Fee, fee_account, leaf)?;
        let mut fee = Leg {
            index: fee_account,
            before,
            after: leaf,
            siblings: Vec::new(),
        };
        let paths = self.tree.flush()?;
        if paths.len() != self.staged.len() {
            return Err(ProverError::Corrupt("staged tree paths"));
        }
        for (at, path) in self.staged.drain(..).zip(paths) {
            let leg = match at {
                LegAt::A(slot) => open.slots.get_mut(slot).map(|s| &mut s.a),
                LegAt::B(slot) => open.slots.get_mut(slot).map(|s| &mut s.b),
                LegAt::FeeIdle => Some(&mut fee_idle),
                LegAt::Fee => Some(&mut fee),
            };
            if let Some(leg) = leg {
                leg.siblings = path;
            }
        }
        if let Some(pad) = open.slots.get(pad_at).cloned() {
            open.slots.resize(padded, pad);
        }
        let chunk_index = open.cutter.close().map_err(|e| cut_error(op_index, e))?;
        let new_root = self.tree.root()?;
        let segment = Segment {
            header: ChunkHeader {
                chain_id: self.chain_id,
                batch,
                chunk_index,
                fee_account,
            },
            old_root: open.old_root,
            new_root,
            slots: std::mem::take(&mut open.slots),
            fee_idle,
            fee,
        };
        jobs.push(self.backend.job(&segment)?);
        open.old_root = new_root;
        Ok(())
    }

    fn existing(&mut self, position: usize, id: AccountId) -> Result<AccountLeaf, ProverError> {
        self.tree.leaf(id)?.ok_or(ProverError::UnknownAccount {
            op: position,
            account: id,
        })
    }

    /// Leg A: debits `amount` of `token` and `fee` GCC and bumps the nonce.
    fn debit(
        &mut self,
        position: usize,
        slot: usize,
        id: AccountId,
        token: TokenId,
        amount: Amount,
        fee: Amount,
    ) -> Result<(AccountLeaf, Leg), ProverError> {
        let before = self.existing(position, id)?;
        let mut after = before;
        let underflow = ProverError::InvalidOp {
            op: position,
            reason: "sender balance would go below zero",
        };
        let t = usize::from(token.id());
        after.balances[t] = after.balances[t].checked_sub(amount).ok_or(underflow)?;
        after.balances[0] = after.balances[0]
            .checked_sub(fee)
            .ok_or(ProverError::InvalidOp {
                op: position,
                reason: "sender cannot pay the fee",
            })?;
        after.nonce = after.nonce.checked_add(1).ok_or(ProverError::InvalidOp {
            op: position,
            reason: "nonce overflow",
        })?;
        self.write(LegAt::A(slot), id, after)?;
        Ok((
            before,
            Leg {
                index: id,
                before,
                after,
                siblings: Vec::new(),
            },
        ))
    }

    /// Leg B: credits `amount` of `token`, creating the account for `key` if needed.
    fn credit(
        &mut self,
        position: usize,
        slot: usize,
        id: AccountId,
        create: Option<PublicKey>,
        token: TokenId,
        amount: Amount,
    ) -> Result<(AccountLeaf, bool, Leg), ProverError> {
        let (before, new) = match (self.tree.leaf(id)?, create) {
            (Some(leaf), _) => (leaf, false),
            (None, Some(key)) => (AccountLeaf::new(key), true),
            (None, None) => {
                return Err(ProverError::UnknownAccount {
                    op: position,
                    account: id,
                });
            }
        };
        let mut after = before;
        let t = usize::from(token.id());
        after.balances[t] =
            after.balances[t]
                .checked_add(amount)
                .ok_or(ProverError::InvalidOp {
                    op: position,
                    reason: "receiver balance overflows",
                })?;
        self.write(LegAt::B(slot), id, after)?;
        // A created account's leaf was empty: the statement sees an all-zero leaf.
        let empty = AccountLeaf::new(PublicKey([0; 32]));
        Ok((
            before,
            new,
            Leg {
                index: id,
                before: if new { empty } else { before },
                after,
                siblings: Vec::new(),
            },
        ))
    }

    fn apply(&mut self, position: usize, slot: usize, op: &PubdataOp) -> Result<Slot, ProverError> {
        // An idle sender leg comes first in the statement: read it before the op.
        let mut a = match op.debited().or(match op {
            PubdataOp::ContractKey { contract, .. } => Some(*contract),
            _ => None,
        }) {
            None => Some(self.idle(LegAt::A(slot), AccountId::ZERO)?),
            Some(_) => None,
        };
        let mut b = None;
        let mut accounts = SlotAccounts::NONE;
        match op {
            PubdataOp::Transfer {
                from,
                to,
                token,
                amount,
                fee,
                ..
            }
            | PubdataOp::TransferToNew {
                from,
                to,
                token,
                amount,
                fee,
                ..
            } => {
                let create = match op {
                    PubdataOp::TransferToNew { to_key, .. } => {
                        if self.tree.leaf(*to)?.is_some() {
                            return Err(ProverError::InvalidOp {
                                op: position,
                                reason: "transfer creates an account that exists",
                            });
                        }
                        Some(*to_key)
                    }
                    _ => None,
                };
                let (sender, leg_a) = self.debit(position, slot, *from, *token, *amount, *fee)?;
                let (receiver, _, leg_b) =
                    self.credit(position, slot, *to, create, *token, *amount)?;
                a = Some(leg_a);
                b = Some(leg_b);
                accounts.sender_key = sender.public_key;
                accounts.sender_nonce = sender.nonce;
                accounts.receiver_key = receiver.public_key;
            }
            PubdataOp::Deposit {
                to,
                to_key,
                token,
                amount,
                ..
            } => {
                if let Some(existing) = self.tree.leaf(*to)?
                    && existing.public_key != *to_key
                {
                    return Err(ProverError::InvalidOp {
                        op: position,
                        reason: "deposit names an account with another key",
                    });
                }
                let (_, new, leg_b) =
                    self.credit(position, slot, *to, Some(*to_key), *token, *amount)?;
                b = Some(leg_b);
                accounts.receiver_new = new;
            }
            PubdataOp::Withdraw {
                from,
                token,
                amount,
                fee,
                ..
            } => {
                let (sender, leg_a) = self.debit(position, slot, *from, *token, *amount, *fee)?;
                a = Some(leg_a);
                accounts.sender_key = sender.public_key;
                accounts.sender_nonce = sender.nonce;
            }
            PubdataOp::FeeOnly { fee_paid, tx, .. } => {
                let from = tx.from();
                let current = self.existing(position, from)?;
                if current.nonce != tx.nonce() {
                    return Err(ProverError::InvalidOp {
                        op: position,
                        reason: "fee-only op's nonce is not the account's",
                    });
                }
                let (sender, leg_a) =
                    self.debit(position, slot, from, TokenId::Gcc, 0, *fee_paid)?;
                a = Some(leg_a);
                accounts.sender_key = sender.public_key;
                accounts.sender_nonce = sender.nonce;
            }
            PubdataOp::ContractTx {
                fee_paid,
                contract,
                tx,
                ..
            } => {
                let from = tx.from();
                if self.existing(position, from)?.nonce != tx.nonce() {
                    return Err(ProverError::InvalidOp {
                        op: position,
                        reason: "contract transaction's nonce is not the account's",
                    });
                }
                // A deploy creates its contract's account.
                let create = match tx {
                    Transaction::Deploy { .. } => {
                        if self.tree.leaf(*contract)?.is_some() {
                            return Err(ProverError::InvalidOp {
                                op: position,
                                reason: "deploy creates an account that exists",
                            });
                        }
                        let Transaction::Deploy { code, .. } = tx else {
                            return Err(ProverError::Corrupt("deploy"));
                        };
                        let address = contract_address(from, tx.nonce());
                        Some(new_contract_leaf_key(&address, &code_hash(code)))
                    }
                    _ => None,
                };
                let (token, amount) = tx.value().unwrap_or((TokenId::Gcc, 0));
                let (sender, leg_a) = self.debit(position, slot, from, token, amount, *fee_paid)?;
                let (receiver, new, leg_b) =
                    self.credit(position, slot, *contract, create, token, amount)?;
                a = Some(leg_a);
                b = Some(leg_b);
                accounts.sender_key = sender.public_key;
                accounts.sender_nonce = sender.nonce;
                accounts.receiver_key = receiver.public_key;
                accounts.receiver_new = new;
            }
            PubdataOp::ContractMove {
                from,
                to,
                token,
                amount,
            } => {
                let (sender, leg_a) = self.debit(position, slot, *from, *token, *amount, 0)?;
                let (receiver, _, leg_b) =
                    self.credit(position, slot, *to, None, *token, *amount)?;
                a = Some(leg_a);
                b = Some(leg_b);
                accounts.sender_key = sender.public_key;
                accounts.sender_nonce = sender.nonce;
                accounts.receiver_key = receiver.public_key;
            }
            PubdataOp::ContractKey { contract, key } => {
                let before = self.existing(position, *contract)?;
                let mut after = before;
                after.public_key = *key;
                self.write(LegAt::A(slot), *contract, after)?;
                a = Some(Leg {
                    index: *contract,
                    before,
                    after,
                    siblings: Vec::new(),
                });
                accounts.sender_key = before.public_key;
            }
            // A forced withdrawal: `amount` of `token`, no fee, the nonce kept;
            // "full" must leave nothing (the L1 checked the request).
            PubdataOp::ForcedWithdraw {
                from,
                token,
                amount,
                full,
                ..
            } => {
                let before = self.existing(position, *from)?;
                let mut after = before;
                let t = usize::from(token.id());
                after.balances[t] =
                    after.balances[t]
                        .checked_sub(*amount)
                        .ok_or(ProverError::InvalidOp {
                            op: position,
                            reason: "forced withdrawal beyond the balance",
                        })?;
                if *full && after.balances[t] != 0 {
                    return Err(ProverError::InvalidOp {
                        op: position,
                        reason: "a whole-balance forced withdrawal leaves a balance",
                    });
                }
                self.write(LegAt::A(slot), *from, after)?;
                a = Some(Leg {
                    index: *from,
                    before,
                    after,
                    siblings: Vec::new(),
                });
                accounts.sender_key = before.public_key;
            }
            PubdataOp::ContractTrace(_) | PubdataOp::StorageProof(_) => {}
        }
        let slot_op = ChunkOp::from_pubdata(op, &accounts).unwrap_or_else(ChunkOp::noop);
        // An idle receiver leg comes after the sender's update.
        let a = match a {
            Some(leg) => leg,
            None => self.idle(LegAt::A(slot), slot_op.a_index)?,
        };
        let b = match b {
            Some(leg) => leg,
            None => self.idle(LegAt::B(slot), slot_op.b_index)?,
        };
        Ok(Slot { op: slot_op, a, b })
    }
}

fn cut_error(op: usize, e: CutError) -> ProverError {
    ProverError::InvalidOp {
        op,
        reason: match e {
            CutError::FeeOverflow => "segment fee total overflows u128",
            CutError::TooManySegments => "too many segments in one batch",
        },
    }
}

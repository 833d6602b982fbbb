//! The merkleizer: applies a batch's native ops to the account tree, in order, and
//! cuts them into chunk witnesses (proof jobs).
//!
//! Each op becomes one slot; storage writes are skipped (attested, not proven). A
//! chunk closes when it has `chunk_ops` slots, when the batch ends (padded with
//! no-ops), or early when the fee account is about to spend while fees it has earned
//! in the chunk are still uncredited (the circuit credits fees once, at the end of
//! the chunk, whereas the executor credits them at the end of each block; closing
//! early keeps the tree's fee account at least as rich as the executor's at every
//! step). A batch with no provable op still gets one all-no-op chunk so its roots chain.

use ghostplane_primitives::{
    AccountId, AccountLeaf, Amount, BatchNumber, ChainId, FieldBytes, Fr, PubdataOp, PublicKey,
    TokenId,
};

use crate::error::ProverError;
use crate::tree::AccountTree;
use crate::witness::{ChunkHeader, ChunkOp, ChunkWitness, LegWitness, OpKind, SlotWitness};

/// Applies ops to an [`AccountTree`] and produces chunk witnesses.
pub struct Merkleizer<'a> {
    tree: &'a mut AccountTree,
    chunk_ops: usize,
    chain_id: ChainId,
}

struct Open {
    old_root: Fr,
    slots: Vec<SlotWitness>,
    fees: Amount,
}

fn leg(leaf: AccountLeaf, siblings: crate::tree::Siblings) -> LegWitness {
    LegWitness { leaf, siblings }
}

impl<'a> Merkleizer<'a> {
    /// A merkleizer cutting chunks of `chunk_ops` slots (at least 1).
    pub fn new(tree: &'a mut AccountTree, chunk_ops: usize, chain_id: ChainId) -> Self {
        Self {
            tree,
            chunk_ops: chunk_ops.max(1),
            chain_id,
        }
    }

    /// Applies `ops` (a batch, in execution order) and returns its chunk witnesses.
    /// The tree is left with the batch applied but not committed; on error the caller
    /// should [`AccountTree::discard`].
    pub fn build_batch(
        &mut self,
        batch: BatchNumber,
        fee_account: AccountId,
        ops: &[PubdataOp],
    ) -> Result<Vec<ChunkWitness>, ProverError> {
        let mut chunks = Vec::new();
        let mut open = Open {
            old_root: self.tree.root()?,
            slots: Vec::with_capacity(self.chunk_ops),
            fees: 0,
        };
        for (position, op) in ops.iter().enumerate() {
            let sender = op.sender();
            if matches!(op, PubdataOp::StorageWrite { .. }) {
                continue;
            }
            if sender == Some(fee_account) && open.fees > 0 {
                self.close(&mut open, &mut chunks, batch, fee_account)?;
            }
            let slot = self.apply(position, op)?;
            open.fees = open
                .fees
                .checked_add(slot.op.fee)
                .ok_or(ProverError::InvalidOp {
                    op: position,
                    reason: "chunk fee total overflows u128",
                })?;
            open.slots.push(slot);
            if open.slots.len() == self.chunk_ops {
                self.close(&mut open, &mut chunks, batch, fee_account)?;
            }
        }
        if !open.slots.is_empty() || chunks.is_empty() {
            self.close(&mut open, &mut chunks, batch, fee_account)?;
        }
        Ok(chunks)
    }

    fn close(
        &mut self,
        open: &mut Open,
        chunks: &mut Vec<ChunkWitness>,
        batch: BatchNumber,
        fee_account: AccountId,
    ) -> Result<(), ProverError> {
        while open.slots.len() < self.chunk_ops {
            open.slots.push(SlotWitness {
                op: ChunkOp::noop(),
                a: LegWitness::inactive(),
                b: LegWitness::inactive(),
            });
        }
        let op_index = usize::MAX;
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
                .checked_add(open.fees)
                .ok_or(ProverError::InvalidOp {
                    op: op_index,
                    reason: "fee account balance overflows",
                })?;
        let (_, siblings) = self.tree.update(fee_account, leaf)?;
        let chunk_index = u32::try_from(chunks.len()).map_err(|_| ProverError::InvalidOp {
            op: op_index,
            reason: "too many chunks in one batch",
        })?;
        chunks.push(ChunkWitness {
            header: ChunkHeader {
                chain_id: self.chain_id,
                batch,
                chunk_index,
                fee_account,
            },
            old_root: FieldBytes::from(open.old_root),
            new_root: FieldBytes::from(self.tree.root()?),
            slots: std::mem::take(&mut open.slots),
            fee: leg(before, siblings),
        });
        open.old_root = self.tree.root()?;
        open.fees = 0;
        Ok(())
    }

    fn existing(&self, position: usize, id: AccountId) -> Result<AccountLeaf, ProverError> {
        self.tree.leaf(id)?.ok_or(ProverError::UnknownAccount {
            op: position,
            account: id,
        })
    }

    /// Leg A: debits `amount` of `token` and `fee` GCC and bumps the nonce.
    fn debit(
        &mut self,
        position: usize,
        id: AccountId,
        token: TokenId,
        amount: Amount,
        fee: Amount,
    ) -> Result<(AccountLeaf, LegWitness), ProverError> {
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
        let (_, siblings) = self.tree.update(id, after)?;
        Ok((before, leg(before, siblings)))
    }

    /// Leg B: credits `amount` of `token`, creating the account for `key` if needed.
    fn credit(
        &mut self,
        position: usize,
        id: AccountId,
        create: Option<PublicKey>,
        token: TokenId,
        amount: Amount,
    ) -> Result<(AccountLeaf, bool, LegWitness), ProverError> {
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
        let (_, siblings) = self.tree.update(id, after)?;
        Ok((before, new, leg(before, siblings)))
    }

    fn apply(&mut self, position: usize, op: &PubdataOp) -> Result<SlotWitness, ProverError> {
        let mut chunk_op = ChunkOp::noop();
        let mut a = LegWitness::inactive();
        let mut b = LegWitness::inactive();
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
                let (sender, leg_a) = self.debit(position, *from, *token, *amount, *fee)?;
                let (receiver, new, leg_b) = self.credit(position, *to, create, *token, *amount)?;
                a = leg_a;
                b = leg_b;
                chunk_op = ChunkOp {
                    kind: OpKind::Transfer,
                    token: *token,
                    a_index: *from,
                    a_key: sender.public_key,
                    b_index: *to,
                    b_data: receiver.public_key.0,
                    b_new: new,
                    nonce: sender.nonce,
                    amount: *amount,
                    fee: *fee,
                };
            }
            PubdataOp::Deposit {
                queue_index,
                to,
                to_key,
                token,
                amount,
            } => {
                if let Some(existing) = self.tree.leaf(*to)?
                    && existing.public_key != *to_key
                {
                    return Err(ProverError::InvalidOp {
                        op: position,
                        reason: "deposit names an account with another key",
                    });
                }
                let (_, new, leg_b) = self.credit(position, *to, Some(*to_key), *token, *amount)?;
                b = leg_b;
                chunk_op = ChunkOp {
                    kind: OpKind::Deposit,
                    token: *token,
                    b_index: *to,
                    b_data: to_key.0,
                    b_new: new,
                    nonce: *queue_index,
                    amount: *amount,
                    ..ChunkOp::noop()
                };
            }
            PubdataOp::Withdraw {
                from,
                to,
                token,
                amount,
                fee,
                ..
            } => {
                let (sender, leg_a) = self.debit(position, *from, *token, *amount, *fee)?;
                a = leg_a;
                chunk_op = ChunkOp {
                    kind: OpKind::Withdraw,
                    token: *token,
                    a_index: *from,
                    a_key: sender.public_key,
                    b_data: to.0,
                    nonce: sender.nonce,
                    amount: *amount,
                    fee: *fee,
                    ..ChunkOp::noop()
                };
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
                let (sender, leg_a) = self.debit(position, from, TokenId::Gcc, 0, *fee_paid)?;
                a = leg_a;
                chunk_op = ChunkOp {
                    kind: OpKind::FeeOnly,
                    a_index: from,
                    a_key: sender.public_key,
                    nonce: sender.nonce,
                    fee: *fee_paid,
                    ..ChunkOp::noop()
                };
            }
            PubdataOp::StorageWrite { .. } => {}
        }
        Ok(SlotWitness { op: chunk_op, a, b })
    }
}

//! The segment-cutting rule, written once. The merkleizer (which builds the proof
//! jobs) and ghostd's commit check (which rebuilds every segment's commitment from
//! the pubdata) both cut a batch's ops with [`Cutter`]; if they cut differently,
//! every batch would be refused, so there is one rule.
//!
//! A segment closes:
//! - when it holds `ops_max` ops;
//! - early, before an op sent by the fee account while fees earned in the open
//!   segment are still uncredited (the proof credits fees once, at the segment's
//!   end, whereas the executor credits them at the end of each block; closing early
//!   keeps the tree's fee account at least as rich as the executor's at every step);
//! - at the end of the batch, if it holds an op or the batch has no segment yet (a
//!   batch with no provable op still gets one all-no-op segment, so roots chain).
//!
//! [`Cutter`] only decides; the caller closes (the merkleizer credits the fee
//! account in the tree, the L1 hashes the commitment) and then calls
//! [`Cutter::close`].

use ghostplane_primitives::{AccountId, Amount};

/// Why a batch cannot be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CutError {
    /// The fees of one segment do not fit in a u128.
    #[error("the segment's fee total overflows u128")]
    FeeOverflow,
    /// More segments than a u32 index counts.
    #[error("more than 2^32 segments in one batch")]
    TooManySegments,
}

/// The cutting state of one batch.
#[derive(Debug, Clone)]
pub struct Cutter {
    ops_max: usize,
    fee_account: AccountId,
    open: usize,
    fees: Amount,
    closed: u32,
}

impl Cutter {
    /// A batch cut into segments of at most `ops_max` (at least 1) ops, whose fees
    /// go to `fee_account`.
    pub fn new(ops_max: usize, fee_account: AccountId) -> Self {
        Self {
            ops_max: ops_max.max(1),
            fee_account,
            open: 0,
            fees: 0,
            closed: 0,
        }
    }

    /// Whether the open segment must close before an op sent by `sender` is added.
    pub fn closes_before(&self, sender: Option<AccountId>) -> bool {
        sender == Some(self.fee_account) && self.fees > 0
    }

    /// Adds an op paying `fee` to the open segment. `true`: the segment is full and
    /// must close now.
    pub fn push(&mut self, fee: Amount) -> Result<bool, CutError> {
        self.fees = self.fees.checked_add(fee).ok_or(CutError::FeeOverflow)?;
        self.open += 1;
        Ok(self.open >= self.ops_max)
    }

    /// Whether the open segment must close at the end of the batch.
    pub fn closes_at_end(&self) -> bool {
        self.open > 0 || self.closed == 0
    }

    /// Fees earned in the open segment (what its fee credit pays).
    pub fn fees(&self) -> Amount {
        self.fees
    }

    /// The account the batch's fees go to.
    pub fn fee_account(&self) -> AccountId {
        self.fee_account
    }

    /// Records that the open segment closed; returns its index in the batch.
    pub fn close(&mut self) -> Result<u32, CutError> {
        let index = self.closed;
        self.closed = index.checked_add(1).ok_or(CutError::TooManySegments)?;
        self.open = 0;
        self.fees = 0;
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u32) -> AccountId {
        AccountId::new(i).unwrap_or(AccountId::ZERO)
    }

    /// Cuts `(sender, fee)` ops; returns each segment's op count.
    fn cut(ops_max: usize, ops: &[(u32, Amount)]) -> Vec<usize> {
        let mut cutter = Cutter::new(ops_max, id(0));
        let (mut sizes, mut open) = (Vec::new(), 0);
        for &(sender, fee) in ops {
            if cutter.closes_before(Some(id(sender))) {
                cutter.close().ok();
                sizes.push(std::mem::take(&mut open));
            }
            open += 1;
            if cutter.push(fee).unwrap_or(false) {
                cutter.close().ok();
                sizes.push(std::mem::take(&mut open));
            }
        }
        if cutter.closes_at_end() {
            sizes.push(open);
        }
        sizes
    }

    #[test]
    fn segments_close_when_full_before_fee_account_spends_and_at_the_end() {
        assert_eq!(cut(2, &[(1, 1), (2, 1), (3, 1)]), vec![2, 1]);
        // The fee account spends while fees are uncredited: close before it.
        assert_eq!(cut(4, &[(1, 1), (0, 1), (2, 1)]), vec![1, 2]);
        // ... but not when the open segment earned nothing.
        assert_eq!(cut(4, &[(1, 0), (0, 1), (2, 1)]), vec![3]);
        // A batch with no op still gets one segment; a full last one adds none.
        assert_eq!(cut(4, &[]), vec![0]);
        assert_eq!(cut(2, &[(1, 1), (2, 1)]), vec![2]);
        let mut cutter = Cutter::new(4, id(0));
        assert_eq!(cutter.push(u128::MAX), Ok(false));
        assert_eq!(cutter.push(1), Err(CutError::FeeOverflow));
    }
}

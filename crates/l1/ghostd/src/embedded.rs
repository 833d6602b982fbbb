//! [`EmbeddedL1`]: the rollup's [`L1Client`] for a ghostd in the same process.

use ghostd_types::client::{L1Client, L1Error, L1History, find_batch_commit};
use ghostd_types::{L1Receipt, RollupState, SignedL1Transaction};
use ghostplane_primitives::{DepositEvent, ForcedWithdrawalEvent, Hash32, PublicKey};

use crate::node::{Ghostd, SubmitError};

/// The L1 node in this process.
#[derive(Clone)]
pub struct EmbeddedL1 {
    node: Ghostd,
}

impl EmbeddedL1 {
    /// Wraps a node.
    pub fn new(node: Ghostd) -> Self {
        Self { node }
    }
}

fn unavailable(error: impl std::fmt::Display) -> L1Error {
    L1Error::Unavailable(error.to_string())
}

impl L1Client for EmbeddedL1 {
    async fn rollup_status(&self) -> Result<RollupState, L1Error> {
        self.node
            .read(crate::modules::rollup::status)
            .map_err(unavailable)
    }

    async fn deposits(&self, from: u64, max: u64) -> Result<Vec<DepositEvent>, L1Error> {
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            match self
                .node
                .read(|s| crate::modules::rollup::deposit(s, index))
                .map_err(unavailable)?
            {
                Some(event) => out.push(event),
                None => break,
            }
        }
        Ok(out)
    }

    async fn forced_withdrawals(
        &self,
        from: u64,
        max: u64,
    ) -> Result<Vec<ForcedWithdrawalEvent>, L1Error> {
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            match self
                .node
                .read(|s| crate::modules::rollup::forced::forced_withdrawal(s, index))
                .map_err(unavailable)?
            {
                Some(event) => out.push(event),
                None => break,
            }
        }
        Ok(out)
    }

    async fn nonce(&self, address: PublicKey) -> Result<u64, L1Error> {
        self.node.nonce(&address).map_err(unavailable)
    }

    async fn submit(&self, tx: SignedL1Transaction) -> Result<Hash32, L1Error> {
        self.node.submit(tx).map_err(|e| L1Error::Refused {
            code: e.code(),
            message: e.to_string(),
            refusal: match &e {
                SubmitError::Refused(refused) => Some((refused.module(), refused.code())),
                _ => None,
            },
        })
    }

    async fn receipt(&self, hash: Hash32) -> Result<Option<L1Receipt>, L1Error> {
        self.node.receipt(&hash).map_err(unavailable)
    }

    async fn is_pending(&self, hash: Hash32) -> Result<bool, L1Error> {
        Ok(self.node.is_pending(&hash))
    }
}

impl L1History for EmbeddedL1 {
    async fn genesis(&self) -> Result<ghostd_types::Genesis, L1Error> {
        Ok(self.node.genesis().clone())
    }

    async fn rollup_state(&self) -> Result<RollupState, L1Error> {
        L1Client::rollup_status(self).await
    }

    async fn batch_commit(
        &self,
        number: u64,
    ) -> Result<Option<ghostd_types::tx::BatchCommit>, L1Error> {
        let Some(record) = self
            .node
            .read(|s| crate::modules::rollup::batch(s, number))
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let block = self
            .node
            .block(record.committed_at)
            .map_err(unavailable)?
            .ok_or_else(|| {
                L1Error::Malformed(format!("block {} is missing", record.committed_at))
            })?;
        find_batch_commit(
            block.transactions,
            number,
            &record.pubdata_hash,
            record.new_root.as_bytes(),
        )
        .filter(|commit| commit.fee_account == record.fee_account)
        .map(Some)
        .ok_or_else(|| {
            L1Error::Malformed(format!(
                "block {} holds no commit of batch {number} with the recorded pubdata hash",
                record.committed_at
            ))
        })
    }
}

//! The rollup namespace (`rollup_*`): the module's counters, batches and the
//! deposit queue.

use ghostd_types::api::{
    BatchView, DEPOSITS_PER_CALL_MAX, DepositView, RollupApiServer, RollupView, RpcResult,
};
use ghostplane_rpc::internal;

use ghostd_module::ChainView;

use crate as rollup;

/// The `rollup_*` handlers, over the chain's committed state.
pub struct RollupRpc {
    chain: ChainView,
}

impl RollupRpc {
    /// Handlers over `chain`.
    pub fn new(chain: ChainView) -> Self {
        Self { chain }
    }
}

impl RollupApiServer for RollupRpc {
    fn status(&self) -> RpcResult<RollupView> {
        let rollup = self.chain.read(rollup::status).map_err(internal)?;
        Ok(RollupView::from(&rollup))
    }

    fn get_batch(&self, number: u64) -> RpcResult<Option<BatchView>> {
        let record = self
            .chain
            .read(|s| rollup::batch(s, number))
            .map_err(internal)?;
        Ok(record.as_ref().map(BatchView::from))
    }

    fn get_deposits(&self, from: u64, max: u64) -> RpcResult<Vec<DepositView>> {
        let max = max.min(DEPOSITS_PER_CALL_MAX);
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            let Some(event) = self
                .chain
                .read(|s| rollup::deposit(s, index))
                .map_err(internal)?
            else {
                break;
            };
            out.push(DepositView::from(&event));
        }
        Ok(out)
    }
}

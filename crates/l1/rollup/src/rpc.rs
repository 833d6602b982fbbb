//! The rollup namespace (`rollup_*`): the module's counters, batches, the
//! deposit queue, contracts' storage roots and exit mode.

use ghostd_types::api::{
    BatchView, ContractStorageView, DEPOSITS_PER_CALL_MAX, DepositView, ExitView, FeesView,
    ForcedWithdrawalView, RollupApiServer, RollupView, RpcResult,
};
use ghostd_types::rollup::ContractFees;
use ghostplane_primitives::AccountId;
use ghostplane_primitives::ContractAddress;
use ghostplane_rpc::{internal, invalid_params};

use ghostd_module::ChainView;

use std::sync::Arc;

use crate as rollup;
use crate::verify_log::VerifyLog;

/// The `rollup_*` handlers, over the chain's committed state.
pub struct RollupRpc {
    chain: ChainView,
    fees: ContractFees,
    verify_log: Arc<VerifyLog>,
}

impl RollupRpc {
    /// Handlers over `chain`, publishing the genesis's `fees` and this node's
    /// verify times from `verify_log`.
    pub fn new(chain: ChainView, fees: ContractFees, verify_log: Arc<VerifyLog>) -> Self {
        Self {
            chain,
            fees,
            verify_log,
        }
    }

    fn view(&self, record: &rollup::BatchRecord) -> BatchView {
        let mut view = BatchView::from(record);
        view.verify = self.verify_log.batch(record.number);
        view
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
        Ok(record.as_ref().map(|r| self.view(r)))
    }

    fn get_batch_of_block(&self, l2_block: u64) -> RpcResult<Option<BatchView>> {
        // Batches cover consecutive L2 blocks in order: a binary search over the
        // committed ones (at most ~64 reads), all in one read of the state so a
        // revert cannot land mid-search.
        let found = self
            .chain
            .read(|s| -> Result<Option<_>, String> {
                let committed = rollup::status(s).map_err(|e| e.to_string())?.committed;
                let (mut low, mut high) = (1u64, committed);
                while low <= high {
                    let middle = low + (high - low) / 2;
                    let Some(record) = rollup::batch(s, middle).map_err(|e| e.to_string())? else {
                        return Ok(None);
                    };
                    if record.last_block < l2_block {
                        low = middle + 1;
                    } else if record.first_block > l2_block {
                        high = middle - 1;
                    } else {
                        return Ok(Some(record));
                    }
                }
                Ok(None)
            })
            .map_err(internal)?;
        Ok(found.as_ref().map(|r| self.view(r)))
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

    fn get_forced_withdrawals(&self, from: u64, max: u64) -> RpcResult<Vec<ForcedWithdrawalView>> {
        let max = max.min(DEPOSITS_PER_CALL_MAX);
        let mut out = Vec::new();
        for index in from..from.saturating_add(max) {
            let Some(event) = self
                .chain
                .read(|s| rollup::forced::forced_withdrawal(s, index))
                .map_err(internal)?
            else {
                break;
            };
            out.push(ForcedWithdrawalView::from(&event));
        }
        Ok(out)
    }

    fn get_forced_withdrawal_count(&self, account: u32) -> RpcResult<u64> {
        let account =
            AccountId::new(account).map_err(|e| invalid_params(format!("account: {e}")))?;
        self.chain
            .read(|s| rollup::forced::request_count(s, account))
            .map_err(internal)
    }

    fn get_contract_storage(&self, address: String) -> RpcResult<Option<ContractStorageView>> {
        let address = ContractAddress::from_hex(&address)
            .map_err(|e| invalid_params(format!("address: {e}")))?;
        let found = self
            .chain
            .read(|s| -> Result<_, ghostd_module::state::StateError> {
                let Some(storage) = rollup::storage::contract_storage(s, &address)? else {
                    return Ok(None);
                };
                let key = match AccountId::new(storage.account) {
                    Ok(id) => rollup::l2_account(s, id)?.map(|a| a.key),
                    Err(_) => None,
                };
                Ok(Some((storage, key)))
            })
            .map_err(internal)?;
        Ok(found.map(|(storage, key)| ContractStorageView {
            account: storage.account,
            code_hash: hex::encode(storage.code_hash),
            storage_root: hex::encode(storage.root),
            key_field: key.map(|k| k.to_hex()).unwrap_or_default(),
        }))
    }

    fn fees(&self) -> RpcResult<FeesView> {
        Ok(FeesView {
            fuel_price: self.fees.fuel_price.to_string(),
            fee_min: self.fees.fee_min.to_string(),
            data_price: self.fees.data_price.to_string(),
        })
    }

    fn get_exit(&self) -> RpcResult<Option<ExitView>> {
        let exit = self
            .chain
            .read(rollup::exit::exit_state)
            .map_err(internal)?;
        Ok(exit.as_ref().map(ExitView::from))
    }

    fn exit_claimed(&self, account: u32, token: String) -> RpcResult<bool> {
        let account =
            AccountId::new(account).map_err(|e| invalid_params(format!("account: {e}")))?;
        let token = ghostplane_primitives::TokenId::from_symbol(&token).ok_or_else(|| {
            invalid_params(format!(
                "unknown token {token:?}: use GCC, SPIRIT, MANA or GHOST"
            ))
        })?;
        self.chain
            .read(|s| rollup::exit::claimed(s, account, token))
            .map_err(internal)
    }
}

//! A transaction's view of state: committed state, plus the writes of earlier
//! transactions of the block, plus its own writes; it records what it read.

use std::sync::Arc;

use ahash::AHashMap;
use ghostplane_primitives::{
    AccountId, Amount, BalanceRead, ContractAddress, Hash32, PublicKey, StorageSlot, TokenId,
};

use crate::state::{AccountRecord, StateKey, StateReader, StateValue, StateWrite, StoreError};

/// The writes of the block's already-committed transactions.
pub(crate) type Overlay = AHashMap<StateKey, Option<StateValue>>;

/// One transaction's view. Owned (no borrowed fields) so a contract call can move it
/// into a wasmtime `Store`, whose data must be `'static`.
pub(crate) struct TxView {
    base: Arc<dyn StateReader>,
    overlay: Overlay,
    /// Keys read from the overlay or the base (not from the transaction's own writes):
    /// what the scheduler validates against later writers.
    pub(crate) reads: Vec<StateKey>,
    /// The transaction's writes, in first-write order, one entry per key.
    pub(crate) writes: Vec<StateWrite>,
    /// Contract storage slots read from the overlay or the base (not from the
    /// transaction's own writes), first read first, each once, with the value found:
    /// the read set the L1 re-executes a contract transaction against.
    pub(crate) storage_reads: Vec<StorageSlot>,
    /// Balances read from the overlay or the base, first read first, each once, with
    /// the amount found: recorded only for contract transactions
    /// ([`TxView::record_balances`]), whose traces carry them.
    pub(crate) balance_reads: Vec<BalanceRead>,
    record_balances: bool,
}

impl TxView {
    pub(crate) fn new(base: Arc<dyn StateReader>, overlay: Overlay) -> Self {
        Self {
            base,
            overlay,
            reads: Vec::new(),
            writes: Vec::new(),
            storage_reads: Vec::new(),
            balance_reads: Vec::new(),
            record_balances: false,
        }
    }

    /// Records the balances read from here on (a contract transaction's trace
    /// carries them; a native one's allocates nothing for them).
    pub(crate) fn record_balances(&mut self) {
        self.record_balances = true;
    }

    /// Gives the overlay back to the scheduler.
    pub(crate) fn into_parts(self) -> (Overlay, Vec<StateKey>, Vec<StateWrite>) {
        (self.overlay, self.reads, self.writes)
    }

    pub(crate) fn get(&mut self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        if let Some((_, value)) = self.writes.iter().find(|(k, _)| k == key) {
            return Ok(value.clone());
        }
        self.reads.push(*key);
        let value = match self.overlay.get(key) {
            Some(value) => value.clone(),
            None => self.base.get(key)?,
        };
        if let StateKey::Storage(contract, slot) = key
            && !self.has_read_storage(contract, slot)
        {
            self.storage_reads.push(StorageSlot {
                contract: *contract,
                key: Hash32(*slot),
                value: match &value {
                    Some(StateValue::Bytes(bytes)) => Some(bytes.to_vec()),
                    _ => None,
                },
            });
        }
        if let StateKey::Balance(account, token) = key
            && self.record_balances
            && !self.has_read_balance(*account, *token)
        {
            self.balance_reads.push(BalanceRead {
                account: *account,
                token: *token,
                amount: match &value {
                    Some(StateValue::Balance(amount)) => *amount,
                    _ => 0,
                },
            });
        }
        Ok(value)
    }

    fn has_read_balance(&self, account: AccountId, token: TokenId) -> bool {
        self.balance_reads
            .iter()
            .any(|read| read.account == account && read.token == token)
    }

    /// Whether reading `account`'s balance of `token` would add to the balance read
    /// set (it is neither written by the transaction nor read before).
    pub(crate) fn is_new_balance_read(&self, account: AccountId, token: TokenId) -> bool {
        let key = StateKey::Balance(account, token);
        !self.writes.iter().any(|(k, _)| *k == key) && !self.has_read_balance(account, token)
    }

    /// Whether storage `slot` of `contract` is already in the read set.
    fn has_read_storage(&self, contract: &ContractAddress, slot: &[u8; 32]) -> bool {
        self.storage_reads
            .iter()
            .any(|read| read.contract == *contract && read.key.0 == *slot)
    }

    /// Whether reading storage `slot` of `contract` would add a slot to the read set
    /// (it is neither written by the transaction nor read before).
    pub(crate) fn is_new_storage_read(&self, contract: &ContractAddress, slot: &[u8; 32]) -> bool {
        let key = StateKey::Storage(*contract, *slot);
        !self.writes.iter().any(|(k, _)| *k == key) && !self.has_read_storage(contract, slot)
    }

    /// The storage slots the transaction changed, with their final values, in
    /// first-write order.
    pub(crate) fn storage_writes(&self) -> Vec<StorageSlot> {
        self.writes
            .iter()
            .filter_map(|(key, value)| match key {
                StateKey::Storage(contract, slot) => Some(StorageSlot {
                    contract: *contract,
                    key: Hash32(*slot),
                    value: match value {
                        Some(StateValue::Bytes(bytes)) => Some(bytes.to_vec()),
                        _ => None,
                    },
                }),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn put(&mut self, key: StateKey, value: Option<StateValue>) {
        match self.writes.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.writes.push((key, value)),
        }
    }

    /// A savepoint to roll back to with [`TxView::rollback`].
    pub(crate) fn savepoint(&self) -> Vec<StateWrite> {
        self.writes.clone()
    }

    /// Forgets every write made since `savepoint` (reads stay recorded: they still
    /// decided the outcome).
    pub(crate) fn rollback(&mut self, savepoint: Vec<StateWrite>) {
        self.writes = savepoint;
    }

    pub(crate) fn account(&mut self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        Ok(self.account_kind(id)?.map(|(record, _)| record))
    }

    /// Account `id` and whether it is a contract's.
    pub(crate) fn account_kind(
        &mut self,
        id: AccountId,
    ) -> Result<Option<(AccountRecord, bool)>, StoreError> {
        Ok(match self.get(&StateKey::Account(id))? {
            Some(StateValue::Account(record)) => Some((record, false)),
            Some(StateValue::ContractAccount(record)) => Some((record, true)),
            _ => None,
        })
    }

    pub(crate) fn balance(&mut self, id: AccountId, token: TokenId) -> Result<Amount, StoreError> {
        Ok(match self.get(&StateKey::Balance(id, token))? {
            Some(StateValue::Balance(amount)) => amount,
            _ => 0,
        })
    }

    pub(crate) fn set_balance(&mut self, id: AccountId, token: TokenId, amount: Amount) {
        self.put(
            StateKey::Balance(id, token),
            Some(StateValue::Balance(amount)),
        );
    }

    pub(crate) fn account_of(&mut self, key: &PublicKey) -> Result<Option<AccountId>, StoreError> {
        Ok(match self.get(&StateKey::KeyIndex(*key))? {
            Some(StateValue::AccountId(id)) => Some(id),
            _ => None,
        })
    }

    pub(crate) fn next_account_id(&mut self) -> Result<u32, StoreError> {
        Ok(match self.get(&StateKey::NextAccountId)? {
            Some(StateValue::Counter(next)) => next,
            _ => 0,
        })
    }
}

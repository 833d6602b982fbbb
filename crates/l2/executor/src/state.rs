//! The flat state model: keys, values, their byte encodings, and the read boundary.

use std::sync::Arc;

use ghostplane_primitives::{
    AccountId, Amount, ContractAddress, Hash32, Nonce, PublicKey, TokenId,
};

/// One addressable piece of L2 state.
///
/// Every read and write of execution goes through a `StateKey`, which is what the
/// parallel scheduler tracks for conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKey {
    /// An account's key and nonce.
    Account(AccountId),
    /// One token balance of an account (absent = 0).
    Balance(AccountId, TokenId),
    /// Which account a public key belongs to.
    KeyIndex(PublicKey),
    /// The next account id to hand out.
    NextAccountId,
    /// A deployed contract: its code hash and account.
    Contract(ContractAddress),
    /// Contract code by hash (immutable once written).
    Code(Hash32),
    /// One 32-byte-keyed contract storage slot.
    Storage(ContractAddress, [u8; 32]),
}

/// An account's identity and replay counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRecord {
    /// The key fixed at creation (a contract's: [`contract_account_key`]).
    ///
    /// [`contract_account_key`]: ghostplane_primitives::tx::contract_account_key
    pub public_key: PublicKey,
    /// The next nonce the account must use; a contract's counts the token moves it
    /// made (as its leaf in the proven tree does).
    pub nonce: Nonce,
}

impl AccountRecord {
    /// A new account.
    pub fn user(public_key: PublicKey) -> Self {
        Self {
            public_key,
            nonce: 0,
        }
    }
}

/// A deployed contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractRecord {
    /// Its code's hash.
    pub code_hash: Hash32,
    /// Its account (balances, moves).
    pub account: AccountId,
}

/// The value stored under a [`StateKey`]; the variant matches the key's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateValue {
    /// For [`StateKey::Account`] of a user's account.
    Account(AccountRecord),
    /// For [`StateKey::Account`] of a contract's account: it holds tokens and moves
    /// them by its code, and never sends a transaction. (A variant rather than a
    /// flag in [`AccountRecord`], which would widen every state value by 16 bytes:
    /// measured 15 % slower native execution.)
    ContractAccount(AccountRecord),
    /// For [`StateKey::Balance`].
    Balance(Amount),
    /// For [`StateKey::KeyIndex`].
    AccountId(AccountId),
    /// For [`StateKey::NextAccountId`].
    Counter(u32),
    /// For [`StateKey::Contract`].
    Contract(ContractRecord),
    /// For [`StateKey::Code`] and [`StateKey::Storage`].
    Bytes(Arc<[u8]>),
}

/// A write: `None` deletes the key.
pub type StateWrite = (StateKey, Option<StateValue>);

/// Errors reading or writing the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB failed (I/O error, corruption, ...).
    #[error("state store I/O failed: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// A stored value does not decode: the database is corrupt or from another version.
    #[error("state store holds a corrupt value under {what}: {reason}")]
    Corrupt {
        /// Which key or column.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A column family is missing: the directory is not a Ghostplane state store.
    #[error("state store is missing column family {0}: not a Ghostplane executor database")]
    MissingColumn(&'static str),
    /// The code store a re-execution reads (the L1's records) failed, or went away.
    #[error("code store failed: {0}")]
    CodeStore(String),
    /// The block does not follow the last committed block.
    #[error("block {got} does not follow the last committed block {last:?}")]
    OutOfOrder {
        /// The block offered.
        got: u64,
        /// The last committed block, if any.
        last: Option<u64>,
    },
}

/// Read access to committed state. Implementations must be safe to share across the
/// executor's threads; reads never observe a half-committed block.
pub trait StateReader: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError>;
}

impl StateKey {
    /// The column family the key lives in.
    pub(crate) fn column(&self) -> &'static str {
        match self {
            StateKey::Account(_) => crate::store::CF_ACCOUNTS,
            StateKey::Balance(..) => crate::store::CF_BALANCES,
            StateKey::KeyIndex(_) => crate::store::CF_KEY_INDEX,
            StateKey::NextAccountId => crate::store::CF_META,
            StateKey::Contract(_) => crate::store::CF_CONTRACTS,
            StateKey::Code(_) => crate::store::CF_CODE,
            StateKey::Storage(..) => crate::store::CF_STORAGE,
        }
    }

    /// The key's bytes within its column family. Integers are big-endian so that
    /// RocksDB's order matches numeric order.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            StateKey::Account(id) => id.get().to_be_bytes().to_vec(),
            StateKey::Balance(id, token) => {
                let mut key = id.get().to_be_bytes().to_vec();
                key.push(token.id());
                key
            }
            StateKey::KeyIndex(key) => key.0.to_vec(),
            StateKey::NextAccountId => b"next_account_id".to_vec(),
            StateKey::Contract(address) => address.0.to_vec(),
            StateKey::Code(hash) => hash.0.to_vec(),
            StateKey::Storage(address, slot) => {
                let mut key = Vec::with_capacity(64);
                key.extend_from_slice(&address.0);
                key.extend_from_slice(slot);
                key
            }
        }
    }

    /// Decodes a stored value of this key's kind.
    pub(crate) fn decode_value(&self, bytes: &[u8]) -> Result<StateValue, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            what: format!("{self:?}"),
            reason: reason.to_string(),
        };
        Ok(match self {
            StateKey::Account(_) => {
                // 40 bytes for a user account, 41 (a flag) for a contract's.
                let contract = match bytes.len() {
                    40 => false,
                    41 if bytes[40] == 1 => true,
                    _ => return Err(corrupt("account is not 40 or 41 bytes")),
                };
                let mut public_key = [0u8; 32];
                public_key.copy_from_slice(&bytes[..32]);
                let mut nonce = [0u8; 8];
                nonce.copy_from_slice(&bytes[32..40]);
                let record = AccountRecord {
                    public_key: PublicKey(public_key),
                    nonce: u64::from_le_bytes(nonce),
                };
                if contract {
                    StateValue::ContractAccount(record)
                } else {
                    StateValue::Account(record)
                }
            }
            StateKey::Balance(..) => {
                let bytes: [u8; 16] = bytes
                    .try_into()
                    .map_err(|_| corrupt("balance is not 16 bytes"))?;
                StateValue::Balance(u128::from_le_bytes(bytes))
            }
            StateKey::KeyIndex(_) => {
                let bytes: [u8; 4] = bytes
                    .try_into()
                    .map_err(|_| corrupt("account id is not 4 bytes"))?;
                let id = AccountId::new(u32::from_le_bytes(bytes))
                    .map_err(|e| corrupt(&e.to_string()))?;
                StateValue::AccountId(id)
            }
            StateKey::NextAccountId => {
                let bytes: [u8; 4] = bytes
                    .try_into()
                    .map_err(|_| corrupt("counter is not 4 bytes"))?;
                StateValue::Counter(u32::from_le_bytes(bytes))
            }
            StateKey::Contract(_) => {
                let bytes: &[u8; 36] = bytes
                    .try_into()
                    .map_err(|_| corrupt("contract record is not 36 bytes"))?;
                let mut hash = [0u8; 32];
                hash.copy_from_slice(&bytes[..32]);
                let mut id = [0u8; 4];
                id.copy_from_slice(&bytes[32..]);
                let account =
                    AccountId::new(u32::from_le_bytes(id)).map_err(|e| corrupt(&e.to_string()))?;
                StateValue::Contract(ContractRecord {
                    code_hash: Hash32(hash),
                    account,
                })
            }
            StateKey::Code(_) | StateKey::Storage(..) => StateValue::Bytes(Arc::from(bytes)),
        })
    }
}

impl StateValue {
    /// The value's stored bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            StateValue::Account(record) | StateValue::ContractAccount(record) => {
                let mut bytes = Vec::with_capacity(41);
                bytes.extend_from_slice(&record.public_key.0);
                bytes.extend_from_slice(&record.nonce.to_le_bytes());
                if let StateValue::ContractAccount(_) = self {
                    bytes.push(1);
                }
                bytes
            }
            StateValue::Balance(amount) => amount.to_le_bytes().to_vec(),
            StateValue::AccountId(id) => id.get().to_le_bytes().to_vec(),
            StateValue::Counter(value) => value.to_le_bytes().to_vec(),
            StateValue::Contract(record) => {
                let mut bytes = record.code_hash.0.to_vec();
                bytes.extend_from_slice(&record.account.get().to_le_bytes());
                bytes
            }
            StateValue::Bytes(bytes) => bytes.to_vec(),
        }
    }
}

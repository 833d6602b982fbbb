//! Module state: a flat key-value space in one RocksDB column family, read through
//! layers of uncommitted writes.
//!
//! A block gets a [`Layer`] over the committed state; each transaction gets a child
//! layer over the block's. A transaction that fails drops its layer, so a refused
//! call changes nothing; one that succeeds merges its writes into the block layer.
//! The block layer's writes reach RocksDB in the block's single atomic write.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};

/// Column family holding module state.
pub const CF_STATE: &str = "state";

/// Why state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// RocksDB failed.
    #[error("storage: {0}")]
    Db(#[from] rocksdb::Error),
    /// A stored value does not decode.
    #[error("stored state under {key} is corrupt: {reason}")]
    Corrupt {
        /// The key (hex).
        key: String,
        /// Decoder message.
        reason: String,
    },
    /// A column family is missing.
    #[error("storage column {0} is missing")]
    MissingColumn(&'static str),
    /// This node could not run a contract it re-executes (its runtime or thread
    /// failed): a node failure, not a verdict on the transaction.
    #[error("this node failed to re-execute a contract: {0}")]
    Reexecution(String),
}

/// Read access to state.
pub trait Read {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

/// A state held in memory: the base layer of module unit tests and benches.
#[derive(Default)]
pub struct MemState(pub std::collections::HashMap<Vec<u8>, Vec<u8>>);

impl Read for MemState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.0.get(key).cloned())
    }
}

/// The committed state in RocksDB.
pub struct Committed<'a> {
    db: &'a rocksdb::DB,
}

impl<'a> Committed<'a> {
    /// Reads from `db`'s state column.
    pub fn new(db: &'a rocksdb::DB) -> Self {
        Self { db }
    }
}

impl Read for Committed<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let cf = self
            .db
            .cf_handle(CF_STATE)
            .ok_or(StateError::MissingColumn(CF_STATE))?;
        Ok(self.db.get_cf(cf, key)?)
    }
}

/// Pending writes (`None` = delete), in key order.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Uncommitted writes over a parent view.
pub struct Layer<'a> {
    parent: &'a dyn Read,
    writes: Writes,
}

impl Read for Layer<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.parent.get(key),
        }
    }
}

impl<'a> Layer<'a> {
    /// An empty layer over `parent`.
    pub fn new(parent: &'a dyn Read) -> Self {
        Self {
            parent,
            writes: Writes::new(),
        }
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, key: Vec<u8>, value: &impl BorshSerialize) {
        let mut bytes = Vec::new();
        #[allow(clippy::expect_used)]
        value
            .serialize(&mut bytes)
            .expect("borsh serialization into a Vec is infallible");
        self.writes.insert(key, Some(bytes));
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Takes the writes out (to merge into the parent, or to commit).
    pub fn into_writes(self) -> Writes {
        self.writes
    }

    /// Applies a child's writes.
    pub fn absorb(&mut self, writes: Writes) {
        self.writes.extend(writes);
    }

    /// The pending writes.
    pub fn writes(&self) -> &Writes {
        &self.writes
    }
}

/// Reads and decodes the value under `key`.
pub fn get<T: BorshDeserialize>(state: &dyn Read, key: &[u8]) -> Result<Option<T>, StateError> {
    match state.get(key)? {
        None => Ok(None),
        Some(bytes) => T::try_from_slice(&bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                key: hex::encode(key),
                reason: e.to_string(),
            }),
    }
}

/// A state key: a module prefix followed by parts.
pub fn key(prefix: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = prefix.as_bytes().to_vec();
    for part in parts {
        out.push(b'/');
        out.extend_from_slice(part);
    }
    out
}

//! The write-ahead log of accepted transactions: RocksDB, key = admission sequence
//! number (u64 big-endian), value = the signed transaction's encoding.
//!
//! Every append is part of a group: one `WriteBatch`, written with `sync`, for all
//! transactions the WAL thread found waiting. A transaction is acknowledged as
//! accepted only after its group is on disk. Entries are deleted once their
//! transaction is executed (or dropped) and the block is durable in the executor's
//! state, so the WAL holds only what is still pending.

use std::path::Path;

use rocksdb::{DB, IteratorMode, Options, WriteBatch, WriteOptions};

/// A WAL failure: the sequencer cannot promise durability and stops accepting.
#[derive(Debug, thiserror::Error)]
#[error("write-ahead log failed: {0}")]
pub struct WalError(#[from] rocksdb::Error);

/// The WAL database.
pub struct Wal {
    db: DB,
}

/// One change in a group commit.
pub enum WalOp<'a> {
    /// Record an accepted transaction.
    Put(u64, &'a [u8]),
    /// Forget one (executed, dropped or replaced).
    Delete(u64),
}

impl Wal {
    /// Opens or creates the WAL in `path`.
    pub fn open(path: &Path) -> Result<Self, WalError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        // Memtable memory bound (records are deleted within a block or two).
        options.set_db_write_buffer_size(32 * 1024 * 1024);
        Ok(Self {
            db: DB::open(&options, path)?,
        })
    }

    /// Applies `ops` as one atomic, fsynced write.
    pub fn write<'a>(&self, ops: impl IntoIterator<Item = WalOp<'a>>) -> Result<(), WalError> {
        let mut batch = WriteBatch::default();
        for op in ops {
            match op {
                WalOp::Put(seq, bytes) => batch.put(seq.to_be_bytes(), bytes),
                WalOp::Delete(seq) => batch.delete(seq.to_be_bytes()),
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let mut options = WriteOptions::default();
        // The acknowledgement promises durability: one fsync per group.
        options.set_sync(true);
        self.db.write_opt(batch, &options)?;
        Ok(())
    }

    /// Every entry, in sequence order (for replay after a restart). Entries whose key
    /// is not 8 bytes are skipped: they cannot have been written by this code.
    pub fn entries(&self) -> Result<Vec<(u64, Vec<u8>)>, WalError> {
        let mut entries = Vec::new();
        for item in self.db.iterator(IteratorMode::Start) {
            let (key, value) = item?;
            if let Ok(key) = <[u8; 8]>::try_from(key.as_ref()) {
                entries.push((u64::from_be_bytes(key), value.to_vec()));
            }
        }
        Ok(entries)
    }
}

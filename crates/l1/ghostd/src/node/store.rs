//! The chain store: the RocksDB (opened once, genesis written when new), the head,
//! blocks, receipts, commit certificates and the mempool's `pending` column.
//!
//! Every write that must survive a crash is one synced `WriteBatch`: a block with
//! its state, receipts, head (and certificate) in [`ChainStore::write_block`],
//! admitted transactions in [`ChainStore::write_pending`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::RwLock;

use borsh::BorshDeserialize;
use ghostd_types::Genesis;
use ghostd_types::consensus::Commit;
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Codec, Hash32, Nonce, PublicKey};
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};

use super::{
    CF_BLOCKS, CF_COMMITS, CF_CONSENSUS, CF_META, CF_PENDING, CF_RECEIPTS, L1_OPEN_FILES_MAX,
    META_GENESIS, META_HEAD, NodeError, StoredBlock, nonce_key,
};
use crate::module::Modules;
use crate::state::{self, CF_STATE, Committed, Layer, StateError};
use crate::types::{L1Header, L1Receipt, SignedL1Transaction};

/// The node's RocksDB and the head header it holds (kept in memory; the `meta`
/// column has it durably).
pub(super) struct ChainStore {
    db: DB,
    head: RwLock<L1Header>,
}

impl ChainStore {
    /// Opens the store in `dir`, writing `genesis` (through `modules`' genesis
    /// hooks) if it is new. An existing store keeps its own genesis (a different
    /// one given here is an error).
    pub(super) fn open(
        dir: &Path,
        genesis: &Genesis,
        modules: &Modules,
    ) -> Result<Self, NodeError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        // All column families' memtables together (each would otherwise take up to
        // two 64 MiB memtables).
        options.set_db_write_buffer_size(64 * 1024 * 1024);
        // RocksDB keeps every table file open by default (-1): a large chain
        // would take file descriptors the sockets (RPC, p2p, DNS over TCP) need.
        options.set_max_open_files(L1_OPEN_FILES_MAX);
        let columns = [
            CF_STATE,
            CF_BLOCKS,
            CF_RECEIPTS,
            CF_META,
            CF_PENDING,
            CF_COMMITS,
            CF_CONSENSUS,
        ]
        .into_iter()
        .map(|name| ColumnFamilyDescriptor::new(name, Options::default()));
        let db = DB::open_cf_descriptors(&options, dir, columns)?;
        let meta = db.cf_handle(CF_META).ok_or(NodeError::Corrupt("meta"))?;
        let head = match db.get_cf(meta, META_HEAD)? {
            Some(bytes) => {
                let stored = db
                    .get_cf(meta, META_GENESIS)?
                    .ok_or(NodeError::Corrupt("genesis"))?;
                if stored != to_bytes(genesis) {
                    return Err(NodeError::Genesis(
                        "the data directory holds a chain with another genesis; use another directory".into(),
                    ));
                }
                L1Header::decode(&bytes).map_err(|_| NodeError::Corrupt("head"))?
            }
            None => write_genesis(&db, genesis, modules)?,
        };
        Ok(Self {
            db,
            head: RwLock::new(head),
        })
    }

    /// The latest block header.
    pub(super) fn head(&self) -> L1Header {
        self.head.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes `header` (just written by [`ChainStore::write_block`]) the head.
    pub(super) fn set_head(&self, header: &L1Header) {
        *self.head.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
    }

    /// The committed state.
    pub(super) fn committed(&self) -> Committed<'_> {
        Committed::new(&self.db)
    }

    /// The next nonce of `address` (committed state).
    pub(super) fn nonce(&self, address: &PublicKey) -> Result<Nonce, StateError> {
        Ok(state::get(&self.committed(), &nonce_key(address))?.unwrap_or(0))
    }

    /// A column family (all are created at open).
    pub(super) fn cf(&self, name: &'static str) -> Result<&ColumnFamily, NodeError> {
        self.db.cf_handle(name).ok_or(NodeError::Corrupt(name))
    }

    /// The database, for the consensus column ([`super::bft`]).
    pub(super) fn db(&self) -> &DB {
        &self.db
    }

    /// The receipt of an included transaction.
    pub(super) fn receipt(&self, hash: &Hash32) -> Result<Option<L1Receipt>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_RECEIPTS)
            .ok_or(NodeError::Corrupt("receipts"))?;
        match self.db.get_cf(cf, hash.0)? {
            Some(bytes) => Ok(Some(
                L1Receipt::decode(&bytes).map_err(|_| NodeError::Corrupt("receipt"))?,
            )),
            None => Ok(None),
        }
    }

    /// A stored block.
    pub(super) fn block(&self, number: u64) -> Result<Option<StoredBlock>, NodeError> {
        let cf = self
            .db
            .cf_handle(CF_BLOCKS)
            .ok_or(NodeError::Corrupt("blocks"))?;
        match self.db.get_cf(cf, number.to_be_bytes())? {
            Some(bytes) => Ok(Some(
                StoredBlock::try_from_slice(&bytes).map_err(|_| NodeError::Corrupt("block"))?,
            )),
            None => Ok(None),
        }
    }

    /// The commit certificate stored with block `height` (BFT chains).
    pub(super) fn commit_certificate(&self, height: u64) -> Result<Option<Commit>, NodeError> {
        let cf = self.cf(CF_COMMITS)?;
        match self.db.get_cf(cf, height.to_be_bytes())? {
            Some(bytes) => Ok(Some(
                Commit::decode(&bytes).map_err(|_| NodeError::Corrupt("commit certificate"))?,
            )),
            None => Ok(None),
        }
    }

    /// Writes a block in one synced write: its state writes, the block, its
    /// receipts, the head, the deletion of the mempool entries it settled
    /// (`settled`: their sequence numbers) and, on a BFT chain, its commit
    /// certificate. Does not move the in-memory head ([`ChainStore::set_head`]).
    pub(super) fn write_block(
        &self,
        writes: &state::Writes,
        header: &L1Header,
        txs: &[SignedL1Transaction],
        receipts: &[L1Receipt],
        settled: &HashSet<u64>,
        commit: Option<&Commit>,
    ) -> Result<(), NodeError> {
        let mut batch = WriteBatch::default();
        stage(&self.db, &mut batch, writes, header, txs, receipts)?;
        let pending = self.cf(CF_PENDING)?;
        for seq in settled {
            batch.delete_cf(pending, seq.to_be_bytes());
        }
        if let Some(commit) = commit {
            batch.put_cf(
                self.cf(CF_COMMITS)?,
                commit.height.to_be_bytes(),
                commit.encode(),
            );
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch, &options)?;
        Ok(())
    }

    /// Visits the `pending` column in key (arrival) order with each entry's
    /// sequence number and transaction; the entries `keep` refuses are deleted
    /// (one write, not synced: an entry that survives a crash is refused again).
    pub(super) fn restore_pending(
        &self,
        mut keep: impl FnMut(u64, SignedL1Transaction) -> Result<bool, NodeError>,
    ) -> Result<(), NodeError> {
        let pending = self.cf(CF_PENDING)?;
        let mut obsolete = WriteBatch::default();
        for item in self.db.iterator_cf(pending, rocksdb::IteratorMode::Start) {
            let (key, value) = item?;
            let seq = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| NodeError::Corrupt("pending key"))?;
            let tx = SignedL1Transaction::decode(&value)
                .map_err(|_| NodeError::Corrupt("pending transaction"))?;
            if !keep(seq, tx)? {
                obsolete.delete_cf(pending, key);
            }
        }
        self.db.write(obsolete)?;
        Ok(())
    }

    /// Writes admitted transactions (sequence number, encoding) to the
    /// `pending` column in one synced write: durable before acknowledged.
    pub(super) fn write_pending(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), NodeError> {
        let pending = self.cf(CF_PENDING)?;
        let mut batch = WriteBatch::default();
        for (seq, tx) in entries {
            batch.put_cf(pending, seq.to_be_bytes(), tx);
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch, &options)?;
        Ok(())
    }

    /// Deletes entries (by sequence number) from the `pending` column (not synced:
    /// mempool policy, not chain state; an entry that survives a crash is refused
    /// or expires again after the restart).
    pub(super) fn delete_pending(
        &self,
        seqs: impl IntoIterator<Item = u64>,
    ) -> Result<(), NodeError> {
        let pending = self.cf(CF_PENDING)?;
        let mut batch = WriteBatch::default();
        for seq in seqs {
            batch.delete_cf(pending, seq.to_be_bytes());
        }
        self.db.write(batch)?;
        Ok(())
    }
}

/// Writes block 0: the modules' genesis state, in one synced write with the
/// genesis itself.
fn write_genesis(db: &DB, genesis: &Genesis, modules: &Modules) -> Result<L1Header, NodeError> {
    let committed = Committed::new(db);
    let mut layer = Layer::new(&committed);
    modules
        .genesis(&mut layer, genesis)
        .map_err(|e| NodeError::Genesis(e.to_string()))?;
    let header = L1Header {
        number: 0,
        parent_hash: Hash32([0; 32]),
        timestamp_ms: genesis.timestamp_ms,
        transactions_hash: Hash32([0; 32]),
        state_digest: genesis.hash(),
        tx_count: 0,
    };
    let writes = layer.into_writes();
    let mut batch = WriteBatch::default();
    stage(db, &mut batch, &writes, &header, &[], &[])?;
    batch.put_cf(
        db.cf_handle(CF_META).ok_or(NodeError::Corrupt("meta"))?,
        META_GENESIS,
        to_bytes(genesis),
    );
    let mut options = WriteOptions::default();
    options.set_sync(true);
    db.write_opt(batch, &options)?;
    Ok(header)
}

/// Adds a block's state writes, the block, its receipts and the new head to
/// `batch`.
fn stage(
    db: &DB,
    batch: &mut WriteBatch,
    writes: &state::Writes,
    header: &L1Header,
    txs: &[SignedL1Transaction],
    receipts: &[L1Receipt],
) -> Result<(), NodeError> {
    let cf = |name: &'static str| db.cf_handle(name).ok_or(NodeError::Corrupt(name));
    let state_cf = cf(CF_STATE)?;
    for (key, value) in writes {
        match value {
            Some(value) => batch.put_cf(state_cf, key, value),
            None => batch.delete_cf(state_cf, key),
        }
    }
    let block = StoredBlock {
        header: header.clone(),
        transactions: txs.to_vec(),
    };
    batch.put_cf(
        cf(CF_BLOCKS)?,
        header.number.to_be_bytes(),
        to_bytes(&block),
    );
    let receipts_cf = cf(CF_RECEIPTS)?;
    for receipt in receipts {
        batch.put_cf(receipts_cf, receipt.tx_hash.0, receipt.encode());
    }
    batch.put_cf(cf(CF_META)?, META_HEAD, header.encode());
    Ok(())
}

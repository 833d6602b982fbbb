//! Opening the store (and writing the genesis), and reading blocks and receipts
//! back.

use std::sync::{Arc, Mutex, RwLock};

use borsh::BorshDeserialize;
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Codec, Hash32, Nonce};
use rocksdb::{ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};
use tokio::sync::broadcast;

use super::mempool::Mempool;
use super::{
    CF_BLOCKS, CF_COMMITS, CF_CONSENSUS, CF_META, CF_PENDING, CF_RECEIPTS, Ghostd, GhostdConfig,
    Inner, L1_OPEN_FILES_MAX, META_GENESIS, META_HEAD, NodeError, PARKED_BLOCKS_MAX, StoredBlock,
    nonce_key,
};
use crate::module::Modules;
use crate::modules;
use crate::state::{self, CF_STATE, Committed, Layer};
use crate::types::{L1Header, L1Receipt, SignedL1Transaction};
use ghostd_types::Genesis;

impl Ghostd {
    /// Opens the node's store, writing `genesis` if the store is new. An existing
    /// store keeps its own genesis (a different one given here is an error).
    pub fn open(config: GhostdConfig, genesis: &Genesis) -> Result<Self, NodeError> {
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
        let db = DB::open_cf_descriptors(&options, config.data_dir.join("l1"), columns)?;
        if let ghostd_types::consensus::ConsensusMode::Bft(params) = &genesis.consensus {
            params.validate().map_err(NodeError::Genesis)?;
        }
        let modules = modules::all(genesis).map_err(NodeError::Genesis)?;
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
            None => Self::write_genesis(&db, genesis, &modules)?,
        };
        let mut mempool = Mempool::new(config.mempool_max);
        let pending = db
            .cf_handle(CF_PENDING)
            .ok_or(NodeError::Corrupt("pending"))?;
        let committed = Committed::new(&db);
        let mut obsolete = WriteBatch::default();
        for item in db.iterator_cf(pending, rocksdb::IteratorMode::Start) {
            let (key, value) = item?;
            let seq = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| NodeError::Corrupt("pending key"))?;
            let tx = SignedL1Transaction::decode(&value)
                .map_err(|_| NodeError::Corrupt("pending transaction"))?;
            let next: Nonce = state::get(&committed, &nonce_key(&tx.tx.from))?.unwrap_or(0);
            let hash = tx.hash();
            let deadline = head.number + PARKED_BLOCKS_MAX + 1;
            if mempool.restore((seq, hash, tx), next, deadline).is_none() {
                obsolete.delete_cf(pending, key);
            }
        }
        db.write(obsolete)?;
        let (blocks, _) = broadcast::channel(256);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                config,
                genesis: genesis.clone(),
                modules,
                head: RwLock::new(head),
                mempool: Mutex::new(mempool),
                seal: Mutex::new(()),
                blocks,
                gossip: std::sync::OnceLock::new(),
                consensus: RwLock::new(None),
            }),
        })
    }

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
        Self::stage(db, &mut batch, &writes, &header, &[], &[])?;
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

    pub(super) fn stage(
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

    /// The receipt of an included transaction.
    pub fn receipt(&self, hash: &Hash32) -> Result<Option<L1Receipt>, NodeError> {
        let cf = self
            .inner
            .db
            .cf_handle(CF_RECEIPTS)
            .ok_or(NodeError::Corrupt("receipts"))?;
        match self.inner.db.get_cf(cf, hash.0)? {
            Some(bytes) => Ok(Some(
                L1Receipt::decode(&bytes).map_err(|_| NodeError::Corrupt("receipt"))?,
            )),
            None => Ok(None),
        }
    }

    /// A stored block.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>, NodeError> {
        let cf = self
            .inner
            .db
            .cf_handle(CF_BLOCKS)
            .ok_or(NodeError::Corrupt("blocks"))?;
        match self.inner.db.get_cf(cf, number.to_be_bytes())? {
            Some(bytes) => Ok(Some(
                StoredBlock::try_from_slice(&bytes).map_err(|_| NodeError::Corrupt("block"))?,
            )),
            None => Ok(None),
        }
    }
}

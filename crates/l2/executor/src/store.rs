//! RocksDB state store with a block-granular write-back cache.
//!
//! Column families: `accounts` (id → key ‖ nonce), `balances` (id ‖ token → u128),
//! `key_index` (public key → id), `contracts` (address → code hash), `code`
//! (hash → module bytes), `storage` (address ‖ slot → value), `receipts`
//! (tx hash → receipt), `blocks` (number → header), `block_txs` (number → the
//! included transaction hashes), `block_hashes` (hash → number), `block_fees`
//! (number → [`BlockFees`], for `l2_feeHistory`), `meta` (next
//! account id, last header), and the
//! event index (`logs`, `logs_by_contract`, `logs_by_topic`: [`crate::logs`]).
//!
//! A block's writes stay in memory until [`StateStore::commit`] writes them, the
//! receipts, the header and the new "last header" as one RocksDB `WriteBatch` with
//! `sync` on. After a crash the store therefore reopens at the last committed block,
//! with nothing of a later block visible. Committed values are kept in an in-memory
//! cache in front of RocksDB, so hot accounts are read without touching the
//! database. The cache is bounded in bytes (`cache_bytes_max`: its hash table at
//! the size it would grow to, plus the bytes values hold on the heap, such as
//! contract code); a block that would take it past the bound empties it first.

use std::path::Path;
use std::sync::Arc;

use ahash::AHashMap;
use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{
    AccountId, BlockNumber, Codec, Hash32, L2BlockHeader, PublicKey, Receipt, TokenId,
};
use rocksdb::{ColumnFamilyDescriptor, DB, Options, WriteBatch, WriteOptions};

use crate::state::{AccountRecord, StateKey, StateReader, StateValue, StateWrite, StoreError};

pub(crate) const CF_ACCOUNTS: &str = "accounts";
pub(crate) const CF_BALANCES: &str = "balances";
pub(crate) const CF_KEY_INDEX: &str = "key_index";
pub(crate) const CF_CONTRACTS: &str = "contracts";
pub(crate) const CF_CODE: &str = "code";
pub(crate) const CF_STORAGE: &str = "storage";
pub(crate) const CF_RECEIPTS: &str = "receipts";
pub(crate) const CF_BLOCKS: &str = "blocks";
pub(crate) const CF_BLOCK_TXS: &str = "block_txs";
pub(crate) const CF_META: &str = "meta";
/// Per-block pubdata (encoded ops, storage writes last), for settlement.
pub(crate) const CF_BLOCK_OPS: &str = "block_ops";
/// Block hash → number.
pub(crate) const CF_BLOCK_HASHES: &str = "block_hashes";
/// Block number → its [`BlockFees`].
pub(crate) const CF_BLOCK_FEES: &str = "block_fees";
/// Transaction hash → the signed transaction's encoding, for included ones
/// (`l2_getTransaction`).
pub(crate) const CF_TXS: &str = "txs";
/// Meta key: the next L1 deposit queue index the L2 expects.
const META_DEPOSITS_NEXT: &[u8] = b"deposits_next";
/// Meta key: the next L1 forced-withdrawal queue index the L2 expects.
const META_FORCED_NEXT: &[u8] = b"forced_next";

/// Where a block leaves the L2 in the L1's queues: the next deposit and the next
/// forced withdrawal it expects (`None`: the block consumed none of that queue).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueuesNext {
    /// The next deposit's queue index.
    pub deposits: Option<u64>,
    /// The next forced withdrawal's queue index.
    pub forced: Option<u64>,
}

const COLUMNS: [&str; 17] = [
    CF_ACCOUNTS,
    CF_BALANCES,
    CF_KEY_INDEX,
    CF_CONTRACTS,
    CF_CODE,
    CF_STORAGE,
    CF_RECEIPTS,
    CF_BLOCKS,
    CF_BLOCK_TXS,
    CF_META,
    CF_BLOCK_OPS,
    CF_BLOCK_HASHES,
    CF_BLOCK_FEES,
    CF_TXS,
    crate::logs::CF_LOGS,
    crate::logs::CF_LOGS_BY_CONTRACT,
    crate::logs::CF_LOGS_BY_TOPIC,
];

const META_LAST_HEADER: &[u8] = b"last_header";

/// What one block's transactions paid and used (`l2_feeHistory`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockFees {
    /// Items with a receipt (transactions, deposits, forced withdrawals).
    pub items: u32,
    /// Fuel charged, all of them together.
    pub gas_used: u64,
    /// Fees paid (GCC base units).
    pub fees_paid: u128,
    /// The block's pubdata bytes (storage proofs, which settlement adds, excluded).
    pub pubdata_bytes: u64,
}

/// Bound on the state store's memtables, over all column families.
const MEMTABLES_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Default bound on the state cache, in bytes.
pub const CACHE_BYTES_MAX_DEFAULT: usize = 192 * 1024 * 1024;

type Cache = AHashMap<StateKey, Option<StateValue>>;

/// Bytes the cache's hash table takes for `entries` entries: hashbrown keeps a
/// power-of-two bucket count at most 7/8 full, each bucket one entry plus a
/// control byte.
fn table_bytes(entries: usize) -> usize {
    let buckets = (entries.saturating_mul(8) / 7).max(1).next_power_of_two();
    buckets.saturating_mul(std::mem::size_of::<(StateKey, Option<StateValue>)>() + 1)
}

/// Heap bytes a cached value holds outside the table.
fn value_heap_bytes(value: &Option<StateValue>) -> usize {
    match value {
        // The slice plus the `Arc`'s two counters.
        Some(StateValue::Bytes(bytes)) => bytes.len() + 16,
        _ => 0,
    }
}

/// The executor's persistent state.
pub struct StateStore {
    db: Arc<DB>,
    cache: Arc<Cache>,
    cache_bytes_max: usize,
    /// Heap bytes the cached values hold (see [`value_heap_bytes`]).
    cache_heap_bytes: usize,
    last_header: Option<L2BlockHeader>,
}

/// A consistent read view of committed state: the cache and the database as of the
/// last commit. Cheap to clone.
#[derive(Clone)]
pub struct Snapshot {
    db: Arc<DB>,
    cache: Arc<Cache>,
}

impl StateStore {
    /// Opens (or creates) the store in `path`.
    pub fn open(path: &Path, cache_bytes_max: usize) -> Result<Self, StoreError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        // All column families' memtables together: without it each of the eleven
        // may hold two 64 MiB memtables, which under load is most of the RSS.
        options.set_db_write_buffer_size(MEMTABLES_BYTES_MAX);
        let columns = COLUMNS
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, Options::default()));
        let db = DB::open_cf_descriptors(&options, path, columns)?;
        let meta = db
            .cf_handle(CF_META)
            .ok_or(StoreError::MissingColumn(CF_META))?;
        let last_header = match db.get_cf(meta, META_LAST_HEADER)? {
            Some(bytes) => {
                Some(
                    L2BlockHeader::decode(&bytes).map_err(|e| StoreError::Corrupt {
                        what: "meta/last_header".into(),
                        reason: e.to_string(),
                    })?,
                )
            }
            None => None,
        };
        Ok(Self {
            db: Arc::new(db),
            cache: Arc::new(Cache::new()),
            cache_bytes_max,
            cache_heap_bytes: 0,
            last_header,
        })
    }

    /// The header of the last committed block, if any.
    pub fn last_header(&self) -> Option<&L2BlockHeader> {
        self.last_header.as_ref()
    }

    /// The cache's size in bytes, as counted against its bound.
    pub fn cache_bytes(&self) -> usize {
        table_bytes(self.cache.capacity()) + self.cache_heap_bytes
    }

    /// A read view of the committed state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: Arc::clone(&self.db),
            cache: Arc::clone(&self.cache),
        }
    }

    /// Atomically writes a block: its state writes, receipts, the signed encodings
    /// of its transactions (`bodies`: hash and bytes), header, pubdata and (if it
    /// consumed deposits) the next deposit queue index.
    ///
    /// The block must follow the last committed one (number and parent hash).
    pub fn commit(
        &mut self,
        header: &L2BlockHeader,
        writes: &[StateWrite],
        receipts: &[Receipt],
        bodies: &[(Hash32, Vec<u8>)],
        pubdata: &[u8],
        queues: QueuesNext,
    ) -> Result<(), StoreError> {
        let expected = self.last_header.as_ref().map_or(0, |h| h.number.0 + 1);
        let parent = self
            .last_header
            .as_ref()
            .map_or(Hash32([0; 32]), L2BlockHeader::hash);
        if header.number.0 != expected || header.parent_hash != parent {
            return Err(StoreError::OutOfOrder {
                got: header.number.0,
                last: self.last_header.as_ref().map(|h| h.number.0),
            });
        }
        let mut batch = WriteBatch::default();
        for (key, value) in writes {
            let cf = self.cf(key.column())?;
            match value {
                Some(value) => batch.put_cf(cf, key.encode(), value.encode()),
                None => batch.delete_cf(cf, key.encode()),
            }
        }
        crate::logs::index_block(&self.db, &mut batch, receipts)?;
        let receipts_cf = self.cf(CF_RECEIPTS)?;
        let mut hashes = Vec::with_capacity(receipts.len() * 32);
        for receipt in receipts {
            batch.put_cf(receipts_cf, receipt.tx_hash.0, receipt.encode());
            hashes.extend_from_slice(&receipt.tx_hash.0);
        }
        batch.put_cf(
            self.cf(CF_BLOCK_TXS)?,
            header.number.0.to_be_bytes(),
            hashes,
        );
        let txs_cf = self.cf(CF_TXS)?;
        for (hash, body) in bodies {
            batch.put_cf(txs_cf, hash.0, body);
        }
        let header_bytes = header.encode();
        batch.put_cf(
            self.cf(CF_BLOCKS)?,
            header.number.0.to_be_bytes(),
            &header_bytes,
        );
        batch.put_cf(self.cf(CF_META)?, META_LAST_HEADER, &header_bytes);
        batch.put_cf(
            self.cf(CF_BLOCK_HASHES)?,
            header.hash().0,
            header.number.0.to_be_bytes(),
        );
        batch.put_cf(
            self.cf(CF_BLOCK_OPS)?,
            header.number.0.to_be_bytes(),
            pubdata,
        );
        let fees = BlockFees {
            items: receipts.len() as u32,
            gas_used: receipts.iter().map(|r| r.gas_used).sum(),
            fees_paid: receipts.iter().map(|r| r.fee_paid).sum(),
            pubdata_bytes: pubdata.len() as u64,
        };
        batch.put_cf(
            self.cf(CF_BLOCK_FEES)?,
            header.number.0.to_be_bytes(),
            borsh::to_vec(&fees).map_err(|e| StoreError::Corrupt {
                what: CF_BLOCK_FEES.into(),
                reason: e.to_string(),
            })?,
        );
        for (key, next) in [
            (META_DEPOSITS_NEXT, queues.deposits),
            (META_FORCED_NEXT, queues.forced),
        ] {
            if let Some(next) = next {
                batch.put_cf(self.cf(CF_META)?, key, next.to_be_bytes());
            }
        }
        let mut options = WriteOptions::default();
        // A committed block must survive power loss: the executor's state is what the
        // sequencer trims its WAL against.
        options.set_sync(true);
        self.db.write_opt(batch, &options)?;

        // Only now, with the block durable, does the cache see it.
        let cache = Arc::make_mut(&mut self.cache);
        let incoming: usize = writes
            .iter()
            .map(|(_, value)| value_heap_bytes(value))
            .sum();
        let table = table_bytes(cache.len() + writes.len()).max(table_bytes(cache.capacity()));
        if table + self.cache_heap_bytes + incoming > self.cache_bytes_max {
            // Dropped, not cleared: a cleared table would keep its allocation.
            *cache = Cache::new();
            self.cache_heap_bytes = 0;
            if table_bytes(writes.len()) + incoming > self.cache_bytes_max {
                // This block alone is over the bound: it is read from RocksDB.
                self.last_header = Some(header.clone());
                return Ok(());
            }
        }
        for (key, value) in writes {
            self.cache_heap_bytes += value_heap_bytes(value);
            if let Some(old) = cache.insert(*key, value.clone()) {
                self.cache_heap_bytes -= value_heap_bytes(&old);
            }
        }
        self.last_header = Some(header.clone());
        Ok(())
    }

    /// A handle for reading committed blocks, receipts and state from other threads.
    pub fn reader(&self) -> StoreReader {
        StoreReader {
            db: Arc::clone(&self.db),
        }
    }

    /// The receipt of an included transaction.
    pub fn receipt(&self, tx_hash: &Hash32) -> Result<Option<Receipt>, StoreError> {
        self.reader().receipt(tx_hash)
    }

    /// The header of block `number`.
    pub fn header(&self, number: BlockNumber) -> Result<Option<L2BlockHeader>, StoreError> {
        self.reader().header(number)
    }

    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or(StoreError::MissingColumn(name))
    }
}

/// Reads committed data straight from RocksDB, without the cache: always the latest
/// committed block, from any thread. Cheap to clone.
#[derive(Clone)]
pub struct StoreReader {
    db: Arc<DB>,
}

impl StoreReader {
    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or(StoreError::MissingColumn(name))
    }

    /// The receipt of an included transaction.
    pub fn receipt(&self, tx_hash: &Hash32) -> Result<Option<Receipt>, StoreError> {
        self.db
            .get_cf(self.cf(CF_RECEIPTS)?, tx_hash.0)?
            .map(|bytes| {
                Receipt::decode(&bytes).map_err(|e| StoreError::Corrupt {
                    what: format!("receipt {tx_hash}"),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// The header of block `number`.
    pub fn header(&self, number: BlockNumber) -> Result<Option<L2BlockHeader>, StoreError> {
        self.db
            .get_cf(self.cf(CF_BLOCKS)?, number.0.to_be_bytes())?
            .map(|bytes| {
                L2BlockHeader::decode(&bytes).map_err(|e| StoreError::Corrupt {
                    what: format!("block header {}", number.0),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// The number of the block whose header hashes to `hash`.
    pub fn block_number_of(&self, hash: &Hash32) -> Result<Option<BlockNumber>, StoreError> {
        Ok(self
            .db
            .get_cf(self.cf(CF_BLOCK_HASHES)?, hash.0)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map(|bytes| BlockNumber(u64::from_be_bytes(bytes))))
    }

    /// The receipts of block `number`'s transactions at positions `from..` (at
    /// most `count` of them), in order; `None` if the block is not executed.
    pub fn block_receipts(
        &self,
        number: BlockNumber,
        from: usize,
        count: usize,
    ) -> Result<Option<Vec<Receipt>>, StoreError> {
        let Some(hashes) = self.block_transactions(number)? else {
            return Ok(None);
        };
        hashes
            .iter()
            .skip(from)
            .take(count)
            .map(|hash| {
                self.receipt(hash)?.ok_or_else(|| StoreError::Corrupt {
                    what: format!("receipt {hash} of block {}", number.0),
                    reason: "missing".into(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The signed encoding of an included transaction (`None`: not included, an
    /// L1 event's hash, or included before this index existed).
    pub fn transaction(&self, tx_hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_TXS)?, tx_hash.0)?)
    }

    /// The hashes of the transactions included in block `number`, in order.
    pub fn block_transactions(
        &self,
        number: BlockNumber,
    ) -> Result<Option<Vec<Hash32>>, StoreError> {
        Ok(self
            .db
            .get_cf(self.cf(CF_BLOCK_TXS)?, number.0.to_be_bytes())?
            .map(|bytes| {
                bytes
                    .chunks_exact(32)
                    .map(|chunk| {
                        let mut hash = [0u8; 32];
                        hash.copy_from_slice(chunk);
                        Hash32(hash)
                    })
                    .collect()
            }))
    }

    /// The pubdata of block `number` (encoded ops, storage writes last).
    pub fn block_pubdata(&self, number: BlockNumber) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get_cf(self.cf(CF_BLOCK_OPS)?, number.0.to_be_bytes())?)
    }

    /// What block `number`'s transactions paid and used; `None` if it is not
    /// executed (or was executed before this index existed).
    pub fn block_fees(&self, number: BlockNumber) -> Result<Option<BlockFees>, StoreError> {
        let Some(bytes) = self
            .db
            .get_cf(self.cf(CF_BLOCK_FEES)?, number.0.to_be_bytes())?
        else {
            return Ok(None);
        };
        borsh::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: format!("{CF_BLOCK_FEES} of block {}", number.0),
                reason: e.to_string(),
            })
    }

    /// The next L1 deposit queue index the L2 expects (0 before any deposit).
    pub fn deposits_next(&self) -> Result<u64, StoreError> {
        self.meta_u64(META_DEPOSITS_NEXT)
    }

    /// The next L1 forced-withdrawal queue index the L2 expects (0 before any).
    pub fn forced_next(&self) -> Result<u64, StoreError> {
        self.meta_u64(META_FORCED_NEXT)
    }

    fn meta_u64(&self, key: &[u8]) -> Result<u64, StoreError> {
        Ok(self
            .db
            .get_cf(self.cf(CF_META)?, key)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The header of the last committed block.
    pub fn last_header(&self) -> Result<Option<L2BlockHeader>, StoreError> {
        self.db
            .get_cf(self.cf(CF_META)?, META_LAST_HEADER)?
            .map(|bytes| {
                L2BlockHeader::decode(&bytes).map_err(|e| StoreError::Corrupt {
                    what: "meta/last_header".into(),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// One page of the events `filter` selects (see [`crate::logs`]).
    pub fn logs(
        &self,
        filter: &crate::logs::LogFilter,
    ) -> Result<crate::logs::LogPage, crate::logs::LogQueryError> {
        crate::logs::query(&self.db, filter)
    }

    /// A state view of the latest committed block (no cache).
    pub fn state(&self) -> Snapshot {
        Snapshot {
            db: Arc::clone(&self.db),
            cache: Arc::new(Cache::new()),
        }
    }
}

impl Snapshot {
    /// The account record of `id`.
    pub fn account(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError> {
        Ok(match self.get(&StateKey::Account(id))? {
            Some(StateValue::Account(record) | StateValue::ContractAccount(record)) => Some(record),
            _ => None,
        })
    }

    /// The balance of `id` in `token` (0 if none).
    pub fn balance(&self, id: AccountId, token: TokenId) -> Result<u128, StoreError> {
        Ok(match self.get(&StateKey::Balance(id, token))? {
            Some(StateValue::Balance(amount)) => amount,
            _ => 0,
        })
    }

    /// The account that `key` belongs to.
    pub fn account_of(&self, key: &PublicKey) -> Result<Option<AccountId>, StoreError> {
        Ok(match self.get(&StateKey::KeyIndex(*key))? {
            Some(StateValue::AccountId(id)) => Some(id),
            _ => None,
        })
    }
}

impl StateReader for Snapshot {
    fn get(&self, key: &StateKey) -> Result<Option<StateValue>, StoreError> {
        if let Some(value) = self.cache.get(key) {
            return Ok(value.clone());
        }
        let name = key.column();
        let cf = self
            .db
            .cf_handle(name)
            .ok_or(StoreError::MissingColumn(name))?;
        match self.db.get_pinned_cf(cf, key.encode())? {
            Some(bytes) => key.decode_value(&bytes).map(Some),
            None => Ok(None),
        }
    }
}

//! The event index behind `l2_getLogs` and `l2_subscribeLogs`.
//!
//! # Layout
//!
//! An event is one 32-byte topic and its data, emitted by one contract (the host
//! ABI's `emit_event`; see [`crate::wasm`]). There is one topic, not Ethereum's
//! four: a contract names the event kind in it, or a hash of the kind and an
//! indexed argument, and a filter matches any of a list of topics. Every event of
//! a committed block is indexed, in the block's own RocksDB write batch, under its
//! **position**: block (u64) ‖ transaction index in the block (u32) ‖ event index
//! in the transaction (u32), all big-endian, so keys sort in chain order.
//!
//! | column | key | value |
//! | --- | --- | --- |
//! | `logs` | position | contract ‖ topic ‖ transaction hash ‖ data |
//! | `logs_by_contract` | contract ‖ position | topic |
//! | `logs_by_topic` | topic ‖ position | contract |
//!
//! # Queries
//!
//! A query names a block range, optionally a contract and up to
//! [`LOG_TOPICS_MAX`] topics (any of them), and resumes after a position. It
//! walks the narrowest index: the contract's (topics checked on its values), else
//! each topic's (merged in chain order), else `logs` itself. It stops at
//! [`LOGS_PAGE_MAX`] logs or after [`LOGS_SCAN_MAX`] index entries, whichever
//! comes first, and then gives the position to resume after: a page is never
//! unbounded, whatever the filter. Ranges wider than [`LOG_BLOCK_RANGE_MAX`]
//! blocks are refused.

use ghostplane_primitives::{BlockNumber, ContractAddress, Hash32, Receipt};
use rocksdb::{DB, Direction, IteratorMode, WriteBatch};

use crate::StoreError;

/// Events by position.
pub(crate) const CF_LOGS: &str = "logs";
/// Positions by contract.
pub(crate) const CF_LOGS_BY_CONTRACT: &str = "logs_by_contract";
/// Positions by topic.
pub(crate) const CF_LOGS_BY_TOPIC: &str = "logs_by_topic";

/// Most logs one page answers.
pub const LOGS_PAGE_MAX: usize = 1_000;
/// Most index entries one query reads before it answers with a resume position.
pub const LOGS_SCAN_MAX: usize = 100_000;
/// Widest block range one query may name.
pub const LOG_BLOCK_RANGE_MAX: u64 = 100_000;
/// Most topics one filter may name.
pub const LOG_TOPICS_MAX: usize = 16;

/// Where an event sits in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// Its block.
    pub block: u64,
    /// Its transaction's index in the block.
    pub tx: u32,
    /// Its index among the transaction's events.
    pub log: u32,
}

impl LogPosition {
    const BYTES: usize = 16;

    fn encode(self) -> [u8; Self::BYTES] {
        let mut key = [0u8; Self::BYTES];
        key[..8].copy_from_slice(&self.block.to_be_bytes());
        key[8..12].copy_from_slice(&self.tx.to_be_bytes());
        key[12..].copy_from_slice(&self.log.to_be_bytes());
        key
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; Self::BYTES] = bytes.try_into().ok()?;
        Some(Self {
            block: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            tx: u32::from_be_bytes(bytes[8..12].try_into().ok()?),
            log: u32::from_be_bytes(bytes[12..].try_into().ok()?),
        })
    }

    /// The first position of `block`.
    fn start_of(block: u64) -> Self {
        Self {
            block,
            tx: 0,
            log: 0,
        }
    }
}

/// One indexed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Where it is.
    pub position: LogPosition,
    /// The transaction that emitted it.
    pub tx_hash: Hash32,
    /// The emitting contract.
    pub contract: ContractAddress,
    /// Its topic.
    pub topic: Hash32,
    /// Its data.
    pub data: Vec<u8>,
}

/// Which logs a query wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this contract's (any contract if `None`).
    pub contract: Option<ContractAddress>,
    /// Only these topics (any of them; any topic if empty).
    pub topics: Vec<Hash32>,
    /// First block, inclusive.
    pub from_block: BlockNumber,
    /// Last block, inclusive.
    pub to_block: BlockNumber,
    /// Resume after this position (a previous page's `next`).
    pub after: Option<LogPosition>,
    /// Most logs to answer (at most [`LOGS_PAGE_MAX`]).
    pub limit: usize,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// The logs, in chain order.
    pub logs: Vec<Log>,
    /// If the range holds more: the position to resume after.
    pub next: Option<LogPosition>,
}

/// Why a log query was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogQueryError {
    /// `to_block` before `from_block`, or wider than the bound.
    #[error(
        "block range {from}..={to} is empty or wider than {LOG_BLOCK_RANGE_MAX} blocks; split it"
    )]
    Range {
        /// First block asked.
        from: u64,
        /// Last block asked.
        to: u64,
    },
    /// Too many topics.
    #[error("{0} topics; a filter names at most {LOG_TOPICS_MAX}")]
    Topics(usize),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds the events of `receipts` (one block's) to `batch`.
pub(crate) fn index_block(
    db: &DB,
    batch: &mut WriteBatch,
    receipts: &[Receipt],
) -> Result<(), StoreError> {
    let cf = |name| db.cf_handle(name).ok_or(StoreError::MissingColumn(name));
    let (logs, by_contract, by_topic) = (
        cf(CF_LOGS)?,
        cf(CF_LOGS_BY_CONTRACT)?,
        cf(CF_LOGS_BY_TOPIC)?,
    );
    for receipt in receipts {
        for (i, event) in receipt.events.iter().enumerate() {
            let position = LogPosition {
                block: receipt.block.0,
                tx: receipt.index,
                log: i as u32,
            }
            .encode();
            let mut value = Vec::with_capacity(96 + event.data.len());
            value.extend_from_slice(&event.contract.0);
            value.extend_from_slice(&event.topic.0);
            value.extend_from_slice(&receipt.tx_hash.0);
            value.extend_from_slice(&event.data);
            batch.put_cf(logs, position, value);
            batch.put_cf(
                by_contract,
                [&event.contract.0[..], &position].concat(),
                event.topic.0,
            );
            batch.put_cf(
                by_topic,
                [&event.topic.0[..], &position].concat(),
                event.contract.0,
            );
        }
    }
    Ok(())
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt {
        what: format!("log index {what}"),
        reason: "wrong length".into(),
    }
}

fn hash_of(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.get(..32)?.try_into().ok()
}

/// The log at `position` in `logs`.
fn read_log(db: &DB, position: LogPosition) -> Result<Log, StoreError> {
    let cf = db
        .cf_handle(CF_LOGS)
        .ok_or(StoreError::MissingColumn(CF_LOGS))?;
    let value = db
        .get_pinned_cf(cf, position.encode())?
        .ok_or_else(|| corrupt("entry without its log"))?;
    decode_log(position, &value)
}

fn decode_log(position: LogPosition, value: &[u8]) -> Result<Log, StoreError> {
    let field = |at: usize| hash_of(value.get(at..).unwrap_or(&[])).ok_or_else(|| corrupt("log"));
    Ok(Log {
        position,
        contract: ContractAddress(field(0)?),
        topic: Hash32(field(32)?),
        tx_hash: Hash32(field(64)?),
        data: value.get(96..).unwrap_or(&[]).to_vec(),
    })
}

/// Runs `filter` (see the module docs).
pub(crate) fn query(db: &DB, filter: &LogFilter) -> Result<LogPage, LogQueryError> {
    let (from, to) = (filter.from_block.0, filter.to_block.0);
    if to < from || to - from >= LOG_BLOCK_RANGE_MAX {
        return Err(LogQueryError::Range { from, to });
    }
    if filter.topics.len() > LOG_TOPICS_MAX {
        return Err(LogQueryError::Topics(filter.topics.len()));
    }
    let limit = filter.limit.clamp(1, LOGS_PAGE_MAX);
    let start = match filter.after {
        Some(after) if after.block >= from => after,
        _ => LogPosition::start_of(from),
    };
    // Whether `start` itself is excluded (it is a previous page's last log).
    let skip_start = filter.after.is_some_and(|after| after == start);
    let range = (start, skip_start, to);
    let (positions, next) = match (&filter.contract, filter.topics.as_slice()) {
        (Some(contract), topics) => {
            let walk = walk(
                db,
                CF_LOGS_BY_CONTRACT,
                &contract.0,
                range,
                limit,
                |p, topic| {
                    (topics.is_empty() || topics.iter().any(|t| t.0[..] == *topic)).then_some(p)
                },
            )?;
            (walk.found, walk.next)
        }
        (None, []) => {
            // The logs themselves: decoded as they are read.
            let walk = walk(db, CF_LOGS, &[], range, limit, |p, value| {
                Some(decode_log(p, value))
            })?;
            let logs = walk.found.into_iter().collect::<Result<Vec<_>, _>>()?;
            return Ok(LogPage {
                logs,
                next: walk.next,
            });
        }
        (None, topics) => {
            // Each topic's first `limit` matches hold the merged first `limit`.
            let mut positions = Vec::new();
            let mut next = None;
            for topic in topics {
                let part = walk(db, CF_LOGS_BY_TOPIC, &topic.0, range, limit, |p, _| Some(p))?;
                positions.extend(part.found);
                // A topic that stopped early stops the merge there.
                next = match (next, part.next) {
                    (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                    (a, b) => a.or(b),
                };
            }
            positions.sort_unstable();
            positions.dedup();
            if let Some(cut) = next {
                positions.retain(|p| *p <= cut);
            }
            let next = if positions.len() > limit {
                positions.truncate(limit);
                positions.last().copied()
            } else {
                next
            };
            (positions, next)
        }
    };
    let logs = positions
        .into_iter()
        .map(|p| read_log(db, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LogPage { logs, next })
}

/// What a walk kept, and where to resume if it stopped early.
struct Walk<T> {
    found: Vec<T>,
    next: Option<LogPosition>,
}

/// Walks index `cf` under `prefix` from `start` through block `to`, keeping what
/// `keep` makes of each entry (position and value), up to `limit` of them.
fn walk<T>(
    db: &DB,
    cf: &'static str,
    prefix: &[u8],
    (start, skip_start, to): (LogPosition, bool, u64),
    limit: usize,
    keep: impl Fn(LogPosition, &[u8]) -> Option<T>,
) -> Result<Walk<T>, StoreError> {
    let handle = db.cf_handle(cf).ok_or(StoreError::MissingColumn(cf))?;
    let from_key = [prefix, &start.encode()].concat();
    let mut found = Vec::new();
    let mut scanned = 0usize;
    let iter = db.iterator_cf(handle, IteratorMode::From(&from_key, Direction::Forward));
    for item in iter {
        let (key, value) = item?;
        let Some(position) = key.strip_prefix(prefix).and_then(LogPosition::decode) else {
            break; // past the prefix
        };
        if position.block > to {
            break;
        }
        if skip_start && position == start {
            continue;
        }
        scanned += 1;
        if let Some(kept) = keep(position, &value) {
            found.push(kept);
            if found.len() == limit {
                return Ok(Walk {
                    found,
                    next: Some(position),
                });
            }
        }
        if scanned >= LOGS_SCAN_MAX {
            return Ok(Walk {
                found,
                next: Some(position),
            });
        }
    }
    Ok(Walk { found, next: None })
}

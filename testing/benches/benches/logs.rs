//! The event index at size: 1,000,000 events (10,000 blocks of 100, from 100
//! contracts, 50 topics) committed through the executor's store, then
//! `l2_getLogs`'s engine (`StoreReader::logs`) answering one contract's events
//! over a 1,000-block window: latency percentiles over random windows, a criterion
//! median, and the index's bytes on disk per million events.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use ghostplane_executor::{LogFilter, StateStore, store::QueuesNext};
use ghostplane_primitives::{
    AccountId, BlockNumber, ContractAddress, Event, Hash32, L2BlockHeader, Receipt, ReceiptStatus,
};

const BLOCKS: u64 = 10_000;
const EVENTS_PER_BLOCK: u32 = 100;
const CONTRACTS: u32 = 100;
const TOPICS: u32 = 50;
const WINDOW: u64 = 1_000;

fn contract(i: u32) -> ContractAddress {
    let mut a = [0u8; 32];
    a[..4].copy_from_slice(&i.to_le_bytes());
    a[31] = 0xc0;
    ContractAddress(a)
}

fn topic(i: u32) -> Hash32 {
    let mut t = [0u8; 32];
    t[..4].copy_from_slice(&i.to_le_bytes());
    t[31] = 0x70;
    Hash32(t)
}

/// 10 events per transaction, 10 transactions per block; contracts and topics
/// spread by a fixed stride.
fn receipts(block: u64) -> Vec<Receipt> {
    (0..EVENTS_PER_BLOCK / 10)
        .map(|tx| {
            let events = (0..10)
                .map(|e| {
                    let n = (block as u32).wrapping_mul(EVENTS_PER_BLOCK) + tx * 10 + e;
                    Event {
                        contract: contract(n.wrapping_mul(7_919) % CONTRACTS),
                        topic: topic(n.wrapping_mul(104_729) % TOPICS),
                        data: n.to_le_bytes().repeat(8),
                    }
                })
                .collect();
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&block.to_le_bytes());
            hash[8..12].copy_from_slice(&tx.to_le_bytes());
            Receipt {
                tx_hash: Hash32(hash),
                block: BlockNumber(block),
                index: tx,
                status: ReceiptStatus::Success,
                gas_used: 1,
                fee_paid: 1,
                events,
                return_data: Vec::new(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = StateStore::open(dir.path(), 64 << 20).unwrap_or_else(|e| panic!("{e}"));
    let mut parent = Hash32([0; 32]);
    let started = Instant::now();
    for number in 0..BLOCKS {
        let receipts = receipts(number);
        let header = L2BlockHeader {
            number: BlockNumber(number),
            parent_hash: parent,
            timestamp_ms: number,
            fee_account: AccountId::MAX,
            tx_count: receipts.len() as u32,
            transactions_hash: Hash32([0; 32]),
            execution_digest: Hash32([0; 32]),
        };
        store
            .commit(&header, &[], &receipts, &[], &[], QueuesNext::default())
            .unwrap_or_else(|e| panic!("{e}"));
        parent = header.hash();
    }
    let events = BLOCKS * u64::from(EVENTS_PER_BLOCK);
    println!(
        "committed {events} events in {BLOCKS} blocks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(store);
    // The index's size: each column flushed to its files, then their bytes
    // (RocksDB's default compression; the receipts, which hold the events too,
    // are a column apart).
    {
        let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path())
            .unwrap_or_else(|e| panic!("{e}"));
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir.path(), &names)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut line = Vec::new();
        for name in ["logs", "logs_by_contract", "logs_by_topic", "receipts"] {
            let cf = db.cf_handle(name).unwrap_or_else(|| panic!("no {name}"));
            db.flush_cf(cf).unwrap_or_else(|e| panic!("{e}"));
            let bytes = db
                .property_int_value_cf(cf, "rocksdb.total-sst-files-size")
                .ok()
                .flatten()
                .unwrap_or(0);
            line.push(format!(
                "{name} {:.1} MB",
                bytes as f64 / 1e6 / (events as f64 / 1e6)
            ));
        }
        println!(
            "per million events (32-byte data each), flushed: {}",
            line.join(", ")
        );
    }
    let store = StateStore::open(dir.path(), 64 << 20).unwrap_or_else(|e| panic!("{e}"));
    let reader = store.reader();
    let query = |i: u64| {
        let from = (i * 7_919) % (BLOCKS - WINDOW);
        LogFilter {
            contract: Some(contract((i % u64::from(CONTRACTS)) as u32)),
            topics: Vec::new(),
            from_block: BlockNumber(from),
            to_block: BlockNumber(from + WINDOW - 1),
            after: None,
            limit: 1_000,
        }
    };
    let mut times: Vec<f64> = (0..1_000)
        .map(|i| {
            let t = Instant::now();
            let page = reader.logs(&query(i)).unwrap_or_else(|e| panic!("{e}"));
            black_box(page);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let page = reader.logs(&query(0)).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "one contract, {WINDOW}-block window, 1,000 random windows: p50 {:.2} ms, p99 {:.2} ms ({} logs a page)",
        times[500],
        times[990],
        page.logs.len()
    );
    let mut i = 0;
    c.bench_function("logs/one_contract_1000_blocks", |b| {
        b.iter(|| {
            i += 1;
            black_box(reader.logs(&query(i)))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

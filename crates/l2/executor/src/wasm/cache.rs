//! The compiled-module cache: least recently used first out, bounded in bytes.
//!
//! The cache is local to a node and never decides a result or a fuel charge (every
//! call pays the same load fuel whether its module was here or not), so nodes whose
//! caches differ still agree. A hit takes the read lock and stamps the entry with an
//! atomic tick; only an insert (after a compile, which costs far more) takes the
//! write lock, and evicts the entries with the oldest stamps until the new one fits.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ahash::AHashMap;
use ghostplane_primitives::Hash32;

/// How full the cache is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleCacheUsage {
    /// Modules held.
    pub entries: usize,
    /// Their estimated size.
    pub bytes: usize,
    /// The bound on `bytes`.
    pub bytes_max: usize,
}

struct Entry<V> {
    value: V,
    bytes: usize,
    /// Tick of the last hit (or of the insert).
    used: AtomicU64,
}

struct Inner<V> {
    entries: AHashMap<Hash32, Entry<V>>,
    bytes: usize,
}

/// An LRU map from code hash to compiled module, holding at most `bytes_max` bytes.
pub(crate) struct ModuleCache<V> {
    bytes_max: usize,
    clock: AtomicU64,
    inner: RwLock<Inner<V>>,
}

impl<V: Clone> ModuleCache<V> {
    pub(crate) fn new(bytes_max: usize) -> Self {
        Self {
            bytes_max,
            clock: AtomicU64::new(0),
            inner: RwLock::new(Inner {
                entries: AHashMap::new(),
                bytes: 0,
            }),
        }
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The module compiled from `hash`, if held; marks it most recently used.
    pub(crate) fn get(&self, hash: &Hash32) -> Option<V> {
        // A poisoned lock only means another thread panicked mid-insert; the map and
        // the byte count are updated together before anything can panic.
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let entry = inner.entries.get(hash)?;
        entry.used.store(self.tick(), Ordering::Relaxed);
        Some(entry.value.clone())
    }

    /// Holds `value` (estimated at `bytes`), evicting least recently used modules until
    /// it fits. A module larger than the whole bound is not held.
    pub(crate) fn insert(&self, hash: Hash32, value: V, bytes: usize) {
        if bytes > self.bytes_max {
            return;
        }
        let used = AtomicU64::new(self.tick());
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = inner.entries.remove(&hash) {
            inner.bytes -= old.bytes;
        }
        while inner.bytes + bytes > self.bytes_max {
            // Linear in the entries held: an insert follows a compile, which costs
            // milliseconds; a scan of even thousands of entries costs microseconds.
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used.load(Ordering::Relaxed))
                .map(|(hash, _)| *hash)
            else {
                break;
            };
            if let Some(evicted) = inner.entries.remove(&oldest) {
                inner.bytes -= evicted.bytes;
            }
        }
        inner.bytes += bytes;
        inner.entries.insert(hash, Entry { value, bytes, used });
        debug_assert!(inner.bytes <= self.bytes_max);
        debug_assert_eq!(
            inner.bytes,
            inner.entries.values().map(|e| e.bytes).sum::<usize>()
        );
    }

    pub(crate) fn usage(&self) -> ModuleCacheUsage {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        ModuleCacheUsage {
            entries: inner.entries.len(),
            bytes: inner.bytes,
            bytes_max: self.bytes_max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: u8) -> Hash32 {
        Hash32([i; 32])
    }

    #[test]
    fn evicts_least_recently_used_within_the_byte_bound() {
        let cache = ModuleCache::new(100);
        cache.insert(hash(1), 1, 40);
        cache.insert(hash(2), 2, 40);
        assert_eq!(cache.get(&hash(1)), Some(1)); // 2 is now the oldest
        cache.insert(hash(3), 3, 40);
        assert_eq!(cache.get(&hash(2)), None);
        assert_eq!(cache.get(&hash(1)), Some(1));
        assert_eq!(cache.get(&hash(3)), Some(3));
        let usage = cache.usage();
        assert_eq!((usage.entries, usage.bytes), (2, 80));

        // Replacing an entry does not count it twice; an oversize one is not held.
        cache.insert(hash(3), 30, 50);
        assert_eq!(cache.usage().bytes, 90);
        cache.insert(hash(4), 4, 101);
        assert_eq!(cache.get(&hash(4)), None);
        assert_eq!(cache.usage().bytes, 90);

        // Many inserts never exceed the bound.
        for i in 10..200u8 {
            cache.insert(hash(i), u32::from(i), 7 + usize::from(i % 13));
            assert!(cache.usage().bytes <= 100);
        }
    }
}

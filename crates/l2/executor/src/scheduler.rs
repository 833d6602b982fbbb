//! The scheduler: which items of a block to execute speculatively ([`schedule`]),
//! and the two phases that run them ([`execute`]): speculation window by window
//! on the pool, and the in-order pass that keeps a speculative result only if
//! nothing it read was written by an earlier item (otherwise it executes again on
//! top of those writes). The result equals executing the items one at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ahash::AHashSet;
use ghostplane_primitives::{BLOCK_PUBDATA_BYTES_MAX, PubdataOp};
use rayon::prelude::*;

use crate::block::{BlockItem, DropReason};
use crate::error::ExecError;
use crate::rules::{Env, ItemOutcome, declared_keys, execute_item};
use crate::state::{StateKey, StateReader};
use crate::view::Overlay;

/// Blocks with more than this share of items (in percent) whose declared keys an
/// earlier item also declares run sequentially: speculation would mostly be thrown
/// away, and its bookkeeping would make the block slower than one thread.
const CONTENTION_PERCENT_MAX: usize = 50;

/// Items speculated together before their results are checked in order; a window
/// that mostly conflicts stops speculation for the rest of the block.
const SPECULATION_WINDOW: usize = 256;

/// How often (in items) the plan checks the contention share, so a contended block
/// falls back after looking at a few hundred items, not the whole block.
const CONTENTION_CHECK_EVERY: usize = 256;

/// Which items to run speculatively, or `None` to run the block sequentially (one
/// thread, a small block, or high contention). An item is speculated when no earlier
/// item declares any of its keys (one that does would only be re-executed).
pub(crate) fn schedule(items: &[BlockItem], threads: usize, items_min: usize) -> Option<Vec<bool>> {
    if threads < 2 || items.len() < items_min.max(2) {
        return None;
    }
    let mut claimed: AHashSet<StateKey> = AHashSet::with_capacity(items.len() * 4);
    let mut keys = Vec::with_capacity(8);
    let mut plan = Vec::with_capacity(items.len());
    let mut contended = 0usize;
    for (i, item) in items.iter().enumerate() {
        keys.clear();
        declared_keys(item, &mut keys);
        let free = !keys.iter().any(|key| claimed.contains(key));
        contended += usize::from(!free);
        claimed.extend(keys.iter().copied());
        plan.push(free);
        let seen = i + 1;
        if (seen % CONTENTION_CHECK_EVERY == 0 || seen == items.len())
            && contended * 100 > seen * CONTENTION_PERCENT_MAX
        {
            return None;
        }
    }
    Some(plan)
}

/// What [`execute`] returns: the items' outcomes in block order, the block
/// overlay they wrote, and the counts and times the executor reports as metrics.
pub(crate) struct Executed {
    pub(crate) overlay: Overlay,
    pub(crate) outcomes: Vec<ItemOutcome>,
    /// Items speculated.
    pub(crate) speculated: u64,
    /// Speculative results kept.
    pub(crate) hits: u64,
    /// Speculative results thrown away (executed again in order).
    pub(crate) conflicts: u64,
    /// Speculating the first window.
    pub(crate) speculate_time: Duration,
    /// The in-order phase (with the later windows' speculation alongside).
    pub(crate) ordered_time: Duration,
}

/// Executes `items` (a whole block) against `base`: speculating the items `plan`
/// marks ([`schedule`]; `None`: all in order, on one thread), then in order.
pub(crate) fn execute(
    env: &Env<'_>,
    base: &Arc<dyn StateReader>,
    items: &[BlockItem],
    plan: Option<&[bool]>,
) -> Result<Executed, ExecError> {
    // In-order commit: keep a speculative result only if nothing it read was
    // written by an earlier item of this block; otherwise execute again on top
    // of those writes. Speculation goes window by window, one window ahead: while
    // one thread commits window k in order, the others speculate window k + 1.
    // A window whose results mostly conflict (contention the declared keys did
    // not show, such as contract storage) ends speculation for the rest of the
    // block (the window already speculated is still used).
    let speculate = |range: std::ops::Range<usize>, plan: &[bool]| -> Speculative {
        items[range.clone()]
            .par_iter()
            .zip(plan[range].par_iter())
            .map(|(item, go)| {
                go.then(|| {
                    execute_item(env, item, Arc::clone(base), Overlay::default())
                        .map(|(outcome, _)| outcome)
                })
            })
            .collect()
    };
    let mut ordered = InOrder {
        // Sized for a native transfer's writes per item, so it does not rehash as
        // it grows (a rehash of tens of thousands of entries is on one thread).
        overlay: Overlay::with_capacity(items.len() * 4),
        outcomes: Vec::with_capacity(items.len()),
        pubdata_bytes: 0,
        fuel: 0,
        hits: 0,
        conflicts: 0,
    };
    let len = items.len();
    let window_end = |start: usize| (start + SPECULATION_WINDOW).min(len);
    let speculate_started = Instant::now();
    let mut next: Option<Speculative> = plan.map(|plan| speculate(0..window_end(0), plan));
    let speculate_time = speculate_started.elapsed();
    let ordered_started = Instant::now();
    let mut speculated = 0u64;
    let mut start = 0;
    while start < len {
        let current = next.take();
        let end = if current.is_some() {
            window_end(start)
        } else {
            len
        };
        let window_speculated = current
            .as_ref()
            .map_or(0, |s| s.iter().filter(|s| s.is_some()).count() as u64);
        let conflicts_before = ordered.conflicts;
        let ahead = plan.filter(|_| current.is_some() && end < len);
        let (speculated_next, done) = rayon::join(
            || ahead.map(|plan| speculate(end..window_end(end), plan)),
            || ordered.apply(env, base, &items[start..end], current),
        );
        done?;
        speculated += window_speculated;
        let contended = (ordered.conflicts - conflicts_before) * 100
            > window_speculated * CONTENTION_PERCENT_MAX as u64;
        next = speculated_next.filter(|_| !contended);
        start = end;
    }
    let ordered_time = ordered_started.elapsed();
    Ok(Executed {
        overlay: ordered.overlay,
        outcomes: ordered.outcomes,
        speculated,
        hits: ordered.hits,
        conflicts: ordered.conflicts,
        speculate_time,
        ordered_time,
    })
}

/// Speculative results of one window: `None` for items not speculated.
type Speculative = Vec<Option<Result<ItemOutcome, ExecError>>>;

/// The in-order phase's state: the block overlay and the outcomes so far.
struct InOrder {
    overlay: Overlay,
    outcomes: Vec<ItemOutcome>,
    pubdata_bytes: usize,
    /// Fuel given to the block's contract code so far.
    fuel: u64,
    hits: u64,
    conflicts: u64,
}

impl InOrder {
    /// Commits `items` (the next items of the block) in order, reusing each
    /// speculative result that read nothing an earlier item wrote.
    fn apply(
        &mut self,
        env: &Env<'_>,
        base: &Arc<dyn StateReader>,
        items: &[BlockItem],
        mut speculative: Option<Speculative>,
    ) -> Result<(), ExecError> {
        for (i, item) in items.iter().enumerate() {
            let taken = speculative
                .as_mut()
                .and_then(|s| s.get_mut(i))
                .and_then(Option::take);
            let reusable = match taken {
                Some(Ok(outcome))
                    if !outcome
                        .reads
                        .iter()
                        .any(|key| self.overlay.contains_key(key)) =>
                {
                    self.hits += 1;
                    Some(outcome)
                }
                Some(_) => {
                    self.conflicts += 1;
                    None
                }
                None => None,
            };
            let outcome = match reusable {
                Some(outcome) => outcome,
                None => {
                    let overlay = std::mem::take(&mut self.overlay);
                    let (outcome, back) = execute_item(env, item, Arc::clone(base), overlay)?;
                    self.overlay = back;
                    outcome
                }
            };
            // Pubdata budget (in block order, so parallel and sequential agree).
            // Deposits are never dropped: they are small and must go in queue order.
            // The same for the fuel given to contract code (the L1 re-executes it).
            let needed = pubdata_size(&outcome);
            let left = BLOCK_PUBDATA_BYTES_MAX.saturating_sub(self.pubdata_bytes);
            let fuel = fuel_given(&outcome);
            let fuel_left = env.block_fuel_max.saturating_sub(self.fuel);
            let dropped = if needed > left {
                Some(DropReason::BlockPubdataFull {
                    needed,
                    left,
                    max: BLOCK_PUBDATA_BYTES_MAX,
                })
            } else if fuel > fuel_left {
                Some(DropReason::BlockFuelFull {
                    needed: fuel,
                    left: fuel_left,
                    max: env.block_fuel_max,
                })
            } else {
                None
            };
            let outcome = match dropped {
                Some(reason) if matches!(item, BlockItem::Transaction { .. }) => ItemOutcome {
                    result: Err(reason),
                    reads: outcome.reads,
                    writes: Vec::new(),
                },
                _ => {
                    self.pubdata_bytes += needed;
                    self.fuel += fuel;
                    outcome
                }
            };
            for (key, value) in &outcome.writes {
                self.overlay.insert(*key, value.clone());
            }
            self.outcomes.push(outcome);
        }
        Ok(())
    }
}

/// The re-execution work an item asks of the L1, in fuel (its contract code's fuel,
/// a deploy's compilation).
fn fuel_given(outcome: &ItemOutcome) -> u64 {
    match &outcome.result {
        Ok(included) => ghostplane_primitives::trace::reexecution_fuel(included.ops()),
        Err(_) => 0,
    }
}

/// The pubdata an item adds: its ops (a contract transaction's trace included).
fn pubdata_size(outcome: &ItemOutcome) -> usize {
    match &outcome.result {
        Ok(included) => included.ops().map(PubdataOp::encoded_len).sum(),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use ghostplane_primitives::{
        AccountId, DEVNET_CHAIN_ID, Keypair, Recipient, TokenId, Transaction,
    };

    use super::*;

    fn transfer(from: u32, to: u32, nonce: u64) -> BlockItem {
        let key = Keypair::from_seed(&[from as u8; 32]);
        let id = |i: u32| AccountId::new(i).unwrap_or(AccountId::MAX);
        BlockItem::transaction(key.sign(
            DEVNET_CHAIN_ID,
            Transaction::Transfer {
                from: id(from),
                to: Recipient::Account(id(to)),
                token: TokenId::Spirit,
                amount: 1,
                fee: 1,
                nonce,
            },
        ))
    }

    #[test]
    fn disjoint_transfers_are_all_speculated() {
        let items: Vec<BlockItem> = (0..100).map(|i| transfer(i, 1000 + i, 0)).collect();
        let plan = schedule(&items, 2, 0).unwrap_or_default();
        assert_eq!(plan.len(), 100);
        assert!(plan.iter().all(|go| *go));
    }

    #[test]
    fn contended_blocks_small_blocks_and_one_thread_run_sequentially() {
        // One sender: every item after the first shares its keys.
        let contended: Vec<BlockItem> = (0..300).map(|n| transfer(1, 2, n)).collect();
        assert_eq!(schedule(&contended, 2, 0), None);
        let disjoint: Vec<BlockItem> = (0..10).map(|i| transfer(i, 100 + i, 0)).collect();
        assert_eq!(schedule(&disjoint, 2, 64), None);
        assert_eq!(schedule(&disjoint, 1, 0), None);
        // A few conflicts under the threshold keep the parallel path; the
        // conflicting items are not speculated.
        let mut mixed = disjoint.clone();
        mixed.push(transfer(0, 500, 1));
        let plan = schedule(&mixed, 2, 0).unwrap_or_default();
        assert_eq!(plan.iter().filter(|go| !**go).count(), 1);
    }
}

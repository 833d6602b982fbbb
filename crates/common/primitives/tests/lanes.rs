//! The nonce lanes under random operation sequences: invariants after every step,
//! every admitted transaction accounted for exactly once, and releases in nonce
//! order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};

use ghostplane_primitives::lanes::{LaneLimits, Lanes, Refusal, Verdict};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// A transaction `offset` nonces from the lane's next (offset 0 is one below).
    Submit {
        sender: u8,
        offset: u8,
        fee: u8,
        replay: bool,
    },
    /// Executes up to `count` released transactions; `drop` makes the executor
    /// refuse the first of them.
    Execute { count: u8, drop: bool },
    /// Time passes.
    Tick { by: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4, 0u8..10, 0u8..4, prop::bool::weighted(0.05)).prop_map(
            |(sender, offset, fee, replay)| Op::Submit { sender, offset, fee, replay }
        ),
        3 => (0u8..6, prop::bool::weighted(0.1)).prop_map(|(count, drop)| Op::Execute { count, drop }),
        1 => (0u8..40).prop_map(|by| Op::Tick { by }),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Parked,
    InFlight,
    Gone,
}

struct Model {
    /// Each account's nonce as the executor sees it.
    account: HashMap<u8, u64>,
    /// Released, not yet executed: (sender, nonce, id), in release order.
    released: VecDeque<(u8, u64, u64)>,
    place: HashMap<u64, Where>,
    nonce_of: HashMap<u64, (u8, u64)>,
    /// Last released nonce per sender since its last resync.
    last_released: HashMap<u8, u64>,
    next_id: u64,
}

impl Model {
    fn release(&mut self, id: u64) {
        assert_eq!(
            self.place.get(&id),
            Some(&Where::Parked),
            "{id} released twice"
        );
        self.place.insert(id, Where::InFlight);
        let (sender, nonce) = self.nonce_of[&id];
        self.in_order(sender, nonce);
        self.released.push_back((sender, nonce, id));
    }

    fn in_order(&mut self, sender: u8, nonce: u64) {
        if let Some(last) = self.last_released.insert(sender, nonce) {
            assert_eq!(nonce, last + 1, "sender {sender} released out of order");
        }
    }

    fn gone(&mut self, id: u64) {
        assert_eq!(self.place.get(&id), Some(&Where::Parked), "{id} left twice");
        self.place.insert(id, Where::Gone);
    }
}

const LIMITS: LaneLimits = LaneLimits {
    gap_max: 5,
    sender_max: 6,
    pool_max: 12,
};
const WAIT: u64 = 60;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lanes_keep_their_invariants(ops in prop::collection::vec(op(), 1..200)) {
        let mut lanes: Lanes<u8, u64> = Lanes::new(LIMITS);
        let mut model = Model {
            account: HashMap::new(),
            released: VecDeque::new(),
            place: HashMap::new(),
            nonce_of: HashMap::new(),
            last_released: HashMap::new(),
            next_id: 0,
        };
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Submit { sender, offset, fee, replay } => {
                    let account = *model.account.entry(sender).or_insert(0);
                    lanes.open(sender, account);
                    let next = lanes.next_nonce(&sender).unwrap();
                    let nonce = (next + u64::from(offset)).saturating_sub(1);
                    let id = model.next_id;
                    model.next_id += 1;
                    match lanes.check(&sender, nonce, u128::from(fee), replay) {
                        Ok(Verdict::Next) => {
                            assert_eq!(nonce, next);
                            model.place.insert(id, Where::Parked);
                            model.nonce_of.insert(id, (sender, nonce));
                            model.release(id);
                            for parked in lanes.take_next(&sender) {
                                model.release(parked);
                            }
                        }
                        Ok(Verdict::Park) => {
                            assert!(nonce > next && nonce - next <= LIMITS.gap_max);
                            model.place.insert(id, Where::Parked);
                            model.nonce_of.insert(id, (sender, nonce));
                            if let Some(replaced) = lanes.park(&sender, nonce, u128::from(fee), id, now + WAIT) {
                                model.gone(replaced);
                            }
                        }
                        Err(Refusal::NonceTooLow { expected }) => assert!(nonce < expected),
                        Err(Refusal::NonceGap { expected, .. }) => {
                            assert!(nonce - expected > LIMITS.gap_max);
                        }
                        Err(Refusal::PoolFull) => {
                            assert!(!replay && lanes.pooled() >= LIMITS.pool_max);
                        }
                        Err(Refusal::SenderFull { pending }) => {
                            assert!(!replay && pending >= LIMITS.sender_max);
                        }
                        Err(Refusal::Underpriced { existing_fee }) => {
                            assert!(u128::from(fee) <= existing_fee);
                        }
                        Err(Refusal::NotOpen) => panic!("lane was opened"),
                    }
                    lanes.close_if_idle(&sender);
                }
                Op::Execute { count, drop } => {
                    let mut outcomes = Vec::new();
                    for i in 0..count {
                        let Some((sender, nonce, id)) = model.released.pop_front() else {
                            break;
                        };
                        let account = model.account.entry(sender).or_insert(0);
                        // The executor refuses a wrong nonce, and the first one when
                        // told to drop.
                        let dropped = (drop && i == 0) || nonce != *account;
                        if !dropped {
                            *account += 1;
                        }
                        model.place.insert(id, Where::Gone);
                        outcomes.push((sender, dropped));
                    }
                    for sender in lanes.block_done(outcomes) {
                        model.last_released.remove(&sender);
                        let account = model.account[&sender];
                        let resynced = lanes.resync(&sender, account);
                        for stale in resynced.stale {
                            model.gone(stale);
                        }
                        for parked in resynced.released {
                            model.release(parked);
                        }
                    }
                }
                Op::Tick { by } => {
                    now += u64::from(by);
                    for (_, id) in lanes.expire(now) {
                        model.gone(id);
                    }
                }
            }
            lanes.assert_invariants();
            let live = model.place.values().filter(|w| **w != Where::Gone).count();
            prop_assert_eq!(live, lanes.pooled(), "model and lanes disagree on the pool");
        }
    }
}

#[test]
fn a_gap_fills_and_releases_in_order() {
    let mut lanes: Lanes<u8, &str> = Lanes::new(LIMITS);
    lanes.open(1, 0);
    assert_eq!(lanes.check(&1, 2, 0, false), Ok(Verdict::Park));
    assert!(lanes.park(&1, 2, 0, "two", 10).is_none());
    assert_eq!(lanes.check(&1, 1, 0, false), Ok(Verdict::Park));
    assert!(lanes.park(&1, 1, 0, "one", 10).is_none());
    assert_eq!(lanes.check(&1, 0, 0, false), Ok(Verdict::Next));
    assert_eq!(lanes.take_next(&1), vec!["one", "two"]);
    assert_eq!(lanes.next_nonce(&1), Some(3));
    assert_eq!(
        lanes.check(&1, 2, 0, false),
        Err(Refusal::NonceTooLow { expected: 3 })
    );
    assert!(
        lanes
            .block_done([(1, false), (1, false), (1, false)])
            .is_empty()
    );
    assert!(lanes.is_empty(), "an idle lane is closed");
    lanes.assert_invariants();
}

#[test]
fn a_parked_transaction_expires_at_its_deadline() {
    let mut lanes: Lanes<u8, &str> = Lanes::new(LIMITS);
    lanes.open(1, 0);
    lanes.park(&1, 3, 0, "late", 10);
    assert!(lanes.expire(9).is_empty());
    assert_eq!(lanes.expire(10), vec![(1, "late")]);
    assert_eq!(lanes.pooled(), 0);
    assert!(lanes.is_empty());
}

#[test]
fn the_window_rule_alone() {
    use ghostplane_primitives::lanes::window;
    assert_eq!(window(5, 4, 3), Err(Refusal::NonceTooLow { expected: 5 }));
    assert_eq!(window(5, 5, 3), Ok(Verdict::Next));
    assert_eq!(window(5, 8, 3), Ok(Verdict::Park));
    assert_eq!(
        window(5, 9, 3),
        Err(Refusal::NonceGap {
            expected: 5,
            max: 3
        })
    );
}

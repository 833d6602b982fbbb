//! The L2 side: a genesis of dev accounts.

use ghostplane_primitives::{Amount, Keypair, L2Genesis};

/// `count` accounts, `Keypair::dev(0)` .. `Keypair::dev(count - 1)` (ids 0.., so
/// dev0 is the fee account), each with `balances` (indexed by `TokenId::id`).
pub fn dev_l2_genesis(count: u32, balances: [Amount; 4]) -> L2Genesis {
    L2Genesis::new((0..count).map(|i| (Keypair::dev(i).public_key(), balances)))
}

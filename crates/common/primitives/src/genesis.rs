//! The L2 genesis: the accounts block 0 creates, ids from 0 in list order (account
//! 0 is the conventional fee account). One type, read three ways: the executor
//! writes it as state, settlement as the account tree's first leaves, and the L1's
//! rollup genesis records its keys (their nonces start at 0).

use crate::merkle::AccountLeaf;
use crate::types::{AccountId, Amount, PublicKey};

/// One genesis account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisAccount {
    /// Its key.
    pub key: PublicKey,
    /// Balances, indexed by `TokenId::id`.
    pub balances: [Amount; 4],
}

/// The accounts of the L2's block 0, in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct L2Genesis {
    accounts: Vec<GenesisAccount>,
}

impl L2Genesis {
    /// `accounts` get ids 0, 1, … in order. Whether they are valid (distinct keys,
    /// ids in range) is checked where the genesis is written.
    pub fn new(accounts: impl IntoIterator<Item = (PublicKey, [Amount; 4])>) -> Self {
        Self {
            accounts: accounts
                .into_iter()
                .map(|(key, balances)| GenesisAccount { key, balances })
                .collect(),
        }
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The accounts, in id order.
    pub fn accounts(&self) -> &[GenesisAccount] {
        &self.accounts
    }

    /// The accounts' keys, in id order (what the L1's rollup genesis records).
    pub fn keys(&self) -> Vec<PublicKey> {
        self.accounts.iter().map(|a| a.key).collect()
    }

    /// The account tree's genesis leaves; `None` if an id would be out of range.
    pub fn leaves(&self) -> Option<Vec<(AccountId, AccountLeaf)>> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(i, account)| {
                let id = AccountId::new(u32::try_from(i).ok()?).ok()?;
                let leaf = AccountLeaf {
                    public_key: account.key,
                    nonce: 0,
                    balances: account.balances,
                };
                Some((id, leaf))
            })
            .collect()
    }
}

impl From<&[(PublicKey, [Amount; 4])]> for L2Genesis {
    fn from(accounts: &[(PublicKey, [Amount; 4])]) -> Self {
        Self::new(accounts.iter().copied())
    }
}

impl From<&Vec<(PublicKey, [Amount; 4])>> for L2Genesis {
    fn from(accounts: &Vec<(PublicKey, [Amount; 4])>) -> Self {
        Self::new(accounts.iter().copied())
    }
}

impl From<&L2Genesis> for L2Genesis {
    fn from(genesis: &L2Genesis) -> Self {
        genesis.clone()
    }
}

impl<const N: usize> From<&[(PublicKey, [Amount; 4]); N]> for L2Genesis {
    fn from(accounts: &[(PublicKey, [Amount; 4]); N]) -> Self {
        Self::new(accounts.iter().copied())
    }
}

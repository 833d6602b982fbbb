//! Scalar and identifier types shared by every crate.

use std::fmt;
use std::io;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::constants::ACCOUNT_ID_LIMIT;

/// A token amount in base units. Balances and amounts never exceed `u128`.
pub type Amount = u128;

/// A per-account transaction counter: the next transaction of an account must carry
/// exactly the account's current nonce.
pub type Nonce = u64;

/// Dense index of an L2 account: the position of its leaf in the account tree.
///
/// Invariant: the value is below [`ACCOUNT_ID_LIMIT`] (2^24), so it fits the depth-12
/// 4-ary tree and the 3-byte pubdata field. Decoding rejects larger values.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize)]
pub struct AccountId(u32);

impl AccountId {
    /// The largest valid account id.
    pub const MAX: AccountId = AccountId(ACCOUNT_ID_LIMIT - 1);
    /// The first account id.
    pub const ZERO: AccountId = AccountId(0);

    /// Returns the id, or an error if `value` does not fit the account tree.
    pub fn new(value: u32) -> Result<Self, AccountIdError> {
        if value < ACCOUNT_ID_LIMIT {
            Ok(Self(value))
        } else {
            Err(AccountIdError { value })
        }
    }

    /// The numeric id.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The id as a tree index.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// An account id at or above 2^24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("account id {value} is out of range: account ids are below 16777216 (2^24)")]
pub struct AccountIdError {
    /// The rejected value.
    pub value: u32,
}

impl TryFrom<u32> for AccountId {
    type Error = AccountIdError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl BorshDeserialize for AccountId {
    fn deserialize_reader<R: io::Read>(reader: &mut R) -> io::Result<Self> {
        let value = u32::deserialize_reader(reader)?;
        Self::new(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The four native tokens. Fees are always paid in GCC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum TokenId {
    /// Gas and fees.
    Gcc = 0,
    /// SPIRIT.
    Spirit = 1,
    /// MANA.
    Mana = 2,
    /// GHOST.
    Ghost = 3,
}

impl TokenId {
    /// All tokens in id order; the order of balances in an account leaf.
    pub const ALL: [TokenId; 4] = [TokenId::Gcc, TokenId::Spirit, TokenId::Mana, TokenId::Ghost];

    /// The token's numeric id (0 to 3).
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The token with numeric id `id`.
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.get(usize::from(id)).copied()
    }

    /// The token whose ticker is `symbol`, in any case (`gcc`, `SPIRIT`, ...).
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.symbol().eq_ignore_ascii_case(symbol))
    }

    /// The ticker, e.g. `GCC`.
    pub const fn symbol(self) -> &'static str {
        match self {
            TokenId::Gcc => "GCC",
            TokenId::Spirit => "SPIRIT",
            TokenId::Mana => "MANA",
            TokenId::Ghost => "GHOST",
        }
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Identifies a chain; part of every signed message so a signature is valid on one
/// chain only.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct ChainId(pub u64);

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Height of an L2 block; the genesis block is 0.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockNumber(pub u64);

/// Number of a batch of consecutive L2 blocks settled on L1; the first batch is 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BatchNumber(pub u64);

macro_rules! bytes32 {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lower-case hex, no prefix.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Parses 64 hex digits, with or without a `0x` prefix.
            pub fn from_hex(text: &str) -> Result<Self, hex::FromHexError> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut bytes)?;
                Ok(Self(bytes))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_hex())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "0x{}", self.to_hex())
            }
        }
    };
}

bytes32!(
    /// A compressed ed25519 public key (32 bytes). Not validated as a curve point until
    /// it is used to verify (see [`crate::keys`]).
    PublicKey
);
bytes32!(
    /// A blake3 digest: transaction hashes, block hashes, code hashes, chained digests.
    Hash32
);
bytes32!(
    /// An L1 (ghostd) account address that receives withdrawals.
    L1Address
);
bytes32!(
    /// Address of a deployed contract, derived from the deployer and its nonce
    /// (see [`crate::tx::contract_address`]).
    ContractAddress
);

/// An ed25519 signature (64 bytes: `R ‖ s`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_bounds() {
        assert!(AccountId::new(0).is_ok());
        assert_eq!(
            AccountId::new((1 << 24) - 1).map(AccountId::get),
            Ok((1 << 24) - 1)
        );
        assert_eq!(
            AccountId::new(1 << 24),
            Err(AccountIdError { value: 1 << 24 })
        );
        assert_eq!(AccountId::MAX.get(), (1 << 24) - 1);
    }

    #[test]
    fn token_ids() {
        for (i, token) in TokenId::ALL.iter().enumerate() {
            assert_eq!(usize::from(token.id()), i);
            assert_eq!(TokenId::from_id(token.id()), Some(*token));
        }
        assert_eq!(TokenId::from_id(4), None);
        assert_eq!(TokenId::Gcc.id(), 0);
        assert_eq!(TokenId::Ghost.id(), 3);
    }

    #[test]
    fn hex_round_trip() {
        let key = PublicKey([0xab; 32]);
        assert_eq!(PublicKey::from_hex(&key.to_hex()), Ok(key));
        assert_eq!(PublicKey::from_hex(&format!("0x{}", key.to_hex())), Ok(key));
        assert!(PublicKey::from_hex("abcd").is_err());
    }
}

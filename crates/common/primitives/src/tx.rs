//! L2 transactions, their signed envelope, hashing and stateless checks.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::codec::Codec;
use crate::constants::{
    CALL_FUEL_MAX, CALL_INPUT_BYTES_MAX, SIGNED_TX_BYTES_MAX, TX_SIGNING_DOMAIN,
};
use crate::types::{
    AccountId, Amount, ChainId, ContractAddress, Hash32, L1Address, Nonce, PublicKey, Signature,
    TokenId,
};

/// Who receives a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub enum Recipient {
    /// An account that already exists.
    Account(AccountId),
    /// A public key with no account yet: the transfer creates the account, which gets
    /// the next free id. If the key already has an account the transfer fails (with
    /// `FailureReason::AccountExists`), so a new-account transfer always fills an empty
    /// leaf.
    NewAccount(PublicKey),
}

/// An L2 transaction, before signing.
///
/// Every variant carries the sender `from`, its exact next `nonce`, and `fee` in GCC.
/// For native ops `fee` is what the sender pays; for `Deploy` and `Call` it is the most
/// the sender agrees to pay (the executor charges for the fuel actually used).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Transaction {
    /// Move `amount` of `token` to another L2 account.
    Transfer {
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: Recipient,
        /// Token moved.
        token: TokenId,
        /// Amount moved, in base units.
        amount: Amount,
        /// Fee in GCC.
        fee: Amount,
        /// The sender's current nonce.
        nonce: Nonce,
    },
    /// Move `amount` of `token` out of L2 to an L1 address; released on L1 when the
    /// batch is finalized.
    Withdraw {
        /// Sender.
        from: AccountId,
        /// L1 recipient.
        to: L1Address,
        /// Token withdrawn.
        token: TokenId,
        /// Amount withdrawn, in base units.
        amount: Amount,
        /// Fee in GCC.
        fee: Amount,
        /// The sender's current nonce.
        nonce: Nonce,
    },
    /// Deploy a WASM contract. Its address is [`contract_address`]`(from, nonce)`.
    Deploy {
        /// Deployer.
        from: AccountId,
        /// The WASM module; more than
        /// [`CONTRACT_CODE_BYTES_MAX`](crate::constants::CONTRACT_CODE_BYTES_MAX) bytes fails at deploy.
        #[borsh(deserialize_with = "crate::codec::bounded::bytes")]
        code: Vec<u8>,
        /// Input of the module's `init` export, run once at deploy (at most
        /// [`CALL_INPUT_BYTES_MAX`] bytes; must be empty if the module has no
        /// `init`).
        #[borsh(deserialize_with = "crate::codec::bounded::bytes")]
        init: Vec<u8>,
        /// The token of `value`.
        token: TokenId,
        /// Moved from the deployer to the new contract's account before `init` runs
        /// (0: nothing); stays with the deployer if the deploy fails.
        value: Amount,
        /// Most GCC the sender agrees to pay: the deploy's fixed cost plus the fuel
        /// `init` burns.
        fee: Amount,
        /// The sender's current nonce.
        nonce: Nonce,
    },
    /// Call a deployed contract.
    Call {
        /// Caller.
        from: AccountId,
        /// The contract called.
        contract: ContractAddress,
        /// Call data, at most [`CALL_INPUT_BYTES_MAX`] bytes.
        #[borsh(deserialize_with = "crate::codec::bounded::bytes")]
        input: Vec<u8>,
        /// Most fuel the call may burn, at most [`CALL_FUEL_MAX`].
        fuel_limit: u64,
        /// The token of `value`.
        token: TokenId,
        /// Moved from the caller to the contract's account before the contract runs
        /// (0: nothing); stays with the caller if the call fails.
        value: Amount,
        /// Most GCC the sender agrees to pay.
        fee: Amount,
        /// The sender's current nonce.
        nonce: Nonce,
    },
}

/// A transaction that cannot be valid whatever the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatelessError {
    /// Call input over the limit.
    #[error("call input is {len} bytes, over the {max}-byte limit")]
    InputTooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Fuel limit over the limit or zero.
    #[error("fuel limit {fuel_limit} is outside 1..={max}")]
    BadFuelLimit {
        /// Requested fuel.
        fuel_limit: u64,
        /// The limit.
        max: u64,
    },
    /// A transfer or withdrawal of nothing.
    #[error("amount must be greater than zero")]
    ZeroAmount,
    /// A transfer to the sender itself.
    #[error("account {0} cannot transfer to itself")]
    SelfTransfer(AccountId),
    /// The nonce space is exhausted; the next nonce would overflow.
    #[error("nonce {0} is the last one: the account can send no more transactions")]
    NonceExhausted(Nonce),
}

impl Transaction {
    /// The sending account.
    pub fn from(&self) -> AccountId {
        match self {
            Transaction::Transfer { from, .. }
            | Transaction::Withdraw { from, .. }
            | Transaction::Deploy { from, .. }
            | Transaction::Call { from, .. } => *from,
        }
    }

    /// The sender's nonce this transaction consumes.
    pub fn nonce(&self) -> Nonce {
        match self {
            Transaction::Transfer { nonce, .. }
            | Transaction::Withdraw { nonce, .. }
            | Transaction::Deploy { nonce, .. }
            | Transaction::Call { nonce, .. } => *nonce,
        }
    }

    /// A deploy or a call.
    pub fn is_contract(&self) -> bool {
        matches!(self, Transaction::Deploy { .. } | Transaction::Call { .. })
    }

    /// The value a deploy or call moves to its contract (token, amount), if any.
    pub fn value(&self) -> Option<(TokenId, Amount)> {
        match self {
            Transaction::Deploy { token, value, .. } | Transaction::Call { token, value, .. }
                if *value > 0 =>
            {
                Some((*token, *value))
            }
            _ => None,
        }
    }

    /// The fee (native ops) or maximum fee (contracts), in GCC.
    pub fn fee(&self) -> Amount {
        match self {
            Transaction::Transfer { fee, .. }
            | Transaction::Withdraw { fee, .. }
            | Transaction::Deploy { fee, .. }
            | Transaction::Call { fee, .. } => *fee,
        }
    }

    /// Sets the fee (native ops) or maximum fee (contracts), in GCC.
    pub fn set_fee(&mut self, amount: Amount) {
        match self {
            Transaction::Transfer { fee, .. }
            | Transaction::Withdraw { fee, .. }
            | Transaction::Deploy { fee, .. }
            | Transaction::Call { fee, .. } => *fee = amount,
        }
    }

    /// Checks that need no state: input size, fuel limit, non-zero amounts, no
    /// self-transfer, nonce not exhausted. (The overall size bound is the codec's.)
    pub fn check_stateless(&self) -> Result<(), StatelessError> {
        if self.nonce() == Nonce::MAX {
            return Err(StatelessError::NonceExhausted(self.nonce()));
        }
        match self {
            Transaction::Transfer {
                from, to, amount, ..
            } => {
                if *amount == 0 {
                    return Err(StatelessError::ZeroAmount);
                }
                if *to == Recipient::Account(*from) {
                    return Err(StatelessError::SelfTransfer(*from));
                }
            }
            Transaction::Withdraw { amount, .. } => {
                if *amount == 0 {
                    return Err(StatelessError::ZeroAmount);
                }
            }
            // Code is checked by the executor's module validation (size limit
            // included), so that a bad module ends in a failure receipt.
            Transaction::Deploy { init, .. } => {
                if init.len() > CALL_INPUT_BYTES_MAX {
                    return Err(StatelessError::InputTooLarge {
                        len: init.len(),
                        max: CALL_INPUT_BYTES_MAX,
                    });
                }
            }
            Transaction::Call {
                input, fuel_limit, ..
            } => {
                if input.len() > CALL_INPUT_BYTES_MAX {
                    return Err(StatelessError::InputTooLarge {
                        len: input.len(),
                        max: CALL_INPUT_BYTES_MAX,
                    });
                }
                if *fuel_limit == 0 || *fuel_limit > CALL_FUEL_MAX {
                    return Err(StatelessError::BadFuelLimit {
                        fuel_limit: *fuel_limit,
                        max: CALL_FUEL_MAX,
                    });
                }
            }
        }
        Ok(())
    }

    /// The exact bytes an ed25519 signature covers:
    /// `TX_SIGNING_DOMAIN ‖ chain_id (u64 little-endian) ‖ canonical encoding`.
    pub fn signing_message(&self, chain_id: ChainId) -> Vec<u8> {
        let mut message = Vec::with_capacity(TX_SIGNING_DOMAIN.len() + 8 + 96);
        message.extend_from_slice(TX_SIGNING_DOMAIN);
        message.extend_from_slice(&chain_id.0.to_le_bytes());
        self.encode_into(&mut message);
        message
    }
}

impl Codec for Transaction {
    const ENCODED_BYTES_MAX: usize = SIGNED_TX_BYTES_MAX;
    const TYPE_NAME: &'static str = "transaction";
}

/// A transaction with its chain id, its signer's public key and signature.
///
/// The signer key travels with the transaction so signatures can be verified without
/// state (in batches, before ordering); the executor then checks that `signer` is the
/// key of account `tx.from()`, which is what authorizes the transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The chain the signature is for. Carried in the clear so a transaction sent to
    /// the wrong chain gets a "wrong chain id" error rather than a bad signature; the
    /// signature covers it either way.
    pub chain_id: ChainId,
    /// Public key of the sending account.
    pub signer: PublicKey,
    /// Signature over [`Transaction::signing_message`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// The transaction hash: blake3 of the signed encoding.
    pub fn hash(&self) -> Hash32 {
        tx_hash(&self.encode())
    }
}

impl Codec for SignedTransaction {
    const ENCODED_BYTES_MAX: usize = SIGNED_TX_BYTES_MAX;
    const TYPE_NAME: &'static str = "signed transaction";
}

/// Hash of an already-encoded signed transaction (avoids re-encoding on ingest).
pub fn tx_hash(signed_encoding: &[u8]) -> Hash32 {
    Hash32(*blake3::hash(signed_encoding).as_bytes())
}

/// The address of the contract deployed by `deployer`'s transaction with `nonce`.
pub fn contract_address(deployer: AccountId, nonce: Nonce) -> ContractAddress {
    let mut hasher = blake3::Hasher::new_derive_key("ghostplane contract address v1");
    hasher.update(&deployer.get().to_le_bytes());
    hasher.update(&nonce.to_le_bytes());
    ContractAddress(*hasher.finalize().as_bytes())
}

/// The key field of a contract's account leaf: what stands where a user account has
/// its ed25519 key. Derived from the contract's address (unique per contract), so
/// every node computes it from the deploy; it is a hash output, not a key anyone
/// holds, and the L1 refuses signed ops from contract accounts besides.
pub fn contract_account_key(address: &ContractAddress) -> PublicKey {
    let mut hasher = blake3::Hasher::new_derive_key("ghostplane contract account key v1");
    hasher.update(&address.0);
    PublicKey(*hasher.finalize().as_bytes())
}

/// The hash a contract's code is stored under.
pub fn code_hash(code: &[u8]) -> Hash32 {
    Hash32(*blake3::hash(code).as_bytes())
}

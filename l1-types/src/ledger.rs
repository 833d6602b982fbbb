//! The ledger module's records and system accounts: the `(owner, token)` account
//! counters, immutable transfers, and the issuer and bridge-escrow addresses.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{Amount, L1Address, TokenId};

/// The account genesis allocations are drawn from.
pub fn issuer() -> L1Address {
    system_address(b"issuer")
}

/// The bridge escrow: deposits lock funds here, finalized withdrawals release them.
pub fn bridge_escrow() -> L1Address {
    system_address(b"bridge-escrow")
}

/// The naming treasury: registration and renewal fees are paid here.
pub fn naming_treasury() -> L1Address {
    system_address(b"naming-treasury")
}

fn system_address(name: &[u8]) -> L1Address {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"ghostd/ledger/system-account/");
    hasher.update(name);
    L1Address(*hasher.finalize().as_bytes())
}

/// A system transfer id (top bit set), derived from `parts`.
pub fn system_transfer_id(parts: &[&[u8]]) -> u128 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"ghostd/ledger/transfer-id/");
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    u128::from_le_bytes(id) | SYSTEM_ID_BIT
}

/// The id bit reserved for the node's own transfers (clients choose ids without it).
pub const SYSTEM_ID_BIT: u128 = 1 << 127;

/// What kind of movement a transfer records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum TransferCode {
    /// A genesis allocation.
    Genesis = 0,
    /// A user transfer.
    Transfer = 1,
    /// A deposit locked in the bridge escrow.
    Deposit = 2,
    /// A withdrawal released from the bridge escrow.
    Withdrawal = 3,
    /// A name registration or renewal fee, paid to the naming treasury.
    NameFee = 4,
}

/// An account's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LedgerAccount {
    /// Sum of posted debits.
    pub debits_posted: Amount,
    /// Sum of posted credits.
    pub credits_posted: Amount,
}

impl LedgerAccount {
    /// `credits - debits` (zero for a debit-normal account in deficit).
    pub fn balance(&self) -> Amount {
        self.credits_posted.saturating_sub(self.debits_posted)
    }
}

/// An immutable transfer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LedgerTransfer {
    /// Unique id.
    pub id: u128,
    /// Debited owner.
    pub debit: L1Address,
    /// Credited owner.
    pub credit: L1Address,
    /// Token (the ledger).
    pub token: TokenId,
    /// Amount.
    pub amount: Amount,
    /// Kind.
    pub code: TransferCode,
    /// L1 block that posted it.
    pub block: u64,
}

impl LedgerTransfer {
    /// Whether `other` records the same movement (the posting block aside).
    pub fn same_fields(&self, other: &LedgerTransfer) -> bool {
        self.first_difference(other).is_none()
    }

    /// The first field in which `other` differs (the id and posting block aside),
    /// in TigerBeetle's order of checks: what a retry with a reused id got wrong.
    pub fn first_difference(&self, other: &LedgerTransfer) -> Option<TransferField> {
        if self.debit != other.debit {
            Some(TransferField::Debit)
        } else if self.credit != other.credit {
            Some(TransferField::Credit)
        } else if self.token != other.token {
            Some(TransferField::Token)
        } else if self.amount != other.amount {
            Some(TransferField::Amount)
        } else if self.code != other.code {
            Some(TransferField::Code)
        } else {
            None
        }
    }
}

/// A field of a transfer (names what an id-reusing retry changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferField {
    /// The debited account.
    Debit,
    /// The credited account.
    Credit,
    /// The token.
    Token,
    /// The amount.
    Amount,
    /// The kind of transfer.
    Code,
}

impl std::fmt::Display for TransferField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Debit => "debit account",
            Self::Credit => "credit account",
            Self::Token => "token",
            Self::Amount => "amount",
            Self::Code => "code",
        })
    }
}

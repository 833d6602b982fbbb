//! The ledger module's records, calls and system accounts, in TigerBeetle's model:
//! `(owner, token)` accounts with pending and posted counters and flags, immutable
//! transfers (posted, pending, post-pending, void-pending), per-token issuers, and
//! the issuance, bridge-escrow and naming-treasury addresses.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{Amount, L1Address, PublicKey, TokenId};

use crate::identity::DidId;

/// Most operations in one linked [`LedgerCall::Ops`] (all apply or none do).
pub const LINKED_OPS_MAX: usize = 64;

/// Most pending transfers that may expire at one block (a pending transfer whose
/// expiry block is full is refused with [`LedgerCall`]'s `ExpiryBlockFull`).
pub const EXPIRIES_PER_BLOCK_MAX: u32 = 4096;

/// Longest pending timeout, in L1 blocks (about 58 days at 500 ms blocks).
pub const PENDING_TIMEOUT_MAX: u64 = 10_000_000;

/// Most entries one audit-trail page returns.
pub const PAGE_LIMIT_MAX: u32 = 256;

/// The token's issuance account: genesis allocations and mints debit it, burns
/// credit it, so its net debit is the token's outstanding supply.
pub fn issuer() -> L1Address {
    system_address(b"issuer")
}

/// The bridge escrow: deposits lock funds here, finalized withdrawals release them.
pub fn bridge_escrow() -> L1Address {
    system_address(b"bridge-escrow")
}

/// The rollup treasury: forced withdrawals' fees are paid here.
pub fn rollup_treasury() -> L1Address {
    system_address(b"rollup-treasury")
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
    /// A user transfer (and the post or void of a pending one).
    Transfer = 1,
    /// A deposit locked in the bridge escrow.
    Deposit = 2,
    /// A withdrawal released from the bridge escrow.
    Withdrawal = 3,
    /// A name registration or renewal fee, paid to the naming treasury.
    NameFee = 4,
    /// New supply, from the issuance account, by an authorized issuer.
    Mint = 5,
    /// Supply destroyed, back into the issuance account, by an authorized issuer.
    Burn = 6,
    /// The node's void of a pending transfer whose timeout passed.
    Expiry = 7,
    /// A forced withdrawal's fee, paid to the rollup treasury.
    ForcedWithdrawalFee = 8,
}

impl TransferCode {
    /// The name shown over RPC.
    pub fn name(self) -> &'static str {
        match self {
            Self::Genesis => "Genesis",
            Self::Transfer => "Transfer",
            Self::Deposit => "Deposit",
            Self::Withdrawal => "Withdrawal",
            Self::NameFee => "NameFee",
            Self::Mint => "Mint",
            Self::Burn => "Burn",
            Self::Expiry => "Expiry",
            Self::ForcedWithdrawalFee => "ForcedWithdrawalFee",
        }
    }
}

/// Account flags (TigerBeetle's, plus `closed`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountFlags(pub u16);

impl AccountFlags {
    /// Pending plus posted debits may never exceed posted credits. Every account but
    /// the issuance accounts has it, and it cannot be cleared: it is what stops a
    /// user from spending money they do not have.
    pub const DEBITS_MUST_NOT_EXCEED_CREDITS: u16 = 1;
    /// Pending plus posted credits may never exceed posted debits. The issuance
    /// accounts have it: more cannot be burned than was minted.
    pub const CREDITS_MUST_NOT_EXCEED_DEBITS: u16 = 2;
    /// Keep the balances after every change (`ledger_getAccountHistory`).
    pub const HISTORY: u16 = 4;
    /// The account refuses new transfers, posted or pending (posts and voids of
    /// earlier reservations, expiries and bridge withdrawals still reach it).
    pub const CLOSED: u16 = 8;
    /// The flags an owner may set or clear.
    pub const OWNER_SETTABLE: u16 = Self::HISTORY | Self::CLOSED;

    /// Whether `flag` is set.
    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    /// The set flags' names.
    pub fn names(self) -> Vec<&'static str> {
        [
            (
                Self::DEBITS_MUST_NOT_EXCEED_CREDITS,
                "debits_must_not_exceed_credits",
            ),
            (
                Self::CREDITS_MUST_NOT_EXCEED_DEBITS,
                "credits_must_not_exceed_debits",
            ),
            (Self::HISTORY, "history"),
            (Self::CLOSED, "closed"),
        ]
        .into_iter()
        .filter(|(flag, _)| self.has(*flag))
        .map(|(_, name)| name)
        .collect()
    }
}

/// An account's counters and flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LedgerAccount {
    /// Sum of reserved (pending) debits.
    pub debits_pending: Amount,
    /// Sum of posted debits, modulo 2^128 (a running volume; see [`Self::balance`]).
    pub debits_posted: Amount,
    /// Sum of reserved (pending) credits.
    pub credits_pending: Amount,
    /// Sum of posted credits, modulo 2^128 (a running volume).
    pub credits_posted: Amount,
    /// Flags.
    pub flags: AccountFlags,
    /// Entries in the account's audit trail (each transfer that touched it).
    pub entries: u64,
}

impl LedgerAccount {
    /// An untouched account: users and system accounts may not overdraw; the
    /// issuance account may not be credited past what it issued.
    pub fn opened(owner: &L1Address) -> Self {
        let flags = if *owner == issuer() {
            AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS
        } else {
            AccountFlags::DEBITS_MUST_NOT_EXCEED_CREDITS
        };
        Self {
            flags: AccountFlags(flags),
            ..Self::default()
        }
    }

    /// Posted `credits - debits`; zero for the account that may be in net debit
    /// (the issuance account, `credits_must_not_exceed_debits`). The posted
    /// counters are running volumes that wrap at 2^128 (the ledger never refuses a
    /// transfer for how much moved before it); their wrapping difference is exact
    /// because a balance is at most a token's capped supply.
    pub fn balance(&self) -> Amount {
        if self.flags.has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS) {
            return 0;
        }
        self.credits_posted.wrapping_sub(self.debits_posted)
    }

    /// Posted `debits - credits` of the issuance account (the outstanding supply);
    /// zero for every other account.
    pub fn net_debit(&self) -> Amount {
        if !self.flags.has(AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS) {
            return 0;
        }
        self.debits_posted.wrapping_sub(self.credits_posted)
    }

    /// What may still be debited: the balance less pending debits.
    pub fn available(&self) -> Amount {
        self.balance().saturating_sub(self.debits_pending)
    }
}

/// Transfer flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TransferFlags(pub u16);

impl TransferFlags {
    /// Part of a linked chain (all applied or none).
    pub const LINKED: u16 = 1;
    /// Reserves the amount (two-phase) instead of posting it.
    pub const PENDING: u16 = 2;
    /// Posts (all or part of) the pending transfer `pending_id`.
    pub const POST_PENDING: u16 = 4;
    /// Releases the pending transfer `pending_id`.
    pub const VOID_PENDING: u16 = 8;

    /// Whether `flag` is set.
    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    /// The set flags' names.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Self::LINKED, "linked"),
            (Self::PENDING, "pending"),
            (Self::POST_PENDING, "post_pending_transfer"),
            (Self::VOID_PENDING, "void_pending_transfer"),
        ]
        .into_iter()
        .filter(|(flag, _)| self.has(*flag))
        .map(|(_, name)| name)
        .collect()
    }
}

/// Who authorized a mint, a burn or an issuer change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Authorizer {
    /// The signing key.
    pub key: PublicKey,
    /// The DID it acted for (the issuer DID, or one holding `ledger:mint:<TOKEN>`
    /// from it).
    pub did: Option<DidId>,
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
    /// Amount (for a void: the pending amount released).
    pub amount: Amount,
    /// For a post or void: the pending transfer it resolves (else 0).
    pub pending_id: u128,
    /// For a pending transfer: L1 blocks until it expires (0 = never).
    pub timeout: u64,
    /// Flags.
    pub flags: TransferFlags,
    /// Kind.
    pub code: TransferCode,
    /// L1 block that applied it.
    pub block: u64,
    /// For a mint or burn: who authorized it.
    pub authorizer: Option<Authorizer>,
    /// The DID or name the credited address was resolved from, if the sender named
    /// one (the address is what it resolved to when the transfer applied).
    pub via: Option<String>,
}

impl LedgerTransfer {
    /// A plain posted transfer (no flags, no pending id, no authorizer).
    pub fn posted(
        id: u128,
        debit: L1Address,
        credit: L1Address,
        token: TokenId,
        amount: Amount,
        code: TransferCode,
        block: u64,
    ) -> Self {
        Self {
            id,
            debit,
            credit,
            token,
            amount,
            pending_id: 0,
            timeout: 0,
            flags: TransferFlags::default(),
            code,
            block,
            authorizer: None,
            via: None,
        }
    }

    /// Whether `other` records the same movement (the posting block aside).
    pub fn same_fields(&self, other: &LedgerTransfer) -> bool {
        self.first_difference(other).is_none()
    }

    /// The first field in which `other` differs (the id, block, authorizer and
    /// `via` aside), in TigerBeetle's order of checks: what a retry with a reused id
    /// got wrong. The `linked` flag is not compared: a transfer may be retried
    /// alone or in a chain.
    pub fn first_difference(&self, other: &LedgerTransfer) -> Option<TransferField> {
        let flags = |t: &LedgerTransfer| t.flags.0 & !TransferFlags::LINKED;
        if flags(self) != flags(other) {
            Some(TransferField::Flags)
        } else if self.pending_id != other.pending_id {
            Some(TransferField::PendingId)
        } else if self.timeout != other.timeout {
            Some(TransferField::Timeout)
        } else if self.debit != other.debit {
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
    /// The flags (pending, post, void).
    Flags,
    /// The pending transfer a post or void resolves.
    PendingId,
    /// The pending timeout.
    Timeout,
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

impl TransferField {
    /// The snake-case name (TigerBeetle's `exists_with_different_<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Flags => "flags",
            Self::PendingId => "pending_id",
            Self::Timeout => "timeout",
            Self::Debit => "debit_account",
            Self::Credit => "credit_account",
            Self::Token => "ledger",
            Self::Amount => "amount",
            Self::Code => "code",
        }
    }
}

impl std::fmt::Display for TransferField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Flags => "flags",
            Self::PendingId => "pending transfer",
            Self::Timeout => "timeout",
            Self::Debit => "debit account",
            Self::Credit => "credit account",
            Self::Token => "token",
            Self::Amount => "amount",
            Self::Code => "code",
        })
    }
}

/// Where a pending transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum PendingStatus {
    /// Reserved, not yet resolved.
    Pending,
    /// Posted (in whole or in part) by the transfer with this id.
    Posted(u128),
    /// Voided by the transfer with this id.
    Voided(u128),
    /// Expired at its timeout (released by the node's transfer with this id).
    Expired(u128),
}

/// A credited party: an address, or a DID or name resolved when the transfer
/// applies.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Payee {
    /// An L1 address.
    Address(L1Address),
    /// A `did:ghost`: paid to its first Ed25519 `capabilityInvocation` key.
    Did(DidId),
    /// A native name (`alice.ghost`): paid to its L1 address record (coin
    /// [`crate::naming::COIN_L1`]).
    Name(#[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::string")] String),
}

impl From<L1Address> for Payee {
    fn from(address: L1Address) -> Self {
        Self::Address(address)
    }
}

impl Payee {
    /// Parses `did:ghost:…`, a name with a dot, or a 32-byte hex address.
    pub fn parse(text: &str) -> Option<Self> {
        if text.starts_with("did:") {
            return DidId::parse(text).ok().map(Self::Did);
        }
        let hex = text.strip_prefix("0x").unwrap_or(text);
        if let Ok(address) = L1Address::from_hex(hex) {
            return Some(Self::Address(address));
        }
        text.contains('.').then(|| Self::Name(text.to_string()))
    }
}

impl std::fmt::Display for Payee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(address) => write!(f, "{address}"),
            Self::Did(did) => write!(f, "{did}"),
            Self::Name(name) => f.write_str(name),
        }
    }
}

/// Who may mint, burn and change the issuer of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum IssuerAuthority {
    /// Transactions signed by this key.
    Key(PublicKey),
    /// This DID (signed by one of its `capabilityInvocation` keys or a
    /// controller's), or a DID holding `ledger:mint:<TOKEN>` granted by it.
    Did(DidId),
}

impl IssuerAuthority {
    /// Parses `did:ghost:…` or a 32-byte hex key.
    pub fn parse(text: &str) -> Option<Self> {
        if text.starts_with("did:") {
            return DidId::parse(text).ok().map(Self::Did);
        }
        let hex = text.strip_prefix("0x").unwrap_or(text);
        PublicKey::from_hex(hex).ok().map(Self::Key)
    }
}

impl std::fmt::Display for IssuerAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Key(key) => write!(f, "{}", key.to_hex()),
            Self::Did(did) => write!(f, "{did}"),
        }
    }
}

/// The permission a DID needs, granted by the issuer DID, to mint and burn `token`.
pub fn mint_permission(token: TokenId) -> String {
    format!("ledger:mint:{}", token.symbol())
}

/// One ledger operation; the signer is always the one debited (for a post or void,
/// a party to the pending transfer).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LedgerOp {
    /// Moves `amount` from the signer to `to`, or with `pending`, reserves it.
    Transfer {
        /// Client-chosen id (not zero, top bit clear).
        id: u128,
        /// Receiver.
        to: Payee,
        /// Token.
        token: TokenId,
        /// Amount (not zero).
        amount: Amount,
        /// Reserve instead of posting, expiring after this many L1 blocks
        /// (`Some(0)`: never).
        pending: Option<u64>,
    },
    /// Posts the pending transfer `pending_id` (the debtor or the creditor may):
    /// `amount` of it (all if `None`); the rest is released.
    Post {
        /// Id of this post.
        id: u128,
        /// The pending transfer.
        pending_id: u128,
        /// How much to post (at most the pending amount).
        amount: Option<Amount>,
    },
    /// Releases the pending transfer `pending_id` (the creditor may; the debtor
    /// waits for the timeout).
    Void {
        /// Id of this void.
        id: u128,
        /// The pending transfer.
        pending_id: u128,
    },
    /// New supply from the token's issuance account to `to` (issuers only).
    Mint {
        /// Id.
        id: u128,
        /// Receiver.
        to: Payee,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
        /// The DID the signer acts for, when the issuer is a DID: the issuer DID
        /// itself (the default) or one it granted `ledger:mint:<TOKEN>`.
        as_did: Option<DidId>,
    },
    /// Destroys `amount` of the signer's `token`, crediting the issuance account
    /// (issuers only).
    Burn {
        /// Id.
        id: u128,
        /// Token.
        token: TokenId,
        /// Amount.
        amount: Amount,
        /// As for [`LedgerOp::Mint`].
        as_did: Option<DidId>,
    },
}

impl LedgerOp {
    /// The operation's transfer id.
    pub fn id(&self) -> u128 {
        match self {
            Self::Transfer { id, .. }
            | Self::Post { id, .. }
            | Self::Void { id, .. }
            | Self::Mint { id, .. }
            | Self::Burn { id, .. } => *id,
        }
    }
}

/// One entry of an account's audit trail: a transfer that touched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct AccountEntry {
    /// The transfer.
    pub transfer: u128,
    /// Its block.
    pub block: u64,
}

/// An account's balances after one change (kept for accounts with `history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BalanceSnapshot {
    /// The transfer that changed them.
    pub transfer: u128,
    /// Its block.
    pub block: u64,
    /// Pending debits after it.
    pub debits_pending: Amount,
    /// Posted debits after it.
    pub debits_posted: Amount,
    /// Pending credits after it.
    pub credits_pending: Amount,
    /// Posted credits after it.
    pub credits_posted: Amount,
}

/// Per-token sums over all accounts, kept as accounts change; the block invariants
/// compare them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Totals {
    /// Σ debits_posted, modulo 2^128.
    pub debits_posted: Amount,
    /// Σ credits_posted, modulo 2^128.
    pub credits_posted: Amount,
    /// Σ debits_pending.
    pub debits_pending: Amount,
    /// Σ credits_pending.
    pub credits_pending: Amount,
    /// Outstanding supply: genesis allocations plus mints less burns.
    pub supply: Amount,
}

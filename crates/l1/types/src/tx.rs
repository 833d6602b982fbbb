//! L1 transactions, blocks and receipts, with their canonical (borsh) encodings.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::{
    AccountId, Amount, Codec, FieldBytes, Hash32, Keypair, L1Address, Nonce, PublicKey, Signature,
    TokenId,
};

/// Domain tag of a signed L1 transaction (never valid as an L2 signature).
pub const L1_TX_DOMAIN: &[u8; 16] = b"ghostd/l1-tx/v1\0";

/// The devnet L1 chain id ("gho1").
pub const L1_DEVNET_CHAIN_ID: u64 = 0x6768_6f31;

/// Largest encoded L1 transaction (a batch commit carries the batch's pubdata).
pub const L1_TX_BYTES_MAX: usize = 4 * 1024 * 1024;

/// A call into the ledger module.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum LedgerCall {
    /// Moves `amount` of `token` from the signer's account to `to`. `id` is chosen
    /// by the client: resending the same transfer is a no-op, reusing the id for a
    /// different transfer is an error.
    Transfer {
        /// Client-chosen transfer id (not zero).
        id: u128,
        /// Receiver.
        to: L1Address,
        /// Token.
        token: TokenId,
        /// Amount (not zero).
        amount: Amount,
    },
    /// 1 to [`LINKED_OPS_MAX`](crate::ledger::LINKED_OPS_MAX) operations, linked:
    /// all apply or none do.
    Ops(Vec<crate::ledger::LedgerOp>),
    /// Sets and clears the signer's own account flags (`history`, `closed`).
    SetAccountFlags {
        /// The account's token.
        token: TokenId,
        /// Flags to set.
        set: u16,
        /// Flags to clear.
        clear: u16,
    },
    /// Replaces the issuer of `token` (signed by the current issuer: its key, or
    /// for a DID issuer, the DID itself; grantees may not).
    SetIssuer {
        /// Token.
        token: TokenId,
        /// The new issuer.
        authority: crate::ledger::IssuerAuthority,
    },
}

/// A batch as committed to the rollup module.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BatchCommit {
    /// Batch number: the last committed batch + 1.
    pub number: u64,
    /// First L2 block of the batch.
    pub first_block: u64,
    /// Last L2 block of the batch (inclusive).
    pub last_block: u64,
    /// The L2 account that collects the batch's fees.
    pub fee_account: AccountId,
    /// Encoded pubdata ops (`ghostplane_primitives::pubdata`).
    #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::bytes")]
    pub pubdata: Vec<u8>,
    /// Claimed account tree root after the batch.
    pub new_root: FieldBytes,
    /// Number of proof chunks the batch is cut into.
    pub chunk_count: u32,
}

/// A call into the rollup module.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RollupCall {
    /// Locks `amount` of `token` from the signer in the bridge escrow and queues a
    /// deposit to the L2 account of `recipient` (created if it has none).
    Deposit {
        /// The L2 key credited.
        recipient: PublicKey,
        /// Token.
        token: TokenId,
        /// Amount (not zero).
        amount: Amount,
    },
    /// Commits a batch (operator only).
    Commit(BatchCommit),
    /// Proves chunks of the oldest committed, unfinalized batch, from its next
    /// unproven chunk on: one root and one proof per chunk. The batch is final once
    /// all its chunks are proven. Anyone may submit.
    Prove {
        /// The batch.
        number: u64,
        /// The first chunk proven here (the L1's `proving_chunks`).
        first_chunk: u32,
        /// Account root after each chunk.
        chunk_roots: Vec<FieldBytes>,
        /// Proof of each chunk (the genesis backend's bytes).
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::byte_vecs")]
        proofs: Vec<Vec<u8>>,
    },
    /// Commits batch `commit.number` and proves all its chunks in one transaction
    /// (operator only; the batch must be the next to finalize): a quiet L2's
    /// batch is final in one L1 block instead of two.
    CommitProven {
        /// The commit.
        commit: BatchCommit,
        /// Account root after each chunk.
        chunk_roots: Vec<FieldBytes>,
        /// Proof of each chunk.
        #[borsh(deserialize_with = "ghostplane_primitives::codec::bounded::byte_vecs")]
        proofs: Vec<Vec<u8>>,
    },
    /// Switches the rollup into exit mode (anyone; refused unless a deposit is
    /// overdue past the exit window or a committed batch stayed unproven for it).
    ActivateExit,
    /// In exit mode: pays an L2 account's balance of one token at the exit root to
    /// an L1 recipient, once (anyone may submit; the account's key signs).
    ExitClaim(crate::rollup::ExitClaim),
    /// Queues a withdrawal the L2 must include within the forced-inclusion window
    /// (the L2 account's key signs; the L1 signer pays the genesis's
    /// `forced_withdrawal_fee` in GCC).
    ForceWithdraw(crate::rollup::ForcedWithdrawalRequest),
    /// Reverts the committed, unproven batches after `to` (operator only), so that
    /// one that can never be proven does not halt finality; the operator commits
    /// batch `to + 1` again.
    RevertBatches {
        /// The last batch kept (at least the last finalized one).
        to: u64,
    },
}

/// What a transaction asks a module to do.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Call {
    /// The ledger module.
    Ledger(LedgerCall),
    /// The rollup module.
    Rollup(RollupCall),
    /// The identity module (`did:ghost`).
    Identity(crate::identity::IdentityCall),
    /// The naming module (`.ghost` and the other native TLDs).
    Naming(crate::naming::NamingCall),
}

impl Call {
    /// The module this call is for: the chain hands it to that module.
    pub fn module(&self) -> ModuleId {
        match self {
            Self::Ledger(_) => ModuleId::LEDGER,
            Self::Rollup(_) => ModuleId::ROLLUP,
            Self::Identity(_) => ModuleId::IDENTITY,
            Self::Naming(_) => ModuleId::NAMING,
        }
    }
}

/// A module of the L1 node, as receipts name it: a stable number (its wire form)
/// and a name. The numbers are part of the receipt format and never reused.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct ModuleId(pub u8);

impl ModuleId {
    /// The ledger (`ledger_*`): accounts, transfers, mint and burn.
    pub const LEDGER: Self = Self(1);
    /// The rollup bridge (`rollup_*`): deposits, batch commits and proofs.
    pub const ROLLUP: Self = Self(2);
    /// Decentralized identifiers (`identity_*`, `did:ghost`).
    pub const IDENTITY: Self = Self(3);
    /// Names (`naming_*`, `.ghost` and the other native TLDs).
    pub const NAMING: Self = Self(4);

    /// The module's name (`unknown` for a number no module has).
    pub fn name(self) -> &'static str {
        match self {
            Self::LEDGER => "ledger",
            Self::ROLLUP => "rollup",
            Self::IDENTITY => "identity",
            Self::NAMING => "naming",
            _ => "unknown",
        }
    }
}

impl std::fmt::Display for ModuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<crate::identity::IdentityCall> for Call {
    fn from(call: crate::identity::IdentityCall) -> Self {
        Self::Identity(call)
    }
}

impl From<crate::naming::NamingCall> for Call {
    fn from(call: crate::naming::NamingCall) -> Self {
        Self::Naming(call)
    }
}

/// An unsigned L1 transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L1Transaction {
    /// The L1 chain id.
    pub chain_id: u64,
    /// Sender: an ed25519 key, which is also its L1 address.
    pub from: PublicKey,
    /// The sender's next nonce.
    pub nonce: Nonce,
    /// What to do.
    pub call: Call,
}

impl L1Transaction {
    /// The message the sender signs: domain tag ‖ encoding.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut message = L1_TX_DOMAIN.to_vec();
        #[allow(clippy::expect_used)]
        self.serialize(&mut message)
            .expect("borsh serialization into a Vec is infallible");
        message
    }

    /// Signs with `key` (which must be `from`'s key).
    pub fn sign(self, key: &Keypair) -> SignedL1Transaction {
        let signature = key.sign_bytes(&self.signing_message());
        SignedL1Transaction {
            tx: self,
            signature,
        }
    }
}

/// A signed L1 transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedL1Transaction {
    /// The transaction.
    pub tx: L1Transaction,
    /// ed25519 signature by `tx.from` over [`L1Transaction::signing_message`].
    pub signature: Signature,
}

impl Codec for SignedL1Transaction {
    const ENCODED_BYTES_MAX: usize = L1_TX_BYTES_MAX;
    const TYPE_NAME: &'static str = "L1 transaction";
}

impl SignedL1Transaction {
    /// blake3 of the encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.encode()).as_bytes())
    }

    /// Checks the signature (strict ed25519).
    pub fn verify(&self) -> Result<(), ghostplane_primitives::SignatureError> {
        ghostplane_primitives::keys::verify(
            &self.tx.from,
            &self.tx.signing_message(),
            &self.signature,
        )
    }
}

/// An L1 block header.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L1Header {
    /// Height; the genesis is 0.
    pub number: u64,
    /// Hash of the previous header.
    pub parent_hash: Hash32,
    /// Wall-clock time of sealing, ms since the epoch.
    pub timestamp_ms: u64,
    /// blake3 over the transaction hashes, in order.
    pub transactions_hash: Hash32,
    /// blake3 over the state writes of the block, chained with the parent's.
    pub state_digest: Hash32,
    /// Transactions in the block.
    pub tx_count: u32,
}

impl Codec for L1Header {
    const ENCODED_BYTES_MAX: usize = 1024;
    const TYPE_NAME: &'static str = "L1 header";
}

impl L1Header {
    /// The `transactions_hash` of a block with these transaction hashes, in order.
    pub fn transactions_hash<'a>(hashes: impl IntoIterator<Item = &'a Hash32>) -> Hash32 {
        let mut hasher = blake3::Hasher::new();
        for hash in hashes {
            hasher.update(&hash.0);
        }
        Hash32(*hasher.finalize().as_bytes())
    }

    /// blake3 of the encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.encode()).as_bytes())
    }
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum L1Outcome {
    /// Applied.
    Success,
    /// Refused by its module: nothing but the sender's nonce changed. Like
    /// TigerBeetle's `CreateTransferResult`, the refusal is numbered: `code` is the
    /// module's stable result code (its error enum's `code()`, documented there; the
    /// codes of one module never change meaning), `message` says it in words.
    Failed {
        /// The module that refused.
        module: ModuleId,
        /// Its result code (never 0).
        code: u16,
        /// Why, for people.
        message: String,
    },
}

/// What happened to an included transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct L1Receipt {
    /// The transaction.
    pub tx_hash: Hash32,
    /// Including block.
    pub block: u64,
    /// Position in the block.
    pub index: u32,
    /// Outcome.
    pub outcome: L1Outcome,
    /// For a deposit: its queue index.
    pub deposit_index: Option<u64>,
}

impl Codec for L1Receipt {
    const ENCODED_BYTES_MAX: usize = 64 * 1024;
    const TYPE_NAME: &'static str = "L1 receipt";
}

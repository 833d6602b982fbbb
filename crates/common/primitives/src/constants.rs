//! Chain constants and size limits. Changing any of these is a consensus change.

use crate::types::ChainId;

/// Domain separation tag prefixed to every signed L2 transaction message.
pub const TX_SIGNING_DOMAIN: &[u8; 21] = b"ghostplane/l2-tx/v1\0\0";

/// Chain id of the local devnet.
pub const DEVNET_CHAIN_ID: ChainId = ChainId(0x6768_6f73); // "ghos"

/// Account ids are below this bound (2^24): the account tree has 4^12 leaves.
pub const ACCOUNT_ID_LIMIT: u32 = 1 << 24;

/// Account ids kept for deposits: a transfer to a new key may only create ids below
/// [`TRANSFER_ACCOUNT_ID_LIMIT`]; the last 2^22 ids are made only by deposits, which
/// the L1 queues for a new key only while the ids left can take every queued one. So
/// a deposit always finds an id, and a full account space never halts the L2.
pub const DEPOSIT_ACCOUNTS_RESERVED: u32 = 1 << 22;

/// Account ids a transfer to a new key may create are below this bound.
pub const TRANSFER_ACCOUNT_ID_LIMIT: u32 = ACCOUNT_ID_LIMIT - DEPOSIT_ACCOUNTS_RESERVED;

/// Fee, in GCC base units, that a transfer to a new key pays on top of the minimum
/// fee: an account is a leaf of the proven tree for good, so creating one costs more
/// than a transfer. Below `fee_min + ACCOUNT_CREATION_FEE` it is dropped (refused at
/// submission); the whole fee goes to the fee account, as any fee.
pub const ACCOUNT_CREATION_FEE: u128 = 1_000;

/// Depth of the account tree.
pub const ACCOUNT_TREE_DEPTH: usize = 12;

/// Children per node of the account tree.
pub const ACCOUNT_TREE_ARITY: usize = 4;

/// Largest WASM module a `Deploy` may carry (128 KiB).
pub const CONTRACT_CODE_BYTES_MAX: usize = 128 * 1024;

/// Largest input a contract `Call` may carry (16 KiB).
pub const CALL_INPUT_BYTES_MAX: usize = 16 * 1024;

/// Largest fuel limit a contract `Call` may ask for.
pub const CALL_FUEL_MAX: u64 = 100_000_000;

/// Largest value stored under one contract storage key (and so the largest value in
/// a pubdata state-diff entry).
pub const STORAGE_VALUE_BYTES_MAX: usize = 1024;

/// Largest encoded [`crate::SignedTransaction`]: the biggest deploy plus headroom for
/// the envelope. Decoding rejects anything longer before parsing it.
pub const SIGNED_TX_BYTES_MAX: usize = CONTRACT_CODE_BYTES_MAX + 1024;

/// Largest encoded receipt (return data and events included).
pub const RECEIPT_BYTES_MAX: usize = 64 * 1024;

/// Largest encoded block or batch header, and L1 deposit event.
pub const HEADER_BYTES_MAX: usize = 1024;

/// Most pubdata one L2 block may produce (ops plus contract storage writes). A
/// transaction that would take its block past it is dropped from that block, so every
/// block fits in one L1 commit transaction with room to spare.
pub const BLOCK_PUBDATA_BYTES_MAX: usize = 2 * 1024 * 1024;

//! ghostd's JSON-RPC API as typed traits: the server (`ghostd::rpc`) implements the
//! generated `*Server` traits, clients (settlement's [`RpcL1`](crate::RpcL1), the
//! wallet) call the generated `*Client` methods. No method name is written twice.
//!
//! | method | params | result |
//! | --- | --- | --- |
//! | `ghost_chainId` | | L1 chain id |
//! | `ghost_blockNumber` | | head height |
//! | `ghost_genesisHash` | | blake3 of the genesis (hex) |
//! | `ghost_getGenesis` | | the genesis, borsh (hex) |
//! | `ghost_getBlock` | number | [`BlockView`] or `null` |
//! | `ghost_sendTransaction` | signed tx, hex | [`Submitted`] once in the mempool |
//! | `ghost_sendTransactionBatch` | signed txs, hex (≤ [`SEND_BATCH_MAX`]) | one [`BatchSubmitted`] each, in order |
//! | `ghost_getTransaction` | hash | [`TransactionView`] |
//! | `ghost_getAccount` | address (hex) | [`AccountView`] |
//! | `ghost_status` | | [`StatusView`] |
//! | `ghost_subscribeNewBlocks` | | notifications `ghost_newBlock` ([`HeaderView`]) |
//! | `ledger_getAccount` | address, token symbol | [`LedgerAccountView`] |
//! | `ledger_getTransfer` | id (decimal string) | [`TransferView`] or `null` |
//! | `ledger_supply` | token symbol | [`SupplyView`] |
//! | `ledger_getAccountTransfers` | owner (hex, DID or name), token, [`PageOptions`] | [`TransfersPage`] |
//! | `ledger_getAccountHistory` | owner, token, [`PageOptions`] | [`HistoryPage`] |
//! | `consensus_status` | | [`ConsensusStatus`](crate::consensus::ConsensusStatus) |
//! | `consensus_getCommit` | height | [`CommitView`] or `null` |
//! | `rollup_status` | | [`RollupView`] |
//! | `rollup_getBatch` | number | [`BatchView`] or `null` |
//! | `rollup_getBatchOfBlock` | L2 block | the committed [`BatchView`] holding it, or `null` |
//! | `rollup_getDeposits` | from index, max (≤ [`DEPOSITS_PER_CALL_MAX`]) | [`DepositView`]s |
//! | `rollup_getForcedWithdrawals` | from index, max (≤ [`DEPOSITS_PER_CALL_MAX`]) | [`ForcedWithdrawalView`]s |
//! | `rollup_getForcedWithdrawalCount` | L2 account id | the count its next request signs |
//! | `rollup_fees` | | [`FeesView`]: the L2's prices, the L1 data price per pubdata byte among them |
//! | `rollup_getExit` | | [`ExitView`] or `null` |
//! | `rollup_exitClaimed` | L2 account id, token symbol | bool |
//! | `identity_resolve` | DID, [`ResolveOptions`] | a W3C DID Resolution result (JSON) |
//! | `identity_hasPermission` | DID, permission, grantor DID (optional) | [`PermissionView`] |
//! | `identity_getGrants` | DID | [`GrantView`]s |
//! | `identity_verifyToken` | JWT, [`VerifyOptions`] | [`TokenVerdict`] |
//! | `naming_resolve` | name | [`NameView`] or `null` (unregistered or released) |
//! | `naming_reverse` | L1 key (hex) | its forward-verified primary name, or `null` |
//! | `naming_events` | name, from index, max (≤ 256) | [`NameEventView`]s |
//! | `naming_price` | name, years | GCC base units (decimal string) |
//!
//! Identity changes are L1 transactions (`Call::Identity`) sent with
//! `ghost_sendTransaction`. The same resolution is served over HTTP at
//! `GET /1.0/identifiers/{did}` (the DIF Universal Resolver driver convention).
//!
//! Amounts are decimal strings (u128 does not fit a JSON number); hashes, roots and
//! keys are hex. Views that a client must read exactly carry `encoded`: the record's
//! borsh encoding, hex. Errors carry the codes of `ghostplane_rpc::codes`.
//!
//! One file per namespace, each with its trait and the views only it answers with:
//! [`ghost`], [`ledger`], [`consensus`], [`rollup`], [`identity`], [`naming`].
//! Everything is re-exported here, so `ghostd_types::api::X` names any of them.

use ghostplane_primitives::CodecError;
use jsonrpsee::types::ErrorObjectOwned;

pub mod consensus;
pub mod ghost;
pub mod identity;
pub mod ledger;
pub mod naming;
pub mod rollup;

pub use consensus::{CommitView, ConsensusApiClient, ConsensusApiServer};
pub use ghost::{
    AccountView, BatchSubmitted, BlockView, GhostApiClient, GhostApiServer, HeaderView,
    ReceiptView, SEND_BATCH_MAX, StatusView, Submitted, TransactionView, TxState,
};
pub use identity::{
    GrantView, IdentityApiClient, IdentityApiServer, PermissionView, ResolveOptions, TokenVerdict,
    VERIFY_GRANTORS_MAX, VerifyOptions, VersionId,
};
pub use ledger::{
    BalanceView, EntryView, HistoryPage, LedgerAccountView, LedgerApiClient, LedgerApiServer,
    PageOptions, SupplyView, TransferView, TransfersPage,
};
pub use naming::{NameEventView, NameView, NamingApiClient, NamingApiServer, RecordView};
pub use rollup::{
    BatchView, ChunkVerifyView, ContractStorageView, DEPOSITS_PER_CALL_MAX, DepositView, ExitView,
    FeesView, ForcedWithdrawalView, RollupApiClient, RollupApiServer, RollupView,
};

/// Result of a handler.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

fn unhex(text: &str) -> Result<Vec<u8>, CodecError> {
    hex::decode(text).map_err(|e| CodecError::Invalid {
        type_name: "hex field",
        reason: e.to_string(),
    })
}

//! The L1 chain's genesis.

use borsh::{BorshDeserialize, BorshSerialize};
use ghostplane_primitives::codec::to_bytes;
use ghostplane_primitives::{Amount, Hash32, L1Address, TokenId};

use crate::rollup;

/// The chain's genesis.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Genesis {
    /// L1 chain id.
    pub chain_id: u64,
    /// Genesis time, ms since the epoch.
    pub timestamp_ms: u64,
    /// Ledger allocations from the issuer.
    pub allocations: Vec<(L1Address, TokenId, Amount)>,
    /// The rollup module's genesis.
    pub rollup: rollup::RollupGenesis,
    /// The naming module's parameters.
    pub naming: crate::naming::NamingParams,
    /// Who may mint and burn each token (a token without one has a fixed supply).
    pub issuers: Vec<(TokenId, crate::ledger::IssuerAuthority)>,
    /// How blocks are decided: one sealing node, or a BFT validator set.
    pub consensus: crate::consensus::ConsensusMode,
}

impl Genesis {
    /// blake3 of the encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&to_bytes(self)).as_bytes())
    }
}

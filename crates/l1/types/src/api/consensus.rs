//! The consensus namespace (`consensus_*`): status and commit certificates.

use jsonrpsee::proc_macros::rpc;
use serde::{Deserialize, Serialize};

use super::RpcResult;

/// Consensus (`consensus_*`).
#[rpc(server, client, namespace = "consensus")]
pub trait ConsensusApi {
    /// Height, round, the head's signers, peers, sync state and counters.
    #[method(name = "status")]
    fn status(&self) -> RpcResult<crate::consensus::ConsensusStatus>;

    /// The commit certificate of block `height` (BFT chains).
    #[method(name = "getCommit")]
    fn get_commit(&self, height: u64) -> RpcResult<Option<CommitView>>;
}

/// A commit certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitView {
    /// Block height.
    pub height: u64,
    /// The deciding round.
    pub round: u32,
    /// The block's header hash.
    pub block: String,
    /// Signer keys (hex), in certificate order.
    pub signers: Vec<String>,
    /// The certificate's borsh encoding (hex): check it with
    /// `ghostd_types::consensus::verify_commit`.
    pub encoded: String,
}

//! The consensus namespace (`consensus_*`): status and commit certificates.

use ghostd_types::api::{CommitView, ConsensusApiServer, RpcResult};
use ghostplane_primitives::Codec;
use ghostplane_rpc::internal;

use crate::node::Ghostd;

/// The `consensus_*` handlers, over the node.
pub(super) struct ConsensusRpc {
    node: Ghostd,
}

impl ConsensusRpc {
    /// Handlers over `node`.
    pub(super) fn new(node: Ghostd) -> Self {
        Self { node }
    }
}

impl ConsensusApiServer for ConsensusRpc {
    fn status(&self) -> RpcResult<ghostd_types::consensus::ConsensusStatus> {
        Ok(self.node.consensus_status())
    }

    fn get_commit(&self, height: u64) -> RpcResult<Option<CommitView>> {
        let commit = self.node.commit_certificate(height).map_err(internal)?;
        Ok(commit.map(|c| CommitView {
            height: c.height,
            round: c.round,
            block: c.block.to_hex(),
            signers: c.signatures.iter().map(|(k, _)| k.to_hex()).collect(),
            encoded: hex::encode(c.encode()),
        }))
    }
}

//! `l1-calls`: L1 calls decoded from the input, signed and executed on a real ghostd (blocks sealed).

use borsh::BorshDeserialize;
use ghostd::Call;
use ghostplane_primitives::Keypair;

use super::common::{Node, l1_calls, sign_l1};
use crate::Harness;

/// Cases between sealed blocks in [`L1Calls`].
const CALLS_PER_BLOCK: u32 = 32;

pub(super) struct L1Calls {
    node: Node,
    keys: Vec<Keypair>,
    pending: u32,
    case: u64,
}

impl L1Calls {
    pub(super) fn new() -> Result<Self, String> {
        Ok(Self {
            node: Node::open()?,
            keys: (0..8).map(Keypair::dev).collect(),
            pending: 0,
            case: 0,
        })
    }
}

impl Harness for L1Calls {
    fn seeds(&self) -> Vec<Vec<u8>> {
        l1_calls()
            .iter()
            .map(borsh::to_vec)
            .filter_map(Result::ok)
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        self.case += 1;
        let Ok(call) = Call::try_from_slice(input) else {
            return Ok(false);
        };
        let key = &self.keys[(self.case % self.keys.len() as u64) as usize];
        let nonce = self
            .node
            .node
            .nonce(&key.public_key())
            .map_err(|e| format!("nonce read failed: {e}"))?;
        // Refusals (bad call, over a bound, mempool full) are typed; only execution
        // and sealing must not fail.
        let _ = self.node.node.submit(sign_l1(key, nonce, call));
        self.pending += 1;
        if self.pending >= CALLS_PER_BLOCK {
            self.pending = 0;
            self.node.seal()?;
        }
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        // A sealed block executes the calls pooled since the last one.
        64 * 1024 * 1024 + 64 * input_len
    }
}

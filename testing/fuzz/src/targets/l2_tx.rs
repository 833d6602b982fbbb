//! `l2-tx`: the signed L2 transaction: strict decode, one encoding per value, stateless checks, signature.

use super::common::{L2_CHAIN, codec, decoder_bound, l2_seeds};
use crate::Harness;

pub(super) struct L2Tx;

impl Harness for L2Tx {
    fn seeds(&self) -> Vec<Vec<u8>> {
        l2_seeds()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some(signed) = codec::<ghostplane_primitives::SignedTransaction>(input)? else {
            return Ok(false);
        };
        let _ = signed.tx.check_stateless();
        let _ = signed.verify(L2_CHAIN);
        let _ = signed.hash();
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

//! `l1-tx`: the signed L1 transaction and its call: strict decode, one encoding, signature.

use ghostd::SignedL1Transaction;
use ghostplane_primitives::{Codec, Keypair};

use super::common::{codec, decoder_bound, l1_calls, sign_l1};
use crate::Harness;

pub(super) struct L1Tx;

impl Harness for L1Tx {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let key = Keypair::dev(1);
        l1_calls()
            .into_iter()
            .map(|call| sign_l1(&key, 0, call).encode())
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some(signed) = codec::<SignedL1Transaction>(input)? else {
            return Ok(false);
        };
        let _ = signed.verify();
        let _ = signed.hash();
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

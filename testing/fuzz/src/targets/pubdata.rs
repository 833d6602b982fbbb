//! `pubdata`: batch pubdata as L1 validators decode it: one encoding per op list.

use ghostplane_primitives::{
    Keypair, PubdataOp, Signature, TokenId, decode_pubdata, encode_pubdata,
};

use super::common::{decoder_bound, id, same_bytes};
use crate::Harness;

pub(super) struct Pubdata;

impl Harness for Pubdata {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let sig = Signature([5; 64]);
        let ops = [
            PubdataOp::Transfer {
                from: id(1),
                to: id(2),
                token: TokenId::Gcc,
                amount: 300,
                fee: 7,
                signature: sig,
            },
            PubdataOp::TransferToNew {
                from: id(1),
                to: id(3),
                to_key: Keypair::dev(3).public_key(),
                token: TokenId::Gcc,
                amount: 1,
                fee: 1,
                signature: sig,
            },
        ];
        (1..=ops.len())
            .filter_map(|n| encode_pubdata(&ops[..n]).ok())
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Ok(ops) = decode_pubdata(input) else {
            return Ok(false);
        };
        let encoded =
            encode_pubdata(&ops).map_err(|e| format!("decoded pubdata does not re-encode: {e}"))?;
        same_bytes(input, &encoded, "pubdata")?;
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

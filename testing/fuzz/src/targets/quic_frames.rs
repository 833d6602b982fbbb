//! `quic-frames`: the sequencer's QUIC stream: u32 length prefixes (lying ones too), each payload decoded.

use super::common::{codec, decoder_bound, l2_seeds};
use crate::Harness;

pub(super) struct QuicFrames;

impl Harness for QuicFrames {
    fn seeds(&self) -> Vec<Vec<u8>> {
        // Streams of framed transactions, one to five per stream.
        let txs = l2_seeds();
        (1..=txs.len())
            .map(|n| {
                let mut stream = Vec::new();
                for tx in &txs[..n] {
                    stream.extend_from_slice(&(tx.len() as u32).to_be_bytes());
                    stream.extend_from_slice(tx);
                }
                stream
            })
            .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        const MAX: usize = ghostplane_primitives::constants::SIGNED_TX_BYTES_MAX;
        let mut rest = input;
        let mut decoded = false;
        loop {
            match ghostplane_sequencer::quic::next_frame(rest, MAX) {
                Ok(Some(len)) => {
                    if len > MAX || 4 + len > rest.len() {
                        return Err(format!(
                            "frame of {len} bytes reported with {} buffered",
                            rest.len()
                        ));
                    }
                    decoded |=
                        codec::<ghostplane_primitives::SignedTransaction>(&rest[4..4 + len])?
                            .is_some();
                    rest = &rest[4 + len..];
                }
                // Waiting for more, or refused (the stream is closed with the error).
                Ok(None) | Err(_) => return Ok(decoded),
            }
        }
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

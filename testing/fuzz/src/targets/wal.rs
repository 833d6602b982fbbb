//! `wal-entry`: the BFT write-ahead log's entries: decode and one encoding.

use ghostd::consensus::wire::WalEntry;
use ghostplane_primitives::{Hash32, Keypair};

use super::common::{decoder_bound, same_bytes};
use crate::Harness;

pub(super) struct Wal;

impl Harness for Wal {
    fn seeds(&self) -> Vec<Vec<u8>> {
        // Entries come from the node's own store; mutated ones model a damaged one.
        [
            WalEntry::Timeout { kind: 1, round: 2 },
            WalEntry::Value {
                height: 9,
                round: 1,
                valid_round: -1,
                proposer: Keypair::dev(1).public_key(),
                block: Hash32([4; 32]),
                valid: true,
            },
        ]
        .iter()
        .filter_map(|entry| borsh::to_vec(entry).ok())
        .collect()
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Ok(entry) = borsh::from_slice::<WalEntry>(input) else {
            return Ok(false);
        };
        let encoded = borsh::to_vec(&entry).map_err(|e| e.to_string())?;
        same_bytes(input, &encoded, "WAL entry")?;
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

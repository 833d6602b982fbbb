//! `p2p-frames`: BFT network messages from peers: decode, bounds, one encoding; commit
//! certificates verified.

use ghostd::L1_DEVNET_CHAIN_ID;
use ghostd::consensus::wire::NetMsg;
use ghostd_types::consensus::{
    BftParams, Commit, GenesisValidator, Timeouts, VoteKind, verify_commit, vote_signing_bytes,
};
use ghostplane_primitives::{Codec, Hash32, Keypair};

use super::common::{codec, decoder_bound, l1_calls, same_bytes, sign_l1};
use crate::Harness;

/// The BFT frames, with a one-validator set to check certificates against.
pub(super) struct P2p {
    params: BftParams,
    key: Keypair,
}

impl P2p {
    pub(super) fn new() -> Self {
        let key = Keypair::dev(5);
        Self {
            params: BftParams {
                validators: vec![GenesisValidator {
                    key: key.public_key(),
                    power: 1,
                    p2p: None,
                }],
                timeouts: Timeouts::default(),
            },
            key,
        }
    }

    fn commit(&self) -> Commit {
        let block = Hash32([9; 32]);
        let message =
            vote_signing_bytes(L1_DEVNET_CHAIN_ID, VoteKind::Precommit, 3, 0, Some(block));
        Commit {
            height: 3,
            round: 0,
            block,
            signatures: vec![(self.key.public_key(), self.key.sign_bytes(&message))],
        }
    }
}

/// Input tags: which decoder a [`P2p`] case feeds.
const NET_MSG: u8 = 0;

impl Harness for P2p {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let key = Keypair::dev(1);
        let messages = [
            NetMsg::Status { height: 7 },
            NetMsg::SyncRequest { from: 3 },
            NetMsg::Transactions(
                l1_calls()
                    .into_iter()
                    .enumerate()
                    .map(|(n, call)| sign_l1(&key, n as u64, call))
                    .collect(),
            ),
        ];
        let mut seeds: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| borsh::to_vec(m).ok())
            .map(|m| [vec![NET_MSG], m].concat())
            .collect();
        seeds.push([vec![1], self.commit().encode()].concat());
        seeds
    }

    fn run(&mut self, input: &[u8]) -> Result<bool, String> {
        let Some((&tag, body)) = input.split_first() else {
            return Ok(false);
        };
        if tag == NET_MSG {
            let Ok(message) = borsh::from_slice::<NetMsg>(body) else {
                return Ok(false);
            };
            let _ = message.within_bounds();
            let encoded = borsh::to_vec(&message).map_err(|e| e.to_string())?;
            same_bytes(body, &encoded, "p2p message")?;
            return Ok(true);
        }
        let Some(commit) = codec::<Commit>(body)? else {
            return Ok(false);
        };
        let verdict = verify_commit(L1_DEVNET_CHAIN_ID, &self.params, 3, commit.block, &commit);
        if verdict.is_ok() && commit != self.commit() {
            return Err("a forged commit certificate verified".into());
        }
        Ok(true)
    }

    fn alloc_bound(&self, input_len: usize) -> usize {
        decoder_bound(input_len)
    }
}

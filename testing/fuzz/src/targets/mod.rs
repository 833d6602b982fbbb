//! The fuzz targets: one harness per decoder or entry point that takes outside bytes,
//! one file per harness (`prover_submit` serves both coordinators), and the
//! registry [`TARGETS`] the binary runs them from.

mod common;
mod dns;
mod l1_calls;
mod l1_tx;
mod l2_tx;
mod p2p;
mod prover_submit;
mod pubdata;
mod quic_frames;
mod wal;
mod wasm_deploy;

use crate::{Harness, Target};
use dns::Dns;
use l1_calls::L1Calls;
use l1_tx::L1Tx;
use l2_tx::L2Tx;
use p2p::P2p;
use prover_submit::ProverSubmit;
use pubdata::Pubdata;
use quic_frames::QuicFrames;
use wal::Wal;
use wasm_deploy::WasmDeploy;

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "l2-tx",
        about: "the signed L2 transaction: strict decode, one encoding per value, stateless checks, signature",
        make: || Ok(Box::new(L2Tx)),
    },
    Target {
        name: "quic-frames",
        about: "the sequencer's QUIC stream: u32 length prefixes (lying ones too), each payload decoded",
        make: || Ok(Box::new(QuicFrames)),
    },
    Target {
        name: "l1-tx",
        about: "the signed L1 transaction and its call: strict decode, one encoding, signature",
        make: || Ok(Box::new(L1Tx)),
    },
    Target {
        name: "l1-calls",
        about: "L1 calls decoded from the input, signed and executed on a real ghostd (blocks sealed)",
        make: || L1Calls::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "pubdata",
        about: "batch pubdata as L1 validators decode it: one encoding per op list",
        make: || Ok(Box::new(Pubdata)),
    },
    Target {
        name: "prover-submit",
        about: "what the coordinator receives: job ids, STARK witnesses, and proofs (a mutated proof never verifies)",
        make: || ProverSubmit::stark().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "prover-submit-groth16",
        about: "the same for a Groth16 coordinator (one-slot chunk circuit): job ids, chunk witnesses, proofs",
        make: || ProverSubmit::groth16().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "wasm-deploy",
        about: "contract modules at deploy: rewrite, compile, instantiate within the bounds",
        make: || WasmDeploy::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "dns",
        about: "DNS queries in wire format (DoH and UDP) against a real ghostd's .ghost names",
        make: || Dns::new().map(|h| Box::new(h) as Box<dyn Harness>),
    },
    Target {
        name: "p2p-frames",
        about: "BFT network messages from peers: decode, bounds, one encoding; commit certificates verified",
        make: || Ok(Box::new(P2p::new())),
    },
    Target {
        name: "wal-entry",
        about: "the BFT write-ahead log's entries: decode and one encoding",
        make: || Ok(Box::new(Wal)),
    },
];

/// The target called `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

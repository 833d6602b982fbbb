//! # ghostplane-fuzz
//!
//! Structured fuzzing of every decoder and entry point that takes bytes from
//! outside: the signed L2 transaction, the sequencer's QUIC frames, L1 transactions
//! and their calls (executed on a real node), pubdata, the prover coordinator's
//! job ids, witnesses and proofs (STARK and Groth16), WASM modules at deploy, DNS
//! queries, and the BFT network's frames and write-ahead log. Stable Rust: no
//! cargo-fuzz.
//!
//! ## Data flow
//!
//! ```text
//! seed (ChaCha8) ──► case bytes ──► arbitrary::Unstructured ──► raw input, or a
//! target's valid seed encodings mutated (bit flips, interesting bytes, length
//! prefixes that lie, splices, truncation) ──► Harness::run under catch_unwind and
//! the allocation counter ──► pass, or a failure (panic, broken property, allocation
//! over the target's bound)
//! ```
//!
//! ## Properties every target checks
//!
//! - no panic;
//! - a rejection is the decoder's typed error (the type system guarantees the
//!   type; the harness checks that decoding then re-encoding an accepted input gives
//!   the same bytes: one encoding per value, decode ∘ encode = id);
//! - no allocation beyond the target's stated bound during one case
//!   ([`Harness::alloc_bound`]), when the binary installs [`CountingAlloc`].
//!
//! `cargo run --release -p ghostplane-fuzz -- --target T --cases N` runs a target;
//! the test suite runs a few thousand cases of each.
//!
//! ## Limits
//!
//! A case's input is at most [`INPUT_BYTES_MAX`] bytes; a generated raw input at
//! most [`RAW_BYTES_MAX`].

use std::alloc::{GlobalAlloc, Layout};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arbitrary::Unstructured;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

pub mod targets;

/// Largest input a case hands a harness, bytes.
pub const INPUT_BYTES_MAX: usize = 256 * 1024;
/// Largest raw (non-seed) input, bytes.
pub const RAW_BYTES_MAX: usize = 4096;
/// Random bytes drawn per case to steer [`Unstructured`].
const STEER_BYTES: usize = 256;

/// One fuzz target's state (a node, a runtime, seeds).
pub trait Harness {
    /// Valid encodings the mutator starts from.
    fn seeds(&self) -> Vec<Vec<u8>>;
    /// Runs one input: whether it was accepted (decoded, or passed the entry
    /// point's checks); `Err` is a broken property (not a rejected input).
    fn run(&mut self, input: &[u8]) -> Result<bool, String>;
    /// Most bytes one case may allocate beyond what was live before it.
    fn alloc_bound(&self, input_len: usize) -> usize;
}

/// A named target.
pub struct Target {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it feeds and checks.
    pub about: &'static str,
    /// Builds its harness.
    pub make: fn() -> Result<Box<dyn Harness>, String>,
}

/// The first failing input of a run.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The case number.
    pub case: u64,
    /// The input.
    pub input: Vec<u8>,
    /// What went wrong.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: &'static str,
    /// Cases run.
    pub cases: u64,
    /// Cases the target accepted (the rest were refused with a typed error).
    pub accepted: u64,
    /// Cases that failed.
    pub failures: u64,
    /// The first failure.
    pub first: Option<Failure>,
    /// Whether allocation was measured (the binary installs [`CountingAlloc`]).
    pub alloc_checked: bool,
    /// The largest allocation one case made, bytes.
    pub alloc_peak: usize,
}

/// Runs `cases` cases of `target` from `seed`.
pub fn run(target: &Target, cases: u64, seed: u64) -> Result<Report, String> {
    let mut harness = (target.make)()?;
    let seeds = harness.seeds();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut steer = vec![0u8; STEER_BYTES];
    let mut raw = vec![0u8; RAW_BYTES_MAX];
    let mut report = Report {
        target: target.name,
        cases,
        accepted: 0,
        failures: 0,
        first: None,
        alloc_checked: COUNTING.load(Ordering::Relaxed),
        alloc_peak: 0,
    };
    for case in 0..cases {
        rng.fill_bytes(&mut steer);
        rng.fill_bytes(&mut raw);
        let input = generate(&mut Unstructured::new(&steer), &seeds, &raw);
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| harness.run(&input)));
        let grew = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        report.alloc_peak = report.alloc_peak.max(grew);
        let reason = match outcome {
            Err(panic) => Some(format!("panic: {}", panic_text(&panic))),
            Ok(Err(broken)) => Some(broken),
            Ok(Ok(accepted)) if report.alloc_checked && grew > harness.alloc_bound(input.len()) => {
                report.accepted += u64::from(accepted);
                Some(format!(
                    "allocated {grew} bytes, over the bound of {} for a {}-byte input",
                    harness.alloc_bound(input.len()),
                    input.len()
                ))
            }
            Ok(Ok(accepted)) => {
                report.accepted += u64::from(accepted);
                None
            }
        };
        if let Some(reason) = reason {
            report.failures += 1;
            report.first.get_or_insert(Failure {
                case,
                input: input.clone(),
                reason,
            });
        }
    }
    Ok(report)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic".into())
}

/// Interesting byte values.
const BYTES: [u8; 8] = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x40];
/// Interesting `u32` values for length prefixes.
const LENGTHS: [u32; 9] = [
    0,
    1,
    4,
    255,
    4096,
    1 << 20,
    0x7fff_ffff,
    0xffff_fffe,
    u32::MAX,
];

/// One case's input: raw bytes (a tenth of the time), or a seed with 1–8 mutations.
fn generate(u: &mut Unstructured<'_>, seeds: &[Vec<u8>], raw: &[u8]) -> Vec<u8> {
    if seeds.is_empty() || u.ratio(1, 10).unwrap_or(false) {
        let len = u.int_in_range(0..=raw.len()).unwrap_or(0);
        return raw[..len].to_vec();
    }
    let mut input = u.choose(seeds).cloned().unwrap_or_default();
    let mutations = u.int_in_range(1..=8).unwrap_or(1);
    for _ in 0..mutations {
        mutate(u, &mut input, raw);
    }
    input.truncate(INPUT_BYTES_MAX);
    input
}

fn mutate(u: &mut Unstructured<'_>, input: &mut Vec<u8>, raw: &[u8]) {
    let len = input.len();
    let at = |u: &mut Unstructured<'_>| u.int_in_range(0..=len.saturating_sub(1)).unwrap_or(0);
    match u.int_in_range(0..=8u8).unwrap_or(0) {
        0 if len > 0 => {
            let i = at(u);
            input[i] ^= 1 << u.int_in_range(0..=7).unwrap_or(0);
        }
        1 if len > 0 => {
            let i = at(u);
            input[i] = *u.choose(&BYTES).unwrap_or(&0);
        }
        2 if len > 0 => {
            let i = at(u);
            input[i] = u.arbitrary().unwrap_or(0);
        }
        // A length prefix that lies (borsh writes them little-endian, frames
        // big-endian).
        3 | 4 if len >= 4 => {
            let i = u.int_in_range(0..=len - 4).unwrap_or(0);
            let value = *u.choose(&LENGTHS).unwrap_or(&u32::MAX);
            let bytes = if u.arbitrary().unwrap_or(false) {
                value.to_be_bytes()
            } else {
                value.to_le_bytes()
            };
            input[i..i + 4].copy_from_slice(&bytes);
        }
        5 => {
            let cut = u.int_in_range(0..=len).unwrap_or(0);
            input.truncate(cut);
        }
        6 => {
            let n = u.int_in_range(1..=64).unwrap_or(1).min(raw.len());
            let i = u.int_in_range(0..=len).unwrap_or(0);
            input.splice(i..i, raw[..n].iter().copied());
        }
        7 if len > 0 => {
            let a = at(u);
            let b = u.int_in_range(a..=len).unwrap_or(len);
            input.drain(a..b);
        }
        _ if len > 0 => {
            // Duplicate a slice (repeated elements, doubled frames).
            let a = at(u);
            let b = u.int_in_range(a..=len.min(a + 256)).unwrap_or(len);
            let copy = input[a..b].to_vec();
            input.splice(b..b, copy);
        }
        _ => input.push(u.arbitrary().unwrap_or(0)),
    }
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts live bytes and their peak, over `A`. Install it
/// with `#[global_allocator]` in a binary or test to check allocation bounds.
pub struct CountingAlloc<A>(pub A);

impl<A> CountingAlloc<A> {
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// The one unsafe item of the crate: a global allocator must implement the unsafe
// trait. SAFETY: every call forwards to `A` with the same layout; the counters are
// atomics.
#[allow(unsafe_code)]
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        COUNTING.store(true, Ordering::Relaxed);
        Self::grew(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Self::grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

//! Canonical binary encoding: borsh, with an explicit size bound per type and strict
//! decoding.
//!
//! borsh is deterministic (one encoding per value: little-endian integers, `u32`
//! length prefixes, one-byte enum tags), so encodings can be hashed and signed.
//! [`Codec::decode`] adds what consensus needs on top: input over
//! [`Codec::ENCODED_BYTES_MAX`] is rejected before any parsing, input that ends early is
//! [`CodecError::Truncated`], and bytes left after the value are
//! [`CodecError::TrailingBytes`], so every value has exactly one accepted encoding.

use std::io;

use borsh::{BorshDeserialize, BorshSerialize};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input is larger than the type allows.
    #[error("input is {len} bytes, over the {max}-byte maximum for {type_name}")]
    Oversize {
        /// Length of the input.
        len: usize,
        /// The bound for this type.
        max: usize,
        /// The type being decoded.
        type_name: &'static str,
    },
    /// The input ended before the value was complete.
    #[error("input ended early while decoding {type_name}")]
    Truncated {
        /// The type being decoded.
        type_name: &'static str,
    },
    /// A complete value was decoded but bytes were left over.
    #[error("{extra} trailing bytes after a complete {type_name}")]
    TrailingBytes {
        /// How many bytes were left.
        extra: usize,
        /// The type being decoded.
        type_name: &'static str,
    },
    /// The bytes do not form a valid value (unknown enum tag, out-of-range id, ...).
    #[error("invalid {type_name}: {reason}")]
    Invalid {
        /// The type being decoded.
        type_name: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// A type with a canonical, size-bounded binary encoding.
pub trait Codec: BorshSerialize + BorshDeserialize + Sized {
    /// Largest accepted encoding, in bytes.
    const ENCODED_BYTES_MAX: usize;

    /// Name used in error messages.
    const TYPE_NAME: &'static str;

    /// The canonical encoding.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    fn encode_into(&self, out: &mut Vec<u8>) {
        encode_into(self, out);
    }

    /// Decodes exactly one value from `bytes`.
    fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        if bytes.len() > Self::ENCODED_BYTES_MAX {
            return Err(CodecError::Oversize {
                len: bytes.len(),
                max: Self::ENCODED_BYTES_MAX,
                type_name: Self::TYPE_NAME,
            });
        }
        let mut reader = EofTracking {
            rest: bytes,
            wanted_more: false,
        };
        let value = Self::deserialize_reader(&mut reader).map_err(|e| {
            if reader.wanted_more {
                CodecError::Truncated {
                    type_name: Self::TYPE_NAME,
                }
            } else {
                CodecError::Invalid {
                    type_name: Self::TYPE_NAME,
                    reason: e.to_string(),
                }
            }
        })?;
        if !reader.rest.is_empty() {
            return Err(CodecError::TrailingBytes {
                extra: reader.rest.len(),
                type_name: Self::TYPE_NAME,
            });
        }
        Ok(value)
    }
}

/// The borsh encoding of `value`, for stored or hashed types that have no decode
/// bound of their own (a [`Codec`] type's `encode` is the same bytes).
///
/// Infallible by construction: borsh's only serialization errors come from the
/// writer (a `Vec` never fails) or from a collection longer than `u32::MAX`, which
/// no Ghostplane value can hold (every collection is bounded far below that). So no
/// caller needs an `unwrap_or_default()` that could store or hash empty bytes.
pub fn to_bytes<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(value, &mut out);
    out
}

fn encode_into<T: BorshSerialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // See `to_bytes`: the writer is a Vec and every collection is bounded.
    #[allow(clippy::expect_used)]
    value
        .serialize(out)
        .expect("borsh serialization into a Vec is infallible");
}

/// A slice reader that remembers whether the decoder asked for bytes past the end.
///
/// borsh reports running out of input as `InvalidData`, the same kind as a bad enum
/// tag, so the reader itself tells truncation apart from invalid content.
struct EofTracking<'a> {
    rest: &'a [u8],
    wanted_more: bool,
}

impl io::Read for EofTracking<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !buf.is_empty() && self.rest.is_empty() {
            self.wanted_more = true;
        }
        self.rest.read(buf)
    }
}

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

/// Field decoders for byte strings from outside, allocating only for bytes that are
/// actually there: `#[borsh(deserialize_with = "…::bounded::bytes")]` and friends.
///
/// borsh's own `Vec<u8>` (and so `String`) decoder allocates a zeroed buffer of
/// `min(length prefix, 1 MiB)` before reading, so a 200-byte transaction whose
/// prefix lies costs 1 MiB (found by `ghostplane-fuzz`). These read the same
/// encoding (`u32` little-endian length, then the bytes) and accept exactly what
/// borsh accepts, but start from at most [`bounded::PREALLOC_BYTES`] and grow with
/// the input, so a decode allocates at most about twice the bytes it was given.
pub mod bounded {
    use std::io::{self, Read};

    use borsh::BorshDeserialize;

    /// Most bytes reserved before any are read.
    pub const PREALLOC_BYTES: usize = 4096;

    fn short() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "unexpected length of input")
    }

    /// A `Vec<u8>`.
    pub fn bytes<R: Read>(reader: &mut R) -> io::Result<Vec<u8>> {
        let len = u32::deserialize_reader(reader)? as usize;
        let mut out = Vec::with_capacity(len.min(PREALLOC_BYTES));
        let read = reader.by_ref().take(len as u64).read_to_end(&mut out)?;
        if read != len {
            return Err(short());
        }
        Ok(out)
    }

    /// A `String` (UTF-8, as borsh checks it).
    pub fn string<R: Read>(reader: &mut R) -> io::Result<String> {
        String::from_utf8(bytes(reader)?)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }

    /// An `Option<String>` (tag 0 or 1, as borsh checks it).
    pub fn option_string<R: Read>(reader: &mut R) -> io::Result<Option<String>> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(None),
            1 => string(reader).map(Some),
            tag => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid Option tag {tag}"),
            )),
        }
    }

    fn many<R: Read, T>(reader: &mut R, one: fn(&mut R) -> io::Result<T>) -> io::Result<Vec<T>> {
        let count = u32::deserialize_reader(reader)? as usize;
        let mut out = Vec::with_capacity(count.min(PREALLOC_BYTES / size_of::<T>().max(1)));
        for _ in 0..count {
            out.push(one(reader)?);
        }
        Ok(out)
    }

    /// A `Vec<String>`.
    pub fn strings<R: Read>(reader: &mut R) -> io::Result<Vec<String>> {
        many(reader, string)
    }

    /// A `Vec<Vec<u8>>`.
    pub fn byte_vecs<R: Read>(reader: &mut R) -> io::Result<Vec<Vec<u8>>> {
        many(reader, bytes)
    }
}

#[cfg(test)]
mod tests {
    use borsh::BorshDeserialize;
    use proptest::prelude::*;

    use super::bounded;

    #[derive(Debug, PartialEq, borsh::BorshSerialize, borsh::BorshDeserialize)]
    struct Plain {
        bytes: Vec<u8>,
        text: String,
        maybe: Option<String>,
        texts: Vec<String>,
        blobs: Vec<Vec<u8>>,
    }

    #[derive(Debug, PartialEq, borsh::BorshDeserialize)]
    struct Bounded {
        #[borsh(deserialize_with = "bounded::bytes")]
        bytes: Vec<u8>,
        #[borsh(deserialize_with = "bounded::string")]
        text: String,
        #[borsh(deserialize_with = "bounded::option_string")]
        maybe: Option<String>,
        #[borsh(deserialize_with = "bounded::strings")]
        texts: Vec<String>,
        #[borsh(deserialize_with = "bounded::byte_vecs")]
        blobs: Vec<Vec<u8>>,
    }

    proptest! {
        /// The bounded decoders accept exactly what borsh accepts, with the same
        /// values, on valid encodings and on any bytes at all.
        #[test]
        fn bounded_decoders_agree_with_borsh(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            text in ".{0,16}",
            maybe in proptest::option::of(".{0,8}"),
            texts in proptest::collection::vec(".{0,8}", 0..4),
            blobs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4),
            noise in proptest::collection::vec(any::<u8>(), 0..96),
            cut in 0usize..200,
        ) {
            let plain = Plain { bytes, text, maybe, texts, blobs };
            let encoded = borsh::to_vec(&plain).unwrap();
            let bounded = Bounded::try_from_slice(&encoded).unwrap();
            prop_assert_eq!(&bounded.bytes, &plain.bytes);
            prop_assert_eq!(&bounded.text, &plain.text);
            prop_assert_eq!(&bounded.maybe, &plain.maybe);
            prop_assert_eq!(&bounded.texts, &plain.texts);
            prop_assert_eq!(&bounded.blobs, &plain.blobs);
            for input in [&encoded[..cut.min(encoded.len())], &noise[..]] {
                let ours = Bounded::try_from_slice(input).ok();
                let theirs = Plain::try_from_slice(input).ok();
                prop_assert_eq!(ours.is_some(), theirs.is_some());
                if let (Some(ours), Some(theirs)) = (ours, theirs) {
                    prop_assert_eq!(ours.bytes, theirs.bytes);
                    prop_assert_eq!(ours.texts, theirs.texts);
                }
            }
        }
    }

    #[test]
    fn a_lying_length_is_refused() {
        let mut input = u32::MAX.to_le_bytes().to_vec();
        input.extend_from_slice(b"only a few bytes");
        assert!(bounded::bytes(&mut input.as_slice()).is_err());
        assert!(bounded::strings(&mut input.as_slice()).is_err());
        assert!(bounded::option_string(&mut [2u8].as_slice()).is_err());
    }
}

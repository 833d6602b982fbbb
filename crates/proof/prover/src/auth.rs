//! Worker credentials: the tokens an operator lists for the coordinator, and the one a
//! worker presents when it registers.
//!
//! ```text
//! operator: token file (one token per line) ──► WorkerAuth (blake3 hashes only)
//! worker:   --token-file ──► WorkerToken ──prover_register──► hash, compare with every
//!                                                             listed hash (constant time)
//!                                         ◄── session secret (unguessable, 32 random bytes)
//! ```
//!
//! A token is printable ASCII without spaces, [`TOKEN_BYTES_MIN`]..=[`TOKEN_BYTES_MAX`]
//! bytes long; generated tokens are 64 hex digits (32 bytes from the OS). A token file
//! holds one token per line; blank lines and lines starting with `#` are ignored. A
//! worker uses the first token of its file. The coordinator keeps only the tokens'
//! blake3 hashes; `blake3::Hash` compares in constant time, and every listed hash is
//! compared, so timing tells nothing about which token (or how much of one) matched.
//! Tokens never appear in `Debug` output, logs or error messages.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};

/// Shortest accepted token (bytes): a guessable password is refused.
pub const TOKEN_BYTES_MIN: usize = 16;
/// Longest accepted token (bytes).
pub const TOKEN_BYTES_MAX: usize = 256;
/// Most tokens one coordinator lists.
pub const TOKENS_MAX: usize = 4096;
/// Largest token file read.
pub const TOKEN_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Why a token or token file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("worker token file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`TOKEN_FILE_BYTES_MAX`].
    #[error("worker token file {path} has {bytes} bytes, at most {TOKEN_FILE_BYTES_MAX} are read")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The file holds no token.
    #[error(
        "worker token file {path} holds no token (one per line; `ghostplane devnet` writes one)"
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file lists more than [`TOKENS_MAX`] tokens.
    #[error("worker token file {path} lists {count} tokens, at most {TOKENS_MAX} are allowed")]
    TooMany {
        /// The file.
        path: PathBuf,
        /// Tokens found.
        count: usize,
    },
    /// A line is not a valid token (the line is not echoed: it may be a secret).
    #[error("worker token file {path}, line {line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A token given directly (not from a file) is not valid.
    #[error("worker token: {0}")]
    Invalid(&'static str),
    /// The OS random source failed.
    #[error("cannot generate a worker token: {0}")]
    Entropy(String),
}

/// A worker's secret token. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerToken(String);

impl fmt::Debug for WorkerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkerToken(<secret>)")
    }
}

impl WorkerToken {
    /// A fresh token: 32 bytes from the OS, hex.
    pub fn generate() -> Result<Self, TokenError> {
        Ok(Self(hex::encode(random_bytes()?)))
    }

    /// Checks `text` (surrounding whitespace trimmed) is a valid token.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        check_token(text.trim())
            .map(|()| Self(text.trim().to_string()))
            .map_err(TokenError::Invalid)
    }

    /// The secret, to send to the coordinator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> blake3::Hash {
        blake3::hash(self.0.as_bytes())
    }
}

/// 32 bytes from the OS random source.
pub(crate) fn random_bytes() -> Result<[u8; 32], TokenError> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| TokenError::Entropy(e.to_string()))?;
    Ok(bytes)
}

fn check_token(text: &str) -> Result<(), &'static str> {
    if text.len() < TOKEN_BYTES_MIN {
        return Err("token is shorter than 16 bytes; use a generated one (64 hex digits)");
    }
    if text.len() > TOKEN_BYTES_MAX {
        return Err("token is longer than 256 bytes");
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("token must be printable ASCII without spaces");
    }
    Ok(())
}

/// Reads every token of a token file.
pub fn read_token_file(path: &Path) -> Result<Vec<WorkerToken>, TokenError> {
    let io = |source| TokenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > TOKEN_FILE_BYTES_MAX {
        return Err(TokenError::TooLarge {
            path: path.to_path_buf(),
            bytes,
        });
    }
    warn_if_readable_by_others(path);
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut tokens = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        check_token(line).map_err(|reason| TokenError::Malformed {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        })?;
        tokens.push(WorkerToken(line.to_string()));
    }
    if tokens.is_empty() {
        return Err(TokenError::Empty {
            path: path.to_path_buf(),
        });
    }
    if tokens.len() > TOKENS_MAX {
        return Err(TokenError::TooMany {
            path: path.to_path_buf(),
            count: tokens.len(),
        });
    }
    Ok(tokens)
}

/// The token a worker presents: the first of its token file.
pub fn read_worker_token(path: &Path) -> Result<WorkerToken, TokenError> {
    read_token_file(path)?
        .into_iter()
        .next()
        .ok_or_else(|| TokenError::Empty {
            path: path.to_path_buf(),
        })
}

/// Reads the token file at `path`, or creates it (owner-only permissions) with one
/// fresh token. For a devnet, which hands the file to external workers.
pub fn load_or_create_token_file(path: &Path) -> Result<Vec<WorkerToken>, TokenError> {
    if path.exists() {
        return read_token_file(path);
    }
    let token = WorkerToken::generate()?;
    let io = |source| TokenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    writeln!(
        file,
        "# Ghostplane prover worker tokens: one per line. Workers use the first line\n\
         # (`ghostplane prover --token-file {}`); add a line per worker machine so that\n\
         # a ban suspends only that machine's token.\n{}",
        path.display(),
        token.expose()
    )
    .map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(vec![token])
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "worker token file is readable by other users; chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Which workers may register with a coordinator.
///
/// The default lists no token and refuses every worker (fail closed).
#[derive(Clone, Default)]
pub struct WorkerAuth {
    hashes: Vec<blake3::Hash>,
    unauthenticated: bool,
}

impl fmt::Debug for WorkerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerAuth")
            .field("tokens", &self.hashes.len())
            .field("unauthenticated", &self.unauthenticated)
            .finish()
    }
}

impl WorkerAuth {
    /// Workers presenting one of `tokens`.
    pub fn tokens<'a>(tokens: impl IntoIterator<Item = &'a WorkerToken>) -> Self {
        Self {
            hashes: tokens.into_iter().map(WorkerToken::hash).collect(),
            unauthenticated: false,
        }
    }

    /// Workers presenting one of the tokens of a token file.
    pub fn from_file(path: &Path) -> Result<Self, TokenError> {
        Ok(Self::tokens(&read_token_file(path)?))
    }

    /// Open registration: no token listed, any worker may register. Only for a
    /// coordinator reachable from trusted hosts: unauthenticated workers can only be
    /// unregistered, not kept out.
    pub fn open() -> Self {
        Self {
            hashes: Vec::new(),
            unauthenticated: true,
        }
    }

    /// Also admits workers without a token (second class: evicted first, and never
    /// able to push an authenticated worker out of the registry).
    pub fn with_unauthenticated(mut self, allowed: bool) -> Self {
        self.unauthenticated = allowed;
        self
    }

    /// Whether workers without a token may register.
    pub fn admits_unauthenticated(&self) -> bool {
        self.unauthenticated
    }

    /// Listed tokens.
    pub fn token_count(&self) -> usize {
        self.hashes.len()
    }

    /// Index of the listed token equal to `presented`. Compares against every listed
    /// hash in constant time.
    pub(crate) fn identify(&self, presented: &str) -> Option<usize> {
        if presented.len() > TOKEN_BYTES_MAX {
            return None;
        }
        let hash = blake3::hash(presented.as_bytes());
        let mut found = None;
        for (i, listed) in self.hashes.iter().enumerate() {
            if *listed == hash {
                found = Some(i);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn token_files_round_trip_and_refuse_weak_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let created = load_or_create_token_file(&path).unwrap();
        assert_eq!(created.len(), 1);
        assert_eq!(read_token_file(&path).unwrap(), created);
        assert_eq!(read_worker_token(&path).unwrap(), created[0]);
        let auth = WorkerAuth::from_file(&path).unwrap();
        assert_eq!(auth.identify(created[0].expose()), Some(0));
        assert_eq!(auth.identify(&"0".repeat(64)), None);
        assert!(!format!("{:?} {auth:?}", created[0]).contains(created[0].expose()));

        std::fs::write(&path, "# comment\n\nhunter2\n").unwrap();
        let err = read_token_file(&path).unwrap_err();
        assert!(
            matches!(err, TokenError::Malformed { line: 3, .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("hunter2"));
        std::fs::write(&path, "# only a comment\n").unwrap();
        assert!(matches!(
            read_token_file(&path),
            Err(TokenError::Empty { .. })
        ));
    }
}

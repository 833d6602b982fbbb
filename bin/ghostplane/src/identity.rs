//! `ghostplane id`: `did:ghost` identities on ghostd. Changes are L1 transactions
//! signed by a wallet key (`--signer`, default `dev0`); `--did` defaults to the
//! signer's own DID. Access tokens are signed locally (no L1 transaction) and
//! verified by the node (`identity_verifyToken`).
//!
//! Identity keys: `--key NAME` is an identity key file `<wallet-dir>/NAME.idkey`
//! (`ed25519:<hex seed>` or `secp256k1:<hex secret>`, made by `id key-new`), or
//! else a wallet key (`devN`, `<wallet-dir>/NAME.key`), which is Ed25519.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ghostd_types::Call;
use ghostd_types::L1_DEVNET_CHAIN_ID;
use ghostd_types::api::{IdentityApiClient, ResolveOptions, VerifyOptions, VersionId};
use ghostd_types::identity::jwt::{self, Audience, Claims, TokenKey};
use ghostd_types::identity::{
    Controller, DidId, IdentityCall, KeyMaterial, Relationship, Service, VerificationMethod,
};
use ghostplane_primitives::Keypair;

use crate::wallet::{self, Endpoints};

#[derive(Subcommand)]
pub enum IdCommand {
    /// Create the signer's DID (its key becomes `#key-1`).
    Create {
        #[command(flatten)]
        who: Who,
        /// Forbid ever handing control to another party.
        #[arg(long)]
        soulbound: bool,
    },
    /// Resolve a DID (did:ghost or did:key; default: the signer's) and print the
    /// W3C DID Resolution result.
    Show {
        /// The DID.
        did: Option<String>,
        /// Signer whose DID to show when no DID is given.
        #[arg(long, default_value = "dev0")]
        signer: String,
        /// The version written at this L1 height.
        #[arg(long, conflicts_with = "version_time")]
        version_id: Option<u64>,
        /// The version current at this time (RFC 3339).
        #[arg(long)]
        version_time: Option<String>,
    },
    /// Make a new identity key file.
    KeyNew {
        /// Its name (`<wallet-dir>/NAME.idkey`).
        name: String,
        /// A secp256k1 key instead of Ed25519.
        #[arg(long)]
        secp256k1: bool,
    },
    /// Add a verification method.
    AddKey {
        #[command(flatten)]
        who: Who,
        /// Its fragment (`#key-2`: give `key-2`).
        #[arg(long)]
        fragment: String,
        #[command(flatten)]
        key: KeyArg,
        /// Relationships (comma-separated: authentication, assertionMethod,
        /// keyAgreement, capabilityInvocation, capabilityDelegation).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "authentication,assertionMethod"
        )]
        relationships: Vec<String>,
    },
    /// Remove a verification method.
    RemoveKey {
        #[command(flatten)]
        who: Who,
        /// Its fragment.
        #[arg(long)]
        fragment: String,
    },
    /// Replace a method by a new key with the same relationships, atomically.
    Rotate {
        #[command(flatten)]
        who: Who,
        /// The method rotated out.
        #[arg(long)]
        old: String,
        /// The new method's fragment.
        #[arg(long)]
        fragment: String,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Add a service.
    AddService {
        #[command(flatten)]
        who: Who,
        /// Its fragment.
        #[arg(long)]
        fragment: String,
        /// Its type (e.g. LinkedDomains).
        #[arg(long = "type")]
        kind: String,
        /// Its endpoint URI.
        #[arg(long)]
        endpoint: String,
    },
    /// Set the controllers (did:ghost or did:key DIDs; none: the DID itself).
    SetControllers {
        #[command(flatten)]
        who: Who,
        /// Controller DIDs.
        controllers: Vec<String>,
    },
    /// Grant a permission to another DID.
    Grant {
        #[command(flatten)]
        who: Who,
        /// The grantee DID.
        #[arg(long)]
        to: String,
        /// The permission (e.g. ledger:mint:GCC).
        #[arg(long)]
        permission: String,
        /// L1 height from which it no longer holds.
        #[arg(long)]
        expires_height: Option<u64>,
    },
    /// End a grant (as its grantor, or as the grantee renouncing it).
    Revoke {
        #[command(flatten)]
        who: Who,
        /// Who holds it.
        #[arg(long)]
        grantee: String,
        /// Who granted it.
        #[arg(long)]
        grantor: String,
        /// The permission.
        #[arg(long)]
        permission: String,
    },
    /// Deactivate the DID, for good.
    Deactivate {
        #[command(flatten)]
        who: Who,
    },
    /// Access tokens (JWT, EdDSA or ES256K).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Sign a token locally and print it.
    Issue {
        /// Issuer DID (default: the signer's).
        #[arg(long)]
        did: Option<String>,
        /// Wallet key whose DID issues, when --did is not given.
        #[arg(long, default_value = "dev0")]
        signer: String,
        /// The signing key (identity key file or wallet key).
        #[arg(long, default_value = "dev0")]
        key: String,
        /// The key's method fragment in the issuer's document.
        #[arg(long, default_value = "key-1")]
        fragment: String,
        /// Audience.
        #[arg(long)]
        aud: String,
        /// Subject (default: the issuer).
        #[arg(long)]
        sub: Option<String>,
        /// Lifetime, seconds.
        #[arg(long, default_value_t = 3600)]
        ttl_s: u64,
        /// Claimed permissions (repeat).
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// Token id (default: random).
        #[arg(long)]
        jti: Option<String>,
    },
    /// Ask the node to verify a token.
    Verify {
        /// The token.
        jwt: String,
        /// The audience this verifier is: a token that names an audience is
        /// refused without it (RFC 7519 §4.1.3).
        #[arg(long)]
        aud: Option<String>,
        /// A DID whose grants this verifier trusts (repeatable, at most 16): a
        /// claimed permission counts only if one of them granted it. Without one,
        /// only the token's issuer counts, and not when it is the subject.
        #[arg(long = "grantor", value_name = "DID")]
        grantors: Vec<String>,
    },
    /// Revoke a token by its jti (an L1 transaction of the issuer).
    Revoke {
        #[command(flatten)]
        who: Who,
        /// The token's jti.
        #[arg(long)]
        jti: String,
    },
}

/// The signer, and the DID acted on.
#[derive(Args)]
pub struct Who {
    /// Wallet key that signs the L1 transaction.
    #[arg(long, default_value = "dev0")]
    signer: String,
    /// The DID changed (default: the signer's).
    #[arg(long)]
    did: Option<String>,
}

/// A key given by name or as a Multikey.
#[derive(Args)]
pub struct KeyArg {
    /// Identity key file or wallet key name.
    #[arg(long, conflicts_with = "multibase")]
    key: Option<String>,
    /// Or a publicKeyMultibase (z6Mk… or zQ3s…).
    #[arg(long)]
    multibase: Option<String>,
}

/// The DID `key` creates on the devnet L1.
pub fn did_of(key: &Keypair) -> DidId {
    DidId::derive(L1_DEVNET_CHAIN_ID, &key.public_key())
}

fn parse_did(text: &str) -> Result<DidId> {
    Ok(DidId::parse(text)?)
}

fn token_key(name: &str, wallet_dir: &Path) -> Result<TokenKey> {
    let path = wallet_dir.join(format!("{name}.idkey"));
    if !path.exists() {
        return Ok(TokenKey::Ed25519(wallet::keypair(name, wallet_dir)?));
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (kind, secret) = text.trim().split_once(':').with_context(|| {
        format!(
            "{}: expected ed25519:<hex> or secp256k1:<hex>",
            path.display()
        )
    })?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(secret, &mut bytes)
        .with_context(|| format!("{}: the secret must be 64 hex digits", path.display()))?;
    match kind {
        "ed25519" => Ok(TokenKey::Ed25519(Keypair::from_seed(&bytes))),
        "secp256k1" => Ok(TokenKey::Secp256k1(
            k256::ecdsa::SigningKey::from_slice(&bytes).context("not a valid secp256k1 secret")?,
        )),
        other => bail!("{}: unknown key type {other:?}", path.display()),
    }
}

fn key_material(arg: &KeyArg, wallet_dir: &Path) -> Result<KeyMaterial> {
    match (&arg.key, &arg.multibase) {
        (Some(name), None) => Ok(token_key(name, wallet_dir)?.public()),
        (None, Some(multibase)) => Ok(KeyMaterial::from_multibase(multibase)?),
        _ => bail!("give --key NAME or --multibase z…"),
    }
}

fn relationships(names: &[String]) -> Result<u8> {
    let mut bits = 0;
    for name in names.iter().filter(|n| !n.is_empty()) {
        bits |= Relationship::parse(name)
            .with_context(|| format!("unknown relationship {name:?}"))? as u8;
    }
    Ok(bits)
}

impl Who {
    fn resolve(&self, endpoints: &Endpoints) -> Result<(Keypair, DidId)> {
        let key = wallet::keypair(&self.signer, &endpoints.wallet_dir)?;
        let did = match &self.did {
            Some(did) => parse_did(did)?,
            None => did_of(&key),
        };
        Ok((key, did))
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs `ghostplane id …`.
pub async fn run(command: IdCommand, endpoints: Endpoints) -> Result<()> {
    let l1 = wallet::client(&endpoints.l1_rpc)?;
    let wallet_dir = endpoints.wallet_dir.clone();
    let (who, call) = match command {
        IdCommand::Show {
            did,
            signer,
            version_id,
            version_time,
        } => {
            let did = match did {
                Some(did) => did,
                None => did_of(&wallet::keypair(&signer, &wallet_dir)?).to_string(),
            };
            let options = ResolveOptions {
                version_id: version_id.map(VersionId::Number),
                version_time,
            };
            let result = l1
                .resolve(did, Some(options))
                .await
                .map_err(wallet::l1_error)?;
            println!("{}", serde_json::to_string_pretty(&result)?);
            if let Some(error) = result["didResolutionMetadata"]["error"].as_str() {
                bail!("resolution failed: {error}");
            }
            return Ok(());
        }
        IdCommand::KeyNew { name, secp256k1 } => {
            let path = wallet_dir.join(format!("{name}.idkey"));
            if path.exists() {
                bail!("{} exists; choose another name", path.display());
            }
            std::fs::create_dir_all(&wallet_dir)?;
            let seed = Keypair::generate().seed();
            let (kind, key) = if secp256k1 {
                let key = k256::ecdsa::SigningKey::from_slice(&seed)
                    .context("unlucky secret; run again")?;
                let public = KeyMaterial::Secp256k1(jwt::compressed(key.verifying_key()));
                ("secp256k1", public)
            } else {
                (
                    "ed25519",
                    TokenKey::Ed25519(Keypair::from_seed(&seed)).public(),
                )
            };
            std::fs::write(&path, format!("{kind}:{}\n", hex::encode(seed)))?;
            println!("{} {}", path.display(), key.to_multibase());
            return Ok(());
        }
        IdCommand::Token(TokenCommand::Issue {
            did,
            signer,
            key,
            fragment,
            aud,
            sub,
            ttl_s,
            permissions,
            jti,
        }) => {
            let issuer = match did {
                Some(did) => parse_did(&did)?,
                None => did_of(&wallet::keypair(&signer, &wallet_dir)?),
            };
            let now = now_s();
            let claims = Claims {
                iss: issuer.to_string(),
                sub: sub.unwrap_or_else(|| issuer.to_string()),
                aud: Audience::One(aud),
                exp: now.saturating_add(ttl_s),
                nbf: now,
                iat: now,
                jti: jti.unwrap_or_else(|| hex::encode(&Keypair::generate().seed()[..16])),
                permissions,
            };
            let kid = format!("{issuer}#{fragment}");
            println!(
                "{}",
                jwt::sign(&claims, &kid, &token_key(&key, &wallet_dir)?)
            );
            return Ok(());
        }
        IdCommand::Token(TokenCommand::Verify { jwt, aud, grantors }) => {
            for grantor in &grantors {
                parse_did(grantor)?;
            }
            let verdict = l1
                .verify_token(jwt, Some(VerifyOptions { aud, grantors }))
                .await
                .map_err(wallet::l1_error)?;
            println!("{}", serde_json::to_string_pretty(&verdict)?);
            if !verdict.valid {
                bail!("token refused: {}", verdict.message.unwrap_or_default());
            }
            return Ok(());
        }
        IdCommand::Token(TokenCommand::Revoke { who, jti }) => {
            let (key, did) = who.resolve(&endpoints)?;
            ((key, did), IdentityCall::RevokeToken { did, jti })
        }
        IdCommand::Create { who, soulbound } => {
            let (key, _) = who.resolve(&endpoints)?;
            let did = did_of(&key);
            ((key, did), IdentityCall::Create { soulbound })
        }
        IdCommand::AddKey {
            who,
            fragment,
            key,
            relationships: names,
        } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let method = VerificationMethod {
                fragment,
                key: key_material(&key, &wallet_dir)?,
                relationships: relationships(&names)?,
            };
            ((signer, did), IdentityCall::AddMethod { did, method })
        }
        IdCommand::RemoveKey { who, fragment } => {
            let (signer, did) = who.resolve(&endpoints)?;
            ((signer, did), IdentityCall::RemoveMethod { did, fragment })
        }
        IdCommand::Rotate {
            who,
            old,
            fragment,
            key,
        } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let key = key_material(&key, &wallet_dir)?;
            let call = IdentityCall::RotateKey {
                did,
                old,
                fragment,
                key,
            };
            ((signer, did), call)
        }
        IdCommand::AddService {
            who,
            fragment,
            kind,
            endpoint,
        } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let service = Service {
                fragment,
                kind,
                endpoint,
            };
            ((signer, did), IdentityCall::AddService { did, service })
        }
        IdCommand::SetControllers { who, controllers } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let controllers = controllers
                .iter()
                .map(|c| Controller::parse(c))
                .collect::<Result<Vec<_>, _>>()?;
            (
                (signer, did),
                IdentityCall::SetControllers { did, controllers },
            )
        }
        IdCommand::Grant {
            who,
            to,
            permission,
            expires_height,
        } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let call = IdentityCall::Grant {
                did,
                grantee: parse_did(&to)?,
                permission,
                expires: expires_height,
            };
            ((signer, did), call)
        }
        IdCommand::Revoke {
            who,
            grantee,
            grantor,
            permission,
        } => {
            let (signer, did) = who.resolve(&endpoints)?;
            let call = IdentityCall::Revoke {
                did,
                grantee: parse_did(&grantee)?,
                grantor: parse_did(&grantor)?,
                permission,
            };
            ((signer, did), call)
        }
        IdCommand::Deactivate { who } => {
            let (signer, did) = who.resolve(&endpoints)?;
            ((signer, did), IdentityCall::Deactivate { did })
        }
    };
    let (signer, did) = who;
    wallet::send_l1(&l1, &signer, Call::Identity(call), endpoints.timeout()).await?;
    println!("{did}");
    Ok(())
}

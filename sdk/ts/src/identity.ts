/**
 * `did:ghost` identity (`docs/identity.md`, `docs/did-ghost.md`): DID ids,
 * resolution, and access tokens (JWTs, `crates/l1/types/src/identity/jwt.rs`).
 *
 * {@link verifyAccessToken} checks locally what needs only the issuer's current
 * document: the JWT's shape, `alg` EdDSA, no `crit`, `kid` = a method of the
 * issuer in `authentication` or `assertionMethod`, the ed25519 signature over
 * `header.claims` against that method's key, then `exp` and `nbf`. Revocation,
 * audience and granted permissions need the chain's state: ask the node too
 * ({@link L1Client.identityVerifyToken}). ES256K tokens are verified by the node
 * only.
 */
import { blake3 } from "@noble/hashes/blake3.js";
import { base58, base64urlnopad } from "@scure/base";

import { type BytesLike, concatBytes, fixedBytes, utf8 } from "./bytes.js";
import { verifySignature } from "./keys.js";
import type { DidDocument, DidResolution, L1Client } from "./l1.js";

/** `TOKEN_BYTES_MAX`: the longest token. */
const TOKEN_BYTES_MAX = 8 * 1024;
/** Multicodec prefix of an ed25519 public key in `publicKeyMultibase`. */
const MULTICODEC_ED25519 = [0xed, 0x01];

/**
 * The `did:ghost` DID a key creates on chain `chainId`: base58btc of the first 16
 * bytes of blake3(chain id, 8 bytes big-endian ‖ key).
 */
export function didOfKey(key: BytesLike, chainId: bigint): string {
  const chain = new Uint8Array(8);
  new DataView(chain.buffer).setBigUint64(0, chainId, false);
  const id = blake3(concatBytes(chain, fixedBytes(key, 32, "key"))).subarray(0, 16);
  return `did:ghost:${base58.encode(id)}`;
}

/** Resolves a DID (`identity_resolve`); the document is `null` when it does not resolve (see `didResolutionMetadata.error`). */
export function resolveDid(l1: L1Client, did: string, options?: { versionId?: string | number; versionTime?: string }): Promise<DidResolution> {
  return l1.identityResolve(did, options);
}

/** The 32-byte ed25519 key of a `publicKeyMultibase` (`z6Mk…`), or `undefined` for another kind of key. */
export function ed25519KeyOfMultibase(multibase: string): Uint8Array | undefined {
  if (!multibase.startsWith("z")) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(multibase.slice(1));
  } catch {
    return undefined;
  }
  if (bytes.length !== 34 || bytes[0] !== MULTICODEC_ED25519[0] || bytes[1] !== MULTICODEC_ED25519[1]) return undefined;
  return bytes.slice(2);
}

/** The claims of an access token. */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  permissions?: string[];
}

/** The JOSE header of an access token. */
export interface TokenHeader {
  alg: string;
  typ?: string;
  kid: string;
}

/** Why a token failed the local check: `kind` is the node's `TokenError::kind` name for the same failure. */
export class TokenVerificationError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(`access token: ${message} (${kind})`);
    this.name = "TokenVerificationError";
  }
}

function part(text: string, what: string): Uint8Array {
  try {
    return base64urlnopad.decode(text);
  } catch {
    throw new TokenVerificationError("malformed", `the ${what} is not base64url`);
  }
}

function json<T>(bytes: Uint8Array, what: string): T {
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as T;
  } catch (e) {
    throw new TokenVerificationError("malformed", `${what}: ${String(e)}`);
  }
}

/** A token split and decoded; no check beyond its shape. */
export function decodeAccessToken(jwt: string): { header: TokenHeader; claims: TokenClaims; signingInput: string; signature: Uint8Array } {
  if (jwt.length > TOKEN_BYTES_MAX) throw new TokenVerificationError("tooLarge", `${jwt.length} bytes; at most ${TOKEN_BYTES_MAX}`);
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new TokenVerificationError("malformed", "a JWT is three base64url parts joined by dots");
  const [h, c, s] = parts as [string, string, string];
  const header = json<Record<string, unknown>>(part(h, "header"), "header");
  if ("crit" in header) throw new TokenVerificationError("criticalHeader", `critical header ${JSON.stringify(header.crit)}`);
  if (typeof header.alg !== "string" || typeof header.kid !== "string") throw new TokenVerificationError("malformed", "header: alg and kid are strings");
  if (header.alg !== "EdDSA" && header.alg !== "ES256K") throw new TokenVerificationError("unsupportedAlgorithm", `algorithm ${header.alg}`);
  const claims = json<TokenClaims>(part(c, "claims set"), "claims");
  for (const field of ["iss", "sub", "jti"] as const) {
    if (typeof claims[field] !== "string") throw new TokenVerificationError("malformed", `claims: ${field} is not a string`);
  }
  for (const field of ["exp", "nbf", "iat"] as const) {
    if (!Number.isSafeInteger(claims[field]) || claims[field] < 0) throw new TokenVerificationError("malformed", `claims: ${field} is not a u64`);
  }
  return { header: header as unknown as TokenHeader, claims, signingInput: `${h}.${c}`, signature: part(s, "signature") };
}

/** The issuer's method `kid` names, if it is in `authentication` or `assertionMethod`. */
function signingKey(document: DidDocument, kid: string, issuer: string): Uint8Array {
  const method = kid.startsWith(`${issuer}#`) ? document.verificationMethod?.find((m) => m.id === kid) : undefined;
  if (method === undefined) throw new TokenVerificationError("unknownKey", `kid ${kid} names no verification method of the issuer's current document`);
  const listed = (refs: string[] | undefined) => refs?.includes(kid) ?? false;
  if (!listed(document.authentication) && !listed(document.assertionMethod)) {
    throw new TokenVerificationError("keyNotAuthorized", `kid ${kid} is not in the issuer's authentication or assertionMethod`);
  }
  const key = method.publicKeyMultibase === undefined ? undefined : ed25519KeyOfMultibase(method.publicKeyMultibase);
  if (key === undefined) throw new TokenVerificationError("algorithmMismatch", `kid ${kid} is not an ed25519 key`);
  return key;
}

/**
 * Verifies an EdDSA access token locally against the issuer's DID document as
 * `l1` resolves it now (see the module comment for what is and is not checked),
 * at `nowS` (Unix seconds, default the clock). Resolves with the header and
 * claims; throws {@link TokenVerificationError} otherwise.
 */
export async function verifyAccessToken(
  jwt: string,
  l1: L1Client,
  options: { nowS?: number } = {},
): Promise<{ header: TokenHeader; claims: TokenClaims }> {
  const { header, claims, signingInput, signature } = decodeAccessToken(jwt);
  if (header.alg !== "EdDSA") throw new TokenVerificationError("unsupportedAlgorithm", `${header.alg} is checked by the node only (identity_verifyToken)`);
  const resolution = await l1.identityResolve(claims.iss);
  const document = resolution.didDocument;
  if (document === null || document === undefined) throw new TokenVerificationError("issuerNotFound", `issuer ${claims.iss} does not resolve`);
  if (resolution.didDocumentMetadata.deactivated === true) throw new TokenVerificationError("issuerDeactivated", `issuer ${claims.iss} is deactivated`);
  const key = signingKey(document, header.kid, claims.iss);
  if (!verifySignature(key, utf8(signingInput), signature)) {
    throw new TokenVerificationError("badSignature", "the signature does not verify against the key its kid names");
  }
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  if (now >= claims.exp) throw new TokenVerificationError("expired", `expired at ${claims.exp}, now ${now}`);
  if (now < claims.nbf) throw new TokenVerificationError("notYetValid", `not valid before ${claims.nbf}, now ${now}`);
  return { header, claims };
}

/**
 * `@ghostplane/client`: the TypeScript client of Ghostplane.
 *
 * ```text
 *   Keypair ──sign──▶ codec (borsh, signing messages, hashes) ──▶ L2Client / L1Client (JSON-RPC, HTTP + WebSocket)
 *   Wallet = key + clients: nonces, fees, submission          bindContract: interface JSON ──▶ typed calls
 *   verifyProof: l2_getProof ──Poseidon2/KoalaBear──▶ the L1's root    identity: DIDs, access tokens; naming
 * ```
 *
 * Browser-safe: nothing here imports Node modules; Node 20 passes a WebSocket
 * from `@ghostplane/client/node`.
 */
export * from "./bytes.js";
export * from "./codec.js";
export * from "./contract.js";
export * from "./errors.js";
export * from "./identity.js";
export * from "./keys.js";
export * from "./l1.js";
export * from "./l2.js";
export * from "./naming.js";
export * from "./poseidon2.js";
export * from "./proof.js";
export * from "./rpc.js";
export * from "./wallet.js";
export * from "./interfaces.js";

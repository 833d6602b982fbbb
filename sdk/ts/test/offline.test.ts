/** Errors, contract bindings' encoding, identity helpers: what needs no node. */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AMM_INTERFACE,
  BadSignatureError,
  COUNTER_INTERFACE,
  ESCROW_INTERFACE,
  FeeBelowMinimumError,
  Keypair,
  type L1Client,
  type L2Client,
  NonceTooLowError,
  ROUTER_INTERFACE,
  RPC_ERROR_CODES,
  RpcError,
  TOKEN_INTERFACE,
  TokenVerificationError,
  bindContract,
  decodeEvent,
  decodeReturn,
  didOfKey,
  encodeCall,
  encodeInit,
  eventTopic,
  isRpcError,
  rpcErrorFrom,
  toHex,
  utf8,
  verifyAccessToken,
} from "../src/index.js";
import { base58, base64urlnopad } from "@scure/base";

import { repoFile } from "./paths.js";

test("every code of docs/rpc.md's table has its name and class", () => {
  const doc = repoFile("docs/rpc.md");
  if (doc !== undefined) {
    const section = doc.slice(doc.indexOf("## Error codes"), doc.indexOf("### L2 rejection reasons"));
    const rows = [...section.matchAll(/^\| (-\d+) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2]!, Number(m[1])] as const);
    assert.ok(rows.length >= 37, `${rows.length} rows`);
    for (const [name, code] of rows) assert.equal(RPC_ERROR_CODES[name as keyof typeof RPC_ERROR_CODES], code, name);
  }
  for (const [name, code] of Object.entries(RPC_ERROR_CODES)) {
    const e = rpcErrorFrom("m", { code, message: "x" });
    assert.ok(e instanceof RpcError && e.codeName === name && isRpcError(e, name as keyof typeof RPC_ERROR_CODES));
    assert.notEqual(e.constructor, RpcError, `${name} has a subclass`);
  }
  const fee = rpcErrorFrom("l2_sendTransaction", { code: -32014, message: "fee 1 below 137", data: { fee: "1", minFee: "137" } });
  assert.ok(fee instanceof FeeBelowMinimumError && !(fee instanceof NonceTooLowError));
  assert.equal(fee.name, "FeeBelowMinimumError");
  assert.equal(fee.serverMessage, "fee 1 below 137");
  assert.deepEqual(fee.data, { fee: "1", minFee: "137" });
  assert.match(fee.message, /l2_sendTransaction: fee 1 below 137 \(FEE_BELOW_MINIMUM -32014\)/);
  assert.ok(rpcErrorFrom("m", { code: -32005, message: "" }) instanceof BadSignatureError);
  const unknown = rpcErrorFrom("m", { code: -1, message: "?" });
  assert.equal(unknown.constructor, RpcError);
  assert.equal(unknown.codeName, undefined);
});

test("the interfaces are the SDK's JSON files", () => {
  const all = { token: TOKEN_INTERFACE, amm: AMM_INTERFACE, escrow: ESCROW_INTERFACE, router: ROUTER_INTERFACE, counter: COUNTER_INTERFACE };
  for (const [name, iface] of Object.entries(all)) {
    const json = repoFile(`sdk/assemblyscript/contracts/${name}.interface.json`);
    if (json !== undefined) assert.deepEqual(iface, JSON.parse(json), name);
  }
});

test("call inputs, return data and events", () => {
  assert.equal(toHex(encodeCall(TOKEN_INTERFACE, "transfer", [2, 1000n])), "0x0102000000e803000000000000");
  assert.equal(toHex(encodeCall(AMM_INTERFACE, "quote", [1, 1000n])), "0x0401e803000000000000");
  assert.equal(toHex(encodeCall(COUNTER_INTERFACE, "increment", [])), "0x");
  assert.equal(toHex(encodeInit(AMM_INTERFACE, [1, 2])), "0x0102");
  assert.equal(toHex(encodeInit(ESCROW_INTERFACE, [2, 3])), "0x0200000003000000");
  const address = "0x" + "ab".repeat(32);
  assert.equal(toHex(encodeCall(ROUTER_INTERFACE, "swap", [address, 3, 5n])).length, 2 + 2 * (1 + 32 + 1 + 8));
  assert.throws(() => encodeCall(TOKEN_INTERFACE, "transfer", [2]), /2 arguments/);
  assert.throws(() => encodeCall(TOKEN_INTERFACE, "mint", []), /no method mint/);
  assert.throws(() => encodeCall(TOKEN_INTERFACE, "transfer", [2 ** 32, 1n]), /is not a u32/);
  assert.throws(() => encodeCall(TOKEN_INTERFACE, "transfer", [2, -1n]), /is not a u64/);
  assert.throws(() => encodeInit(AMM_INTERFACE, [256, 2]), /is not a u8/);
  assert.throws(() => encodeCall(ROUTER_INTERFACE, "swap", ["0x12", 3, 5n]), /32 bytes/);
  assert.throws(() => decodeReturn(TOKEN_INTERFACE, "balanceOf", "0x05"), /8 bytes, got 1/);
  assert.throws(() => decodeReturn(TOKEN_INTERFACE, "balanceOf", "0x050000000000000000"), /8 bytes, got 9/);
  assert.equal(decodeReturn(TOKEN_INTERFACE, "balanceOf", "0x0500000000000000"), 5n);
  assert.deepEqual(decodeReturn(ESCROW_INTERFACE, "status", "0x01" + "02000000" + "03" + "0a" + "00".repeat(15)), {
    state: 1,
    buyer: 2,
    token: 3,
    amount: 10n,
  });
  const topic = eventTopic(TOKEN_INTERFACE, "transfer");
  assert.equal(topic, toHex(new Uint8Array([...utf8("transfer"), ...new Uint8Array(24)])));
  assert.deepEqual(decodeEvent(TOKEN_INTERFACE, { topic: topic.slice(2), data: "ffffffff" + "01000000" + "0a00000000000000" }), {
    name: "transfer",
    data: { from: 0xffffffff, to: 1, amount: 10n },
  });
  assert.equal(eventTopic(AMM_INTERFACE, "swap"), "0x" + "5a".repeat(32));
  assert.equal(decodeEvent(AMM_INTERFACE, { topic: "0x" + "00".repeat(32), data: "" }), null);
});

test("bindContract: views by l2_call, decoded; typed from the const interface", async () => {
  const calls: unknown[] = [];
  const l2 = {
    call: async (request: unknown) => {
      calls.push(request);
      return { block: 1, status: "success", returnData: "2a00000000000000", fuelUsed: 1, events: [], discardedWrites: 0, discardedMoves: 0 };
    },
  } as unknown as L2Client;
  const token = bindContract(TOKEN_INTERFACE, "0x" + "11".repeat(32), { l2 });
  const balance: bigint = await token.balanceOf(3);
  assert.equal(balance, 42n);
  const first = calls[0] as { contract: string; input: Uint8Array };
  assert.equal(first.contract, "0x" + "11".repeat(32));
  assert.equal(toHex(first.input), "0x0403000000");
  await token.balanceOf(3, { from: 9 });
  assert.equal((calls[1] as { from: number }).from, 9);
  await assert.rejects(token.transfer(1, 2n), /bind with a wallet/);
});

test("did:ghost of a key (dev 0 on the devnet, as docs/did-ghost.md shows)", () => {
  assert.equal(didOfKey(Keypair.dev(0).publicKey, 0x67686f31n), "did:ghost:L1P3ES6uKKoXfwLtvBC74m");
});

/** A JWT as `jwt::sign` makes it, signed by `key`. */
function token(key: Keypair, header: object, claims: object): string {
  const enc = (v: object) => base64urlnopad.encode(utf8(JSON.stringify(v)));
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${base64urlnopad.encode(key.sign(utf8(input)))}`;
}

test("verifyAccessToken: signature against the issuer's document, exp and nbf", async () => {
  const key = Keypair.dev(4);
  const iss = didOfKey(key.publicKey, 0x67686f31n);
  const multibase = "z" + base58.encode(new Uint8Array([0xed, 0x01, ...key.publicKey]));
  const document = {
    id: iss,
    verificationMethod: [
      { id: `${iss}#k1`, type: "Multikey", controller: iss, publicKeyMultibase: multibase },
      { id: `${iss}#k2`, type: "Multikey", controller: iss, publicKeyMultibase: multibase },
    ],
    authentication: [`${iss}#k1`],
  };
  let deactivated = false;
  const l1 = {
    identityResolve: async (did: string) =>
      did === iss
        ? { didDocument: document, didDocumentMetadata: { deactivated }, didResolutionMetadata: {} }
        : { didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: { error: "notFound" } },
  } as unknown as L1Client;
  const claims = { iss, sub: iss, aud: "svc", exp: 2000, nbf: 1000, iat: 1000, jti: "t1", permissions: [] };
  const header = { alg: "EdDSA", typ: "JWT", kid: `${iss}#k1` };
  const good = token(key, header, claims);
  const verified = await verifyAccessToken(good, l1, { nowS: 1500 });
  assert.equal(verified.claims.jti, "t1");
  const kind = async (jwt: string, nowS: number, expected: string) =>
    assert.rejects(verifyAccessToken(jwt, l1, { nowS }), (e: unknown) => e instanceof TokenVerificationError && e.kind === expected);
  await kind(good, 2000, "expired");
  await kind(good, 999, "notYetValid");
  await kind(token(Keypair.dev(5), header, claims), 1500, "badSignature");
  await kind(good.slice(0, -4) + "AAAA", 1500, "badSignature");
  await kind(token(key, { ...header, kid: `${iss}#k2` }, claims), 1500, "keyNotAuthorized");
  await kind(token(key, { ...header, kid: `${iss}#k9` }, claims), 1500, "unknownKey");
  await kind(token(key, { ...header, kid: `did:ghost:other#k1` }, claims), 1500, "unknownKey");
  await kind(token(key, { ...header, crit: ["x"] }, claims), 1500, "criticalHeader");
  await kind(token(key, { ...header, alg: "none" }, claims), 1500, "unsupportedAlgorithm");
  await kind(token(key, header, { ...claims, iss: "did:ghost:nobody" }), 1500, "issuerNotFound");
  await kind("a.b", 1500, "malformed");
  deactivated = true;
  await kind(good, 1500, "issuerDeactivated");
});

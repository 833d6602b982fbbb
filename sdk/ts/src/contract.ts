/**
 * Typed bindings from a contract's interface description
 * (`sdk/assemblyscript/contracts/*.interface.json`): a call's input is the
 * method's selector byte (none when `null`) then its arguments little-endian
 * (`u8`, `u32`, `u64`, `u128`, `address` = 32 bytes); return data and event data
 * are decoded the same way. A `mutates: false` method is a read call
 * (`l2_call`); a `mutates: true` one a signed `Call` through the wallet. An event
 * topic given as a short name is its UTF-8 bytes zero-padded to 32 (the SDK's
 * `topic(name)`); a `0x` topic is taken as it is.
 *
 * ```ts
 * const pool = bindContract(AMM_INTERFACE, address, { l2, wallet });
 * const out = await pool.quote(1, 1_000n);          // bigint, by l2_call
 * const hash = await pool.swap(0n, { token: "SPIRIT", value: 1_000n });
 * ```
 */
import { type Schema, serialize } from "borsh";

import { BYTES32, bytesOf, decodeExact, u8, u32, u64, u128 } from "./borsh.js";
import { type BytesLike, type Hex, concatBytes, fixedBytes, fromHex, toBytes, toHex, utf8 } from "./bytes.js";
import type { Token } from "./codec.js";
import type { CallView, L2Client } from "./l2.js";
import type { Wallet } from "./wallet.js";

/** An argument, return value or event field type. */
export type AbiType = "u8" | "u32" | "u64" | "u128" | "address";

/** A named, typed value of an interface. */
export interface AbiParam {
  readonly name: string;
  readonly type: AbiType | string;
}

/** A method of an interface. */
export interface AbiMethod {
  readonly name: string;
  /** The first input byte, or `null` for a contract with one method and no selector. */
  readonly selector: number | null;
  readonly args: readonly AbiParam[];
  readonly returns: readonly AbiParam[];
  readonly mutates: boolean;
  /** What the call's value is, when it takes one. */
  readonly value?: string;
}

/** An event of an interface. */
export interface AbiEvent {
  readonly name: string;
  /** A short name (UTF-8, zero-padded to 32 bytes) or `0x` + 32 bytes. */
  readonly topic: string;
  readonly data: readonly AbiParam[];
}

/** A contract's interface description. */
export interface ContractInterface {
  readonly name: string;
  /** The standard it follows (`grc20`), if any. */
  readonly standard?: string | null;
  /** How inputs are encoded, in words. */
  readonly encoding?: string;
  readonly init: { readonly args: readonly AbiParam[] } | null;
  readonly methods: readonly AbiMethod[];
  readonly events: readonly AbiEvent[];
  readonly errors?: readonly string[];
}

/** The TypeScript type of an argument of ABI type `T`. */
export type AbiInput<T> = T extends "u8" | "u32" ? number : T extends "u64" | "u128" ? bigint : T extends "address" ? BytesLike : number | bigint | BytesLike;
/** The TypeScript type of a decoded value of ABI type `T`. */
export type AbiOutput<T> = T extends "u8" | "u32" ? number : T extends "u64" | "u128" ? bigint : T extends "address" ? Hex : number | bigint | Hex;

type InputTuple<A extends readonly AbiParam[]> = { -readonly [K in keyof A]: A[K] extends { type: infer T } ? AbiInput<T> : never };

/** Decoded fields by name. */
export type DecodedFields<A extends readonly AbiParam[]> = { [P in A[number] as P["name"]]: AbiOutput<P["type"]> };

/** What a method returns: nothing, its one value, or its values by name. */
export type DecodedReturn<R extends readonly AbiParam[]> = R extends readonly []
  ? void
  : R extends readonly [infer One extends AbiParam]
    ? AbiOutput<One["type"]>
    : DecodedFields<R>;

/** Options of a read call. */
export interface ViewOptions {
  /** The caller's account id (default: the wallet's, else none). */
  from?: number;
  fuel?: number;
}

/** Options of a mutating call. */
export interface TxOptions {
  token?: Token;
  value?: bigint;
  fuelLimit?: bigint;
  fee?: bigint;
}

type MethodFn<M extends AbiMethod> = M["mutates"] extends false
  ? (...args: [...InputTuple<M["args"]>, options?: ViewOptions]) => Promise<DecodedReturn<M["returns"]>>
  : (...args: [...InputTuple<M["args"]>, options?: TxOptions]) => Promise<Hex>;

/** A bound contract: one function per method, plus its address and interface. */
export type BoundContract<I extends ContractInterface> = {
  [M in I["methods"][number] as M["name"]]: MethodFn<M>;
} & { readonly address: Hex; readonly interface: I };

/** A read call that did not succeed (`l2_call`'s status), with the revert message if the data is text. */
export class ContractCallError extends Error {
  constructor(
    readonly method: string,
    readonly view: CallView,
  ) {
    super(`${method}: ${view.status}${view.failure ? ` (${view.failure})` : ""}${revertText(view.revertData)}`);
    this.name = "ContractCallError";
  }
}

function revertText(data: string | undefined): string {
  if (data === undefined || data.length === 0) return "";
  const bytes = fromHex(data);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return /^[\x20-\x7e]+$/.test(text) ? `: ${text}` : `: revert data ${toHex(bytes)}`;
}

/** Each ABI type's borsh schema and its encoded size (all are fixed-size). */
const ABI_TYPES: Record<AbiType, { schema: Schema; bytes: number }> = {
  u8: { schema: "u8", bytes: 1 },
  u32: { schema: "u32", bytes: 4 },
  u64: { schema: "u64", bytes: 8 },
  u128: { schema: "u128", bytes: 16 },
  address: { schema: BYTES32, bytes: 32 },
};

function abiType(param: AbiParam): { schema: Schema; bytes: number } {
  const type = Object.hasOwn(ABI_TYPES, param.type) ? ABI_TYPES[param.type as AbiType] : undefined;
  if (type === undefined) throw new TypeError(`${param.name}: unknown type ${param.type}`);
  return type;
}

/**
 * The params as one borsh struct. Its fields are keyed by position (`p0`, `p1`,
 * …), not by name: borsh-js encodes a struct's fields in its keys' order, and a
 * JavaScript object puts integer-like keys first and keeps one of two equal names.
 */
function paramsSchema(params: readonly AbiParam[]): Schema {
  return { struct: Object.fromEntries(params.map((p, i) => [`p${i}`, abiType(p).schema])) };
}

/** `value` as borsh-js takes a `param`, range-checked (borsh-js would wrap it). */
function abiValue(param: AbiParam, value: unknown): number | bigint | Uint8Array {
  const what = `${param.name} (${param.type})`;
  switch (param.type) {
    case "u8":
    case "u32":
      if (typeof value !== "number") throw new TypeError(`${what} must be a number`);
      return param.type === "u8" ? u8(value, what) : u32(value, what);
    case "u64":
    case "u128": {
      const big = typeof value === "number" ? BigInt(value) : (value as bigint);
      return param.type === "u64" ? u64(big, what) : u128(big, what);
    }
    case "address":
      return fixedBytes(value as BytesLike, 32, what);
    default:
      throw new TypeError(`${what}: unknown type`);
  }
}

/** Arguments little-endian, in order. */
export function encodeArgs(params: readonly AbiParam[], values: readonly unknown[]): Uint8Array {
  if (values.length !== params.length) throw new TypeError(`${params.length} arguments expected, got ${values.length}`);
  const fields = Object.fromEntries(params.map((p, i) => [`p${i}`, abiValue(p, values[i])]));
  return serialize(paramsSchema(params), fields);
}

/** Fields by name from bytes (all of them must be read; the length is checked before decoding). */
export function decodeFields(params: readonly AbiParam[], data: BytesLike): Record<string, number | bigint | Hex> {
  const bytes = toBytes(data);
  const expected = params.reduce((n, p) => n + abiType(p).bytes, 0);
  if (bytes.length !== expected) {
    throw new RangeError(`${params.map((p) => p.type).join(", ") || "nothing"} is ${expected} bytes, got ${bytes.length}`);
  }
  const decoded = decodeExact<Record<string, number | bigint | number[]>>(paramsSchema(params), bytes, "value list");
  const out: Record<string, number | bigint | Hex> = {};
  params.forEach((p, i) => {
    const value = decoded[`p${i}`]!;
    out[p.name] = Array.isArray(value) ? toHex(bytesOf(value)) : value;
  });
  return out;
}

function method(iface: ContractInterface, name: string): AbiMethod {
  const m = iface.methods.find((m) => m.name === name);
  if (m === undefined) throw new TypeError(`${iface.name} has no method ${name}`);
  return m;
}

/** A method's call input: its selector byte (if any), then its arguments. */
export function encodeCall(iface: ContractInterface, name: string, args: readonly unknown[]): Uint8Array {
  const m = method(iface, name);
  const encoded = encodeArgs(m.args, args);
  return m.selector === null ? encoded : concatBytes(Uint8Array.of(m.selector), encoded);
}

/** A deploy's init input (no selector). */
export function encodeInit(iface: ContractInterface, args: readonly unknown[]): Uint8Array {
  return encodeArgs(iface.init?.args ?? [], args);
}

/** A method's return data decoded: nothing, its one value, or its values by name. */
export function decodeReturn(iface: ContractInterface, name: string, data: BytesLike): unknown {
  const returns = method(iface, name).returns;
  if (returns.length === 0) return undefined;
  const fields = decodeFields(returns, data);
  return returns.length === 1 ? fields[returns[0]!.name] : fields;
}

/** The 32-byte topic of an interface's event topic text. */
export function topicBytes(topic: string): Hex {
  if (/^0x[0-9a-fA-F]{64}$/.test(topic)) return toHex(fromHex(topic));
  const name = utf8(topic);
  if (name.length > 32) throw new RangeError(`topic ${JSON.stringify(topic)} is over 32 bytes`);
  const out = new Uint8Array(32);
  out.set(name);
  return toHex(out);
}

/** The topic of event `name` (for `getLogs`/`subscribeLogs` filters). */
export function eventTopic(iface: ContractInterface, name: string): Hex {
  const event = iface.events.find((e) => e.name === name);
  if (event === undefined) throw new TypeError(`${iface.name} has no event ${name}`);
  return topicBytes(event.topic);
}

/** A decoded event. */
export interface DecodedEvent {
  name: string;
  data: Record<string, number | bigint | Hex>;
}

/** Decodes a log or receipt event by the interface (`null` if no event of it has the log's topic). */
export function decodeEvent(iface: ContractInterface, log: { topic: string; data: string }): DecodedEvent | null {
  const topic = toHex(fromHex(log.topic));
  const event = iface.events.find((e) => topicBytes(e.topic) === topic);
  if (event === undefined) return null;
  return { name: event.name, data: decodeFields(event.data, log.data) };
}

function splitOptions<O>(m: AbiMethod, args: unknown[]): [unknown[], O | undefined] {
  if (args.length === m.args.length + 1) return [args.slice(0, -1), args[args.length - 1] as O | undefined];
  return [args, undefined];
}

/**
 * Binds `iface` at `address`: each `mutates: false` method runs by `l2_call`
 * and resolves with its decoded return; each `mutates: true` method is signed and
 * submitted by `wallet` and resolves with the transaction's hash.
 */
export function bindContract<const I extends ContractInterface>(
  iface: I,
  address: BytesLike,
  clients: { l2: L2Client; wallet?: Wallet },
): BoundContract<I> {
  const contract = toHex(fixedBytes(address, 32, "contract address"));
  const bound: Record<string, unknown> = { address: contract, interface: iface };
  for (const m of iface.methods) {
    if (m.mutates) {
      bound[m.name] = (...all: unknown[]) => {
        const [args, options = {}] = splitOptions<TxOptions>(m, all);
        if (clients.wallet === undefined) return Promise.reject(new Error(`${iface.name}.${m.name} mutates: bind with a wallet`));
        return clients.wallet.call({ contract, input: encodeCall(iface, m.name, args), ...options });
      };
    } else {
      bound[m.name] = async (...all: unknown[]) => {
        const [args, options = {}] = splitOptions<ViewOptions>(m, all);
        const from = options.from ?? (clients.wallet === undefined ? undefined : await clients.wallet.accountId());
        const view = await clients.l2.call({
          contract,
          input: encodeCall(iface, m.name, args),
          ...(from === undefined ? {} : { from }),
          ...(options.fuel === undefined ? {} : { fuel: options.fuel }),
        });
        if (view.status !== "success") throw new ContractCallError(`${iface.name}.${m.name}`, view);
        return decodeReturn(iface, m.name, view.returnData);
      };
    }
  }
  return bound as BoundContract<I>;
}

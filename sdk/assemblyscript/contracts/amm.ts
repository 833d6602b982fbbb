// A constant-product (x·y = k) pool of two of the four tokens with a 0.3 % fee:
// the AMM example of crates/l2/executor/contracts/amm.wat, in AssemblyScript.
// The reserves are the contract's own balances; one owner (the deployer) adds and
// removes the liquidity.
//
// Init input: token_a u8 ‖ token_b u8 (both ≤ 3, different).
// Call input: method (1 byte) ‖ arguments, little-endian:
//   0x01 add()                       owner only; the call's value is the liquidity
//   0x02 swap(min_out u64) → out u64 the call's value (token X of the pair) in,
//                                    out = r_out·in·997 / (r_in·1000 + in·997) of the
//                                    other token to the caller; event "swap":
//                                    token_in u8 ‖ in u64 ‖ out u64
//   0x03 remove(token u8, amount u64) owner only; sends to the owner
//   0x04 quote(token_in u8, amount_in u64) → out u64 (0 for an empty pool)
// Reverts: "bad input", "bad token", "unauthorized", "no value", "unexpected
// value", "empty pool", "slippage", "too large", "transfer failed".
import { Amount, Context, Reader, Tokens, Writer, emit, fail, key, ret, storage } from "../assembly/index";

const CONFIG: u8 = 1;

class Pool {
  constructor(public a: u8, public b: u8, public owner: u32) {}

  static load(): Pool {
    const v = storage.read(key(CONFIG));
    if (v == null || v.length != 6) fail("no config");
    const c = v!;
    return new Pool(c[0], c[1], load<u32>(c.dataStart + 2));
  }

  other(token: u8): u8 {
    if (token == this.a) return this.b;
    if (token == this.b) return this.a;
    fail("bad token");
    return 0;
  }
}

function small(amount: Amount): u64 {
  if (amount.hi != 0) fail("too large");
  return amount.lo;
}

/** out = r_out·in·997 / (r_in·1000 + in·997), every product checked. */
function outFor(rIn: u64, rOut: u64, amountIn: u64): u64 {
  const MAX = u64.MAX_VALUE;
  if (amountIn > MAX / 997) fail("too large");
  const inFee = amountIn * 997;
  if (rOut != 0 && inFee > MAX / rOut) fail("too large");
  if (rIn > MAX / 1000) fail("too large");
  const denominator = rIn * 1000;
  if (denominator > MAX - inFee) fail("too large");
  const d = denominator + inFee;
  return d == 0 ? 0 : (rOut * inFee) / d;
}

function noValue(): void {
  if (!Tokens.received().isZero()) fail("unexpected value");
}

export function init(): void {
  const input = Reader.input();
  const a = input.u8();
  const b = input.u8();
  input.end();
  if (a > 3 || b > 3 || a == b) fail("bad token");
  storage.write(key(CONFIG), new Writer().u8(a).u8(b).u32(Context.caller()).finish());
}

export function call(): void {
  const input = Reader.input();
  const method = input.u8();
  const pool = Pool.load();
  if (method == 0x01) {
    input.end();
    if (Context.caller() != pool.owner) fail("unauthorized");
    const token = <u8>Tokens.receivedToken();
    pool.other(token);
    if (Tokens.received().isZero()) fail("no value");
  } else if (method == 0x02) {
    const minOut = input.u64();
    input.end();
    const received = Tokens.received();
    const tokenIn = <u8>Tokens.receivedToken();
    const tokenOut = pool.other(tokenIn);
    const amountIn = small(received);
    if (amountIn == 0) fail("no value");
    const rIn = small(Tokens.balance(tokenIn)) - amountIn;
    const rOut = small(Tokens.balance(tokenOut));
    const out = outFor(rIn, rOut, amountIn);
    if (out == 0) fail("empty pool");
    if (out < minOut) fail("slippage");
    if (Tokens.transfer(Context.caller(), tokenOut, new Amount(out)) != 0) fail("transfer failed");
    const s = new Uint8Array(32);
    s.fill(0x5a);
    emit(s, new Writer().u8(tokenIn).u64(amountIn).u64(out).finish());
    ret(new Writer().u64(out).finish());
  } else if (method == 0x03) {
    const token = input.u8();
    const amount = input.u64();
    input.end();
    noValue();
    if (Context.caller() != pool.owner) fail("unauthorized");
    if (token > 3) fail("bad token");
    if (Tokens.transfer(pool.owner, token, new Amount(amount)) != 0) fail("transfer failed");
  } else if (method == 0x04) {
    const tokenIn = input.u8();
    const amountIn = input.u64();
    input.end();
    noValue();
    const tokenOut = pool.other(tokenIn);
    ret(new Writer().u64(outFor(small(Tokens.balance(tokenIn)), small(Tokens.balance(tokenOut)), amountIn)).finish());
  } else {
    fail("bad input");
  }
}

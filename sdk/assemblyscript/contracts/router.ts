// A router: swaps through one or two AMMs (contracts/amm.ts, or amm.wat) in one
// call, moving value from contract to contract: the router example of
// crates/l2/executor/contracts/router.wat, in AssemblyScript. The caller sends
// the token to swap as the call's value; the router passes it on to the AMM
// (`Calls.callWithValue`), the AMM pays its out to the router, and the router
// pays it on to its caller. At rest it holds nothing.
//
// Call input: method (1 byte) ‖ arguments:
//   0x01 swap(amm 32 bytes, tokenOut u8, minOut u64) → out u64
//   0x02 swap2(amm1 32 bytes, tokenMid u8, amm2 32 bytes, tokenOut u8, minOut u64)
//        → out u64: two hops, X → tokenMid on amm1 (min out 0), then all of it →
//        tokenOut on amm2.
// Reverts: "bad input", "no value", "bad token", the AMM's revert data (or
// "amm failed"), "bad amm" (its return is not 8 bytes, or the router's balance
// did not grow by exactly what it returned), "slippage", "transfer failed".
import { Amount, Calls, Context, Reader, Tokens, Writer, fail, failWith, ret } from "../assembly/index";

function small(amount: Amount): u64 {
  if (amount.hi != 0) fail("too large");
  return amount.lo;
}

/** One hop: `amountIn` of `tokenIn` to `amm`, which pays `tokenOut` back. */
function hop(amm: Uint8Array, tokenIn: i32, amountIn: u64, tokenOut: u8, minOut: u64): u64 {
  if (tokenOut > 3 || <i32>tokenOut == tokenIn) fail("bad token");
  const before = small(Tokens.balance(tokenOut));
  const input = new Writer().u8(0x02).u64(minOut).finish();
  const result = Calls.callWithValue(amm, input, tokenIn, new Amount(amountIn));
  if (!result.ok()) {
    if (result.status == Calls.REVERTED && result.data.length > 0) {
      failWith(result.data);
    }
    fail("amm failed");
  }
  if (result.data.length != 8) fail("bad amm");
  const out = load<u64>(result.data.dataStart);
  if (small(Tokens.balance(tokenOut)) != before + out) fail("bad amm");
  return out;
}

export function call(): void {
  const input = Reader.input();
  const method = input.u8();
  const value = Tokens.received();
  if (value.isZero()) fail("no value");
  const tokenIn = Tokens.receivedToken();
  let out: u64 = 0;
  let tokenOut: u8 = 0;
  if (method == 0x01) {
    const amm = input.bytes32();
    tokenOut = input.u8();
    const minOut = input.u64();
    input.end();
    out = hop(amm, tokenIn, small(value), tokenOut, minOut);
  } else if (method == 0x02) {
    const amm1 = input.bytes32();
    const tokenMid = input.u8();
    const amm2 = input.bytes32();
    tokenOut = input.u8();
    const minOut = input.u64();
    input.end();
    const mid = hop(amm1, tokenIn, small(value), tokenMid, 0);
    out = hop(amm2, <i32>tokenMid, mid, tokenOut, minOut);
  } else {
    fail("bad input");
  }
  if (Tokens.transfer(Context.caller(), <i32>tokenOut, new Amount(out)) != 0) fail("transfer failed");
  ret(new Writer().u64(out).finish());
}

// An escrow: holds one payment from a buyer until the buyer or an arbiter
// releases it to the seller, or the seller or the arbiter refunds it to the
// buyer. The escrow example of crates/l2/executor/contracts/escrow.wat, in
// AssemblyScript. One escrow per deployment, used once: empty → funded →
// released or refunded.
//
// Init input: seller u32 ‖ arbiter u32 (8 bytes).
// Call input: the method, one byte:
//   0x01 fund      the caller becomes the buyer; the call's value (any token,
//                  amount > 0) is what the escrow holds
//   0x02 release   buyer or arbiter: the whole amount to the seller
//   0x03 refund    seller or arbiter: the whole amount back to the buyer
//   0x04 status    → state u8 (0 empty, 1 funded, 2 released, 3 refunded) ‖
//                  buyer u32 ‖ token u8 ‖ amount u128 (22 bytes)
// Storage: key [1, 0…] = seller ‖ arbiter; key [2, 0…] = the status record.
// Reverts: "bad input", "funded", "no value", "not funded", "unauthorized",
// "unexpected value", "transfer failed", "no config".
import { Amount, Context, Reader, Tokens, Writer, fail, key, ret, storage } from "../assembly/index";

const CONFIG: u8 = 1;
const STATUS: u8 = 2;
const EMPTY: u8 = 0;
const FUNDED: u8 = 1;
const RELEASED: u8 = 2;
const REFUNDED: u8 = 3;

class Status {
  constructor(
    public state: u8 = EMPTY,
    public buyer: u32 = 0,
    public token: u8 = 0,
    public amount: Amount = new Amount(),
  ) {}

  static load(): Status {
    const v = storage.read(key(STATUS));
    if (v == null) return new Status();
    const r = new Reader(v!);
    return new Status(r.u8(), r.u32(), r.u8(), new Amount(r.u64(), r.u64()));
  }

  encode(): Uint8Array {
    return new Writer()
      .u8(this.state).u32(this.buyer).u8(this.token)
      .u64(this.amount.lo).u64(this.amount.hi)
      .finish();
  }

  save(): void { storage.write(key(STATUS), this.encode()); }
}

function parties(): Reader {
  const v = storage.read(key(CONFIG));
  if (v == null || v.length != 8) fail("no config");
  return new Reader(v!);
}

function noValue(): void {
  if (!Tokens.received().isZero()) fail("unexpected value");
}

/** Pays the escrowed amount to `to` and closes the escrow as `closed`. */
function payOut(status: Status, to: u32, closed: u8): void {
  if (Tokens.transfer(to, status.token, status.amount) != 0) fail("transfer failed");
  status.state = closed;
  status.save();
}

export function init(): void {
  const input = Reader.input();
  const config = input.bytesN(8);
  input.end();
  storage.write(key(CONFIG), config);
}

export function call(): void {
  const input = Reader.input();
  const method = input.u8();
  input.end();
  const status = Status.load();
  if (method == 0x01) {
    if (status.state != EMPTY) fail("funded");
    const amount = Tokens.received();
    if (amount.isZero()) fail("no value");
    status.state = FUNDED;
    status.buyer = Context.caller();
    status.token = <u8>Tokens.receivedToken();
    status.amount = amount;
    status.save();
    return;
  }
  noValue();
  if (method == 0x04) {
    ret(status.encode());
    return;
  }
  if (method != 0x02 && method != 0x03) fail("bad input");
  if (status.state != FUNDED) fail("not funded");
  const config = parties();
  const seller = config.u32();
  const arbiter = config.u32();
  const caller = Context.caller();
  if (method == 0x02) {
    if (caller != status.buyer && caller != arbiter) fail("unauthorized");
    payOut(status, seller, RELEASED);
  } else {
    if (caller != seller && caller != arbiter) fail("unauthorized");
    payOut(status, status.buyer, REFUNDED);
  }
}

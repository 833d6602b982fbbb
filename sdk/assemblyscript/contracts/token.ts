// The fungible-token standard (GRC-20): balances, transfers, allowances and
// events, u64 amounts, kept in contract storage. Its interface description is
// token.interface.json; wallets and explorers recognise a token by it.
//
// Init input: total supply (u64 LE): the deployer gets all of it.
// Call input: method (1 byte) ‖ arguments, little-endian:
//   0x01 transfer(to u32, amount u64)              → nothing; event "transfer"
//   0x02 approve(spender u32, amount u64)          → nothing; event "approval"
//   0x03 transferFrom(from u32, to u32, amount u64) → nothing; event "transfer"
//   0x04 balanceOf(account u32)                    → u64
//   0x05 allowance(owner u32, spender u32)         → u64
//   0x06 totalSupply()                              → u64
// Events: topic "transfer", data from u32 ‖ to u32 ‖ amount u64;
//         topic "approval", data owner u32 ‖ spender u32 ‖ amount u64.
// Reverts: "bad input", "insufficient balance", "insufficient allowance".
import { Context, Reader, Writer, emit, fail, key, ret, storage, topic } from "../assembly/index";

const BALANCE: u8 = 1;
const ALLOWANCE: u8 = 2;
const SUPPLY: u8 = 3;

function move(from: u32, to: u32, amount: u64): void {
  const held = storage.readU64(key(BALANCE, from));
  if (held < amount) fail("insufficient balance");
  storage.writeU64(key(BALANCE, from), held - amount);
  storage.writeU64(key(BALANCE, to), storage.readU64(key(BALANCE, to)) + amount);
  emit(topic("transfer"), new Writer().u32(from).u32(to).u64(amount).finish());
}

export function init(): void {
  const input = Reader.input();
  const supply = input.u64();
  input.end();
  storage.writeU64(key(SUPPLY), supply);
  storage.writeU64(key(BALANCE, Context.caller()), supply);
  emit(topic("transfer"), new Writer().u32(0xffffffff).u32(Context.caller()).u64(supply).finish());
}

export function call(): void {
  const input = Reader.input();
  const method = input.u8();
  const caller = Context.caller();
  if (method == 0x01) {
    const to = input.u32();
    const amount = input.u64();
    input.end();
    move(caller, to, amount);
  } else if (method == 0x02) {
    const spender = input.u32();
    const amount = input.u64();
    input.end();
    storage.writeU64(key(ALLOWANCE, caller, spender), amount);
    emit(topic("approval"), new Writer().u32(caller).u32(spender).u64(amount).finish());
  } else if (method == 0x03) {
    const from = input.u32();
    const to = input.u32();
    const amount = input.u64();
    input.end();
    const allowed = storage.readU64(key(ALLOWANCE, from, caller));
    if (allowed < amount) fail("insufficient allowance");
    storage.writeU64(key(ALLOWANCE, from, caller), allowed - amount);
    move(from, to, amount);
  } else if (method == 0x04) {
    const account = input.u32();
    input.end();
    ret(new Writer().u64(storage.readU64(key(BALANCE, account))).finish());
  } else if (method == 0x05) {
    const owner = input.u32();
    const spender = input.u32();
    input.end();
    ret(new Writer().u64(storage.readU64(key(ALLOWANCE, owner, spender))).finish());
  } else if (method == 0x06) {
    input.end();
    ret(new Writer().u64(storage.readU64(key(SUPPLY))).finish());
  } else {
    fail("bad input");
  }
}

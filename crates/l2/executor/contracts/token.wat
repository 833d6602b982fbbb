;; Fungible token kept in contract storage, u64 amounts.
;;
;; Input: op (1 byte) ‖ arguments, little-endian.
;;   op 0 = mint(amount u64):             once only; the caller gets the whole supply.
;;   op 1 = transfer(to u32, amount u64): moves from the caller; reverts
;;                                        "insufficient balance"; emits a "transfer"
;;                                        event with data = to ‖ amount.
;;   op 2 = balance_of(account u32):      returns the balance (u64).
;; Storage: key [1, account (4 bytes LE), 0...] = balance; key [2, 0...] = minted flag.
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "caller" (func $caller (result i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (import "env" "emit_event" (func $emit_event (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; 0..64: input; 64..96: key; 96..104: value; 104..112: return; 256..: messages
  (data (i32.const 256) "bad input")
  (data (i32.const 272) "insufficient balance")
  (data (i32.const 304) "already minted")
  (data (i32.const 320) "transfer")
  (func $fail (param $message i32) (param $len i32)
    (call $revert (local.get $message) (local.get $len))
    (unreachable))
  (func $key (param $kind i32) (param $account i32)
    (i64.store (i32.const 64) (i64.const 0))
    (i64.store (i32.const 72) (i64.const 0))
    (i64.store (i32.const 80) (i64.const 0))
    (i64.store (i32.const 88) (i64.const 0))
    (i32.store8 (i32.const 64) (local.get $kind))
    (i32.store (i32.const 65) (local.get $account)))
  (func $balance (param $account i32) (result i64)
    (call $key (i32.const 1) (local.get $account))
    (if (result i64) (i32.eq (call $storage_read (i32.const 64) (i32.const 96) (i32.const 8)) (i32.const 8))
      (then (i64.load (i32.const 96)))
      (else (i64.const 0))))
  (func $set_balance (param $account i32) (param $amount i64)
    (call $key (i32.const 1) (local.get $account))
    (i64.store (i32.const 96) (local.get $amount))
    (call $storage_write (i32.const 64) (i32.const 96) (i32.const 8)))
  (func (export "call")
    (local $len i32) (local $op i32) (local $from i32) (local $to i32)
    (local $amount i64) (local $held i64)
    (local.set $len (call $input_len))
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 64)))
      (then (call $fail (i32.const 256) (i32.const 9))))
    (call $input_read (i32.const 0))
    (local.set $op (i32.load8_u (i32.const 0)))
    ;; mint
    (if (i32.eqz (local.get $op))
      (then
        (if (i32.ne (local.get $len) (i32.const 9)) (then (call $fail (i32.const 256) (i32.const 9))))
        (call $key (i32.const 2) (i32.const 0))
        (if (i32.ne (call $storage_read (i32.const 64) (i32.const 96) (i32.const 8)) (i32.const -1))
          (then (call $fail (i32.const 304) (i32.const 14))))
        (i64.store (i32.const 96) (i64.const 1))
        (call $storage_write (i32.const 64) (i32.const 96) (i32.const 8))
        (call $set_balance (call $caller) (i64.load (i32.const 1)))
        (return)))
    ;; transfer
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (if (i32.ne (local.get $len) (i32.const 13)) (then (call $fail (i32.const 256) (i32.const 9))))
        (local.set $from (call $caller))
        (local.set $to (i32.load (i32.const 1)))
        (local.set $amount (i64.load (i32.const 5)))
        (local.set $held (call $balance (local.get $from)))
        (if (i64.lt_u (local.get $held) (local.get $amount))
          (then (call $fail (i32.const 272) (i32.const 20))))
        (call $set_balance (local.get $from) (i64.sub (local.get $held) (local.get $amount)))
        ;; Cannot overflow: balances sum to the minted supply, a u64.
        (call $set_balance (local.get $to) (i64.add (call $balance (local.get $to)) (local.get $amount)))
        (call $emit_event (i32.const 320) (i32.const 1) (i32.const 12))
        (return)))
    ;; balance_of
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (if (i32.ne (local.get $len) (i32.const 5)) (then (call $fail (i32.const 256) (i32.const 9))))
        (i64.store (i32.const 104) (call $balance (i32.load (i32.const 1))))
        (call $set_return (i32.const 104) (i32.const 8))
        (return)))
    (call $fail (i32.const 256) (i32.const 9))))

;; Escrow: holds one payment from a buyer until the buyer or an arbiter releases it
;; to the seller, or the seller or the arbiter refunds it to the buyer. An example
;; of contracts holding and moving tokens (`call_value`, `transfer`).
;;
;; One escrow per deployment, used once: empty -> funded -> released or refunded.
;;
;; Init input: seller account id (u32 LE) ‖ arbiter account id (u32 LE), exactly
;; 8 bytes (else reverts "bad input"). Stored as they are: the ids are not checked
;; (a transfer to an id with no account fails later, "transfer failed").
;;
;; Call input: the method, exactly 1 byte (anything else reverts "bad input"):
;;   0x01 fund:    the caller (`caller()`, a user or a contract) becomes the buyer;
;;                 the value sent with the call (any token, amount > 0) is what the
;;                 escrow holds. Reverts "funded" if the escrow is not empty (funded
;;                 or closed already), "no value" if the call brought no value (the
;;                 value is then handed back: the revert rolls its move back).
;;                 Returns nothing.
;;   0x02 release: the caller must be the buyer or the arbiter ("unauthorized");
;;                 sends the whole escrowed amount to the seller; state released.
;;                 Returns nothing.
;;   0x03 refund:  the caller must be the seller or the arbiter ("unauthorized");
;;                 sends the whole escrowed amount back to the buyer; state
;;                 refunded. Returns nothing.
;;   0x04 status:  returns 22 bytes: state (u8: 0 empty, 1 funded, 2 released,
;;                 3 refunded) ‖ buyer account id (u32 LE) ‖ token id (u8) ‖ amount
;;                 (16 bytes, u128 LE). All zero while empty; after release or
;;                 refund the buyer, token and amount stay as they were funded.
;;   Release and refund revert "not funded" unless the state is funded (checked
;;   before the caller, so an unset buyer id 0 never authorises anyone), and
;;   "transfer failed" if the host refuses the transfer (e.g. the receiver's account
;;   does not exist or its balance would overflow; the escrow stays funded).
;;   Release, refund and status take no value: value sent with them reverts
;;   "unexpected value" (it would otherwise be stuck in the contract for good).
;;   Any other method byte reverts "bad input".
;;
;; Storage (32-byte keys: kind byte ‖ 31 zero bytes):
;;   key [1, 0…] = seller u32 LE ‖ arbiter u32 LE                  (8 bytes, at init)
;;   key [2, 0…] = the status record above, state ‖ buyer ‖ token ‖ amount (22 bytes;
;;                 absent while empty)
;; A missing config (key 1) reverts "no config" (cannot happen after init).
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "caller" (func $caller (result i32)))
  (import "env" "call_value" (func $call_value (param i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  ;; Memory map:
  ;;   0..32    storage key (kind ‖ zeros)
  ;;   32..40   input copy (at most 8 bytes: the length is checked before reading)
  ;;   64..72   config: seller u32 @64 ‖ arbiter u32 @68
  ;;   96..118  deal record: state u8 @96 ‖ buyer u32 @97 ‖ token u8 @101 ‖
  ;;            amount u128 @102..118 (also the status return data)
  ;;   128..144 scratch for call_value in methods that take no value
  ;;   256..    revert messages, one per 16-byte slot
  (data (i32.const 256) "bad input")        ;; 9
  (data (i32.const 272) "unauthorized")     ;; 12
  (data (i32.const 288) "not funded")       ;; 10
  (data (i32.const 304) "funded")           ;; 6
  (data (i32.const 320) "no value")         ;; 8
  (data (i32.const 336) "transfer failed")  ;; 15
  (data (i32.const 352) "unexpected value") ;; 16
  (data (i32.const 368) "no config")        ;; 9

  ;; Aborts the call with revert data memory[msg..msg+len].
  (func $revert_str (param $msg i32) (param $len i32)
    (call $revert (local.get $msg) (local.get $len))
    (unreachable))

  ;; Copies the input to 32; it must be exactly $len bytes ("bad input").
  (func $read_input (param $len i32)
    (if (i32.ne (call $input_len) (local.get $len))
      (then (call $revert_str (i32.const 256) (i32.const 9))))
    (call $input_read (i32.const 32)))

  ;; Sets the storage key at 0 to [kind, 0 × 31].
  (func $key (param $kind i32)
    (i64.store (i32.const 0) (i64.const 0))
    (i64.store (i32.const 8) (i64.const 0))
    (i64.store (i32.const 16) (i64.const 0))
    (i64.store (i32.const 24) (i64.const 0))
    (i32.store8 (i32.const 0) (local.get $kind)))

  ;; Loads seller and arbiter to 64..72 ("no config" if absent).
  (func $load_config
    (call $key (i32.const 1))
    (if (i32.ne (call $storage_read (i32.const 0) (i32.const 64) (i32.const 8)) (i32.const 8))
      (then (call $revert_str (i32.const 368) (i32.const 9)))))

  ;; Loads the deal record to 96..118; all zeros (state empty) if there is none.
  (func $load_deal
    (call $key (i32.const 2))
    (if (i32.ne (call $storage_read (i32.const 0) (i32.const 96) (i32.const 22)) (i32.const 22))
      (then
        (i64.store (i32.const 96) (i64.const 0))
        (i64.store (i32.const 104) (i64.const 0))
        (i64.store (i32.const 110) (i64.const 0)))))

  (func $save_deal
    (call $key (i32.const 2))
    (call $storage_write (i32.const 0) (i32.const 96) (i32.const 22)))

  ;; 1 if the u128 at $ptr is zero.
  (func $is_zero128 (param $ptr i32) (result i32)
    (i64.eqz (i64.or (i64.load (local.get $ptr))
                     (i64.load (i32.add (local.get $ptr) (i32.const 8))))))

  ;; Reverts "unexpected value" if the call brought value.
  (func $no_value
    (drop (call $call_value (i32.const 128)))
    (if (i32.eqz (call $is_zero128 (i32.const 128)))
      (then (call $revert_str (i32.const 352) (i32.const 16)))))

  (func (export "init")
    (call $read_input (i32.const 8))
    ;; the input (seller ‖ arbiter) is the config record as it is
    (call $key (i32.const 1))
    (call $storage_write (i32.const 0) (i32.const 32) (i32.const 8)))

  (func (export "call")
    (local $method i32) (local $who i32) (local $party i32) (local $to i32)
    (call $read_input (i32.const 1))
    (local.set $method (i32.load8_u (i32.const 32)))
    (call $load_deal)

    ;; 0x01 fund
    (if (i32.eq (local.get $method) (i32.const 1))
      (then
        (if (i32.load8_u (i32.const 96))
          (then (call $revert_str (i32.const 304) (i32.const 6))))
        ;; the value goes straight into the record: token @101, amount @102
        (i32.store8 (i32.const 101) (call $call_value (i32.const 102)))
        (if (call $is_zero128 (i32.const 102))
          (then (call $revert_str (i32.const 320) (i32.const 8))))
        (i32.store8 (i32.const 96) (i32.const 1))
        (i32.store (i32.const 97) (call $caller))
        (call $save_deal)
        (return)))

    ;; 0x04 status
    (if (i32.eq (local.get $method) (i32.const 4))
      (then
        (call $no_value)
        (call $set_return (i32.const 96) (i32.const 22))
        (return)))

    ;; 0x02 release / 0x03 refund
    (if (i32.or (i32.eq (local.get $method) (i32.const 2))
                (i32.eq (local.get $method) (i32.const 3)))
      (then
        (call $no_value)
        (if (i32.ne (i32.load8_u (i32.const 96)) (i32.const 1))
          (then (call $revert_str (i32.const 288) (i32.const 10))))
        (call $load_config)
        ;; release: the buyer (or the arbiter) pays the seller;
        ;; refund:  the seller (or the arbiter) pays the buyer back
        (if (i32.eq (local.get $method) (i32.const 2))
          (then
            (local.set $party (i32.load (i32.const 97)))
            (local.set $to (i32.load (i32.const 64))))
          (else
            (local.set $party (i32.load (i32.const 64)))
            (local.set $to (i32.load (i32.const 97)))))
        (local.set $who (call $caller))
        (if (i32.and (i32.ne (local.get $who) (local.get $party))
                     (i32.ne (local.get $who) (i32.load (i32.const 68))))
          (then (call $revert_str (i32.const 272) (i32.const 12))))
        ;; close first (the new state is the method byte: 2 released, 3 refunded),
        ;; then pay; a failed transfer reverts, which undoes the close too
        (i32.store8 (i32.const 96) (local.get $method))
        (call $save_deal)
        (if (call $transfer (local.get $to) (i32.load8_u (i32.const 101)) (i32.const 102))
          (then (call $revert_str (i32.const 336) (i32.const 15))))
        (return)))

    (call $revert_str (i32.const 256) (i32.const 9))))

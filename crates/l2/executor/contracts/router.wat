;; Router: swaps through one or two AMMs (amm.wat) in one call, moving value from
;; contract to contract. An example of `call_with_value` and of a contract paying
;; what it received on to its own caller.
;;
;; The caller sends the token to swap as the call's value. The router passes it on
;; to the AMM with `call_with_value`; the AMM pays the swap's out to its caller, the
;; router's own account; the router pays it on to its caller (`caller()`: the
;; transaction's sender, or the calling contract's account). At rest the router
;; holds nothing: every call either pays all it received on or reverts (which rolls
;; every move of the call back, the value sent with it included).
;;
;; Call input: method (1 byte) ‖ arguments, little-endian; a wrong length for the
;; method, or an unknown method, reverts "bad input".
;;   0x01 swap:  input 0x01 ‖ amm address (32 bytes) ‖ token_out (u8) ‖ min_out
;;               (u64 LE), 42 bytes. Swaps the call's value (token X, amount in) on
;;               the AMM for token_out and pays the out to the caller. Returns out
;;               (u64 LE, 8 bytes).
;;   0x02 swap2: input 0x02 ‖ amm1 (32) ‖ token_mid (u8) ‖ amm2 (32) ‖ token_out (u8)
;;               ‖ min_out (u64 LE), 75 bytes. Two hops: X -> token_mid on amm1 (min
;;               out 0), then all of that token_mid -> token_out on amm2 (min_out).
;;               Pays the final out to the caller and returns it (u64 LE, 8 bytes).
;;               token_out may equal X (a round trip).
;;
;; Each hop calls the AMM with input 0x02 ‖ min_out (its swap), forwarding all the
;; fuel it may (-1). Reverts:
;;   "no value"        the call brought no value;
;;   "bad token"       token_out (or token_mid) > 3, or equal to the token going
;;                     into the same hop;
;;   the AMM's own revert data (e.g. "slippage", "empty pool", "bad token") when
;;                     the AMM reverted with some; "amm failed" for any other
;;                     failure (reverted without data, out of fuel, trapped, no
;;                     contract at the address, too deep, short balance);
;;   "bad amm"         the AMM's return data is not 8 bytes, or the router's balance
;;                     of the hop's out token did not grow by exactly the out the
;;                     AMM returned (so an AMM that lies or pays another token
;;                     cannot make the router pay from balance it does not own);
;;   "slippage"        the final out < min_out (also checked by the last AMM);
;;   "transfer failed" the host refused the payment to the caller (e.g. the
;;                     receiver's balance would overflow, or the caller is the
;;                     router itself).
;; Storage: none.
(module
  (import "env" "caller" (func $caller (result i32)))
  (import "env" "call_value" (func $call_value (param i32) (result i32)))
  (import "env" "balance" (func $balance (param i32 i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (import "env" "call_with_value"
    (func $call_with_value (param i32 i32 i32 i64 i32 i32) (result i32)))
  (import "env" "return_data_len" (func $return_data_len (result i32)))
  (import "env" "return_data_read" (func $return_data_read (param i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  ;; Memory map:
  ;;   0..75      input copy (at most 80 bytes: the length is checked before reading)
  ;;                swap:  method @0 ‖ amm @1 ‖ token_out @33 ‖ min_out @34
  ;;                swap2: method @0 ‖ amm1 @1 ‖ token_mid @33 ‖ amm2 @34 ‖
  ;;                       token_out @66 ‖ min_out @67
  ;;   96..112    the call's value (u128): the first hop's amount in
  ;;   112..128   amount (u128: u64 ‖ 8 zero bytes): the second hop's amount in,
  ;;              then the payment to the caller
  ;;   128..137   AMM call input: 0x02 ‖ min_out u64
  ;;   144..160   router's balance of the hop's out token before the call (u128)
  ;;   160..176   the same after the call (u128)
  ;;   176..184   the AMM's return data (out u64), then our own return data
  ;;   256..      revert messages, one per 16-byte slot
  ;;   1024..5120 an AMM's revert data (at most 4096 bytes, RETURN_BYTES_MAX)
  (data (i32.const 256) "bad input")        ;; 9
  (data (i32.const 272) "bad token")        ;; 9
  (data (i32.const 288) "no value")         ;; 8
  (data (i32.const 304) "amm failed")       ;; 10
  (data (i32.const 320) "bad amm")          ;; 7
  (data (i32.const 336) "slippage")         ;; 8
  (data (i32.const 352) "transfer failed")  ;; 15

  ;; Aborts the call with revert data memory[msg..msg+len].
  (func $revert_str (param $msg i32) (param $len i32)
    (call $revert (local.get $msg) (local.get $len))
    (unreachable))

  (func $bad_token (call $revert_str (i32.const 272) (i32.const 9)))
  (func $bad_amm (call $revert_str (i32.const 320) (i32.const 7)))

  ;; Reverts "bad input" unless the input is exactly $len bytes.
  (func $expect_len (param $len i32)
    (if (i32.ne (call $input_len) (local.get $len))
      (then (call $revert_str (i32.const 256) (i32.const 9)))))

  ;; Reverts "bad token" unless $out is a token id (<= 3) other than $in.
  (func $check_pair (param $in i32) (param $out i32)
    (if (i32.or (i32.gt_u (local.get $out) (i32.const 3))
                (i32.eq (local.get $out) (local.get $in)))
      (then (call $bad_token))))

  ;; Takes the call's value to 96..112 and returns its token ("no value" if none).
  (func $take_value (result i32)
    (local $token i32)
    (local.set $token (call $call_value (i32.const 96)))
    (if (i64.eqz (i64.or (i64.load (i32.const 96)) (i64.load (i32.const 104))))
      (then (call $revert_str (i32.const 288) (i32.const 8))))
    (local.get $token))

  ;; The router's balance of $token, written at $ptr ("bad token" if refused).
  (func $balance_at (param $token i32) (param $ptr i32)
    (if (call $balance (local.get $token) (local.get $ptr))
      (then (call $bad_token))))

  ;; A sub-call failed with $status: revert with the callee's revert data if it
  ;; reverted with some, else "amm failed".
  (func $fail_call (param $status i32)
    (local $len i32)
    (local.set $len (call $return_data_len))
    (if (i32.and (i32.eq (local.get $status) (i32.const 1))
                 (i32.and (i32.gt_s (local.get $len) (i32.const 0))
                          (i32.le_s (local.get $len) (i32.const 4096))))
      (then
        (call $return_data_read (i32.const 1024))
        (call $revert_str (i32.const 1024) (local.get $len))))
    (call $revert_str (i32.const 304) (i32.const 10)))

  ;; One hop: swaps the u128 at $amount_ptr of $token_in for $token_out on the AMM
  ;; whose address is at $amm_ptr, asking for at least $min_out; the AMM pays the
  ;; router. Returns the out, checked against the router's balance change.
  (func $hop (param $amm_ptr i32) (param $token_in i32) (param $amount_ptr i32)
             (param $token_out i32) (param $min_out i64) (result i64)
    (local $status i32) (local $out i64) (local $expect_lo i64) (local $expect_hi i64)
    (call $balance_at (local.get $token_out) (i32.const 144))
    ;; the AMM's swap input: 0x02 ‖ min_out
    (i32.store8 (i32.const 128) (i32.const 2))
    (i64.store (i32.const 129) (local.get $min_out))
    (local.set $status
      (call $call_with_value
        (local.get $amm_ptr) (i32.const 128) (i32.const 9) (i64.const -1)
        (local.get $token_in) (local.get $amount_ptr)))
    (if (local.get $status) (then (call $fail_call (local.get $status))))
    (if (i32.ne (call $return_data_len) (i32.const 8)) (then (call $bad_amm)))
    (call $return_data_read (i32.const 176))
    (local.set $out (i64.load (i32.const 176)))
    ;; balance after must be balance before + out (u128 add, with the carry)
    (call $balance_at (local.get $token_out) (i32.const 160))
    (local.set $expect_lo (i64.add (i64.load (i32.const 144)) (local.get $out)))
    (local.set $expect_hi
      (i64.add (i64.load (i32.const 152))
               (i64.extend_i32_u (i64.lt_u (local.get $expect_lo) (local.get $out)))))
    (if (i32.or (i64.ne (i64.load (i32.const 160)) (local.get $expect_lo))
                (i64.ne (i64.load (i32.const 168)) (local.get $expect_hi)))
      (then (call $bad_amm)))
    (local.get $out))

  ;; Pays $out of $token to the caller ("slippage" if below $min_out) and returns
  ;; it as the call's return data.
  (func $pay_caller (param $token i32) (param $out i64) (param $min_out i64)
    (if (i64.lt_u (local.get $out) (local.get $min_out))
      (then (call $revert_str (i32.const 336) (i32.const 8))))
    (i64.store (i32.const 112) (local.get $out))
    (i64.store (i32.const 120) (i64.const 0))
    (if (call $transfer (call $caller) (local.get $token) (i32.const 112))
      (then (call $revert_str (i32.const 352) (i32.const 15))))
    (i64.store (i32.const 176) (local.get $out))
    (call $set_return (i32.const 176) (i32.const 8)))

  (func (export "call")
    (local $len i32) (local $method i32) (local $x i32) (local $mid i32)
    (local $token_out i32) (local $min_out i64) (local $out i64)
    (local.set $len (call $input_len))
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 80)))
      (then (call $revert_str (i32.const 256) (i32.const 9))))
    (call $input_read (i32.const 0))
    (local.set $method (i32.load8_u (i32.const 0)))

    ;; 0x01 swap: X -> token_out on one AMM
    (if (i32.eq (local.get $method) (i32.const 1))
      (then
        (call $expect_len (i32.const 42))
        (local.set $x (call $take_value))
        (local.set $token_out (i32.load8_u (i32.const 33)))
        (call $check_pair (local.get $x) (local.get $token_out))
        (local.set $min_out (i64.load (i32.const 34)))
        (local.set $out
          (call $hop (i32.const 1) (local.get $x) (i32.const 96)
                     (local.get $token_out) (local.get $min_out)))
        (call $pay_caller (local.get $token_out) (local.get $out) (local.get $min_out))
        (return)))

    ;; 0x02 swap2: X -> token_mid on amm1, token_mid -> token_out on amm2
    (if (i32.eq (local.get $method) (i32.const 2))
      (then
        (call $expect_len (i32.const 75))
        (local.set $x (call $take_value))
        (local.set $mid (i32.load8_u (i32.const 33)))
        (local.set $token_out (i32.load8_u (i32.const 66)))
        (call $check_pair (local.get $x) (local.get $mid))
        (call $check_pair (local.get $mid) (local.get $token_out))
        (local.set $min_out (i64.load (i32.const 67)))
        ;; first hop: no minimum of its own; the last hop's min_out covers the route
        (local.set $out
          (call $hop (i32.const 1) (local.get $x) (i32.const 96)
                     (local.get $mid) (i64.const 0)))
        (i64.store (i32.const 112) (local.get $out))
        (i64.store (i32.const 120) (i64.const 0))
        (local.set $out
          (call $hop (i32.const 34) (local.get $mid) (i32.const 112)
                     (local.get $token_out) (local.get $min_out)))
        (call $pay_caller (local.get $token_out) (local.get $out) (local.get $min_out))
        (return)))

    (call $revert_str (i32.const 256) (i32.const 9))))

;; AMM: a constant-product (x·y = k) pool of two of the four tokens, with a 0.3 %
;; fee, like Uniswap v2 without liquidity shares: one owner provides and withdraws
;; the liquidity. An example of contracts holding, receiving and paying tokens
;; (`call_value`, `balance`, `transfer`).
;;
;; The reserves are the contract's own balances of the two tokens (`balance`):
;; there is no separate accounting, so tokens of the pair sent to the contract by
;; any means join the pool.
;;
;; Init input: token_a (u8) ‖ token_b (u8), exactly 2 bytes ("bad input"); both
;; <= 3 and different ("bad token"). The owner is the deployer (`caller()` in init).
;;
;; Call input: method (1 byte) ‖ arguments, little-endian; a wrong length for the
;; method, or an unknown method, reverts "bad input".
;;   0x01 add:    input 0x01. Owner only ("unauthorized"). The call's value is the
;;                liquidity: its token must be token_a or token_b ("bad token") and
;;                its amount > 0 ("no value"). The host has already credited it, so
;;                nothing else happens. Returns nothing.
;;   0x02 swap:   input 0x02 ‖ min_out (u64 LE). Anyone. The call's value (token X,
;;                amount in > 0, else "no value") must be token_a or token_b ("bad
;;                token"); Y is the other one.
;;                  reserve_in  = balance(X) − in  (the balance already holds the value)
;;                  reserve_out = balance(Y)
;;                  out = reserve_out·in·997 / (reserve_in·1000 + in·997)   (rounded down)
;;                Reverts "empty pool" if out = 0, then "slippage" if out < min_out.
;;                Pays out of Y to `caller()` (a user, or the calling contract's own
;;                account), emits an event, topic = 32 bytes of 0x5a, data =
;;                token_in (u8) ‖ in (u64 LE) ‖ out (u64 LE) (17 bytes), and returns
;;                out (u64 LE, 8 bytes).
;;   0x03 remove: input 0x03 ‖ token (u8) ‖ amount (u64 LE). Owner only
;;                ("unauthorized"). Sends amount of token (any token id <= 3, else
;;                "bad token", so the owner can also sweep stray tokens) to the
;;                owner. Returns nothing.
;;   0x04 quote:  input 0x04 ‖ token_in (u8) ‖ amount_in (u64 LE). Returns the out a
;;                swap of amount_in of token_in would give now (u64 LE, 8 bytes; 0
;;                where a swap would revert "empty pool"); changes nothing.
;;                token_in must be token_a or token_b ("bad token").
;;   Remove and quote take no value ("unexpected value").
;;
;; Limits: the math is 64-bit. A swap or quote reverts "too large" if the amount
;; in or either balance does not fit in a u64 (nonzero high 8 bytes), or if
;; reserve_out·in·997 or reserve_in·1000 + in·997 would overflow a u64 (every
;; product is checked by division before it is made). Transfers the host refuses
;; (e.g. the balance is short, the receiver's balance would overflow) revert
;; "transfer failed". A missing config reverts "no config" (cannot happen after
;; init).
;;
;; Storage: key [1, 0…] = token_a u8 ‖ token_b u8 ‖ owner u32 LE (6 bytes).
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "caller" (func $caller (result i32)))
  (import "env" "call_value" (func $call_value (param i32) (result i32)))
  (import "env" "balance" (func $balance (param i32 i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "emit_event" (func $emit_event (param i32 i32 i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  ;; Memory map:
  ;;   0..32    storage key [1, 0…]
  ;;   32..48   input copy (at most 16 bytes: the length is checked before reading)
  ;;   64..70   config: token_a u8 @64 ‖ token_b u8 @65 ‖ owner u32 @66
  ;;   96..112  the call's value (u128)
  ;;   112..128 balance of the token in (u128)
  ;;   128..144 balance of the token out (u128)
  ;;   144..160 amount to transfer (u128: u64 ‖ 8 zero bytes)
  ;;   160..168 return data (out u64)
  ;;   192..224 swap event topic (0x5a × 32)
  ;;   224..241 swap event data: token_in @224 ‖ in @225 ‖ out @233
  ;;   256..    revert messages, one per 16-byte slot
  (data (i32.const 192) "\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a\5a")
  (data (i32.const 256) "bad input")        ;; 9
  (data (i32.const 272) "bad token")        ;; 9
  (data (i32.const 288) "unauthorized")     ;; 12
  (data (i32.const 304) "no value")         ;; 8
  (data (i32.const 320) "too large")        ;; 9
  (data (i32.const 336) "slippage")         ;; 8
  (data (i32.const 352) "empty pool")       ;; 10
  (data (i32.const 368) "transfer failed")  ;; 15
  (data (i32.const 384) "unexpected value") ;; 16
  (data (i32.const 400) "no config")        ;; 9

  ;; Aborts the call with revert data memory[msg..msg+len].
  (func $revert_str (param $msg i32) (param $len i32)
    (call $revert (local.get $msg) (local.get $len))
    (unreachable))

  (func $bad_input (call $revert_str (i32.const 256) (i32.const 9)))
  (func $bad_token (call $revert_str (i32.const 272) (i32.const 9)))
  (func $too_large (call $revert_str (i32.const 320) (i32.const 9)))

  ;; Reverts "bad input" unless the input is exactly $len bytes.
  (func $expect_len (param $len i32)
    (if (i32.ne (call $input_len) (local.get $len)) (then (call $bad_input))))

  ;; Sets the storage key at 0 to [1, 0 × 31] (the config, the only key).
  (func $config_key
    (i64.store (i32.const 0) (i64.const 0))
    (i64.store (i32.const 8) (i64.const 0))
    (i64.store (i32.const 16) (i64.const 0))
    (i64.store (i32.const 24) (i64.const 0))
    (i32.store8 (i32.const 0) (i32.const 1)))

  ;; Loads the config to 64..70 ("no config" if absent).
  (func $load_config
    (call $config_key)
    (if (i32.ne (call $storage_read (i32.const 0) (i32.const 64) (i32.const 6)) (i32.const 6))
      (then (call $revert_str (i32.const 400) (i32.const 9)))))

  ;; Reverts "unauthorized" unless the caller is the owner.
  (func $only_owner
    (if (i32.ne (call $caller) (i32.load (i32.const 66)))
      (then (call $revert_str (i32.const 288) (i32.const 12)))))

  ;; 1 if the u128 at $ptr is zero.
  (func $is_zero128 (param $ptr i32) (result i32)
    (i64.eqz (i64.or (i64.load (local.get $ptr))
                     (i64.load (i32.add (local.get $ptr) (i32.const 8))))))

  ;; Reverts "unexpected value" if the call brought value.
  (func $no_value
    (drop (call $call_value (i32.const 96)))
    (if (i32.eqz (call $is_zero128 (i32.const 96)))
      (then (call $revert_str (i32.const 384) (i32.const 16)))))

  ;; The u128 at $ptr as a u64; "too large" if its high 8 bytes are not zero.
  (func $u64 (param $ptr i32) (result i64)
    (if (i64.ne (i64.load (i32.add (local.get $ptr) (i32.const 8))) (i64.const 0))
      (then (call $too_large)))
    (i64.load (local.get $ptr)))

  ;; The contract's balance of $token, written at $ptr and returned as a u64
  ;; ("bad token" if the host refuses the token, "too large" past u64).
  (func $balance64 (param $token i32) (param $ptr i32) (result i64)
    (if (call $balance (local.get $token) (local.get $ptr))
      (then (call $bad_token)))
    (call $u64 (local.get $ptr)))

  ;; The pool's other token: token_b for token_a and back; "bad token" for any
  ;; token not in the pool.
  (func $other (param $token i32) (result i32)
    (if (i32.eq (local.get $token) (i32.load8_u (i32.const 64)))
      (then (return (i32.load8_u (i32.const 65)))))
    (if (i32.eq (local.get $token) (i32.load8_u (i32.const 65)))
      (then (return (i32.load8_u (i32.const 64)))))
    (call $bad_token)
    (unreachable))

  ;; Sends $amount of $token to account $to ("transfer failed" on any refusal).
  (func $pay (param $to i32) (param $token i32) (param $amount i64)
    (i64.store (i32.const 144) (local.get $amount))
    (i64.store (i32.const 152) (i64.const 0))
    (if (call $transfer (local.get $to) (local.get $token) (i32.const 144))
      (then (call $revert_str (i32.const 368) (i32.const 15)))))

  ;; out = reserve_out·in·997 / (reserve_in·1000 + in·997), rounded down, in u64
  ;; math: "too large" if a product or the sum would overflow. 0 when in = 0 (so
  ;; the divisor, which is then >= 997, is never 0).
  (func $amount_out (param $in i64) (param $reserve_in i64) (param $reserve_out i64) (result i64)
    (local $in997 i64)
    (if (i64.eqz (local.get $in)) (then (return (i64.const 0))))
    ;; in·997
    (if (i64.gt_u (local.get $in) (i64.div_u (i64.const -1) (i64.const 997)))
      (then (call $too_large)))
    (local.set $in997 (i64.mul (local.get $in) (i64.const 997)))
    ;; reserve_out·in997 (nested ifs: wasm evaluates both operands of i32.and, and
    ;; dividing by a zero reserve_out would trap)
    (if (i64.ne (local.get $reserve_out) (i64.const 0))
      (then
        (if (i64.gt_u (local.get $in997) (i64.div_u (i64.const -1) (local.get $reserve_out)))
          (then (call $too_large)))))
    ;; reserve_in·1000, then + in997
    (if (i64.gt_u (local.get $reserve_in) (i64.div_u (i64.const -1) (i64.const 1000)))
      (then (call $too_large)))
    (if (i64.gt_u (i64.mul (local.get $reserve_in) (i64.const 1000))
                  (i64.sub (i64.const -1) (local.get $in997)))
      (then (call $too_large)))
    (i64.div_u
      (i64.mul (local.get $reserve_out) (local.get $in997))
      (i64.add (i64.mul (local.get $reserve_in) (i64.const 1000)) (local.get $in997))))

  (func (export "init")
    (local $a i32) (local $b i32)
    (call $expect_len (i32.const 2))
    (call $input_read (i32.const 32))
    (local.set $a (i32.load8_u (i32.const 32)))
    (local.set $b (i32.load8_u (i32.const 33)))
    (if (i32.or (i32.or (i32.gt_u (local.get $a) (i32.const 3))
                        (i32.gt_u (local.get $b) (i32.const 3)))
                (i32.eq (local.get $a) (local.get $b)))
      (then (call $bad_token)))
    (i32.store8 (i32.const 64) (local.get $a))
    (i32.store8 (i32.const 65) (local.get $b))
    (i32.store (i32.const 66) (call $caller))
    (call $config_key)
    (call $storage_write (i32.const 0) (i32.const 64) (i32.const 6)))

  (func (export "call")
    (local $len i32) (local $method i32) (local $x i32) (local $y i32)
    (local $in i64) (local $out i64) (local $min_out i64) (local $token i32)
    (local.set $len (call $input_len))
    (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 16)))
      (then (call $bad_input)))
    (call $input_read (i32.const 32))
    (local.set $method (i32.load8_u (i32.const 32)))
    (call $load_config)

    ;; 0x01 add: the value is already in the balance; only check it
    (if (i32.eq (local.get $method) (i32.const 1))
      (then
        (call $expect_len (i32.const 1))
        (call $only_owner)
        (local.set $x (call $call_value (i32.const 96)))
        (if (call $is_zero128 (i32.const 96))
          (then (call $revert_str (i32.const 304) (i32.const 8))))
        (drop (call $other (local.get $x)))
        (return)))

    ;; 0x02 swap
    (if (i32.eq (local.get $method) (i32.const 2))
      (then
        (call $expect_len (i32.const 9))
        (local.set $min_out (i64.load (i32.const 33)))
        (local.set $x (call $call_value (i32.const 96)))
        (if (call $is_zero128 (i32.const 96))
          (then (call $revert_str (i32.const 304) (i32.const 8))))
        (local.set $y (call $other (local.get $x)))
        (local.set $in (call $u64 (i32.const 96)))
        ;; balance(X) >= in: the host credited the value before the call ran
        (local.set $out
          (call $amount_out
            (local.get $in)
            (i64.sub (call $balance64 (local.get $x) (i32.const 112)) (local.get $in))
            (call $balance64 (local.get $y) (i32.const 128))))
        (if (i64.eqz (local.get $out))
          (then (call $revert_str (i32.const 352) (i32.const 10))))
        (if (i64.lt_u (local.get $out) (local.get $min_out))
          (then (call $revert_str (i32.const 336) (i32.const 8))))
        (call $pay (call $caller) (local.get $y) (local.get $out))
        (i32.store8 (i32.const 224) (local.get $x))
        (i64.store (i32.const 225) (local.get $in))
        (i64.store (i32.const 233) (local.get $out))
        (call $emit_event (i32.const 192) (i32.const 224) (i32.const 17))
        (i64.store (i32.const 160) (local.get $out))
        (call $set_return (i32.const 160) (i32.const 8))
        (return)))

    ;; 0x03 remove
    (if (i32.eq (local.get $method) (i32.const 3))
      (then
        (call $expect_len (i32.const 10))
        (call $only_owner)
        (call $no_value)
        (local.set $token (i32.load8_u (i32.const 33)))
        (if (i32.gt_u (local.get $token) (i32.const 3)) (then (call $bad_token)))
        (call $pay (i32.load (i32.const 66)) (local.get $token) (i64.load (i32.const 34)))
        (return)))

    ;; 0x04 quote: the same math over the balances as they are (no value came)
    (if (i32.eq (local.get $method) (i32.const 4))
      (then
        (call $expect_len (i32.const 10))
        (call $no_value)
        (local.set $x (i32.load8_u (i32.const 33)))
        (local.set $y (call $other (local.get $x)))
        (i64.store (i32.const 160)
          (call $amount_out
            (i64.load (i32.const 34))
            (call $balance64 (local.get $x) (i32.const 112))
            (call $balance64 (local.get $y) (i32.const 128))))
        (call $set_return (i32.const 160) (i32.const 8))
        (return)))

    (call $bad_input)))

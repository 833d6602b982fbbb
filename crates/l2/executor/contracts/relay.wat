;; Relay: calls another contract and reports what happened. The test contract for
;; calls between contracts (and an example of the `call` ABI).
;;
;; Input: target address (32 bytes) ‖ fuel to forward (u64 LE) ‖ flags (1 byte) ‖
;; the callee's input (the rest).
;;
;; 1. reads storage key 0 and notes its length ("seen": -1 if absent), then writes
;;    key 0 = [0xaa] and emits an event (topic 0x11…11): effects made before the
;;    call, which a re-entered relay sees and which its own failure rolls back;
;; 2. calls the target with the forwarded fuel and input;
;; 3. flags bit 0 set: reverts with "outer" after the call (the callee's effects
;;    roll back with the relay's);
;; 4. returns status (i32 LE) ‖ seen (i32 LE) ‖ the callee's return or revert data.
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "emit_event" (func $emit_event (param i32 i32 i32)))
  (import "env" "call" (func $call (param i32 i32 i32 i64) (result i32)))
  (import "env" "return_data_len" (func $return_data_len (result i32)))
  (import "env" "return_data_read" (func $return_data_read (param i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  ;; 0..32 key 0 | 32..64 event topic | 96 the value written | 100.. "outer"
  ;; 128.. input copy | 20000 status | 20004 seen | 20008.. callee's data
  (memory (export "memory") 2)
  (data (i32.const 32) "\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11\11")
  (data (i32.const 96) "\aa")
  (data (i32.const 100) "outer")
  (func (export "call") (local $len i32) (local $data i32)
    (local.set $len (call $input_len))
    (if (i32.lt_u (local.get $len) (i32.const 41))
      (then (call $revert (i32.const 100) (i32.const 5))))
    (call $input_read (i32.const 128))
    (i32.store (i32.const 20004) (call $storage_read (i32.const 0) (i32.const 64) (i32.const 0)))
    (call $storage_write (i32.const 0) (i32.const 96) (i32.const 1))
    (call $emit_event (i32.const 32) (i32.const 0) (i32.const 0))
    (i32.store (i32.const 20000)
      (call $call
        (i32.const 128)
        (i32.const 169)
        (i32.sub (local.get $len) (i32.const 41))
        (i64.load (i32.const 160))))
    (local.set $data (call $return_data_len))
    (call $return_data_read (i32.const 20008))
    (if (i32.and (i32.load8_u (i32.const 168)) (i32.const 1))
      (then (call $revert (i32.const 100) (i32.const 5))))
    (if (i32.gt_u (local.get $data) (i32.const 4088))
      (then (local.set $data (i32.const 4088))))
    (call $set_return (i32.const 20000) (i32.add (i32.const 8) (local.get $data)))))

;; Key-value registry with owners.
;;
;; Input: op (1 byte) ‖ key (32 bytes) ‖ value (set only, at most 1020 bytes).
;;   op 0 = set:    stores caller ‖ value under key; reverts "not owner" if another
;;                  account owns the key. Emits an event (topic = key, data = owner).
;;   op 1 = get:    returns the value (nothing if absent).
;;   op 2 = delete: removes the key; reverts "not owner" if another account owns it.
;; Anything else reverts "bad input".
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "storage_delete" (func $storage_delete (param i32)))
  (import "env" "caller" (func $caller (result i32)))
  (import "env" "input_len" (func $input_len (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (import "env" "emit_event" (func $emit_event (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; 0..1053: input; 4096..5120: stored record (owner u32 ‖ value); 8192..: messages
  (data (i32.const 8192) "not owner")
  (data (i32.const 8208) "bad input")
  (func $fail (param $message i32)
    (call $revert (local.get $message) (i32.const 9))
    (unreachable))
  (func (export "call")
    (local $len i32) (local $found i32) (local $op i32) (local $value_len i32)
    (local.set $len (call $input_len))
    (if (i32.or (i32.lt_u (local.get $len) (i32.const 33))
                (i32.gt_u (local.get $len) (i32.const 1053)))
      (then (call $fail (i32.const 8208))))
    (call $input_read (i32.const 0))
    (local.set $op (i32.load8_u (i32.const 0)))
    (local.set $found (call $storage_read (i32.const 1) (i32.const 4096) (i32.const 1024)))
    ;; get
    (if (i32.eq (local.get $op) (i32.const 1))
      (then
        (if (i32.ge_s (local.get $found) (i32.const 4))
          (then (call $set_return (i32.const 4100) (i32.sub (local.get $found) (i32.const 4)))))
        (return)))
    (if (i32.gt_u (local.get $op) (i32.const 2)) (then (call $fail (i32.const 8208))))
    ;; set and delete need the caller to own the key, if it is owned
    (if (i32.and (i32.ge_s (local.get $found) (i32.const 4))
                 (i32.ne (i32.load (i32.const 4096)) (call $caller)))
      (then (call $fail (i32.const 8192))))
    ;; delete
    (if (i32.eq (local.get $op) (i32.const 2))
      (then
        (call $storage_delete (i32.const 1))
        (return)))
    ;; set
    (local.set $value_len (i32.sub (local.get $len) (i32.const 33)))
    (i32.store (i32.const 4096) (call $caller))
    (memory.copy (i32.const 4100) (i32.const 33) (local.get $value_len))
    (call $storage_write (i32.const 1) (i32.const 4096) (i32.add (local.get $value_len) (i32.const 4)))
    (call $emit_event (i32.const 1) (i32.const 4096) (i32.const 4))))

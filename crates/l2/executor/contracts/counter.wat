;; Counter: every call adds one to a u64 kept under the all-zero storage key and
;; returns the new value (8 bytes, little-endian).
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (import "env" "set_return" (func $set_return (param i32 i32)))
  (memory (export "memory") 1)
  ;; bytes 0..32: the key (zeros); bytes 32..40: the value
  (func (export "call")
    (if (i32.ne (call $storage_read (i32.const 0) (i32.const 32) (i32.const 8)) (i32.const 8))
      (then (i64.store (i32.const 32) (i64.const 0))))
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $storage_write (i32.const 0) (i32.const 32) (i32.const 8))
    (call $set_return (i32.const 32) (i32.const 8))))

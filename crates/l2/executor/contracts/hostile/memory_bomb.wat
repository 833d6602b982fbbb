;; Writes storage, then grows memory past the 4 MiB limit; the growth fails (-1) and the
;; contract traps. The storage write must be rolled back.
(module
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "call")
    (call $storage_write (i32.const 0) (i32.const 0) (i32.const 8))
    (if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1))
      (then unreachable))))

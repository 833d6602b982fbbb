;; Bulk-memory bomb. Input: op (u8), len (u32 LE), reps (u32 LE). Runs the operation
;; `reps` times on `len` bytes (elements for the table op), then returns.
;;   op 0: memory.fill  (0, 0xab, len)
;;   op 1: memory.copy  (0, 2 MiB, len)
;;   op 2: memory.init  (0, segment 0 at offset 0, len)  (the segment is 4 KiB)
;;   op 3: table.copy   (0, 0, len)                      (the table holds 1024 funcrefs)
;; Without per-byte metering each operation costs about one fuel whatever `len` is.
(module
  (import "env" "input_read" (func $input_read (param i32)))
  (memory (export "memory") 64)
  (table 1024 funcref)
  (func (export "call")
    (local $op i32) (local $len i32) (local $reps i32)
    (call $input_read (i32.const 0))
    (local.set $op (i32.load8_u (i32.const 0)))
    (local.set $len (i32.load (i32.const 1)))
    (local.set $reps (i32.load (i32.const 5)))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $reps)))
        (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
        (block $init
          (block $copy
            (block $fill
              (br_table $fill $copy $init (local.get $op)))
            (memory.fill (i32.const 0) (i32.const 0xab) (local.get $len))
            (br $again))
          (memory.copy (i32.const 0) (i32.const 0x200000) (local.get $len))
          (br $again))
        (if (i32.eq (local.get $op) (i32.const 2))
          (then (memory.init $segment (i32.const 0) (i32.const 0) (local.get $len)))
          (else (table.copy (i32.const 0) (i32.const 0) (local.get $len))))
        (br $again))))
  (data $segment
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
    "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"))

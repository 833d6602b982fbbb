;; Loops forever: must run out of fuel.
(module
  (memory (export "memory") 1)
  (func (export "call") (loop $forever (br $forever))))

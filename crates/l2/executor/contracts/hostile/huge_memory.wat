;; Asks for 128 pages (8 MiB) up front, over the 4 MiB limit: invalid at deploy.
(module
  (memory (export "memory") 128)
  (func (export "call")))

;; Four memories of 4 GiB each: the limit used to hold per memory, and instantiating this aborted the host while
;; allocating. The store's limit holds in total: instantiation traps with "resource exhausted".
(module
  (memory 65536)
  (memory 65536)
  (memory 65536)
  (memory 65536)
  (func (export "main") (result i32) (i32.const 0)))

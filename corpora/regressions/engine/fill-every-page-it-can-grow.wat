;; Grows its memory one page at a time until `memory.grow` refuses, writing a byte into every page it gets, so
;; that every page it holds is resident; returns the pages held. Under `--max-memory 64M` it holds 1023 pages (the
;; `spectest` memory it is linked with takes the last one), and capicola's resident memory stays near 64 MiB plus its own.
(module
  (memory 1)
  (func (export "main") (result i32)
    (local $page i32)
    (block $full
      (loop $more
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (local.set $page (i32.add (local.get $page) (i32.const 1)))
        (i32.store8 (i32.mul (local.get $page) (i32.const 65536)) (i32.const 1))
        (br $more)))
    (memory.size)))

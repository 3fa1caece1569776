;; A libFuzzer harness that grows its memory by 64 MiB and traps when it cannot: under `--max-memory 64M` the
;; grow (the first page included, 64 MiB and 64 KiB in all) fails, under `--max-memory 128M` it succeeds.
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1)) (then unreachable))
    (i32.const 0)))

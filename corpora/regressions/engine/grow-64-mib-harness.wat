;; A libFuzzer harness that grows its memory by 64 MiB: under `--max-memory 64M` the grow (the first page
;; included, 64 MiB and 64 KiB in all) goes past the limit, an out-of-memory finding of the fuzzer's commands (a
;; plain `capicola run` sees -1 and reaches the `unreachable`); under `--max-memory 128M` it succeeds.
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1)) (then unreachable))
    (i32.const 0)))

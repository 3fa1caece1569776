;; A libFuzzer harness looping `memory.fill` of 60 MB: each instruction is long, so time per input is bounded only
;; by the wall clock (or by fuel charged per byte).
(module
  (memory (export "memory") 1000)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (loop $spin
      (memory.fill (i32.const 0) (i32.const 7) (i32.const 60000000))
      (br $spin))
    (i32.const 0)))

;; A libFuzzer harness that never returns for any input: a plain loop, cheap per instruction. With a huge --fuel,
;; only the wall-clock limits (--timeout per input, --max-total-time for the command) end `fuzz` and `replay`.
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (loop $spin (br $spin))
    (i32.const 0)))

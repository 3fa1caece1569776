;; A libFuzzer harness whose LLVMFuzzerInitialize never returns: --max-total-time must still end the command.
(module
  (memory (export "memory") 1)
  (func (export "LLVMFuzzerInitialize") (param i32 i32) (result i32)
    (loop $spin (br $spin))
    (i32.const 0))
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (i32.const 0)))

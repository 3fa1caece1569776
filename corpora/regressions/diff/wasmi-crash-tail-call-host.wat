;; wasmi 2.0.0 dies with SIGSEGV (with or without fuel metering) when a Wasm function called from Wasm
;; tail-calls a host function of type [] -> [] (`return_call`, or `return_call_indirect` through that type);
;; other signatures are fine. `capicola diff` skips such modules against wasmi (the reference would take the
;; fuzzer down with it); capicola itself returns 42. Found by the wasmi oracle (smith case 2379 of seed 4).
(module
  (import "m" "f" (func $f))
  (func $g (export "g") (result i32)
    (call $tail)
    (i32.const 42))
  (func $tail
    (return_call $f)))

;; A libFuzzer harness that reads byte 500 (set by a data segment, never written) on each of 1000 rounds, and writes
;; only another 4 KiB page.
(module
  (memory (export "memory") 1)
  (data (i32.const 500) "\05")
  (func (export "LLVMFuzzerTestOneInput") (param i32 i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u (i32.const 500))))
      (i32.store (i32.const 0x2000) (local.get $sum))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (i32.const 0)))

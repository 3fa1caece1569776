;; A libFuzzer harness with 64 MiB of memory, for debugger commands on huge ranges: it fills 1 MiB at 0x100000
;; with 0xab, stores 15000 words from 0 up (about 60k instructions), then reads the last word of the 64 MiB.
(module
  (memory (export "memory") 1024)
  (func (export "LLVMFuzzerTestOneInput") (param $p i32) (param $n i32) (result i32)
    (local $i i32)
    (memory.fill (i32.const 0x100000) (i32.const 0xab) (i32.const 0x100000))
    (loop $l
      (i32.store (i32.mul (local.get $i) (i32.const 4)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 15000))))
    (drop (i32.load (i32.const 0x3fffffc)))
    (i32.const 0)))

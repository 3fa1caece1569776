;; Twenty `memory.fill`s of 1 GiB: each used to cost one unit of fuel, so all of them fit in 200 units and ran for
;; seconds. Bulk ops pay for the bytes they write: the first fill cannot be paid for with 200 units.
(module
  (memory 16384)
  (func (export "main") (result i32) (local $i i32)
    (loop $l
      (memory.fill (i32.const 0) (local.get $i) (i32.const 0x40000000))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))
    (i32.const 0)))

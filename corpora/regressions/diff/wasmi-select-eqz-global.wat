;; wasmi 2.0.0 returns the wrong operand of an i32 `select` whose condition is `i32.eqz` (or `i32.eq` with a
;; constant 0) when the first operand is a constant and the second comes from `global.get` (or a load): here
;; f(0) must be 2 (condition 1 picks the first operand); capicola returns 2, wasmi 1. Other shapes (two locals,
;; a call's result, i64 or f32 operands, an `i32.lt_s` condition) are right. `capicola diff` skips modules
;; with an `i32.eqz`-fed `select` against wasmi. Found by the wasmi oracle in a wasm-mutate mutant of the spec
;; suite's select.wast (seed 666).
(module
  (global $g (mut i32) (i32.const 1))
  (func (export "f") (param i32) (result i32)
    i32.const 2
    global.get $g
    local.get 0
    i32.eqz
    select))

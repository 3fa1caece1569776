;; Hand-written Wasm: Collatz trajectories in i64 with popcnt, rotl and a br_table over the residue mod 4;
;; tight loops over locals with no memory traffic.
;; bench: kind=integer n=100000 smoke=100
(module
  (func $steps (param $x i64) (result i32)
    (local $count i32)
    (block $done
      (loop $next
        (br_if $done (i64.le_u (local.get $x) (i64.const 1)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (block $odd
          (block $even
            (br_table $even $odd $even $odd (i32.wrap_i64 (i64.and (local.get $x) (i64.const 3)))))
          ;; even
          (local.set $x (i64.shr_u (local.get $x) (i64.const 1)))
          (br $next))
        ;; odd: 3x + 1, then halve at once (it is even)
        (local.set $x (i64.shr_u (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)) (i64.const 1)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (br $next)))
    (local.get $count))

  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $h i64) (local $s i32) (local $best i32)
    (local.set $i (i32.const 1))
    (block $end
      (loop $each
        (br_if $end (i32.gt_u (local.get $i) (local.get $n)))
        (local.set $s (call $steps (i64.extend_i32_u (local.get $i))))
        (if (i32.gt_u (local.get $s) (local.get $best))
          (then (local.set $best (local.get $s))))
        (local.set $h
          (i64.xor
            (i64.rotl (local.get $h) (i64.const 7))
            (i64.add (i64.extend_i32_u (local.get $s)) (i64.popcnt (i64.extend_i32_u (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.xor
      (i32.wrap_i64 (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))
      (i32.shl (local.get $best) (i32.const 20)))))

;; The timeline benchmark's workload: rounds of PRNG-scattered stores, a streaming read-modify-write pass and
;; random loads over a 16 MiB memory, with one host call per round.
;;
;; Layout: byte 16 is written once, first thing, and never again; page 1 is written every round (the round number
;; at 4160 by the guest, the host's total at 4096 by the host); everything from 64 KiB on is the playground that
;; the scatter, the stream and the loads range over.
(module
  (import "env" "tick" (func $tick (param i32 i32) (result i32)))
  (memory (export "memory") 256)
  (func (export "main")
    (param $rounds i32) (param $scatter i32) (param $stream i32) (param $loads i32) (result i32)
    (local $r i32) (local $i i32) (local $x i32) (local $acc i32) (local $a i32) (local $v i32)
    (i32.store8 (i32.const 16) (i32.const 0xa5))
    (local.set $x (i32.const 0x9e3779b9))
    (block $done
      (loop $round
        (br_if $done (i32.ge_u (local.get $r) (local.get $rounds)))
        ;; Scatter: $scatter word stores at xorshift32 addresses.
        (local.set $i (i32.const 0))
        (block $scatter_done
          (loop $scatter_loop
            (br_if $scatter_done (i32.ge_u (local.get $i) (local.get $scatter)))
            (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
            (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
            (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
            (i32.store
              (i32.add (i32.const 0x10000)
                (i32.and (i32.rem_u (local.get $x) (i32.const 0xff0000)) (i32.const -4)))
              (i32.add (local.get $x) (local.get $r)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $scatter_loop)))
        ;; Stream: $stream bytes of read-modify-write, the window moving on by $stream every round.
        (local.set $i (i32.const 0))
        (local.set $a (i32.mul (local.get $r) (local.get $stream)))
        (block $stream_done
          (loop $stream_loop
            (br_if $stream_done (i32.ge_u (local.get $i) (local.get $stream)))
            (local.set $v
              (i32.add (i32.const 0x10000)
                (i32.and (i32.rem_u (i32.add (local.get $a) (local.get $i)) (i32.const 0xff0000))
                  (i32.const -4))))
            (i32.store (local.get $v)
              (i32.add (i32.mul (i32.load (local.get $v)) (i32.const 31)) (local.get $acc)))
            (local.set $acc (i32.xor (local.get $acc) (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $stream_loop)))
        ;; Loads: $loads reads at xorshift32 addresses.
        (local.set $i (i32.const 0))
        (block $loads_done
          (loop $loads_loop
            (br_if $loads_done (i32.ge_u (local.get $i) (local.get $loads)))
            (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
            (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
            (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
            (local.set $acc
              (i32.add (local.get $acc)
                (i32.load
                  (i32.add (i32.const 0x10000)
                    (i32.and (i32.rem_u (local.get $x) (i32.const 0xff0000)) (i32.const -4))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loads_loop)))
        (i32.store8 (i32.const 4160) (local.get $r))
        (local.set $acc (i32.add (local.get $acc) (call $tick (local.get $r) (local.get $acc))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $round)))
    (local.get $acc)))

;; capicola `Store::restore` rejects a store paused in a function that was entered by `return_call` from a
;; callee with another parameter count: the check of the caller's frame takes the parameters of the function
;; now running ($c, two) for those of the function the caller called ($b, none), and finds the callee frame
;; "does not start where its arguments were" (or, with less on the caller's stack, a "stack height
;; underflow"). Straight runs return 21; the snapshot oracle's round trip inside $c fails. Reduced from a
;; wasm-smith case (snapshot oracle, seed 0, case 4718).
(module
  (func $c (param i32 i32) (result i32)
    (local $n i32)
    (local.set $n (i32.const 100))
    (loop $l
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (i32.add (local.get 0) (local.get 1)))
  (func $b (result i32)
    (return_call $c (i32.const 1) (i32.const 2)))
  (func (export "a") (result i32)
    (i32.add (i32.const 5)
      (i32.add (i32.const 6)
        (i32.add (i32.const 7) (call $b))))))

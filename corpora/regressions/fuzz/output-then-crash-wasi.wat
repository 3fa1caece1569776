;; A WASI program that reads its input, writes 4,000 lines to stdout and stderr, then traps: replaying it into a
;; closed pipe or a full device must end cleanly, with the crash reported as far as the streams allow.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "some output of the guest\0a")
  (func (export "_start")
    (local $i i32)
    ;; Read the input: one iovec at 0 for 16 bytes at 128, the count to 8.
    (i32.store (i32.const 0) (i32.const 128))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; Write the line 2,000 times to stdout and to stderr: one iovec at 16 for 25 bytes at 64.
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 25))
    (loop $write
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
      (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $write (i32.lt_u (local.get $i) (i32.const 2000))))
    unreachable))

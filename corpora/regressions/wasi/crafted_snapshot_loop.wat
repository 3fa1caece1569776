;; Write-back regression: a WASI program that loops a while, then returns. Run under `--dir-rw` and paused, its
;; snapshot is edited so that two entry names become `../victim_file.txt` and an absolute directory path;
;; `capicola resume` must not write outside the directory (tests/tests/write_back.rs builds the snapshot).
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    (local.set $i (i32.const 200000))
    (loop $again
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $again (local.get $i)))
    (drop (call $yield))))

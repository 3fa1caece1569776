;; A host function that the embedder calls directly (an import re-exported and invoked), paused while it waits for
;; its results: the call's arguments stay on the value stack, but `Store::restore` wanted the stack empty there and
;; refused the snapshot of a valid store ("inconsistent execution state: bad outermost host call"). Found by the
;; `snapshot_transparency` target.
(module
  (import "env" "f" (func $f (param i32 i64 v128) (result i32)))
  (export "f" (func $f)))

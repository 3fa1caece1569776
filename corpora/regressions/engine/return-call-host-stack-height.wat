;; `return_call` of a host function: once the host answers, the run resumes at the caller's
;; `Return` with the results on the stack, while the translator recorded an empty operand stack
;; there (code after `return_call` is unreachable), so debug builds panic with "stack height
;; disagrees with the translator before op 1 Return" (exec.rs). Found by the smith test, seed 56.
(module
  (import "env" "h" (func $h (result i32 i32)))
  (func (export "f") (result i32 i32)
    return_call $h))

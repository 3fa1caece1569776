;; A WASI program that loops before it ever reads its input: the baseline is never reached, and --max-total-time
;; must still end the command.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $spin (br $spin))))

;; Grows each of eight memories by 2 GiB and returns how many grows failed: the limit used to hold per memory,
;; and the host aborted once it could not allocate. Under the store's total limit each grow past it returns -1.
(module
  (memory 0) (memory 0) (memory 0) (memory 0) (memory 0) (memory 0) (memory 0) (memory 0)
  (func (export "main") (result i32)
    (i32.add
      (i32.add
        (i32.add (i32.eq (memory.grow 0 (i32.const 32768)) (i32.const -1))
                 (i32.eq (memory.grow 1 (i32.const 32768)) (i32.const -1)))
        (i32.add (i32.eq (memory.grow 2 (i32.const 32768)) (i32.const -1))
                 (i32.eq (memory.grow 3 (i32.const 32768)) (i32.const -1))))
      (i32.add
        (i32.add (i32.eq (memory.grow 4 (i32.const 32768)) (i32.const -1))
                 (i32.eq (memory.grow 5 (i32.const 32768)) (i32.const -1)))
        (i32.add (i32.eq (memory.grow 6 (i32.const 32768)) (i32.const -1))
                 (i32.eq (memory.grow 7 (i32.const 32768)) (i32.const -1)))))))

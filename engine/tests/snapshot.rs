//! Snapshots taken at every instruction boundary restore into fresh stores that finish exactly like the uninterrupted run.

#![allow(clippy::unwrap_used)]

use capicola_engine::{DecodeLimits, Engine, Linker, Module, Outcome, Snapshot, Store, Val};

const PROGRAM: &str = r#"
(module
  (memory (export "mem") 1)
  (global $g (export "g") (mut i64) (i64.const 7))
  (table 4 funcref)
  (elem (i32.const 0) $sq $fib)
  (type $t (func (param i32) (result i32)))
  (func $sq (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func $fib (type $t)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (param $n i32) (result i32 i64 v128)
    (local $i i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store (i32.mul (local.get $i) (i32.const 4))
          (call_indirect (type $t) (local.get $i) (i32.and (local.get $i) (i32.const 1))))
        (local.set $acc (i32.add (local.get $acc) (i32.load (i32.mul (local.get $i) (i32.const 4)))))
        (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get $acc))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc) (global.get $g) (v128.load (i32.const 0))))
"#;

fn setup(engine: &Engine) -> (Module, Store, capicola_engine::Func) {
    let module = Module::new(engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(engine);
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    let Some(capicola_engine::Extern::Func(run)) = store.instance_export(instance, "run") else {
        panic!("no export")
    };
    (module, store, run)
}

fn finish(store: &mut Store) -> Vec<Val> {
    match store.run(u64::MAX) {
        Outcome::Finished(v) => v,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[test]
fn every_boundary_round_trips_through_bytes() {
    let engine = Engine::default();
    let (module, mut straight, run) = setup(&engine);
    straight.invoke(run, &[Val::I32(12)]).unwrap();
    let expected = finish(&mut straight);
    let expected_mem = straight.capture();

    let (_, mut stepped, _) = setup(&engine);
    stepped.invoke(run, &[Val::I32(12)]).unwrap();
    let mut pauses = 0;
    let result = loop {
        match stepped.run(1) {
            Outcome::OutOfFuel => {
                pauses += 1;
                let bytes = stepped.capture().to_bytes().unwrap();
                let snap = Snapshot::from_bytes(&bytes, &DecodeLimits::default()).unwrap();
                let fresh = Store::restore(&engine, &snap, std::slice::from_ref(&module)).unwrap();
                if pauses % 97 == 0 {
                    // A restored store also finishes on its own with the same results.
                    assert_eq!(
                        finish(&mut fresh.clone()),
                        expected,
                        "diverged after pause {pauses}"
                    );
                }
                stepped = fresh;
            }
            Outcome::Finished(v) => break v,
            other => panic!("unexpected outcome {other:?}"),
        }
    };
    assert!(pauses > 1000, "only {pauses} pauses");
    assert_eq!(result, expected);
    // Memories, globals and tables end up identical too.
    let end = Snapshot::from_bytes(
        &stepped.capture().to_bytes().unwrap(),
        &DecodeLimits::default(),
    )
    .unwrap();
    assert_eq!(end, expected_mem);
}

#[test]
fn restoring_against_another_module_is_an_error() {
    let engine = Engine::default();
    let (_, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(3)]).unwrap();
    assert_eq!(store.run(10), Outcome::OutOfFuel);
    let snap = store.capture();
    let other = Module::new(&engine, &wat::parse_str("(module)").unwrap()).unwrap();
    let err = Store::restore(&engine, &snap, &[other]).unwrap_err();
    assert!(err.to_string().contains("needs module"), "{err}");
}

#[test]
fn hostile_bytes_give_errors_not_panics() {
    let engine = Engine::default();
    let (module, mut store, run) = setup(&engine);
    store.invoke(run, &[Val::I32(5)]).unwrap();
    assert_eq!(store.run(100), Outcome::OutOfFuel);
    let bytes = store.capture().to_bytes().unwrap();
    let limits = DecodeLimits::default();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut rejected = 0;
    for len in 0..bytes.len() {
        assert!(
            Snapshot::from_bytes(&bytes[..len], &limits).is_err(),
            "truncation at {len} accepted"
        );
        rejected += 1;
    }
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            b[i] ^= 1 << (next() % 8);
        }
        // Either decoding or restoring must refuse a corrupted snapshot, or it restores into a store that runs.
        if let Ok(snap) = Snapshot::from_bytes(&b, &limits) {
            if let Ok(mut s) = Store::restore(&engine, &snap, std::slice::from_ref(&module)) {
                let _ = s.run(100_000);
            }
        } else {
            rejected += 1;
        }
    }
    assert!(rejected > bytes.len());
}

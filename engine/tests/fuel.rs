//! Fuel is exact: whatever budgets a run is cut into, every pause lands on the op a one-op-at-a-time run reaches
//! after the same number of instructions, in the same state, and the run ends the same way having consumed the
//! same fuel. The interpreter charges fuel per region of straight-line code, so this checks its bookkeeping at
//! every kind of region exit: branches taken and not, br_table, calls and returns, indirect and tail calls, host
//! calls, traps, and bulk memory and table ops, which pay for the bytes they write and pause before they start
//! when the budget cannot pay for all of them.

#![allow(clippy::unwrap_used)]

use capicola_engine::{
    Config, Engine, Extern, Func, FuncType, Linker, Memory, Module, Outcome, Store, Val, ValType,
};

const PROGRAM: &str = r#"
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (memory $grown 0)
  (table 3 funcref)
  (table $bulk 100 funcref)
  (data $bytes "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
  (elem $funcs func $double $triple $fib $double $triple $fib $double $triple)
  (elem (i32.const 0) $double $triple $fib)
  (type $unary (func (param i32) (result i32)))
  (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $count_down (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 7))
      (else (return_call $count_down (i32.sub (local.get $n) (i32.const 1))))))
  ;; Counted loops in the shapes the translator fuses into add-and-jump and local-test-and-jump ops.
  (func $loops (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32) (local $flag i32)
    (loop $a
      (local.set $s (i32.add (local.get $s) (local.get $i)))
      (br_if $a (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (loop $b
      (local.set $s (i32.xor (local.get $s) (local.get $j)))
      (br_if $b (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 9))))
    (local.set $flag (i32.and (local.get $s) (i32.const 1)))
    (block $out
      (br_if $out (local.get $flag))
      (local.set $s (i32.add (local.get $s) (i32.const 3))))
    (block $out2
      (br_if $out2 (i32.eqz (local.get $flag)))
      (local.set $s (i32.sub (local.get $s) (i32.const 5))))
    (local.get $s))
  (func (export "main") (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (block $c (block $b (block $a
        (br_table $a $b $c (i32.rem_u (local.get $i) (i32.const 4))))
        (local.set $acc (i32.add (local.get $acc) (call $fib (i32.const 6))))
        (br $c))
        (local.set $acc (i32.xor (local.get $acc)
          (call_indirect (type $unary) (i32.and (local.get $i) (i32.const 7)) (i32.rem_u (local.get $i) (i32.const 3))))))
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $acc))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 15)))
        (then (local.set $acc (i32.add (local.get $acc) (call $host (local.get $i))))))
      (local.set $acc (i32.add (local.get $acc) (call $count_down (i32.const 5))))
      (local.set $acc (i32.add (local.get $acc) (call $loops (i32.add (local.get $i) (i32.const 1)))))
      ;; Bulk ops of every kind, writing a number of bytes or elements that grows with the iteration.
      (memory.fill (i32.const 256) (local.get $i) (i32.mul (local.get $i) (i32.const 7)))
      (memory.copy (i32.const 1024) (i32.const 0) (i32.mul (local.get $i) (i32.const 11)))
      (memory.init $bytes (i32.const 2048) (i32.const 0) (i32.and (local.get $i) (i32.const 63)))
      (local.set $acc (i32.add (local.get $acc)
        (memory.grow $grown (i32.and (local.get $i) (i32.const 1)))))
      (table.fill $bulk (i32.const 0) (ref.null func) (local.get $i))
      (table.copy $bulk 0 (i32.const 0) (i32.const 0) (i32.const 3))
      (table.init $bulk $funcs (i32.const 10) (i32.const 0) (i32.and (local.get $i) (i32.const 7)))
      (local.set $acc (i32.add (local.get $acc)
        (table.grow $bulk (ref.null func) (i32.mul (local.get $i) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
    ;; Out of bounds: the run ends in a trap in the middle of a region.
    (i32.load (i32.add (i32.const 0x10000) (local.get $acc)))))
"#;

fn start(config: Config) -> (Store, Memory) {
    let engine = Engine::new(config);
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let host = store.new_host_func(FuncType::new([ValType::I32], [ValType::I32]), 1);
    let mut linker = Linker::new();
    linker.define("env", "host", Extern::Func(host));
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("no memory")
    };
    let Some(Extern::Func(main)) = store.instance_export(inst, "main") else {
        panic!("no main")
    };
    let main: Func = main;
    store.invoke(main, &[]).unwrap();
    (store, memory)
}

/// Everything observable about a paused store.
fn digest(store: &Store, memory: Memory) -> String {
    let data = store.memory_data(memory);
    let sum = data.iter().enumerate().fold(0u64, |h, (i, &b)| {
        h.wrapping_mul(31).wrapping_add(u64::from(b) ^ i as u64)
    });
    format!("{:?} {sum:x}", store.frames())
}

/// How a run ended, and the state at each pause (indexed by the fuel consumed there).
struct Run {
    end: String,
    consumed: u64,
    pauses: Vec<(u64, String)>,
}

/// Runs to the end in budgets of `budget` ops, answering host calls with their argument plus one.
fn run(config: Config, budget: u64) -> Run {
    let (mut store, memory) = start(config);
    let mut pauses = Vec::new();
    loop {
        let before = store.fuel_consumed();
        match store.run(budget) {
            Outcome::OutOfFuel => {
                assert_eq!(
                    store.fuel_consumed() - before,
                    budget,
                    "a pause for lack of fuel spent all of it"
                );
                pauses.push((store.fuel_consumed(), digest(&store, memory)));
            }
            Outcome::HostCall(call) => {
                assert!(store.fuel_consumed() - before <= budget);
                let Val::I32(x) = call.args[0] else {
                    panic!("host call with {:?}", call.args)
                };
                store.host_return(&[Val::I32(x + 1)]).unwrap();
            }
            Outcome::Trapped(trap) => {
                return Run {
                    end: format!("{trap:?}"),
                    consumed: store.fuel_consumed(),
                    pauses,
                };
            }
            other => panic!("main ended with {other:?}"),
        }
    }
}

fn check(config: &Config) {
    let single = run(config.clone(), 1);
    assert!(single.end.contains("MemoryOutOfBounds"), "{}", single.end);
    assert!(
        single.consumed > 3_000,
        "the program ran {} ops",
        single.consumed
    );
    let at: std::collections::HashMap<u64, &String> =
        single.pauses.iter().map(|(pos, d)| (*pos, d)).collect();
    for budget in [2, 3, 5, 7, 13, 64, 1000, 4099, u64::MAX] {
        let chunked = run(config.clone(), budget);
        assert_eq!(chunked.end, single.end, "budget {budget}");
        assert_eq!(chunked.consumed, single.consumed, "budget {budget}");
        for (pos, state) in &chunked.pauses {
            assert_eq!(
                Some(&state),
                at.get(pos),
                "budget {budget}: the pause after {pos} ops differs from single-stepping"
            );
        }
    }
}

#[test]
fn every_budget_pauses_where_single_steps_do() {
    check(&Config::default());
}

#[test]
fn every_budget_pauses_where_single_steps_do_with_hooks() {
    check(&Config {
        coverage: true,
        cmplog: true,
        track_dirty_pages: true,
        ..Config::default()
    });
}

/// `fills` `memory.fill`s of `bytes` bytes each over a memory of `pages` pages, then 7.
fn fills(pages: u32, fills: u32, bytes: u32) -> (Store, Memory) {
    let engine = Engine::default();
    let wat = format!(
        r#"(module
          (memory (export "memory") {pages})
          (func (export "main") (result i32) (local $i i32)
            (loop $l
              (memory.fill (i32.const 0) (i32.add (local.get $i) (i32.const 1)) (i32.const {bytes}))
              (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const {fills}))))
            (i32.const 7)))"#
    );
    let module = Module::new(&engine, &wat::parse_str(wat).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let inst = store.instantiate(&module, &[]).unwrap();
    let Some(Extern::Memory(memory)) = store.instance_export(inst, "memory") else {
        panic!("no memory")
    };
    let Some(Extern::Func(main)) = store.instance_export(inst, "main") else {
        panic!("no main")
    };
    store.invoke(main, &[]).unwrap();
    (store, memory)
}

#[test]
fn bulk_ops_pay_for_the_bytes_they_write() {
    // 20 fills of 1 GiB: the first cannot be paid for with 200 units, and pauses before it writes a byte.
    let (mut store, memory) = fills(16384, 20, 1 << 30);
    assert!(matches!(store.run(200), Outcome::OutOfFuel));
    assert_eq!(store.fuel_consumed(), 200);
    let paused = store.position().expect("the call is paused");
    assert_eq!(store.memory_data(memory)[0], 0, "the fill did not begin");
    // More budgets that cannot pay for all of it go towards it, and the run stays before it.
    assert!(matches!(store.run(200), Outcome::OutOfFuel));
    assert_eq!(store.fuel_consumed(), 400);
    assert_eq!(store.position(), Some(paused));
    assert_eq!(store.memory_data(memory)[0], 0, "the fill did not begin");

    // A fill of n bytes costs 1 + ceil(n / BULK_FUEL_UNIT) units on top of the loop's own ops.
    let cost = |bytes: u32| {
        let (mut store, _) = fills(1, 3, bytes);
        assert_eq!(store.run(u64::MAX), Outcome::Finished(vec![Val::I32(7)]));
        store.fuel_consumed()
    };
    let unit = capicola_engine::BULK_FUEL_UNIT;
    assert_eq!(cost(0) + 3 * 1000_u64.div_ceil(unit), cost(1000));
}

#[test]
fn a_bulk_op_paused_for_fuel_runs_whole_after_resuming_and_through_a_snapshot() {
    let straight = {
        let (mut store, memory) = fills(1, 3, 4096);
        assert_eq!(store.run(u64::MAX), Outcome::Finished(vec![Val::I32(7)]));
        (store.fuel_consumed(), store.memory_data(memory).to_vec())
    };
    // Small budgets: every fill (65 units and its own) is paid for over several pauses, none of which writes.
    for budget in [1, 7, 30, 64, 65, 66] {
        let (mut store, memory) = fills(1, 3, 4096);
        let engine = store.engine().clone();
        let module = store.modules().remove(0);
        let mut pauses = 0;
        loop {
            match store.run(budget) {
                Outcome::OutOfFuel => {
                    pauses += 1;
                    let filled = store.memory_data(memory)[..4096].to_vec();
                    assert!(
                        filled.iter().all(|&b| b == filled[0]),
                        "budget {budget}: a fill was cut"
                    );
                    // Every third pause goes through bytes into a fresh store.
                    if pauses % 3 == 0 {
                        let bytes = store.capture().to_bytes().unwrap();
                        let snap = capicola_engine::Snapshot::from_bytes(
                            &bytes,
                            &capicola_engine::DecodeLimits::default(),
                        )
                        .unwrap();
                        store =
                            Store::restore(&engine, &snap, std::slice::from_ref(&module)).unwrap();
                    }
                }
                Outcome::Finished(v) => {
                    assert_eq!(v, vec![Val::I32(7)]);
                    break;
                }
                other => panic!("budget {budget}: {other:?}"),
            }
        }
        assert_eq!(
            (store.fuel_consumed(), store.memory_data(memory).to_vec()),
            straight,
            "budget {budget}"
        );
    }
}

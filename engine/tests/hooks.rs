//! Instrumentation chosen at translation time: exact edge coverage and comparison logging.

#![allow(clippy::unwrap_used)]

use capicola_engine::{
    CmpValues, Config, Engine, Extern, Func, HostAnswer, Linker, Module, Store, Val,
};

const PROGRAM: &str = r#"
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "MAGIC")
  (func $memcmp (export "memcmp") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "check") (param $x i32) (result i32)
    (if (result i32) (i32.eq (local.get $x) (i32.const 0x1337))
      (then (i32.const 1))
      (else (i32.const 0))))
  (func (export "switch") (param $x i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get $x)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func (export "cmp_mem") (result i32)
    (call $memcmp (i32.const 64) (i32.const 128) (i32.const 5))))
"#;

fn setup(config: Config) -> (Module, Store, capicola_engine::Instance) {
    let engine = Engine::new(config);
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    (module, store, inst)
}

fn func(store: &Store, inst: capicola_engine::Instance, name: &str) -> Func {
    match store.instance_export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{other:?}"),
    }
}

fn call(store: &mut Store, f: Func, args: &[Val]) -> Vec<Val> {
    store
        .call(f, args, &mut |_, _| HostAnswer::Return(vec![]))
        .unwrap()
        .unwrap()
}

fn covered(store: &Store) -> Vec<usize> {
    store
        .coverage()
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn every_branch_direction_and_table_entry_is_its_own_edge() {
    let (module, mut store, inst) = setup(Config {
        coverage: true,
        ..Config::default()
    });
    assert!(module.num_edges() > 0);
    assert_eq!(store.coverage().len(), module.num_edges() as usize);
    let check = func(&store, inst, "check");
    call(&mut store, check, &[Val::I32(1)]);
    let not_taken = covered(&store);
    store.coverage_mut().fill(0);
    call(&mut store, check, &[Val::I32(0x1337)]);
    let taken = covered(&store);
    assert_ne!(not_taken, taken, "the two sides of the if share an edge");
    // Both runs count the function entry; each has one edge of its own.
    assert_eq!(not_taken.len(), taken.len());

    let switch = func(&store, inst, "switch");
    let mut seen = Vec::new();
    for x in 0..4 {
        store.coverage_mut().fill(0);
        let r = call(&mut store, switch, &[Val::I32(x)]);
        assert_eq!(r, vec![Val::I32([10, 20, 30, 30][x as usize])]);
        seen.push(covered(&store));
    }
    assert_ne!(seen[0], seen[1]);
    assert_ne!(seen[1], seen[2]);
    // 3 and above take the default entry.
    assert_eq!(seen[2], seen[3]);
}

#[test]
fn hit_counts_accumulate() {
    let (_, mut store, inst) = setup(Config {
        coverage: true,
        ..Config::default()
    });
    let check = func(&store, inst, "check");
    for _ in 0..3 {
        call(&mut store, check, &[Val::I32(5)]);
    }
    assert!(store.coverage().contains(&3));
}

#[test]
fn comparison_operands_are_logged() {
    let (_, mut store, inst) = setup(Config {
        cmplog: true,
        ..Config::default()
    });
    let check = func(&store, inst, "check");
    call(&mut store, check, &[Val::I32(42)]);
    assert!(
        store.cmp_log().contains(&CmpValues::W32(42, 0x1337)),
        "{:?}",
        store.cmp_log()
    );
    store.clear_cmp_log();
    let cmp_mem = func(&store, inst, "cmp_mem");
    call(&mut store, cmp_mem, &[]);
    assert!(
        store
            .cmp_log()
            .contains(&CmpValues::Bytes(b"MAGIC".to_vec(), vec![0; 5])),
        "{:?}",
        store.cmp_log()
    );
}

#[test]
fn without_hooks_nothing_is_recorded() {
    let (module, mut store, inst) = setup(Config::default());
    assert_eq!(module.num_edges(), 0);
    let check = func(&store, inst, "check");
    call(&mut store, check, &[Val::I32(42)]);
    assert!(store.coverage().is_empty());
    assert!(store.cmp_log().is_empty());
}

//! The sanitizer on hand-written modules: a bump allocator named `malloc`/`free` and an LLVM-style shadow stack,
//! each planted bug reported with its kind, access and block, correct programs left alone, and the shadow
//! rewound by `reset_to` and carried by snapshots byte for byte.

#![allow(clippy::unwrap_used)]

use capicola_engine::sanitizer::{SanitizerReport, Violation};
use capicola_engine::{
    Config, Engine, Extern, Func, HostAnswer, Instance, Module, Store, TrapKind, Val,
};

/// A bump allocator (`free` does nothing) and functions that misuse it; `$__stack_pointer` is named like LLVM's.
const PROGRAM: &str = r#"
(module
  (memory (export "memory") 2)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 70000))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    ;; 16-byte aligned blocks, one after the other.
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 15)) (i32.const -16)))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  (func $free (export "free") (param i32))
  (func $realloc (export "realloc") (param $p i32) (param $n i32) (result i32)
    (local $q i32)
    (local.set $q (call $malloc (local.get $n)))
    (memory.copy (local.get $q) (local.get $p) (local.get $n))
    (local.get $q))
  (func (export "overflow_write") (param $n i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 16)))
    (i32.store8 (i32.add (local.get $p) (local.get $n)) (i32.const 1)))
  (func (export "underflow_read") (result i32)
    (i32.load (i32.sub (call $malloc (i32.const 16)) (i32.const 4))))
  (func (export "use_after_free") (result i32)
    (local $p i32)
    (local.set $p (call $malloc (i32.const 32)))
    (call $free (local.get $p))
    (i32.load (local.get $p)))
  (func (export "double_free")
    (local $p i32)
    (local.set $p (call $malloc (i32.const 8)))
    (call $free (local.get $p))
    (call $free (local.get $p)))
  (func (export "invalid_free")
    (call $free (i32.add (call $malloc (i32.const 64)) (i32.const 8))))
  (func (export "fill_overflow")
    (memory.fill (call $malloc (i32.const 20)) (i32.const 7) (i32.const 21)))
  (func (export "correct") (result i32)
    (local $p i32) (local $q i32)
    (local.set $p (call $malloc (i32.const 10)))
    (i32.store8 (i32.add (local.get $p) (i32.const 9)) (i32.const 42))
    (memory.fill (local.get $p) (i32.const 1) (i32.const 9))
    (local.set $q (call $realloc (local.get $p) (i32.const 100)))
    (i32.store8 (i32.add (local.get $q) (i32.const 99)) (i32.const 5))
    ;; realloc kept the first bytes.
    (i32.ne (i32.load8_u (i32.add (local.get $q) (i32.const 9))) (i32.const 42))
    (call $free (local.get $q))
    (call $free (i32.const 0)))
  (func $callee (param $n i32)
    (local $fp i32)
    ;; A 16-byte frame; writes `n` bytes from its base upwards.
    (local.set $fp (i32.sub (global.get $__stack_pointer) (i32.const 16)))
    (global.set $__stack_pointer (local.get $fp))
    (memory.fill (local.get $fp) (i32.const 9) (local.get $n))
    (global.set $__stack_pointer (i32.add (local.get $fp) (i32.const 16))))
  (func (export "stack") (param $n i32)
    (local $fp i32)
    (local.set $fp (i32.sub (global.get $__stack_pointer) (i32.const 32)))
    (global.set $__stack_pointer (local.get $fp))
    (call $callee (local.get $n))
    (global.set $__stack_pointer (i32.add (local.get $fp) (i32.const 32))))
)
"#;

fn setup(sanitize: bool) -> (Store, Instance) {
    let engine = Engine::new(Config {
        sanitize,
        track_dirty_pages: true,
        ..Config::default()
    });
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let inst = store.instantiate(&module, &[]).unwrap();
    (store, inst)
}

fn export(store: &Store, inst: Instance, name: &str) -> Func {
    match store.instance_export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{name}: {other:?}"),
    }
}

fn run(store: &mut Store, inst: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>, TrapKind> {
    let f = export(store, inst, name);
    store
        .call(f, args, &mut |_, _| HostAnswer::Return(vec![]))
        .unwrap()
        .map_err(|t| t.kind)
}

fn report(store: &mut Store, inst: Instance, name: &str, args: &[Val]) -> SanitizerReport {
    match run(store, inst, name, args) {
        Err(TrapKind::Sanitizer(report)) => *report,
        other => panic!("{name}: expected a sanitizer report, got {other:?}"),
    }
}

#[test]
fn recognizes_the_allocator_and_stack_pointer() {
    let (store, inst) = setup(true);
    let found = store.instance_module(inst).sanitized().clone();
    assert!(found.allocator_recognized(), "{found:?}");
    assert_eq!(found.stack_pointer, Some(0));
    assert!(store.sanitizer_active());
}

#[test]
fn heap_overflow_write_is_reported_with_its_block() {
    let (mut store, inst) = setup(true);
    // The last byte of the block is fine.
    run(&mut store, inst, "overflow_write", &[Val::I32(15)]).unwrap();
    let r = report(&mut store, inst, "overflow_write", &[Val::I32(16)]);
    assert_eq!(r.violation, Violation::HeapBufferOverflow);
    let access = r.access.unwrap();
    assert!(access.write);
    assert_eq!(access.size, 1);
    let block = r.block.unwrap();
    assert_eq!(block.size, 16);
    assert_eq!(access.addr, block.start + 16);
    assert!(
        block
            .describe(access.addr)
            .starts_with("0 bytes after 16-byte region")
    );
    assert!(!block.allocated.is_empty());
    assert!(block.freed.is_none());
}

#[test]
fn heap_underflow_read_is_reported() {
    let (mut store, inst) = setup(true);
    let r = report(&mut store, inst, "underflow_read", &[]);
    assert_eq!(r.violation, Violation::HeapBufferOverflow);
    let access = r.access.unwrap();
    assert!(!access.write);
    assert_eq!(access.size, 4);
    let block = r.block.unwrap();
    assert!(
        block
            .describe(access.addr)
            .starts_with("4 bytes before 16-byte region")
    );
}

#[test]
fn use_after_free_names_the_free() {
    let (mut store, inst) = setup(true);
    let r = report(&mut store, inst, "use_after_free", &[]);
    assert_eq!(r.violation, Violation::UseAfterFree);
    let block = r.block.unwrap();
    assert_eq!(block.size, 32);
    assert!(!block.freed.unwrap().is_empty());
}

#[test]
fn double_and_invalid_frees_are_reported() {
    let (mut store, inst) = setup(true);
    let r = report(&mut store, inst, "double_free", &[]);
    assert_eq!(r.violation, Violation::DoubleFree);
    assert!(r.block.unwrap().freed.is_some());
    let r = report(&mut store, inst, "invalid_free", &[]);
    assert_eq!(r.violation, Violation::InvalidFree);
    assert_eq!(r.block.unwrap().size, 64);
}

#[test]
fn bulk_ops_are_checked() {
    let (mut store, inst) = setup(true);
    let r = report(&mut store, inst, "fill_overflow", &[]);
    assert_eq!(r.violation, Violation::HeapBufferOverflow);
    assert_eq!(r.access.unwrap().size, 21);
}

#[test]
fn correct_programs_run_as_without_the_sanitizer() {
    for sanitize in [false, true] {
        let (mut store, inst) = setup(sanitize);
        for _ in 0..3 {
            assert_eq!(run(&mut store, inst, "correct", &[]), Ok(vec![Val::I32(0)]));
        }
    }
    // Without the sanitizer the planted bugs go unseen: it is the sanitizer that finds them.
    let (mut store, inst) = setup(false);
    for name in ["use_after_free", "underflow_read"] {
        assert!(run(&mut store, inst, name, &[]).is_ok(), "{name}");
    }
    run(&mut store, inst, "double_free", &[]).unwrap();
    run(&mut store, inst, "overflow_write", &[Val::I32(16)]).unwrap();
}

#[test]
fn stack_overflow_past_a_callee_frame_is_reported() {
    let (mut store, inst) = setup(true);
    run(&mut store, inst, "stack", &[Val::I32(16)]).unwrap();
    let r = report(&mut store, inst, "stack", &[Val::I32(17)]);
    assert_eq!(r.violation, Violation::StackBufferOverflow);
    assert!(r.access.unwrap().write);
}

#[test]
fn reset_restores_the_shadow_byte_for_byte() {
    let (mut store, inst) = setup(true);
    run(&mut store, inst, "correct", &[]).unwrap();
    let baseline = store.baseline();
    let before = baseline.sanitizer_shadow().unwrap().to_vec();
    for _ in 0..2 {
        run(&mut store, inst, "correct", &[]).unwrap();
        run(&mut store, inst, "stack", &[Val::I32(8)]).unwrap();
        let _ = run(&mut store, inst, "use_after_free", &[]);
        assert_ne!(store.sanitizer_shadow().unwrap(), &before[..]);
        store.reset_to(&baseline).unwrap();
        assert_eq!(store.sanitizer_shadow().unwrap(), &before[..]);
        assert!(store.sanitizer_leaks(&baseline).is_empty());
    }
    // A block allocated after the baseline and not freed is a leak.
    run(&mut store, inst, "overflow_write", &[Val::I32(0)]).unwrap();
    let leaks = store.sanitizer_leaks(&baseline);
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].size, 16);
}

#[test]
fn snapshots_carry_the_shadow_and_blocks() {
    let (mut store, inst) = setup(true);
    run(&mut store, inst, "correct", &[]).unwrap();
    let bytes = store.capture().to_bytes().unwrap();
    let snap = capicola_engine::Snapshot::from_bytes(&bytes, &Default::default()).unwrap();
    let module = store.instance_module(inst).clone();
    let mut restored =
        Store::restore(store.engine(), &snap, std::slice::from_ref(&module)).unwrap();
    assert_eq!(restored.sanitizer_shadow(), store.sanitizer_shadow());
    // The restored store still knows the blocks freed before: a double free of them is reported.
    let r = report(&mut restored, inst, "double_free", &[]);
    assert_eq!(r.violation, Violation::DoubleFree);
    // And a snapshot of a sanitized store does not restore into an engine without the sanitizer.
    let plain = Engine::new(Config::default());
    let plain_module = Module::new(&plain, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    assert!(Store::restore(&plain, &snap, &[plain_module]).is_err());
}

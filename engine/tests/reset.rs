//! Resetting a store to its baseline copies back only dirty pages, yet leaves it byte-for-byte equal to the baseline.

#![allow(clippy::unwrap_used)]

use capicola_engine::{Config, Engine, Extern, Func, HostAnswer, Linker, Module, Store, Val};

const PROGRAM: &str = r#"
(module
  (memory (export "mem") 2 64)
  (global $g (export "g") (mut i32) (i32.const 1))
  (table $t (export "t") 8 funcref)
  (func $f)
  (elem declare func $f)
  (data (i32.const 100) "baseline data")
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "set_global") (param i32) (global.set $g (local.get 0)))
  (func (export "set_table") (param i32) (table.set $t (local.get 0) (ref.func $f)))
)
"#;

fn export(store: &Store, inst: capicola_engine::Instance, name: &str) -> Func {
    match store.instance_export(inst, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("{name}: {other:?}"),
    }
}

fn call(store: &mut Store, f: Func, args: &[Val]) {
    store
        .call(f, args, &mut |_, _| HostAnswer::Return(vec![]))
        .unwrap()
        .unwrap();
}

#[test]
fn reset_equals_baseline_for_random_writes() {
    let engine = Engine::new(Config {
        track_dirty_pages: true,
        ..Config::default()
    });
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    let names = [
        "store8",
        "store64",
        "fill",
        "grow",
        "set_global",
        "set_table",
    ];
    let funcs: Vec<Func> = names.iter().map(|n| export(&store, inst, n)).collect();
    let baseline = store.baseline();
    let expected = baseline.capture();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..300 {
        let writes = 1 + next() % 40;
        for _ in 0..writes {
            let size = store
                .memory_data(match store.instance_export(inst, "mem") {
                    Some(Extern::Memory(m)) => m,
                    _ => unreachable!(),
                })
                .len() as u64;
            let addr = (next() % (size - 8)) as i32;
            match next() % 6 {
                0 => call(
                    &mut store,
                    funcs[0],
                    &[Val::I32(addr), Val::I32(next() as i32)],
                ),
                1 => call(
                    &mut store,
                    funcs[1],
                    &[Val::I32(addr), Val::I64(next() as i64)],
                ),
                2 => {
                    let len = (next() % 9000).min(size - addr as u64) as i32;
                    call(
                        &mut store,
                        funcs[2],
                        &[Val::I32(addr), Val::I32(next() as i32), Val::I32(len)],
                    )
                }
                3 => {
                    let r = store.call(funcs[3], &[Val::I32((next() % 3) as i32)], &mut |_, _| {
                        HostAnswer::Return(vec![])
                    });
                    r.unwrap().unwrap();
                }
                4 => call(&mut store, funcs[4], &[Val::I32(next() as i32)]),
                _ => call(&mut store, funcs[5], &[Val::I32((next() % 8) as i32)]),
            }
        }
        assert!(store.dirty_pages() > 0 || writes > 0);
        store.reset_to(&baseline).unwrap();
        assert_eq!(store.dirty_pages(), 0);
        assert_eq!(
            store.capture(),
            expected,
            "round {round} differs after reset"
        );
    }
}

#[test]
fn reset_needs_tracking() {
    let engine = Engine::default();
    let module = Module::new(&engine, &wat::parse_str(PROGRAM).unwrap()).unwrap();
    let mut store = Store::new(&engine);
    Linker::new().instantiate(&mut store, &module).unwrap();
    let baseline = store.baseline();
    assert!(store.reset_to(&baseline).is_err());
}

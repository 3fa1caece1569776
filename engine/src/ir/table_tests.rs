//! Checks that every op of `for_each_op!` has all its pieces, and that they agree with each other: name, Wasm
//! text, memory accesses, flow and branch target; and that the Wasm text of every op the translator makes from
//! Wasm operators alone (simple and fused ops) translates back to that op.

use super::{Addr, Flow, Len, Op};
use crate::engine::Features;
use crate::{Config, Engine, Module};

/// Ops that stand for no Wasm instruction: instrumentation and the sanitizer's steps.
const NO_WAT: &[&str] = &[
    "Cov",
    "CmpLog",
    "CmpLogL",
    "CmpLogC",
    "CmpLogLL",
    "CmpLogLC",
    "CmpLogCall",
    "Break",
    "SanEnter",
    "SanSize",
    "SanAllocated",
    "SanRelease",
    "SanExit",
    "SanUsableSize",
];

#[test]
fn every_op_has_a_name_and_wasm_text() {
    let samples = Op::samples();
    let mut names: Vec<&str> = samples.iter().map(Op::name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        samples.len(),
        "one sample per variant, named apart"
    );
    for op in &samples {
        assert!(format!("{op:?}").starts_with(op.name()), "{op:?}");
        let wat = op.wat();
        assert_eq!(
            wat.is_empty(),
            NO_WAT.contains(&op.name()),
            "{op:?}: Wasm text {wat:?}"
        );
        if op.group() != "special" {
            // A generated op stands for its family's Wasm operator.
            let family = super::text::mnemonic(op.family());
            assert!(
                wat.split("; ")
                    .any(|i| i.split_whitespace().next() == Some(family.as_str())),
                "{op:?}: {wat:?} lacks {family}"
            );
        }
    }
}

#[test]
fn memory_accesses_agree_with_the_wasm_text() {
    for op in Op::samples() {
        let wat = op.wat();
        let accesses: Vec<_> = op.memory_accesses().into_iter().flatten().collect();
        let instrs: Vec<&str> = wat
            .split("; ")
            .filter_map(|i| i.split_whitespace().next())
            .collect();
        let loads = instrs.iter().filter(|i| i.contains(".load")).count();
        let stores = instrs.iter().filter(|i| i.contains(".store")).count();
        let bulk = instrs
            .iter()
            .filter(|i| matches!(**i, "memory.fill" | "memory.copy" | "memory.init"))
            .count();
        let reads = accesses.iter().filter(|a| !a.write).count();
        let writes = accesses.iter().filter(|a| a.write).count();
        match op.group() {
            "load" | "load_lane" => assert_eq!((reads, writes, loads), (1, 0, 1), "{op:?}"),
            "store" | "store_lane" => assert_eq!((reads, writes, stores), (0, 1, 1), "{op:?}"),
            _ if bulk > 0 => assert!(writes == 1 && reads <= 1, "{op:?}"),
            _ => assert_eq!((reads, writes), (loads, stores), "{op:?}: {wat}"),
        }
        for a in &accesses {
            if let Len::Bytes(n) = a.len {
                assert!([1, 2, 4, 8, 16].contains(&n), "{op:?}");
                // The width the Wasm text names: `load8`, `store16`... or the value type's.
                let instr = instrs
                    .iter()
                    .find(|i| i.contains(".load") || i.contains(".store"));
                let instr = instr.expect("a sized access has a load or store");
                let (ty, name) = instr.split_once('.').expect("a dot");
                let width = match name.trim_start_matches("load").trim_start_matches("store") {
                    w if w.starts_with("8x8") || w.starts_with("16x4") || w.starts_with("32x2") => {
                        8
                    }
                    w if w.starts_with('8') => 1,
                    w if w.starts_with("16") => 2,
                    w if w.starts_with("32") => 4,
                    w if w.starts_with("64") => 8,
                    _ => match ty {
                        "i32" | "f32" => 4,
                        "i64" | "f64" => 8,
                        _ => 16,
                    },
                };
                assert_eq!(n, width, "{op:?}: {wat}");
            }
            // A register form addresses memory 0; the sample of a stack form names memory 1.
            let register = !matches!(a.addr, Addr::Stack { .. });
            assert!(!register || a.mem == 0, "{op:?}");
        }
    }
}

#[test]
fn flow_and_targets_agree() {
    for op in Op::samples() {
        let flow = op.flow();
        let wat = op.wat();
        let last = wat
            .rsplit("; ")
            .next()
            .and_then(|i| i.split_whitespace().next());
        match flow {
            Flow::Branch | Flow::Jump => {
                assert!(op.target().is_some(), "{op:?} jumps without a target");
                let expect = if flow == Flow::Branch { "br_if" } else { "br" };
                assert_eq!(last, Some(expect), "{op:?}: {wat}");
            }
            _ => assert_eq!(op.target(), None, "{op:?} has a target it never takes"),
        }
        assert_eq!(flow.ends_region(), flow != Flow::Next, "{op:?}");
        match last {
            Some("return" | "end") => {
                assert!(matches!(flow, Flow::Return | Flow::ReturnIf), "{op:?}")
            }
            Some("call" | "call_indirect") => assert_eq!(flow, Flow::Call, "{op:?}"),
            Some("return_call" | "return_call_indirect") => {
                assert_eq!(flow, Flow::TailCall, "{op:?}")
            }
            Some("unreachable") => assert_eq!(flow, Flow::Trap, "{op:?}"),
            Some("br_table") => assert_eq!(flow, Flow::Table, "{op:?}"),
            Some("memory.grow" | "memory.fill" | "memory.copy" | "memory.init") => {
                assert_eq!(flow, Flow::Bulk, "{op:?}")
            }
            Some(i)
                if i.starts_with("table.")
                    && !matches!(i, "table.get" | "table.set" | "table.size") =>
            {
                assert_eq!(flow, Flow::Bulk, "{op:?}")
            }
            _ => {}
        }
    }
}

const TYPES: [&str; 5] = ["i32", "i64", "f32", "f64", "v128"];

/// A function whose body is `wat`, in a block, with its locals and the operands below it typed as a guess: an
/// operand type `t` (of the `a`, `b` and `v` locals and of the stack operands, an address being an i32) and a
/// result type `r` (of `dst` and of the value left on the stack, dropped); the last of two stack operands has type
/// `u` (a shift count, a lane's new value).
fn candidate(op: &Op, wat: &str, [t, u, r]: [&str; 3], inputs: usize, result: bool) -> String {
    let debug = format!("{op:?}");
    let memory = matches!(op.group(), "load" | "store" | "load_lane" | "store_lane");
    let field = |name: &str| -> Option<u32> {
        let at = debug.find(&format!(" {name}: "))? + name.len() + 3;
        debug[at..].split([',', ' ']).next()?.parse().ok()
    };
    let mut locals = ["i32"; 8];
    for (name, ty) in [("a", t), ("b", t), ("v", t), ("dst", r)] {
        if let Some(i) = field(name) {
            locals[i as usize] = if memory && name != "v" { "i32" } else { ty };
        }
    }
    let mut body = String::new();
    for i in 0..inputs {
        // A memory op's first operand is its address.
        let ty = match i {
            0 if memory => "i32",
            1 if inputs == 2 => u,
            _ => t,
        };
        body.push_str(&format!("global.get $g_{ty}\n"));
    }
    let wat = wat.replace("; ", "\n");
    let wat = wat
        .split_whitespace()
        .map(|w| if w.starts_with('@') { "0" } else { w })
        .collect::<Vec<_>>();
    body.push_str(&wat.join(" "));
    if result {
        body.push_str("\ndrop");
    }
    let globals: String = TYPES
        .iter()
        .map(|ty| {
            let init = if *ty == "v128" {
                "v128.const i64x2 0 0".to_string()
            } else {
                format!("{ty}.const 0")
            };
            format!("(global $g_{ty} {ty} ({init}))\n")
        })
        .collect();
    format!(
        "(module (memory 1) (memory 1) {globals} (func (local {}) (block {body}\n)))",
        locals.join(" ")
    )
}

#[test]
fn the_wasm_text_of_simple_and_fused_ops_translates_back_to_them() {
    let engine = |track| {
        Engine::new(Config {
            features: Features::ALL,
            track_dirty_pages: track,
            ..Config::default()
        })
    };
    let (plain, tracked) = (engine(false), engine(true));
    let mut failed = Vec::new();
    let mut checked = 0;
    for mut op in Op::samples() {
        // The sample's lane (2) is out of range for a 64-bit lane.
        if let Op::V128Load64Lane { lane, .. }
        | Op::V128Store64Lane { lane, .. }
        | Op::V128Store64LaneTracked { lane, .. } = &mut op
        {
            *lane = 1;
        }
        // Special ops are made by the translator's own logic, sanitizer twins by the sanitizer.
        if op.group() == "special" || op.form() == "San" {
            continue;
        }
        let engine = if op.form().contains("Tracked") {
            &tracked
        } else {
            &plain
        };
        let wat = op.wat();
        let mut found = false;
        'search: for t in TYPES {
            for (r, u) in TYPES.iter().flat_map(|r| TYPES.map(|u| (*r, u))) {
                for inputs in 0..=3 {
                    for result in [false, true] {
                        if u != t && inputs != 2 {
                            continue;
                        }
                        let text = candidate(&op, &wat, [t, u, r], inputs, result);
                        let Ok(bytes) = wat::parse_str(&text) else {
                            continue;
                        };
                        let Ok(module) = Module::new(engine, &bytes) else {
                            continue;
                        };
                        let body = module.inner.body(0).expect("a defined function");
                        // The sample, fields and all (but the branch target, which is the block's end), is in the code.
                        found = body.code.iter().any(|&c| {
                            let mut c = c;
                            if let (Some(t), Some(sample)) = (c.target_mut(), op.target()) {
                                *t = sample;
                            }
                            c == op
                        });
                        if found {
                            break 'search;
                        }
                    }
                }
            }
        }
        checked += 1;
        if !found {
            failed.push(format!("{op:?}: {wat}"));
        }
    }
    assert!(checked > 1000, "only {checked} ops checked");
    assert!(
        failed.is_empty(),
        "{} ops do not translate back from their Wasm text:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

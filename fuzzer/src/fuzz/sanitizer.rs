//! The engine's sanitizer as the fuzzer uses it: whether it checks a target, the banner that says what it checks, and its findings reported as ASan reports them.

use std::fmt::Write as _;

use capicola_engine::sanitizer::{AllocFn, BlockReport, Recognized, SanitizerReport, Violation};
use capicola_engine::{FrameInfo, Module};
use wasmparser::{ExternalKind, Parser, Payload};

use super::harness::{Instrumentation, TEST_ONE_INPUT};
use crate::debug::dwarf::DebugInfo;

/// The tool name ASan's report lines carry in its place.
const TOOL: &str = "capicola-sanitizer";

/// What the command line asks of the sanitizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SanitizeRequest {
    /// On for libFuzzer harnesses whose allocator the engine recognizes, off otherwise.
    #[default]
    Default,
    /// `--sanitize` (or `--detect-leaks`): on whatever the module holds.
    On,
    /// `--no-sanitize`.
    Off,
}

/// Whether the sanitizer checks a target, and why not when it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizerChoice {
    pub on: bool,
    /// Blocks still allocated at the end of an input are findings (`--detect-leaks`; only when `on`).
    pub detect_leaks: bool,
    /// Why it is off (empty when on).
    pub off_because: String,
}

impl SanitizerChoice {
    /// Decides for the module `wasm` what `request` and `detect_leaks` ask.
    pub fn decide(wasm: &[u8], request: SanitizeRequest, detect_leaks: bool) -> SanitizerChoice {
        let off = |why: String| SanitizerChoice {
            on: false,
            detect_leaks: false,
            off_because: why,
        };
        let request = if detect_leaks && request == SanitizeRequest::Default {
            SanitizeRequest::On
        } else {
            request
        };
        match request {
            SanitizeRequest::Off => off("--no-sanitize".into()),
            SanitizeRequest::On => SanitizerChoice {
                on: true,
                detect_leaks,
                off_because: String::new(),
            },
            SanitizeRequest::Default if !exports_function(wasm, TEST_ONE_INPUT) => {
                off("not a libFuzzer harness; --sanitize turns it on".into())
            }
            SanitizeRequest::Default => {
                let found = capicola_engine::sanitizer::recognize(wasm);
                if found.allocator_recognized() {
                    SanitizerChoice {
                        on: true,
                        detect_leaks: false,
                        off_because: String::new(),
                    }
                } else if found.has_allocator() {
                    off(
                        "no allocator recognized: the module names no functions, so an unexported entry point \
                         of its allocator would go unchecked; --sanitize checks the exported ones"
                            .into(),
                    )
                } else {
                    off(format!(
                        "no allocator recognized: no malloc and free found; --sanitize checks {}",
                        if found.stack_pointer.is_some() {
                            "the shadow stack only"
                        } else {
                            "nothing more (no __stack_pointer either)"
                        }
                    ))
                }
            }
        }
    }

    /// The sanitizer's part of the hooks a target is loaded with (coverage and cmplog off).
    pub fn instrumentation(&self) -> Instrumentation {
        Instrumentation {
            coverage: false,
            cmplog: false,
            sanitize: self.on,
            detect_leaks: self.on && self.detect_leaks,
        }
    }

    /// The banner line: `sanitizer: on (heap: malloc, free; stack: __stack_pointer)`, or off and why. `module`
    /// is the module as translated with this choice (what the engine actually wrapped).
    pub fn banner(&self, module: &Module) -> String {
        if !self.on {
            return format!("sanitizer: off ({})", self.off_because);
        }
        let found = module.sanitized();
        let mut text = format!(
            "sanitizer: on (heap: {}; stack: {}",
            heap_checked(found),
            if found.stack_pointer.is_some() {
                "__stack_pointer"
            } else {
                "none, no __stack_pointer"
            }
        );
        if self.detect_leaks {
            text.push_str("; leaks: at the end of each input");
        }
        text.push(')');
        text
    }
}

/// The allocator functions the engine wrapped, or why it wrapped none.
fn heap_checked(found: &Recognized) -> String {
    if !found.has_allocator() {
        return "none, no malloc and free found".into();
    }
    let names: Vec<&str> = AllocFn::ALL
        .into_iter()
        .filter(|&f| found.find(f).is_some())
        .map(AllocFn::name)
        .collect();
    let mut text = names.join(", ");
    if !found.has_function_names {
        text.push_str(" (exports only: the module names no functions)");
    }
    text
}

/// Whether `wasm` exports a function named `name`.
fn exports_function(wasm: &[u8], name: &str) -> bool {
    Parser::new(0).parse_all(wasm).any(|payload| match payload {
        Ok(Payload::ExportSection(reader)) => reader
            .into_iter()
            .flatten()
            .any(|e| e.kind == ExternalKind::Func && e.name == name),
        _ => false,
    })
}

/// What turns code locations into words: the module's function names and, when it was built with `-g`, its
/// source lines.
#[derive(Debug, Clone, Copy)]
pub struct Symbols<'a> {
    pub module: &'a Module,
    pub debug_info: Option<&'a DebugInfo>,
}

/// The source lines of `wasm`, for [`Symbols`]: none without DWARF, or with DWARF that does not parse (a report
/// then goes without source lines rather than not at all).
pub fn source_lines(wasm: &[u8]) -> Option<DebugInfo> {
    DebugInfo::parse(wasm).ok().flatten()
}

impl Symbols<'_> {
    /// The function's name, or `func[N]`.
    pub fn func_name(&self, func_index: u32) -> String {
        self.module
            .func_name(func_index)
            .map_or_else(|| format!("func[{func_index}]"), str::to_string)
    }

    /// `parse rec.c:21 (func[7]+0x43)`: name, source line when known, and the offset in the function's code.
    pub fn frame(&self, frame: &FrameInfo) -> String {
        let start = self.module.func_code_start(frame.func_index).unwrap_or(0) as usize;
        let place = format!(
            "func[{}]+{:#x}",
            frame.func_index,
            frame.offset.saturating_sub(start)
        );
        let mut text = match self.module.func_name(frame.func_index) {
            Some(name) => name.to_string(),
            None => place.clone(),
        };
        if let Some(line) = self.line(frame) {
            let _ = write!(text, " {line}");
        }
        if self.module.func_name(frame.func_index).is_some() {
            let _ = write!(text, " ({place})");
        }
        text
    }

    /// The source line of a frame, when known.
    fn line(&self, frame: &FrameInfo) -> Option<String> {
        let info = self.debug_info?;
        Some(info.line_at(u32::try_from(frame.offset).ok()?)?.to_string())
    }

    /// A backtrace, one indented `#k FRAME` line each, runs of identical frames (deep recursion) collapsed.
    pub fn backtrace(&self, frames: &[FrameInfo]) -> String {
        let mut out = String::new();
        let mut k = 0;
        while k < frames.len() {
            let _ = writeln!(out, "    #{k} {}", self.frame(&frames[k]));
            let same = frames[k + 1..]
                .iter()
                .take_while(|f| **f == frames[k])
                .count();
            if same > 1 {
                let _ = writeln!(out, "    #{} ... ({same} more identical frames)", k + 1);
                k += same;
            }
            k += 1;
        }
        out
    }

    /// `rec.c:21 in parse` (or `in parse` alone) for a report's summary line.
    fn summary_place(&self, frames: &[FrameInfo]) -> String {
        let Some(top) = frames.first() else {
            return String::new();
        };
        let line = self.line(top).map(|l| format!(" {l}")).unwrap_or_default();
        format!("{line} in {}", self.func_name(top.func_index))
    }
}

/// A sanitizer finding as ASan reports it: the kind and the access, the backtrace where it happened (`backtrace`,
/// the trap's), the heap block concerned with where it was allocated and freed, and a summary line.
pub fn report(report: &SanitizerReport, backtrace: &[FrameInfo], symbols: Symbols<'_>) -> String {
    let mut out = String::new();
    if report.violation == Violation::MemoryLeak {
        let (size, from) = report
            .block
            .as_ref()
            .map_or((0, backtrace), |b| (b.size, &b.allocated[..]));
        let _ = writeln!(out, "=={TOOL}: detected memory leaks");
        let _ = writeln!(
            out,
            "Direct leak of {size} byte(s) in 1 object(s) allocated from:"
        );
        out.push_str(&symbols.backtrace(from));
        let _ = write!(
            out,
            "SUMMARY: {TOOL}: {size} byte(s) leaked in 1 allocation(s)."
        );
        return out;
    }
    let _ = writeln!(out, "==ERROR: {TOOL}: {}", report.headline());
    out.push_str(&symbols.backtrace(backtrace));
    let addr = report.access.map(|a| a.bad_addr).or(report.pointer);
    if let (Some(block), Some(addr)) = (&report.block, addr) {
        let _ = writeln!(out, "{addr:#010x} is located {}", block.describe(addr));
        block_history(&mut out, block, symbols);
    }
    let _ = write!(
        out,
        "SUMMARY: {TOOL}: {}{}",
        report.violation.id(),
        symbols.summary_place(backtrace)
    );
    out
}

/// `allocated by:` and `freed by:` with their backtraces.
pub fn block_history(out: &mut String, block: &BlockReport, symbols: Symbols<'_>) {
    out.push_str("allocated by:\n");
    out.push_str(&symbols.backtrace(&block.allocated));
    if let Some(freed) = &block.freed {
        out.push_str("freed by:\n");
        out.push_str(&symbols.backtrace(freed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capicola_engine::sanitizer::BadAccess;
    use capicola_engine::{Config, Engine};

    /// A module with named functions `parse` (1) and `main` (2) after an unnamed one (0).
    fn module() -> Module {
        let wat = r#"(module
            (func)
            (func $parse)
            (func $main)
            (export "LLVMFuzzerTestOneInput" (func $main)))"#;
        let wasm = wat::parse_str(wat).expect("valid text");
        Module::new(&Engine::new(Config::default()), &wasm).expect("valid module")
    }

    fn symbols(module: &Module) -> Symbols<'_> {
        Symbols {
            module,
            debug_info: None,
        }
    }

    fn at(symbols: &Symbols<'_>, func_index: u32, plus: usize) -> FrameInfo {
        let start = symbols.module.func_code_start(func_index).expect("a body") as usize;
        FrameInfo {
            func_index,
            offset: start + plus,
        }
    }

    #[test]
    fn an_overflow_report_names_the_access_the_block_and_both_backtraces() {
        let module = module();
        let s = symbols(&module);
        let report = SanitizerReport {
            violation: Violation::UseAfterFree,
            access: Some(BadAccess {
                addr: 0x11228,
                size: 4,
                write: true,
                bad_addr: 0x11228,
                host: None,
            }),
            pointer: None,
            block: Some(BlockReport {
                start: 0x11224,
                size: 16,
                allocated: vec![at(&s, 0, 1), at(&s, 2, 3)],
                freed: Some(vec![at(&s, 2, 5)]),
            }),
        };
        let text = super::report(&report, &[at(&s, 1, 2), at(&s, 2, 4)], s);
        assert_eq!(
            text,
            "==ERROR: capicola-sanitizer: heap-use-after-free on address 0x00011228: WRITE of size 4 at 0x00011228\n\
             \x20   #0 parse (func[1]+0x2)\n\
             \x20   #1 main (func[2]+0x4)\n\
             0x00011228 is located 4 bytes inside 16-byte region [0x00011224,0x00011234)\n\
             allocated by:\n\
             \x20   #0 func[0]+0x1\n\
             \x20   #1 main (func[2]+0x3)\n\
             freed by:\n\
             \x20   #0 main (func[2]+0x5)\n\
             SUMMARY: capicola-sanitizer: heap-use-after-free in parse"
        );
    }

    #[test]
    fn a_leak_report_shows_the_allocation() {
        let module = module();
        let s = symbols(&module);
        let report = SanitizerReport {
            violation: Violation::MemoryLeak,
            access: None,
            pointer: None,
            block: Some(BlockReport {
                start: 0x100,
                size: 24,
                allocated: vec![at(&s, 1, 0)],
                freed: None,
            }),
        };
        assert_eq!(
            super::report(&report, &[], s),
            "==capicola-sanitizer: detected memory leaks\n\
             Direct leak of 24 byte(s) in 1 object(s) allocated from:\n\
             \x20   #0 parse (func[1]+0x0)\n\
             SUMMARY: capicola-sanitizer: 24 byte(s) leaked in 1 allocation(s)."
        );
    }

    #[test]
    fn runs_of_identical_frames_collapse() {
        let module = module();
        let s = symbols(&module);
        let mut frames = vec![at(&s, 1, 2)];
        frames.extend(std::iter::repeat_n(at(&s, 2, 1), 5));
        frames.push(at(&s, 2, 7));
        assert_eq!(
            s.backtrace(&frames),
            "    #0 parse (func[1]+0x2)\n\
             \x20   #1 main (func[2]+0x1)\n\
             \x20   #2 ... (4 more identical frames)\n\
             \x20   #6 main (func[2]+0x7)\n"
        );
    }

    #[test]
    fn the_default_is_on_only_for_libfuzzer_harnesses_with_a_named_allocator() {
        let harness = |export_malloc: bool| {
            let exports = if export_malloc {
                r#"(export "malloc" (func $malloc)) (export "free" (func $free))"#
            } else {
                ""
            };
            wat::parse_str(format!(
                r#"(module (memory 1) (export "memory" (memory 0))
                    (func $malloc (param i32) (result i32) i32.const 0)
                    (func $free (param i32))
                    (func $t (param i32 i32) (result i32) i32.const 0)
                    (export "LLVMFuzzerTestOneInput" (func $t)) {exports})"#
            ))
            .expect("valid text")
        };
        let named = harness(false);
        let default = |wasm: &[u8]| SanitizerChoice::decide(wasm, SanitizeRequest::Default, false);
        assert!(default(&named).on, "{:?}", default(&named));
        assert!(!SanitizerChoice::decide(&named, SanitizeRequest::Off, false).on);
        // Stripped of its names (wat keeps `$` names): only exported functions are seen.
        let stripped = wasm_encoder_strip(&harness(true));
        assert!(!default(&stripped).on);
        assert!(SanitizerChoice::decide(&stripped, SanitizeRequest::On, false).on);
        // --detect-leaks implies the sanitizer.
        let leaks = SanitizerChoice::decide(&stripped, SanitizeRequest::Default, true);
        assert!(leaks.on && leaks.detect_leaks);
        let program = wat::parse_str(r#"(module (func (export "_start")))"#).expect("valid text");
        let choice = default(&program);
        assert!(!choice.on && choice.off_because.contains("--sanitize"));
    }

    /// `wasm` without its custom sections (the name section among them).
    fn wasm_encoder_strip(wasm: &[u8]) -> Vec<u8> {
        let mut out = wasm[..8].to_vec();
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload.expect("valid module");
            if let Some((id, range)) = payload.as_section()
                && id != 0
            {
                let range = range.start as usize..range.end as usize;
                out.push(id);
                let mut len = range.len() as u32;
                loop {
                    let byte = (len & 0x7f) as u8;
                    len >>= 7;
                    out.push(if len == 0 { byte } else { byte | 0x80 });
                    if len == 0 {
                        break;
                    }
                }
                out.extend_from_slice(&wasm[range]);
            }
        }
        out
    }
}

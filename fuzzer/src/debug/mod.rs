//! The time-travel debugger's session: a fuzz target booted as `capicola fuzz` boots it, with one input, recorded by
//! the engine's [`Timeline`]; and the command language its front ends (batch mode, the interactive prompt) speak.

pub mod commands;
pub mod dwarf;
pub mod gdb;
pub mod tui;

use capicola_engine::timeline::{End, Host, HostAnswer, Timeline, TimelineConfig};
use capicola_engine::wasi::{WasiCtx, WasiFunc};
use capicola_engine::{FrameInfo, HostCall, Memory, Module, Store, Trap, TrapKind};

use crate::fuzz::sanitizer::{self, Symbols};
use crate::fuzz::target::{DebugStart, format_backtrace};
use crate::fuzz::{HarnessKind, TargetOptions};
use dwarf::{DebugInfo, SourceLine};

/// Answers a debugged target's WASI calls from its (deterministic) WASI state.
#[derive(Debug, Clone)]
pub struct WasiHost {
    pub ctx: WasiCtx,
    pub memory: Memory,
}

impl Host for WasiHost {
    fn call(&mut self, store: &mut Store, call: &HostCall) -> HostAnswer {
        self.ctx.handle(store, self.memory, call)
    }

    fn name(&self, host_id: u32) -> String {
        WasiFunc::from_host_id(host_id).map_or_else(
            || format!("host function {host_id:#x}"),
            |f| f.name().to_string(),
        )
    }

    fn size_hint(&self) -> usize {
        self.ctx.stdout().len() + self.ctx.stderr().len() + 4096
    }
}

/// A recorded run of one input through a fuzz target.
#[derive(Debug)]
pub struct Session {
    pub timeline: Timeline<WasiHost>,
    pub module: Module,
    pub kind: HarnessKind,
    pub memory: Memory,
    /// Source lines, when the module was built with `-g`.
    pub debug_info: Option<DebugInfo>,
    /// Breakpoints as the user set them.
    pub breaks: Vec<commands::UserBreak>,
}

impl Session {
    /// Boots `wasm` (with the sanitizer's checks when `sanitize`) with `input` and starts recording at the first
    /// instruction of the input's run.
    pub fn new(
        wasm: &[u8],
        options: &TargetOptions,
        sanitize: bool,
        input: &[u8],
        config: TimelineConfig,
    ) -> anyhow::Result<Session> {
        let start = DebugStart::new(wasm, options, sanitize, input)?;
        let debug_info = DebugInfo::parse(wasm)?;
        let host = WasiHost {
            ctx: start.ctx,
            memory: start.memory,
        };
        let config = TimelineConfig {
            max_instructions: options.fuel,
            ..config
        };
        let timeline = Timeline::new(start.store, host, config)?;
        Ok(Session {
            timeline,
            module: start.module,
            kind: start.kind,
            memory: start.memory,
            debug_info,
            breaks: Vec::new(),
        })
    }

    /// Function names and source lines, for reports.
    pub fn symbols(&self) -> Symbols<'_> {
        Symbols {
            module: &self.module,
            debug_info: self.debug_info.as_ref(),
        }
    }

    /// The source line of module offset `offset`, if known.
    pub fn line_at(&self, offset: usize) -> Option<SourceLine> {
        self.debug_info
            .as_ref()
            .and_then(|d| d.line_at(u32::try_from(offset).ok()?))
    }

    /// The source line of the current position.
    pub fn current_line(&self) -> Option<SourceLine> {
        self.timeline
            .store()
            .position()
            .and_then(|p| self.line_at(p.offset))
    }

    /// `name+0xOFF file:line` (or `func[N]+0xOFF`) for a code location.
    pub fn describe_location(&self, at: FrameInfo) -> String {
        let name = self
            .module
            .func_name(at.func_index)
            .map_or_else(|| format!("func[{}]", at.func_index), str::to_string);
        let start = self.module.func_code_start(at.func_index).unwrap_or(0) as usize;
        let mut text = format!("{name}+{:#x}", at.offset.saturating_sub(start));
        if let Some(line) = self.line_at(at.offset) {
            text.push_str(&format!(" at {line}"));
        }
        text
    }

    /// How the run ends, in words (once known).
    pub fn describe_end(&self) -> Option<String> {
        let (pos, end) = self.timeline.end()?;
        Some(match end {
            End::Finished(_) => format!("the input's run returned at position {pos}"),
            End::Trapped(Trap {
                kind: TrapKind::Sanitizer(report),
                backtrace,
            }) => format!(
                "sanitizer finding at position {pos}:\n{}",
                sanitizer::report(report, backtrace, self.symbols())
            ),
            End::Trapped(trap) => format!(
                "trap at position {pos}: {}\n{}",
                trap.kind,
                format_backtrace(&self.module, &trap.backtrace)
            ),
            End::Exited(code) => format!("the program exited with code {code} at position {pos}"),
            End::OutOfFuel => format!("timeout: the fuel limit ran out at position {pos}"),
        })
    }
}

//! The debugger's command language, shared by batch mode and the interactive prompt. Each command moves or
//! inspects the session's timeline and returns what to print. Names follow gdb where gdb has the command.

use std::fmt::Write as _;

use capicola_engine::timeline::{Breakpoint, Stop, WatchHit, WatchKind, Watchpoint};
use capicola_engine::{FrameInfo, Val};

use super::Session;
use super::dwarf::SourceLine;
use crate::fuzz::sanitizer;

/// Most instructions a source-level step walks before it gives up.
const STEP_LIMIT: u64 = 50_000_000;

/// Most bytes `x` shows at once.
const DUMP_LIMIT: u64 = 64 << 10;

/// A breakpoint as the user set it: what they typed and the code locations it stands for.
#[derive(Debug, Clone)]
pub struct UserBreak {
    pub id: usize,
    pub spec: String,
    pub points: Vec<Breakpoint>,
}

/// The commands, for `help`.
pub const HELP: &str = "\
moving (r- or reverse- goes backwards):
  step|s [N]        next source line, into calls        reverse-step|rs [N]
  next|n [N]        next source line, over calls        reverse-next|rn [N]
  stepi|si [N]      one instruction                     reverse-stepi|rsi [N]
  finish            out of the current function         reverse-finish|rf
  continue|c        to a breakpoint, watch or the end   reverse-continue|rc
  goto POS          to instruction count POS (`goto end`, `goto start`)
stopping:
  break|b LOC       LOC: file.c:LINE, a function name, func[N], or *0xOFFSET (module byte offset)
  delete [N]        remove breakpoint N (all without N)
  watch ADDR [LEN]  stop where the bytes change (both directions); watch-write: at every write;
                    rwatch: at every read (steps one instruction at a time); awatch: reads and writes; unwatch
  last-write ADDR [LEN]  when were these bytes last written, and by which instruction
looking:
  where|bt  locals  stack  globals  x ADDR [LEN]  list  disas  position|pos  info  host-calls  output
  (output: what the guest printed up to the current position)
  info block|block ADDR  the heap block at or nearest ADDR: live or freed, where allocated and freed (sanitizer)
ADDR: a number (0x.. for hex) or a global variable name, optionally +N; LEN: at least 1, inside the memory";

/// Runs one command line; `Err` is a message about the command itself (bad syntax, unknown address...).
pub fn execute(session: &mut Session, line: &str) -> Result<String, String> {
    let mut words = line.split_whitespace();
    let Some(command) = words.next() else {
        return Ok(String::new());
    };
    let args: Vec<&str> = words.collect();
    let count = || -> Result<u64, String> {
        args.first().map_or(Ok(1), |n| {
            parse_number(n).ok_or(format!("not a count: {n}"))
        })
    };
    let t =
        |r: Result<Stop, capicola_engine::timeline::TimelineError>| r.map_err(|e| e.to_string());
    match command {
        "help" | "h" => Ok(HELP.to_string()),
        "step" | "s" => repeat(session, count()?, |s| step_line(s, false)),
        "next" | "n" => repeat(session, count()?, |s| step_line(s, true)),
        "stepi" | "si" => repeat(session, count()?, |s| t(s.timeline.step())),
        "finish" => {
            let stop = t(session.timeline.step_out())?;
            Ok(report(session, &stop))
        }
        "continue" | "c" => {
            let stop = t(session.timeline.continue_forward())?;
            Ok(report(session, &stop))
        }
        "reverse-step" | "rs" => repeat(session, count()?, |s| reverse_line(s, false)),
        "reverse-next" | "rn" => repeat(session, count()?, |s| reverse_line(s, true)),
        "reverse-stepi" | "rsi" => repeat(session, count()?, |s| t(s.timeline.step_back())),
        "reverse-finish" | "rf" => {
            let stop = t(session.timeline.step_back_out())?;
            Ok(report(session, &stop))
        }
        "reverse-continue" | "rc" => {
            let stop = t(session.timeline.continue_backward())?;
            Ok(report(session, &stop))
        }
        "goto" => {
            let target = match args.first().copied() {
                Some("end") => session
                    .timeline
                    .end()
                    .map(|(p, _)| p)
                    .ok_or("the end is not known yet: `continue` first")?,
                Some("start") => 0,
                Some(n) => parse_number(n).ok_or(format!("not a position: {n}"))?,
                None => return Err("goto POS".into()),
            };
            let stop = t(session.timeline.seek(target))?;
            Ok(report(session, &stop))
        }
        "break" | "b" => add_break(session, &args.join(" ")),
        "delete" | "d" => delete_break(session, args.first().copied()),
        "watch" | "watch-write" | "rwatch" | "awatch" => {
            let (addr, len) = address_and_len(session, &args, 4)?;
            let kind = match command {
                "watch" => WatchKind::Change,
                "watch-write" => WatchKind::Write,
                "rwatch" => WatchKind::Read,
                _ => WatchKind::Access,
            };
            session
                .timeline
                .set_watchpoint(Some(Watchpoint {
                    memory: session.memory,
                    addr,
                    len,
                    kind,
                }))
                .map_err(|e| e.to_string())?;
            Ok(format!("watching {len} bytes at {addr:#x}"))
        }
        "unwatch" => {
            session
                .timeline
                .set_watchpoint(None)
                .map_err(|e| e.to_string())?;
            Ok("no watch".into())
        }
        "last-write" => {
            let (addr, len) = address_and_len(session, &args, 1)?;
            let memory = session.memory;
            let hit = session
                .timeline
                .last_write(memory, addr, len)
                .map_err(|e| e.to_string())?;
            Ok(match hit {
                Some(hit) => format!(
                    "{len} bytes at {addr:#x} last written at position {}{}: {}",
                    hit.position,
                    writer(session, &hit),
                    hit_bytes(&hit, addr, len)
                ),
                None => format!(
                    "{len} bytes at {addr:#x}: not written since the recording began (the input's run); \
                     they hold what initialization left"
                ),
            })
        }
        _ => inspect(session, line),
    }
}

/// Runs one of the commands that only look (`where`, `locals`, `x`...): they never move the timeline.
pub fn inspect(session: &Session, line: &str) -> Result<String, String> {
    let mut words = line.split_whitespace();
    let Some(command) = words.next() else {
        return Ok(String::new());
    };
    let args: Vec<&str> = words.collect();
    match command {
        "info" if args.first() == Some(&"breakpoints") => Ok(list_breaks(session)),
        "info" if args.first() == Some(&"block") => heap_block(session, &args[1..]),
        "block" => heap_block(session, &args),
        "where" | "bt" | "backtrace" => Ok(backtrace(session)),
        "locals" => frame_part(session, true),
        "stack" => frame_part(session, false),
        "globals" => Ok(globals(session)),
        "x" => {
            let (addr, len) = address_and_len(session, &args, 64)?;
            dump(session, addr, len)
        }
        "list" | "l" => list(session),
        "disas" => disassemble(session),
        "position" | "pos" => Ok(here(session)),
        "info" => Ok(info(session)),
        "host-calls" => Ok(host_calls(session)),
        "output" => Ok(output(session)),
        other => Err(format!("unknown command `{other}` (try `help`)")),
    }
}

/// Who allocated and freed the heap block at or nearest an address, as the sanitizer recorded it at the current
/// position.
fn heap_block(session: &Session, args: &[&str]) -> Result<String, String> {
    let spec = args.first().ok_or("info block ADDR")?;
    let addr = parse_address(session, spec)?;
    let store = session.timeline.store();
    if !store.sanitizer_active() {
        return Err(
            "the sanitizer is off (start the debugger with --sanitize to follow heap blocks)"
                .into(),
        );
    }
    let Some(state) = store.sanitizer_block_at(addr) else {
        return Ok(format!("{addr:#010x}: no heap block at or near it"));
    };
    let block = &state.block;
    let mut out = format!(
        "{} heap block of {} bytes at {:#010x}; {addr:#010x} is located {}\n",
        if state.live {
            "live"
        } else {
            "freed (in quarantine)"
        },
        block.size,
        block.start,
        block.describe(addr)
    );
    sanitizer::block_history(&mut out, block, session.symbols());
    out.pop();
    Ok(out)
}

/// What the guest wrote to stdout and stderr up to the current position.
fn output(session: &Session) -> String {
    let ctx = &session.timeline.host().ctx;
    let mut out = String::new();
    for (name, bytes) in [("stdout", ctx.stdout()), ("stderr", ctx.stderr())] {
        let _ = writeln!(out, "{name} ({} bytes):", bytes.len());
        out.push_str(&String::from_utf8_lossy(bytes));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out.trim_end().to_string()
}

/// The address a command argument names: a number or `global[+N]`.
pub fn address_of(session: &Session, spec: &str) -> Result<u64, String> {
    parse_address(session, spec)
}

/// Runs `f` `n` times or until it stops for another reason than reaching its target; reports the last stop.
fn repeat(
    session: &mut Session,
    n: u64,
    mut f: impl FnMut(&mut Session) -> Result<Stop, String>,
) -> Result<String, String> {
    let mut stop = Stop::Reached;
    for _ in 0..n {
        stop = f(session)?;
        if stop != Stop::Reached {
            break;
        }
    }
    Ok(report(session, &stop))
}

/// Where the innermost frame stands, with its source line.
fn current(session: &Session) -> Option<(Option<SourceLine>, usize)> {
    let store = session.timeline.store();
    let at = store.position()?;
    Some((session.line_at(at.offset), store.depth()))
}

/// Forward to the next source line: into calls (`over` false) or over them.
fn step_line(session: &mut Session, over: bool) -> Result<Stop, String> {
    if session.debug_info.is_none() {
        return session.timeline.step().map_err(|e| e.to_string());
    }
    let Some((start_line, start_depth)) = current(session) else {
        return session.timeline.step().map_err(|e| e.to_string());
    };
    for _ in 0..STEP_LIMIT {
        let stop = if over {
            session.timeline.step_over()
        } else {
            session.timeline.step()
        }
        .map_err(|e| e.to_string())?;
        if stop != Stop::Reached {
            return Ok(stop);
        }
        let Some((line, depth)) = current(session) else {
            return Ok(stop);
        };
        if over && depth > start_depth {
            continue;
        }
        if line.is_some() && (line != start_line || depth != start_depth) {
            return Ok(stop);
        }
    }
    Ok(Stop::Reached)
}

/// Back to the beginning of the previous source line: into calls (`over` false) or over them.
fn reverse_line(session: &mut Session, over: bool) -> Result<Stop, String> {
    let back = |s: &mut Session| {
        if over {
            s.timeline.step_back_over()
        } else {
            s.timeline.step_back()
        }
        .map_err(|e| e.to_string())
    };
    if session.debug_info.is_none() {
        return back(session);
    }
    let Some((start_line, start_depth)) = current(session) else {
        return back(session);
    };
    // Back until another known line...
    let mut target = None;
    for _ in 0..STEP_LIMIT {
        let stop = back(session)?;
        if stop != Stop::Reached {
            return Ok(stop);
        }
        let Some((line, depth)) = current(session) else {
            return Ok(stop);
        };
        if over && depth > start_depth {
            continue;
        }
        if line.is_some() && (line != start_line || depth != start_depth) {
            target = Some((line, depth));
            break;
        }
    }
    let Some((line, depth)) = target else {
        return Ok(Stop::Reached);
    };
    // ...then to the first instruction of that line's run.
    loop {
        let pos = session.timeline.position();
        if pos == 0 {
            return Ok(Stop::Start);
        }
        let stop = back(session)?;
        let same = stop == Stop::Reached
            && current(session).is_some_and(|(l, d)| d == depth && (l == line || l.is_none()));
        if !same {
            session.timeline.seek(pos).map_err(|e| e.to_string())?;
            return Ok(Stop::Reached);
        }
    }
}

/// The report printed after a move.
pub fn report(session: &Session, stop: &Stop) -> String {
    let mut out = String::new();
    match stop {
        Stop::Reached => {}
        Stop::Breakpoint(bp) => {
            let user = session
                .breaks
                .iter()
                .find(|b| b.points.contains(bp))
                .map_or_else(String::new, |b| format!(" {} ({})", b.id, b.spec));
            let _ = writeln!(out, "breakpoint{user}");
        }
        Stop::Watch(hit) => {
            let (addr, len) = session
                .timeline
                .watchpoint()
                .map_or((hit.window, 0), |w| (w.addr, w.len));
            let _ = writeln!(
                out,
                "watch: {} at position {}{}: {}",
                if hit.write { "written" } else { "read" },
                hit.position,
                writer(session, hit),
                hit_bytes(hit, addr, len)
            );
        }
        Stop::End => {
            if let Some(end) = session.describe_end() {
                let _ = writeln!(out, "end: {end}");
            }
        }
        Stop::Start => {
            let _ = writeln!(out, "start of the recording");
        }
    }
    out.push_str(&here(session));
    out
}

/// The bytes of a hit on the `len` watched bytes at `addr`: `OLD -> NEW` (a read: the bytes) when the hit shows the
/// whole range; otherwise how many changed from where, and the window of at most 64 bytes the hit shows.
fn hit_bytes(hit: &WatchHit, addr: u64, len: u64) -> String {
    let whole = hit.window == addr && hit.new.len() as u64 == len;
    let bytes = if hit.write {
        format!("{} -> {}", hex(&hit.old), hex(&hit.new))
    } else {
        hex(&hit.new)
    };
    if whole {
        return bytes;
    }
    let shown = hit.old.iter().zip(&hit.new).filter(|(a, b)| a != b).count() as u64;
    let mut text = match (hit.write, hit.changed) {
        (false, _) => format!("from {:#x}; ", hit.addr),
        (true, 0) => format!("no byte changed, the first written is {:#x}; ", hit.addr),
        (true, 1) => format!("1 byte changed, at {:#x}; ", hit.addr),
        (true, n) => format!("{n} bytes changed, the first at {:#x}; ", hit.addr),
    };
    let _ = write!(
        text,
        "{} bytes at {:#x}: {bytes}",
        hit.new.len(),
        hit.window
    );
    if hit.changed > shown {
        let _ = write!(text, " ... {} more bytes changed", hit.changed - shown);
    }
    text
}

/// ` by FUNC+0xOFF at file:line` (or the host function) for a watch hit.
fn writer(session: &Session, hit: &WatchHit) -> String {
    let mut text = String::new();
    if let Some(host) = &hit.host {
        let _ = write!(text, " by host function {host}, called");
    }
    if let Some(at) = hit.location {
        let _ = write!(text, " by {}", session.describe_location(at));
    }
    text
}

/// `position P: LOCATION`.
pub fn here(session: &Session) -> String {
    let pos = session.timeline.position();
    match session.timeline.store().position() {
        Some(at) => format!("position {pos}: {}", session.describe_location(at)),
        None => format!("position {pos}: not in a call"),
    }
}

fn backtrace(session: &Session) -> String {
    let frames = session.timeline.store().frames();
    if frames.is_empty() {
        return "not in a call".into();
    }
    let mut out = String::new();
    for (i, f) in frames.iter().enumerate() {
        let at = FrameInfo {
            func_index: f.func_index,
            offset: f.offset,
        };
        let _ = writeln!(out, "#{i} {}", session.describe_location(at));
    }
    out.pop();
    out
}

fn frame_part(session: &Session, locals: bool) -> Result<String, String> {
    let frames = session.timeline.store().frames();
    let frame = frames.first().ok_or("not in a call")?;
    let mut out = String::new();
    if locals {
        for (i, v) in frame.locals.iter().enumerate() {
            let _ = writeln!(out, "local[{i}] = {}", value(v));
        }
    } else {
        for (i, cell) in frame.operands.iter().enumerate() {
            let _ = writeln!(out, "[{i}] {cell:#018x} ({})", *cell as i64);
        }
    }
    if out.is_empty() {
        out.push_str(if locals { "no locals" } else { "empty" });
    }
    Ok(out.trim_end().to_string())
}

fn value(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32 {x} ({:#x})", *x as u32),
        Val::I64(x) => format!("i64 {x} ({:#x})", *x as u64),
        Val::F32(bits) => format!("f32 {}", f32::from_bits(*bits)),
        Val::F64(bits) => format!("f64 {}", f64::from_bits(*bits)),
        other => format!("{other:?}"),
    }
}

fn globals(session: &Session) -> String {
    let store = session.timeline.store();
    let Some(instance) = store.frames().first().map(|f| f.instance) else {
        return "not in a call".into();
    };
    let mut out = String::new();
    for (i, g) in store.instance_globals(instance).into_iter().enumerate() {
        let _ = writeln!(out, "global[{i}] = {}", value(&store.global_get(g)));
    }
    out.trim_end().to_string()
}

fn dump(session: &Session, addr: u64, len: u64) -> Result<String, String> {
    if len > DUMP_LIMIT {
        return Err(format!(
            "x shows at most {DUMP_LIMIT} bytes at a time ({len} asked)"
        ));
    }
    session
        .timeline
        .check_range(session.memory, addr, len)
        .map_err(|e| e.to_string())?;
    let data = session.timeline.store().memory_data(session.memory);
    // In bounds: checked above.
    let (start, end) = (addr as usize, (addr + len) as usize);
    let mut out = String::new();
    for (row, chunk) in data[start..end].chunks(16).enumerate() {
        let text: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "{:#010x}  {:<48} {text}", start + row * 16, hex(chunk));
    }
    Ok(out.trim_end().to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn list(session: &Session) -> Result<String, String> {
    let line = session
        .current_line()
        .ok_or("no source line here (built without -g?)")?;
    let text = std::fs::read_to_string(&line.file)
        .map_err(|e| format!("cannot read {}: {e}", line.file))?;
    let first = line.line.saturating_sub(5).max(1);
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if n >= first && n <= line.line + 5 {
            let mark = if n == line.line { "=>" } else { "  " };
            let _ = writeln!(out, "{mark} {n:5} {l}");
        }
    }
    Ok(out.trim_end().to_string())
}

fn disassemble(session: &Session) -> Result<String, String> {
    let at = session.timeline.store().position().ok_or("not in a call")?;
    let text = session
        .module
        .disassemble(at.func_index)
        .ok_or("no code for this function")?;
    let lines: Vec<&str> = text.lines().collect();
    let mark = format!("@{:#07x}", at.offset);
    let i = lines.iter().position(|l| l.contains(&mark)).unwrap_or(0);
    let mut out = String::new();
    for (j, l) in lines.iter().enumerate().skip(i.saturating_sub(8)).take(17) {
        let _ = writeln!(out, "{} {l}", if j == i { "=>" } else { "  " });
    }
    Ok(out.trim_end().to_string())
}

fn info(session: &Session) -> String {
    let t = &session.timeline;
    let mut out = format!(
        "{}\nexecuted up to position {}; {} checkpoints holding {} KiB",
        here(session),
        t.frontier(),
        t.checkpoints().len(),
        t.memory_used() / 1024
    );
    match session.describe_end() {
        Some(end) => {
            let _ = write!(out, "\nend: {end}");
        }
        None => out.push_str("\nend: not reached yet"),
    }
    out
}

fn host_calls(session: &Session) -> String {
    let mut out = String::new();
    for r in session.timeline.host_log() {
        let name = {
            use capicola_engine::timeline::Host as _;
            session.timeline.host().name(r.call.host_id)
        };
        let _ = writeln!(
            out,
            "{:>12}  {name}{:?} -> {:?}",
            r.position, r.call.args, r.answer
        );
    }
    if out.is_empty() {
        out.push_str("no host calls yet");
    }
    out.trim_end().to_string()
}

fn add_break(session: &mut Session, spec: &str) -> Result<String, String> {
    if spec.is_empty() {
        return Err("break LOC: file.c:LINE, a function name, func[N] or *0xOFFSET".into());
    }
    let (points, resolved) = resolve(session, spec)?;
    let id = session.breaks.iter().map(|b| b.id).max().unwrap_or(0) + 1;
    let mut placed = Vec::new();
    for bp in points {
        if session.timeline.add_breakpoint(bp) {
            placed.push(bp);
        }
    }
    if placed.is_empty() {
        return Err(format!("no code at {spec}"));
    }
    let text = format!(
        "breakpoint {id} at {resolved} ({} location{})",
        placed.len(),
        if placed.len() == 1 { "" } else { "s" }
    );
    session.breaks.push(UserBreak {
        id,
        spec: spec.to_string(),
        points: placed,
    });
    Ok(text)
}

/// The code locations of a breakpoint spec, and how it reads once resolved.
fn resolve(session: &Session, spec: &str) -> Result<(Vec<Breakpoint>, String), String> {
    let module = &session.module;
    let at_offset = |offset: u32| -> Result<Breakpoint, String> {
        let func_index = module
            .func_at_offset(offset)
            .ok_or(format!("no function contains offset {offset:#x}"))?;
        Ok(Breakpoint { func_index, offset })
    };
    if let Some(offset) = spec.strip_prefix('*') {
        let offset = parse_number(offset).ok_or(format!("not an offset: {offset}"))?;
        let offset = u32::try_from(offset).map_err(|_| "offset out of range")?;
        let bp = at_offset(offset)?;
        let text = session.describe_location(FrameInfo {
            func_index: bp.func_index,
            offset: offset as usize,
        });
        return Ok((vec![bp], text));
    }
    if let Some((file, line)) = spec.rsplit_once(':')
        && let Ok(line) = line.parse::<u32>()
    {
        let info = session
            .debug_info
            .as_ref()
            .ok_or("the module has no line table (build it with -g)")?;
        let (found, offsets) = info
            .offsets_of_line(file, line)
            .ok_or(format!("no code at {file}:{line}"))?;
        let points = offsets
            .into_iter()
            .map(at_offset)
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((points, found.to_string()));
    }
    let func_index = match spec.strip_prefix("func[").and_then(|s| s.strip_suffix(']')) {
        Some(n) => n
            .parse::<u32>()
            .map_err(|_| format!("not a function: {spec}"))?,
        None => (0..module.num_funcs())
            .find(|&i| module.func_name(i) == Some(spec))
            .ok_or(format!("no function named {spec}"))?,
    };
    let offset = module
        .func_code_start(func_index)
        .ok_or(format!("{spec} has no code (an import?)"))?;
    let text = session.describe_location(FrameInfo {
        func_index,
        offset: offset as usize,
    });
    Ok((vec![Breakpoint { func_index, offset }], text))
}

fn delete_break(session: &mut Session, which: Option<&str>) -> Result<String, String> {
    let ids: Vec<usize> = match which {
        None => session.breaks.iter().map(|b| b.id).collect(),
        Some(n) => vec![
            n.parse()
                .map_err(|_| format!("not a breakpoint number: {n}"))?,
        ],
    };
    for id in &ids {
        let i = session
            .breaks
            .iter()
            .position(|b| b.id == *id)
            .ok_or(format!("no breakpoint {id}"))?;
        let removed = session.breaks.remove(i);
        for bp in removed.points {
            // Another breakpoint may stand on the same location.
            if !session.breaks.iter().any(|b| b.points.contains(&bp)) {
                session.timeline.remove_breakpoint(bp);
            }
        }
    }
    Ok(format!("deleted {} breakpoint(s)", ids.len()))
}

fn list_breaks(session: &Session) -> String {
    if session.breaks.is_empty() {
        return "no breakpoints".into();
    }
    session
        .breaks
        .iter()
        .map(|b| format!("{} {} ({} locations)", b.id, b.spec, b.points.len()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `ADDR [LEN]` with ADDR a number or `global[+N]`.
fn address_and_len(
    session: &Session,
    args: &[&str],
    default_len: u64,
) -> Result<(u64, u64), String> {
    let spec = args.first().ok_or("an address is needed")?;
    let addr = parse_address(session, spec)?;
    let len = match args.get(1) {
        Some(n) => parse_number(n).ok_or(format!("not a length: {n}"))?,
        None => default_len,
    };
    if len == 0 {
        return Err("a length of 0 names no bytes".into());
    }
    Ok((addr, len))
}

fn parse_address(session: &Session, spec: &str) -> Result<u64, String> {
    if let Some(n) = parse_number(spec) {
        return Ok(n);
    }
    let (name, delta) = match spec.split_once('+') {
        Some((name, delta)) => (
            name,
            parse_number(delta).ok_or(format!("not an offset: {delta}"))?,
        ),
        None => (spec, 0),
    };
    let base = match parse_number(name) {
        Some(n) => n,
        None => session
            .debug_info
            .as_ref()
            .and_then(|d| d.global(name.trim_start_matches('&')))
            .ok_or(format!(
                "no global variable named {name} (and not a number)"
            ))?,
    };
    base.checked_add(delta).ok_or(format!(
        "{spec} is past the end of the 64-bit address space"
    ))
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

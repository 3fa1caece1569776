//! The debugger's terminal UI: source (or the internal code) around the position, call stack, locals, operand
//! stack, globals, a memory view, breakpoints, the output of commands, and a command line that takes the same
//! commands as batch mode. Keys: F5 continue, Shift-F5 (or F6) reverse-continue, F10 next, F11 step, F7 reverse-step,
//! F8 reverse-next, PgUp/PgDn scroll the output, Esc or Ctrl-C quits.

use std::io::{self, Stderr, Write as _};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::{Frame, Terminal};

use super::Session;
use super::commands::{self, address_of};

/// Lines of command output kept.
const HISTORY: usize = 2000;

/// What the UI shows besides the session itself.
#[derive(Debug, Default)]
pub struct View {
    /// The command being typed.
    pub input: String,
    /// Command lines and their output, oldest first.
    pub output: Vec<String>,
    /// Lines scrolled back from the newest output.
    pub scroll: usize,
    /// Start of the memory view.
    pub memory_addr: u64,
    pub last_command: String,
}

impl View {
    fn log(&mut self, text: &str) {
        self.output.extend(text.lines().map(str::to_string));
        if self.output.len() > HISTORY {
            self.output.drain(..self.output.len() - HISTORY);
        }
        self.scroll = 0;
    }

    /// Runs a command line (an empty one repeats the last) and logs it; false when it asks to quit.
    pub fn run(&mut self, session: &mut Session, line: &str) -> bool {
        let line = if line.trim().is_empty() {
            self.last_command.clone()
        } else {
            line.trim().to_string()
        };
        if line.is_empty() {
            return true;
        }
        if matches!(line.as_str(), "quit" | "q" | "exit") {
            return false;
        }
        self.log(&format!("(capicola) {line}"));
        // A memory address named by the command becomes the memory view's.
        let mut words = line.split_whitespace();
        if let (Some("x" | "watch" | "watch-write" | "last-write"), Some(spec)) =
            (words.next(), words.next())
            && let Ok(addr) = address_of(session, spec)
        {
            self.memory_addr = addr & !0xf;
        }
        match commands::execute(session, &line) {
            Ok(text) => self.log(&text),
            Err(message) => self.log(&format!("error: {message}")),
        }
        self.last_command = line;
        true
    }
}

fn title(text: &str) -> Block<'_> {
    Block::bordered().title(Span::styled(
        format!(" {text} "),
        Style::default().add_modifier(Modifier::BOLD),
    ))
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, session: &Session, view: &View) {
    let [main, status, output, input] = Layout::vertical([
        Constraint::Min(10),
        Constraint::Length(1),
        Constraint::Length(9),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(main);
    let [code, memory] = Layout::vertical([Constraint::Min(6), Constraint::Length(8)]).areas(left);
    let [stack, locals, operands, globals] = Layout::vertical([
        Constraint::Percentage(30),
        Constraint::Percentage(30),
        Constraint::Percentage(20),
        Constraint::Percentage(20),
    ])
    .areas(right);

    render_code(frame, code, session);
    render_text(
        frame,
        memory,
        "memory",
        &memory_text(session, view.memory_addr),
    );
    render_text(frame, stack, "call stack", &command_text(session, "where"));
    render_text(frame, locals, "locals", &command_text(session, "locals"));
    render_text(
        frame,
        operands,
        "operand stack",
        &command_text(session, "stack"),
    );
    let mut globals_text = command_text(session, "globals");
    if !session.breaks.is_empty() {
        globals_text = format!(
            "{}\nbreakpoints:\n{globals_text}",
            command_text(session, "info breakpoints")
        );
    }
    render_text(frame, globals, "breakpoints, globals", &globals_text);

    let t = &session.timeline;
    let end = match t.end() {
        Some((pos, _)) => format!("end {pos}"),
        None => "end not reached".into(),
    };
    let status_line = format!(
        " position {}  |  {end}  |  {} checkpoints, {} KiB  |  F5 continue  F6 reverse  F10 next  F11 step  F7/F8 reverse step/next  Esc quit",
        t.position(),
        t.checkpoints().len(),
        t.memory_used() / 1024
    );
    frame.render_widget(
        Paragraph::new(status_line).style(Style::default().bg(Color::Blue).fg(Color::White)),
        status,
    );

    let height = output.height.saturating_sub(2) as usize;
    let end_line = view.output.len().saturating_sub(view.scroll);
    let start_line = end_line.saturating_sub(height);
    let lines: Vec<Line> = view.output[start_line..end_line]
        .iter()
        .map(|l| {
            if l.starts_with("(capicola) ") {
                Line::styled(l.clone(), Style::default().fg(Color::Cyan))
            } else if l.starts_with("error:") {
                Line::styled(l.clone(), Style::default().fg(Color::Red))
            } else {
                Line::raw(l.clone())
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(title("output")), output);
    frame.render_widget(Paragraph::new(format!("(capicola) {}", view.input)), input);
    frame.set_cursor_position((input.x + 11 + view.input.chars().count() as u16, input.y));
}

fn command_text(session: &Session, command: &str) -> String {
    commands::inspect(session, command).unwrap_or_else(|e| e)
}

fn memory_text(session: &Session, addr: u64) -> String {
    commands::inspect(session, &format!("x {addr:#x} 96")).unwrap_or_else(|e| e)
}

fn render_text(frame: &mut Frame, area: Rect, name: &str, text: &str) {
    frame.render_widget(
        Paragraph::new(text.to_string())
            .block(title(name))
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// Source around the current line when the module has a line table and the file can be read; otherwise the
/// internal code around the current instruction.
fn render_code(frame: &mut Frame, area: Rect, session: &Session) {
    let height = area.height.saturating_sub(2) as usize;
    if let Some(line) = session.current_line()
        && let Ok(text) = std::fs::read_to_string(&line.file)
    {
        let all: Vec<&str> = text.lines().collect();
        let current = line.line as usize;
        let first = current.saturating_sub(height / 2).max(1);
        let lines: Vec<Line> = all
            .iter()
            .enumerate()
            .skip(first - 1)
            .take(height)
            .map(|(i, l)| {
                let n = i + 1;
                let bp = session.breaks.iter().any(|b| {
                    b.spec
                        .rsplit_once(':')
                        .is_some_and(|(_, ln)| ln.parse::<usize>().ok() == Some(n))
                });
                let mark = if n == current {
                    "=>"
                } else if bp {
                    " *"
                } else {
                    "  "
                };
                let text = format!("{mark}{n:5} {l}");
                if n == current {
                    Line::styled(
                        text,
                        Style::default()
                            .bg(Color::DarkGray)
                            .add_modifier(Modifier::BOLD),
                    )
                } else {
                    Line::raw(text)
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines).block(title(&line.to_string())), area);
        return;
    }
    render_text(frame, area, "code", &command_text(session, "disas"));
}

type Screen = Terminal<CrosstermBackend<Stderr>>;

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stderr(), LeaveAlternateScreen, cursor::Show);
}

/// The command a function key stands for.
fn key_command(key: &KeyEvent) -> Option<&'static str> {
    Some(match key.code {
        KeyCode::F(5) if key.modifiers.contains(KeyModifiers::SHIFT) => "reverse-continue",
        KeyCode::F(5) => "continue",
        KeyCode::F(6) => "reverse-continue",
        KeyCode::F(7) => "reverse-step",
        KeyCode::F(8) => "reverse-next",
        KeyCode::F(10) => "next",
        KeyCode::F(11) => "step",
        _ => return None,
    })
}

/// Runs the UI on the terminal until the user quits. `opening`: the report of the first move, shown first.
pub fn run(session: &mut Session, opening: &str) -> io::Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let mut screen: Screen = {
        let mut backend = CrosstermBackend::new(io::stderr());
        if let Err(e) = execute!(backend, EnterAlternateScreen) {
            restore();
            return Err(e);
        }
        Terminal::new(backend)?
    };
    let mut view = View::default();
    view.log(opening);
    view.log("type `help` for the commands");
    let result = (|| -> io::Result<()> {
        loop {
            screen.draw(|frame| render(frame, session, &view))?;
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            if let Some(command) = key_command(&key) {
                view.run(session, command);
                continue;
            }
            match key.code {
                KeyCode::Esc => return Ok(()),
                KeyCode::Char('c' | 'd') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Ok(());
                }
                KeyCode::Enter => {
                    let line = std::mem::take(&mut view.input);
                    if !view.run(session, &line) {
                        return Ok(());
                    }
                }
                KeyCode::Backspace => {
                    view.input.pop();
                }
                KeyCode::PageUp => view.scroll = (view.scroll + 5).min(view.output.len()),
                KeyCode::PageDown => view.scroll = view.scroll.saturating_sub(5),
                KeyCode::Char(c) => view.input.push(c),
                _ => {}
            }
        }
    })();
    restore();
    let _ = io::stderr().flush();
    let _ = std::panic::take_hook();
    result
}

//! The HTML form of a coverage report: an index of functions and files, and one page per source file with its lines
//! coloured as `llvm-cov show` colours them (counts in a column; green reached, red not reached, no colour for lines
//! without code).

use std::fmt::Write as _;

use super::{CoverageReport, FileCoverage};

const STYLE: &str = "body{font-family:sans-serif}table{border-collapse:collapse}\
td,th{padding:0 .5em;text-align:left}td.num{text-align:right;color:#666}\
td.count{text-align:right}pre{margin:0}\
tr.reached td.count{background:#c8f0c8}tr.missed td.count,tr.missed td.code{background:#f8c8c8}\
.bad{color:#a00}";

/// The pages of the report, each as a file name (relative to the report folder) and its contents: `index.html`
/// first. `read_source` gives a source file's text from its DWARF path, or why it cannot.
pub fn pages(
    report: &CoverageReport,
    title: &str,
    read_source: impl Fn(&str) -> Result<String, String>,
) -> Vec<(String, String)> {
    let mut pages = vec![(String::from("index.html"), index(report, title))];
    for (i, file) in report.files.iter().enumerate() {
        pages.push((
            page_name(i, file),
            file_page(file, title, read_source(&file.path)),
        ));
    }
    pages
}

/// The page of the `i`th file: unique by its index, readable by its name.
fn page_name(i: usize, file: &FileCoverage) -> String {
    let name: String = file
        .short_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("file{i}-{name}.html")
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    )
}

fn index(report: &CoverageReport, title: &str) -> String {
    let mut html = head(&format!("coverage of {title}"));
    let _ = writeln!(html, "<h1>Coverage of {}</h1>", escape(title));
    let (reached, total) = report
        .files
        .iter()
        .fold((0, 0), |(r, t), f| (r + f.reached(), t + f.lines.len()));
    let _ = writeln!(
        html,
        "<p>Functions: {} of {} reached. Lines: {reached} of {total} reached.</p>",
        report.functions_reached(),
        report.functions.len()
    );
    html.push_str("<h2>Files</h2>\n");
    if report.files.is_empty() {
        html.push_str(
            "<p>No DWARF line table: build the target with <code>-g</code> for lines.</p>\n",
        );
    } else {
        html.push_str("<table><tr><th>File</th><th>Lines reached</th><th>Lines with code</th><th>%</th></tr>\n");
        for (i, file) in report.files.iter().enumerate() {
            let _ = writeln!(
                html,
                "<tr><td><a href=\"{}\">{}</a></td><td class=\"count\">{}</td><td class=\"count\">{}</td><td class=\"count\">{:.1}</td></tr>",
                page_name(i, file),
                escape(&file.path),
                file.reached(),
                file.lines.len(),
                file.percent()
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str(
        "<h2>Functions</h2>\n<table><tr><th>Calls</th><th>Function</th><th>Source</th></tr>\n",
    );
    for function in &report.functions {
        let class = if function.hits > 0 {
            "reached"
        } else {
            "missed"
        };
        let source = match function.start {
            Some((file, line)) => format!(
                "<a href=\"{}#L{line}\">{}</a>",
                page_name(file, &report.files[file]),
                escape(&report.start_of(function).unwrap_or_default())
            ),
            None => String::new(),
        };
        let _ = writeln!(
            html,
            "<tr class=\"{class}\"><td class=\"count\">{}</td><td class=\"code\">{}</td><td>{source}</td></tr>",
            function.hits,
            escape(&function.name)
        );
    }
    html.push_str("</table>\n</body></html>\n");
    html
}

fn file_page(file: &FileCoverage, title: &str, source: Result<String, String>) -> String {
    let mut html = head(&format!("{} — coverage of {title}", file.short_name()));
    let _ = writeln!(
        html,
        "<h1>{}</h1>\n<p><a href=\"index.html\">index</a> · {} of {} lines reached ({:.1}%)</p>",
        escape(&file.path),
        file.reached(),
        file.lines.len(),
        file.percent()
    );
    html.push_str("<table>\n");
    let row = |html: &mut String, number: u32, code: &str| {
        let (class, count) = match file.lines.get(&number) {
            Some(&hits) if hits > 0 => ("reached", hits.to_string()),
            Some(_) => ("missed", "0".to_string()),
            None => ("", String::new()),
        };
        let _ = writeln!(
            html,
            "<tr id=\"L{number}\" class=\"{class}\"><td class=\"num\">{number}</td><td class=\"count\">{count}</td><td class=\"code\"><pre>{}</pre></td></tr>",
            escape(code)
        );
    };
    match source {
        Ok(text) => {
            for (i, code) in text.lines().enumerate() {
                row(&mut html, i as u32 + 1, code);
            }
        }
        Err(why) => {
            let _ = writeln!(
                html,
                "<p class=\"bad\">Source not available: {}. Its lines with code:</p>",
                escape(&why)
            );
            for &number in file.lines.keys() {
                row(&mut html, number, "");
            }
        }
    }
    html.push_str("</table>\n</body></html>\n");
    html
}

/// `text` with HTML's special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

//! The lcov tracefile form of a coverage report (`genhtml` and IDEs read it): per source file its functions
//! (`FN`/`FNDA`), lines (`DA`) and totals.

use std::fmt::Write as _;

use super::CoverageReport;

/// The tracefile, test name `name` (lcov's `TN`: letters, digits and `_` only, others become `_`). Functions with no
/// source line are left out: lcov has no place for them.
pub fn tracefile(report: &CoverageReport, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut text = String::new();
    for (i, file) in report.files.iter().enumerate() {
        let _ = writeln!(text, "TN:{name}\nSF:{}", file.path);
        let functions: Vec<_> = report
            .functions
            .iter()
            .filter_map(|f| match f.start {
                Some((at, line)) if at == i => Some((f, line)),
                _ => None,
            })
            .collect();
        for (function, line) in &functions {
            let _ = writeln!(text, "FN:{line},{}", function.name);
        }
        for (function, _) in &functions {
            let _ = writeln!(text, "FNDA:{},{}", function.hits, function.name);
        }
        let _ = writeln!(
            text,
            "FNF:{}\nFNH:{}",
            functions.len(),
            functions.iter().filter(|(f, _)| f.hits > 0).count()
        );
        for (line, hits) in &file.lines {
            let _ = writeln!(text, "DA:{line},{hits}");
        }
        let _ = writeln!(
            text,
            "LF:{}\nLH:{}\nend_of_record",
            file.lines.len(),
            file.reached()
        );
    }
    text
}

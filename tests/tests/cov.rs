//! `capicola cov` on a `-g` harness: one input's reached lines carry their counts and the lines of the branch it does
//! not take are reported as not reached, in the text, the HTML report and the lcov tracefile (which genhtml reads
//! when it is installed); a campaign ends with its coverage-over-time plot as SVG.

use std::path::Path;
use std::process::Command;

use assert_cmd::Command as Cmd;
use capicola_tests::c_programs::{build_harness, workspace_root};
use capicola_tests::capicola_bin;

/// The line of harnesses/cov/cov.c holding `marker`.
fn line_of(marker: &str) -> u32 {
    let source = std::fs::read_to_string(workspace_root().join("harnesses/cov/cov.c"))
        .expect("the harness source is readable");
    let found = source
        .lines()
        .position(|line| line.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} in cov.c"));
    found as u32 + 1
}

/// Runs `capicola cov` on the harness with one input of `b` and 300 `a`s (which never starts with `Z`), with every
/// output asked for; returns stdout.
fn cov_of_one_input(dir: &Path) -> String {
    let input = dir.join("input");
    std::fs::write(&input, format!("b{}", "a".repeat(300))).expect("the input is written");
    let output = Cmd::new(capicola_bin())
        .arg("cov")
        .arg(build_harness("cov"))
        .arg(&input)
        .arg("-o")
        .arg(dir.join("report"))
        .arg("--lcov")
        .arg(dir.join("cov.info"))
        .arg("--lines")
        .assert()
        .success()
        .get_output()
        .clone();
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// The counts each line of cov.c must show: `a` 300 times past the 255 an edge map cell holds.
fn expected() -> [(u32, Option<u64>); 5] {
    [
        (line_of("COV-REACHED"), Some(1)),
        (line_of("COV-CALL-SAW-A"), Some(300)),
        (line_of("COV-SAW-A"), Some(300)),
        (line_of("COV-NOT-REACHED"), Some(0)),
        (line_of("COV-RARE-BODY"), Some(0)),
    ]
}

#[test]
fn one_input_names_the_lines_it_reaches_with_counts_and_the_others_as_not_reached() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let stdout = cov_of_one_input(dir.path());

    // Text: functions, then each line as `llvm-cov show` prints it.
    let function = |name: &str| {
        stdout
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .nth(if l.contains("not reached") { 3 } else { 2 })
                    == Some(name)
            })
            .unwrap_or_else(|| panic!("no function {name} in:\n{stdout}"))
            .to_string()
    };
    assert!(
        function("rare").trim_start().starts_with("not reached"),
        "{stdout}"
    );
    assert_eq!(
        function("rare").split_whitespace().nth(2),
        Some("0"),
        "{stdout}"
    );
    assert_eq!(
        function("saw_a").split_whitespace().nth(1),
        Some("300"),
        "{stdout}"
    );
    assert_eq!(
        function("common").split_whitespace().nth(1),
        Some("1"),
        "{stdout}"
    );
    // cov.c's listing: from its header to the next line that does not belong to it (other files list their own
    // line numbers).
    let listing: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.ends_with("harnesses/cov/cov.c:"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .collect();
    assert!(!listing.is_empty(), "no listing of cov.c in:\n{stdout}");
    for (line, count) in expected() {
        let row = listing
            .iter()
            .find(|l| l.split('|').next().map(str::trim) == Some(&line.to_string()))
            .unwrap_or_else(|| panic!("no line {line} in:\n{stdout}"));
        let shown = row.split('|').nth(1).map(str::trim);
        assert_eq!(
            shown,
            count.map(|c| c.to_string()).as_deref(),
            "line {line}: {row}"
        );
    }
    assert!(stdout.contains("lines: "), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("% ") && l.ends_with("harnesses/cov/cov.c")),
        "no per-file line total in:\n{stdout}"
    );

    // HTML: an index linking a page for cov.c whose lines are coloured by their counts.
    let report = dir.path().join("report");
    let index = std::fs::read_to_string(report.join("index.html")).expect("index.html written");
    let page = std::fs::read_dir(&report)
        .expect("the report folder lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .find(|name| name.ends_with("-cov.c.html"))
        .expect("a page for cov.c");
    assert!(index.contains(&format!("href=\"{page}\"")), "{index}");
    let html = std::fs::read_to_string(report.join(&page)).expect("the page is readable");
    for (line, count) in expected() {
        let count = count.expect("every expected line has code");
        let class = if count > 0 { "reached" } else { "missed" };
        let row = format!(
            "<tr id=\"L{line}\" class=\"{class}\"><td class=\"num\">{line}</td><td class=\"count\">{count}</td>"
        );
        assert!(html.contains(&row), "no {row} in {page}");
    }
    assert!(
        html.contains("saw_a(); // COV-CALL-SAW-A"),
        "the source is shown"
    );

    // lcov: the same counts, and functions with their calls.
    let info = std::fs::read_to_string(dir.path().join("cov.info")).expect("cov.info written");
    for (line, count) in expected() {
        let record = format!("DA:{line},{}", count.expect("code"));
        assert!(info.lines().any(|l| l == record), "no {record} in:\n{info}");
    }
    for record in [
        "FNDA:0,rare",
        "FNDA:300,saw_a",
        "FNDA:1,common",
        "end_of_record",
    ] {
        assert!(info.lines().any(|l| l == record), "no {record} in:\n{info}");
    }
    match Command::new("genhtml").arg("--version").output() {
        Ok(_) => {
            let out = Command::new("genhtml")
                .arg(dir.path().join("cov.info"))
                .arg("-o")
                .arg(dir.path().join("genhtml"))
                .output()
                .expect("genhtml runs");
            assert!(
                out.status.success(),
                "genhtml: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(dir.path().join("genhtml/index.html").is_file());
        }
        Err(_) => eprintln!(
            "SKIPPED: genhtml is not installed (apt-get install lcov): the tracefile was not read by it"
        ),
    }
}

#[test]
fn a_campaign_ends_with_its_coverage_plot_and_cov_redraws_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("out");
    Cmd::new(capicola_bin())
        .arg("fuzz")
        .arg(build_harness("cov"))
        .arg("-o")
        .arg(&out)
        .args(["--runs", "2000", "--seed", "1", "-q"])
        .assert()
        .success();
    let check = |svg: &str| {
        assert!(svg.contains("<svg"), "not an SVG: {svg:.200}");
        for series in ["edges covered", "corpus count", "execs/s"] {
            assert!(svg.contains(series), "no {series} in the plot");
        }
    };
    let svg_path = out.join("coverage.svg");
    check(&std::fs::read_to_string(&svg_path).expect("coverage.svg written"));
    std::fs::remove_file(&svg_path).expect("the plot can be removed");
    Cmd::new(capicola_bin())
        .arg("cov")
        .arg("--plot")
        .arg(out.join("plot_data"))
        .assert()
        .success();
    check(&std::fs::read_to_string(&svg_path).expect("coverage.svg drawn again"));
}

//! The coverage-over-time plot of a campaign: edges covered, corpus count and execs/s against run time, read from
//! its AFL-style `plot_data` and drawn as one SVG, `coverage.svg`, beside it.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::files::write_atomically;

/// The plot's file name in a campaign's output directory, beside `plot_data`.
pub const PLOT_FILE: &str = "coverage.svg";

/// What can keep the plot from being drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// `plot_data` could not be read or the plot written.
    #[error("cannot use {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `plot_data` holds no line of numbers.
    #[error("{0} holds no data line")]
    NoData(PathBuf),
    /// The drawing library failed.
    #[error("cannot draw the plot: {0}")]
    Draw(String),
}

/// One line of `plot_data`: the columns the plot shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotPoint {
    /// Seconds since the campaign started (`relative_time`).
    pub time: f64,
    /// `corpus_count`.
    pub corpus: f64,
    /// `execs_per_sec`.
    pub execs_per_sec: f64,
    /// `edges_found`.
    pub edges: f64,
}

/// The points of a `plot_data` text (AFL's columns, `#` lines are comments); lines that do not parse are skipped.
pub fn parse_plot_data(text: &str) -> Vec<PlotPoint> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let columns: Vec<&str> = line.split(',').map(str::trim).collect();
            let number = |i: usize| columns.get(i)?.trim_end_matches('%').parse::<f64>().ok();
            Some(PlotPoint {
                time: number(0)?,
                corpus: number(3)?,
                execs_per_sec: number(10)?,
                edges: number(12)?,
            })
        })
        .collect()
}

/// One panel of the plot: its name, the figure it draws and the line's colour.
type Series = (&'static str, fn(&PlotPoint) -> f64, RGBColor);

/// The SVG of `points`: three panels sharing the time axis.
pub fn draw(points: &[PlotPoint], title: &str) -> Result<String, PlotError> {
    let draw_error = |e: &dyn std::fmt::Display| PlotError::Draw(e.to_string());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 720)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_error(&e))?;
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| draw_error(&e))?;
        let panels = root.split_evenly((3, 1));
        let max_time = points.iter().map(|p| p.time).fold(1.0, f64::max);
        let series: [Series; 3] = [
            ("edges covered", |p| p.edges, BLUE),
            ("corpus count", |p| p.corpus, GREEN),
            ("execs/s", |p| p.execs_per_sec, RED),
        ];
        for (panel, (name, value, color)) in panels.iter().zip(series) {
            let max = points.iter().map(value).fold(1.0, f64::max) * 1.05;
            let mut chart = ChartBuilder::on(panel)
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..max_time, 0.0..max)
                .map_err(|e| draw_error(&e))?;
            chart
                .configure_mesh()
                .x_desc("seconds")
                .y_desc(name)
                .draw()
                .map_err(|e| draw_error(&e))?;
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.time, value(p))),
                    color,
                ))
                .map_err(|e| draw_error(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| draw_error(&e))?;
        }
        root.present().map_err(|e| draw_error(&e))?;
    }
    Ok(svg)
}

/// Draws the campaign plot of `plot_data` (AFL's file) into `svg`, atomically; its title names the campaign's folder.
pub fn write_plot(plot_data: &Path, svg: &Path) -> Result<(), PlotError> {
    let text = std::fs::read_to_string(plot_data).map_err(|source| PlotError::Io {
        path: plot_data.to_path_buf(),
        source,
    })?;
    let points = parse_plot_data(&text);
    if points.is_empty() {
        return Err(PlotError::NoData(plot_data.to_path_buf()));
    }
    let campaign = plot_data.parent().unwrap_or(Path::new("."));
    let drawing = draw(
        &points,
        &format!("coverage over time: {}", campaign.display()),
    )?;
    write_atomically(svg, drawing.as_bytes()).map_err(|source| PlotError::Io {
        path: svg.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_afl_columns_and_skips_the_header() {
        let text = "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, map_size, \
                    saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found\n\
                    1, 0, 0, 5, 0, 0, 1.50%, 0, 0, 0, 1234.5, 1234, 17\n";
        assert_eq!(
            parse_plot_data(text),
            vec![PlotPoint {
                time: 1.0,
                corpus: 5.0,
                execs_per_sec: 1234.5,
                edges: 17.0
            }]
        );
    }
}

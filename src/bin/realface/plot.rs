//! ROC and DET plots (plotters): FAR on a log axis, from the score sets.

use std::path::Path;

use plotters::prelude::*;
use realface::eval::metrics::Scores;

/// (FAR, TAR) points on a log-spaced FAR grid from 1/N to 1.
pub fn curve(scores: &Scores) -> Vec<(f64, f64)> {
    let n = scores.impostor.len().max(1) as f64;
    let lo = (1.0 / n).log10();
    let steps = 200;
    (0..=steps)
        .map(|i| {
            let far = 10f64.powf(lo + (0.0 - lo) * i as f64 / steps as f64);
            let t = scores.threshold_at_far(far);
            (scores.far(t).max(1.0 / n), scores.tar(t))
        })
        .collect()
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws an ROC (TAR against FAR) or DET (FRR against FAR) chart.
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    pts: &[(f64, f64)],
    det: bool,
    n_imp: usize,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let xmin = (1.0 / n_imp.max(1) as f64).min(1e-4);
    let mut builder = ChartBuilder::on(&root);
    let chart = builder
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60);
    if det {
        let mut c = chart
            .build_cartesian_2d((xmin..1.0f64).log_scale(), (1e-3..1.0f64).log_scale())
            .map_err(err)?;
        c.configure_mesh()
            .x_desc("FAR (false accept rate)")
            .y_desc("FRR (false reject rate)")
            .draw()
            .map_err(err)?;
        c.draw_series(LineSeries::new(
            pts.iter().map(|&(f, t)| (f, (1.0 - t).max(1e-3))),
            &RED,
        ))
        .map_err(err)?;
    } else {
        let mut c = chart
            .build_cartesian_2d((xmin..1.0f64).log_scale(), 0.0..1.0f64)
            .map_err(err)?;
        c.configure_mesh()
            .x_desc("FAR (false accept rate)")
            .y_desc("TAR (true accept rate)")
            .draw()
            .map_err(err)?;
        c.draw_series(LineSeries::new(pts.iter().copied(), &BLUE))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// Writes roc.png and det.svg.
pub fn write_plots(dir: &Path, title: &str, scores: &Scores) -> Result<(), String> {
    let pts = curve(scores);
    let n = scores.impostor.len();
    let png = dir.join("roc.png");
    draw(
        BitMapBackend::new(&png, (800, 600)).into_drawing_area(),
        &format!("ROC: {title}"),
        &pts,
        false,
        n,
    )?;
    let svg = dir.join("det.svg");
    draw(
        SVGBackend::new(&svg, (800, 600)).into_drawing_area(),
        &format!("DET: {title}"),
        &pts,
        true,
        n,
    )
}

/// DET plot of a PAD cue: BPCER against the worst species' APCER (linear axes,
/// since small data sets make log axes mostly empty).
pub fn write_pad_det(path: &Path, title: &str, pts: &[(f64, f64)]) -> Result<(), String> {
    let root = SVGBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut builder = ChartBuilder::on(&root);
    let mut c = builder
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0f64, 0.0..1.0f64)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc("APCER (worst attack species)")
        .y_desc("BPCER")
        .draw()
        .map_err(err)?;
    c.draw_series(LineSeries::new(pts.iter().copied(), &RED))
        .map_err(err)?;
    root.present().map_err(err)
}

/// One reaction window of the `eval challenge` chart, for one action: the
/// pass rates it gives (NaN where there is nothing to count).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct WindowPoint {
    /// The window (ms after the prompt by which an answer must start).
    pub window_ms: u64,
    /// Genuine placements on every labelled event.
    pub genuine: f64,
    /// Genuine placements on events performed on purpose.
    pub genuine_deliberate: f64,
    /// Clips replayed as recorded (nobody asked to act), random schedules.
    pub prerecorded: f64,
    /// Clips of deliberate actions replayed, random schedules.
    pub deliberate_recording: f64,
}

/// The reaction-window chart of `eval challenge`: three panels over the
/// window (ms) with a line per action — genuine pass (solid: every event;
/// dashed: deliberate events), pre-recorded video pass, and
/// deliberate-recording pass. PNG or SVG by the file's extension.
pub fn window_curve(
    curve: &std::collections::BTreeMap<String, Vec<WindowPoint>>,
    path: &Path,
) -> Result<(), String> {
    let size = (1500, 560);
    if path.extension().is_some_and(|x| x == "svg") {
        window_chart(SVGBackend::new(path, size).into_drawing_area(), curve)
    } else {
        window_chart(BitMapBackend::new(path, size).into_drawing_area(), curve)
    }
}

/// A panel's series: (label suffix, value, dashed).
type Pick = (&'static str, fn(&WindowPoint) -> f64, bool);

fn window_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    curve: &std::collections::BTreeMap<String, Vec<WindowPoint>>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            "Reaction window: what a person who answers gains, what a video of them gains",
            ("sans-serif", 20),
        )
        .map_err(err)?;
    let panels = root.split_evenly((1, 3));
    let xmax = curve
        .values()
        .flatten()
        .map(|p| p.window_ms)
        .max()
        .unwrap_or(2000) as f64;
    let attack_max = |f: fn(&WindowPoint) -> f64| {
        (curve
            .values()
            .flatten()
            .map(f)
            .filter(|v| v.is_finite())
            .fold(0.02f64, f64::max)
            * 1.15)
            .min(1.0)
    };
    let specs: [(&str, f64, Vec<Pick>); 3] = [
        (
            "genuine pass (solid: all events, dashed: deliberate)",
            1.05,
            vec![
                ("", |p| p.genuine, false),
                (" deliberate", |p| p.genuine_deliberate, true),
            ],
        ),
        (
            "pre-recorded video pass (single action)",
            attack_max(|p| p.prerecorded),
            vec![("", |p| p.prerecorded, false)],
        ),
        (
            "deliberate-recording pass (single action)",
            attack_max(|p| p.deliberate_recording),
            vec![("", |p| p.deliberate_recording, false)],
        ),
    ];
    let colours = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (area, (title, ymax, picks)) in panels.iter().zip(specs) {
        let mut c = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(400.0..xmax + 100.0, 0.0..ymax)
            .map_err(err)?;
        c.configure_mesh()
            .x_desc("window (ms after the prompt)")
            .y_desc("pass rate")
            .draw()
            .map_err(err)?;
        for (i, (action, pts)) in curve.iter().enumerate() {
            let colour = colours[i % colours.len()];
            for &(suffix, pick, dashed) in &picks {
                let ok: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|p| (p.window_ms as f64, pick(p)))
                    .filter(|p| p.1.is_finite())
                    .collect();
                if ok.is_empty() {
                    continue;
                }
                let style = colour.stroke_width(if dashed { 1 } else { 2 });
                let series = if dashed {
                    c.draw_series(DashedLineSeries::new(ok.iter().copied(), 6, 4, style))
                } else {
                    c.draw_series(LineSeries::new(ok.iter().copied(), style))
                }
                .map_err(err)?;
                series
                    .label(format!("{action}{suffix}"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
                c.draw_series(
                    ok.iter()
                        .map(|&(x, y)| Circle::new((x, y), 2, colour.filled())),
                )
                .map_err(err)?;
            }
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

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

/// The reaction-window chart of `eval challenge`: per action, genuine pass
/// rate against pre-recorded pass probability, one point per window
/// (labelled in ms). PNG or SVG by the file's extension.
pub fn window_curve(
    curve: &std::collections::BTreeMap<String, Vec<(u64, f64, f64)>>,
    path: &Path,
) -> Result<(), String> {
    let svg = path.extension().is_some_and(|x| x == "svg");
    if svg {
        window_chart(SVGBackend::new(path, (900, 650)).into_drawing_area(), curve)
    } else {
        window_chart(
            BitMapBackend::new(path, (900, 650)).into_drawing_area(),
            curve,
        )
    }
}

fn window_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    curve: &std::collections::BTreeMap<String, Vec<(u64, f64, f64)>>,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let xmax = curve
        .values()
        .flatten()
        .map(|p| p.2)
        .filter(|v| v.is_finite())
        .fold(0.1f64, f64::max)
        .min(1.0)
        * 1.1;
    let mut builder = ChartBuilder::on(&root);
    let mut c = builder
        .caption(
            "Reaction window: genuine pass vs pre-recorded video pass (one point per window, ms)",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, 0.0..1.05f64)
        .map_err(err)?;
    c.configure_mesh()
        .x_desc("pre-recorded video pass probability (single action)")
        .y_desc("genuine prompted pass rate")
        .draw()
        .map_err(err)?;
    let colours = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (i, (action, pts)) in curve.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let ok: Vec<(f64, f64, u64)> = pts
            .iter()
            .filter(|p| p.1.is_finite() && p.2.is_finite())
            .map(|p| (p.2, p.1, p.0))
            .collect();
        c.draw_series(LineSeries::new(ok.iter().map(|p| (p.0, p.1)), &colour))
            .map_err(err)?
            .label(action.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
        c.draw_series(ok.iter().map(|p| {
            EmptyElement::at((p.0, p.1))
                + Circle::new((0, 0), 3, colour.filled())
                + Text::new(format!("{}", p.2), (4, -12), ("sans-serif", 11))
        }))
        .map_err(err)?;
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

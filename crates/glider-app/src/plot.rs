//! Charts as self-contained SVG files, drawn with plotters and the bundled DejaVu Sans font
//! (assets/DejaVuSans.ttf, Bitstream Vera licence in assets/DejaVuSans-LICENSE.txt), so no
//! system font is needed.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::output::write_atomic;

static FONT: Once = Once::new();

fn register() {
    FONT.call_once(|| {
        // The bytes are a valid TTF compiled into the binary; a failure would leave plotters
        // without a font, which the drawing calls below report as an error.
        let _ = register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        );
    });
}

/// A colour on a white → blue scale for `t` in `[0, 1]`.
fn blues(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
}

/// Draws a `labels.len() × labels.len()` heatmap of `values` (row-major) as an SVG string,
/// with a colour scale beside it; the diagonal is drawn grey (a field with itself is not an
/// interaction). Colour runs from the smallest to the largest off-diagonal value.
///
/// # Errors
/// When `values` has the wrong length or plotters fails to draw.
pub fn heatmap_svg(title: &str, labels: &[String], values: &[f64]) -> Result<String> {
    register();
    let f = labels.len();
    if values.len() != f * f || f == 0 {
        return Err(anyhow!(
            "heatmap: {} values for {f} labels (need {})",
            values.len(),
            f * f
        ));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..f {
        for j in 0..f {
            if i != j && values[i * f + j].is_finite() {
                lo = lo.min(values[i * f + j]);
                hi = hi.max(values[i * f + j]);
            }
        }
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        hi = lo + 1.0;
    }
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as u32;
    let margin = (longest * 7 + 16).min(220);
    let cell = (480 / f as u32).clamp(12, 48);
    let side = cell * f as u32;
    let title_width = title.chars().count() as u32 * 8;
    let legend_width = 90u32;
    let width = (side + margin + 30).max(title_width + 20) + legend_width;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (width, side + margin + 50)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("heatmap: {e}"))?;
        let (main, legend) = root.split_horizontally(width - legend_width);
        // The colour scale: a strip from the smallest to the largest off-diagonal value.
        let mut bar = ChartBuilder::on(&legend)
            .margin_top(40)
            .margin_bottom(margin as i32 + 10)
            .margin_left(5)
            .right_y_label_area_size(60)
            .build_cartesian_2d(0f64..1f64, lo..hi)
            .map_err(|e| anyhow!("heatmap: {e}"))?;
        let steps = 50;
        bar.draw_series((0..steps).map(|k| {
            let a = lo + (hi - lo) * k as f64 / steps as f64;
            let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
            Rectangle::new(
                [(0.0, a), (1.0, b)],
                blues((k as f64 + 0.5) / steps as f64).filled(),
            )
        }))
        .map_err(|e| anyhow!("heatmap: {e}"))?;
        // Enough decimals to tell the scale's ends apart (a flat map spans 1e-6).
        let decimals = ((-(hi - lo).log10()).ceil() as i32 + 2).clamp(4, 9) as usize;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .y_label_style(("sans-serif", 10))
            .draw()
            .map_err(|e| anyhow!("heatmap: {e}"))?;
        // Segmented axes put one label at the centre of each cell; row 0 is drawn at the top.
        let mut chart = ChartBuilder::on(&main)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(margin)
            .y_label_area_size(margin)
            .build_cartesian_2d((0..f - 1).into_segmented(), (0..f - 1).into_segmented())
            .map_err(|e| anyhow!("heatmap: {e}"))?;
        let row = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < f => labels[f - 1 - *i].clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(f)
            .y_labels(f)
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&row)
            .y_label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| anyhow!("heatmap: {e}"))?;
        // Column names, written downwards from just under each column's centre.
        let style = ("sans-serif", 11)
            .into_font()
            .transform(FontTransform::Rotate90)
            .into_text_style(&root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (j, name) in labels.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(SegmentValue::CenterOf(j), SegmentValue::Exact(0)));
            root.draw(&Text::new(name.clone(), (x, y + 9), style.clone()))
                .map_err(|e| anyhow!("heatmap: {e}"))?;
        }
        chart
            .draw_series((0..f).flat_map(|i| {
                (0..f).map(move |j| {
                    let v = values[i * f + j];
                    let colour = if i == j || !v.is_finite() {
                        RGBColor(220, 220, 220)
                    } else {
                        blues((v - lo) / (hi - lo))
                    };
                    let y = f - 1 - i;
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(j), SegmentValue::Exact(y)),
                            (SegmentValue::Exact(j + 1), SegmentValue::Exact(y + 1)),
                        ],
                        colour.filled(),
                    )
                })
            }))
            .map_err(|e| anyhow!("heatmap: {e}"))?;
        root.present().map_err(|e| anyhow!("heatmap: {e}"))?;
    }
    Ok(svg)
}

/// [`heatmap_svg`] written atomically to `path`.
///
/// # Errors
/// As [`heatmap_svg`], or when the file cannot be written.
pub fn write_heatmap(path: &Path, title: &str, labels: &[String], values: &[f64]) -> Result<()> {
    let svg = heatmap_svg(title, labels, values)?;
    write_atomic(path, svg.as_bytes())
}

/// The orange that marks "+GLIDER" and the chosen cut-off.
const ORANGE: RGBColor = RGBColor(230, 120, 20);
/// The blue of the baseline and of plain bars.
const BLUE: RGBColor = RGBColor(49, 110, 180);

/// A horizontal bar chart of `items` (label, value), first item at the top, each bar labelled
/// with `value_text(value)`, as an SVG string.
///
/// # Errors
/// When `items` is empty, a value is not finite, or plotters fails to draw.
pub fn bar_chart_svg(
    title: &str,
    x_label: &str,
    items: &[(String, f64)],
    value_text: &dyn Fn(f64) -> String,
) -> Result<String> {
    register();
    let n = items.len();
    if n == 0 || items.iter().any(|(_, v)| !v.is_finite()) {
        return Err(anyhow!("bar chart: no bars, or a value that is not finite"));
    }
    let hi = items.iter().map(|(_, v)| *v).fold(0.0f64, f64::max);
    let hi = if hi > 0.0 { hi * 1.18 } else { 1.0 };
    let longest = items
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(1) as u32;
    let margin = (longest * 7 + 14).clamp(60, 360);
    let height = 70 + 24 * n as u32 + 40;
    let width = 420 + margin;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("bar chart: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(margin)
            .build_cartesian_2d(0f64..hi, (0..n - 1).into_segmented())
            .map_err(|e| anyhow!("bar chart: {e}"))?;
        let row = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < n => items[n - 1 - *i].0.clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&row)
            .y_label_style(("sans-serif", 11))
            .x_desc(x_label)
            .x_labels(6)
            .draw()
            .map_err(|e| anyhow!("bar chart: {e}"))?;
        chart
            .draw_series(items.iter().enumerate().map(|(k, (_, v))| {
                let y = n - 1 - k;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (*v, SegmentValue::Exact(y + 1)),
                    ],
                    BLUE.filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(|e| anyhow!("bar chart: {e}"))?;
        let style = ("sans-serif", 11)
            .into_font()
            .into_text_style(&root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (k, (_, v)) in items.iter().enumerate() {
            let y = n - 1 - k;
            let (px, py) = chart.backend_coord(&(*v, SegmentValue::CenterOf(y)));
            root.draw(&Text::new(value_text(*v), (px + 4, py), style.clone()))
                .map_err(|e| anyhow!("bar chart: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("bar chart: {e}"))?;
    }
    Ok(svg)
}

/// One group of [`paired_bars_svg`]: a name and, per series, a mean and a standard deviation.
pub struct BarGroup {
    /// The group's name under its bars (a target model).
    pub name: String,
    /// Per series: (mean, standard deviation); the deviation is drawn as an error bar.
    pub values: Vec<(f64, f64)>,
}

/// Grouped bars with ±1 standard deviation error bars (baseline vs +GLIDER per target model),
/// as an SVG string. The y axis spans the data, not from zero, so small gains stay visible.
///
/// # Errors
/// When there is no group, a group's value count differs from `series`, or plotters fails.
pub fn paired_bars_svg(
    title: &str,
    y_label: &str,
    series: &[&str],
    groups: &[BarGroup],
) -> Result<String> {
    register();
    let s = series.len();
    if groups.is_empty() || s == 0 || groups.iter().any(|g| g.values.len() != s) {
        return Err(anyhow!(
            "paired bars: every group needs one value per series"
        ));
    }
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (m, sd) in groups.iter().flat_map(|g| g.values.iter()) {
        lo = lo.min(m - finite(*sd));
        hi = hi.max(m + finite(*sd));
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(anyhow!("paired bars: values are not finite"));
    }
    let pad = ((hi - lo) * 0.25).max(1e-3);
    let (lo, hi) = (lo - pad, hi + pad);
    let colours = [BLUE, ORANGE, RGBColor(90, 160, 90), RGBColor(150, 90, 170)];
    let n = groups.len();
    let width = (140 * n as u32 + 160).max(420);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("paired bars: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, lo..hi)
            .map_err(|e| anyhow!("paired bars: {e}"))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_desc(y_label)
            .y_label_formatter(&|v| format!("{v:.4}"))
            .draw()
            .map_err(|e| anyhow!("paired bars: {e}"))?;
        let slot = 0.7 / s as f64;
        for (k, name) in series.iter().enumerate() {
            let colour = colours[k % colours.len()];
            let x0 = |g: usize| g as f64 + 0.15 + slot * k as f64;
            chart
                .draw_series(groups.iter().enumerate().map(|(g, group)| {
                    let (m, _) = group.values[k];
                    let mut bar = Rectangle::new([(x0(g), lo), (x0(g) + slot, m)], colour.filled());
                    bar.set_margin(0, 0, 2, 2);
                    bar
                }))
                .map_err(|e| anyhow!("paired bars: {e}"))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
            chart
                .draw_series(groups.iter().enumerate().map(|(g, group)| {
                    let (m, sd) = group.values[k];
                    let sd = finite(sd);
                    let x = x0(g) + slot / 2.0;
                    ErrorBar::new_vertical(x, m - sd, m, m + sd, BLACK.filled(), 8)
                }))
                .map_err(|e| anyhow!("paired bars: {e}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| anyhow!("paired bars: {e}"))?;
        let style = ("sans-serif", 12)
            .into_font()
            .into_text_style(&root)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (g, group) in groups.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64 + 0.5, lo));
            root.draw(&Text::new(group.name.clone(), (px, py + 6), style.clone()))
                .map_err(|e| anyhow!("paired bars: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("paired bars: {e}"))?;
    }
    Ok(svg)
}

/// A line with point markers through `points` (x ascending), and a dashed vertical line at
/// `mark` (NID's chosen cut-off), as an SVG string.
///
/// # Errors
/// When there are no finite points, or plotters fails.
pub fn line_chart_svg(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
    mark: Option<(f64, &str)>,
) -> Result<String> {
    register();
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.is_empty() {
        return Err(anyhow!("line chart: no finite points"));
    }
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in &pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let xpad = ((x1 - x0) * 0.05).max(0.5);
    let ypad = ((y1 - y0) * 0.1).max(1e-6 * y1.abs().max(1.0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("line chart: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), (y0 - ypad)..(y1 + ypad))
            .map_err(|e| anyhow!("line chart: {e}"))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .y_label_formatter(&|v| format!("{v:.4}"))
            .draw()
            .map_err(|e| anyhow!("line chart: {e}"))?;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), BLUE.stroke_width(2)))
            .map_err(|e| anyhow!("line chart: {e}"))?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))
            .map_err(|e| anyhow!("line chart: {e}"))?;
        if let Some((x, label)) = mark {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, y0 - ypad), (x, y1 + ypad)],
                    6,
                    4,
                    ORANGE.stroke_width(2),
                ))
                .map_err(|e| anyhow!("line chart: {e}"))?
                .label(label)
                .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], ORANGE.stroke_width(2)));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 11))
                .draw()
                .map_err(|e| anyhow!("line chart: {e}"))?;
        }
        root.present().map_err(|e| anyhow!("line chart: {e}"))?;
    }
    Ok(svg)
}

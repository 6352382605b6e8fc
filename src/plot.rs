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
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.4}"))
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

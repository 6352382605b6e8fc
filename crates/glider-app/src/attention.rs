//! `glider attention`: what an attention model says about interactions itself (ante-hoc,
//! spec 4), beside GLIDER's post-hoc answer.
//!
//! Writes `attention.json` (every map averaged over the sample, the per-field weights, the
//! symmetric pair score, the documented rule and the field pairs ranked by it) and
//! `attention_heatmap.svg` (the pair score as a field-by-field heatmap).

use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;

use glider_nn::ctr::{FieldMap, FieldWeights};

use crate::output::write_json;

/// One ranked field pair.
#[derive(Debug, Serialize)]
pub struct RankedPair {
    /// The two field names, in field order.
    pub fields: [String; 2],
    /// The pair score (the model's rule, see `rule`).
    pub score: f64,
}

/// `attention.json`.
#[derive(Debug, Serialize)]
pub struct AttentionFile {
    /// The architecture.
    pub model: String,
    /// The data file the sample came from.
    pub data: String,
    /// Rows averaged over (the first N rows of the file).
    pub rows: usize,
    /// Field names; every map is `fields × fields`, row-major, in this order.
    pub fields: Vec<String>,
    /// How `pair_scores` is made from the maps.
    pub rule: String,
    /// Field pairs by pair score, strongest first.
    pub ranked_pairs: Vec<RankedPair>,
    /// The symmetric pair score, `fields × fields`, row-major.
    pub pair_scores: Vec<f64>,
    /// The raw maps (attention per layer and head, bilinear magnitudes).
    pub maps: Vec<FieldMap>,
    /// Per-field weights (SENET, attention per order).
    pub field_weights: Vec<FieldWeights>,
}

/// Runs `glider attention`; returns the summary to print.
///
/// # Errors
/// An unreadable model or data file, a model without attention maps, or an output that
/// cannot be written.
pub fn run(model_dir: &Path, data_path: &Path, out: &Path, sample: usize) -> Result<String> {
    if sample == 0 {
        bail!("--sample must be at least 1");
    }
    let loaded = crate::model_dir::load(model_dir, data_path)?;
    let kind = loaded.card.model;
    if !kind.has_interaction_maps() {
        bail!(
            "{} is a {kind} model, which has no attention or bilinear maps; \
             `glider attention` works for autoint, autoint+, fibinet and interhat \
             (use `glider detect` to explain any model with GLIDER)",
            model_dir.display()
        );
    }
    let n = loaded.data.num_rows().min(sample);
    if n == 0 {
        bail!("{}: no rows", data_path.display());
    }
    let rows: Vec<usize> = (0..n).collect();
    let batch = loaded.model.encoder().encode_rows(&loaded.data, &rows);
    let Some(maps) = loaded.model.interaction_maps(&batch)? else {
        bail!("{kind} returned no maps");
    };
    let names = loaded.data.field_names();
    let ranked_pairs = maps
        .ranked_pairs()
        .into_iter()
        .map(|(i, j, score)| RankedPair {
            fields: [names[i].clone(), names[j].clone()],
            score,
        })
        .collect::<Vec<_>>();
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("creating {}: {e}", out.display()))?;
    crate::plot::write_heatmap(
        &out.join("attention_heatmap.svg"),
        &format!("{kind}: field pair score ({n} rows)"),
        &names,
        &maps.pair_scores,
    )?;
    // A map whose pair scores barely differ says nothing about pairs: say so.
    let scores: Vec<f64> = ranked_pairs.iter().map(|p| p.score).collect();
    let (lo, hi) = scores
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
    let flat = scores.len() > 1 && (hi - lo) <= 0.01 * mean.abs();
    let top: Vec<String> = ranked_pairs
        .iter()
        .take(5)
        .map(|p| format!("{} × {} ({:.4})", p.fields[0], p.fields[1], p.score))
        .collect();
    let file = AttentionFile {
        model: kind.name().to_string(),
        data: data_path.display().to_string(),
        rows: n,
        fields: names,
        rule: maps.rule.clone(),
        ranked_pairs,
        pair_scores: maps.pair_scores.clone(),
        maps: maps.maps.clone(),
        field_weights: maps.field_weights.clone(),
    };
    write_json(&out.join("attention.json"), &file)?;
    let warning = if flat {
        format!(
            "\nNote: every pair score lies within 1% of the mean ({lo:.4} to {hi:.4}): this \
             model's {} does not single out field pairs, so the ranking above is noise. \
             GLIDER (`glider detect`) explains the same model post hoc.",
            if kind == glider_nn::ctr::ModelKind::FiBiNet {
                "bilinear map"
            } else {
                "attention"
            }
        )
    } else {
        String::new()
    };
    Ok(format!(
        "{kind} interaction maps over {n} rows; strongest pairs: {}\nRule: {}{warning}\nWrote {}/attention.json, attention_heatmap.svg",
        top.join(", "),
        file.rule,
        out.display()
    ))
}

//! `glider encode`: GLIDER's interactions as cross features (spec 3.3), on files.
//!
//! - `glider encode --data F --interactions global_interactions.json --out DIR` fits one cross
//!   per interaction on F's rows (dense members cut at quantile edges, rare value tuples
//!   dropped) and writes DIR/crosses.json and DIR/data.csv (F with the cross columns appended).
//! - `glider encode --apply crosses.json --data G --out DIR` appends the same crosses to another
//!   file G (validation, test, tomorrow's logs), with the edges and tuples fitted before.

use std::path::Path;

use anyhow::{bail, Context, Result};

use glider_data::cross::{apply_crosses, fit_crosses, CrossOptions, CrossSpec};
use glider_data::{Column, Dataset};
use glider_explain::pipeline::GlobalInteractionsFile;

use crate::output::{write_atomic, write_json};

/// Reads `global_interactions.json` and maps its first `top_k` interactions (all when
/// `top_k` is `None`) to field indices of `data`.
///
/// # Errors
/// An unreadable or malformed file; an interaction naming a field `data` does not have (the
/// message names the file, the interaction's rank and the field, and lists the fields);
/// an interaction of fewer than two fields.
pub fn interactions_of(
    path: &Path,
    data: &Dataset,
    top_k: Option<usize>,
) -> Result<Vec<Vec<usize>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: GlobalInteractionsFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a global_interactions.json (as `glider run` or `glider detect` write it)",
            path.display()
        )
    })?;
    let take = top_k.unwrap_or(file.interactions.len());
    let mut sets = Vec::new();
    for (rank, interaction) in file.interactions.iter().take(take).enumerate() {
        if interaction.fields.len() < 2 {
            bail!(
                "{}: interaction {} has {} field(s); a cross needs at least two",
                path.display(),
                rank + 1,
                interaction.fields.len()
            );
        }
        let mut set = Vec::with_capacity(interaction.fields.len());
        for name in &interaction.fields {
            let Some(f) = data.field_index(name) else {
                bail!(
                    "{}: interaction {} ({}) names field \"{name}\", which {} does not have \
                     (its fields: {}). Were the interactions found on another dataset?",
                    path.display(),
                    rank + 1,
                    interaction.fields.join(" × "),
                    data.source,
                    data.field_names().join(", ")
                );
            };
            set.push(f);
        }
        sets.push(set);
    }
    if sets.is_empty() {
        bail!("{}: no interactions to encode", path.display());
    }
    Ok(sets)
}

/// Fits crosses for `interactions` on every row of `data` (the first `options.batch_rows`).
///
/// # Errors
/// As [`fit_crosses`].
pub fn fit(
    data: &Dataset,
    interactions: &[Vec<usize>],
    options: &CrossOptions,
) -> Result<CrossSpec> {
    let rows: Vec<usize> = (0..data.num_rows()).collect();
    Ok(fit_crosses(data, &rows, interactions, options)?)
}

/// Reads a crosses.json.
///
/// # Errors
/// An unreadable file, or one that is not a crosses.json.
pub fn read_spec(path: &Path) -> Result<CrossSpec> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a crosses.json (as `glider run` or `glider encode` write it)",
            path.display()
        )
    })
}

/// Appends `spec`'s crosses to `data` and writes it as CSV to `out` (label first, then every
/// field; a missing categorical value and a missing dense value are empty cells).
///
/// # Errors
/// A cross that does not fit `data` (a member field it lacks, a dense member without bin
/// edges: a crosses file from another dataset), or an output that cannot be written.
pub fn apply_and_write(
    data: &mut Dataset,
    spec: &CrossSpec,
    spec_path: &Path,
    out: &Path,
) -> Result<()> {
    apply_crosses(data, spec)
        .with_context(|| format!("applying the crosses of {}", spec_path.display()))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![data.label_name.clone()];
    header.extend(data.field_names());
    w.write_record(&header)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for r in 0..data.num_rows() {
        record.clear();
        let label = data.labels[r];
        record.push(if label == 0.0 || label == 1.0 {
            format!("{label:.0}")
        } else {
            label.to_string()
        });
        for c in &data.columns {
            record.push(match c {
                Column::Categorical { codes, dictionary } => match codes[r] {
                    0 => String::new(),
                    code => dictionary[code as usize].clone(),
                },
                Column::Dense { values } if values[r].is_finite() => values[r].to_string(),
                Column::Dense { .. } => String::new(),
            });
        }
        w.write_record(&record)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {e}"))?;
    write_atomic(out, &bytes)
}

/// Writes `spec` to `out/crosses.json`.
///
/// # Errors
/// I/O failures.
pub fn write_spec(out: &Path, spec: &CrossSpec) -> Result<()> {
    write_json(&out.join("crosses.json"), spec)
}

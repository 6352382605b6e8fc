//! `glider encode`: GLIDER's interactions as cross features (spec 3.3), on files.
//!
//! - `glider encode --data F --interactions global_interactions.json --out DIR` fits one cross
//!   per interaction on F's rows (dense members cut at quantile edges, rare value tuples
//!   dropped) and writes DIR/crosses.json and DIR/data.csv (F with the cross columns appended).
//! - `glider encode --apply crosses.json --data G --out DIR` appends the same crosses to another
//!   file G (validation, test, tomorrow's logs), with the edges and tuples fitted before.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

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

/// Where `glider encode`'s crosses come from.
#[derive(Clone, Debug, PartialEq)]
pub enum CrossSource {
    /// Fit one cross per interaction of this `global_interactions.json` (its first `top_k`,
    /// all when `None`), numeric members cut into `bins` bins, tuples seen at most
    /// `min_count` allows dropped.
    Fit {
        /// The interactions file.
        interactions: std::path::PathBuf,
        /// Interactions to encode.
        top_k: Option<usize>,
        /// Bins of a numeric member, at least 2.
        bins: usize,
        /// How often a tuple must be seen to get its own id.
        min_count: glider_data::cross::CrossMinCount,
    },
    /// Apply a `crosses.json` fitted before, unchanged.
    Apply(std::path::PathBuf),
}

/// What [`encode_file`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// Rows written.
    pub rows: usize,
    /// Each cross's name and its number of kept tuples.
    pub crosses: Vec<(String, usize)>,
    /// Whether `crosses.json` was written (the crosses were fitted).
    pub wrote_spec: bool,
}

/// `glider encode`: reads the one file `data` names, fits or applies crosses, and writes
/// `out/data.csv` (the rows with the cross columns appended) and, when fitted,
/// `out/crosses.json`. Everything is checked before the first file is written.
///
/// # Errors
/// A [`crate::Usage`] error for validation/test files, `bins` < 2 or `top_k` = 0; the
/// reader's error; a crosses file that does not fit the data; I/O failures.
pub fn encode_file(
    data: &crate::data::DataOptions,
    source: &CrossSource,
    out: &Path,
) -> Result<Encoded> {
    if data.validation.is_some() || data.test.is_some() {
        crate::usage!(
            "glider encode reads one file (--data); encode the others with --apply \
             OUT/crosses.json"
        );
    }
    if let CrossSource::Fit { bins, top_k, .. } = source {
        if *bins < 2 || *top_k == Some(0) {
            crate::usage!("--bins must be at least 2 and --top-k at least 1");
        }
    }
    let mut dataset = data.read_one(false)?;
    let (spec, spec_path) = match source {
        CrossSource::Fit {
            interactions,
            top_k,
            bins,
            min_count,
        } => {
            let sets = interactions_of(interactions, &dataset, *top_k)?;
            let options = min_count.apply(CrossOptions {
                dense_bins: *bins,
                ..CrossOptions::default()
            });
            (fit(&dataset, &sets, &options)?, interactions.as_path())
        }
        CrossSource::Apply(path) => (read_spec(path)?, path.as_path()),
    };
    // Check on an empty copy before the first file is written: no partial output.
    let mut probe = Dataset {
        source: dataset.source.clone(),
        label_name: dataset.label_name.clone(),
        fields: dataset.fields.clone(),
        labels: Vec::new(),
        label_classes: dataset.label_classes.clone(),
        columns: dataset
            .columns
            .iter()
            .map(|c| match c {
                Column::Categorical { dictionary, .. } => Column::Categorical {
                    codes: Vec::new(),
                    dictionary: dictionary.clone(),
                },
                Column::Dense { .. } => Column::Dense { values: Vec::new() },
            })
            .collect(),
    };
    apply_crosses(&mut probe, &spec)
        .with_context(|| format!("applying the crosses of {}", spec_path.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let rows = dataset.num_rows();
    apply_and_write(&mut dataset, &spec, spec_path, &out.join("data.csv"))?;
    let wrote_spec = matches!(source, CrossSource::Fit { .. });
    if wrote_spec {
        write_spec(out, &spec)?;
    }
    Ok(Encoded {
        rows,
        crosses: spec
            .crosses
            .iter()
            .map(|c| (c.name.clone(), c.tuples.len()))
            .collect(),
        wrote_spec,
    })
}

/// The crosses of a partitioned fit (a table too large for one process, issue 18): each
/// cross's members in field order and which of them are dense. Built once from any
/// partition ([`plan`]); every later step speaks in field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCross {
    /// Member fields in the table's field order.
    pub fields: Vec<String>,
    /// The dense members (their bin edges come from the first pass).
    pub dense: Vec<String>,
}

/// Resolves interactions given by field names to field indices of `data`.
///
/// # Errors
/// An interaction of fewer than two fields, or naming a field `data` lacks (the message names
/// the interaction's rank and lists the fields); no interactions.
pub fn resolve_sets(data: &Dataset, interactions: &[Vec<String>]) -> Result<Vec<Vec<usize>>> {
    let mut sets = Vec::with_capacity(interactions.len());
    for (rank, names) in interactions.iter().enumerate() {
        if names.len() < 2 {
            bail!(
                "interaction {} has {} field(s); a cross needs at least two",
                rank + 1,
                names.len()
            );
        }
        let mut set = Vec::with_capacity(names.len());
        for name in names {
            let Some(f) = data.field_index(name) else {
                bail!(
                    "interaction {} ({}) names field \"{name}\", which the data does not have \
                     (its fields: {})",
                    rank + 1,
                    names.join(" × "),
                    data.field_names().join(", ")
                );
            };
            set.push(f);
        }
        sets.push(set);
    }
    if sets.is_empty() {
        bail!("no interactions to encode");
    }
    Ok(sets)
}

/// The plan of a partitioned fit of `interactions` on tables shaped like `data`.
///
/// # Errors
/// As [`resolve_sets`].
pub fn plan(data: &Dataset, interactions: &[Vec<String>]) -> Result<Vec<PlannedCross>> {
    Ok(resolve_sets(data, interactions)?
        .into_iter()
        .map(|mut set| {
            set.sort_unstable();
            set.dedup();
            PlannedCross {
                fields: set.iter().map(|&f| data.fields[f].name.clone()).collect(),
                dense: set
                    .iter()
                    .filter(|&&f| matches!(data.columns[f], Column::Dense { .. }))
                    .map(|&f| data.fields[f].name.clone())
                    .collect(),
            }
        })
        .collect())
}

/// First pass on one partition: every dense member's value counts
/// ([`glider_data::cross::dense_value_counts`]), by field name.
///
/// # Errors
/// A planned field this partition lacks, or one that is not dense here.
pub fn partition_value_counts(
    data: &Dataset,
    plan: &[PlannedCross],
) -> Result<std::collections::BTreeMap<String, Vec<(f32, u64)>>> {
    let rows: Vec<usize> = (0..data.num_rows()).collect();
    let mut out = std::collections::BTreeMap::new();
    for name in plan.iter().flat_map(|c| &c.dense) {
        let f = field_of(data, name)?;
        if !matches!(data.columns[f], Column::Dense { .. }) {
            bail!(
                "{}: field \"{name}\" is not dense in this partition",
                data.source
            );
        }
        out.entry(name.clone())
            .or_insert_with(|| glider_data::cross::dense_value_counts(data, &rows, f));
    }
    Ok(out)
}

fn field_of(data: &Dataset, name: &str) -> Result<usize> {
    data.field_index(name).with_context(|| {
        format!(
            "{}: no field \"{name}\" (its fields: {})",
            data.source,
            data.field_names().join(", ")
        )
    })
}

/// The dense members' bin edges from the partitions' value counts, merged exactly: the same
/// edges as [`glider_core::cross::mass_quantile_edges`] on the whole column.
pub fn merged_edges(
    parts: &[std::collections::BTreeMap<String, Vec<(f32, u64)>>],
    bins: usize,
) -> std::collections::BTreeMap<String, Vec<f32>> {
    let mut all: std::collections::BTreeMap<String, Vec<(f32, u64)>> = Default::default();
    for part in parts {
        for (name, counts) in part {
            all.entry(name.clone())
                .or_default()
                .extend(counts.iter().copied());
        }
    }
    all.into_iter()
        .map(|(name, pairs)| {
            let merged = glider_core::cross::value_counts(pairs);
            (
                name,
                glider_core::cross::mass_quantile_edges_from_counts(&merged, bins),
            )
        })
        .collect()
}

/// Second pass on one partition: each planned cross's tuple counts.
///
/// # Errors
/// A planned field this partition lacks.
pub fn partition_tuple_counts(
    data: &Dataset,
    plan: &[PlannedCross],
    edges: &std::collections::BTreeMap<String, Vec<f32>>,
) -> Result<Vec<glider_data::cross::TupleCounts>> {
    let rows: Vec<usize> = (0..data.num_rows()).collect();
    plan.iter()
        .map(|cross| {
            let set = cross
                .fields
                .iter()
                .map(|n| field_of(data, n))
                .collect::<Result<Vec<_>>>()?;
            Ok(glider_data::cross::count_tuples(data, &rows, &set, edges)?)
        })
        .collect()
}

/// The crosses from every partition's tuple counts, merged in the table's partition order
/// (first appearance is then the whole table's), with the min-count rule applied to the merged
/// counts; the batch is the whole table. Equal to [`fit`] on the table in one process when
/// `options.batch_rows` covers its rows.
///
/// # Errors
/// Partitions that counted a different number of crosses than planned.
pub fn spec_from_parts(
    plan: &[PlannedCross],
    edges: &std::collections::BTreeMap<String, Vec<f32>>,
    parts: &[Vec<glider_data::cross::TupleCounts>],
    options: &CrossOptions,
) -> Result<CrossSpec> {
    let mut merged = vec![glider_data::cross::TupleCounts::default(); plan.len()];
    for part in parts {
        if part.len() != plan.len() {
            bail!(
                "a partition counted {} crosses, {} were planned",
                part.len(),
                plan.len()
            );
        }
        for (m, counts) in merged.iter_mut().zip(part) {
            m.merge(counts);
        }
    }
    let rows = merged.first().map_or(0, |m| m.rows) as usize;
    let threshold = glider_core::cross::min_count_threshold(
        rows,
        options.min_count_rate,
        options.min_count_floor,
        options.min_count_sqrt,
    );
    let crosses = plan
        .iter()
        .zip(&merged)
        .map(|(cross, counts)| {
            let bin_edges = cross
                .dense
                .iter()
                .map(|n| (n.clone(), edges.get(n).cloned().unwrap_or_default()))
                .collect();
            glider_data::cross::cross_from_counts(
                cross.fields.clone(),
                bin_edges,
                counts,
                threshold,
            )
        })
        .collect();
    Ok(CrossSpec {
        options: options.clone(),
        batch_rows: rows,
        min_count: threshold,
        crosses,
    })
}

//! Interaction encoding by truncated sparse feature crossing (spec 3.3), at the dataset level.
//!
//! For each selected interaction a new categorical field is appended whose value is the tuple
//! of its members' values: a categorical member contributes its value string, a dense member
//! the index of its bin (edges fitted on the reference batch). Only tuples seen more
//! than `max(rate × batch rows, floor)` times in the batch are kept, with ids `1..=M` in order
//! of first appearance; everything else, including tuples unseen in the batch and any tuple
//! with a missing member, is id 0 = missing.
//!
//! The fitted [`CrossSpec`] speaks in value strings and bin edges, not in this file's codes, so
//! `crosses.json` applies unchanged to any other file with the same columns.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use glider_core::cross::{bin_index, mass_quantile_edges_from_counts, min_count_threshold};

use crate::dataset::{Column, Dataset};
use crate::encode::fnv1a_64;
use crate::error::DataError;

/// Settings of the crossing (spec 3.3 defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossOptions {
    /// Bins for dense members (8; the reference used 100): about equal row counts, a value
    /// holding many rows in a bin of its own
    /// ([`glider_core::cross::mass_quantile_edges`]). Coarser than a field's own encoding:
    /// per-value members make crosses too sparse.
    pub dense_bins: usize,
    /// A tuple is kept when seen more than `rate × batch rows` times (1e-4)...
    pub min_count_rate: f64,
    /// ...and more than this many times (10), for small data...
    pub min_count_floor: usize,
    /// ...and more than this × √(batch rows) times (0, the reference and the default; 1.5
    /// with [`CrossMinCount::Auto`]). Measured (issue 15, BENCHMARKS.md): on Adult and
    /// Criteo 10k a floor of 10 lets in tuples that deep targets memorise (~300 on Adult's
    /// 39k rows did best), but on the planted benchmark 1.5 × √rows cut Wide&Deep's gain
    /// from +0.069 to +0.023: strong interactions with many tuples need the low floor.
    #[serde(default)]
    pub min_count_sqrt: f64,
    /// The reference batch: the first this many training rows (1,000,000).
    pub batch_rows: usize,
    /// When N > 0, a tuple below the min count is not dropped (id 0, no contribution) but
    /// hashed into one of N shared buckets: id `kept + 1 + fnv1a_64("a|b") % N`, where `"a|b"`
    /// is the tuple as [`CrossField::tuples`] writes it. 0 (the default, also when absent from
    /// a saved file) = the reference truncation. With a min count above every tuple's count
    /// this is the plain hashing trick.
    #[serde(default)]
    pub hash_buckets: usize,
}

impl Default for CrossOptions {
    fn default() -> Self {
        CrossOptions {
            dense_bins: 8,
            min_count_rate: 1e-4,
            min_count_floor: 10,
            min_count_sqrt: 0.0,
            batch_rows: 1_000_000,
            hash_buckets: 0,
        }
    }
}

/// The `--cross-min-count` setting: how often a value tuple must be seen to get its own
/// cross id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossMinCount {
    /// More than `max(10, 1e-4 × rows, 1.5 × √rows)` times: sized to the rows (see
    /// [`CrossOptions::min_count_sqrt`] for where it helps and where it hurts).
    Auto,
    /// More than `max(N, 1e-4 × rows)` times: the reference rule (spec 3.3) with floor N
    /// (the default, N = 10).
    AtLeast(usize),
}

impl Default for CrossMinCount {
    fn default() -> Self {
        CrossMinCount::AtLeast(10)
    }
}

impl CrossMinCount {
    /// `options` with this rule's floor and √rows coefficient.
    pub fn apply(self, options: CrossOptions) -> CrossOptions {
        match self {
            CrossMinCount::Auto => CrossOptions {
                min_count_floor: 10,
                min_count_sqrt: 1.5,
                ..options
            },
            CrossMinCount::AtLeast(n) => CrossOptions {
                min_count_floor: n,
                min_count_sqrt: 0.0,
                ..options
            },
        }
    }
}

impl std::str::FromStr for CrossMinCount {
    type Err = String;

    /// `auto` or a whole number.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") {
            return Ok(CrossMinCount::Auto);
        }
        s.parse::<usize>()
            .map(CrossMinCount::AtLeast)
            .map_err(|_| format!("\"{s}\": give `auto` or a whole number of rows"))
    }
}

impl std::fmt::Display for CrossMinCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrossMinCount::Auto => f.write_str("auto"),
            CrossMinCount::AtLeast(n) => write!(f, "{n}"),
        }
    }
}

/// One cross feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossField {
    /// Name of the appended field, `cross(a,b)`.
    pub name: String,
    /// The member fields, in field order.
    pub fields: Vec<String>,
    /// Quantile bin edges of each dense member (bin = number of edges ≤ value).
    pub bin_edges: BTreeMap<String, Vec<f32>>,
    /// The kept tuples; tuple `i` has id `i + 1`. Each holds one string per member: the value
    /// of a categorical member, the bin index of a dense member.
    pub tuples: Vec<Vec<String>>,
}

/// The fitted crossing: what `crosses.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrossSpec {
    /// The options it was fitted with.
    pub options: CrossOptions,
    /// Rows in the reference batch.
    pub batch_rows: usize,
    /// The count a tuple had to exceed.
    pub min_count: f64,
    /// The cross features, in the order they are appended.
    pub crosses: Vec<CrossField>,
}

/// Name of the cross field of the given members.
pub fn cross_name(fields: &[String]) -> String {
    format!("cross({})", fields.join(","))
}

/// A tuple of member codes as [`CrossField::tuples`] writes it, joined by `|`: a categorical
/// member's value, a dense member's bin index.
fn tuple_text(data: &Dataset, members: &[usize], key: &[u32]) -> String {
    let parts: Vec<String> = members
        .iter()
        .zip(key)
        .map(|(&f, &code)| match &data.columns[f] {
            Column::Categorical { dictionary, .. } => {
                dictionary.get(code as usize).cloned().unwrap_or_default()
            }
            Column::Dense { .. } => code.to_string(),
        })
        .collect();
    parts.join("|")
}

/// A member's value on one row as a code: `None` when missing.
fn member_code(column: &Column, edges: Option<&Vec<f32>>, row: usize) -> Option<u32> {
    match column {
        Column::Categorical { codes, .. } => {
            let c = codes[row];
            (c != 0).then_some(c)
        }
        Column::Dense { values } => {
            let v = values[row];
            if v.is_nan() {
                None
            } else {
                Some(bin_index(edges.map(|e| e.as_slice()).unwrap_or(&[]), v))
            }
        }
    }
}

/// One cross's member value tuples with their counts, in order of first appearance: the
/// mergeable summary a partition of a large table yields ([`count_tuples`]). Each tuple holds
/// one string per member, as [`CrossField::tuples`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TupleCounts {
    /// Rows counted (missing members included).
    pub rows: u64,
    /// Tuples and counts, in order of first appearance.
    pub tuples: Vec<(Vec<String>, u64)>,
}

impl TupleCounts {
    /// Adds `later`'s counts (a partition that comes after this one in the table's order):
    /// counts of shared tuples add up, new tuples go at the end in `later`'s order, so the
    /// order stays that of first appearance in the whole table.
    pub fn merge(&mut self, later: &TupleCounts) {
        let mut at: HashMap<Vec<String>, usize> = self
            .tuples
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (t.clone(), i))
            .collect();
        for (t, c) in &later.tuples {
            match at.get(t) {
                Some(&i) => self.tuples[i].1 += c,
                None => {
                    at.insert(t.clone(), self.tuples.len());
                    self.tuples.push((t.clone(), *c));
                }
            }
        }
        self.rows += later.rows;
    }
}

/// The members of `interaction` (field indices into `data`) in field order, checked.
fn members_of(data: &Dataset, interaction: &[usize]) -> Result<Vec<usize>, DataError> {
    if interaction.len() < 2 || interaction.iter().any(|&f| f >= data.num_fields()) {
        return Err(DataError::Schema(format!(
            "cannot cross field indices {interaction:?} of a dataset with {} fields",
            data.num_fields()
        )));
    }
    let mut members = interaction.to_vec();
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

/// A dense field's distinct non-NaN values over `rows` with their counts, sorted
/// ([`glider_core::cross::value_counts`]); empty for a categorical field. Partitions' counts
/// concatenated and passed to `value_counts` again merge exactly.
pub fn dense_value_counts(data: &Dataset, rows: &[usize], field: usize) -> Vec<(f32, u64)> {
    match data.columns.get(field) {
        Some(Column::Dense { values }) => {
            glider_core::cross::value_counts(rows.iter().map(|&r| (values[r], 1)).collect())
        }
        _ => Vec::new(),
    }
}

/// Counts the value tuples of the cross of `interaction` (field indices into `data`) over
/// `rows`, dense members cut at `bin_edges` (by field name); a row with a missing member is
/// not counted.
///
/// # Errors
/// [`DataError::Schema`] for fewer than two fields, an index out of range or a dense member
/// without edges.
pub fn count_tuples(
    data: &Dataset,
    rows: &[usize],
    interaction: &[usize],
    bin_edges: &BTreeMap<String, Vec<f32>>,
) -> Result<TupleCounts, DataError> {
    let members = members_of(data, interaction)?;
    let mut edges: Vec<Option<&Vec<f32>>> = Vec::with_capacity(members.len());
    for &f in &members {
        match &data.columns[f] {
            Column::Dense { .. } => {
                let name = &data.fields[f].name;
                edges.push(Some(bin_edges.get(name).ok_or_else(|| {
                    DataError::Schema(format!("no bin edges for the dense member \"{name}\""))
                })?));
            }
            Column::Categorical { .. } => edges.push(None),
        }
    }
    // Counted by codes (fast), named at the end.
    let mut counts: HashMap<Vec<u32>, (u64, usize)> = HashMap::new();
    let mut order: Vec<Vec<u32>> = Vec::new();
    for &r in rows {
        let key: Option<Vec<u32>> = members
            .iter()
            .zip(&edges)
            .map(|(&f, e)| member_code(&data.columns[f], *e, r))
            .collect();
        if let Some(key) = key {
            let e = counts.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                (0, order.len() - 1)
            });
            e.0 += 1;
        }
    }
    let tuples = order
        .into_iter()
        .map(|key| {
            let c = counts.get(&key).map_or(0, |e| e.0);
            let named = members
                .iter()
                .zip(&key)
                .map(|(&f, &code)| match &data.columns[f] {
                    Column::Categorical { dictionary, .. } => dictionary[code as usize].clone(),
                    Column::Dense { .. } => code.to_string(),
                })
                .collect();
            (named, c)
        })
        .collect();
    Ok(TupleCounts {
        rows: rows.len() as u64,
        tuples,
    })
}

/// One cross fitted from merged counts: `fields` its members' names in field order,
/// `bin_edges` of its dense members, `counts` over the whole batch; tuples seen more than
/// `threshold` times are kept, in order of first appearance (spec 3.3).
pub fn cross_from_counts(
    fields: Vec<String>,
    bin_edges: BTreeMap<String, Vec<f32>>,
    counts: &TupleCounts,
    threshold: f64,
) -> CrossField {
    CrossField {
        name: cross_name(&fields),
        fields,
        bin_edges,
        tuples: counts
            .tuples
            .iter()
            .filter(|(_, c)| *c as f64 > threshold)
            .map(|(t, _)| t.clone())
            .collect(),
    }
}

/// Fits one cross per interaction (field indices into `data`) on the first
/// `options.batch_rows` of `train_rows`: dense members' edges from their
/// [`dense_value_counts`], tuples from [`count_tuples`], kept by [`cross_from_counts`] — the
/// same steps a partitioned fit takes with merged counts.
///
/// # Errors
/// [`DataError::Schema`] for an interaction with fewer than two fields or an index out of range.
pub fn fit_crosses(
    data: &Dataset,
    train_rows: &[usize],
    interactions: &[Vec<usize>],
    options: &CrossOptions,
) -> Result<CrossSpec, DataError> {
    let mut specs = fit_crosses_at(
        data,
        train_rows,
        interactions,
        options,
        &[options.min_count_sqrt],
    )?;
    Ok(specs.remove(0))
}

/// [`fit_crosses`] at several min counts from one count of the tuples: one [`CrossSpec`] per
/// entry of `min_count_sqrts`, each `options` with that [`CrossOptions::min_count_sqrt`].
/// The confirming retrains of the selection compare the crossing's min count with a coarser
/// one this way (issue 15).
///
/// # Errors
/// As [`fit_crosses`].
pub fn fit_crosses_at(
    data: &Dataset,
    train_rows: &[usize],
    interactions: &[Vec<usize>],
    options: &CrossOptions,
    min_count_sqrts: &[f64],
) -> Result<Vec<CrossSpec>, DataError> {
    let batch: &[usize] = &train_rows[..train_rows.len().min(options.batch_rows)];
    let mut specs: Vec<CrossSpec> = min_count_sqrts
        .iter()
        .map(|&sqrt| CrossSpec {
            options: CrossOptions {
                min_count_sqrt: sqrt,
                ..options.clone()
            },
            batch_rows: batch.len(),
            min_count: min_count_threshold(
                batch.len(),
                options.min_count_rate,
                options.min_count_floor,
                sqrt,
            ),
            crosses: Vec::with_capacity(interactions.len()),
        })
        .collect();
    for set in interactions {
        let members = members_of(data, set)?;
        let (bin_edges, counts) = edges_and_counts(data, batch, &members, options)?;
        let names: Vec<String> = members
            .iter()
            .map(|&f| data.fields[f].name.clone())
            .collect();
        for spec in &mut specs {
            let cross =
                cross_from_counts(names.clone(), bin_edges.clone(), &counts, spec.min_count);
            spec.crosses.push(cross);
        }
    }
    Ok(specs)
}

/// The dense members' bin edges (from their [`dense_value_counts`] over `batch`) and the
/// [`count_tuples`] of `members` (field indices, in field order) cut at them.
fn edges_and_counts(
    data: &Dataset,
    batch: &[usize],
    members: &[usize],
    options: &CrossOptions,
) -> Result<(BTreeMap<String, Vec<f32>>, TupleCounts), DataError> {
    let mut bin_edges = BTreeMap::new();
    for &f in members {
        if let Column::Dense { .. } = &data.columns[f] {
            let counts = dense_value_counts(data, batch, f);
            bin_edges.insert(
                data.fields[f].name.clone(),
                mass_quantile_edges_from_counts(&counts, options.dense_bins),
            );
        }
    }
    let counts = count_tuples(data, batch, members, &bin_edges)?;
    Ok((bin_edges, counts))
}

/// A candidate set that [`split_sparse_sets`] replaced by its pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitSet {
    /// The set's member names, in field order.
    pub fields: Vec<String>,
    /// Share of the batch rows (0–1) whose value tuple is seen more than the min count times:
    /// the rows its cross would give a weight to.
    pub coverage: f64,
}

/// Candidate sets sized to the data (issue 15): a set of three or more fields whose tuples are
/// too rare to cross — fewer than `min_coverage` of the first `options.batch_rows` training
/// rows fall in a tuple seen more than the min count times (`options`' rule) — is replaced by
/// its pairs, in member order, at its place in the ranking. A pair already listed earlier is
/// not repeated; pairs are never split. Measured on MovieLens-100K with DeepFM as the source
/// (BENCHMARKS.md): most of GLIDER's top-20 sets there hold both `user_id` and `item_id`, so
/// their crosses are empty, while their pairs (`user_id × hour_utc`, `user_id × g_Drama`)
/// give LR +0.006 test AUC.
///
/// Returns the new list of sets (field indices into `data`) and the sets it split, with their
/// coverage. `min_coverage` 0 returns `interactions` unchanged (deduplicated).
///
/// # Errors
/// As [`fit_crosses`].
pub fn split_sparse_sets(
    data: &Dataset,
    train_rows: &[usize],
    interactions: &[Vec<usize>],
    options: &CrossOptions,
    min_coverage: f64,
) -> Result<(Vec<Vec<usize>>, Vec<SplitSet>), DataError> {
    let batch: &[usize] = &train_rows[..train_rows.len().min(options.batch_rows)];
    let threshold = min_count_threshold(
        batch.len(),
        options.min_count_rate,
        options.min_count_floor,
        options.min_count_sqrt,
    );
    let mut out: Vec<Vec<usize>> = Vec::with_capacity(interactions.len());
    let mut split = Vec::new();
    let push = |set: Vec<usize>, out: &mut Vec<Vec<usize>>| {
        if !out.contains(&set) {
            out.push(set);
        }
    };
    for set in interactions {
        let members = members_of(data, set)?;
        if members.len() < 3 || min_coverage <= 0.0 || batch.is_empty() {
            push(members, &mut out);
            continue;
        }
        let (_, counts) = edges_and_counts(data, batch, &members, options)?;
        let covered: u64 = counts
            .tuples
            .iter()
            .filter(|(_, c)| *c as f64 > threshold)
            .map(|(_, c)| c)
            .sum();
        let coverage = covered as f64 / batch.len() as f64;
        if coverage >= min_coverage {
            push(members, &mut out);
            continue;
        }
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                push(vec![a, b], &mut out);
            }
        }
        split.push(SplitSet {
            fields: members
                .iter()
                .map(|&f| data.fields[f].name.clone())
                .collect(),
            coverage,
        });
    }
    Ok((out, split))
}

/// Appends the spec's cross fields to `data` (every row).
///
/// # Errors
/// [`DataError::Schema`] when a member field is missing from `data`, a dense member has no
/// bin edges, or a cross field's name is already taken.
pub fn apply_crosses(data: &mut Dataset, spec: &CrossSpec) -> Result<(), DataError> {
    for cross in &spec.crosses {
        let mut members = Vec::with_capacity(cross.fields.len());
        for name in &cross.fields {
            let f = data.field_index(name).ok_or_else(|| {
                DataError::Schema(format!(
                    "{}: the cross {} needs field \"{name}\", which this data does not have (fields: {})",
                    data.source,
                    cross.name,
                    data.field_names().join(", ")
                ))
            })?;
            members.push(f);
        }
        let mut edges: Vec<Option<&Vec<f32>>> = Vec::with_capacity(members.len());
        for (&f, name) in members.iter().zip(&cross.fields) {
            match &data.columns[f] {
                Column::Dense { .. } => {
                    let e = cross.bin_edges.get(name).ok_or_else(|| {
                        DataError::Schema(format!(
                            "{}: field \"{name}\" is dense here, but the cross {} has no bin edges for it (was it fitted on another dataset?)",
                            data.source, cross.name
                        ))
                    })?;
                    edges.push(Some(e));
                }
                Column::Categorical { .. } => edges.push(None),
            }
        }
        // Translate the kept tuples into this dataset's codes; a value this file never
        // contains cannot match and is skipped.
        let lookups: Vec<Option<HashMap<&str, u32>>> = members
            .iter()
            .map(|&f| match &data.columns[f] {
                Column::Categorical { dictionary, .. } => Some(
                    dictionary
                        .iter()
                        .enumerate()
                        .skip(1)
                        .map(|(c, s)| (s.as_str(), c as u32))
                        .collect(),
                ),
                Column::Dense { .. } => None,
            })
            .collect();
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::with_capacity(cross.tuples.len());
        for (i, tuple) in cross.tuples.iter().enumerate() {
            let key: Option<Vec<u32>> = tuple
                .iter()
                .zip(&lookups)
                .map(|(value, lookup)| match lookup {
                    Some(map) => map.get(value.as_str()).copied(),
                    None => value.parse::<u32>().ok(),
                })
                .collect();
            if let Some(key) = key {
                ids.insert(key, i as u32 + 1);
            }
        }
        let buckets = spec.options.hash_buckets;
        let first_bucket = u32::try_from(cross.tuples.len() + 1)
            .ok()
            .filter(|first| u32::try_from(buckets).is_ok_and(|n| first.checked_add(n).is_some()))
            .ok_or_else(|| {
                DataError::Schema(format!(
                    "{}: {buckets} cross hash buckets is too many",
                    cross.name
                ))
            })?;
        // A rare tuple's bucket, computed once per distinct tuple.
        let mut hashed: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut codes: Vec<u32> = Vec::with_capacity(data.num_rows());
        for r in 0..data.num_rows() {
            let key = members
                .iter()
                .zip(&edges)
                .map(|(&f, e)| member_code(&data.columns[f], *e, r))
                .collect::<Option<Vec<u32>>>();
            codes.push(match key {
                None => 0,
                Some(key) => match ids.get(&key) {
                    Some(&id) => id,
                    None if buckets > 0 => *hashed.entry(key).or_insert_with_key(|key| {
                        let text = tuple_text(data, &members, key);
                        first_bucket + (fnv1a_64(text.as_bytes()) % buckets as u64) as u32
                    }),
                    None => 0,
                },
            });
        }
        let mut dictionary = Vec::with_capacity(cross.tuples.len() + 1 + buckets);
        dictionary.push(String::new());
        dictionary.extend(cross.tuples.iter().map(|t| t.join("|")));
        dictionary.extend((0..buckets).map(|b| format!("#bucket{b}")));
        data.push_categorical(cross.name.clone(), codes, dictionary)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Field, FieldKind};

    fn data() -> Dataset {
        // a: x x x y y ? x   (code 1 = x, 2 = y, 0 = missing)
        // d: 1 1 1 5 5 5 9
        Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "a".into(),
                    kind: FieldKind::Categorical,
                },
                Field {
                    name: "d".into(),
                    kind: FieldKind::Dense,
                },
            ],
            labels: vec![0.0; 7],
            columns: vec![
                Column::Categorical {
                    codes: vec![1, 1, 1, 2, 2, 0, 1],
                    dictionary: vec!["".into(), "x".into(), "y".into()],
                },
                Column::Dense {
                    values: vec![1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 9.0],
                },
            ],
        }
    }

    #[test]
    fn min_count_rule_parses_and_sizes_the_threshold() {
        assert_eq!("auto".parse::<CrossMinCount>(), Ok(CrossMinCount::Auto));
        assert_eq!(
            " 300 ".parse::<CrossMinCount>(),
            Ok(CrossMinCount::AtLeast(300))
        );
        let err = "ten".parse::<CrossMinCount>().expect_err("not a number");
        assert!(err.contains("\"ten\"") && err.contains("auto"), "{err}");
        // auto on 40,000 rows: 1.5 × 200 = 300; N = 10: the reference max(10, 4) = 10.
        for (rule, want) in [
            (CrossMinCount::Auto, 300.0),
            (CrossMinCount::AtLeast(10), 10.0),
        ] {
            let o = rule.apply(CrossOptions::default());
            let t = min_count_threshold(
                40_000,
                o.min_count_rate,
                o.min_count_floor,
                o.min_count_sqrt,
            );
            assert_eq!(t, want, "{rule}");
        }
        // A crosses.json written before the rule existed reads as the reference rule.
        let old =
            r#"{"dense_bins":8,"min_count_rate":0.0001,"min_count_floor":10,"batch_rows":1000000}"#;
        let o: CrossOptions = serde_json::from_str(old).expect("old options");
        assert_eq!(o.min_count_sqrt, 0.0);
    }

    /// 12 rows, four categorical fields: a = i % 2, b = (i / 2) % 2, u unique per row,
    /// c = "z" on rows 0–5 and unique on rows 6–11.
    fn sparse_data() -> Dataset {
        let cat = |name: &str, values: Vec<String>| {
            let mut dictionary: Vec<String> = vec![String::new()];
            let codes = values
                .iter()
                .map(|v| match dictionary.iter().position(|d| d == v) {
                    Some(i) => i as u32,
                    None => {
                        dictionary.push(v.clone());
                        (dictionary.len() - 1) as u32
                    }
                })
                .collect();
            (
                Field {
                    name: name.into(),
                    kind: FieldKind::Categorical,
                },
                Column::Categorical { codes, dictionary },
            )
        };
        let (fields, columns) = [
            cat("a", (0..12).map(|i| format!("a{}", i % 2)).collect()),
            cat("b", (0..12).map(|i| format!("b{}", (i / 2) % 2)).collect()),
            cat("u", (0..12).map(|i| format!("u{i}")).collect()),
            cat(
                "c",
                (0..12)
                    .map(|i| if i < 6 { "z".into() } else { format!("c{i}") })
                    .collect(),
            ),
        ]
        .into_iter()
        .unzip();
        Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields,
            labels: vec![0.0; 12],
            columns,
        }
    }

    #[test]
    fn sparse_sets_are_split_into_their_pairs_by_coverage() {
        let d = sparse_data();
        let rows: Vec<usize> = (0..12).collect();
        // A tuple counts when seen more than once (floor 1, no rate).
        let options = CrossOptions {
            min_count_rate: 0.0,
            min_count_floor: 1,
            ..CrossOptions::default()
        };
        // (u, a, b): every tuple once, coverage 0 → its pairs, in member order.
        // (a, b, c): rows 0–5 give (a0,b0,z)×2, (a1,b0,z)×2, (a0,b1,z)×1, (a1,b1,z)×1 and
        // rows 6–11 are unique: 4 of 12 rows covered, 1/3.
        // (b, a): already listed as a pair of the first set: not repeated.
        let sets = vec![vec![2, 0, 1], vec![0, 1, 3], vec![1, 0]];
        let (out, split) = split_sparse_sets(&d, &rows, &sets, &options, 0.5).unwrap();
        assert_eq!(
            out,
            vec![vec![0, 1], vec![0, 2], vec![1, 2], vec![0, 3], vec![1, 3]]
        );
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].fields, vec!["a", "b", "u"]);
        assert_eq!(split[0].coverage, 0.0);
        assert_eq!(split[1].fields, vec!["a", "b", "c"]);
        assert!((split[1].coverage - 1.0 / 3.0).abs() < 1e-12);
        // Below 1/3 the second set stays whole; 0 turns the split off.
        let (out, split) = split_sparse_sets(&d, &rows, &sets, &options, 0.3).unwrap();
        assert_eq!(out, vec![vec![0, 1], vec![0, 2], vec![1, 2], vec![0, 1, 3]]);
        assert_eq!(split.len(), 1);
        let (out, split) = split_sparse_sets(&d, &rows, &sets, &options, 0.0).unwrap();
        assert_eq!(out, vec![vec![0, 1, 2], vec![0, 1, 3], vec![0, 1]]);
        assert!(split.is_empty());
    }

    #[test]
    fn keeps_frequent_tuples_and_maps_the_rest_to_zero() {
        let d = data();
        let options = CrossOptions {
            dense_bins: 3,
            min_count_rate: 0.0,
            min_count_floor: 1,
            min_count_sqrt: 0.0,
            batch_rows: 6,
            hash_buckets: 0,
        };
        // Batch = rows 0..6. Edges for d with 3 bins over [1,1,1,5,5,5]: nearest ranks 2 and 4
        // give 1 (the minimum, dropped) and 5 → one edge at 5 →
        // bins: 1 → 0, 5 → 1, 9 → 1. Tuples: (x,0)×3, (y,1)×2, (missing,1) dropped.
        // Threshold max(0, 1) = 1: both kept (3 > 1, 2 > 1), ids 1 and 2.
        let spec = fit_crosses(&d, &(0..7).collect::<Vec<_>>(), &[vec![1, 0]], &options).unwrap();
        assert_eq!(spec.batch_rows, 6);
        let c = &spec.crosses[0];
        assert_eq!(c.name, "cross(a,d)");
        assert_eq!(c.bin_edges["d"], vec![5.0]);
        assert_eq!(
            c.tuples,
            vec![
                vec!["x".to_string(), "0".into()],
                vec!["y".into(), "1".into()]
            ]
        );
        let mut applied = d.clone();
        apply_crosses(&mut applied, &spec).unwrap();
        match &applied.columns[2] {
            // row 5 has a missing member → 0; row 6 is (x, bin 1), unseen → 0.
            Column::Categorical { codes, dictionary } => {
                assert_eq!(codes, &vec![1, 1, 1, 2, 2, 0, 0]);
                assert_eq!(dictionary[2], "y|1");
            }
            _ => panic!(),
        }
        // Threshold strictly greater: floor 2 keeps only (x,0) (3 > 2), not (y,1) (2 = 2).
        let strict = fit_crosses(
            &d,
            &(0..7).collect::<Vec<_>>(),
            &[vec![0, 1]],
            &CrossOptions {
                min_count_floor: 2,
                ..options
            },
        )
        .unwrap();
        assert_eq!(strict.crosses[0].tuples.len(), 1);
    }

    #[test]
    fn spec_applies_to_another_file_by_value_and_checks_fields() {
        let d = data();
        let options = CrossOptions {
            dense_bins: 3,
            min_count_rate: 0.0,
            min_count_floor: 1,
            min_count_sqrt: 0.0,
            batch_rows: 6,
            hash_buckets: 0,
        };
        let spec = fit_crosses(&d, &(0..7).collect::<Vec<_>>(), &[vec![0, 1]], &options).unwrap();
        // Another file whose dictionary orders the values differently.
        let mut other = data();
        other.columns[0] = Column::Categorical {
            codes: vec![1, 2],
            dictionary: vec!["".into(), "y".into(), "x".into()],
        };
        other.columns[1] = Column::Dense {
            values: vec![7.0, 0.5],
        };
        other.labels = vec![0.0, 0.0];
        apply_crosses(&mut other, &spec).unwrap();
        match &other.columns[2] {
            Column::Categorical { codes, .. } => assert_eq!(codes, &vec![2, 1]),
            _ => panic!(),
        }
        let mut renamed = data();
        renamed.fields[0].name = "b".into();
        let err = apply_crosses(&mut renamed, &spec).unwrap_err();
        assert!(err.to_string().contains("needs field \"a\""), "{err}");
    }

    /// With hash buckets, a tuple below the min count lands in bucket
    /// `kept + 1 + fnv1a_64("a|b") % N` instead of id 0, by value: the same bucket in a file
    /// whose dictionary orders the values differently.
    #[test]
    fn rare_tuples_share_hashed_buckets_by_value() {
        let d = data();
        let options = CrossOptions {
            dense_bins: 3,
            min_count_rate: 0.0,
            min_count_floor: 2,
            min_count_sqrt: 0.0,
            batch_rows: 6,
            hash_buckets: 4,
        };
        // As above: (x,0)×3 kept (id 1); (y,1)×2 is not above 2 → hashed; row 6 (x,1) unseen
        // → hashed; row 5 has a missing member → 0.
        let spec = fit_crosses(&d, &(0..7).collect::<Vec<_>>(), &[vec![0, 1]], &options).unwrap();
        assert_eq!(
            spec.crosses[0].tuples,
            vec![vec!["x".to_string(), "0".into()]]
        );
        let bucket = |t: &str| 2 + (fnv1a_64(t.as_bytes()) % 4) as u32;
        let mut applied = d.clone();
        apply_crosses(&mut applied, &spec).unwrap();
        match &applied.columns[2] {
            Column::Categorical { codes, dictionary } => {
                let (y1, x1) = (bucket("y|1"), bucket("x|1"));
                assert_eq!(codes, &vec![1, 1, 1, y1, y1, 0, x1]);
                assert_eq!(dictionary.len(), 2 + 4);
                assert_eq!(dictionary[2], "#bucket0");
            }
            _ => panic!(),
        }
        let mut other = data();
        other.columns[0] = Column::Categorical {
            codes: vec![1, 2],
            dictionary: vec!["".into(), "y".into(), "x".into()],
        };
        other.columns[1] = Column::Dense {
            values: vec![7.0, 0.5],
        };
        other.labels = vec![0.0, 0.0];
        apply_crosses(&mut other, &spec).unwrap();
        match &other.columns[2] {
            Column::Categorical { codes, .. } => assert_eq!(codes, &vec![bucket("y|1"), 1]),
            _ => panic!(),
        }
        // Without buckets the same spec drops them (the reference).
        let reference = CrossSpec {
            options: CrossOptions {
                hash_buckets: 0,
                ..options
            },
            ..spec
        };
        let mut applied = d.clone();
        apply_crosses(&mut applied, &reference).unwrap();
        match &applied.columns[2] {
            Column::Categorical { codes, .. } => assert_eq!(codes, &vec![1, 1, 1, 0, 0, 0, 0]),
            _ => panic!(),
        }
    }

    /// Counts per partition, merged in table order, give the one-process fit: the same bin
    /// edges, the same kept tuples in the same order (issue 18's exactness).
    #[test]
    fn partitioned_counts_merge_into_the_one_process_fit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 3000;
        let codes: Vec<u32> = (0..n).map(|_| rng.random_range(0..6u32)).collect();
        let values: Vec<f32> = (0..n)
            .map(|_| match rng.random_range(0..10) {
                0 => f32::NAN,
                1..=4 => 0.0,
                _ => (rng.random_range(0..40) as f32) * 0.5,
            })
            .collect();
        let mut d = data();
        d.labels = vec![0.0; n];
        d.columns = vec![
            Column::Categorical {
                codes,
                dictionary: ["", "p", "q", "r", "s", "t"].map(String::from).to_vec(),
            },
            Column::Dense { values },
        ];
        let options = CrossOptions {
            dense_bins: 5,
            min_count_floor: 20,
            min_count_sqrt: 0.0,
            ..CrossOptions::default()
        };
        let rows: Vec<usize> = (0..n).collect();
        let whole = fit_crosses(&d, &rows, &[vec![1, 0]], &options).expect("fits");
        let parts: Vec<&[usize]> = vec![
            &rows[..500],
            &rows[500..1700],
            &rows[1700..1701],
            &rows[1701..],
        ];
        let merged_values = glider_core::cross::value_counts(
            parts
                .iter()
                .flat_map(|p| dense_value_counts(&d, p, 1))
                .collect(),
        );
        let mut edges = BTreeMap::new();
        edges.insert(
            "d".to_string(),
            mass_quantile_edges_from_counts(&merged_values, 5),
        );
        let mut counts = TupleCounts::default();
        for p in &parts {
            counts.merge(&count_tuples(&d, p, &[0, 1], &edges).expect("counts"));
        }
        assert_eq!(counts.rows, n as u64);
        let threshold = min_count_threshold(
            n,
            options.min_count_rate,
            options.min_count_floor,
            options.min_count_sqrt,
        );
        let cross = cross_from_counts(vec!["a".into(), "d".into()], edges, &counts, threshold);
        assert_eq!(cross, whole.crosses[0]);
        assert!(cross.tuples.len() > 5, "{:?}", cross.tuples);
        assert_eq!(cross.bin_edges["d"].len(), 4);

        // One count at two min counts gives the two separate fits, and the coarser one keeps
        // fewer tuples.
        let both = fit_crosses_at(&d, &rows, &[vec![1, 0]], &options, &[0.0, 2.0]).expect("fits");
        let coarse = CrossOptions {
            min_count_sqrt: 2.0,
            ..options.clone()
        };
        assert_eq!(both[0], whole);
        assert_eq!(
            both[1],
            fit_crosses(&d, &rows, &[vec![1, 0]], &coarse).expect("fits")
        );
        assert!(both[1].min_count > both[0].min_count);
        assert!(both[1].crosses[0].tuples.len() < both[0].crosses[0].tuples.len());
    }
}

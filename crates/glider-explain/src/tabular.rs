//! NID on any table (ALGORITHMS.md section 1): train the interaction MLP (plain or MLP-M) on
//! standardised inputs, read pairwise and any-order interactions from its weights, optionally
//! average an ensemble of seeds, and choose how many interactions are real with MLP-Cutoff.
//!
//! Inputs are numeric columns; several columns may form one *field* (a one-hot encoded
//! categorical, see [`TableInputs::from_dataset`] and [`FieldMap`]). NID reads one weight per
//! field and unit, so a field's interactions are read like a feature's (spec 1.2-1.4):
//!
//! - a numeric field: `|W1[i, c]|` (the largest, if it had several columns);
//! - a one-hot field with standardised columns `x_c = (1[value = c] − m_c) / s_c`: switching
//!   the field to value `c` adds `W1[i, c] / s_c` to unit `i`'s pre-activation (up to a
//!   constant), so the field moves the unit by at most `range_c(W1[i, c] / s_c)`; its weight is
//!   that range times the mean `s_c`, which for a two-valued field is exactly the weight of the
//!   equivalent standardised numeric column (`|W1[i, c1] − W1[i, c2]|`). Weights that shift
//!   every value alike (a unit using the field as a bias) count for nothing, unlike a largest
//!   absolute weight would.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use glider_core::derive_seed;
use glider_core::nid::{
    candidate_interactions, pairwise_strengths, prune_redundant_with, Averaging, Matrix,
    MlpWeights, RankedInteraction,
};
use glider_data::{Column, Dataset, Split};
use glider_nn::additive::{
    fit_additive, mlp_cutoff, nid_network, CutoffParams, CutoffPoint, MainEffects, Task,
};
use glider_nn::mlp::{MlpParams, Table};

use crate::ExplainError;

/// Settings of one NID detection. Defaults are the NID paper's synthetic runs (spec 1.1):
/// 140-100-60-20, L1 5e-5, Adam 0.01, batch 100, at most 100 epochs with early stopping
/// (patience 5, best weights restored), MLP-M, min averaging, 100 pruned interactions, one
/// seed, no cut-off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NidSettings {
    /// The target and loss.
    pub task: Task,
    /// Architecture and training of the interaction MLP.
    pub mlp: MlpParams,
    /// Main-effect towers beside it (MLP-M by default).
    pub main_effects: MainEffects,
    /// Hidden sizes of each univariate main-effect tower (`1 → 10 → 10 → 10 → C`).
    pub main_hidden: Vec<usize>,
    /// How a unit's weights on a set's members are combined.
    pub averaging: Averaging,
    /// Seeds trained; their strengths are averaged.
    pub ensemble: usize,
    /// When true, odd-numbered members (the 2nd, 4th, …) are plain interaction MLPs whatever
    /// `main_effects` says: an ensemble mixing MLP-M with the plain MLP, whose strengths the
    /// paper shows to be complementary (MLP-M wins on F1/F4, the plain MLP on F6/F7).
    #[serde(default)]
    pub mix_plain: bool,
    /// Any-order interactions kept after pruning (the reference cap is 100).
    pub max_interactions: usize,
    /// A superset of emitted interactions is kept only when its strength is at least this
    /// share of its strongest emitted subset (0 = the reference pruning of spec 1.4; see
    /// `glider_core::nid::prune_redundant_with`).
    #[serde(default)]
    pub superset_ratio: f64,
    /// MLP-Cutoff, when asked for.
    pub cutoff: Option<CutoffParams>,
    /// A fixed schedule's length in training samples rather than epochs: when set (and
    /// `mlp.patience` is `None`), each network trains for `ceil(budget / training rows)`
    /// epochs, clamped to [3, 1000], and the per-epoch learning-rate factor becomes
    /// `lr_decay^(max_epochs / epochs)`, so the learning rate ends where `max_epochs` epochs
    /// would leave it. A table of `budget / max_epochs` rows trains exactly `max_epochs`
    /// epochs; a larger one fewer, at about the same number of optimiser steps (see
    /// [`NidSettings::schedule_for`]).
    #[serde(default)]
    pub sample_budget: Option<u64>,
}

impl NidSettings {
    /// The interaction MLP's training settings for a table of `train_rows` rows: `mlp` as it
    /// is, or with the epochs and decay of [`NidSettings::sample_budget`].
    pub fn schedule_for(&self, train_rows: usize) -> MlpParams {
        let mut mlp = self.mlp.clone();
        if let (Some(budget), None) = (self.sample_budget, mlp.patience) {
            let rows = train_rows.max(1) as u64;
            let epochs = budget.div_ceil(rows).clamp(3, 1000) as usize;
            mlp.lr_decay = mlp
                .lr_decay
                .powf(self.mlp.max_epochs as f64 / epochs as f64);
            mlp.max_epochs = epochs;
        }
        mlp
    }
}

impl Default for NidSettings {
    fn default() -> Self {
        NidSettings {
            task: Task::Regression,
            mlp: MlpParams {
                hidden: vec![140, 100, 60, 20],
                l1: 5e-5,
                ..MlpParams::default()
            },
            main_effects: MainEffects::Univariate,
            main_hidden: vec![10, 10, 10],
            averaging: Averaging::Min,
            ensemble: 1,
            mix_plain: false,
            max_interactions: 100,
            superset_ratio: 0.0,
            cutoff: None,
            sample_budget: None,
        }
    }
}

/// Standardised train / validation / test tables with the same columns.
#[derive(Clone, Copy, Debug)]
pub struct Tables<'a> {
    /// Training rows.
    pub train: Table<'a>,
    /// Early-stopping and cut-off rows.
    pub validation: Table<'a>,
    /// Held-out rows for the reported test error.
    pub test: Table<'a>,
}

/// How one trained member of the ensemble did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberFit {
    /// Its seed.
    pub seed: u64,
    /// Epochs run.
    pub epochs: usize,
    /// Validation mean loss of the kept weights.
    pub validation_loss: f64,
    /// Test mean loss (MSE on the standardised target, or cross-entropy).
    pub test_loss: f64,
    /// Test error: MSE on the standardised target, or the misclassification rate.
    pub test_error: f64,
}

/// The cut-off's outcome, over field indices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CutoffOutcome {
    /// The first `k` ranked interactions are above the cut-off.
    pub k: usize,
    /// Validation loss against the number of ranked interactions walked.
    pub curve: Vec<CutoffPoint>,
    /// The interaction sets of the chosen model.
    pub components: Vec<Vec<usize>>,
    /// Test mean loss of the chosen model.
    pub test_loss: f64,
    /// Test error of the chosen model (as [`MemberFit::test_error`]).
    pub test_error: f64,
}

/// What NID found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NidOutcome {
    /// All field pairs, strongest first (spec 1.3); with an ensemble, the mean over members of
    /// each member's strengths divided by its strongest pair's.
    pub pairwise: Vec<RankedInteraction>,
    /// Any-order interactions after redundancy pruning, strongest first (spec 1.4).
    pub interactions: Vec<RankedInteraction>,
    /// One entry per ensemble member.
    pub members: Vec<MemberFit>,
    /// MLP-Cutoff, when asked for.
    pub cutoff: Option<CutoffOutcome>,
}

/// How input columns form fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldMap {
    /// Column indices of each field.
    pub groups: Vec<Vec<usize>>,
    /// Per field: for a one-hot field, the standardisation divisor `s_c` of each of its
    /// columns (same order as its group); `None` for a numeric field.
    pub one_hot_std: Vec<Option<Vec<f64>>>,
}

impl FieldMap {
    /// One numeric field per column.
    pub fn identity(columns: usize) -> Self {
        FieldMap {
            groups: (0..columns).map(|c| vec![c]).collect(),
            one_hot_std: vec![None; columns],
        }
    }
}

/// W1 collapsed to fields (module docs): `out[i, g]` is `max_c |W1[i, c]|` for a numeric
/// field and `range_c(W1[i, c] / s_c) · mean_c(s_c)` for a one-hot field.
fn collapse(w: &MlpWeights, fields: &FieldMap) -> Result<MlpWeights, ExplainError> {
    let w1 = &w.layers[0];
    let g_count = fields.groups.len();
    let mut data = vec![0f32; w1.rows * g_count];
    for i in 0..w1.rows {
        for (g, cols) in fields.groups.iter().enumerate() {
            data[i * g_count + g] = match fields.one_hot_std.get(g).and_then(|s| s.as_ref()) {
                None => cols
                    .iter()
                    .map(|&c| w1.get(i, c).abs())
                    .fold(0.0f32, f32::max),
                Some(std) => {
                    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                    for (&c, &s) in cols.iter().zip(std) {
                        let v = f64::from(w1.get(i, c)) / s;
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                    let mean_s = std.iter().sum::<f64>() / std.len().max(1) as f64;
                    if hi >= lo {
                        ((hi - lo) * mean_s) as f32
                    } else {
                        0.0
                    }
                }
            };
        }
    }
    let mut layers = vec![Matrix::new(w1.rows, g_count, data)?];
    layers.extend(w.layers[1..].iter().cloned());
    Ok(MlpWeights::new(layers)?)
}

fn sort_strongest_first(v: &mut [RankedInteraction]) {
    v.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.features.cmp(&b.features))
    });
}

fn average(lists: Vec<Vec<RankedInteraction>>) -> Vec<RankedInteraction> {
    let n = lists.len().max(1) as f64;
    let mut sum: HashMap<Vec<usize>, f64> = HashMap::new();
    for list in lists {
        for r in list {
            *sum.entry(r.features).or_insert(0.0) += r.strength;
        }
    }
    let mut out: Vec<RankedInteraction> = sum
        .into_iter()
        .map(|(features, s)| RankedInteraction {
            features,
            strength: s / n,
        })
        .collect();
    sort_strongest_first(&mut out);
    out
}

/// Trains `settings.ensemble` NID networks (member `m` seeded by `derive_seed(seed, m)`, in
/// parallel, deterministic for any thread count), reads interactions over the fields
/// `fields` (`None` = one numeric field per column), averages the
/// members' strengths, prunes (spec 1.4 step 4) and, when asked, runs MLP-Cutoff on the
/// pruned ranking.
///
/// # Errors
/// [`ExplainError::Surrogate`] when training fails or diverges, [`ExplainError::Config`]
/// for an empty ensemble, mismatched groups or fewer than 2 fields.
pub fn detect(
    tables: &Tables<'_>,
    fields: Option<&FieldMap>,
    settings: &NidSettings,
    seed: u64,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<NidOutcome, ExplainError> {
    let p = tables.train.cols;
    let identity = FieldMap::identity(p);
    let fields = fields.unwrap_or(&identity);
    let groups = &fields.groups;
    if fields.one_hot_std.len() != groups.len()
        || groups
            .iter()
            .zip(&fields.one_hot_std)
            .any(|(g, s)| s.as_ref().is_some_and(|s| s.len() != g.len()))
    {
        return Err(ExplainError::Config(
            "the field map's one-hot scales do not match its groups".into(),
        ));
    }
    if settings.ensemble == 0 {
        return Err(ExplainError::Config(
            "the ensemble needs at least 1 seed".into(),
        ));
    }
    if groups.len() < 2 {
        return Err(ExplainError::Config(format!(
            "interactions need at least 2 fields, the table has {}",
            groups.len()
        )));
    }
    if let Some(c) = groups.iter().flatten().find(|&&c| c >= p) {
        return Err(ExplainError::Config(format!(
            "a field names column {c} of a table with {p} columns"
        )));
    }
    let mlp = settings.schedule_for(tables.train.rows());
    let members: Vec<(MemberFit, MlpWeights)> = (0..settings.ensemble)
        .into_par_iter()
        .map(|m| {
            let s = derive_seed(seed, m as u64);
            let mut rng = ChaCha8Rng::seed_from_u64(s);
            let main = if settings.mix_plain && m % 2 == 1 {
                MainEffects::None
            } else {
                settings.main_effects
            };
            let kind = match main {
                MainEffects::Univariate => "MLP-M",
                MainEffects::Linear => "MLP + linear main effects",
                MainEffects::None => "plain MLP",
            };
            let length = match mlp.patience {
                Some(_) => format!("at most {} epochs, early stopping", mlp.max_epochs),
                None => format!("{} epochs", mlp.max_epochs),
            };
            progress(&format!(
                "training network {}/{} ({kind}, {length})",
                m + 1,
                settings.ensemble
            ));
            let net = nid_network(
                p,
                settings.task,
                &settings.mlp.hidden,
                main,
                &settings.main_hidden,
                &mut rng,
            );
            let fit = fit_additive(net, &tables.train, &tables.validation, &mlp, s)?;
            let w = collapse(&fit.net.towers[0].nid_weights()?, fields)?;
            let member = MemberFit {
                seed: s,
                epochs: fit.epochs,
                validation_loss: fit.validation_loss,
                test_loss: fit.net.mean_loss(&tables.test),
                test_error: fit.net.error(&tables.test),
            };
            Ok((member, w))
        })
        .collect::<Result<Vec<_>, ExplainError>>()?;
    let mut pair_lists = Vec::new();
    let mut candidate_lists = Vec::new();
    for (_, w) in &members {
        let mut pairs = pairwise_strengths(w, settings.averaging)?;
        let mut candidates = candidate_interactions(w, settings.averaging, false)?;
        // In an ensemble every member counts alike: its strengths are divided by its
        // strongest pair's before averaging (a lone network keeps NID's raw strengths).
        if members.len() > 1 {
            let top = pairs.first().map_or(0.0, |r| r.strength);
            if top > 0.0 {
                for r in pairs.iter_mut().chain(candidates.iter_mut()) {
                    r.strength /= top;
                }
            }
        }
        pair_lists.push(pairs);
        candidate_lists.push(candidates);
    }
    let pairwise = average(pair_lists);
    let interactions = prune_redundant_with(
        &average(candidate_lists),
        settings.max_interactions,
        settings.superset_ratio,
    );
    let cutoff = match &settings.cutoff {
        None => None,
        Some(params) => {
            let columns = |set: &[usize]| -> Vec<usize> {
                let mut c: Vec<usize> = set.iter().flat_map(|&g| groups[g].clone()).collect();
                c.sort_unstable();
                c
            };
            let ranked: Vec<Vec<usize>> =
                interactions.iter().map(|r| columns(&r.features)).collect();
            let cut = mlp_cutoff(
                &ranked,
                settings.task,
                &tables.train,
                &tables.validation,
                params,
                derive_seed(seed, u64::MAX),
                |k, n| {
                    progress(&format!(
                        "cut-off: model with {k} of at most {n} interactions"
                    ))
                },
            )?;
            let back: HashMap<Vec<usize>, Vec<usize>> = interactions
                .iter()
                .map(|r| (columns(&r.features), r.features.clone()))
                .collect();
            let field_set = |cols: &Vec<usize>| back.get(cols).cloned().unwrap_or_default();
            let curve = cut
                .curve
                .iter()
                .map(|pt| CutoffPoint {
                    interaction: field_set(&pt.interaction),
                    ..pt.clone()
                })
                .collect();
            Some(CutoffOutcome {
                k: cut.k,
                curve,
                components: cut.components.iter().map(field_set).collect(),
                test_loss: cut.net.mean_loss(&tables.test),
                test_error: cut.net.error(&tables.test),
            })
        }
    };
    Ok(NidOutcome {
        pairwise,
        interactions,
        members: members.into_iter().map(|(m, _)| m).collect(),
        cutoff,
    })
}

/// A dataset turned into NID's input: standardised numeric columns and fields made of them.
#[derive(Clone, Debug)]
pub struct TableInputs {
    /// Field names, one per group.
    pub fields: Vec<String>,
    /// Which columns form each field, and the one-hot fields' column scales.
    pub field_map: FieldMap,
    /// Column names (`field` for a dense field, `field=value` for a one-hot column).
    pub columns: Vec<String>,
    /// Row-major `[rows, columns]` inputs for train, validation and test.
    pub x: [Vec<f32>; 3],
    /// Targets for train, validation and test (standardised for regression).
    pub y: [Vec<f32>; 3],
    /// The target's training mean and std (regression; `(0, 1)` otherwise), to turn a
    /// standardised MSE back into the target's units.
    pub target_scale: (f64, f64),
}

impl TableInputs {
    /// The three tables.
    pub fn tables(&self) -> Tables<'_> {
        let cols = self.columns.len();
        let t = |i: usize| Table {
            x: &self.x[i],
            y: &self.y[i],
            cols,
        };
        Tables {
            train: t(0),
            validation: t(1),
            test: t(2),
        }
    }

    /// Encodes `data` for NID. A dense field is one column; a categorical field becomes
    /// one-hot columns for its `max_categories` most frequent training values (ties by
    /// first appearance), plus one column for every other value (present only when such
    /// values exist), the missing value counting as a value. Every column is standardised
    /// with the training rows' mean and std, and so is a regression target; binary targets
    /// stay 0/1 and multiclass targets are class indices (`data.labels` as read).
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the field for: a missing value in a dense field (with
    /// its data row), a field constant over the training rows, fewer than 2 fields, or a
    /// split with an empty part.
    pub fn from_dataset(
        data: &Dataset,
        split: &Split,
        task: Task,
        max_categories: usize,
    ) -> Result<TableInputs, ExplainError> {
        let parts = [&split.train, &split.validation, &split.test];
        for (name, part) in ["training", "validation", "test"].iter().zip(parts) {
            if part.is_empty() {
                return Err(ExplainError::Config(format!(
                    "the {name} split is empty ({} rows in all): NID needs rows in each of \
                     train, validation and test",
                    data.num_rows()
                )));
            }
        }
        if data.num_fields() < 2 {
            return Err(ExplainError::Config(format!(
                "interactions need at least 2 fields, the data has {}",
                data.num_fields()
            )));
        }
        // Per field: a function from row to its column values.
        let mut fields = Vec::new();
        let mut groups = Vec::new();
        let mut one_hot = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        // Raw (unstandardised) column values for every row.
        let mut raw: Vec<Vec<f32>> = Vec::new();
        for (field, column) in data.fields.iter().zip(&data.columns) {
            let start = columns.len();
            match column {
                Column::Dense { values } => {
                    if let Some(r) = values.iter().position(|v| v.is_nan()) {
                        return Err(ExplainError::Config(format!(
                            "{}: field \"{}\" has a missing value at data row {} (line {} of \
                             a file with a header); NID needs every dense value, so fill it \
                             or drop the field with --ignore {}",
                            data.source,
                            field.name,
                            r + 1,
                            r + 2,
                            field.name
                        )));
                    }
                    columns.push(field.name.clone());
                    raw.push(values.clone());
                }
                Column::Categorical { codes, dictionary } => {
                    let mut counts = vec![0usize; dictionary.len().max(1)];
                    let mut first = vec![usize::MAX; dictionary.len().max(1)];
                    for (i, &r) in split.train.iter().enumerate() {
                        let c = codes[r] as usize;
                        counts[c] += 1;
                        first[c] = first[c].min(i);
                    }
                    let mut seen: Vec<usize> =
                        (0..counts.len()).filter(|&c| counts[c] > 0).collect();
                    seen.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(first[a].cmp(&first[b])));
                    let kept: Vec<usize> = seen.iter().copied().take(max_categories).collect();
                    let other = seen.len() > kept.len()
                        || codes.iter().any(|&c| !kept.contains(&(c as usize)));
                    let mut slot = vec![usize::MAX; counts.len()];
                    for (j, &c) in kept.iter().enumerate() {
                        slot[c] = j;
                    }
                    for &c in &kept {
                        let value = if c == 0 {
                            "(missing)".to_string()
                        } else {
                            dictionary[c].clone()
                        };
                        columns.push(format!("{}={}", field.name, value));
                    }
                    if other {
                        columns.push(format!("{}=(other)", field.name));
                    }
                    let width = kept.len() + usize::from(other);
                    let mut cols = vec![vec![0f32; codes.len()]; width];
                    for (r, &c) in codes.iter().enumerate() {
                        let j = slot.get(c as usize).copied().unwrap_or(usize::MAX);
                        let j = if j == usize::MAX { kept.len() } else { j };
                        cols[j][r] = 1.0;
                    }
                    raw.extend(cols);
                }
            }
            fields.push(field.name.clone());
            groups.push((start..columns.len()).collect::<Vec<usize>>());
            one_hot.push(matches!(column, Column::Categorical { .. }));
        }
        // Standardise with training statistics; a field whose columns are all constant is
        // an error.
        let mut scale = Vec::with_capacity(raw.len());
        for (g, cols) in groups.iter().enumerate() {
            let mut any_varies = false;
            for &c in cols {
                let vals: Vec<f64> = split.train.iter().map(|&r| f64::from(raw[c][r])).collect();
                let (m, s) = glider_core::metrics::mean_std(&vals);
                any_varies |= s > 0.0;
                scale.push((m, if s > 0.0 { s } else { 1.0 }));
            }
            if !any_varies {
                return Err(ExplainError::Config(format!(
                    "{}: field \"{}\" is constant over the training rows: it carries no \
                     information; drop it with --ignore {}",
                    data.source, fields[g], fields[g]
                )));
            }
        }
        let target_scale = match task {
            Task::Regression => {
                let vals: Vec<f64> = split
                    .train
                    .iter()
                    .map(|&r| f64::from(data.labels[r]))
                    .collect();
                let (m, s) = glider_core::metrics::mean_std(&vals);
                if s <= 0.0 || !s.is_finite() {
                    return Err(ExplainError::Config(format!(
                        "{}: the target \"{}\" is constant over the training rows",
                        data.source, data.label_name
                    )));
                }
                (m, s)
            }
            _ => (0.0, 1.0),
        };
        let build = |rows: &[usize]| -> (Vec<f32>, Vec<f32>) {
            let mut x = Vec::with_capacity(rows.len() * raw.len());
            for &r in rows {
                for (c, col) in raw.iter().enumerate() {
                    x.push(((f64::from(col[r]) - scale[c].0) / scale[c].1) as f32);
                }
            }
            let y = rows
                .iter()
                .map(|&r| ((f64::from(data.labels[r]) - target_scale.0) / target_scale.1) as f32)
                .collect();
            (x, y)
        };
        let (x0, y0) = build(&split.train);
        let (x1, y1) = build(&split.validation);
        let (x2, y2) = build(&split.test);
        let one_hot_std = groups
            .iter()
            .zip(&one_hot)
            .map(|(cols, &oh)| oh.then(|| cols.iter().map(|&c| scale[c].1).collect()))
            .collect();
        Ok(TableInputs {
            fields,
            field_map: FieldMap {
                groups,
                one_hot_std,
            },
            columns,
            x: [x0, x1, x2],
            y: [y0, y1, y2],
            target_scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_reads_numeric_and_one_hot_fields() {
        // W1 (2 units × 3 columns); fields {0} and {1, 2}.
        let w = MlpWeights::new(vec![
            Matrix::new(2, 3, vec![1.0, -2.0, 0.5, 3.0, 0.25, -4.0]).expect("m"),
            Matrix::new(1, 2, vec![1.0, 2.0]).expect("m"),
        ])
        .expect("w");
        let numeric = FieldMap {
            groups: vec![vec![0], vec![1, 2]],
            one_hot_std: vec![None, None],
        };
        let c = collapse(&w, &numeric).expect("collapse");
        assert_eq!(c.layers[0].data, vec![1.0, 2.0, 3.0, 4.0]);
        // Pair strength by hand: 1·min(1, 2) + 2·min(3, 4) = 7.
        let pairs = pairwise_strengths(&c, Averaging::Min).expect("nid");
        assert_eq!(pairs[0].strength, 7.0);
        // Field {1, 2} one-hot with scales 0.5 and 1: unit 0: w/s = −4, 0.5 → range 4.5,
        // × mean scale 0.75 = 3.375; unit 1: 0.5, −4 → 3.375.
        let one_hot = FieldMap {
            groups: vec![vec![0], vec![1, 2]],
            one_hot_std: vec![None, Some(vec![0.5, 1.0])],
        };
        let c = collapse(&w, &one_hot).expect("collapse");
        assert_eq!(c.layers[0].data, vec![1.0, 3.375, 3.0, 3.375]);
    }

    #[test]
    fn averaging_an_ensemble_divides_by_members() {
        let r = |f: &[usize], s: f64| RankedInteraction {
            features: f.to_vec(),
            strength: s,
        };
        let avg = average(vec![
            vec![r(&[0, 1], 2.0), r(&[1, 2], 1.0)],
            vec![r(&[1, 2], 4.0)],
        ]);
        assert_eq!(avg, vec![r(&[1, 2], 2.5), r(&[0, 1], 1.0)]);
    }

    fn table() -> Dataset {
        use glider_data::{Field, FieldKind};
        Dataset {
            source: "t.csv".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "d".into(),
                    kind: FieldKind::Dense,
                },
                Field {
                    name: "c".into(),
                    kind: FieldKind::Categorical,
                },
            ],
            labels: vec![1.0, 3.0, 5.0, 7.0, 9.0],
            columns: vec![
                Column::Dense {
                    values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                },
                Column::Categorical {
                    codes: vec![1, 2, 1, 0, 1],
                    dictionary: vec!["".into(), "a".into(), "b".into()],
                },
            ],
        }
    }

    /// One-hot columns for the most frequent value plus one for the rest (here `b` and the
    /// missing value), standardised with the training rows; a regression target too.
    #[test]
    fn from_dataset_one_hot_and_standardise() {
        let split = Split {
            train: vec![0, 1, 2, 3],
            validation: vec![4],
            test: vec![1],
        };
        let t = TableInputs::from_dataset(&table(), &split, Task::Regression, 1).expect("ok");
        assert_eq!(t.fields, vec!["d", "c"]);
        assert_eq!(t.columns, vec!["d", "c=a", "c=(other)"]);
        assert_eq!(t.field_map.groups, vec![vec![0], vec![1, 2]]);
        let sa = (1.0f64 / 3.0).sqrt();
        assert_eq!(t.field_map.one_hot_std[0], None);
        let s = t.field_map.one_hot_std[1].clone().expect("one-hot");
        assert!((s[0] - sa).abs() < 1e-12 && (s[1] - sa).abs() < 1e-12);
        // d: train mean 2.5, sample std sqrt(5/3); c=a: train values 1,0,1,0: mean 0.5,
        // std sqrt(1/3). Validation row 4: d = 5, c = a.
        let sd = (5.0f64 / 3.0).sqrt();
        let v = &t.x[1];
        assert!((f64::from(v[0]) - 2.5 / sd).abs() < 1e-6);
        assert!((f64::from(v[1]) - 0.5 / sa).abs() < 1e-6);
        assert!((f64::from(v[2]) + 0.5 / sa).abs() < 1e-6);
        // Target: train 1,3,5,7: mean 4, std sqrt(20/3); row 4 (y = 9) → 5/std.
        assert!((t.target_scale.0 - 4.0).abs() < 1e-12);
        assert!((f64::from(t.y[1][0]) - 5.0 / (20.0f64 / 3.0).sqrt()).abs() < 1e-6);
    }

    #[test]
    fn from_dataset_names_constant_and_missing_fields() {
        let split = Split {
            train: vec![0, 2, 4],
            validation: vec![1],
            test: vec![3],
        };
        // Over training rows 0, 2, 4 the field c is always "a": constant.
        let e = TableInputs::from_dataset(&table(), &split, Task::Regression, 4)
            .expect_err("constant")
            .to_string();
        assert!(e.contains("field \"c\" is constant"), "{e}");
        let mut d = table();
        d.columns[0] = Column::Dense {
            values: vec![1.0, f32::NAN, 3.0, 4.0, 5.0],
        };
        let split = Split {
            train: vec![0, 1, 2, 3],
            validation: vec![4],
            test: vec![1],
        };
        let e = TableInputs::from_dataset(&d, &split, Task::Regression, 4)
            .expect_err("missing")
            .to_string();
        assert!(e.contains("\"d\" has a missing value at data row 2"), "{e}");
    }
}

//! Local interaction detection around one instance (MADEX; GLIDER spec 3.1).
//!
//! 1. Draw binary field masks: row 0 keeps every field, each other row switches off `k`
//!    fields, `k ~ UniformInt{1..p}` ([`glider_core::perturb::field_masks`]).
//! 2. Build the perturbed instances (a switched-off field is set missing) and query the black
//!    box for their logits.
//! 3. Fit the L1 MLP surrogate `p → 256 → 128 → 64 → 1` from the raw 0/1 masks to the logits
//!    (masks 0..5000 train, 5000..5500 validation, 5500..6000 test at the default 6,000).
//! 4. Rank interactions of any order from the surrogate's weights with NID and prune
//!    redundant ones (at most 100 per instance).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use glider_core::archdetect::{pair_strengths, Direction};
use glider_core::nid::{rank_interactions, RankedInteraction, RankingOptions};
use glider_core::perturb::{field_masks, Masks};
use glider_data::FieldValue;
use glider_nn::additive::Activation;
use glider_nn::fast_mlp::fit_fast_weighted;
use glider_nn::mlp::{fit_mlp, mse, MlpParams, Table};

use crate::blackbox::BlackBox;
use crate::{derive_seed, ExplainError};

/// Which implementation trains the surrogate (same model, loss, initialisation and batches).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurrogateTrainer {
    /// The specialised forward/backward on `gemm` ([`glider_nn::fast_mlp`]).
    #[default]
    Fast,
    /// burn's autodiff ([`glider_nn::mlp`]), the reference it is tested against.
    Autodiff,
}

/// The local detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detector {
    /// NID on the L1 MLP surrogate, any order (the GLIDER reference).
    #[default]
    Nid,
    /// ArchDetect: model-agnostic pairwise mixed differences, no surrogate
    /// ([`glider_core::archdetect`]); its top pairs enter the global count.
    ArchDetect,
    /// GradientNID: a Softplus surrogate fitted like NID's, each pair scored by the squared
    /// mixed second derivative of the surrogate at the instance (the all-ones mask), pairwise
    /// only (spec 3.1); its top pairs enter the global count.
    #[serde(rename = "gradient-nid")]
    GradientNid,
}

/// Settings of local detection (spec 3.1; the defaults are glider's measured best, and
/// [`LocalParams::reference`] gives the paper's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalParams {
    /// Perturbations per instance, the unperturbed instance included: exactly this many when
    /// [`LocalParams::perturbations_per_field`] is 0 (the paper's 6,000 in
    /// [`LocalParams::reference`]), otherwise at most this many (6,000).
    pub num_perturbations: usize,
    /// Perturbations per field: with `p` fields an instance gets
    /// `min(num_perturbations, max(2,000, perturbations_per_field · p))` (150: 2,100 at 14
    /// fields, 5,850 at 39), since a surrogate over more fields needs more of them (issue 19,
    /// BENCHMARKS.md "Detection speed"). 0 = always `num_perturbations`.
    #[serde(default)]
    pub perturbations_per_field: usize,
    /// Share of perturbations the surrogate trains on (5/6).
    pub train_fraction: f64,
    /// Share used for early stopping (1/12); the rest is the test part.
    pub validation_fraction: f64,
    /// The surrogate MLP.
    pub surrogate: MlpParams,
    /// NID's any-order ranking (at most 100 interactions per instance; a superset must reach
    /// half the strength of its emitted subsets, see [`RankingOptions::superset_ratio`]).
    pub ranking: RankingOptions,
    /// Rows per black-box query.
    pub query_batch: usize,
    /// The surrogate's trainer.
    pub trainer: SurrogateTrainer,
    /// The detector.
    pub detector: Detector,
    /// Pairs per instance kept by the pairwise detectors, ArchDetect and GradientNID (10).
    pub archdetect_top_k: usize,
    /// LIME kernel weighting of the perturbations (off in GLIDER; the MADEX demos use
    /// 0.25): a mask at cosine distance `d` from the instance's all-ones mask weighs
    /// `sqrt(exp(−d² / width²))` in the surrogate's loss (spec 3.1). `None` = unweighted.
    #[serde(default)]
    pub lime_kernel_width: Option<f64>,
    /// The local cut-off: verify the detector's candidates on the black box itself and keep
    /// those that earn their place (see [`LocalCutoff`]; on by default: on 12 random layouts
    /// it puts 29 of the 30 planted sets the model holds in the top K, against 27 for the
    /// paper's rule, BENCHMARKS.md "GLIDER on random layouts"). `None` = the GLIDER paper's
    /// rule, every ranked interaction counts ([`LocalParams::reference`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<LocalCutoff>,
}

/// glider's local cut-off (issue 5; not in the GLIDER paper): a test of whether each
/// interaction a detector proposes, and each field in it, earns its place at the instance.
///
/// The detectors rank candidates from a fitted surrogate (NID, GradientNID) or from pairwise
/// differences (ArchDetect), and every ranked candidate counts in the global aggregation, so
/// weak pairs seen everywhere and planted pairs inside spurious supersets (NID's greedy
/// ranking favours supersets) crowd the global top K. The cut-off scores each candidate `S`
/// by its *pure interaction effect* at the instance `x`, the `|S|`-th order mixed difference
/// of the black box `f` with every other field as in `x` (spec 2's finite-difference
/// definition, at order `|S|`):
///
/// `δ_S(x) = Σ_{T ⊆ S} (−1)^{|S|−|T|} f(x with the fields of S \ T switched off)`
///
/// in logits; `2^|S|` queries per candidate. A field that adds nothing to a pair (a spurious
/// triple around a real pair) gives `δ ≈ 0`, while a real triple's `δ` is its joint effect.
/// Then:
/// 1. the first [`LocalCutoff::candidates`] candidates of order 2 and up are scored (one
///    above `max_order` through its pairs);
/// 2. a candidate is *kept* when `|δ_S| ≥ share · max |δ|` over the scored candidates and
///    `|δ_S| ≥ min_effect` (1e-4 logits: smaller mixed differences are rounding noise);
/// 3. two kept sets that overlap are merged, and their union (at most `max_order` fields) is
///    scored and kept by the same rule (this lets the pairwise detectors report triples);
///    repeated until nothing new is kept. Every scored set of order 3 or 4 brings its
///    subsets of order 2 and up with it (a ranked triple whose own `δ` is 0 may hide three
///    real pairs, one of which nobody ranked), a larger one its pairs;
/// 4. a kept set is dropped when a kept strict superset `U` has `|δ_U| ≥ hierarchy_ratio ·
///    |δ_S|`: the higher-order effect explains it, so the instance reports the larger set.
///
/// The instance's list is then the kept sets, strongest `|δ|` first, with `|δ|` as the
/// strength.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalCutoff {
    /// Share of the instance's strongest `|δ|` a candidate must reach (0.25).
    pub share: f64,
    /// Candidates taken from the top of the detector's ranking (20).
    pub candidates: usize,
    /// Largest interaction order scored, from the ranking or by merging (4: 16 queries for a
    /// 4-set, 72 with its subsets).
    pub max_order: usize,
    /// A kept superset whose `|δ|` reaches this share of a kept subset's replaces it (0.5).
    pub hierarchy_ratio: f64,
    /// The smallest `|δ|` kept, in logits (1e-4), whatever the share: below it a mixed
    /// difference is the black box's rounding, not an interaction (an additive model's are
    /// about 1e-7 in f32), and an instance where every candidate is that small reports none.
    #[serde(default = "default_min_effect")]
    pub min_effect: f64,
}

fn default_min_effect() -> f64 {
    1e-4
}

impl Default for LocalCutoff {
    fn default() -> Self {
        LocalCutoff {
            share: 0.25,
            candidates: 20,
            max_order: 4,
            hierarchy_ratio: 0.5,
            min_effect: default_min_effect(),
        }
    }
}

/// The pure interaction effect `δ_S(x)` of every set in `sets` at the instance `row` (see
/// [`LocalCutoff`]), in logits, one black-box call for all of them.
///
/// # Errors
/// [`ExplainError::BlackBox`] when the black box fails; [`ExplainError::Config`] for a set
/// naming a field outside the row or larger than 16 fields.
pub fn pure_effects(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    sets: &[Vec<usize>],
) -> Result<Vec<f64>, ExplainError> {
    pure_effects_cached(black_box, row, sets, &mut HashMap::new())
}

/// [`pure_effects`] with the logits already known at this instance in `known`, keyed by the
/// fields switched off (ascending). The `2^|S|` rows of a set are also rows of every superset
/// (a 4-set's 72 queries with its subsets are 16 distinct rows), and candidates share fields:
/// each distinct row is asked once, and `known` keeps them for the cut-off's later rounds.
/// The black box is a function of its input, so the effects are those of asking every row.
fn pure_effects_cached(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    sets: &[Vec<usize>],
    known: &mut HashMap<Vec<usize>, f32>,
) -> Result<Vec<f64>, ExplainError> {
    let p = row.len();
    // Which fields each of a set's 2^|S| rows switches off (ascending, as the key).
    let off_fields = |set: &[usize], on: usize| -> Vec<usize> {
        let mut off: Vec<usize> = set
            .iter()
            .enumerate()
            .filter(|&(bit, _)| on & (1 << bit) == 0)
            .map(|(_, &f)| f)
            .collect();
        off.sort_unstable();
        off
    };
    // Rows to ask, each with its place in the query.
    let mut asked: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut values: Vec<FieldValue> = Vec::new();
    for set in sets {
        if set.len() > 16 || set.iter().any(|&f| f >= p) {
            return Err(ExplainError::Config(format!(
                "cannot score the interaction {set:?} over {p} fields"
            )));
        }
        for on in 0..(1usize << set.len()) {
            let off = off_fields(set, on);
            if known.contains_key(&off) || asked.contains_key(&off) {
                continue;
            }
            let mut r = row.to_vec();
            for &f in &off {
                r[f] = FieldValue::Off;
            }
            values.extend(r);
            asked.insert(off, asked.len());
        }
    }
    if !asked.is_empty() {
        let out = black_box.logits(&values)?;
        crate::blackbox::check_scores(&out, asked.len())?;
        known.extend(asked.into_iter().map(|(off, at)| (off, out[at])));
    }
    let mut effects = Vec::with_capacity(sets.len());
    for set in sets {
        let k = set.len();
        let mut d = 0.0f64;
        for on in 0..(1usize << k) {
            let off = k - on.count_ones() as usize;
            let sign = if off.is_multiple_of(2) { 1.0 } else { -1.0 };
            let logit = known.get(&off_fields(set, on)).copied().ok_or_else(|| {
                ExplainError::BlackBox("a pure-effect query went unanswered".into())
            })?;
            d += sign * f64::from(logit);
        }
        effects.push(d);
    }
    Ok(effects)
}

/// Applies the local cut-off to a detector's ranking at one instance (see [`LocalCutoff`]).
///
/// # Errors
/// As [`pure_effects`].
pub fn apply_cutoff(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    ranked: &[RankedInteraction],
    cutoff: &LocalCutoff,
) -> Result<Vec<RankedInteraction>, ExplainError> {
    let max_order = cutoff.max_order.clamp(2, 16);
    let mut scored: Vec<(Vec<usize>, f64)> = Vec::new();
    let mut fresh: Vec<Vec<usize>> = Vec::new();
    // A set of order 3 or more comes with its subsets of order 2 and up: a triple that a
    // detector ranks (or two kept pairs merge into) may hold nothing of its own while all
    // three of its pairs are real, and the pair nobody ranked must be scored to be kept.
    let push_with_subsets =
        |set: &[usize], fresh: &mut Vec<Vec<usize>>, scored: &[(Vec<usize>, f64)]| {
            let k = set.len();
            let all = (1usize << k) - 1;
            // Every subset up to order 4 (at most 10 more sets); above that the set and its
            // pairs only, so the queries stay near 2^k rather than 3^k.
            let mut masks: Vec<usize> = (1..=all)
                .filter(|m| {
                    let o = m.count_ones() as usize;
                    o == k || (o >= 2 && (k <= 4 || o == 2))
                })
                .collect();
            // The set first, then its subsets by falling order.
            masks.sort_by_key(|m| std::cmp::Reverse(m.count_ones()));
            for m in masks {
                let sub: Vec<usize> = (0..k)
                    .filter(|b| m & (1 << b) != 0)
                    .map(|b| set[b])
                    .collect();
                if !scored.iter().any(|s| s.0 == sub) && !fresh.contains(&sub) {
                    fresh.push(sub);
                }
            }
        };
    for r in ranked
        .iter()
        .filter(|r| r.features.len() >= 2)
        .take(cutoff.candidates)
    {
        if r.features.len() <= max_order {
            push_with_subsets(&r.features, &mut fresh, &scored);
        } else {
            // Too large to score whole: its pairs, which merging builds back up from.
            let f = &r.features;
            for i in 0..f.len() {
                for j in i + 1..f.len() {
                    let pair = vec![f[i], f[j]];
                    if !fresh.contains(&pair) {
                        fresh.push(pair);
                    }
                }
            }
        }
    }
    // The scored sets reaching `share` × the strongest |δ| and `min_effect` (none when
    // every δ is rounding noise).
    let kept_of = |scored: &[(Vec<usize>, f64)]| -> Vec<(Vec<usize>, f64)> {
        let top = scored.iter().map(|s| s.1).fold(0.0, f64::max);
        scored
            .iter()
            .filter(|s| top > 0.0 && s.1 >= cutoff.share * top && s.1 >= cutoff.min_effect)
            .cloned()
            .collect()
    };
    let mut known = HashMap::new();
    while !fresh.is_empty() {
        let effects = pure_effects_cached(black_box, row, &fresh, &mut known)?;
        scored.extend(fresh.drain(..).zip(effects.into_iter().map(f64::abs)));
        let kept = kept_of(&scored);
        let kept: Vec<&Vec<usize>> = kept.iter().map(|s| &s.0).collect();
        for (i, a) in kept.iter().enumerate() {
            for b in &kept[i + 1..] {
                if !a.iter().any(|f| b.contains(f)) {
                    continue;
                }
                let mut u: Vec<usize> = a.iter().chain(b.iter()).copied().collect();
                u.sort_unstable();
                u.dedup();
                if u.len() <= max_order && !scored.iter().any(|s| s.0 == u) && !fresh.contains(&u) {
                    push_with_subsets(&u, &mut fresh, &scored);
                }
            }
        }
    }
    let kept = kept_of(&scored);
    let mut out: Vec<RankedInteraction> = kept
        .iter()
        .filter(|s| {
            !kept.iter().any(|u| {
                glider_core::nid::is_strict_subset(&s.0, &u.0)
                    && u.1 >= cutoff.hierarchy_ratio * s.1
            })
        })
        .map(|s| RankedInteraction {
            features: s.0.clone(),
            strength: s.1,
        })
        .collect();
    out.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.features.cmp(&b.features))
    });
    Ok(out)
}

/// LIME's kernel weight of a 0/1 mask: `sqrt(exp(−d² / width²))` with `d` the cosine
/// distance to the all-ones mask, `1 − sqrt(on / p)` (1 when every field is off).
pub fn lime_weight(mask: &[u8], width: f64) -> f32 {
    let p = mask.len().max(1) as f64;
    let on = mask.iter().filter(|&&b| b == 1).count() as f64;
    let d = 1.0 - (on / p).sqrt();
    (-(d * d) / (width * width)).exp().sqrt() as f32
}

impl LocalParams {
    /// Spec 3.1's settings, the GLIDER paper's: 6,000 perturbations, a 256-128-64
    /// surrogate trained with batches of 100 and patience 5 ([`MlpParams::default`]), and no
    /// local cut-off (every ranked interaction counts). Its perturbations and surrogate are
    /// 5.0× slower than [`LocalParams::default`]'s at 14 fields when both count with the local
    /// cut-off (5.6× both without), 1.9× at 39, for the same global top 20 up to run-to-run
    /// noise (BENCHMARKS.md "Detection speed").
    pub fn reference() -> Self {
        LocalParams {
            num_perturbations: 6000,
            perturbations_per_field: 0,
            surrogate: MlpParams::default(),
            cutoff: None,
            ..LocalParams::default()
        }
    }

    /// The perturbations an instance with `num_fields` fields gets (see
    /// [`LocalParams::perturbations_per_field`]).
    pub fn perturbations_for(&self, num_fields: usize) -> usize {
        if self.perturbations_per_field == 0 {
            return self.num_perturbations;
        }
        self.perturbations_per_field
            .saturating_mul(num_fields)
            .max(MIN_SCALED_PERTURBATIONS)
            .min(self.num_perturbations)
    }
}

/// The fewest perturbations [`LocalParams::perturbations_per_field`] gives an instance.
pub const MIN_SCALED_PERTURBATIONS: usize = 2000;

impl Default for LocalParams {
    /// glider's defaults, measured against [`LocalParams::reference`] (issues 19 and 20): 150
    /// perturbations per field between 2,000 and 6,000, a 128-64-32 surrogate trained with
    /// batches of 50, and the local cut-off ([`LocalCutoff::default`], share 0.25). Everything
    /// else (split shares, L1 1e-4, Adam 0.01, at most 100
    /// epochs, patience 5, the ranking) is spec 3.1's.
    fn default() -> Self {
        LocalParams {
            num_perturbations: 6000,
            perturbations_per_field: 150,
            train_fraction: 5.0 / 6.0,
            validation_fraction: 1.0 / 12.0,
            surrogate: MlpParams {
                hidden: vec![128, 64, 32],
                batch_size: 50,
                ..MlpParams::default()
            },
            ranking: RankingOptions {
                superset_ratio: 0.5,
                ..RankingOptions::default()
            },
            query_batch: 8192,
            trainer: SurrogateTrainer::Fast,
            detector: Detector::Nid,
            archdetect_top_k: 10,
            lime_kernel_width: None,
            cutoff: Some(LocalCutoff::default()),
        }
    }
}

/// What local detection found around one instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalExplanation {
    /// The instance's index in the list GLIDER was given (0-based).
    pub instance: usize,
    /// Pruned interactions, strongest first (field indices, ascending within a set).
    pub interactions: Vec<RankedInteraction>,
    /// Surrogate MSE on the held-out perturbations (logit units squared).
    pub surrogate_test_mse: f64,
    /// Variance of the logits over the held-out perturbations (to read the MSE against).
    pub logit_variance: f64,
    /// Epochs the surrogate trained.
    pub epochs: usize,
}

/// A surrogate fitted around one instance.
#[derive(Clone, Debug)]
pub struct LocalSurrogate {
    /// The surrogate's weights, as NID reads them.
    pub weights: glider_core::nid::MlpWeights,
    /// Surrogate MSE on the held-out perturbations.
    pub test_mse: f64,
    /// Variance of the held-out logits.
    pub logit_variance: f64,
    /// Epochs trained.
    pub epochs: usize,
}

fn check_row(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
) -> Result<usize, ExplainError> {
    let p = black_box.num_fields();
    if row.len() != p {
        return Err(ExplainError::Config(format!(
            "instance {instance} has {} values for {p} fields",
            row.len()
        )));
    }
    Ok(p)
}

/// Steps 1–3 of local detection: perturb, query, fit the surrogate (spec 3.1).
///
/// # Errors
/// As [`explain_instance`].
pub fn fit_local_surrogate(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
    params: &LocalParams,
    seed: u64,
) -> Result<LocalSurrogate, ExplainError> {
    fit_surrogate(black_box, row, instance, params, seed).map(|(s, _)| s)
}

/// [`fit_local_surrogate`], also returning the trained network for GradientNID (Softplus).
fn fit_surrogate(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
    params: &LocalParams,
    seed: u64,
) -> Result<(LocalSurrogate, Option<glider_nn::additive::AdditiveNet>), ExplainError> {
    let p = check_row(black_box, row, instance)?;
    let n = params.perturbations_for(p);
    let n_train = (n as f64 * params.train_fraction).round() as usize;
    let n_val = (n as f64 * params.validation_fraction).round() as usize;
    if n < 10 || n_train == 0 || n_val == 0 || n_train + n_val >= n {
        return Err(ExplainError::Config(format!(
            "{n} perturbations cannot be split {:.3}/{:.3}/rest into train, validation and test",
            params.train_fraction, params.validation_fraction
        )));
    }
    let instance_seed = derive_seed(seed, instance as u64);
    let masks = field_masks(p, n, instance_seed);

    // Perturbed instances, queried in batches. A mask drawn twice is queried once (with few
    // fields many masks repeat: about 3,400 distinct of 6,000 at 14 fields); the black box is
    // a function of its input, so the logits are the same as querying every row.
    let (distinct, slot_of) = distinct_rows(&masks);
    let mut distinct_logits = Vec::with_capacity(distinct.len());
    let batch = params.query_batch.max(1);
    let mut values = Vec::with_capacity(batch.min(distinct.len()) * p);
    for chunk in distinct.chunks(batch) {
        values.clear();
        for &i in chunk {
            for (&keep, &v) in masks.row(i).iter().zip(row) {
                values.push(if keep == 1 { v } else { FieldValue::Off });
            }
        }
        let out = black_box.logits(&values)?;
        crate::blackbox::check_scores(&out, chunk.len())?;
        distinct_logits.extend(out);
    }
    let logits: Vec<f32> = slot_of.iter().map(|&s| distinct_logits[s]).collect();

    let x: Vec<f32> = masks.data.iter().map(|&b| b as f32).collect();
    let split = |a: usize, b: usize| Table {
        x: &x[a * p..b * p],
        y: &logits[a..b],
        cols: p,
    };
    let train = split(0, n_train);
    let validation = split(n_train, n_train + n_val);
    let test = split(n_train + n_val, n);
    let surrogate_seed = derive_seed(instance_seed, 1);
    let weights: Option<Vec<f32>> = match params.lime_kernel_width {
        Some(width) if width > 0.0 => Some(
            (0..n_train + n_val)
                .map(|i| lime_weight(masks.row(i), width))
                .collect(),
        ),
        Some(width) => {
            return Err(ExplainError::Config(format!(
                "the LIME kernel width must be positive, got {width}"
            )))
        }
        None => None,
    };
    let split_weights = weights
        .as_deref()
        .map(|w| (&w[..n_train], &w[n_train..n_train + n_val]));
    if params.detector == Detector::GradientNid {
        let fit = fit_fast_weighted(
            &train,
            &validation,
            &params.surrogate,
            surrogate_seed,
            Activation::Softplus,
            split_weights,
        )?;
        let test_mse = fit.net.mean_loss(&test);
        let (_, logit_variance) = mean_and_variance(&logits[n_train + n_val..]);
        return Ok((
            LocalSurrogate {
                weights: fit.net.interaction_weights()?,
                test_mse,
                logit_variance,
                epochs: fit.epochs,
            },
            Some(fit.net),
        ));
    }
    let (weights, epochs, test_mse) = match params.trainer {
        SurrogateTrainer::Fast => {
            let fit = fit_fast_weighted(
                &train,
                &validation,
                &params.surrogate,
                surrogate_seed,
                Activation::Relu,
                split_weights,
            )?;
            (
                fit.net.interaction_weights()?,
                fit.epochs,
                fit.net.mean_loss(&test),
            )
        }
        SurrogateTrainer::Autodiff if split_weights.is_some() => {
            return Err(ExplainError::Config(
                "LIME weighting needs the fast surrogate trainer".into(),
            ))
        }
        SurrogateTrainer::Autodiff => {
            let fit = fit_mlp(&train, &validation, &params.surrogate, surrogate_seed)?;
            let test_mse = mse(&fit.net, &test)?;
            (fit.weights, fit.epochs, test_mse)
        }
    };
    let (_, logit_variance) = mean_and_variance(&logits[n_train + n_val..]);
    Ok((
        LocalSurrogate {
            weights,
            test_mse,
            logit_variance,
            epochs,
        },
        None,
    ))
}

/// The first row of each distinct mask, in order of first appearance, and for every row the
/// index of its distinct mask in that list.
fn distinct_rows(masks: &Masks) -> (Vec<usize>, Vec<usize>) {
    let n = masks.num_perturbations;
    let mut seen: HashMap<&[u8], usize> = HashMap::with_capacity(n);
    let mut distinct = Vec::new();
    let mut slot_of = Vec::with_capacity(n);
    for i in 0..n {
        let slot = *seen.entry(masks.row(i)).or_insert_with(|| {
            distinct.push(i);
            distinct.len() - 1
        });
        slot_of.push(slot);
    }
    (distinct, slot_of)
}

fn mean_and_variance(v: &[f32]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var)
}

/// GradientNID around one instance: every pair, strongest first (no truncation); see
/// [`gradient_pairs`].
///
/// # Errors
/// As [`fit_local_surrogate`].
pub fn gradient_nid_pairs(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
    params: &LocalParams,
    seed: u64,
) -> Result<Vec<RankedInteraction>, ExplainError> {
    let params = LocalParams {
        detector: Detector::GradientNid,
        ..params.clone()
    };
    let (_, net) = fit_surrogate(black_box, row, instance, &params, seed)?;
    let net =
        net.ok_or_else(|| ExplainError::Config("GradientNID needs the Softplus surrogate".into()))?;
    Ok(gradient_pairs(&net, row.len()))
}

/// GradientNID's pair scores: the squared mixed second derivative `(∂²f/∂x_i∂x_j)²` of the
/// surrogate `f` at the all-ones mask, by central differences with step 0.1 (the Softplus
/// surrogate is smooth; the step keeps f32 rounding far below the scores that matter).
/// Returns the pairs strongest first (ties by index).
pub fn gradient_pairs(net: &glider_nn::additive::AdditiveNet, p: usize) -> Vec<RankedInteraction> {
    let h = 0.1f32;
    let pairs: Vec<(usize, usize)> = (0..p)
        .flat_map(|i| ((i + 1)..p).map(move |j| (i, j)))
        .collect();
    let mut x = Vec::with_capacity(pairs.len() * 4 * p);
    for &(i, j) in &pairs {
        for (si, sj) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
            let start = x.len();
            x.resize(start + p, 1.0);
            x[start + i] += si * h;
            x[start + j] += sj * h;
        }
    }
    let f = net.predict(&x, pairs.len() * 4);
    let mut ranked: Vec<RankedInteraction> = pairs
        .iter()
        .zip(f.chunks(4))
        .map(|(&(i, j), v)| {
            let d = (f64::from(v[0]) - f64::from(v[1]) - f64::from(v[2]) + f64::from(v[3]))
                / (4.0 * f64::from(h) * f64::from(h));
            RankedInteraction {
                features: vec![i, j],
                strength: d * d,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.features.cmp(&b.features))
    });
    ranked
}

/// ArchDetect's pairwise strengths around one instance: context and target are the instance
/// and the instance with every field switched off (missing), both ways (spec 2, 3.1).
///
/// # Errors
/// [`ExplainError::BlackBox`] when the black box fails.
pub fn archdetect_instance(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
) -> Result<Vec<RankedInteraction>, ExplainError> {
    let p = check_row(black_box, row, instance)?;
    pair_strengths::<ExplainError>(p, &vec![1.0; p], |direction, patterns| {
        let mut values = Vec::with_capacity(patterns.len() * p);
        for pattern in patterns {
            for (&take_target, &v) in pattern.iter().zip(row) {
                let on = match direction {
                    Direction::FromBaseline => take_target,
                    Direction::FromInput => !take_target,
                };
                values.push(if on { v } else { FieldValue::Off });
            }
        }
        let out = black_box.logits(&values)?;
        crate::blackbox::check_scores(&out, patterns.len())?;
        Ok(out.into_iter().map(|v| v as f64).collect())
    })
}

/// Explains one instance with the configured detector: NID on a surrogate fitted to
/// perturbations (steps 1–4 of spec 3.1), GradientNID's or ArchDetect's top pairs; then the
/// local cut-off when [`LocalParams::cutoff`] is set.
///
/// `instance` indexes the run's instance list and, with `seed`, seeds the masks and the
/// surrogate, so the result does not depend on which thread runs it.
///
/// # Errors
/// [`ExplainError::BlackBox`] when the black box fails or returns unusable scores,
/// [`ExplainError::Surrogate`] when the surrogate cannot be trained,
/// [`ExplainError::Config`] for too few perturbations or a row of the wrong width.
pub fn explain_instance(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
    params: &LocalParams,
    seed: u64,
) -> Result<LocalExplanation, ExplainError> {
    let mut local = detect_instance(black_box, row, instance, params, seed)?;
    if let Some(cutoff) = &params.cutoff {
        local.interactions = apply_cutoff(black_box, row, &local.interactions, cutoff)?;
    }
    Ok(local)
}

fn detect_instance(
    black_box: &dyn BlackBox,
    row: &[FieldValue],
    instance: usize,
    params: &LocalParams,
    seed: u64,
) -> Result<LocalExplanation, ExplainError> {
    match params.detector {
        Detector::GradientNid => {
            let (s, net) = fit_surrogate(black_box, row, instance, params, seed)?;
            let net = net.ok_or_else(|| {
                ExplainError::Config("GradientNID needs the Softplus surrogate".into())
            })?;
            let mut pairs = gradient_pairs(&net, row.len());
            pairs.truncate(params.archdetect_top_k);
            Ok(LocalExplanation {
                instance,
                interactions: pairs,
                surrogate_test_mse: s.test_mse,
                logit_variance: s.logit_variance,
                epochs: s.epochs,
            })
        }
        Detector::Nid => {
            let s = fit_local_surrogate(black_box, row, instance, params, seed)?;
            let interactions = rank_interactions(&s.weights, &params.ranking)?;
            Ok(LocalExplanation {
                instance,
                interactions,
                surrogate_test_mse: s.test_mse,
                logit_variance: s.logit_variance,
                epochs: s.epochs,
            })
        }
        Detector::ArchDetect => {
            let mut pairs = archdetect_instance(black_box, row, instance)?;
            pairs.truncate(params.archdetect_top_k);
            Ok(LocalExplanation {
                instance,
                interactions: pairs,
                surrogate_test_mse: 0.0,
                logit_variance: 0.0,
                epochs: 0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A black box over `p` categorical fields whose logit is `f(on)`, `on[i]` true when field
    /// `i` is on (not the missing id 0).
    struct OnOff {
        p: usize,
        f: fn(&[bool]) -> f32,
    }

    impl BlackBox for OnOff {
        fn num_fields(&self) -> usize {
            self.p
        }
        fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
            Ok(rows
                .chunks(self.p)
                .map(|r| {
                    let on: Vec<bool> = r.iter().map(|v| !v.is_missing_or_off()).collect();
                    (self.f)(&on)
                })
                .collect())
        }
    }

    /// Records how many rows it was asked to score; the logit is `f(on)` as [`OnOff`].
    struct Counting {
        inner: OnOff,
        rows: std::sync::atomic::AtomicUsize,
    }

    impl BlackBox for Counting {
        fn num_fields(&self) -> usize {
            self.inner.p
        }
        fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
            self.rows.fetch_add(
                rows.len() / self.inner.p,
                std::sync::atomic::Ordering::SeqCst,
            );
            self.inner.logits(rows)
        }
    }

    #[test]
    fn distinct_rows_keeps_first_appearance() {
        let masks = Masks {
            num_perturbations: 5,
            num_fields: 2,
            data: vec![1u8, 0, 1, 1, 1, 0, 1, 1, 0, 0],
        };
        let (distinct, slot_of) = distinct_rows(&masks);
        assert_eq!(distinct, vec![0, 1, 4]);
        assert_eq!(slot_of, vec![0, 1, 0, 1, 2]);
    }

    /// Each distinct mask is queried once, and the surrogate is the one trained on every
    /// row's logit: with 3 fields there are at most 8 masks among 1,200 perturbations.
    #[test]
    fn repeated_masks_are_queried_once() {
        let f: fn(&[bool]) -> f32 = |on| 2.0 * b(on[0] && on[1]) - b(on[2]);
        let counting = Counting {
            inner: OnOff { p: 3, f },
            rows: Default::default(),
        };
        let row = [FieldValue::Categorical(1); 3];
        let params = small_params();
        let s = fit_local_surrogate(&counting, &row, 0, &params, 5).unwrap();
        let asked = counting.rows.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=8).contains(&asked), "{asked} rows queried");
        let again = fit_local_surrogate(&OnOff { p: 3, f }, &row, 0, &params, 5).unwrap();
        assert_eq!(s.weights, again.weights);
        assert_eq!(s.test_mse, again.test_mse);
    }

    /// A small surrogate and few perturbations, for fast tests.
    fn small_params() -> LocalParams {
        LocalParams {
            num_perturbations: 1200,
            surrogate: MlpParams {
                hidden: vec![32, 16],
                max_epochs: 40,
                ..MlpParams::default()
            },
            ..LocalParams::default()
        }
    }

    fn b(c: bool) -> f32 {
        if c {
            1.0
        } else {
            0.0
        }
    }

    /// 5 fields, logit = 3·[f1 on ∧ f3 on] + [f0 on]: the local ranking must put {1, 3} first.
    const PLANTED: OnOff = OnOff {
        p: 5,
        f: |on| 3.0 * b(on[1] && on[3]) + b(on[0]),
    };

    #[test]
    fn finds_the_planted_pair_and_is_seeded() {
        let row: Vec<FieldValue> = (1..=5).map(FieldValue::Categorical).collect();
        let params = LocalParams { ..small_params() };
        let a = explain_instance(&PLANTED, &row, 7, &params, 11).unwrap();
        assert_eq!(a.interactions[0].features, vec![1, 3]);
        assert!(a.surrogate_test_mse < 0.1 * a.logit_variance, "{a:?}");
        let b = explain_instance(&PLANTED, &row, 7, &params, 11).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn gradient_nid_finds_the_planted_pair_and_is_seeded() {
        let row: Vec<FieldValue> = (1..=5).map(FieldValue::Categorical).collect();
        let params = LocalParams {
            detector: Detector::GradientNid,
            archdetect_top_k: 4,
            cutoff: None,
            ..small_params()
        };
        let a = explain_instance(&PLANTED, &row, 7, &params, 11).unwrap();
        assert_eq!(a.interactions.len(), 4);
        assert_eq!(a.interactions[0].features, vec![1, 3]);
        assert!(a.interactions.iter().all(|i| i.features.len() == 2));
        assert!(
            a.interactions[0].strength > 10.0 * a.interactions[1].strength,
            "{a:?}"
        );
        assert_eq!(a, explain_instance(&PLANTED, &row, 7, &params, 11).unwrap());
    }

    #[test]
    fn lime_weights_follow_the_kernel() {
        // All on: distance 0, weight 1. All off: distance 1, weight sqrt(exp(-16)).
        assert!((lime_weight(&[1, 1, 1, 1], 0.25) - 1.0).abs() < 1e-7);
        assert!((lime_weight(&[0, 0, 0, 0], 0.25) - (-16f64).exp().sqrt() as f32).abs() < 1e-9);
        // One of four on: cos = 1/2, d = 1/2, weight sqrt(exp(-4)).
        assert!((lime_weight(&[0, 1, 0, 0], 0.25) - (-4f64).exp().sqrt() as f32).abs() < 1e-7);
    }

    #[test]
    fn lime_weighting_still_finds_the_planted_pair() {
        let row: Vec<FieldValue> = (1..=5).map(FieldValue::Categorical).collect();
        let params = LocalParams {
            lime_kernel_width: Some(0.25),
            ..small_params()
        };
        let a = explain_instance(&PLANTED, &row, 7, &params, 11).unwrap();
        assert_eq!(a.interactions[0].features, vec![1, 3]);
        let plain = explain_instance(
            &PLANTED,
            &row,
            7,
            &LocalParams {
                lime_kernel_width: None,
                ..params.clone()
            },
            11,
        )
        .unwrap();
        assert_ne!(a, plain, "the weights changed nothing");
    }

    /// 8 fields: logit = 3·[f1 ∧ f3] + 2·[f0 ∧ f2 ∧ f4] + [f5] + 0.1·[f6 ∧ f7].
    const PAIR_AND_TRIPLE: OnOff = OnOff {
        p: 8,
        f: |on| {
            3.0 * b(on[1] && on[3])
                + 2.0 * b(on[0] && on[2] && on[4])
                + b(on[5])
                + 0.1 * b(on[6] && on[7])
        },
    };

    #[test]
    fn pure_effects_are_the_mixed_differences() {
        let row: Vec<FieldValue> = (1..=8).map(FieldValue::Categorical).collect();
        let sets = vec![
            vec![1, 3],
            vec![1, 3, 5],
            vec![0, 2, 4],
            vec![0, 2],
            vec![6, 7],
            vec![5, 6],
        ];
        let d = pure_effects(&PAIR_AND_TRIPLE, &row, &sets).unwrap();
        // {1,3}: 3; {1,3,5}: the third field adds nothing, 0; {0,2,4}: 2; {0,2} with f4 on: 2;
        // {6,7}: 0.1; {5,6}: 0.
        let want = [3.0, 0.0, 2.0, 2.0, 0.1, 0.0];
        for (got, want) in d.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{d:?}");
        }
        assert!(pure_effects(&PAIR_AND_TRIPLE, &row, &[vec![1, 9]]).is_err());
        // Each distinct row (the fields switched off) is asked once: {1,3} 4 rows, {1,3,5}
        // 4 more, {0,2,4} 7 more ("nothing off" is known), {0,2} none, {6,7} 3, {5,6} only
        // {5,6} off ({5} and {6} are known): 19 rows, against 32 one set at a time.
        let counting = Counting {
            inner: PAIR_AND_TRIPLE,
            rows: std::sync::atomic::AtomicUsize::new(0),
        };
        let again = pure_effects(&counting, &row, &sets).unwrap();
        assert_eq!(again, d);
        assert_eq!(counting.rows.load(std::sync::atomic::Ordering::Relaxed), 19);
    }

    #[test]
    fn an_additive_model_has_no_interaction_above_its_rounding() {
        // f32 sums of main effects: the mixed differences are rounding noise, not zero.
        let additive = OnOff {
            p: 5,
            f: |on| {
                let w = [0.11f32, 0.37, 0.77, 1.3, 0.29];
                on.iter()
                    .zip(w)
                    .fold(-2.9f32, |acc, (&o, w)| acc + if o { w } else { 0.0 })
            },
        };
        let row: Vec<FieldValue> = (1..=5).map(FieldValue::Categorical).collect();
        let ranked: Vec<RankedInteraction> = [[0usize, 1], [1, 2], [0, 2], [2, 3], [3, 4]]
            .iter()
            .enumerate()
            .map(|(i, s)| RankedInteraction {
                features: s.to_vec(),
                strength: 5.0 - i as f64,
            })
            .collect();
        let sets: Vec<Vec<usize>> = ranked.iter().map(|r| r.features.clone()).collect();
        let d = pure_effects(&additive, &row, &sets).unwrap();
        assert!(
            d.iter().any(|&v| v != 0.0),
            "rounding noise expected: {d:?}"
        );
        assert!(d.iter().all(|&v| v.abs() < 1e-5), "{d:?}");
        let cutoff = LocalCutoff::default();
        assert!(apply_cutoff(&additive, &row, &ranked, &cutoff)
            .unwrap()
            .is_empty());
        // Without the floor, the share alone keeps the noise.
        let no_floor = LocalCutoff {
            min_effect: 0.0,
            ..cutoff
        };
        assert!(!apply_cutoff(&additive, &row, &ranked, &no_floor)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_cutoff_keeps_what_earns_its_place() {
        let row: Vec<FieldValue> = (1..=8).map(FieldValue::Categorical).collect();
        let ranked = |sets: &[&[usize]]| -> Vec<RankedInteraction> {
            sets.iter()
                .enumerate()
                .map(|(i, s)| RankedInteraction {
                    features: s.to_vec(),
                    strength: 10.0 - i as f64,
                })
                .collect()
        };
        let cutoff = LocalCutoff::default();
        let sets = |v: Vec<RankedInteraction>| -> Vec<Vec<usize>> {
            v.into_iter().map(|r| r.features).collect()
        };
        // NID-like: the pair inside a spurious triple, the real triple's pairs, a weak pair.
        let got = apply_cutoff(
            &PAIR_AND_TRIPLE,
            &row,
            &ranked(&[
                &[1, 3, 5],
                &[1, 3],
                &[0, 2],
                &[2, 4],
                &[0, 2, 4],
                &[6, 7],
                &[0, 1],
            ]),
            &cutoff,
        )
        .unwrap();
        assert_eq!(sets(got.clone()), vec![vec![1, 3], vec![0, 2, 4]]);
        assert!((got[0].strength - 3.0).abs() < 1e-6 && (got[1].strength - 2.0).abs() < 1e-6);
        // Pairwise candidates (ArchDetect, GradientNID): overlapping pairs merge into the triple.
        let got = apply_cutoff(
            &PAIR_AND_TRIPLE,
            &row,
            &ranked(&[&[1, 3], &[0, 2], &[2, 4], &[0, 4], &[6, 7]]),
            &cutoff,
        )
        .unwrap();
        assert_eq!(sets(got), vec![vec![1, 3], vec![0, 2, 4]]);
        // At max order 2 nothing merges and the triple's pairs stay.
        let got = apply_cutoff(
            &PAIR_AND_TRIPLE,
            &row,
            &ranked(&[&[1, 3], &[0, 2], &[2, 4]]),
            &LocalCutoff {
                max_order: 2,
                ..cutoff.clone()
            },
        )
        .unwrap();
        assert_eq!(sets(got), vec![vec![1, 3], vec![0, 2], vec![2, 4]]);
        // Through explain_instance with NID.
        let params = LocalParams {
            cutoff: Some(cutoff),
            ..small_params()
        };
        let a = explain_instance(&PAIR_AND_TRIPLE, &row, 3, &params, 5).unwrap();
        assert_eq!(
            a.interactions
                .iter()
                .map(|i| i.features.clone())
                .collect::<Vec<_>>(),
            vec![vec![1, 3], vec![0, 2, 4]],
            "{a:?}"
        );
    }

    #[test]
    fn a_failing_black_box_is_an_error_not_a_panic() {
        struct Bad;
        impl BlackBox for Bad {
            fn num_fields(&self) -> usize {
                2
            }
            fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
                Ok(vec![f32::NAN; rows.len() / 2])
            }
        }
        let row = [FieldValue::Categorical(1), FieldValue::Dense(1.0)];
        let err = explain_instance(&Bad, &row, 0, &LocalParams::default(), 0).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
    }
}

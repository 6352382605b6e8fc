//! Crosses chosen on validation, per target (glider's addition to spec 3.3; issue 15).
//!
//! GLIDER's global interactions are candidates. For each target model, a candidate cross is
//! kept only when it lowers that target's validation logloss. Retraining the target once per
//! candidate would cost K trainings per target, so each candidate is first scored the way
//! AutoCross scores a feature (Luo et al., KDD 2019, field-wise logistic regression): the
//! target's baseline model is frozen, its logit on every row is the offset, and only the
//! candidate's weights are fitted — one weight per cross tuple, an L2-regularised logistic
//! regression on the offset, solved exactly by per-tuple Newton steps on the training rows.
//! The candidate's score is the drop in validation logloss it gives. Candidates are visited in
//! rank order (forward selection): a kept candidate's weights join the offset, so a later
//! candidate that only repeats it scores nothing.
//!
//! The caller then retrains the target with the kept set and with every candidate (single
//! candidates are scored noisily on a small validation split, and crosses can pay together)
//! and keeps the set whose retrained model has the lower validation logloss, when it is below
//! the baseline's; otherwise nothing is kept and +GLIDER is the baseline. The test rows never
//! reach any of this.

use serde::{Deserialize, Serialize};

/// Whether the crosses are chosen per target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrossSelection {
    /// Every candidate is appended (the paper's fixed top-K, spec 3.3).
    None,
    /// Forward selection on validation logloss, then retrains that decide (this module).
    #[default]
    Validation,
}

impl CrossSelection {
    /// The flag spelling: `none` or `validation`.
    pub fn name(self) -> &'static str {
        match self {
            CrossSelection::None => "none",
            CrossSelection::Validation => "validation",
        }
    }
}

/// Settings of the selection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectionParams {
    /// Selection mode (default [`CrossSelection::Validation`]).
    pub mode: CrossSelection,
    /// L2 strength on each tuple's weight, in units of training rows: a tuple's weight is
    /// shrunk as if it had this many extra rows at the offset's prediction (default 5).
    pub l2: f64,
    /// A candidate is kept when it lowers the validation logloss by more than this many nats
    /// per row (default 1e-4)...
    pub min_gain: f64,
    /// ...and by more than this many standard errors of the per-row logloss differences
    /// (default 2: a pure-noise candidate passes about 2% of the time).
    pub z: f64,
    /// A retrained cross set replaces the baseline only when its validation logloss is lower
    /// by more than this many standard errors of the per-row differences (default 0.5; 0 =
    /// any improvement). A few retrains are compared, not 20 candidates, and a real gain is
    /// costly to reject. Measured on Criteo 10k, 5 trials (issue 15, BENCHMARKS.md): at 0.5
    /// LR keeps its 20 crosses (z 0.65, +0.0047 test AUC, p 0.007) while DeepFM keeps none
    /// (z 0.19); at 0 DeepFM takes a set that loses 0.012; at 1 LR's gain is rejected.
    #[serde(default = "default_confirm_z")]
    pub confirm_z: f64,
    /// The confirming retrains also try each set with a coarser crossing, a tuple kept only
    /// when seen more than `coarse_min_count_sqrt × √rows` times (and more than the crossing's
    /// own min count), and the lowest validation logloss decides; 0 = off, default 1.5 (about
    /// 300 on 40k training rows). A min count sized to the rows alone cannot serve every data
    /// set: measured (issue 15, BENCHMARKS.md), ~300 removed the losses on Adult and gave LR
    /// +0.0085 on Criteo 10k, but cut the planted benchmark's Wide&Deep gain from +0.069 to
    /// +0.023; so validation picks per target.
    #[serde(default = "default_coarse_min_count_sqrt")]
    pub coarse_min_count_sqrt: f64,
    /// A candidate set of three or more fields whose tuples seen more than the crossing's
    /// min count cover less than this share of the training rows is replaced by its pairs
    /// before the selection ([`glider_data::cross::split_sparse_sets`]); 0 = off, default
    /// 0.5. Measured on MovieLens-100K (issue 15, BENCHMARKS.md): DeepFM's top sets there
    /// hold both `user_id` and `item_id` and cross into nothing; their pairs gave LR +0.006
    /// test AUC.
    #[serde(default = "default_split_below_coverage")]
    pub split_below_coverage: f64,
}

fn default_split_below_coverage() -> f64 {
    0.5
}

fn default_confirm_z() -> f64 {
    0.5
}

fn default_coarse_min_count_sqrt() -> f64 {
    1.5
}

impl Default for SelectionParams {
    fn default() -> Self {
        SelectionParams {
            mode: CrossSelection::Validation,
            l2: 5.0,
            min_gain: 1e-4,
            z: 2.0,
            confirm_z: default_confirm_z(),
            coarse_min_count_sqrt: default_coarse_min_count_sqrt(),
            split_below_coverage: default_split_below_coverage(),
        }
    }
}

impl SelectionParams {
    /// Checks the settings.
    ///
    /// # Errors
    /// A message naming the setting when `l2` is negative or not finite, or `min_gain` is not
    /// finite.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(format!(
                "the selection's L2 must be a number >= 0, not {}",
                self.l2
            ));
        }
        if !(self.z >= 0.0 && self.z.is_finite()) {
            return Err(format!(
                "the selection's z must be a number >= 0, not {}",
                self.z
            ));
        }
        if !(self.confirm_z >= 0.0 && self.confirm_z.is_finite()) {
            return Err(format!(
                "the confirming retrain's z must be a number >= 0, not {}",
                self.confirm_z
            ));
        }
        if !(self.coarse_min_count_sqrt >= 0.0 && self.coarse_min_count_sqrt.is_finite()) {
            return Err(format!(
                "the coarse min count's coefficient must be a number >= 0, not {}",
                self.coarse_min_count_sqrt
            ));
        }
        if !(0.0..=1.0).contains(&self.split_below_coverage) {
            return Err(format!(
                "the coverage below which a set is split into pairs must be a share in [0, 1], \
                 not {}",
                self.split_below_coverage
            ));
        }
        if !self.min_gain.is_finite() {
            return Err(format!(
                "the selection's minimum gain must be a finite number, not {}",
                self.min_gain
            ));
        }
        Ok(())
    }
}

/// One candidate cross as the selection sees it: its tuple id on every training and
/// validation row (0 = missing or rare: no weight), and the number of ids (`max id + 1`).
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateCodes {
    /// Name of the cross field, for the trace.
    pub name: String,
    /// Tuple id per training row (same order as the training labels).
    pub train: Vec<u32>,
    /// Tuple id per validation row.
    pub validation: Vec<u32>,
}

/// What happened to one candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    /// The cross field's name.
    pub name: String,
    /// Drop in validation logloss (nats per row) the candidate's fitted weights gave on top of
    /// the offset at its turn; negative when it made validation worse.
    pub gain: f64,
    /// Standard error of that gain (the per-row differences' sample standard deviation over
    /// the square root of the validation rows).
    pub gain_se: f64,
    /// Validation logloss of the offset after this candidate's turn (the curve of the report).
    pub validation_logloss: f64,
    /// Whether it was kept.
    pub kept: bool,
}

/// The forward selection's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectionTrace {
    /// Validation logloss of the baseline model (the offset alone).
    pub baseline_validation_logloss: f64,
    /// One entry per candidate, in rank order.
    pub candidates: Vec<CandidateScore>,
}

impl SelectionTrace {
    /// Indices (into the candidates) of the kept ones, in rank order.
    pub fn kept(&self) -> Vec<usize> {
        self.candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kept)
            .map(|(i, _)| i)
            .collect()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Logloss of one label (0/1) at logit `z`, the probability clipped to [1e-7, 1 − 1e-7] as
/// the models' metric does.
fn row_logloss(y: f32, z: f64) -> f64 {
    let p = sigmoid(z).clamp(1e-7, 1.0 - 1e-7);
    if y > 0.5 {
        -p.ln()
    } else {
        -(1.0 - p).ln()
    }
}

/// Mean logloss of labels `y` (0/1) at logits `z` (0 for no rows).
pub fn mean_logloss(y: &[f32], z: &[f64]) -> f64 {
    if y.is_empty() {
        return 0.0;
    }
    y.iter()
        .zip(z)
        .map(|(&y, &z)| row_logloss(y, z))
        .sum::<f64>()
        / y.len() as f64
}

/// Fits one weight per tuple id on top of `offset`: per id `v`, the minimiser of
/// `Σ_{rows with id v} logloss(y, σ(offset + w_v)) + l2/2 · w_v²`, by Newton steps (at most
/// 25, each clipped to ±4 nats). Id 0 keeps weight 0. Returns the weights, `max id + 1` long.
pub fn fit_tuple_weights(y: &[f32], offset: &[f64], ids: &[u32], l2: f64) -> Vec<f64> {
    let n_ids = ids.iter().copied().max().map_or(1, |m| m as usize + 1);
    let mut w = vec![0.0f64; n_ids];
    let mut grad = vec![0.0f64; n_ids];
    let mut hess = vec![0.0f64; n_ids];
    for _ in 0..25 {
        grad.iter_mut().for_each(|g| *g = 0.0);
        hess.iter_mut().for_each(|h| *h = 0.0);
        for ((&yv, &o), &id) in y.iter().zip(offset).zip(ids) {
            if id == 0 {
                continue;
            }
            let i = id as usize;
            let p = sigmoid(o + w[i]);
            grad[i] += p - f64::from(yv);
            hess[i] += p * (1.0 - p);
        }
        let mut largest = 0.0f64;
        for i in 1..n_ids {
            let g = grad[i] + l2 * w[i];
            let h = hess[i] + l2;
            if h <= 0.0 {
                continue;
            }
            let step = (g / h).clamp(-4.0, 4.0);
            w[i] -= step;
            largest = largest.max(step.abs());
        }
        if largest < 1e-7 {
            break;
        }
    }
    w
}

/// Forward selection in rank order (module docs). `train_offset` and `validation_offset`
/// are the baseline model's logits on the training and validation rows, `train_y` and
/// `validation_y` their labels.
pub fn forward_select(
    train_y: &[f32],
    train_offset: &[f64],
    validation_y: &[f32],
    validation_offset: &[f64],
    candidates: &[CandidateCodes],
    params: &SelectionParams,
) -> SelectionTrace {
    let mut train_z = train_offset.to_vec();
    let mut valid_z = validation_offset.to_vec();
    let mut row_ll: Vec<f64> = validation_y
        .iter()
        .zip(&valid_z)
        .map(|(&y, &z)| row_logloss(y, z))
        .collect();
    let n = row_ll.len().max(1) as f64;
    let baseline = row_ll.iter().sum::<f64>() / n;
    let mut current = baseline;
    let mut scores = Vec::with_capacity(candidates.len());
    for c in candidates {
        let w = fit_tuple_weights(train_y, &train_z, &c.train, params.l2);
        let weight = |id: u32| w.get(id as usize).copied().unwrap_or(0.0);
        let trial_z: Vec<f64> = valid_z
            .iter()
            .zip(&c.validation)
            .map(|(&z, &id)| z + weight(id))
            .collect();
        let trial_ll: Vec<f64> = validation_y
            .iter()
            .zip(&trial_z)
            .map(|(&y, &z)| row_logloss(y, z))
            .collect();
        let diffs: Vec<f64> = row_ll.iter().zip(&trial_ll).map(|(a, b)| a - b).collect();
        let gain = diffs.iter().sum::<f64>() / n;
        let var = if diffs.len() > 1 {
            diffs.iter().map(|d| (d - gain).powi(2)).sum::<f64>() / (diffs.len() - 1) as f64
        } else {
            0.0
        };
        let gain_se = (var / n).sqrt();
        let kept = gain > params.min_gain && gain > params.z * gain_se;
        if kept {
            valid_z = trial_z;
            row_ll = trial_ll;
            for (z, &id) in train_z.iter_mut().zip(&c.train) {
                *z += weight(id);
            }
            current -= gain;
        }
        scores.push(CandidateScore {
            name: c.name.clone(),
            gain,
            gain_se,
            validation_logloss: current,
            kept,
        });
    }
    SelectionTrace {
        baseline_validation_logloss: baseline,
        candidates: scores,
    }
}

/// The share of the source model's lift over a simple target that the crosses recover
/// (issue 15, distillation): per trial `(target+GLIDER − target) / (source − target mean)` in
/// test AUC. `None` ("n/a") when the source is not better than the target's baseline mean.
pub fn recovered_share(source_auc: f64, baseline: &[f64], enhanced: &[f64]) -> Option<Vec<f64>> {
    if baseline.is_empty() || baseline.len() != enhanced.len() {
        return None;
    }
    let base_mean = baseline.iter().sum::<f64>() / baseline.len() as f64;
    let lift = source_auc - base_mean;
    if lift.is_nan() || lift <= 0.0 {
        return None;
    }
    Some(
        baseline
            .iter()
            .zip(enhanced)
            .map(|(b, e)| (e - b) / lift)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny LCG for reproducible data.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn tuple_weight_is_the_regularised_log_odds() {
        // Offset 0, one id with 30 positives of 40 rows, l2 = 0: w = logit(0.75) = ln 3.
        let y: Vec<f32> = (0..40).map(|i| if i < 30 { 1.0 } else { 0.0 }).collect();
        let w = fit_tuple_weights(&y, &[0.0; 40], &[1; 40], 0.0);
        assert!((w[1] - 3f64.ln()).abs() < 1e-9, "{w:?}");
        assert_eq!(w[0], 0.0);
        // With L2 the weight shrinks towards 0 and solves g + l2 w = 0.
        let w = fit_tuple_weights(&y, &[0.0; 40], &[1; 40], 10.0);
        let p = sigmoid(w[1]);
        let g = 40.0 * p - 30.0 + 10.0 * w[1];
        assert!(w[1] > 0.0 && w[1] < 3f64.ln() && g.abs() < 1e-9, "{w:?}");
        // Id 0 rows are ignored.
        let ids: Vec<u32> = (0..40).map(|i| if i % 2 == 0 { 0 } else { 1 }).collect();
        let w = fit_tuple_weights(&y, &[0.0; 40], &ids, 0.0);
        assert!((w[1] - 3f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn mean_logloss_matches_hand_values() {
        let ll = mean_logloss(&[1.0, 0.0], &[0.0, 0.0]);
        assert!((ll - 2f64.ln()).abs() < 1e-12);
        let ll = mean_logloss(&[1.0], &[3f64.ln()]);
        assert!((ll + 0.75f64.ln()).abs() < 1e-12);
    }

    /// The label is an XOR of two binary fields a, b; a third binary field c is noise. The
    /// baseline offset knows nothing (logit 0). The cross (a,b) carries everything, the cross
    /// (a,c) nothing, and a copy of (a,b) after it adds nothing: only the first is kept.
    #[test]
    fn keeps_the_planted_cross_and_rejects_noise_and_repeats() {
        let mut rng = Lcg(7);
        let mut make = |n: usize| {
            let mut y = Vec::with_capacity(n);
            let mut ab = Vec::with_capacity(n);
            let mut ac = Vec::with_capacity(n);
            for _ in 0..n {
                let a = (rng.next() < 0.5) as u32;
                let b = (rng.next() < 0.5) as u32;
                let c = (rng.next() < 0.5) as u32;
                let p = if a ^ b == 1 { 0.8 } else { 0.2 };
                y.push(if rng.next() < p { 1.0f32 } else { 0.0 });
                ab.push(1 + 2 * a + b);
                ac.push(1 + 2 * a + c);
            }
            (y, ab, ac)
        };
        let (ty, tab, tac) = make(4000);
        let (vy, vab, vac) = make(2000);
        let candidates = vec![
            CandidateCodes {
                name: "cross(a,c)".into(),
                train: tac,
                validation: vac,
            },
            CandidateCodes {
                name: "cross(a,b)".into(),
                train: tab.clone(),
                validation: vab.clone(),
            },
            CandidateCodes {
                name: "cross(a,b) again".into(),
                train: tab,
                validation: vab,
            },
        ];
        // The baseline knows the base rate (as any trained model does), nothing more.
        let rate = ty.iter().map(|&y| f64::from(y)).sum::<f64>() / ty.len() as f64;
        let intercept = (rate / (1.0 - rate)).ln();
        let trace = forward_select(
            &ty,
            &vec![intercept; ty.len()],
            &vy,
            &vec![intercept; vy.len()],
            &candidates,
            &SelectionParams::default(),
        );
        assert!((trace.baseline_validation_logloss - 2f64.ln()).abs() < 1e-3);
        assert_eq!(trace.kept(), vec![1], "{trace:#?}");
        // The planted cross takes validation logloss to about that of p = 0.8 (0.500).
        let c = &trace.candidates[1];
        assert!(c.gain > 0.15, "{c:?}");
        assert!((c.validation_logloss - 0.5004).abs() < 0.02, "{c:?}");
        assert!(trace.candidates[0].gain < 2.0 * trace.candidates[0].gain_se);
        assert!(trace.candidates[2].gain.abs() < 1e-3);
        // With no thresholds at all the planted cross is still kept at its turn.
        let loose = SelectionParams {
            z: 0.0,
            min_gain: 0.0,
            ..SelectionParams::default()
        };
        let trace = forward_select(
            &ty,
            &vec![intercept; ty.len()],
            &vy,
            &vec![intercept; vy.len()],
            &candidates,
            &loose,
        );
        assert!(trace.candidates[1].kept);
    }

    #[test]
    fn recovered_share_arithmetic_and_na() {
        // Source 0.80, target baseline mean 0.70: a lift of 0.10; gains 0.02 and 0.04.
        let s = recovered_share(0.80, &[0.69, 0.71], &[0.71, 0.75]).unwrap();
        assert!(
            (s[0] - 0.2).abs() < 1e-12 && (s[1] - 0.4).abs() < 1e-12,
            "{s:?}"
        );
        // The source no better than the target: n/a.
        assert!(recovered_share(0.70, &[0.69, 0.71], &[0.71, 0.75]).is_none());
        assert!(recovered_share(0.60, &[0.69, 0.71], &[0.71, 0.75]).is_none());
        assert!(recovered_share(0.80, &[], &[]).is_none());
    }

    #[test]
    fn params_are_validated() {
        assert!(SelectionParams::default().validate().is_ok());
        let bad = SelectionParams {
            l2: -1.0,
            ..SelectionParams::default()
        };
        assert!(bad.validate().unwrap_err().contains("L2"));
        let bad = SelectionParams {
            min_gain: f64::NAN,
            ..SelectionParams::default()
        };
        assert!(bad.validate().is_err());
        let bad = SelectionParams {
            confirm_z: -0.5,
            ..SelectionParams::default()
        };
        assert!(bad.validate().unwrap_err().contains("confirming"));
        let bad = SelectionParams {
            split_below_coverage: 1.5,
            ..SelectionParams::default()
        };
        assert!(bad.validate().unwrap_err().contains("1.5"));
    }
}

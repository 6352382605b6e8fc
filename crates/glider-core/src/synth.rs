//! Synthetic CTR data with planted field interactions: ground truth for GLIDER tests and
//! benchmarks (spec 3.1-3.3 run on it; the planted sets are what detection should find).
//!
//! Model: `logit = bias + sum_f main[f][x_f] + sum_s effect_s(x_{S_s})`, label ~
//! Bernoulli(sigmoid(logit)). Field values are Zipf distributed; main effects are
//! N(0, main_effect_std^2) per (field, value); the effect of planted set s on a value
//! tuple is N(0, interaction_std^2), derived deterministically from (seed, s, tuple) by
//! [`interaction_effect`], so no table over all tuples is needed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nid::splitmix64;

/// Errors from an invalid [`SynthCtrConfig`].
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum SynthError {
    /// `rows` is 0.
    #[error("rows must be at least 1")]
    NoRows,
    /// No fields.
    #[error("at least one field (cardinality) is needed")]
    NoFields,
    /// A field's cardinality is 0 or does not fit a u32 value.
    #[error("field {field} has cardinality {cardinality}; it must be in 1..=2^32")]
    BadCardinality {
        /// Field index.
        field: usize,
        /// Its cardinality.
        cardinality: usize,
    },
    /// A real parameter is negative or not finite.
    #[error("{name} must be finite and >= 0 (bias: finite), got {value}")]
    BadParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// A planted set is empty, repeats a field, or names a field out of range.
    #[error("planted set {set} ({fields:?}) must be non-empty, distinct, each < {num_fields}")]
    BadPlanted {
        /// Index of the planted set.
        set: usize,
        /// Its fields.
        fields: Vec<usize>,
        /// Number of fields.
        num_fields: usize,
    },
}

/// Configuration of the synthetic CTR generator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthCtrConfig {
    /// Number of rows (impressions).
    pub rows: usize,
    /// Per field, the number of distinct values (ids 0..card).
    pub cardinalities: Vec<usize>,
    /// Zipf exponent s: P(v) proportional to 1 / (v + 1)^s (0 = uniform).
    pub zipf_exponent: f64,
    /// Standard deviation of each (field, value) main effect, in logits.
    pub main_effect_std: f64,
    /// Planted interactions: sets of field indices.
    pub planted: Vec<Vec<usize>>,
    /// Standard deviation of each planted tuple effect, in logits.
    pub interaction_std: f64,
    /// Per planted set, a factor on `interaction_std` (empty = 1 for every set), so one
    /// table can hold strong and weak sets.
    #[serde(default)]
    pub set_scales: Vec<f64>,
    /// Global bias, in logits.
    pub bias: f64,
    /// Seed of every random draw.
    pub seed: u64,
}

impl SynthCtrConfig {
    /// A small default: 8 fields with cardinalities [5, 8, 10, 12, 6, 20, 9, 7], 20,000
    /// rows, Zipf 1.0, main std 0.3, planted [[1, 3]], interaction std 1.0, bias -0.5,
    /// seed 7.
    pub fn small() -> Self {
        Self {
            rows: 20_000,
            cardinalities: vec![5, 8, 10, 12, 6, 20, 9, 7],
            zipf_exponent: 1.0,
            main_effect_std: 0.3,
            planted: vec![vec![1, 3]],
            interaction_std: 1.0,
            set_scales: Vec::new(),
            bias: -0.5,
            seed: 7,
        }
    }

    /// A random layout for benchmarks that cannot be tuned to (issue 20): everything but
    /// `rows` is drawn from `layout_seed` (which is also the data seed):
    /// - 8 to 16 fields, each of cardinality log-uniform in [3, 300], except the planted
    ///   fields: log-uniform in [2, ⌊500^(1/order)⌋] (22 for a pair, 7 for a triple, 4 for
    ///   a 4-set), so that a planted set's value tuples recur;
    /// - Zipf exponent uniform in [0.6, 1.3], main-effect std in [0.2, 0.5], bias in
    ///   [−2, −0.5] logits;
    /// - 2 to 4 planted sets on distinct fields, each of order 2 (probability 1/2), 3 (1/3)
    ///   or 4 (1/6), on fields chosen at random;
    /// - interaction std 1.0 with a per-set scale log-uniform in [0.35, 1.5], so some sets
    ///   are strong and some too weak for a model to learn.
    pub fn random_layout(layout_seed: u64, rows: usize) -> Self {
        let mut rng = stream_rng(layout_seed, 0x1A70);
        let p = rng.random_range(8..=16usize);
        let log_uniform = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| {
            (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
        };
        let mut cardinalities: Vec<usize> = (0..p)
            .map(|_| log_uniform(&mut rng, 3.0, 300.0).round() as usize)
            .collect();
        let zipf_exponent = rng.random_range(0.6..1.3);
        let main_effect_std = rng.random_range(0.2..0.5);
        let bias = rng.random_range(-2.0..-0.5);
        let sets = rng.random_range(2..=4usize);
        let mut free: Vec<usize> = (0..p).collect();
        let mut planted = Vec::new();
        let mut set_scales = Vec::new();
        for _ in 0..sets {
            let u: f64 = rng.random();
            let order = if u < 0.5 {
                2
            } else if u < 5.0 / 6.0 {
                3
            } else {
                4
            };
            if free.len() < order {
                break;
            }
            let mut set = Vec::with_capacity(order);
            for _ in 0..order {
                let i = rng.random_range(0..free.len());
                set.push(free.swap_remove(i));
            }
            set.sort_unstable();
            // A planted set's value tuples must recur for a model to learn them: its fields
            // get cardinalities whose product is at most about 500.
            let cap = 500f64.powf(1.0 / order as f64).floor();
            for &f in &set {
                cardinalities[f] = log_uniform(&mut rng, 2.0, cap).round() as usize;
            }
            planted.push(set);
            set_scales.push(log_uniform(&mut rng, 0.35, 1.5));
        }
        Self {
            rows,
            cardinalities,
            zipf_exponent,
            main_effect_std,
            planted,
            interaction_std: 1.0,
            set_scales,
            bias,
            seed: layout_seed,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SynthError`] naming the first invalid setting.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.rows == 0 {
            return Err(SynthError::NoRows);
        }
        if self.cardinalities.is_empty() {
            return Err(SynthError::NoFields);
        }
        for (field, &c) in self.cardinalities.iter().enumerate() {
            if c == 0 || (c as u64) > (1u64 << 32) {
                return Err(SynthError::BadCardinality {
                    field,
                    cardinality: c,
                });
            }
        }
        for (name, value) in [
            ("zipf_exponent", self.zipf_exponent),
            ("main_effect_std", self.main_effect_std),
            ("interaction_std", self.interaction_std),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(SynthError::BadParameter { name, value });
            }
        }
        if !self.bias.is_finite() {
            return Err(SynthError::BadParameter {
                name: "bias",
                value: self.bias,
            });
        }
        if !self.set_scales.is_empty() && self.set_scales.len() != self.planted.len() {
            return Err(SynthError::BadParameter {
                name: "set_scales (one per planted set)",
                value: self.set_scales.len() as f64,
            });
        }
        if let Some(&value) = self.set_scales.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(SynthError::BadParameter {
                name: "set_scales",
                value,
            });
        }
        let p = self.cardinalities.len();
        for (set, fields) in self.planted.iter().enumerate() {
            let mut s = fields.clone();
            s.sort_unstable();
            s.dedup();
            if s.is_empty() || s.len() != fields.len() || s.iter().any(|&f| f >= p) {
                return Err(SynthError::BadPlanted {
                    set,
                    fields: fields.clone(),
                    num_fields: p,
                });
            }
        }
        Ok(())
    }
}

/// Generated data, column-major.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthCtr {
    /// Per field, `rows` values in 0..cardinality.
    pub columns: Vec<Vec<u32>>,
    /// Per row, the click label 0.0 or 1.0.
    pub labels: Vec<f32>,
    /// Per row, the true logit.
    pub logits: Vec<f64>,
    /// The planted sets, each sorted ascending (the ground truth).
    pub planted: Vec<Vec<usize>>,
}

/// One standard normal draw by Box-Muller from `rng`.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // u1 in (0, 1] so ln is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// RNG for one named stream of a seed.
fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(seed ^ splitmix64(stream)))
}

/// Effect of planted set `set_index` on the value `tuple` of its fields (in the set's
/// sorted field order), in logits: `interaction_std * N(0, 1)`, where the normal is drawn
/// by Box-Muller from a ChaCha8 generator seeded by a SplitMix64 hash of
/// (seed, set_index, tuple). Deterministic, platform independent.
pub fn interaction_effect(seed: u64, set_index: usize, tuple: &[u32], interaction_std: f64) -> f64 {
    let mut h = splitmix64(seed ^ 0x1A7E_4AC7_0000_0000);
    h = splitmix64(h ^ set_index as u64);
    for &v in tuple {
        h = splitmix64(h ^ u64::from(v));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(h);
    interaction_std * standard_normal(&mut rng)
}

/// Cumulative Zipf weights over 0..card: c[v] = sum_{u <= v} 1 / (u + 1)^s.
fn zipf_cdf(card: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..card)
        .map(|v| {
            acc += ((v + 1) as f64).powf(-s);
            acc
        })
        .collect()
}

/// Generates the data of `cfg` (see the module doc for the model). Values: Zipf sampled by
/// inverse CDF (binary search); main effects: per (field, value) N(0, main_effect_std^2);
/// planted effects: [`interaction_effect`]; labels: Bernoulli(sigmoid(logit)). Values,
/// main effects and labels use separate seeded streams, so changing `interaction_std` or
/// `planted` leaves the field values and main effects unchanged. Same config, same data.
///
/// # Errors
/// [`SynthError`] from [`SynthCtrConfig::validate`].
pub fn generate(cfg: &SynthCtrConfig) -> Result<SynthCtr, SynthError> {
    cfg.validate()?;
    let n = cfg.rows;
    let mut value_rng = stream_rng(cfg.seed, 1);
    let mut main_rng = stream_rng(cfg.seed, 2);
    let mut label_rng = stream_rng(cfg.seed, 3);

    let mut columns: Vec<Vec<u32>> = Vec::with_capacity(cfg.cardinalities.len());
    let mut logits = vec![cfg.bias; n];
    for &card in &cfg.cardinalities {
        let cdf = zipf_cdf(card, cfg.zipf_exponent);
        let total = cdf[card - 1];
        let mains: Vec<f64> = (0..card)
            .map(|_| cfg.main_effect_std * standard_normal(&mut main_rng))
            .collect();
        let col: Vec<u32> = (0..n)
            .map(|_| {
                let u = value_rng.random::<f64>() * total;
                cdf.partition_point(|&c| c <= u).min(card - 1) as u32
            })
            .collect();
        for (l, &v) in logits.iter_mut().zip(&col) {
            *l += mains[v as usize];
        }
        columns.push(col);
    }

    let planted: Vec<Vec<usize>> = cfg
        .planted
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sort_unstable();
            s
        })
        .collect();
    let mut tuple: Vec<u32> = Vec::new();
    for (si, set) in planted.iter().enumerate() {
        let std = cfg.interaction_std * cfg.set_scales.get(si).copied().unwrap_or(1.0);
        for (r, l) in logits.iter_mut().enumerate() {
            tuple.clear();
            tuple.extend(set.iter().map(|&f| columns[f][r]));
            *l += interaction_effect(cfg.seed, si, &tuple, std);
        }
    }

    let labels: Vec<f32> = logits
        .iter()
        .map(|&l| {
            let p = 1.0 / (1.0 + (-l).exp());
            if label_rng.random::<f64>() < p {
                1.0
            } else {
                0.0
            }
        })
        .collect();

    Ok(SynthCtr {
        columns,
        labels,
        logits,
        planted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn deterministic_and_seed_sensitive() {
        let cfg = SynthCtrConfig::small();
        let a = generate(&cfg).expect("valid");
        let b = generate(&cfg).expect("valid");
        assert_eq!(a, b);
        let c = generate(&SynthCtrConfig { seed: 8, ..cfg }).expect("valid");
        assert_ne!(a.labels, c.labels);
        assert_eq!(a.columns.len(), 8);
        assert!(a.columns.iter().all(|c| c.len() == 20_000));
        assert_eq!(a.planted, vec![vec![1, 3]]);
    }

    #[test]
    fn zipf_frequencies_and_label_rate() {
        let cfg = SynthCtrConfig::small();
        let d = generate(&cfg).expect("valid");
        // Field 0, card 5, s = 1: H5 = 1 + 1/2 + 1/3 + 1/4 + 1/5 = 2.28333;
        // P(0) = 1/H5 = 0.43796, P(4) = 0.2/H5 = 0.08759. sd of a frequency over 20k rows
        // <= 0.0036; tolerance 0.015.
        let n = d.labels.len() as f64;
        let f0 = d.columns[0].iter().filter(|&&v| v == 0).count() as f64 / n;
        let f4 = d.columns[0].iter().filter(|&&v| v == 4).count() as f64 / n;
        assert!((f0 - 0.437_96).abs() < 0.015, "{f0}");
        assert!((f4 - 0.087_59).abs() < 0.015, "{f4}");
        assert!(d.columns[5].iter().all(|&v| v < 20));
        // Labels are 0/1 and their rate matches the mean click probability within
        // 4 sd (sd <= sqrt(0.25 / 20000) = 0.0035).
        assert!(d.labels.iter().all(|&y| y == 0.0 || y == 1.0));
        let rate = d.labels.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
        let mean_p = d
            .logits
            .iter()
            .map(|&l| 1.0 / (1.0 + (-l).exp()))
            .sum::<f64>()
            / n;
        assert!((rate - mean_p).abs() < 0.014, "{rate} vs {mean_p}");
        // Bias -0.5 -> sigmoid(-0.5) = 0.378; spread of effects pulls the rate toward 0.5,
        // so the rate is well inside (0.25, 0.5).
        assert!(rate > 0.25 && rate < 0.5, "{rate}");
    }

    #[test]
    fn planted_pair_carries_the_interaction_signal() {
        let cfg = SynthCtrConfig::small();
        let with = generate(&cfg).expect("valid");
        let without = generate(&SynthCtrConfig {
            interaction_std: 0.0,
            ..cfg.clone()
        })
        .expect("valid");
        // Same values and mains (separate streams): the logit difference is the planted
        // effect alone, a function of (x1, x3) only.
        assert_eq!(with.columns, without.columns);
        let mut by_tuple: HashMap<(u32, u32), f64> = HashMap::new();
        let mut diffs = Vec::with_capacity(cfg.rows);
        for r in 0..cfg.rows {
            let d = with.logits[r] - without.logits[r];
            let key = (with.columns[1][r], with.columns[3][r]);
            let prev = *by_tuple.entry(key).or_insert(d);
            // Up to rounding of the logit sums (|logit| < 10, so 1e-12 is ~ 1e3 ulps).
            assert!(
                (prev - d).abs() < 1e-12,
                "effect must depend only on (x1, x3)"
            );
            let e = interaction_effect(cfg.seed, 0, &[key.0, key.1], 1.0);
            assert!((d - e).abs() < 1e-12, "{d} vs {e}");
            diffs.push(d);
        }
        // It is a real interaction: not additive in x1 and x3. For the 2x2 block of values
        // {0,1} x {0,1}, the interaction contrast e00 - e01 - e10 + e11 of 4 independent
        // N(0,1) draws is non-zero (its sd is 2).
        let e = |a: u32, b: u32| by_tuple[&(a, b)];
        let contrast = e(0, 0) - e(0, 1) - e(1, 0) + e(1, 1);
        assert!(contrast.abs() > 1e-3, "{contrast}");
        // And it carries a sizable share of the logit variance: var(diff) / var(logit).
        let (_, sd_diff) = crate::metrics::mean_std(&diffs);
        let (_, sd_logit) = crate::metrics::mean_std(&with.logits);
        let share = (sd_diff / sd_logit).powi(2);
        assert!(share > 0.2, "share of variance {share}");
    }

    #[test]
    fn interaction_effect_is_standard_normal_scaled() {
        // 20,000 tuples: mean within 4 sd (4 / sqrt(20000) = 0.028); variance within
        // 4 sd (sd of sample var ~ sqrt(2 / 20000) = 0.01) of 4.0 for std 2.
        let xs: Vec<f64> = (0..20_000u32)
            .map(|v| interaction_effect(3, 1, &[v, v / 7], 2.0))
            .collect();
        let (m, s) = crate::metrics::mean_std(&xs);
        assert!(m.abs() < 2.0 * 0.028, "{m}");
        assert!((s * s - 4.0).abs() < 4.0 * 0.04, "{}", s * s);
        // Different set index or seed gives a different effect.
        assert_ne!(
            interaction_effect(3, 1, &[1, 2], 1.0),
            interaction_effect(3, 0, &[1, 2], 1.0)
        );
        assert_ne!(
            interaction_effect(3, 1, &[1, 2], 1.0),
            interaction_effect(4, 1, &[1, 2], 1.0)
        );
    }

    #[test]
    fn validate_rejects_bad_configs() {
        let ok = SynthCtrConfig::small();
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(
            SynthCtrConfig {
                rows: 0,
                ..ok.clone()
            }
            .validate(),
            Err(SynthError::NoRows)
        );
        assert_eq!(
            SynthCtrConfig {
                planted: vec![vec![1, 8]],
                ..ok.clone()
            }
            .validate(),
            Err(SynthError::BadPlanted {
                set: 0,
                fields: vec![1, 8],
                num_fields: 8
            })
        );
        assert!(SynthCtrConfig {
            planted: vec![vec![2, 2]],
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(SynthCtrConfig {
            main_effect_std: -1.0,
            ..ok.clone()
        }
        .validate()
        .is_err());
        assert!(generate(&SynthCtrConfig {
            cardinalities: vec![3, 0],
            planted: vec![],
            ..ok
        })
        .is_err());
    }
    #[test]
    fn random_layouts_are_seeded_valid_and_varied() {
        let a = SynthCtrConfig::random_layout(3, 1000);
        assert_eq!(a, SynthCtrConfig::random_layout(3, 1000));
        assert_ne!(a, SynthCtrConfig::random_layout(4, 1000));
        let mut orders = [0usize; 5];
        for seed in 0..60 {
            let c = SynthCtrConfig::random_layout(seed, 500);
            c.validate().expect("a layout is valid");
            assert!((8..=16).contains(&c.cardinalities.len()), "{c:?}");
            assert!(c.cardinalities.iter().all(|&k| (2..=300).contains(&k)));
            for set in &c.planted {
                let cells: usize = set.iter().map(|&f| c.cardinalities[f]).product();
                assert!(cells <= 500, "{set:?}: {cells} value tuples");
            }
            assert!((2..=4).contains(&c.planted.len()));
            assert_eq!(c.set_scales.len(), c.planted.len());
            assert!(c.set_scales.iter().all(|&v| (0.35..=1.5).contains(&v)));
            let mut all: Vec<usize> = c.planted.iter().flatten().copied().collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), n, "planted sets share no field: {:?}", c.planted);
            for set in &c.planted {
                orders[set.len()] += 1;
            }
        }
        assert!(
            orders[2] > 0 && orders[3] > 0 && orders[4] > 0,
            "{orders:?}"
        );
    }

    #[test]
    fn a_zero_set_scale_removes_that_set() {
        let cfg = SynthCtrConfig {
            planted: vec![vec![1, 3], vec![0, 2]],
            set_scales: vec![0.0, 1.0],
            ..SynthCtrConfig::small()
        };
        let one = generate(&SynthCtrConfig {
            planted: vec![vec![1, 3], vec![0, 2]],
            ..SynthCtrConfig::small()
        })
        .unwrap();
        let scaled = generate(&cfg).unwrap();
        // Set 1 is unchanged; set 0 contributes nothing: the logits differ by set 0's effect.
        for r in 0..50 {
            let t = [one.columns[1][r], one.columns[3][r]];
            let e0 = interaction_effect(cfg.seed, 0, &t, 1.0);
            assert!((one.logits[r] - e0 - scaled.logits[r]).abs() < 1e-9);
        }
        let bad = SynthCtrConfig {
            set_scales: vec![1.0],
            ..cfg
        };
        assert!(bad.validate().is_err());
    }
}

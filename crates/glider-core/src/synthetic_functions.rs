//! The synthetic suite F1–F10 of the NID paper (Tsang et al., ICLR 2018, Table 1) with ground
//! truth (ALGORITHMS.md section 2; `../shared/data/nid_synthetic_reference`).
//!
//! Ten features, 0-indexed here (`x[0]` is the paper's `x1`). Inputs are `U(−1, 1)` except F1
//! (`x1, x2, x3, x6, x7, x9 ~ U(0, 1)`, `x4, x5, x8, x10 ~ U(0.6, 1)`). Formula caveats,
//! chosen and fixed: F2's 4th term is `+`; square roots and logs of possibly negative
//! arguments take `|·|`; `x3^(2|x4|)` is computed as `(x3²)^|x4|`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Number of features of every function.
pub const NUM_FEATURES: usize = 10;

/// One of F1–F10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum SyntheticFunction {
    F1,
    F2,
    F3,
    F4,
    F5,
    F6,
    F7,
    F8,
    F9,
    F10,
}

impl SyntheticFunction {
    /// All ten, in order.
    pub const ALL: [SyntheticFunction; 10] = [
        Self::F1,
        Self::F2,
        Self::F3,
        Self::F4,
        Self::F5,
        Self::F6,
        Self::F7,
        Self::F8,
        Self::F9,
        Self::F10,
    ];

    /// `F1`..`F10`.
    pub fn name(self) -> &'static str {
        ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10"][self as usize]
    }

    /// Parses `F1`..`F10` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(text.trim()))
    }

    /// The function at `x` (10 values).
    pub fn eval(self, x: &[f64]) -> f64 {
        use std::f64::consts::PI;
        let [x1, x2, x3, x4, x5, x6, x7, x8, x9, x10] =
            [x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9]];
        match self {
            Self::F1 => {
                PI.powf(x1 * x2) * (2.0 * x3).abs().sqrt() - x4.asin() + (x3 + x5).abs().ln()
                    - (x9 / x10) * (x7 / x8).abs().sqrt()
                    - x2 * x7
            }
            Self::F2 => {
                PI.powf(x1 * x2) * (2.0 * x3.abs()).sqrt() - (0.5 * x4).asin()
                    + ((x3 + x5).abs() + 1.0).ln()
                    + (x9 / (1.0 + x10.abs())) * (x7 / (1.0 + x8.abs())).abs().sqrt()
                    - x2 * x7
            }
            Self::F3 | Self::F4 => {
                let base = (x1 - x2).abs().exp() + (x2 * x3).abs() - (x3 * x3).powf(x4.abs())
                    + (x4 * x4 + x5 * x5 + x7 * x7 + x8 * x8).ln()
                    + x9
                    + 1.0 / (1.0 + x10 * x10);
                if self == Self::F4 {
                    base + (x1 * x4).powi(2)
                } else {
                    base
                }
            }
            Self::F5 => {
                1.0 / (1.0 + x1 * x1 + x2 * x2 + x3 * x3)
                    + (x4 + x5).exp().sqrt()
                    + (x6 + x7).abs()
                    + x8 * x9 * x10
            }
            Self::F6 => {
                ((x1 * x2).abs() + 1.0).exp() - ((x3 + x4).abs() + 1.0).exp()
                    + (x5 + x6 - x8).cos()
                    + (x8 * x8 + x9 * x9 + x10 * x10).sqrt()
            }
            Self::F7 => {
                (x1.atan() + x2.atan()).powi(2) + (x3 * x4 + x6).max(0.0)
                    - 1.0 / (1.0 + (x4 * x5 * x6 * x7 * x8).powi(2))
                    + (x7.abs() / (1.0 + x9.abs())).powi(5)
                    + x.iter().take(NUM_FEATURES).sum::<f64>()
            }
            Self::F8 => {
                x1 * x2
                    + 2f64.powf(x3 + x5 + x6)
                    + 2f64.powf(x3 + x4 + x5 + x7)
                    + (x7 * (x8 + x9).sin()).sin()
                    + (0.9 * x10).acos()
            }
            Self::F9 => {
                (x1 * x2 + x3 * x4).tanh() * x5.abs().sqrt()
                    + (x5 + x6).exp()
                    + ((x6 * x7 * x8).powi(2) + 1.0).ln()
                    + x9 * x10
                    + 1.0 / (1.0 + x10.abs())
            }
            Self::F10 => {
                (x1 + x2).sinh()
                    + (x3 + x5 + x7).tanh().acos()
                    + (x4 + x5).cos()
                    + 1.0 / (x7 * x9).cos()
            }
        }
    }

    /// The maximal interacting feature sets (0-indexed).
    pub fn truth(self) -> Vec<Vec<usize>> {
        let one_indexed: &[&[usize]] = match self {
            Self::F1 | Self::F2 => &[&[1, 2, 3], &[3, 5], &[7, 8, 9, 10], &[2, 7]],
            Self::F3 => &[&[1, 2], &[2, 3], &[3, 4], &[4, 5, 7, 8]],
            Self::F4 => &[&[1, 2], &[2, 3], &[3, 4], &[1, 4], &[4, 5, 7, 8]],
            Self::F5 => &[&[1, 2, 3], &[4, 5], &[6, 7], &[8, 9, 10]],
            Self::F6 => &[&[1, 2], &[3, 4], &[5, 6, 8], &[8, 9, 10]],
            Self::F7 => &[&[1, 2], &[3, 4, 6], &[4, 5, 6, 7, 8], &[7, 9]],
            Self::F8 => &[&[1, 2], &[3, 5, 6], &[3, 4, 5, 7], &[7, 8, 9]],
            Self::F9 => &[&[1, 2, 3, 4, 5], &[5, 6], &[6, 7, 8], &[9, 10]],
            Self::F10 => &[&[1, 2], &[3, 5, 7], &[4, 5], &[7, 9]],
        };
        one_indexed
            .iter()
            .map(|s| s.iter().map(|&i| i - 1).collect())
            .collect()
    }

    /// `n` samples: inputs row-major `n × 10` and outputs, from `seed`.
    pub fn sample(self, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::with_capacity(n * NUM_FEATURES);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f64> = (0..NUM_FEATURES)
                .map(|i| match self {
                    Self::F1 if [3, 4, 7, 9].contains(&i) => rng.random_range(0.6..1.0),
                    Self::F1 => rng.random_range(0.0..1.0),
                    _ => rng.random_range(-1.0..1.0),
                })
                .collect();
            y.push(self.eval(&row));
            x.extend(row);
        }
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_hand_and_finite_samples() {
        // F5 at 0: 1/(1) + sqrt(e^0) + 0 + 0 = 2.
        assert!((SyntheticFunction::F5.eval(&[0.0; 10]) - 2.0).abs() < 1e-12);
        // F8 at 0: 0 + 2^0 + 2^0 + sin(0) + acos(0) = 2 + π/2.
        let v = SyntheticFunction::F8.eval(&[0.0; 10]);
        assert!((v - (2.0 + std::f64::consts::FRAC_PI_2)).abs() < 1e-12);
        // F4 − F3 = (x1 x4)^2.
        let x = [0.5, -0.2, 0.3, 0.8, 0.1, 0.0, 0.4, -0.6, 0.2, 0.9];
        let d = SyntheticFunction::F4.eval(&x) - SyntheticFunction::F3.eval(&x);
        assert!((d - 0.16).abs() < 1e-12);
        for f in SyntheticFunction::ALL {
            let (xs, ys) = f.sample(500, 1);
            assert_eq!(xs.len(), 5000);
            assert!(ys.iter().all(|v| v.is_finite()), "{} not finite", f.name());
            assert!(f.truth().iter().flatten().all(|&i| i < NUM_FEATURES));
        }
        assert_eq!(
            SyntheticFunction::parse("f10"),
            Some(SyntheticFunction::F10)
        );
        assert_eq!(SyntheticFunction::F4.truth()[3], vec![0, 3]);
    }
}

//! The local test functions A1–A4 of Archipelago (Tsang et al., NeurIPS 2020), used to score
//! local interaction detectors against known truth (ALGORITHMS.md section 2).
//!
//! `p = 40` features in `{−1, +1}`; the explained input is all `+1`, the baseline all `−1`;
//! every function adds `Σ x`. `AND(S, v) = +1` if `x_s = v_s` for all `s ∈ S`, else `−1`.

use serde::{Deserialize, Serialize};

/// Number of features of every A-function.
pub const NUM_FEATURES: usize = 40;

/// One of the four functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalFunction {
    /// `Σ_{0≤i<j<10} x_i x_j + Σ_{i∈[10,20), j∈[20,30)} x_i x_j + Σ x`.
    A1,
    /// `AND(x_0..x_19 = +1) + AND(x_10..x_29 = +1) + Σ x`.
    A2,
    /// `AND(x_0..x_19 = −1) + AND(x_10..x_29 = +1) + Σ x`.
    A3,
    /// `AND(x_0 = x_1 = +1, x_2 = −1) + AND(x_10..x_29 = +1) + Σ x`.
    A4,
}

impl LocalFunction {
    /// All four, in order.
    pub const ALL: [LocalFunction; 4] = [Self::A1, Self::A2, Self::A3, Self::A4];

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::A1 => "A1",
            Self::A2 => "A2",
            Self::A3 => "A3",
            Self::A4 => "A4",
        }
    }

    /// Evaluates the function at `x` (length [`NUM_FEATURES`]).
    pub fn eval(self, x: &[f64]) -> f64 {
        let all = |range: std::ops::Range<usize>, v: f64| {
            if range.clone().all(|i| x[i] == v) {
                1.0
            } else {
                -1.0
            }
        };
        let sum: f64 = x.iter().sum();
        sum + match self {
            Self::A1 => {
                let mut s = 0.0;
                for i in 0..10 {
                    for j in i + 1..10 {
                        s += x[i] * x[j];
                    }
                }
                for i in 10..20 {
                    for j in 20..30 {
                        s += x[i] * x[j];
                    }
                }
                s
            }
            Self::A2 => all(0..20, 1.0) + all(10..30, 1.0),
            Self::A3 => all(0..20, -1.0) + all(10..30, 1.0),
            Self::A4 => {
                let first = if x[0] == 1.0 && x[1] == 1.0 && x[2] == -1.0 {
                    1.0
                } else {
                    -1.0
                };
                first + all(10..30, 1.0)
            }
        }
    }

    /// Ground truth as feature sets whose inner pairs are the true pairwise interactions
    /// (A1's cross-block rule is written as one set per cross pair, so pairs within [10, 20)
    /// or within [20, 30) are not interactions).
    pub fn truth(self) -> Vec<Vec<usize>> {
        match self {
            Self::A1 => {
                let mut t = vec![(0..10).collect::<Vec<_>>()];
                for i in 10..20 {
                    for j in 20..30 {
                        t.push(vec![i, j]);
                    }
                }
                t
            }
            Self::A2 | Self::A3 => vec![(0..20).collect(), (10..30).collect()],
            Self::A4 => vec![vec![0, 1, 2], (10..30).collect()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_at_input_and_baseline() {
        let plus = vec![1.0; NUM_FEATURES];
        let minus = vec![-1.0; NUM_FEATURES];
        // A1 at +1: 45 + 100 pair products + 40 = 185; at −1: 45 + 100 − 40 = 105.
        assert_eq!(LocalFunction::A1.eval(&plus), 185.0);
        assert_eq!(LocalFunction::A1.eval(&minus), 105.0);
        // A2 at +1: 1 + 1 + 40; A3 at +1: −1 + 1 + 40; A3 at −1: 1 − 1 − 40.
        assert_eq!(LocalFunction::A2.eval(&plus), 42.0);
        assert_eq!(LocalFunction::A3.eval(&plus), 40.0);
        assert_eq!(LocalFunction::A3.eval(&minus), -40.0);
        // A4 at +1: x2 = +1 breaks the first AND: −1 + 1 + 40.
        assert_eq!(LocalFunction::A4.eval(&plus), 40.0);
        let truth = LocalFunction::A1.truth();
        assert_eq!(truth.len(), 101);
        assert!(!truth.iter().any(|s| s.contains(&10) && s.contains(&11)));
    }
}

//! ArchDetect (Tsang et al., "How does this interaction affect me?", NeurIPS 2020): pairwise
//! interaction strengths of a black box around one input, model-agnostic, no surrogate
//! (ALGORITHMS.md section 2, and 3.1 as a local detector for GLIDER).
//!
//! For a context `c` and a target `t`, let `f(S)` be the model on `c` with the features in `S`
//! set to their target values. The pair score is the discrete mixed difference
//!
//! `φ(i, j) = [f({}) − f({i}) − f({j}) + f({i, j})] / (|c_i − t_i| · |c_j − t_j|)`,
//!
//! computed for `(c, t) = (baseline, input)` and `(input, baseline)`; the strength is the mean
//! of the two squares. Each direction costs `1 + p + p(p−1)/2` model queries.
//!
//! The model is reached through a query callback over *switch patterns*: row `r` of a query
//! says, per feature, whether that feature takes its *target* value (`true`) or stays at its
//! context value. The caller turns patterns into model inputs, so the same code serves field
//! switching in GLIDER (switched off = missing) and numeric inputs.

use crate::nid::RankedInteraction;

/// Which way a query pattern is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Context = baseline, target = input: `true` means "this feature takes the input value".
    FromBaseline,
    /// Context = input, target = baseline: `true` means "this feature takes the baseline".
    FromInput,
}

/// Pairwise ArchDetect strengths for `p` features.
///
/// `distance[i] = |input_i − baseline_i|` (use 1 for a switched field); `query(direction,
/// patterns)` must return one model output (a logit for a recommender) per pattern, each
/// pattern `p` booleans.
///
/// Returns all `p(p−1)/2` pairs sorted by strength, strongest first (ties by features).
///
/// # Errors
/// Whatever `query` returns, or a message when it returns the wrong number of outputs or a
/// non-finite one.
pub fn pair_strengths<E: From<String>>(
    p: usize,
    distance: &[f64],
    mut query: impl FnMut(Direction, &[Vec<bool>]) -> Result<Vec<f64>, E>,
) -> Result<Vec<RankedInteraction>, E> {
    if distance.len() != p {
        return Err(E::from(format!(
            "{} distances for {p} features",
            distance.len()
        )));
    }
    // Pattern layout: 0 = {}, 1..=p = {i}, then the pairs i < j in order.
    let mut patterns = Vec::with_capacity(1 + p + p * p.saturating_sub(1) / 2);
    patterns.push(vec![false; p]);
    for i in 0..p {
        let mut s = vec![false; p];
        s[i] = true;
        patterns.push(s);
    }
    for i in 0..p {
        for j in i + 1..p {
            let mut s = vec![false; p];
            s[i] = true;
            s[j] = true;
            patterns.push(s);
        }
    }
    let mut total = vec![0.0f64; p * p.saturating_sub(1) / 2];
    for direction in [Direction::FromBaseline, Direction::FromInput] {
        let f = query(direction, &patterns)?;
        if f.len() != patterns.len() {
            return Err(E::from(format!(
                "asked for {} outputs, got {}",
                patterns.len(),
                f.len()
            )));
        }
        if let Some(k) = f.iter().position(|v| !v.is_finite()) {
            return Err(E::from(format!("output {k} is {}", f[k])));
        }
        let mut k = 0;
        for i in 0..p {
            for j in i + 1..p {
                let d = distance[i] * distance[j];
                let phi =
                    (f[0] - f[1 + i] - f[1 + j] + f[1 + p + k]) / if d > 0.0 { d } else { 1.0 };
                total[k] += 0.5 * phi * phi;
                k += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(total.len());
    let mut k = 0;
    for i in 0..p {
        for j in i + 1..p {
            out.push(RankedInteraction {
                features: vec![i, j],
                strength: total[k],
            });
            k += 1;
        }
    }
    out.sort_by(|a, b| {
        b.strength
            .total_cmp(&a.strength)
            .then_with(|| a.features.cmp(&b.features))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x) = 3·x0·x2 + x1 over x ∈ {−1, +1}³, input +1, baseline −1 (distance 2).
    /// From the baseline: f({}) = 3 − 1 = 2, f({0}) = −3 − 1 = −4, f({2}) = −4,
    /// f({0,2}) = 2; φ(0,2) = (2 + 4 + 4 + 2) / 4 = 3. From the input: f({}) = 4,
    /// f({0}) = −2, f({2}) = −2, f({0,2}) = 4; φ = (4 + 2 + 2 + 4) / 4 = 3.
    /// Strength = (9 + 9) / 2 = 9. Pairs with x1 are additive: φ = 0.
    #[test]
    fn mixed_difference_by_hand() {
        let f = |x: &[f64]| 3.0 * x[0] * x[2] + x[1];
        let got = pair_strengths::<String>(3, &[2.0, 2.0, 2.0], |dir, patterns| {
            Ok(patterns
                .iter()
                .map(|s| {
                    let x: Vec<f64> = s
                        .iter()
                        .map(|&take| {
                            let to_input = match dir {
                                Direction::FromBaseline => take,
                                Direction::FromInput => !take,
                            };
                            if to_input {
                                1.0
                            } else {
                                -1.0
                            }
                        })
                        .collect();
                    f(&x)
                })
                .collect())
        })
        .unwrap();
        assert_eq!(got[0].features, vec![0, 2]);
        assert!((got[0].strength - 9.0).abs() < 1e-12);
        assert_eq!(got[1].strength, 0.0);
        assert_eq!(got[2].strength, 0.0);
    }

    #[test]
    fn wrong_answers_are_errors() {
        let e = pair_strengths::<String>(2, &[1.0, 1.0], |_, _| Ok(vec![0.0])).unwrap_err();
        assert!(e.contains("asked for 4"), "{e}");
        let e = pair_strengths::<String>(2, &[1.0, 1.0], |_, p| Ok(vec![f64::NAN; p.len()]))
            .unwrap_err();
        assert!(e.contains("NaN"), "{e}");
    }
}

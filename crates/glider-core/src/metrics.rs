//! Metrics: ROC-AUC and logloss for recommenders (spec 3.3), paired t-test for
//! baseline vs +GLIDER trials, and interaction-detection metrics against ground truth
//! (ALGORITHMS.md section 1.6).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::nid::{is_strict_subset, RankedInteraction};

/// Rank-based AUC over (positive?, score) pairs; None when a class is absent or a score NaN.
fn auc_from(pairs: &mut [(bool, f64)]) -> Option<f64> {
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return None;
    }
    let n_pos = pairs.iter().filter(|(y, _)| *y).count();
    let n_neg = pairs.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    pairs.sort_unstable_by(|a, b| a.1.total_cmp(&b.1));
    // Sum of 1-based ranks of positives, ties getting the average rank.
    let mut rank_sum = 0.0f64;
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start + 1;
        while end < pairs.len() && pairs[end].1 == pairs[start].1 {
            end += 1;
        }
        // Ranks start+1 ..= end; average = (start + 1 + end) / 2.
        let avg = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = pairs[start..end].iter().filter(|(y, _)| *y).count();
        rank_sum += avg * pos_in_group as f64;
        start = end;
    }
    let np = n_pos as f64;
    let u = rank_sum - np * (np + 1.0) / 2.0;
    Some(u / (np * n_neg as f64))
}

/// ROC-AUC by the Mann-Whitney rank statistic, ties given the average rank, O(n log n).
/// `labels`: 0/1 (> 0.5 counts as positive); `scores`: any monotone score (probability or
/// logit). Returns a value in [0, 1], or None when the lengths differ, the input is empty,
/// one class is absent, or a score or label is NaN.
pub fn roc_auc(labels: &[f32], scores: &[f32]) -> Option<f64> {
    if labels.len() != scores.len() || labels.iter().any(|y| y.is_nan()) {
        return None;
    }
    let mut pairs: Vec<(bool, f64)> = labels
        .iter()
        .zip(scores)
        .map(|(&y, &s)| (y > 0.5, f64::from(s)))
        .collect();
    auc_from(&mut pairs)
}

/// Mean binary cross-entropy in nats: `-(1/n) sum [y ln q + (1-y) ln(1-q)]` with
/// `q = clamp(prob, 1e-7, 1 - 1e-7)`. `labels` in [0, 1], `probs` click probabilities.
/// None when empty, lengths differ, or any value is NaN.
pub fn logloss(labels: &[f32], probs: &[f32]) -> Option<f64> {
    if labels.is_empty() || labels.len() != probs.len() {
        return None;
    }
    let mut total = 0.0f64;
    for (&y, &p) in labels.iter().zip(probs) {
        if y.is_nan() || p.is_nan() {
            return None;
        }
        let q = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
        let y = f64::from(y);
        total -= y * q.ln() + (1.0 - y) * (1.0 - q).ln();
    }
    Some(total / labels.len() as f64)
}

/// Mean and sample standard deviation (n - 1 denominator) of `xs`.
/// `(0, 0)` for empty input; std is 0 when fewer than 2 values.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

/// Result of a paired two-sided Student t-test on `treated - baseline`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedTest {
    /// Number of pairs.
    pub n: usize,
    /// Mean of the differences (treated - baseline), in the metric's units.
    pub mean_diff: f64,
    /// Sample standard deviation of the differences (n - 1 denominator).
    pub std_diff: f64,
    /// t = mean_diff / (std_diff / sqrt(n)).
    pub t: f64,
    /// Two-sided p-value from Student t with n - 1 degrees of freedom.
    pub p_value: f64,
}

/// Paired t-test of `treated` against `baseline` (e.g. test AUC per trial, spec 3.3):
/// differences `treated[i] - baseline[i]`, t with n - 1 dof, two-sided p.
/// None when the lengths differ, n < 2, or any value is not finite. When the differences
/// have zero spread: p = 1, t = 0 if the mean difference is 0; otherwise p = 0 and
/// t = +/- infinity with the sign of the mean.
pub fn paired_t_test(baseline: &[f64], treated: &[f64]) -> Option<PairedTest> {
    if baseline.len() != treated.len() || baseline.len() < 2 {
        return None;
    }
    let diffs: Vec<f64> = baseline.iter().zip(treated).map(|(b, t)| t - b).collect();
    if diffs.iter().any(|d| !d.is_finite()) {
        return None;
    }
    let n = diffs.len();
    let (mean_diff, std_diff) = mean_std(&diffs);
    if std_diff == 0.0 {
        let (t, p_value) = if mean_diff == 0.0 {
            (0.0, 1.0)
        } else {
            (f64::INFINITY.copysign(mean_diff), 0.0)
        };
        return Some(PairedTest {
            n,
            mean_diff,
            std_diff,
            t,
            p_value,
        });
    }
    let t = mean_diff / (std_diff / (n as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    let p_value = (2.0 * dist.sf(t.abs())).min(1.0);
    Some(PairedTest {
        n,
        mean_diff,
        std_diff,
        t,
        p_value,
    })
}

/// True when every feature of the sorted `set` lies in the sorted `truth` set.
fn is_subset_or_equal(set: &[usize], truth: &[usize]) -> bool {
    set.iter().all(|f| truth.binary_search(f).is_ok())
}

fn sorted_truth(truth: &[Vec<usize>]) -> Vec<Vec<usize>> {
    truth
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.sort_unstable();
            t.dedup();
            t
        })
        .collect()
}

/// Pairwise interaction AUC (spec 1.6): each entry of `strengths` must be a pair; it is
/// positive when both its features lie inside one ground-truth set (pairs inside a
/// 4-way set count). ROC-AUC over all given pairs with the strengths as scores.
/// None when an entry is not a pair, a class is absent, or a strength is NaN.
pub fn pairwise_auc(strengths: &[RankedInteraction], truth: &[Vec<usize>]) -> Option<f64> {
    let truth = sorted_truth(truth);
    let mut pairs = Vec::with_capacity(strengths.len());
    for r in strengths {
        if r.features.len() != 2 {
            return None;
        }
        let mut f = r.features.clone();
        f.sort_unstable();
        let positive = truth.iter().any(|t| is_subset_or_equal(&f, t));
        pairs.push((positive, r.strength));
    }
    auc_from(&mut pairs)
}

/// Any-order R-precision (spec 1.6): R = number of ground-truth sets; walk the pruned
/// ranking, skip candidates that are strict subsets of a ground-truth set, count the
/// others until R are counted; score = (counted candidates exactly equal to a
/// ground-truth set) / R, in [0, 1]. Returns 0 when `truth` is empty.
pub fn r_precision(ranked: &[RankedInteraction], truth: &[Vec<usize>]) -> f64 {
    let truth = sorted_truth(truth);
    let r = truth.len();
    if r == 0 {
        return 0.0;
    }
    let mut counted = 0;
    let mut hits = 0;
    for cand in ranked {
        if counted >= r {
            break;
        }
        let mut f = cand.features.clone();
        f.sort_unstable();
        f.dedup();
        if truth.iter().any(|t| is_strict_subset(&f, t)) {
            continue;
        }
        counted += 1;
        if truth.contains(&f) {
            hits += 1;
        }
    }
    hits as f64 / r as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn auc_by_hand_with_ties() {
        // Perfect separation.
        assert_eq!(
            roc_auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.2, 0.3, 0.4]),
            Some(1.0)
        );
        // labels 1,0,1,0 scores 0.8,0.4,0.4,0.1: pairs (pos,neg): (0.8,0.4)=1,(0.8,0.1)=1,
        // (0.4,0.4)=0.5,(0.4,0.1)=1 -> 3.5/4 = 0.875.
        assert_eq!(
            roc_auc(&[1.0, 0.0, 1.0, 0.0], &[0.8, 0.4, 0.4, 0.1]),
            Some(0.875)
        );
        // All scores tied -> 0.5.
        assert_eq!(roc_auc(&[1.0, 0.0, 0.0], &[0.3, 0.3, 0.3]), Some(0.5));
        // Reversed -> 0.
        assert_eq!(roc_auc(&[1.0, 0.0], &[0.1, 0.9]), Some(0.0));
        assert_eq!(roc_auc(&[1.0, 1.0], &[0.1, 0.9]), None);
        assert_eq!(roc_auc(&[1.0, 0.0], &[0.1]), None);
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_auc(&[1.0, 0.0], &[f32::NAN, 0.2]), None);
    }

    #[test]
    fn logloss_by_hand() {
        // -(ln 0.8 + ln(1-0.4))/2 = -(−0.22314355 − 0.51082562)/2 = 0.36698459
        let l = logloss(&[1.0, 0.0], &[0.8, 0.4]).expect("ok");
        assert!(close(l, 0.366_984_58, 1e-7), "{l}");
        // Clamped: p = 0 for a positive -> -ln(1e-7) = 16.11809565.
        let l = logloss(&[1.0], &[0.0]).expect("ok");
        assert!(close(l, 16.118_095_65, 1e-6), "{l}");
        assert_eq!(logloss(&[], &[]), None);
        assert_eq!(logloss(&[1.0], &[0.5, 0.5]), None);
    }

    #[test]
    fn mean_std_by_hand() {
        // 2,4,4,4,5,5,7,9: mean 5, squared deviations sum 32, sample var 32/7.
        let (m, s) = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m, 5.0);
        assert!(close(s, (32.0f64 / 7.0).sqrt(), 1e-12));
        assert_eq!(mean_std(&[3.0]), (3.0, 0.0));
        assert_eq!(mean_std(&[]), (0.0, 0.0));
    }

    #[test]
    fn paired_t_by_hand() {
        // diffs 1,2,3: mean 2, sd 1, t = 2 / (1/sqrt 3) = 3.4641016.
        // dof 2 has a closed form: two-sided p = 1 - t / sqrt(2 + t^2) = 1 - sqrt(12/14)
        // = 1 - 0.9258201 = 0.0741799.
        let r = paired_t_test(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0]).expect("ok");
        assert_eq!(r.n, 3);
        assert!(close(r.mean_diff, 2.0, 1e-12));
        assert!(close(r.std_diff, 1.0, 1e-12));
        assert!(close(r.t, 3.464_101_6, 1e-6));
        assert!(
            close(r.p_value, 1.0 - (12.0f64 / 14.0).sqrt(), 1e-9),
            "{}",
            r.p_value
        );
        // Sign: treated below baseline -> negative t, same p.
        let r = paired_t_test(&[1.0, 2.0, 3.0], &[0.0, 0.0, 0.0]).expect("ok");
        assert!(close(r.t, -3.464_101_6, 1e-6));
        // Zero spread.
        let r = paired_t_test(&[1.0, 2.0], &[1.5, 2.5]).expect("ok");
        assert_eq!((r.t, r.p_value), (f64::INFINITY, 0.0));
        let r = paired_t_test(&[1.0, 2.0], &[1.0, 2.0]).expect("ok");
        assert_eq!((r.t, r.p_value), (0.0, 1.0));
        assert_eq!(paired_t_test(&[1.0], &[2.0]), None);
        assert_eq!(paired_t_test(&[1.0, 2.0], &[2.0]), None);
    }

    fn ri(f: &[usize], s: f64) -> RankedInteraction {
        RankedInteraction {
            features: f.to_vec(),
            strength: s,
        }
    }

    #[test]
    fn pairwise_auc_counts_pairs_inside_sets() {
        // Truth {0,1,2}: positives {0,1},{0,2},{1,2}; negatives {0,3},{2,3}.
        // Scores: pos 0.9, 0.5, 0.2; neg 0.6, 0.1.
        // Positive beats negative: 0.9>0.6,0.9>0.1, 0.5>0.1, 0.2>0.1 -> 4 of 6.
        let s = vec![
            ri(&[0, 1], 0.9),
            ri(&[0, 3], 0.6),
            ri(&[0, 2], 0.5),
            ri(&[1, 2], 0.2),
            ri(&[2, 3], 0.1),
        ];
        let auc = pairwise_auc(&s, &[vec![2, 1, 0]]).expect("ok");
        assert!(close(auc, 4.0 / 6.0, 1e-12));
        assert_eq!(pairwise_auc(&[ri(&[0, 1, 2], 1.0)], &[vec![0, 1]]), None);
    }

    #[test]
    fn r_precision_by_hand() {
        let truth = vec![vec![0, 1, 2], vec![3, 4]];
        // R = 2. {0,1} strict subset of {0,1,2}: skipped. {0,1,2}: counted, hit.
        // {5,6}: counted, miss -> R reached; {3,4} not reached. Score 1/2.
        let ranked = vec![
            ri(&[0, 1], 5.0),
            ri(&[0, 1, 2], 4.0),
            ri(&[5, 6], 3.0),
            ri(&[3, 4], 2.0),
        ];
        assert_eq!(r_precision(&ranked, &truth), 0.5);
        // Both true sets first -> 1.
        let ranked = vec![ri(&[3, 4], 5.0), ri(&[1, 2], 4.5), ri(&[0, 1, 2], 4.0)];
        assert_eq!(r_precision(&ranked, &truth), 1.0);
        // A superset is not a hit.
        assert_eq!(r_precision(&[ri(&[0, 1, 2, 3], 1.0)], &truth), 0.0);
        assert_eq!(r_precision(&ranked, &[]), 0.0);
    }
}

//! Helpers for truncated sparse feature crossing (ALGORITHMS.md section 3.3): quantile
//! bins for dense fields, the rare-tuple threshold, and fitting tuple ids.

use std::collections::HashMap;
use std::hash::Hash;

/// Quantile bin edges of a dense field (spec 3.3; 100 bins in the reference).
///
/// NaN values are ignored. Candidate edges are the values at quantiles q = i / bins for
/// i in 1..bins, by nearest rank on the sorted non-NaN values (index ceil(q n) - 1);
/// duplicates collapse so the edges are strictly increasing, and an edge equal to the
/// minimum value is dropped (it would leave bin 0 empty). So a field with few distinct
/// values gets fewer bins. A value v falls in bin `edges.partition_point(|e| *e <= v)`,
/// in 0..=edges.len(). Empty input or `bins < 2` gives no edges (one bin).
pub fn quantile_edges(values: &[f32], bins: usize) -> Vec<f32> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() || bins < 2 {
        return Vec::new();
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let n = sorted.len();
    let min = sorted[0];
    let mut edges: Vec<f32> = Vec::with_capacity(bins - 1);
    for i in 1..bins {
        // Nearest rank: ceil(i * n / bins), 1-based, in exact integer arithmetic.
        let rank = (i * n).div_ceil(bins).clamp(1, n);
        let e = sorted[rank - 1];
        if e > min && edges.last().is_none_or(|&last| e > last) {
            edges.push(e);
        }
    }
    edges
}

/// Bin edges for a numeric member of a cross (issue 15): up to `bins` bins of about equal
/// row counts, where a value holding many rows keeps a bin of its own and the rest are still
/// cut. Walking the sorted non-NaN values, a bin closes once it holds at least
/// `rest / bins_left` rows (`rest` = rows not yet in a bin); a value never splits across bins.
/// Each edge is the first value of the next bin, so [`bin_index`] applies unchanged. On data
/// without repeated values this is [`quantile_edges`] up to rounding; on a column that is 0
/// in 90% of rows, 8 bins give the zero bin and 7 bins above it, where quantile edges give
/// one bin. Empty input or `bins < 2` gives no edges.
pub fn mass_quantile_edges(values: &[f32], bins: usize) -> Vec<f32> {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_unstable_by(f32::total_cmp);
    let counted: Vec<(f32, u64)> = sorted.iter().map(|&v| (v, 1)).collect();
    mass_quantile_edges_from_counts(&value_counts(counted), bins)
}

/// Distinct non-NaN values with their counts, sorted (`f32::total_cmp`; `-0.0` and `0.0`
/// count as one value, the first kept): the mergeable summary [`mass_quantile_edges_from_counts`]
/// cuts. Merging partitions' counts is concatenating them and calling this again.
pub fn value_counts(mut pairs: Vec<(f32, u64)>) -> Vec<(f32, u64)> {
    pairs.retain(|(v, _)| !v.is_nan());
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut distinct: Vec<(f32, u64)> = Vec::with_capacity(pairs.len());
    for (v, c) in pairs {
        match distinct.last_mut() {
            Some((last, n)) if *last == v => *n += c,
            _ => distinct.push((v, c)),
        }
    }
    distinct
}

/// [`mass_quantile_edges`] from the column's [`value_counts`]: the same edges as on the
/// column itself, so partitions' counts merged exactly give the one-process edges.
pub fn mass_quantile_edges_from_counts(distinct: &[(f32, u64)], bins: usize) -> Vec<f32> {
    let total: u64 = distinct.iter().map(|(_, c)| c).sum();
    if total == 0 || bins < 2 {
        return Vec::new();
    }
    let mut edges = Vec::with_capacity(bins - 1);
    let mut rest = total;
    let mut in_bin = 0u64;
    let mut bins_left = bins as u64;
    for (i, &(_, c)) in distinct.iter().enumerate() {
        in_bin += c;
        let target = rest.div_ceil(bins_left);
        if in_bin >= target && bins_left > 1 {
            if let Some(&(next, _)) = distinct.get(i + 1) {
                edges.push(next);
                rest -= in_bin;
                in_bin = 0;
                bins_left -= 1;
            }
        }
    }
    edges
}

/// Bin of `v` given `edges` from [`quantile_edges`]: the number of edges <= v, in
/// 0..=edges.len(). NaN falls in bin 0 (callers should treat NaN as missing first).
pub fn bin_index(edges: &[f32], v: f32) -> u32 {
    edges.partition_point(|e| *e <= v) as u32
}

/// Rare-tuple threshold: `max(rate × batch_rows, floor, sqrt_coef × √batch_rows)`
/// occurrences; a tuple is kept when its count is strictly greater. The reference (spec 3.3)
/// is rate 1e-4 (> 100 in 1M rows) with `sqrt_coef` 0; glider's default adds
/// `1.5 × √rows`, measured on 8k to 39k training rows (issue 15): about 300 on Adult's
/// 39k rows, 134 on Criteo 10k's 8k.
pub fn min_count_threshold(batch_rows: usize, rate: f64, floor: usize, sqrt_coef: f64) -> f64 {
    let rows = batch_rows as f64;
    (rate * rows).max(floor as f64).max(sqrt_coef * rows.sqrt())
}

/// Fits the tuple vocabulary of one cross field (spec 3.3): counts the non-None keys
/// (None = a missing member) and returns the keys whose count is strictly greater than
/// `threshold`, in order of first occurrence. The key at index k gets id k + 1; id 0 is
/// reserved for missing, rare and unseen tuples.
pub fn fit_tuples<K: Hash + Eq + Clone>(
    keys: impl IntoIterator<Item = Option<K>>,
    threshold: f64,
) -> Vec<K> {
    let mut counts: HashMap<K, (usize, usize)> = HashMap::new();
    let mut next = 0usize;
    for key in keys.into_iter().flatten() {
        let e = counts.entry(key).or_insert_with(|| {
            next += 1;
            (0, next)
        });
        e.0 += 1;
    }
    let mut kept: Vec<(usize, K)> = counts
        .into_iter()
        .filter(|(_, (c, _))| *c as f64 > threshold)
        .map(|(k, (_, first))| (first, k))
        .collect();
    kept.sort_unstable_by_key(|(first, _)| *first);
    kept.into_iter().map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_edges_give_the_mass_its_own_bin_and_cut_the_rest() {
        // 90 zeros and 10 distinct positive values: 8 bins = the zero bin + 7 above it.
        let mut v = vec![0.0f32; 90];
        v.extend((1..=10).map(|i| i as f32));
        let e = mass_quantile_edges(&v, 8);
        assert_eq!(e[0], 1.0, "{e:?}");
        assert_eq!(e.len(), 7, "{e:?}");
        assert_eq!(bin_index(&e, 0.0), 0);
        assert_eq!(bin_index(&e, 1.0), 1);
        assert_eq!(bin_index(&e, 10.0), 7);
        // Quantile edges put every cut at 0 and keep one bin.
        assert!(quantile_edges(&v, 8).is_empty());
        // Distinct values: equal-count bins, as quantiles.
        let u: Vec<f32> = (0..80).map(|i| i as f32).collect();
        assert_eq!(
            mass_quantile_edges(&u, 8),
            vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
        );
        assert_eq!(
            quantile_edges(&u, 8),
            vec![9.0, 19.0, 29.0, 39.0, 49.0, 59.0, 69.0]
        );
        // Fewer values than bins, NaN, empty, one bin.
        assert_eq!(mass_quantile_edges(&[1.0, 2.0, f32::NAN], 8), vec![2.0]);
        assert!(mass_quantile_edges(&[], 8).is_empty());
        assert!(mass_quantile_edges(&u, 1).is_empty());
    }

    #[test]
    fn edges_by_hand() {
        // n = 10 sorted [1,2,2,3,4,5,6,7,8,9], bins 4:
        // i=1: ceil(10/4)=3 -> 2; i=2: ceil(20/4)=5 -> 4; i=3: ceil(30/4)=8 -> 7.
        let v = [9.0, 2.0, 1.0, 3.0, f32::NAN, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let e = quantile_edges(&v, 4);
        assert_eq!(e, vec![2.0, 4.0, 7.0]);
        assert_eq!(bin_index(&e, 1.0), 0);
        assert_eq!(bin_index(&e, 2.0), 1);
        assert_eq!(bin_index(&e, 3.0), 1);
        assert_eq!(bin_index(&e, 4.0), 2);
        assert_eq!(bin_index(&e, 9.0), 3);
    }

    #[test]
    fn edges_collapse_duplicates_and_drop_minimum() {
        // [0,0,0,0,0,0,1,1,2,2], bins 5: ranks 2,4,6,8 -> 0,0,0,1; 0 is the minimum
        // -> dropped; edges [1]. Bins: 0 -> {0}, 1 -> {1, 2}.
        let v = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
        assert_eq!(quantile_edges(&v, 5), vec![1.0]);
        // Constant field -> no edges, one bin.
        assert!(quantile_edges(&[3.0; 7], 100).is_empty());
        assert!(quantile_edges(&[], 10).is_empty());
        assert!(quantile_edges(&[f32::NAN], 10).is_empty());
        // More bins than values: [1,2,3] bins 4 -> ranks 1,2,3 -> 1,2,3; drop min -> [2,3].
        assert_eq!(quantile_edges(&[3.0, 1.0, 2.0], 4), vec![2.0, 3.0]);
    }

    #[test]
    fn threshold_is_max_of_rate_and_floor() {
        // 1e-4 * 1e6 = 100 > 10.
        assert_eq!(min_count_threshold(1_000_000, 1e-4, 10, 0.0), 100.0);
        // 1e-4 * 5000 = 0.5 < 10.
        assert_eq!(min_count_threshold(5_000, 1e-4, 10, 0.0), 10.0);
        // The data-sized rule: 1.5 × √40,000 = 300 > max(4, 10).
        assert_eq!(min_count_threshold(40_000, 1e-4, 10, 1.5), 300.0);
        // 1.5 × √8,100 = 135 (Criteo 10k's training rows, about).
        assert_eq!(min_count_threshold(8_100, 1e-4, 10, 1.5), 135.0);
        // Tiny data: 1.5 × √16 = 6 < the floor 10.
        assert_eq!(min_count_threshold(16, 1e-4, 10, 1.5), 10.0);
        // 1M rows: 1.5 × 1,000 = 1,500 > 1e-4 × 1M = 100.
        assert_eq!(min_count_threshold(1_000_000, 1e-4, 10, 1.5), 1500.0);
    }

    #[test]
    fn fit_tuples_strictly_greater_and_first_occurrence_order() {
        // Counts: (2,1): 3, (0,0): 2, (5,5): 3 (first seen after (0,0)), (7,7): 1;
        // None ignored. Threshold 2: keep count > 2 -> (2,1), (5,5) in order of first seen.
        let keys = vec![
            Some((0u32, 0u32)),
            Some((2, 1)),
            None,
            Some((5, 5)),
            Some((2, 1)),
            Some((0, 0)),
            Some((7, 7)),
            Some((5, 5)),
            Some((2, 1)),
            Some((5, 5)),
            None,
            None,
        ];
        assert_eq!(fit_tuples(keys.clone(), 2.0), vec![(2, 1), (5, 5)]);
        // Threshold 1: (0,0) with count 2 is kept too, first in order.
        assert_eq!(fit_tuples(keys, 1.0), vec![(0, 0), (2, 1), (5, 5)]);
    }
}

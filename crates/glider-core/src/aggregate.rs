//! GLIDER global aggregation (ALGORITHMS.md section 3.2; Tsang et al., ICLR 2020):
//! count in how many instances each locally detected interaction appears, then select
//! the top K with subset pruning.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::nid::is_strict_subset;

/// A field interaction with the number of instances whose local ranking contains it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountedInteraction {
    /// Field indices, sorted ascending, distinct.
    pub features: Vec<usize>,
    /// Number of distinct instances whose pruned local list contains this set.
    pub count: usize,
    /// (instance index, position in that instance's list) where it was first seen:
    /// the lowest instance index, then the lowest position there.
    pub first_seen: (usize, usize),
}

/// One instance's pruned local ranking, strongest first (field index sets, each sorted
/// ascending; unsorted or repeated indices are normalised).
#[derive(Clone, Copy, Debug)]
pub struct LocalInteractions<'a> {
    /// The instance's index (e.g. its row among the explained rows); should be unique.
    pub instance: usize,
    /// Its interactions, strongest first.
    pub interactions: &'a [Vec<usize>],
}

/// Counts interactions over instances (spec 3.2): the set of all `num_fields` fields is
/// dropped; a set counts at most once per instance; the result is sorted by count
/// descending, then `first_seen` ascending (lowest instance index, then position).
/// The order of `locals` does not matter: they are processed by ascending instance
/// index, so sharded, parallel and resumed runs agree. Entries with the same instance
/// index are merged as one instance.
pub fn count_interactions(
    locals: &[LocalInteractions<'_>],
    num_fields: usize,
) -> Vec<CountedInteraction> {
    let mut order: Vec<&LocalInteractions<'_>> = locals.iter().collect();
    order.sort_by_key(|l| l.instance);
    let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut out: Vec<CountedInteraction> = Vec::new();
    let mut seen_in_instance: HashSet<usize> = HashSet::new();
    let mut current: Option<usize> = None;
    for local in order {
        if current != Some(local.instance) {
            seen_in_instance.clear();
            current = Some(local.instance);
        }
        for (pos, raw) in local.interactions.iter().enumerate() {
            let mut set = raw.clone();
            set.sort_unstable();
            set.dedup();
            let is_all_fields =
                set.len() == num_fields && set.iter().enumerate().all(|(k, &f)| k == f);
            if is_all_fields {
                continue;
            }
            let slot = match index.get(&set) {
                Some(&slot) => slot,
                None => {
                    out.push(CountedInteraction {
                        features: set.clone(),
                        count: 0,
                        first_seen: (local.instance, pos),
                    });
                    index.insert(set, out.len() - 1);
                    out.len() - 1
                }
            };
            if seen_in_instance.insert(slot) {
                out[slot].count += 1;
            }
        }
    }
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
    });
    out
}

/// Selects the top `k` interactions with subset pruning (spec 3.2), walking `counted`
/// in its order (as sorted by [`count_interactions`]): a strict subset of a selected set
/// is skipped; a strict superset of selected sets replaces them only when it *earns its
/// place*, that is when its count is at least `superset_ratio` times the largest count among
/// those subsets, and is skipped otherwise; any other candidate is added while fewer than `k`
/// are selected. Output in selection order.
///
/// `superset_ratio = 0` is the reference rule: any superset replaces its subsets, and the
/// walk stops as soon as `k` are selected. The reference rule lets a spurious superset seen in
/// a few instances replace a pair seen in nearly all of them: NID's greedy ranking emits
/// supersets of a strong pair with whatever third field a unit also weights (see
/// ALGORITHMS.md 3.2 and issue 5), so glider defaults to [`DEFAULT_SUPERSET_RATIO`].
///
/// With `superset_ratio > 0` the walk goes on past `k` for supersets only: a real triple is
/// usually counted slightly less often than the pair inside it (the pair also shows where the
/// triple's third field adds little), so the pair can fill the K-th slot first; the triple
/// then replaces it when it earns its place. When a replacement frees slots the walk restarts
/// so the freed slots go to the most frequent candidates passed over. Each set enters at most
/// once (a replaced set stays a strict subset of a selected one), so the walk ends.
pub fn select_top_k(
    counted: &[CountedInteraction],
    k: usize,
    superset_ratio: f64,
) -> Vec<CountedInteraction> {
    let mut selected: Vec<CountedInteraction> = Vec::new();
    if k == 0 {
        return selected;
    }
    'walk: loop {
        let mut passed_over = false;
        for cand in counted {
            if selected.len() >= k && superset_ratio <= 0.0 {
                break 'walk;
            }
            if selected.iter().any(|s| {
                s.features == cand.features || is_strict_subset(&cand.features, &s.features)
            }) {
                continue;
            }
            let largest_subset = selected
                .iter()
                .filter(|s| is_strict_subset(&s.features, &cand.features))
                .map(|s| s.count)
                .max();
            match largest_subset {
                None if selected.len() >= k => {
                    passed_over = true;
                }
                None => selected.push(cand.clone()),
                Some(sub) if (cand.count as f64) < superset_ratio * sub as f64 => {}
                Some(_) => {
                    selected.retain(|s| !is_strict_subset(&s.features, &cand.features));
                    selected.push(cand.clone());
                    if passed_over && selected.len() < k {
                        continue 'walk;
                    }
                }
            }
        }
        break;
    }
    selected
}

/// The default of [`select_top_k`]'s `superset_ratio`: a superset replaces a selected subset
/// only when it appears in at least half as many instances.
pub const DEFAULT_SUPERSET_RATIO: f64 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_once_per_instance_drops_full_set_and_orders() {
        let a = vec![vec![0, 1], vec![2, 3], vec![0, 1, 2, 3], vec![1, 0]];
        let b = vec![vec![2, 3], vec![0, 1]];
        let c = vec![vec![1, 2]];
        let d = vec![vec![1, 2], vec![0, 3]];
        // Given out of order: the result must not depend on it.
        let locals = [
            LocalInteractions {
                instance: 7,
                interactions: &d,
            },
            LocalInteractions {
                instance: 2,
                interactions: &b,
            },
            LocalInteractions {
                instance: 5,
                interactions: &c,
            },
            LocalInteractions {
                instance: 0,
                interactions: &a,
            },
        ];
        let got = count_interactions(&locals, 4);
        // Instance 0: {0,1} at 0, {2,3} at 1, full set dropped, {1,0} = {0,1} again (no recount).
        // Instance 2: {2,3}, {0,1} -> both count 2.
        // Instance 5: {1,2} first seen (5,0); instance 7: {1,2} again -> 2; {0,3} (7,1) -> 1.
        // Sorted: count 2: {0,1} (0,0), {2,3} (0,1), {1,2} (5,0); then {0,3}.
        let want = vec![
            (vec![0, 1], 2, (0, 0)),
            (vec![2, 3], 2, (0, 1)),
            (vec![1, 2], 2, (5, 0)),
            (vec![0, 3], 1, (7, 1)),
        ];
        let got: Vec<(Vec<usize>, usize, (usize, usize))> = got
            .into_iter()
            .map(|c| (c.features, c.count, c.first_seen))
            .collect();
        assert_eq!(got, want);
    }

    fn ci(f: &[usize], count: usize, inst: usize) -> CountedInteraction {
        CountedInteraction {
            features: f.to_vec(),
            count,
            first_seen: (inst, 0),
        }
    }

    #[test]
    fn top_k_with_subset_pruning() {
        let counted = vec![
            ci(&[0, 1], 9, 0),    // selected
            ci(&[0, 1, 2], 8, 1), // replaces {0,1}
            ci(&[1, 2], 7, 2),    // strict subset of {0,1,2}: skipped
            ci(&[3, 4], 6, 3),    // selected -> k = 2 reached
            ci(&[5, 6], 5, 4),
        ];
        let got: Vec<Vec<usize>> = select_top_k(&counted, 2, 0.0)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![0, 1, 2], vec![3, 4]]);
        let got: Vec<Vec<usize>> = select_top_k(&counted, 3, 0.0)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert!(select_top_k(&counted, 0, 0.0).is_empty());
    }
    #[test]
    fn a_rare_superset_does_not_replace_a_frequent_pair() {
        let counted = vec![
            ci(&[1, 3], 23, 0),    // selected
            ci(&[1, 3, 7], 9, 0),  // 9 < 0.5 * 23 = 11.5: skipped, {1,3} stays
            ci(&[3, 5], 9, 1),     // selected
            ci(&[1, 3, 4], 12, 1), // 12 >= 11.5: replaces {1,3} (order of counts aside)
        ];
        let got: Vec<Vec<usize>> = select_top_k(&counted, 3, DEFAULT_SUPERSET_RATIO)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![3, 5], vec![1, 3, 4]]);
        let got: Vec<Vec<usize>> = select_top_k(&counted[..3], 3, DEFAULT_SUPERSET_RATIO)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![1, 3], vec![3, 5]]);
        // The reference rule (ratio 0) lets the rare triple replace the pair.
        let got: Vec<Vec<usize>> = select_top_k(&counted[..3], 3, 0.0)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![1, 3, 7], vec![3, 5]]);
    }

    #[test]
    fn a_triple_past_k_replaces_the_pair_inside_it() {
        // The planted-data case: pairs {5,6} and {3,4}, then the pair {0,1} of the planted
        // triple {0,1,2} fills the third slot before the triple is reached.
        let counted = vec![
            ci(&[5, 6], 61, 0),
            ci(&[3, 4], 57, 0),
            ci(&[0, 1], 41, 0),
            ci(&[0, 1, 2], 38, 1), // 38 >= 0.5 * 41: replaces {0,1}
            ci(&[0, 2], 15, 1),    // subset of {0,1,2}: skipped
            ci(&[3, 4, 9], 6, 2),  // 6 < 0.5 * 57: skipped
        ];
        let sel = |k, r| -> Vec<Vec<usize>> {
            select_top_k(&counted, k, r)
                .into_iter()
                .map(|c| c.features)
                .collect()
        };
        assert_eq!(
            sel(3, DEFAULT_SUPERSET_RATIO),
            vec![vec![5, 6], vec![3, 4], vec![0, 1, 2]]
        );
        // The reference rule stops at k.
        assert_eq!(sel(3, 0.0), vec![vec![5, 6], vec![3, 4], vec![0, 1]]);
        // A superset replacing two selected pairs frees a slot for the best passed-over set.
        let counted = vec![
            ci(&[0, 1], 50, 0),
            ci(&[1, 2], 45, 0),
            ci(&[7, 8], 40, 0), // passed over at k = 2
            ci(&[0, 1, 2], 30, 1),
        ];
        let got: Vec<Vec<usize>> = select_top_k(&counted, 2, DEFAULT_SUPERSET_RATIO)
            .into_iter()
            .map(|c| c.features)
            .collect();
        assert_eq!(got, vec![vec![0, 1, 2], vec![7, 8]]);
    }
}

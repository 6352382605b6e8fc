//! Global interactions (GLIDER spec 3.2): explain many instances, count in how many each
//! interaction appears, keep the top K with subset pruning.
//!
//! Instances run in parallel (rayon, one surrogate per task); each is seeded by its index, and
//! counting breaks ties by the lowest instance index, so the result does not depend on the
//! number of threads or the order instances finish in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use glider_core::aggregate::{
    count_interactions, select_top_k, CountedInteraction, LocalInteractions, DEFAULT_SUPERSET_RATIO,
};
use glider_data::{Dataset, Progress};

use crate::blackbox::BlackBox;
use crate::journal::Journal;
use crate::local::{explain_instance, LocalExplanation, LocalParams};
use crate::ExplainError;

/// Settings of a global detection run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GliderParams {
    /// Number of instances to explain: the first N validation rows (1,000).
    pub instances: usize,
    /// Global interactions to select (20; the paper's reference run used 40).
    pub top_k: usize,
    /// A superset replaces a selected subset only when it appears in at least this share of
    /// the subset's instances (0.5; 0 = the reference rule, see
    /// [`glider_core::aggregate::select_top_k`]).
    pub superset_ratio: f64,
    /// Local detection settings.
    pub local: LocalParams,
    /// Seed of the run; instance `i` uses a seed derived from it and `i`.
    pub seed: u64,
}

impl Default for GliderParams {
    fn default() -> Self {
        GliderParams {
            instances: 1000,
            top_k: 20,
            superset_ratio: DEFAULT_SUPERSET_RATIO,
            local: LocalParams::default(),
            seed: 0,
        }
    }
}

/// The outcome of a global run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalDetection {
    /// Instances explained successfully.
    pub explained: usize,
    /// Instances whose detection failed, with the reason (skipped, not fatal).
    pub failed: Vec<(usize, String)>,
    /// Every counted interaction (the set of all fields excluded), most frequent first.
    pub counted: Vec<CountedInteraction>,
    /// The top K after subset pruning.
    pub selected: Vec<CountedInteraction>,
    /// The local explanations, by instance.
    pub locals: Vec<LocalExplanation>,
    /// Set when the run stopped early because the black box could not be reached
    /// ([`ExplainError::Unreachable`]): the first instance that found it so, and why.
    /// Instances not started then are neither explained nor failed; with a journal, a
    /// resumed run picks them up.
    pub stopped: Option<(usize, String)>,
}

/// Explains the given rows of `data` (in order: list position = instance index) with
/// `black_box`, in parallel, and aggregates their interactions.
///
/// With a `journal`, instances it already holds are not redone, and each newly finished
/// instance is appended to it as soon as it completes (see [`crate::journal`]).
/// `first_instance` is the index of `rows[0]` in the whole run (non-zero for a shard), so a
/// shard's instances are seeded and counted exactly as in one run.
pub fn detect_global(
    black_box: &dyn BlackBox,
    data: &Dataset,
    rows: &[usize],
    params: &GliderParams,
    progress: &dyn Progress,
    journal: Option<&Journal>,
    first_instance: usize,
) -> GlobalDetection {
    let last_instance = first_instance + rows.len();
    let done: Vec<LocalExplanation> = journal
        .map(|j| {
            j.finished()
                .iter()
                .filter(|l| (first_instance..last_instance).contains(&l.instance))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let todo: Vec<(usize, usize)> = rows
        .iter()
        .enumerate()
        .map(|(k, &r)| (first_instance + k, r))
        .filter(|(i, _)| !done.iter().any(|l| l.instance == *i))
        .collect();
    progress.start(rows.len() as u64, "explaining instances");
    progress.inc(done.len() as u64);
    // The first instance whose black box could not be reached stops the run: instances not
    // started yet are skipped (those in flight finish, or find it unreachable too).
    let stop = AtomicBool::new(false);
    let stopped: Mutex<Option<(usize, String)>> = Mutex::new(None);
    let results: Vec<Option<Result<LocalExplanation, (usize, String)>>> = todo
        .par_iter()
        .map(|&(instance, r)| {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            let row = data.row(r);
            let out = match explain_instance(black_box, &row, instance, &params.local, params.seed)
            {
                Err(e @ ExplainError::Unreachable(_)) => {
                    stop.store(true, Ordering::SeqCst);
                    let mut first = stopped.lock().unwrap_or_else(|p| p.into_inner());
                    let why = format!("instance {instance} (row {r}): {e}");
                    match &*first {
                        Some((i, _)) if *i <= instance => {}
                        _ => *first = Some((instance, why)),
                    }
                    return None;
                }
                other => other,
            }
            .map_err(|e| (instance, format!("instance {instance} (row {r}): {e}")))
            .and_then(|l| match journal {
                Some(j) => j
                    .record(&l)
                    .map(|_| l)
                    .map_err(|e| (instance, format!("instance {instance}: {e}"))),
                None => Ok(l),
            });
            progress.inc(1);
            Some(out)
        })
        .collect();
    progress.finish();
    let mut results: Vec<Result<LocalExplanation, (usize, String)>> =
        results.into_iter().flatten().collect();
    results.extend(done.into_iter().map(Ok));
    results.sort_by_key(|r| match r {
        Ok(l) => l.instance,
        Err((i, _)) => *i,
    });
    let mut locals = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(l) => locals.push(l),
            Err(f) => failed.push(f),
        }
    }
    let (counted, selected) = aggregate(
        &locals,
        black_box.num_fields(),
        params.top_k,
        params.superset_ratio,
    );
    GlobalDetection {
        explained: locals.len(),
        failed,
        counted,
        selected,
        locals,
        stopped: stopped.into_inner().unwrap_or_else(|p| p.into_inner()),
    }
}

/// How strongly two fields interact, over the instances: entry `(i, j)` of the returned
/// `num_fields × num_fields` row-major matrix is the mean over `locals` of the share of an
/// instance's total local interaction strength held by its interactions that contain both
/// field `i` and field `j` (0 to 1); the diagonal `(i, i)` is the share held by interactions
/// containing field `i`. Symmetric. A strength-weighted, pair-level view of spec 3.2's
/// counting for the report's heatmap (a plain count saturates, since every instance ranks
/// dozens of overlapping sets). All zeros when `locals` is empty.
pub fn pair_strength(locals: &[LocalExplanation], num_fields: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; num_fields * num_fields];
    // Summed in instance order, so the result does not depend on the order instances finished
    // in (threads, shards, resumed runs).
    let mut ordered: Vec<&LocalExplanation> = locals.iter().collect();
    ordered.sort_by_key(|l| l.instance);
    for local in ordered {
        let total: f64 = local
            .interactions
            .iter()
            .map(|i| i.strength)
            .filter(|s| s.is_finite() && *s > 0.0)
            .sum();
        if total <= 0.0 {
            continue;
        }
        for interaction in &local.interactions {
            let w = interaction.strength;
            if !(w.is_finite() && w > 0.0) {
                continue;
            }
            let f = &interaction.features;
            for &a in f.iter().filter(|&&a| a < num_fields) {
                for &b in f.iter().filter(|&&b| b < num_fields) {
                    sum[a * num_fields + b] += w / total;
                }
            }
        }
    }
    let n = locals.len().max(1) as f64;
    sum.into_iter().map(|c| c / n).collect()
}

/// Counts the local explanations' interactions and selects the top `k` (spec 3.2).
pub fn aggregate(
    locals: &[LocalExplanation],
    num_fields: usize,
    k: usize,
    superset_ratio: f64,
) -> (Vec<CountedInteraction>, Vec<CountedInteraction>) {
    let sets: Vec<Vec<Vec<usize>>> = locals
        .iter()
        .map(|l| l.interactions.iter().map(|i| i.features.clone()).collect())
        .collect();
    let views: Vec<LocalInteractions<'_>> = locals
        .iter()
        .zip(&sets)
        .map(|(l, s)| LocalInteractions {
            instance: l.instance,
            interactions: s,
        })
        .collect();
    let counted = count_interactions(&views, num_fields);
    let selected = select_top_k(&counted, k, superset_ratio);
    (counted, selected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glider_core::nid::RankedInteraction;

    fn local(instance: usize, sets: &[(&[usize], f64)]) -> LocalExplanation {
        LocalExplanation {
            instance,
            interactions: sets
                .iter()
                .map(|(f, s)| RankedInteraction {
                    features: f.to_vec(),
                    strength: *s,
                })
                .collect(),
            surrogate_test_mse: 0.0,
            logit_variance: 1.0,
            epochs: 1,
        }
    }

    /// Hand-computed: instance 0 has {0,1} at 3 and {1,2} at 1 (total 4); instance 1 has
    /// {0,1,2} at 2 (total 2). Pair (0,1): (3/4 + 2/2) / 2 = 0.875; (1,2): (1/4 + 1) / 2 =
    /// 0.625; (0,2): (0 + 1) / 2 = 0.5; field 1 alone: (4/4 + 1) / 2 = 1.
    #[test]
    fn pair_strength_matches_a_hand_computed_case() {
        let locals = [
            local(0, &[(&[0, 1], 3.0), (&[1, 2], 1.0)]),
            local(1, &[(&[0, 1, 2], 2.0)]),
        ];
        let m = pair_strength(&locals, 3);
        let at = |a: usize, b: usize| m[a * 3 + b];
        assert!((at(0, 1) - 0.875).abs() < 1e-12);
        assert!((at(1, 0) - 0.875).abs() < 1e-12);
        assert!((at(1, 2) - 0.625).abs() < 1e-12);
        assert!((at(0, 2) - 0.5).abs() < 1e-12);
        assert!((at(1, 1) - 1.0).abs() < 1e-12);
        assert!((at(0, 0) - 0.875).abs() < 1e-12);
        assert_eq!(pair_strength(&[], 3), vec![0.0; 9]);
    }
}

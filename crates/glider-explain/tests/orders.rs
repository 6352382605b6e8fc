//! GLIDER reports an interaction at the order the black box holds it (issue 20): a pure
//! 3-way term is reported as the triple, not as its pairs; three 2-way terms over the same
//! three fields are reported as the three pairs, not as a triple.
//!
//! The black boxes code each field `s_i = +1` when on and `-1` when switched off. At an
//! instance (every field on) the local cut-off's pure effects are then known exactly:
//! for `c · s0 s1 s2`, `δ_{0,1,2} = 8c` and each pair's `δ = 4c` (the third field on); for
//! `c · (s0 s1 + s0 s2 + s1 s2)`, each pair's `δ = 4c` and `δ_{0,1,2} = 0`.

use glider_data::{Column, Dataset, Field, FieldKind, FieldValue, NoProgress};
use glider_explain::local::LocalCutoff;
use glider_explain::{detect_global, BlackBox, ExplainError, GliderParams, LocalParams};
use glider_nn::mlp::MlpParams;

const FIELDS: usize = 7;

/// `logit = f(s)` over [`FIELDS`] fields, `s_i = ±1` (on / off).
struct Signs(fn(&[f32]) -> f32);

impl BlackBox for Signs {
    fn num_fields(&self) -> usize {
        FIELDS
    }
    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        Ok(rows
            .chunks(FIELDS)
            .map(|r| {
                let s: Vec<f32> = r
                    .iter()
                    .map(|v| if v.is_missing_or_off() { -1.0 } else { 1.0 })
                    .collect();
                (self.0)(&s)
            })
            .collect())
    }
}

/// A pure 3-way term on fields 1, 3, 4 (no 2-way term anywhere), a main effect on 0.
const PURE_TRIPLE: Signs = Signs(|s| 1.2 * s[1] * s[3] * s[4] + 0.8 * s[0]);

/// The three pairs of {1, 3, 4} and no 3-way term, a main effect on 0.
const THREE_PAIRS: Signs = Signs(|s| 0.8 * (s[1] * s[3] + s[1] * s[4] + s[3] * s[4]) + 0.8 * s[0]);

fn data(rows: usize) -> Dataset {
    Dataset {
        source: "orders".into(),
        label_classes: Vec::new(),
        label_name: "y".into(),
        fields: (0..FIELDS)
            .map(|i| Field {
                name: format!("f{i}"),
                kind: FieldKind::Categorical,
            })
            .collect(),
        labels: vec![0.0; rows],
        columns: (0..FIELDS)
            .map(|_| Column::Categorical {
                codes: (1..=rows as u32).collect(),
                dictionary: (0..=rows).map(|i| i.to_string()).collect(),
            })
            .collect(),
    }
}

/// GLIDER's detection at the defaults (the local cut-off on, share 0.25), a small surrogate
/// for speed; the global top 3 and every counted set.
fn detect(black_box: &Signs) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let instances = 4;
    let params = GliderParams {
        instances,
        top_k: 3,
        local: LocalParams {
            num_perturbations: 1500,
            surrogate: MlpParams {
                hidden: vec![32, 16],
                max_epochs: 40,
                ..MlpParams::default()
            },
            ..LocalParams::default()
        },
        seed: 3,
        ..GliderParams::default()
    };
    assert_eq!(params.local.cutoff, Some(LocalCutoff::default()));
    let rows: Vec<usize> = (0..instances).collect();
    let out = detect_global(
        black_box,
        &data(instances),
        &rows,
        &params,
        &NoProgress,
        None,
        0,
    );
    assert_eq!(out.explained, instances, "{:?}", out.failed);
    let sets = |c: &[glider_core::aggregate::CountedInteraction]| {
        c.iter().map(|c| c.features.clone()).collect::<Vec<_>>()
    };
    (sets(&out.selected), sets(&out.counted))
}

#[test]
fn a_pure_triple_is_reported_as_the_triple() {
    let (selected, counted) = detect(&PURE_TRIPLE);
    assert_eq!(selected, vec![vec![1, 3, 4]], "counted: {counted:?}");
    // Its pairs are explained by the triple at every instance: never counted on their own.
    for pair in [[1, 3], [1, 4], [3, 4]] {
        assert!(!counted.contains(&pair.to_vec()), "{pair:?} in {counted:?}");
    }
}

#[test]
fn three_pairs_are_reported_as_three_pairs_not_as_a_triple() {
    let (mut selected, counted) = detect(&THREE_PAIRS);
    selected.sort();
    assert_eq!(
        selected,
        vec![vec![1, 3], vec![1, 4], vec![3, 4]],
        "counted: {counted:?}"
    );
    assert!(!counted.contains(&vec![1, 3, 4]), "{counted:?}");
}

//! The same seed gives the same global result with 1 and with 2 threads.

use glider_data::{Column, Dataset, Field, FieldKind, FieldValue, NoProgress};
use glider_explain::{detect_global, BlackBox, ExplainError, GliderParams, LocalParams};
use glider_nn::mlp::MlpParams;

/// logit = 2·[f0 ∧ f2 on] + 1.5·[f1 ∧ f3 ∧ f4 on] + 0.5·[f5 on] over 6 fields.
struct Planted;

impl BlackBox for Planted {
    fn num_fields(&self) -> usize {
        6
    }
    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        Ok(rows
            .chunks(6)
            .map(|r| {
                let on = |i: usize| !r[i].is_missing_or_off();
                let a = if on(0) && on(2) { 2.0 } else { 0.0 };
                let b = if on(1) && on(3) && on(4) { 1.5 } else { 0.0 };
                a + b + if on(5) { 0.5 } else { 0.0 }
            })
            .collect())
    }
}

fn data() -> Dataset {
    Dataset {
        source: "t".into(),
        label_classes: Vec::new(),
        label_name: "y".into(),
        fields: (0..6)
            .map(|i| Field {
                name: format!("f{i}"),
                kind: FieldKind::Categorical,
            })
            .collect(),
        labels: vec![0.0; 8],
        columns: (0..6)
            .map(|_| Column::Categorical {
                codes: (1..=8).collect(),
                dictionary: (0..=8).map(|i| i.to_string()).collect(),
            })
            .collect(),
    }
}

#[test]
fn one_and_two_threads_agree() {
    let params = GliderParams {
        instances: 6,
        top_k: 3,
        local: LocalParams {
            num_perturbations: 1000,
            surrogate: MlpParams {
                hidden: vec![32, 16],
                max_epochs: 30,
                ..MlpParams::default()
            },
            ..LocalParams::default()
        },
        seed: 5,
        ..GliderParams::default()
    };
    let d = data();
    let rows: Vec<usize> = (0..6).collect();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| detect_global(&Planted, &d, &rows, &params, &NoProgress, None, 0))
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    let top: Vec<Vec<usize>> = one.selected.iter().map(|c| c.features.clone()).collect();
    assert_eq!(top[..2], [vec![0, 2], vec![1, 3, 4]]);
}

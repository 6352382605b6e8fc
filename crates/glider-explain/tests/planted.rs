//! End to end on generated data with one planted field pair: GLIDER must rank the pair first
//! and its cross feature must raise the test AUC.

use glider_core::synth::SynthCtrConfig;
use glider_data::{split_indices, synth::synthetic};
use glider_explain::pipeline::{run, RunConfig, Silent};
use glider_nn::ctr::CtrParams;

#[test]
fn glider_run_finds_the_planted_pair_and_its_cross_helps() {
    let cfg = SynthCtrConfig::small();
    let (data, planted) = synthetic(&cfg).unwrap();
    let split = split_indices(data.num_rows(), 0.1, 0.1, 1).unwrap();
    let mut config = RunConfig {
        ctr: CtrParams {
            embedding_dim: 8,
            hidden: vec![64, 64],
            batch_size: 512,
            max_epochs: 10,
            ..CtrParams::default()
        },
        trials: 2,
        seed: 3,
        ..RunConfig::default()
    };
    config.glider.instances = 24;
    config.glider.top_k = 3;
    config.glider.local.num_perturbations = 2000;
    let out = run(&data, &split, &config, &Silent, None).unwrap();
    let top = &out.detection.selected;

    assert_eq!(top[0].features, planted[0], "top: {top:?}");
    let t = &out.report.targets[0];
    assert!(
        t.enhanced.auc_mean > t.baseline.auc_mean,
        "baseline {} vs +GLIDER {}",
        t.baseline.auc_mean,
        t.enhanced.auc_mean
    );
    assert_eq!(out.global.interactions[0].fields, vec!["f1", "f3"]);
}

/// A table whose label depends on the product of two numeric fields, beside four categorical
/// noise fields and a numeric noise field: logit = 6·x0·x1 (x0, x1 uniform on [−1, 1]).
fn numeric_product_table(rows: usize, seed: u64) -> glider_data::Dataset {
    use glider_data::{Column, Dataset, Field, FieldKind};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let num = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f32> {
        (0..rows).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    };
    let x0 = num(&mut rng);
    let x1 = num(&mut rng);
    let x2 = num(&mut rng);
    let labels: Vec<f32> = (0..rows)
        .map(|i| {
            let p = 1.0 / (1.0 + (-6.0 * x0[i] * x1[i]).exp());
            if rng.random::<f32>() < p {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let mut fields = vec![];
    let mut columns = vec![];
    for (name, values) in [("x0", x0), ("x1", x1), ("x2", x2)] {
        fields.push(Field {
            name: name.into(),
            kind: FieldKind::Dense,
        });
        columns.push(Column::Dense { values });
    }
    for c in 0..4 {
        fields.push(Field {
            name: format!("c{c}"),
            kind: FieldKind::Categorical,
        });
        columns.push(Column::Categorical {
            codes: (0..rows).map(|_| rng.random_range(1..=8)).collect(),
            dictionary: (0..=8).map(|v| format!("v{v}")).collect(),
        });
    }
    Dataset {
        source: "numeric-product".into(),
        label_name: "y".into(),
        label_classes: Vec::new(),
        fields,
        labels,
        columns,
    }
}

#[test]
fn the_product_of_two_numeric_fields_is_the_top_interaction() {
    use glider_data::{EncoderOptions, InputEncoder, NoProgress};
    use glider_explain::{detect_global, GliderParams, ModelBlackBox};
    use glider_nn::ctr::{self, ModelKind};
    let data = numeric_product_table(20_000, 11);
    let split = split_indices(data.num_rows(), 0.1, 0.1, 1).unwrap();
    // The default encoding: the numeric fields binned.
    let encoder = InputEncoder::fit(&data, &split.train, &EncoderOptions::default()).unwrap();
    assert!(matches!(
        encoder.fields[0],
        glider_data::encode::FieldEncoder::Binned { .. }
    ));
    let params = CtrParams {
        embedding_dim: 8,
        hidden: vec![64, 64],
        batch_size: 512,
        max_epochs: 10,
        ..CtrParams::for_model(ModelKind::DeepFm)
    };
    let model = ctr::train(
        ModelKind::DeepFm,
        &data,
        &split.train,
        &split.validation,
        &encoder,
        &params,
        5,
        &NoProgress,
    )
    .unwrap();
    let mut glider = GliderParams {
        instances: 48,
        top_k: 3,
        seed: 2,
        ..GliderParams::default()
    };
    glider.local.num_perturbations = 1000;
    let rows = &split.validation[..48];
    let found = detect_global(
        &ModelBlackBox::new(model.as_ref()),
        &data,
        rows,
        &glider,
        &NoProgress,
        None,
        0,
    );
    assert!(found.failed.is_empty(), "{:?}", found.failed);
    // GLIDER's count: the planted pair is found in (nearly) every instance, as often as any
    // other set (ties between CPUs' roundings fall either way; the strengths below decide).
    let count = |f: &[usize]| {
        found
            .counted
            .iter()
            .find(|c| c.features == f)
            .map_or(0, |c| c.count)
    };
    assert!(count(&[0, 1]) >= 40, "{:?}", found.selected);
    assert_eq!(
        count(&[0, 1]),
        found.selected[0].count,
        "top: {:?}",
        found.selected
    );
    // The local strengths, summed over instances: the planted pair stands far above every
    // other pair (noise pairs are found too, at NID's noise floor).
    let mut strength = std::collections::BTreeMap::<Vec<usize>, f64>::new();
    for local in &found.locals {
        for i in local.interactions.iter().filter(|i| i.features.len() == 2) {
            *strength.entry(i.features.clone()).or_default() += i.strength;
        }
    }
    let planted = strength.get(&vec![0, 1]).copied().unwrap_or(0.0);
    let runner_up = strength
        .iter()
        .filter(|(k, _)| k.as_slice() != [0, 1])
        .map(|(_, v)| *v)
        .fold(0.0, f64::max);
    assert!(
        planted > 2.0 * runner_up,
        "planted pair {planted:.4}, strongest other pair {runner_up:.4}"
    );
}

/// Crosses chosen on validation (issue 15): given the planted pair and a pair of noise fields
/// as candidates, LR (which cannot learn the pair itself) keeps the planted cross and rejects
/// the noise cross; and the choice never looks at the test rows: flipping every test label
/// leaves the kept crosses and the selection's validation curve unchanged.
#[test]
fn the_selection_keeps_the_planted_cross_rejects_noise_and_never_reads_test_labels() {
    use glider_explain::select::CrossSelection;
    use glider_nn::ctr::ModelKind;
    let cfg = SynthCtrConfig::small();
    let (data, planted) = synthetic(&cfg).unwrap();
    let split = split_indices(data.num_rows(), 0.1, 0.1, 1).unwrap();
    let names = data.field_names();
    let in_planted = |f: usize| planted.iter().any(|set| set.contains(&f));
    let noise: Vec<String> = (0..data.num_fields())
        .filter(|&f| !in_planted(f))
        .take(2)
        .map(|f| names[f].clone())
        .collect();
    let pair: Vec<String> = planted[0].iter().map(|&f| names[f].clone()).collect();
    let mut config = RunConfig {
        model: ModelKind::Lr,
        ctr: CtrParams::for_model(ModelKind::Lr),
        interactions: Some(vec![noise.clone(), pair.clone()]),
        trials: 1,
        seed: 5,
        ..RunConfig::default()
    };
    assert_eq!(config.selection.mode, CrossSelection::Validation);
    config.cross.min_count_floor = 5;
    let out = run(&data, &split, &config, &Silent, None).unwrap();
    let t = &out.report.targets[0];
    let planted_name = format!("cross({})", pair.join(","));
    assert_eq!(t.kept_crosses, vec![planted_name.clone()], "{t:#?}");
    assert_eq!(t.candidate_crosses, 2);
    let sel = t.selection.as_ref().unwrap();
    assert!(sel.confirmed, "{sel:#?}");
    assert!(!sel.trace.candidates[0].kept && sel.trace.candidates[1].kept);
    assert!(t.enhanced.auc_mean > t.baseline.auc_mean + 0.01, "{t:#?}");
    // The crossing LR was measured with, for `crosses.lr.json`: the kept cross only, at the
    // min count LR chose, with the tuples of the candidate at that min count.
    assert_eq!(out.target_crosses.len(), 1);
    let (target, spec) = &out.target_crosses[0];
    assert_eq!(target, "lr");
    let names: Vec<&str> = spec.crosses.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, [planted_name.as_str()]);
    assert_eq!(Some(spec.min_count), t.cross_min_count);
    let candidate = &out.crosses.crosses[1];
    assert_eq!(spec.crosses[0].fields, candidate.fields);
    assert!(spec.min_count >= out.crosses.min_count);
    // A min count at least the crossing's keeps a subset of the candidate's tuples (all of
    // them, in order, at the same count).
    assert!(spec.crosses[0]
        .tuples
        .iter()
        .all(|tuple| candidate.tuples.contains(tuple)));
    if spec.min_count == out.crosses.min_count {
        assert_eq!(&spec.crosses[0], candidate);
    }

    // Only the test labels change: the same choice, to the last digit of the curve.
    let mut flipped = data.clone();
    for &r in &split.test {
        flipped.labels[r] = 1.0 - flipped.labels[r];
    }
    let again = run(&flipped, &split, &config, &Silent, None).unwrap();
    let t2 = &again.report.targets[0];
    assert_eq!(t2.kept_crosses, t.kept_crosses);
    assert_eq!(t2.selection.as_ref().unwrap().trace, sel.trace);
    // ...while the test metrics did change (the flip reached the test rows).
    assert!(t2.baseline.auc_mean < 0.5, "{}", t2.baseline.auc_mean);
}

/// How the crosses enter a target (issue 15): with `--cross-part auto`, FM's confirming
/// retrains run each set twice, in full and in the linear term only, and the report says
/// which won. Crosses of noise fields: retrained from scratch, some retrain is worse than the
/// baseline on validation; started from the baseline (`--cross-start baseline`), none is
/// (epoch 0 is the baseline itself).
#[test]
fn fm_tries_both_parts_and_a_fine_tuned_retrain_never_loses_on_validation() {
    use glider_explain::pipeline::{CrossPart, CrossStart, TargetConfig};
    use glider_nn::ctr::ModelKind;
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 6000;
    let (data, _) = synthetic(&cfg).unwrap();
    let split = split_indices(data.num_rows(), 0.1, 0.1, 1).unwrap();
    let small = |kind| CtrParams {
        embedding_dim: 4,
        hidden: vec![16],
        batch_size: 256,
        max_epochs: 6,
        ..CtrParams::for_model(kind)
    };
    let config = RunConfig {
        model: ModelKind::Fm,
        ctr: small(ModelKind::Fm),
        targets: vec![TargetConfig {
            model: ModelKind::Fm,
            ctr: small(ModelKind::Fm),
        }],
        interactions: Some(vec![
            vec!["f1".into(), "f3".into()],
            vec!["f0".into(), "f2".into()],
        ]),
        trials: 2,
        seed: 4,
        ..RunConfig::default()
    };
    assert_eq!(config.cross_part, CrossPart::Auto);
    let out = run(&data, &split, &config, &Silent, None).unwrap();
    let t = &out.report.targets[0];
    let sel = t.selection.as_ref().unwrap();
    let linear = sel.retrains.iter().filter(|r| r.linear_only).count();
    assert!(linear > 0, "{:?}", sel.retrains);
    assert_eq!(2 * linear, sel.retrains.len(), "{:?}", sel.retrains);
    let best = sel
        .retrains
        .iter()
        .min_by(|a, b| a.validation_logloss.total_cmp(&b.validation_logloss))
        .unwrap();
    if !t.kept_crosses.is_empty() {
        assert_eq!(t.cross_linear_only, best.linear_only, "{t:?}");
    }

    let noise = RunConfig {
        interactions: Some(vec![
            vec!["f0".into(), "f2".into()],
            vec!["f4".into(), "f5".into(), "f6".into()],
        ]),
        cross_part: CrossPart::Full,
        ..config
    };
    let worse = |c: &RunConfig| {
        let out = run(&data, &split, c, &Silent, None).unwrap();
        let sel = out.report.targets[0].selection.clone().unwrap();
        assert!(!sel.retrains.is_empty());
        assert!(sel.retrains.iter().all(|r| !r.linear_only));
        sel.retrains
            .iter()
            .filter(|r| r.validation_logloss > sel.baseline_validation_logloss + 1e-6)
            .count()
    };
    assert!(
        worse(&noise) > 0,
        "a scratch retrain with noise crosses loses"
    );
    let tuned = RunConfig {
        cross_start: CrossStart::Baseline,
        ..noise
    };
    assert_eq!(worse(&tuned), 0);
}

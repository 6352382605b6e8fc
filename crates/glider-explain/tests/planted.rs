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

//! Local detectors on A1–A4 (p = 40) against their ground truth (spec 2).

use glider_core::local_functions::{LocalFunction, NUM_FEATURES};
use glider_core::metrics::pairwise_auc;
use glider_data::FieldValue;
use glider_explain::blackbox::FunctionBox;
use glider_explain::{archdetect_instance, fit_local_surrogate, LocalParams};

#[test]
fn archdetect_recovers_a1_to_a4() {
    let row = vec![FieldValue::Categorical(1); NUM_FEATURES];
    for f in LocalFunction::ALL {
        let pairs = archdetect_instance(&FunctionBox(f), &row, 0).unwrap();
        assert_eq!(pairs.len(), 780);
        let auc = pairwise_auc(&pairs, &f.truth()).unwrap();
        assert!(auc >= 0.99, "{}: ArchDetect pairwise AUC {auc}", f.name());
    }
}

#[test]
fn nid_surrogate_finds_a1_pairs() {
    // A1 is a sum of pairwise products: the surrogate + NID recovers it well (published 0.94).
    let row = vec![FieldValue::Categorical(1); NUM_FEATURES];
    let s = fit_local_surrogate(
        &FunctionBox(LocalFunction::A1),
        &row,
        0,
        &LocalParams::default(),
        0,
    )
    .unwrap();
    let pairs =
        glider_core::nid::pairwise_strengths(&s.weights, glider_core::nid::Averaging::Min).unwrap();
    let auc = pairwise_auc(&pairs, &LocalFunction::A1.truth()).unwrap();
    assert!(auc > 0.85, "NID pairwise AUC on A1: {auc}");
}

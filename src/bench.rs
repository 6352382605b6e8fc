//! `glider bench speed`: the hot loops timed against a reference measured in the same run,
//! reported as ratios (these machines are noisy, so absolute seconds alone mean little).
//!
//! - surrogate: GLIDER's local surrogate fit (masks → logits of a planted function) with the
//!   specialised gemm trainer vs burn autodiff, same data, seed and fixed epochs;
//! - nid: NID's any-order ranking of a random p × h1 first layer.

use std::time::Instant;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use glider_core::nid::{rank_interactions, Matrix, MlpWeights, RankingOptions};
use glider_core::perturb::field_masks;
use glider_nn::fast_mlp::fit_fast;
use glider_nn::mlp::{fit_mlp, MlpParams, Table};

/// Settings of the speed benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct SpeedSettings {
    /// Fields (surrogate inputs).
    pub fields: usize,
    /// Perturbations per instance (5/6 train, 1/12 validation).
    pub perturbations: usize,
    /// Fixed epochs per fit (no early stopping, so both sides do equal work).
    pub epochs: usize,
    /// Fits timed per trainer.
    pub fits: usize,
    /// NID benchmark size: features and first-layer units.
    pub nid_features: usize,
    /// First-layer units of the NID benchmark.
    pub nid_units: usize,
}

/// Results of the speed benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct SpeedReport {
    /// The settings.
    pub settings: SpeedSettings,
    /// Seconds per surrogate fit, specialised trainer.
    pub fast_seconds_per_fit: f64,
    /// Seconds per surrogate fit, burn autodiff.
    pub autodiff_seconds_per_fit: f64,
    /// autodiff / fast.
    pub speedup: f64,
    /// Achieved GFLOP/s of the specialised trainer (forward + backward, 3× forward FLOPs).
    pub fast_gflops: f64,
    /// Milliseconds per NID ranking of a `nid_features × nid_units` first layer.
    pub nid_ms: f64,
}

fn planted_targets(masks: &[u8], p: usize) -> Vec<f32> {
    masks
        .chunks(p)
        .map(|m| {
            let on = |i: usize| m[i % p] as f32;
            2.0 * on(0) * on(3) + 1.5 * on(1) * on(4) * on(5) + 0.5 * on(2) + 0.3 * on(6)
        })
        .collect()
}

/// Runs the benchmark.
pub fn speed(settings: SpeedSettings, progress: impl Fn(&str)) -> Result<SpeedReport> {
    let p = settings.fields;
    let n = settings.perturbations;
    let n_train = n * 5 / 6;
    let n_val = n / 12;
    let params = MlpParams {
        max_epochs: settings.epochs,
        patience: None,
        ..MlpParams::default()
    };
    let mut fast_total = 0.0;
    let mut slow_total = 0.0;
    for fit in 0..settings.fits {
        let masks = field_masks(p, n, fit as u64);
        let x: Vec<f32> = masks.data.iter().map(|&b| b as f32).collect();
        let y = planted_targets(&masks.data, p);
        let train = Table {
            x: &x[..n_train * p],
            y: &y[..n_train],
            cols: p,
        };
        let val = Table {
            x: &x[n_train * p..(n_train + n_val) * p],
            y: &y[n_train..n_train + n_val],
            cols: p,
        };
        progress(&format!(
            "surrogate fit {}/{}: gemm trainer",
            fit + 1,
            settings.fits
        ));
        let t = Instant::now();
        fit_fast(&train, &val, &params, fit as u64)?;
        fast_total += t.elapsed().as_secs_f64();
        progress(&format!(
            "surrogate fit {}/{}: burn autodiff",
            fit + 1,
            settings.fits
        ));
        let t = Instant::now();
        fit_mlp(&train, &val, &params, fit as u64)?;
        slow_total += t.elapsed().as_secs_f64();
    }
    let fits = settings.fits.max(1) as f64;
    let fast = fast_total / fits;
    let slow = slow_total / fits;
    let mut sizes = vec![p];
    sizes.extend(&params.hidden);
    sizes.push(1);
    let forward_flops_per_row: f64 = sizes.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum();
    let flops = 3.0 * forward_flops_per_row * (n_train * settings.epochs) as f64;

    progress("NID ranking");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (d, h) = (settings.nid_features, settings.nid_units);
    let w1: Vec<f32> = (0..d * h).map(|_| rng.random_range(-1.0..1.0)).collect();
    let w2: Vec<f32> = (0..h).map(|_| rng.random_range(-1.0..1.0)).collect();
    let weights = MlpWeights::new(vec![Matrix::new(h, d, w1)?, Matrix::new(1, h, w2)?])?;
    let reps = 5;
    let t = Instant::now();
    for _ in 0..reps {
        rank_interactions(&weights, &RankingOptions::default())?;
    }
    let nid_ms = 1000.0 * t.elapsed().as_secs_f64() / reps as f64;
    Ok(SpeedReport {
        settings,
        fast_seconds_per_fit: fast,
        autodiff_seconds_per_fit: slow,
        speedup: slow / fast,
        fast_gflops: flops / fast / 1e9,
        nid_ms,
    })
}

/// One detector's pairwise AUC on one function.
#[derive(Clone, Debug, Serialize)]
pub struct LocalScore {
    /// `A1`..`A4`.
    pub function: String,
    /// `nid` or `archdetect`.
    pub detector: String,
    /// Pairwise AUC per trial (seed).
    pub auc: Vec<f64>,
    /// Mean over trials.
    pub auc_mean: f64,
    /// Sample standard deviation over trials.
    pub auc_std: f64,
    /// The published figure (Archipelago, NeurIPS 2020, Table 2).
    pub published: f64,
}

/// Scores NID (local surrogate) and ArchDetect on A1–A4 by pairwise AUC.
pub fn local(
    trials: usize,
    params: &glider_explain::LocalParams,
    progress: impl Fn(&str),
) -> Result<Vec<LocalScore>> {
    use glider_core::local_functions::{LocalFunction, NUM_FEATURES};
    use glider_core::metrics::{mean_std, pairwise_auc};
    let published_nid = [0.94, 0.54, 0.54, 0.56];
    let row = vec![glider_data::FieldValue::Categorical(1); NUM_FEATURES];
    let mut out = Vec::new();
    for (k, f) in LocalFunction::ALL.iter().enumerate() {
        let bb = glider_explain::blackbox::FunctionBox(*f);
        let truth = f.truth();
        let mut nid = Vec::new();
        for t in 0..trials.max(1) {
            progress(&format!("{}: NID surrogate, trial {}", f.name(), t + 1));
            let s = glider_explain::fit_local_surrogate(&bb, &row, 0, params, t as u64)?;
            let pairs =
                glider_core::nid::pairwise_strengths(&s.weights, glider_core::nid::Averaging::Min)?;
            nid.push(pairwise_auc(&pairs, &truth).unwrap_or(f64::NAN));
        }
        progress(&format!("{}: ArchDetect", f.name()));
        let pairs = glider_explain::archdetect_instance(&bb, &row, 0)?;
        let arch = vec![pairwise_auc(&pairs, &truth).unwrap_or(f64::NAN)];
        for (name, auc, published) in [("nid", nid, published_nid[k]), ("archdetect", arch, 1.0)] {
            let (m, s) = mean_std(&auc);
            out.push(LocalScore {
                function: f.name().to_string(),
                detector: name.to_string(),
                auc,
                auc_mean: m,
                auc_std: s,
                published,
            });
        }
    }
    Ok(out)
}

/// One function's NID detection scores over trials.
#[derive(Clone, Debug, Serialize)]
pub struct NidScore {
    /// `F1`..`F10`.
    pub function: String,
    /// Pairwise AUC per trial.
    pub pairwise_auc: Vec<f64>,
    /// Any-order R-precision per trial.
    pub r_precision: Vec<f64>,
    /// Mean and std of pairwise AUC.
    pub auc_mean: f64,
    /// Sample std of pairwise AUC.
    pub auc_std: f64,
    /// Mean R-precision.
    pub r_precision_mean: f64,
    /// Test MSE (standardised y) per trial.
    pub test_mse: Vec<f64>,
    /// Published pairwise AUC of NID with the plain MLP (paper Table 2).
    pub published_mlp: f64,
    /// Published pairwise AUC of NID with MLP-M.
    pub published_mlp_m: f64,
}

fn standardise(x: &[f64], cols: usize, rows: usize) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    for c in 0..cols {
        let vals: Vec<f64> = (0..rows).map(|r| x[r * cols + c]).collect();
        let (m, s) = glider_core::metrics::mean_std(&vals);
        let s = if s > 0.0 { s } else { 1.0 };
        for r in 0..x.len() / cols {
            out[r * cols + c] = ((x[r * cols + c] - m) / s) as f32;
        }
    }
    out
}

/// NID (plain MLP, spec 1.1 architecture, early stopping) on F1–F10: pairwise AUC and
/// R-precision (spec 1.6) per function over `trials` seeds; 10k/10k/10k samples.
pub fn nid(
    functions: &[glider_core::synthetic_functions::SyntheticFunction],
    trials: usize,
    params: &MlpParams,
    progress: impl Fn(&str),
) -> Result<Vec<NidScore>> {
    use glider_core::metrics::{mean_std, pairwise_auc, r_precision};
    use glider_core::synthetic_functions::NUM_FEATURES as P;
    let published_mlp = [
        0.970, 0.79, 0.999, 0.85, 1.0, 0.98, 0.84, 0.989, 0.83, 0.995,
    ];
    let published_mlp_m = [0.995, 0.85, 1.0, 0.996, 1.0, 0.70, 0.82, 0.989, 0.83, 0.99];
    let mut out = Vec::new();
    for &f in functions {
        let (mut aucs, mut rps, mut mses) = (Vec::new(), Vec::new(), Vec::new());
        for t in 0..trials.max(1) {
            progress(&format!("{}: trial {}/{}", f.name(), t + 1, trials.max(1)));
            let n = 30_000;
            let (x, y) = f.sample(n, 1000 + t as u64);
            let xs = standardise(&x, P, 10_000);
            let ys = standardise(&y, 1, 10_000);
            let table = |a: usize, b: usize| Table {
                x: &xs[a * P..b * P],
                y: &ys[a..b],
                cols: P,
            };
            let fit = fit_fast(&table(0, 10_000), &table(10_000, 20_000), params, t as u64)?;
            mses.push(fit.net.mse(&table(20_000, 30_000)));
            let w = fit.net.nid_weights()?;
            let pairs = glider_core::nid::pairwise_strengths(&w, glider_core::nid::Averaging::Min)?;
            aucs.push(pairwise_auc(&pairs, &f.truth()).unwrap_or(f64::NAN));
            let ranked = rank_interactions(&w, &RankingOptions::default())?;
            rps.push(r_precision(&ranked, &f.truth()));
        }
        let (auc_mean, auc_std) = mean_std(&aucs);
        let (r_precision_mean, _) = mean_std(&rps);
        out.push(NidScore {
            function: f.name().to_string(),
            pairwise_auc: aucs,
            r_precision: rps,
            auc_mean,
            auc_std,
            r_precision_mean,
            test_mse: mses,
            published_mlp: published_mlp[f as usize],
            published_mlp_m: published_mlp_m[f as usize],
        });
    }
    Ok(out)
}

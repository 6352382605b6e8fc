//! GLIDER's settings as a front end takes them (flag names and defaults of the command line,
//! keywords of the Python package), checked once here into the typed [`GliderParams`]
//! (the `ParamGuard` pattern: [`GliderSettings::check`] returns the validated type).

use anyhow::Result;
use serde::{Deserialize, Serialize};

use glider_explain::{Detector, GliderParams, LocalParams};
use glider_nn::ctr::{CtrParams, ModelKind};
use glider_nn::mlp::MlpParams;

use crate::usage;

/// The local detector (spec 3.1 and its alternatives).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum DetectorChoice {
    /// NID on the local MLP surrogate (the GLIDER reference, any order).
    Nid,
    /// ArchDetect (pairs, model-agnostic, no surrogate; much faster).
    Archdetect,
    /// GradientNID: a Softplus surrogate, pairs scored by the squared mixed second
    /// derivative at the instance.
    #[cfg_attr(feature = "clap", value(name = "gradient-nid"))]
    GradientNid,
}

/// GLIDER's settings, unchecked: what `glider detect` / `glider run` flags and
/// `glider.detect(...)` keywords give, with the same names (`--top-k` is `top_k`) and the
/// same defaults ([`Default`]). Spec 3.1–3.2 for the reference values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GliderSettings {
    /// Instances to explain (the first N rows): 1000.
    pub instances: usize,
    /// Global interactions to select (and encode as crosses): 20.
    pub top_k: usize,
    /// A superset replaces a selected subset only if it appears in at least this share of
    /// the subset's instances (0 = the GLIDER reference rule): 0.5.
    pub superset_ratio: f64,
    /// The local detector: NID.
    pub detector: DetectorChoice,
    /// Pairs per instance kept by the pairwise detectors: 10.
    pub archdetect_top_k: usize,
    /// LIME kernel width for weighting perturbations (off by default).
    pub lime_width: Option<f64>,
    /// Local cut-off share (off by default; 0.25 is a good start).
    pub local_cutoff: Option<f64>,
    /// Largest order the local cut-off scores: 4.
    pub cutoff_max_order: usize,
    /// Perturbations per instance: 6000 (spec 3.1).
    pub perturbations: usize,
    /// Surrogate hidden sizes: 256, 128, 64.
    pub surrogate_hidden: Vec<usize>,
    /// Surrogate L1 strength: 1e-4.
    pub surrogate_l1: f64,
    /// Surrogate maximum epochs (early stopping, patience 5): 100.
    pub surrogate_epochs: usize,
    /// Interactions kept per instance by NID: 100.
    pub local_top: usize,
    /// In an instance's NID ranking, a superset of an emitted interaction is dropped when its
    /// strength is below this share of its strongest emitted subset: 0.5.
    pub local_superset_ratio: f64,
}

impl Default for GliderSettings {
    fn default() -> Self {
        GliderSettings {
            instances: 1000,
            top_k: 20,
            superset_ratio: 0.5,
            detector: DetectorChoice::Nid,
            archdetect_top_k: 10,
            lime_width: None,
            local_cutoff: None,
            cutoff_max_order: 4,
            perturbations: 6000,
            surrogate_hidden: vec![256, 128, 64],
            surrogate_l1: 1e-4,
            surrogate_epochs: 100,
            local_top: 100,
            local_superset_ratio: 0.5,
        }
    }
}

impl GliderSettings {
    /// Checks the settings and returns GLIDER's parameters with `seed`.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the flag: an empty or zero surrogate layer, a negative
    /// or non-finite L1, a zero count, fewer than 100 perturbations, a LIME width or local
    /// cut-off share out of range, a cut-off order outside 2–10.
    pub fn check(&self, seed: u64) -> Result<GliderParams> {
        if self.surrogate_hidden.is_empty() || self.surrogate_hidden.contains(&0) {
            usage!("--surrogate-hidden needs at least one layer, every size at least 1");
        }
        if !(self.surrogate_l1 >= 0.0 && self.surrogate_l1.is_finite()) {
            usage!("--surrogate-l1 must be a number >= 0");
        }
        for (flag, v) in [
            ("--instances", self.instances),
            ("--top-k", self.top_k),
            ("--surrogate-epochs", self.surrogate_epochs),
            ("--local-top", self.local_top),
            ("--archdetect-top-k", self.archdetect_top_k),
        ] {
            if v == 0 {
                usage!("{flag} must be at least 1");
            }
        }
        if self.perturbations < 100 {
            usage!("--perturbations must be at least 100 (the spec uses 6000)");
        }
        for (flag, v) in [
            ("--superset-ratio", self.superset_ratio),
            ("--local-superset-ratio", self.local_superset_ratio),
        ] {
            if !(0.0..=1.0).contains(&v) {
                usage!("{flag} must be a share in [0, 1], got {v}");
            }
        }
        Ok(GliderParams {
            instances: self.instances,
            top_k: self.top_k,
            superset_ratio: self.superset_ratio,
            local: LocalParams {
                num_perturbations: self.perturbations,
                surrogate: MlpParams {
                    hidden: self.surrogate_hidden.clone(),
                    l1: self.surrogate_l1,
                    max_epochs: self.surrogate_epochs,
                    ..MlpParams::default()
                },
                ranking: glider_core::nid::RankingOptions {
                    max_interactions: self.local_top,
                    superset_ratio: self.local_superset_ratio,
                    ..Default::default()
                },
                detector: match self.detector {
                    DetectorChoice::Nid => Detector::Nid,
                    DetectorChoice::Archdetect => Detector::ArchDetect,
                    DetectorChoice::GradientNid => Detector::GradientNid,
                },
                archdetect_top_k: self.archdetect_top_k,
                lime_kernel_width: match self.lime_width {
                    Some(w) if !(w.is_finite() && w > 0.0) => {
                        usage!("--lime-width must be a positive number, got {w}")
                    }
                    w => w,
                },
                cutoff: match self.local_cutoff {
                    None => None,
                    Some(s) if !(s.is_finite() && s > 0.0 && s <= 1.0) => {
                        usage!("--local-cutoff must be a share in (0, 1], got {s}")
                    }
                    Some(share) => {
                        if !(2..=10).contains(&self.cutoff_max_order) {
                            usage!(
                                "--cutoff-max-order must be between 2 and 10, got {}",
                                self.cutoff_max_order
                            );
                        }
                        Some(glider_explain::local::LocalCutoff {
                            share,
                            max_order: self.cutoff_max_order,
                            ..Default::default()
                        })
                    }
                },
                ..LocalParams::default()
            },
            seed,
        })
    }
}

/// Checks a recommender's settings (`glider train` / `glider run` flags, `glider.train`
/// keywords) for `kind`, spec 3.4.
///
/// # Errors
/// A [`crate::Usage`] error naming the flag: a zero size, batch or epoch cap, a zero layer,
/// a non-positive learning rate, a negative embedding L2, an attention size that is not a
/// multiple of the heads, a missing attention layer, InterHAt order or FiBiNET reduction.
pub fn check_ctr_params(kind: ModelKind, p: &CtrParams) -> Result<()> {
    for (flag, v) in [
        ("--embedding-dim", p.embedding_dim),
        ("--batch-size", p.batch_size),
        ("--epochs", p.max_epochs),
    ] {
        if v == 0 {
            usage!("{flag} must be at least 1");
        }
    }
    if p.hidden.contains(&0) || p.cin_layers.contains(&0) {
        usage!("layer sizes in --hidden and --cin-layers must be at least 1");
    }
    if p.attention_heads == 0 || p.attention_size == 0 {
        usage!("--attention-heads and --attention-size must be at least 1");
    }
    if !(p.learning_rate > 0.0 && p.learning_rate.is_finite()) {
        usage!("--lr must be a positive number");
    }
    if !(p.embedding_l2 >= 0.0 && p.embedding_l2.is_finite()) {
        usage!("--embedding-l2 must be a number >= 0");
    }
    let attention = matches!(
        kind,
        ModelKind::AutoInt | ModelKind::AutoIntPlus | ModelKind::InterHat
    );
    if attention && !p.attention_size.is_multiple_of(p.attention_heads) {
        usage!(
            "--attention-size {} must be a multiple of --attention-heads {}",
            p.attention_size,
            p.attention_heads
        );
    }
    if matches!(kind, ModelKind::AutoInt | ModelKind::AutoIntPlus) && p.attention_layers == 0 {
        usage!("--attention-layers must be at least 1 for {kind}");
    }
    if kind == ModelKind::InterHat && p.interhat_orders == 0 {
        usage!("--orders must be at least 1");
    }
    if kind == ModelKind::FiBiNet && p.reduction_ratio == 0 {
        usage!("--reduction-ratio must be at least 1");
    }
    Ok(())
}

/// NID's main-effect towers (spec 1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum MainChoice {
    /// One univariate net per input (MLP-M).
    Univariate,
    /// One bias-free linear layer.
    Linear,
    /// The plain interaction MLP.
    None,
}

/// NID's training schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleChoice {
    /// Early stopping on validation loss.
    Early,
    /// Fixed epochs with 0.95 learning-rate decay.
    Fixed,
}

/// The averaging function of spec 1.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum AveragingChoice {
    /// The minimum (the paper's choice).
    Min,
    /// Arithmetic mean.
    Arithmetic,
    /// Geometric mean.
    Geometric,
    /// Harmonic mean.
    Harmonic,
}

/// NID's settings on a table (spec 1), unchecked: `glider nid` flags and `glider.nid(...)`
/// keywords, same names and defaults ([`Default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NidOptions {
    /// Main effects beside the interaction MLP: univariate (MLP-M).
    pub main_effects: MainChoice,
    /// Hidden sizes of the interaction MLP: 140, 100, 60, 20.
    pub hidden: Vec<usize>,
    /// L1 strength on the interaction MLP's weights: 5e-5.
    pub l1: f64,
    /// Training schedule: early stopping.
    pub schedule: ScheduleChoice,
    /// Maximum (early) or exact (fixed) number of epochs: 100.
    pub epochs: usize,
    /// How a unit's weights on a set's members are combined: min.
    pub averaging: AveragingChoice,
    /// Seeds trained and averaged: 1.
    pub ensemble: usize,
    /// In an ensemble, every second member a plain MLP: off.
    pub mix_plain: bool,
    /// Early stopping patience: 5.
    pub patience: usize,
    /// Superset pruning share (0 = the reference pruning): 0.
    pub superset_ratio: f64,
    /// Run MLP-Cutoff (spec 1.5): off.
    pub cutoff: bool,
    /// Cut-off tolerance: 0.01.
    pub cutoff_tolerance: f64,
    /// Cut-off patience: 2.
    pub cutoff_patience: usize,
}

impl Default for NidOptions {
    fn default() -> Self {
        NidOptions {
            main_effects: MainChoice::Univariate,
            hidden: vec![140, 100, 60, 20],
            l1: 5e-5,
            schedule: ScheduleChoice::Early,
            epochs: 100,
            averaging: AveragingChoice::Min,
            ensemble: 1,
            mix_plain: false,
            patience: 5,
            superset_ratio: 0.0,
            cutoff: false,
            cutoff_tolerance: 0.01,
            cutoff_patience: 2,
        }
    }
}

impl NidOptions {
    /// Checks the options and returns NID's settings for `task`.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the flag: an empty or zero layer, zero epochs or
    /// ensemble, a superset share outside [0, 1], a negative or non-finite L1.
    pub fn check(
        &self,
        task: glider_nn::additive::Task,
    ) -> Result<glider_explain::tabular::NidSettings> {
        use glider_core::nid::Averaging;
        use glider_nn::additive::{CutoffParams, MainEffects};
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            usage!("--hidden needs at least one layer, every size at least 1");
        }
        if self.epochs == 0 || self.ensemble == 0 {
            usage!("--epochs and --ensemble must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.superset_ratio) {
            usage!("--superset-ratio must be between 0 and 1");
        }
        if !(self.l1 >= 0.0 && self.l1.is_finite()) {
            usage!("--l1 must be a finite number >= 0");
        }
        let (lr_decay, patience) = match self.schedule {
            ScheduleChoice::Early => (1.0, Some(self.patience)),
            ScheduleChoice::Fixed => (0.95, None),
        };
        Ok(glider_explain::tabular::NidSettings {
            task,
            mlp: MlpParams {
                hidden: self.hidden.clone(),
                l1: self.l1,
                learning_rate: 0.01,
                lr_decay,
                batch_size: 100,
                max_epochs: self.epochs,
                patience,
            },
            main_effects: match self.main_effects {
                MainChoice::Univariate => MainEffects::Univariate,
                MainChoice::Linear => MainEffects::Linear,
                MainChoice::None => MainEffects::None,
            },
            averaging: match self.averaging {
                AveragingChoice::Min => Averaging::Min,
                AveragingChoice::Arithmetic => Averaging::ArithmeticMean,
                AveragingChoice::Geometric => Averaging::GeometricMean,
                AveragingChoice::Harmonic => Averaging::HarmonicMean,
            },
            ensemble: self.ensemble,
            mix_plain: self.mix_plain,
            superset_ratio: self.superset_ratio,
            cutoff: self.cutoff.then(|| CutoffParams {
                tolerance: self.cutoff_tolerance,
                patience: self.cutoff_patience.max(1),
                ..CutoffParams::default()
            }),
            ..glider_explain::tabular::NidSettings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_bad_values_name_their_flag() {
        let p = GliderSettings::default().check(7).unwrap();
        assert_eq!(p.instances, 1000);
        assert_eq!(p.local.num_perturbations, 6000);
        assert_eq!(p.local.surrogate.hidden, vec![256, 128, 64]);
        assert_eq!(p.seed, 7);
        let bad = GliderSettings {
            perturbations: 50,
            ..Default::default()
        };
        let e = bad.check(0).unwrap_err();
        assert!(e.downcast_ref::<crate::Usage>().is_some());
        assert!(e.to_string().contains("--perturbations"), "{e}");
        let e = serde_json::from_str::<GliderSettings>(r#"{"instancez": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("instancez"), "{e}");
    }
}

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

/// The local cut-off's setting (`--local-cutoff SHARE|off`): a share in (0, 1] of the
/// instance's strongest pure effect a set must reach, or `off` for the GLIDER paper's rule
/// (every ranked interaction counts). In JSON (the Python package, config files) a number,
/// or `"off"` / `null`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LocalCutoffShare {
    /// The paper's rule: no local cut-off.
    Off,
    /// The share (checked by [`GliderSettings::check`]).
    Share(f64),
}

impl std::str::FromStr for LocalCutoffShare {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            "off" | "none" => Ok(LocalCutoffShare::Off),
            t => t
                .parse::<f64>()
                .map(LocalCutoffShare::Share)
                .map_err(|_| format!("expected a share in (0, 1] or `off`, got {t:?}")),
        }
    }
}

impl std::fmt::Display for LocalCutoffShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocalCutoffShare::Off => f.write_str("off"),
            LocalCutoffShare::Share(x) => write!(f, "{x}"),
        }
    }
}

impl Serialize for LocalCutoffShare {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            LocalCutoffShare::Off => s.serialize_str("off"),
            LocalCutoffShare::Share(x) => s.serialize_f64(*x),
        }
    }
}

impl<'de> Deserialize<'de> for LocalCutoffShare {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(LocalCutoffShare::Off),
            Some(Raw::Number(x)) => Ok(LocalCutoffShare::Share(x)),
            Some(Raw::Text(t)) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// GLIDER's settings, unchecked: what `glider detect` / `glider run` flags and
/// `glider.detect(...)` keywords give, with the same names (`--top-k` is `top_k`) and the
/// same defaults ([`Default`]). Spec 3.1–3.2 for the reference values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct GliderSettings {
    /// Instances to explain: the first N validation rows.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1000))]
    pub instances: usize,
    /// Global interactions to select and encode as crosses.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 20))]
    pub top_k: usize,
    /// A superset replaces a selected subset only if it appears in at least this share of the
    /// subset's instances (0 = the GLIDER reference rule).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.5))]
    pub superset_ratio: f64,
    /// Local detector: NID on an MLP surrogate (the GLIDER reference, any order), GradientNID
    /// (a Softplus surrogate's mixed second derivatives; pairs), or ArchDetect (pairs,
    /// model-agnostic, no surrogate; much faster).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = DetectorChoice::Nid))]
    pub detector: DetectorChoice,
    /// Pairs per instance kept by the pairwise detectors (ArchDetect, GradientNID).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 10))]
    pub archdetect_top_k: usize,
    /// Weight the perturbations with LIME's kernel of this width (the MADEX demos use 0.25;
    /// GLIDER does not weight): sqrt(exp(-d²/width²)), d the cosine distance of the mask to
    /// the instance.
    #[cfg_attr(feature = "clap", arg(long, value_name = "WIDTH"))]
    pub lime_width: Option<f64>,
    /// Local cut-off (glider's, not the paper's): score the detector's top 20 candidates at
    /// each instance, with their subsets, by their pure interaction effect on the black box
    /// (the mixed difference of that order), merge overlapping ones, keep those reaching
    /// SHARE × the instance's strongest, and report a superset instead of the subsets it
    /// explains; so a real triple is reported as the triple and three real pairs as pairs.
    /// `off` is the GLIDER paper's rule: every ranked interaction counts (BENCHMARKS.md "GLIDER
    /// on random layouts" measures both).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "SHARE|off", default_value = "0.25")
    )]
    pub local_cutoff: LocalCutoffShare,
    /// Largest interaction order the local cut-off scores (2^|S| queries per set S; a set of
    /// order 3 or 4 is scored with its subsets: 72 queries for a 4-set).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 4, value_name = "ORDER"))]
    pub cutoff_max_order: usize,
    /// Perturbations per instance (the paper: 6000). Default: 150 per field, at least 2000
    /// and at most 6000 (2100 at 14 fields, 5850 at 39).
    #[cfg_attr(feature = "clap", arg(long))]
    pub perturbations: Option<usize>,
    /// Surrogate hidden sizes, comma separated (the paper: 256,128,64).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_delimiter = ',', default_value = "128,64,32")
    )]
    pub surrogate_hidden: Vec<usize>,
    /// Surrogate L1 strength.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1e-4))]
    pub surrogate_l1: f64,
    /// Surrogate maximum epochs (training stops earlier, see --surrogate-patience).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 100))]
    pub surrogate_epochs: usize,
    /// Surrogate mini-batch size (the paper: 100).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 50))]
    pub surrogate_batch: usize,
    /// Surrogate early stopping: epochs without a better validation MSE before training
    /// stops, the best weights kept.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 5))]
    pub surrogate_patience: usize,
    /// Interactions kept per instance by NID.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 100))]
    pub local_top: usize,
    /// In an instance's NID ranking, a superset of an emitted interaction is dropped when its
    /// strength is below this share of its strongest emitted subset (0 = reference pruning).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.5))]
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
            local_cutoff: LocalCutoffShare::Share(0.25),
            cutoff_max_order: 4,
            perturbations: None,
            surrogate_hidden: vec![128, 64, 32],
            surrogate_l1: 1e-4,
            surrogate_epochs: 100,
            surrogate_batch: 50,
            surrogate_patience: 5,
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
            ("--surrogate-batch", self.surrogate_batch),
            ("--surrogate-patience", self.surrogate_patience),
            ("--local-top", self.local_top),
            ("--archdetect-top-k", self.archdetect_top_k),
        ] {
            if v == 0 {
                usage!("{flag} must be at least 1");
            }
        }
        if self.perturbations.is_some_and(|n| n < 100) {
            usage!("--perturbations must be at least 100 (the spec uses 6000)");
        }
        let defaults = LocalParams::default();
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
                num_perturbations: self.perturbations.unwrap_or(defaults.num_perturbations),
                perturbations_per_field: match self.perturbations {
                    Some(_) => 0,
                    None => defaults.perturbations_per_field,
                },
                surrogate: MlpParams {
                    hidden: self.surrogate_hidden.clone(),
                    l1: self.surrogate_l1,
                    max_epochs: self.surrogate_epochs,
                    batch_size: self.surrogate_batch,
                    patience: Some(self.surrogate_patience),
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
                    LocalCutoffShare::Off => None,
                    LocalCutoffShare::Share(s) if !(s.is_finite() && s > 0.0 && s <= 1.0) => {
                        usage!("--local-cutoff must be a share in (0, 1] or off, got {s}")
                    }
                    LocalCutoffShare::Share(share) => {
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

/// A named set of NID settings (`--preset`); any flag given beside it overrides that setting.
///
/// Measured on F1–F10 (spec 2, 10 trials per function) and on the open real tables:
/// BENCHMARKS.md "NID presets".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum NidPreset {
    /// Our best measured setting for its time: two networks (MLP-M and a plain MLP, trained
    /// at once on two cores) on a fixed schedule of 400,000 training samples (40 epochs of
    /// 10,000 rows, Adam 0.01, learning rate × 0.97 per such epoch; a larger table trains
    /// fewer epochs, at least 3, a smaller one more, at most 1,000), L1 5e-5, supersets kept only at 0.1 of their strongest
    /// subset. F1–F10 pairwise AUC 0.945 against the reference's 0.871.
    #[default]
    Best,
    /// The most accurate setting measured, about 7× `best`'s time: three networks (MLP-M,
    /// plain, MLP-M) on the 2018 schedule for 100 epochs (learning rate × 0.95 per epoch),
    /// L1 5e-5, supersets at 0.1. F1–F10 pairwise AUC 0.950.
    Thorough,
    /// The authors' released code (spec 1.1): one MLP-M network, L1 5e-5, early stopping
    /// (patience 5, at most 100 epochs), the reference pruning.
    Reference,
}

/// The settings a preset stands for (before any flag overrides them).
#[derive(Clone, Copy, Debug, PartialEq)]
struct PresetValues {
    main_effects: MainChoice,
    l1: f64,
    schedule: ScheduleChoice,
    epochs: usize,
    lr_decay: f64,
    ensemble: usize,
    mix_plain: bool,
    patience: usize,
    superset_ratio: f64,
    sample_budget: Option<u64>,
}

impl NidPreset {
    fn values(self) -> PresetValues {
        let reference = PresetValues {
            main_effects: MainChoice::Univariate,
            l1: 5e-5,
            schedule: ScheduleChoice::Early,
            epochs: 100,
            lr_decay: 0.95,
            ensemble: 1,
            mix_plain: false,
            patience: 5,
            superset_ratio: 0.0,
            sample_budget: None,
        };
        match self {
            NidPreset::Reference => reference,
            NidPreset::Best => PresetValues {
                schedule: ScheduleChoice::Fixed,
                epochs: 40,
                lr_decay: 0.97,
                ensemble: 2,
                mix_plain: true,
                superset_ratio: 0.1,
                sample_budget: Some(400_000),
                ..reference
            },
            NidPreset::Thorough => PresetValues {
                schedule: ScheduleChoice::Fixed,
                epochs: 100,
                lr_decay: 0.95,
                ensemble: 3,
                mix_plain: true,
                superset_ratio: 0.1,
                ..reference
            },
        }
    }
}

/// NID's settings on a table (spec 1), unchecked: `glider nid` flags and `glider.nid(...)`
/// keywords, same names and defaults ([`Default`]). Unset (`None`) settings take the
/// preset's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct NidOptions {
    /// Named settings: `best` (two networks, MLP-M and plain, 400,000 samples; our best
    /// measured accuracy for the time), `thorough` (three networks on the 2018 schedule, about 7×
    /// `best`'s time, the most accurate measured) or `reference` (the authors' released
    /// code: one MLP-M, early stopping). Any flag below overrides its preset value.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = NidPreset::Best))]
    pub preset: NidPreset,
    /// Main effects beside the interaction MLP: `univariate` (MLP-M, one 1-10-10-10-1 net per
    /// input), `linear` (one bias-free linear layer) or `none` (the plain MLP).
    /// Bare `--main-effects` means `univariate` [preset: univariate].
    #[cfg_attr(feature = "clap", arg(long, value_enum, num_args = 0..=1, default_missing_value = "univariate"))]
    pub main_effects: Option<MainChoice>,
    /// Hidden sizes of the interaction MLP (comma separated).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_delimiter = ',', default_value = "140,100,60,20")
    )]
    pub hidden: Vec<usize>,
    /// L1 strength on the interaction MLP's weights [preset: 5e-5].
    #[cfg_attr(feature = "clap", arg(long))]
    pub l1: Option<f64>,
    /// Training schedule: `early` (Adam 0.01, at most --epochs epochs, early stopping with
    /// --patience and the best weights restored) or `fixed` (Adam 0.01 decayed by --lr-decay
    /// per epoch for exactly --epochs epochs, as the 2018 reference code) [preset: best
    /// fixed, reference early].
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub schedule: Option<ScheduleChoice>,
    /// Maximum (early) or exact (fixed) number of epochs [preset: best 400,000 training
    /// samples, i.e. 400,000 / rows epochs (40 for 10,000 rows, at least 3, at most 1,000; 40
    /// as the cap of --schedule early), thorough and reference 100]. Given, it is exact.
    #[cfg_attr(feature = "clap", arg(long))]
    pub epochs: Option<usize>,
    /// The fixed schedule's learning-rate factor per epoch, in (0, 1] [preset: best 0.97 per
    /// 10,000 samples, thorough and reference 0.95]. Under `best`'s sample budget (no
    /// --epochs) it is per 10,000 samples: rescaled to `d^(40 / epochs)` per epoch.
    #[cfg_attr(feature = "clap", arg(long))]
    pub lr_decay: Option<f64>,
    /// How a unit's weights on a set's members are combined (spec 1.4).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = AveragingChoice::Min))]
    pub averaging: AveragingChoice,
    /// Networks trained (seeds), at once on the available cores; their interaction
    /// strengths (each divided by the member's strongest pair's) are averaged [preset: best
    /// 2, thorough 3, reference 1].
    #[cfg_attr(feature = "clap", arg(long))]
    pub ensemble: Option<usize>,
    /// In an ensemble, make every second member a plain interaction MLP (no main-effect
    /// nets): MLP-M and the plain MLP find different interactions best. `--mix-plain false`
    /// turns it off [preset: best and thorough on, reference off].
    #[cfg_attr(feature = "clap", arg(long, num_args = 0..=1, default_missing_value = "true"))]
    pub mix_plain: Option<bool>,
    /// Early stopping: epochs without a better validation loss before stopping (the
    /// `early` schedule) [preset: 5].
    #[cfg_attr(feature = "clap", arg(long))]
    pub patience: Option<usize>,
    /// Pruning: keep a superset of already ranked interactions only when its strength is at
    /// least this share of its strongest ranked subset; 0 = the reference pruning [preset:
    /// best and thorough 0.1, reference 0].
    #[cfg_attr(feature = "clap", arg(long))]
    pub superset_ratio: Option<f64>,
    /// Run MLP-Cutoff (spec 1.5) to choose how many ranked interactions are real.
    #[cfg_attr(feature = "clap", arg(long))]
    pub cutoff: bool,
    /// Cut-off: an interaction must lower the validation loss by this share of the
    /// main-effects-only loss to count.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.01))]
    pub cutoff_tolerance: f64,
    /// Cut-off: non-improving interactions in a row that end the walk.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 2))]
    pub cutoff_patience: usize,
}

impl Default for NidOptions {
    fn default() -> Self {
        NidOptions {
            preset: NidPreset::Best,
            main_effects: None,
            hidden: vec![140, 100, 60, 20],
            l1: None,
            schedule: None,
            epochs: None,
            lr_decay: None,
            averaging: AveragingChoice::Min,
            ensemble: None,
            mix_plain: None,
            patience: None,
            superset_ratio: None,
            cutoff: false,
            cutoff_tolerance: 0.01,
            cutoff_patience: 2,
        }
    }
}

impl NidOptions {
    /// The options of `preset`, nothing overridden.
    pub fn preset(preset: NidPreset) -> Self {
        NidOptions {
            preset,
            ..NidOptions::default()
        }
    }

    /// Checks the options (the preset's values where unset) and returns NID's settings for
    /// `task`.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the flag: an empty or zero layer, zero epochs or
    /// ensemble, a superset share outside [0, 1], a learning-rate decay outside (0, 1], a
    /// negative or non-finite L1.
    pub fn check(
        &self,
        task: glider_nn::additive::Task,
    ) -> Result<glider_explain::tabular::NidSettings> {
        use glider_core::nid::Averaging;
        use glider_nn::additive::{CutoffParams, MainEffects};
        let v = self.preset.values();
        let main_effects = self.main_effects.unwrap_or(v.main_effects);
        let l1 = self.l1.unwrap_or(v.l1);
        let schedule = self.schedule.unwrap_or(v.schedule);
        let epochs = self.epochs.unwrap_or(v.epochs);
        let lr_decay = self.lr_decay.unwrap_or(v.lr_decay);
        let ensemble = self.ensemble.unwrap_or(v.ensemble);
        let superset_ratio = self.superset_ratio.unwrap_or(v.superset_ratio);
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            usage!("--hidden needs at least one layer, every size at least 1");
        }
        if epochs == 0 || ensemble == 0 {
            usage!("--epochs and --ensemble must be at least 1");
        }
        if !(0.0..=1.0).contains(&superset_ratio) {
            usage!("--superset-ratio must be between 0 and 1");
        }
        if !(l1 >= 0.0 && l1.is_finite()) {
            usage!("--l1 must be a finite number >= 0");
        }
        if !(lr_decay > 0.0 && lr_decay <= 1.0) {
            usage!("--lr-decay must be in (0, 1]");
        }
        let (lr_decay, patience) = match schedule {
            ScheduleChoice::Early => (1.0, Some(self.patience.unwrap_or(v.patience))),
            ScheduleChoice::Fixed => (lr_decay, None),
        };
        Ok(glider_explain::tabular::NidSettings {
            task,
            mlp: MlpParams {
                hidden: self.hidden.clone(),
                l1,
                learning_rate: 0.01,
                lr_decay,
                batch_size: 100,
                max_epochs: epochs,
                patience,
            },
            main_effects: match main_effects {
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
            ensemble,
            mix_plain: self.mix_plain.unwrap_or(v.mix_plain),
            superset_ratio,
            // An explicit --epochs is exact.
            sample_budget: if self.epochs.is_some() {
                None
            } else {
                v.sample_budget
            },
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
    fn local_cutoff_takes_a_share_or_off() {
        let parse = |t: &str| t.parse::<LocalCutoffShare>();
        assert_eq!(parse("off"), Ok(LocalCutoffShare::Off));
        assert_eq!(parse("0.25"), Ok(LocalCutoffShare::Share(0.25)));
        assert!(parse("most").unwrap_err().contains("\"most\""));
        let json = |t: &str| serde_json::from_str::<GliderSettings>(t).map(|s| s.local_cutoff);
        assert_eq!(
            json(r#"{"local_cutoff": "off"}"#).unwrap(),
            LocalCutoffShare::Off
        );
        assert_eq!(
            json(r#"{"local_cutoff": null}"#).unwrap(),
            LocalCutoffShare::Off
        );
        assert_eq!(
            json(r#"{"local_cutoff": 0.5}"#).unwrap(),
            LocalCutoffShare::Share(0.5)
        );
        assert!(json(r#"{"local_cutoff": "sometimes"}"#).is_err());
        // Round trip through JSON, as the Python package and config files carry it.
        for v in [LocalCutoffShare::Off, LocalCutoffShare::Share(0.25)] {
            let s = GliderSettings {
                local_cutoff: v,
                ..Default::default()
            };
            let back: GliderSettings =
                serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
            assert_eq!(back, s);
        }
        let on = GliderSettings {
            local_cutoff: LocalCutoffShare::Share(0.25),
            ..Default::default()
        };
        let cutoff = on.check(0).unwrap().local.cutoff.unwrap();
        assert_eq!(cutoff.share, 0.25);
        // On by default; `off` is the paper's rule.
        assert_eq!(GliderSettings::default(), on);
        let off = GliderSettings {
            local_cutoff: LocalCutoffShare::Off,
            ..Default::default()
        };
        assert_eq!(off.check(0).unwrap().local.cutoff, None);
    }

    #[test]
    fn nid_presets_resolve_and_flags_override_them() {
        use glider_nn::additive::{MainEffects, Task};
        let t = Task::Regression;
        // The default is the `best` preset: MLP-M beside a plain MLP, 40 fixed epochs.
        let best = NidOptions::default().check(t).unwrap();
        assert_eq!(best.ensemble, 2);
        assert!(best.mix_plain);
        assert_eq!(best.main_effects, MainEffects::Univariate);
        assert_eq!(best.mlp.max_epochs, 40);
        assert_eq!(best.mlp.patience, None);
        // 400,000 samples: 40 epochs of 10,000 rows, 17 of 24,000 (the decay rescaled so
        // the learning rate ends at the same value), never fewer than 3.
        assert_eq!(best.schedule_for(10_000), best.mlp);
        let big = best.schedule_for(24_000);
        assert_eq!(big.max_epochs, 17);
        assert!((big.lr_decay.powi(17) - 0.97f64.powi(40)).abs() < 1e-9);
        assert_eq!(best.schedule_for(1_000_000).max_epochs, 3);
        assert_eq!(best.schedule_for(500).max_epochs, 800);
        let exact = NidOptions {
            epochs: Some(40),
            ..NidOptions::default()
        };
        assert_eq!(exact.check(t).unwrap().schedule_for(24_000).max_epochs, 40);
        assert!((best.mlp.lr_decay - 0.97).abs() < 1e-12);
        assert!((best.mlp.l1 - 5e-5).abs() < 1e-12);
        assert!((best.superset_ratio - 0.1).abs() < 1e-12);
        // `reference` is the authors' released code: the library's NidSettings default.
        let reference = NidOptions::preset(NidPreset::Reference).check(t).unwrap();
        assert_eq!(reference, glider_explain::tabular::NidSettings::default());
        assert_eq!(reference.mlp.patience, Some(5));
        let thorough = NidOptions::preset(NidPreset::Thorough).check(t).unwrap();
        assert_eq!((thorough.ensemble, thorough.mlp.max_epochs), (3, 100));
        // A flag beside a preset overrides only its own setting.
        let o = NidOptions {
            preset: NidPreset::Reference,
            ensemble: Some(4),
            ..NidOptions::default()
        };
        let s = o.check(t).unwrap();
        assert_eq!(s.ensemble, 4);
        assert_eq!(s.mlp.patience, Some(5));
        let o = NidOptions {
            mix_plain: Some(false),
            schedule: Some(ScheduleChoice::Early),
            ..NidOptions::default()
        };
        let s = o.check(t).unwrap();
        assert!(!s.mix_plain);
        assert_eq!((s.mlp.patience, s.mlp.lr_decay), (Some(5), 1.0));
        for (bad, flag) in [
            (
                NidOptions {
                    lr_decay: Some(0.0),
                    ..NidOptions::default()
                },
                "--lr-decay",
            ),
            (
                NidOptions {
                    superset_ratio: Some(1.5),
                    ..NidOptions::default()
                },
                "--superset-ratio",
            ),
        ] {
            let e = bad.check(t).unwrap_err();
            assert!(e.to_string().contains(flag), "{e}");
        }
        let e = serde_json::from_str::<NidOptions>(r#"{"preset": "fastest"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("fastest"), "{e}");
    }

    #[test]
    fn defaults_check_and_bad_values_name_their_flag() {
        let p = GliderSettings::default().check(7).unwrap();
        assert_eq!(p.instances, 1000);
        // The command line's defaults are the library's.
        assert_eq!(p.local, glider_explain::LocalParams::default());
        assert_eq!(p.local.perturbations_for(14), 2100);
        assert_eq!(p.local.perturbations_for(39), 5850);
        assert_eq!(p.local.perturbations_for(3), 2000);
        assert_eq!(p.local.perturbations_for(200), 6000);
        assert_eq!(p.local.surrogate.hidden, vec![128, 64, 32]);
        assert_eq!(p.local.surrogate.batch_size, 50);
        assert_eq!(p.local.surrogate.patience, Some(5));
        // The paper's settings are flags away.
        let paper = GliderSettings {
            perturbations: Some(6000),
            surrogate_hidden: vec![256, 128, 64],
            surrogate_batch: 100,
            local_cutoff: LocalCutoffShare::Off,
            ..Default::default()
        };
        assert_eq!(
            paper.check(7).unwrap().local,
            glider_explain::LocalParams::reference()
        );
        assert_eq!(p.seed, 7);
        let bad = GliderSettings {
            perturbations: Some(50),
            ..Default::default()
        };
        let e = bad.check(0).unwrap_err();
        assert!(e.downcast_ref::<crate::Usage>().is_some());
        assert!(e.to_string().contains("--perturbations"), "{e}");
        let bad = GliderSettings {
            surrogate_batch: 0,
            ..Default::default()
        };
        let e = bad.check(0).unwrap_err();
        assert!(e.to_string().contains("--surrogate-batch"), "{e}");
        let e = serde_json::from_str::<GliderSettings>(r#"{"instancez": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("instancez"), "{e}");
    }
}

/// Optimiser choice (`--optimizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerChoice {
    /// Adam.
    Adam,
    /// Adagrad.
    Adagrad,
}

/// Settings of the recommender, unchecked: the `--model`, `--embedding-dim`, … flags with
/// their defaults ([`Default`]). Unset sizes and optimiser settings take the architecture's
/// reference values (spec 3.4; [`CtrParams::for_model`]); [`ModelSettings::params`] checks.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ModelSettings {
    /// Recommender architecture: lr, fm, wdl, deepfm, dcn, xdeepfm, autoint, autoint+,
    /// fibinet, interhat [default: deepfm]. `glider run` and `glider bench models` take a
    /// comma-separated list (or `all`); `glider run`'s default is the source and lr.
    #[cfg_attr(feature = "clap", arg(long))]
    pub model: Option<String>,
    /// Embedding size.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 16))]
    pub embedding_dim: usize,
    /// DNN hidden sizes, comma separated [default: the architecture's, e.g. DeepFM
    /// 400,400,400, Wide&Deep 1024,512,256].
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub hidden: Option<Vec<usize>>,
    /// Optimiser [default: adagrad for wdl, deepfm, dcn, xdeepfm; adam otherwise].
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub optimizer: Option<OptimizerChoice>,
    /// Learning rate [default: the model's: 0.01 for lr, 0.003 for fm, 0.01 with adagrad,
    /// 0.001 for the other adam models; 0.01 with --optimizer adagrad, 0.001 with adam].
    #[cfg_attr(feature = "clap", arg(long))]
    pub lr: Option<f64>,
    /// Mini-batch size.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1024))]
    pub batch_size: usize,
    /// Maximum epochs; early stopping on validation logloss ends training before it
    /// [default: 100 for lr and fm, 50 for the others].
    #[cfg_attr(feature = "clap", arg(long))]
    pub epochs: Option<usize>,
    /// Epochs without improvement before stopping.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 2))]
    pub patience: usize,
    /// L2 penalty on the looked-up embeddings (per row, summed over fields).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub embedding_l2: f32,
    /// DCN: cross layers.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 6))]
    pub cross_layers: usize,
    /// xDeepFM: CIN layer sizes (comma separated).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_delimiter = ',', default_value = "200,200,200")
    )]
    pub cin_layers: Vec<usize>,
    /// AutoInt: attention layers.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 3))]
    pub attention_layers: usize,
    /// AutoInt, InterHAt: attention heads.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 2))]
    pub attention_heads: usize,
    /// AutoInt: output size of each attention layer, split across the heads; InterHAt: the
    /// attention width.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 64))]
    pub attention_size: usize,
    /// FiBiNET: SENET reduction ratio.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 3))]
    pub reduction_ratio: usize,
    /// InterHAt: interaction orders.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 3))]
    pub orders: usize,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            model: None,
            embedding_dim: 16,
            hidden: None,
            optimizer: None,
            lr: None,
            batch_size: 1024,
            epochs: None,
            patience: 2,
            embedding_l2: 0.0,
            cross_layers: 6,
            cin_layers: vec![200, 200, 200],
            attention_layers: 3,
            attention_heads: 2,
            attention_size: 64,
            reduction_ratio: 3,
            orders: 3,
        }
    }
}

impl ModelSettings {
    /// The architectures `model` names (one or more, comma separated, no repeats; `all`).
    ///
    /// # Errors
    /// A [`crate::Usage`] error for an unknown or repeated name, or none.
    pub fn kinds(&self) -> Result<Vec<ModelKind>> {
        let list = self.model.as_deref().unwrap_or("deepfm");
        if list.trim().eq_ignore_ascii_case("all") {
            return Ok(ModelKind::ALL.to_vec());
        }
        let mut out = Vec::new();
        for name in list.split(',').filter(|s| !s.trim().is_empty()) {
            let kind: ModelKind = match name.parse() {
                Ok(k) => k,
                Err(e) => usage!("--model: {e}"),
            };
            if out.contains(&kind) {
                usage!("--model names {kind} twice");
            }
            out.push(kind);
        }
        if out.is_empty() {
            usage!("--model needs an architecture");
        }
        Ok(out)
    }

    /// The one architecture of a command that trains a single model.
    ///
    /// # Errors
    /// As [`ModelSettings::kinds`]; a [`crate::Usage`] error for a list.
    pub fn single(&self) -> Result<ModelKind> {
        let kinds = self.kinds()?;
        if kinds.len() > 1 {
            usage!(
                "--model takes one architecture here, got {}; only `glider run` takes a list",
                self.model.as_deref().unwrap_or_default()
            );
        }
        Ok(kinds[0])
    }

    /// Training settings of `kind`: its reference values, overridden by the settings given,
    /// checked by [`check_ctr_params`].
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the invalid setting.
    pub fn params(&self, kind: ModelKind) -> Result<CtrParams> {
        use glider_nn::sparse::OptimizerKind;
        let mut p = CtrParams::for_model(kind);
        p.embedding_dim = self.embedding_dim;
        if let Some(h) = &self.hidden {
            p.hidden = h.clone();
        }
        if let Some(o) = self.optimizer {
            let optimizer = match o {
                OptimizerChoice::Adam => OptimizerKind::Adam,
                OptimizerChoice::Adagrad => OptimizerKind::Adagrad,
            };
            if optimizer != p.optimizer && self.lr.is_none() {
                p.learning_rate = match optimizer {
                    OptimizerKind::Adam => 1e-3,
                    OptimizerKind::Adagrad => 0.01,
                };
            }
            p.optimizer = optimizer;
        }
        if let Some(lr) = self.lr {
            p.learning_rate = lr;
        }
        p.batch_size = self.batch_size;
        if let Some(epochs) = self.epochs {
            p.max_epochs = epochs;
        }
        p.patience = self.patience;
        p.embedding_l2 = self.embedding_l2;
        p.cross_layers = self.cross_layers;
        p.cin_layers = self.cin_layers.clone();
        p.attention_layers = self.attention_layers;
        p.attention_heads = self.attention_heads;
        p.attention_size = self.attention_size;
        p.reduction_ratio = self.reduction_ratio;
        p.interhat_orders = self.orders;
        check_ctr_params(kind, &p)?;
        Ok(p)
    }
}

/// How each target's crosses are chosen (`--cross-selection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SelectionChoice {
    /// Every top-K interaction becomes a cross (spec 3.3).
    None,
    /// Crosses kept per target on validation logloss.
    Validation,
}

/// How `glider run` turns interactions into crosses and chooses them per target, unchecked
/// (the `--bins`, `--cross-*` and `--selection-*` flags, [`Default`] = their defaults).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct CrossSettings {
    /// Bins of a numeric member of a cross: about equal row counts, a value holding many rows
    /// (a mass of zeros) in a bin of its own. Coarser than the field's own encoding, since
    /// per-value members make crosses too sparse; 100 is the GLIDER reference.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 8))]
    pub bins: usize,
    /// A cross tuple gets its own id when seen more than this many times in the training
    /// rows: N = max(N, 1e-4 × rows) (the reference rule); `auto` = max(10, 1e-4 × rows,
    /// 1.5 × √rows) (about 300 on 40k rows: better on Adult and Criteo 10k, worse where
    /// strong interactions have many tuples, BENCHMARKS.md).
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value = "10", value_name = "N|auto")
    )]
    pub cross_min_count: glider_data::cross::CrossMinCount,
    /// When N > 0, a cross's tuples below the min count share N hashed buckets (their own
    /// embedding rows) instead of being dropped; independent of --hash-buckets, which hashes
    /// the categorical fields themselves. 0 = drop them (the reference).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub cross_hash_buckets: usize,
    /// How each target's crosses are chosen: `validation` keeps a candidate only when it
    /// lowers that target's validation logloss (scored on the frozen baseline in rank order),
    /// then retrains with that set and with every candidate and keeps whichever is lower on
    /// validation, if below the baseline (the test rows are never used); `none` appends the
    /// top-K as the paper does.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = SelectionChoice::Validation))]
    pub cross_selection: SelectionChoice,
    /// L2 on a candidate cross's tuple weights while it is scored (in rows).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 5.0))]
    pub selection_l2: f64,
    /// A candidate cross is kept when it lowers validation logloss by more than this (nats
    /// per row).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1e-4))]
    pub selection_min_gain: f64,
    /// ...and by more than this many standard errors of the per-row differences.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 2.0))]
    pub selection_z: f64,
    /// The retrained model with the crosses replaces the baseline only when its validation
    /// logloss is lower by more than this many standard errors of the per-row differences
    /// (0 = any improvement; 0.5 measured best on Criteo 10k, BENCHMARKS.md).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.5))]
    pub confirm_z: f64,
    /// The confirming retrains also try each set with tuples kept only when seen more than
    /// this × √(training rows) times (about 300 on 40k rows), and validation decides which
    /// min count each target gets; 0 = only --cross-min-count.
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 1.5, value_name = "COEF")
    )]
    pub coarse_min_count_sqrt: f64,
    /// A candidate set of three or more fields whose kept tuples cover less than this share
    /// of the training rows is replaced by its pairs before the selection (0 = off; with
    /// `--cross-selection validation` only). Sets holding two ID-like fields (user and item)
    /// cross into nothing; their pairs can pay (BENCHMARKS.md, MovieLens).
    #[cfg_attr(
        feature = "clap",
        arg(long, default_value_t = 0.5, value_name = "SHARE")
    )]
    pub split_below_coverage: f64,
    /// How the +GLIDER arm's cross embeddings start: `normal` as every other field's, or
    /// `zero` (the model starts as if it had no crosses). A model started from its baseline
    /// (`--cross-start baseline|frozen`) starts its cross rows at zero either way.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = CrossInitChoice::Normal))]
    pub cross_init: CrossInitChoice,
    /// Extra L2 on the cross fields' looked-up embeddings, added to --embedding-l2 for them.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0, value_name = "L2"))]
    pub cross_l2: f32,
    /// Which part of a model the crosses feed: `full` (like any field), `linear` (the
    /// first-order term only, for FM, Wide&Deep, DeepFM, xDeepFM and FiBiNET; the others
    /// take them in full) or `auto`: FM's confirming retrains try both and validation
    /// decides, the others take them in full (as does FM with `--cross-selection none`);
    /// BENCHMARKS.md, "Cross embeddings that start harmless".
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = CrossPartChoice::Auto))]
    pub cross_part: CrossPartChoice,
    /// Where the +GLIDER arm's model starts: `scratch` (a fresh model with the crosses) or
    /// `baseline` (each trial's baseline model, fine-tuned with the crosses added, which
    /// starts as the baseline exactly and keeps it unless an epoch beats it on validation;
    /// LR, FM, Wide&Deep and DeepFM, the others start from scratch), or `frozen` (the
    /// baseline with only the crosses' embeddings trained).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = CrossStartChoice::Scratch))]
    pub cross_start: CrossStartChoice,
}

/// Where the +GLIDER arm's model starts (`--cross-start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CrossStartChoice {
    /// A fresh model, trained from scratch with the crosses.
    Scratch,
    /// The trial's baseline model, fine-tuned with the crosses added.
    Baseline,
    /// The trial's baseline model with only the crosses' embeddings trained.
    Frozen,
}

/// How cross embeddings start (`--cross-init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CrossInitChoice {
    /// The normal initialisation of every embedding row.
    Normal,
    /// Zero: the model starts as if it had no crosses.
    Zero,
}

/// Which part of a model the crosses feed (`--cross-part`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CrossPartChoice {
    /// Every part, like the data's own fields.
    Full,
    /// The first-order term only, where the architecture has one.
    Linear,
    /// FM tries both on validation; the others take the crosses in full.
    Auto,
}

impl Default for CrossSettings {
    fn default() -> Self {
        CrossSettings {
            bins: 8,
            cross_min_count: glider_data::cross::CrossMinCount::AtLeast(10),
            cross_hash_buckets: 0,
            cross_selection: SelectionChoice::Validation,
            selection_l2: 5.0,
            selection_min_gain: 1e-4,
            selection_z: 2.0,
            confirm_z: 0.5,
            coarse_min_count_sqrt: 1.5,
            split_below_coverage: 0.5,
            cross_init: CrossInitChoice::Normal,
            cross_l2: 0.0,
            cross_part: CrossPartChoice::Auto,
            cross_start: CrossStartChoice::Scratch,
        }
    }
}

impl CrossSettings {
    /// The crossing options (spec 3.3 with glider's coarser numeric bins).
    ///
    /// # Errors
    /// A [`crate::Usage`] error when `bins` < 2.
    pub fn cross_options(&self) -> Result<glider_data::cross::CrossOptions> {
        if self.bins < 2 {
            usage!("--bins must be at least 2");
        }
        Ok(self
            .cross_min_count
            .apply(glider_data::cross::CrossOptions {
                dense_bins: self.bins,
                hash_buckets: self.cross_hash_buckets,
                ..glider_data::cross::CrossOptions::default()
            }))
    }

    /// How the +GLIDER arm trains its cross embeddings (its `fields` and `linear_only` are set
    /// per retrain by the pipeline, from [`CrossSettings::cross_part`]).
    ///
    /// # Errors
    /// A [`crate::Usage`] error when `--cross-l2` is negative or not finite.
    pub fn cross_embedding(&self) -> Result<glider_nn::params::CrossEmbedding> {
        if !(self.cross_l2 >= 0.0 && self.cross_l2.is_finite()) {
            usage!("--cross-l2 must be a number >= 0");
        }
        Ok(glider_nn::params::CrossEmbedding {
            fields: 0,
            zero_init: self.cross_init == CrossInitChoice::Zero,
            l2: self.cross_l2,
            linear_only: false,
        })
    }

    /// The selection parameters, checked.
    ///
    /// # Errors
    /// A [`crate::Usage`] error naming the invalid setting.
    pub fn selection_params(&self) -> Result<glider_explain::select::SelectionParams> {
        use glider_explain::select::{CrossSelection, SelectionParams};
        let params = SelectionParams {
            mode: match self.cross_selection {
                SelectionChoice::None => CrossSelection::None,
                SelectionChoice::Validation => CrossSelection::Validation,
            },
            l2: self.selection_l2,
            min_gain: self.selection_min_gain,
            z: self.selection_z,
            confirm_z: self.confirm_z,
            coarse_min_count_sqrt: self.coarse_min_count_sqrt,
            split_below_coverage: self.split_below_coverage,
        };
        if let Err(e) = params.validate() {
            usage!(
                "--selection-l2 / --selection-min-gain / --selection-z / --confirm-z / \
                 --coarse-min-count-sqrt / --split-below-coverage: {e}"
            );
        }
        Ok(params)
    }
}

//! The whole GLIDER job behind `glider run` (spec 3): train the source recommender, explain it
//! with GLIDER, encode the top global interactions as cross features (truncated sparse
//! crossing), train every target architecture with and without them, and compare test AUC and
//! logloss over paired trials (the paper's table: one source, AutoInt there, several targets;
//! distillation when a target differs from the source, enhancement when it is the source).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use glider_core::aggregate::CountedInteraction;
use glider_core::metrics::{mean_std, paired_t_test, PairedTest};
use glider_data::cross::{
    apply_crosses, fit_crosses_at, split_sparse_sets, CrossOptions, CrossSpec, SplitSet,
};
use glider_data::Column;
use glider_data::{Dataset, EncoderOptions, InputEncoder, Progress, Split};
use glider_nn::ctr::{self, CtrParams, ModelKind, Recommender};

use crate::blackbox::ModelBlackBox;
use crate::global::{detect_global, GliderParams, GlobalDetection};
use crate::select::{
    forward_select, recovered_share, CandidateCodes, CrossSelection, SelectionParams,
    SelectionTrace,
};
use crate::{derive_seed, ExplainError};

/// A target model: trained with and without the crosses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetConfig {
    /// The architecture.
    pub model: ModelKind,
    /// Its training settings.
    pub ctr: CtrParams,
}

/// Everything `glider run` is configured with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The source: the architecture GLIDER explains.
    pub model: ModelKind,
    /// Its training settings.
    pub ctr: CtrParams,
    /// The targets, in report order (empty = the source alone).
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    /// Vocabulary settings.
    pub encoder: EncoderOptions,
    /// GLIDER's settings.
    pub glider: GliderParams,
    /// Crossing settings.
    pub cross: CrossOptions,
    /// How the crosses are chosen per target (default: on validation; `None` = the paper's
    /// fixed top-K).
    #[serde(default)]
    pub selection: SelectionParams,
    /// Interactions given instead of detected (field names per interaction, in rank order):
    /// GLIDER's detection is skipped and these go through the same crossing, selection and
    /// trials (for example another detector's pairs).
    #[serde(default)]
    pub interactions: Option<Vec<Vec<String>>>,
    /// How the +GLIDER arm trains its cross fields' embeddings (zero start, own L2); its
    /// `fields` and `linear_only` are set per retrain by the pipeline (`linear_only` from
    /// `cross_part`).
    #[serde(default)]
    pub cross_embedding: glider_nn::params::CrossEmbedding,
    /// Which part of each target the crosses feed (default [`CrossPart::Auto`]).
    #[serde(default)]
    pub cross_part: CrossPart,
    /// Where the +GLIDER arm's models start (default: from scratch).
    #[serde(default)]
    pub cross_start: CrossStart,
    /// Paired trials of baseline vs +GLIDER (5 in the paper).
    pub trials: usize,
    /// Seed of the run: trial `t` trains with a seed derived from it, for both arms.
    pub seed: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            model: ModelKind::DeepFm,
            ctr: CtrParams::default(),
            targets: Vec::new(),
            encoder: EncoderOptions::default(),
            glider: GliderParams::default(),
            cross: CrossOptions::default(),
            selection: SelectionParams::default(),
            interactions: None,
            cross_embedding: glider_nn::params::CrossEmbedding::default(),
            cross_start: CrossStart::Scratch,
            cross_part: CrossPart::Auto,
            trials: 5,
            seed: 0,
        }
    }
}

/// Where the +GLIDER arm's models start (issue 15, "cross embeddings that start harmless").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrossStart {
    /// A fresh model trained with the crosses (the paper's retraining, spec 3.3).
    #[default]
    Scratch,
    /// Each trial's baseline model fine-tuned with the crosses added ([`ctr::fine_tune`]),
    /// for the architectures that support it ([`ctr::supports_warm_start`]: LR, FM,
    /// Wide&Deep, DeepFM); the others start from scratch.
    Baseline,
    /// As `Baseline`, with only the crosses' embedding rows trained.
    Frozen,
}

/// Which part of a target model the crosses feed (issue 15, measured in BENCHMARKS.md, "Cross
/// embeddings that start harmless").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrossPart {
    /// Every part, like the data's own fields (the paper's retraining, spec 3.3).
    Full,
    /// The first-order term only, for architectures with one beside their other parts (FM,
    /// Wide&Deep, DeepFM, xDeepFM, FiBiNET): the cross rows' factor columns stay zero, so
    /// the FM, DNN and CIN parts never see them. The others take the crosses in full.
    Linear,
    /// FM's confirming retrains try both and validation decides (FM gained more with
    /// linear-only crosses on Criteo 10k, Avazu 9k and Adult, less on Frappe); the other
    /// architectures take the crosses in full, and so does FM without the selection
    /// ([`CrossSelection::None`]: nothing is confirmed). The default.
    #[default]
    Auto,
}

impl CrossPart {
    /// The parts a `kind` target's confirming retrains try: `false` = full, `true` = the
    /// linear term only.
    pub fn tried(self, kind: ModelKind) -> Vec<bool> {
        let has = kind.has_linear() && kind != ModelKind::Lr;
        match self {
            CrossPart::Full => vec![false],
            CrossPart::Linear => vec![has],
            CrossPart::Auto if kind == ModelKind::Fm => vec![false, true],
            CrossPart::Auto => vec![false],
        }
    }
}

/// Where the pipeline reports what it is doing (the CLI draws progress bars).
pub trait Reporter: Sync {
    /// A new long step; the returned sink receives its progress.
    fn stage(&self, name: &str) -> Box<dyn Progress + '_>;
    /// A line of information.
    fn note(&self, message: &str);
}

/// A [`Reporter`] that stays silent.
pub struct Silent;

impl Reporter for Silent {
    fn stage(&self, _name: &str) -> Box<dyn Progress + '_> {
        Box::new(glider_data::NoProgress)
    }
    fn note(&self, _message: &str) {}
}

/// An interaction as the JSON outputs give it: field names and a count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedInteraction {
    /// Field names, in field order.
    pub fields: Vec<String>,
    /// Number of instances whose local explanation contained this set.
    pub count: usize,
}

/// `global_interactions.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalInteractionsFile {
    /// The dataset's fields.
    pub fields: Vec<String>,
    /// Instances asked for.
    pub instances: usize,
    /// Instances whose detection failed.
    pub failed: Vec<usize>,
    /// The selected top-K interactions, most frequent first.
    pub interactions: Vec<NamedInteraction>,
    /// Field-by-field interaction strength: per instance, the share of its local interaction
    /// strength held by interactions containing both fields, averaged over the explained
    /// instances (`fields × fields`, row-major, symmetric). See
    /// [`crate::global::pair_strength`]. Empty in files written before it existed.
    #[serde(default)]
    pub pair_strength: Vec<f64>,
}

/// Test metrics of one trained model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    /// ROC-AUC on the test rows.
    pub auc: f64,
    /// Logloss on the test rows.
    pub logloss: f64,
}

/// Mean and standard deviation over trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    /// Mean test AUC.
    pub auc_mean: f64,
    /// Sample standard deviation of test AUC.
    pub auc_std: f64,
    /// Mean test logloss.
    pub logloss_mean: f64,
    /// Sample standard deviation of test logloss.
    pub logloss_std: f64,
    /// Every trial, in seed order.
    pub trials: Vec<TestMetrics>,
}

impl ArmSummary {
    fn from_trials(trials: Vec<TestMetrics>) -> Self {
        let aucs: Vec<f64> = trials.iter().map(|t| t.auc).collect();
        let lls: Vec<f64> = trials.iter().map(|t| t.logloss).collect();
        let (auc_mean, auc_std) = mean_std(&aucs);
        let (logloss_mean, logloss_std) = mean_std(&lls);
        ArmSummary {
            auc_mean,
            auc_std,
            logloss_mean,
            logloss_std,
            trials,
        }
    }
}

/// Baseline vs +GLIDER for one target model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// Architecture name.
    pub model: String,
    /// Without cross features.
    pub baseline: ArmSummary,
    /// With the K cross features appended.
    pub enhanced: ArmSummary,
    /// Paired t-test of enhanced − baseline test AUC (two-sided); `None` with one trial.
    pub auc_gain: Option<PairedTest>,
    /// Its p-value (duplicated for the report's flat schema).
    pub auc_gain_p_value: Option<f64>,
    /// Paired t-test of enhanced − baseline test logloss.
    pub logloss_change: Option<PairedTest>,
    /// The cross fields this target was trained with in its +GLIDER arm, in rank order.
    #[serde(default)]
    pub kept_crosses: Vec<String>,
    /// The count a tuple of those crosses had to exceed in the training rows to get its own
    /// id (the crossing's, or the coarser one validation chose); `None` when none is kept.
    #[serde(default)]
    pub cross_min_count: Option<f64>,
    /// Whether the kept crosses feed the linear term only ([`CrossPart`]).
    #[serde(default)]
    pub cross_linear_only: bool,
    /// Candidate crosses offered to this target.
    #[serde(default)]
    pub candidate_crosses: usize,
    /// The selection on validation, when it ran.
    #[serde(default)]
    pub selection: Option<TargetSelection>,
    /// One line on what was kept and why, e.g. "no cross improved deepfm on validation;
    /// +GLIDER = baseline".
    #[serde(default)]
    pub verdict: String,
    /// For a simple target (LR, FM, Wide&Deep) other than the source: the share of the
    /// source's lift that the crosses recover. `None` for other targets.
    #[serde(default)]
    pub distillation: Option<Distillation>,
}

/// How one target's crosses were chosen on validation ([`crate::select`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetSelection {
    /// The forward selection on the frozen baseline (the validation curve).
    pub trace: SelectionTrace,
    /// Validation logloss of the baseline model (trial 1), as the models measure it.
    pub baseline_validation_logloss: f64,
    /// Validation logloss of the target retrained with the forward selection's crosses
    /// (trial 1); `None` when the forward selection kept nothing.
    pub retrained_validation_logloss: Option<f64>,
    /// Validation logloss of the target retrained with every candidate (trial 1); `None`
    /// when the forward selection already kept them all.
    #[serde(default)]
    pub all_validation_logloss: Option<f64>,
    /// Which set the +GLIDER arm uses: `"selected"`, `"all"` or `"none"` (whichever
    /// retrained model has the lowest validation logloss, if below the baseline's).
    #[serde(default)]
    pub chosen: String,
    /// Whether a retrained model beat the baseline on validation (`chosen` is not `"none"`):
    /// its validation logloss is lower by more than `confirm_z` standard errors of the
    /// per-row differences ([`crate::select::SelectionParams::confirm_z`]).
    pub confirmed: bool,
    /// The best retrained model's paired z on validation: the baseline's mean per-row
    /// logloss minus the retrained model's, over the standard error of the per-row
    /// differences; `None` when nothing was retrained.
    #[serde(default)]
    pub confirm_z: Option<f64>,
    /// Every retrain of trial 1 that was compared, in the order tried.
    #[serde(default)]
    pub retrains: Vec<RetrainScore>,
}

/// One retrain of a target's trial 1 with a candidate cross set, while the sets are compared
/// on validation (issue 15).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetrainScore {
    /// `"selected"` (the forward selection's crosses) or `"all"` (every candidate).
    pub set: String,
    /// Crosses in the set.
    pub crosses: usize,
    /// The count a tuple had to exceed in the training rows to get its own id in these
    /// crosses ([`glider_data::cross::CrossSpec::min_count`]).
    pub min_count: f64,
    /// Validation logloss of the retrained model (nats per row).
    pub validation_logloss: f64,
    /// The baseline's validation logloss minus this model's, over the standard error of the
    /// per-row differences; `None` when it cannot be computed.
    pub z: Option<f64>,
    /// Whether the crosses fed the linear term only ([`CrossPart`]).
    #[serde(default)]
    pub linear_only: bool,
}

/// The share of the source's lift over a simple target that its crosses recover (issue 15):
/// per trial `(target+GLIDER − target) / (source − target mean)` in test AUC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Distillation {
    /// The source's test AUC minus the target's baseline mean.
    pub source_lift: f64,
    /// Mean share over trials; `None` ("n/a") when the source is not better than the target.
    pub share_mean: Option<f64>,
    /// Sample standard deviation of the per-trial shares.
    pub share_std: Option<f64>,
    /// Per-trial shares (empty for "n/a").
    pub shares: Vec<f64>,
}

impl Distillation {
    /// The share as the summary prints it: "42% ± 5%" or "n/a".
    pub fn describe(&self) -> String {
        match (self.share_mean, self.share_std) {
            (Some(m), Some(s)) if s.is_finite() && self.shares.len() > 1 => {
                format!("{:.0}% ± {:.0}%", 100.0 * m, 100.0 * s)
            }
            (Some(m), _) => format!("{:.0}%", 100.0 * m),
            _ => "n/a".to_string(),
        }
    }
}

/// Row counts of the split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Training rows.
    pub train: usize,
    /// Validation rows.
    pub validation: usize,
    /// Test rows.
    pub test: usize,
}

/// Wall time of each stage, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct StageSeconds {
    /// Training the source model.
    pub train: f64,
    /// GLIDER's global detection.
    pub detect: f64,
    /// Fitting and applying the crosses.
    pub encode: f64,
    /// Every other training: the targets' baseline and +GLIDER trials (the selection's
    /// scoring excluded).
    pub retrain: f64,
    /// Scoring the candidate crosses on validation, every target together.
    #[serde(default)]
    pub select: f64,
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Where the data came from.
    pub dataset: String,
    /// The model GLIDER explained.
    #[serde(default)]
    pub source_model: String,
    /// The source model's test AUC and logloss (the one explained).
    #[serde(default)]
    pub source_test: Option<TestMetrics>,
    /// Rows per part.
    pub rows: RowCounts,
    /// The dataset's fields (before crossing).
    pub fields: Vec<String>,
    /// The selected global interactions.
    pub global_interactions: Vec<NamedInteraction>,
    /// Instances whose detection failed (skipped).
    pub failed_instances: Vec<usize>,
    /// Per target model: baseline vs +GLIDER.
    pub targets: Vec<TargetReport>,
    /// Paired trials.
    pub trials: usize,
    /// Instances explained (asked for).
    pub instances: usize,
    /// Median over instances of the surrogate's held-out R² (1 − MSE / variance of logits).
    pub surrogate_median_r2: Option<f64>,
    /// Cross features appended, with their kept tuple counts.
    pub crosses: Vec<(String, usize)>,
    /// Interactions too sparse to cross, replaced by their pairs before the selection
    /// ([`crate::select::SelectionParams::split_below_coverage`]), with the share of training rows their
    /// tuples covered.
    #[serde(default)]
    pub split_sets: Vec<SplitSet>,
    /// Wall time per stage.
    pub seconds: StageSeconds,
    /// The full configuration.
    pub config: RunConfig,
    /// The source model's own interaction map, when it has one (AutoInt, AutoInt+, FiBiNET,
    /// InterHAt): its symmetric pair scores averaged over the explained instances, to read
    /// beside GLIDER's `pair_strength`.
    #[serde(default)]
    pub source_maps: Option<SourceMaps>,
}

/// An attention model's pair scores over the explained instances (spec 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceMaps {
    /// How a pair's score is made from the model's maps.
    pub rule: String,
    /// Symmetric pair scores, `fields × fields`, row-major.
    pub pair_scores: Vec<f64>,
}

/// Everything a run produces.
pub struct RunOutput {
    /// `report.json`.
    pub report: RunReport,
    /// `global_interactions.json`.
    pub global: GlobalInteractionsFile,
    /// `crosses.json`: every candidate cross at the crossing's min count.
    pub crosses: CrossSpec,
    /// Per target that kept crosses (in the order of the targets), its model name and the
    /// crossing it was measured with: the kept crosses only, at the min count it chose
    /// (`crosses.<target>.json`; `glider encode --apply` reproduces that encoding).
    pub target_crosses: Vec<(String, CrossSpec)>,
    /// The global detection with its local explanations.
    pub detection: GlobalDetection,
}

/// Test AUC and logloss of `model` on `rows` of `data`.
///
/// # Errors
/// [`ExplainError::Config`] when the test rows hold one class only (AUC undefined).
pub fn evaluate(
    model: &dyn Recommender,
    data: &Dataset,
    rows: &[usize],
) -> Result<TestMetrics, ExplainError> {
    let batch = model.encoder().encode_rows(data, rows);
    let logits = model.predict_logits(&batch)?;
    let labels: Vec<f32> = rows.iter().map(|&r| data.labels[r]).collect();
    let (ll, auc) = ctr::logit_metrics(&labels, &logits);
    let auc = auc.ok_or_else(|| {
        ExplainError::Config(format!(
            "the {} test rows hold only one class: AUC is undefined",
            rows.len()
        ))
    })?;
    let ll = ll.ok_or_else(|| ExplainError::Config("no test rows".into()))?;
    Ok(TestMetrics { auc, logloss: ll })
}

/// What the journal's fingerprint covers: the data, the split, every setting and the seed.
pub fn run_fingerprint(data: &Dataset, split: &Split, config: &RunConfig) -> String {
    let config = serde_json::to_string(config).unwrap_or_default();
    let split = serde_json::to_string(split).unwrap_or_default();
    let shape = format!(
        "{}:{}x{}:{:?}",
        data.source,
        data.num_rows(),
        data.num_fields(),
        data.field_names()
    );
    crate::journal::fingerprint(&[&shape, &split, &config])
}

/// Runs the whole job on `data` split by `split`. With a `journal`, GLIDER's finished
/// instances are recorded as they complete and instances already in it are not redone (the
/// source model is retrained from its seed, which gives the same model).
///
/// # Errors
/// Any stage's error; failed instances of the detection are skipped and reported, not fatal.
pub fn run(
    data: &Dataset,
    split: &Split,
    config: &RunConfig,
    reporter: &dyn Reporter,
    journal: Option<&crate::journal::Journal>,
) -> Result<RunOutput, ExplainError> {
    if config.trials == 0 {
        return Err(ExplainError::Config("--trials must be at least 1".into()));
    }
    if config.glider.instances == 0 {
        return Err(ExplainError::Config(
            "--instances must be at least 1".into(),
        ));
    }
    let mut seconds = StageSeconds::default();
    let encoder = InputEncoder::fit(data, &split.train, &config.encoder)?;
    let trial_seed = |t: usize| derive_seed(config.seed, 1000 + t as u64);
    let train_one = |target: &TargetConfig,
                     d: &Dataset,
                     enc: &InputEncoder,
                     t: usize,
                     label: &str,
                     from: Option<&dyn Recommender>,
                     linear_only: bool| {
        let stage = reporter.stage(label);
        // Crosses are appended after the data's own fields.
        let crossed;
        let params = if d.num_fields() > data.num_fields() {
            crossed = CtrParams {
                cross: glider_nn::params::CrossEmbedding {
                    fields: d.num_fields() - data.num_fields(),
                    linear_only,
                    ..config.cross_embedding.clone()
                },
                ..target.ctr.clone()
            };
            &crossed
        } else {
            &target.ctr
        };
        // Fine-tuned from `from` where the setting and the architecture allow it.
        let warm = from
            .filter(|_| {
                config.cross_start != CrossStart::Scratch && ctr::supports_warm_start(target.model)
            })
            .map(|base| (base, config.cross_start == CrossStart::Frozen));
        ctr::train_from(
            target.model,
            d,
            &split.train,
            &split.validation,
            enc,
            params,
            trial_seed(t),
            stage.as_ref(),
            warm,
        )
    };
    let source_config = TargetConfig {
        model: config.model,
        ctr: config.ctr.clone(),
    };
    let targets: Vec<TargetConfig> = if config.targets.is_empty() {
        vec![source_config.clone()]
    } else {
        config.targets.clone()
    };

    // 1. The source model (trial 1's seed, so it is also that trial's baseline when the source
    //    is among the targets).
    let t0 = Instant::now();
    let source = train_one(
        &source_config,
        data,
        &encoder,
        0,
        &format!("train source {}", config.model.name()),
        None,
        false,
    )?;
    let source_test = evaluate(source.as_ref(), data, &split.test)?;
    seconds.train = t0.elapsed().as_secs_f64();
    reporter.note(&format!(
        "source model {}: test AUC {:.4}, logloss {:.4} (best epoch {})",
        config.model.name(),
        source_test.auc,
        source_test.logloss,
        source.best_epoch()
    ));
    if let Some(w) = glider_nn::ctr::epoch_cap_warning(
        config.model.name(),
        source.best_epoch(),
        config.ctr.max_epochs,
    ) {
        reporter.note(&w);
    }
    // 2. GLIDER on the first N validation rows, or the interactions given.
    let t0 = Instant::now();
    let given = given_interactions(data, config)?;
    let n = if given.is_some() {
        0
    } else {
        config.glider.instances.min(split.validation.len())
    };
    if given.is_none() && n < config.glider.instances {
        reporter.note(&format!(
            "only {n} validation rows: explaining {n} instances instead of {}",
            config.glider.instances
        ));
    }
    let instance_rows = &split.validation[..n];
    let source_maps = if config.model.has_interaction_maps() && n > 0 {
        let batch = encoder.encode_rows(data, instance_rows);
        source.interaction_maps(&batch)?.map(|m| SourceMaps {
            rule: m.rule,
            pair_scores: m.pair_scores,
        })
    } else {
        None
    };
    let detection = match given {
        Some(selected) => {
            reporter.note(&format!(
                "{} interactions given: GLIDER's detection skipped",
                selected.len()
            ));
            GlobalDetection {
                explained: 0,
                failed: Vec::new(),
                counted: selected.clone(),
                selected,
                locals: Vec::new(),
                stopped: None,
            }
        }
        None => {
            let black_box = ModelBlackBox::new(source.as_ref());
            let stage = reporter.stage("GLIDER: explaining instances");
            let detection = detect_global(
                &black_box,
                data,
                instance_rows,
                &config.glider,
                stage.as_ref(),
                journal,
                0,
            );
            if detection.explained == 0 {
                let first = detection
                    .failed
                    .first()
                    .map(|(_, why)| why.clone())
                    .unwrap_or_default();
                return Err(ExplainError::Config(format!(
                    "every instance failed; the first: {first}"
                )));
            }
            detection
        }
    };
    seconds.detect = t0.elapsed().as_secs_f64();
    let names = data.field_names();
    let named: Vec<NamedInteraction> = detection
        .selected
        .iter()
        .map(|c| NamedInteraction {
            fields: c.features.iter().map(|&f| names[f].clone()).collect(),
            count: c.count,
        })
        .collect();
    let mut r2: Vec<f64> = detection
        .locals
        .iter()
        .filter(|l| l.logit_variance > 0.0)
        .map(|l| 1.0 - l.surrogate_test_mse / l.logit_variance)
        .collect();
    r2.sort_by(f64::total_cmp);
    let surrogate_median_r2 = r2.get(r2.len() / 2).copied();

    // 3. Crosses from the selected interactions: the candidates of every target.
    let t0 = Instant::now();
    let mut sets: Vec<Vec<usize>> = detection
        .selected
        .iter()
        .map(|c| c.features.clone())
        .collect();
    // Sets too sparse to cross (two ID-like members) become their pairs.
    let mut split_sets = Vec::new();
    if config.selection.mode == CrossSelection::Validation
        && config.selection.split_below_coverage > 0.0
    {
        (sets, split_sets) = split_sparse_sets(
            data,
            &split.train,
            &sets,
            &config.cross,
            config.selection.split_below_coverage,
        )?;
    }
    // With the selection on, the same crosses at a coarser min count too, for the confirming
    // retrains to try (one count of the tuples serves both).
    let mut sqrts = vec![config.cross.min_count_sqrt];
    if config.selection.mode == CrossSelection::Validation
        && config.selection.coarse_min_count_sqrt > 0.0
    {
        sqrts.push(
            config
                .cross
                .min_count_sqrt
                .max(config.selection.coarse_min_count_sqrt),
        );
    }
    let mut specs = fit_crosses_at(data, &split.train, &sets, &config.cross, &sqrts)?;
    let crosses = specs.remove(0);
    let coarse = specs
        .pop()
        .filter(|spec| spec.min_count > crosses.min_count);
    let mut candidate_data = data.clone();
    apply_crosses(&mut candidate_data, &crosses)?;
    seconds.encode = t0.elapsed().as_secs_f64();

    // 4. Per target: the baseline of trial 1, the crosses chosen on validation, then paired
    //    trials of baseline vs +GLIDER.
    let t0 = Instant::now();
    let mut select_seconds = 0.0;
    let mut reports = Vec::with_capacity(targets.len());
    let mut target_crosses = Vec::new();
    for target in &targets {
        let name = target.model.name();
        // Models of this target whose best epoch was the last allowed.
        let mut at_cap = 0usize;
        let mut trained = 0usize;
        let mut count_cap = |m: &dyn ctr::Recommender| {
            trained += 1;
            if ctr::ended_at_cap(m.best_epoch(), target.ctr.max_epochs) {
                at_cap += 1;
            }
        };
        let own_base;
        let base0: &dyn Recommender = if *target == source_config {
            source.as_ref()
        } else {
            own_base = train_one(
                target,
                data,
                &encoder,
                0,
                &format!("train {name} (baseline 1/{})", config.trials),
                None,
                false,
            )?;
            own_base.as_ref()
        };
        count_cap(base0);
        let base0_test = evaluate(base0, data, &split.test)?;

        // The crosses this target keeps.
        let mut kept: Vec<usize> = (0..crosses.crosses.len()).collect();
        let mut selection = None;
        if config.selection.mode == CrossSelection::Validation && !kept.is_empty() {
            let t_select = Instant::now();
            let trace = select_on_validation(
                base0,
                data,
                &candidate_data,
                split,
                &crosses,
                &config.selection,
            )?;
            kept = trace.kept();
            selection = Some(TargetSelection {
                baseline_validation_logloss: evaluate(base0, data, &split.validation)?.logloss,
                trace,
                retrained_validation_logloss: None,
                all_validation_logloss: None,
                chosen: String::new(),
                confirmed: false,
                confirm_z: None,
                retrains: Vec::new(),
            });
            select_seconds += t_select.elapsed().as_secs_f64();
        }
        // Retrain trial 1 with each set worth trying and keep the one with the lowest
        // validation logloss: with the selection on, the forward selection's set and every
        // candidate (the per-candidate scores are noisy on a small validation split, and
        // crosses can pay together); without it, every candidate, unconditionally.
        // With the selection on, each set is also tried with the coarser min count.
        let mut options: Vec<(&'static str, Vec<usize>, &CrossSpec)> = Vec::new();
        let all: Vec<usize> = (0..crosses.crosses.len()).collect();
        let specs: Vec<&CrossSpec> = match (&selection, &coarse) {
            (Some(_), Some(c)) => vec![&crosses, c],
            _ => vec![&crosses],
        };
        for spec in specs {
            if !kept.is_empty() {
                options.push(("selected", kept.clone(), spec));
            }
            if selection.is_some() && kept.len() < all.len() && !all.is_empty() {
                options.push(("all", all.clone(), spec));
            }
        }
        // The baseline's per-row validation losses: a retrained set must beat them by more
        // than `confirm_z` standard errors of the paired differences (one retrain on a small
        // validation split otherwise lets a lucky draw through).
        let base_rows = match selection {
            Some(_) => row_logloss(base0, data, &split.validation)?,
            None => Vec::new(),
        };
        // The parts of the model the crosses may feed: with the selection on, validation
        // decides between them where the setting offers two (FM under `Auto`).
        let mut parts = config.cross_part.tried(target.model);
        if selection.is_none() {
            parts.truncate(1);
        }
        let mut best: Option<Retrained> = None;
        for (label, set, from) in options {
            let spec = CrossSpec {
                crosses: set.iter().map(|&i| from.crosses[i].clone()).collect(),
                ..from.clone()
            };
            let mut d = data.clone();
            apply_crosses(&mut d, &spec)?;
            let enc = InputEncoder::fit(&d, &split.train, &config.encoder)?;
            let coarser = if from.min_count > crosses.min_count {
                format!(", min count {:.0}", from.min_count)
            } else {
                String::new()
            };
            // (validation logloss, z, linear only, test) of this set's best part, when it
            // beats every retrain before it.
            let mut better: Option<(f64, Option<f64>, bool, TestMetrics)> = None;
            for &linear_only in &parts {
                let m = train_one(
                    target,
                    &d,
                    &enc,
                    0,
                    &format!(
                        "train {name} (+GLIDER 1/{}, {label}{coarser}{})",
                        config.trials,
                        if linear_only {
                            ", linear term only"
                        } else {
                            ""
                        }
                    ),
                    Some(base0),
                    linear_only,
                )?;
                count_cap(m.as_ref());
                let ll = evaluate(m.as_ref(), &d, &split.validation)?.logloss;
                let z = if base_rows.is_empty() {
                    None
                } else {
                    paired_z(&base_rows, &row_logloss(m.as_ref(), &d, &split.validation)?)
                };
                if let Some(sel) = selection.as_mut() {
                    if coarser.is_empty() && linear_only == parts[0] {
                        match label {
                            "selected" => sel.retrained_validation_logloss = Some(ll),
                            _ => sel.all_validation_logloss = Some(ll),
                        }
                    }
                    sel.retrains.push(RetrainScore {
                        set: label.to_string(),
                        crosses: set.len(),
                        min_count: from.min_count,
                        validation_logloss: ll,
                        z,
                        linear_only,
                    });
                }
                let lowest = better
                    .as_ref()
                    .map_or(best.as_ref().map(|b| b.validation_logloss), |b| Some(b.0));
                if lowest.is_none_or(|l| ll < l) {
                    better = Some((ll, z, linear_only, evaluate(m.as_ref(), &d, &split.test)?));
                }
            }
            // The set's data and encoder join the best only when one of its parts won.
            if let Some((validation_logloss, z, linear_only, test)) = better {
                best = Some(Retrained {
                    validation_logloss,
                    z,
                    label,
                    set,
                    spec,
                    data: d,
                    encoder: enc,
                    test,
                    linear_only,
                });
            }
        }
        let mut enhanced_data = None;
        let mut enh0_test = None;
        let mut cross_min_count = None;
        let mut cross_linear_only = false;
        kept.clear();
        if let Some(b) = best {
            let beats_baseline = match selection.as_mut() {
                Some(sel) => {
                    sel.confirm_z = b.z;
                    sel.confirmed = b.validation_logloss < sel.baseline_validation_logloss
                        && b.z.is_some_and(|z| z > config.selection.confirm_z);
                    if sel.confirmed {
                        sel.chosen = b.label.to_string();
                    }
                    sel.confirmed
                }
                None => true,
            };
            if beats_baseline {
                kept = b.set;
                cross_min_count = Some(b.spec.min_count);
                cross_linear_only = b.linear_only;
                target_crosses.push((name.to_string(), b.spec));
                enh0_test = Some(b.test);
                enhanced_data = Some((b.data, b.encoder));
            }
        }
        if let Some(sel) = selection.as_mut() {
            if !sel.confirmed {
                sel.chosen = "none".into();
            }
        }
        let kept_names: Vec<String> = kept
            .iter()
            .map(|&i| crosses.crosses[i].name.clone())
            .collect();
        let verdict = verdict(
            name,
            &kept_names,
            cross_min_count,
            cross_linear_only,
            crosses.crosses.len(),
            selection.as_ref(),
        );
        reporter.note(&verdict);

        let mut baseline = vec![base0_test];
        let mut enhanced = vec![enh0_test.unwrap_or(base0_test)];
        for t in 1..config.trials {
            let base = train_one(
                target,
                data,
                &encoder,
                t,
                &format!("train {name} (baseline {}/{})", t + 1, config.trials),
                None,
                false,
            )?;
            count_cap(base.as_ref());
            let b = evaluate(base.as_ref(), data, &split.test)?;
            baseline.push(b);
            match &enhanced_data {
                Some((d, enc)) => {
                    let m = train_one(
                        target,
                        d,
                        enc,
                        t,
                        &format!("train {name} (+GLIDER {}/{})", t + 1, config.trials),
                        Some(base.as_ref()),
                        cross_linear_only,
                    )?;
                    count_cap(m.as_ref());
                    enhanced.push(evaluate(m.as_ref(), d, &split.test)?);
                }
                None => enhanced.push(b),
            }
        }
        if at_cap > 0 {
            reporter.note(&format!(
                "note: {at_cap} of {trained} {name} models had their best epoch at the cap \
                 (--epochs {}); they may not have converged: try --epochs {}",
                target.ctr.max_epochs,
                2 * target.ctr.max_epochs
            ));
        }
        let auc = |v: &[TestMetrics]| v.iter().map(|m| m.auc).collect::<Vec<_>>();
        let ll = |v: &[TestMetrics]| v.iter().map(|m| m.logloss).collect::<Vec<_>>();
        let auc_gain = paired_t_test(&auc(&baseline), &auc(&enhanced));
        let logloss_change = paired_t_test(&ll(&baseline), &ll(&enhanced));
        let distillation = (target.model != config.model && target.model.is_simple())
            .then(|| distillation(source_test.auc, &auc(&baseline), &auc(&enhanced)));
        let report = TargetReport {
            model: name.to_string(),
            baseline: ArmSummary::from_trials(baseline),
            enhanced: ArmSummary::from_trials(enhanced),
            auc_gain_p_value: auc_gain.as_ref().map(|t| t.p_value),
            auc_gain,
            logloss_change,
            kept_crosses: kept_names,
            cross_min_count,
            cross_linear_only,
            candidate_crosses: crosses.crosses.len(),
            selection,
            verdict,
            distillation,
        };
        reporter.note(&format!(
            "{name}: test AUC {:.4} → {:.4} with the crosses{}",
            report.baseline.auc_mean,
            report.enhanced.auc_mean,
            report
                .distillation
                .as_ref()
                .map(|d| format!(
                    " (recovers {} of {}'s lift)",
                    d.describe(),
                    config.model.name()
                ))
                .unwrap_or_default()
        ));
        reports.push(report);
    }
    seconds.select = select_seconds;
    seconds.retrain = t0.elapsed().as_secs_f64() - select_seconds;

    let failed: Vec<usize> = detection.failed.iter().map(|(i, _)| *i).collect();
    let report = RunReport {
        dataset: data.source.clone(),
        source_model: config.model.name().to_string(),
        source_test: Some(source_test),
        rows: RowCounts {
            train: split.train.len(),
            validation: split.validation.len(),
            test: split.test.len(),
        },
        fields: names.clone(),
        global_interactions: named.clone(),
        failed_instances: failed.clone(),
        targets: reports,
        trials: config.trials,
        instances: n,
        surrogate_median_r2,
        crosses: crosses
            .crosses
            .iter()
            .map(|c| (c.name.clone(), c.tuples.len()))
            .collect(),
        split_sets,
        seconds,
        config: config.clone(),
        source_maps,
    };
    let global = GlobalInteractionsFile {
        pair_strength: crate::global::pair_strength(&detection.locals, names.len()),
        fields: names,
        instances: n,
        failed,
        interactions: named,
    };
    Ok(RunOutput {
        report,
        global,
        crosses,
        target_crosses,
        detection,
    })
}

/// A target retrained with one set of crosses (trial 1), while the sets are compared.
struct Retrained {
    validation_logloss: f64,
    /// [`paired_z`] against the baseline on validation (with the selection on).
    z: Option<f64>,
    label: &'static str,
    set: Vec<usize>,
    /// The crossing of `set` it was trained with (its min count among it).
    spec: CrossSpec,
    data: Dataset,
    encoder: InputEncoder,
    test: TestMetrics,
    /// The crosses fed the linear term only.
    linear_only: bool,
}

/// The interactions of `config.interactions` as field indices of `data`, in rank order.
fn given_interactions(
    data: &Dataset,
    config: &RunConfig,
) -> Result<Option<Vec<CountedInteraction>>, ExplainError> {
    let Some(given) = &config.interactions else {
        return Ok(None);
    };
    if given.is_empty() {
        return Err(ExplainError::Config(
            "the given interaction list is empty".into(),
        ));
    }
    let mut out = Vec::with_capacity(given.len());
    for (rank, names) in given.iter().enumerate() {
        let mut features = Vec::with_capacity(names.len());
        for name in names {
            let f = data.field_index(name).ok_or_else(|| {
                ExplainError::Config(format!(
                    "given interaction {} ({}) names field \"{name}\", which {} does not have \
                     (its fields: {})",
                    rank + 1,
                    names.join(" × "),
                    data.source,
                    data.field_names().join(", ")
                ))
            })?;
            features.push(f);
        }
        features.sort_unstable();
        features.dedup();
        if features.len() < 2 {
            return Err(ExplainError::Config(format!(
                "given interaction {} ({}) has fewer than two distinct fields; a cross needs two",
                rank + 1,
                names.join(" × ")
            )));
        }
        out.push(CountedInteraction {
            features,
            count: 0,
            first_seen: (0, rank),
        });
    }
    Ok(Some(out))
}

/// Per-row logloss (nats) of `model` on `rows`, from its logits: `softplus(z) − y·z`.
///
/// # Errors
/// The model's prediction error.
fn row_logloss(
    model: &dyn Recommender,
    data: &Dataset,
    rows: &[usize],
) -> Result<Vec<f64>, ExplainError> {
    let batch = model.encoder().encode_rows(data, rows);
    let logits = model.predict_logits(&batch)?;
    Ok(rows
        .iter()
        .zip(&logits)
        .map(|(&r, &z)| {
            let z = f64::from(z);
            let softplus = z.max(0.0) + (-z.abs()).exp().ln_1p();
            softplus - f64::from(data.labels[r]) * z
        })
        .collect())
}

/// Paired z of two per-row loss vectors of equal length: `mean(base − new) / SE`, where SE
/// is the sample standard deviation of the differences over √n. `None` for fewer than two
/// rows; a zero SE gives ±∞ (or 0 for identical losses).
fn paired_z(base: &[f64], new: &[f64]) -> Option<f64> {
    let n = base.len().min(new.len());
    if n < 2 {
        return None;
    }
    let diffs: Vec<f64> = base.iter().zip(new).map(|(b, a)| b - a).collect();
    let (mean, std) = mean_std(&diffs);
    let se = std / (n as f64).sqrt();
    Some(if se > 0.0 {
        mean / se
    } else if mean == 0.0 {
        0.0
    } else {
        mean.signum() * f64::INFINITY
    })
}

/// Runs the forward selection of [`crate::select`] for one target: the frozen `model`'s
/// logits on the training and validation rows are the offset, the candidates' tuple ids are
/// read from `candidate_data` (`data` with every candidate cross appended, in order).
fn select_on_validation(
    model: &dyn Recommender,
    data: &Dataset,
    candidate_data: &Dataset,
    split: &Split,
    crosses: &CrossSpec,
    params: &SelectionParams,
) -> Result<SelectionTrace, ExplainError> {
    let logits = |rows: &[usize]| -> Result<Vec<f64>, ExplainError> {
        let batch = model.encoder().encode_rows(data, rows);
        Ok(model
            .predict_logits(&batch)?
            .into_iter()
            .map(f64::from)
            .collect())
    };
    let labels = |rows: &[usize]| -> Vec<f32> { rows.iter().map(|&r| data.labels[r]).collect() };
    let first = data.num_fields();
    let mut candidates = Vec::with_capacity(crosses.crosses.len());
    for (i, cross) in crosses.crosses.iter().enumerate() {
        let Column::Categorical { codes, .. } = &candidate_data.columns[first + i] else {
            return Err(ExplainError::Config(format!(
                "the cross field {} is not categorical",
                cross.name
            )));
        };
        candidates.push(CandidateCodes {
            name: cross.name.clone(),
            train: split.train.iter().map(|&r| codes[r]).collect(),
            validation: split.validation.iter().map(|&r| codes[r]).collect(),
        });
    }
    Ok(forward_select(
        &labels(&split.train),
        &logits(&split.train)?,
        &labels(&split.validation),
        &logits(&split.validation)?,
        &candidates,
        params,
    ))
}

/// The target's one-line account of its crosses: `kept` are the +GLIDER arm's crosses,
/// `min_count` the count their tuples had to exceed.
fn verdict(
    name: &str,
    kept: &[String],
    min_count: Option<f64>,
    linear_only: bool,
    candidates: usize,
    selection: Option<&TargetSelection>,
) -> String {
    match selection {
        None if candidates == 0 => format!("{name}: no candidate crosses; +GLIDER = baseline"),
        None => format!("{name}: all {candidates} crosses appended (no selection)"),
        Some(sel) if !kept.is_empty() => {
            let retrained = sel
                .retrains
                .iter()
                .map(|r| r.validation_logloss)
                .min_by(f64::total_cmp)
                .unwrap_or(sel.baseline_validation_logloss);
            format!(
                "{name}: {} of {candidates} crosses kept on validation ({}{}; validation logloss \
                 {:.4} → {retrained:.4})",
                kept.len(),
                if sel.chosen == "all" {
                    "every candidate, retrained, did best"
                } else {
                    "forward selection, confirmed by a retrain"
                },
                min_count
                    .map(|m| format!("; tuples seen more than {m:.0} times"))
                    .unwrap_or_default()
                    + if linear_only {
                        "; in the linear term only"
                    } else {
                        ""
                    },
                sel.baseline_validation_logloss,
            )
        }
        Some(sel) => {
            let tried: Vec<String> = sel
                .retrains
                .iter()
                .map(|r| {
                    format!(
                        "{} (min count {:.0}{}) {:.4}",
                        if r.set == "all" {
                            "all crosses"
                        } else {
                            "the selected crosses"
                        },
                        r.min_count,
                        if r.linear_only { ", linear" } else { "" },
                        r.validation_logloss
                    )
                })
                .collect();
            if tried.is_empty() {
                format!("{name}: no cross improved {name} on validation; +GLIDER = baseline")
            } else {
                let z = sel
                    .confirm_z
                    .map(|z| format!("; best paired z {z:.2}"))
                    .unwrap_or_default();
                format!(
                    "{name}: no cross improved {name} on validation (retrained: {}; baseline \
                     {:.4}{z}); +GLIDER = baseline",
                    tried.join(", "),
                    sel.baseline_validation_logloss
                )
            }
        }
    }
}

/// [`Distillation`] from the source's test AUC and the target's per-trial test AUCs.
fn distillation(source_auc: f64, baseline: &[f64], enhanced: &[f64]) -> Distillation {
    let base_mean = baseline.iter().sum::<f64>() / baseline.len().max(1) as f64;
    let shares = recovered_share(source_auc, baseline, enhanced).unwrap_or_default();
    let (share_mean, share_std) = if shares.is_empty() {
        (None, None)
    } else {
        let (m, s) = mean_std(&shares);
        (Some(m), Some(s))
    };
    Distillation {
        source_lift: source_auc - base_mean,
        share_mean,
        share_std,
        shares,
    }
}

#[cfg(test)]
mod tests {
    use super::{paired_z, CrossPart};
    use glider_nn::ctr::ModelKind;

    /// `Auto` offers FM both parts and the others the full model; `Linear` is linear only
    /// where a linear term sits beside other parts (not LR, DCN or the attention models).
    #[test]
    fn cross_parts_tried_per_architecture() {
        for &k in ModelKind::ALL {
            let auto = CrossPart::Auto.tried(k);
            let full = CrossPart::Full.tried(k);
            let linear = CrossPart::Linear.tried(k);
            assert_eq!(full, vec![false], "{k}");
            if k == ModelKind::Fm {
                assert_eq!(auto, vec![false, true]);
            } else {
                assert_eq!(auto, vec![false], "{k}");
            }
            let has = matches!(
                k,
                ModelKind::Fm
                    | ModelKind::WideDeep
                    | ModelKind::DeepFm
                    | ModelKind::XDeepFm
                    | ModelKind::FiBiNet
            );
            assert_eq!(linear, vec![has], "{k}");
        }
    }

    #[test]
    fn paired_z_is_mean_difference_over_its_standard_error() {
        // Differences 0.1, 0.3, 0.2: mean 0.2, sample sd 0.1, SE 0.1 / √3, z = 2√3.
        let z = paired_z(&[1.0, 1.0, 1.0], &[0.9, 0.7, 0.8]).expect("three rows");
        assert!((z - 2.0 * 3f64.sqrt()).abs() < 1e-9, "{z}");
        // A worse model has a negative z.
        let z = paired_z(&[0.9, 0.7, 0.8], &[1.0, 1.0, 1.0]).expect("three rows");
        assert!((z + 2.0 * 3f64.sqrt()).abs() < 1e-9, "{z}");
        assert_eq!(paired_z(&[0.5, 0.5], &[0.5, 0.5]), Some(0.0));
        assert_eq!(paired_z(&[1.0], &[0.5]), None);
    }
}

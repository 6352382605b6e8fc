//! `glider run` after the data is read: the journal (resume), the whole pipeline (train,
//! explain, cross, select, retrain, compare; spec 3) and its three result files; and the
//! run's configuration, checked once from the settings a front end gives.

use std::path::Path;

use anyhow::{Context, Result};

use glider_data::{Dataset, EncoderOptions, Split};
use glider_explain::pipeline::{self, Reporter, RunConfig, RunReport, TargetConfig};
use glider_explain::Journal;
use glider_nn::ctr::{CtrParams, ModelKind};

use crate::data::DataOptions;
use crate::output::write_json;
use crate::settings::{check_ctr_params, CrossSettings, GliderSettings, ModelSettings};
use crate::usage;

/// Runs the pipeline on `data` split by `split` with `config`, journaling finished instances
/// in `out/local.jsonl` (with `resume`, a killed run's finished instances are kept), and
/// writes `crosses.json` (every candidate), `global_interactions.json`, `report.json` and,
/// per target that kept crosses, `crosses.<target>.json` (the kept crosses at the min count
/// that target chose) into `out` atomically; a stale `crosses.<target>.json` of a target
/// that now keeps nothing is removed. Returns the report.
///
/// # Errors
/// An unwritable `out`, a journal of another run (its fingerprint differs), a failure of
/// training or detection.
pub fn run_and_write(
    data: &Dataset,
    split: &Split,
    config: &RunConfig,
    out: &Path,
    resume: bool,
    reporter: &dyn Reporter,
) -> Result<RunReport> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let fingerprint = pipeline::run_fingerprint(data, split, config);
    let journal_path = out.join("local.jsonl");
    let journal = if resume {
        Journal::resume(&journal_path, &fingerprint, config.glider.instances)?
    } else {
        Journal::create(&journal_path, &fingerprint, config.glider.instances)?
    };
    if resume && !journal.finished().is_empty() {
        reporter.note(&format!(
            "resuming: {} instances already explained in {}",
            journal.finished().len(),
            journal_path.display()
        ));
    }
    let output = pipeline::run(data, split, config, reporter, Some(&journal))?;
    write_json(&out.join("crosses.json"), &output.crosses)?;
    for target in &config.targets {
        let name = target.model.name();
        let path = out.join(target_crosses_file(name));
        match output.target_crosses.iter().find(|(t, _)| t == name) {
            Some((_, spec)) => write_json(&path, spec)?,
            None if path.exists() => std::fs::remove_file(&path)
                .with_context(|| format!("removing the stale {}", path.display()))?,
            None => {}
        }
    }
    write_json(&out.join("global_interactions.json"), &output.global)?;
    write_json(&out.join("report.json"), &output.report)?;
    Ok(output.report)
}

/// The file name of the crossing `target` kept: `crosses.<target>.json`.
pub fn target_crosses_file(target: &str) -> String {
    format!("crosses.{target}.json")
}

/// What `glider run` does beyond the model settings, unchecked: GLIDER's settings, the
/// crossing and selection, the paired trials and the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSettings {
    /// GLIDER's settings (spec 3.1–3.2).
    pub glider: GliderSettings,
    /// Crossing and per-target selection (spec 3.3).
    pub cross: CrossSettings,
    /// Paired trials of baseline vs +GLIDER, at least 1: 5.
    pub trials: usize,
    /// Seed of every random step (split, initialisation, shuffling, perturbations): 0.
    pub seed: u64,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            glider: GliderSettings::default(),
            cross: CrossSettings::default(),
            trials: 5,
            seed: 0,
        }
    }
}

/// `glider run`'s default targets: the source itself and, unless it is LR, LR (distillation).
pub fn default_targets(source: ModelKind) -> Vec<ModelKind> {
    let mut kinds = vec![source];
    if source != ModelKind::Lr {
        kinds.push(ModelKind::Lr);
    }
    kinds
}

/// The checked run configuration: the `source` model GLIDER explains, the `targets` trained
/// with and without the crosses, each with the settings `params_of` gives (checked by
/// [`crate::settings::check_ctr_params`]), `encoder`, and `settings`.
///
/// # Errors
/// A [`crate::Usage`] error naming the first invalid setting; nothing has been read yet.
pub fn config(
    source: ModelKind,
    targets: &[ModelKind],
    params_of: &dyn Fn(ModelKind) -> Result<CtrParams>,
    encoder: EncoderOptions,
    settings: &RunSettings,
) -> Result<RunConfig> {
    if settings.trials == 0 {
        usage!("--trials must be at least 1");
    }
    if targets.is_empty() {
        usage!("give at least one target model");
    }
    let checked = |k: ModelKind| -> Result<CtrParams> {
        let p = params_of(k)?;
        check_ctr_params(k, &p)?;
        Ok(p)
    };
    Ok(RunConfig {
        model: source,
        ctr: checked(source)?,
        targets: targets
            .iter()
            .map(|&k| {
                Ok(TargetConfig {
                    model: k,
                    ctr: checked(k)?,
                })
            })
            .collect::<Result<Vec<_>>>()?,
        encoder,
        glider: settings.glider.check(settings.seed)?,
        cross: settings.cross.cross_options()?,
        selection: settings.cross.selection_params()?,
        interactions: None,
        cross_embedding: settings.cross.cross_embedding()?,
        cross_part: match settings.cross.cross_part {
            crate::settings::CrossPartChoice::Full => glider_explain::pipeline::CrossPart::Full,
            crate::settings::CrossPartChoice::Linear => glider_explain::pipeline::CrossPart::Linear,
            crate::settings::CrossPartChoice::Auto => glider_explain::pipeline::CrossPart::Auto,
        },
        cross_start: match settings.cross.cross_start {
            crate::settings::CrossStartChoice::Scratch => {
                glider_explain::pipeline::CrossStart::Scratch
            }
            crate::settings::CrossStartChoice::Baseline => {
                glider_explain::pipeline::CrossStart::Baseline
            }
            crate::settings::CrossStartChoice::Frozen => {
                glider_explain::pipeline::CrossStart::Frozen
            }
        },
        trials: settings.trials,
        seed: settings.seed,
    })
}

/// [`config`] from the command line's settings: `model.model` lists the targets (default:
/// [`default_targets`] of the source), `source_model` names the source (default: the first
/// target), `data` gives the encoder.
///
/// # Errors
/// As [`config`]; an unknown `source_model`.
pub fn config_from(
    model: &ModelSettings,
    source_model: Option<&str>,
    data: &DataOptions,
    settings: &RunSettings,
) -> Result<RunConfig> {
    let kinds = model.kinds()?;
    let source: ModelKind = match source_model.map(str::parse) {
        Some(Ok(k)) => k,
        Some(Err(e)) => usage!("--source-model: {e}"),
        None => kinds[0],
    };
    let targets = if model.model.is_none() {
        default_targets(source)
    } else {
        kinds
    };
    config(
        source,
        &targets,
        &|k| model.params(k),
        data.encoder_options()?,
        settings,
    )
}

/// `config` with its crosses taken from a `global_interactions.json` (its first `top_k`)
/// instead of detected: read and checked against `data`'s fields before anything is written.
///
/// # Errors
/// An unreadable file, or an interaction naming a field `data` lacks.
pub fn with_interactions(
    mut config: RunConfig,
    data: &Dataset,
    path: &Path,
    top_k: usize,
) -> Result<RunConfig> {
    let names = data.field_names();
    let sets = crate::encode::interactions_of(path, data, Some(top_k))?;
    config.interactions = Some(
        sets.iter()
            .map(|set| set.iter().map(|&f| names[f].clone()).collect())
            .collect(),
    );
    Ok(config)
}

//! `glider run` and `glider demo`: the whole job (spec 3).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use glider_app::data::DataOptions;
use glider_app::output::summary;
use glider_app::run::RunSettings;
use glider_app::settings::{CrossSettings, GliderSettings, ModelSettings};
use glider_explain::pipeline::RunConfig;

use crate::ui::say;

pub(super) const RUN_EXAMPLES: &str = "Examples:
  glider run --data train.txt --format criteo --out out/criteo
  glider run --data ml100k_ctr.csv --label label --ignore rating,timestamp \\
      --categorical user_id,item_id,age,gender,occupation,zip_code,release_year,primary_genre,hour_utc,weekday_utc \\
      --trials 5 --out out/ml100k
  glider run --data embedded:adult --out out/adult";

#[derive(Args, Debug)]
pub(super) struct RunArgs {
    #[command(flatten)]
    data: DataOptions,
    #[command(flatten)]
    model: ModelSettings,
    /// The model GLIDER explains [default: the first --model]. The others are targets only:
    /// each is trained with and without the crosses GLIDER found in the source.
    #[arg(long)]
    source_model: Option<String>,
    #[command(flatten)]
    glider: GliderSettings,
    #[command(flatten)]
    cross: CrossSettings,
    /// Paired trials of baseline vs +GLIDER.
    #[arg(long, default_value_t = 5)]
    trials: usize,
    /// Seed of every random step (split, initialisation, shuffling, perturbations).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder for report.json, global_interactions.json, crosses.json and local.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Continue a killed run in the same --out folder: instances already in local.jsonl are
    /// not explained again (the settings must be the same).
    #[arg(long)]
    resume: bool,
    /// Skip GLIDER's detection and cross these interactions instead: a
    /// global_interactions.json as `glider run`, `detect` or `merge` write it (its first
    /// --top-k), so another detector's sets go through the same crossing, selection and
    /// trials.
    #[arg(long, value_name = "FILE")]
    interactions: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(super) struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Instances to explain.
    #[arg(long, default_value_t = DEMO_INSTANCES)]
    instances: usize,
    /// Paired trials.
    #[arg(long, default_value_t = DEMO_TRIALS)]
    trials: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

const DEMO_INSTANCES: usize = 40;

const DEMO_TRIALS: usize = 2;

pub(super) fn run(args: RunArgs, quiet: bool) -> Result<()> {
    let settings = RunSettings {
        glider: args.glider.clone(),
        cross: args.cross.clone(),
        trials: args.trials,
        seed: args.seed,
    };
    let config = glider_app::run::config_from(
        &args.model,
        args.source_model.as_deref(),
        &args.data,
        &settings,
    )?;
    let given = args
        .interactions
        .as_deref()
        .map(|path| (path, args.glider.top_k));
    execute(&args.data, config, &args.out, args.resume, quiet, given)
}

/// Reads the data, says what was read, runs and prints the summary.
fn execute(
    data_options: &DataOptions,
    config: RunConfig,
    out: &std::path::Path,
    resume: bool,
    quiet: bool,
    given: Option<(&std::path::Path, usize)>,
) -> Result<()> {
    let bars = super::bars(quiet);
    let (data, split) = data_options.load(config.seed)?;
    let config = match given {
        Some((path, top_k)) => glider_app::run::with_interactions(config, &data, path, top_k)?,
        None => config,
    };
    if !quiet {
        eprintln!(
            "read {}: {} rows, {} fields ({} categorical), {:.1}% positive",
            data.source,
            data.num_rows(),
            data.num_fields(),
            data.fields
                .iter()
                .filter(|f| f.kind == glider_data::FieldKind::Categorical)
                .count(),
            100.0 * data.positive_rate()
        );
    }
    let report = glider_app::run::run_and_write(&data, &split, &config, out, resume, &bars)?;
    say!("{}", summary(&report, out));
    Ok(())
}

pub(super) fn demo(args: DemoArgs, quiet: bool) -> Result<()> {
    let data = DataOptions::embedded_adult();
    let settings = RunSettings {
        glider: GliderSettings {
            instances: args.instances,
            top_k: 10,
            ..GliderSettings::default()
        },
        cross: CrossSettings::default(),
        trials: args.trials,
        seed: args.seed,
    };
    let config = glider_app::run::config_from(&ModelSettings::default(), None, &data, &settings)?;
    if !quiet {
        eprintln!(
            "glider demo: the embedded UCI Adult census data (48,842 rows, 14 fields, CC BY 4.0).\n\
             Sized for a laptop: {} instances instead of 1000, {} paired trials instead of 5, \
             top-10 interactions.\n\
             The full run: glider run --data embedded:adult --out out/adult\n",
            args.instances, args.trials
        );
    }
    execute(&data, config, &args.out, false, quiet, None)
}

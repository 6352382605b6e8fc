//! Command-line arguments and the subcommands.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use glider_data::cross::CrossOptions;
use glider_data::{embedded, Dataset, EncoderOptions, SchemaOptions, Split};
use glider_explain::pipeline::{RunConfig, TargetConfig};
use glider_explain::select::{CrossSelection, SelectionParams};
use glider_explain::{GliderParams, LocalParams};
use glider_nn::ctr::{CtrParams, ModelKind};
use glider_nn::sparse::OptimizerKind;

use crate::ui::say;
use glider_app::output::{summary, write_json};
use glider_app::progress::Bars;

use glider_app::usage;
/// Find the feature interactions a recommender has learned, and put them to work.
///
/// glider trains a click-through-rate model, explains it with GLIDER (perturb fields around
/// many instances, fit a local MLP surrogate, read interactions from its weights with NID,
/// count which recur), encodes the top interactions as cross features and retrains, reporting
/// the change in test AUC and logloss.
///
/// Exit codes: 0 success, 1 runtime error (bad data, failed training), 2 usage error.
pub use glider_app::Usage;

#[derive(Parser, Debug)]
#[command(name = "glider", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Hide progress bars and notes.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Worker threads of the parallel parts (GLIDER's instances, NID's ensembles; default:
    /// all cores). Results do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// More detail on stderr: the effective configuration, and every stage's status line
    /// (per-epoch validation loss) kept instead of overwritten.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Machine-readable stdout: one JSON document, {"command", "out", "result"}, where
    /// "result" is the main JSON file the subcommand wrote. Notes and bars stay on stderr.
    #[arg(long, global = true)]
    json: bool,
    /// A TOML file holding any of the subcommand's flags by long name (`epochs = 5`,
    /// `categorical = ["user", "item"]`, `resume = true`); the command line wins over it.
    /// Every output folder gets the effective configuration as config.toml, which --config
    /// reads back.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The whole job: train, explain with GLIDER, cross the top interactions, retrain, compare.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// `glider run` on the embedded Adult census data (CC BY 4.0), sized for a laptop.
    #[command(after_help = "Example:\n  glider demo --out out/demo")]
    Demo(DemoArgs),
    /// Train a recommender and save it (model.safetensors, model.json, metrics.json).
    #[command(after_help = "Example:\n  glider train --data embedded:adult --out out/adult-model")]
    Train(Box<TrainArgs>),
    /// Score a file with a trained model: a CSV of row, probability, logit.
    #[command(
        after_help = "Example:\n  glider predict --model-dir out/adult-model --data new.csv --out scores.csv"
    )]
    Predict(Box<PredictArgs>),
    /// An attention model's own interaction maps (AutoInt, AutoInt+, FiBiNET, InterHAt),
    /// averaged over the first rows of a file, with field pairs ranked by a documented
    /// symmetric rule; writes attention.json and attention_heatmap.svg.
    #[command(
        after_help = "Example:\n  glider train --data embedded:adult --model autoint --out out/autoint\n  glider attention --model-dir out/autoint --data adult.csv --out out/attention"
    )]
    Attention(Box<AttentionArgs>),
    /// Explain a trained model with GLIDER on the first N rows of a file (shardable,
    /// resumable); writes global_interactions.json, local.jsonl and detect.json.
    #[command(after_help = "Examples:
  glider detect --model-dir out/adult-model --data adult.csv --instances 1000 --out out/detect
  glider detect --model-dir M --data F --shard 1/2 --out out/s1   (and --shard 2/2 --out out/s2)
  glider merge out/s1 out/s2 --out out/merged")]
    Detect(Box<DetectArgs>),
    /// GLIDER's interactions as cross features on files: fit crosses from a
    /// global_interactions.json and append them (crosses.json + data.csv), or apply a
    /// crosses.json fitted before to another file.
    #[command(after_help = "Examples:
  glider encode --data train.csv --label click --interactions out/run/global_interactions.json --out out/enc
  glider encode --data test.csv --label click --apply out/enc/crosses.json --out out/enc-test")]
    Encode(Box<EncodeArgs>),
    /// Serve a trained model over HTTP with the Open Inference Protocol (KServe v2), so any
    /// client of the protocol, and `--black-box` here, can score it. Runs until stopped.
    #[command(after_help = "Example:
  glider serve --model-dir out/model --port 8080
  glider detect --black-box http://127.0.0.1:8080/v2/models/model --data clicks.csv --label clicked --out out/detect-http")]
    Serve(Box<ServeArgs>),
    /// What an ONNX file declares (inputs, outputs with their shapes and types) and which
    /// output glider reads as the score, with a starter --mapping to edit.
    #[command(after_help = "Example:\n  glider inspect-onnx model.onnx > mapping.json.txt")]
    InspectOnnx(InspectOnnxArgs),
    /// Combine the shards of one `glider detect` run into its global interactions.
    #[command(after_help = "Example:\n  glider merge out/s1 out/s2 --out out/merged")]
    Merge(MergeArgs),
    /// NID on any table: train the interaction MLP (MLP-M), rank pairwise and any-order
    /// interactions from its weights, and with --cutoff say how many are real; writes
    /// interactions.json.
    #[command(after_help = NID_EXAMPLES)]
    Nid(Box<NidArgs>),
    /// Generate synthetic CTR data with planted field interactions (a ground truth to test
    /// GLIDER and the attention maps on); writes data.csv and planted.json.
    #[command(
        after_help = "Example:\n  glider synth --rows 200000 --planted \"0,1;2,3;4,8,11\" --out out/synth\n  glider run --data out/synth/data.csv --label click --out out/synth-run"
    )]
    Synth(Box<SynthCmdArgs>),
    /// Benchmarks, each against a reference measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Surrogate training (gemm trainer vs burn autodiff, fixed epochs) and NID ranking speed.
    #[command(after_help = "Example:\n  glider bench speed --out out/bench-speed")]
    Speed(SpeedArgs),
    /// GLIDER's local step (6,000 masks, a 256-128-64 surrogate, fixed epochs) in instances
    /// per second on all cores, against PyTorch measured in the same run.
    #[command(
        after_help = "Example:\n  glider bench local-speed --pytorch python3 --out out/bench-local-speed\n\nThe PyTorch reference (scripts/pytorch_local_step.py) needs `pip install torch`."
    )]
    LocalSpeed(LocalSpeedArgs),
    /// Local detectors (NID on the surrogate, ArchDetect) on A1–A4 by pairwise AUC.
    #[command(after_help = "Example:\n  glider bench local --trials 3 --out out/bench-local")]
    Local(LocalBenchArgs),
    /// NID (plain MLP 140-100-60-20, L1 5e-5) on the synthetic suite F1-F10: pairwise AUC and
    /// R-precision beside the published columns.
    #[command(
        after_help = "Example:\n  glider bench nid --functions F1,F4 --trials 3 --out out/bench-nid"
    )]
    Nid(NidBenchArgs),
    /// NID scoring time (p = 1000, h1 = 256) and the interaction MLP's training throughput,
    /// optionally against PyTorch measured in the same run.
    #[command(
        after_help = "Example:\n  glider bench nid-speed --pytorch python3 --out out/bench-nid-speed\n\nThe PyTorch reference (scripts/pytorch_nid_throughput.py) needs `pip install torch`."
    )]
    NidSpeed(NidSpeedArgs),
    /// Every recommender on one dataset over several seeds: test AUC and logloss, mean and
    /// standard deviation (the model-zoo table of BENCHMARKS.md).
    #[command(
        after_help = "Example:\n  glider bench models --data ../shared/data/movielens_100k/ml100k_ctr.csv --model all --seeds 3 --out out/bench-models"
    )]
    Models(Box<ModelsBenchArgs>),
    /// Ante-hoc vs post-hoc on planted interactions: AutoInt's, FiBiNET's and InterHAt's
    /// field-pair rankings and GLIDER's, scored by pairwise AUC against the planted truth.
    #[command(
        after_help = "Example:\n  glider bench antehoc --trials 3 --instances 100 --out out/bench-antehoc"
    )]
    Antehoc(Box<AnteHocArgs>),
    /// Training throughput (rows/s) of DeepFM and AutoInt on Criteo-format data with a
    /// vocabulary of about 1M values, batch 1024, optionally against PyTorch in the same run.
    #[command(
        after_help = "Example:\n  glider bench train-speed --pytorch python3 --out out/bench-train-speed\n\nThe PyTorch reference (scripts/pytorch_ctr_throughput.py) needs `pip install torch`."
    )]
    TrainSpeed(TrainSpeedArgs),
}

#[derive(Args, Debug)]
struct TrainSpeedArgs {
    /// Architectures (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "deepfm,autoint")]
    models: Vec<String>,
    /// Categorical values over the 26 fields.
    #[arg(long, default_value_t = 1_000_000)]
    vocab: usize,
    /// Rows per batch.
    #[arg(long, default_value_t = 1024)]
    batch_size: usize,
    /// Timed batches.
    #[arg(long, default_value_t = 30)]
    batches: usize,
    /// Untimed batches first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Python interpreter with torch installed; runs the PyTorch reference in the same run.
    #[arg(long)]
    pytorch: Option<String>,
    /// The reference script.
    #[arg(long, default_value = "scripts/pytorch_ctr_throughput.py")]
    pytorch_script: String,
    /// PyTorch processes, one thread each (default: the number of cores).
    #[arg(long)]
    procs: Option<usize>,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-train-speed")]
    out: PathBuf,
}

/// The synthetic CTR generator's settings (planted field interactions, spec 3 ground truth).
#[derive(Args, Debug, Clone)]
struct SynthArgs {
    /// Rows of synthetic data.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Cardinality of each field (comma separated; one field per entry).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,8,6,12,100,50,30,20,40,25,15"
    )]
    cardinalities: Vec<usize>,
    /// Planted interactions: field sets separated by `;`, fields by `,` (0-based).
    #[arg(long, default_value = "0,1;2,3;4,8,11")]
    planted: String,
    /// Zipf exponent of the value frequencies (0 = uniform).
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// Standard deviation of the per-value main effects (logits).
    #[arg(long, default_value_t = 0.3)]
    main_effect_std: f64,
    /// Standard deviation of the planted tuple effects (logits).
    #[arg(long, default_value_t = 1.0)]
    interaction_std: f64,
    /// Global bias (logits).
    #[arg(long, default_value_t = -1.0)]
    bias: f64,
    /// Seed of the data.
    #[arg(long = "data-seed", default_value_t = 1)]
    data_seed: u64,
}

impl SynthArgs {
    fn config(&self) -> Result<glider_core::synth::SynthCtrConfig> {
        let cfg = glider_core::synth::SynthCtrConfig {
            rows: self.rows,
            cardinalities: self.cardinalities.clone(),
            zipf_exponent: self.zipf,
            main_effect_std: self.main_effect_std,
            planted: parse_sets(&self.planted, self.cardinalities.len())?,
            interaction_std: self.interaction_std,
            bias: self.bias,
            seed: self.data_seed,
        };
        cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(cfg)
    }
}

#[derive(Args, Debug)]
struct SynthCmdArgs {
    #[command(flatten)]
    synth: SynthArgs,
    /// Output folder: data.csv (label `click`, fields f0, f1, …) and planted.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct AnteHocArgs {
    #[command(flatten)]
    synth: SynthArgs,
    /// Trials: data seed, split and training seeds derive from the trial index.
    #[arg(long, default_value_t = 3)]
    trials: usize,
    /// Attention models scored.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "autoint,fibinet,interhat"
    )]
    models: Vec<String>,
    /// The model GLIDER explains.
    #[arg(long, default_value = "deepfm")]
    source_model: String,
    /// Maximum training epochs of every model.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    #[command(flatten)]
    glider: GliderArgs,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-antehoc")]
    out: PathBuf,
}

/// Parses `0,1;3,4` into field sets.
fn parse_sets(text: &str, fields: usize) -> Result<Vec<Vec<usize>>> {
    text.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|set| {
            let v = set
                .split(',')
                .map(|x| {
                    let i: usize = x
                        .trim()
                        .parse()
                        .with_context(|| format!("--planted: {x:?} is not a field index"))?;
                    if i >= fields {
                        usage!("--planted: field {i} does not exist ({fields} fields)");
                    }
                    Ok(i)
                })
                .collect::<Result<Vec<_>>>()?;
            if v.len() < 2 {
                usage!("--planted: {set:?} has fewer than two fields");
            }
            Ok(v)
        })
        .collect()
}

#[derive(Args, Debug)]
struct ModelsBenchArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Seeds per model (0, 1, …): each seed sets the initialisation and shuffling; the split
    /// stays that of --seed.
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// The first model seed (`--first-seed 1 --seeds 2` runs seeds 1 and 2, to add seeds to
    /// an earlier run).
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Seed of the split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-models")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct NidSpeedArgs {
    /// Python interpreter with torch installed; runs the PyTorch reference in the same run.
    #[arg(long)]
    pytorch: Option<String>,
    /// The reference script.
    #[arg(long, default_value = "scripts/pytorch_nid_throughput.py")]
    pytorch_script: String,
    /// Timed epochs of 10,000 rows per fit.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Fits at the same time (default: the number of cores).
    #[arg(long)]
    parallel: Option<usize>,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-nid-speed")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct NidBenchArgs {
    /// Functions (comma separated, F1..F10).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "F1,F2,F3,F4,F5,F6,F7,F8,F9,F10"
    )]
    functions: Vec<String>,
    /// Trials (seeds) per function.
    #[arg(long, default_value_t = 10)]
    trials: usize,
    /// Samples per trial, split in three equal parts (train / validation / test).
    #[arg(long, default_value_t = 30_000)]
    samples: usize,
    #[command(flatten)]
    nid: NidModelArgs,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-nid")]
    out: PathBuf,
}

/// How NID's network is built and trained (shared by `glider nid` and `glider bench nid`).
#[derive(Args, Debug, Clone)]
pub struct NidModelArgs {
    /// Main effects beside the interaction MLP: `univariate` (MLP-M, one 1-10-10-10-1 net per
    /// input), `linear` (one bias-free linear layer) or `none` (the plain MLP).
    /// Bare `--main-effects` means `univariate`.
    #[arg(long, value_enum, default_value_t = MainArg::Univariate, num_args = 0..=1,
          default_missing_value = "univariate")]
    main_effects: MainArg,
    /// Hidden sizes of the interaction MLP (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "140,100,60,20")]
    hidden: Vec<usize>,
    /// L1 strength on the interaction MLP's weights.
    #[arg(long, default_value_t = 5e-5)]
    l1: f64,
    /// Training schedule: `early` (Adam 0.01, at most --epochs epochs, early stopping with
    /// patience 5 and the best weights restored) or `fixed` (Adam 0.01 decayed by 0.95 per
    /// epoch for exactly --epochs epochs, the 2018 reference).
    #[arg(long, value_enum, default_value_t = Schedule::Early)]
    schedule: Schedule,
    /// Maximum (early) or exact (fixed) number of epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// How a unit's weights on a set's members are combined (spec 1.4).
    #[arg(long, value_enum, default_value_t = AveragingArg::Min)]
    averaging: AveragingArg,
    /// Seeds trained; their interaction strengths (each divided by the member's strongest
    /// pair's) are averaged.
    #[arg(long, default_value_t = 1)]
    ensemble: usize,
    /// In an ensemble, make every second member a plain interaction MLP (no main-effect
    /// nets): MLP-M and the plain MLP find different interactions best.
    #[arg(long)]
    mix_plain: bool,
    /// Early stopping: epochs without a better validation loss before stopping (the
    /// `early` schedule).
    #[arg(long, default_value_t = 5)]
    patience: usize,
    /// Pruning: keep a superset of already ranked interactions only when its strength is at
    /// least this share of its strongest ranked subset (0 = the reference pruning).
    #[arg(long, default_value_t = 0.0)]
    superset_ratio: f64,
    /// Run MLP-Cutoff (spec 1.5) to choose how many ranked interactions are real.
    #[arg(long)]
    cutoff: bool,
    /// Cut-off: an interaction must lower the validation loss by this share of the
    /// main-effects-only loss to count.
    #[arg(long, default_value_t = 0.01)]
    cutoff_tolerance: f64,
    /// Cut-off: non-improving interactions in a row that end the walk.
    #[arg(long, default_value_t = 2)]
    cutoff_patience: usize,
}

use glider_app::settings::{
    AveragingChoice as AveragingArg, MainChoice as MainArg, NidOptions, ScheduleChoice as Schedule,
};

impl NidModelArgs {
    /// The NID settings these flags describe, for `task`.
    pub fn settings(
        &self,
        task: glider_nn::additive::Task,
    ) -> Result<glider_explain::tabular::NidSettings> {
        self.options().check(task)
    }

    /// The flags as the library's options (checked there).
    pub fn options(&self) -> NidOptions {
        NidOptions {
            main_effects: self.main_effects,
            hidden: self.hidden.clone(),
            l1: self.l1,
            schedule: self.schedule,
            epochs: self.epochs,
            averaging: self.averaging,
            ensemble: self.ensemble,
            mix_plain: self.mix_plain,
            patience: self.patience,
            superset_ratio: self.superset_ratio,
            cutoff: self.cutoff,
            cutoff_tolerance: self.cutoff_tolerance,
            cutoff_patience: self.cutoff_patience,
        }
    }
}

#[derive(Args, Debug)]
struct LocalBenchArgs {
    /// Seeds of the NID surrogate per function (ArchDetect is deterministic).
    #[arg(long, default_value_t = 3)]
    trials: usize,
    /// Perturbations per surrogate fit.
    #[arg(long, default_value_t = 6000)]
    perturbations: usize,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-local")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct SpeedArgs {
    /// Fields of the surrogate's input (Criteo has 39).
    #[arg(long, default_value_t = 39)]
    fields: usize,
    /// Perturbations per fit.
    #[arg(long, default_value_t = 6000)]
    perturbations: usize,
    /// Fixed epochs per fit.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Fits timed per trainer.
    #[arg(long, default_value_t = 3)]
    fits: usize,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-speed")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct LocalSpeedArgs {
    /// Instances (one surrogate fit each).
    #[arg(long, default_value_t = 8)]
    instances: usize,
    /// Fields of the surrogate's input (Criteo has 39).
    #[arg(long, default_value_t = 39)]
    fields: usize,
    /// Perturbations per instance.
    #[arg(long, default_value_t = 6000)]
    perturbations: usize,
    /// Fixed epochs per fit (both sides).
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Threads for glider and single-threaded processes for PyTorch (default: all cores).
    #[arg(long)]
    parallel: Option<usize>,
    /// A Python with torch, to run the reference in the same run.
    #[arg(long)]
    pytorch: Option<String>,
    /// The reference script.
    #[arg(long, default_value = "scripts/pytorch_local_step.py")]
    pytorch_script: String,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-local-speed")]
    out: PathBuf,
}

const NID_EXAMPLES: &str = "Examples:
  glider nid --data hour.csv --label cnt --ignore instant,dteday,casual,registered --cutoff --out out/bike
  glider nid --data housing.csv --label MedHouseVal --ensemble 3 --out out/housing
  glider nid --data letter.csv --label letter --task multiclass --out out/letter

Categorical fields enter the MLP one-hot (their --max-categories most frequent values, plus
one column for the rest); NID reads a field's weight on a unit as the largest of its
columns'. Every input column, and a regression target, is standardised with the training
rows' mean and std. Without --validation/--test the file is split 80/10/10 with --seed.";

/// `glider nid`.
#[derive(Args, Debug)]
struct NidArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The target: `regression`, `binary` or `multiclass` (default: binary when the label is
    /// 0/1, regression when it is numeric, multiclass otherwise).
    #[arg(long, value_enum)]
    task: Option<glider_app::nid::TaskArg>,
    #[command(flatten)]
    nid: NidModelArgs,
    /// Most frequent values of a categorical field given their own one-hot column.
    #[arg(long, default_value_t = 32)]
    max_categories: usize,
    /// Interactions printed per list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Seed of the split and of training.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (interactions.json).
    #[arg(long, default_value = "out/nid")]
    out: PathBuf,
}

const RUN_EXAMPLES: &str = "Examples:
  glider run --data train.txt --format criteo --out out/criteo
  glider run --data ml100k_ctr.csv --label label --ignore rating,timestamp \\
      --categorical user_id,item_id,age,gender,occupation,zip_code,release_year,primary_genre,hour_utc,weekday_utc \\
      --trials 5 --out out/ml100k
  glider run --data embedded:adult --out out/adult";

/// Input file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a header; kinds from --categorical/--dense or inferred.
    Csv,
    /// Criteo Kaggle TSV: label, I1..I13, C1..C26, no header, empty = missing.
    Criteo,
    /// Avazu Kaggle CSV: id, click, hour, C1, banner_pos, …, C21; all 23 fields categorical.
    Avazu,
    /// libFM / libSVM `label index:value …` with one-hot tokens (Frappe, iPinYou); labels
    /// -1/1 or 0/1. A token's field is its position, or with --featindex the field named in
    /// iPinYou's feature-index file.
    Libfm,
    /// Parquet: float columns dense, other columns categorical (override with --dense and
    /// --categorical); --label names the label column.
    Parquet,
}

/// Where the data comes from and how to read it (shared by every subcommand).
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data file (or `embedded:adult` for the bundled demo data). Without --validation and
    /// --test it is split 80/10/10 with --seed.
    #[arg(long)]
    data: String,
    /// Validation file (same format); requires --test.
    #[arg(long, requires = "test")]
    validation: Option<PathBuf>,
    /// Test file (same format). With --validation, the three files are the split; alone,
    /// --data is split into training and validation (--validation-fraction, seeded).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Share of --data held out for validation when only --test is given.
    #[arg(long, default_value_t = 0.1)]
    validation_fraction: f64,
    /// File format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// libFM: the feature-index file (`field:value<TAB>index` per line, as iPinYou's
    /// featindex.txt) that names each token's field.
    #[arg(long)]
    featindex: Option<PathBuf>,
    /// libFM without --featindex: names of the positional fields (comma separated; default
    /// f1, f2, …).
    #[arg(long, value_delimiter = ',')]
    field_names: Vec<String>,
    /// Label column (CSV).
    #[arg(long, default_value = "label")]
    label: String,
    /// The label value meaning "positive", when the label is not 0/1 (e.g. ">50K").
    #[arg(long)]
    positive: Option<String>,
    /// Columns to treat as categorical (comma separated).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Columns to treat as dense numbers (comma separated).
    #[arg(long, value_delimiter = ',')]
    dense: Vec<String>,
    /// Columns to leave out (comma separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Cell texts that mean "missing" (comma separated; default: empty, ?, NA, N/A, NaN, nan,
    /// null, NULL).
    #[arg(long, value_delimiter = ',')]
    missing: Option<Vec<String>>,
    /// CSV delimiter (one character; `\t` for tab).
    #[arg(long, default_value = ",")]
    delimiter: String,
    /// Categorical values seen at most this many times in training share the field's rare id.
    #[arg(long, default_value_t = 10)]
    min_count: usize,
    /// Hash every categorical field's values into N buckets instead of building a
    /// vocabulary (bounded memory for fields with millions of values; 0 = off).
    #[arg(long, default_value_t = 0)]
    hash_buckets: usize,
    /// How numeric fields enter the models: `auto` cuts each into bins chosen from the
    /// training rows (one embedding per value for a field with at most --numeric-values
    /// distinct values, else up to --numeric-bins bins of about equal row counts); `scalar`
    /// scales one embedding per field by the standardised value (the CTR papers' input)
    /// [default: auto; scalar with --format criteo, whose log² transform of the counts is
    /// already their encoding: measured on Criteo 10k, binning the transformed counts cost
    /// every model 0.007–0.028 test AUC].
    #[arg(long, value_enum)]
    numeric: Option<NumericArg>,
    /// Binned numeric fields: the most bins a field with many values is cut into.
    #[arg(long, default_value_t = glider_data::NumericOptions::DEFAULT_BINS)]
    numeric_bins: usize,
    /// Binned numeric fields: a field with at most this many distinct training values gets
    /// one embedding per value (values seen at most --min-count times join their nearest
    /// neighbour's).
    #[arg(long, default_value_t = glider_data::NumericOptions::DEFAULT_MAX_VALUES)]
    numeric_values: usize,
}

/// `--numeric`: how numeric fields are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NumericArg {
    /// Bins chosen from the training rows.
    Auto,
    /// One embedding scaled by the standardised value.
    Scalar,
}

impl DataArgs {
    /// The encoder settings these flags give, checked by the library (a bad value is a
    /// usage error, exit 2).
    fn encoder_options(&self) -> Result<EncoderOptions> {
        let options = EncoderOptions {
            min_count: self.min_count,
            hash_buckets: self.hash_buckets,
            numeric: glider_data::NumericOptions {
                mode: match (self.numeric, self.format) {
                    (Some(NumericArg::Auto), _) => glider_data::NumericMode::Auto,
                    (Some(NumericArg::Scalar), _) | (None, Format::Criteo) => {
                        glider_data::NumericMode::Scalar
                    }
                    (None, _) => glider_data::NumericMode::Auto,
                },
                max_values: self.numeric_values,
                bins: self.numeric_bins,
            },
        };
        if let Err(e) = options.numeric.check() {
            usage!("{e}");
        }
        Ok(options)
    }
}

/// Settings of the recommender. Unset sizes and optimiser settings take the architecture's
/// reference values (spec 3.4; `CtrParams::for_model`).
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Recommender architecture: lr, fm, wdl, deepfm, dcn, xdeepfm, autoint, autoint+,
    /// fibinet, interhat [default: deepfm]. `glider run` and `glider bench models` take a
    /// comma-separated list (or `all`); `glider run`'s default is the source and lr.
    #[arg(long)]
    model: Option<String>,
    /// Embedding size.
    #[arg(long, default_value_t = 16)]
    embedding_dim: usize,
    /// DNN hidden sizes, comma separated [default: the architecture's, e.g. DeepFM
    /// 400,400,400, Wide&Deep 1024,512,256].
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Optimiser [default: adagrad for wdl, deepfm, dcn, xdeepfm; adam otherwise].
    #[arg(long, value_enum)]
    optimizer: Option<Optim>,
    /// Learning rate [default: the model's: 0.01 for lr, 0.003 for fm, 0.01 with adagrad,
    /// 0.001 for the other adam models; 0.01 with --optimizer adagrad, 0.001 with adam].
    #[arg(long)]
    lr: Option<f64>,
    /// Mini-batch size.
    #[arg(long, default_value_t = 1024)]
    batch_size: usize,
    /// Maximum epochs; early stopping on validation logloss ends training before it
    /// [default: 100 for lr and fm, 50 for the others].
    #[arg(long)]
    epochs: Option<usize>,
    /// Epochs without improvement before stopping.
    #[arg(long, default_value_t = 2)]
    patience: usize,
    /// L2 penalty on the looked-up embeddings (per row, summed over fields).
    #[arg(long, default_value_t = 0.0)]
    embedding_l2: f32,
    /// DCN: cross layers.
    #[arg(long, default_value_t = 6)]
    cross_layers: usize,
    /// xDeepFM: CIN layer sizes (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "200,200,200")]
    cin_layers: Vec<usize>,
    /// AutoInt: attention layers.
    #[arg(long, default_value_t = 3)]
    attention_layers: usize,
    /// AutoInt, InterHAt: attention heads.
    #[arg(long, default_value_t = 2)]
    attention_heads: usize,
    /// AutoInt: output size of each attention layer, split across the heads; InterHAt: the
    /// attention width.
    #[arg(long, default_value_t = 64)]
    attention_size: usize,
    /// FiBiNET: SENET reduction ratio.
    #[arg(long, default_value_t = 3)]
    reduction_ratio: usize,
    /// InterHAt: interaction orders.
    #[arg(long, default_value_t = 3)]
    orders: usize,
}

impl ModelArgs {
    /// The architectures named by --model (one or more, comma separated, no repeats).
    fn kinds(&self) -> Result<Vec<ModelKind>> {
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

    /// The one architecture of a subcommand that trains a single model.
    fn single(&self) -> Result<ModelKind> {
        let kinds = self.kinds()?;
        if kinds.len() > 1 {
            usage!(
                "--model takes one architecture here, got {}; only `glider run` takes a list",
                self.model.as_deref().unwrap_or_default()
            );
        }
        Ok(kinds[0])
    }

    /// Training settings of `kind`: its reference values, overridden by the flags given.
    fn params(&self, kind: ModelKind) -> Result<CtrParams> {
        let mut p = CtrParams::for_model(kind);
        p.embedding_dim = self.embedding_dim;
        if let Some(h) = &self.hidden {
            p.hidden = h.clone();
        }
        if let Some(o) = self.optimizer {
            let optimizer = match o {
                Optim::Adam => OptimizerKind::Adam,
                Optim::Adagrad => OptimizerKind::Adagrad,
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
        glider_app::settings::check_ctr_params(kind, &p)?;
        Ok(p)
    }
}

use glider_app::settings::{DetectorChoice as DetectorArg, GliderSettings};

/// Optimiser choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Optim {
    /// Adam.
    Adam,
    /// Adagrad.
    Adagrad,
}

/// Settings of GLIDER and the crossing.
#[derive(Args, Debug, Clone)]
pub struct GliderArgs {
    /// Instances to explain: the first N validation rows.
    #[arg(long, default_value_t = 1000)]
    instances: usize,
    /// Global interactions to select and encode as crosses.
    #[arg(long, default_value_t = 20)]
    top_k: usize,
    /// A superset replaces a selected subset only if it appears in at least this share of the
    /// subset's instances (0 = the GLIDER reference rule).
    #[arg(long, default_value_t = 0.5)]
    superset_ratio: f64,
    /// Local detector: NID on an MLP surrogate (the GLIDER reference, any order), GradientNID
    /// (a Softplus surrogate's mixed second derivatives; pairs), or ArchDetect (pairs,
    /// model-agnostic, no surrogate; much faster).
    #[arg(long, value_enum, default_value_t = DetectorArg::Nid)]
    detector: DetectorArg,
    /// Pairs per instance kept by the pairwise detectors (ArchDetect, GradientNID).
    #[arg(long, default_value_t = 10)]
    archdetect_top_k: usize,
    /// Weight the perturbations with LIME's kernel of this width (the MADEX demos use 0.25;
    /// GLIDER does not weight): sqrt(exp(-d²/width²)), d the cosine distance of the mask to
    /// the instance.
    #[arg(long, value_name = "WIDTH")]
    lime_width: Option<f64>,
    /// Local cut-off (glider's, not the paper's): score the detector's top 20 candidates at
    /// each instance by their pure interaction effect on the black box (the mixed difference
    /// of that order), merge overlapping ones, keep those reaching SHARE × the instance's
    /// strongest, and report a superset instead of the subsets it explains. 0.25 is a good
    /// start; off by default (the reference counts every ranked interaction).
    #[arg(long, value_name = "SHARE")]
    local_cutoff: Option<f64>,
    /// Largest interaction order the local cut-off scores (2^ORDER queries per candidate).
    #[arg(long, default_value_t = 4, value_name = "ORDER")]
    cutoff_max_order: usize,
    /// Perturbations per instance.
    #[arg(long, default_value_t = 6000)]
    perturbations: usize,
    /// Surrogate hidden sizes (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "256,128,64")]
    surrogate_hidden: Vec<usize>,
    /// Surrogate L1 strength.
    #[arg(long, default_value_t = 1e-4)]
    surrogate_l1: f64,
    /// Surrogate maximum epochs (early stopping, patience 5).
    #[arg(long, default_value_t = 100)]
    surrogate_epochs: usize,
    /// Interactions kept per instance by NID.
    #[arg(long, default_value_t = 100)]
    local_top: usize,
    /// In an instance's NID ranking, a superset of an emitted interaction is dropped when its
    /// strength is below this share of its strongest emitted subset (0 = reference pruning).
    #[arg(long, default_value_t = 0.5)]
    local_superset_ratio: f64,
}

/// How `glider run` turns interactions into crosses and chooses them per target.
#[derive(Args, Debug)]
pub struct CrossArgs {
    /// Bins of a numeric member of a cross: about equal row counts, a value holding many rows
    /// (a mass of zeros) in a bin of its own. Coarser than the field's own encoding, since
    /// per-value members make crosses too sparse; 100 is the GLIDER reference.
    #[arg(long, default_value_t = 8)]
    bins: usize,
    /// A cross tuple is kept when seen more than max(1e-4 × batch rows, this) times.
    #[arg(long, default_value_t = 10)]
    cross_min_count: usize,
    /// How each target's crosses are chosen: `validation` keeps a candidate only when it
    /// lowers that target's validation logloss (scored on the frozen baseline in rank order),
    /// then retrains with that set and with every candidate and keeps whichever is lower on
    /// validation, if below the baseline (the test rows are never used); `none` appends the
    /// top-K as the paper does.
    #[arg(long, value_enum, default_value_t = SelectionArg::Validation)]
    cross_selection: SelectionArg,
    /// L2 on a candidate cross's tuple weights while it is scored (in rows).
    #[arg(long, default_value_t = 5.0)]
    selection_l2: f64,
    /// A candidate cross is kept when it lowers validation logloss by more than this (nats
    /// per row).
    #[arg(long, default_value_t = 1e-4)]
    selection_min_gain: f64,
    /// ...and by more than this many standard errors of the per-row differences.
    #[arg(long, default_value_t = 2.0)]
    selection_z: f64,
}

/// Cross selection choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SelectionArg {
    /// Every top-K interaction becomes a cross (spec 3.3).
    None,
    /// Crosses kept per target on validation logloss.
    Validation,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// The model GLIDER explains [default: the first --model]. The others are targets only:
    /// each is trained with and without the crosses GLIDER found in the source.
    #[arg(long)]
    source_model: Option<String>,
    #[command(flatten)]
    glider: GliderArgs,
    #[command(flatten)]
    cross: CrossArgs,
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
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Seed of the split, initialisation and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stream a Criteo-format file larger than memory: read it in chunks (one pass for the
    /// vocabularies, one per epoch); rows i mod 10 = 8 are validation, 9 test.
    #[arg(long)]
    stream: bool,
    /// Lines per chunk with --stream.
    #[arg(long, default_value_t = 200_000)]
    chunk_rows: usize,
    /// Output model folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct AttentionArgs {
    /// A folder written by `glider train` with an attention model.
    #[arg(long)]
    model_dir: PathBuf,
    /// File whose first --sample rows are averaged over (the model's format).
    #[arg(long)]
    data: PathBuf,
    /// Rows to average the maps over.
    #[arg(long, default_value_t = 2000)]
    sample: usize,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("scorer").required(true).args(["model_dir", "black_box"])))]
struct PredictArgs {
    /// A folder written by `glider train` (files are read the way its training data was; the
    /// schema flags are then not needed).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    #[command(flatten)]
    black_box: BlackBoxArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Output CSV.
    #[arg(long)]
    out: PathBuf,
}

/// A model behind a server, as a black box.
#[derive(Args, Debug)]
struct BlackBoxArgs {
    /// A model behind an Open Inference Protocol (KServe v2) server, such as `glider serve`,
    /// MLServer, KServe or Triton: http://HOST:PORT/v2/models/NAME; or an ONNX file run
    /// in-process: onnx:PATH (without --mapping, its one input's columns are the data's fields
    /// in header order). The data is read with the schema flags.
    #[arg(long, value_name = "URL|onnx:PATH")]
    black_box: Option<String>,
    /// How the data's fields become the model's inputs, and what it answers (JSON: layout,
    /// per field its input, datatype, vocabulary or transform and switched-off value; the
    /// output's name, column and whether it is a probability). Default: one tensor per field
    /// named after it, as `glider serve` expects, and its `logit` output; for onnx:PATH, the
    /// fields in header order into its one input, written to OUT/mapping.json by detect.
    #[arg(long, value_name = "FILE", requires = "black_box")]
    mapping: Option<PathBuf>,
    /// Rows per request to the black box.
    #[arg(long, default_value_t = 4096)]
    request_rows: usize,
    /// Seconds before a request to the black box times out.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Extra attempts after a connection error, a 429 or a 5xx answer.
    #[arg(long, default_value_t = 3)]
    retries: usize,
}

impl BlackBoxArgs {
    /// Opens the black box for `data`; returns it with its identity (address, file size and
    /// mapping) for run fingerprints.
    /// The black box, its identity (for fingerprints) and, when the mapping was inferred
    /// rather than given, that mapping (to write beside the output).
    fn open(
        &self,
        data: &Dataset,
    ) -> Result<(
        Box<dyn glider_explain::BlackBox>,
        String,
        Option<glider_explain::http::Mapping>,
    )> {
        let Some(address) = &self.black_box else {
            usage!("give --model-dir DIR or --black-box URL");
        };
        let spec = glider_app::blackbox::BlackBoxSpec {
            address: address.clone(),
            mapping: self.mapping.clone(),
            request_rows: self.request_rows,
            timeout_s: self.timeout,
            retries: self.retries,
        };
        let opened = glider_app::blackbox::open(&spec, data)?;
        Ok((opened.black_box, opened.identity, opened.inferred))
    }
}

/// `glider inspect-onnx`.
#[derive(Args, Debug)]
pub struct InspectOnnxArgs {
    /// The ONNX file.
    path: PathBuf,
}

/// Prints an ONNX file's inputs and outputs and a starter mapping for `--black-box onnx:`.
fn inspect_onnx(args: &InspectOnnxArgs) -> Result<()> {
    #[cfg(feature = "onnx")]
    {
        let d = glider_explain::onnx::describe(&args.path)?;
        let line = |t: &glider_explain::onnx::TensorInfo| {
            format!("  {:<24} [{}] {}", t.name, t.shape.join(", "), t.datatype)
        };
        let mut text = format!("{}\ninputs:\n", args.path.display());
        for t in &d.inputs {
            text += &(line(t) + "\n");
        }
        text += "outputs:\n";
        for t in &d.outputs {
            text += &(line(t) + "\n");
        }
        text += &format!(
            "score: {}\n",
            d.score_output
                .as_deref()
                .unwrap_or("no float output: name one in the mapping")
        );
        text += &format!(
            "\nA starter --mapping (replace COLUMN_i by your data's columns in the model's input \
             order, and each off by the value a switched-off field should send{}):\n{}",
            if d.input_width().is_none() {
                "; the input's width is not declared, so list every column"
            } else {
                ""
            },
            serde_json::to_string_pretty(&d.starter_mapping())?
        );
        say!("{text}");
        Ok(())
    }
    #[cfg(not(feature = "onnx"))]
    {
        let _ = args;
        usage!("this glider was built without ONNX support (cargo feature `onnx`)")
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("scorer").required(true).args(["model_dir", "black_box"])))]
struct DetectArgs {
    /// A folder written by `glider train` (files are read the way its training data was).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    #[command(flatten)]
    black_box: BlackBoxArgs,
    /// The file whose first --instances rows are explained (the label may be absent).
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    glider: GliderArgs,
    /// Run only slice i of n of the instances (e.g. 2/4); `glider merge` combines slices.
    #[arg(long, default_value = "1/1")]
    shard: String,
    /// Continue a killed run in the same --out folder.
    #[arg(long)]
    resume: bool,
    /// Seed of the perturbations and surrogates.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["interactions", "apply"])))]
struct EncodeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A global_interactions.json (from `glider run`, `detect` or `merge`): fit one cross per
    /// interaction on the rows of --data.
    #[arg(long, value_name = "FILE")]
    interactions: Option<PathBuf>,
    /// A crosses.json fitted before (by `glider run` or `glider encode`): append its crosses
    /// to --data unchanged.
    #[arg(long, value_name = "FILE")]
    apply: Option<PathBuf>,
    /// Encode only the first K interactions (default: all in the file).
    #[arg(long)]
    top_k: Option<usize>,
    /// Bins of a numeric member of a cross: about equal row counts, a value holding many rows
    /// (a mass of zeros) in a bin of its own. Coarser than the field's own encoding, since
    /// per-value members make crosses too sparse; 100 is the GLIDER reference.
    #[arg(long, default_value_t = 8)]
    bins: usize,
    /// A value tuple is kept when seen more than this many times (and more than 1e-4 of the rows).
    #[arg(long, default_value_t = 10)]
    cross_min_count: usize,
    /// Output folder: data.csv (--data with the cross columns appended) and, with
    /// --interactions, crosses.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("served").required(true).args(["model_dir", "onnx"])))]
struct ServeArgs {
    /// A folder written by `glider train`: one input per field (BYTES for categorical, FP32
    /// for dense), outputs `logit` and `probability`.
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// An ONNX model with one `[n, k]` float input; requests pass that tensor, answers hold
    /// every output (cargo feature `onnx`).
    #[arg(long, value_name = "FILE")]
    onnx: Option<PathBuf>,
    /// Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port (0 picks a free one; the URL is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The model's name in the URL (default: the folder's name).
    #[arg(long)]
    name: Option<String>,
    /// Threads answering requests.
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Output folders of `glider detect --shard` runs.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged global_interactions.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct DemoArgs {
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

/// Runs the parsed command; `config_toml` is its effective configuration
/// ([`crate::config::effective`]), saved beside the output `out` on success.
pub fn execute(cli: Cli, config_toml: String, out: Option<PathBuf>) -> Result<()> {
    crate::ui::init(crate::ui::Ui {
        verbose: cli.verbose,
        json: cli.json,
        config_toml,
    });
    if cli.verbose > 0 && !cli.quiet {
        eprintln!("{}", crate::ui::config_toml());
    }
    let (name, main_file) = cli.command.output_names();
    let quiet = cli.quiet;
    dispatch(cli)?;
    if let Some(out) = out {
        if out.exists() {
            crate::ui::save_config(&out)?;
        }
        let wrote =
            out.is_dir() && glider_app::report::write_for(name, &out, crate::ui::config_toml())?;
        if wrote && !crate::ui::json() && !quiet {
            eprintln!("Report: {}", out.join("report.html").display());
        }
        if let Some(file) = main_file.filter(|_| crate::ui::json()) {
            let path = out.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            crate::ui::result(name, Some(&out), &value)?;
        }
    }
    Ok(())
}

impl Command {
    /// The subcommand's name and the main JSON file it writes in `--out` (the `result` of
    /// `--json`); `None` where the subcommand prints its JSON result itself.
    fn output_names(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Command::Run(_) => ("run", Some("report.json")),
            Command::Demo(_) => ("demo", Some("report.json")),
            Command::Train(_) => ("train", Some("metrics.json")),
            Command::Predict(_) => ("predict", None),
            Command::Attention(_) => ("attention", Some("attention.json")),
            Command::Detect(_) => ("detect", Some("global_interactions.json")),
            Command::Merge(_) => ("merge", Some("global_interactions.json")),
            Command::Serve(_) => ("serve", None),
            Command::InspectOnnx(_) => ("inspect-onnx", None),
            Command::Encode(args) if args.apply.is_some() => ("encode", None),
            Command::Encode(_) => ("encode", Some("crosses.json")),
            Command::Nid(_) => ("nid", Some("interactions.json")),
            Command::Synth(_) => ("synth", Some("planted.json")),
            Command::Bench(_) => ("bench", Some("bench.json")),
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("setting up the thread pool")?;
    }
    match cli.command {
        Command::Run(args) => run(*args, cli.quiet),
        Command::Demo(args) => demo(args, cli.quiet),
        Command::Train(args) => train(*args, cli.quiet),
        Command::Predict(args) => {
            let n = match &args.model_dir {
                Some(dir) => {
                    glider_app::model_dir::predict(dir, Path::new(&args.data.data), &args.out)?
                }
                None => {
                    let data = read_unlabeled(&args.data)?;
                    let (black_box, _, _) = args.black_box.open(&data)?;
                    glider_app::model_dir::predict_black_box(black_box.as_ref(), &data, &args.out)?
                }
            };
            say!("Scored {n} rows; wrote {}", args.out.display());
            crate::ui::result(
                "predict",
                Some(&args.out),
                &serde_json::json!({ "rows": n, "scores": args.out }),
            )?;
            Ok(())
        }
        Command::Attention(args) => {
            say!(
                "{}",
                glider_app::attention::run(&args.model_dir, &args.data, &args.out, args.sample)?
            );
            Ok(())
        }
        Command::Detect(args) => detect(*args, cli.quiet),
        Command::InspectOnnx(args) => inspect_onnx(&args),
        Command::Encode(args) => encode(*args),
        Command::Serve(args) => {
            let served = match (&args.model_dir, &args.onnx) {
                (Some(dir), _) => crate::serve::Served::load(dir, args.name.as_deref())?,
                #[cfg(feature = "onnx")]
                (None, Some(path)) => crate::serve::Served::load_onnx(path, args.name.as_deref())?,
                #[cfg(not(feature = "onnx"))]
                (None, Some(_)) => {
                    usage!("this glider was built without ONNX support (cargo feature `onnx`)")
                }
                (None, None) => usage!("give --model-dir DIR or --onnx FILE"),
            };
            crate::serve::serve(served, &args.host, args.port, args.workers)
        }
        Command::Merge(args) => {
            say!("{}", glider_app::model_dir::merge(&args.dirs, &args.out)?);
            Ok(())
        }
        Command::Nid(args) => nid(*args, cli.quiet),
        Command::Synth(args) => synth(*args),
        Command::Bench(BenchCommand::Speed(args)) => bench_speed(args, cli.quiet),
        Command::Bench(BenchCommand::Local(args)) => bench_local(args, cli.quiet),
        Command::Bench(BenchCommand::LocalSpeed(args)) => bench_local_speed(args, cli.quiet),
        Command::Bench(BenchCommand::Nid(args)) => bench_nid(args, cli.quiet),
        Command::Bench(BenchCommand::NidSpeed(args)) => bench_nid_speed(args, cli.quiet),
        Command::Bench(BenchCommand::Models(args)) => bench_models(*args, cli.quiet),
        Command::Bench(BenchCommand::Antehoc(args)) => bench_antehoc(*args, cli.quiet),
        Command::Bench(BenchCommand::TrainSpeed(args)) => bench_train_speed(args, cli.quiet),
    }
}

fn nid(args: NidArgs, quiet: bool) -> Result<()> {
    let asked = match args.task {
        None if args.data.data == embedded::ADULT_NAME || args.data.format == Format::Criteo => {
            Some(glider_app::nid::TaskArg::Binary)
        }
        t => t,
    };
    let (mut data, split) = load_with(&args.data, args.seed, glider_app::nid::target_kind(asked))?;
    let task = glider_app::nid::infer_task(&mut data, asked)?;
    let settings = args.nid.settings(task)?;
    let text = glider_app::nid::run(
        &data,
        &split,
        &settings,
        args.max_categories,
        args.seed,
        args.top,
        &args.out,
        &note(quiet),
    )?;
    print!("{text}");
    Ok(())
}

fn schema(args: &DataArgs) -> SchemaOptions {
    SchemaOptions {
        label: args.label.clone(),
        positive: args.positive.clone(),
        categorical: args.categorical.clone(),
        dense: args.dense.clone(),
        ignore: args.ignore.clone(),
        missing: args
            .missing
            .clone()
            .unwrap_or_else(SchemaOptions::default_missing),
        label_optional: false,
        target: glider_data::TargetKind::Binary,
    }
}

fn delimiter(text: &str) -> Result<u8> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        t => usage!("--delimiter must be one ASCII character (or \\t), got {t:?}"),
    }
}

/// Reads the data the flags name and splits it.
pub fn load(args: &DataArgs, seed: u64) -> Result<(Dataset, Split)> {
    glider_app::data::load(&source(args)?, seed)
}

/// [`load`] with the label read as `target`.
pub fn load_with(
    args: &DataArgs,
    seed: u64,
    target: glider_data::TargetKind,
) -> Result<(Dataset, Split)> {
    glider_app::data::load_with(&source(args)?, seed, target)
}

/// The data flags as the library's data source.
fn source(args: &DataArgs) -> Result<glider_app::data::DataSource> {
    Ok(glider_app::data::DataSource {
        data: args.data.clone(),
        validation: args.validation.clone(),
        test: args.test.clone(),
        validation_fraction: args.validation_fraction,
        reading: if args.data == embedded::ADULT_NAME {
            glider_app::data::DataSource::embedded_reading()
        } else {
            reading(args)?
        },
    })
}

fn config(
    model: &ModelArgs,
    source: Option<&str>,
    glider: &GliderArgs,
    cross: &CrossArgs,
    data: &DataArgs,
    trials: usize,
    seed: u64,
) -> Result<RunConfig> {
    let mut kinds = model.kinds()?;
    let source_kind: ModelKind = match source.map(str::parse) {
        Some(Ok(k)) => k,
        Some(Err(e)) => usage!("--source-model: {e}"),
        None => kinds[0],
    };
    if model.model.is_none() {
        // `glider run`'s default targets: the source itself and LR (distillation).
        kinds = vec![source_kind];
        if source_kind != ModelKind::Lr {
            kinds.push(ModelKind::Lr);
        }
    }
    if trials == 0 {
        usage!("--trials must be at least 1");
    }
    let targets = kinds
        .iter()
        .map(|&k| {
            Ok(TargetConfig {
                model: k,
                ctr: model.params(k)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RunConfig {
        model: source_kind,
        ctr: model.params(source_kind)?,
        targets,
        encoder: data.encoder_options()?,
        glider: glider_params(glider, seed)?,
        cross: CrossOptions {
            dense_bins: cross.bins,
            min_count_floor: cross.cross_min_count,
            ..CrossOptions::default()
        },
        selection: selection_params(cross)?,
        interactions: None,
        trials,
        seed,
    })
}

fn selection_params(cross: &CrossArgs) -> Result<SelectionParams> {
    if cross.bins < 2 {
        usage!("--bins must be at least 2");
    }
    let params = SelectionParams {
        mode: match cross.cross_selection {
            SelectionArg::None => CrossSelection::None,
            SelectionArg::Validation => CrossSelection::Validation,
        },
        l2: cross.selection_l2,
        min_gain: cross.selection_min_gain,
        z: cross.selection_z,
    };
    if let Err(e) = params.validate() {
        usage!("--selection-l2 / --selection-min-gain / --selection-z: {e}");
    }
    Ok(params)
}

fn glider_params(glider: &GliderArgs, seed: u64) -> Result<GliderParams> {
    glider.settings().check(seed)
}

impl GliderArgs {
    /// The flags as the library's settings (checked there).
    fn settings(&self) -> GliderSettings {
        GliderSettings {
            instances: self.instances,
            top_k: self.top_k,
            superset_ratio: self.superset_ratio,
            detector: self.detector,
            archdetect_top_k: self.archdetect_top_k,
            lime_width: self.lime_width,
            local_cutoff: self.local_cutoff,
            cutoff_max_order: self.cutoff_max_order,
            perturbations: self.perturbations,
            surrogate_hidden: self.surrogate_hidden.clone(),
            surrogate_l1: self.surrogate_l1,
            surrogate_epochs: self.surrogate_epochs,
            local_top: self.local_top,
            local_superset_ratio: self.local_superset_ratio,
        }
    }
}

fn run(args: RunArgs, quiet: bool) -> Result<()> {
    let config = config(
        &args.model,
        args.source_model.as_deref(),
        &args.glider,
        &args.cross,
        &args.data,
        args.trials,
        args.seed,
    )?;
    let given = args
        .interactions
        .as_deref()
        .map(|path| (path, args.glider.top_k));
    execute_run(&args.data, &config, &args.out, args.resume, quiet, given)
}

fn execute_run(
    data_args: &DataArgs,
    config: &RunConfig,
    out: &Path,
    resume: bool,
    quiet: bool,
    given: Option<(&Path, usize)>,
) -> Result<()> {
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let (data, split) = load(data_args, config.seed)?;
    // Interactions given instead of detected (`--interactions FILE`, its first --top-k): read
    // and checked against the data's fields, before anything is written.
    let mut config = config.clone();
    if let Some((path, top_k)) = given {
        let names = data.field_names();
        let sets = glider_app::encode::interactions_of(path, &data, Some(top_k))?;
        config.interactions = Some(
            sets.iter()
                .map(|set| set.iter().map(|&f| names[f].clone()).collect())
                .collect(),
        );
    }
    let config = &config;
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
    let report = glider_app::run::run_and_write(&data, &split, config, out, resume, &bars)?;
    say!("{}", summary(&report, out));
    Ok(())
}

fn demo(args: DemoArgs, quiet: bool) -> Result<()> {
    let data_args = DataArgs {
        data: embedded::ADULT_NAME.to_string(),
        validation: None,
        test: None,
        validation_fraction: 0.1,
        format: Format::Csv,
        featindex: None,
        field_names: vec![],
        label: "income".into(),
        positive: Some(">50K".into()),
        categorical: vec![],
        dense: vec![],
        ignore: vec![],
        missing: None,
        delimiter: ",".into(),
        min_count: 10,
        hash_buckets: 0,
        numeric: None,
        numeric_bins: glider_data::NumericOptions::DEFAULT_BINS,
        numeric_values: glider_data::NumericOptions::DEFAULT_MAX_VALUES,
    };
    let model = ModelArgs::parse_defaults();
    let glider = GliderArgs::parse_defaults();
    let cross = CrossArgs::parse_defaults();
    let mut config = config(
        &model,
        None,
        &glider,
        &cross,
        &data_args,
        args.trials,
        args.seed,
    )?;
    config.glider.instances = args.instances;
    config.glider.top_k = 10;
    if !quiet {
        eprintln!(
            "glider demo: the embedded UCI Adult census data (48,842 rows, 14 fields, CC BY 4.0).\n\
             Sized for a laptop: {} instances instead of 1000, {} paired trials instead of 5, \
             top-10 interactions.\n\
             The full run: glider run --data embedded:adult --out out/adult\n",
            args.instances, args.trials
        );
    }
    execute_run(&data_args, &config, &args.out, false, quiet, None)
}

trait ParseDefaults: Sized {
    fn parse_defaults() -> Self;
}

macro_rules! parse_defaults {
    ($t:ty) => {
        impl ParseDefaults for $t {
            fn parse_defaults() -> Self {
                #[derive(Parser)]
                struct Wrap {
                    #[command(flatten)]
                    inner: $t,
                }
                // Parsing no arguments cannot fail: every field has a default.
                match Wrap::try_parse_from(["glider"]) {
                    Ok(w) => w.inner,
                    Err(e) => e.exit(),
                }
            }
        }
    };
}

parse_defaults!(ModelArgs);
parse_defaults!(GliderArgs);
parse_defaults!(CrossArgs);

fn bench_speed(args: SpeedArgs, quiet: bool) -> Result<()> {
    let settings = crate::bench::SpeedSettings {
        fields: args.fields,
        perturbations: args.perturbations,
        epochs: args.epochs,
        fits: args.fits,
        nid_features: 1000,
        nid_units: 256,
    };
    let report = crate::bench::speed(settings, note(quiet))?;
    write_bench(&args.out, &report)?;
    let s = &report.settings;
    say!(
        "surrogate {}-256-128-64-1, {} perturbations, {} epochs, {} fits each:",
        s.fields,
        s.perturbations,
        s.epochs,
        s.fits
    );
    say!(
        "  gemm trainer   {:.3} s/fit ({:.1} GFLOP/s)",
        report.fast_seconds_per_fit,
        report.fast_gflops
    );
    say!(
        "  burn autodiff  {:.3} s/fit (reference, same run)",
        report.autodiff_seconds_per_fit
    );
    say!("  speed-up       {:.2}x", report.speedup);
    say!(
        "NID ranking, p = {}, h1 = {}: {:.1} ms",
        s.nid_features,
        s.nid_units,
        report.nid_ms
    );
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

fn bench_nid_speed(args: NidSpeedArgs, quiet: bool) -> Result<()> {
    let parallel = args
        .parallel
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let settings = crate::bench::NidSpeedSettings {
        score_features: 1000,
        score_units: 256,
        score_reps: 7,
        features: 10,
        rows: 10_000,
        epochs: args.epochs.max(1),
        parallel,
        pytorch: args.pytorch.map(|p| [p, args.pytorch_script]),
    };
    let report = crate::bench::nid_speed(settings, note(quiet))?;
    write_bench(&args.out, &report)?;
    let s = &report.settings;
    say!(
        "NID scoring, p = {}, h1 = {} (median of {}):",
        s.score_features,
        s.score_units,
        s.score_reps
    );
    say!(
        "  pairwise strengths, computed {:>8.1} ms",
        report.pairwise_scoring_ms
    );
    say!(
        "  pairwise strengths, sorted   {:>8.1} ms",
        report.pairwise_ms
    );
    say!(
        "  any-order ranking, pruned    {:>8.1} ms",
        report.ranking_ms
    );
    say!(
        "Training throughput, p = {}, 140-100-60-20, batch 100, {} fits at once:",
        s.features,
        s.parallel
    );
    for t in &report.training {
        match (t.pytorch_samples_per_second, t.ratio) {
            (Some(py), Some(r)) => say!(
                "  {:<6} glider {:>9.0} samples/s   PyTorch {:>9.0} samples/s   {:.2}x",
                t.network,
                t.glider_samples_per_second,
                py,
                r
            ),
            _ => say!(
                "  {:<6} glider {:>9.0} samples/s   (PyTorch not run: --pytorch python3)",
                t.network,
                t.glider_samples_per_second
            ),
        }
    }
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

fn bench_local_speed(args: LocalSpeedArgs, quiet: bool) -> Result<()> {
    if args.instances == 0 || args.epochs == 0 || args.fields < 7 {
        usage!("--instances and --epochs must be at least 1, --fields at least 7 (the planted function reads 7)");
    }
    let parallel = args
        .parallel
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let settings = crate::bench::LocalSpeedSettings {
        instances: args.instances,
        fields: args.fields,
        perturbations: args.perturbations,
        epochs: args.epochs,
        parallel,
        pytorch: args.pytorch.map(|p| [p, args.pytorch_script]),
    };
    let r = crate::bench::local_speed(settings, note(quiet))?;
    write_bench(&args.out, &r)?;
    say!(
        "Local step: {} instances × {} masks, surrogate {}-256-128-64-1, {} epochs, {} threads/processes",
        r.settings.instances, r.settings.perturbations, r.settings.fields, r.settings.epochs, r.settings.parallel
    );
    say!(
        "  glider   {:.3} instances/s ({:.1} nominal GFLOP/s{})",
        r.glider_instances_per_second,
        r.glider_gflops,
        r.peak_gflops
            .map(|p| format!(
                ", {:.1}% of a {p:.0} GFLOP/s peak",
                100.0 * r.glider_gflops / p
            ))
            .unwrap_or_default()
    );
    if let (Some(t), Some(x)) = (r.pytorch_instances_per_second, r.speedup) {
        say!("  PyTorch  {t:.3} instances/s (same run)  → glider {x:.2}×");
    }
    say!(
        "  top-4 NID pairs of instance 0: glider {:?}{}; planted {:?}",
        r.glider_top_pairs,
        match (&r.pytorch_top_pairs, r.top4_agreement) {
            (Some(t), Some(a)) => format!(", PyTorch {t:?} ({a} of 4 shared)"),
            _ => String::new(),
        },
        r.planted_pairs
    );
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

fn bench_local(args: LocalBenchArgs, quiet: bool) -> Result<()> {
    let params = LocalParams {
        num_perturbations: args.perturbations,
        ..LocalParams::default()
    };
    let scores = crate::bench::local(args.trials, &params, note(quiet))?;
    write_bench(&args.out, &scores)?;
    say!(
        "Pairwise AUC on A1-A4 (p = 40, input +1, baseline -1), NID and GradientNID over {} seed(s):",
        args.trials
    );
    say!(
        "  {:<4} {:<13} {:>16} {:>10}",
        "fn",
        "detector",
        "AUC (mean ± std)",
        "published"
    );
    for s in &scores {
        let published = if s.published.is_finite() {
            format!("{:.2}", s.published)
        } else {
            "—".to_string()
        };
        say!(
            "  {:<4} {:<13} {:>8.3} ± {:.3} {:>10}",
            s.function,
            s.detector,
            s.auc_mean,
            s.auc_std,
            published
        );
    }
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

/// Rejects the schema flags a fixed-layout format does not read: Criteo and Avazu files have
/// their own columns (label first, then fields of known kinds), a libFM file has no named
/// columns at all. Only `--ignore` applies to Criteo and Avazu.
fn check_format_flags(args: &DataArgs) -> Result<()> {
    let name = match args.format {
        Format::Criteo => "criteo",
        Format::Avazu => "avazu",
        Format::Libfm => "libfm",
        Format::Csv | Format::Parquet => return Ok(()),
    };
    let mut given: Vec<&str> = Vec::new();
    if !args.categorical.is_empty() {
        given.push("--categorical");
    }
    if !args.dense.is_empty() {
        given.push("--dense");
    }
    if args.label != "label" {
        given.push("--label");
    }
    if args.positive.is_some() {
        given.push("--positive");
    }
    if args.missing.is_some() {
        given.push("--missing");
    }
    if args.delimiter != "," {
        given.push("--delimiter");
    }
    if args.format == Format::Libfm && !args.ignore.is_empty() {
        given.push("--ignore");
    }
    if given.is_empty() {
        return Ok(());
    }
    let why = match args.format {
        Format::Criteo => {
            "its layout is fixed: the label, then dense I1..I13 (log²-transformed counts, \
             which --numeric auto gives one embedding per value) and categorical C1..C26, \
             tab separated, empty = missing; use --format csv with your own schema flags to \
             read the file another way"
        }
        Format::Avazu => {
            "its layout is fixed: the `click` label and every other column categorical, comma \
             separated; use --format csv with your own schema flags to read it another way"
        }
        _ => {
            "libFM tokens are `index:value` one-hot features with the label first; fields \
             come from their position (--field-names) or --featindex"
        }
    };
    usage!(
        "{} {} not apply to --format {name}: {why}",
        given.join(", "),
        if given.len() == 1 { "does" } else { "do" }
    );
}

fn reading(args: &DataArgs) -> Result<glider_app::model_dir::Reading> {
    check_format_flags(args)?;
    if args.data == embedded::ADULT_NAME {
        return Ok(glider_app::model_dir::Reading {
            format: "csv".into(),
            schema: embedded::adult_schema(),
            delimiter: b',',
            libfm: None,
        });
    }
    if args.featindex.is_some() && args.format != Format::Libfm {
        usage!("--featindex applies to --format libfm only");
    }
    if !args.field_names.is_empty() {
        if args.format != Format::Libfm || args.featindex.is_some() {
            usage!(
                "--field-names names the positional fields of --format libfm (without --featindex)"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for n in &args.field_names {
            if n.trim().is_empty() {
                usage!("--field-names has an empty name");
            }
            if !seen.insert(n.as_str()) {
                usage!("--field-names names {n:?} twice");
            }
        }
    }
    // The model card keeps the featindex path: make it absolute so the model works from any
    // folder.
    let featindex = match &args.featindex {
        Some(p) => Some(std::fs::canonicalize(p).with_context(|| {
            format!(
                "--featindex {}: cannot open the feature-index file",
                p.display()
            )
        })?),
        None => None,
    };
    Ok(glider_app::model_dir::Reading {
        format: match args.format {
            Format::Csv => "csv",
            Format::Criteo => "criteo",
            Format::Avazu => "avazu",
            Format::Libfm => "libfm",
            Format::Parquet => "parquet",
        }
        .into(),
        schema: schema(args),
        delimiter: delimiter(&args.delimiter)?,
        libfm: (args.format == Format::Libfm).then(|| match &featindex {
            Some(path) => glider_data::LibfmFields::FeatIndex { path: path.clone() },
            None => glider_data::LibfmFields::Positional {
                names: (!args.field_names.is_empty()).then(|| args.field_names.clone()),
            },
        }),
    })
}

fn train_streamed(args: TrainArgs, quiet: bool) -> Result<()> {
    if args.data.format != Format::Criteo {
        usage!("--stream reads Criteo-format files (--format criteo)");
    }
    check_format_flags(&args.data)?;
    if args.chunk_rows == 0 {
        usage!("--chunk-rows must be at least 1");
    }
    if args.data.validation.is_some() || args.data.test.is_some() {
        usage!("--stream takes one file and splits it by row (i mod 10 = 8 validation, 9 test)");
    }
    let kind = args.model.single()?;
    let params = args.model.params(kind)?;
    let options = args.data.encoder_options()?;
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let path = PathBuf::from(&args.data.data);
    let out = glider_app::stream::train(
        &path,
        &args.data.ignore,
        args.chunk_rows,
        kind,
        &params,
        &options,
        args.seed,
        &bars,
    )?;
    let card = glider_app::model_dir::ModelCard {
        glider_model: glider_app::model_dir::MODEL_FORMAT,
        model: kind,
        params,
        encodings: out.encodings.clone(),
        reading: reading(&args.data)?,
        trained_on: path.display().to_string(),
        seed: args.seed,
    };
    let metrics = glider_app::model_dir::Metrics {
        validation: out.validation,
        test: out.test,
        epochs: out.model.history().len(),
        best_epoch: out.model.best_epoch(),
        seconds: out.seconds,
    };
    glider_app::model_dir::save(&args.out, out.model.as_ref(), &card, &metrics)?;
    let distinct = if options.hash_buckets > 0 {
        format!(
            "categorical fields hashed into {} buckets",
            options.hash_buckets
        )
    } else {
        format!("{} distinct categorical values", out.distinct_values)
    };
    say!(
        "{kind} on {} (streamed; {} / {} / {} rows, {distinct}): validation AUC {:.4} logloss {:.4}; test AUC {:.4} logloss {:.4} (best epoch {} of {}, {:.1}s)\nWrote {}/model.safetensors, model.json, metrics.json",
        path.display(),
        out.rows[0],
        out.rows[1],
        out.rows[2],
        out.validation.auc,
        out.validation.logloss,
        out.test.auc,
        out.test.logloss,
        metrics.best_epoch,
        metrics.epochs,
        out.seconds,
        args.out.display()
    );
    if let Some(w) =
        glider_nn::ctr::epoch_cap_warning(kind.name(), metrics.best_epoch, card.params.max_epochs)
    {
        say!("{w}");
    }
    Ok(())
}

fn train(args: TrainArgs, quiet: bool) -> Result<()> {
    if args.stream {
        return train_streamed(args, quiet);
    }
    if args.chunk_rows != 200_000 {
        usage!("--chunk-rows applies to --stream only");
    }
    let glider = GliderArgs::parse_defaults();
    args.model.single()?;
    let cross = CrossArgs::parse_defaults();
    let config = config(&args.model, None, &glider, &cross, &args.data, 1, args.seed)?;
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let (data, split) = load(&args.data, args.seed)?;
    let reading = reading(&args.data)?;
    let line = glider_app::model_dir::train_new(
        &data,
        &split,
        config.model,
        config.ctr.clone(),
        &config.encoder,
        reading,
        args.seed,
        &args.out,
        &bars,
    )?;
    say!("{line}");
    Ok(())
}

fn detect(args: DetectArgs, quiet: bool) -> Result<()> {
    let shard = glider_app::model_dir::parse_shard(&args.shard)?;
    let params = glider_params(&args.glider, args.seed)?;
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let data_path = Path::new(&args.data.data);
    let line = match &args.model_dir {
        Some(dir) => glider_app::model_dir::detect(
            dir,
            data_path,
            &params,
            shard,
            args.resume,
            &args.out,
            &bars,
        )?
        .summary(),
        None => {
            let data = read_unlabeled(&args.data)?;
            let (black_box, identity, inferred) = args.black_box.open(&data)?;
            let line = glider_app::model_dir::detect_with(
                black_box.as_ref(),
                &identity,
                &data,
                data_path,
                &params,
                shard,
                args.resume,
                &args.out,
                &bars,
            )?
            .summary();
            match inferred {
                Some(mapping) => {
                    let path = args.out.join("mapping.json");
                    write_json(&path, &mapping)?;
                    format!(
                        "{line}\nNo --mapping given: the model's input columns were read as the data's \
                         fields in header order; that mapping is in {} (edit it and pass --mapping)",
                        path.display()
                    )
                }
                None => line,
            }
        }
    };
    say!("{line}");
    Ok(())
}

/// Reads `--data` with the schema flags for a black box: the label column may be absent.
fn read_unlabeled(args: &DataArgs) -> Result<Dataset> {
    if args.data == embedded::ADULT_NAME {
        return Ok(embedded::adult()?);
    }
    let reading = reading(args)?;
    Ok(reading.read_paths(&[PathBuf::from(&args.data)], true)?.0)
}

fn encode(args: EncodeArgs) -> Result<()> {
    if args.data.validation.is_some() || args.data.test.is_some() {
        usage!(
            "glider encode reads one file (--data); encode the others with --apply \
             OUT/crosses.json"
        );
    }
    if args.bins < 2 || args.top_k == Some(0) {
        usage!("--bins must be at least 2 and --top-k at least 1");
    }
    let reading = reading(&args.data)?;
    let (mut data, _) = if args.data.data == embedded::ADULT_NAME {
        let d = embedded::adult()?;
        let n = d.num_rows();
        (d, vec![n])
    } else {
        reading.read_paths(&[PathBuf::from(&args.data.data)], false)?
    };
    let (spec, spec_path) = match (&args.interactions, &args.apply) {
        (Some(path), _) => {
            let sets = glider_app::encode::interactions_of(path, &data, args.top_k)?;
            let options = CrossOptions {
                dense_bins: args.bins,
                min_count_floor: args.cross_min_count,
                ..CrossOptions::default()
            };
            (
                glider_app::encode::fit(&data, &sets, &options)?,
                path.clone(),
            )
        }
        (None, Some(path)) => (glider_app::encode::read_spec(path)?, path.clone()),
        (None, None) => usage!("give --interactions FILE or --apply crosses.json"),
    };
    // Check everything before the first file is written: no partial output on bad input.
    let mut probe = Dataset {
        source: data.source.clone(),
        label_name: data.label_name.clone(),
        fields: data.fields.clone(),
        labels: Vec::new(),
        label_classes: data.label_classes.clone(),
        columns: data
            .columns
            .iter()
            .map(|c| match c {
                glider_data::Column::Categorical { dictionary, .. } => {
                    glider_data::Column::Categorical {
                        codes: Vec::new(),
                        dictionary: dictionary.clone(),
                    }
                }
                glider_data::Column::Dense { .. } => {
                    glider_data::Column::Dense { values: Vec::new() }
                }
            })
            .collect(),
    };
    glider_data::cross::apply_crosses(&mut probe, &spec)
        .with_context(|| format!("applying the crosses of {}", spec_path.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let rows = data.num_rows();
    glider_app::encode::apply_and_write(&mut data, &spec, &spec_path, &args.out.join("data.csv"))?;
    if args.interactions.is_some() {
        glider_app::encode::write_spec(&args.out, &spec)?;
    }
    let names: Vec<String> = spec
        .crosses
        .iter()
        .map(|c| format!("{} ({} tuples)", c.name, c.tuples.len()))
        .collect();
    say!(
        "Appended {} cross feature(s) to {rows} rows: {}\nWrote {}/data.csv{}",
        spec.crosses.len(),
        names.join(", "),
        args.out.display(),
        if args.interactions.is_some() {
            " and crosses.json"
        } else {
            ""
        }
    );
    if args.apply.is_some() {
        crate::ui::result(
            "encode",
            Some(&args.out),
            &serde_json::json!({ "rows": rows, "crosses": spec.crosses.iter().map(|c| &c.name).collect::<Vec<_>>() }),
        )?;
    }
    Ok(())
}

fn synth(args: SynthCmdArgs) -> Result<()> {
    let cfg = args.synth.config()?;
    let (data, planted) = glider_data::synth::synthetic(&cfg)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    glider_app::output::write_atomic(
        &args.out.join("data.csv"),
        glider_data::synth::to_csv(&data).as_bytes(),
    )?;
    let names = data.field_names();
    #[derive(serde::Serialize)]
    struct Planted<'a> {
        config: &'a glider_core::synth::SynthCtrConfig,
        planted: Vec<Vec<String>>,
        positive_rate: f64,
    }
    write_json(
        &args.out.join("planted.json"),
        &Planted {
            config: &cfg,
            planted: planted
                .iter()
                .map(|s| s.iter().map(|&f| names[f].clone()).collect())
                .collect(),
            positive_rate: data.positive_rate(),
        },
    )?;
    say!(
        "{} rows, {} categorical fields f0..f{}, {:.1}% clicks; planted {:?}\nWrote {}/data.csv, planted.json",
        data.num_rows(),
        data.num_fields(),
        data.num_fields() - 1,
        100.0 * data.positive_rate(),
        planted,
        args.out.display()
    );
    Ok(())
}

fn bench_train_speed(args: TrainSpeedArgs, quiet: bool) -> Result<()> {
    if args.batches == 0 || args.batch_size == 0 || args.vocab < 52 {
        usage!("--batches and --batch-size must be at least 1, --vocab at least 52");
    }
    let models = args
        .models
        .iter()
        .map(|m| m.parse::<ModelKind>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let settings = crate::bench::TrainSpeedSettings {
        vocab: args.vocab,
        batch: args.batch_size,
        batches: args.batches,
        warmup: args.warmup,
        models: models.clone(),
    };
    let procs = args
        .procs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut results = Vec::new();
    for &kind in &models {
        if !quiet {
            eprintln!("timing glider {kind} ...");
        }
        let ours = crate::bench::train_speed(&settings, kind)?;
        let mut reference = None;
        if let Some(python) = &args.pytorch {
            if !matches!(kind, ModelKind::DeepFm | ModelKind::AutoInt) {
                bail!("the PyTorch reference has deepfm and autoint only");
            }
            if !quiet {
                eprintln!("timing PyTorch {kind} ({procs} processes, 1 thread each) ...");
            }
            let out = std::process::Command::new(python)
                .arg(&args.pytorch_script)
                .args(["--model", kind.name()])
                .args(["--vocab", &args.vocab.to_string()])
                .args(["--batch", &args.batch_size.to_string()])
                .args(["--batches", &args.batches.to_string()])
                .args(["--warmup", &args.warmup.to_string()])
                .args(["--procs", &procs.to_string()])
                .output()
                .with_context(|| format!("running {python} {}", args.pytorch_script))?;
            if !out.status.success() {
                bail!(
                    "the PyTorch reference failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .context("the PyTorch reference printed no JSON")?;
            reference = Some(v);
        }
        let theirs = reference
            .as_ref()
            .and_then(|v| v["rows_per_second"].as_f64());
        let flops = crate::bench::training_flops_per_row(kind);
        results.push(crate::bench::TrainSpeed {
            model: kind.name().to_string(),
            rows_per_second: ours,
            pytorch_rows_per_second: theirs,
            ratio: theirs.map(|t| ours / t),
            pytorch: reference,
            flops_per_row: flops,
            glider_gflops: flops.map(|f| f * ours / 1e9),
            pytorch_gflops: flops.zip(theirs).map(|(f, t)| f * t / 1e9),
        });
    }
    // The machine's ceiling for these kernels, measured now: the best single-thread 1024³
    // product rate, on every thread at once, summed.
    let threads = rayon::current_num_threads();
    let sgemm_ceiling_gflops: f64 = {
        use rayon::prelude::*;
        (0..threads)
            .into_par_iter()
            .map(|_| glider_nn::fast_mlp::sgemm_gflops(1024, 3))
            .sum()
    };
    let (peak_gflops, peak_note) = crate::bench::fp32_peak(threads);
    #[derive(serde::Serialize)]
    struct Out<'a> {
        settings: &'a crate::bench::TrainSpeedSettings,
        embedding_rows: usize,
        results: &'a [crate::bench::TrainSpeed],
        /// Summed best 1024³ sgemm rate of all threads at once (gemm crate), GFLOP/s.
        sgemm_ceiling_gflops: f64,
        /// The nominal fp32 peak of the cores, GFLOP/s, and how it was estimated.
        peak_gflops: Option<f64>,
        peak_note: String,
    }
    let embedding_rows = 13
        + crate::bench::criteo_like_cardinalities(args.vocab)
            .iter()
            .map(|c| c + 2)
            .sum::<usize>();
    write_bench(
        &args.out,
        &Out {
            settings: &settings,
            embedding_rows,
            results: &results,
            sgemm_ceiling_gflops,
            peak_gflops,
            peak_note: peak_note.clone(),
        },
    )?;
    say!(
        "Training throughput, Criteo format (13 dense + 26 categorical, {embedding_rows} embedding rows), batch {}:",
        args.batch_size
    );
    for r in &results {
        match (r.pytorch_rows_per_second, r.ratio) {
            (Some(t), Some(ratio)) => say!(
                "  {:<8} glider {:>9.0} rows/s   PyTorch {:>9.0} rows/s   ratio {ratio:.2}x",
                r.model,
                r.rows_per_second,
                t
            ),
            _ => say!("  {:<8} glider {:>9.0} rows/s", r.model, r.rows_per_second),
        }
        match (r.glider_gflops, r.pytorch_gflops) {
            (Some(g), Some(t)) => say!(
                "           dense GFLOP/s: glider {g:.1}, PyTorch {t:.1}; 2x PyTorch needs {:.1}",
                2.0 * t
            ),
            (Some(g), None) => say!("           dense GFLOP/s: glider {g:.1}"),
            _ => {}
        }
    }
    say!(
        "  ceiling: gemm's best 1024^3 product on {threads} threads {sgemm_ceiling_gflops:.1} GFLOP/s; \
         nominal peak {} ({peak_note})",
        peak_gflops.map_or("?".into(), |p| format!("{p:.1} GFLOP/s"))
    );
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

fn bench_antehoc(args: AnteHocArgs, quiet: bool) -> Result<()> {
    if args.trials == 0 || args.epochs == 0 || args.glider.instances == 0 {
        usage!("--trials, --epochs and --instances must be at least 1");
    }
    let models = args
        .models
        .iter()
        .map(|m| {
            let k: ModelKind = m.parse().map_err(anyhow::Error::msg)?;
            if !k.has_interaction_maps() {
                bail!("{k} has no attention maps (autoint, autoint+, fibinet, interhat do)");
            }
            Ok(k)
        })
        .collect::<Result<Vec<_>>>()?;
    let settings = crate::bench::AnteHocSettings {
        data: args.synth.config()?,
        trials: args.trials,
        models,
        source: args.source_model.parse().map_err(anyhow::Error::msg)?,
        epochs: args.epochs,
        glider: glider_params(&args.glider, 0)?,
    };
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let scores = crate::bench::antehoc(&settings, &bars)?;
    #[derive(serde::Serialize)]
    struct Out<'a> {
        settings: &'a crate::bench::AnteHocSettings,
        methods: &'a [crate::bench::AnteHocScore],
    }
    write_bench(
        &args.out,
        &Out {
            settings: &settings,
            methods: &scores,
        },
    )?;
    say!(
        "Planted {:?} in {} fields, {} rows, {} trial(s): pairwise AUC of each field-pair ranking",
        settings.data.planted,
        settings.data.cardinalities.len(),
        settings.data.rows,
        settings.trials
    );
    say!(
        "  {:<16} {:>16} {:>14}",
        "method",
        "pairwise AUC",
        "model test AUC"
    );
    for s in &scores {
        let t = s.test_auc.iter().sum::<f64>() / s.test_auc.len().max(1) as f64;
        say!(
            "  {:<16} {:>8.3} ± {:<5.3} {:>14.4}",
            s.method,
            s.mean,
            s.std,
            t
        );
    }
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

fn bench_models(args: ModelsBenchArgs, quiet: bool) -> Result<()> {
    if args.seeds == 0 {
        usage!("--seeds must be at least 1");
    }
    let kinds = args.model.kinds()?;
    let (data, split) = load(&args.data, args.seed)?;
    let encoder_options = args.data.encoder_options()?;
    #[derive(serde::Serialize)]
    struct Out<'a> {
        data: &'a str,
        rows: crate::bench::RowCountsOut,
        seeds: usize,
        models: &'a [crate::bench::ModelRow],
    }
    let bars = Bars::new(quiet, crate::ui::verbose() > 0);
    let mut rows = Vec::new();
    for &kind in &kinds {
        let params = args.model.params(kind)?;
        let row = crate::bench::model_row(
            kind,
            &params,
            &data,
            &split,
            &encoder_options,
            args.first_seed..args.first_seed + args.seeds as u64,
            &bars,
        )?;
        if !quiet {
            eprintln!("{}", row.line());
        }
        rows.push(row);
        // Rewritten after every model, so a stopped run keeps the models it finished.
        write_bench(
            &args.out,
            &Out {
                data: &data.source,
                rows: crate::bench::RowCountsOut {
                    train: split.train.len(),
                    validation: split.validation.len(),
                    test: split.test.len(),
                },
                seeds: args.seeds,
                models: &rows,
            },
        )?;
    }
    say!(
        "{}: {} train / {} validation / {} test rows, {} seeds per model",
        data.source,
        split.train.len(),
        split.validation.len(),
        split.test.len(),
        args.seeds
    );
    say!("{}", crate::bench::ModelRow::header());
    for r in &rows {
        say!("{}", r.line());
    }
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

fn bench_nid(args: NidBenchArgs, quiet: bool) -> Result<()> {
    use glider_core::synthetic_functions::SyntheticFunction;
    let functions = args
        .functions
        .iter()
        .map(|f| {
            SyntheticFunction::parse(f)
                .ok_or_else(|| anyhow::anyhow!("unknown function {f:?} (F1..F10)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let settings = crate::bench::NidBenchSettings {
        samples: args.samples,
        trials: args.trials,
        nid: args.nid.settings(glider_nn::additive::Task::Regression)?,
    };
    let scores = crate::bench::nid(&functions, &settings, &note(quiet))?;
    #[derive(serde::Serialize)]
    struct Out<'a> {
        settings: &'a crate::bench::NidBenchSettings,
        functions: &'a [crate::bench::NidScore],
        mean_pairwise_auc: f64,
    }
    let mean = scores.iter().map(|s| s.auc_mean).sum::<f64>() / scores.len().max(1) as f64;
    write_bench(
        &args.out,
        &Out {
            settings: &settings,
            functions: &scores,
            mean_pairwise_auc: mean,
        },
    )?;
    say!(
        "NID ({:?} main effects, {:?}), {} trial(s) per function:",
        settings.nid.main_effects,
        settings.nid.mlp.hidden,
        args.trials
    );
    say!(
        "  {:<4} {:>16} {:>12} {:>9} {:>14} {:>16}",
        "fn",
        "pairwise AUC",
        "R-precision",
        "R-prec=1",
        "paper NID MLP",
        "paper NID MLP-M"
    );
    for s in &scores {
        say!(
            "  {:<4} {:>8.3} ± {:.3} {:>12.2} {:>5}/{:<3} {:>14.3} {:>16.3}",
            s.function,
            s.auc_mean,
            s.auc_std,
            s.r_precision_mean,
            s.r_precision_perfect,
            s.pairwise_auc.len(),
            s.published_mlp,
            s.published_mlp_m
        );
        if !s.cutoff_k.is_empty() {
            say!(
                "       cut-off K per trial {:?} (truth: {} sets)",
                s.cutoff_k,
                s.truth_sets
            );
        }
    }
    say!("  mean {mean:.3}");
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

/// A progress callback that prints each message on stderr unless `quiet`.
fn note(quiet: bool) -> impl Fn(&str) + Sync {
    move |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    }
}

/// Writes a benchmark's results to `out/bench.json` (atomically), creating the folder.
fn write_bench<T: serde::Serialize>(out: &Path, value: &T) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_json(&out.join("bench.json"), value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The command line's GLIDER defaults are the library's (the Python package takes
    /// those), so the two front ends explain with the same settings.
    #[test]
    fn glider_flag_defaults_are_the_library_defaults() {
        assert_eq!(
            GliderArgs::parse_defaults().settings(),
            GliderSettings::default()
        );
    }

    /// Every `glider …` and `cargo run --release -- …` command line in README.md's code
    /// blocks, with `\` continuations joined and `#` comments dropped.
    fn readme_commands() -> Vec<Vec<String>> {
        let readme = include_str!("../README.md");
        let mut out = Vec::new();
        let mut in_block = false;
        let mut pending = String::new();
        for line in readme.lines() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
                continue;
            }
            if !in_block {
                continue;
            }
            let text = line.split(" #").next().unwrap_or("").trim();
            if let Some(head) = text.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(text);
            let full = std::mem::take(&mut pending);
            let words = split_words(&full);
            let args: Vec<String> = match words.first().map(String::as_str) {
                Some("glider") => words,
                Some("cargo") if words.iter().any(|w| w == "--") => {
                    let at = words.iter().position(|w| w == "--").unwrap_or(0);
                    std::iter::once("glider".to_string())
                        .chain(words[at + 1..].iter().cloned())
                        .collect()
                }
                _ => continue,
            };
            out.push(args);
        }
        out
    }

    /// Shell-like word splitting with single and double quotes.
    fn split_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut quote: Option<char> = None;
        let mut has = false;
        for ch in line.chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => cur.push(c),
                (None, '"' | '\'') => {
                    quote = Some(ch);
                    has = true;
                }
                (None, c) if c.is_whitespace() => {
                    if has || !cur.is_empty() {
                        words.push(std::mem::take(&mut cur));
                        has = false;
                    }
                }
                (None, c) => cur.push(c),
            }
        }
        if has || !cur.is_empty() {
            words.push(cur);
        }
        words
    }

    /// Every subcommand (and bench subcommand) shows an example in its --help.
    #[test]
    fn every_subcommand_help_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let name = format!("{path} {}", sub.get_name());
                if sub.has_subcommands() {
                    walk(sub, &name, missing);
                    continue;
                }
                let after = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !after.contains("glider ") {
                    missing.push(name);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "glider", &mut missing);
        assert!(missing.is_empty(), "no example in --help: {missing:?}");
    }

    /// The README cannot drift: every command line it shows parses with the real parser,
    /// and every subcommand (and bench subcommand) appears in it.
    #[test]
    fn readme_commands_parse_and_cover_every_subcommand() {
        let commands = readme_commands();
        assert!(commands.len() >= 10, "found only {commands:?}");
        for args in &commands {
            match Cli::try_parse_from(args) {
                Ok(_) => {}
                // Required flags may come from the --config file, which the README only names.
                Err(e)
                    if args.iter().any(|a| a == "--config")
                        && e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {}
                Err(e) => panic!("README command {args:?} does not parse: {e}"),
            }
        }
        let readme = include_str!("../README.md");
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            if name == "help" {
                continue;
            }
            assert!(
                readme.contains(&format!("glider {name}"))
                    || readme.contains(&format!("-- {name}")),
                "subcommand {name} is not in README.md"
            );
            for inner in sub.get_subcommands() {
                let full = format!("glider {name} {}", inner.get_name());
                assert!(
                    inner.get_name() == "help" || readme.contains(&full),
                    "{full} is not in README.md"
                );
            }
        }
    }

    /// The command line of issue 3, bare `--main-effects` included, parses.
    #[test]
    fn issue_nid_command_line_parses() {
        let cli = Cli::try_parse_from([
            "glider",
            "nid",
            "--data",
            "f.csv",
            "--label",
            "y",
            "--task",
            "regression",
            "--main-effects",
            "--cutoff",
            "--seed",
            "3",
            "--ensemble",
            "2",
            "--out",
            "d",
        ])
        .expect("parses");
        let Command::Nid(args) = cli.command else {
            panic!("not nid");
        };
        assert_eq!(args.nid.main_effects, MainArg::Univariate);
        assert!(args.nid.cutoff);
        assert_eq!((args.seed, args.nid.ensemble), (3, 2));
    }

    #[test]
    fn split_words_handles_quotes() {
        assert_eq!(
            split_words(r#"glider run --positive ">50K" --x 'a b'"#),
            vec!["glider", "run", "--positive", ">50K", "--x", "a b"]
        );
    }
}

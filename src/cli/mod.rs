//! Command-line arguments and the subcommands: one module per group of subcommands, each
//! holding its arguments and a handler that calls the library (`glider_app`) and prints.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod bench;
mod detect;
mod encode;
mod nid;
mod run;
#[cfg(test)]
mod tests;
mod train;

pub use glider_app::Usage;

/// Find the feature interactions a recommender has learned, and put them to work.
///
/// glider trains a click-through-rate model, explains it with GLIDER (perturb fields around
/// many instances, fit a local MLP surrogate, read interactions from its weights with NID,
/// count which recur), encodes the top interactions as cross features and retrains, reporting
/// the change in test AUC and logloss.
///
/// Exit codes: 0 success, 1 runtime error (bad data, failed training), 2 usage error.
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
    #[command(after_help = run::RUN_EXAMPLES)]
    Run(Box<run::RunArgs>),
    /// `glider run` on the embedded Adult census data (CC BY 4.0), sized for a laptop.
    #[command(after_help = "Example:\n  glider demo --out out/demo")]
    Demo(run::DemoArgs),
    /// Train a recommender and save it (model.safetensors, model.json, metrics.json).
    #[command(after_help = "Example:\n  glider train --data embedded:adult --out out/adult-model")]
    Train(Box<train::TrainArgs>),
    /// Score a file with a trained model: a CSV of row, probability, logit.
    #[command(
        after_help = "Example:\n  glider predict --model-dir out/adult-model --data new.csv --out scores.csv"
    )]
    Predict(Box<train::PredictArgs>),
    /// An attention model's own interaction maps (AutoInt, AutoInt+, FiBiNET, InterHAt),
    /// averaged over the first rows of a file, with field pairs ranked by a documented
    /// symmetric rule; writes attention.json and attention_heatmap.svg.
    #[command(
        after_help = "Example:\n  glider train --data embedded:adult --model autoint --out out/autoint\n  glider attention --model-dir out/autoint --data adult.csv --out out/attention"
    )]
    Attention(Box<train::AttentionArgs>),
    /// Explain a trained model with GLIDER on the first N rows of a file (shardable,
    /// resumable); writes global_interactions.json, local.jsonl and detect.json.
    #[command(after_help = "Examples:
  glider detect --model-dir out/adult-model --data adult.csv --instances 1000 --out out/detect
  glider detect --model-dir M --data F --shard 1/2 --out out/s1   (and --shard 2/2 --out out/s2)
  glider merge out/s1 out/s2 --out out/merged")]
    Detect(Box<detect::DetectArgs>),
    /// GLIDER's interactions as cross features on files: fit crosses from a
    /// global_interactions.json and append them (crosses.json + data.csv), or apply a
    /// crosses.json fitted before to another file.
    #[command(after_help = "Examples:
  glider encode --data train.csv --label click --interactions out/run/global_interactions.json --out out/enc
  glider encode --data test.csv --label click --apply out/enc/crosses.json --out out/enc-test")]
    Encode(Box<encode::EncodeArgs>),
    /// Serve a trained model over HTTP with the Open Inference Protocol (KServe v2), so any
    /// client of the protocol, and `--black-box` here, can score it. Runs until SIGTERM or
    /// Ctrl-C, then turns not ready, lets requests in flight finish and exits 0.
    #[command(after_help = "Example:
  glider serve --model-dir out/model --port 8080
  glider detect --black-box http://127.0.0.1:8080/v2/models/model --data clicks.csv --label clicked --out out/detect-http")]
    Serve(Box<detect::ServeArgs>),
    /// What an ONNX file declares (inputs, outputs with their shapes and types) and which
    /// output glider reads as the score, with a starter --mapping to edit.
    #[command(after_help = "Example:\n  glider inspect-onnx model.onnx > mapping.json.txt")]
    InspectOnnx(detect::InspectOnnxArgs),
    /// Combine the shards of one `glider detect` run into its global interactions.
    #[command(after_help = "Example:\n  glider merge out/s1 out/s2 --out out/merged")]
    Merge(detect::MergeArgs),
    /// NID on any table: train the interaction MLP (MLP-M), rank pairwise and any-order
    /// interactions from its weights, and with --cutoff say how many are real; writes
    /// interactions.json.
    #[command(after_help = nid::NID_EXAMPLES)]
    Nid(Box<nid::NidArgs>),
    /// Generate synthetic CTR data with planted field interactions (a ground truth to test
    /// GLIDER and the attention maps on); writes data.csv and planted.json.
    #[command(
        after_help = "Example:\n  glider synth --rows 200000 --planted \"0,1;2,3;4,8,11\" --out out/synth\n  glider synth --rows 100000 --layout-seed 7 --out out/layout7   # a random layout\n  glider run --data out/synth/data.csv --label click --out out/synth-run"
    )]
    Synth(Box<encode::SynthCmdArgs>),
    /// Benchmarks, each against a reference measured in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

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
            Command::Encode(args) if args.writes_no_spec() => ("encode", None),
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
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(args) => run::run(*args, quiet),
        Command::Demo(args) => run::demo(args, quiet),
        Command::Train(args) => train::train(*args, quiet),
        Command::Predict(args) => train::predict(*args),
        Command::Attention(args) => train::attention(*args),
        Command::Detect(args) => detect::detect(*args, quiet),
        Command::InspectOnnx(args) => detect::inspect_onnx(&args),
        Command::Encode(args) => encode::encode(*args),
        Command::Serve(args) => detect::serve(*args),
        Command::Merge(args) => detect::merge(args),
        Command::Nid(args) => nid::nid(*args, quiet),
        Command::Synth(args) => encode::synth(*args),
        Command::Bench(command) => bench::dispatch(command, quiet),
    }
}

/// The progress bars of a long command: hidden with `--quiet`, kept line by line with `-v`.
fn bars(quiet: bool) -> glider_app::progress::Bars {
    glider_app::progress::Bars::new(quiet, crate::ui::verbose() > 0)
}

/// A progress callback that prints each message on stderr unless `quiet`.
fn note(quiet: bool) -> impl Fn(&str) + Sync {
    move |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    }
}

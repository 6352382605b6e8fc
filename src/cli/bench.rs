//! `glider bench …`: the benchmarks behind BENCHMARKS.md, each against a reference measured
//! in the same run; the work is in `glider_app::bench`, this module parses and prints.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use glider_app::bench;
use glider_app::data::DataOptions;
use glider_app::settings::{GliderSettings, ModelSettings, NidOptions};
use glider_app::usage;
use glider_explain::LocalParams;
use glider_nn::ctr::ModelKind;

use crate::ui::say;

#[derive(Subcommand, Debug)]
pub(super) enum BenchCommand {
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
    /// `glider serve` under load and abuse on 127.0.0.1: requests/s, rows/s and p50/p99
    /// latency at 1 and 256 rows per request from 8, 32 and 64 client threads, without and
    /// with 2 × --workers stalled uploads; the server's memory after 1,000, 10,000 and
    /// --requests single-row requests.
    #[command(
        after_help = "Example:\n  glider bench serve --model-dir out/model --out out/bench-serve"
    )]
    Serve(ServeBenchArgs),
    /// Ante-hoc vs post-hoc on planted interactions: AutoInt's, FiBiNET's and InterHAt's
    /// field-pair rankings and GLIDER's, scored by pairwise AUC against the planted truth.
    #[command(
        after_help = "Example:\n  glider bench antehoc --trials 3 --instances 100 --out out/bench-antehoc"
    )]
    Antehoc(Box<AnteHocArgs>),
    /// Training throughput (rows/s) of DeepFM, AutoInt+, xDeepFM (CIN 200-200-200) and AutoInt on Criteo-format data with a
    /// vocabulary of about 1M values, batch 1024, optionally against PyTorch in the same run.
    #[command(
        after_help = "Example:\n  glider bench train-speed --pytorch python3 --out out/bench-train-speed\n\nThe PyTorch reference (scripts/pytorch_ctr_throughput.py) needs `pip install torch`."
    )]
    TrainSpeed(TrainSpeedArgs),
    /// Rows per second of the ONNX black box (tract, in-process) on random rows of a model
    /// with one declared-width input; scripts/bench_onnx_speed.py sets it beside the model's
    /// own framework and ONNX Runtime in the same run.
    #[command(
        after_help = "Example:\n  glider bench onnx-speed --onnx tests/fixtures/conv_xgboost.onnx --out out/bench-onnx"
    )]
    OnnxSpeed(OnnxSpeedArgs),
    /// GLIDER's detect stage with glider's local settings and with the paper's (spec 3.1:
    /// 6,000 perturbations, a 256-128-64 surrogate, batch 100, patience 5) on the same
    /// instances in the same run: seconds, the ratio, and the share of the paper settings'
    /// global top 20 the defaults also select.
    #[command(
        after_help = "Example:\n  glider train --data embedded:adult --out out/adult-model\n  glider bench detect-speed --model-dir out/adult-model --data embedded:adult --noise-floor --out out/bench-detect-speed"
    )]
    DetectSpeed(DetectSpeedArgs),
    /// GLIDER on random synthetic layouts (`glider synth --layout-seed`): per layout, train
    /// the source model, detect with K = the number of planted sets, and measure what the
    /// model holds of every field set (its mean pure effect), so a miss is told apart from a
    /// set the model never learned. Reports exact-set and pairwise recall.
    #[command(
        after_help = "Example:\n  glider bench glider --layouts 10 --rows 50000 --instances 100 --out out/bench-glider\n  glider bench glider --layouts 10 --local-cutoff off --out out/bench-glider-off   # the paper's counting"
    )]
    Glider(Box<GliderBenchArgs>),
}

#[derive(Args, Debug)]
pub(super) struct GliderBenchArgs {
    /// Layouts: seeds --first-layout, --first-layout + 1, …
    #[arg(long, default_value_t = 10)]
    layouts: usize,
    /// The first layout seed.
    #[arg(long, default_value_t = 0)]
    first_layout: u64,
    /// Rows per layout (split 80/10/10).
    #[arg(long, default_value_t = 50_000)]
    rows: usize,
    /// The model trained on each layout and explained.
    #[arg(long, default_value = "deepfm")]
    source_model: String,
    /// Its maximum epochs [default: the architecture's].
    #[arg(long)]
    epochs: Option<usize>,
    /// Instances (the first of those explained) over which each set's pure effect in the
    /// trained model is averaged.
    #[arg(long, default_value_t = 100)]
    effect_instances: usize,
    #[command(flatten)]
    glider: GliderSettings,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-glider")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct DetectSpeedArgs {
    /// A model trained by `glider train`.
    #[arg(long)]
    model_dir: PathBuf,
    /// Data the model reads (`embedded:adult` for the bundled data); its first --instances
    /// rows are explained.
    #[arg(long)]
    data: PathBuf,
    /// Instances explained by each run.
    #[arg(long, default_value_t = 1000)]
    instances: usize,
    /// Also run the paper's settings at seed 1: the agreement two runs of the same settings
    /// reach (the noise floor the defaults' agreement is read against).
    #[arg(long)]
    noise_floor: bool,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-detect-speed")]
    out: PathBuf,
}

fn bench_detect_speed(args: DetectSpeedArgs, quiet: bool) -> Result<()> {
    if args.instances == 0 {
        usage!("--instances must be at least 1");
    }
    let r = bench::detect_speed(
        &args.model_dir,
        &args.data,
        args.instances,
        args.noise_floor,
        super::note(quiet),
    )?;
    bench::write(&args.out, &r)?;
    say!(
        "GLIDER's detect stage on {} instances of {} ({} threads), global top {}:",
        r.instances,
        r.data,
        r.threads,
        r.top_k
    );
    say!(
        "  {:<20} {:>6} {:>12} {:>6} {:>9} {:>9} {:>7} {:>10}",
        "settings",
        "masks",
        "surrogate",
        "batch",
        "patience",
        "seconds",
        "epochs",
        "agreement"
    );
    for run in &r.runs {
        let hidden: Vec<String> = run.surrogate_hidden.iter().map(|h| h.to_string()).collect();
        say!(
            "  {:<20} {:>6} {:>12} {:>6} {:>9} {:>9.1} {:>7.1} {:>9.0}%",
            run.settings,
            run.perturbations,
            hidden.join("-"),
            run.surrogate_batch,
            run.surrogate_patience
                .map_or("off".to_string(), |p| p.to_string()),
            run.seconds,
            run.mean_epochs,
            100.0 * run.agreement
        );
    }
    say!(
        "  defaults {:.1}× faster than the paper's settings",
        r.speedup
    );
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

#[derive(Args, Debug)]
pub(super) struct OnnxSpeedArgs {
    /// The ONNX model (one input of declared width).
    #[arg(long)]
    onnx: PathBuf,
    /// Rows per timed run.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Rows per call to the model (`--request-rows` of the black box).
    #[arg(long, default_value_t = 4096)]
    batch: usize,
    /// Timed runs (the best is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-onnx-speed")]
    out: PathBuf,
}

fn bench_onnx_speed(args: OnnxSpeedArgs) -> Result<()> {
    #[cfg(feature = "onnx")]
    {
        let r = bench::onnx_speed(&args.onnx, args.rows, args.batch, args.repeats, 0)?;
        bench::write(&args.out, &r)?;
        say!(
            "{}: {} rows of {} columns in batches of {}: {:.3} s, {:.0} rows/s (tract for \
             every graph: {:.0} rows/s, ratio {:.1})",
            r.model,
            r.rows,
            r.width,
            r.batch,
            r.seconds,
            r.rows_per_s,
            r.tract_rows_per_s,
            r.rows_per_s / r.tract_rows_per_s
        );
        say!("Wrote {}", args.out.join("bench.json").display());
        Ok(())
    }
    #[cfg(not(feature = "onnx"))]
    {
        let _ = args;
        usage!(
            "this glider was built without ONNX support (cargo feature `onnx`, off by default): \
                 rebuild with `cargo build --release --features onnx`; the Python package has it"
        )
    }
}

#[derive(Args, Debug)]
pub(super) struct TrainSpeedArgs {
    /// Architectures (comma separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "deepfm,autoint+,xdeepfm,autoint"
    )]
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
    /// Timings of each side per model, alternating glider and PyTorch (which goes first
    /// alternates too); each side's best is reported, so a machine whose speed drifts from
    /// minute to minute favours neither.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-train-speed")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct AnteHocArgs {
    #[command(flatten)]
    synth: super::encode::SynthArgs,
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
    glider: GliderSettings,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-antehoc")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct ModelsBenchArgs {
    #[command(flatten)]
    data: DataOptions,
    #[command(flatten)]
    model: ModelSettings,
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
pub(super) struct NidSpeedArgs {
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
pub(super) struct NidBenchArgs {
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
    nid: NidOptions,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-nid")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct LocalBenchArgs {
    /// Seeds of the NID surrogate per function (ArchDetect is deterministic).
    #[arg(long, default_value_t = 3)]
    trials: usize,
    /// Perturbations per surrogate fit (default: those of the local settings used, 6,000 at
    /// the functions' 40 fields).
    #[arg(long)]
    perturbations: Option<usize>,
    /// Use the paper's local settings (spec 3.1: 6,000 perturbations, a 256-128-64 surrogate,
    /// batch 100, patience 5) instead of glider's defaults.
    #[arg(long)]
    reference: bool,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-local")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct SpeedArgs {
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
pub(super) struct LocalSpeedArgs {
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

fn bench_speed(args: SpeedArgs, quiet: bool) -> Result<()> {
    let settings = bench::SpeedSettings {
        fields: args.fields,
        perturbations: args.perturbations,
        epochs: args.epochs,
        fits: args.fits,
        nid_features: 1000,
        nid_units: 256,
    };
    let report = bench::speed(settings, super::note(quiet))?;
    bench::write(&args.out, &report)?;
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
    let settings = bench::NidSpeedSettings {
        score_features: 1000,
        score_units: 256,
        score_reps: 7,
        features: 10,
        rows: 10_000,
        epochs: args.epochs.max(1),
        parallel,
        pytorch: args.pytorch.map(|p| [p, args.pytorch_script]),
    };
    let report = bench::nid_speed(settings, super::note(quiet))?;
    bench::write(&args.out, &report)?;
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
    let settings = bench::LocalSpeedSettings {
        instances: args.instances,
        fields: args.fields,
        perturbations: args.perturbations,
        epochs: args.epochs,
        parallel,
        pytorch: args.pytorch.map(|p| [p, args.pytorch_script]),
    };
    let r = bench::local_speed(settings, super::note(quiet))?;
    bench::write(&args.out, &r)?;
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
    let base = if args.reference {
        LocalParams::reference()
    } else {
        LocalParams::default()
    };
    let params = LocalParams {
        num_perturbations: args.perturbations.unwrap_or(base.num_perturbations),
        perturbations_per_field: match args.perturbations {
            Some(_) => 0,
            None => base.perturbations_per_field,
        },
        ..base
    };
    let scores = bench::local(args.trials, &params, super::note(quiet))?;
    bench::write(&args.out, &scores)?;
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

#[derive(Args, Debug)]
pub(super) struct ServeBenchArgs {
    /// A folder written by `glider train`, served by `glider serve` on 127.0.0.1 for the run.
    #[arg(long)]
    model_dir: PathBuf,
    /// The server's --workers (the stalled phase opens twice as many stalled uploads).
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Single-row requests of the memory run (from 64 client threads; at least 10,000).
    #[arg(long, default_value_t = 100_000)]
    requests: usize,
    /// Requests per point of the latency table at 1 row per request (fewer at 256 rows).
    #[arg(long, default_value_t = 2000)]
    point_requests: usize,
    /// Another glider binary (say, a build of an older commit) whose `serve` is measured
    /// first, the same way, as the reference.
    #[arg(long, value_name = "GLIDER")]
    reference_bin: Option<PathBuf>,
    /// Output folder for bench.json.
    #[arg(long, default_value = "out/bench-serve")]
    out: PathBuf,
}

/// Starts `exe serve` on a free loopback port and measures it.
fn measure_serve(
    exe: &std::path::Path,
    args: &ServeBenchArgs,
    quiet: bool,
) -> Result<glider_app::serve_bench::ServeBenchReport> {
    use std::io::BufRead as _;
    let mut server = std::process::Command::new(exe)
        .args(["serve", "--port", "0", "--host", "127.0.0.1", "--model-dir"])
        .arg(&args.model_dir)
        .args(["--workers", &args.workers.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting {} serve: {e}", exe.display()))?;
    let mut line = String::new();
    if let Some(out) = server.stdout.take() {
        std::io::BufReader::new(out).read_line(&mut line)?;
    }
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        let _ = server.kill();
        let _ = server.wait();
        anyhow::bail!(
            "{} serve did not start (it printed {line:?})",
            exe.display()
        );
    };
    let settings = glider_app::serve_bench::ServeBenchSettings {
        url: url.to_string(),
        pid: server.id(),
        workers: args.workers,
        memory_requests: args.requests,
        point_requests: args.point_requests,
        ..Default::default()
    };
    let report = glider_app::serve_bench::serve_load(&settings, super::note(quiet));
    let _ = server.kill();
    let _ = server.wait();
    report
}

fn print_serve(title: &str, report: &glider_app::serve_bench::ServeBenchReport) {
    say!("{title}, {} workers, on 127.0.0.1:", report.workers);
    say!(
        "  {:>4} {:>7} {:>7} {:>9} {:>10} {:>8} {:>8} {:>6}",
        "rows",
        "threads",
        "stalled",
        "req/s",
        "rows/s",
        "p50 ms",
        "p99 ms",
        "errors"
    );
    for p in &report.points {
        say!(
            "  {:>4} {:>7} {:>7} {:>9.0} {:>10.0} {:>8.1} {:>8.1} {:>6}",
            p.rows,
            p.threads,
            p.stalled,
            p.requests_per_s,
            p.rows_per_s,
            p.p50_ms,
            p.p99_ms,
            p.errors
        );
    }
    say!(
        "  resident memory: {:.1} MiB at start",
        report.rss_start_mib
    );
    for m in &report.memory {
        say!(
            "    after {:>7} requests: {:.1} MiB ({} errors)",
            m.requests,
            m.rss_mib,
            m.errors
        );
    }
    say!("    last / after 1,000: {:.3}", report.memory_ratio);
}

fn bench_serve(args: ServeBenchArgs, quiet: bool) -> Result<()> {
    let reference = match &args.reference_bin {
        Some(exe) => Some(measure_serve(exe, &args, quiet)?),
        None => None,
    };
    let report = measure_serve(&std::env::current_exe()?, &args, quiet)?;
    if let (Some(r), Some(exe)) = (&reference, &args.reference_bin) {
        print_serve(&format!("Reference {}", exe.display()), r);
    }
    print_serve("glider serve", &report);
    bench::write(
        &args.out,
        &serde_json::json!({ "result": report, "reference": reference }),
    )?;
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

pub(super) fn dispatch(command: BenchCommand, quiet: bool) -> Result<()> {
    match command {
        BenchCommand::Serve(args) => bench_serve(args, quiet),
        BenchCommand::OnnxSpeed(args) => bench_onnx_speed(args),
        BenchCommand::DetectSpeed(args) => bench_detect_speed(args, quiet),
        BenchCommand::Speed(args) => bench_speed(args, quiet),
        BenchCommand::Local(args) => bench_local(args, quiet),
        BenchCommand::LocalSpeed(args) => bench_local_speed(args, quiet),
        BenchCommand::Nid(args) => bench_nid(args, quiet),
        BenchCommand::NidSpeed(args) => bench_nid_speed(args, quiet),
        BenchCommand::Models(args) => bench_models(*args, quiet),
        BenchCommand::Antehoc(args) => bench_antehoc(*args, quiet),
        BenchCommand::TrainSpeed(args) => bench_train_speed(args, quiet),
        BenchCommand::Glider(args) => bench_glider(*args, quiet),
    }
}

fn bench_glider(args: GliderBenchArgs, quiet: bool) -> Result<()> {
    if args.layouts == 0 || args.rows < 100 || args.glider.instances == 0 {
        usage!("--layouts and --instances must be at least 1, --rows at least 100");
    }
    if args.effect_instances == 0 {
        usage!("--effect-instances must be at least 1");
    }
    if args.epochs == Some(0) {
        usage!("--epochs must be at least 1");
    }
    let settings = bench::GliderBenchSettings {
        first_layout: args.first_layout,
        layouts: args.layouts,
        rows: args.rows,
        source: args.source_model.parse().map_err(anyhow::Error::msg)?,
        epochs: args.epochs,
        glider: args.glider.check(0)?,
        effect_instances: args.effect_instances,
    };
    let report = bench::glider_layouts(&settings, &super::bars(quiet))?;
    bench::write(&args.out, &report)?;
    say!(
        "GLIDER on {} random layouts ({} rows each, {}), K = planted sets per layout:",
        args.layouts,
        args.rows,
        args.source_model
    );
    say!(
        "  {:<7} {:>6} {:>9} {:>12} {:>11}  planted -> top K",
        "layout",
        "fields",
        "test AUC",
        "exact recall",
        "pair recall"
    );
    for l in &report.layouts {
        say!(
            "  {:<7} {:>6} {:>9.4} {:>12.2} {:>11.2}  {:?} -> {:?}",
            l.layout,
            l.fields,
            l.test_auc,
            l.exact_recall,
            l.pair_recall,
            l.planted,
            l.top_k
        );
    }
    say!(
        "  {:<7} {:<14} {:>6} {:>11} {:>11} {:>10} {:>6}  held",
        "layout",
        "set",
        "scale",
        "pure effect",
        "best subset",
        "spurious",
        "rank"
    );
    for p in &report.planted {
        say!(
            "  {:<7} {:<14} {:>6.2} {:>11.3} {:>11.3} {:>10.3} {:>6}  {:?}{}{}",
            p.layout,
            format!("{:?}", p.set),
            p.scale,
            p.pure_effect,
            p.best_subset_effect,
            p.strongest_spurious,
            p.rank.map_or("-".to_string(), |r| r.to_string()),
            p.held,
            if p.exact_in_top_k { ", in top K" } else { "" },
            match p.subsets_reported {
                Some(true) => ", subsets reported",
                Some(false) => ", subsets not reported",
                None => "",
            }
        );
    }
    let (itself, itself_found) = report.held_itself();
    let (through, through_ok) = report.held_through_subsets();
    say!(
        "Held by the model itself: {itself} sets, {itself_found} in their layout's top K as that \
         exact set ({:.0}%).",
        100.0 * itself_found as f64 / itself.max(1) as f64
    );
    say!(
        "Held only through subsets: {through} sets, {through_ok} reported as those subsets with \
         no spurious set above them ({:.0}%).",
        100.0 * through_ok as f64 / through.max(1) as f64
    );
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

fn bench_train_speed(args: TrainSpeedArgs, quiet: bool) -> Result<()> {
    let models = args
        .models
        .iter()
        .map(|m| m.parse::<ModelKind>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let settings = bench::TrainSpeedSettings {
        vocab: args.vocab,
        batch: args.batch_size,
        batches: args.batches,
        warmup: args.warmup,
        rounds: args.rounds,
        models,
    };
    let reference = args.pytorch.as_ref().map(|python| bench::PytorchReference {
        python: python.clone(),
        script: args.pytorch_script.clone(),
        procs: args
            .procs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    });
    let r = bench::train_speed_report(&settings, reference.as_ref(), &super::note(quiet))?;
    bench::write(&args.out, &r)?;
    say!(
        "Training throughput, Criteo format (13 dense + 26 categorical, {} embedding rows), batch {}:",
        r.embedding_rows,
        args.batch_size
    );
    for m in &r.results {
        match (m.pytorch_rows_per_second, m.ratio) {
            (Some(t), Some(ratio)) => say!(
                "  {:<8} glider {:>9.0} rows/s   PyTorch {:>9.0} rows/s   ratio {ratio:.2}x   \
                 (best of {}; rounds: glider {}, PyTorch {})",
                m.model,
                m.rows_per_second,
                t,
                m.rounds.len(),
                rounds_list(m.rounds.iter().map(|r| r.0)),
                rounds_list(m.rounds.iter().filter_map(|r| r.1)),
            ),
            _ => say!("  {:<8} glider {:>9.0} rows/s", m.model, m.rows_per_second),
        }
        match (m.glider_gflops, m.pytorch_gflops) {
            (Some(g), Some(t)) => say!(
                "           dense GFLOP/s: glider {g:.1}, PyTorch {t:.1}; 2x PyTorch needs {:.1}",
                2.0 * t
            ),
            (Some(g), None) => say!("           dense GFLOP/s: glider {g:.1}"),
            _ => {}
        }
    }
    say!(
        "  ceiling: gemm's best 1024^3 product on {} threads {:.1} GFLOP/s; nominal peak {} ({})",
        r.threads,
        r.sgemm_ceiling_gflops,
        r.peak_gflops
            .map_or("?".into(), |p| format!("{p:.1} GFLOP/s")),
        r.peak_note
    );
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

/// Rows per second of each round, comma separated.
fn rounds_list(rates: impl Iterator<Item = f64>) -> String {
    rates
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bench_antehoc(args: AnteHocArgs, quiet: bool) -> Result<()> {
    if args.trials == 0 || args.epochs == 0 || args.glider.instances == 0 {
        usage!("--trials, --epochs and --instances must be at least 1");
    }
    let settings = bench::AnteHocSettings {
        data: args.synth.config()?,
        trials: args.trials,
        models: bench::attention_models(&args.models)?,
        source: args.source_model.parse().map_err(anyhow::Error::msg)?,
        epochs: args.epochs,
        glider: args.glider.check(0)?,
    };
    let methods = bench::antehoc(&settings, &super::bars(quiet))?;
    let report = bench::AnteHocReport { settings, methods };
    bench::write(&args.out, &report)?;
    let settings = &report.settings;
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
    for s in &report.methods {
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
    let report = bench::models(
        &args.data,
        &args.model,
        args.seeds,
        args.first_seed,
        args.seed,
        &args.out,
        &super::bars(quiet),
        &|row| {
            if !quiet {
                eprintln!("{}", row.line());
            }
        },
    )?;
    say!(
        "{}: {} train / {} validation / {} test rows, {} seeds per model",
        report.data,
        report.rows.train,
        report.rows.validation,
        report.rows.test,
        report.seeds
    );
    say!("{}", bench::ModelRow::header());
    for r in &report.models {
        say!("{}", r.line());
    }
    say!("Wrote {}/bench.json", args.out.display());
    Ok(())
}

fn bench_nid(args: NidBenchArgs, quiet: bool) -> Result<()> {
    let settings = bench::NidBenchSettings {
        samples: args.samples,
        trials: args.trials,
        nid: args.nid.check(glider_nn::additive::Task::Regression)?,
    };
    let report = bench::nid_report(&args.functions, settings, &super::note(quiet))?;
    bench::write(&args.out, &report)?;
    let settings = &report.settings;
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
    for s in &report.functions {
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
    let epochs: Vec<f64> = report
        .functions
        .iter()
        .flat_map(|s| s.epochs.clone())
        .collect();
    say!(
        "  mean {:.3}   ({:.0} s; {:.1} epochs per network on average)",
        report.mean_pairwise_auc,
        report.seconds,
        epochs.iter().sum::<f64>() / epochs.len().max(1) as f64
    );
    say!("Wrote {}", args.out.join("bench.json").display());
    Ok(())
}

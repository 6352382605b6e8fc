//! `glider train`, `glider predict` and `glider attention`: trained models (spec 3.4) and
//! the ante-hoc models' own attention maps.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use glider_app::data::DataOptions;
use glider_app::settings::ModelSettings;
use glider_app::usage;

use crate::ui::say;

#[derive(Args, Debug)]
pub(super) struct TrainArgs {
    #[command(flatten)]
    data: DataOptions,
    #[command(flatten)]
    model: ModelSettings,
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
    /// The cross features at the end of the data (fields named `cross(…)`, as `glider encode
    /// --apply` appends them) feed the model's first-order term only, as `glider run` trains
    /// a target whose report says "in the linear term only" (FM, Wide&Deep, DeepFM, xDeepFM,
    /// FiBiNET; the others take them in full).
    #[arg(long)]
    crosses_linear_only: bool,
    /// Output model folder.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("scorer").required(true).args(["model_dir", "black_box"])))]
pub(super) struct PredictArgs {
    /// A folder written by `glider train` (files are read the way its training data was; the
    /// schema flags are then not needed).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    #[command(flatten)]
    black_box: super::detect::BlackBoxArgs,
    #[command(flatten)]
    data: DataOptions,
    /// Output CSV.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub(super) struct AttentionArgs {
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

pub(super) fn train(args: TrainArgs, quiet: bool) -> Result<()> {
    let bars = super::bars(quiet);
    if args.stream && args.crosses_linear_only {
        usage!("--crosses-linear-only applies to data read whole, not --stream");
    }
    let line = if args.stream {
        glider_app::stream::train_to_dir(
            &args.data,
            &args.model,
            args.chunk_rows,
            args.seed,
            &args.out,
            &bars,
        )?
    } else {
        if args.chunk_rows != 200_000 {
            usage!("--chunk-rows applies to --stream only");
        }
        glider_app::model_dir::train_options(
            &args.data,
            &args.model,
            args.crosses_linear_only,
            args.seed,
            &args.out,
            &bars,
        )?
    };
    say!("{line}");
    Ok(())
}

pub(super) fn predict(args: PredictArgs) -> Result<()> {
    let n = match &args.model_dir {
        Some(dir) => glider_app::model_dir::predict(dir, Path::new(&args.data.data), &args.out)?,
        None => glider_app::model_dir::predict_black_box_file(
            &args.black_box.spec()?,
            &args.data,
            &args.out,
        )?,
    };
    say!("Scored {n} rows; wrote {}", args.out.display());
    crate::ui::result(
        "predict",
        Some(&args.out),
        &serde_json::json!({ "rows": n, "scores": args.out }),
    )
}

pub(super) fn attention(args: AttentionArgs) -> Result<()> {
    say!(
        "{}",
        glider_app::attention::run(&args.model_dir, &args.data, &args.out, args.sample)?
    );
    Ok(())
}

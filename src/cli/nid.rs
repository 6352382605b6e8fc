//! `glider nid`: NID on any table (spec 1).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use glider_app::data::{DataOptions, Format};
use glider_app::settings::NidOptions;

pub(super) const NID_EXAMPLES: &str = "Examples:
  glider nid --data hour.csv --label cnt --ignore instant,dteday,casual,registered --cutoff --out out/bike
  glider nid --data housing.csv --label MedHouseVal --ensemble 3 --out out/housing
  glider nid --data letter.csv --label letter --task multiclass --out out/letter
  glider nid --data housing.csv --label MedHouseVal --preset reference --out out/housing-ref

--preset best (the default) trains an MLP-M and a plain MLP at once on 400,000 samples (40
epochs of 10,000 rows): F1-F10 pairwise AUC 0.945 against the authors' settings' 0.871
(--preset reference), at 0.6-2.0x their time per table; --preset thorough (0.950) trains
three networks for 100 epochs.

Categorical fields enter the MLP one-hot (their --max-categories most frequent values, plus
one column for the rest); NID reads a field's weight on a unit as the largest of its
columns'. Every input column, and a regression target, is standardised with the training
rows' mean and std. Without --validation/--test the file is split 80/10/10 with --seed.";

/// `glider nid`.
#[derive(Args, Debug)]
pub(super) struct NidArgs {
    #[command(flatten)]
    data: DataOptions,
    /// The target: `regression`, `binary` or `multiclass` (default: binary when the label is
    /// 0/1, regression when it is numeric, multiclass otherwise).
    #[arg(long, value_enum)]
    task: Option<glider_app::nid::TaskArg>,
    #[command(flatten)]
    pub(super) nid: NidOptions,
    /// Most frequent values of a categorical field given their own one-hot column.
    #[arg(long, default_value_t = 32)]
    max_categories: usize,
    /// Interactions printed per list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Seed of the split and of training.
    #[arg(long, default_value_t = 0)]
    pub(super) seed: u64,
    /// Output folder (interactions.json).
    #[arg(long, default_value = "out/nid")]
    out: PathBuf,
}

pub(super) fn nid(args: NidArgs, quiet: bool) -> Result<()> {
    let asked = match args.task {
        None if args.data.is_embedded() || args.data.format == Format::Criteo => {
            Some(glider_app::nid::TaskArg::Binary)
        }
        t => t,
    };
    let (mut data, split) = args
        .data
        .load_with(args.seed, glider_app::nid::target_kind(asked))?;
    let task = glider_app::nid::infer_task(&mut data, asked)?;
    let settings = args.nid.check(task)?;
    let text = glider_app::nid::run(
        &data,
        &split,
        &settings,
        args.max_categories,
        args.seed,
        args.top,
        &args.out,
        &super::note(quiet),
    )?;
    print!("{text}");
    Ok(())
}

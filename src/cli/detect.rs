//! `glider detect`, `merge`, `serve` and `inspect-onnx`: GLIDER on a trained model or any
//! black box (spec 3.1–3.2), sharded and merged, and models served over HTTP.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use glider_app::data::DataOptions;
use glider_app::settings::GliderSettings;
use glider_app::usage;

use crate::ui::say;

/// A model behind a server, as a black box.
#[derive(Args, Debug)]
pub(super) struct BlackBoxArgs {
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
    /// The black box these flags name, as the library's spec (checked when opened).
    pub(super) fn spec(&self) -> Result<glider_app::blackbox::BlackBoxSpec> {
        let Some(address) = &self.black_box else {
            usage!("give --model-dir DIR or --black-box URL");
        };
        Ok(glider_app::blackbox::BlackBoxSpec {
            address: address.clone(),
            mapping: self.mapping.clone(),
            request_rows: self.request_rows,
            timeout_s: self.timeout,
            retries: self.retries,
            groups: Vec::new(),
        })
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("scorer").required(true).args(["model_dir", "black_box"])))]
pub(super) struct DetectArgs {
    /// A folder written by `glider train` (files are read the way its training data was).
    #[arg(long)]
    model_dir: Option<PathBuf>,
    #[command(flatten)]
    black_box: BlackBoxArgs,
    /// The file whose first --instances rows are explained (the label may be absent).
    #[command(flatten)]
    data: DataOptions,
    #[command(flatten)]
    glider: GliderSettings,
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
pub(super) struct MergeArgs {
    /// Output folders of `glider detect --shard` runs.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged global_interactions.json.
    #[arg(long)]
    out: PathBuf,
}

/// `glider inspect-onnx`.
#[derive(Args, Debug)]
pub(super) struct InspectOnnxArgs {
    /// The ONNX file.
    path: PathBuf,
}

/// Prints an ONNX file's inputs and outputs and a starter mapping for `--black-box onnx:`.
pub(super) fn inspect_onnx(args: &InspectOnnxArgs) -> Result<()> {
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
        usage!(
            "this glider was built without ONNX support (cargo feature `onnx`, off by default): \
                 rebuild with `cargo build --release --features onnx`; the Python package has it"
        )
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("served").required(true).args(["model_dir", "onnx"])))]
pub(super) struct ServeArgs {
    /// A folder written by `glider train`: one input per field (BYTES for categorical, FP32
    /// for dense), outputs `logit` and `probability`.
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// An ONNX model with one `[n, k]` float input; requests pass that tensor, answers hold
    /// every output (cargo feature `onnx`).
    #[arg(long, value_name = "FILE")]
    onnx: Option<PathBuf>,
    /// The model's name in the URL (default: the folder's name).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    options: glider_app::serve::ServeOptions,
}

pub(super) fn detect(args: DetectArgs, quiet: bool) -> Result<()> {
    let shard = glider_app::model_dir::parse_shard(&args.shard)?;
    let params = args.glider.check(args.seed)?;
    let bars = super::bars(quiet);
    let line = match &args.model_dir {
        Some(dir) => glider_app::model_dir::detect(
            dir,
            Path::new(&args.data.data),
            &params,
            shard,
            args.resume,
            &args.out,
            &bars,
        )?
        .summary(),
        None => glider_app::model_dir::detect_black_box(
            &args.black_box.spec()?,
            &args.data,
            &params,
            shard,
            args.resume,
            &args.out,
            &bars,
        )?,
    };
    say!("{line}");
    Ok(())
}

pub(super) fn merge(args: MergeArgs) -> Result<()> {
    say!("{}", glider_app::model_dir::merge(&args.dirs, &args.out)?);
    Ok(())
}

pub(super) fn serve(args: ServeArgs) -> Result<()> {
    use glider_app::serve::{serve, Served};
    let served = match (&args.model_dir, &args.onnx) {
        (Some(dir), _) => Served::load(dir, args.name.as_deref())?,
        #[cfg(feature = "onnx")]
        (None, Some(path)) => Served::load_onnx(path, args.name.as_deref())?,
        #[cfg(not(feature = "onnx"))]
        (None, Some(_)) => {
            usage!("this glider was built without ONNX support (cargo feature `onnx`, off by default): \
                 rebuild with `cargo build --release --features onnx`; the Python package has it")
        }
        (None, None) => usage!("give --model-dir DIR or --onnx FILE"),
    };
    serve(served, &args.options)
}

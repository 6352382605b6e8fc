#![warn(missing_docs)]
//! glider's use cases as library functions, the layer every front end stands on: the `glider`
//! binary and the Python package call the same functions with the same validated parameters
//! and get the same typed results and errors.
//!
//! - [`model_dir`]: trained-model folders (model.json + weights), how their files are read
//!   ([`model_dir::Reading`]), train / predict / detect / merge on them;
//! - [`blackbox`]: the black-box factory (ONNX file, model server);
//! - [`data`]: data sources and the split policy;
//! - [`run`]: `glider run` after reading: journal, pipeline, result files;
//! - [`stream`]: training on a file larger than memory (Criteo day files);
//! - [`encode`]: global interactions → cross features, fitted and applied;
//! - [`attention`]: the ante-hoc models' field × field attention maps;
//! - [`nid`]: NID on any table (spec 1);
//! - [`settings`]: GLIDER's settings as front ends take them, checked once;
//! - [`bench`]: the benchmarks behind BENCHMARKS.md, each against a reference measured in
//!   the same run;
//! - `serve` (cargo feature `serve`): a trained model over HTTP (KServe v2);
//! - [`output`]: atomic result files and the summaries a person reads;
//! - [`report`] and [`plot`]: the self-contained report.html of every command.
//!
//! Errors are [`anyhow::Error`]s whose message names the file, line and column or the field;
//! a [`Usage`] error inside one means a parameter was invalid (the CLI's exit code 2, Python's
//! `ValueError`).

pub mod attention;
pub mod bench;
pub mod blackbox;
pub mod data;
pub mod encode;
pub mod model_dir;
pub mod nid;
pub mod output;
pub mod plot;
#[cfg(feature = "progress")]
pub mod progress;
pub mod report;
pub mod run;
#[cfg(feature = "serve")]
pub mod serve;
#[cfg(feature = "serve")]
pub mod serve_bench;
pub mod settings;
pub mod stream;

/// An invalid parameter or combination of parameters, found before any work starts: the
/// command line's exit code 2, a `ValueError` in Python.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Returns a [`Usage`] error from the enclosing function (which returns `anyhow::Result`).
#[macro_export]
macro_rules! usage {
    ($($t:tt)*) => {
        return Err(anyhow::Error::new($crate::Usage(format!($($t)*))))
    };
}

//! `glider run` after the data is read: the journal (resume), the whole pipeline (train,
//! explain, cross, select, retrain, compare; spec 3) and its three result files.

use std::path::Path;

use anyhow::{Context, Result};

use glider_data::{Dataset, Split};
use glider_explain::pipeline::{self, Reporter, RunConfig, RunReport};
use glider_explain::Journal;

use crate::output::write_json;

/// Runs the pipeline on `data` split by `split` with `config`, journaling finished instances
/// in `out/local.jsonl` (with `resume`, a killed run's finished instances are kept), and
/// writes `crosses.json`, `global_interactions.json` and `report.json` into `out`
/// atomically. Returns the report.
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
    write_json(&out.join("global_interactions.json"), &output.global)?;
    write_json(&out.join("report.json"), &output.report)?;
    Ok(output.report)
}

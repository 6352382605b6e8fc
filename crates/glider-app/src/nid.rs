//! `glider nid`: NID (spec 1) on any table: the interaction MLP (MLP-M by default) trained on
//! the file, its pairwise and any-order interactions, and, with `--cutoff`, how many of them
//! are real (MLP-Cutoff, spec 1.5). Writes `interactions.json`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use glider_data::{Dataset, TargetKind};
use glider_explain::tabular::{detect, MemberFit, NidOutcome, NidSettings, TableInputs};
use glider_nn::additive::Task;

use crate::output::write_json;

/// The task asked for on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum TaskArg {
    /// A numeric target, MSE on the standardised target.
    Regression,
    /// A 0/1 target (or `--positive` against the rest), sigmoid cross-entropy.
    Binary,
    /// Class names, softmax cross-entropy.
    Multiclass,
}

/// How the label column is read for `task` (`None`: read as text, decided by [`infer_task`]).
pub fn target_kind(task: Option<TaskArg>) -> TargetKind {
    match task {
        Some(TaskArg::Regression) => TargetKind::Number,
        Some(TaskArg::Binary) => TargetKind::Binary,
        Some(TaskArg::Multiclass) | None => TargetKind::Class,
    }
}

/// The task of data read with [`target_kind`]: as asked, or, when not asked, binary if the
/// label's values are exactly 0 and 1, regression if they are all numbers, multiclass
/// otherwise. Rewrites `data.labels` from class indices to values where needed.
///
/// # Errors
/// A multiclass target with fewer than 2 classes, or a constant target.
pub fn infer_task(data: &mut Dataset, asked: Option<TaskArg>) -> Result<Task> {
    let as_numbers = || -> Option<Vec<f64>> {
        data.label_classes
            .iter()
            .map(|c| c.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect()
    };
    let task = match asked {
        Some(TaskArg::Regression) => Task::Regression,
        Some(TaskArg::Binary) => Task::Binary,
        Some(TaskArg::Multiclass) => Task::Multiclass {
            classes: data.label_classes.len(),
        },
        None => match as_numbers() {
            Some(values) => {
                let labels: Vec<f32> = data
                    .labels
                    .iter()
                    .map(|&k| values[k as usize] as f32)
                    .collect();
                data.labels = labels;
                let mut distinct = values.clone();
                distinct.sort_by(f64::total_cmp);
                data.label_classes.clear();
                if distinct == [0.0, 1.0] {
                    Task::Binary
                } else {
                    Task::Regression
                }
            }
            None => Task::Multiclass {
                classes: data.label_classes.len(),
            },
        },
    };
    if let Task::Multiclass { classes } = task {
        if classes < 2 {
            bail!(
                "{}: the label \"{}\" has {} class(es); a classification needs at least 2",
                data.source,
                data.label_name,
                classes
            );
        }
    }
    Ok(task)
}

/// One interaction in `interactions.json`, by field name.
#[derive(Serialize)]
struct Named {
    fields: Vec<String>,
    strength: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    above_cutoff: Option<bool>,
}

#[derive(Serialize)]
struct CurvePoint {
    k: usize,
    validation_loss: f64,
    interaction: Vec<String>,
    included: bool,
}

/// `interactions.json`: the schema of issue 3, plus what a reader needs to trust it.
#[derive(Serialize)]
struct InteractionsFile<'a> {
    fields: &'a [String],
    pairwise: Vec<Named>,
    interactions: Vec<Named>,
    cutoff: Option<usize>,
    cutoff_curve: Vec<CurvePoint>,
    data: DataSummary<'a>,
    settings: &'a NidSettings,
    seed: u64,
    members: &'a [MemberFit],
    cutoff_model: Option<CutoffModel>,
}

#[derive(Serialize)]
struct DataSummary<'a> {
    source: &'a str,
    label: &'a str,
    task: &'static str,
    classes: &'a [String],
    rows: [usize; 3],
    columns: &'a [String],
    target_mean: f64,
    target_std: f64,
}

#[derive(Serialize)]
struct CutoffModel {
    components: Vec<Vec<String>>,
    test_loss: f64,
    test_error: f64,
}

/// Runs NID on `data` and writes `out/interactions.json`; returns the text to print.
#[allow(clippy::too_many_arguments)]
pub fn run(
    data: &Dataset,
    split: &glider_data::Split,
    settings: &NidSettings,
    max_categories: usize,
    seed: u64,
    top: usize,
    out: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<String> {
    if max_categories == 0 {
        bail!("--max-categories must be at least 1");
    }
    let inputs = TableInputs::from_dataset(data, split, settings.task, max_categories)?;
    progress(&format!(
        "{} fields as {} input columns; {} train / {} validation / {} test rows",
        inputs.fields.len(),
        inputs.columns.len(),
        split.train.len(),
        split.validation.len(),
        split.test.len()
    ));
    let outcome = detect(
        &inputs.tables(),
        Some(&inputs.field_map),
        settings,
        seed,
        progress,
    )?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let file = interactions_file(data, split, &inputs, settings, seed, &outcome);
    write_json(&out.join("interactions.json"), &file)?;
    Ok(summary(&file, &outcome, &inputs, settings.task, top, out))
}

fn interactions_file<'a>(
    data: &'a Dataset,
    split: &glider_data::Split,
    inputs: &'a TableInputs,
    settings: &'a NidSettings,
    seed: u64,
    outcome: &'a NidOutcome,
) -> InteractionsFile<'a> {
    let names =
        |set: &[usize]| -> Vec<String> { set.iter().map(|&f| inputs.fields[f].clone()).collect() };
    let k = outcome.cutoff.as_ref().map(|c| c.k);
    InteractionsFile {
        fields: &inputs.fields,
        pairwise: outcome
            .pairwise
            .iter()
            .map(|r| Named {
                fields: names(&r.features),
                strength: r.strength,
                above_cutoff: None,
            })
            .collect(),
        interactions: outcome
            .interactions
            .iter()
            .enumerate()
            .map(|(i, r)| Named {
                fields: names(&r.features),
                strength: r.strength,
                above_cutoff: Some(k.is_some_and(|k| i < k)),
            })
            .collect(),
        cutoff: k,
        cutoff_curve: outcome
            .cutoff
            .iter()
            .flat_map(|c| &c.curve)
            .map(|p| CurvePoint {
                k: p.k,
                validation_loss: p.validation_loss,
                interaction: names(&p.interaction),
                included: p.included,
            })
            .collect(),
        data: DataSummary {
            source: &data.source,
            label: &data.label_name,
            task: settings.task.name(),
            classes: &data.label_classes,
            rows: [split.train.len(), split.validation.len(), split.test.len()],
            columns: &inputs.columns,
            target_mean: inputs.target_scale.0,
            target_std: inputs.target_scale.1,
        },
        settings,
        seed,
        members: &outcome.members,
        cutoff_model: outcome.cutoff.as_ref().map(|c| CutoffModel {
            components: c.components.iter().map(|s| names(s)).collect(),
            test_loss: c.test_loss,
            test_error: c.test_error,
        }),
    }
}

fn error_text(task: Task, error: f64, scale: f64) -> String {
    match task {
        Task::Regression => format!(
            "MSE {error:.4} on the standardised target (RMSE {:.4} in its units)",
            error.sqrt() * scale
        ),
        _ => format!("error rate {:.2}%", 100.0 * error),
    }
}

fn summary(
    file: &InteractionsFile<'_>,
    outcome: &NidOutcome,
    inputs: &TableInputs,
    task: Task,
    top: usize,
    out: &Path,
) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "\nNID on {} ({} task, label \"{}\", {} fields)\n",
        file.data.source,
        task.name(),
        file.data.label,
        file.fields.len()
    ));
    let n = outcome.members.len() as f64;
    let test_error = outcome.members.iter().map(|m| m.test_error).sum::<f64>() / n;
    s.push_str(&format!(
        "Interaction MLP: test {}{}\n",
        error_text(task, test_error, inputs.target_scale.1),
        if outcome.members.len() > 1 {
            format!(" (mean of {} seeds)", outcome.members.len())
        } else {
            String::new()
        }
    ));
    s.push_str(&format!(
        "\nTop pairwise interactions (of {}):\n",
        file.pairwise.len()
    ));
    for (i, r) in file.pairwise.iter().take(top).enumerate() {
        s.push_str(&format!(
            "  {:>2}. {:<40} {:>10.4}\n",
            i + 1,
            r.fields.join(" × "),
            r.strength
        ));
    }
    s.push_str("\nTop any-order interactions (pruned):\n");
    for (i, r) in file.interactions.iter().take(top).enumerate() {
        s.push_str(&format!(
            "  {:>2}. {:<40} {:>10.4}{}\n",
            i + 1,
            r.fields.join(" × "),
            r.strength,
            if r.above_cutoff == Some(true) {
                "  above cut-off"
            } else {
                ""
            }
        ));
    }
    match &outcome.cutoff {
        Some(c) => {
            s.push_str(&format!(
                "\nCut-off (MLP-Cutoff): K = {}; the model with these interactions: test {}\n",
                c.k,
                error_text(task, c.test_error, inputs.target_scale.1)
            ));
            s.push_str("  validation loss by K: ");
            let pts: Vec<String> = c
                .curve
                .iter()
                .filter(|p| p.included)
                .map(|p| format!("{}: {:.4}", p.k, p.validation_loss))
                .collect();
            s.push_str(&pts.join(", "));
            s.push('\n');
        }
        None => s.push_str("\nNo cut-off computed (add --cutoff to choose how many are real).\n"),
    }
    s.push_str(&format!(
        "\nWrote {}\n",
        out.join("interactions.json").display()
    ));
    s
}

//! Writing results: atomically (a temporary file renamed into place, so a reader never sees
//! half a file), and printing a summary a person can read.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use glider_explain::pipeline::{NamedInteraction, RunReport};

/// Writes `value` as pretty JSON to `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .with_context(|| format!("serialising {}", path.display()))?;
    write_atomic(path, text.as_bytes())
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f =
            fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("flushing {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The human summary of a run.
pub fn summary(report: &RunReport, out_dir: &Path) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "\nGLIDER on {} ({} train / {} validation / {} test rows, {} fields)\n",
        report.dataset,
        report.rows.train,
        report.rows.validation,
        report.rows.test,
        report.fields.len()
    ));
    if let Some(m) = &report.source_test {
        s.push_str(&format!(
            "\nExplained model: {} (test AUC {:.4}, logloss {:.4})\n",
            report.source_model, m.auc, m.logloss
        ));
    }
    s.push_str(&format!(
        "\nTop global interactions ({} instances explained{}):\n",
        report.instances - report.failed_instances.len(),
        if report.failed_instances.is_empty() {
            String::new()
        } else {
            format!(", {} failed", report.failed_instances.len())
        }
    ));
    s.push_str(&format!(
        "  {:>4}  {:>6}  {:>6}  fields\n",
        "rank", "count", "share"
    ));
    for (i, g) in report.global_interactions.iter().enumerate() {
        s.push_str(&format!(
            "  {:>4}  {:>6}  {:>5.1}%  {}\n",
            i + 1,
            g.count,
            100.0 * g.count as f64 / report.instances.max(1) as f64,
            g.fields.join(" × ")
        ));
    }
    if let Some(r2) = report.surrogate_median_r2 {
        s.push_str(&format!(
            "  (local surrogates: median held-out R² {r2:.3})\n"
        ));
    }
    if !report.split_sets.is_empty() {
        s.push_str(&format!(
            "  {} of these too sparse to cross (their tuples cover under {:.0}% of the \
             training rows) became their pairs: {} candidate crosses\n",
            report.split_sets.len(),
            100.0 * report.config.selection.split_below_coverage,
            report.crosses.len()
        ));
    }
    for t in &report.targets {
        s.push_str(&format!(
            "\nTest metrics of {} over {} paired trial(s):\n",
            t.model, report.trials
        ));
        s.push_str(&format!(
            "  {:<10} {:>18} {:>18}\n",
            "", "AUC (mean ± std)", "logloss (mean ± std)"
        ));
        for (name, arm) in [("baseline", &t.baseline), ("+GLIDER", &t.enhanced)] {
            s.push_str(&format!(
                "  {:<10} {:>9.4} ± {:.4} {:>10.4} ± {:.4}\n",
                name, arm.auc_mean, arm.auc_std, arm.logloss_mean, arm.logloss_std
            ));
        }
        match &t.auc_gain {
            Some(g) => s.push_str(&format!(
                "  AUC gain {:+.4} ± {:.4} (paired t = {:.2}, two-sided p = {:.3})\n",
                g.mean_diff, g.std_diff, g.t, g.p_value
            )),
            None => s.push_str(&format!(
                "  AUC gain {:+.4} (one trial: no p-value; use --trials 5)\n",
                t.enhanced.auc_mean - t.baseline.auc_mean
            )),
        }
        if !t.verdict.is_empty() {
            s.push_str(&format!(
                "  crosses: {}\n",
                t.verdict.trim_start_matches(&format!("{}: ", t.model))
            ));
        }
        if !t.kept_crosses.is_empty() && t.kept_crosses.len() < t.candidate_crosses {
            s.push_str(&format!("  kept: {}\n", t.kept_crosses.join(", ")));
        }
        if !t.kept_crosses.is_empty() {
            s.push_str(&format!(
                "  encode other files as measured: glider encode --data FILE --apply {} --out DIR{}\n",
                out_dir
                    .join(crate::run::target_crosses_file(&t.model))
                    .display(),
                if t.cross_linear_only {
                    " (then glider train --crosses-linear-only, as this target took them)"
                } else {
                    ""
                }
            ));
        }
        if let Some(d) = &t.distillation {
            s.push_str(&format!(
                "  share of {}'s lift recovered: {} (lift {:+.4} AUC)\n",
                report.source_model,
                d.describe(),
                d.source_lift
            ));
        }
    }
    let sec = &report.seconds;
    s.push_str(&format!(
        "\nWall time: train {:.1}s, detect {:.1}s, encode {:.1}s, select {:.1}s, retrain {:.1}s\n",
        sec.train, sec.detect, sec.encode, sec.select, sec.retrain
    ));
    s.push_str(&format!(
        "Wrote {0}/report.json, {0}/global_interactions.json, {0}/crosses.json\n",
        out_dir.display()
    ));
    s
}

/// The ranked table of global interactions (rank, count, share of instances, fields).
pub fn interactions_table(interactions: &[NamedInteraction], instances: usize) -> String {
    let mut s = format!("  {:>4}  {:>6}  {:>6}  fields\n", "rank", "count", "share");
    for (i, g) in interactions.iter().enumerate() {
        s.push_str(&format!(
            "  {:>4}  {:>6}  {:>5.1}%  {}\n",
            i + 1,
            g.count,
            100.0 * g.count as f64 / instances.max(1) as f64,
            g.fields.join(" × ")
        ));
    }
    s
}

/// `glider synth`: generates the synthetic click data `config` describes (planted
/// interactions, [`glider_data::synth::synthetic`]) and writes `out/data.csv` and
/// `out/planted.json` (the config, the planted field sets by name, the positive rate).
/// Returns the summary a person reads.
///
/// # Errors
/// An invalid config; I/O failures.
pub fn write_synthetic(config: &glider_core::synth::SynthCtrConfig, out: &Path) -> Result<String> {
    let (data, planted) = glider_data::synth::synthetic(config)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_atomic(
        &out.join("data.csv"),
        glider_data::synth::to_csv(&data).as_bytes(),
    )?;
    let names = data.field_names();
    #[derive(Serialize)]
    struct Planted<'a> {
        config: &'a glider_core::synth::SynthCtrConfig,
        planted: Vec<Vec<String>>,
        positive_rate: f64,
    }
    write_json(
        &out.join("planted.json"),
        &Planted {
            config,
            planted: planted
                .iter()
                .map(|s| s.iter().map(|&f| names[f].clone()).collect())
                .collect(),
            positive_rate: data.positive_rate(),
        },
    )?;
    Ok(format!(
        "{} rows, {} categorical fields f0..f{}, {:.1}% clicks; planted {:?}\nWrote \
         {}/data.csv, planted.json",
        data.num_rows(),
        data.num_fields(),
        data.num_fields() - 1,
        100.0 * data.positive_rate(),
        planted,
        out.display()
    ))
}

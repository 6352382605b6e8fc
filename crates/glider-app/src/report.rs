//! `report.html`: one self-contained page (inline SVG and CSS, no script, no network) beside
//! the results of `run`, `demo`, `detect`, `merge`, `nid`, `attention` and `bench`.
//!
//! Every page is built from the JSON files the subcommand has just written (report.json,
//! global_interactions.json, interactions.json, attention.json, bench.json), never from
//! in-memory state, so every number a chart shows is in the JSON beside it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::output::write_atomic;
use crate::plot::{self, BarGroup};

/// An HTML page under construction.
struct Page {
    body: String,
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Page {
    fn new(title: &str, subtitle: &str) -> Self {
        let mut body = String::new();
        let _ = write!(
            body,
            "<h1>{}</h1>\n<p class=\"sub\">{}</p>\n",
            esc(title),
            esc(subtitle)
        );
        Page { body }
    }

    fn h2(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
    }

    fn p(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.body.push_str("<table><thead><tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead><tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                let _ = write!(self.body, "<td>{}</td>", esc(cell));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table>\n");
    }

    /// Charts side by side (wrapping on narrow screens); a chart that could not be drawn
    /// becomes a note saying why.
    fn figures(&mut self, charts: Vec<(Result<String>, String)>) {
        self.body.push_str("<div class=\"row\">\n");
        for (svg, caption) in charts {
            self.body.push_str("<figure>");
            match svg {
                Ok(svg) => self.body.push_str(&svg),
                Err(e) => {
                    let _ = write!(
                        self.body,
                        "<p class=\"note\">(no chart: {})</p>",
                        esc(&e.to_string())
                    );
                }
            }
            let _ = writeln!(
                self.body,
                "<figcaption>{}</figcaption></figure>",
                esc(&caption)
            );
        }
        self.body.push_str("</div>\n");
    }

    fn details(&mut self, summary: &str, text: &str) {
        let _ = writeln!(
            self.body,
            "<details><summary>{}</summary><pre>{}</pre></details>",
            esc(summary),
            esc(text)
        );
    }

    fn finish(self, title: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n{}\
             <footer>Written by glider {} — every number shown is in the JSON files beside \
             this page.</footer>\n</body></html>\n",
            esc(title),
            self.body,
            env!("CARGO_PKG_VERSION")
        )
    }
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px auto;\
max-width:1250px;color:#222;padding:0 16px}h1{font-size:24px;margin-bottom:2px}\
h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}\
.sub{color:#666;margin-top:0}table{border-collapse:collapse;margin:8px 0;font-size:13px}\
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f3f5f8}\
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\
figure{margin:0}figcaption{font-size:12px;color:#555;max-width:560px}\
pre{background:#f7f7f7;padding:8px;font-size:12px;overflow-x:auto}\
.note{color:#a33}footer{margin-top:40px;font-size:11px;color:#888}";

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(f).collect())
        .unwrap_or_default()
}

fn fmt4(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:.4}"),
        None => "—".into(),
    }
}

/// Writes `out/report.html` for the subcommand `command` from the JSON files in `out`.
/// Subcommands without a report return `Ok(false)`.
///
/// # Errors
/// A JSON file that cannot be read, or a page that cannot be written.
pub fn write_for(command: &str, out: &Path, config_toml: &str) -> Result<bool> {
    let html = match command {
        "run" | "demo" => run_page(out, config_toml)?,
        "detect" | "merge" => detect_page(command, out, config_toml)?,
        "nid" => nid_page(out, config_toml)?,
        "attention" => attention_page(out, config_toml)?,
        "bench" => bench_page(out, config_toml)?,
        _ => return Ok(false),
    };
    write_atomic(&out.join("report.html"), html.as_bytes())?;
    Ok(true)
}

fn settings(page: &mut Page, config_toml: &str) {
    if !config_toml.is_empty() {
        page.details("Every setting (config.toml)", config_toml);
    }
}

/// The ranked bar chart and the pair heatmap of a global_interactions.json.
fn global_section(page: &mut Page, global: &Value, attention: Option<(&str, &[f64])>) {
    let fields = strings(&global["fields"]);
    let instances = global["instances"].as_u64().unwrap_or(0) as f64;
    let failed = global["failed"].as_array().map_or(0, Vec::len) as f64;
    let explained = (instances - failed).max(1.0);
    let items: Vec<(String, f64)> = global["interactions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| (strings(&i["fields"]).join(" × "), f(&i["count"])))
                .collect()
        })
        .unwrap_or_default();
    page.h2("Global interactions");
    page.p(&format!(
        "The top {} interactions by the number of instances whose local explanation holds \
         them ({} instances explained{}).",
        items.len(),
        explained,
        if failed > 0.0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    ));
    let bars = plot::bar_chart_svg(
        "Global interactions (count over instances)",
        "instances",
        &items,
        &|v| format!("{v:.0} ({:.0}%)", 100.0 * v / explained),
    );
    let freq = floats(&global["pair_strength"]);
    let mut charts = vec![(
        bars,
        "Bars: instances whose local interactions include the set (share of explained \
         instances in brackets); global_interactions.json → interactions."
            .to_string(),
    )];
    if !freq.is_empty() {
        charts.push((
            plot::heatmap_svg("GLIDER: pairwise interaction strength", &fields, &freq),
            "Per instance, the share of its local interaction strength held by interactions \
             containing both fields, averaged over the instances; \
             global_interactions.json → pair_strength."
                .to_string(),
        ));
    }
    if let Some((rule, scores)) = attention {
        charts.push((
            plot::heatmap_svg(
                "The model's own attention map (pair score)",
                &fields,
                scores,
            ),
            format!("Ante-hoc: {rule} (report.json → source_maps)."),
        ));
    }
    page.figures(charts);
    let rows: Vec<Vec<String>> = items
        .iter()
        .enumerate()
        .map(|(k, (name, c))| {
            vec![
                (k + 1).to_string(),
                name.clone(),
                format!("{c:.0}"),
                format!("{:.1}%", 100.0 * c / explained),
            ]
        })
        .collect();
    page.table(&["rank", "interaction", "instances", "share"], &rows);
}

fn run_page(out: &Path, config_toml: &str) -> Result<String> {
    let report = read_json(&out.join("report.json"))?;
    let global = read_json(&out.join("global_interactions.json"))?;
    let title = "glider run";
    let mut page = Page::new(
        &format!("GLIDER on {}", report["dataset"].as_str().unwrap_or("?")),
        "Interactions a recommender learned, found by GLIDER, and what crossing them is worth.",
    );
    page.h2("Data and settings");
    let rows = &report["rows"];
    let fields = strings(&report["fields"]);
    let mut summary = vec![
        vec![
            "data".into(),
            report["dataset"].as_str().unwrap_or("?").into(),
        ],
        vec![
            "rows (train / validation / test)".into(),
            format!(
                "{} / {} / {}",
                rows["train"], rows["validation"], rows["test"]
            ),
        ],
        vec![
            "fields".into(),
            format!("{} ({})", fields.len(), fields.join(", ")),
        ],
        vec![
            "explained model".into(),
            format!(
                "{} (test AUC {}, logloss {})",
                report["source_model"].as_str().unwrap_or("?"),
                fmt4(&report["source_test"]["auc"]),
                fmt4(&report["source_test"]["logloss"])
            ),
        ],
        vec![
            "instances explained".into(),
            report["instances"].to_string(),
        ],
        vec![
            "local detector".into(),
            report["config"]["glider"]["local"]["detector"]
                .as_str()
                .unwrap_or("nid")
                .to_string(),
        ],
        vec![
            "surrogate held-out R² (median)".into(),
            fmt4(&report["surrogate_median_r2"]),
        ],
        vec!["paired trials".into(), report["trials"].to_string()],
    ];
    let secs = &report["seconds"];
    summary.push(vec![
        "seconds (train / detect / encode / select / retrain)".into(),
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} / {:.1}",
            f(&secs["train"]),
            f(&secs["detect"]),
            f(&secs["encode"]),
            f(&secs["select"]),
            f(&secs["retrain"])
        ),
    ]);
    page.table(&["", ""], &summary);
    settings(&mut page, config_toml);

    let maps = &report["source_maps"];
    let scores = floats(&maps["pair_scores"]);
    let attention =
        (!scores.is_empty()).then(|| (maps["rule"].as_str().unwrap_or(""), scores.as_slice()));
    global_section(&mut page, &global, attention);

    page.h2("Baseline vs +GLIDER crosses, per target model");
    let targets = report["targets"].as_array().cloned().unwrap_or_default();
    let group = |metric: &str| -> Vec<BarGroup> {
        targets
            .iter()
            .map(|t| BarGroup {
                name: t["model"].as_str().unwrap_or("?").to_string(),
                values: ["baseline", "enhanced"]
                    .iter()
                    .map(|arm| {
                        (
                            f(&t[*arm][format!("{metric}_mean")]),
                            f(&t[*arm][format!("{metric}_std")]),
                        )
                    })
                    .collect(),
            })
            .collect()
    };
    let trials = report["trials"].as_u64().unwrap_or(0);
    page.figures(vec![
        (
            plot::paired_bars_svg("Test AUC (higher is better)", "AUC", &["baseline", "+GLIDER"], &group("auc")),
            format!("Mean over {trials} paired trials; error bars ±1 standard deviation (report.json → targets)."),
        ),
        (
            plot::paired_bars_svg("Test logloss (lower is better)", "logloss", &["baseline", "+GLIDER"], &group("logloss")),
            format!("Mean over {trials} paired trials; error bars ±1 standard deviation."),
        ),
    ]);
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let pm = |arm: &str, m: &str| {
                format!(
                    "{} ± {}",
                    fmt4(&t[arm][format!("{m}_mean")]),
                    fmt4(&t[arm][format!("{m}_std")])
                )
            };
            vec![
                t["model"].as_str().unwrap_or("?").to_string(),
                pm("baseline", "auc"),
                pm("enhanced", "auc"),
                match (
                    t["auc_gain"]["mean_diff"].as_f64(),
                    t["auc_gain"]["std_diff"].as_f64(),
                ) {
                    (Some(g), Some(sd)) => format!("{g:+.4} ± {sd:.4}"),
                    (Some(g), None) => format!("{g:+.4}"),
                    _ => "—".into(),
                },
                fmt4(&t["auc_gain_p_value"]),
                pm("baseline", "logloss"),
                pm("enhanced", "logloss"),
            ]
        })
        .collect();
    page.table(
        &[
            "target",
            "AUC baseline",
            "AUC +GLIDER",
            "AUC gain",
            "p-value",
            "logloss baseline",
            "logloss +GLIDER",
        ],
        &rows,
    );
    // The crosses each target kept, and the selection's validation curve.
    let kept_rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            let kept = strings(&t["kept_crosses"]);
            vec![
                t["model"].as_str().unwrap_or("?").to_string(),
                format!("{} of {}", kept.len(), t["candidate_crosses"]),
                if kept.is_empty() {
                    "—".into()
                } else {
                    kept.join(", ")
                },
                t["verdict"].as_str().unwrap_or("").to_string(),
                match &t["distillation"] {
                    Value::Null => "—".into(),
                    d => match (d["share_mean"].as_f64(), d["share_std"].as_f64()) {
                        (Some(m), Some(sd)) if sd.is_finite() => {
                            format!("{:.0}% ± {:.0}%", 100.0 * m, 100.0 * sd)
                        }
                        (Some(m), _) => format!("{:.0}%", 100.0 * m),
                        _ => "n/a (the source is not better)".into(),
                    },
                },
            ]
        })
        .collect();
    if !kept_rows.is_empty() {
        page.h2("Crosses kept per target");
        page.p("Each target keeps a candidate cross only when it lowers that target's validation logloss \
                (scored on the frozen baseline in rank order; the selected set and all candidates are then \
                retrained, each with the crossing's min count and with a coarser one, and the lowest \
                validation logloss wins if it beats the baseline by more than --confirm-z standard \
                errors; the test rows are never used). The share recovered is (target+GLIDER − target) / (source − target) in test \
                AUC, for the simple targets.");
        page.table(
            &[
                "target",
                "kept",
                "crosses",
                "verdict",
                "share of the source's lift recovered",
            ],
            &kept_rows,
        );
        let charts: Vec<(Result<String>, String)> = targets
            .iter()
            .filter(|t| t["selection"].is_object())
            .map(|t| {
                let sel = &t["selection"];
                let mut points = vec![(0.0, f(&sel["trace"]["baseline_validation_logloss"]))];
                for (i, c) in sel["trace"]["candidates"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    points.push(((i + 1) as f64, f(&c["validation_logloss"])));
                }
                let name = t["model"].as_str().unwrap_or("?");
                let retrains: Vec<String> = sel["retrains"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {} with tuples seen more than {} times{}",
                            fmt4(&r["validation_logloss"]),
                            r["set"].as_str().unwrap_or("?"),
                            r["min_count"].as_f64().map_or("?".into(), |m| format!("{m:.0}")),
                            if r["linear_only"].as_bool().unwrap_or(false) {
                                " (linear term only)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect();
                let retrained = if retrains.is_empty() {
                    format!(
                        "{} with the selected crosses, {} with all",
                        fmt4(&sel["retrained_validation_logloss"]),
                        fmt4(&sel["all_validation_logloss"])
                    )
                } else {
                    retrains.join(", ")
                };
                (
                    plot::line_chart_svg(
                        &format!("{name}: validation logloss during selection"),
                        "candidate (rank order; 0 = baseline)",
                        "validation logloss",
                        &points,
                        None,
                    ),
                    format!(
                        "Forward selection on the frozen {name} baseline: the curve steps down where a candidate was kept. \
                         Retrained: validation logloss {retrained}; {} baseline; chosen: {}.",
                        fmt4(&sel["baseline_validation_logloss"]),
                        sel["chosen"].as_str().unwrap_or("?")
                    ),
                )
            })
            .collect();
        if !charts.is_empty() {
            page.figures(charts);
        }
    }
    let crosses: Vec<Vec<String>> = report["crosses"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| vec![c[0].as_str().unwrap_or("?").to_string(), c[1].to_string()])
                .collect()
        })
        .unwrap_or_default();
    let split: Vec<Vec<String>> = report["split_sets"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    vec![
                        strings(&s["fields"]).join(" × "),
                        format!("{:.1}%", 100.0 * s["coverage"].as_f64().unwrap_or(0.0)),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if !split.is_empty() {
        page.h2("Interactions crossed as their pairs");
        page.p(&format!(
            "These interactions' value tuples were too rare to cross (seen more than the \
             min count on under {:.0}% of the training rows), so their pairs became \
             candidates instead.",
            100.0
                * report["config"]["selection"]["split_below_coverage"]
                    .as_f64()
                    .unwrap_or(0.0)
        ));
        page.table(&["interaction", "training rows covered"], &split);
    }
    if !crosses.is_empty() {
        page.h2("Candidate cross features");
        page.table(&["cross feature", "value tuples kept"], &crosses);
    }
    Ok(page.finish(title))
}

fn detect_page(command: &str, out: &Path, config_toml: &str) -> Result<String> {
    let global = read_json(&out.join("global_interactions.json"))?;
    let card = read_json(&out.join("detect.json")).ok();
    let mut page = Page::new(
        &format!("glider {command}"),
        "GLIDER's global interactions: how often each interaction recurs across the explained instances.",
    );
    if let Some(card) = &card {
        page.h2("Settings");
        let rows: Vec<Vec<String>> = card
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| k.as_str() != "fields")
                    .map(|(k, v)| vec![k.clone(), compact(v)])
                    .collect()
            })
            .unwrap_or_default();
        page.table(&["", ""], &rows);
    }
    settings(&mut page, config_toml);
    global_section(&mut page, &global, None);
    Ok(page.finish(&format!("glider {command}")))
}

/// A JSON value in one short line.
fn compact(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn nid_page(out: &Path, config_toml: &str) -> Result<String> {
    let file = read_json(&out.join("interactions.json"))?;
    let fields = strings(&file["fields"]);
    let data = &file["data"];
    let mut page = Page::new(
        &format!("NID on {}", data["source"].as_str().unwrap_or("?")),
        "Neural Interaction Detection: interactions read from the weights of an L1-regularised MLP.",
    );
    page.h2("Data and settings");
    let rows = floats(&data["rows"]);
    page.table(
        &["", ""],
        &[
            vec!["data".into(), data["source"].as_str().unwrap_or("?").into()],
            vec![
                "target".into(),
                format!(
                    "{} ({})",
                    data["label"].as_str().unwrap_or("?"),
                    data["task"].as_str().unwrap_or("?")
                ),
            ],
            vec![
                "rows (train / validation / test)".into(),
                rows.iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ],
            vec![
                "fields".into(),
                format!("{} ({})", fields.len(), fields.join(", ")),
            ],
            vec!["cut-off K".into(), file["cutoff"].to_string()],
        ],
    );
    settings(&mut page, config_toml);

    page.h2("Ranked interactions");
    let top = |key: &str, n: usize| -> Vec<(String, f64)> {
        file[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .take(n)
                    .map(|i| (strings(&i["fields"]).join(" × "), f(&i["strength"])))
                    .collect()
            })
            .unwrap_or_default()
    };
    // The pairwise strengths as a field-by-field matrix.
    let nf = fields.len();
    let mut matrix = vec![0.0; nf * nf];
    for p in file["pairwise"].as_array().into_iter().flatten() {
        let names = strings(&p["fields"]);
        let idx: Vec<usize> = names
            .iter()
            .filter_map(|n| fields.iter().position(|x| x == n))
            .collect();
        if let [a, b] = idx[..] {
            matrix[a * nf + b] = f(&p["strength"]);
            matrix[b * nf + a] = f(&p["strength"]);
        }
    }
    page.figures(vec![
        (
            plot::bar_chart_svg(
                "Strongest interactions (any order)",
                "strength",
                &top("interactions", 15),
                &|v| format!("{v:.3}"),
            ),
            "NID strength of the 15 strongest interactions (interactions.json → interactions)."
                .into(),
        ),
        (
            plot::heatmap_svg("Pairwise interaction strength", &fields, &matrix),
            "NID pairwise strength per field pair (interactions.json → pairwise).".into(),
        ),
    ]);
    let curve: Vec<(f64, f64)> = file["cutoff_curve"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| (f(&p["k"]), f(&p["validation_loss"])))
                .collect()
        })
        .unwrap_or_default();
    if !curve.is_empty() {
        page.h2("The cut-off: validation loss against K");
        let k = file["cutoff"].as_f64();
        page.figures(vec![(
            plot::line_chart_svg(
                "Validation loss with the top-K interactions added",
                "K (interactions added)",
                "validation loss",
                &curve,
                k.map(|k| (k, "chosen K")),
            ),
            "Each point: the MLP-Cutoff model with the first K interactions as extra networks \
             (interactions.json → cutoff_curve)."
                .into(),
        )]);
    }
    let rows: Vec<Vec<String>> = file["interactions"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(30)
                .enumerate()
                .map(|(k, i)| {
                    vec![
                        (k + 1).to_string(),
                        strings(&i["fields"]).join(" × "),
                        fmt4(&i["strength"]),
                        match i["above_cutoff"].as_bool() {
                            Some(true) => "yes".into(),
                            Some(false) => "no".into(),
                            None => "—".into(),
                        },
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    page.table(&["rank", "interaction", "strength", "above cut-off"], &rows);
    Ok(page.finish("glider nid"))
}

fn attention_page(out: &Path, config_toml: &str) -> Result<String> {
    let file = read_json(&out.join("attention.json"))?;
    let fields = strings(&file["fields"]);
    let model = file["model"].as_str().unwrap_or("?");
    let mut page = Page::new(
        &format!("{model}: its own interaction maps"),
        &format!(
            "Averaged over the first {} rows of {}.",
            file["rows"],
            file["data"].as_str().unwrap_or("?")
        ),
    );
    settings(&mut page, config_toml);
    page.h2("Field pairs");
    page.p(&format!("Rule: {}", file["rule"].as_str().unwrap_or("?")));
    let pairs: Vec<(String, f64)> = file["ranked_pairs"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(15)
                .map(|p| (strings(&p["fields"]).join(" × "), f(&p["score"])))
                .collect()
        })
        .unwrap_or_default();
    page.figures(vec![
        (
            plot::heatmap_svg("Pair score", &fields, &floats(&file["pair_scores"])),
            "attention.json → pair_scores.".into(),
        ),
        (
            plot::bar_chart_svg("Strongest pairs", "pair score", &pairs, &|v| {
                format!("{v:.4}")
            }),
            "attention.json → ranked_pairs.".into(),
        ),
    ]);
    let maps = file["maps"].as_array().cloned().unwrap_or_default();
    if !maps.is_empty() {
        page.h2("The raw maps");
        let charts = maps
            .iter()
            .take(12)
            .map(|m| {
                let name = m["name"].as_str().unwrap_or("?");
                (
                    plot::heatmap_svg(name, &fields, &floats(&m["values"])),
                    format!("attention.json → maps → \"{name}\""),
                )
            })
            .collect();
        page.figures(charts);
        if maps.len() > 12 {
            page.p(&format!(
                "{} more maps are in attention.json.",
                maps.len() - 12
            ));
        }
    }
    Ok(page.finish(&format!("glider attention ({model})")))
}

fn bench_page(out: &Path, config_toml: &str) -> Result<String> {
    let bench = read_json(&out.join("bench.json"))?;
    let mut page = Page::new("glider bench", "A benchmark's results, as in bench.json.");
    settings(&mut page, config_toml);
    // A `bench models` table gets a chart of test AUC per model.
    if let Some(rows) = bench["models"]
        .as_array()
        .filter(|r| r.iter().any(|x| x.get("auc_mean").is_some()))
    {
        let groups: Vec<BarGroup> = rows
            .iter()
            .map(|r| BarGroup {
                name: r["model"].as_str().unwrap_or("?").to_string(),
                values: vec![(f(&r["auc_mean"]), f(&r["auc_std"]))],
            })
            .collect();
        page.figures(vec![(
            plot::paired_bars_svg(
                "Test AUC per model",
                "AUC",
                &["mean ± std over seeds"],
                &groups,
            ),
            "bench.json → models.".into(),
        )]);
    }
    json_tables(&mut page, "results", &bench, 0);
    Ok(page.finish("glider bench"))
}

/// Renders a JSON value as headed tables: scalars of an object in one key/value table, arrays
/// of objects as tables with a column per key, nested objects as sub-sections.
fn json_tables(page: &mut Page, name: &str, v: &Value, depth: usize) {
    let Some(obj) = v.as_object() else {
        page.p(&format!("{name}: {}", compact(v)));
        return;
    };
    let scalars: Vec<Vec<String>> = obj
        .iter()
        .filter(|(_, x)| !x.is_object() && !is_table(x))
        .map(|(k, x)| vec![k.clone(), compact(x)])
        .collect();
    if depth == 0 {
        page.h2("Results");
    } else {
        page.h2(name);
    }
    if !scalars.is_empty() {
        page.table(&["", ""], &scalars);
    }
    for (k, x) in obj {
        if is_table(x) {
            let rows = x.as_array().cloned().unwrap_or_default();
            let mut keys: Vec<String> = Vec::new();
            for r in &rows {
                for key in r.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !keys.contains(key) {
                        keys.push(key.clone());
                    }
                }
            }
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| keys.iter().map(|key| compact(&r[key.as_str()])).collect())
                .collect();
            page.h2(k);
            let header: Vec<&str> = keys.iter().map(String::as_str).collect();
            page.table(&header, &cells);
        } else if x.is_object() && depth < 2 {
            json_tables(page, k, x, depth + 1);
        }
    }
}

fn is_table(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_models_page_charts_auc_per_model() {
        let dir = std::env::temp_dir().join(format!("glider-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bench = serde_json::json!({
            "seeds": 2,
            "models": [{"model": "lr", "auc_mean": 0.75, "auc_std": 0.01},
                       {"model": "deepfm", "auc_mean": 0.78, "auc_std": 0.02}]
        });
        std::fs::write(dir.join("bench.json"), bench.to_string()).unwrap();
        assert!(write_for("bench", &dir, "").unwrap());
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(html.contains("Test AUC per model"), "no AUC chart");
        assert!(html.contains("<td>deepfm</td>"));
        assert!(!html.contains("(no chart"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(
            esc("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn bench_tables_show_every_row_and_key() {
        let v: Value = serde_json::json!({
            "machine": "2 cores",
            "rows": [{"model": "lr", "auc_mean": 0.75, "auc_std": 0.01},
                     {"model": "fm", "auc_mean": 0.78, "auc_std": 0.02}]
        });
        let mut page = Page::new("t", "s");
        json_tables(&mut page, "results", &v, 0);
        let html = page.finish("t");
        assert!(html.contains("<td>2 cores</td>"));
        // Columns in key order (serde_json sorts them).
        assert!(html.contains("<th>auc_mean</th><th>auc_std</th><th>model</th>"));
        assert!(html.contains("<td>0.78</td><td>0.02</td><td>fm</td>"));
    }
}

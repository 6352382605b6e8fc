//! The `glider` binary end to end: a small run writes its three JSON files with the documented
//! schema, and bad input gives a clear error (file, line or column), exit code 1, no panic and
//! no output files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glider_core::synth::SynthCtrConfig;
use glider_data::synth::{synthetic, to_csv};

fn glider(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args)
        .output()
        .expect("the glider binary runs")
}

/// One step of a 64-bit linear congruential generator (Knuth's MMIX constants): advances
/// `state` and returns a number in [0, 1) from its top bits. Test tables made with it are the
/// same on every platform.
fn lcg_unit(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 33) as f64 / (1u64 << 31) as f64
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs `glider run` on `csv` text with `extra` flags and asserts a clean failure whose
/// message contains every string of `expect`.
fn assert_fails(name: &str, csv: &str, extra: &[&str], expect: &[&str]) {
    assert_subcommand_fails("run", "report.json", name, csv, extra, expect);
}

/// Runs `glider <subcommand> --data <csv> --out <dir> --quiet <extra>` and asserts exit code
/// 1, no panic, every string of `expect` in the message, and no `output` file written.
fn assert_subcommand_fails(
    subcommand: &str,
    output: &str,
    name: &str,
    csv: &str,
    extra: &[&str],
    expect: &[&str],
) {
    let dir = scratch(name);
    let data = dir.join("data.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        subcommand,
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = glider(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    for e in expect {
        assert!(err.contains(e), "{name}: expected {e:?} in: {err}");
    }
    assert!(!out.join(output).exists(), "{name}: partial output");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_inputs_fail_clearly() {
    assert_fails(
        "row-length",
        "label,a,b\n1,x,2\n0,y\n1,z,3\n",
        &[],
        &["data.csv:3", "expected 3 columns, found 2"],
    );
    assert_fails(
        "label",
        "label,a\n1,x\nyes,y\n",
        &[],
        &["data.csv:3", "\"yes\"", "--positive"],
    );
    assert_fails("empty", "", &[], &["data.csv", "no data rows"]);
    assert_fails(
        "unknown-column",
        "label,a\n1,x\n",
        &["--categorical", "zip"],
        &["no column named \"zip\"", "label, a"],
    );
    assert_fails(
        "no-label",
        "y,a\n1,x\n",
        &[],
        &["no column named \"label\""],
    );
    assert_fails(
        "wrong-format",
        "label,a\n1,x\n",
        &["--format", "criteo"],
        &["data.csv:1", "expected 40 columns, found 1"],
    );
    assert_fails(
        "delimiter",
        "label;a;b\n1;x;2\n",
        &[],
        &["no column named \"label\"", "is the delimiter right?"],
    );
}

#[test]
fn missing_file_and_usage_errors() {
    let o = glider(&[
        "run",
        "--data",
        "/nonexistent/x.csv",
        "--out",
        "/tmp/x",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/x.csv"), "{}", stderr(&o));
    let o = glider(&["run", "--data", "x.csv"]);
    assert_eq!(o.status.code(), Some(2), "missing --out is a usage error");
    // Invalid flag values found after parsing are usage errors too (exit 2).
    let o = glider(&["run", "--data", "x.csv", "--out", "o", "--model", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown model \"nope\""));
    for (flags, expect) in [
        (&["--model", "transformer"][..], "autoint"),
        (&["--model", "lr,fm"][..], "only `glider run` takes a list"),
        (&["--hidden", "0"][..], "--hidden"),
        (
            &["--model", "autoint", "--attention-heads", "3"][..],
            "multiple of",
        ),
        (
            &["--model", "autoint", "--attention-layers", "0"][..],
            "--attention-layers",
        ),
        (&["--embedding-l2=-1"][..], "--embedding-l2"),
        (&["--featindex", "x"][..], "--featindex applies"),
    ] {
        let mut args = vec!["train", "--data", "x.csv", "--out", "o", "--quiet"];
        args.extend_from_slice(flags);
        let o = glider(&args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{flags:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
    let o = glider(&[
        "detect",
        "--model-dir",
        "m",
        "--data",
        "x.csv",
        "--out",
        "o",
        "--surrogate-hidden",
        "8,0",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--surrogate-hidden"), "{}", stderr(&o));
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn a_small_run_writes_the_documented_files() {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 6000;
    let (data, _) = synthetic(&cfg).unwrap();
    let dir = scratch("run");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let out = dir.join("out");
    let o = glider(&[
        "run",
        "--data",
        file.to_str().unwrap(),
        "--label",
        "click",
        "--categorical",
        "f0,f1,f2,f3,f4,f5,f6,f7",
        "--instances",
        "4",
        "--perturbations",
        "600",
        "--top-k",
        "3",
        "--trials",
        "2",
        "--source-model",
        "deepfm",
        "--model",
        "deepfm,lr",
        "--hidden",
        "32,32",
        "--epochs",
        "3",
        "--surrogate-hidden",
        "32,16",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Top global interactions"), "{stdout}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["rows"]["train"], 4800);
    assert_eq!(report["trials"], 2);
    assert_eq!(report["instances"], 4);
    assert_eq!(report["fields"].as_array().unwrap().len(), 8);
    assert_eq!(report["source_model"], "deepfm");
    assert!(report["source_test"]["auc"].as_f64().unwrap() > 0.5);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[1]["model"], "lr");
    assert_eq!(
        targets[1]["baseline"]["trials"].as_array().unwrap().len(),
        2
    );
    // The source is also the first target: its trial-1 baseline is the source model itself.
    assert_eq!(
        targets[0]["baseline"]["trials"][0]["auc"],
        report["source_test"]["auc"]
    );
    let target = &targets[0];
    assert_eq!(target["model"], "deepfm");
    for arm in ["baseline", "enhanced"] {
        for key in ["auc_mean", "auc_std", "logloss_mean", "logloss_std"] {
            assert!(target[arm][key].is_number(), "{arm}.{key}");
        }
    }
    assert!(target["auc_gain_p_value"].is_number());
    for key in ["train", "detect", "encode", "retrain"] {
        assert!(report["seconds"][key].as_f64().unwrap() >= 0.0);
    }
    let global = read_json(&out.join("global_interactions.json"));
    assert_eq!(global["instances"], 4);
    let interactions = global["interactions"].as_array().unwrap();
    assert!(!interactions.is_empty() && interactions.len() <= 3);
    assert!(interactions[0]["count"].as_u64().unwrap() >= 1);
    let crosses = read_json(&out.join("crosses.json"));
    assert_eq!(
        crosses["crosses"].as_array().unwrap().len(),
        interactions.len()
    );
    // Per target that kept crosses, the crossing it was measured with; none for the others.
    for t in report["targets"].as_array().unwrap() {
        let kept = t["kept_crosses"].as_array().unwrap();
        let path = out.join(format!("crosses.{}.json", t["model"].as_str().unwrap()));
        assert_eq!(path.exists(), !kept.is_empty(), "{}", path.display());
        if path.exists() {
            let spec = read_json(&path);
            let names: Vec<&serde_json::Value> = spec["crosses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c["name"])
                .collect();
            assert_eq!(names, kept.iter().collect::<Vec<_>>());
            assert_eq!(spec["min_count"], t["cross_min_count"]);
        }
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // The pairwise heatmap's numbers are in global_interactions.json: 8 × 8, symmetric.
    let strength = global["pair_strength"].as_array().unwrap();
    assert_eq!(strength.len(), 64);
    assert_eq!(strength[1], strength[8]);
    // report.html: self-contained, with the bar chart, the heatmap and both metric charts.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "bars, heatmap, AUC, logloss, one selection curve per target"
    );
    // Each target's crosses were chosen on validation: a verdict, the kept list (a subset of
    // the candidates) and the curve's points (baseline + one per candidate).
    for t in targets {
        assert!(t["verdict"]
            .as_str()
            .unwrap()
            .starts_with(t["model"].as_str().unwrap()));
        assert_eq!(
            t["candidate_crosses"].as_u64().unwrap() as usize,
            interactions.len()
        );
        assert!(t["kept_crosses"].as_array().unwrap().len() <= interactions.len());
        let sel = &t["selection"];
        assert_eq!(
            sel["trace"]["candidates"].as_array().unwrap().len(),
            interactions.len()
        );
        assert!(sel["baseline_validation_logloss"].as_f64().unwrap() > 0.0);
    }
    // LR is a simple target other than the source: its distillation share is reported.
    assert!(targets[1]["distillation"].is_object());
    assert!(targets[0]["distillation"].is_null());
    for text in [
        "Crosses kept per target",
        "validation logloss during selection",
        "Global interactions (count over instances)",
        "GLIDER: pairwise interaction strength",
        "Test AUC (higher is better)",
        "Test logloss (lower is better)",
        "<td>lr</td>",
    ] {
        assert!(html.contains(text), "report.html lacks {text}");
    }
    assert!(!html.contains("(no chart"), "a chart failed to draw");
    // The table shows the paired AUC gain of report.json.
    let gain = &target["auc_gain"];
    let cell = format!(
        "<td>{:+.4} ± {:.4}</td>",
        gain["mean_diff"].as_f64().unwrap(),
        gain["std_diff"].as_f64().unwrap()
    );
    assert!(html.contains(&cell), "report.html lacks {cell}");
    // Nothing fetched: no script, stylesheet link, or image/source URL (SVG's xmlns is a name).
    for fetch in ["<script", "<link", "src=\"http", "href=\"http", "<img"] {
        assert!(!html.contains(fetch), "report.html contains {fetch}");
    }
    // The effective configuration is saved beside the outputs and shown in the report.
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("instances = 4"), "{config}");
    assert!(config.contains("model = \"deepfm,lr\""), "{config}");
    assert!(html.contains("instances = 4"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--config` supplies flags (the command line wins), config.toml reproduces a run, `--json`
/// makes stdout one JSON document, and a bad config file is a usage error naming the key.
#[test]
fn config_files_and_json_output() {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 2000;
    let (data, _) = synthetic(&cfg).unwrap();
    let dir = scratch("config");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let toml = dir.join("train.toml");
    std::fs::write(
        &toml,
        format!(
            "data = {:?}\nlabel = \"click\"\nmodel = \"fm\"\nepochs = 9\nembedding_dim = 4\n",
            file.to_str().unwrap()
        ),
    )
    .unwrap();
    let a = dir.join("a");
    let o = glider(&[
        "train",
        "--config",
        toml.to_str().unwrap(),
        "--epochs",
        "2",
        "--out",
        a.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(doc["command"], "train");
    assert_eq!(
        doc["result"]["epochs"], 2,
        "the command line wins over the file"
    );
    let metrics = read_json(&a.join("metrics.json"));
    assert_eq!(doc["result"], metrics);
    let saved = std::fs::read_to_string(a.join("config.toml")).unwrap();
    for line in [
        "epochs = 2",
        "model = \"fm\"",
        "embedding-dim = 4",
        "label = \"click\"",
    ] {
        assert!(saved.contains(line), "{line} missing from {saved}");
    }
    // The saved configuration repeats the run exactly.
    let b = dir.join("b");
    let o = glider(&[
        "train",
        "--config",
        a.join("config.toml").to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = read_json(&b.join("metrics.json"));
    assert_eq!(again["test"], metrics["test"]);
    // A key that is no flag of the subcommand, and TOML syntax errors: exit 2, named.
    std::fs::write(&toml, "data = \"x.csv\"\nepochz = 3\n").unwrap();
    let o = glider(&["train", "--config", toml.to_str().unwrap(), "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`epochz` is not a setting of `glider train`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&toml, "data = \"x.csv\nepochs = 3\n").unwrap();
    let o = glider(&["train", "--config", toml.to_str().unwrap(), "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not valid TOML") && stderr(&o).contains("line 1"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A 200-instance run killed with SIGKILL half-way and resumed gives the same result as one
/// left alone.
#[test]
fn killed_run_resumes_to_the_same_result() {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 4000;
    let (data, _) = synthetic(&cfg).unwrap();
    let dir = scratch("resume");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            "--data",
            file.to_str().unwrap(),
            "--label",
            "click",
            "--instances",
            "200",
            "--perturbations",
            "400",
            "--surrogate-hidden",
            "32,16",
            "--top-k",
            "4",
            "--trials",
            "1",
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = dir.join("whole");
    let o = glider(&args(&whole).iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));

    let killed = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args(&killed))
        .spawn()
        .unwrap();
    let journal = killed.join("local.jsonl");
    let lines = || {
        std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    while lines() < 60 && started.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let done_before = lines().saturating_sub(1);
    assert!(
        (1..200).contains(&done_before),
        "the kill should land half-way, {done_before} instances were done"
    );
    assert!(!killed.join("report.json").exists());
    let mut resumed = args(&killed);
    resumed.push("--resume".into());
    let o = glider(&resumed.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(whole.join("global_interactions.json")).unwrap(),
        std::fs::read_to_string(killed.join("global_interactions.json")).unwrap()
    );
    assert_eq!(
        read_json(&whole.join("report.json"))["targets"],
        read_json(&killed.join("report.json"))["targets"]
    );
    assert_eq!(lines(), 201, "header + 200 instances, none twice");
    // Other settings refuse to resume this journal.
    let mut other = args(&killed);
    other.push("--resume".into());
    other.push("--seed".into());
    other.push("9".into());
    let o = glider(&other.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("other settings"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

/// train → predict → detect in two shards + merge equals one detect; a model reloaded from
/// disk scores like the one trained.
#[test]
fn train_predict_detect_shards_merge() {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 3000;
    let (data, _) = synthetic(&cfg).unwrap();
    let dir = scratch("model");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let f = file.to_str().unwrap();
    let model = dir.join("model");
    let m = model.to_str().unwrap();
    let o = glider(&[
        "train", "--data", f, "--label", "click", "--hidden", "16", "--epochs", "3", "--out", m,
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics = read_json(&model.join("metrics.json"));
    assert!(metrics["test"]["auc"].as_f64().unwrap() > 0.5);
    assert!(model.join("model.safetensors").exists());

    // Predict on the file without its label column.
    let unlabeled = dir.join("unlabeled.csv");
    let text: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string() + "\n")
        .collect();
    std::fs::write(&unlabeled, text).unwrap();
    let scores = dir.join("scores.csv");
    let o = glider(&[
        "predict",
        "--model-dir",
        m,
        "--data",
        unlabeled.to_str().unwrap(),
        "--out",
        scores.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(s.lines().count(), 3001);
    assert!(s.starts_with("row,probability,logit\n0,"));

    let detect = |extra: &[&str], out: &Path| {
        let mut a = vec![
            "detect",
            "--model-dir",
            m,
            "--data",
            f,
            "--instances",
            "8",
            "--perturbations",
            "800",
            "--top-k",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        a.extend_from_slice(extra);
        let o = glider(&a);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let one = dir.join("one");
    detect(&[], &one);
    let (s1, s2) = (dir.join("s1"), dir.join("s2"));
    detect(&["--shard", "1/2"], &s1);
    detect(&["--shard", "2/2"], &s2);
    let merged = dir.join("merged");
    let o = glider(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        read_json(&one.join("global_interactions.json")),
        read_json(&merged.join("global_interactions.json"))
    );
    // With --json the merge still happens, and stdout is its result.
    let merged_json = dir.join("merged-json");
    let o = glider(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged_json.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(
        doc["result"],
        read_json(&one.join("global_interactions.json"))
    );
    // merge reads shard folders without changing them, and a missing journal is an error.
    let before = std::fs::read(s2.join("local.jsonl")).unwrap();
    std::fs::remove_file(s1.join("local.jsonl")).unwrap();
    let o = glider(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("local.jsonl"), "{}", stderr(&o));
    assert!(!s1.join("local.jsonl").exists());
    assert_eq!(std::fs::read(s2.join("local.jsonl")).unwrap(), before);
    // A model directory from another schema is refused with the missing field's name.
    let other = dir.join("other.csv");
    std::fs::write(&other, "click,zzz\n1,a\n0,b\n").unwrap();
    let o = glider(&[
        "detect",
        "--model-dir",
        m,
        "--data",
        other.to_str().unwrap(),
        "--out",
        dir.join("bad").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("needs field \"f0\""), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

/// `glider run` itself (the binary) ranks the planted pair of generated data first, and its
/// cross raises the test AUC.
#[test]
fn glider_run_ranks_the_planted_pair_first() {
    let (data, planted) = synthetic(&SynthCtrConfig::small()).unwrap();
    assert_eq!(planted, vec![vec![1, 3]]);
    let dir = scratch("planted");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let out = dir.join("out");
    let o = glider(&[
        "run",
        "--data",
        file.to_str().unwrap(),
        "--label",
        "click",
        "--categorical",
        "f0,f1,f2,f3,f4,f5,f6,f7",
        "--instances",
        "24",
        "--perturbations",
        "2000",
        "--top-k",
        "3",
        "--trials",
        "2",
        "--embedding-dim",
        "8",
        "--hidden",
        "64,64",
        "--batch-size",
        "512",
        "--epochs",
        "10",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let global = read_json(&out.join("global_interactions.json"));
    assert_eq!(
        global["interactions"][0]["fields"],
        serde_json::json!(["f1", "f3"])
    );
    let t = &read_json(&out.join("report.json"))["targets"][0];
    let (base, enhanced) = (
        t["baseline"]["auc_mean"].as_f64().unwrap(),
        t["enhanced"]["auc_mean"].as_f64().unwrap(),
    );
    assert!(enhanced > base, "baseline {base} vs +GLIDER {enhanced}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A regression table with known interactions: y = 3·x0·x1 + x2 + 2·[c = a]·x3, x4 noise-free
/// irrelevant; x drawn from a fixed LCG.
fn nid_table(rows: usize) -> String {
    let mut state = 12345u64;
    let mut next = || lcg_unit(&mut state) * 2.0 - 1.0;
    let mut s = String::from("x0,x1,x2,x3,x4,c,y\n");
    for _ in 0..rows {
        let x: Vec<f64> = (0..5).map(|_| next()).collect();
        let c = ["a", "b", "c"][((next() + 1.0) * 1.5).min(2.0) as usize];
        let y = 3.0 * x[0] * x[1] + x[2] + if c == "a" { 2.0 * x[3] } else { 0.0 };
        s.push_str(&format!(
            "{:.4},{:.4},{:.4},{:.4},{:.4},{c},{y:.5}\n",
            x[0], x[1], x[2], x[3], x[4]
        ));
    }
    s
}

/// `glider nid` ranks the planted pairs first (one of them through a one-hot categorical
/// field), writes interactions.json with the documented keys, and gives identical files with
/// 1 and 2 threads.
#[test]
fn glider_nid_finds_planted_pairs_and_is_thread_independent() {
    let dir = scratch("nid");
    let data = dir.join("t.csv");
    std::fs::write(&data, nid_table(3000)).unwrap();
    let run = |threads: &str, out: &str| {
        let out = dir.join(out);
        let o = glider(&[
            "--threads",
            threads,
            "nid",
            "--data",
            data.to_str().unwrap(),
            "--label",
            "y",
            "--hidden",
            "32,16",
            "--epochs",
            "30",
            "--ensemble",
            "2",
            "--cutoff",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        std::fs::read_to_string(out.join("interactions.json")).unwrap()
    };
    let one = run("1", "t1");
    let two = run("2", "t2");
    assert_eq!(one, two, "1 and 2 threads differ");
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["fields"].as_array().unwrap().len(), 6);
    // report.html: the ranked bars, the pairwise heatmap and the cut-off curve.
    let html = std::fs::read_to_string(dir.join("t1").join("report.html")).unwrap();
    for text in [
        "Strongest interactions (any order)",
        "Pairwise interaction strength",
        "Validation loss with the top-K interactions added",
    ] {
        assert!(html.contains(text), "report.html lacks {text}");
    }
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("(no chart"));
    let pairs: Vec<Vec<String>> = v["pairwise"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut f: Vec<String> = r["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            f.sort();
            f
        })
        .collect();
    let rank = |a: &str, b: &str| pairs.iter().position(|f| f == &[a, b]).unwrap();
    // The strongest planted pair first; the gated pair (through the one-hot field) in the
    // top 4 (NID also credits c with x0 and x1, whose units use c's columns); every pair
    // with the irrelevant x4 below both.
    assert_eq!(rank("x0", "x1"), 0, "{pairs:?}");
    let gated = rank("c", "x3");
    assert!(gated < 4, "{pairs:?}");
    for (i, f) in pairs.iter().enumerate() {
        if f.iter().any(|x| x == "x4") {
            assert!(i > gated, "{f:?} at {i}: {pairs:?}");
        }
    }
    assert_eq!(v["pairwise"].as_array().unwrap().len(), 15);
    let k = v["cutoff"].as_u64().expect("a cut-off");
    assert!(k >= 2, "cut-off {k}");
    let above: Vec<bool> = v["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["above_cutoff"].as_bool().unwrap())
        .collect();
    assert!(above[..k as usize].iter().all(|&a| a) && !above[k as usize..].iter().any(|&a| a));
    assert!(v["cutoff_curve"][0]["k"] == 0 && v["cutoff_curve"][0]["validation_loss"].is_f64());
    std::fs::remove_dir_all(&dir).ok();
}

/// Bad tables for `glider nid`: each fails with its own clear message and no output.
#[test]
fn glider_nid_rejects_bad_tables() {
    let cases: [(&str, String, &[&str], &[&str]); 5] = [
        (
            "text-target",
            "a,b,y\n1,2,3\n2,3,high\n3,1,2\n".to_string(),
            &["--task", "regression"],
            &[
                "data.csv:3",
                "column \"y\"",
                "\"high\" is not a finite number",
            ],
        ),
        (
            "constant",
            format!(
                "a,k,y\n{}",
                (0..40)
                    .map(|i| format!("{i},7,{}\n", i % 5))
                    .collect::<String>()
            ),
            &[],
            &["field \"k\" is constant", "--ignore k"],
        ),
        (
            "missing",
            format!(
                "a,b,y\n1,NA,2\n{}",
                (0..40)
                    .map(|i| format!("{i},{},{}\n", i % 3, i % 5))
                    .collect::<String>()
            ),
            &[],
            &["field \"b\" has a missing value at data row 1"],
        ),
        (
            "one-row",
            "a,b,y\n1,2,3\n".to_string(),
            &[],
            &["cannot be split into training, validation and test"],
        ),
        (
            "one-class",
            "a,b,y\nx,1,u\ny,2,u\nz,3,u\n".to_string(),
            &["--task", "multiclass"],
            &["1 class(es)"],
        ),
    ];
    for (name, csv, extra, expect) in cases {
        let mut flags = vec!["--label", "y"];
        flags.extend_from_slice(extra);
        assert_subcommand_fails("nid", "interactions.json", name, &csv, &flags, expect);
    }
}

/// A libFM file in the Frappe layout (one `index:1` token per field, global indices, labels
/// -1/1): field 0 × field 1 parity sets the label.
fn libfm_text(rows: usize) -> String {
    let mut out = String::new();
    for r in 0..rows {
        let (a, b, c) = (r % 4, (r / 4) % 3, (r * 7) % 5);
        let label = if (a + b) % 2 == 0 { 1 } else { -1 };
        out.push_str(&format!("{label} {a}:1 {}:1 {}:1\n", 10 + b, 20 + c));
    }
    out
}

#[test]
fn zoo_formats_and_attention_maps() {
    let dir = scratch("zoo");
    let data = dir.join("data.libfm");
    std::fs::write(&data, libfm_text(600)).unwrap();
    let model = dir.join("fibinet");
    let o = glider(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "libfm",
        "--field-names",
        "user,item,city",
        "--min-count",
        "0",
        "--model",
        "fibinet",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--out",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let card = read_json(&model.join("model.json"));
    assert_eq!(card["model"], "fibinet");
    assert_eq!(card["reading"]["format"], "libfm");
    let metrics = read_json(&model.join("metrics.json"));
    for part in ["validation", "test"] {
        assert!(metrics[part]["auc"].is_number() && metrics[part]["logloss"].is_number());
    }
    assert_eq!(metrics["epochs"], 2);
    let att = dir.join("att");
    let o = glider(&[
        "attention",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--sample",
        "100",
        "--out",
        att.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let maps = read_json(&att.join("attention.json"));
    assert_eq!(maps["fields"], serde_json::json!(["user", "item", "city"]));
    assert_eq!(maps["rows"], 100);
    let pairs = maps["ranked_pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 3);
    assert!(pairs[0]["score"].as_f64().unwrap() >= pairs[2]["score"].as_f64().unwrap());
    assert_eq!(maps["pair_scores"].as_array().unwrap().len(), 9);
    assert!(maps["rule"].as_str().unwrap().contains("FiBiNET"));
    let html = std::fs::read_to_string(att.join("report.html")).unwrap();
    assert!(html.contains("fibinet: its own interaction maps") && html.contains("Strongest pairs"));
    assert!(!html.contains("(no chart"));
    let svg = std::fs::read_to_string(att.join("attention_heatmap.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("user"),
        "{}",
        &svg[..80]
    );

    // A model without maps: a clear error, nothing written.
    let lr = dir.join("lr");
    let o = glider(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--format",
        "libfm",
        "--min-count",
        "0",
        "--model",
        "lr",
        "--epochs",
        "1",
        "--out",
        lr.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = glider(&[
        "attention",
        "--model-dir",
        lr.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.join("att-lr").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("has no attention"), "{}", stderr(&o));
    assert!(!dir.join("att-lr").join("attention.json").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_reader_rejects_bad_input_clearly() {
    assert_subcommand_fails(
        "train",
        "model.json",
        "libfm-token",
        "1 3:1 12:1\n-1 3:1 x:1\n",
        &["--format", "libfm"],
        &["data.csv:2", "x:1"],
    );
    assert_subcommand_fails(
        "train",
        "model.json",
        "libfm-label",
        "1 3:1 12:1\n2 3:1 11:1\n",
        &["--format", "libfm"],
        &["data.csv:2", "label"],
    );
    let header = "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21";
    assert_subcommand_fails(
        "train",
        "model.json",
        "avazu-cells",
        &format!(
            "{header}\n1,0,14102100,1005,0,a,b,c,d,e,f,g,h,i,1,2,3,4,5,6,7,8,9,10\n2,1,14102100\n"
        ),
        &["--format", "avazu"],
        &["data.csv:3"],
    );
    assert_subcommand_fails(
        "train",
        "model.json",
        "criteo-dense",
        &format!("1\tx{}\n", "\t".repeat(38)),
        &["--format", "criteo"],
        &["data.csv:1"],
    );
    assert_subcommand_fails(
        "train",
        "model.json",
        "one-class",
        "label,a\n1,x\n1,y\n1,z\n1,w\n",
        &[],
        &["every training row has label 1", "--positive"],
    );
}

#[test]
fn streamed_training_writes_a_model_that_predicts() {
    let dir = scratch("stream");
    let data = dir.join("c.txt");
    let mut lines = Vec::new();
    for i in 0..400usize {
        let label = u8::from(i % 4 == 0 || i % 7 == 0);
        let mut cells = vec![label.to_string(), (i % 5).to_string()];
        cells.extend((1..13).map(|_| String::new()));
        cells.push(format!("a{}", i % 4));
        cells.push(format!("b{}", i % 7));
        cells.extend((2..26).map(|_| String::new()));
        lines.push(cells.join("\t"));
    }
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let model = dir.join("m");
    let o = glider(&[
        "train",
        "--stream",
        "--chunk-rows",
        "64",
        "--format",
        "criteo",
        "--data",
        data.to_str().unwrap(),
        "--min-count",
        "0",
        "--model",
        "fm",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--out",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // 400 rows: rows i mod 10 = 8 validation (40), 9 test (40).
    assert!(stdout.contains("320 / 40 / 40 rows"), "{stdout}");
    let card = read_json(&model.join("model.json"));
    let c1 = card["encodings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "C1")
        .unwrap()
        .clone();
    assert_eq!(c1["vocabulary"].as_array().unwrap().len(), 4, "{c1}");
    // Criteo's counts keep their log² transform as their encoding: scalar by default.
    assert_eq!(card["encodings"][0]["name"], "I1");
    assert_eq!(
        card["encodings"][0]["kind"], "dense",
        "{}",
        card["encodings"][0]
    );
    let scores = dir.join("s.csv");
    let o = glider(&[
        "predict",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--out",
        scores.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&scores).unwrap().lines().count(),
        401
    );
    // --stream is for Criteo files only.
    let o = glider(&[
        "train",
        "--stream",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.join("x").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--format criteo"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

/// `glider encode`: crosses fitted from a global_interactions.json are appended to the file
/// and, with --apply, to another file with the same values; interactions or crosses naming
/// fields the data lacks are clear errors with no output.
#[test]
fn encode_fits_and_applies_crosses() {
    let dir = scratch("encode");
    // Every (a, b) tuple occurs 20 times, so min-count 10 keeps all four.
    let mut text = String::from("click,a,b,c\n");
    for i in 0..80 {
        let (a, b) = (["x", "y"][i % 2], ["u", "v"][(i / 2) % 2]);
        text.push_str(&format!("{},{a},{b},w{}\n", i % 3 == 0, i % 5));
    }
    let text = text.replace("true", "1").replace("false", "0");
    let train = dir.join("train.csv");
    std::fs::write(&train, &text).unwrap();
    let test = dir.join("test.csv");
    std::fs::write(&test, "click,a,b,c\n1,y,v,w0\n0,x,z,w1\n").unwrap();
    let global = dir.join("global_interactions.json");
    std::fs::write(
        &global,
        r#"{"fields": ["a", "b", "c"], "instances": 10, "failed": [],
            "interactions": [{"fields": ["a", "b"], "count": 7}]}"#,
    )
    .unwrap();
    let out = dir.join("enc");
    let o = glider(&[
        "encode",
        "--data",
        train.to_str().unwrap(),
        "--label",
        "click",
        "--categorical",
        "a,b,c",
        "--interactions",
        global.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let data = std::fs::read_to_string(out.join("data.csv")).unwrap();
    let mut lines = data.lines();
    assert_eq!(lines.next(), Some("click,a,b,c,\"cross(a,b)\""));
    assert_eq!(lines.next(), Some("1,x,u,w0,x|u"));
    assert_eq!(data.lines().count(), 81);
    let crosses = read_json(&out.join("crosses.json"));
    assert_eq!(crosses["crosses"][0]["tuples"].as_array().unwrap().len(), 4);

    let applied = dir.join("enc-test");
    let o = glider(&[
        "encode",
        "--data",
        test.to_str().unwrap(),
        "--label",
        "click",
        "--categorical",
        "a,b,c",
        "--apply",
        out.join("crosses.json").to_str().unwrap(),
        "--out",
        applied.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let data = std::fs::read_to_string(applied.join("data.csv")).unwrap();
    // A tuple never seen in training gets the empty (missing) cross value.
    assert_eq!(
        data,
        "click,a,b,c,\"cross(a,b)\"\n1,y,v,w0,y|v\n0,x,z,w1,\n"
    );

    // Trained with the crosses in the linear term only, as `glider run` may train FM: the
    // model card records the one trailing cross field; data without crosses is refused.
    let model = dir.join("fm");
    let train_fm = |data: &Path, out: &Path| {
        glider(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--label",
            "click",
            "--model",
            "fm",
            "--epochs",
            "2",
            "--crosses-linear-only",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
    };
    let o = train_fm(&out.join("data.csv"), &model);
    assert!(o.status.success(), "{}", stderr(&o));
    let cross = &read_json(&model.join("model.json"))["params"]["cross"];
    assert_eq!(cross["fields"], 1, "{cross}");
    assert_eq!(cross["linear_only"], true, "{cross}");
    let o = train_fm(&train, &dir.join("fm-plain"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("has no cross fields"), "{}", stderr(&o));

    // Interactions or crosses from another dataset.
    let other = dir.join("other.csv");
    std::fs::write(&other, "click,p,q\n1,x,y\n0,z,w\n").unwrap();
    for (flag, file, expect) in [
        (
            "--interactions",
            global.clone(),
            "interaction 1 (a × b) names field \"a\", which",
        ),
        (
            "--apply",
            out.join("crosses.json"),
            "the cross cross(a,b) needs field \"a\"",
        ),
    ] {
        let bad = dir.join(format!("bad{flag}"));
        let o = glider(&[
            "encode",
            "--data",
            other.to_str().unwrap(),
            "--label",
            "click",
            flag,
            file.to_str().unwrap(),
            "--out",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
        assert!(stderr(&o).contains("other.csv"), "{}", stderr(&o));
        assert!(!bad.exists(), "no output on bad input");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `glider serve` on a free port; returns the child and the model's URL.
fn serve(model: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args([
            "serve",
            "--model-dir",
            model.to_str().unwrap(),
            "--port",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("glider serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

/// A built-in model in-process and behind `glider serve` on loopback: the same scores (within
/// 1e-6) and the same global interactions for the same seed. A server that is gone fails
/// every instance: exit code 1, naming the instance and the cause.
#[test]
fn served_model_matches_the_model_in_process() {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 2000;
    let (data, _) = synthetic(&cfg).unwrap();
    let dir = scratch("serve");
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    let f = file.to_str().unwrap();
    let model = dir.join("model");
    let o = glider(&[
        "train",
        "--data",
        f,
        "--label",
        "click",
        "--categorical",
        "f0,f1,f2,f3,f4,f5,f6,f7",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--out",
        model.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (mut server, url) = serve(&model);
    let schema = [
        "--label",
        "click",
        "--categorical",
        "f0,f1,f2,f3,f4,f5,f6,f7",
    ];
    let run = |args: &[&str]| {
        let o = glider(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let (local, remote) = (dir.join("local.csv"), dir.join("remote.csv"));
    run(&[
        "predict",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        f,
        "--out",
        local.to_str().unwrap(),
    ]);
    let mut args = vec![
        "predict",
        "--black-box",
        &url,
        "--data",
        f,
        "--out",
        remote.to_str().unwrap(),
    ];
    args.extend(schema);
    run(&args);
    let scores = |p: &Path| -> Vec<f64> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let (a, b) = (scores(&local), scores(&remote));
    assert_eq!(a.len(), 2000);
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-6, "largest score difference {worst}");

    let (dl, dr) = (dir.join("detect-local"), dir.join("detect-remote"));
    let detect = [
        "--instances",
        "4",
        "--perturbations",
        "400",
        "--surrogate-hidden",
        "16,8",
        "--top-k",
        "3",
    ];
    let mut args = vec![
        "detect",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        f,
        "--out",
        dl.to_str().unwrap(),
        "-q",
    ];
    args.extend(detect);
    run(&args);
    let mut args = vec![
        "detect",
        "--black-box",
        &url,
        "--data",
        f,
        "--out",
        dr.to_str().unwrap(),
        "-q",
        "--request-rows",
        "150",
    ];
    args.extend(detect);
    args.extend(schema);
    run(&args);
    let (gl, gr) = (
        read_json(&dl.join("global_interactions.json")),
        read_json(&dr.join("global_interactions.json")),
    );
    assert_eq!(gl["interactions"], gr["interactions"]);
    assert!(!gl["interactions"].as_array().unwrap().is_empty());
    server.kill().ok();
    server.wait().ok();

    // The server is gone: one line, before anything is written.
    let gone = dir.join("gone");
    let mut args = vec![
        "detect",
        "--black-box",
        &url,
        "--data",
        f,
        "--out",
        gone.to_str().unwrap(),
        "-q",
        "--retries",
        "0",
    ];
    args.extend(detect);
    args.extend(schema);
    let o = glider(&args);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("cannot score instance 0")
            && e.contains("nothing was written")
            && e.contains("/infer")
            && e.contains("connection refused")
            && e.contains("1 attempt (--retries"),
        "{e}"
    );
    assert!(
        !gone.exists(),
        "no output folder for a black box that cannot answer"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A server that answers with the wrong number of scores, or with a null (NaN) score: the
/// instance fails with a message naming it and the problem; the run goes on.
#[test]
fn misbehaving_black_boxes_fail_their_instances_clearly() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Answers every request with one score, or with a null score on every third request.
    std::thread::spawn(move || {
        for (k, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).ok();
            let answer = if k % 3 == 2 {
                r#"{"outputs":[{"name":"logit","datatype":"FP32","shape":[1],"data":[null]}]}"#
            } else {
                r#"{"outputs":[{"name":"logit","datatype":"FP32","shape":[1],"data":[0.5]}]}"#
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    let dir = scratch("misbehaving");
    let file = dir.join("d.csv");
    let mut text = String::from("click,a,b\n");
    for i in 0..40 {
        text.push_str(&format!("{},x{},y{}\n", i % 2, i % 3, i % 4));
    }
    std::fs::write(&file, text).unwrap();
    let url = format!("http://127.0.0.1:{port}/v2/models/m");
    let out = dir.join("out");
    // One-row requests get one score (valid); bigger ones get too few.
    let o = glider(&[
        "predict",
        "--black-box",
        &url,
        "--data",
        file.to_str().unwrap(),
        "--label",
        "click",
        "--out",
        out.join("s.csv").to_str().unwrap(),
        "--retries",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("asked for 40 scores, got 1 values"),
        "{}",
        stderr(&o)
    );
    assert!(!out.join("s.csv").exists());
    let o = glider(&[
        "detect",
        "--black-box",
        &url,
        "--data",
        file.to_str().unwrap(),
        "--label",
        "click",
        "--instances",
        "3",
        "--perturbations",
        "100",
        "--request-rows",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--retries",
        "0",
    ]);
    let e = stderr(&o);
    assert!(e.contains("instance ") && e.contains("is NaN"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The committed ONNX model (scripts/make_test_onnx.py: logit = 2·x0·x1 + 0.5·x2 − 0.25·x3 +
/// 0.1) in-process and behind `glider serve --onnx` on loopback: scores equal within 1e-6,
/// the same global interactions for the same seed, and GLIDER finds the planted pair.
#[cfg(feature = "onnx")]
#[test]
fn onnx_model_in_process_and_served_agree_and_find_the_pair() {
    let dir = scratch("onnx");
    let onnx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interaction.onnx");
    let mapping =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interaction_mapping.json");
    // x0..x3 on a grid in [-1, 1]; the label is not used by a black box.
    let file = dir.join("x.csv");
    let mut text = String::from("y,x0,x1,x2,x3\n");
    for i in 0..300 {
        let v = |k: usize| ((i * (7 + 4 * k) + 3 * k) % 21) as f32 / 10.0 - 1.0;
        text.push_str(&format!("{},{},{},{},{}\n", i % 2, v(0), v(1), v(2), v(3)));
    }
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let m = mapping.to_str().unwrap();
    let spec = format!("onnx:{}", onnx.display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(["serve", "--onnx", onnx.to_str().unwrap(), "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let run = |black_box: &str, sub: &str, out: &Path, extra: &[&str]| {
        let mut args = vec![
            sub,
            "--black-box",
            black_box,
            "--mapping",
            m,
            "--data",
            f,
            "--label",
            "y",
            "--dense",
            "x0,x1,x2,x3",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend(extra);
        let o = glider(&args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let (a, b) = (dir.join("a.csv"), dir.join("b.csv"));
    run(&spec, "predict", &a, &[]);
    run(&url, "predict", &b, &[]);
    let scores = |p: &Path| -> Vec<f64> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let (sa, sb) = (scores(&a), scores(&b));
    assert_eq!(sa.len(), 300);
    let worst = sa
        .iter()
        .zip(&sb)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-6, "largest difference {worst}");
    // Row 0 is (x0..x3) = (-1.0, -0.7, -0.4, -0.1) → logit 2·0.7 − 0.2 + 0.025 + 0.1 = 1.325.
    let first = std::fs::read_to_string(&a).unwrap();
    let z0: f64 = first
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let (x0, x1, x2, x3) = (-1.0f64, -0.7f64, -0.4f64, -0.1f64);
    assert!(
        (z0 - (2.0 * x0 * x1 + 0.5 * x2 - 0.25 * x3 + 0.1)).abs() < 1e-5,
        "{z0}"
    );

    let detect = [
        "--instances",
        "6",
        "--perturbations",
        "1000",
        "--top-k",
        "1",
        "--surrogate-hidden",
        "32,16",
    ];
    let (da, db) = (dir.join("da"), dir.join("db"));
    run(&spec, "detect", &da, &detect);
    run(&url, "detect", &db, &detect);
    let (ga, gb) = (
        read_json(&da.join("global_interactions.json")),
        read_json(&db.join("global_interactions.json")),
    );
    assert_eq!(ga["interactions"], gb["interactions"]);
    assert_eq!(
        ga["interactions"][0]["fields"],
        serde_json::json!(["x0", "x1"]),
        "{ga}"
    );
    server.kill().ok();
    server.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
}

/// A CSV with numeric columns: `x` (continuous), `n` (8 values, with some missing), `c`
/// (categorical); the label follows x and x·n.
fn numeric_csv(rows: usize, seed: u64) -> String {
    let mut s = String::from("y,x,n,c\n");
    let mut state = seed;
    lcg_unit(&mut state);
    let mut next = || lcg_unit(&mut state);
    for _ in 0..rows {
        let x = next() * 2.0 - 1.0;
        let n = (next() * 8.0).floor();
        let missing = next() < 0.05;
        let logit = 3.0 * x + 2.0 * x * (n - 3.5) / 3.5;
        let y = u8::from(next() < 1.0 / (1.0 + (-logit).exp()));
        let c = ["a", "b", "c"][(next() * 3.0) as usize % 3];
        let n = if missing {
            String::new()
        } else {
            format!("{n}")
        };
        s += &format!("{y},{x:.5},{n},{c}\n");
    }
    s
}

/// A model with binned numeric fields saved and reloaded scores exactly as trained (its test
/// AUC from `predict` equals metrics.json's), and a scalar model whose card says format 1 (as
/// every model saved before binning) loads and scores the same as with format 2.
#[test]
fn binned_models_round_trip_and_old_scalar_cards_load() {
    let dir = scratch("binned");
    let mut files = vec![];
    for (name, rows, seed) in [("train", 3000, 1), ("valid", 500, 2), ("test", 500, 3)] {
        let p = dir.join(format!("{name}.csv"));
        std::fs::write(&p, numeric_csv(rows, seed)).unwrap();
        files.push(p.to_str().unwrap().to_string());
    }
    let train = |extra: &[&str], out: &Path| {
        let mut a = vec![
            "train",
            "--data",
            &files[0],
            "--validation",
            &files[1],
            "--test",
            &files[2],
            "--label",
            "y",
            "--model",
            "fm",
            "--epochs",
            "5",
            "--lr",
            "0.01",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        let o = glider(&a);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    // The logit column of a `glider predict` output.
    let logits = |path: &Path| -> Vec<f32> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let scores = |model: &Path, name: &str| -> Vec<f32> {
        let out = dir.join(name);
        let o = glider(&[
            "predict",
            "--model-dir",
            model.to_str().unwrap(),
            "--data",
            &files[2],
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        logits(&out)
    };
    let labels: Vec<f32> = std::fs::read_to_string(&files[2])
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();

    let binned = dir.join("binned");
    train(&[], &binned);
    let card = read_json(&binned.join("model.json"));
    assert_eq!(card["glider_model"], 2);
    let kinds: Vec<&str> = card["encodings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["binned", "binned", "categorical"]);
    // n has 8 values: 7 edges; 5% missing rows: a trained missing row.
    assert_eq!(card["encodings"][1]["edges"].as_array().unwrap().len(), 7);
    assert_eq!(card["encodings"][1]["missing"], true);
    // The reloaded model's logits (printed to 6 decimals) give the test AUC of training.
    let p = scores(&binned, "binned.csv");
    let auc = glider_core::metrics::roc_auc(&labels, &p).unwrap();
    let metrics = read_json(&binned.join("metrics.json"));
    assert!(auc > 0.6, "the binned model learned x: AUC {auc}");
    assert!(
        (auc - metrics["test"]["auc"].as_f64().unwrap()).abs() < 1e-5,
        "reloaded {auc} vs trained {}",
        metrics["test"]["auc"]
    );

    // Served over HTTP (numeric fields declared FP32, missing values sent as null), the
    // binned model scores as in-process.
    let (mut server, url) = serve(&binned);
    let remote = dir.join("remote.csv");
    let o = glider(&[
        "predict",
        "--black-box",
        &url,
        "--data",
        &files[2],
        "--label",
        "y",
        "--out",
        remote.to_str().unwrap(),
    ]);
    server.kill().ok();
    server.wait().ok();
    assert!(o.status.success(), "{}", stderr(&o));
    let served = logits(&remote);
    assert_eq!(served.len(), p.len());
    for (a, b) in served.iter().zip(&p) {
        assert!((a - b).abs() < 1e-4, "served {a} vs in-process {b}");
    }

    // A scalar model, then its card rewritten as format 1.
    let scalar = dir.join("scalar");
    train(&["--numeric", "scalar"], &scalar);
    let before = scores(&scalar, "scalar.csv");
    let mut card = read_json(&scalar.join("model.json"));
    assert_eq!(card["encodings"][0]["kind"], "dense");
    card["glider_model"] = 1.into();
    std::fs::write(scalar.join("model.json"), card.to_string()).unwrap();
    assert_eq!(scores(&scalar, "scalar-v1.csv"), before);
    // A card from a newer glider is refused, naming the file.
    card["glider_model"] = 99.into();
    std::fs::write(scalar.join("model.json"), card.to_string()).unwrap();
    let o = glider(&[
        "predict",
        "--model-dir",
        scalar.to_str().unwrap(),
        "--data",
        &files[2],
        "--out",
        dir.join("never.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("model format 99 is newer"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A scikit-learn MLP exported by skl2onnx the standard way (input `X` declared `[None, 6]`,
/// a `label` branch beside `probabilities`; scripts/make_skl2onnx_fixtures.py, trained on
/// logit = 3·x0·x1 + x2 − 0.5·x3) is explained by `glider detect --black-box onnx:` with the
/// planted pair on top.
#[cfg(feature = "onnx")]
#[test]
fn a_skl2onnx_export_is_explained_with_its_planted_pair_on_top() {
    let dir = scratch("skl2onnx");
    let onnx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/skl_mlp.onnx");
    let mapping = dir.join("mapping.json");
    let fields: Vec<String> = (0..6)
        .map(|i| format!(r#"{{"field": "x{i}", "off": 0.0}}"#))
        .collect();
    std::fs::write(
        &mapping,
        format!(
            r#"{{"layout": "single", "input": "X", "datatype": "FP32", "fields": [{}],
               "output": {{"name": "probabilities", "kind": "probability", "column": 1}}}}"#,
            fields.join(", ")
        ),
    )
    .unwrap();
    let file = dir.join("x.csv");
    // Rows uniform on [-1, 1]^6 (a fixed linear congruential sequence), as the model was
    // trained on.
    let mut text = String::from("y,x0,x1,x2,x3,x4,x5\n");
    let mut state = 12345u64;
    for i in 0..60 {
        let cells: Vec<String> = (0..6)
            .map(|_| format!("{:.4}", lcg_unit(&mut state) * 2.0 - 1.0))
            .collect();
        text.push_str(&format!("{},{}\n", i % 2, cells.join(",")));
    }
    std::fs::write(&file, text).unwrap();
    let out = dir.join("detect");
    let spec = format!("onnx:{}", onnx.display());
    let o = glider(&[
        "detect",
        "--black-box",
        &spec,
        "--mapping",
        mapping.to_str().unwrap(),
        "--data",
        file.to_str().unwrap(),
        "--label",
        "y",
        "--instances",
        "20",
        "--perturbations",
        "1500",
        "--top-k",
        "3",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let global = read_json(&out.join("global_interactions.json"));
    assert_eq!(
        global["interactions"][0]["fields"],
        serde_json::json!(["x0", "x1"]),
        "{global}"
    );

    // Without --mapping: the input's 6 columns are the data's 6 fields in header order, the
    // same explanation comes out, and the inferred mapping is written beside it.
    let inferred = dir.join("detect-inferred");
    let mut args = vec![
        "detect",
        "--black-box",
        &spec,
        "--data",
        file.to_str().unwrap(),
    ];
    args.extend([
        "--label",
        "y",
        "--instances",
        "20",
        "--perturbations",
        "1500",
        "--top-k",
        "3",
        "--out",
        inferred.to_str().unwrap(),
        "-q",
    ]);
    let o = glider(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = read_json(&inferred.join("global_interactions.json"));
    assert_eq!(again["interactions"], global["interactions"]);
    let m = read_json(&inferred.join("mapping.json"));
    assert_eq!(m["input"], "X");
    assert_eq!(m["fields"].as_array().unwrap().len(), 6);
    assert_eq!(m["fields"][0]["field"], "x0");
    assert_eq!(m["output"]["name"], "probabilities");
    assert_eq!(m["output"]["column"], 1);

    // A table whose field count differs from the input's width: one error naming both
    // shapes, nothing written.
    let wide = dir.join("wide.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let widened: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "x6" } else { "0.5" }))
        .collect();
    std::fs::write(&wide, widened).unwrap();
    let refused = dir.join("detect-wide");
    let o = glider(&[
        "detect",
        "--black-box",
        &spec,
        "--data",
        wide.to_str().unwrap(),
        "--label",
        "y",
        "--out",
        refused.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("6 columns") && e.contains("7 fields") && e.contains("--mapping"),
        "{e}"
    );
    assert!(!refused.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// `glider inspect-onnx` prints the inputs, the outputs, the score it would read and a
/// starter mapping; a file that is not ONNX is an error naming it.
#[cfg(feature = "onnx")]
#[test]
fn inspect_onnx_describes_a_skl2onnx_export() {
    let onnx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/skl_mlp_zipmap.onnx");
    let o = glider(&["inspect-onnx", onnx.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("[?, 6] F32"), "{out}");
    assert!(out.contains("output_probability       [N, 2] F32"), "{out}");
    assert!(out.contains("score: output_probability"), "{out}");
    let json = &out[out.find('{').unwrap()..];
    let mapping: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(mapping["input"], "X");
    assert_eq!(mapping["fields"].as_array().unwrap().len(), 6);
    assert_eq!(mapping["output"]["kind"], "probability");
    assert_eq!(mapping["output"]["column"], 1);
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/model_train.csv");
    let o = glider(&["inspect-onnx", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("model_train.csv"), "{}", stderr(&o));
}

/// `glider bench glider` on one small random layout: the report holds every planted set of
/// the layout `glider synth --layout-seed` draws, each classified against the strongest
/// spurious set, and recalls in [0, 1].
#[test]
fn bench_glider_reports_every_planted_set_of_its_layouts() {
    let dir = scratch("bench-glider");
    let out = dir.join("bench");
    let o = glider(&[
        "bench",
        "glider",
        "--layouts",
        "1",
        "--first-layout",
        "2",
        "--rows",
        "4000",
        "--epochs",
        "2",
        "--instances",
        "8",
        "--effect-instances",
        "4",
        "--perturbations",
        "400",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let synth = dir.join("synth");
    let s = glider(&[
        "synth",
        "--rows",
        "4000",
        "--layout-seed",
        "2",
        "--out",
        synth.to_str().unwrap(),
    ]);
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let read = |p: PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let bench = read(out.join("bench.json"));
    let planted = read(synth.join("planted.json"));
    let layout = &bench["layouts"][0];
    assert_eq!(layout["layout"], 2);
    assert_eq!(layout["planted"], planted["config"]["planted"]);
    let sets = layout["planted"].as_array().unwrap();
    assert_eq!(layout["top_k"].as_array().unwrap().len(), sets.len());
    for key in ["exact_recall", "pair_recall"] {
        let r = layout[key].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&r), "{key} {r}");
    }
    let rows = bench["planted"].as_array().unwrap();
    assert_eq!(rows.len(), sets.len());
    for (row, set) in rows.iter().zip(sets) {
        assert_eq!(&row["set"], set);
        let own = row["pure_effect"].as_f64().unwrap();
        let spurious = row["strongest_spurious"].as_f64().unwrap();
        let held = row["held"].as_str().unwrap();
        assert_eq!(held == "itself", own > spurious, "{row}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

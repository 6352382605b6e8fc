//! Golden files of `glider run` and `glider detect` on a small synthetic table: every output
//! file stays identical, apart from its timings, while code moves between the binary and the
//! library crates (issue 16). `GLIDER_BLESS=1 cargo test --release --test golden` rewrites the
//! golden files after a deliberate change of results.

use std::path::{Path, PathBuf};
use std::process::Command;

use glider_core::synth::SynthCtrConfig;
use glider_data::synth::{synthetic, to_csv};
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-golden-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// A JSON value with every timing removed (keys named `seconds`, `wall_s` or ending in
/// `_seconds`), and the fingerprints, which hash the input files' paths.
fn without_timings(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| {
                !(k == "seconds"
                    || k.ends_with("_seconds")
                    || k == "wall_s"
                    // A hash over the run's inputs, their paths among them.
                    || k == "fingerprint")
            });
            for (_, x) in map.iter_mut() {
                without_timings(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

/// The comparable text of one output file: JSON and JSON lines without timings, CSV as is.
/// `None` for files that hold timings in free text (HTML, SVG, the effective config).
fn comparable(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let text = std::fs::read_to_string(path).ok()?;
    if name.ends_with(".json") {
        let mut v: Value = serde_json::from_str(&text).unwrap();
        without_timings(&mut v);
        Some(serde_json::to_string_pretty(&v).unwrap())
    } else if name.ends_with(".jsonl") {
        // Instances finish in any order on several threads: compare them sorted.
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                without_timings(&mut v);
                serde_json::to_string(&v).unwrap()
            })
            .collect();
        lines.sort();
        Some(lines.join("\n"))
    } else if name.ends_with(".csv") {
        Some(text)
    } else {
        None
    }
}

/// Every comparable file under `dir`, by relative path, sorted.
fn outputs(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(text) = comparable(&p) {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                found.push((rel, text));
            }
        }
    }
    found.sort();
    found
}

fn check_against_golden(name: &str, out: &Path, scratch: &Path) {
    // The scratch folder's name holds the process id: write it as SCRATCH.
    let prefix = scratch.to_string_lossy().to_string();
    let got: Vec<(String, String)> = outputs(out)
        .into_iter()
        .map(|(rel, text)| (rel, text.replace(&prefix, "SCRATCH")))
        .collect();
    assert!(!got.is_empty(), "{name}: no output files");
    let golden = golden_dir(name);
    if std::env::var_os("GLIDER_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (rel, text) in &got {
            let p = golden.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        return;
    }
    let want: Vec<(String, String)> = {
        let mut w = Vec::new();
        let mut stack = vec![golden.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)
                .unwrap_or_else(|_| panic!("{} is missing; bless it", d.display()))
            {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(&golden)
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    w.push((rel, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        w.sort();
        w
    };
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&got),
        names(&want),
        "{name}: the set of output files changed"
    );
    for ((rel, g), (_, w)) in got.iter().zip(&want) {
        if let Some(why) = same_up_to_rounding(rel, g, w) {
            panic!(
                "{name}/{rel} differs from its golden file: {why} (GLIDER_BLESS=1 rewrites it \
                 after a deliberate change)\n--- got ---\n{g}\n--- golden ---\n{w}"
            );
        }
    }
}

/// Floating-point results differ in their last digits between CPUs (the matrix kernels pick
/// FMA or AVX-512 paths at run time, and training amplifies the rounding): two numbers agree
/// when they differ by at most this much, absolutely or relative to the golden value. Every
/// string, integer, key, list length and ranking must still match exactly.
const NUMERIC_TOLERANCE: f64 = 2e-3;

/// How far a local surrogate's epoch count may move between CPUs.
const LOCAL_EPOCHS_TOLERANCE: i64 = 2;

/// How many of each instance's local interactions (strongest first) must match.
const LOCAL_INTERACTIONS_COMPARED: usize = 8;

fn numbers_agree(a: f64, b: f64) -> bool {
    (a - b).abs() <= NUMERIC_TOLERANCE * b.abs().max(1.0)
}

/// `None` when `got` and `want` agree, else where they first differ.
fn same_json(path: &str, got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            // A local surrogate's early stopping can move by an epoch or two when the CPU
            // rounds differently (92 vs 93 between an EPYC and an AVX-512 Xeon).
            if path.starts_with("instance") && path.ends_with(".epochs") {
                let (x, y) = (a.as_i64()?, b.as_i64()?);
                return ((x - y).abs() > LOCAL_EPOCHS_TOLERANCE)
                    .then(|| format!("{path}: {x} vs golden {y}"));
            }
            if a.is_f64() || b.is_f64() {
                let (x, y) = (a.as_f64()?, b.as_f64()?);
                (!numbers_agree(x, y)).then(|| format!("{path}: {x} vs golden {y}"))
            } else {
                (a != b).then(|| format!("{path}: {a} vs golden {b}"))
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            // A local surrogate's weakest interactions sit at NID's noise floor, where rounding
            // between CPUs adds or drops a few: its strongest ones must match, in order.
            let (a, b) = if path.ends_with(".interactions") && path.starts_with("instance") {
                let k = LOCAL_INTERACTIONS_COMPARED;
                (&a[..a.len().min(k)], &b[..b.len().min(k)])
            } else {
                (&a[..], &b[..])
            };
            if a.len() != b.len() {
                return Some(format!("{path}: {} items vs golden {}", a.len(), b.len()));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| same_json(&format!("{path}[{i}]"), x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            if keys(a) != keys(b) {
                return Some(format!(
                    "{path}: keys {:?} vs golden {:?}",
                    keys(a),
                    keys(b)
                ));
            }
            a.iter()
                .find_map(|(k, x)| same_json(&format!("{path}.{k}"), x, &b[k]))
        }
        _ => (got != want).then(|| format!("{path}: {got} vs golden {want}")),
    }
}

/// `None` when two comparable texts agree up to [`NUMERIC_TOLERANCE`], else where they first
/// differ. JSON and JSON lines compare as values; CSV cell by cell, numbers with tolerance.
fn same_up_to_rounding(rel: &str, got: &str, want: &str) -> Option<String> {
    if rel.ends_with(".csv") {
        let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
        if g.len() != w.len() {
            return Some(format!("{} lines vs golden {}", g.len(), w.len()));
        }
        for (line, (a, b)) in g.iter().zip(&w).enumerate() {
            let (ca, cb): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
            if ca.len() != cb.len() {
                return Some(format!("line {}: cell count", line + 1));
            }
            for (x, y) in ca.iter().zip(&cb) {
                let agree = match (x.parse::<f64>(), y.parse::<f64>()) {
                    (Ok(p), Ok(q)) => numbers_agree(p, q),
                    _ => x == y,
                };
                if !agree {
                    return Some(format!("line {}: {x} vs golden {y}", line + 1));
                }
            }
        }
        return None;
    }
    // JSON lines in instance order (the text order depends on the numbers), JSON as one value.
    let values = |text: &str| -> Result<Vec<Value>, String> {
        let mut v = if rel.ends_with(".jsonl") {
            text.lines()
                .map(serde_json::from_str)
                .collect::<Result<Vec<Value>, _>>()
        } else {
            serde_json::from_str(text).map(|v| vec![v])
        }
        .map_err(|e| format!("not JSON: {e}"))?;
        v.sort_by_key(|x| {
            x.get("instance")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX)
        });
        Ok(v)
    };
    let (g, w) = match (values(got), values(want)) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(e), _) => return Some(format!("output {e}")),
        (_, Err(e)) => return Some(format!("golden {e}")),
    };
    if g.len() != w.len() {
        return Some(format!("{} lines vs golden {}", g.len(), w.len()));
    }
    for (line, (a, b)) in g.iter().zip(&w).enumerate() {
        let at = match a.get("instance") {
            Some(i) => format!("instance {i}"),
            None => format!("line {}", line + 1),
        };
        if let Some(why) = same_json(&at, a, b) {
            return Some(why);
        }
    }
    None
}

fn synth_csv(dir: &Path) -> PathBuf {
    let mut cfg = SynthCtrConfig::small();
    cfg.rows = 3000;
    let (data, _) = synthetic(&cfg).unwrap();
    let file = dir.join("synth.csv");
    std::fs::write(&file, to_csv(&data)).unwrap();
    file
}

fn glider(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args)
        .output()
        .expect("the glider binary runs");
    assert!(
        o.status.success(),
        "glider {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn run_and_detect_outputs_match_their_golden_files() {
    let dir = scratch("run");
    let file = synth_csv(&dir);
    let f = file.to_str().unwrap();
    let schema = [
        "--label",
        "click",
        "--categorical",
        "f0,f1,f2,f3,f4,f5,f6,f7",
    ];
    let out = dir.join("run");
    let mut args = vec!["run", "--data", f];
    args.extend(schema);
    args.extend([
        "--instances",
        "4",
        "--perturbations",
        "400",
        "--top-k",
        "3",
        "--trials",
        "2",
        "--source-model",
        "deepfm",
        "--model",
        "deepfm,lr",
        "--hidden",
        "16,16",
        "--epochs",
        "2",
        "--surrogate-hidden",
        "16,8",
        "--seed",
        "5",
        "--quiet",
        "--out",
    ]);
    args.push(out.to_str().unwrap());
    glider(&args);
    check_against_golden("run", &out, &dir);

    // Train once, then detect with the trained model directory.
    let model = dir.join("model");
    let mut train = vec!["train", "--data", f];
    train.extend(schema);
    train.extend([
        "--model", "fm", "--epochs", "2", "--seed", "5", "--quiet", "--out",
    ]);
    train.push(model.to_str().unwrap());
    glider(&train);
    let detect_out = dir.join("detect");
    glider(&[
        "detect",
        "--model-dir",
        model.to_str().unwrap(),
        "--data",
        f,
        "--instances",
        "3",
        "--perturbations",
        "300",
        "--surrogate-hidden",
        "16,8",
        "--seed",
        "5",
        "--quiet",
        "--out",
        detect_out.to_str().unwrap(),
    ]);
    check_against_golden("detect", &detect_out, &dir);
    check_against_golden("train", &model, &dir);
}

//! The converter matrix (scripts/make_converter_fixtures.py): real exports by skl2onnx,
//! onnxmltools (XGBoost, LightGBM) and torch.onnx (static batch, dynamic axes, dynamo), each
//! scored by the ONNX black box as its framework scores it (within 1e-5), explained by
//! `glider detect --black-box onnx:` with the planted pair on top, and served by
//! `glider serve --onnx` to `--black-box http://` with the same scores.
#![cfg(feature = "onnx")]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use glider_data::{Column, Dataset, Field, FieldKind, FieldValue};
use glider_explain::http::Mapping;
use glider_explain::onnx::{inferred_mapping, OnnxBlackBox};
use glider_explain::BlackBox;

/// The tabular exports on the 6-column planted table, input "X" [None, 6].
const TABULAR: [&str; 8] = [
    "conv_skl_rf",
    "conv_skl_rf_zipmap",
    "conv_skl_gb",
    "conv_skl_logreg",
    "conv_skl_logreg_zipmap",
    "conv_xgboost",
    "conv_lightgbm",
    "skl_mlp_zipmap",
];

const TORCH: [&str; 3] = [
    "conv_torch_ctr_static",
    "conv_torch_ctr_dynamic",
    "conv_torch_ctr_dynamo",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn expected(name: &str) -> serde_json::Value {
    let file = fixture(&format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn scores(json: &serde_json::Value) -> Vec<f64> {
    let key = if json.get("scores").is_some() {
        "scores"
    } else {
        "probability"
    };
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn sigmoid(z: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(z)).exp())
}

/// The tabular fixtures' rows as a dataset of dense fields x0..x5.
fn tabular_rows(json: &serde_json::Value) -> (Dataset, Vec<FieldValue>) {
    let k = json["rows"][0].as_array().unwrap().len();
    let names: Vec<String> = (0..k).map(|j| format!("x{j}")).collect();
    named_rows(json, &names)
}

/// A fixture's rows as a dataset of dense fields named `names`.
fn named_rows(json: &serde_json::Value, names: &[String]) -> (Dataset, Vec<FieldValue>) {
    let rows: Vec<Vec<f32>> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    let k = rows[0].len();
    let data = Dataset {
        source: "rows".into(),
        label_name: "y".into(),
        fields: (0..k)
            .map(|j| Field {
                name: names[j].clone(),
                kind: FieldKind::Dense,
            })
            .collect(),
        labels: vec![0.0; rows.len()],
        label_classes: Vec::new(),
        columns: (0..k)
            .map(|j| Column::Dense {
                values: rows.iter().map(|r| r[j]).collect(),
            })
            .collect(),
    };
    let values = rows
        .iter()
        .flat_map(|r| r.iter().map(|&x| FieldValue::Dense(x)))
        .collect();
    (data, values)
}

/// Each tabular export, with the mapping glider infers (no --mapping), scores as its
/// framework does (the positive-class probability, within 1e-5), in one batch and in
/// batches of 3.
#[test]
fn tabular_exports_score_as_their_frameworks() {
    for name in TABULAR {
        let json = expected(name);
        let want = scores(&json);
        let (data, values) = tabular_rows(&json);
        let path = fixture(&format!("{name}.onnx"));
        let mapping = inferred_mapping(&path, &data, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        for batch in [4096, 3] {
            let bb = OnnxBlackBox::new(&path, mapping.clone(), &data, batch)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let got = bb.logits(&values).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.len(), want.len(), "{name}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (sigmoid(*g) - w).abs() < 1e-5,
                    "{name} row {i}: {} vs the framework's {w}",
                    sigmoid(*g)
                );
            }
        }
    }
}

/// The PyTorch CTR table (conv_torch_ctr.csv) as a dataset: c0..c2 categorical, d0, d1
/// dense.
fn torch_data() -> Dataset {
    let text = std::fs::read_to_string(fixture("conv_torch_ctr.csv")).unwrap();
    let mut lines = text.lines();
    lines.next();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    for j in 1..=3 {
        let mut dictionary = vec![String::new()];
        let codes = rows
            .iter()
            .map(|r| {
                let v = r[j].to_string();
                match dictionary.iter().position(|d| *d == v) {
                    Some(c) => c as u32,
                    None => {
                        dictionary.push(v);
                        (dictionary.len() - 1) as u32
                    }
                }
            })
            .collect();
        fields.push(Field {
            name: format!("c{}", j - 1),
            kind: FieldKind::Categorical,
        });
        columns.push(Column::Categorical { codes, dictionary });
    }
    for j in 4..=5 {
        fields.push(Field {
            name: format!("d{}", j - 4),
            kind: FieldKind::Dense,
        });
        columns.push(Column::Dense {
            values: rows.iter().map(|r| r[j].parse().unwrap()).collect(),
        });
    }
    Dataset {
        source: "conv_torch_ctr.csv".into(),
        label_name: "click".into(),
        labels: rows.iter().map(|r| r[0].parse().unwrap()).collect(),
        label_classes: Vec::new(),
        fields,
        columns,
    }
}

/// The torch exports (two inputs: int64 indices [N, 3] and float [N, 2]; a fixed batch of
/// 16, dynamic axes, the dynamo exporter) score the table's first 16 rows as the module
/// does, within 1e-5, in one batch and in batches of 5 (the static export padding its
/// fixed batch).
#[test]
fn torch_exports_with_two_inputs_score_as_the_module() {
    let data = torch_data();
    let mapping: Mapping = serde_json::from_str(
        &std::fs::read_to_string(fixture("conv_torch_ctr_mapping.json")).unwrap(),
    )
    .unwrap();
    let values: Vec<FieldValue> = (0..16).flat_map(|r| data.row(r)).collect();
    for name in TORCH {
        let want = scores(&expected(name));
        let path = fixture(&format!("{name}.onnx"));
        for batch in [4096, 5] {
            let bb = OnnxBlackBox::new(&path, mapping.clone(), &data, batch)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let got = bb.logits(&values).unwrap_or_else(|e| panic!("{name}: {e}"));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(*g) - w).abs() < 1e-5,
                    "{name} row {i}: {g} vs the module's {w}"
                );
            }
        }
    }
    // A mapping feeding an input the model lacks is refused, naming both sides.
    let mut wrong = mapping.clone();
    wrong.fields[3].input = Some("dense_features".into());
    wrong.fields[4].input = Some("dense_features".into());
    let err = OnnxBlackBox::new(&fixture("conv_torch_ctr_dynamic.onnx"), wrong, &data, 64)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("\"dense\"") && err.contains("dense_features [N, 2]"),
        "{err}"
    );
}

fn glider(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_glider"))
        .args(args)
        .output()
        .expect("the glider binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-matrix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The planted table of the tabular fixtures (logit = 3·x0·x1 + x2 − 0.5·x3), as a CSV.
fn tabular_csv(dir: &Path) -> PathBuf {
    let mut state = 7u64;
    let mut unit = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64 * 2.0 - 1.0
    };
    let mut text = String::from("y,x0,x1,x2,x3,x4,x5\n");
    for i in 0..200 {
        let x: Vec<f64> = (0..6).map(|_| unit()).collect();
        text.push_str(&format!(
            "{},{}\n",
            i % 2,
            x.iter()
                .map(|v| format!("{v:.5}"))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let path = dir.join("planted.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The strongest global interaction's fields in a detect output folder.
fn top_pair(out: &Path) -> Vec<String> {
    let g: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("global_interactions.json")).unwrap(),
    )
    .unwrap();
    g["interactions"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

/// The GLIDER paper's counting (`--local-cutoff off`): these exports are checked for the
/// pair their data plants. The local cut-off measures the exported network itself, which
/// holds 3-way mixed differences around the fields' switched-off values (the torch export
/// puts {c0, c1, c2} first with it).
// 80 instances: at 40, LightGBM's export had its planted pair one count ahead of x0 × x2
// (29 to 28), a near-tie that the surrogate's rounding could flip; at 80 it leads 62 to 56.
const DETECT: [&str; 10] = [
    "--instances",
    "80",
    "--perturbations",
    "1000",
    "--top-k",
    "3",
    "--seed",
    "1",
    "--local-cutoff",
    "off",
];

/// Every export of the matrix that holds an interaction, explained by `glider detect
/// --black-box onnx:` (tabular ones without a mapping), puts its planted pair on top. (The
/// logistic regressions are additive in their logit: they are checked for scores only; the
/// MLP's detection is tests/cli.rs's.)
#[test]
fn every_export_is_explained_with_its_planted_pair_on_top() {
    let dir = scratch("detect");
    let planted = tabular_csv(&dir);
    let interacting = TABULAR
        .iter()
        .filter(|n| !n.contains("logreg") && !n.starts_with("skl_"));
    for name in interacting.chain(&TORCH) {
        let torch = name.starts_with("conv_torch");
        let out = dir.join(name);
        let spec = format!("onnx:{}", fixture(&format!("{name}.onnx")).display());
        let mut args = vec!["detect", "--black-box", &spec, "-q"];
        let data = if torch {
            fixture("conv_torch_ctr.csv")
        } else {
            planted.clone()
        };
        let mapping = fixture("conv_torch_ctr_mapping.json");
        let (data_s, out_s, mapping_s) = (
            data.to_str().unwrap().to_string(),
            out.to_str().unwrap().to_string(),
            mapping.to_str().unwrap().to_string(),
        );
        args.extend(["--data", &data_s, "--out", &out_s]);
        if torch {
            args.extend([
                "--label",
                "click",
                "--categorical",
                "c0,c1,c2",
                "--mapping",
                &mapping_s,
            ]);
        } else {
            args.extend(["--label", "y"]);
        }
        args.extend(DETECT);
        let o = glider(&args);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let want = if torch { ["c0", "c1"] } else { ["x0", "x1"] };
        assert_eq!(
            top_pair(&out),
            want,
            "{name}: {}",
            std::fs::read_to_string(out.join("global_interactions.json")).unwrap_or_default()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every export of the matrix behind `glider serve --onnx`, scored through `--black-box
/// http://` with the same mapping (the inferred one for the tabular exports): the same
/// scores as in-process, within 1e-5.
#[test]
fn every_export_served_scores_as_in_process() {
    let dir = scratch("serve");
    let planted = tabular_csv(&dir);
    for name in TABULAR.iter().chain(&TORCH) {
        let torch = name.starts_with("conv_torch");
        let model = fixture(&format!("{name}.onnx"));
        let (data, mapping) = if torch {
            (
                fixture("conv_torch_ctr.csv"),
                fixture("conv_torch_ctr_mapping.json"),
            )
        } else {
            let (rows, _) = tabular_rows(&expected(name));
            let inferred = inferred_mapping(&model, &rows, &[]).unwrap();
            let path = dir.join(format!("{name}.mapping.json"));
            std::fs::write(&path, serde_json::to_string(&inferred).unwrap()).unwrap();
            (planted.clone(), path)
        };
        let mut server = Command::new(env!("CARGO_BIN_EXE_glider"))
            .args(["serve", "--onnx", model.to_str().unwrap(), "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("{name}: no URL in {line:?}"))
            .to_string();
        let predict = |spec: &str, out: &Path| {
            let mut args = vec![
                "predict".to_string(),
                "--black-box".into(),
                spec.into(),
                "--data".into(),
                data.to_str().unwrap().into(),
                "--mapping".into(),
                mapping.to_str().unwrap().into(),
                "--out".into(),
                out.to_str().unwrap().into(),
            ];
            if torch {
                args.extend(["--label", "click", "--categorical", "c0,c1,c2"].map(String::from));
            } else {
                args.extend(["--label", "y"].map(String::from));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = glider(&args);
            assert!(
                o.status.success(),
                "{name} {spec}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::fs::read_to_string(out)
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
                .collect::<Vec<f64>>()
        };
        let served = predict(&url, &dir.join(format!("{name}.served.csv")));
        let local = predict(
            &format!("onnx:{}", model.display()),
            &dir.join(format!("{name}.local.csv")),
        );
        server.kill().ok();
        server.wait().ok();
        assert_eq!(served.len(), if torch { 3000 } else { 200 }, "{name}");
        for (a, b) in served.iter().zip(&local) {
            assert!((a - b).abs() < 1e-5, "{name}: served {a} vs in-process {b}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// An operator no runtime has: one error line naming it and its node, exit 1, nothing
/// written.
#[test]
fn an_unknown_operator_is_named_with_its_node() {
    let dir = scratch("custom");
    let planted = tabular_csv(&dir);
    let out = dir.join("out");
    let spec = format!("onnx:{}", fixture("conv_custom_op.onnx").display());
    let o = glider(&[
        "detect",
        "--black-box",
        &spec,
        "--data",
        planted.to_str().unwrap(),
        "--label",
        "y",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("operator NoSuchOp") && e.contains("node \"mystery\""),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

const GROUPS: [&str; 3] = ["occupation=occ_*", "education=edu_*", "region=reg_*"];

/// One-hot columns read as fields (`--group`): an MLP exported over 16 one-hot and dense
/// columns scores as scikit-learn does through the inferred mapping's blocks, and GLIDER
/// reports field-level interactions with the planted occupation × education on top.
#[test]
fn one_hot_blocks_are_fields() {
    let json = expected("conv_onehot_mlp");
    let mut names = vec!["x0".to_string()];
    names.extend((1..=6).map(|k| format!("occ_{k}")));
    names.extend((1..=5).map(|k| format!("edu_{k}")));
    names.extend((1..=4).map(|k| format!("reg_{k}")));
    let (data, _) = named_rows(&json, &names);
    let specs: Vec<glider_data::GroupSpec> = GROUPS.iter().map(|g| g.parse().unwrap()).collect();
    let grouped = glider_data::group_columns(data, &specs).unwrap();
    assert_eq!(
        grouped.field_names(),
        ["x0", "occupation", "education", "region"]
    );
    let path = fixture("conv_onehot_mlp.onnx");
    let mapping = inferred_mapping(&path, &grouped, &specs).unwrap();
    assert_eq!(mapping.fields[1].block.as_ref().map(Vec::len), Some(6));
    let bb = OnnxBlackBox::new(&path, mapping, &grouped, 7).unwrap();
    let values: Vec<FieldValue> = (0..16).flat_map(|r| grouped.row(r)).collect();
    let got = bb.logits(&values).unwrap();
    for (i, (g, w)) in got.iter().zip(scores(&json)).enumerate() {
        assert!(
            (sigmoid(*g) - w).abs() < 1e-5,
            "row {i}: {} vs {w}",
            sigmoid(*g)
        );
    }
    // End to end from the CSV of 16 columns: 4 fields, whose blocks fill the model's input.
    let dir = scratch("onehot");
    let out = dir.join("out");
    let spec = format!("onnx:{}", path.display());
    let csv = fixture("conv_onehot.csv");
    let mut args = vec![
        "detect",
        "--black-box",
        &spec,
        "--data",
        csv.to_str().unwrap(),
        "--label",
        "y",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    for g in GROUPS {
        args.extend(["--group", g]);
    }
    args.extend(DETECT);
    let o = glider(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(top_pair(&out), ["occupation", "education"]);
    let g: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("global_interactions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        g["fields"],
        serde_json::json!(["x0", "occupation", "education", "region"])
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("mapping.json")).unwrap()).unwrap();
    assert_eq!(m["fields"][2]["block"].as_array().map(Vec::len), Some(5));
    std::fs::remove_dir_all(&dir).ok();
}

/// A scikit-learn Pipeline exported whole (OneHotEncoder + MLP): tract has no ai.onnx.ml
/// OneHotEncoder, so one line names it and its node, exit 1, nothing written.
#[test]
fn a_pipeline_with_one_hot_encoder_says_what_is_missing() {
    let dir = scratch("pipeline");
    let out = dir.join("out");
    let spec = format!("onnx:{}", fixture("conv_onehot_pipeline.onnx").display());
    let csv = fixture("conv_onehot.csv");
    let o = glider(&[
        "detect",
        "--black-box",
        &spec,
        "--data",
        csv.to_str().unwrap(),
        "--label",
        "y",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("operator OneHotEncoder (node"), "{e}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// glider's tree-ensemble scorer against tract (the reference): the probabilities of every
/// tree export agree within 1e-5 on 500 rows spanning and exceeding the training range, with
/// missing (NaN) cells; the label is the likelier class.
#[test]
fn the_tree_scorer_agrees_with_tract() {
    use glider_explain::onnx::{InputValues, OnnxModel, OutputChoice, Runtime};
    let mut state = 99u64;
    let mut unit = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let rows = 500;
    let x: Vec<f64> = (0..rows * 6)
        .map(|i| {
            if i % 37 == 5 {
                f64::NAN
            } else {
                unit() * 3.0 - 1.5
            }
        })
        .collect();
    for name in [
        "conv_skl_rf",
        "conv_skl_rf_zipmap",
        "conv_skl_gb",
        "conv_xgboost",
        "conv_lightgbm",
    ] {
        let path = fixture(&format!("{name}.onnx"));
        let run = |runtime| {
            let model = OnnxModel::load_with_runtime(&path, None, OutputChoice::All, runtime)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            model
                .run_inputs(rows, &[InputValues::Numbers(x.clone())])
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let (ours, tract) = (run(Runtime::Best), run(Runtime::Tract));
        // Outputs: the label, then the probabilities [n, 2].
        assert_eq!((ours.len(), tract.len()), (2, 2), "{name}");
        for (i, (p, q)) in ours[1].iter().zip(&tract[1]).enumerate() {
            assert!(
                (p - q).abs() < 1e-5,
                "{name} probability {i}: {p} vs tract {q}"
            );
        }
        // The label is the likelier class (as ONNX Runtime answers; tract's label output
        // disagrees on this layout: row 4, p = 0.73, label 0), except at a tie.
        for r in 0..rows {
            let p = ours[1][2 * r + 1];
            if (p - 0.5).abs() > 1e-9 {
                assert_eq!(ours[0][r], f64::from(u8::from(p > 0.5)), "{name} label {r}");
            }
        }
    }
}

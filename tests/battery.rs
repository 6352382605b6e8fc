//! The common check battery, in the spirit of scikit-learn's `check_estimator`: every
//! registered model, reader and black-box adapter goes through the same checks. The lists
//! below are written out, and a test compares them with the registries, so a model, format or
//! adapter added without being listed here fails visibly.
//!
//! - Models: seeded determinism (same seed same logits, another seed other logits), save/load
//!   round trip bit-identical, shape contracts (empty, one-row and n-row batches; a row's
//!   score does not depend on its batch), a batch of the wrong width or with an infinite or
//!   NaN scale or an out-of-table id rejected, labels outside {0, 1} rejected in training.
//! - Readers: a valid file reads to the expected shape, twice the same; one row reads; an
//!   empty file, a row of the wrong width and a NaN/inf dense value are errors naming the
//!   file (and the line or row).
//! - Adapters: n rows in, n finite logits out, deterministic, empty batch, one-row batch equal
//!   to its row in a larger batch, ragged input and infinite dense values rejected.

use std::path::{Path, PathBuf};

use glider_core::local_functions::LocalFunction;
use glider_data::{
    CsvOptions, DataError, Dataset, EncodedBatch, EncoderOptions, FieldKind, FieldValue,
    InputEncoder, LibfmFields, NoProgress, SchemaOptions,
};
use glider_explain::blackbox::{BlackBox, FunctionBox, ModelBlackBox};
use glider_explain::http::{HttpBlackBox, HttpOptions, Mapping};
use glider_nn::ctr::{self, CtrParams, ModelKind, Recommender};

// ------------------------------------------------------------------------------------------
// Models

/// Every model the battery checks; must equal `ModelKind::ALL`.
const MODELS: [ModelKind; 10] = [
    ModelKind::Lr,
    ModelKind::Fm,
    ModelKind::WideDeep,
    ModelKind::DeepFm,
    ModelKind::Dcn,
    ModelKind::XDeepFm,
    ModelKind::AutoInt,
    ModelKind::AutoIntPlus,
    ModelKind::FiBiNet,
    ModelKind::InterHat,
];

#[test]
fn the_battery_lists_every_registered_model() {
    assert_eq!(MODELS.to_vec(), ModelKind::ALL.to_vec());
}

fn tiny_params(kind: ModelKind) -> CtrParams {
    let mut p = CtrParams::for_model(kind);
    p.embedding_dim = 4;
    p.hidden = vec![8];
    p.max_epochs = 2;
    p.batch_size = 64;
    p.cross_layers = 1;
    p.cin_layers = vec![4];
    p.attention_layers = 1;
    p.attention_heads = 2;
    p.attention_size = 4;
    p.interhat_orders = 2;
    p
}

/// 3 categorical fields and 1 dense field; the click follows a ⊕ b.
fn table_text(rows: usize) -> String {
    let mut text = String::from("y,a,b,c,d\n");
    for i in 0..rows {
        let (a, b, c) = (i % 4, (i / 4) % 3, (i * 7) % 5);
        let d = ((i * 37) % 101) as f32 / 50.0 - 1.0;
        text.push_str(&format!("{},a{a},b{b},c{c},{d}\n", (a + b) % 2));
    }
    text
}

fn table(rows: usize) -> Dataset {
    let text = table_text(rows);
    let schema = SchemaOptions {
        categorical: vec!["a".into(), "b".into(), "c".into()],
        ..SchemaOptions::with_label("y")
    };
    glider_data::read_csv_from(
        text.as_bytes(),
        "battery.csv",
        &schema,
        &CsvOptions::default(),
    )
    .expect("the battery's table reads")
}

fn encoder(data: &Dataset) -> InputEncoder {
    let rows: Vec<usize> = (0..data.num_rows()).collect();
    InputEncoder::fit(
        data,
        &rows,
        &EncoderOptions {
            min_count: 0,
            hash_buckets: 0,
            numeric: glider_data::NumericOptions::default(),
        },
    )
    .expect("encoder")
}

fn train(kind: ModelKind, data: &Dataset, enc: &InputEncoder, seed: u64) -> Box<dyn Recommender> {
    let rows: Vec<usize> = (0..data.num_rows()).collect();
    let cut = rows.len() * 4 / 5;
    ctr::train(
        kind,
        data,
        &rows[..cut],
        &rows[cut..],
        enc,
        &tiny_params(kind),
        seed,
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("{kind}: training failed: {e}"))
}

fn check_model(kind: ModelKind, dir: &Path) {
    let data = table(200);
    let enc = encoder(&data);
    let all: Vec<usize> = (0..data.num_rows()).collect();
    let batch = enc.encode_rows(&data, &all);
    let m = train(kind, &data, &enc, 5);

    // Shapes: n rows → n finite logits; empty → empty; one row → its score in the batch.
    let logits = m.predict_logits(&batch).expect("predicts");
    assert_eq!(logits.len(), 200, "{kind}");
    assert!(logits.iter().all(|z| z.is_finite()), "{kind}");
    let empty = EncodedBatch {
        num_fields: batch.num_fields,
        rows: vec![],
        scales: vec![],
    };
    assert_eq!(
        m.predict_logits(&empty).expect("empty batch"),
        Vec::<f32>::new(),
        "{kind}"
    );
    let one = enc.encode_rows(&data, &[7]);
    let z = m.predict_logits(&one).expect("one row");
    assert_eq!(z.len(), 1, "{kind}");
    assert!(
        (z[0] - logits[7]).abs() <= 1e-5 * logits[7].abs().max(1.0),
        "{kind}: batch-dependent score"
    );

    // Seeded: the same seed gives the same model, another seed another one.
    assert_eq!(
        train(kind, &data, &enc, 5).predict_logits(&batch).unwrap(),
        logits,
        "{kind} seed"
    );
    assert_ne!(
        train(kind, &data, &enc, 6).predict_logits(&batch).unwrap(),
        logits,
        "{kind} other seed"
    );

    // Save and load: bit-identical.
    let path = dir.join(format!("{}.safetensors", kind.name().replace('+', "plus")));
    m.save_weights(&path).expect("saves");
    let back = ctr::load(kind, &tiny_params(kind), enc.clone(), &path).expect("loads");
    assert_eq!(
        back.predict_logits(&batch).unwrap(),
        logits,
        "{kind} reload"
    );

    // Contracts: wrong width, non-finite scale, id outside the table.
    let mut wide = one.clone();
    wide.num_fields += 1;
    wide.rows.push(0);
    wide.scales.push(0.0);
    assert!(
        m.predict_logits(&wide).is_err(),
        "{kind}: wrong width accepted"
    );
    for bad in [f32::NAN, f32::INFINITY] {
        let mut b = one.clone();
        b.scales[3] = bad;
        let e = m
            .predict_logits(&b)
            .expect_err("non-finite scale accepted")
            .to_string();
        assert!(e.contains("row 0, field 3"), "{kind}: {e}");
    }
    let mut b = one.clone();
    b.rows[1] = u32::MAX;
    let e = m
        .predict_logits(&b)
        .expect_err("id outside the table accepted")
        .to_string();
    assert!(
        e.contains("row 0, field 1") && e.contains("outside the table"),
        "{kind}: {e}"
    );

    // Training rejects labels outside {0, 1}.
    let mut bad = data.clone();
    bad.labels[3] = 2.0;
    let rows: Vec<usize> = (0..bad.num_rows()).collect();
    let e = ctr::train(
        kind,
        &bad,
        &rows[..150],
        &rows[150..],
        &enc,
        &tiny_params(kind),
        5,
        &NoProgress,
    )
    .err()
    .unwrap_or_else(|| panic!("{kind}: label 2 accepted"))
    .to_string();
    assert!(e.contains("row 3 has label 2"), "{kind}: {e}");
}

#[test]
fn every_model_passes_the_battery() {
    let dir = scratch("models");
    for kind in MODELS {
        check_model(kind, &dir);
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ------------------------------------------------------------------------------------------
// Readers

/// One registered reader: how to write a valid file of n rows, what a bad one looks like, and
/// how to read it.
struct ReaderCase {
    name: &'static str,
    /// Field count of a valid file.
    fields: usize,
    /// A valid file of `n` rows (`None`: the format cannot be written here; fixtures are read).
    valid: fn(usize) -> Option<Vec<u8>>,
    /// A file whose third line has the wrong number of cells or tokens, and what the error
    /// must say.
    wrong_width: Option<(Vec<u8>, usize)>,
    /// A file with a NaN or infinite dense value, and what the error must say; `None` for
    /// formats without free dense values.
    bad_dense: Option<(Vec<u8>, usize)>,
    /// Reads a file.
    read: fn(&Path, &Path) -> Result<Dataset, DataError>,
}

/// Every reader the battery checks; must equal the binary's `--format` values (plus the
/// libFM variant with a feature-index file).
#[cfg(feature = "parquet")]
const READERS: [&str; 6] = [
    "csv",
    "criteo",
    "avazu",
    "libfm",
    "libfm-featindex",
    "parquet",
];
/// Without the `parquet` feature there is no Parquet reader to check.
#[cfg(not(feature = "parquet"))]
const READERS: [&str; 5] = ["csv", "criteo", "avazu", "libfm", "libfm-featindex"];

fn csv_text(n: usize) -> Option<Vec<u8>> {
    let mut s = String::from("y,a,d\n");
    for i in 0..n {
        s.push_str(&format!("{},a{},{}\n", i % 2, i % 3, i as f32 * 0.5));
    }
    Some(s.into_bytes())
}

fn criteo_line(i: usize, dense0: &str) -> String {
    let mut cells = vec![(i % 2).to_string(), dense0.to_string()];
    cells.extend((2..=13).map(|k| (k * i % 7).to_string()));
    cells.extend((1..=26).map(|k| format!("{:08x}", k * 31 + i % 3)));
    cells.join("\t") + "\n"
}

fn criteo_text(n: usize) -> Option<Vec<u8>> {
    Some(
        (0..n)
            .map(|i| criteo_line(i, "3"))
            .collect::<String>()
            .into_bytes(),
    )
}

const AVAZU_HEADER: &str = "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21";

fn avazu_line(i: usize) -> String {
    let mut cells = vec![format!("{i}"), (i % 2).to_string(), "14102100".to_string()];
    cells.extend((3..24).map(|k| format!("v{}", (k + i) % 4)));
    cells.join(",")
}

fn avazu_text(n: usize) -> Option<Vec<u8>> {
    let mut s = format!("{AVAZU_HEADER}\n");
    for i in 0..n {
        s.push_str(&avazu_line(i));
        s.push('\n');
    }
    Some(s.into_bytes())
}

fn libfm_text(n: usize) -> Option<Vec<u8>> {
    // Three positional fields with global indices 0..3, 3..6, 6..9; labels -1/1.
    Some(
        (0..n)
            .map(|i| {
                format!(
                    "{} {}:1 {}:1 {}:1\n",
                    if i % 2 == 0 { "1" } else { "-1" },
                    i % 3,
                    3 + i % 2,
                    6 + (i / 2) % 3
                )
            })
            .collect::<String>()
            .into_bytes(),
    )
}

/// A feature-index file for [`libfm_text`]'s indices (iPinYou's `field:value\tindex` lines).
const FEATINDEX: &str =
    "u:0\t0\nu:1\t1\nu:2\t2\nitem:0\t3\nitem:1\t4\nctx:0\t6\nctx:1\t7\nctx:2\t8\n";

#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
fn no_writer(_: usize) -> Option<Vec<u8>> {
    None
}

fn first_ok(r: Result<(Dataset, Vec<usize>), DataError>) -> Result<Dataset, DataError> {
    r.map(|(d, _)| d)
}

fn readers() -> Vec<ReaderCase> {
    let mut wrong_csv = csv_text(4).unwrap_or_default();
    wrong_csv.extend_from_slice(b"1,a1\n");
    let mut criteo_short = criteo_text(2).unwrap_or_default();
    criteo_short.extend_from_slice(b"1\t2\t3\n");
    let mut avazu_short = avazu_text(2).unwrap_or_default();
    avazu_short.extend_from_slice(b"1,0,14102100,x\n");
    let mut libfm_ragged = libfm_text(2).unwrap_or_default();
    libfm_ragged.extend_from_slice(b"1 0:1 3:1\n");
    let mut csv_nan = b"y,a,d\n0,a1,1.5\n".to_vec();
    csv_nan.extend_from_slice(b"1,a2,inf\n");
    let criteo_nan: Vec<u8> =
        format!("{}{}", criteo_line(0, "1"), criteo_line(1, "nan")).into_bytes();
    vec![
        ReaderCase {
            name: "csv",
            fields: 2,
            valid: csv_text,
            wrong_width: Some((wrong_csv, 6)),
            bad_dense: Some((csv_nan, 3)),
            read: |p, _| {
                let schema = SchemaOptions {
                    dense: vec!["d".into()],
                    ..SchemaOptions::with_label("y")
                };
                first_ok(glider_data::read_csv(
                    &[p.to_path_buf()],
                    &schema,
                    &CsvOptions::default(),
                ))
            },
        },
        ReaderCase {
            name: "criteo",
            fields: 39,
            valid: criteo_text,
            wrong_width: Some((criteo_short, 3)),
            bad_dense: Some((criteo_nan, 2)),
            read: |p, _| first_ok(glider_data::read_criteo(&[p.to_path_buf()], &[])),
        },
        ReaderCase {
            name: "avazu",
            fields: 23,
            valid: avazu_text,
            wrong_width: Some((avazu_short, 4)),
            bad_dense: None,
            read: |p, _| first_ok(glider_data::read_avazu(&[p.to_path_buf()], &[])),
        },
        ReaderCase {
            name: "libfm",
            fields: 3,
            valid: libfm_text,
            wrong_width: Some((libfm_ragged, 3)),
            bad_dense: None,
            read: |p, _| {
                let names = Some(vec!["u".to_string(), "item".into(), "ctx".into()]);
                first_ok(glider_data::read_libfm(
                    &[p.to_path_buf()],
                    &LibfmFields::Positional { names },
                ))
            },
        },
        ReaderCase {
            name: "libfm-featindex",
            fields: 3,
            valid: libfm_text,
            // An index the feature-index file does not have.
            wrong_width: Some((b"1 0:1 3:1 6:1\n1 0:1 3:1 6:1\n1 0:1 5:1 6:1\n".to_vec(), 3)),
            bad_dense: None,
            read: |p, featindex| {
                first_ok(glider_data::read_libfm(
                    &[p.to_path_buf()],
                    &LibfmFields::FeatIndex {
                        path: featindex.to_path_buf(),
                    },
                ))
            },
        },
        #[cfg(feature = "parquet")]
        ReaderCase {
            name: "parquet",
            fields: 0,
            valid: no_writer,
            wrong_width: None,
            bad_dense: None,
            read: |p, _| {
                let schema = SchemaOptions::with_label("y");
                first_ok(glider_data::read_parquet(&[p.to_path_buf()], &schema))
            },
        },
    ]
}

#[test]
fn the_battery_lists_every_reader() {
    let names: Vec<&str> = readers().iter().map(|r| r.name).collect();
    assert_eq!(names, READERS);
}

#[test]
fn every_reader_passes_the_battery() {
    let dir = scratch("readers");
    let featindex = dir.join("featindex.txt");
    std::fs::write(&featindex, FEATINDEX).unwrap();
    for case in readers() {
        let name = case.name;
        let file = |tag: &str, bytes: &[u8]| -> PathBuf {
            let p = dir.join(format!("{name}-{tag}"));
            std::fs::write(&p, bytes).unwrap();
            p
        };
        match (case.valid)(5) {
            Some(bytes) => {
                let p = file("valid", &bytes);
                let d = (case.read)(&p, &featindex).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(d.num_rows(), 5, "{name}");
                assert_eq!(d.num_fields(), case.fields, "{name}");
                assert!(d.labels.iter().all(|&y| y == 0.0 || y == 1.0), "{name}");
                let again = (case.read)(&p, &featindex).unwrap();
                assert_eq!(d.columns, again.columns, "{name}: not deterministic");
                assert_eq!(d.labels, again.labels, "{name}");
                let one = file("one", &(case.valid)(1).unwrap_or_default());
                let d1 =
                    (case.read)(&one, &featindex).unwrap_or_else(|e| panic!("{name} one row: {e}"));
                assert_eq!(d1.num_rows(), 1, "{name}");
            }
            None => {
                // Formats written by other tools: the committed fixtures.
                let good =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/good.parquet");
                if good.exists() {
                    let d =
                        (case.read)(&good, &featindex).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(d.num_rows() > 0, "{name}");
                    let again = (case.read)(&good, &featindex).unwrap();
                    assert_eq!(d.columns, again.columns, "{name}: not deterministic");
                }
                let nan = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/bad_inputs/nan_dense.parquet");
                if nan.exists() {
                    let e = (case.read)(&nan, &featindex)
                        .expect_err("NaN accepted")
                        .to_string();
                    assert!(
                        e.contains("nan_dense.parquet") && e.contains("row"),
                        "{name}: {e}"
                    );
                }
            }
        }
        // An empty file is an error naming the file.
        let empty = file("empty", b"");
        let e = (case.read)(&empty, &featindex)
            .expect_err("empty file accepted")
            .to_string();
        assert!(e.contains(&format!("{name}-empty")), "{name}: {e}");
        if let Some((bytes, line)) = &case.wrong_width {
            let p = file("wrong-width", bytes);
            let e = (case.read)(&p, &featindex)
                .expect_err("wrong width accepted")
                .to_string();
            assert!(
                e.contains(&format!("{name}-wrong-width")) && names_line(&e, *line),
                "{name}: {e}"
            );
        }
        if let Some((bytes, line)) = &case.bad_dense {
            let p = file("bad-dense", bytes);
            let e = (case.read)(&p, &featindex)
                .expect_err("NaN/inf dense value accepted")
                .to_string();
            assert!(
                e.contains(&format!("{name}-bad-dense")) && names_line(&e, *line),
                "{name}: {e}"
            );
        }
        // Every field of a read file has a kind (no half-built schema).
        if let Some(bytes) = (case.valid)(3) {
            let d = (case.read)(&file("kinds", &bytes), &featindex).unwrap();
            assert!(d
                .fields
                .iter()
                .all(|f| matches!(f.kind, FieldKind::Categorical | FieldKind::Dense)));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ------------------------------------------------------------------------------------------
// Black-box adapters

/// Every adapter the battery checks (ONNX when built with the `onnx` feature, the default).
#[cfg(feature = "onnx")]
const ADAPTERS: [&str; 4] = ["model", "function", "http", "onnx"];
#[cfg(not(feature = "onnx"))]
const ADAPTERS: [&str; 3] = ["model", "function", "http"];

fn check_adapter(name: &str, bb: &dyn BlackBox, rows: &[FieldValue]) {
    let f = bb.num_fields();
    assert!(f > 0, "{name}");
    let n = rows.len() / f;
    let z = bb.logits(rows).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(z.len(), n, "{name}");
    assert!(z.iter().all(|v| v.is_finite()), "{name}");
    assert_eq!(bb.logits(rows).unwrap(), z, "{name}: not deterministic");
    assert_eq!(
        bb.logits(&[]).unwrap(),
        Vec::<f32>::new(),
        "{name}: empty batch"
    );
    let one = bb.logits(&rows[f..2 * f]).unwrap();
    assert_eq!(one.len(), 1, "{name}");
    assert!(
        (one[0] - z[1]).abs() <= 1e-5 * z[1].abs().max(1.0),
        "{name}: batch-dependent"
    );
    assert!(
        bb.logits(&rows[..f + 1]).is_err(),
        "{name}: ragged input accepted"
    );
    // A missing value and a switched-off field are valid inputs.
    let mut off = rows[..f].to_vec();
    off[0] = off[0].missing();
    assert_eq!(bb.logits(&off).unwrap().len(), 1, "{name}");
    off[0] = FieldValue::Off;
    assert_eq!(bb.logits(&off).unwrap().len(), 1, "{name}");
}

#[test]
fn every_adapter_passes_the_battery() {
    let data = table(200);
    let enc = encoder(&data);
    let model = train(ModelKind::DeepFm, &data, &enc, 1);
    let rows: Vec<FieldValue> = (0..20)
        .flat_map(|r| {
            data.columns
                .iter()
                .map(move |c| c.value(r))
                .collect::<Vec<_>>()
        })
        .collect();
    let function_rows: Vec<FieldValue> = (0..3 * glider_core::local_functions::NUM_FEATURES)
        .map(|i| FieldValue::Dense(if i % 3 == 0 { f32::NAN } else { 1.0 }))
        .collect();
    let mut checked = Vec::new();
    for name in ADAPTERS {
        match name {
            "model" => {
                let bb = ModelBlackBox::new(model.as_ref());
                check_adapter(name, &bb, &rows);
                // An infinite dense value is rejected, naming the row and field.
                let mut bad = rows.clone();
                bad[4 + 3] = FieldValue::Dense(f32::INFINITY);
                let e = bb.logits(&bad).expect_err("inf accepted").to_string();
                assert!(e.contains("row 1, field 3"), "{e}");
            }
            "function" => {
                let bb = FunctionBox(LocalFunction::A1);
                check_adapter(name, &bb, &function_rows);
                let mut bad = function_rows.clone();
                bad[2] = FieldValue::Dense(f32::NEG_INFINITY);
                assert!(bb.logits(&bad).is_err());
            }
            "http" => {
                // The same kind of model, trained by the binary and behind `glider serve`.
                let dir = scratch("http");
                let csv = dir.join("t.csv");
                std::fs::write(&csv, table_text(200)).unwrap();
                let model = dir.join("model");
                let status = std::process::Command::new(env!("CARGO_BIN_EXE_glider"))
                    .args(["train", "--data", csv.to_str().unwrap(), "--label", "y"])
                    .args([
                        "--categorical",
                        "a,b,c",
                        "--hidden",
                        "8",
                        "--epochs",
                        "2",
                        "-q",
                    ])
                    .args(["--out", model.to_str().unwrap()])
                    .status()
                    .unwrap();
                assert!(status.success());
                let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_glider"))
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
                    .unwrap();
                let bb = HttpBlackBox::new(
                    url,
                    Mapping::per_field(&data),
                    &data,
                    HttpOptions::default(),
                )
                .unwrap();
                check_adapter(name, &bb, &rows);
                let mut bad = rows.clone();
                bad[4 + 3] = FieldValue::Dense(f32::INFINITY);
                assert!(bb.logits(&bad).is_err());
                server.kill().ok();
                server.wait().ok();
                std::fs::remove_dir_all(&dir).ok();
            }
            #[cfg(feature = "onnx")]
            "onnx" => {
                // The committed test model over four dense fields (scripts/make_test_onnx.py).
                let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
                let mapping: Mapping = serde_json::from_str(
                    &std::fs::read_to_string(root.join("interaction_mapping.json")).unwrap(),
                )
                .unwrap();
                let mut text = String::from("y,x0,x1,x2,x3\n");
                for i in 0..20 {
                    let v = |k: usize| ((i * (5 + k)) % 9) as f32 / 4.0 - 1.0;
                    text.push_str(&format!("{},{},{},{},{}\n", i % 2, v(0), v(1), v(2), v(3)));
                }
                let schema = SchemaOptions {
                    dense: vec!["x0".into(), "x1".into(), "x2".into(), "x3".into()],
                    ..SchemaOptions::with_label("y")
                };
                let dense = glider_data::read_csv_from(
                    text.as_bytes(),
                    "onnx.csv",
                    &schema,
                    &CsvOptions::default(),
                )
                .unwrap();
                let bb = glider_explain::onnx::OnnxBlackBox::new(
                    &root.join("interaction.onnx"),
                    mapping,
                    &dense,
                    7,
                )
                .unwrap();
                let onnx_rows: Vec<FieldValue> = (0..20)
                    .flat_map(|r| {
                        dense
                            .columns
                            .iter()
                            .map(move |c| c.value(r))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                check_adapter(name, &bb, &onnx_rows);
                let mut bad = onnx_rows.clone();
                bad[5] = FieldValue::Dense(f32::INFINITY);
                assert!(bb.logits(&bad).is_err());
            }
            other => panic!("adapter {other} has no check"),
        }
        checked.push(name);
    }
    assert_eq!(checked, ADAPTERS);
}

/// Whether an error message names 1-based line `n` (`line n` or `file:n:`).
fn names_line(message: &str, n: usize) -> bool {
    message.contains(&format!("line {n}")) || message.contains(&format!(":{n}:"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("glider-battery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

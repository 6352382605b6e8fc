//! `glider._glider`: the Rust side of the Python package. It holds no method of its own: every
//! function here converts Python values to the library's types, calls `glider-app` (the same
//! functions the `glider` binary calls) with the GIL released, and converts the results back.
//! The public Python API, with its docstrings, is `glider/__init__.py`.
//!
//! Columns cross the boundary as bytes (little-endian `f64` numbers, `u32` categorical codes
//! with 0 = missing) so that neither side copies value by value; `glider/_frame.py` builds
//! them from a pandas DataFrame and builds DataFrames from them for a Python model.

use std::path::{Path, PathBuf};

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use glider_app::model_dir;
use glider_app::settings::GliderSettings;
use glider_data::{
    dataset_from_frame, Dataset, FieldKind, FieldValue, FrameColumn, FrameValues, SchemaOptions,
};
use glider_explain::blackbox::{check_inputs, check_scores};
use glider_explain::http::{output_logits, OutputSpec, ScoreKind};
use glider_explain::pipeline::Reporter;
use glider_explain::{BlackBox, ExplainError, ModelBlackBox};

create_exception!(
    _glider,
    GliderError,
    PyValueError,
    "glider's error: bad input (a file, column, row or setting, named in the message) or a \
     model that cannot answer. A subclass of ValueError; the message is the command line's."
);

/// An `anyhow` error as a [`GliderError`], with its causes, as the command line prints them.
fn py_err(e: anyhow::Error) -> PyErr {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    GliderError::new_err(text)
}

fn json_err(what: &str, e: serde_json::Error) -> PyErr {
    GliderError::new_err(format!("{what}: {e}"))
}

/// The schema keywords (`label`, `positive`, `categorical`, `dense`, `ignore`, `missing`,
/// `label_optional`) as JSON → [`SchemaOptions`].
fn schema_of(json: &str) -> PyResult<SchemaOptions> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| json_err("schema", e))?;
    let list = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut schema =
        SchemaOptions::with_label(v.get("label").and_then(|x| x.as_str()).unwrap_or("label"));
    schema.positive = v
        .get("positive")
        .and_then(|x| x.as_str())
        .map(str::to_string);
    schema.categorical = list("categorical");
    schema.dense = list("dense");
    schema.ignore = list("ignore");
    if v.get("missing").is_some_and(|m| m.is_array()) {
        schema.missing = list("missing");
    }
    schema.label_optional = v
        .get("label_optional")
        .and_then(|x| x.as_bool())
        .unwrap_or(false);
    if let Some(t) = v.get("target").filter(|t| !t.is_null()) {
        schema.target =
            serde_json::from_value(t.clone()).map_err(|e| json_err("schema target", e))?;
    }
    Ok(schema)
}

/// One column as `glider._frame.payloads` hands it over: name, `"numbers"` or `"texts"`, the
/// payload bytes and, for texts, the dictionary.
type ColumnPayload<'py> = (String, String, Bound<'py, PyBytes>, Option<Vec<String>>);

/// A table of fields read from a DataFrame (a [`Dataset`]).
#[pyclass(frozen, module = "glider._glider")]
struct Table {
    data: Dataset,
}

#[pymethods]
impl Table {
    /// Builds the table from columns `(name, "numbers" | "texts", payload, dictionary)`:
    /// numbers as little-endian f64 bytes (NaN = missing), texts as little-endian u32 codes
    /// (0 = missing, k = dictionary[k - 1]); `schema_json` holds the schema keywords.
    ///
    /// Raises GliderError naming the column and row for bad values, a missing label column,
    /// a named column that does not exist.
    #[new]
    fn new(source: String, columns: Vec<ColumnPayload<'_>>, schema_json: &str) -> PyResult<Table> {
        let schema = schema_of(schema_json)?;
        let mut frame = Vec::with_capacity(columns.len());
        for (name, kind, payload, dictionary) in columns {
            let bytes = payload.as_bytes();
            let values = match kind.as_str() {
                "numbers" => FrameValues::Numbers(
                    bytes
                        .chunks_exact(8)
                        .map(|c| {
                            f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                        })
                        .collect(),
                ),
                "texts" => FrameValues::Texts {
                    codes: bytes
                        .chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                    dictionary: dictionary.unwrap_or_default(),
                },
                other => {
                    return Err(GliderError::new_err(format!(
                        "column \"{name}\": unknown payload kind {other}"
                    )))
                }
            };
            frame.push(FrameColumn { name, values });
        }
        let data = dataset_from_frame(&source, frame, &schema)
            .map_err(|e| py_err(anyhow::Error::new(e)))?;
        Ok(Table { data })
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.data.num_rows()
    }

    /// The fields: `(name, "dense" | "categorical", dictionary or None)`, the dictionary's
    /// entry 0 being the missing value.
    fn fields(&self) -> Vec<(String, String, Option<Vec<String>>)> {
        self.data
            .fields
            .iter()
            .zip(&self.data.columns)
            .map(|(f, c)| {
                let kind = match f.kind {
                    FieldKind::Dense => "dense",
                    FieldKind::Categorical => "categorical",
                };
                let dictionary = match c {
                    glider_data::Column::Categorical { dictionary, .. } => Some(dictionary.clone()),
                    glider_data::Column::Dense { .. } => None,
                };
                (f.name.clone(), kind.to_string(), dictionary)
            })
            .collect()
    }
}

/// A Python callable as GLIDER's black box. The callable (built by `glider._frame`) takes
/// one payload per field and the row count and returns the model's outputs as f64 bytes.
struct CallableBox {
    caller: Py<PyAny>,
    kinds: Vec<FieldKind>,
    output: OutputSpec,
}

impl BlackBox for CallableBox {
    fn num_fields(&self) -> usize {
        self.kinds.len()
    }

    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        let f = self.kinds.len();
        check_inputs(rows, f)?;
        let n = rows.len() / f;
        let mut payloads: Vec<Vec<u8>> = self
            .kinds
            .iter()
            .map(|k| match k {
                FieldKind::Dense => Vec::with_capacity(n * 8),
                FieldKind::Categorical => Vec::with_capacity(n * 4),
            })
            .collect();
        for row in rows.chunks(f) {
            for ((v, kind), out) in row.iter().zip(&self.kinds).zip(payloads.iter_mut()) {
                match (kind, v) {
                    (FieldKind::Dense, FieldValue::Dense(x)) => {
                        out.extend_from_slice(&f64::from(*x).to_le_bytes())
                    }
                    (FieldKind::Dense, _) => out.extend_from_slice(&f64::NAN.to_le_bytes()),
                    (FieldKind::Categorical, FieldValue::Categorical(c)) => {
                        out.extend_from_slice(&c.to_le_bytes())
                    }
                    (FieldKind::Categorical, _) => out.extend_from_slice(&0u32.to_le_bytes()),
                }
            }
        }
        let values: Vec<f64> = Python::attach(|py| -> PyResult<Vec<f64>> {
            let list = PyList::new(py, payloads.iter().map(|p| PyBytes::new(py, p)))?;
            let answer = self.caller.bind(py).call1((list, n))?;
            let bytes = answer.cast::<PyBytes>()?.as_bytes();
            Ok(bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect())
        })
        .map_err(|e| ExplainError::BlackBox(format!("the model raised {e}")))?;
        let out = output_logits(&values, n, &self.output, "the model")?;
        check_scores(&out, n)?;
        Ok(out)
    }
}

/// A reporter: the command line's progress bars, or silence.
fn reporter(quiet: bool) -> Box<dyn Reporter> {
    if quiet {
        Box::new(glider_explain::pipeline::Silent)
    } else {
        Box::new(glider_app::progress::Bars::new(false, false))
    }
}

fn settings_of(json: &str, seed: u64) -> PyResult<glider_explain::GliderParams> {
    let settings: GliderSettings =
        serde_json::from_str(json).map_err(|e| json_err("GLIDER settings", e))?;
    settings.check(seed).map_err(py_err)
}

/// The command line's GLIDER defaults, as JSON (the keywords of `glider.detect`).
#[pyfunction]
fn default_settings() -> PyResult<String> {
    serde_json::to_string(&GliderSettings::default()).map_err(|e| json_err("settings", e))
}

/// Explains `table` with GLIDER (spec 3.1–3.2) and writes `out` as `glider detect` does:
/// `detect.json`, `local.jsonl`, `global_interactions.json` (and `mapping.json` for an ONNX
/// file without a mapping). The model is exactly one of `caller` (a Python callable from
/// `glider._frame`), `model_dir` (a `glider train` folder) or `onnx` (a file path).
///
/// Returns `(summary text, [(row, reason)] of the instances that failed)`.
#[pyfunction]
#[pyo3(signature = (table, out, settings_json, seed, caller=None, output="probability", model_dir=None, onnx=None, mapping=None, request_rows=4096, shard=(1, 1), resume=false, quiet=false))]
#[allow(clippy::too_many_arguments)]
fn detect(
    py: Python<'_>,
    table: &Table,
    out: PathBuf,
    settings_json: &str,
    seed: u64,
    caller: Option<Py<PyAny>>,
    output: &str,
    model_dir: Option<PathBuf>,
    onnx: Option<PathBuf>,
    mapping: Option<PathBuf>,
    request_rows: usize,
    shard: (usize, usize),
    resume: bool,
    quiet: bool,
) -> PyResult<(String, Vec<(usize, String)>)> {
    let params = settings_of(settings_json, seed)?;
    if shard.0 == 0 || shard.0 > shard.1 {
        return Err(GliderError::new_err(format!(
            "shard {}/{}: give i/n with 1 <= i <= n",
            shard.0, shard.1
        )));
    }
    let kind = match output {
        "probability" => ScoreKind::Probability,
        "logit" => ScoreKind::Logit,
        other => {
            return Err(GliderError::new_err(format!(
                "output=\"{other}\": give \"probability\" or \"logit\""
            )))
        }
    };
    let data_path = Path::new("<DataFrame>");
    let data = &table.data;
    let run = |bb: &dyn BlackBox, identity: &str, data: &Dataset| {
        let bars = reporter(quiet);
        model_dir::detect_with(
            bb,
            identity,
            data,
            data_path,
            &params,
            shard,
            resume,
            &out,
            bars.as_ref(),
        )
    };
    let outcome = match (caller, model_dir, onnx) {
        (Some(caller), None, None) => {
            let bb = CallableBox {
                caller,
                kinds: data.fields.iter().map(|f| f.kind).collect(),
                output: OutputSpec {
                    name: None,
                    kind,
                    column: None,
                },
            };
            let identity = format!("python callable over {:?}", data.field_names());
            py.detach(|| run(&bb, &identity, data))
        }
        (None, Some(dir), None) => py.detach(|| {
            let loaded = model_dir::load_with_data(&dir, data.clone())?;
            let identity = serde_json::to_string(&loaded.card)?;
            let bb = ModelBlackBox::new(loaded.model.as_ref());
            run(&bb, &identity, &loaded.data)
        }),
        (None, None, Some(path)) => py.detach(|| {
            let mut spec =
                glider_app::blackbox::BlackBoxSpec::new(format!("onnx:{}", path.display()));
            spec.mapping = mapping;
            spec.request_rows = request_rows;
            let opened = glider_app::blackbox::open(&spec, data)?;
            let outcome = run(opened.black_box.as_ref(), &opened.identity, data)?;
            if let Some(m) = opened.inferred {
                glider_app::output::write_json(&out.join("mapping.json"), &m)?;
            }
            Ok(outcome)
        }),
        _ => {
            return Err(GliderError::new_err(
                "give exactly one model: a callable, a model directory or an ONNX file",
            ))
        }
    }
    .map_err(py_err)?;
    Ok((outcome.summary(), outcome.failed))
}

/// A trained glider model directory.
#[pyclass(frozen, module = "glider._glider")]
struct Model {
    dir: PathBuf,
    card: model_dir::ModelCard,
}

#[pymethods]
impl Model {
    /// Opens `dir` (a folder written by `glider train`): reads and checks model.json.
    #[new]
    fn new(dir: PathBuf) -> PyResult<Model> {
        let card = model_dir::read_card(&dir).map_err(py_err)?;
        model_dir::check_weights(&dir).map_err(py_err)?;
        Ok(Model { dir, card })
    }

    /// model.json as JSON text.
    fn card_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.card).map_err(|e| json_err("model.json", e))
    }

    /// The schema the model's training data was read with, as JSON.
    fn schema_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.card.reading.schema).map_err(|e| json_err("schema", e))
    }

    /// Logits for every row of `table` (little-endian f64 bytes).
    fn predict_logits<'py>(&self, py: Python<'py>, table: &Table) -> PyResult<Bound<'py, PyBytes>> {
        let data = table.data.clone();
        let dir = self.dir.clone();
        let logits = py
            .detach(move || -> anyhow::Result<Vec<f32>> {
                let loaded = model_dir::load_with_data(&dir, data)?;
                let rows: Vec<usize> = (0..loaded.data.num_rows()).collect();
                let batch = loaded.model.encoder().encode_rows(&loaded.data, &rows);
                Ok(loaded.model.predict_logits(&batch)?)
            })
            .map_err(py_err)?;
        let mut bytes = Vec::with_capacity(logits.len() * 8);
        for l in logits {
            bytes.extend_from_slice(&f64::from(l).to_le_bytes());
        }
        Ok(PyBytes::new(py, &bytes))
    }
}

/// Writes `out/report.html` for the results of `command` (`detect`, `run`, `nid`,
/// `attention`) in `out`; returns whether a page was written.
#[pyfunction]
fn write_report(py: Python<'_>, command: &str, out: PathBuf) -> PyResult<bool> {
    let command = command.to_string();
    py.detach(move || glider_app::report::write_for(&command, &out, ""))
        .map_err(py_err)
}

/// `base` with the keys of the JSON object `user` replaced; a key `base` lacks is an error
/// listing the known ones.
fn merged<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: &T,
    user: &str,
    what: &str,
) -> PyResult<T> {
    let mut value = serde_json::to_value(base).map_err(|e| json_err(what, e))?;
    let given: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(user).map_err(|e| json_err(what, e))?;
    let Some(object) = value.as_object_mut() else {
        return Err(GliderError::new_err(format!("{what}: not an object")));
    };
    for (key, v) in given {
        if !object.contains_key(&key) {
            let mut known: Vec<&String> = object.keys().collect();
            known.sort();
            let known: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
            return Err(GliderError::new_err(format!(
                "{what}: unknown setting {key} (known: {})",
                known.join(", ")
            )));
        }
        object.insert(key, v);
    }
    serde_json::from_value(value).map_err(|e| json_err(what, e))
}

/// The split of a table to train on: `counts` = rows of train / validation / test in that
/// order (the frames were concatenated), or `None` for the seeded 80/10/10 split; the
/// training rows must hold both classes.
fn training_split(
    data: &Dataset,
    counts: Option<(usize, usize, usize)>,
    seed: u64,
) -> PyResult<glider_data::Split> {
    let split = match counts {
        Some((a, b, c)) => glider_data::Split::from_counts(&[a, b, c])
            .map_err(|e| py_err(anyhow::Error::new(e)))?,
        None => glider_data::split_indices(data.num_rows(), 0.1, 0.1, seed)
            .map_err(|e| GliderError::new_err(format!("{}: {e}", data.source)))?,
    };
    glider_app::data::check_both_classes(data, &split).map_err(py_err)?;
    Ok(split)
}

/// Trains a glider model on `table` and writes its directory `out` as `glider train` does
/// (spec 3.4): `model` is the architecture; `params_json` overrides its settings
/// (`learning_rate`, `max_epochs`, `embedding_dim`, `hidden`, ... as in model.json's
/// `params`); `encoder_json` the encoder's (`min_count`, `hash_buckets`, `numeric`);
/// `counts` = rows of train / validation / test in that order, or `None` for a seeded
/// 80/10/10 split. Returns the summary line.
#[pyfunction]
#[pyo3(signature = (table, out, model, schema_json, params_json="{}", encoder_json="{}", counts=None, seed=0, quiet=false))]
#[allow(clippy::too_many_arguments)]
fn train(
    py: Python<'_>,
    table: &Table,
    out: PathBuf,
    model: &str,
    schema_json: &str,
    params_json: &str,
    encoder_json: &str,
    counts: Option<(usize, usize, usize)>,
    seed: u64,
    quiet: bool,
) -> PyResult<String> {
    let kind: glider_nn::ctr::ModelKind = model
        .parse()
        .map_err(|e| GliderError::new_err(format!("model=\"{model}\": {e}")))?;
    let params = merged(
        &glider_nn::ctr::CtrParams::for_model(kind),
        params_json,
        "model settings",
    )?;
    let options = merged(
        &glider_data::EncoderOptions::default(),
        encoder_json,
        "encoder settings",
    )?;
    let mut schema = schema_of(schema_json)?;
    schema.label_optional = false;
    let reading = model_dir::Reading {
        format: "csv".into(),
        schema,
        delimiter: b',',
        libfm: None,
    };
    let data = &table.data;
    let split = training_split(data, counts, seed)?;
    py.detach(|| {
        let bars = reporter(quiet);
        model_dir::train_new(
            data,
            &split,
            kind,
            params,
            &options,
            reading,
            seed,
            &out,
            bars.as_ref(),
        )
    })
    .map_err(py_err)
}

/// NID on `table` (spec 1), as `glider nid` runs it: `options_json` holds the NID keywords
/// (`glider_app::settings::NidOptions`), `task` is `regression`, `binary`, `multiclass` or
/// `None` (inferred from the label: the table's label must then be read as classes). The rows
/// are split 80/10/10 with `seed`; writes `out/interactions.json` and returns the summary.
#[pyfunction]
#[pyo3(signature = (table, out, options_json, task=None, max_categories=32, seed=0, top=20, quiet=false))]
#[allow(clippy::too_many_arguments)]
fn nid(
    py: Python<'_>,
    table: &Table,
    out: PathBuf,
    options_json: &str,
    task: Option<&str>,
    max_categories: usize,
    seed: u64,
    top: usize,
    quiet: bool,
) -> PyResult<String> {
    use glider_app::nid::TaskArg;
    let asked = match task {
        None => None,
        Some("regression") => Some(TaskArg::Regression),
        Some("binary") => Some(TaskArg::Binary),
        Some("multiclass") => Some(TaskArg::Multiclass),
        Some(other) => {
            return Err(GliderError::new_err(format!(
                "task=\"{other}\": give \"regression\", \"binary\", \"multiclass\" or None"
            )))
        }
    };
    let options: glider_app::settings::NidOptions =
        serde_json::from_str(options_json).map_err(|e| json_err("NID settings", e))?;
    let mut data = table.data.clone();
    let task = glider_app::nid::infer_task(&mut data, asked).map_err(py_err)?;
    let settings = options.check(task).map_err(py_err)?;
    let split = glider_data::split_indices(data.num_rows(), 0.1, 0.1, seed)
        .map_err(|e| GliderError::new_err(format!("{}: {e}", data.source)))?;
    py.detach(|| {
        glider_app::nid::run(
            &data,
            &split,
            &settings,
            max_categories,
            seed,
            top,
            &out,
            &|message: &str| {
                if !quiet {
                    eprintln!("{message}");
                }
            },
        )
    })
    .map_err(py_err)
}

/// The command line's NID defaults, as JSON (the keywords of `glider.nid`).
#[pyfunction]
fn default_nid_options() -> PyResult<String> {
    serde_json::to_string(&glider_app::settings::NidOptions::default())
        .map_err(|e| json_err("settings", e))
}

/// Fits one cross feature per interaction (lists of field names) on every row of `table`
/// (spec 3.3: truncated sparse crossing; numeric members in `bins` bins of about equal row
/// counts; a value tuple kept when seen more than `min_count` times and more than 1e-4 of the
/// rows (`None`: also more than 1.5 × √rows, `--cross-min-count auto`; see [`min_count_rule`]),
/// as `glider encode --interactions` does. Returns crosses.json as JSON text.
#[pyfunction]
#[pyo3(signature = (table, interactions, bins=8, min_count=Some(10)))]
fn encode_fit(
    py: Python<'_>,
    table: &Table,
    interactions: Vec<Vec<String>>,
    bins: usize,
    min_count: Option<usize>,
) -> PyResult<String> {
    let data = &table.data;
    if bins == 0 {
        return Err(GliderError::new_err("bins must be at least 1"));
    }
    let sets = glider_app::encode::resolve_sets(data, &interactions).map_err(py_err)?;
    let options = min_count_rule(min_count).apply(glider_data::CrossOptions {
        dense_bins: bins,
        ..Default::default()
    });
    let spec = py
        .detach(|| glider_app::encode::fit(data, &sets, &options))
        .map_err(py_err)?;
    serde_json::to_string_pretty(&spec).map_err(|e| json_err("crosses", e))
}

/// One cross column handed back: name, u32 codes as bytes, dictionary.
type CrossColumn<'py> = (String, Bound<'py, PyBytes>, Vec<String>);

/// The cross columns that crosses.json text `spec_json` gives `table`:
/// `(name, u32 codes as bytes, dictionary)`, code 0 = a tuple not kept (or a missing member).
#[pyfunction]
fn encode_apply<'py>(
    py: Python<'py>,
    table: &Table,
    spec_json: &str,
) -> PyResult<Vec<CrossColumn<'py>>> {
    let spec: glider_data::CrossSpec =
        serde_json::from_str(spec_json).map_err(|e| json_err("crosses.json", e))?;
    let mut data = table.data.clone();
    let before = data.num_fields();
    glider_data::apply_crosses(&mut data, &spec).map_err(|e| py_err(anyhow::Error::new(e)))?;
    let mut out = Vec::new();
    for (field, column) in data.fields[before..].iter().zip(&data.columns[before..]) {
        if let glider_data::Column::Categorical { codes, dictionary } = column {
            let mut bytes = Vec::with_capacity(codes.len() * 4);
            for c in codes {
                bytes.extend_from_slice(&c.to_le_bytes());
            }
            out.push((
                field.name.clone(),
                PyBytes::new(py, &bytes),
                dictionary.clone(),
            ));
        }
    }
    Ok(out)
}

/// `glider run` on `table` (spec 3 end to end): train `source`, explain it with GLIDER,
/// encode the top interactions as crosses, and per target model compare baseline and
/// +GLIDER over `trials` paired trials; writes report.json, global_interactions.json,
/// crosses.json and local.jsonl into `out` and returns the summary. `targets` `None` = the
/// source and LR (as the command line); `params_json` overrides every model's settings (as
/// `--epochs`, `--hidden` do); `settings_json` holds GLIDER's keywords.
#[pyfunction]
#[pyo3(signature = (table, out, source, settings_json, targets=None, params_json="{}", trials=5, seed=0, bins=8, cross_min_count=Some(10), selection="validation", counts=None, resume=false, quiet=false, cross_part="auto"))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    table: &Table,
    out: PathBuf,
    source: &str,
    settings_json: &str,
    targets: Option<Vec<String>>,
    params_json: &str,
    trials: usize,
    seed: u64,
    bins: usize,
    cross_min_count: Option<usize>,
    selection: &str,
    counts: Option<(usize, usize, usize)>,
    resume: bool,
    quiet: bool,
    cross_part: &str,
) -> PyResult<String> {
    use glider_app::run::RunSettings;
    use glider_app::settings::{CrossPartChoice, CrossSettings, SelectionChoice};
    use glider_nn::ctr::{CtrParams, ModelKind};
    let parse = |name: &str| -> PyResult<ModelKind> {
        name.parse()
            .map_err(|e| GliderError::new_err(format!("model \"{name}\": {e}")))
    };
    let source_kind = parse(source)?;
    let kinds: Vec<ModelKind> = match targets {
        Some(names) => names.iter().map(|n| parse(n)).collect::<PyResult<_>>()?,
        None => glider_app::run::default_targets(source_kind),
    };
    let glider: GliderSettings =
        serde_json::from_str(settings_json).map_err(|e| json_err("GLIDER settings", e))?;
    let settings = RunSettings {
        glider,
        cross: CrossSettings {
            bins,
            cross_min_count: min_count_rule(cross_min_count),
            cross_selection: match selection {
                "validation" => SelectionChoice::Validation,
                "none" => SelectionChoice::None,
                other => {
                    return Err(GliderError::new_err(format!(
                        "selection=\"{other}\": give \"validation\" or \"none\""
                    )))
                }
            },
            cross_part: match cross_part {
                "auto" => CrossPartChoice::Auto,
                "full" => CrossPartChoice::Full,
                "linear" => CrossPartChoice::Linear,
                other => {
                    return Err(GliderError::new_err(format!(
                        "cross_part=\"{other}\": give \"auto\", \"full\" or \"linear\""
                    )))
                }
            },
            ..CrossSettings::default()
        },
        trials,
        seed,
    };
    // The overrides merged per architecture here (a bad key is a Python error as it is);
    // the library checks each result.
    let mut merged_params: Vec<(ModelKind, CtrParams)> = Vec::new();
    for &k in std::iter::once(&source_kind).chain(&kinds) {
        merged_params.push((
            k,
            merged(&CtrParams::for_model(k), params_json, "model settings")?,
        ));
    }
    let params_of = |k: ModelKind| -> anyhow::Result<CtrParams> {
        merged_params
            .iter()
            .find(|(kind, _)| *kind == k)
            .map(|(_, p)| p.clone())
            .ok_or_else(|| anyhow::anyhow!("no settings for {k}"))
    };
    let config = glider_app::run::config(
        source_kind,
        &kinds,
        &params_of,
        glider_data::EncoderOptions::default(),
        &settings,
    )
    .map_err(py_err)?;
    let data = &table.data;
    let split = training_split(data, counts, seed)?;
    let report = py
        .detach(|| {
            let bars = reporter(quiet);
            glider_app::run::run_and_write(data, &split, &config, &out, resume, bars.as_ref())
        })
        .map_err(py_err)?;
    Ok(glider_app::output::summary(&report, &out))
}

/// `glider merge` (the library's): combines the shard folders `dirs` of one detect run into
/// `out/global_interactions.json` (spec 3.2 over every shard's instances). Returns the summary.
#[pyfunction]
fn merge(py: Python<'_>, dirs: Vec<PathBuf>, out: PathBuf) -> PyResult<String> {
    py.detach(|| model_dir::merge(&dirs, &out)).map_err(py_err)
}

/// A partitioned cross fit, step 0 (`glider.ray.fit_crosses`): the plan of crossing
/// `interactions` (field names) on tables shaped like `table`, as JSON.
#[pyfunction]
fn cross_plan(table: &Table, interactions: Vec<Vec<String>>) -> PyResult<String> {
    let plan = glider_app::encode::plan(&table.data, &interactions).map_err(py_err)?;
    serde_json::to_string(&plan).map_err(|e| json_err("plan", e))
}

fn plan_of(json: &str) -> PyResult<Vec<glider_app::encode::PlannedCross>> {
    serde_json::from_str(json).map_err(|e| json_err("plan", e))
}

/// Step 1 on one partition: the dense members' value counts, as JSON.
#[pyfunction]
fn cross_value_counts(py: Python<'_>, table: &Table, plan_json: &str) -> PyResult<String> {
    let plan = plan_of(plan_json)?;
    let counts = py
        .detach(|| glider_app::encode::partition_value_counts(&table.data, &plan))
        .map_err(py_err)?;
    serde_json::to_string(&counts).map_err(|e| json_err("value counts", e))
}

/// Step 1 merged: the bin edges from every partition's value counts (any order), as JSON.
#[pyfunction]
fn cross_edges(parts: Vec<String>, bins: usize) -> PyResult<String> {
    if bins < 2 {
        return Err(GliderError::new_err("bins must be at least 2"));
    }
    let parts = parts
        .iter()
        .map(|p| serde_json::from_str(p).map_err(|e| json_err("value counts", e)))
        .collect::<PyResult<Vec<_>>>()?;
    serde_json::to_string(&glider_app::encode::merged_edges(&parts, bins))
        .map_err(|e| json_err("edges", e))
}

/// Step 2 on one partition: each planned cross's tuple counts, as JSON.
#[pyfunction]
fn cross_tuple_counts(
    py: Python<'_>,
    table: &Table,
    plan_json: &str,
    edges_json: &str,
) -> PyResult<String> {
    let plan = plan_of(plan_json)?;
    let edges: std::collections::BTreeMap<String, Vec<f32>> =
        serde_json::from_str(edges_json).map_err(|e| json_err("edges", e))?;
    let counts = py
        .detach(|| glider_app::encode::partition_tuple_counts(&table.data, &plan, &edges))
        .map_err(py_err)?;
    serde_json::to_string(&counts).map_err(|e| json_err("tuple counts", e))
}

/// The min-count rule of a Python `min_count` argument: `None` = `auto`
/// (max(10, 1e-4 × rows, 1.5 × √rows)), N = max(N, 1e-4 × rows) (spec 3.3 with floor N).
fn min_count_rule(min_count: Option<usize>) -> glider_data::CrossMinCount {
    min_count.map_or(
        glider_data::CrossMinCount::Auto,
        glider_data::CrossMinCount::AtLeast,
    )
}

/// Step 2 merged: crosses.json from the partitions' tuple counts in the table's partition
/// order, the min-count rule applied to the merged counts.
#[pyfunction]
#[pyo3(signature = (plan_json, edges_json, parts, bins=8, min_count=Some(10)))]
fn cross_spec(
    plan_json: &str,
    edges_json: &str,
    parts: Vec<String>,
    bins: usize,
    min_count: Option<usize>,
) -> PyResult<String> {
    let plan = plan_of(plan_json)?;
    let edges: std::collections::BTreeMap<String, Vec<f32>> =
        serde_json::from_str(edges_json).map_err(|e| json_err("edges", e))?;
    let parts = parts
        .iter()
        .map(|p| serde_json::from_str(p).map_err(|e| json_err("tuple counts", e)))
        .collect::<PyResult<Vec<_>>>()?;
    let options = min_count_rule(min_count).apply(glider_data::CrossOptions {
        dense_bins: bins,
        ..Default::default()
    });
    let spec =
        glider_app::encode::spec_from_parts(&plan, &edges, &parts, &options).map_err(py_err)?;
    serde_json::to_string_pretty(&spec).map_err(|e| json_err("crosses", e))
}

/// The embedded UCI Adult data (CC BY 4.0) as gzip-compressed CSV bytes.
#[pyfunction]
fn adult_csv_gz<'py>(py: Python<'py>) -> Bound<'py, PyBytes> {
    PyBytes::new(py, glider_data::embedded::adult_csv_gz())
}

/// The module.
#[pymodule]
fn _glider(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GliderError", m.py().get_type::<GliderError>())?;
    m.add_class::<Table>()?;
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(detect, m)?)?;
    m.add_function(wrap_pyfunction!(default_settings, m)?)?;
    m.add_function(wrap_pyfunction!(write_report, m)?)?;
    m.add_function(wrap_pyfunction!(adult_csv_gz, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(nid, m)?)?;
    m.add_function(wrap_pyfunction!(encode_fit, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(encode_apply, m)?)?;
    m.add_function(wrap_pyfunction!(default_nid_options, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(cross_plan, m)?)?;
    m.add_function(wrap_pyfunction!(cross_value_counts, m)?)?;
    m.add_function(wrap_pyfunction!(cross_edges, m)?)?;
    m.add_function(wrap_pyfunction!(cross_tuple_counts, m)?)?;
    m.add_function(wrap_pyfunction!(cross_spec, m)?)?;
    Ok(())
}

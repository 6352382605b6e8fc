//! A model behind a server that speaks the Open Inference Protocol (KServe v2,
//! `POST /v2/models/{name}/infer`), as a GLIDER black box; and the [`Mapping`] that describes
//! how a user's model takes its inputs.
//!
//! The mapping says, per field of the data, which input tensor it feeds, its datatype, its
//! vocabulary (categorical values sent as numbers) or its dense transform, and the value that
//! means "switched off" (spec 3.1); the input layout (one tensor per field, or one `[n, f]`
//! tensor); and which output holds the score and whether it is a probability (clamped to
//! `[1e-7, 1 − 1e-7]` before the logit) or a logit. Requests are batched, time out, and are
//! retried on connection errors, 429 and 5xx.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use glider_data::{Column, Dataset, FieldValue};

use crate::blackbox::{check_inputs, check_scores, BlackBox};
use crate::ExplainError;

/// How a model takes its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One tensor per field, shape `[n, 1]`, named by the field's `input`.
    #[default]
    PerField,
    /// One tensor `[n, f]` (named [`Mapping::input`]) with the mapped fields as columns, in
    /// the mapping's order; every field then has the tensor's datatype.
    Single,
}

/// A tensor datatype of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Datatype {
    /// Strings.
    #[serde(rename = "BYTES")]
    Bytes,
    /// 32-bit floats.
    #[serde(rename = "FP32")]
    Fp32,
    /// 64-bit floats.
    #[serde(rename = "FP64")]
    Fp64,
    /// 64-bit integers.
    #[serde(rename = "INT64")]
    Int64,
}

/// What the model's output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// The logit `ln(p / (1 − p))`.
    #[default]
    Logit,
    /// The click probability.
    Probability,
}

/// One field of the data as a model input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldInput {
    /// The data's field (column name).
    pub field: String,
    /// The input tensor's name (per-field layout); default: the field's name.
    #[serde(default)]
    pub input: Option<String>,
    /// The tensor's datatype; default: BYTES for categorical fields, FP32 for dense ones.
    #[serde(default)]
    pub datatype: Option<Datatype>,
    /// Categorical values sent as numbers: value → number. A value not in it is sent as
    /// `unknown`.
    #[serde(default)]
    pub vocabulary: Option<BTreeMap<String, f64>>,
    /// The number sent for a categorical value missing from `vocabulary` (default 0).
    #[serde(default)]
    pub unknown: Option<f64>,
    /// Dense transform: the value sent is `value × scale + shift` (default 1 and 0).
    #[serde(default)]
    pub scale: Option<f64>,
    /// See `scale`.
    #[serde(default)]
    pub shift: Option<f64>,
    /// The value sent when the field is switched off or missing: default `""` for BYTES,
    /// `null` for numbers (which `glider serve` reads as missing; other servers need a
    /// number here, such as the training mean). For a `block`, the block all zero unless
    /// `off` lists one number per column.
    #[serde(default)]
    pub off: Option<Value>,
    /// A categorical field sent as a block of one-hot (or multi-hot) columns, one per entry,
    /// in this order: a value puts 1 in the column of its entry and 0 elsewhere (a value
    /// `a|b`, as `--group` reads multi-hot rows, puts 1 in both; a value in no entry, 0
    /// everywhere). The entries are the field's values, or with `--group` its column names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<Vec<String>>,
}

/// Which output holds the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct OutputSpec {
    /// The output's name (default: the first output).
    #[serde(default)]
    pub name: Option<String>,
    /// Probability or logit.
    #[serde(default)]
    pub kind: ScoreKind,
    /// For a `[n, k]` output, the column holding the score (default: 0 when k = 1, 1 when
    /// k = 2, as scikit-learn's `predict_proba`).
    #[serde(default)]
    pub column: Option<usize>,
}

/// A user's model: how the data's fields become its inputs, and what it answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Input layout.
    #[serde(default)]
    pub layout: Layout,
    /// The single tensor's name ([`Layout::Single`]; default `"input"`).
    #[serde(default)]
    pub input: Option<String>,
    /// The single tensor's datatype ([`Layout::Single`]; default FP32).
    #[serde(default)]
    pub datatype: Option<Datatype>,
    /// The fields the model reads, in input order. Fields of the data not listed are not
    /// sent (switching them off changes nothing).
    pub fields: Vec<FieldInput>,
    /// The score.
    #[serde(default)]
    pub output: OutputSpec,
}

impl Mapping {
    /// The mapping `glider serve` expects: one tensor per field, named after it, BYTES for a
    /// categorical field and FP32 for a dense one, missing as `""` and `null`; the `logit`
    /// output.
    pub fn per_field(data: &Dataset) -> Self {
        Mapping {
            layout: Layout::PerField,
            input: None,
            datatype: None,
            fields: data
                .field_names()
                .into_iter()
                .map(|field| FieldInput {
                    field,
                    input: None,
                    datatype: None,
                    vocabulary: None,
                    unknown: None,
                    scale: None,
                    shift: None,
                    off: None,
                    block: None,
                })
                .collect(),
            output: OutputSpec {
                name: Some("logit".into()),
                kind: ScoreKind::Logit,
                column: None,
            },
        }
    }
}

/// Transport settings of [`HttpBlackBox`].
#[derive(Clone, Debug, PartialEq)]
pub struct HttpOptions {
    /// Rows per request.
    pub batch_rows: usize,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Extra attempts after a connection error, a timeout, a 429 or a 5xx (with 0.1 s, 0.2 s,
    /// 0.4 s … between them, or the answer's `Retry-After`, at most 30 s).
    pub retries: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            batch_rows: 4096,
            timeout: Duration::from_secs(60),
            retries: 3,
        }
    }
}

/// How one mapped field is read from a row of field values.
#[derive(Debug)]
struct Source {
    /// Index of the field in the data's rows.
    index: usize,
    /// The categorical field's dictionary (raw code → value string); `None` for dense.
    dictionary: Option<Vec<String>>,
    input: FieldInput,
    datatype: Datatype,
    /// Columns it sends: 1, or its block's length.
    width: usize,
}

/// The data's fields laid out as a model's inputs by a [`Mapping`]: what every black box
/// of a user's model (HTTP, ONNX) sends it.
pub struct MappedFields {
    mapping: Mapping,
    sources: Vec<Source>,
    groups: Vec<InputGroup>,
    num_fields: usize,
}

/// One input tensor a mapping sends: `[n, columns]`, its columns the mapped fields that name
/// this input, in the mapping's order (the single layout: every field; the per-field layout:
/// usually one field, or several fields naming the same `input`, such as the int64 index
/// tensor of an exported embedding model).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputGroup {
    /// The tensor's name.
    pub name: String,
    /// The tensor's datatype.
    pub datatype: Datatype,
    /// The fields feeding it, in order (mapping field names); a block field feeds several
    /// columns.
    pub fields: Vec<String>,
    /// Indexes into the mapping's fields.
    sources: Vec<usize>,
    /// Columns of the tensor.
    columns: usize,
}

impl InputGroup {
    /// Columns of the tensor.
    pub fn width(&self) -> usize {
        self.columns
    }
}

impl MappedFields {
    /// Resolves `mapping` against `data`'s fields.
    ///
    /// # Errors
    /// [`ExplainError::Config`] for a mapping field the data does not have, a single-tensor
    /// layout mixing BYTES with numbers, or a vocabulary on a dense field.
    pub fn new(mapping: Mapping, data: &Dataset) -> Result<Self, ExplainError> {
        let mut sources = Vec::with_capacity(mapping.fields.len());
        for input in &mapping.fields {
            let index = data.field_index(&input.field).ok_or_else(|| {
                ExplainError::Config(format!(
                    "the mapping names field \"{}\", which {} does not have (fields: {})",
                    input.field,
                    data.source,
                    data.field_names().join(", ")
                ))
            })?;
            let dictionary = match &data.columns[index] {
                Column::Categorical { dictionary, .. } => Some(dictionary.clone()),
                Column::Dense { .. } => {
                    if input.vocabulary.is_some() {
                        return Err(ExplainError::Config(format!(
                            "the mapping gives dense field \"{}\" a vocabulary",
                            input.field
                        )));
                    }
                    None
                }
            };
            let default = if dictionary.is_some() && input.vocabulary.is_none() {
                Datatype::Bytes
            } else {
                Datatype::Fp32
            };
            let default = if input.block.is_some() {
                Datatype::Fp32
            } else {
                default
            };
            let datatype = match mapping.layout {
                Layout::Single => mapping.datatype.unwrap_or(Datatype::Fp32),
                Layout::PerField => input.datatype.unwrap_or(default),
            };
            let width = match &input.block {
                None => 1,
                Some(block) => {
                    if dictionary.is_none() {
                        return Err(ExplainError::Config(format!(
                            "the mapping gives dense field \"{}\" a block; a block is a \
                             categorical field's one-hot columns",
                            input.field
                        )));
                    }
                    if block.is_empty() || datatype == Datatype::Bytes {
                        return Err(ExplainError::Config(format!(
                            "field \"{}\": a block needs at least one column, sent as numbers",
                            input.field
                        )));
                    }
                    block.len()
                }
            };
            sources.push(Source {
                index,
                dictionary,
                input: input.clone(),
                datatype,
                width,
            });
        }
        if mapping.layout == Layout::Single {
            let bytes = sources
                .iter()
                .filter(|s| s.datatype == Datatype::Bytes)
                .count();
            if bytes != 0 && bytes != sources.len() {
                return Err(ExplainError::Config(
                    "a single input tensor has one datatype: give categorical fields a \
                     vocabulary, or use the per_field layout"
                        .into(),
                ));
            }
        }
        let groups = match mapping.layout {
            Layout::Single => vec![InputGroup {
                name: mapping.input.clone().unwrap_or_else(|| "input".into()),
                datatype: mapping.datatype.unwrap_or(Datatype::Fp32),
                fields: sources.iter().map(|s| s.input.field.clone()).collect(),
                sources: (0..sources.len()).collect(),
                columns: sources.iter().map(|s| s.width).sum(),
            }],
            Layout::PerField => {
                let mut groups: Vec<InputGroup> = Vec::new();
                for (k, s) in sources.iter().enumerate() {
                    let name = s
                        .input
                        .input
                        .clone()
                        .unwrap_or_else(|| s.input.field.clone());
                    match groups.iter_mut().find(|g| g.name == name) {
                        Some(g) if g.datatype != s.datatype => {
                            return Err(ExplainError::Config(format!(
                                "fields \"{}\" and \"{}\" feed input \"{name}\" with different \
                                 datatypes ({} and {}): one tensor has one datatype",
                                g.fields[0],
                                s.input.field,
                                Self::datatype_name(g.datatype),
                                Self::datatype_name(s.datatype)
                            )))
                        }
                        Some(g) => {
                            g.fields.push(s.input.field.clone());
                            g.sources.push(k);
                            g.columns += s.width;
                        }
                        None => groups.push(InputGroup {
                            name,
                            datatype: s.datatype,
                            fields: vec![s.input.field.clone()],
                            sources: vec![k],
                            columns: s.width,
                        }),
                    }
                }
                groups
            }
        };
        Ok(MappedFields {
            mapping,
            sources,
            groups,
            num_fields: data.num_fields(),
        })
    }

    /// The input tensors, in the order their first field appears in the mapping.
    pub fn groups(&self) -> &[InputGroup] {
        &self.groups
    }

    /// The values of `group`'s tensor for `rows` (whole rows of [`Self::num_fields`]
    /// values): `n × group.width()`, row-major, as the protocol sends them (a string for
    /// BYTES, a number, or the field's `off`, which may be `null`).
    ///
    /// # Errors
    /// [`ExplainError::BlackBox`] for a categorical code outside its dictionary, or a value
    /// sent as a number that is none.
    pub fn group_values(
        &self,
        rows: &[FieldValue],
        group: &InputGroup,
    ) -> Result<Vec<Value>, ExplainError> {
        let f = self.num_fields.max(1);
        let mut out = Vec::with_capacity(rows.len() / f * group.columns);
        for row in rows.chunks(f) {
            for &k in &group.sources {
                let s = &self.sources[k];
                self.push_cells(s, row[s.index], &mut out)?;
            }
        }
        Ok(out)
    }

    /// [`Self::group_values`] as numbers, for a numeric tensor: the common cells (a dense
    /// value, a block's 0/1 columns, a vocabulary's number) without building JSON values.
    ///
    /// # Errors
    /// [`ExplainError::BlackBox`] naming the field and input for a value that is no number
    /// (a switched-off field whose `off` is not a number, a categorical value with no
    /// vocabulary whose text is no number).
    pub fn group_numbers(
        &self,
        rows: &[FieldValue],
        group: &InputGroup,
    ) -> Result<Vec<f64>, ExplainError> {
        let f = self.num_fields.max(1);
        let mut out = Vec::with_capacity(rows.len() / f * group.columns);
        let mut cells = Vec::new();
        for row in rows.chunks(f) {
            for &k in &group.sources {
                let s = &self.sources[k];
                let v = row[s.index];
                match (v, &s.input.block) {
                    (FieldValue::Dense(x), None) if !x.is_nan() => {
                        out.push(
                            f64::from(x) * s.input.scale.unwrap_or(1.0)
                                + s.input.shift.unwrap_or(0.0),
                        );
                        continue;
                    }
                    _ => {}
                }
                cells.clear();
                self.push_cells(s, v, &mut cells)?;
                for cell in &cells {
                    out.push(match cell {
                        Value::Number(x) => x.as_f64().unwrap_or(f64::NAN),
                        Value::String(text) => text.trim().parse::<f64>().map_err(|_| {
                            ExplainError::BlackBox(format!(
                                "field \"{}\": value {text:?} goes to numeric input \"{}\" but \
                                 is no number; give the field a vocabulary in the mapping",
                                s.input.field, group.name
                            ))
                        })?,
                        other => {
                            return Err(ExplainError::BlackBox(format!(
                                "field \"{}\" is sent as {other}, not a number, to input \"{}\" \
                                 (give it a numeric \"off\" and, if categorical, a vocabulary)",
                                s.input.field, group.name
                            )))
                        }
                    });
                }
            }
        }
        Ok(out)
    }

    /// Pushes the values one field of one row sends: one value, or its block's columns.
    fn push_cells(
        &self,
        source: &Source,
        v: FieldValue,
        out: &mut Vec<Value>,
    ) -> Result<(), ExplainError> {
        let Some(block) = &source.input.block else {
            out.push(self.value(source, v)?);
            return Ok(());
        };
        let text = match (v, &source.dictionary) {
            (FieldValue::Categorical(code), Some(dictionary)) if code != 0 => {
                dictionary.get(code as usize).map(String::as_str)
            }
            _ => None,
        };
        match text {
            Some(text) => {
                let hot: Vec<&str> = text.split('|').collect();
                out.extend(
                    block
                        .iter()
                        .map(|c| json!(if hot.contains(&c.as_str()) { 1.0 } else { 0.0 })),
                );
            }
            None => match source.input.off.as_ref().and_then(Value::as_array) {
                Some(off) if off.len() == block.len() => out.extend(off.iter().cloned()),
                _ => out.extend(std::iter::repeat_n(json!(0.0), block.len())),
            },
        }
        Ok(())
    }

    /// The mapping.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Fields per row of the data (rows given to the black box have this many values).
    pub fn num_fields(&self) -> usize {
        self.num_fields
    }

    /// The value sent for one field of one row.
    fn value(&self, source: &Source, v: FieldValue) -> Result<Value, ExplainError> {
        let off = |s: &Source| -> Value {
            s.input.off.clone().unwrap_or(match s.datatype {
                Datatype::Bytes => Value::String(String::new()),
                _ => Value::Null,
            })
        };
        match (v, &source.dictionary) {
            (FieldValue::Off, _) | (FieldValue::Categorical(0), _) => Ok(off(source)),
            (FieldValue::Categorical(code), Some(dictionary)) => {
                let text = dictionary.get(code as usize).ok_or_else(|| {
                    ExplainError::BlackBox(format!(
                        "field \"{}\": code {code} outside its dictionary",
                        source.input.field
                    ))
                })?;
                match (&source.input.vocabulary, source.datatype) {
                    (_, Datatype::Bytes) => Ok(Value::String(text.clone())),
                    (Some(vocab), _) => Ok(json!(vocab
                        .get(text)
                        .copied()
                        .unwrap_or(source.input.unknown.unwrap_or(0.0)))),
                    (None, _) => text.trim().parse::<f64>().map(|x| json!(x)).map_err(|_| {
                        ExplainError::BlackBox(format!(
                            "field \"{}\": value {text:?} is sent as a number but is none; \
                             give the field a vocabulary in the mapping",
                            source.input.field
                        ))
                    }),
                }
            }
            (FieldValue::Dense(x), _) if x.is_nan() => Ok(off(source)),
            (FieldValue::Dense(x), _) => {
                let y = f64::from(x) * source.input.scale.unwrap_or(1.0)
                    + source.input.shift.unwrap_or(0.0);
                Ok(match source.datatype {
                    Datatype::Bytes => Value::String(y.to_string()),
                    Datatype::Int64 => json!(y.round() as i64),
                    _ => json!(y),
                })
            }
            (FieldValue::Categorical(_), None) => Ok(off(source)),
        }
    }

    /// The protocol's name of a datatype.
    pub fn datatype_name(d: Datatype) -> &'static str {
        match d {
            Datatype::Bytes => "BYTES",
            Datatype::Fp32 => "FP32",
            Datatype::Fp64 => "FP64",
            Datatype::Int64 => "INT64",
        }
    }

    /// The request body for `rows` (whole rows of `num_fields` values).
    fn request(&self, rows: &[FieldValue]) -> Result<Value, ExplainError> {
        let f = self.num_fields;
        let n = rows.len() / f;
        let mut inputs = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            inputs.push(json!({
                "name": g.name,
                "shape": [n, g.width()],
                "datatype": Self::datatype_name(g.datatype),
                "data": self.group_values(rows, g)?,
            }));
        }
        let mut request = json!({ "inputs": inputs });
        // Servers with several outputs (MLServer's scikit-learn runtime: predict and
        // predict_proba) answer the one asked for.
        if let Some(name) = &self.mapping.output.name {
            request["outputs"] = json!([{ "name": name }]);
        }
        Ok(request)
    }
}

/// Converts a model's output values (`n × width`, row-major) to logits: the mapping's column
/// (default 0, or 1 when the width is 2), read as a logit or a probability (clamped to
/// `[1e-7, 1 − 1e-7]`). `source` names the model in errors.
///
/// # Errors
/// [`ExplainError::BlackBox`] when the values are not `n` whole rows or the column is out of
/// range.
pub fn output_logits(
    data: &[f64],
    n: usize,
    spec: &OutputSpec,
    source: &str,
) -> Result<Vec<f32>, ExplainError> {
    let bad = |why: String| ExplainError::BlackBox(format!("{source}: {why}"));
    let width = if data.len() == n {
        1
    } else {
        data.len() / n.max(1)
    };
    if n == 0 || width == 0 || data.len() != n * width {
        return Err(bad(format!(
            "asked for {n} scores, got {} values",
            data.len()
        )));
    }
    let column = spec.column.unwrap_or(if width == 2 { 1 } else { 0 });
    if column >= width {
        return Err(bad(format!(
            "the output has {width} column(s); the mapping asks for column {column}"
        )));
    }
    Ok(data
        .chunks(width)
        .map(|r| {
            let s = r[column];
            match spec.kind {
                ScoreKind::Logit => s as f32,
                ScoreKind::Probability => {
                    let p = s.clamp(1e-7, 1.0 - 1e-7);
                    (p / (1.0 - p)).ln() as f32
                }
            }
        })
        .collect())
}

/// A model behind an Open Inference Protocol server.
pub struct HttpBlackBox {
    url: String,
    agent: ureq::Agent,
    fields: MappedFields,
    options: HttpOptions,
}

impl HttpBlackBox {
    /// A black box posting to `url` (`http://HOST:PORT/v2/models/NAME`; `/infer` is added)
    /// rows of `data`'s fields, laid out by `mapping`.
    ///
    /// # Errors
    /// [`ExplainError::Config`] for a URL that is not `http://…`, and as [`MappedFields::new`].
    pub fn new(
        url: &str,
        mapping: Mapping,
        data: &Dataset,
        options: HttpOptions,
    ) -> Result<Self, ExplainError> {
        if !url.starts_with("http://") {
            return Err(ExplainError::Config(format!(
                "{url}: a black-box URL starts with http:// (as http://HOST:PORT/v2/models/NAME)"
            )));
        }
        let url = url.trim_end_matches('/');
        let url = if url.ends_with("/infer") {
            url.to_string()
        } else {
            format!("{url}/infer")
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(HttpBlackBox {
            url,
            agent,
            fields: MappedFields::new(mapping, data)?,
            options,
        })
    }

    /// The URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts one request, retrying connection errors, timeouts, 429 and 5xx: after 0.1 s,
    /// 0.2 s, 0.4 s …, or after the answer's `Retry-After` seconds (at most 30).
    ///
    /// # Errors
    /// [`ExplainError::Unreachable`] when the last attempt got no answer (connection
    /// refused or reset, or nothing within the timeout); [`ExplainError::BlackBox`] for a 4xx,
    /// or a 429/5xx on the last attempt.
    fn post(&self, body: &str) -> Result<String, ExplainError> {
        let mut last = String::new();
        // Whether the last attempt got no answer at all (no connection, no reply in time).
        let mut unanswered = false;
        let mut wait = Duration::ZERO;
        let attempts = self.options.retries + 1;
        for attempt in 0..attempts {
            if attempt > 0 {
                let backoff = Duration::from_millis(100 << (attempt - 1).min(6));
                std::thread::sleep(wait.max(backoff));
            }
            wait = Duration::ZERO;
            unanswered = true;
            match self
                .agent
                .post(&self.url)
                .header("content-type", "application/json")
                .send(body)
            {
                Ok(mut response) => {
                    unanswered = false;
                    let status = response.status().as_u16();
                    if let Some(secs) = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    {
                        wait = Duration::from_secs(secs.min(30));
                    }
                    let text = response
                        .body_mut()
                        .with_config()
                        .limit(1 << 30)
                        .read_to_string()
                        .unwrap_or_default();
                    if status == 200 {
                        return Ok(text);
                    }
                    let snippet: String = text.chars().take(300).collect();
                    last = format!("HTTP {status}: {snippet}");
                    if !(status == 429 || status >= 500) {
                        return Err(ExplainError::BlackBox(format!("POST {}: {last}", self.url)));
                    }
                }
                Err(ureq::Error::Timeout(_)) => {
                    last = format!(
                        "no answer within {} s (--timeout sets the limit)",
                        self.options.timeout.as_secs_f64()
                    )
                }
                Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last = "connection refused (is the server running?)".into()
                }
                Err(e) => last = e.to_string(),
            }
        }
        let plural = if attempts == 1 { "" } else { "s" };
        let message = format!(
            "POST {}: {last}; {attempts} attempt{plural} (--retries sets how many more)",
            self.url
        );
        Err(if unanswered {
            ExplainError::Unreachable(message)
        } else {
            ExplainError::BlackBox(message)
        })
    }

    /// The scores in a response body, as logits.
    fn scores(&self, text: &str, n: usize) -> Result<Vec<f32>, ExplainError> {
        let bad = |why: String| ExplainError::BlackBox(format!("{}: {why}", self.url));
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("the answer is not JSON ({e})")))?;
        let outputs = v["outputs"]
            .as_array()
            .ok_or_else(|| bad("the answer has no \"outputs\"".into()))?;
        let spec = &self.fields.mapping.output;
        let output = match &spec.name {
            Some(name) => outputs
                .iter()
                .find(|o| o["name"] == name.as_str())
                .ok_or_else(|| {
                    let names: Vec<String> =
                        outputs.iter().map(|o| o["name"].to_string()).collect();
                    bad(format!(
                        "no output named {name:?} (outputs: {})",
                        names.join(", ")
                    ))
                })?,
            None => outputs
                .first()
                .ok_or_else(|| bad("the answer has no outputs".into()))?,
        };
        let data: Vec<f64> = output["data"]
            .as_array()
            .ok_or_else(|| bad("the output has no \"data\" array".into()))?
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect();
        output_logits(&data, n, spec, &self.url)
    }
}

impl BlackBox for HttpBlackBox {
    fn num_fields(&self) -> usize {
        self.fields.num_fields
    }

    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        let f = self.fields.num_fields;
        check_inputs(rows, f)?;
        let mut out = Vec::with_capacity(rows.len() / f);
        for chunk in rows.chunks(f * self.options.batch_rows.max(1)) {
            let n = chunk.len() / f;
            let body = serde_json::to_string(&self.fields.request(chunk)?)
                .map_err(|e| ExplainError::BlackBox(e.to_string()))?;
            let text = self.post(&body)?;
            out.extend(self.scores(&text, n)?);
        }
        check_scores(&out, rows.len() / f)?;
        Ok(out)
    }
}

//! An ONNX model as a GLIDER black box, run in-process with tract (cargo feature `onnx`).
//!
//! The model takes one numeric tensor `[n, k]` (the mapped fields as columns, see
//! [`crate::http::Mapping`] with the `single` layout) and answers one or more outputs; the
//! mapping's output spec picks the score (by name, column, logit or probability).

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use glider_data::{Dataset, FieldValue};

use crate::blackbox::{check_inputs, check_scores, BlackBox};
use crate::forest::{Forest, ForestOutput};
use crate::http::{output_logits, MappedFields, Mapping};
use crate::ExplainError;

/// tract's element types, as [`OnnxInput::datatype`] names them.
pub use tract_onnx::prelude::DatumType;

/// Which outputs of an ONNX model to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputChoice<'a> {
    /// Every output the model declares (`glider serve --onnx` answers them all).
    All,
    /// The output of this name.
    Named(&'a str),
    /// The first output of float type, found by typing each output's branch (the score of a
    /// classifier that also answers an integer label).
    FirstScore,
}

/// Reads an ONNX file for tract, adapting what converters write and tract reads otherwise:
/// a binary `TreeEnsembleClassifier` whose trees all score class 0 (skl2onnx's gradient
/// boosting, onnxmltools' XGBoost and LightGBM) declares one base value where tract wants one
/// per class label; the second, which that layout never reads, is set to 0.
fn read_model(path: &Path) -> TractResult<InferenceModel> {
    parse_model(path, &read_proto(path)?)
}

/// The file's protobuf, with the converters' binary tree ensembles adapted (see
/// [`read_model`]).
fn read_proto(path: &Path) -> TractResult<tract_onnx::pb::ModelProto> {
    let onnx = tract_onnx::onnx();
    let mut proto = onnx.proto_model_for_path(path)?;
    if let Some(graph) = proto.graph.as_mut() {
        for node in &mut graph.node {
            if node.op_type != "TreeEnsembleClassifier" {
                continue;
            }
            let attr = |name: &str| node.attribute.iter().find(|a| a.name == name);
            let labels = attr("classlabels_int64s")
                .map(|a| a.ints.len())
                .or_else(|| attr("classlabels_strings").map(|a| a.strings.len()))
                .unwrap_or(0);
            let class_zero = attr("class_ids").is_some_and(|a| a.ints.iter().all(|&c| c == 0));
            if labels == 2 && class_zero {
                if let Some(base) = node
                    .attribute
                    .iter_mut()
                    .find(|a| a.name == "base_values" && a.floats.len() == 1)
                {
                    base.floats.push(0.0);
                }
            }
        }
    }
    Ok(proto)
}

/// tract's model of `proto` (read from `path`, whose folder holds any external data).
fn parse_model(path: &Path, proto: &tract_onnx::pb::ModelProto) -> TractResult<InferenceModel> {
    let dir = path.parent().and_then(|d| d.to_str());
    let parsed = tract_onnx::onnx().parse(proto, dir)?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(TractError::msg(format!(
            "could not resolve inputs at top level: {:?}",
            parsed.unresolved_inputs
        )));
    }
    Ok(parsed.model)
}

/// An output's name: its ONNX label, else its node's name.
fn outlet_name(model: &InferenceModel, outlet: OutletId) -> String {
    model
        .outlet_label(outlet)
        .map(str::to_string)
        .unwrap_or_else(|| model.node(outlet.node).name.clone())
}

/// Where an output's numbers come from: the output itself, or for a classifier's ZipMap
/// output (skl2onnx's default: a sequence of {class: probability} maps, which tract cannot
/// run) the ZipMap's input, the `[n, classes]` probability tensor it is built from.
fn score_source(model: &InferenceModel, outlet: OutletId) -> OutletId {
    let node = model.node(outlet.node);
    if node.op.name().contains("ZipMap") && !node.inputs.is_empty() {
        node.inputs[0]
    } else {
        outlet
    }
}

/// The typed fact of `outlet` in a copy of `model` that computes it alone: `None` when tract
/// cannot type that branch (an operator it lacks, an input fact left undeclared).
fn typed_alone(model: &InferenceModel, outlet: OutletId) -> Option<TypedFact> {
    let mut alone = model.clone();
    alone.select_output_outlets(&[outlet]).ok()?;
    let typed = alone.into_typed().ok()?;
    typed.output_fact(0).ok().cloned()
}

/// True for an f32 or f64 element type: a score glider can read.
fn is_float(t: Option<DatumType>) -> bool {
    matches!(t, Some(DatumType::F32 | DatumType::F64))
}

/// One input tensor of a loaded model: `[N, width]` (or `[N]`, rank 1) of `datatype`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnnxInput {
    /// The input's name.
    pub name: String,
    /// Its element type: F32, F64, I64, I32 or String.
    pub datatype: DatumType,
    /// Columns per row.
    pub width: usize,
    /// 1 for a `[N]` input, 2 for `[N, width]`.
    pub rank: usize,
}

/// Values for one input, `n × width`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum InputValues {
    /// Numbers, converted to the input's element type (rounded for integers).
    Numbers(Vec<f64>),
    /// Strings, for a String input.
    Texts(Vec<String>),
}

/// A loaded ONNX model: one or more inputs `[N, k]` (N any batch size, or the fixed batch
/// the model declares), its outputs as numbers.
pub struct OnnxModel {
    backend: Runner,
    inputs: Vec<OnnxInput>,
    /// The batch size the model declares, when it is fixed (a static export): rows are run
    /// in batches of exactly this many, the last padded.
    batch: Option<usize>,
    outputs: Vec<String>,
    path: String,
}

/// Which runtime scores a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Runtime {
    /// glider's own tree-ensemble scorer where the graph is one ([`crate::forest`]), tract
    /// otherwise.
    #[default]
    Best,
    /// tract for every graph (the reference the tree-ensemble scorer is tested against).
    Tract,
}

/// What runs a loaded model.
enum Runner {
    /// tract's optimised plan.
    Tract(Arc<TypedRunnableModel>),
    /// A tree-ensemble classifier scored by glider ([`crate::forest`]); what each kept
    /// output is.
    Forest(Box<Forest>, Vec<ForestOutput>),
}

/// The declared fact's dimensions, `None` for an unknown or symbolic one; `None` overall when
/// even the rank is unknown.
fn declared_dims(fact: &InferenceFact) -> Option<Vec<Option<usize>>> {
    if fact.shape.is_open() {
        return None;
    }
    Some(
        fact.shape
            .dims()
            .map(|d| {
                d.concretize()
                    .and_then(|d| d.as_i64())
                    .and_then(|d| usize::try_from(d).ok())
            })
            .collect(),
    )
}

fn shape_text(dims: &Option<Vec<Option<usize>>>) -> String {
    match dims {
        None => "[...]".into(),
        Some(d) => format!(
            "[{}]",
            d.iter()
                .map(|x| x.map_or("N".to_string(), |x| x.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl OnnxModel {
    /// Loads and optimises the model at `path`, with every output it declares; each input's
    /// width must be declared by the model (see [`OnnxModel::load_with`]).
    ///
    /// # Errors
    /// As [`OnnxModel::load_with`].
    pub fn load(path: &Path) -> Result<Self, ExplainError> {
        Self::load_with(path, None, OutputChoice::All)
    }

    /// Loads and optimises the model at `path` for inputs of `[N, k]` rows.
    ///
    /// `feeds` gives, per input the mapping sends, its name and width (a mapping's
    /// [`crate::http::InputGroup`]s); `None` takes every width from the model. Each model
    /// input is matched to the feed of its name (a single feed to a single input whatever
    /// their names). Converters declare the batch dimension as unknown or symbolic (skl2onnx's
    /// `[None, 6]`, `torch.onnx.export` with dynamic axes): it becomes a symbol N, so any
    /// batch size runs; a fixed batch dimension (a static export) is kept, and rows are run
    /// in batches of exactly that size. The width comes from the model's declaration where
    /// it has one and from the feed otherwise; the element type from the declaration (f32
    /// when undeclared; f64, i64, i32 and strings are fed as declared). Unless `output` is
    /// [`OutputChoice::All`], only one output is kept, so the parts of the graph that compute
    /// the others (a classifier's integer `label` branch) are dropped before optimisation.
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the file when it cannot be read or is not ONNX; an
    /// input no feed matches, or a feed no input matches (both lists named); an input of
    /// another element type, or of rank above 2; a declared width other than the feed's (both
    /// shapes named); no known width; inputs declaring different fixed batch sizes; no output
    /// `output` (or no float output; the outputs and their types named); an operator tract
    /// does not support (named, with its node).
    pub fn load_with(
        path: &Path,
        feeds: Option<&[(String, usize)]>,
        output: OutputChoice<'_>,
    ) -> Result<Self, ExplainError> {
        Self::load_with_runtime(path, feeds, output, Runtime::Best)
    }

    /// [`OnnxModel::load_with`] on the given runtime.
    ///
    /// # Errors
    /// As [`OnnxModel::load_with`].
    pub fn load_with_runtime(
        path: &Path,
        feeds: Option<&[(String, usize)]>,
        output: OutputChoice<'_>,
        runtime: Runtime,
    ) -> Result<Self, ExplainError> {
        let name = path.display().to_string();
        let bad = |e: TractError| ExplainError::Config(format!("{name}: {e:#}"));
        let config = |m: String| ExplainError::Config(format!("{name}: {m}"));
        let proto = read_proto(path).map_err(bad)?;
        let forest = match runtime {
            Runtime::Best => Forest::from_model(&proto),
            Runtime::Tract => None,
        };
        let mut model = parse_model(path, &proto).map_err(bad)?;
        let outlets = model.input_outlets().map_err(bad)?.to_vec();
        let names: Vec<String> = outlets
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect();
        let mut declared = Vec::with_capacity(outlets.len());
        for i in 0..outlets.len() {
            declared.push(model.input_fact(i).map_err(bad)?.clone());
        }
        let listing = |names: &[String], facts: &[InferenceFact]| -> String {
            names
                .iter()
                .zip(facts)
                .map(|(n, f)| format!("{n} {}", shape_text(&declared_dims(f))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Which feed each input takes.
        let widths: Vec<Option<usize>> = match feeds {
            None => vec![None; outlets.len()],
            Some([(_, w)]) if outlets.len() == 1 => vec![Some(*w)],
            Some(feeds) => {
                let mut widths = Vec::with_capacity(outlets.len());
                for n in &names {
                    let w = feeds.iter().find(|(f, _)| f == n).map(|(_, w)| *w);
                    widths.push(Some(w.ok_or_else(|| {
                        config(format!(
                            "the model's input \"{n}\" is fed by no field of the mapping \
                             (the model's inputs: {}; the mapping's: {})",
                            listing(&names, &declared),
                            feeds
                                .iter()
                                .map(|(f, w)| format!("{f} [N, {w}]"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?));
                }
                if let Some((extra, _)) = feeds.iter().find(|(f, _)| !names.contains(f)) {
                    return Err(config(format!(
                        "the mapping feeds input \"{extra}\", which the model does not have \
                         (its inputs: {})",
                        listing(&names, &declared)
                    )));
                }
                widths
            }
        };
        let mut inputs = Vec::with_capacity(outlets.len());
        let mut batch: Option<usize> = None;
        for (i, fact) in declared.iter().enumerate() {
            let input = &names[i];
            let datatype = match fact.datum_type.concretize() {
                None | Some(DatumType::F32) => DatumType::F32,
                Some(
                    t @ (DatumType::F64 | DatumType::I64 | DatumType::I32 | DatumType::String),
                ) => t,
                Some(other) => {
                    return Err(config(format!(
                        "input \"{input}\" is declared as {other:?}; glider feeds float32, \
                         float64, int64, int32 or string tensors"
                    )))
                }
            };
            let dims = declared_dims(fact);
            let (rank, declared_width, fixed) = match &dims {
                None => (2, None, None),
                Some(d) if d.len() == 1 => (1, Some(1), d[0]),
                Some(d) if d.len() == 2 => (2, d[1], d[0]),
                Some(d) => {
                    return Err(config(format!(
                        "input \"{input}\" is {} ({} dimensions); glider feeds [N, k] or [N] \
                         tensors",
                        shape_text(&dims),
                        d.len()
                    )))
                }
            };
            let width = match (declared_width, widths[i]) {
                (Some(a), Some(b)) if a != b => {
                    return Err(config(format!(
                        "the model's input \"{input}\" is {} but the mapping gives [N, {b}] \
                         ({b} field{})",
                        shape_text(&dims),
                        if b == 1 { "" } else { "s" }
                    )))
                }
                (Some(a), _) | (None, Some(a)) => a,
                (None, None) => {
                    return Err(config(format!(
                        "the width of input \"{input}\" is not declared; give a --mapping with \
                         its fields"
                    )))
                }
            };
            if let Some(b) = fixed {
                match batch {
                    Some(other) if other != b => {
                        return Err(config(format!(
                            "the inputs declare different fixed batch sizes ({other} and {b}): {}",
                            listing(&names, &declared)
                        )))
                    }
                    _ => batch = Some(b),
                }
            }
            inputs.push(OnnxInput {
                name: input.clone(),
                datatype,
                width,
                rank,
            });
        }
        // A batch dimension the model names (torch's dynamo exporter: "batch", used in the
        // graph's inner shapes too) keeps its symbol; an unknown one becomes N.
        let named = declared.iter().find_map(|f| {
            if f.shape.is_open() {
                return None;
            }
            let first = f.shape.dims().next()?.concretize()?;
            first.as_i64().is_none().then_some(first)
        });
        let n = named.unwrap_or_else(|| model.sym("N").to_dim());
        for (i, input) in inputs.iter().enumerate() {
            let rows = match batch {
                Some(b) => b.to_dim(),
                None => n.clone(),
            };
            let shape: TVec<TDim> = if input.rank == 1 {
                tvec![rows]
            } else {
                tvec![rows, input.width.to_dim()]
            };
            model
                .set_input_fact(i, InferenceFact::dt_shape(input.datatype, shape))
                .map_err(bad)?;
        }
        let declared_outputs = model.output_outlets().map_err(bad)?.to_vec();
        let names: Vec<String> = declared_outputs
            .iter()
            .map(|&o| outlet_name(&model, o))
            .collect();
        let all: Vec<OutletId> = declared_outputs
            .iter()
            .map(|&o| score_source(&model, o))
            .collect();
        let keep = match output {
            OutputChoice::All => None,
            OutputChoice::Named(wanted) => {
                Some(names.iter().position(|n| n == wanted).ok_or_else(|| {
                    config(format!(
                        "no output named {wanted:?} (outputs: {})",
                        names.join(", ")
                    ))
                })?)
            }
            OutputChoice::FirstScore => {
                // The first output of float type: a classifier's `probabilities` rather than
                // its integer `label`. ONNX declarations of output types are often absent, so
                // each type comes from typing the branch that computes that output alone.
                let types: Vec<Option<DatumType>> = all
                    .iter()
                    .map(|&outlet| typed_alone(&model, outlet).map(|f| f.datum_type))
                    .collect();
                let float = types.iter().position(|&t| is_float(t));
                Some(float.ok_or_else(|| {
                    let listed: Vec<String> = names
                        .iter()
                        .zip(&types)
                        .map(|(n, t)| match t {
                            Some(t) => format!("{n} ({t:?})"),
                            None => format!("{n} (not computable here)"),
                        })
                        .collect();
                    let missing = unsupported_operator(&model)
                        .map(|m| format!("; {m}"))
                        .unwrap_or_default();
                    config(format!(
                        "no output is a float score (outputs: {}); name the score in the \
                         mapping's \"output\": {{\"name\": ...}}{missing}",
                        listed.join(", ")
                    ))
                })?)
            }
        };
        let outputs = match keep {
            Some(k) => {
                model.select_output_outlets(&[all[k]]).map_err(bad)?;
                vec![names[k].clone()]
            }
            None => {
                model.select_output_outlets(&all).map_err(bad)?;
                names.clone()
            }
        };
        if let Some(forest) = forest {
            let kinds: Option<Vec<ForestOutput>> = outputs
                .iter()
                .map(|o| forest.outputs.iter().find(|(n, _)| n == o).map(|(_, k)| *k))
                .collect();
            if let (Some(kinds), [input]) = (kinds, &inputs[..]) {
                if input.width < forest.needed_width {
                    return Err(config(format!(
                        "the model reads column {} of input \"{}\", which is [N, {}]",
                        forest.needed_width - 1,
                        input.name,
                        input.width
                    )));
                }
                return Ok(OnnxModel {
                    backend: Runner::Forest(Box::new(forest), kinds),
                    inputs,
                    batch: None,
                    outputs,
                    path: name,
                });
            }
        }
        if let Some(missing) = unsupported_operator(&model) {
            return Err(config(missing));
        }
        let typed = model.into_optimized().map_err(bad)?;
        let plan = typed.into_runnable().map_err(bad)?;
        Ok(OnnxModel {
            backend: Runner::Tract(plan),
            inputs,
            batch,
            outputs,
            path: name,
        })
    }

    /// The inputs, in the model's order.
    pub fn inputs(&self) -> &[OnnxInput] {
        &self.inputs
    }

    /// The first input's name (the one input of a single-tensor model).
    pub fn input_name(&self) -> &str {
        self.inputs.first().map_or("", |i| i.name.as_str())
    }

    /// The outputs' names, in the model's order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// The fixed batch size the model declares, if any.
    pub fn fixed_batch(&self) -> Option<usize> {
        self.batch
    }

    /// Runs the model on the row-major `[n, k]` matrix `input` (a model with one input);
    /// returns every output's values, row-major, as f64.
    ///
    /// # Errors
    /// As [`OnnxModel::run_inputs`].
    pub fn run(&self, input: &[f32], n: usize, k: usize) -> Result<Vec<Vec<f64>>, ExplainError> {
        if self.inputs.len() != 1 || self.inputs[0].width != k {
            return Err(ExplainError::BlackBox(format!(
                "{}: given one [{n}, {k}] tensor; the model takes {}",
                self.path,
                self.describe_inputs()
            )));
        }
        let values = InputValues::Numbers(input.iter().map(|&x| f64::from(x)).collect());
        self.run_inputs(n, &[values])
    }

    /// The inputs as `name [N, k] type`, for messages.
    pub fn describe_inputs(&self) -> String {
        self.inputs
            .iter()
            .map(|i| {
                if i.rank == 1 {
                    format!("{} [N] {:?}", i.name, i.datatype)
                } else {
                    format!("{} [N, {}] {:?}", i.name, i.width, i.datatype)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Runs the model on `n` rows: `values[i]` holds input `i`'s `n × width` values,
    /// row-major. Returns every output's values, row-major, as f64. A model with a fixed
    /// batch size runs in batches of that size, the last padded with copies of its last row
    /// (whose scores are dropped).
    ///
    /// # Errors
    /// [`ExplainError::BlackBox`] naming the file when the values do not fit the inputs
    /// (count, or strings for a numeric input), tract fails, or an output is not numbers
    /// (integer outputs are answered as f64).
    pub fn run_inputs(
        &self,
        n: usize,
        values: &[InputValues],
    ) -> Result<Vec<Vec<f64>>, ExplainError> {
        let fail = |m: String| ExplainError::BlackBox(format!("{}: {m}", self.path));
        if values.len() != self.inputs.len() {
            return Err(fail(format!(
                "given {} input tensors; the model takes {}",
                values.len(),
                self.describe_inputs()
            )));
        }
        for (input, v) in self.inputs.iter().zip(values) {
            let len = match v {
                InputValues::Numbers(x) => x.len(),
                InputValues::Texts(x) => x.len(),
            };
            if len != n * input.width {
                return Err(fail(format!(
                    "input \"{}\" got {len} values for {n} rows of {}",
                    input.name, input.width
                )));
            }
        }
        let Some(b) = self.batch else {
            return self.run_batch(n, values, 0, n);
        };
        let mut outputs: Vec<Vec<f64>> = vec![Vec::new(); self.outputs.len()];
        let mut start = 0;
        while start < n {
            let rows = b.min(n - start);
            let part = self.run_batch(b, values, start, rows)?;
            for (out, values) in outputs.iter_mut().zip(part) {
                let width = values.len() / b.max(1);
                out.extend_from_slice(&values[..rows * width]);
            }
            start += rows;
        }
        Ok(outputs)
    }

    /// Runs one batch of `size` rows made of rows `start..start + rows` of `values` (padded
    /// with copies of the last of them up to `size`).
    fn run_batch(
        &self,
        size: usize,
        values: &[InputValues],
        start: usize,
        rows: usize,
    ) -> Result<Vec<Vec<f64>>, ExplainError> {
        let bad = |e: TractError| ExplainError::BlackBox(format!("{}: {e:#}", self.path));
        let plan = match &self.backend {
            Runner::Tract(plan) => plan,
            Runner::Forest(forest, kinds) => {
                let InputValues::Numbers(x) = &values[0] else {
                    return Err(ExplainError::BlackBox(format!(
                        "{}: a tree ensemble takes numbers",
                        self.path
                    )));
                };
                let w = self.inputs[0].width;
                let (labels, probabilities) =
                    forest.score(&x[start * w..(start + rows) * w], rows, w);
                return Ok(kinds
                    .iter()
                    .map(|k| match k {
                        ForestOutput::Label => labels.clone(),
                        ForestOutput::Probabilities => probabilities.clone(),
                    })
                    .collect());
            }
        };
        let mut tensors: TVec<TValue> = TVec::new();
        for (input, v) in self.inputs.iter().zip(values) {
            let w = input.width;
            let pick = |r: usize| start + r.min(rows.saturating_sub(1));
            let shape: Vec<usize> = if input.rank == 1 {
                vec![size]
            } else {
                vec![size, w]
            };
            let tensor = match v {
                InputValues::Numbers(x) => {
                    let mut data = Vec::with_capacity(size * w);
                    for r in 0..size {
                        let i = pick(r) * w;
                        data.extend_from_slice(&x[i..i + w]);
                    }
                    match input.datatype {
                        DatumType::F64 => Tensor::from_shape(&shape, &data),
                        DatumType::I64 => {
                            let d: Vec<i64> = data.iter().map(|x| x.round() as i64).collect();
                            Tensor::from_shape(&shape, &d)
                        }
                        DatumType::I32 => {
                            let d: Vec<i32> = data.iter().map(|x| x.round() as i32).collect();
                            Tensor::from_shape(&shape, &d)
                        }
                        DatumType::String => {
                            let d: Vec<String> = data.iter().map(|x| x.to_string()).collect();
                            tract_ndarray::Array::from_shape_vec(shape.clone(), d)
                                .map(|a| a.into_tensor())
                                .map_err(|e| TractError::msg(e.to_string()))
                        }
                        _ => {
                            let d: Vec<f32> = data.iter().map(|&x| x as f32).collect();
                            Tensor::from_shape(&shape, &d)
                        }
                    }
                }
                InputValues::Texts(x) => {
                    if input.datatype != DatumType::String {
                        return Err(ExplainError::BlackBox(format!(
                            "{}: input \"{}\" takes numbers ({:?}) but was given strings; give \
                             its fields a vocabulary in the mapping",
                            self.path, input.name, input.datatype
                        )));
                    }
                    let mut data = Vec::with_capacity(size * w);
                    for r in 0..size {
                        let i = pick(r) * w;
                        data.extend_from_slice(&x[i..i + w]);
                    }
                    tract_ndarray::Array::from_shape_vec(shape.clone(), data)
                        .map(|a| a.into_tensor())
                        .map_err(|e| TractError::msg(e.to_string()))
                }
            }
            .map_err(bad)?;
            tensors.push(tensor.into());
        }
        let outputs = plan.run(tensors).map_err(bad)?;
        outputs
            .iter()
            .zip(&self.outputs)
            .map(|(t, name)| {
                if let Ok(v) = t.to_plain_array_view::<f32>() {
                    return Ok(v.iter().map(|&x| f64::from(x)).collect());
                }
                if let Ok(v) = t.to_plain_array_view::<f64>() {
                    return Ok(v.iter().copied().collect());
                }
                // An integer output (a classifier's label) as numbers; through i64 for a
                // symbolic-dimension tensor, which casts to integers only.
                let as_f64 = |t: &Tensor| -> Option<Vec<f64>> {
                    let c = t.cast_to_dt(DatumType::F64).ok()?;
                    let v = c.to_plain_array_view::<f64>().ok()?;
                    Some(v.iter().copied().collect())
                };
                as_f64(t)
                    .or_else(|| {
                        let ints = t.cast_to_dt(DatumType::I64).ok()?;
                        as_f64(&ints)
                    })
                    .ok_or_else(|| {
                        ExplainError::BlackBox(format!(
                            "{}: output \"{name}\" is {:?}, not numbers",
                            self.path,
                            t.datum_type()
                        ))
                    })
            })
            .collect()
    }
}

/// The first node that the model's outputs need and whose operator tract does not support,
/// as one line naming the operator and the node; `None` when every operator is known.
fn unsupported_operator(model: &InferenceModel) -> Option<String> {
    let order = model.eval_order().ok()?;
    order.into_iter().find_map(|id| {
        let node = model.node(id);
        let op = node.op.name();
        let op_type = op.strip_prefix("Unimplemented(")?.strip_suffix(')')?;
        Some(format!(
            "operator {op_type} (node \"{}\") is not supported by tract, glider's ONNX runtime",
            node.name
        ))
    })
}

/// One input or output tensor of an ONNX model, as `glider inspect-onnx` prints it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TensorInfo {
    /// The tensor's name.
    pub name: String,
    /// Each dimension: its size, a symbol name, or `?` when undeclared.
    pub shape: Vec<String>,
    /// The element type (`F32`, `I64`, ...), `?` when undeclared, or `not computable here`
    /// for an output whose branch tract cannot run.
    pub datatype: String,
}

/// What an ONNX file declares, and what glider would read from it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OnnxDescription {
    /// The inputs, in the model's order.
    pub inputs: Vec<TensorInfo>,
    /// The outputs, in the model's order (a ZipMap output described by the probability
    /// tensor it is read from).
    pub outputs: Vec<TensorInfo>,
    /// The output glider reads as the score without a mapping's output name (the first of
    /// float type), if any.
    pub score_output: Option<String>,
}

impl OnnxDescription {
    /// The first input's declared width k of `[N, k]`, when declared.
    pub fn input_width(&self) -> Option<usize> {
        self.inputs
            .first()
            .and_then(|t| t.shape.get(1))
            .and_then(|k| k.parse().ok())
    }

    /// A starter `--mapping` for this model (the `single` layout of [`Mapping`]), to edit:
    /// one field `COLUMN_i` per input column (one when the width is not declared) with off
    /// 0.0, and the score output, read as a probability when its name says so (column 1 of
    /// a two-column output), else as a logit.
    pub fn starter_mapping(&self) -> serde_json::Value {
        let fields: Vec<serde_json::Value> = (1..=self.input_width().unwrap_or(1))
            .map(|i| serde_json::json!({"field": format!("COLUMN_{i}"), "off": 0.0}))
            .collect();
        let score = self.score_output.clone().unwrap_or_default();
        let two_columns = self
            .outputs
            .iter()
            .find(|o| o.name == score)
            .and_then(|o| o.shape.last())
            .is_some_and(|k| k == "2");
        let kind = if score.to_lowercase().contains("prob") {
            "probability"
        } else {
            "logit"
        };
        let mut output = serde_json::json!({"name": score, "kind": kind});
        if two_columns {
            output["column"] = 1.into();
        }
        serde_json::json!({
            "layout": "single",
            "input": self.inputs.first().map(|t| t.name.clone()).unwrap_or_default(),
            "datatype": "FP32",
            "fields": fields,
            "output": output,
        })
    }
}

/// The mapping glider uses when `--mapping` is omitted (issue 17): for a model with one
/// input tensor whose columns are `data`'s fields in order, the `single` layout with every
/// field in header order, off 0.0, and the score output of [`OnnxDescription::starter_mapping`].
/// A field that is one of `groups` (`--group`) feeds its block of one-hot columns, all zero
/// when switched off.
///
/// # Errors
/// [`ExplainError::Config`] naming the file when it cannot be described, has more than one
/// input, has no float output (an unsupported operator named with its node), or declares a
/// width that differs from the data's columns (both shapes named).
pub fn inferred_mapping(
    path: &Path,
    data: &Dataset,
    groups: &[glider_data::GroupSpec],
) -> Result<Mapping, ExplainError> {
    let d = describe(path)?;
    let name = path.display();
    if d.inputs.len() != 1 {
        return Err(ExplainError::Config(format!(
            "{name} has {} inputs ({}): glider can only infer a mapping for one input tensor; \
             give --mapping (`glider inspect-onnx {name}` prints a starter)",
            d.inputs.len(),
            d.inputs
                .iter()
                .map(|t| format!("{} [{}]", t.name, t.shape.join(", ")))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if d.score_output.is_none() {
        let model = read_model(path).map_err(|e| ExplainError::Config(format!("{name}: {e:#}")))?;
        return Err(ExplainError::Config(match unsupported_operator(&model) {
            Some(missing) => format!("{name}: {missing}"),
            None => format!(
                "{name}: no output is a float score (outputs: {}); give --mapping naming it",
                d.outputs
                    .iter()
                    .map(|o| format!("{} ({})", o.name, o.datatype))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }));
    }
    let input = &d.inputs[0];
    let blocks: Vec<Option<Vec<String>>> = (0..data.num_fields())
        .map(|f| glider_data::block_columns(data, f, groups))
        .collect();
    let columns: usize = blocks.iter().map(|b| b.as_ref().map_or(1, Vec::len)).sum();
    if let Some(k) = d.input_width() {
        if k != columns {
            let grouped = if blocks.iter().any(Option::is_some) {
                format!(" ({columns} columns with the groups' blocks)")
            } else {
                String::new()
            };
            return Err(ExplainError::Config(format!(
                "{name}: input {} is [{}], {k} columns, but {} has {} fields{grouped} ({}); give \
                 --mapping to say which field feeds which column{}",
                input.name,
                input.shape.join(", "),
                data.source,
                data.num_fields(),
                data.field_names().join(", "),
                if k > columns && groups.is_empty() {
                    ", or --group NAME=PATTERN for one-hot columns of one field"
                } else {
                    ""
                }
            )));
        }
    }
    let mut starter = d.starter_mapping();
    starter["fields"] = data
        .field_names()
        .into_iter()
        .zip(&blocks)
        .map(|(f, block)| match block {
            Some(b) => serde_json::json!({"field": f, "block": b}),
            None => serde_json::json!({"field": f, "off": 0.0}),
        })
        .collect::<Vec<_>>()
        .into();
    serde_json::from_value(starter)
        .map_err(|e| ExplainError::Config(format!("{name}: inferring a mapping: {e}")))
}

/// Describes the ONNX model at `path`: inputs, outputs and the score output.
///
/// # Errors
/// [`ExplainError::Config`] naming the file when it cannot be read or is not ONNX.
pub fn describe(path: &Path) -> Result<OnnxDescription, ExplainError> {
    let name = path.display().to_string();
    let bad = |e: TractError| ExplainError::Config(format!("{name}: {e:#}"));
    let model = read_model(path).map_err(bad)?;
    let shape_of = |fact: &InferenceFact| -> Vec<String> {
        if fact.shape.is_open() {
            return vec!["...".into()];
        }
        fact.shape
            .dims()
            .map(|d| d.concretize().map(|d| d.to_string()).unwrap_or("?".into()))
            .collect()
    };
    let mut inputs = Vec::new();
    for (i, outlet) in model.input_outlets().map_err(bad)?.iter().enumerate() {
        let fact = model.input_fact(i).map_err(bad)?;
        inputs.push(TensorInfo {
            name: model.node(outlet.node).name.clone(),
            shape: shape_of(fact),
            datatype: fact
                .datum_type
                .concretize()
                .map(|t| format!("{t:?}"))
                .unwrap_or("?".into()),
        });
    }
    // Typing needs every input dimension: undeclared ones become symbols.
    let mut typing = model.clone();
    for i in 0..inputs.len() {
        let fact = typing.input_fact(i).map_err(bad)?.clone();
        if fact.shape.is_open() {
            continue;
        }
        let dims: TVec<TDim> = fact
            .shape
            .dims()
            .enumerate()
            .map(|(j, d)| {
                d.concretize().unwrap_or_else(|| {
                    let name = if j == 0 {
                        "N".into()
                    } else {
                        format!("d{i}_{j}")
                    };
                    typing.sym(&name).to_dim()
                })
            })
            .collect();
        let dt = fact.datum_type.concretize().unwrap_or(DatumType::F32);
        typing
            .set_input_fact(i, InferenceFact::dt_shape(dt, dims))
            .map_err(bad)?;
    }
    let mut outputs = Vec::new();
    let mut score_output = None;
    for (i, &outlet) in model.output_outlets().map_err(bad)?.iter().enumerate() {
        let label = outlet_name(&model, outlet);
        let fact = typed_alone(&typing, score_source(&model, outlet));
        let datatype = match &fact {
            Some(f) => format!("{:?}", f.datum_type),
            None => "not computable here".into(),
        };
        if score_output.is_none() && is_float(fact.as_ref().map(|f| f.datum_type)) {
            score_output = Some(label.clone());
        }
        let shape = match &fact {
            Some(f) => f.shape.iter().map(|d| d.to_string()).collect(),
            None => shape_of(model.output_fact(i).map_err(bad)?),
        };
        outputs.push(TensorInfo {
            name: label,
            shape,
            datatype,
        });
    }
    Ok(OnnxDescription {
        inputs,
        outputs,
        score_output,
    })
}

/// An ONNX model as a black box.
pub struct OnnxBlackBox {
    model: OnnxModel,
    fields: MappedFields,
    /// For each model input, in the model's order, the mapping's input group feeding it.
    feeds: Vec<usize>,
    batch_rows: usize,
}

impl OnnxBlackBox {
    /// The model at `path`, fed `data`'s fields by `mapping`, in batches of `batch_rows`.
    ///
    /// The `single` layout feeds one `[n, fields]` tensor; the `per_field` layout feeds one
    /// tensor per distinct `input` name (fields naming the same input are its columns, in the
    /// mapping's order), matched to the model's inputs by name. Categorical values go to a
    /// string input as their text, and to a numeric one through the field's vocabulary (or as
    /// the number their text reads as).
    ///
    /// # Errors
    /// As [`OnnxModel::load_with`] and [`MappedFields::new`].
    pub fn new(
        path: &Path,
        mapping: Mapping,
        data: &Dataset,
        batch_rows: usize,
    ) -> Result<Self, ExplainError> {
        Self::with_runtime(path, mapping, data, batch_rows, Runtime::Best)
    }

    /// [`OnnxBlackBox::new`] on the given runtime.
    ///
    /// # Errors
    /// As [`OnnxBlackBox::new`].
    pub fn with_runtime(
        path: &Path,
        mapping: Mapping,
        data: &Dataset,
        batch_rows: usize,
        runtime: Runtime,
    ) -> Result<Self, ExplainError> {
        let wanted = mapping.output.name.clone();
        let fields = MappedFields::new(mapping, data)?;
        let choice = match &wanted {
            Some(name) => OutputChoice::Named(name),
            None => OutputChoice::FirstScore,
        };
        let widths: Vec<(String, usize)> = fields
            .groups()
            .iter()
            .map(|g| (g.name.clone(), g.width()))
            .collect();
        // Both choices keep exactly one output: the score, read from outputs[0].
        let model = OnnxModel::load_with_runtime(path, Some(&widths), choice, runtime)?;
        let feeds = if model.inputs().len() == 1 && widths.len() == 1 {
            vec![0]
        } else {
            model
                .inputs()
                .iter()
                .map(|i| widths.iter().position(|(n, _)| *n == i.name).unwrap_or(0))
                .collect()
        };
        Ok(OnnxBlackBox {
            model,
            fields,
            feeds,
            batch_rows: batch_rows.max(1),
        })
    }

    /// The values of the mapping's group `g` for `chunk`, as model input `input` takes them.
    fn input_values(
        &self,
        chunk: &[FieldValue],
        g: usize,
        input: &OnnxInput,
    ) -> Result<InputValues, ExplainError> {
        let group = &self.fields.groups()[g];
        if input.datatype == DatumType::String {
            return Ok(InputValues::Texts(
                self.fields
                    .group_values(chunk, group)?
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .collect(),
            ));
        }
        let numbers = self.fields.group_numbers(chunk, group)?;
        Ok(InputValues::Numbers(numbers))
    }
}

impl BlackBox for OnnxBlackBox {
    fn num_fields(&self) -> usize {
        self.fields.num_fields()
    }

    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        let f = self.fields.num_fields();
        check_inputs(rows, f)?;
        let mut out = Vec::with_capacity(rows.len() / f);
        for chunk in rows.chunks(f * self.batch_rows) {
            let n = chunk.len() / f;
            let values = self
                .model
                .inputs()
                .iter()
                .zip(&self.feeds)
                .map(|(input, &g)| self.input_values(chunk, g, input))
                .collect::<Result<Vec<_>, _>>()?;
            let outputs = self.model.run_inputs(n, &values)?;
            let values = outputs.first().ok_or_else(|| {
                ExplainError::BlackBox(format!("{}: the model answered no output", self.model.path))
            })?;
            out.extend(output_logits(
                values,
                n,
                &self.fields.mapping().output,
                &self.model.path,
            )?);
        }
        check_scores(&out, rows.len() / f)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(name)
    }

    /// A fixture's `NAME.json`: its input rows, row-major, and scikit-learn's probabilities.
    fn expected(name: &str) -> (Vec<f32>, Vec<f64>) {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let numbers = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let rows = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| numbers(r).into_iter().map(|x| x as f32))
            .collect();
        (rows, numbers(&json["probability"]))
    }

    /// skl2onnx's exports (scripts/make_skl2onnx_fixtures.py) declare the batch dimension as
    /// unknown; they load, and score exactly as scikit-learn's predict_proba.
    #[test]
    fn skl2onnx_exports_with_an_unknown_batch_dimension_match_scikit_learn() {
        for name in ["skl_mlp", "skl_logreg"] {
            let (rows, want) = expected(name);
            let path = fixture(&format!("{name}.onnx"));
            // The width comes from the model's declaration ([None, 6]) or the mapping.
            for width in [None, Some(6)] {
                let feeds = width.map(|w| vec![("X".to_string(), w)]);
                let model = OnnxModel::load_with(
                    &path,
                    feeds.as_deref(),
                    OutputChoice::Named("probabilities"),
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(model.input_name(), "X");
                assert_eq!(model.output_names(), ["probabilities"]);
                // Any batch size: all 16 rows, then one.
                let out = model.run(&rows, 16, 6).unwrap();
                for (i, w) in want.iter().enumerate() {
                    assert!(
                        (out[0][2 * i + 1] - w).abs() < 1e-5,
                        "{name} row {i}: {} vs scikit-learn {w}",
                        out[0][2 * i + 1]
                    );
                }
                let one = model.run(&rows[6..12], 1, 6).unwrap();
                assert!((one[0][1] - want[1]).abs() < 1e-5);
            }
            // A mapping of another width is refused, naming both shapes.
            let four = [("X".to_string(), 4)];
            let err =
                OnnxModel::load_with(&path, Some(&four), OutputChoice::Named("probabilities"))
                    .err()
                    .unwrap()
                    .to_string();
            assert!(
                err.contains("[N, 6]") && err.contains("[N, 4]"),
                "{name}: {err}"
            );
            let err = OnnxModel::load_with(&path, None, OutputChoice::Named("proba"))
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("label, probabilities"), "{name}: {err}");
            // Without a name, the score is found: the float `probabilities`, not the label.
            let model = OnnxModel::load_with(&path, None, OutputChoice::FirstScore).unwrap();
            assert_eq!(model.output_names(), ["probabilities"]);
            // All outputs, as `glider serve --onnx` loads it.
            let model = OnnxModel::load(&path).unwrap();
            assert_eq!(model.output_names(), ["label", "probabilities"]);
            // Every output as numbers (the label too), as `glider serve --onnx` answers.
            let all = model.run(&rows, 16, 6).unwrap();
            assert_eq!(all[0].len(), 16);
            for (i, w) in want.iter().enumerate() {
                assert_eq!(
                    all[0][i],
                    if *w > 0.5 { 1.0 } else { 0.0 },
                    "{name} label {i}"
                );
            }
        }
    }

    /// skl2onnx's default export ends in ZipMap (a sequence of maps, which tract cannot run):
    /// the score is read from the ZipMap's input, by the output's name or found unnamed.
    #[test]
    fn a_zipmap_output_is_read_from_its_probability_tensor() {
        let (rows, want) = expected("skl_mlp_zipmap");
        let path = fixture("skl_mlp_zipmap.onnx");
        for choice in [
            OutputChoice::FirstScore,
            OutputChoice::Named("output_probability"),
        ] {
            let model = OnnxModel::load_with(&path, None, choice).unwrap();
            assert_eq!(model.output_names(), ["output_probability"]);
            let out = model.run(&rows, 16, 6).unwrap();
            for (i, w) in want.iter().enumerate() {
                assert!((out[0][2 * i + 1] - w).abs() < 1e-5, "row {i}");
            }
        }
    }

    #[test]
    fn describe_names_inputs_outputs_and_the_score() {
        let d = describe(&fixture("skl_mlp_zipmap.onnx")).unwrap();
        assert_eq!(d.inputs.len(), 1);
        assert_eq!(d.inputs[0].name, "X");
        assert_eq!(d.inputs[0].shape[1], "6");
        assert_eq!(d.inputs[0].datatype, "F32");
        let names: Vec<&str> = d.outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["output_label", "output_probability"]);
        assert_eq!(d.outputs[1].datatype, "F32");
        assert_eq!(d.score_output.as_deref(), Some("output_probability"));
    }
}

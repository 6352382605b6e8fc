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
use crate::http::{output_logits, Layout, MappedFields, Mapping};
use crate::ExplainError;

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

/// A loaded ONNX model with one `[n, k]` float input.
pub struct OnnxModel {
    plan: Arc<TypedRunnableModel>,
    input: String,
    /// The input's element type: f32, or f64 when the model declares it.
    input_type: DatumType,
    outputs: Vec<String>,
    path: String,
}

impl OnnxModel {
    /// Loads and optimises the model at `path`, with every output it declares; the input's
    /// width must be declared by the model (see [`OnnxModel::load_with`]).
    ///
    /// # Errors
    /// As [`OnnxModel::load_with`].
    pub fn load(path: &Path) -> Result<Self, ExplainError> {
        Self::load_with(path, None, OutputChoice::All)
    }

    /// Loads and optimises the model at `path` for inputs of `[N, k]` rows, N any batch size.
    ///
    /// Converters declare the batch dimension as unknown or symbolic (skl2onnx's `[None, 6]`,
    /// `torch.onnx.export` with dynamic axes): the input's fact is set here to `[N, k]`
    /// with a symbolic N, k taken from the model's declaration where it has one and from
    /// `width` (the mapping's column count) otherwise, and the element type the model
    /// declares (f32, or f64). Unless `output` is [`OutputChoice::All`], only one output is
    /// kept, so the parts of the graph that compute the others (a classifier's integer
    /// `label` branch, which may use operators tract lacks) are dropped before optimisation.
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the file when it cannot be read, is not ONNX, has
    /// other than one input, declares an input that is not a 2-D float tensor, declares a
    /// width other than `width` (both shapes named), has no known width, has no output
    /// `output` (or, for [`OutputChoice::FirstScore`], no float output; the outputs and
    /// their types named), or uses an operator tract does not support.
    pub fn load_with(
        path: &Path,
        width: Option<usize>,
        output: OutputChoice<'_>,
    ) -> Result<Self, ExplainError> {
        let name = path.display().to_string();
        let bad = |e: TractError| ExplainError::Config(format!("{name}: {e:#}"));
        let config = |m: String| ExplainError::Config(format!("{name}: {m}"));
        let mut model = tract_onnx::onnx().model_for_path(path).map_err(bad)?;
        let inputs = model.input_outlets().map_err(bad)?.to_vec();
        if inputs.len() != 1 {
            return Err(config(format!(
                "the model has {} inputs; glider feeds ONNX models one [n, fields] tensor",
                inputs.len()
            )));
        }
        let input = model.node(inputs[0].node).name.clone();
        let declared = model.input_fact(0).map_err(bad)?.clone();
        let input_type = match declared.datum_type.concretize() {
            None | Some(DatumType::F32) => DatumType::F32,
            Some(DatumType::F64) => DatumType::F64,
            Some(other) => {
                return Err(config(format!(
                    "input \"{input}\" is declared as {other:?}; glider feeds a float32 or \
                     float64 [n, fields] tensor"
                )))
            }
        };
        let dims: Vec<Option<usize>> = declared
            .shape
            .dims()
            .map(|d| {
                d.concretize()
                    .and_then(|d| d.as_i64())
                    .and_then(|d| usize::try_from(d).ok())
            })
            .collect();
        let rank_known = !declared.shape.is_open();
        if rank_known && dims.len() != 2 {
            return Err(config(format!(
                "input \"{input}\" has {} dimensions; glider feeds one [n, fields] tensor",
                dims.len()
            )));
        }
        let declared_width = if rank_known { dims[1] } else { None };
        let k = match (declared_width, width) {
            (Some(a), Some(b)) if a != b => {
                return Err(config(format!(
                    "the model's input \"{input}\" is [N, {a}] but the mapping gives [N, {b}] \
                     ({b} fields)"
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
        let batch = model.sym("N");
        model
            .set_input_fact(
                0,
                InferenceFact::dt_shape(input_type, tvec![batch.to_dim(), k.to_dim()]),
            )
            .map_err(bad)?;
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
                    config(format!(
                        "no output is a float score (outputs: {}); name the score in the \
                         mapping's \"output\": {{\"name\": ...}}",
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
        let typed = model.into_optimized().map_err(bad)?;
        let plan = typed.into_runnable().map_err(bad)?;
        Ok(OnnxModel {
            plan,
            input,
            input_type,
            outputs,
            path: name,
        })
    }

    /// The input tensor's name.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    /// The outputs' names, in the model's order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Runs the model on the row-major `[n, k]` matrix `input`; returns every output's
    /// values, row-major, as f64.
    ///
    /// # Errors
    /// [`ExplainError::BlackBox`] naming the file when tract fails (a width the model does not
    /// take, say) or an output is not numbers (integer outputs are answered as f64).
    pub fn run(&self, input: &[f32], n: usize, k: usize) -> Result<Vec<Vec<f64>>, ExplainError> {
        let bad = |e: TractError| ExplainError::BlackBox(format!("{}: {e:#}", self.path));
        let mut tensor = Tensor::from_shape(&[n, k], input).map_err(bad)?;
        if self.input_type != DatumType::F32 {
            tensor = tensor
                .cast_to_dt(self.input_type)
                .map_err(bad)?
                .into_owned();
        }
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(bad)?;
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
///
/// # Errors
/// [`ExplainError::Config`] naming the file when it cannot be described, has more than one
/// input, or declares a width that differs from the data's field count (both shapes named).
pub fn inferred_mapping(path: &Path, data: &Dataset) -> Result<Mapping, ExplainError> {
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
    let input = &d.inputs[0];
    if let Some(k) = d.input_width() {
        if k != data.num_fields() {
            return Err(ExplainError::Config(format!(
                "{name}: input {} is [{}], {k} columns, but {} has {} fields ({}); give --mapping \
                 to say which field feeds which column",
                input.name,
                input.shape.join(", "),
                data.source,
                data.num_fields(),
                data.field_names().join(", ")
            )));
        }
    }
    let mut starter = d.starter_mapping();
    starter["fields"] = data
        .field_names()
        .into_iter()
        .map(|f| serde_json::json!({"field": f, "off": 0.0}))
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
    let model = tract_onnx::onnx().model_for_path(path).map_err(bad)?;
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
    batch_rows: usize,
}

impl OnnxBlackBox {
    /// The model at `path`, fed `data`'s fields by `mapping` (`single` layout, numbers), in
    /// batches of `batch_rows`.
    ///
    /// # Errors
    /// As [`OnnxModel::load`] and [`MappedFields::new`]; a mapping that is not `single` or
    /// names an output the model does not have.
    pub fn new(
        path: &Path,
        mapping: Mapping,
        data: &Dataset,
        batch_rows: usize,
    ) -> Result<Self, ExplainError> {
        if mapping.layout != Layout::Single {
            return Err(ExplainError::Config(
                "an ONNX black box takes one tensor: use \"layout\": \"single\" in the mapping"
                    .into(),
            ));
        }
        let wanted = mapping.output.name.clone();
        let fields = MappedFields::new(mapping, data)?;
        let choice = match &wanted {
            Some(name) => OutputChoice::Named(name),
            None => OutputChoice::FirstScore,
        };
        // Both choices keep exactly one output: the score, read from outputs[0].
        let model = OnnxModel::load_with(path, Some(fields.width()), choice)?;
        Ok(OnnxBlackBox {
            model,
            fields,
            batch_rows: batch_rows.max(1),
        })
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
            let input = self.fields.numbers(chunk)?;
            let outputs = self.model.run(&input, n, self.fields.width())?;
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
                let model =
                    OnnxModel::load_with(&path, width, OutputChoice::Named("probabilities"))
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
            let err = OnnxModel::load_with(&path, Some(4), OutputChoice::Named("probabilities"))
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

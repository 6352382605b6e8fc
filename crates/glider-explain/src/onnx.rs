//! An ONNX model as a GLIDER black box, run in-process with tract (cargo feature `onnx`).
//!
//! The model takes one numeric tensor `[n, k]` (the mapped fields as columns, see
//! [`crate::http::Mapping`] with the `single` layout) and answers one or more outputs; the
//! mapping's output spec picks the score (by name, column, logit or probability).

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use glider_data::{Dataset, FieldValue};

use crate::blackbox::{check_inputs, check_scores, BlackBox};
use crate::http::{output_logits, Layout, MappedFields, Mapping};
use crate::ExplainError;

/// A loaded ONNX model with one `[n, k]` float input.
pub struct OnnxModel {
    plan: Arc<TypedRunnableModel>,
    input: String,
    outputs: Vec<String>,
    path: String,
}

impl OnnxModel {
    /// Loads and optimises the model at `path`.
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the file when it cannot be read, is not ONNX, has
    /// other than one input, or uses an operator tract does not support.
    pub fn load(path: &Path) -> Result<Self, ExplainError> {
        let name = path.display().to_string();
        let bad = |e: TractError| ExplainError::Config(format!("{name}: {e:#}"));
        let model = tract_onnx::onnx().model_for_path(path).map_err(bad)?;
        let typed = model.into_optimized().map_err(bad)?;
        let inputs = typed.input_outlets().map_err(bad)?.to_vec();
        if inputs.len() != 1 {
            return Err(ExplainError::Config(format!(
                "{name}: the model has {} inputs; glider feeds ONNX models one [n, fields] tensor",
                inputs.len()
            )));
        }
        let input = typed.node(inputs[0].node).name.clone();
        let outputs = typed
            .output_outlets()
            .map_err(bad)?
            .iter()
            .map(|o| {
                typed
                    .outlet_label(*o)
                    .map(str::to_string)
                    .unwrap_or_else(|| typed.node(o.node).name.clone())
            })
            .collect();
        let plan = typed.into_runnable().map_err(bad)?;
        Ok(OnnxModel {
            plan,
            input,
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
    /// take, say) or an output is not a float tensor.
    pub fn run(&self, input: &[f32], n: usize, k: usize) -> Result<Vec<Vec<f64>>, ExplainError> {
        let bad = |e: TractError| ExplainError::BlackBox(format!("{}: {e:#}", self.path));
        let tensor = Tensor::from_shape(&[n, k], input).map_err(bad)?;
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(bad)?;
        outputs
            .iter()
            .map(|t| {
                if let Ok(v) = t.to_plain_array_view::<f32>() {
                    Ok(v.iter().map(|&x| f64::from(x)).collect())
                } else {
                    t.to_plain_array_view::<f64>()
                        .map(|v| v.iter().copied().collect())
                        .map_err(bad)
                }
            })
            .collect()
    }
}

/// An ONNX model as a black box.
pub struct OnnxBlackBox {
    model: OnnxModel,
    fields: MappedFields,
    output: usize,
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
        let model = OnnxModel::load(path)?;
        let output = match &mapping.output.name {
            Some(name) => model
                .outputs
                .iter()
                .position(|o| o == name)
                .ok_or_else(|| {
                    ExplainError::Config(format!(
                        "{}: no output named {name:?} (outputs: {})",
                        model.path,
                        model.outputs.join(", ")
                    ))
                })?,
            None => 0,
        };
        Ok(OnnxBlackBox {
            model,
            fields: MappedFields::new(mapping, data)?,
            output,
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
            let values = outputs.get(self.output).ok_or_else(|| {
                ExplainError::BlackBox(format!(
                    "{}: the model answered no output {}",
                    self.model.path, self.output
                ))
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

//! The black-box interface GLIDER explains: anything that maps rows of field values to
//! click logits. GLIDER never knows which model is behind it.

use glider_data::{EncodedBatch, FieldValue};
use glider_nn::ctr::Recommender;

use crate::ExplainError;

/// A model to explain.
pub trait BlackBox: Send + Sync {
    /// Number of fields of a row.
    fn num_fields(&self) -> usize;

    /// Logits `ln(p / (1 - p))` of the click probability, one per row; `rows` holds
    /// `n * num_fields()` values, row-major. A switched-off field is [`FieldValue::Off`]
    /// (spec 3.1), which an adapter without a neutral input of its own treats as missing.
    ///
    /// # Errors
    /// [`ExplainError::BlackBox`] when the model fails or answers with the wrong number of
    /// scores or a non-finite one.
    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError>;
}

/// A glider-trained recommender as a black box.
pub struct ModelBlackBox<'a> {
    model: &'a dyn Recommender,
}

impl<'a> ModelBlackBox<'a> {
    /// Wraps a trained model.
    pub fn new(model: &'a dyn Recommender) -> Self {
        ModelBlackBox { model }
    }
}

impl BlackBox for ModelBlackBox<'_> {
    fn num_fields(&self) -> usize {
        self.model.encoder().num_fields()
    }

    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        let f = self.num_fields();
        check_inputs(rows, f)?;
        let encoder = self.model.encoder();
        let mut batch = EncodedBatch {
            num_fields: f,
            rows: Vec::with_capacity(rows.len()),
            scales: Vec::with_capacity(rows.len()),
        };
        for row in rows.chunks(f) {
            encoder.encode_into(row, &mut batch);
        }
        let out = self
            .model
            .predict_logits(&batch)
            .map_err(|e| ExplainError::BlackBox(e.to_string()))?;
        check_scores(&out, rows.len() / f)?;
        Ok(out)
    }
}

/// Checks a black box's input: a whole number of rows of `num_fields` values, and no
/// infinite dense value (NaN is a dense field switched off, spec 3.1; an infinity is no value).
/// Every adapter calls it before it asks its model.
///
/// # Errors
/// [`ExplainError::BlackBox`] naming the row and field.
pub fn check_inputs(rows: &[FieldValue], num_fields: usize) -> Result<(), ExplainError> {
    if num_fields == 0 || !rows.len().is_multiple_of(num_fields) {
        return Err(ExplainError::BlackBox(format!(
            "{} values is not a whole number of rows of {num_fields} fields",
            rows.len()
        )));
    }
    if let Some(k) = rows
        .iter()
        .position(|v| matches!(v, FieldValue::Dense(d) if d.is_infinite()))
    {
        return Err(ExplainError::BlackBox(format!(
            "row {}, field {}: the dense value is infinite (NaN switches a field off; an \
             infinity is not a value)",
            k / num_fields,
            k % num_fields
        )));
    }
    Ok(())
}

/// Checks a black box's answer: one finite score per row.
///
/// # Errors
/// [`ExplainError::BlackBox`] naming what is wrong.
pub fn check_scores(scores: &[f32], rows: usize) -> Result<(), ExplainError> {
    if scores.len() != rows {
        return Err(ExplainError::BlackBox(format!(
            "asked for {rows} scores, got {}",
            scores.len()
        )));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(ExplainError::BlackBox(format!(
            "score {i} of {rows} is {}",
            scores[i]
        )));
    }
    Ok(())
}

/// An A-function of [`glider_core::local_functions`] behind the black-box interface, for
/// scoring local detectors against known truth: a field that is on is `+1` (the explained
/// input), a switched-off (missing) field is `−1` (the baseline).
pub struct FunctionBox(pub glider_core::local_functions::LocalFunction);

impl BlackBox for FunctionBox {
    fn num_fields(&self) -> usize {
        glider_core::local_functions::NUM_FEATURES
    }

    fn logits(&self, rows: &[FieldValue]) -> Result<Vec<f32>, ExplainError> {
        let f = self.num_fields();
        check_inputs(rows, f)?;
        let out: Vec<f32> = rows
            .chunks(f)
            .map(|r| {
                let x: Vec<f64> = r
                    .iter()
                    .map(|v| if v.is_missing_or_off() { -1.0 } else { 1.0 })
                    .collect();
                self.0.eval(&x) as f32
            })
            .collect();
        check_scores(&out, rows.len() / f)?;
        Ok(out)
    }
}

//! The one training loop shared by every recommender, and the trained model's prediction.
//!
//! Input: a [`Dataset`] with its [`InputEncoder`]. Each step gathers the batch's embedding
//! rows (scaled) into a `[batch, fields, dim]` tensor that autodiff tracks, runs the model's
//! dense part in burn, applies burn's optimiser to the dense parameters and the lazy sparse
//! optimiser ([`EmbeddingTable::step`]) to the touched embedding rows. Loss: binary
//! cross-entropy on the logit. Early stopping on validation logloss, best weights restored.

use std::path::Path;
use std::time::Instant;

use burn::optim::{AdaGradConfig, AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use glider_core::metrics::{logloss, roc_auc};
use glider_data::{Dataset, EncodedBatch, InputEncoder, Progress};

use crate::models::{with_net_type, BuildNet, MapTensors};
use crate::sparse::{gather_scaled, EmbeddingTable, OptimizerKind};
use crate::store::{load_parameters, named_parameters, read_safetensors, write_safetensors, Named};
use crate::{to_vec, NnError};

pub use crate::models::{CtrNet, ModelKind};
pub use crate::params::CtrParams;

/// True when training was ended by its epoch cap rather than by early stopping: the best
/// epoch (1-based) is the last one allowed, `max_epochs`.
pub fn ended_at_cap(best_epoch: usize, max_epochs: usize) -> bool {
    max_epochs > 0 && best_epoch >= max_epochs
}

/// The warning to show when [`ended_at_cap`]: the text names the model and suggests a
/// larger `--epochs`.
pub fn epoch_cap_warning(model: &str, best_epoch: usize, max_epochs: usize) -> Option<String> {
    ended_at_cap(best_epoch, max_epochs).then(|| {
        format!(
            "note: {model}'s best epoch is the last allowed ({best_epoch} of --epochs \
             {max_epochs}): validation logloss was still falling, so the model may not have \
             converged; try --epochs {}",
            max_epochs * 2
        )
    })
}

/// One epoch of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_logloss: f64,
    /// Validation logloss after the epoch.
    pub validation_logloss: f64,
    /// Validation ROC-AUC after the epoch (`None` when one class is absent).
    pub validation_auc: Option<f64>,
}

/// A trained recommender: what the black-box adapter and the evaluation need.
pub trait Recommender: Send + Sync {
    /// The architecture.
    fn kind(&self) -> ModelKind;
    /// The encoder the model was trained with.
    fn encoder(&self) -> &InputEncoder;
    /// Logits for every row of `batch`.
    ///
    /// # Errors
    /// [`NnError::Shape`] when the batch has the wrong number of fields.
    fn predict_logits(&self, batch: &EncodedBatch) -> Result<Vec<f32>, NnError>;
    /// The training history (one record per epoch run).
    fn history(&self) -> &[EpochRecord];
    /// The model's own interaction maps (spec 4) averaged over the rows of `batch`; `None`
    /// for architectures without attention or bilinear maps.
    ///
    /// # Errors
    /// [`NnError::Shape`] for a batch with the wrong number of fields or no rows.
    fn interaction_maps(&self, batch: &EncodedBatch) -> Result<Option<InteractionMaps>, NnError>;
    /// The epoch whose weights were kept.
    fn best_epoch(&self) -> usize;
    /// Every weight by name (`embedding` and the dense part's parameter paths).
    ///
    /// # Errors
    /// [`NnError::Tensor`] when a tensor cannot be read back.
    fn named_tensors(&self) -> Result<Vec<(String, Named)>, NnError>;
    /// Writes the weights as safetensors (atomically).
    ///
    /// # Errors
    /// [`NnError::Tensor`] naming the file.
    fn save_weights(&self, path: &Path) -> Result<(), NnError> {
        write_safetensors(path, &self.named_tensors()?)
    }
}

/// A field-by-field map of a model's own (ante-hoc) interaction evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldMap {
    /// What the map is, e.g. `"layer 1, head 2"`.
    pub name: String,
    /// `fields × fields` values, row-major, averaged over the sample.
    pub values: Vec<f64>,
}

/// A per-field weight vector (SENET weights, InterHAt's attention of one order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldWeights {
    /// What the weights are.
    pub name: String,
    /// One value per field, averaged over the sample.
    pub values: Vec<f64>,
}

/// A model's interaction maps averaged over a sample of rows (spec 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InteractionMaps {
    /// The architecture.
    pub model: ModelKind,
    /// Rows averaged over.
    pub rows: usize,
    /// Number of fields (the maps are `fields × fields`).
    pub fields: usize,
    /// The raw maps (attention per layer and head, bilinear magnitudes).
    pub maps: Vec<FieldMap>,
    /// Per-field weights.
    pub field_weights: Vec<FieldWeights>,
    /// The symmetric pair score that ranks field pairs, `fields × fields`, row-major.
    pub pair_scores: Vec<f64>,
    /// How `pair_scores` is made.
    pub rule: String,
}

impl InteractionMaps {
    /// Field pairs `(i, j)`, `i < j`, by pair score, strongest first (ties: lower `i`, then
    /// lower `j`).
    pub fn ranked_pairs(&self) -> Vec<(usize, usize, f64)> {
        let f = self.fields;
        let mut out = Vec::with_capacity(f * f.saturating_sub(1) / 2);
        for i in 0..f {
            for j in i + 1..f {
                out.push((i, j, self.pair_scores[i * f + j]));
            }
        }
        out.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        out
    }
}

fn maps_with<N: CtrNet>(
    kind: ModelKind,
    net: &N,
    table: &[f32],
    dim: usize,
    batch: &EncodedBatch,
    device: &Device,
) -> Result<Option<InteractionMaps>, NnError> {
    let f = batch.num_fields;
    let n = batch.len();
    if f == 0 || n == 0 {
        return Err(NnError::Shape(format!(
            "interaction maps need rows and fields; the batch has {n} rows and {f} fields"
        )));
    }
    let mut acc: Option<InteractionMaps> = None;
    let mut buf = Vec::new();
    let add = |into: &mut [f64], t: Vec<f32>, width: usize| {
        for (i, v) in t.iter().enumerate() {
            into[i % width] += *v as f64;
        }
    };
    for start in (0..n).step_by(PREDICT_CHUNK) {
        let end = (start + PREDICT_CHUNK).min(n);
        gather_scaled(
            table,
            dim,
            &batch.rows[start * f..end * f],
            &batch.scales[start * f..end * f],
            &mut buf,
        )?;
        let e = Tensor::<3>::from_data(
            TensorData::new(std::mem::take(&mut buf), [end - start, f, dim]),
            device,
        );
        let Some(MapTensors {
            maps,
            field_weights,
            pair_scores,
            rule,
        }) = net.interaction_maps(e)
        else {
            return Ok(None);
        };
        let a = acc.get_or_insert_with(|| InteractionMaps {
            model: kind,
            rows: n,
            fields: f,
            maps: maps
                .iter()
                .map(|(name, _)| FieldMap {
                    name: name.clone(),
                    values: vec![0.0; f * f],
                })
                .collect(),
            field_weights: field_weights
                .iter()
                .map(|(name, _)| FieldWeights {
                    name: name.clone(),
                    values: vec![0.0; f],
                })
                .collect(),
            pair_scores: vec![0.0; f * f],
            rule: rule.to_string(),
        });
        for (slot, (_, t)) in a.maps.iter_mut().zip(maps) {
            add(&mut slot.values, to_vec(t)?, f * f);
        }
        for (slot, (_, t)) in a.field_weights.iter_mut().zip(field_weights) {
            let w = t.dims()[1];
            if slot.values.len() != w {
                slot.values.resize(w, 0.0);
            }
            add(&mut slot.values, to_vec(t)?, w);
        }
        add(&mut a.pair_scores, to_vec(pair_scores)?, f * f);
    }
    if let Some(a) = acc.as_mut() {
        let scale = 1.0 / n as f64;
        for v in a
            .maps
            .iter_mut()
            .flat_map(|m| m.values.iter_mut())
            .chain(a.field_weights.iter_mut().flat_map(|m| m.values.iter_mut()))
            .chain(a.pair_scores.iter_mut())
        {
            *v *= scale;
        }
    }
    Ok(acc)
}

/// A trained model: dense part, embedding table and encoder.
#[derive(Debug)]
pub struct CtrModel<N: CtrNet> {
    kind: ModelKind,
    net: N,
    table: Vec<f32>,
    dim: usize,
    encoder: InputEncoder,
    history: Vec<EpochRecord>,
    best_epoch: usize,
    fast: FastPredictor,
}

/// Hand-written forward passes ([`crate::fast_ctr::FastNet`]) for prediction, built from the
/// model's weights on first use (the weights never change after), one copy per concurrent
/// caller so that each keeps its buffers: GLIDER's perturbation queries and the cut-off's
/// pure-effect queries come from every worker thread at once. Several times faster than
/// burn's forward on batches of a few thousand rows (no allocation per operation); equal to
/// it to rounding (`models/checks.rs`).
#[derive(Default)]
struct FastPredictor {
    /// The first copy, or `None` for architectures without hand-written passes.
    template: std::sync::OnceLock<Option<crate::fast_ctr::FastNet>>,
    /// Copies not in use.
    idle: std::sync::Mutex<Vec<crate::fast_ctr::FastNet>>,
}

impl std::fmt::Debug for FastPredictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self.template.get().is_some_and(Option::is_some);
        f.debug_struct("FastPredictor")
            .field("built", &built)
            .finish()
    }
}

impl<N: CtrNet> CtrModel<N> {
    /// Logits from the hand-written forward pass, `None` when this architecture has none.
    fn predict_fast_pooled(&self, batch: &EncodedBatch) -> Result<Option<Vec<f32>>, NnError> {
        if !crate::fast_ctr::FastNet::supports(self.kind) {
            return Ok(None);
        }
        let template = self.fast.template.get_or_init(|| {
            let named = crate::store::named_parameters(&self.net).ok()?;
            crate::fast_ctr::FastNet::from_named(
                self.kind,
                self.encoder.num_fields(),
                self.dim,
                self.net.attention_heads(),
                named,
            )
            .ok()
        });
        let Some(template) = template else {
            return Ok(None);
        };
        let mut net = match self.fast.idle.lock() {
            Ok(mut idle) => idle.pop(),
            Err(_) => None,
        }
        .unwrap_or_else(|| template.clone());
        let out = predict_fast(&mut net, &self.table, self.dim, batch, POOLED_CHUNK);
        if let Ok(mut idle) = self.fast.idle.lock() {
            idle.push(net);
        }
        out.map(Some)
    }
}

const PREDICT_CHUNK: usize = 8192;

/// Rows per forward pass of a pooled [`FastPredictor`] copy: its buffers stay allocated for
/// the model's lifetime (AutoInt's attention keeps `[rows·F, 4A]` f32 per layer: 82 MB a
/// layer at 39 fields and A = 64 for 2,048 rows, against 327 MB for 8,192), and 2,048 rows
/// already keep the products at the gemm crate's full rate.
const POOLED_CHUNK: usize = 2048;

fn predict_with<N: CtrNet>(
    net: &N,
    table: &[f32],
    dim: usize,
    batch: &EncodedBatch,
    device: &Device,
) -> Result<Vec<f32>, NnError> {
    let f = batch.num_fields;
    if f == 0 {
        return Err(NnError::Shape("a batch with zero fields".into()));
    }
    let n = batch.len();
    let mut out = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for start in (0..n).step_by(PREDICT_CHUNK) {
        let end = (start + PREDICT_CHUNK).min(n);
        let rows = &batch.rows[start * f..end * f];
        let scales = &batch.scales[start * f..end * f];
        gather_scaled(table, dim, rows, scales, &mut buf)?;
        let e = Tensor::<3>::from_data(
            TensorData::new(std::mem::take(&mut buf), [end - start, f, dim]),
            device,
        );
        out.extend(to_vec(net.forward(e))?);
    }
    Ok(out)
}

/// Checks an encoded batch against a model before it is used: as many scales as cells, a
/// whole number of rows, every embedding row inside the table of `table_rows` rows, and
/// every scale finite (a dense value of ±inf or NaN that reached the model).
///
/// # Errors
/// [`NnError::Shape`] for the first two, [`NnError::Input`] naming the row and field for the
/// others.
pub fn check_batch(batch: &EncodedBatch, table_rows: usize) -> Result<(), NnError> {
    let f = batch.num_fields.max(1);
    if batch.rows.len() != batch.scales.len() || !batch.rows.len().is_multiple_of(f) {
        return Err(NnError::Shape(format!(
            "an encoded batch of {} ids and {} scales is not whole rows of {} fields",
            batch.rows.len(),
            batch.scales.len(),
            batch.num_fields
        )));
    }
    for (k, (&row, &scale)) in batch.rows.iter().zip(&batch.scales).enumerate() {
        if row as usize >= table_rows {
            return Err(NnError::Input(format!(
                "row {}, field {}: embedding id {row} is outside the table of {table_rows} rows",
                k / f,
                k % f
            )));
        }
        if !scale.is_finite() {
            return Err(NnError::Input(format!(
                "row {}, field {}: the value's scale is {scale} (an infinite or NaN dense value)",
                k / f,
                k % f
            )));
        }
    }
    Ok(())
}

impl<N: CtrNet> Recommender for CtrModel<N>
where
    N: Send,
{
    fn kind(&self) -> ModelKind {
        self.kind
    }

    fn encoder(&self) -> &InputEncoder {
        &self.encoder
    }

    fn predict_logits(&self, batch: &EncodedBatch) -> Result<Vec<f32>, NnError> {
        if batch.num_fields != self.encoder.num_fields() && !batch.is_empty() {
            return Err(NnError::Shape(format!(
                "the model has {} fields, the batch {}",
                self.encoder.num_fields(),
                batch.num_fields
            )));
        }
        check_batch(batch, self.table.len() / self.dim.max(1))?;
        if batch.num_fields > 0 {
            if let Some(out) = self.predict_fast_pooled(batch)? {
                return Ok(out);
            }
        }
        predict_with(&self.net, &self.table, self.dim, batch, &crate::cpu())
    }

    fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    fn interaction_maps(&self, batch: &EncodedBatch) -> Result<Option<InteractionMaps>, NnError> {
        if batch.num_fields != self.encoder.num_fields() {
            return Err(NnError::Shape(format!(
                "the model has {} fields, the batch {}",
                self.encoder.num_fields(),
                batch.num_fields
            )));
        }
        check_batch(batch, self.table.len() / self.dim.max(1))?;
        maps_with(
            self.kind,
            &self.net,
            &self.table,
            self.dim,
            batch,
            &crate::cpu(),
        )
    }

    fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    fn named_tensors(&self) -> Result<Vec<(String, Named)>, NnError> {
        let mut out = named_parameters(&self.net)?;
        out.push((
            "embedding".to_string(),
            (vec![self.encoder.table_rows, self.dim], self.table.clone()),
        ));
        Ok(out)
    }
}

/// Loads a model saved with [`Recommender::save_weights`]: the architecture, its settings and
/// the encoder must be those it was trained with (model.json holds them).
///
/// # Errors
/// [`NnError::Tensor`] for an unreadable file, [`NnError::Shape`] naming the tensor when the
/// file does not fit the architecture (another model's weights).
pub fn load(
    kind: ModelKind,
    params: &CtrParams,
    encoder: InputEncoder,
    path: &Path,
) -> Result<Box<dyn Recommender>, NnError> {
    let mut tensors = read_safetensors(path)?;
    let device = crate::cpu();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let dim = kind.embedding_width(params.embedding_dim);
    let (shape, table) = tensors
        .remove("embedding")
        .ok_or_else(|| NnError::Shape(format!("{}: no embedding tensor", path.display())))?;
    if shape != [encoder.table_rows, dim] {
        return Err(NnError::Shape(format!(
            "{}: embedding is {shape:?}, the model's vocabulary needs [{}, {dim}]",
            path.display(),
            encoder.table_rows
        )));
    }
    check_fields(kind, encoder.num_fields())?;
    with_net_type!(kind, T => {
        let net = T::build(kind, encoder.num_fields(), params, &mut rng, &device);
        let net = load_parameters(net, &tensors)
            .map_err(|e| NnError::Shape(format!("{}: {e}", path.display())))?;
        Ok(Box::new(CtrModel {
            kind,
            net,
            table,
            dim,
            encoder,
            history: Vec::new(),
            best_epoch: 0,
            fast: FastPredictor::default(),
        }))
    })
}

fn check_fields(kind: ModelKind, fields: usize) -> Result<(), NnError> {
    if fields < kind.min_fields() {
        return Err(NnError::Shape(format!(
            "{kind} needs at least {} fields, the data has {fields}",
            kind.min_fields()
        )));
    }
    Ok(())
}

/// Mean binary cross-entropy of logits `z` against 0/1 targets `y`, computed stably as
/// `relu(z) − z·y + ln(1 + e^{−|z|})`.
pub fn bce_with_logits(z: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let stable = z.clone().abs().neg().exp().log1p();
    (relu(z.clone()) - z * y + stable).mean()
}

/// Logloss (of the sigmoid probabilities) and ROC-AUC of logits against 0/1 labels; `None`
/// where the metric is undefined (no rows; one class for the AUC).
pub fn logit_metrics(labels: &[f32], logits: &[f32]) -> (Option<f64>, Option<f64>) {
    let probs: Vec<f32> = logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
    (logloss(labels, &probs), roc_auc(labels, logits))
}

/// Trains a recommender of architecture `kind` on `train_rows` of `data`, early-stopping on
/// `validation_rows`.
///
/// # Errors
/// [`NnError::NotEnoughData`] for an empty training or validation part,
/// [`NnError::Diverged`] when the loss becomes non-finite.
#[allow(clippy::too_many_arguments)]
pub fn train(
    kind: ModelKind,
    data: &Dataset,
    train_rows: &[usize],
    validation_rows: &[usize],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Box<dyn Recommender>, NnError> {
    train_from(
        kind,
        data,
        train_rows,
        validation_rows,
        encoder,
        params,
        seed,
        progress,
        None,
    )
}

/// [`train`] starting from a trained model of the same architecture instead of a fresh
/// initialisation (fine-tuning; glider's addition to spec 3.3, issue 15): `from` was trained
/// on the data's first fields with the same encoding, and `encoder` may add fields after them
/// (the cross features). The new model starts as `from` exactly: the added fields' embedding
/// rows start at zero (so the DNN's input weights of those fields, freshly initialised, add
/// nothing yet), and the weights `from` had are kept (epoch 0) unless an epoch lowers the
/// validation logloss. With `freeze_base` only the added fields' embedding rows train:
/// `from`'s weights stay as they are, and the crosses act through the first-order and FM
/// terms (the DNN's input weights of the added fields are zero).
///
/// Supported for the architectures whose dense part sees the fields only through a DNN over
/// the concatenated factors ([`supports_warm_start`]: LR, FM, Wide&Deep, DeepFM).
///
/// # Errors
/// As [`train`]; [`NnError::Shape`] when `from` is another architecture, is not supported,
/// or its encoder is not the prefix of `encoder`.
#[allow(clippy::too_many_arguments)]
pub fn fine_tune(
    kind: ModelKind,
    data: &Dataset,
    train_rows: &[usize],
    validation_rows: &[usize],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
    from: &dyn Recommender,
    freeze_base: bool,
) -> Result<Box<dyn Recommender>, NnError> {
    train_from(
        kind,
        data,
        train_rows,
        validation_rows,
        encoder,
        params,
        seed,
        progress,
        Some((from, freeze_base)),
    )
}

/// [`train`] (`from` = `None`) or [`fine_tune`] (`Some((model, freeze_base))`), for a caller
/// that decides per model.
///
/// # Errors
/// As [`train`] and [`fine_tune`].
#[allow(clippy::too_many_arguments)]
pub fn train_from(
    kind: ModelKind,
    data: &Dataset,
    train_rows: &[usize],
    validation_rows: &[usize],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
    from: Option<(&dyn Recommender, bool)>,
) -> Result<Box<dyn Recommender>, NnError> {
    if train_rows.is_empty() || validation_rows.is_empty() {
        return Err(NnError::NotEnoughData(format!(
            "{} training and {} validation rows; both must be non-empty",
            train_rows.len(),
            validation_rows.len()
        )));
    }
    for &r in train_rows.iter().chain(validation_rows) {
        let y = data.labels.get(r).copied().unwrap_or(f32::NAN);
        if y != 0.0 && y != 1.0 {
            return Err(NnError::Input(format!(
                "{}: row {r} has label {y}; a click model needs labels 0 or 1",
                data.source
            )));
        }
    }
    let mut source = InMemoryRows::new(
        encoder.encode_rows(data, train_rows),
        train_rows.iter().map(|&r| data.labels[r]).collect(),
    );
    let val_batch = encoder.encode_rows(data, validation_rows);
    let val_labels: Vec<f32> = validation_rows.iter().map(|&r| data.labels[r]).collect();
    train_rows_inner(
        kind,
        &mut source,
        &val_batch,
        &val_labels,
        encoder,
        params,
        seed,
        progress,
        Engine::Auto,
        from,
    )
}

/// Whether [`fine_tune`] can start `kind` from a model trained without the added fields:
/// LR, FM, Wide&Deep and DeepFM.
pub fn supports_warm_start(kind: ModelKind) -> bool {
    matches!(
        kind,
        ModelKind::Lr | ModelKind::Fm | ModelKind::WideDeep | ModelKind::DeepFm
    )
}

/// The starting point of a fine-tuning run: the base model's embedding rows (the first rows
/// of the new table) and its dense weights grown to the new field count.
struct WarmStart {
    table: Vec<f32>,
    dense: std::collections::HashMap<String, Named>,
    /// Fields of the base model: with `freeze_base`, their cells get no gradient.
    base_fields: usize,
    freeze_base: bool,
}

impl WarmStart {
    /// `fresh`: the new network's freshly initialised parameters; `dim`: the embedding width.
    fn new(
        kind: ModelKind,
        from: &dyn Recommender,
        freeze_base: bool,
        encoder: &InputEncoder,
        dim: usize,
        fresh: Vec<(String, Named)>,
    ) -> Result<Self, NnError> {
        if from.kind() != kind || !supports_warm_start(kind) {
            return Err(NnError::Shape(format!(
                "cannot fine-tune {kind} from a {} model (fine-tuning supports lr, fm, wdl \
                 and deepfm, from the same architecture)",
                from.kind()
            )));
        }
        let base = from.encoder();
        let (f0, f) = (base.num_fields(), encoder.num_fields());
        if f0 == 0 || f0 > f || base.fields[..] != encoder.fields[..f0] {
            return Err(NnError::Shape(
                "cannot fine-tune: the model's fields are not the first fields of the new \
                 encoding"
                    .into(),
            ));
        }
        let mut old: std::collections::HashMap<String, Named> =
            from.named_tensors()?.into_iter().collect();
        let (table_shape, table) = old
            .remove("embedding")
            .ok_or_else(|| NnError::Shape("the base model has no embedding".into()))?;
        // The base rows are the new table's first rows: those of the base fields.
        let base_rows = encoder.field_rows(f0 - 1).end;
        if table_shape != [base_rows, dim] || base.table_rows != base_rows {
            return Err(NnError::Shape(format!(
                "cannot fine-tune: the model's embedding is {table_shape:?}, the new encoding's \
                 base fields need [{base_rows}, {dim}] (another embedding size?)"
            )));
        }
        let mut dense = std::collections::HashMap::new();
        for (name, (shape, initial)) in fresh {
            let (old_shape, values) = old
                .remove(&name)
                .ok_or_else(|| NnError::Shape(format!("the base model has no parameter {name}")))?;
            let grown = if old_shape == shape {
                values
            } else if old_shape.len() == 2
                && shape.len() == 2
                && old_shape[1] == shape[1]
                && old_shape[0] * f == shape[0] * f0
            {
                // The DNN's input weights [F·k, out], field-major: the base fields' rows,
                // then the added fields' rows. Their embeddings start at zero, so these rows
                // do not change the start: fresh values when the network trains (a zero row
                // times a zero embedding would get no gradient, and Wide&Deep's DNN would
                // never learn to use the crosses), zero when only the cross rows train.
                let mut v = values;
                let keep = v.len();
                if freeze_base {
                    v.resize(shape.iter().product(), 0.0);
                } else {
                    v.extend_from_slice(&initial[keep..]);
                }
                v
            } else {
                return Err(NnError::Shape(format!(
                    "parameter {name}: base shape {old_shape:?} cannot grow to {shape:?}"
                )));
            };
            dense.insert(name, (shape, grown));
        }
        Ok(WarmStart {
            table,
            dense,
            base_fields: f0,
            freeze_base,
        })
    }

    /// With `freeze_base`, zeroes the gradient of the base fields' cells (`ge: [b, f, dim]`).
    fn freeze_cells(&self, ge: &mut [f32], fields: usize, dim: usize) {
        if !self.freeze_base {
            return;
        }
        for row in ge.chunks_mut(fields * dim) {
            row[..self.base_fields * dim].fill(0.0);
        }
    }

    /// Writes the base rows into `table`; the rows after them (added fields) start at zero.
    fn init_table(&self, table: &mut EmbeddingTable) {
        let n = self.table.len().min(table.values.len());
        table.values[..n].copy_from_slice(&self.table[..n]);
        table.values[n..].fill(0.0);
    }
}

/// One optimiser step on a mini-batch: `(rows, scales, labels)`, see [`TrainingRows::epoch`].
pub type BatchStep<'a> = dyn FnMut(&[u32], &[f32], &[f32]) -> Result<(), NnError> + 'a;

/// Where a trainer's rows come from, one epoch at a time: in memory (shuffled across all
/// rows every epoch) or streamed from a file in chunks (shuffled within each chunk).
pub trait TrainingRows {
    /// Training rows per epoch (for progress; may be an estimate).
    fn rows_per_epoch(&self) -> usize;

    /// Runs one epoch: calls `step(rows, scales, labels)` for successive mini-batches of at
    /// most `batch_size` rows (`rows`/`scales`: `[b · fields]` embedding rows and scales,
    /// `labels`: `[b]`), shuffled with `rng`. Stops at the first error `step` returns.
    ///
    /// # Errors
    /// An error of `step`, or of reading the rows.
    fn epoch(
        &mut self,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        step: &mut BatchStep<'_>,
    ) -> Result<(), NnError>;
}

/// Encoded training rows held in memory, reshuffled every epoch.
pub struct InMemoryRows {
    batch: EncodedBatch,
    labels: Vec<f32>,
    order: Vec<usize>,
    rows: Vec<u32>,
    scales: Vec<f32>,
    ys: Vec<f32>,
}

impl InMemoryRows {
    /// The encoded rows and their 0/1 labels (`labels.len()` = rows of `batch`).
    pub fn new(batch: EncodedBatch, labels: Vec<f32>) -> Self {
        let n = labels.len();
        InMemoryRows {
            batch,
            labels,
            order: (0..n).collect(),
            rows: Vec::new(),
            scales: Vec::new(),
            ys: Vec::new(),
        }
    }
}

impl TrainingRows for InMemoryRows {
    fn rows_per_epoch(&self) -> usize {
        self.labels.len()
    }

    fn epoch(
        &mut self,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        step: &mut BatchStep<'_>,
    ) -> Result<(), NnError> {
        let f = self.batch.num_fields;
        self.order.shuffle(rng);
        for chunk in self.order.chunks(batch_size.max(1)) {
            self.rows.clear();
            self.scales.clear();
            self.ys.clear();
            for &i in chunk {
                self.rows
                    .extend_from_slice(&self.batch.rows[i * f..(i + 1) * f]);
                self.scales
                    .extend_from_slice(&self.batch.scales[i * f..(i + 1) * f]);
                self.ys.push(self.labels[i]);
            }
            step(&self.rows, &self.scales, &self.ys)?;
        }
        Ok(())
    }
}

/// Trains a recommender of architecture `kind` on rows from `source` (for data larger than
/// memory, a stream), early-stopping on the encoded `validation` rows with 0/1
/// `validation_labels`. `encoder` fixes the fields and the embedding table (every batch must
/// use its rows).
///
/// # Errors
/// As [`train`].
#[allow(clippy::too_many_arguments)]
pub fn train_rows_from(
    kind: ModelKind,
    source: &mut dyn TrainingRows,
    validation: &EncodedBatch,
    validation_labels: &[f32],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
) -> Result<Box<dyn Recommender>, NnError> {
    train_rows_with(
        kind,
        source,
        validation,
        validation_labels,
        encoder,
        params,
        seed,
        progress,
        Engine::Auto,
    )
}

/// How a recommender's dense part is differentiated during training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// The hand-written passes of [`crate::fast_ctr`] where the architecture has them
    /// (DeepFM, xDeepFM, AutoInt, AutoInt+), burn autodiff for the others. The default.
    #[default]
    Auto,
    /// burn autodiff for every architecture: the reference the hand-written passes are
    /// checked against.
    Autodiff,
}

/// [`train_rows_from`] with the differentiation [`Engine`] chosen. Both engines start from
/// the same weights and draw the same batches, and give the same model up to rounding.
///
/// # Errors
/// As [`train`].
#[allow(clippy::too_many_arguments)]
pub fn train_rows_with(
    kind: ModelKind,
    source: &mut dyn TrainingRows,
    validation: &EncodedBatch,
    validation_labels: &[f32],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
    engine: Engine,
) -> Result<Box<dyn Recommender>, NnError> {
    train_rows_inner(
        kind,
        source,
        validation,
        validation_labels,
        encoder,
        params,
        seed,
        progress,
        engine,
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn train_rows_inner(
    kind: ModelKind,
    source: &mut dyn TrainingRows,
    validation: &EncodedBatch,
    validation_labels: &[f32],
    encoder: &InputEncoder,
    params: &CtrParams,
    seed: u64,
    progress: &dyn Progress,
    engine: Engine,
    from: Option<(&dyn Recommender, bool)>,
) -> Result<Box<dyn Recommender>, NnError> {
    let device = crate::cpu().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    check_fields(kind, encoder.num_fields())?;
    let fast = engine == Engine::Auto && crate::fast_ctr::FastNet::supports(kind);
    with_net_type!(kind, T => {
        let mut net = T::build(kind, encoder.num_fields(), params, &mut rng, &device);
        let warm = match from {
            Some((m, freeze)) => {
                let w = WarmStart::new(
                    kind,
                    m,
                    freeze,
                    encoder,
                    kind.embedding_width(params.embedding_dim),
                    named_parameters(&net)?,
                )?;
                net = load_parameters(net, &w.dense)?;
                Some(w)
            }
            None => None,
        };
        let run = LoopInputs {
            kind,
            dim: kind.embedding_width(params.embedding_dim),
            val_batch: validation,
            val_labels: validation_labels,
            encoder,
            params,
            progress,
            warm: warm.as_ref(),
        };
        let model = if fast {
            train_loop_fast(&run, net, source, &mut rng)?
        } else {
            train_loop(
                kind,
                net,
                run.dim,
                source,
                validation,
                validation_labels,
                encoder,
                params,
                &mut rng,
                progress,
                warm.as_ref(),
            )?
        };
        Ok(Box::new(model))
    })
}

/// The cross fields' cells of a training run and how they differ from the other fields
/// ([`crate::params::CrossEmbedding`]); `None` when nothing differs.
struct CrossCells {
    /// Fields per row, and the first cross field.
    fields: usize,
    first: usize,
    /// Embedding width.
    dim: usize,
    /// Factor columns kept at zero (linear-only crosses): `1..dim`, else empty.
    frozen_cols: std::ops::Range<usize>,
    /// Extra L2 on the cross cells.
    l2: f32,
    /// Every column of the cross rows starts at zero.
    zero_init: bool,
}

impl CrossCells {
    fn new(
        kind: ModelKind,
        encoder: &InputEncoder,
        params: &CtrParams,
        dim: usize,
    ) -> Option<Self> {
        let c = &params.cross;
        let f = encoder.num_fields();
        if !c.is_active() || c.fields > f {
            return None;
        }
        let linear = c.linear_only && kind.has_linear() && dim > 1;
        if !(c.zero_init || c.l2 > 0.0 || linear) {
            return None;
        }
        Some(CrossCells {
            fields: f,
            first: f - c.fields,
            dim,
            frozen_cols: if linear { 1..dim } else { 0..0 },
            l2: c.l2,
            zero_init: c.zero_init,
        })
    }

    /// Zeroes the cross rows' initial values (all columns with `zero_init`, the factor
    /// columns when linear-only).
    fn init(&self, table: &mut EmbeddingTable, encoder: &InputEncoder) {
        let cols = if self.zero_init {
            0..self.dim
        } else {
            self.frozen_cols.clone()
        };
        if cols.is_empty() {
            return;
        }
        for field in self.first..self.fields {
            table.zero_block(encoder.field_rows(field), cols.clone());
        }
    }

    /// Adds the cross cells' own L2 to the gradient of the gathered cells `ge` (`[b, f, dim]`,
    /// `e` the gathered values) and zeroes the frozen columns' gradient.
    fn adjust(&self, ge: &mut [f32], e: &[f32], b: usize) {
        let c = 2.0 * self.l2 / b.max(1) as f32;
        let (f, d) = (self.fields, self.dim);
        for row in 0..b {
            let cells = row * f * d + self.first * d..(row + 1) * f * d;
            for (k, (g, &x)) in ge[cells.clone()].iter_mut().zip(&e[cells]).enumerate() {
                if self.frozen_cols.contains(&(k % d)) {
                    *g = 0.0;
                } else if c > 0.0 {
                    *g += c * x;
                }
            }
        }
    }
}

/// The embedding table a training run starts from, with its cross cells' treatment: the
/// normal initialisation drawn from `rng` (always, so the other rows do not depend on the
/// settings), cross rows zeroed as [`CrossCells`] says, the base model's rows when
/// fine-tuning.
fn start_table(
    kind: ModelKind,
    encoder: &InputEncoder,
    params: &CtrParams,
    dim: usize,
    warm: Option<&WarmStart>,
    rng: &mut ChaCha8Rng,
) -> (EmbeddingTable, Option<CrossCells>) {
    let mut table = EmbeddingTable::new(
        encoder.table_rows,
        dim,
        params.embedding_init_std,
        &encoder.zero_rows(),
        params.optimizer,
        rng,
    );
    let crosses = CrossCells::new(kind, encoder, params, dim);
    if let Some(c) = &crosses {
        c.init(&mut table, encoder);
    }
    if let Some(w) = warm {
        w.init_table(&mut table);
    }
    (table, crosses)
}

/// What both training loops take besides the network, the rows and the generator.
struct LoopInputs<'a> {
    kind: ModelKind,
    dim: usize,
    val_batch: &'a EncodedBatch,
    val_labels: &'a [f32],
    encoder: &'a InputEncoder,
    params: &'a CtrParams,
    progress: &'a dyn Progress,
    warm: Option<&'a WarmStart>,
}

/// The dense optimiser of the hand-written loop, the same update as burn's
/// (`AdamConfig::new().with_epsilon(1e-8)`, `AdaGradConfig::new().with_epsilon(1e-10)`).
enum DenseOptimizer {
    Adam(crate::kernels::AdamState),
    Adagrad(Vec<Vec<f32>>),
}

impl DenseOptimizer {
    fn new(kind: OptimizerKind, values: &[Vec<f32>]) -> Self {
        match kind {
            OptimizerKind::Adam => {
                DenseOptimizer::Adam(crate::kernels::AdamState::new(values.iter().map(Vec::len)))
            }
            OptimizerKind::Adagrad => {
                DenseOptimizer::Adagrad(values.iter().map(|v| vec![0.0; v.len()]).collect())
            }
        }
    }

    fn step(&mut self, values: &mut [Vec<f32>], grads: &[Vec<f32>], lr: f32) {
        match self {
            DenseOptimizer::Adam(state) => state.step(values.iter_mut(), grads.iter(), lr),
            DenseOptimizer::Adagrad(sums) => {
                for ((p, g), acc) in values.iter_mut().zip(grads).zip(sums.iter_mut()) {
                    for ((x, &g), a) in p.iter_mut().zip(g).zip(acc.iter_mut()) {
                        *a += g * g;
                        *x -= lr * g / (a.sqrt() + 1e-10);
                    }
                }
            }
        }
    }
}

/// Logits of `batch` from a [`crate::fast_ctr::FastNet`] and an embedding table.
fn predict_fast(
    net: &mut crate::fast_ctr::FastNet,
    table: &[f32],
    dim: usize,
    batch: &EncodedBatch,
    chunk: usize,
) -> Result<Vec<f32>, NnError> {
    let f = batch.num_fields;
    let n = batch.len();
    let mut out = vec![0f32; n];
    let mut buf = Vec::new();
    for start in (0..n).step_by(chunk.max(1)) {
        let end = (start + chunk.max(1)).min(n);
        gather_scaled(
            table,
            dim,
            &batch.rows[start * f..end * f],
            &batch.scales[start * f..end * f],
            &mut buf,
        )?;
        net.forward(&buf, end - start, &mut out[start..end]);
    }
    Ok(out)
}

/// [`train_loop`] with the dense part's passes written out ([`crate::fast_ctr`]): the same
/// initial weights (read from `net`), batches, loss, optimisers and early stopping; the best
/// weights are written back into `net`.
fn train_loop_fast<N: CtrNet + Send>(
    run: &LoopInputs<'_>,
    net: N,
    source: &mut dyn TrainingRows,
    rng: &mut ChaCha8Rng,
) -> Result<CtrModel<N>, NnError> {
    let LoopInputs {
        kind,
        dim,
        val_batch,
        val_labels,
        encoder,
        params,
        progress,
        warm,
    } = *run;
    if source.rows_per_epoch() == 0 || val_labels.is_empty() {
        return Err(NnError::NotEnoughData(format!(
            "{} training and {} validation rows; both must be non-empty",
            source.rows_per_epoch(),
            val_labels.len()
        )));
    }
    if params.batch_size == 0 || params.max_epochs == 0 {
        return Err(NnError::Shape(
            "batch size and epochs must be positive".into(),
        ));
    }
    let f = encoder.num_fields();
    let mut fast = crate::fast_ctr::FastNet::from_named(
        kind,
        f,
        dim,
        params.attention_heads.max(1),
        named_parameters(&net)?,
    )?;
    let (mut table, crosses) = start_table(kind, encoder, params, dim, warm, rng);
    // (validation logloss, dense weights, embedding table, epoch) of the best epoch.
    type Best = (f64, Vec<Vec<f32>>, Vec<f32>, usize);
    let mut best: Option<Best> = None;
    if warm.is_some() {
        // Fine-tuning: the base model's weights are epoch 0's, kept unless an epoch beats
        // them on validation.
        let logits = predict_fast(&mut fast, &table.values, dim, val_batch, PREDICT_CHUNK)?;
        if let Some(ll) = logit_metrics(val_labels, &logits)
            .0
            .filter(|l| l.is_finite())
        {
            best = Some((ll, fast.values.clone(), table.values.clone(), 0));
        }
    }
    let mut optim = DenseOptimizer::new(params.optimizer, &fast.values);
    let steps_per_epoch = source.rows_per_epoch().div_ceil(params.batch_size);
    progress.start((steps_per_epoch * params.max_epochs) as u64, "training");
    let mut history = Vec::new();
    let mut since_best = 0;
    let (mut buf, mut logits, mut dz, mut ge) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let lr = params.learning_rate as f32;
    let started = Instant::now();
    for epoch in 1..=params.max_epochs {
        let mut loss_sum = 0.0;
        let mut loss_n = 0usize;
        let mut step = |rows: &[u32], scales: &[f32], ys: &[f32]| -> Result<(), NnError> {
            let b = ys.len();
            if b == 0 {
                return Ok(());
            }
            table.gather_scaled(rows, scales, &mut buf)?;
            logits.resize(b, 0.0);
            fast.forward(&buf, b, &mut logits);
            // Mean binary cross-entropy (as `bce_with_logits`) and its gradient σ(z) − y over b.
            let mut loss = 0.0f64;
            dz.resize(b, 0.0);
            for ((g, &z), &y) in dz.iter_mut().zip(&logits).zip(ys) {
                loss += f64::from(z.max(0.0) - z * y + (-z.abs()).exp().ln_1p());
                *g = (1.0 / (1.0 + (-z).exp()) - y) / b as f32;
            }
            let loss_value = loss / b as f64;
            if !loss_value.is_finite() {
                return Err(NnError::Diverged {
                    what: "training logloss".into(),
                    value: loss_value,
                    epoch,
                });
            }
            loss_sum += loss_value * b as f64;
            loss_n += b;
            ge.resize(buf.len(), 0.0);
            fast.backward(&buf, b, &dz, &mut ge);
            if params.embedding_l2 > 0.0 {
                // d/de of λ · (1/B) Σ ‖e‖² is (2λ/B) e, e = the gathered scaled embeddings.
                let c = 2.0 * params.embedding_l2 / b as f32;
                for (g, &e) in ge.iter_mut().zip(&buf) {
                    *g += c * e;
                }
            }
            if let Some(c) = &crosses {
                c.adjust(&mut ge, &buf, b);
            }
            match warm {
                Some(w) if w.freeze_base => w.freeze_cells(&mut ge, f, dim),
                _ => optim.step(&mut fast.values, &fast.grads, lr),
            }
            table.step(rows, scales, &ge, lr);
            progress.inc(1);
            Ok(())
        };
        source.epoch(params.batch_size, rng, &mut step)?;
        let logits = predict_fast(&mut fast, &table.values, dim, val_batch, PREDICT_CHUNK)?;
        let (val_ll, val_auc) = logit_metrics(val_labels, &logits);
        let val_ll = val_ll.unwrap_or(f64::NAN);
        if !val_ll.is_finite() {
            return Err(NnError::Diverged {
                what: "validation logloss".into(),
                value: val_ll,
                epoch,
            });
        }
        history.push(EpochRecord {
            epoch,
            train_logloss: loss_sum / loss_n.max(1) as f64,
            validation_logloss: val_ll,
            validation_auc: val_auc,
        });
        progress.message(&format!(
            "epoch {epoch}: validation logloss {val_ll:.4}, AUC {} ({:.0}s)",
            val_auc.map_or("n/a".to_string(), |a| format!("{a:.4}")),
            started.elapsed().as_secs_f64()
        ));
        if best.as_ref().is_none_or(|(b, ..)| val_ll < *b) {
            best = Some((val_ll, fast.values.clone(), table.values.clone(), epoch));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= params.patience {
                break;
            }
        }
    }
    progress.finish();
    let best_epoch = match best {
        Some((_, values, table_values, epoch)) => {
            fast.values = values;
            table.values = table_values;
            epoch
        }
        None => 0,
    };
    let net = load_parameters(net, &fast.named())?;
    Ok(CtrModel {
        kind,
        net: net.valid(),
        table: table.values,
        dim,
        encoder: encoder.clone(),
        history,
        best_epoch,
        fast: FastPredictor::default(),
    })
}

#[allow(clippy::too_many_arguments)]
fn train_loop<N: CtrNet + Send>(
    kind: ModelKind,
    net: N,
    dim: usize,
    source: &mut dyn TrainingRows,
    val_batch: &EncodedBatch,
    val_labels: &[f32],
    encoder: &InputEncoder,
    params: &CtrParams,
    rng: &mut ChaCha8Rng,
    progress: &dyn Progress,
    warm: Option<&WarmStart>,
) -> Result<CtrModel<N>, NnError> {
    if source.rows_per_epoch() == 0 || val_labels.is_empty() {
        return Err(NnError::NotEnoughData(format!(
            "{} training and {} validation rows; both must be non-empty",
            source.rows_per_epoch(),
            val_labels.len()
        )));
    }
    if params.batch_size == 0 || params.max_epochs == 0 {
        return Err(NnError::Shape(
            "batch size and epochs must be positive".into(),
        ));
    }
    let device = crate::cpu().autodiff();
    let plain = crate::cpu();
    let f = encoder.num_fields();
    let (mut table, crosses) = start_table(kind, encoder, params, dim, warm, rng);
    let mut optim = match params.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_epsilon(1e-8).init(),
        OptimizerKind::Adagrad => AdaGradConfig::new().with_epsilon(1e-10).init(),
    };
    let steps_per_epoch = source.rows_per_epoch().div_ceil(params.batch_size);
    progress.start((steps_per_epoch * params.max_epochs) as u64, "training");
    let mut best: Option<(f64, N, Vec<f32>, usize)> = None;
    if warm.is_some() {
        // Fine-tuning: the base model's weights are epoch 0's (see the fast loop).
        let logits = predict_with(&net.valid(), &table.values, dim, val_batch, &plain)?;
        if let Some(ll) = logit_metrics(val_labels, &logits)
            .0
            .filter(|l| l.is_finite())
        {
            best = Some((ll, net.clone(), table.values.clone(), 0));
        }
    }
    let mut history = Vec::new();
    let mut since_best = 0;
    let mut buf = Vec::new();
    let lr = params.learning_rate;
    let started = Instant::now();
    let mut slot = Some(net);
    for epoch in 1..=params.max_epochs {
        let mut loss_sum = 0.0;
        let mut loss_n = 0usize;
        let mut step = |rows: &[u32], scales: &[f32], ys: &[f32]| -> Result<(), NnError> {
            let b = ys.len();
            if b == 0 {
                return Ok(());
            }
            let net = slot
                .take()
                .ok_or_else(|| NnError::Tensor("the model was lost in a failed step".into()))?;
            table.gather_scaled(rows, scales, &mut buf)?;
            let e = Tensor::<3>::from_data(TensorData::new(buf.clone(), [b, f, dim]), &device)
                .require_grad();
            let y = Tensor::<2>::from_data(TensorData::new(ys.to_vec(), [b, 1]), &device);
            let loss = bce_with_logits(net.forward(e.clone()), y);
            let loss_value = to_vec(loss.clone().inner())?[0] as f64;
            if !loss_value.is_finite() {
                return Err(NnError::Diverged {
                    what: "training logloss".into(),
                    value: loss_value,
                    epoch,
                });
            }
            loss_sum += loss_value * b as f64;
            loss_n += b;
            let mut grads = loss.backward();
            let ge = e
                .grad_remove(&mut grads)
                .ok_or_else(|| NnError::Tensor("no gradient for the embeddings".into()))?;
            let mut ge = to_vec(ge)?;
            if params.embedding_l2 > 0.0 {
                // d/de of λ · (1/B) Σ ‖e‖² is (2λ/B) e, e = the gathered scaled embeddings.
                let c = 2.0 * params.embedding_l2 / b as f32;
                for (g, &e) in ge.iter_mut().zip(&buf) {
                    *g += c * e;
                }
            }
            if let Some(c) = &crosses {
                c.adjust(&mut ge, &buf, b);
            }
            match warm {
                Some(w) if w.freeze_base => {
                    w.freeze_cells(&mut ge, f, dim);
                    slot = Some(net);
                }
                _ => {
                    let gp = GradientsParams::from_grads(grads, &net);
                    slot = Some(optim.step(lr, net, gp));
                }
            }
            table.step(rows, scales, &ge, lr as f32);
            progress.inc(1);
            Ok(())
        };
        source.epoch(params.batch_size, rng, &mut step)?;
        let net = slot
            .as_ref()
            .ok_or_else(|| NnError::Tensor("the model was lost in a failed step".into()))?;
        let logits = predict_with(&net.valid(), &table.values, dim, val_batch, &plain)?;
        let (val_ll, val_auc) = logit_metrics(val_labels, &logits);
        let val_ll = val_ll.unwrap_or(f64::NAN);
        if !val_ll.is_finite() {
            return Err(NnError::Diverged {
                what: "validation logloss".into(),
                value: val_ll,
                epoch,
            });
        }
        history.push(EpochRecord {
            epoch,
            train_logloss: loss_sum / loss_n.max(1) as f64,
            validation_logloss: val_ll,
            validation_auc: val_auc,
        });
        progress.message(&format!(
            "epoch {epoch}: validation logloss {val_ll:.4}, AUC {} ({:.0}s)",
            val_auc.map_or("n/a".to_string(), |a| format!("{a:.4}")),
            started.elapsed().as_secs_f64()
        ));
        if best.as_ref().is_none_or(|(b, ..)| val_ll < *b) {
            best = Some((val_ll, net.clone(), table.values.clone(), epoch));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= params.patience {
                break;
            }
        }
    }
    progress.finish();
    let (_, net, values, best_epoch) = match best {
        Some(b) => b,
        None => {
            let net =
                slot.ok_or_else(|| NnError::Tensor("the model was lost in a failed step".into()))?;
            (f64::NAN, net, table.values.clone(), 0)
        }
    };
    Ok(CtrModel {
        kind,
        net: net.valid(),
        table: values,
        dim,
        encoder: encoder.clone(),
        history,
        best_epoch,
        fast: FastPredictor::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glider_data::{Column, EncoderOptions, Field, FieldKind, NoProgress};

    #[test]
    fn the_epoch_cap_warning_fires_only_at_the_cap() {
        assert_eq!(epoch_cap_warning("lr", 19, 20), None);
        let w = epoch_cap_warning("lr", 20, 20).unwrap();
        assert!(
            w.contains("20 of --epochs 20") && w.contains("--epochs 40"),
            "{w}"
        );
        assert_eq!(epoch_cap_warning("lr", 0, 0), None);
    }

    /// Two categorical fields whose XOR decides the click: DeepFM must learn it (AUC > 0.9)
    /// and the same seed must give bit-identical predictions.
    #[test]
    fn deepfm_learns_an_interaction_deterministically() {
        let n = 3000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let a: Vec<u32> = (0..n)
            .map(|_| rand::Rng::random_range(&mut rng, 1..5))
            .collect();
        let b: Vec<u32> = (0..n)
            .map(|_| rand::Rng::random_range(&mut rng, 1..5))
            .collect();
        let labels: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| if (x + y) % 2 == 0 { 1.0 } else { 0.0 })
            .collect();
        let dict: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let data = Dataset {
            source: "xor".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "a".into(),
                    kind: FieldKind::Categorical,
                },
                Field {
                    name: "b".into(),
                    kind: FieldKind::Categorical,
                },
            ],
            labels,
            columns: vec![
                Column::Categorical {
                    codes: a,
                    dictionary: dict.clone(),
                },
                Column::Categorical {
                    codes: b,
                    dictionary: dict,
                },
            ],
        };
        let train_rows: Vec<usize> = (0..2400).collect();
        let val_rows: Vec<usize> = (2400..n).collect();
        let enc = InputEncoder::fit(
            &data,
            &train_rows,
            &EncoderOptions {
                min_count: 0,
                hash_buckets: 0,
                numeric: glider_data::NumericOptions::scalar(),
            },
        )
        .unwrap();
        let params = CtrParams {
            embedding_dim: 4,
            hidden: vec![16, 16],
            batch_size: 64,
            max_epochs: 12,
            learning_rate: 0.01,
            ..CtrParams::default()
        };
        let m = train(
            ModelKind::DeepFm,
            &data,
            &train_rows,
            &val_rows,
            &enc,
            &params,
            9,
            &NoProgress,
        )
        .unwrap();
        let batch = enc.encode_rows(&data, &val_rows);
        let logits = m.predict_logits(&batch).unwrap();
        let val_labels: Vec<f32> = val_rows.iter().map(|&r| data.labels[r]).collect();
        let auc = roc_auc(&val_labels, &logits).unwrap();
        assert!(auc > 0.9, "AUC {auc}");
        // Predictions go through pooled copies of the hand-written forward pass: all 3,000
        // rows (two chunks) equal the two halves asked from two threads at once.
        let all_rows: Vec<usize> = (0..n).collect();
        let all = m
            .predict_logits(&enc.encode_rows(&data, &all_rows))
            .unwrap();
        let (first, second) = rayon::join(
            || m.predict_logits(&enc.encode_rows(&data, &all_rows[..1500])),
            || m.predict_logits(&enc.encode_rows(&data, &all_rows[1500..])),
        );
        let halves: Vec<f32> = first.unwrap().into_iter().chain(second.unwrap()).collect();
        assert_eq!(halves.len(), n);
        let tail = logits.iter().copied();
        for ((x, y), z) in all
            .iter()
            .zip(&halves)
            .zip(all[..2400].iter().copied().chain(tail))
        {
            assert!((x - y).abs() <= 1e-5 * x.abs().max(1.0), "{x} vs {y}");
            assert!((x - z).abs() <= 1e-5 * x.abs().max(1.0), "{x} vs {z}");
        }
        let again = train(
            ModelKind::DeepFm,
            &data,
            &train_rows,
            &val_rows,
            &enc,
            &params,
            9,
            &NoProgress,
        )
        .unwrap();
        assert_eq!(again.predict_logits(&batch).unwrap(), logits);
    }

    /// Three categorical fields, the last one standing for a cross (`a×b`), labels from
    /// `a + b` odd.
    fn crossed_data() -> Dataset {
        let n = 600;
        let a: Vec<u32> = (0..n).map(|i| (i % 4 + 1) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i / 4 % 4 + 1) as u32).collect();
        let ab: Vec<u32> = a.iter().zip(&b).map(|(&x, &y)| (x - 1) * 4 + y).collect();
        let labels: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| ((x + y) % 2) as f32)
            .collect();
        let field = |name: &str| Field {
            name: name.into(),
            kind: FieldKind::Categorical,
        };
        let column = |codes: Vec<u32>, values: usize| Column::Categorical {
            codes,
            dictionary: (0..=values).map(|i| i.to_string()).collect(),
        };
        Dataset {
            source: "crossed".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![field("a"), field("b"), field("a×b")],
            labels,
            columns: vec![column(a, 4), column(b, 4), column(ab, 16)],
        }
    }

    fn fit_encoder(data: &Dataset) -> InputEncoder {
        let rows: Vec<usize> = (0..data.num_rows()).collect();
        InputEncoder::fit(
            data,
            &rows,
            &EncoderOptions {
                min_count: 0,
                hash_buckets: 0,
                numeric: glider_data::NumericOptions::scalar(),
            },
        )
        .unwrap()
    }

    fn small_params(kind: ModelKind, cross: crate::params::CrossEmbedding, lr: f64) -> CtrParams {
        CtrParams {
            embedding_dim: 3,
            hidden: vec![4],
            batch_size: 50,
            max_epochs: 2,
            learning_rate: lr,
            cross,
            ..CtrParams::for_model(kind)
        }
    }

    /// The table after training on [`crossed_data`].
    fn crossed_table(kind: ModelKind, cross: crate::params::CrossEmbedding, lr: f64) -> Vec<f32> {
        let data = crossed_data();
        let enc = fit_encoder(&data);
        let rows: Vec<usize> = (0..data.num_rows()).collect();
        let params = small_params(kind, cross, lr);
        let m = train(
            kind,
            &data,
            &rows[..500],
            &rows[500..],
            &enc,
            &params,
            3,
            &NoProgress,
        )
        .unwrap();
        let cross_rows = enc.field_rows(2);
        assert_eq!(
            cross_rows.end, enc.table_rows,
            "the cross field's rows come last"
        );
        m.named_tensors()
            .unwrap()
            .into_iter()
            .find(|(name, _)| name == "embedding")
            .unwrap()
            .1
             .1
    }

    /// Cross rows linear-only: their factor columns stay zero through training (both the
    /// hand-written DeepFM loop and the autodiff Wide&Deep one); their first-order column
    /// learns. Zero start: at learning rate 0 the cross rows are zero and every other row is
    /// the normal start's.
    #[test]
    fn cross_embeddings_start_at_zero_and_can_stay_linear() {
        use crate::params::CrossEmbedding;
        for kind in [ModelKind::DeepFm, ModelKind::WideDeep] {
            let dim = kind.embedding_width(3);
            // Rows of the cross field: after a (1 + 1 + 4) and b (the same) blocks.
            let first_cross_row = 12;
            let linear = crossed_table(
                kind,
                CrossEmbedding {
                    fields: 1,
                    linear_only: true,
                    ..CrossEmbedding::default()
                },
                0.01,
            );
            let cross = &linear[first_cross_row * dim..];
            assert!(
                cross.chunks(dim).all(|r| r[1..].iter().all(|&v| v == 0.0)),
                "{kind}"
            );
            assert!(
                cross.chunks(dim).any(|r| r[0] != 0.0),
                "{kind}: the linear term learns"
            );
            let full = crossed_table(kind, CrossEmbedding::default(), 0.01);
            assert!(full[first_cross_row * dim..]
                .chunks(dim)
                .any(|r| r[1] != 0.0));

            let normal = crossed_table(kind, CrossEmbedding::default(), 0.0);
            let zero = crossed_table(
                kind,
                CrossEmbedding {
                    fields: 1,
                    zero_init: true,
                    ..CrossEmbedding::default()
                },
                0.0,
            );
            let split = first_cross_row * dim;
            assert_eq!(zero[..split], normal[..split], "{kind}");
            assert!(zero[split..].iter().all(|&v| v == 0.0), "{kind}");
            assert!(normal[split..].iter().any(|&v| v != 0.0), "{kind}");
        }
    }

    /// Fine-tuning starts as the base model exactly (learning rate 0 keeps epoch 0: the same
    /// logits, with the cross field added) and never ends worse on validation; another
    /// architecture or a non-prefix encoding is refused.
    #[test]
    fn fine_tuning_starts_at_the_base_model_and_keeps_it_unless_beaten() {
        use crate::params::CrossEmbedding;
        let crossed = crossed_data();
        let mut plain = crossed.clone();
        plain.fields.pop();
        plain.columns.pop();
        let (enc3, enc2) = (fit_encoder(&crossed), fit_encoder(&plain));
        let rows: Vec<usize> = (0..crossed.num_rows()).collect();
        let (tr, va) = (&rows[..500], &rows[500..]);
        for kind in [ModelKind::DeepFm, ModelKind::WideDeep, ModelKind::Fm] {
            let p = small_params(kind, CrossEmbedding::default(), 0.01);
            let base = train(kind, &plain, tr, va, &enc2, &p, 3, &NoProgress).unwrap();
            let base_logits = base.predict_logits(&enc2.encode_rows(&plain, va)).unwrap();
            let frozen = small_params(kind, CrossEmbedding::default(), 0.0);
            let same = fine_tune(
                kind,
                &crossed,
                tr,
                va,
                &enc3,
                &frozen,
                4,
                &NoProgress,
                base.as_ref(),
                false,
            )
            .unwrap();
            assert_eq!(same.best_epoch(), 0, "{kind}");
            let same_logits = same
                .predict_logits(&enc3.encode_rows(&crossed, va))
                .unwrap();
            for (x, y) in base_logits.iter().zip(&same_logits) {
                assert!((x - y).abs() < 1e-5, "{kind}: {x} vs {y}");
            }
            let tuned = fine_tune(
                kind,
                &crossed,
                tr,
                va,
                &enc3,
                &p,
                4,
                &NoProgress,
                base.as_ref(),
                false,
            )
            .unwrap();
            let labels: Vec<f32> = va.iter().map(|&r| crossed.labels[r]).collect();
            let ll = |m: &dyn Recommender, d: &Dataset, e: &InputEncoder| {
                logit_metrics(&labels, &m.predict_logits(&e.encode_rows(d, va)).unwrap())
                    .0
                    .unwrap()
            };
            assert!(
                ll(tuned.as_ref(), &crossed, &enc3) <= ll(base.as_ref(), &plain, &enc2) + 1e-6,
                "{kind}"
            );
            // Base frozen: every weight but the cross rows is the base model's.
            let only = fine_tune(
                kind,
                &crossed,
                tr,
                va,
                &enc3,
                &p,
                4,
                &NoProgress,
                base.as_ref(),
                true,
            )
            .unwrap();
            let before: std::collections::HashMap<_, _> =
                base.named_tensors().unwrap().into_iter().collect();
            let cross_start = enc3.field_rows(2).start * kind.embedding_width(3);
            let mut cross_moved = false;
            for (name, (_, v)) in only.named_tensors().unwrap() {
                let old = &before[&name].1;
                if name == "embedding" {
                    assert_eq!(v[..cross_start], old[..cross_start], "{kind}");
                    cross_moved = v[cross_start..].iter().any(|&x| x != 0.0);
                } else {
                    assert_eq!(v[..old.len()], old[..], "{kind} {name}");
                }
            }
            assert!(cross_moved && only.best_epoch() > 0, "{kind}");
            // Trained in full, the cross rows' factor columns learn too (Wide&Deep's only
            // way to them is its DNN, whose added input rows start fresh, not at zero).
            assert!(tuned.best_epoch() > 0, "{kind}");
            let table = &tuned
                .named_tensors()
                .unwrap()
                .into_iter()
                .find(|(n, _)| n == "embedding")
                .unwrap()
                .1
                 .1;
            let w = kind.embedding_width(3);
            assert!(
                table[cross_start..]
                    .chunks(w)
                    .any(|r| r[1..].iter().any(|&v| v != 0.0)),
                "{kind}: the crosses' factors never left zero"
            );
        }
        // A base model of another embedding size is refused.
        let small = small_params(ModelKind::DeepFm, CrossEmbedding::default(), 0.01);
        let wide = CtrParams {
            embedding_dim: 5,
            ..small.clone()
        };
        let other = train(
            ModelKind::DeepFm,
            &plain,
            tr,
            va,
            &enc2,
            &wide,
            3,
            &NoProgress,
        )
        .unwrap();
        let err = fine_tune(
            ModelKind::DeepFm,
            &crossed,
            tr,
            va,
            &enc3,
            &small,
            4,
            &NoProgress,
            other.as_ref(),
            false,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("another embedding size"), "{err}");
        let p = small_params(ModelKind::DeepFm, CrossEmbedding::default(), 0.01);
        let fm = train(
            ModelKind::Fm,
            &plain,
            tr,
            va,
            &enc2,
            &small_params(ModelKind::Fm, CrossEmbedding::default(), 0.01),
            3,
            &NoProgress,
        )
        .unwrap();
        let err = fine_tune(
            ModelKind::DeepFm,
            &crossed,
            tr,
            va,
            &enc3,
            &p,
            4,
            &NoProgress,
            fm.as_ref(),
            false,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("cannot fine-tune deepfm"), "{err}");
        let dfm = train(
            ModelKind::DeepFm,
            &crossed,
            tr,
            va,
            &enc3,
            &p,
            3,
            &NoProgress,
        )
        .unwrap();
        let err = fine_tune(
            ModelKind::DeepFm,
            &plain,
            tr,
            va,
            &enc2,
            &p,
            4,
            &NoProgress,
            dfm.as_ref(),
            false,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("not the first fields"), "{err}");
    }

    #[test]
    fn bce_matches_hand_values() {
        let dev = crate::cpu();
        let z = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 2.0, -1.0], [3, 1]), &dev);
        let y = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0, 0.0], [3, 1]), &dev);
        // ln 2 = 0.693147; softplus(2) = 2.126928; softplus(-1) = 0.313262; mean = 1.044446
        let v = to_vec(bce_with_logits(z, y)).unwrap()[0];
        assert!((v - 1.044_446).abs() < 1e-5, "{v}");
    }

    #[test]
    fn saved_model_reloads_and_predicts_bit_identically() {
        let n = 400;
        let codes: Vec<u32> = (0..n).map(|i| (i % 7 + 1) as u32).collect();
        let labels: Vec<f32> = (0..n).map(|i| ((i % 7) % 2) as f32).collect();
        let data = Dataset {
            source: "t".into(),
            label_classes: Vec::new(),
            label_name: "y".into(),
            fields: vec![
                Field {
                    name: "a".into(),
                    kind: FieldKind::Categorical,
                },
                Field {
                    name: "d".into(),
                    kind: FieldKind::Dense,
                },
            ],
            labels,
            columns: vec![
                Column::Categorical {
                    codes,
                    dictionary: (0..8).map(|i| i.to_string()).collect(),
                },
                Column::Dense {
                    values: (0..n).map(|i| (i % 5) as f32).collect(),
                },
            ],
        };
        let rows: Vec<usize> = (0..n).collect();
        let enc = InputEncoder::fit(
            &data,
            &rows,
            &EncoderOptions {
                min_count: 0,
                hash_buckets: 0,
                numeric: glider_data::NumericOptions::scalar(),
            },
        )
        .unwrap();
        let params = CtrParams {
            embedding_dim: 4,
            hidden: vec![8],
            max_epochs: 2,
            batch_size: 64,
            ..CtrParams::default()
        };
        let m = train(
            ModelKind::DeepFm,
            &data,
            &rows[..300],
            &rows[300..],
            &enc,
            &params,
            1,
            &NoProgress,
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!("glider-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        m.save_weights(&path).unwrap();
        let back = load(ModelKind::DeepFm, &params, enc.clone(), &path).unwrap();
        let batch = enc.encode_rows(&data, &rows);
        assert_eq!(
            back.predict_logits(&batch).unwrap(),
            m.predict_logits(&batch).unwrap()
        );
        // Another architecture size does not load.
        let other = CtrParams {
            hidden: vec![9],
            ..params.clone()
        };
        let err = load(ModelKind::DeepFm, &other, enc, &path).err().unwrap();
        assert!(err.to_string().contains("shape"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

//! Additive networks of small MLPs over feature subsets, and their trainer: the models of NID
//! at full fidelity (ALGORITHMS.md 1.1 and 1.5).
//!
//! An [`AdditiveNet`] predicts `f(x) = Σ_t g_t(x[I_t])`: every [`Tower`] `g_t` is a ReLU MLP
//! that reads only its features `I_t` and writes the same `C` outputs (1 for regression and
//! binary targets, the number of classes for multiclass). Three models of the NID paper are
//! such sums:
//!
//! - the plain interaction MLP: one tower over all `p` features (`p → 140 → 100 → 60 → 20 → C`),
//!   the only tower with an L1 penalty and the only one NID reads ([`nid_network`]);
//! - **MLP-M**: the same plus one univariate tower per feature, `1 → 10 → 10 → 10 → C` without
//!   an output bias, or the cheap variant, one bias-free linear tower `p → C`
//!   ([`MainEffects`]);
//! - **MLP-Cutoff** (spec 1.5): univariate towers plus one small tower per included
//!   interaction `|I| → 20 → 10 → C` ([`mlp_cutoff`]).
//!
//! Losses ([`Task`]): MSE for regression (the caller standardises y), sigmoid cross-entropy for
//! binary 0/1 targets, softmax cross-entropy for multiclass (targets are class indices).
//! The L1 term `λ Σ|W|` covers every weight matrix of the towers marked `l1`, output weights
//! included, biases excluded.
//!
//! The forward and backward passes are written out as matrix products on the `gemm` crate
//! (as in [`crate::fast_mlp`]); a test checks the gradients against burn's autodiff on the
//! same model. Training: Adam, learning rate multiplied by `lr_decay` after every epoch,
//! mini-batches reshuffled every epoch, optional early stopping with the best weights restored.
//! Single-threaded and seeded: the same seed gives the same weights on any thread count.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use glider_core::nid::{Matrix, MlpWeights};

use crate::kernels::{matmul, AdamState};
use crate::mlp::{EarlyStopping, MlpParams, Table};
use crate::NnError;

/// What the network predicts, which fixes its output width and loss (spec 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// One real output, MSE loss (y standardised by the caller).
    Regression,
    /// One logit, sigmoid cross-entropy; targets 0 or 1.
    Binary,
    /// One logit per class, softmax cross-entropy; targets are class indices `0..classes`.
    Multiclass {
        /// Number of classes (at least 2).
        classes: usize,
    },
}

impl Task {
    /// Output width `C`: 1, 1 or the number of classes.
    pub fn outputs(self) -> usize {
        match self {
            Task::Regression | Task::Binary => 1,
            Task::Multiclass { classes } => classes,
        }
    }

    /// Short name: `regression`, `binary` or `multiclass`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Binary => "binary",
            Task::Multiclass { .. } => "multiclass",
        }
    }

    /// Loss summed over the rows of `out: [rows, C]` against `y: [rows]`; when `grad` is
    /// given it receives `d loss_sum / d out / divisor` (`[rows, C]`).
    pub(crate) fn loss(
        self,
        out: &[f32],
        y: &[f32],
        mut grad: Option<(&mut Vec<f32>, f32)>,
    ) -> f64 {
        let c = self.outputs();
        if let Some((g, _)) = grad.as_mut() {
            g.clear();
            g.resize(out.len(), 0.0);
        }
        let mut total = 0.0f64;
        for (r, &t) in y.iter().enumerate() {
            let o = &out[r * c..(r + 1) * c];
            match self {
                Task::Regression => {
                    let d = o[0] - t;
                    total += f64::from(d) * f64::from(d);
                    if let Some((g, s)) = grad.as_mut() {
                        g[r] = 2.0 * d / *s;
                    }
                }
                Task::Binary => {
                    let z = f64::from(o[0]);
                    // softplus(z) − t·z, computed stably.
                    total += z.max(0.0) - z * f64::from(t) + (-z.abs()).exp().ln_1p();
                    if let Some((g, s)) = grad.as_mut() {
                        let p = 1.0 / (1.0 + (-z).exp());
                        g[r] = (p - f64::from(t)) as f32 / *s;
                    }
                }
                Task::Multiclass { .. } => {
                    let k = (t as usize).min(c - 1);
                    let m = o.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let sum: f64 = o.iter().map(|&v| f64::from(v - m).exp()).sum();
                    total += sum.ln() + f64::from(m) - f64::from(o[k]);
                    if let Some((g, s)) = grad.as_mut() {
                        for (j, &v) in o.iter().enumerate() {
                            let p = f64::from(v - m).exp() / sum;
                            let onehot = if j == k { 1.0 } else { 0.0 };
                            g[r * c + j] = (p - onehot) as f32 / *s;
                        }
                    }
                }
            }
        }
        total
    }

    /// Error of predictions `out: [rows, C]`: MSE for regression, the misclassification rate
    /// (threshold 0 on the logit, or the arg-max class) otherwise.
    pub fn error(self, out: &[f32], y: &[f32]) -> f64 {
        if y.is_empty() {
            return 0.0;
        }
        let c = self.outputs();
        let wrong: f64 = y
            .iter()
            .enumerate()
            .map(|(r, &t)| {
                let o = &out[r * c..(r + 1) * c];
                match self {
                    Task::Regression => f64::from(o[0] - t).powi(2),
                    Task::Binary => f64::from(u8::from((o[0] > 0.0) != (t > 0.5))),
                    Task::Multiclass { .. } => {
                        let best = o
                            .iter()
                            .enumerate()
                            .fold(
                                (0, f32::NEG_INFINITY),
                                |a, (j, &v)| {
                                    if v > a.1 {
                                        (j, v)
                                    } else {
                                        a
                                    }
                                },
                            )
                            .0;
                        f64::from(u8::from(best != t as usize))
                    }
                }
            })
            .sum();
        wrong / y.len() as f64
    }
}

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `max(0, z)` (NID's and GLIDER's surrogate).
    #[default]
    Relu,
    /// `ln(1 + e^z)`: smooth, so the network has second derivatives (GradientNID's
    /// surrogate, spec 3.1).
    Softplus,
}

impl Activation {
    /// Applies the activation in place.
    #[inline]
    pub(crate) fn apply(self, v: &mut [f32]) {
        match self {
            Activation::Relu => {
                for x in v.iter_mut() {
                    // The bits kept or cleared by a mask: a compare and an AND per lane when
                    // vectorised (a select compiles to a masked store, slow on AMD). Negative
                    // values become +0, NaN stays NaN.
                    let keep = if *x < 0.0 { 0 } else { u32::MAX };
                    *x = f32::from_bits(x.to_bits() & keep);
                }
            }
            Activation::Softplus => {
                for x in v.iter_mut() {
                    // Stable: max(z, 0) + ln(1 + e^-|z|).
                    *x = x.max(0.0) + (-x.abs()).exp().ln_1p();
                }
            }
        }
    }

    /// Multiplies `d` by the activation's derivative, given the activation's outputs `a`.
    #[inline]
    pub(crate) fn backprop(self, d: &mut [f32], a: &[f32]) {
        match self {
            Activation::Relu => {
                for (d, &a) in d.iter_mut().zip(a) {
                    // As in `apply`: the gradient kept where the unit is active, else +0.
                    let keep = if a <= 0.0 { 0 } else { u32::MAX };
                    *d = f32::from_bits(d.to_bits() & keep);
                }
            }
            Activation::Softplus => {
                // softplus' = sigmoid(z) = 1 − e^(−a) when a = softplus(z).
                for (d, &a) in d.iter_mut().zip(a) {
                    *d *= -(-a).exp_m1();
                }
            }
        }
    }
}

/// One MLP over a subset of the features: `|features| → hidden… → C`, linear output.
#[derive(Clone, Debug, PartialEq)]
pub struct Tower {
    /// The input features it reads, indices into the full row.
    pub features: Vec<usize>,
    /// Layer widths, input first, output last.
    pub sizes: Vec<usize>,
    /// Per layer, `[d_out, d_in]` row-major (the PyTorch / NID layout).
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `[d_out]`; the output layer's stays zero when `output_bias` is false.
    pub biases: Vec<Vec<f32>>,
    /// Whether the last layer has a (trained) bias.
    pub output_bias: bool,
    /// Whether the L1 penalty covers this tower's weights.
    pub l1: bool,
    /// The hidden layers' activation.
    pub activation: Activation,
}

impl Tower {
    /// PyTorch's default initialisation (`U(±1/√d_in)` for weights and biases), drawn from
    /// `rng` layer by layer, weights in `[d_in, d_out]` order then biases, as
    /// [`crate::fast_mlp::FastMlp::new`] and burn's [`crate::layers::DenseLayer::new`] do.
    /// A disabled output bias is zero and draws nothing.
    pub fn new(
        features: Vec<usize>,
        hidden: &[usize],
        outputs: usize,
        output_bias: bool,
        l1: bool,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let mut sizes = vec![features.len()];
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        let layers = sizes.len() - 1;
        let mut weights = Vec::with_capacity(layers);
        let mut biases = Vec::with_capacity(layers);
        for (l, w) in sizes.windows(2).enumerate() {
            let (din, dout) = (w[0], w[1]);
            let bound = 1.0 / (din.max(1) as f32).sqrt();
            let mut t = vec![0f32; din * dout];
            for i in 0..din {
                for o in 0..dout {
                    t[o * din + i] = rng.random_range(-bound..bound);
                }
            }
            let b: Vec<f32> = if l + 1 == layers && !output_bias {
                vec![0.0; dout]
            } else {
                (0..dout).map(|_| rng.random_range(-bound..bound)).collect()
            };
            weights.push(t);
            biases.push(b);
        }
        Tower {
            features,
            sizes,
            weights,
            biases,
            output_bias,
            l1,
            activation: Activation::Relu,
        }
    }

    fn layers(&self) -> usize {
        self.weights.len()
    }

    /// True when the tower reads the whole row in order (no gather needed).
    fn reads_all(&self, p: usize) -> bool {
        self.features.len() == p && self.features.iter().enumerate().all(|(i, &f)| i == f)
    }

    /// Copies the tower's input columns of `x: [batch, p]` into `ws.input`.
    fn gather(&self, x: &[f32], p: usize, batch: usize, ws: &mut TowerWorkspace) {
        let k = self.features.len();
        ws.input.clear();
        ws.input.reserve(batch * k);
        for r in 0..batch {
            let row = &x[r * p..(r + 1) * p];
            ws.input.extend(self.features.iter().map(|&f| row[f]));
        }
    }

    /// Forward pass; `ws.acts[last]` holds the `[batch, C]` output.
    fn forward(&self, x: &[f32], p: usize, batch: usize, ws: &mut TowerWorkspace) {
        let all = self.reads_all(p);
        if !all {
            self.gather(x, p, batch, ws);
        }
        ws.acts.resize(self.layers(), Vec::new());
        for l in 0..self.layers() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let mut out = std::mem::take(&mut ws.acts[l]);
            out.clear();
            out.resize(batch * dout, 0.0);
            for row in out.chunks_mut(dout) {
                row.copy_from_slice(&self.biases[l]);
            }
            {
                let input: &[f32] = match l {
                    0 if all => x,
                    0 => &ws.input,
                    _ => &ws.acts[l - 1],
                };
                matmul(
                    &mut out,
                    batch,
                    dout,
                    din,
                    input,
                    din,
                    1,
                    &self.weights[l],
                    1,
                    din,
                    true,
                );
            }
            if l + 1 < self.layers() {
                self.activation.apply(&mut out);
            }
            ws.acts[l] = out;
        }
    }

    /// Backward pass after [`Tower::forward`], from `d_out: [batch, C]`; overwrites `grads`.
    fn backward(
        &self,
        x: &[f32],
        p: usize,
        batch: usize,
        d_out: &[f32],
        ws: &mut TowerWorkspace,
        grads: &mut TowerGradients,
    ) {
        let all = self.reads_all(p);
        ws.dz.clear();
        ws.dz.extend_from_slice(d_out);
        for l in (0..self.layers()).rev() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            {
                let input: &[f32] = match l {
                    0 if all => x,
                    0 => &ws.input,
                    _ => &ws.acts[l - 1],
                };
                matmul(
                    &mut grads.weights[l],
                    dout,
                    din,
                    batch,
                    &ws.dz,
                    1,
                    dout,
                    input,
                    din,
                    1,
                    false,
                );
            }
            let db = &mut grads.biases[l];
            db.fill(0.0);
            if l + 1 < self.layers() || self.output_bias {
                for row in ws.dz.chunks(dout) {
                    for (g, &d) in db.iter_mut().zip(row) {
                        *g += d;
                    }
                }
            }
            if l > 0 {
                ws.da.clear();
                ws.da.resize(batch * din, 0.0);
                matmul(
                    &mut ws.da,
                    batch,
                    din,
                    dout,
                    &ws.dz,
                    dout,
                    1,
                    &self.weights[l],
                    din,
                    1,
                    false,
                );
                self.activation.backprop(&mut ws.da, &ws.acts[l - 1]);
                std::mem::swap(&mut ws.dz, &mut ws.da);
            }
        }
    }

    /// The weights as NID reads them (`[d_out, d_in]`, input side first).
    ///
    /// # Errors
    /// [`NnError::Shape`] only if the shapes were corrupted.
    pub fn nid_weights(&self) -> Result<MlpWeights, NnError> {
        let layers = self
            .weights
            .iter()
            .zip(self.sizes.windows(2))
            .map(|(w, s)| Matrix::new(s[1], s[0], w.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| NnError::Shape(e.to_string()))?;
        MlpWeights::new(layers).map_err(|e| NnError::Shape(e.to_string()))
    }
}

#[derive(Clone, Debug, Default)]
struct TowerWorkspace {
    input: Vec<f32>,
    acts: Vec<Vec<f32>>,
    dz: Vec<f32>,
    da: Vec<f32>,
}

/// Gradients of one tower, same shapes as its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct TowerGradients {
    /// Per layer, `[d_out, d_in]`.
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `[d_out]`.
    pub biases: Vec<Vec<f32>>,
}

/// A sum of towers over rows of `p` features (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct AdditiveNet {
    /// Features per row.
    pub inputs: usize,
    /// What it predicts.
    pub task: Task,
    /// The towers; by convention tower 0 is the interaction MLP where there is one.
    pub towers: Vec<Tower>,
}

#[derive(Clone, Debug, Default)]
struct Workspace {
    towers: Vec<TowerWorkspace>,
    out: Vec<f32>,
    d_out: Vec<f32>,
}

impl AdditiveNet {
    fn check(&self) -> Result<(), NnError> {
        let c = self.task.outputs();
        if c == 0 {
            return Err(NnError::Shape("a network needs at least one output".into()));
        }
        for (t, tower) in self.towers.iter().enumerate() {
            if tower.sizes.last() != Some(&c) {
                return Err(NnError::Shape(format!(
                    "tower {t} has {:?} outputs, the task needs {c}",
                    tower.sizes.last()
                )));
            }
            if let Some(&f) = tower.features.iter().find(|&&f| f >= self.inputs) {
                return Err(NnError::Shape(format!(
                    "tower {t} reads feature {f} of rows with {} features",
                    self.inputs
                )));
            }
        }
        Ok(())
    }

    /// Forward pass of `x: [batch, p]` into `ws.out: [batch, C]`.
    fn forward(&self, x: &[f32], batch: usize, ws: &mut Workspace) {
        let c = self.task.outputs();
        ws.towers
            .resize(self.towers.len(), TowerWorkspace::default());
        ws.out.clear();
        ws.out.resize(batch * c, 0.0);
        for (tower, tws) in self.towers.iter().zip(ws.towers.iter_mut()) {
            tower.forward(x, self.inputs, batch, tws);
            let last = &tws.acts[tower.layers() - 1];
            for (o, &v) in ws.out.iter_mut().zip(last) {
                *o += v;
            }
        }
    }

    /// Raw outputs `[rows, C]` (values for regression, logits otherwise) for `x: [rows, p]`.
    pub fn predict(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut ws = Workspace::default();
        let c = self.task.outputs();
        let p = self.inputs;
        let mut out = Vec::with_capacity(rows * c);
        for start in (0..rows).step_by(4096) {
            let end = (start + 4096).min(rows);
            self.forward(&x[start * p..end * p], end - start, &mut ws);
            out.extend_from_slice(&ws.out);
        }
        out
    }

    /// Mean loss (without the L1 term) over a table: MSE, or the mean cross-entropy.
    pub fn mean_loss(&self, table: &Table<'_>) -> f64 {
        self.weighted_mean_loss(table, None)
    }

    /// NID's view of tower 0, the interaction MLP (spec 1.2).
    ///
    /// # Errors
    /// [`NnError::Shape`] when the network has no tower.
    pub fn interaction_weights(&self) -> Result<MlpWeights, NnError> {
        self.towers
            .first()
            .ok_or_else(|| NnError::Shape("the network has no tower".into()))?
            .nid_weights()
    }

    /// [`Task::error`] over a table.
    pub fn error(&self, table: &Table<'_>) -> f64 {
        let out = self.predict(table.x, table.rows());
        self.task.error(&out, table.y)
    }

    fn zero_gradients(&self) -> Vec<TowerGradients> {
        self.towers
            .iter()
            .map(|t| TowerGradients {
                weights: t.weights.iter().map(|w| vec![0.0; w.len()]).collect(),
                biases: t.biases.iter().map(|b| vec![0.0; b.len()]).collect(),
            })
            .collect()
    }

    /// Loss `mean_rows(loss) + l1 · Σ|W|` (L1 over the towers marked `l1`) of one batch and
    /// its gradients, one [`TowerGradients`] per tower.
    pub fn loss_and_gradients(&self, x: &[f32], y: &[f32], l1: f64) -> (f64, Vec<TowerGradients>) {
        let mut ws = Workspace::default();
        let mut grads = self.zero_gradients();
        let loss = self.backward(x, y, None, l1, true, &mut ws, &mut grads);
        (loss, grads)
    }

    /// Mean loss over `table` with each row's loss multiplied by `weights[row]` and divided
    /// by the weights' sum (the weighted mean; [`Self::mean_loss`] when `weights` is `None`).
    pub fn weighted_mean_loss(&self, table: &Table<'_>, weights: Option<&[f32]>) -> f64 {
        let out = self.predict(table.x, table.rows());
        mean_loss_of(self.task, &out, table.y, weights)
    }

    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        weights: Option<&[f32]>,
        l1: f64,
        with_l1_loss: bool,
        ws: &mut Workspace,
        grads: &mut [TowerGradients],
    ) -> f64 {
        let batch = y.len();
        self.forward(x, batch, ws);
        let divisor = batch.max(1) as f32;
        let mut loss =
            self.task.loss(&ws.out, y, Some((&mut ws.d_out, divisor))) / batch.max(1) as f64;
        if let Some(w) = weights {
            scale_by_row_weights(&mut ws.d_out, w, self.task.outputs());
        }
        for ((tower, tws), g) in self.towers.iter().zip(ws.towers.iter_mut()).zip(grads) {
            tower.backward(x, self.inputs, batch, &ws.d_out, tws, g);
            if l1 > 0.0 && tower.l1 {
                for (w, gw) in tower.weights.iter().zip(g.weights.iter_mut()) {
                    add_l1_gradient(w, gw, l1 as f32);
                    if with_l1_loss {
                        loss += l1 * w.iter().map(|&wi| f64::from(wi.abs())).sum::<f64>();
                    }
                }
            }
        }
        loss
    }
}

/// Mean loss (without the L1 term) of the predictions `out: [rows, C]` against `y`: the
/// plain mean over the rows, or with per-row `weights` each row's loss times its weight over
/// the weights' sum (LIME's kernel, spec 3.1); 0 for no rows or weights summing to 0.
pub(crate) fn mean_loss_of(task: Task, out: &[f32], y: &[f32], weights: Option<&[f32]>) -> f64 {
    let n = y.len();
    if n == 0 {
        return 0.0;
    }
    let Some(w) = weights else {
        return task.loss(out, y, None) / n as f64;
    };
    let c = task.outputs();
    let (mut total, mut sum) = (0.0f64, 0.0f64);
    for r in 0..n {
        let wr = f64::from(w.get(r).copied().unwrap_or(1.0));
        total += wr * task.loss(&out[r * c..(r + 1) * c], &y[r..=r], None);
        sum += wr;
    }
    if sum > 0.0 {
        total / sum
    } else {
        0.0
    }
}

/// Per-row weights (LIME's kernel) applied to a batch's output gradient `d_out: [rows, C]`:
/// each row's gradient times its weight over the batch's mean weight, so the step size does
/// not depend on the weights' scale. Unchanged when the mean weight is not positive.
pub(crate) fn scale_by_row_weights(d_out: &mut [f32], w: &[f32], c: usize) {
    let mean = w.iter().map(|&v| f64::from(v)).sum::<f64>() / w.len().max(1) as f64;
    if mean > 0.0 {
        for (r, &wr) in w.iter().enumerate() {
            let k = (f64::from(wr) / mean) as f32;
            for g in &mut d_out[r * c..(r + 1) * c] {
                *g *= k;
            }
        }
    }
}

/// The L1 term's gradient `l1 · sign(w)` (0 at 0) added to `g`, element by element.
#[inline(always)]
pub(crate) fn add_l1_gradient(w: &[f32], g: &mut [f32], l1: f32) {
    // sign(w) without branches, so the loop vectorises: a branch on the sign of random weights
    // mispredicts half the time, and this loop over every weight of every batch was the
    // trainer's largest cost.
    for (&wi, gi) in w.iter().zip(g.iter_mut()) {
        let sign = f32::from(u8::from(wi > 0.0)) - f32::from(u8::from(wi < 0.0));
        *gi += l1 * sign;
    }
}

/// How main effects are modelled beside the interaction MLP (spec 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MainEffects {
    /// The plain interaction MLP.
    None,
    /// MLP-M: one univariate ReLU net per feature (`1 → 10 → 10 → 10 → C`, no output bias).
    Univariate,
    /// The cheap variant: one bias-free linear layer `p → C`.
    Linear,
}

/// The NID network of spec 1.1: tower 0 is the interaction MLP over all `p` features
/// (`hidden`, L1-penalised, read by NID), then the main-effect towers `main` asks for (no L1).
/// Initialised from `rng` in that order.
pub fn nid_network(
    p: usize,
    task: Task,
    hidden: &[usize],
    main: MainEffects,
    main_hidden: &[usize],
    rng: &mut ChaCha8Rng,
) -> AdditiveNet {
    let c = task.outputs();
    let mut towers = vec![Tower::new((0..p).collect(), hidden, c, true, true, rng)];
    match main {
        MainEffects::None => {}
        MainEffects::Univariate => {
            for f in 0..p {
                towers.push(Tower::new(vec![f], main_hidden, c, false, false, rng));
            }
        }
        MainEffects::Linear => towers.push(Tower::new((0..p).collect(), &[], c, false, false, rng)),
    }
    AdditiveNet {
        inputs: p,
        task,
        towers,
    }
}

/// How an [`AdditiveNet`] fit went.
#[derive(Clone, Debug)]
pub struct AdditiveFit {
    /// The trained network (the best weights when early stopping was on).
    pub net: AdditiveNet,
    /// Epochs run.
    pub epochs: usize,
    /// Validation mean loss of the kept weights (without L1); the training loss when the
    /// validation table is empty.
    pub validation_loss: f64,
}

fn check_table(t: &Table<'_>, task: Task) -> Result<(), NnError> {
    if t.x.len() != t.y.len() * t.cols {
        return Err(NnError::Shape(format!(
            "{} inputs for {} rows of {} features",
            t.x.len(),
            t.y.len(),
            t.cols
        )));
    }
    if let Task::Multiclass { classes } = task {
        if let Some(bad) =
            t.y.iter()
                .find(|&&v| !(v >= 0.0 && (v as usize) < classes && v.fract() == 0.0))
        {
            return Err(NnError::Shape(format!(
                "class target {bad} is not an index below {classes}"
            )));
        }
    }
    Ok(())
}

/// Trains `net` from its current weights: Adam (`params.learning_rate`, multiplied by
/// `params.lr_decay` after every epoch), batches of `params.batch_size` reshuffled every epoch
/// with a `ChaCha8Rng` seeded by `seed`, L1 `params.l1` on the towers marked `l1`, at most
/// `params.max_epochs` epochs, early stopping on the validation loss with
/// `params.patience` (spec 1.1). `params.hidden` is not read (the towers fix the sizes).
///
/// # Errors
/// [`NnError::Shape`] for inconsistent tables or towers, [`NnError::NotEnoughData`] for an
/// empty training table, [`NnError::Diverged`] when the validation loss becomes non-finite.
pub fn fit_additive(
    net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    seed: u64,
) -> Result<AdditiveFit, NnError> {
    net.check()?;
    for t in [train, validation] {
        check_table(t, net.task)?;
        if t.cols != net.inputs {
            return Err(NnError::Shape(format!(
                "a table of {} features for a network of {}",
                t.cols, net.inputs
            )));
        }
    }
    if train.rows() == 0 {
        return Err(NnError::NotEnoughData("no training rows".into()));
    }
    if params.batch_size == 0 {
        return Err(NnError::Shape("batch size must be positive".into()));
    }
    train_with(
        net,
        train,
        validation,
        params,
        ChaCha8Rng::seed_from_u64(seed),
    )
}

/// [`fit_additive`]'s loop after its checks, shuffling with `rng`.
pub(crate) fn train_with(
    net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    rng: ChaCha8Rng,
) -> Result<AdditiveFit, NnError> {
    train_weighted(net, train, validation, params, rng, None)
}

/// [`train_with`] with per-row weights for the training and the validation rows (LIME's
/// kernel, spec 3.1): the training gradient and the early-stopping loss are weighted.
pub(crate) fn train_weighted(
    mut net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    mut rng: ChaCha8Rng,
    weights: Option<(&[f32], &[f32])>,
) -> Result<AdditiveFit, NnError> {
    let mut adam = AdamState::new(
        net.towers
            .iter()
            .flat_map(|t| t.weights.iter().chain(&t.biases).map(|v| v.len())),
    );
    let mut ws = Workspace::default();
    let mut grads = net.zero_gradients();
    let (epochs, best) = run_epochs(
        &mut net,
        train,
        params,
        &mut rng,
        weights.map(|(w, _)| w),
        |net, xb, yb, wb, lr| {
            // The batch loss is not used here: skip the L1 term's sum.
            net.backward(xb, yb, wb, params.l1, false, &mut ws, &mut grads);
            let params_mut = net
                .towers
                .iter_mut()
                .flat_map(|t| t.weights.iter_mut().chain(t.biases.iter_mut()));
            let grads_ref = grads.iter().flat_map(|g| g.weights.iter().chain(&g.biases));
            adam.step(params_mut, grads_ref, lr);
        },
        |net| {
            if validation.rows() > 0 {
                net.weighted_mean_loss(validation, weights.map(|(_, v)| v))
            } else {
                net.mean_loss(train)
            }
        },
        |net| net.clone(),
    )?;
    let (validation_loss, net) = best.unwrap_or((f64::NAN, net));
    Ok(AdditiveFit {
        net,
        epochs,
        validation_loss,
    })
}

/// The epoch loop every trainer of these networks shares (spec 1.1): batches of
/// `params.batch_size` rows of `train` reshuffled every epoch with `rng`, `step(state, x, y,
/// row weights, learning rate)` on each (the rows' `weights` when given; the learning rate
/// `params.learning_rate` times `params.lr_decay` per epoch), then `score(state)` (the
/// early-stopping loss; scored only after the last epoch when there is no patience, since a
/// fixed schedule keeps the last weights) and a `snapshot(state)` of each epoch that improves
/// it, stopping after `params.patience` epochs without. Returns the epochs run and the best
/// (score, snapshot).
///
/// # Errors
/// [`NnError::Diverged`] when a score is not finite.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_epochs<S, T>(
    state: &mut S,
    train: &Table<'_>,
    params: &MlpParams,
    rng: &mut ChaCha8Rng,
    weights: Option<&[f32]>,
    mut step: impl FnMut(&mut S, &[f32], &[f32], Option<&[f32]>, f32),
    mut score: impl FnMut(&mut S) -> f64,
    snapshot: impl Fn(&S) -> T,
) -> Result<(usize, Option<(f64, T)>), NnError> {
    let p = train.cols;
    let mut order: Vec<usize> = (0..train.rows()).collect();
    let (mut xb, mut yb, mut wb) = (Vec::new(), Vec::new(), Vec::new());
    let mut lr = params.learning_rate;
    let mut stopping = EarlyStopping::new(params.patience);
    let mut epochs = 0;
    for epoch in 1..=params.max_epochs {
        epochs = epoch;
        order.shuffle(rng);
        for chunk in order.chunks(params.batch_size) {
            xb.clear();
            yb.clear();
            wb.clear();
            for &i in chunk {
                xb.extend_from_slice(&train.x[i * p..(i + 1) * p]);
                yb.push(train.y[i]);
                if let Some(w) = weights {
                    wb.push(w.get(i).copied().unwrap_or(1.0));
                }
            }
            let w = weights.map(|_| wb.as_slice());
            step(state, &xb, &yb, w, lr as f32);
        }
        lr *= params.lr_decay;
        // A fixed schedule keeps the last epoch's weights whatever the validation loss says:
        // score only that epoch (the result is the same, each epoch ~15% cheaper).
        if params.patience.is_none() && epoch < params.max_epochs {
            continue;
        }
        let value = score(state);
        if !value.is_finite() {
            return Err(NnError::Diverged {
                what: "validation loss".into(),
                value,
                epoch,
            });
        }
        if stopping.update(value, || snapshot(state)) {
            break;
        }
    }
    Ok((epochs, stopping.into_best()))
}

/// Settings of MLP-Cutoff (spec 1.5). The paper gives no sizes nor plateau rule; these are
/// ours, fixed and documented: univariate towers `1 → 10 → 10 → C`, one tower
/// `|I| → 20 → 10 → C` per included interaction, trained without L1; an interaction counts
/// as an improvement when it lowers the validation loss by more than `tolerance` times the
/// loss of the main-effects-only model (K = 0); the walk stops after `patience` included
/// interactions in a row that do not improve, and K is the last one that did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CutoffParams {
    /// Hidden sizes of the univariate towers.
    pub main_hidden: Vec<usize>,
    /// Hidden sizes of each interaction's tower.
    pub interaction_hidden: Vec<usize>,
    /// Training of every `c_K` (its `l1` and `hidden` are not read).
    pub training: MlpParams,
    /// Non-improving steps in a row that end the walk.
    pub patience: usize,
    /// Minimum improvement, as a fraction of the K = 0 validation loss.
    pub tolerance: f64,
    /// Most ranked interactions walked.
    pub max_interactions: usize,
    /// Learning-rate multiplier for the warm-started fits `c_1, c_2, …` (fine-tuning).
    pub warm_lr_scale: f64,
}

impl Default for CutoffParams {
    fn default() -> Self {
        CutoffParams {
            main_hidden: vec![10, 10],
            interaction_hidden: vec![20, 10],
            training: MlpParams {
                hidden: vec![],
                l1: 0.0,
                learning_rate: 0.01,
                lr_decay: 1.0,
                batch_size: 100,
                max_epochs: 100,
                patience: Some(5),
            },
            patience: 2,
            tolerance: 0.01,
            max_interactions: 20,
            warm_lr_scale: 0.1,
        }
    }
}

/// One step of the cut-off walk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CutoffPoint {
    /// Number of ranked interactions walked (0 = main effects only).
    pub k: usize,
    /// The k-th ranked interaction (empty at k = 0).
    pub interaction: Vec<usize>,
    /// False when it was skipped as a subset of an included interaction (its loss repeats
    /// the previous one and no model was fit).
    pub included: bool,
    /// Validation mean loss of `c_k`.
    pub validation_loss: f64,
}

/// The result of MLP-Cutoff.
#[derive(Clone, Debug)]
pub struct Cutoff {
    /// The chosen K: the first K ranked interactions are above the cut-off.
    pub k: usize,
    /// The walk, from k = 0.
    pub curve: Vec<CutoffPoint>,
    /// The model `c_K` of the chosen K (its towers: univariate nets, then interactions).
    pub net: AdditiveNet,
    /// The interaction sets it contains (supersets replace their subsets).
    pub components: Vec<Vec<usize>>,
}

fn cutoff_network(
    p: usize,
    task: Task,
    components: &[Vec<usize>],
    params: &CutoffParams,
    seed: u64,
) -> AdditiveNet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = task.outputs();
    let mut towers: Vec<Tower> = (0..p)
        .map(|f| Tower::new(vec![f], &params.main_hidden, c, true, false, &mut rng))
        .collect();
    for set in components {
        towers.push(Tower::new(
            set.clone(),
            &params.interaction_hidden,
            c,
            false,
            false,
            &mut rng,
        ));
    }
    AdditiveNet {
        inputs: p,
        task,
        towers,
    }
}

/// MLP-Cutoff (spec 1.5): fits `c_K(x) = Σ_i g_i(x_i) + Σ_{k≤K} g'_k(x_{I_k})` for
/// K = 0, 1, … over `ranked` (interaction sets, strongest first, features sorted), adding one
/// interaction at a time: a subset of an included set is skipped, a superset replaces its
/// included subsets. Chooses K by the plateau rule of [`CutoffParams`]. `c_0` is fitted from
/// an initialisation seeded by `seed`; every later `c_k` starts from the trained `c_(k−1)`
/// (less the towers of the subsets the new set replaces) plus a fresh tower for the new set,
/// seeded by `seed` and k, so the curve measures what each addition brings rather than
/// the noise between independent fits.
///
/// # Errors
/// As [`fit_additive`].
pub fn mlp_cutoff(
    ranked: &[Vec<usize>],
    task: Task,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &CutoffParams,
    seed: u64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Cutoff, NnError> {
    let p = train.cols;
    let steps = ranked.len().min(params.max_interactions);
    progress(0, steps);
    let s0 = glider_core::derive_seed(seed, 0);
    let base = fit_additive(
        cutoff_network(p, task, &[], params, s0),
        train,
        validation,
        &params.training,
        s0,
    )?;
    let base_loss = base.validation_loss;
    let threshold = params.tolerance * base_loss.abs();
    let mut curve = vec![CutoffPoint {
        k: 0,
        interaction: vec![],
        included: true,
        validation_loss: base_loss,
    }];
    let mut current = base.net.clone();
    let mut best = (0usize, base_loss, base.net, Vec::<Vec<usize>>::new());
    let mut components: Vec<Vec<usize>> = Vec::new();
    let mut misses = 0usize;
    let mut last_loss = base_loss;
    for (i, set) in ranked.iter().take(steps).enumerate() {
        let k = i + 1;
        progress(k, steps);
        let subsumed = components
            .iter()
            .any(|c| glider_core::nid::is_subset(set, c));
        if subsumed {
            curve.push(CutoffPoint {
                k,
                interaction: set.clone(),
                included: false,
                validation_loss: last_loss,
            });
            continue;
        }
        components.retain(|c| !glider_core::nid::is_subset(c, set));
        components.push(set.clone());
        // Warm start: c_k is c_(k−1) without the towers of the subsets it replaces, plus a
        // fresh tower for the new set, trained further.
        let s = glider_core::derive_seed(seed, k as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(s);
        let mut net = current;
        let univariate = p;
        let mut kept = net.towers.split_off(univariate);
        kept.retain(|t| !glider_core::nid::is_subset(&t.features, set));
        net.towers.extend(kept);
        let mut tower = Tower::new(
            set.clone(),
            &params.interaction_hidden,
            task.outputs(),
            false,
            false,
            &mut rng,
        );
        // Its output weights start at zero: c_k starts as exactly c_(k−1).
        if let Some(w) = tower.weights.last_mut() {
            w.fill(0.0);
        }
        net.towers.push(tower);
        let fine_tune = MlpParams {
            learning_rate: params.training.learning_rate * params.warm_lr_scale,
            ..params.training.clone()
        };
        let f = fit_additive(net, train, validation, &fine_tune, s)?;
        current = f.net.clone();
        last_loss = f.validation_loss;
        curve.push(CutoffPoint {
            k,
            interaction: set.clone(),
            included: true,
            validation_loss: f.validation_loss,
        });
        if f.validation_loss < best.1 - threshold {
            best = (k, f.validation_loss, f.net, components.clone());
            misses = 0;
        } else {
            misses += 1;
            if misses >= params.patience {
                break;
            }
        }
    }
    Ok(Cutoff {
        k: best.0,
        curve,
        net: best.2,
        components: best.3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::ReluStack;
    use burn::optim::GradientsParams;
    use burn::tensor::activation::{log_softmax, relu};
    use burn::tensor::{Int, Tensor, TensorData};

    fn uniform(n: usize, p: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * p).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// The Softplus tower's gradients agree with central finite differences of its loss
    /// (GradientNID's surrogate; the ReLU path is checked against autodiff below).
    #[test]
    fn softplus_gradients_match_finite_differences() {
        let (p, n) = (3, 10);
        let x = uniform(n, p, 4);
        let y: Vec<f32> = (0..n).map(|r| x[r * p] * x[r * p + 1]).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut tower = Tower::new((0..p).collect(), &[5, 4], 1, true, false, &mut rng);
        tower.activation = Activation::Softplus;
        let net = AdditiveNet {
            inputs: p,
            task: Task::Regression,
            towers: vec![tower],
        };
        let (_, grads) = net.loss_and_gradients(&x, &y, 0.0);
        let h = 1e-2f32;
        let mut checked = 0;
        for l in 0..3 {
            for k in [0usize, 3, 7] {
                if k >= net.towers[0].weights[l].len() {
                    continue;
                }
                let loss_at = |delta: f32| {
                    let mut m = net.clone();
                    m.towers[0].weights[l][k] += delta;
                    m.loss_and_gradients(&x, &y, 0.0).0
                };
                let numeric = (loss_at(h) - loss_at(-h)) / (2.0 * f64::from(h));
                let analytic = f64::from(grads[0].weights[l][k]);
                let err = (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-3);
                assert!(err < 1e-2, "layer {l} weight {k}: {analytic} vs {numeric}");
                checked += 1;
            }
        }
        assert_eq!(checked, 8);
    }

    /// Every tower's gradients equal burn's autodiff gradients of the same loss, for the
    /// three tasks, on MLP-M (interaction MLP + univariate towers without output bias) plus
    /// a tower over a feature subset.
    #[test]
    fn gradients_match_autodiff_for_every_task() {
        let (p, n) = (4, 12);
        let x = uniform(n, p, 1);
        for task in [
            Task::Regression,
            Task::Binary,
            Task::Multiclass { classes: 3 },
        ] {
            let c = task.outputs();
            let y: Vec<f32> = (0..n)
                .map(|r| match task {
                    Task::Regression => x[r * p] * x[r * p + 1] - x[r * p + 2],
                    Task::Binary => f32::from(u8::from(x[r * p] > 0.0)),
                    Task::Multiclass { .. } => (r % 3) as f32,
                })
                .collect();
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let mut net = nid_network(p, task, &[6, 5], MainEffects::Univariate, &[3, 3], &mut rng);
            net.towers
                .push(Tower::new(vec![1, 3], &[4], c, false, false, &mut rng));
            let l1 = 0.01;
            let (loss, grads) = net.loss_and_gradients(&x, &y, l1);

            // The same model in burn: one ReluStack per tower, weights copied in.
            let device = crate::cpu().autodiff();
            let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), [n, p]), &device);
            let stacks: Vec<ReluStack> = net
                .towers
                .iter()
                .map(|t| {
                    let mut s = ReluStack::new(
                        t.sizes[0],
                        &t.sizes[1..],
                        &mut ChaCha8Rng::seed_from_u64(0),
                        &device,
                    );
                    for (l, layer) in s.layers.iter_mut().enumerate() {
                        let (din, dout) = (t.sizes[l], t.sizes[l + 1]);
                        let mut w = vec![0f32; din * dout];
                        for i in 0..din {
                            for o in 0..dout {
                                w[i * dout + o] = t.weights[l][o * din + i];
                            }
                        }
                        layer.weight = burn::module::Param::from_tensor(Tensor::from_data(
                            TensorData::new(w, [din, dout]),
                            &device,
                        ));
                        layer.bias = burn::module::Param::from_tensor(Tensor::from_data(
                            TensorData::new(t.biases[l].clone(), [dout]),
                            &device,
                        ));
                    }
                    s
                })
                .collect();
            let mut out: Option<Tensor<2>> = None;
            for (t, s) in net.towers.iter().zip(&stacks) {
                let idx = Tensor::<1, Int>::from_data(
                    TensorData::new(
                        t.features.iter().map(|&f| f as i64).collect(),
                        [t.features.len()],
                    ),
                    &device,
                );
                let h = s.forward(xt.clone().select(1, idx));
                out = Some(match out {
                    None => h,
                    Some(o) => o + h,
                });
            }
            let out = out.expect("towers");
            let data_loss = match task {
                Task::Regression => {
                    let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [n, 1]), &device);
                    (out - yt).square().mean()
                }
                Task::Binary => {
                    let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [n, 1]), &device);
                    // softplus(z) − y z = relu(z) − y z + log(1 + exp(−|z|))
                    (relu(out.clone()) - out.clone() * yt + (out.abs().neg().exp() + 1.0).log())
                        .mean()
                }
                Task::Multiclass { classes } => {
                    let mut onehot = vec![0f32; n * classes];
                    for (r, &k) in y.iter().enumerate() {
                        onehot[r * classes + k as usize] = 1.0;
                    }
                    let yt = Tensor::<2>::from_data(TensorData::new(onehot, [n, classes]), &device);
                    (log_softmax(out, 1) * yt).sum().neg() / n as f32
                }
            };
            let total = data_loss + stacks[0].l1().expect("layers").mul_scalar(l1);
            let burn_loss = crate::to_vec(total.clone().inner()).expect("loss")[0] as f64;
            assert!(
                (loss - burn_loss).abs() < 1e-5 * burn_loss.abs().max(1.0),
                "{task:?}: loss {loss} vs {burn_loss}"
            );
            let mut g = GradientsParams::from_grads(total.backward(), &stacks);
            for (ti, (t, s)) in net.towers.iter().zip(&stacks).enumerate() {
                for (l, layer) in s.layers.iter().enumerate() {
                    let (din, dout) = (t.sizes[l], t.sizes[l + 1]);
                    let gw =
                        crate::to_vec(g.remove::<2>(layer.weight.id).expect("grad")).expect("grad");
                    for i in 0..din {
                        for o in 0..dout {
                            let (a, b) = (gw[i * dout + o], grads[ti].weights[l][o * din + i]);
                            assert!(
                                (a - b).abs() < 1e-5,
                                "{task:?} tower {ti} layer {l} w[{o},{i}]: {a} vs {b}"
                            );
                        }
                    }
                    let gb =
                        crate::to_vec(g.remove::<1>(layer.bias.id).expect("grad")).expect("grad");
                    let frozen = l + 1 == t.layers() && !t.output_bias;
                    for (o, (a, b)) in gb.iter().zip(&grads[ti].biases[l]).enumerate() {
                        let a = if frozen { 0.0 } else { *a };
                        assert!(
                            (a - b).abs() < 1e-5,
                            "{task:?} tower {ti} layer {l} bias {o}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn task_losses_and_errors_by_hand() {
        // Binary: z = 0 → ln 2 each; error counts z > 0 as class 1.
        let l = Task::Binary.loss(&[0.0, 0.0], &[1.0, 0.0], None);
        assert!((l - 2.0 * 2f64.ln()).abs() < 1e-12);
        assert_eq!(Task::Binary.error(&[0.3, 0.2], &[1.0, 0.0]), 0.5);
        // Multiclass, logits [0, ln 3] target 1: −ln(3/4).
        let c = Task::Multiclass { classes: 2 };
        let l = c.loss(&[0.0, 3f32.ln()], &[1.0], None);
        assert!((l - (4.0f64 / 3.0).ln()).abs() < 1e-6);
        assert_eq!(c.error(&[0.0, 1.0, 2.0, 1.0], &[1.0, 1.0]), 0.5);
        assert_eq!(Task::Regression.error(&[1.0, 3.0], &[0.0, 1.0]), 2.5);
    }

    /// F-like data: y = 2 x0 x1 + 2 x2 x3 x4 + sin(2 x5 x6) + x7 + x8², p = 10.
    fn planted(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let p = 10;
        let x = uniform(n, p, seed);
        let y = x
            .chunks(p)
            .map(|r| {
                2.0 * r[0] * r[1]
                    + 2.0 * r[2] * r[3] * r[4]
                    + (2.0 * r[5] * r[6]).sin()
                    + r[7]
                    + r[8] * r[8]
            })
            .collect();
        (x, y)
    }

    /// With the true interactions ranked first and spurious ones after, the cut-off keeps
    /// exactly the three real ones.
    #[test]
    fn cutoff_stops_at_the_three_planted_interactions() {
        let p = 10;
        let (x, y) = planted(4000, 5);
        let table = |a: usize, b: usize| Table {
            x: &x[a * p..b * p],
            y: &y[a..b],
            cols: p,
        };
        let ranked = vec![
            vec![0, 1],
            vec![2, 3, 4],
            vec![5, 6],
            vec![2, 3],
            vec![7, 9],
            vec![1, 8],
            vec![0, 9],
        ];
        let params = CutoffParams {
            training: MlpParams {
                max_epochs: 40,
                ..CutoffParams::default().training
            },
            ..CutoffParams::default()
        };
        let cut = mlp_cutoff(
            &ranked,
            Task::Regression,
            &table(0, 3000),
            &table(3000, 4000),
            &params,
            1,
            |_, _| {},
        )
        .expect("fits");
        assert_eq!(cut.k, 3, "curve {:?}", cut.curve);
        assert_eq!(cut.components, ranked[..3].to_vec());
        // {2,3} is a subset of the included {2,3,4}: skipped, no fit.
        assert!(!cut.curve[4].included);
        assert!(cut.curve[3].validation_loss < 0.5 * cut.curve[0].validation_loss);
    }

    /// MLP-M learns the interactions + main effects and NID, reading tower 0 only, ranks the
    /// five planted pairs first; the same seed gives the same weights.
    #[test]
    fn mlp_m_fit_is_seeded_and_nid_reads_the_interaction() {
        let p = 10;
        let (x, y) = planted(3000, 2);
        let train = Table {
            x: &x[..2500 * p],
            y: &y[..2500],
            cols: p,
        };
        let val = Table {
            x: &x[2500 * p..],
            y: &y[2500..],
            cols: p,
        };
        let params = MlpParams {
            hidden: vec![32, 16],
            l1: 5e-5,
            max_epochs: 30,
            ..MlpParams::default()
        };
        let make = || {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            nid_network(
                p,
                Task::Regression,
                &params.hidden,
                MainEffects::Univariate,
                &[10, 10, 10],
                &mut rng,
            )
        };
        let a = fit_additive(make(), &train, &val, &params, 3).expect("fit");
        let b = fit_additive(make(), &train, &val, &params, 3).expect("fit");
        assert_eq!(a.net, b.net);
        assert!(a.validation_loss < 0.1, "loss {}", a.validation_loss);
        let w = a.net.towers[0].nid_weights().expect("weights");
        let pairs = glider_core::nid::pairwise_strengths(&w, Default::default()).expect("nid");
        let mut top5: Vec<Vec<usize>> = pairs[..5].iter().map(|r| r.features.clone()).collect();
        top5.sort();
        let truth = vec![vec![0, 1], vec![2, 3], vec![2, 4], vec![3, 4], vec![5, 6]];
        assert_eq!(top5, truth, "pairs {pairs:?}");
        // Output biases of the univariate towers stay zero.
        assert!(a.net.towers[1..]
            .iter()
            .all(|t| t.biases.last().is_some_and(|b| b.iter().all(|&v| v == 0.0))));
    }
}

//! A specialised trainer for the L1 MLP surrogate: the hot loop of GLIDER (one fit per
//! instance, 1,000 instances per run).
//!
//! Same model, loss, initialisation, batch order and optimiser as [`crate::mlp::fit_mlp`]
//! (the burn autodiff version): `p → h1 → … → hL → 1`, ReLU, MSE + `λ Σ|W|` (biases excluded),
//! Adam, early stopping with the best weights restored. The forward and backward passes are
//! written out as matrix products on the `gemm` crate (the kernels burn's CPU backend uses),
//! with preallocated buffers and no graph, which removes the per-operation overhead that
//! dominates at these small sizes (rust-deps.md §1.2). A test checks its gradients and its
//! trained result against the autodiff version.
//!
//! Layout: weights `[d_out, d_in]` row-major (the PyTorch / NID layout), activations
//! `[batch, width]` row-major.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use glider_core::nid::{Matrix, MlpWeights};

use crate::mlp::{EarlyStopping, MlpParams, Table};
use crate::NnError;

/// `dst[m×n] (+)= A · B` where element `(i, l)` of `A` is `a[i*a_rs + l*a_cs]` and element
/// `(l, j)` of `B` is `b[l*b_rs + j*b_cs]`; `dst` is row-major `m×n`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= m * n, "gemm destination too small");
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    assert!(
        (m - 1) * a_rs + (k - 1) * a_cs < a.len(),
        "gemm lhs out of bounds"
    );
    assert!(
        (k - 1) * b_rs + (n - 1) * b_cs < b.len(),
        "gemm rhs out of bounds"
    );
    // SAFETY: the assertions above keep every index the kernel reads or writes inside the
    // three slices; `dst` does not alias `a` or `b` (a `&mut` and two `&`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The network's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct FastMlp {
    /// Layer widths, input first, output (1) last.
    pub sizes: Vec<usize>,
    /// Per layer, `[d_out, d_in]` row-major.
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `[d_out]`.
    pub biases: Vec<Vec<f32>>,
}

/// Gradients, same shapes as [`FastMlp`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    /// Per layer, `[d_out, d_in]`.
    pub weights: Vec<Vec<f32>>,
    /// Per layer, `[d_out]`.
    pub biases: Vec<Vec<f32>>,
}

/// Reusable activation buffers.
#[derive(Default)]
struct Workspace {
    /// Post-activation outputs per layer, `[batch, d_out]`.
    acts: Vec<Vec<f32>>,
    /// Gradient with respect to a layer's pre-activation.
    dz: Vec<f32>,
    /// Gradient with respect to the layer's input.
    da: Vec<f32>,
}

impl FastMlp {
    /// PyTorch's default initialisation drawn from `rng` in the same order as
    /// [`crate::layers::DenseLayer::new`], so both trainers start from the same weights.
    pub fn new(d_in: usize, hidden: &[usize], rng: &mut ChaCha8Rng) -> Self {
        let mut sizes = vec![d_in];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for w in sizes.windows(2) {
            let (din, dout) = (w[0], w[1]);
            let bound = 1.0 / (din.max(1) as f32).sqrt();
            let mut t = vec![0f32; din * dout];
            // Drawn as [d_in, d_out] (burn's layout), stored transposed.
            for i in 0..din {
                for o in 0..dout {
                    t[o * din + i] = rng.random_range(-bound..bound);
                }
            }
            let b: Vec<f32> = (0..dout).map(|_| rng.random_range(-bound..bound)).collect();
            weights.push(t);
            biases.push(b);
        }
        FastMlp {
            sizes,
            weights,
            biases,
        }
    }

    fn layers(&self) -> usize {
        self.weights.len()
    }

    /// Forward pass of `x: [batch, d_in]`; fills `ws.acts` (the last is the output).
    fn forward(&self, x: &[f32], batch: usize, ws: &mut Workspace) {
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
                let input: &[f32] = if l == 0 { x } else { &ws.acts[l - 1] };
                // out[b, o] += Σ_i input[b, i] · W[o, i]
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
                for v in out.iter_mut() {
                    if *v < 0.0 {
                        *v = 0.0;
                    }
                }
            }
            ws.acts[l] = out;
        }
    }

    /// Predictions for every row of `x: [rows, d_in]`.
    pub fn predict(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut ws = Workspace::default();
        let mut out = Vec::with_capacity(rows);
        let d = self.sizes[0];
        for start in (0..rows).step_by(4096) {
            let end = (start + 4096).min(rows);
            self.forward(&x[start * d..end * d], end - start, &mut ws);
            out.extend_from_slice(&ws.acts[self.layers() - 1][..end - start]);
        }
        out
    }

    /// Mean squared error on a table.
    pub fn mse(&self, table: &Table<'_>) -> f64 {
        let n = table.rows();
        if n == 0 {
            return 0.0;
        }
        let pred = self.predict(table.x, n);
        pred.iter()
            .zip(table.y)
            .map(|(&p, &y)| ((p - y) as f64).powi(2))
            .sum::<f64>()
            / n as f64
    }

    /// Loss `mean((f(x) − y)²) + l1 · Σ|W|` of one batch and its gradients.
    pub fn loss_and_gradients(&self, x: &[f32], y: &[f32], l1: f64) -> (f64, Gradients) {
        let mut ws = Workspace::default();
        let mut grads = self.zero_gradients();
        let loss = self.backward(x, y, l1, &mut ws, &mut grads);
        (loss, grads)
    }

    fn zero_gradients(&self) -> Gradients {
        Gradients {
            weights: self.weights.iter().map(|w| vec![0.0; w.len()]).collect(),
            biases: self.biases.iter().map(|b| vec![0.0; b.len()]).collect(),
        }
    }

    fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        l1: f64,
        ws: &mut Workspace,
        grads: &mut Gradients,
    ) -> f64 {
        let batch = y.len();
        self.forward(x, batch, ws);
        let last = self.layers() - 1;
        // dL/dout = 2 (out − y) / B
        ws.dz.clear();
        let mut sq = 0.0f64;
        for (&o, &t) in ws.acts[last].iter().zip(y) {
            let d = o - t;
            sq += (d as f64) * (d as f64);
            ws.dz.push(2.0 * d / batch as f32);
        }
        let mut loss = sq / batch as f64;
        for l in (0..self.layers()).rev() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let input: &[f32] = if l == 0 { x } else { &ws.acts[l - 1] };
            // dW[o, i] = Σ_b dz[b, o] · input[b, i]
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
            let db = &mut grads.biases[l];
            db.fill(0.0);
            for row in ws.dz.chunks(dout) {
                for (g, &d) in db.iter_mut().zip(row) {
                    *g += d;
                }
            }
            if l > 0 {
                // da[b, i] = Σ_o dz[b, o] · W[o, i], then through the ReLU of layer l − 1.
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
                for (d, &a) in ws.da.iter_mut().zip(&ws.acts[l - 1]) {
                    if a <= 0.0 {
                        *d = 0.0;
                    }
                }
                std::mem::swap(&mut ws.dz, &mut ws.da);
            }
        }
        if l1 > 0.0 {
            let l1f = l1 as f32;
            for (w, g) in self.weights.iter().zip(grads.weights.iter_mut()) {
                let mut s = 0.0f64;
                for (&wi, gi) in w.iter().zip(g.iter_mut()) {
                    s += wi.abs() as f64;
                    if wi > 0.0 {
                        *gi += l1f;
                    } else if wi < 0.0 {
                        *gi -= l1f;
                    }
                }
                loss += l1 * s;
            }
        }
        loss
    }

    /// The weights as NID reads them.
    ///
    /// # Errors
    /// [`NnError::Shape`] only if the internal shapes were corrupted.
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

/// Adam state over a list of parameter vectors (PyTorch's update:
/// `θ −= lr · m̂ / (√v̂ + ε)`, β = (0.9, 0.999), ε = 1e-8).
pub(crate) struct AdamState {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl AdamState {
    /// State for parameters of the given lengths, in the order `step` will see them.
    pub(crate) fn new(lengths: impl Iterator<Item = usize>) -> Self {
        let m: Vec<Vec<f32>> = lengths.map(|n| vec![0.0; n]).collect();
        AdamState {
            v: m.clone(),
            m,
            t: 0,
        }
    }

    /// One update of every parameter vector from its gradient (same order as `new`).
    pub(crate) fn step<'a, 'b>(
        &mut self,
        params: impl Iterator<Item = &'a mut Vec<f32>>,
        grads: impl Iterator<Item = &'b Vec<f32>>,
        lr: f32,
    ) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for (((p, g), m), v) in params.zip(grads).zip(&mut self.m).zip(&mut self.v) {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
            }
        }
    }
}

/// A surrogate trained by [`fit_fast`].
#[derive(Clone, Debug)]
pub struct FastFit {
    /// The network (best weights when early stopping was on).
    pub net: FastMlp,
    /// Epochs run.
    pub epochs: usize,
    /// Validation MSE of the kept weights.
    pub validation_mse: f64,
}

/// Fits the L1 MLP with the specialised trainer; same contract, defaults and seeding as
/// [`crate::mlp::fit_mlp`].
///
/// # Errors
/// [`NnError::Shape`] for inconsistent inputs, [`NnError::NotEnoughData`] for an empty
/// training table, [`NnError::Diverged`] when the validation loss becomes non-finite.
pub fn fit_fast(
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    seed: u64,
) -> Result<FastFit, NnError> {
    for t in [train, validation] {
        if t.x.len() != t.y.len() * t.cols {
            return Err(NnError::Shape(format!(
                "{} inputs for {} rows of {} features",
                t.x.len(),
                t.y.len(),
                t.cols
            )));
        }
    }
    if train.rows() == 0 {
        return Err(NnError::NotEnoughData("no training rows".into()));
    }
    if params.batch_size == 0 {
        return Err(NnError::Shape("batch size must be positive".into()));
    }
    let p = train.cols;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = FastMlp::new(p, &params.hidden, &mut rng);
    let mut adam = AdamState::new(net.weights.iter().chain(&net.biases).map(|p| p.len()));
    let mut ws = Workspace::default();
    let mut grads = net.zero_gradients();
    let mut order: Vec<usize> = (0..train.rows()).collect();
    let (mut xb, mut yb) = (Vec::new(), Vec::new());
    let mut lr = params.learning_rate;
    let mut stopping = EarlyStopping::new(params.patience);
    let mut epochs = 0;
    for epoch in 1..=params.max_epochs {
        epochs = epoch;
        order.shuffle(&mut rng);
        for chunk in order.chunks(params.batch_size) {
            xb.clear();
            yb.clear();
            for &i in chunk {
                xb.extend_from_slice(&train.x[i * p..(i + 1) * p]);
                yb.push(train.y[i]);
            }
            net.backward(&xb, &yb, params.l1, &mut ws, &mut grads);
            adam.step(
                net.weights.iter_mut().chain(net.biases.iter_mut()),
                grads.weights.iter().chain(&grads.biases),
                lr as f32,
            );
        }
        lr *= params.lr_decay;
        let score = if validation.rows() > 0 {
            net.mse(validation)
        } else {
            net.mse(train)
        };
        if !score.is_finite() {
            return Err(NnError::Diverged {
                what: "validation MSE".into(),
                value: score,
                epoch,
            });
        }
        if stopping.update(score, || net.clone()) {
            break;
        }
    }
    let (validation_mse, net) = stopping.into_best().unwrap_or((f64::NAN, net));
    Ok(FastFit {
        net,
        epochs,
        validation_mse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::ReluStack;
    use burn::optim::GradientsParams;
    use burn::tensor::{Tensor, TensorData};

    fn data(n: usize, p: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::with_capacity(n * p);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..p)
                .map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 })
                .collect();
            y.push(1.5 * row[0] * row[2] - row[1] + 0.5 * row[3] * row[4] * row[1]);
            x.extend(row);
        }
        (x, y)
    }

    /// The hand-written gradients equal burn's autodiff gradients of the same loss.
    #[test]
    fn gradients_match_autodiff() {
        let (p, hidden, n) = (6, vec![8, 5], 20);
        let (x, y) = data(n, p, 1);
        let l1 = 0.01;
        let fast = FastMlp::new(p, &hidden, &mut ChaCha8Rng::seed_from_u64(4));
        let (loss, grads) = fast.loss_and_gradients(&x, &y, l1);

        let device = crate::cpu().autodiff();
        let mut sizes = hidden.clone();
        sizes.push(1);
        let net = ReluStack::new(p, &sizes, &mut ChaCha8Rng::seed_from_u64(4), &device);
        let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), [n, p]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [n, 1]), &device);
        let l = (net.forward(xt) - yt).square().mean() + net.l1().expect("layers").mul_scalar(l1);
        let burn_loss = crate::to_vec(l.clone().inner()).unwrap()[0] as f64;
        assert!((loss - burn_loss).abs() < 1e-5 * burn_loss.abs().max(1.0));
        let mut g = GradientsParams::from_grads(l.backward(), &net);
        for (i, layer) in net.layers.iter().enumerate() {
            let gw = crate::to_vec(g.remove::<2>(layer.weight.id).expect("grad")).unwrap();
            let gb = crate::to_vec(g.remove::<1>(layer.bias.id).expect("grad")).unwrap();
            let (din, dout) = (fast.sizes[i], fast.sizes[i + 1]);
            for ii in 0..din {
                for o in 0..dout {
                    let a = gw[ii * dout + o];
                    let b = grads.weights[i][o * din + ii];
                    assert!((a - b).abs() < 1e-5, "layer {i} w[{o},{ii}]: {a} vs {b}");
                }
            }
            for (a, b) in gb.iter().zip(&grads.biases[i]) {
                assert!((a - b).abs() < 1e-5, "layer {i} bias: {a} vs {b}");
            }
        }
        // Same initial weights as the burn layer stack.
        assert_eq!(
            fast.nid_weights().unwrap(),
            glider_core::nid::MlpWeights::new(net.weight_matrices().unwrap()).unwrap()
        );
    }

    /// Trained on the same data, seed and settings, both trainers fit as well and NID reads
    /// the same strongest pair from both.
    #[test]
    fn trained_result_matches_autodiff() {
        let p = 6;
        let (x, y) = data(1500, p, 2);
        let train = Table {
            x: &x[..1200 * p],
            y: &y[..1200],
            cols: p,
        };
        let val = Table {
            x: &x[1200 * p..],
            y: &y[1200..],
            cols: p,
        };
        let params = MlpParams {
            hidden: vec![32, 16],
            max_epochs: 40,
            ..MlpParams::default()
        };
        let fast = fit_fast(&train, &val, &params, 8).unwrap();
        let slow = crate::mlp::fit_mlp(&train, &val, &params, 8).unwrap();
        assert!(fast.validation_mse < 0.02, "fast {}", fast.validation_mse);
        assert!(
            slow.validation_mse < 0.02,
            "autodiff {}",
            slow.validation_mse
        );
        let top = |w: &MlpWeights| {
            glider_core::nid::pairwise_strengths(w, Default::default()).unwrap()[0]
                .features
                .clone()
        };
        assert_eq!(top(&fast.net.nid_weights().unwrap()), vec![0, 2]);
        assert_eq!(top(&slow.weights), vec![0, 2]);
        // Deterministic.
        let again = fit_fast(&train, &val, &params, 8).unwrap();
        assert_eq!(again.net, fast.net);
    }
}

//! The surrogate's training loop on register-tile products (GLIDER spec 3.1; NID's L1 MLP of
//! spec 1.1: one tower `p → h1 → … → 1`, MSE + `λ Σ|W|`, Adam, early stopping).
//!
//! The same epoch loop as [`crate::additive::train_weighted`] ([`crate::additive::run_epochs`]:
//! same batches, loss, L1 term, Adam and early stopping; results differ from it only in
//! rounding), with its three products per
//! layer on [`crate::kernels::matmul_b_rows`] instead of the `gemm` crate: at 50-row batches
//! gemm packs both operands of every product and dispatches per call, and the whole loop ran
//! at about 57% of the core's multiply-add rate; the register tiles run the surrogate's
//! products at 64-92% of it (BENCHMARKS.md, 2026-12-07). The tiles read the
//! right-hand operand by rows, so the forward pass and the weight gradient use the weights as
//! `[d_in, d_out]` (the copy Adam updates) and the backward pass to the activations uses
//! `[d_out, d_in]` (a transposed copy refreshed after every step, 8×8 blocks at a time). The
//! whole loop is compiled for AVX2 + FMA, so the elementwise passes (activation, its
//! gradient, the L1 term, the bias gradients) run eight lanes wide; Rust fuses no
//! multiply-adds outside the tiles, so those passes give the same values as the reference's.
//!
//! Used by [`crate::fast_mlp`] for the surrogate (ReLU for NID, Softplus for GradientNID) on
//! x86-64 with AVX2 and FMA ([`applies`]); everything else trains with
//! [`crate::additive::train_weighted`], which stays the reference the tests compare with.

use rand_chacha::ChaCha8Rng;

use crate::additive::{
    add_l1_gradient, mean_loss_of, run_epochs, scale_by_row_weights, Activation, AdditiveFit,
    AdditiveNet, Task,
};
use crate::kernels::{matmul_b_rows, relu, relu_backward, small_available, transpose, AdamState};
use crate::mlp::{MlpParams, Table};
use crate::NnError;

/// True when [`train`] handles `net`: one regression tower reading every feature in order,
/// one output with a bias, on a CPU with AVX2 and FMA.
pub(crate) fn applies(net: &AdditiveNet) -> bool {
    let [tower] = net.towers.as_slice() else {
        return false;
    };
    small_available()
        && net.task == Task::Regression
        && tower.output_bias
        && tower.sizes.len() >= 2
        && tower.sizes.first() == Some(&net.inputs)
        && tower.sizes.last() == Some(&1)
        && tower.features.iter().enumerate().all(|(i, &f)| i == f)
}

/// The trained parameters: per layer the weights `[d_in, d_out]` and the biases `[d_out]`.
#[derive(Clone)]
struct Params {
    wt: Vec<Vec<f32>>,
    b: Vec<Vec<f32>>,
}

/// Buffers reused across batches.
#[derive(Default)]
struct Work {
    /// Per layer, its outputs `[rows, d_out]` (after the activation for hidden layers).
    acts: Vec<Vec<f32>>,
    /// Per layer, the weights as `[d_out, d_in]` (for the backward pass to the activations).
    w: Vec<Vec<f32>>,
    /// The gradient at the current layer's outputs, `[rows, d_out]`.
    dz: Vec<f32>,
    /// The gradient at its inputs, `[rows, d_in]`.
    da: Vec<f32>,
    /// A table's outputs, `[rows]` (the early-stopping loss).
    out: Vec<f32>,
}

/// The network's shape and its passes.
struct Net<'a> {
    /// Layer widths, input first, output (1) last.
    sizes: &'a [usize],
    /// L1 strength on every weight (0 when the tower is not penalised).
    l1: f32,
    activation: Activation,
}

impl Net<'_> {
    #[inline(always)]
    fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// `x: [rows, p]` through every layer; the outputs are `work.acts[last]`, `[rows]`.
    #[inline(always)]
    fn forward(&self, p: &Params, x: &[f32], rows: usize, work: &mut Work) {
        work.acts.resize(self.layers(), Vec::new());
        for l in 0..self.layers() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let mut out = std::mem::take(&mut work.acts[l]);
            out.resize(rows * dout, 0.0);
            for row in out.chunks_exact_mut(dout) {
                row.copy_from_slice(&p.b[l]);
            }
            let input: &[f32] = if l == 0 { x } else { &work.acts[l - 1] };
            matmul_b_rows(
                &mut out, rows, dout, din, input, din, 1, &p.wt[l], dout, true,
            );
            if l + 1 < self.layers() {
                match self.activation {
                    Activation::Relu => relu(&mut out),
                    other => other.apply(&mut out),
                }
            }
            work.acts[l] = out;
        }
    }

    /// Gradients of the batch loss (MSE over the rows, each row's gradient scaled by its
    /// weight over the batch's mean weight when `weights` is given, plus the L1 term) into `g`
    /// (same shapes as `p`), after [`Net::forward`] of the same `x`. `work.w` must hold `p`'s
    /// weights transposed ([`Net::refresh`]).
    #[inline(always)]
    fn backward(
        &self,
        p: &Params,
        x: &[f32],
        y: &[f32],
        weights: Option<&[f32]>,
        work: &mut Work,
        g: &mut Params,
    ) {
        let rows = y.len();
        let divisor = rows.max(1) as f32;
        Task::Regression.loss(
            &work.acts[self.layers() - 1],
            y,
            Some((&mut work.dz, divisor)),
        );
        if let Some(w) = weights {
            scale_by_row_weights(&mut work.dz, w, 1);
        }
        for l in (0..self.layers()).rev() {
            let (din, dout) = (self.sizes[l], self.sizes[l + 1]);
            let input: &[f32] = if l == 0 { x } else { &work.acts[l - 1] };
            // dWᵀ = inputᵀ · dz: [d_in, rows] · [rows, d_out].
            matmul_b_rows(
                &mut g.wt[l],
                din,
                dout,
                rows,
                input,
                1,
                din,
                &work.dz,
                dout,
                false,
            );
            let db = &mut g.b[l];
            db.fill(0.0);
            for row in work.dz.chunks_exact(dout) {
                for (s, &d) in db.iter_mut().zip(row) {
                    *s += d;
                }
            }
            if l > 0 {
                // dA = dz · W: [rows, d_out] · [d_out, d_in], then through the activation.
                work.da.resize(rows * din, 0.0);
                matmul_b_rows(
                    &mut work.da,
                    rows,
                    din,
                    dout,
                    &work.dz,
                    dout,
                    1,
                    &work.w[l],
                    din,
                    false,
                );
                match self.activation {
                    Activation::Relu => relu_backward(&mut work.da, &work.acts[l - 1]),
                    other => other.backprop(&mut work.da, &work.acts[l - 1]),
                }
                std::mem::swap(&mut work.dz, &mut work.da);
            }
        }
        if self.l1 > 0.0 {
            for (w, gw) in p.wt.iter().zip(g.wt.iter_mut()) {
                add_l1_gradient(w, gw, self.l1);
            }
        }
    }

    /// Refreshes the transposed weights the backward pass reads (layer 0 has no input
    /// gradient, so it needs none).
    #[inline(always)]
    fn refresh(&self, p: &Params, work: &mut Work) {
        work.w.resize(self.layers(), Vec::new());
        for l in 1..self.layers() {
            transpose(&p.wt[l], self.sizes[l], self.sizes[l + 1], &mut work.w[l]);
        }
    }

    /// Mean squared error over `table` ([`mean_loss_of`], as
    /// [`AdditiveNet::weighted_mean_loss`] computes it), the rows weighted when `weights` is
    /// given.
    #[inline(always)]
    fn mean_loss(
        &self,
        p: &Params,
        table: &Table<'_>,
        weights: Option<&[f32]>,
        work: &mut Work,
    ) -> f64 {
        let (n, cols) = (table.rows(), table.cols);
        let mut out = std::mem::take(&mut work.out);
        out.clear();
        for start in (0..n).step_by(4096) {
            let end = (start + 4096).min(n);
            self.forward(p, &table.x[start * cols..end * cols], end - start, work);
            out.extend_from_slice(&work.acts[self.layers() - 1]);
        }
        let loss = mean_loss_of(Task::Regression, &out, table.y, weights);
        work.out = out;
        loss
    }
}

/// Trains `net` (for which [`applies`] holds) as [`crate::additive::train_weighted`] does:
/// batches of `params.batch_size` reshuffled every epoch with `rng`, Adam at
/// `params.learning_rate` (times `params.lr_decay` per epoch), L1 `params.l1` when the tower is
/// marked for it, at most `params.max_epochs` epochs, early stopping on the validation loss
/// (weighted by the validation weights when given) with `params.patience`, the best weights
/// kept.
///
/// # Errors
/// [`NnError::Diverged`] when the validation loss becomes non-finite.
pub(crate) fn train(
    net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    rng: ChaCha8Rng,
    weights: Option<(&[f32], &[f32])>,
) -> Result<AdditiveFit, NnError> {
    #[cfg(target_arch = "x86_64")]
    {
        assert!(
            applies(&net),
            "fast_tower::train on a network it does not handle"
        );
        // SAFETY: `applies` checked that the CPU has AVX2 and FMA.
        unsafe { train_avx2(net, train, validation, params, rng, weights) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        train_body(net, train, validation, params, rng, weights)
    }
}

/// [`train_body`] compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn train_avx2(
    net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    rng: ChaCha8Rng,
    weights: Option<(&[f32], &[f32])>,
) -> Result<AdditiveFit, NnError> {
    train_body(net, train, validation, params, rng, weights)
}

#[inline(always)]
fn train_body(
    mut net: AdditiveNet,
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    mut rng: ChaCha8Rng,
    weights: Option<(&[f32], &[f32])>,
) -> Result<AdditiveFit, NnError> {
    let tower = &net.towers[0];
    let sizes = tower.sizes.clone();
    let model = Net {
        sizes: &sizes,
        l1: if tower.l1 { params.l1 as f32 } else { 0.0 },
        activation: tower.activation,
    };
    let mut p = Params {
        wt: Vec::with_capacity(model.layers()),
        b: tower.biases.clone(),
    };
    for (l, w) in tower.weights.iter().enumerate() {
        let mut wt = Vec::new();
        transpose(w, sizes[l + 1], sizes[l], &mut wt);
        p.wt.push(wt);
    }
    let mut g = p.clone();
    let mut adam = AdamState::new(p.wt.iter().chain(&p.b).map(Vec::len));
    let mut work = Work::default();
    model.refresh(&p, &mut work);
    let mut state = (p, work);
    let (epochs, best) = run_epochs(
        &mut state,
        train,
        params,
        &mut rng,
        weights.map(|(w, _)| w),
        |(p, work), xb, yb, wb, lr| {
            model.forward(p, xb, yb.len(), work);
            model.backward(p, xb, yb, wb, work, &mut g);
            adam.step(
                p.wt.iter_mut().chain(p.b.iter_mut()),
                g.wt.iter().chain(&g.b),
                lr,
            );
            model.refresh(p, work);
        },
        |(p, work)| {
            if validation.rows() > 0 {
                model.mean_loss(p, validation, weights.map(|(_, v)| v), work)
            } else {
                model.mean_loss(p, train, None, work)
            }
        },
        |(p, _)| p.clone(),
    )?;
    let (validation_loss, best) = best.unwrap_or((f64::NAN, state.0));
    let tower = &mut net.towers[0];
    for (l, wt) in best.wt.iter().enumerate() {
        transpose(wt, sizes[l], sizes[l + 1], &mut tower.weights[l]);
    }
    tower.biases = best.b;
    Ok(AdditiveFit {
        net,
        epochs,
        validation_loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::additive::{train_weighted, Tower};
    use rand::{Rng, SeedableRng};

    /// Random 0/1 masks and a target with planted products.
    fn masks(n: usize, p: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f32> = (0..n * p)
            .map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 })
            .collect();
        let y = x
            .chunks(p)
            .map(|r| 1.5 * r[0] * r[2] - r[1] + 0.5 * r[3] * r[4] * r[1])
            .collect();
        (x, y)
    }

    fn surrogate(p: usize, hidden: &[usize], activation: Activation, seed: u64) -> AdditiveNet {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut tower = Tower::new((0..p).collect(), hidden, 1, true, true, &mut rng);
        tower.activation = activation;
        AdditiveNet {
            inputs: p,
            task: Task::Regression,
            towers: vec![tower],
        }
    }

    /// One batch's gradients (L1 included) equal the reference passes', for both
    /// activations and for widths that use every tile shape (full, masked, remainder rows).
    #[test]
    fn gradients_match_the_reference_passes() {
        if !small_available() {
            eprintln!("skipped: this CPU lacks AVX2 or FMA, which these passes need");
            return;
        }
        for activation in [Activation::Relu, Activation::Softplus] {
            for (p, hidden, rows) in [(14, vec![128, 64, 32], 50), (9, vec![20, 13], 23)] {
                let net = surrogate(p, &hidden, activation, 5);
                assert!(applies(&net));
                let (x, y) = masks(rows, p, 6);
                let (_, reference) = net.loss_and_gradients(&x, &y, 1e-3);
                let tower = &net.towers[0];
                let model = Net {
                    sizes: &tower.sizes,
                    l1: 1e-3,
                    activation,
                };
                let mut params = Params {
                    wt: Vec::new(),
                    b: tower.biases.clone(),
                };
                for (l, w) in tower.weights.iter().enumerate() {
                    let mut wt = Vec::new();
                    transpose(w, tower.sizes[l + 1], tower.sizes[l], &mut wt);
                    params.wt.push(wt);
                }
                let mut g = params.clone();
                let mut work = Work::default();
                model.refresh(&params, &mut work);
                model.forward(&params, &x, rows, &mut work);
                model.backward(&params, &x, &y, None, &mut work, &mut g);
                for l in 0..model.layers() {
                    let mut gw = Vec::new();
                    transpose(&g.wt[l], tower.sizes[l], tower.sizes[l + 1], &mut gw);
                    for (what, ours, theirs) in [
                        ("weights", &gw, &reference[0].weights[l]),
                        ("biases", &g.b[l], &reference[0].biases[l]),
                    ] {
                        assert_eq!(ours.len(), theirs.len());
                        for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
                            assert!(
                                (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                                "{activation:?} {hidden:?} layer {l} {what}[{i}]: {a} vs {b}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Two epochs with row weights follow the reference trainer (the same batches; only
    /// rounding differs), and the same seed gives the same network.
    #[test]
    fn training_follows_the_reference_trainer() {
        if !small_available() {
            eprintln!("skipped: this CPU lacks AVX2 or FMA, which these passes need");
            return;
        }
        let p = 10;
        let (x, y) = masks(600, p, 2);
        let w: Vec<f32> = (0..600).map(|i| 0.5 + (i % 7) as f32 / 7.0).collect();
        let tr = Table {
            x: &x[..500 * p],
            y: &y[..500],
            cols: p,
        };
        let va = Table {
            x: &x[500 * p..],
            y: &y[500..],
            cols: p,
        };
        let params = MlpParams {
            hidden: vec![32, 16],
            max_epochs: 2,
            batch_size: 50,
            ..MlpParams::default()
        };
        let rows = Some((&w[..500], &w[500..]));
        let rng = || ChaCha8Rng::seed_from_u64(9);
        let net = || surrogate(p, &[32, 16], Activation::Relu, 1);
        let ours = train(net(), &tr, &va, &params, rng(), rows).unwrap();
        let reference = train_weighted(net(), &tr, &va, &params, rng(), rows).unwrap();
        assert_eq!(ours.epochs, reference.epochs);
        let rel =
            (ours.validation_loss - reference.validation_loss).abs() / reference.validation_loss;
        assert!(
            rel < 1e-3,
            "{} vs {}",
            ours.validation_loss,
            reference.validation_loss
        );
        // The reported loss is the kept network's, as the reference computes it.
        let check = ours.net.weighted_mean_loss(&va, Some(&w[500..]));
        assert!((check - ours.validation_loss).abs() < 1e-6 * check);
        for (a, b) in ours.net.towers[0].weights[0]
            .iter()
            .zip(&reference.net.towers[0].weights[0])
        {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        let again = train(net(), &tr, &va, &params, rng(), rows).unwrap();
        assert_eq!(again.net, ours.net);
    }

    /// Times this trainer against the reference on the default surrogate (14 fields, 1,750
    /// training masks, 128-64-32, batches of 50, 10 epochs), alternating, best of 15.
    /// `cargo test --release -p glider-nn --lib fast_tower::tests::speed -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore]
    fn speed() {
        let p = 14;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f32> = (0..2100 * p)
            .map(|_| if rng.random_bool(0.5) { 1.0 } else { 0.0 })
            .collect();
        let y: Vec<f32> = x
            .chunks(p)
            .map(|r| 1.5 * r[0] * r[2] - r[1] + 0.5 * r[3] * r[4] * r[1] + 0.2 * r[7])
            .collect();
        let tr = Table {
            x: &x[..1750 * p],
            y: &y[..1750],
            cols: p,
        };
        let va = Table {
            x: &x[1750 * p..1925 * p],
            y: &y[1750..1925],
            cols: p,
        };
        let params = MlpParams {
            hidden: vec![128, 64, 32],
            batch_size: 50,
            max_epochs: 10,
            patience: None,
            ..MlpParams::default()
        };
        for activation in [Activation::Relu, Activation::Softplus] {
            let net = || surrogate(p, &params.hidden, activation, 3);
            let (mut ours, mut reference) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..15 {
                let t = std::time::Instant::now();
                let a = train(net(), &tr, &va, &params, ChaCha8Rng::seed_from_u64(4), None);
                ours = ours.min(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let b =
                    train_weighted(net(), &tr, &va, &params, ChaCha8Rng::seed_from_u64(4), None);
                reference = reference.min(t.elapsed().as_secs_f64());
                let (a, b) = (a.unwrap().validation_loss, b.unwrap().validation_loss);
                assert!((a - b).abs() < 0.05 * b + 1e-3, "{a} vs {b}");
            }
            eprintln!(
                "{activation:?}, 10 epochs: register tiles {:.1} ms, reference (gemm) {:.1} ms, {:.2}x",
                ours * 1e3,
                reference * 1e3,
                reference / ours
            );
        }
    }
}

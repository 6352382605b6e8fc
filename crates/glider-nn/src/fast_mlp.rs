//! A specialised trainer for the L1 MLP surrogate: the hot loop of GLIDER (one fit per
//! instance, 1,000 instances per run).
//!
//! Same model, loss, initialisation, batch order and optimiser as [`crate::mlp::fit_mlp`]
//! (the burn autodiff version): `p → h1 → … → hL → 1`, ReLU, MSE + `λ Σ|W|` (biases excluded),
//! Adam, early stopping with the best weights restored. It is the one-tower case of
//! [`crate::additive`], whose forward and backward passes are written out as matrix products on
//! the `gemm` crate (the kernels burn's CPU backend uses), with preallocated buffers and no
//! graph, which removes the per-operation overhead that dominates at these small sizes
//! (rust-deps.md §1.2). Tests check the gradients (in `additive`) and the trained result
//! (here) against the autodiff version.
//!
//! Layout: weights `[d_out, d_in]` row-major (the PyTorch / NID layout), activations
//! `[batch, width]` row-major.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::additive::{train_weighted, Activation, AdditiveNet, Task, Tower};
use crate::mlp::{MlpParams, Table};
use crate::NnError;

pub use crate::kernels::sgemm_gflops;

/// A surrogate trained by [`fit_fast`].
#[derive(Clone, Debug)]
pub struct FastFit {
    /// The network: one tower over all inputs (the best weights when early stopping was on);
    /// NID reads it through [`AdditiveNet::interaction_weights`].
    pub net: AdditiveNet,
    /// Epochs run.
    pub epochs: usize,
    /// Validation MSE of the kept weights.
    pub validation_mse: f64,
}

/// Fits the L1 MLP with the specialised trainer; same contract, defaults and seeding as
/// [`crate::mlp::fit_mlp`]: the weights are initialised from a `ChaCha8Rng` seeded by `seed`
/// (as burn's [`crate::layers::ReluStack::new`] draws them), and the same generator then
/// shuffles the batches.
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
    fit_fast_with(train, validation, params, seed, Activation::Relu)
}

/// [`fit_fast`] with the hidden layers' activation chosen (Softplus for GradientNID).
///
/// # Errors
/// As [`fit_fast`].
pub fn fit_fast_with(
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    seed: u64,
    activation: Activation,
) -> Result<FastFit, NnError> {
    fit_fast_weighted(train, validation, params, seed, activation, None)
}

/// [`fit_fast_with`] with per-row weights `(training, validation)`, one per row of each
/// table: the training gradient and the early-stopping loss are weighted (LIME's kernel,
/// spec 3.1). `None` is [`fit_fast_with`].
///
/// # Errors
/// As [`fit_fast`]; [`NnError::Shape`] when a weight vector's length is not its table's rows.
pub fn fit_fast_weighted(
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    seed: u64,
    activation: Activation,
    weights: Option<(&[f32], &[f32])>,
) -> Result<FastFit, NnError> {
    if let Some((wt, wv)) = weights {
        if wt.len() != train.rows() || wv.len() != validation.rows() {
            return Err(NnError::Shape(format!(
                "{} and {} weights for {} training and {} validation rows",
                wt.len(),
                wv.len(),
                train.rows(),
                validation.rows()
            )));
        }
    }
    for t in [train, validation] {
        if t.x.len() != t.y.len() * t.cols || t.cols != train.cols {
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
    let mut tower = Tower::new((0..p).collect(), &params.hidden, 1, true, true, &mut rng);
    tower.activation = activation;
    let net = AdditiveNet {
        inputs: p,
        task: Task::Regression,
        towers: vec![tower],
    };
    let fit = if crate::fast_tower::applies(&net) {
        crate::fast_tower::train(net, train, validation, params, rng, weights)?
    } else {
        train_weighted(net, train, validation, params, rng, weights)?
    };
    Ok(FastFit {
        net: fit.net,
        epochs: fit.epochs,
        validation_mse: fit.validation_loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::ReluStack;
    use glider_core::nid::MlpWeights;
    use rand::Rng;

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

    /// The tower starts from the same weights as burn's layer stack with the same seed.
    #[test]
    fn initialisation_matches_burn_layers() {
        let (p, hidden) = (6, vec![8, 5]);
        let tower = Tower::new(
            (0..p).collect(),
            &hidden,
            1,
            true,
            true,
            &mut ChaCha8Rng::seed_from_u64(4),
        );
        let device = crate::cpu();
        let mut sizes = hidden.clone();
        sizes.push(1);
        let net = ReluStack::new(p, &sizes, &mut ChaCha8Rng::seed_from_u64(4), &device);
        assert_eq!(
            tower.nid_weights().unwrap(),
            MlpWeights::new(net.weight_matrices().unwrap()).unwrap()
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
        assert_eq!(top(&fast.net.interaction_weights().unwrap()), vec![0, 2]);
        assert_eq!(top(&slow.weights), vec![0, 2]);
        // Deterministic.
        let again = fit_fast(&train, &val, &params, 8).unwrap();
        assert_eq!(again.net, fast.net);
    }
}

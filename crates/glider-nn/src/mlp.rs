//! The interaction MLP with L1 sparsity, used as GLIDER's local surrogate (spec 3.1) and by
//! NID (spec 1.1): `p → h1 → … → hL → 1`, ReLU, linear output, MSE loss plus
//! `lambda · Σ|W|` over every weight matrix (output weights included, biases excluded), Adam,
//! mini-batches reshuffled every epoch, early stopping on validation loss with the best
//! weights restored.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use glider_core::nid::MlpWeights;

use crate::layers::ReluStack;
use crate::{to_vec, NnError};

/// Settings of an L1-regularised MLP fit. Defaults are GLIDER's surrogate (spec 3.1):
/// 256-128-64, L1 1e-4, Adam lr 0.01, batch 100, at most 100 epochs, patience 5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpParams {
    /// Hidden layer sizes, input side first.
    pub hidden: Vec<usize>,
    /// L1 strength `lambda` on all weights.
    pub l1: f64,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Learning-rate multiplier applied after every epoch (1.0 = constant; the 2018 NID code
    /// uses 0.95).
    pub lr_decay: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Maximum number of epochs.
    pub max_epochs: usize,
    /// Early stopping: stop after this many epochs in a row without a better validation loss
    /// (training stops at the `patience + 1`-th such epoch) and restore the best weights.
    /// `None` trains all `max_epochs` and keeps the last weights.
    pub patience: Option<usize>,
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: vec![256, 128, 64],
            l1: 1e-4,
            learning_rate: 0.01,
            lr_decay: 1.0,
            batch_size: 100,
            max_epochs: 100,
            patience: Some(5),
        }
    }
}

/// A trained MLP and how its training went.
#[derive(Debug)]
pub struct MlpFit {
    /// The network (best weights when early stopping was on).
    pub net: ReluStack,
    /// Weights as plain matrices for NID (`[d_out, d_in]`, input side first).
    pub weights: MlpWeights,
    /// Epochs run.
    pub epochs: usize,
    /// Validation MSE of the kept weights (without the L1 term).
    pub validation_mse: f64,
}

/// Row-major `[rows, cols]` inputs with one target per row.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    /// `rows * cols` values.
    pub x: &'a [f32],
    /// `rows` targets.
    pub y: &'a [f32],
    /// Number of columns (features).
    pub cols: usize,
}

impl Table<'_> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    fn check(&self) -> Result<(), NnError> {
        if self.x.len() != self.y.len() * self.cols {
            return Err(NnError::Shape(format!(
                "{} inputs for {} rows of {} features",
                self.x.len(),
                self.y.len(),
                self.cols
            )));
        }
        Ok(())
    }

    fn gather(&self, idx: &[usize], device: &Device) -> (Tensor<2>, Tensor<2>) {
        let mut xs = Vec::with_capacity(idx.len() * self.cols);
        let mut ys = Vec::with_capacity(idx.len());
        for &i in idx {
            xs.extend_from_slice(&self.x[i * self.cols..(i + 1) * self.cols]);
            ys.push(self.y[i]);
        }
        (
            Tensor::from_data(TensorData::new(xs, [idx.len(), self.cols]), device),
            Tensor::from_data(TensorData::new(ys, [idx.len(), 1]), device),
        )
    }
}

/// Mean squared error of `net` on a whole table, without autodiff.
pub fn mse(net: &ReluStack, table: &Table<'_>) -> Result<f64, NnError> {
    table.check()?;
    if table.rows() == 0 {
        return Ok(0.0);
    }
    let device = crate::cpu();
    let net = net.valid();
    let all: Vec<usize> = (0..table.rows()).collect();
    let (x, y) = table.gather(&all, &device);
    let err = (net.forward(x) - y).square().mean();
    Ok(to_vec(err)?[0] as f64)
}

/// Early stopping as in spec 1.1: keeps the best-scoring snapshot and says stop at the
/// `patience + 1`-th epoch in a row without a lower score; with no patience it keeps the last.
pub(crate) struct EarlyStopping<T> {
    patience: Option<usize>,
    best: Option<(f64, T)>,
    since_best: usize,
}

impl<T> EarlyStopping<T> {
    pub(crate) fn new(patience: Option<usize>) -> Self {
        EarlyStopping {
            patience,
            best: None,
            since_best: 0,
        }
    }

    /// Records an epoch's score; `snapshot` is taken only when it is kept. Returns true when
    /// training should stop.
    pub(crate) fn update(&mut self, score: f64, snapshot: impl FnOnce() -> T) -> bool {
        match self.patience {
            None => {
                self.best = Some((score, snapshot()));
                false
            }
            Some(patience) => {
                if self.best.as_ref().is_none_or(|(b, _)| score < *b) {
                    self.best = Some((score, snapshot()));
                    self.since_best = 0;
                    false
                } else {
                    self.since_best += 1;
                    self.since_best > patience
                }
            }
        }
    }

    /// The kept snapshot and its score.
    pub(crate) fn into_best(self) -> Option<(f64, T)> {
        self.best
    }
}

/// Fits an L1-regularised MLP regressor on `train`, early-stopping on `validation`.
///
/// Inputs are used as given (GLIDER's surrogate sees raw 0/1 masks; NID callers standardise).
///
/// # Errors
/// [`NnError::Shape`] for inconsistent inputs, [`NnError::NotEnoughData`] for an empty
/// training table, [`NnError::Diverged`] when the loss becomes non-finite.
pub fn fit_mlp(
    train: &Table<'_>,
    validation: &Table<'_>,
    params: &MlpParams,
    seed: u64,
) -> Result<MlpFit, NnError> {
    train.check()?;
    validation.check()?;
    if train.rows() == 0 {
        return Err(NnError::NotEnoughData("no training rows".into()));
    }
    if params.batch_size == 0 {
        return Err(NnError::Shape("batch size must be positive".into()));
    }
    let device = crate::cpu().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sizes = params.hidden.clone();
    sizes.push(1);
    let mut net = ReluStack::new(train.cols, &sizes, &mut rng, &device);
    let mut optim = AdamConfig::new().with_epsilon(1e-8).init();
    let mut order: Vec<usize> = (0..train.rows()).collect();
    let mut lr = params.learning_rate;
    let mut stopping = EarlyStopping::new(params.patience);
    let mut epochs = 0usize;
    let use_validation = validation.rows() > 0;
    for epoch in 1..=params.max_epochs {
        epochs = epoch;
        order.shuffle(&mut rng);
        for chunk in order.chunks(params.batch_size) {
            let (x, y) = train.gather(chunk, &device);
            let out = net.forward(x);
            let mut loss = (out - y).square().mean();
            if params.l1 > 0.0 {
                if let Some(l1) = net.l1() {
                    loss = loss + l1.mul_scalar(params.l1);
                }
            }
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(lr, net, grads);
        }
        lr *= params.lr_decay;
        let score = if use_validation {
            mse(&net, validation)?
        } else {
            mse(&net, train)?
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
    let net = net.valid();
    let weights =
        MlpWeights::new(net.weight_matrices()?).map_err(|e| NnError::Shape(e.to_string()))?;
    Ok(MlpFit {
        net,
        weights,
        epochs,
        validation_mse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = x0 * x1 + x2 on 0/1 inputs: the fit must learn it and NID must rank {0,1} first.
    #[test]
    fn learns_a_product_and_nid_finds_it() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let p = 5;
        let n = 1200;
        let mut x = Vec::with_capacity(n * p);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..p)
                .map(|_| {
                    if rand::Rng::random_bool(&mut rng, 0.5) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            y.push(2.0 * row[0] * row[1] + row[2]);
            x.extend(row);
        }
        let train = Table {
            x: &x[..1000 * p],
            y: &y[..1000],
            cols: p,
        };
        let val = Table {
            x: &x[1000 * p..],
            y: &y[1000..],
            cols: p,
        };
        let params = MlpParams {
            hidden: vec![32, 16],
            max_epochs: 60,
            batch_size: 50,
            ..MlpParams::default()
        };
        let fit = fit_mlp(&train, &val, &params, 3).unwrap();
        assert!(fit.validation_mse < 0.05, "mse {}", fit.validation_mse);
        let pairs = glider_core::nid::pairwise_strengths(&fit.weights, Default::default()).unwrap();
        assert_eq!(pairs[0].features, vec![0, 1]);
        // Same seed, same weights.
        let again = fit_mlp(&train, &val, &params, 3).unwrap();
        assert_eq!(again.weights, fit.weights);
    }

    #[test]
    fn early_stopping_stops_at_the_patience_plus_first_worse_epoch() {
        // Scores 5, 4, 4.5, 4.2, 4.1: with patience 2 the third epoch in a row without a
        // score below 4 says stop, and the snapshot of epoch 2 is kept.
        let mut s = EarlyStopping::new(Some(2));
        let stops: Vec<bool> = [5.0, 4.0, 4.5, 4.2, 4.1]
            .iter()
            .enumerate()
            .map(|(e, &v)| s.update(v, || e + 1))
            .collect();
        assert_eq!(stops, vec![false, false, false, false, true]);
        assert_eq!(s.into_best(), Some((4.0, 2)));
        let mut last = EarlyStopping::new(None);
        assert!(!last.update(1.0, || 1));
        assert!(!last.update(2.0, || 2));
        assert_eq!(last.into_best(), Some((2.0, 2)));
    }
}

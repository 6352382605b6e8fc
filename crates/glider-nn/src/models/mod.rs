//! The recommender architectures (spec 3.4 and 4): the dense part of each model, fed the
//! scaled field embeddings `emb: [batch, fields, width]` that the trainer gathers from its
//! embedding table ([`crate::sparse`]), returning logits `[batch, 1]`.
//!
//! An embedding row is `width` values. Models with a first-order (linear) term read entry 0
//! as the feature's weight `w_i` and entries `1..` as its factor/embedding vector `v_i`
//! ([`ModelKind::has_linear`]); the others use all `k` entries as `v_i`. A row is scaled by
//! the field's scale: 1 for a category, the standardised value for a dense field, 0 when the
//! value is missing (or the field is switched off), so dense fields enter every model,
//! attention models included, as a scaled embedding (AutoInt's convention).
//!
//! | model | paper | logit |
//! |---|---|---|
//! | [`Lr`] | logistic regression | `b + Σ w_i` |
//! | [`Fm`] | Rendle 2010 | `b + Σ w_i + Σ_{i<j} ⟨v_i, v_j⟩` |
//! | [`WideDeep`] | Cheng et al. 2016 | `b + Σ w_i + DNN(v)` |
//! | [`DeepFm`] | Guo et al. 2017 | `b + Σ w_i + FM(v) + DNN(v)` |
//! | [`Dcn`] | Wang et al. 2017 | `w·[cross_L(v); DNN(v)] + b` |
//! | [`XDeepFm`] | Lian et al. 2018 | `b + Σ w_i + CIN(v) + DNN(v)` |
//! | [`AutoInt`] | Song et al. 2019 (AutoInt, AutoInt+) | `w·flatten(attention_L(v)) + b [+ DNN(v)]` |
//! | [`FiBiNet`] | Huang et al. 2019 | `b + Σ w_i + DNN([bilinear(v); bilinear(SENET(v))])` |
//! | [`InterHat`] | Li et al. 2020 | `MLP(Σ_orders β_i u_i)` |

mod attention;
mod cross;
mod linear;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub use attention::{AutoInt, FiBiNet, InterHat};
pub use cross::{Dcn, XDeepFm};
pub use linear::{DeepFm, Fm, Lr, WideDeep};

use crate::params::CtrParams;
pub use crate::params::ModelKind;

/// The dense (autodiff) part of a recommender: scaled field embeddings in, logits out.
pub trait CtrNet: Module + Sync + Send {
    /// `emb: [batch, fields, width]` → logits `[batch, 1]`.
    fn forward(&self, emb: Tensor<3>) -> Tensor<2>;

    /// The model's own view of which fields interact (spec 4), for the same input: `None`
    /// for models without one (all but AutoInt, FiBiNET and InterHAt).
    fn interaction_maps(&self, _emb: Tensor<3>) -> Option<MapTensors> {
        None
    }

    /// Attention heads per layer (1 for models without attention): what
    /// [`crate::fast_ctr::FastNet::from_named`] needs besides the weights.
    fn attention_heads(&self) -> usize {
        1
    }
}

/// Ante-hoc interaction evidence for one batch (spec 4), before averaging over the sample.
#[derive(Debug)]
pub struct MapTensors {
    /// Named field-by-field maps `[batch, fields, fields]` (attention `a[i][j]`: how much
    /// field `i` attends to field `j`; bilinear magnitudes), e.g. `"layer 1, head 2"`.
    pub maps: Vec<(String, Tensor<3>)>,
    /// Named per-field weights `[batch, fields]` (SENET weights, InterHAt attention per
    /// order).
    pub field_weights: Vec<(String, Tensor<2>)>,
    /// The pair score `[batch, fields, fields]`, symmetric by construction, that ranks field
    /// pairs; how it is made from the maps is [`MapTensors::rule`].
    pub pair_scores: Tensor<3>,
    /// The documented rule behind `pair_scores`.
    pub rule: &'static str,
}

/// A model that can be built from its settings (every architecture).
pub trait BuildNet: CtrNet + Sized + Clone {
    /// A freshly initialised `kind` model for `fields` fields, drawing every weight from
    /// `rng` (`kind` tells AutoInt from AutoInt+, which share a type).
    fn build(
        kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self;
}

/// Runs `$body` with the type alias `$t` bound to the network type of `$kind`.
macro_rules! with_net_type {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            $crate::models::ModelKind::Lr => {
                type $t = $crate::models::Lr;
                $body
            }
            $crate::models::ModelKind::Fm => {
                type $t = $crate::models::Fm;
                $body
            }
            $crate::models::ModelKind::WideDeep => {
                type $t = $crate::models::WideDeep;
                $body
            }
            $crate::models::ModelKind::DeepFm => {
                type $t = $crate::models::DeepFm;
                $body
            }
            $crate::models::ModelKind::Dcn => {
                type $t = $crate::models::Dcn;
                $body
            }
            $crate::models::ModelKind::XDeepFm => {
                type $t = $crate::models::XDeepFm;
                $body
            }
            $crate::models::ModelKind::AutoInt | $crate::models::ModelKind::AutoIntPlus => {
                type $t = $crate::models::AutoInt;
                $body
            }
            $crate::models::ModelKind::FiBiNet => {
                type $t = $crate::models::FiBiNet;
                $body
            }
            $crate::models::ModelKind::InterHat => {
                type $t = $crate::models::InterHat;
                $body
            }
        }
    };
}
pub(crate) use with_net_type;

/// Splits `emb: [b, f, w]` into the first-order sum `[b, 1]` (entry 0 of every row, summed
/// over fields) and the factor vectors `[b, f, w − 1]`.
pub(crate) fn split_linear(emb: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
    let [b, f, w] = emb.dims();
    let linear = emb.clone().narrow(2, 0, 1).reshape([b, f]).sum_dim(1);
    (linear, emb.narrow(2, 1, w - 1))
}

/// The factorisation machine's pairwise term `Σ_{i<j} ⟨v_i, v_j⟩ =
/// ½ Σ_k [(Σ_i v_ik)² − Σ_i v_ik²]`: `v: [b, f, k]` → `[b, 1]`.
pub(crate) fn fm_term(v: Tensor<3>) -> Tensor<2> {
    let [b, _, _] = v.dims();
    let s = v.clone().sum_dim(1);
    (s.clone() * s - (v.clone() * v).sum_dim(1))
        .sum_dim(2)
        .mul_scalar(0.5)
        .reshape([b, 1])
}

/// A parameter `[rows, cols]` drawn uniform in `±1/sqrt(fan_in)` from `rng`.
pub(crate) fn uniform2(
    rows: usize,
    cols: usize,
    fan_in: usize,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Param<Tensor<2>> {
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    let w: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(w, [rows, cols]), device))
}

/// A parameter `[a, rows, cols]` drawn uniform in `±1/sqrt(fan_in)` from `rng`.
pub(crate) fn uniform3(
    a: usize,
    rows: usize,
    cols: usize,
    fan_in: usize,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Param<Tensor<3>> {
    let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
    let w: Vec<f32> = (0..a * rows * cols)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    Param::from_tensor(Tensor::from_data(
        TensorData::new(w, [a, rows, cols]),
        device,
    ))
}

/// A ReLU DNN `d_in → hidden… → 1` ending in a logit (the last layer linear).
pub(crate) fn logit_dnn(
    d_in: usize,
    hidden: &[usize],
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> crate::layers::ReluStack {
    let mut sizes = hidden.to_vec();
    sizes.push(1);
    crate::layers::ReluStack::new(d_in, &sizes, rng, device)
}

/// A zero-initialised bias `[n]`.
pub(crate) fn zeros1(n: usize, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::from_data(
        TensorData::new(vec![0f32; n], [n]),
        device,
    ))
}

#[cfg(test)]
mod checks;

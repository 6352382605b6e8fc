//! The models built on a first-order term: LR, FM, Wide&Deep and DeepFM (spec 3.4).
//!
//! Each field's embedding row has `1 + k` values (`1` for LR): entry 0 is the first-order
//! weight `w_i`, entries `1..=k` the factor vector `v_i`; both are scaled by the field's scale.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::{fm_term, logit_dnn, split_linear, zeros1, BuildNet, CtrNet, ModelKind};
use crate::layers::ReluStack;
use crate::params::CtrParams;

/// Logistic regression: `logit = b + Σ_i w_i x_i`.
#[derive(Module, Debug)]
pub struct Lr {
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl BuildNet for Lr {
    fn build(
        _kind: ModelKind,
        _fields: usize,
        _params: &CtrParams,
        _rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        Lr {
            bias: zeros1(1, device),
        }
    }
}

impl CtrNet for Lr {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let [b, f, _] = emb.dims();
        emb.narrow(2, 0, 1).reshape([b, f]).sum_dim(1) + self.bias.val().unsqueeze::<2>()
    }
}

/// Factorisation machine (Rendle 2010):
/// `logit = b + Σ_i w_i x_i + ½ Σ_k [(Σ_i v_ik x_i)² − Σ_i (v_ik x_i)²]`.
#[derive(Module, Debug)]
pub struct Fm {
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl BuildNet for Fm {
    fn build(
        _kind: ModelKind,
        _fields: usize,
        _params: &CtrParams,
        _rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        Fm {
            bias: zeros1(1, device),
        }
    }
}

impl CtrNet for Fm {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let (linear, v) = split_linear(emb);
        linear + fm_term(v) + self.bias.val().unsqueeze::<2>()
    }
}

/// Wide&Deep (Cheng et al. 2016): the wide part is the first-order term over every field's
/// value (cross features enter it as fields of their own once GLIDER adds them, spec 3.3); the
/// deep part a ReLU DNN over the concatenated embeddings.
/// `logit = b + Σ_i w_i x_i + DNN(concat_i v_i x_i)`.
#[derive(Module, Debug)]
pub struct WideDeep {
    /// DNN `F·k → hidden… → 1`.
    pub dnn: ReluStack,
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl BuildNet for WideDeep {
    fn build(
        _kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        WideDeep {
            dnn: logit_dnn(fields * params.embedding_dim, &params.hidden, rng, device),
            bias: zeros1(1, device),
        }
    }
}

impl CtrNet for WideDeep {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let (linear, v) = split_linear(emb);
        let [b, f, k] = v.dims();
        linear + self.dnn.forward(v.reshape([b, f * k])) + self.bias.val().unsqueeze::<2>()
    }
}

/// DeepFM (Guo et al., IJCAI 2017): a factorisation machine and a DNN over the same field
/// embeddings, summed in the logit.
/// `logit = b + Σ_i w_i x_i + ½ Σ_k [(Σ_i v_ik x_i)² − Σ_i (v_ik x_i)²] + DNN(concat_i v_i x_i)`.
#[derive(Module, Debug)]
pub struct DeepFm {
    /// DNN over the concatenated factor vectors, `F·k → hidden… → 1`.
    pub dnn: ReluStack,
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl BuildNet for DeepFm {
    fn build(
        _kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        DeepFm {
            dnn: logit_dnn(fields * params.embedding_dim, &params.hidden, rng, device),
            bias: zeros1(1, device),
        }
    }
}

impl CtrNet for DeepFm {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let (linear, v) = split_linear(emb);
        let [b, f, k] = v.dims();
        let deep = self.dnn.forward(v.clone().reshape([b, f * k]));
        linear + fm_term(v) + deep + self.bias.val().unsqueeze::<2>()
    }
}

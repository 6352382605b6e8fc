//! DeepFM (Guo et al., IJCAI 2017): a factorisation machine and a DNN over the same field
//! embeddings, summed in the logit. Defaults of spec 3.4: embedding 16, DNN 400-400-400.
//!
//! Each field's embedding row has `1 + k` values: entry 0 is the FM first-order weight
//! `w_i`, entries `1..=k` the factor vector `v_i`; both are scaled by the field's scale
//! (1 for a category, the standardised value for a dense field, 0 when missing).
//!
//! `logit = b + Σ_i w_i x_i + ½ Σ_k [(Σ_i v_ik x_i)² − Σ_i (v_ik x_i)²] + DNN(concat_i v_i x_i)`.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use crate::ctr::CtrNet;
use crate::layers::ReluStack;

/// The dense part of DeepFM (the embedding table lives in the trainer).
#[derive(Module, Debug)]
pub struct DeepFm {
    /// DNN over the concatenated factor vectors, `F·k → hidden… → 1`.
    pub dnn: ReluStack,
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl DeepFm {
    /// A DeepFM for `num_fields` fields with factor size `k` and DNN `hidden` sizes.
    pub fn new(
        num_fields: usize,
        k: usize,
        hidden: &[usize],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let mut sizes = hidden.to_vec();
        sizes.push(1);
        DeepFm {
            dnn: ReluStack::new(num_fields * k, &sizes, rng, device),
            bias: Param::from_tensor(Tensor::from_data(TensorData::new(vec![0f32], [1]), device)),
        }
    }
}

impl CtrNet for DeepFm {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let [b, f, d] = emb.dims();
        let k = d - 1;
        let linear = emb.clone().narrow(2, 0, 1).reshape([b, f]).sum_dim(1);
        let v = emb.narrow(2, 1, k);
        let s = v.clone().sum_dim(1);
        let fm = (s.clone() * s - (v.clone() * v.clone()).sum_dim(1))
            .sum_dim(2)
            .mul_scalar(0.5)
            .reshape([b, 1]);
        let deep = self.dnn.forward(v.reshape([b, f * k]));
        linear + fm + deep + self.bias.val().unsqueeze::<2>()
    }
}

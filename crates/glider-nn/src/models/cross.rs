//! The explicit-crossing models: Deep&Cross (DCN) and xDeepFM (spec 3.4).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use super::{logit_dnn, split_linear, uniform2, zeros1, BuildNet, CtrNet, ModelKind};
use crate::layers::{DenseLayer, ReluStack};
use crate::params::CtrParams;

/// One layer of DCN's cross network: `x_{l+1} = x_0 (x_l · w_l) + b_l + x_l`.
#[derive(Module, Debug)]
pub struct CrossLayer {
    /// `w_l`, `[D, 1]`.
    pub weight: Param<Tensor<2>>,
    /// `b_l`, `[D]`.
    pub bias: Param<Tensor<1>>,
}

/// Deep&Cross (Wang et al., ADKDD 2017): a cross network of `L` layers and a ReLU DNN side
/// by side over `x_0 = concat_i v_i x_i` (`D = F·k`), joined by one linear output layer:
/// `logit = w · [x_L; DNN(x_0)] + b`.
#[derive(Module, Debug)]
pub struct Dcn {
    /// The cross layers (spec 3.4: 6).
    pub cross: Vec<CrossLayer>,
    /// The DNN's hidden layers, each followed by ReLU (spec 3.4: 1024-1024).
    pub dnn: ReluStack,
    /// Output layer, `D + hidden.last → 1`.
    pub out: DenseLayer,
}

impl BuildNet for Dcn {
    fn build(
        _kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let d = fields * params.embedding_dim;
        let cross = (0..params.cross_layers)
            .map(|_| CrossLayer {
                weight: uniform2(d, 1, d, rng, device),
                bias: zeros1(d, device),
            })
            .collect();
        let dnn = ReluStack::new(d, &params.hidden, rng, device);
        let deep_out = params.hidden.last().copied().unwrap_or(0);
        Dcn {
            cross,
            dnn,
            out: DenseLayer::new(d + deep_out, 1, rng, device),
        }
    }
}

impl CtrNet for Dcn {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let [b, f, k] = emb.dims();
        let x0 = emb.reshape([b, f * k]);
        let mut x = x0.clone();
        for layer in &self.cross {
            let s = x.clone().matmul(layer.weight.val()); // [b, 1]
            x = x0.clone() * s + layer.bias.val().unsqueeze::<2>() + x;
        }
        let joined = if self.dnn.layers.is_empty() {
            x
        } else {
            Tensor::cat(vec![x, self.dnn.forward_hidden(x0)], 1)
        };
        self.out.forward(joined)
    }
}

/// xDeepFM (Lian et al., KDD 2018): first-order term + Compressed Interaction Network + DNN.
///
/// CIN layer `h`: `X^h_{m,*} = Σ_{i,j} W^h_{m,(i,j)} (X^{h−1}_{i,*} ∘ X^0_{j,*})`, with
/// `X^0 = [v_1 x_1; …; v_F x_F]` (`[F, k]` per row) and identity activation (the paper's
/// equation 6); every layer is sum-pooled over the embedding dimension and all pooled vectors
/// feed one linear output (no split-half connections).
/// `logit = b + Σ_i w_i x_i + w · [pool(X^1); …; pool(X^L)] + DNN(concat_i v_i x_i)`.
#[derive(Module, Debug)]
pub struct XDeepFm {
    /// CIN layers: `H_{h−1}·F → H_h` (the bias is part of the map).
    pub cin: Vec<DenseLayer>,
    /// CIN output, `Σ_h H_h → 1`.
    pub cin_out: DenseLayer,
    /// DNN, `F·k → hidden… → 1`.
    pub dnn: ReluStack,
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
}

impl BuildNet for XDeepFm {
    fn build(
        _kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let mut prev = fields;
        let mut cin = Vec::new();
        for &h in &params.cin_layers {
            cin.push(DenseLayer::new(prev * fields, h, rng, device));
            prev = h;
        }
        let pooled: usize = params.cin_layers.iter().sum();
        XDeepFm {
            cin,
            cin_out: DenseLayer::new(pooled.max(1), 1, rng, device),
            dnn: logit_dnn(fields * params.embedding_dim, &params.hidden, rng, device),
            bias: zeros1(1, device),
        }
    }
}

impl CtrNet for XDeepFm {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        let (linear, x0) = split_linear(emb);
        let [b, f, k] = x0.dims();
        // The CIN works in the [b, k, ·] layout (embedding dimension second), so the
        // [b, k, H, F] product is built directly in the order the 1×1 convolution reads it:
        // no transposed copy of that large tensor (H·F·k floats per row) forward or backward.
        let x0t = x0.clone().swap_dims(1, 2); // [b, k, F]
        let mut x = x0t.clone(); // [b, k, H]
        let mut pooled = Vec::with_capacity(self.cin.len());
        for layer in &self.cin {
            let h = x.dims()[2];
            // z[b, d, i, j] = x[b, d, i] · x0[b, d, j]
            let z = x.unsqueeze_dim::<4>(3) * x0t.clone().unsqueeze_dim::<4>(2);
            let next = layer.forward(z.reshape([b * k, h * f])); // [b·k, H]
            let hn = next.dims()[1];
            x = next.reshape([b, k, hn]);
            pooled.push(x.clone().sum_dim(1).reshape([b, hn]));
        }
        let cin = if pooled.is_empty() {
            Tensor::zeros([b, 1], &x0.device())
        } else {
            self.cin_out.forward(Tensor::cat(pooled, 1))
        };
        let deep = self.dnn.forward(x0.reshape([b, f * k]));
        linear + cin + deep + self.bias.val().unsqueeze::<2>()
    }
}

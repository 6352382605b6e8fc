//! The attention models, whose weights say which fields interact (spec 4): AutoInt(+),
//! FiBiNET and InterHAt.

use burn::module::{Module, Param};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand_chacha::ChaCha8Rng;

use super::{logit_dnn, split_linear, uniform2, zeros1, BuildNet, CtrNet, MapTensors, ModelKind};
use crate::layers::{DenseLayer, ReluStack};
use crate::params::CtrParams;

/// Query, key and value projections of one multi-head self-attention layer, `[d_in, A]`
/// each, `A` split evenly across the heads.
#[derive(Module, Debug)]
pub struct AttentionLayer {
    /// `W_Query`, `[d_in, A]`.
    pub query: Param<Tensor<2>>,
    /// `W_Key`, `[d_in, A]`.
    pub key: Param<Tensor<2>>,
    /// `W_Value`, `[d_in, A]`.
    pub value: Param<Tensor<2>>,
    /// `W_Res` (AutoInt's residual projection) or `W_O` (InterHAt's output projection).
    pub residual: Param<Tensor<2>>,
}

impl AttentionLayer {
    fn new(d_in: usize, width: usize, res_out: usize, rng: &mut ChaCha8Rng, dev: &Device) -> Self {
        AttentionLayer {
            query: uniform2(d_in, width, d_in, rng, dev),
            key: uniform2(d_in, width, d_in, rng, dev),
            value: uniform2(d_in, width, d_in, rng, dev),
            residual: if res_out == width {
                uniform2(d_in, width, d_in, rng, dev)
            } else {
                uniform2(width, res_out, width, rng, dev)
            },
        }
    }

    /// Multi-head attention of `x: [b, f, d_in]`: returns the heads' outputs concatenated,
    /// `[b, f, A]`, and the attention weights `[b, heads, f, f]` (row `i`: how much field `i`
    /// attends to each field `j`; rows sum to 1). `scaled` divides the scores by `sqrt(A/heads)`.
    fn attend(&self, x: Tensor<3>, heads: usize, scaled: bool) -> (Tensor<3>, Tensor<4>) {
        let [b, f, d] = x.dims();
        let a = self.query.val().dims()[1];
        let dh = a / heads;
        let x2 = x.reshape([b * f, d]);
        let split = |t: Tensor<2>| t.reshape([b, f, heads, dh]).swap_dims(1, 2); // [b, H, f, dh]
        let q = split(x2.clone().matmul(self.query.val()));
        let k = split(x2.clone().matmul(self.key.val()));
        let v = split(x2.matmul(self.value.val()));
        let mut scores = q.matmul(k.swap_dims(2, 3));
        if scaled {
            scores = scores.div_scalar((dh as f32).sqrt());
        }
        let attn = softmax(scores, 3);
        let out = attn.clone().matmul(v).swap_dims(1, 2).reshape([b, f, a]);
        (out, attn)
    }
}

/// `(a + aᵀ) / 2` of `a: [b, f, f]`.
fn symmetrise(a: Tensor<3>) -> Tensor<3> {
    (a.clone() + a.swap_dims(1, 2)).mul_scalar(0.5)
}

/// AutoInt (Song et al., CIKM 2019) and AutoInt+.
///
/// Layer `l` maps `E_l: [b, F, d]` to `ReLU(MultiHead(E_l) + E_l W_Res)`, `[b, F, A]`, with
/// unscaled dot-product attention `softmax_j ⟨W_Q e_i, W_K e_j⟩` per head, as in the paper.
/// `logit = w · flatten(E_L) + b` (+ `DNN(concat_i v_i x_i)` for AutoInt+).
/// Spec 3.4: 3 layers, 2 heads, `A` = 64, DNN 400-400 for AutoInt+.
#[derive(Module, Debug)]
pub struct AutoInt {
    /// The attention layers.
    pub layers: Vec<AttentionLayer>,
    /// Output, `F·A → 1` (`F·k → 1` with no layers).
    pub out: DenseLayer,
    /// AutoInt+'s DNN, `F·k → hidden… → 1`.
    pub dnn: Option<ReluStack>,
    /// Heads per layer.
    #[module(skip)]
    pub heads: usize,
}

impl AutoInt {
    /// The logit and every layer's attention `[b, heads, F, F]`.
    fn run(&self, emb: Tensor<3>) -> (Tensor<2>, Vec<Tensor<4>>) {
        let [b, f, k] = emb.dims();
        let mut x = emb.clone();
        let mut maps = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let [_, _, d] = x.dims();
            let (att, a) = layer.attend(x.clone(), self.heads, false);
            let width = att.dims()[2];
            let res = x
                .reshape([b * f, d])
                .matmul(layer.residual.val())
                .reshape([b, f, width]);
            x = relu(att + res);
            maps.push(a);
        }
        let [_, _, w] = x.dims();
        let mut logit = self.out.forward(x.reshape([b, f * w]));
        if let Some(dnn) = &self.dnn {
            logit = logit + dnn.forward(emb.reshape([b, f * k]));
        }
        (logit, maps)
    }
}

impl BuildNet for AutoInt {
    fn build(
        kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let heads = params.attention_heads.max(1);
        let width = params.attention_size.div_ceil(heads) * heads;
        let mut d = params.embedding_dim;
        let mut layers = Vec::new();
        for _ in 0..params.attention_layers {
            layers.push(AttentionLayer::new(d, width, width, rng, device));
            d = width;
        }
        let out = DenseLayer::new(fields * d, 1, rng, device);
        let dnn = (kind == ModelKind::AutoIntPlus)
            .then(|| logit_dnn(fields * params.embedding_dim, &params.hidden, rng, device));
        AutoInt {
            layers,
            out,
            dnn,
            heads,
        }
    }
}

impl CtrNet for AutoInt {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        self.run(emb).0
    }

    fn interaction_maps(&self, emb: Tensor<3>) -> Option<MapTensors> {
        let (_, layers) = self.run(emb);
        let n = layers.len();
        if n == 0 {
            return None;
        }
        let mut maps = Vec::new();
        let mut pair: Option<Tensor<3>> = None;
        for (l, a) in layers.into_iter().enumerate() {
            let [b, h, f, _] = a.dims();
            for head in 0..h {
                let m = a.clone().narrow(1, head, 1).reshape([b, f, f]);
                maps.push((format!("layer {}, head {}", l + 1, head + 1), m));
            }
            let mean = symmetrise(a.mean_dim(1).reshape([b, f, f]));
            pair = Some(match pair {
                Some(p) => p + mean,
                None => mean,
            });
        }
        let pair_scores = pair?.div_scalar(n as f32);
        Some(MapTensors {
            maps,
            field_weights: Vec::new(),
            pair_scores,
            rule: "AutoInt: (a[i][j] + a[j][i]) / 2, averaged over heads, layers and the sample \
                   of rows (a = softmax attention of field i over field j)",
        })
    }

    fn attention_heads(&self) -> usize {
        self.heads
    }
}

/// FiBiNET (Huang et al., RecSys 2019), bilinear type "field-interaction".
///
/// SENET: `z_i = mean_k v_ik`, `a = ReLU(W_2 ReLU(W_1 z))` (reduction ratio `r`),
/// `ṽ_i = a_i v_i`. Bilinear: `p_ij = (v_i W_ij) ∘ v_j` for every pair `i < j`, and `q_ij`
/// likewise on `ṽ` with its own `W'_ij`.
/// `logit = b + Σ_i w_i x_i + DNN([p; q])`. DNN default 400-400-400, `r` = 3.
#[derive(Module, Debug)]
pub struct FiBiNet {
    /// SENET squeeze layer, `F → max(1, F/r)`.
    pub senet_squeeze: DenseLayer,
    /// SENET excitation layer, `max(1, F/r) → F`.
    pub senet_excite: DenseLayer,
    /// `W_ij` per pair, `[P, k, k]`.
    pub bilinear: Param<Tensor<3>>,
    /// `W'_ij` per pair for the SENET embeddings, `[P, k, k]`.
    pub bilinear_senet: Param<Tensor<3>>,
    /// DNN, `2·P·k → hidden… → 1`.
    pub dnn: ReluStack,
    /// Global bias, `[1]`.
    pub bias: Param<Tensor<1>>,
    /// Number of fields.
    #[module(skip)]
    pub fields: usize,
}

/// The pairs `i < j` of `f` fields, as two index lists.
fn pairs(f: usize) -> (Vec<i32>, Vec<i32>) {
    let mut left = Vec::new();
    let mut right = Vec::new();
    for i in 0..f {
        for j in i + 1..f {
            left.push(i as i32);
            right.push(j as i32);
        }
    }
    (left, right)
}

/// The `[P, f·f]` 0/1 matrix that scatters a per-pair value to cells `(i, j)` and `(j, i)`.
fn pair_scatter(f: usize, device: &Device) -> Tensor<2> {
    let (l, r) = pairs(f);
    let p = l.len();
    let mut m = vec![0f32; p * f * f];
    for (k, (&i, &j)) in l.iter().zip(&r).enumerate() {
        m[k * f * f + i as usize * f + j as usize] = 1.0;
        m[k * f * f + j as usize * f + i as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(m, [p, f * f]), device)
}

impl FiBiNet {
    fn index(values: Vec<i32>, device: &Device) -> Tensor<1, Int> {
        let n = values.len();
        Tensor::<1, Int>::from_ints(TensorData::new(values, [n]), device)
    }

    /// `[b, P, k]` bilinear interactions of `v: [b, F, k]` with per-pair weights `w`.
    fn bilinear_of(&self, v: Tensor<3>, w: Tensor<3>) -> Tensor<3> {
        let device = v.device();
        let (l, r) = pairs(self.fields);
        let left = v.clone().select(1, Self::index(l, &device)); // [b, P, k]
        let right = v.select(1, Self::index(r, &device));
        let vw = left.swap_dims(0, 1).matmul(w).swap_dims(0, 1); // [b, P, k]
        vw * right
    }

    fn run(&self, emb: Tensor<3>) -> (Tensor<2>, Tensor<3>, Tensor<3>, Tensor<2>) {
        let (linear, v) = split_linear(emb);
        let [b, f, k] = v.dims();
        let z = v.clone().mean_dim(2).reshape([b, f]);
        let a = relu(
            self.senet_excite
                .forward(relu(self.senet_squeeze.forward(z))),
        );
        let vs = v.clone() * a.clone().unsqueeze_dim::<3>(2);
        let p = self.bilinear_of(v, self.bilinear.val());
        let q = self.bilinear_of(vs, self.bilinear_senet.val());
        let np = p.dims()[1];
        let h = Tensor::cat(
            vec![
                p.clone().reshape([b, np * k]),
                q.clone().reshape([b, np * k]),
            ],
            1,
        );
        let logit = linear + self.dnn.forward(h) + self.bias.val().unsqueeze::<2>();
        (logit, p, q, a)
    }
}

impl BuildNet for FiBiNet {
    fn build(
        _kind: ModelKind,
        fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let k = params.embedding_dim;
        let squeeze = (fields / params.reduction_ratio.max(1)).max(1);
        let p = fields * fields.saturating_sub(1) / 2;
        FiBiNet {
            senet_squeeze: DenseLayer::new(fields, squeeze, rng, device),
            senet_excite: DenseLayer::new(squeeze, fields, rng, device),
            bilinear: super::uniform3(p, k, k, k, rng, device),
            bilinear_senet: super::uniform3(p, k, k, k, rng, device),
            dnn: logit_dnn(2 * p * k, &params.hidden, rng, device),
            bias: zeros1(1, device),
            fields,
        }
    }
}

impl CtrNet for FiBiNet {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        self.run(emb).0
    }

    fn interaction_maps(&self, emb: Tensor<3>) -> Option<MapTensors> {
        let (_, p, q, a) = self.run(emb);
        let [b, np, _] = p.dims();
        let f = self.fields;
        if np == 0 {
            return None;
        }
        let scatter = pair_scatter(f, &p.device());
        let norm = |t: Tensor<3>| {
            (t.clone() * t)
                .sum_dim(2)
                .sqrt()
                .reshape([b, np])
                .matmul(scatter.clone())
                .reshape([b, f, f])
        };
        let mp = norm(p);
        let mq = norm(q);
        let pair_scores = (mp.clone() + mq.clone()).mul_scalar(0.5);
        Some(MapTensors {
            maps: vec![
                ("bilinear |p_ij|".to_string(), mp),
                ("bilinear on SENET embeddings |q_ij|".to_string(), mq),
            ],
            field_weights: vec![("SENET weight".to_string(), a)],
            pair_scores,
            rule: "FiBiNET: (‖p_ij‖₂ + ‖q_ij‖₂) / 2, the magnitudes of the bilinear interaction \
                   vectors of the plain and the SENET-weighted embeddings, averaged over the \
                   sample of rows",
        })
    }
}

/// InterHAt (Li et al., WSDM 2020).
///
/// A transformer layer (scaled multi-head self-attention, output projection `W_O`, residual)
/// gives `X¹: [b, F, k]`. For order `i = 1..K`: `α⁽ⁱ⁾ = softmax_j(c_iᵀ ReLU(W_i x⁽ⁱ⁾_j + b_i))`,
/// `u_i = Σ_j α⁽ⁱ⁾_j x⁽ⁱ⁾_j` and `x⁽ⁱ⁺¹⁾_j = u_i ∘ x¹_j + x⁽ⁱ⁾_j`, so `u_i` carries
/// interactions of order `i`. Then `β = softmax_i(cᵀ ReLU(W u_i + b))`,
/// `logit = MLP(Σ_i β_i u_i)`. Defaults: K = 3 orders, attention width 64, MLP 64.
#[derive(Module, Debug)]
pub struct InterHat {
    /// The transformer's self-attention (`residual` holds `W_O: [A, k]`).
    pub transformer: AttentionLayer,
    /// Per order, the attention's hidden layer `k → A`.
    pub order_hidden: Vec<DenseLayer>,
    /// Per order, the context vector `c_i`, `[A, 1]`.
    pub order_context: Vec<Param<Tensor<2>>>,
    /// The attention over orders: hidden layer `k → A`.
    pub final_hidden: DenseLayer,
    /// The attention over orders: context vector, `[A, 1]`.
    pub final_context: Param<Tensor<2>>,
    /// Output MLP, `k → hidden… → 1`.
    pub mlp: ReluStack,
    /// Heads of the transformer.
    #[module(skip)]
    pub heads: usize,
}

/// What one InterHAt forward pass yields besides the logit.
struct InterHatParts {
    logit: Tensor<2>,
    transformer: Tensor<4>,
    alphas: Vec<Tensor<2>>,
    beta: Tensor<2>,
}

impl InterHat {
    fn attention_pool(x: Tensor<3>, hidden: &DenseLayer, context: Tensor<2>) -> Tensor<2> {
        let [b, n, k] = x.dims();
        let h = relu(hidden.forward(x.reshape([b * n, k])));
        softmax(h.matmul(context).reshape([b, n]), 1)
    }

    fn run(&self, emb: Tensor<3>) -> InterHatParts {
        let [b, f, k] = emb.dims();
        let (att, transformer) = self.transformer.attend(emb.clone(), self.heads, true);
        let a = att.dims()[2];
        let projected = att
            .reshape([b * f, a])
            .matmul(self.transformer.residual.val())
            .reshape([b, f, k]);
        let x1 = emb + projected;
        let mut x = x1.clone();
        let mut alphas = Vec::new();
        let mut us = Vec::new();
        for (hidden, context) in self.order_hidden.iter().zip(&self.order_context) {
            let alpha = Self::attention_pool(x.clone(), hidden, context.val()); // [b, F]
            let u = (x.clone() * alpha.clone().unsqueeze_dim::<3>(2)).sum_dim(1); // [b, 1, k]
            x = x1.clone() * u.clone() + x;
            us.push(u);
            alphas.push(alpha);
        }
        let u = Tensor::cat(us, 1); // [b, K, k]
        let beta = Self::attention_pool(u.clone(), &self.final_hidden, self.final_context.val());
        let pooled = (u * beta.clone().unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([b, k]);
        InterHatParts {
            logit: self.mlp.forward(pooled),
            transformer,
            alphas,
            beta,
        }
    }
}

impl BuildNet for InterHat {
    fn build(
        _kind: ModelKind,
        _fields: usize,
        params: &CtrParams,
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Self {
        let k = params.embedding_dim;
        let heads = params.attention_heads.max(1);
        let width = params.attention_size.div_ceil(heads) * heads;
        let transformer = AttentionLayer::new(k, width, k, rng, device);
        let orders = params.interhat_orders.max(1);
        let mut order_hidden = Vec::new();
        let mut order_context = Vec::new();
        for _ in 0..orders {
            order_hidden.push(DenseLayer::new(k, width, rng, device));
            order_context.push(uniform2(width, 1, width, rng, device));
        }
        InterHat {
            transformer,
            order_hidden,
            order_context,
            final_hidden: DenseLayer::new(k, width, rng, device),
            final_context: uniform2(width, 1, width, rng, device),
            mlp: logit_dnn(k, &params.hidden, rng, device),
            heads,
        }
    }
}

impl CtrNet for InterHat {
    fn forward(&self, emb: Tensor<3>) -> Tensor<2> {
        self.run(emb).logit
    }

    fn interaction_maps(&self, emb: Tensor<3>) -> Option<MapTensors> {
        let parts = self.run(emb);
        let [b, h, f, _] = parts.transformer.dims();
        let mut maps = Vec::new();
        for head in 0..h {
            let m = parts
                .transformer
                .clone()
                .narrow(1, head, 1)
                .reshape([b, f, f]);
            maps.push((format!("transformer head {}", head + 1), m));
        }
        let mut field_weights: Vec<(String, Tensor<2>)> = parts
            .alphas
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("order {} attention", i + 1), a.clone()))
            .collect();
        field_weights.push(("attention over orders (β)".to_string(), parts.beta));
        let (pair_scores, rule) = if parts.alphas.len() >= 2 {
            let a1 = parts.alphas[0].clone().unsqueeze_dim::<3>(1); // [b, 1, F]
            let a2 = parts.alphas[1].clone().unsqueeze_dim::<3>(2); // [b, F, 1]
            let m = a2 * a1; // m[j][l] = α²_j α¹_l
            (
                symmetrise(m).mul_scalar(2.0),
                "InterHAt: α²_j·α¹_l + α²_l·α¹_j, the weight u₂ gives the product x_j ∘ x_l \
                 (α⁽ⁱ⁾ = attention of order i), averaged over the sample of rows",
            )
        } else {
            (
                symmetrise(parts.transformer.mean_dim(1).reshape([b, f, f])),
                "InterHAt with one order: (a[i][j] + a[j][i]) / 2 of the transformer's \
                 attention, averaged over heads and the sample of rows",
            )
        };
        Some(MapTensors {
            maps,
            field_weights,
            pair_scores,
            rule,
        })
    }
}

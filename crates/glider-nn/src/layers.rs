//! Small building blocks shared by the models: a seeded fully connected layer and a ReLU stack.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A fully connected layer `y = x W + b`, `W: [d_in, d_out]`, `b: [d_out]`.
#[derive(Module, Debug)]
pub struct DenseLayer {
    /// Weight, `[d_in, d_out]`.
    pub weight: Param<Tensor<2>>,
    /// Bias, `[d_out]`.
    pub bias: Param<Tensor<1>>,
}

impl DenseLayer {
    /// PyTorch's default initialisation, drawn from `rng`: weights and biases uniform in
    /// `±1/sqrt(d_in)` (Kaiming-uniform with a = sqrt 5).
    pub fn new(d_in: usize, d_out: usize, rng: &mut ChaCha8Rng, device: &Device) -> Self {
        let bound = 1.0 / (d_in.max(1) as f32).sqrt();
        let w: Vec<f32> = (0..d_in * d_out)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        let b: Vec<f32> = (0..d_out)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        DenseLayer {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [d_in, d_out]),
                device,
            )),
            bias: Param::from_tensor(Tensor::from_data(TensorData::new(b, [d_out]), device)),
        }
    }

    /// `x: [batch, d_in]` → `[batch, d_out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>()
    }

    /// Sum of absolute weights (biases excluded), a scalar tensor `[1]`: the L1 term of spec 1.1.
    pub fn l1(&self) -> Tensor<1> {
        self.weight.val().abs().sum()
    }
}

/// A stack of layers with ReLU between them and a linear last layer.
#[derive(Module, Debug)]
pub struct ReluStack {
    /// The layers, input side first.
    pub layers: Vec<DenseLayer>,
}

impl ReluStack {
    /// Layers `d_in → sizes[0] → … → sizes[last]`.
    pub fn new(d_in: usize, sizes: &[usize], rng: &mut ChaCha8Rng, device: &Device) -> Self {
        let mut layers = Vec::with_capacity(sizes.len());
        let mut prev = d_in;
        for &s in sizes {
            layers.push(DenseLayer::new(prev, s, rng, device));
            prev = s;
        }
        ReluStack { layers }
    }

    /// `x: [batch, d_in]` → `[batch, sizes.last]`, ReLU after every layer but the last.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let n = self.layers.len();
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h);
            if i + 1 < n {
                h = relu(h);
            }
        }
        h
    }

    /// `x → relu(...)` through every layer, ReLU after each (a hidden tower).
    pub fn forward_hidden(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x;
        for layer in &self.layers {
            h = relu(layer.forward(h));
        }
        h
    }

    /// Sum over layers of the absolute weights (biases excluded).
    pub fn l1(&self) -> Option<Tensor<1>> {
        self.layers.iter().map(|l| l.l1()).reduce(|a, b| a + b)
    }

    /// The weights as plain matrices in the PyTorch layout (`[d_out, d_in]`), input side
    /// first, as `glider_core::nid` reads them.
    pub fn weight_matrices(&self) -> Result<Vec<glider_core::nid::Matrix>, crate::NnError> {
        self.layers
            .iter()
            .map(|l| {
                let [d_in, d_out] = l.weight.val().dims();
                let w = crate::to_vec(l.weight.val())?;
                let mut t = vec![0f32; d_in * d_out];
                for i in 0..d_in {
                    for o in 0..d_out {
                        t[o * d_in + i] = w[i * d_out + o];
                    }
                }
                glider_core::nid::Matrix::new(d_out, d_in, t)
                    .map_err(|e| crate::NnError::Shape(e.to_string()))
            })
            .collect()
    }
}

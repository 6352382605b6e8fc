//! A recommender's identity and settings: [`ModelKind`] (the architectures) and
//! [`CtrParams`] (their training settings and sizes, spec 3.4). Kept apart from the models
//! and the training loop so that neither depends on the other for them.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::sparse::OptimizerKind;

/// The recommender architectures glider trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelKind {
    /// Logistic regression over the fields' one-hot / scaled values.
    #[serde(rename = "lr")]
    Lr,
    /// Factorisation machine.
    #[serde(rename = "fm")]
    Fm,
    /// Wide&Deep: linear part + DNN (spec 3.4: DNN 1024-512-256).
    #[serde(rename = "wdl")]
    WideDeep,
    /// DeepFM: FM + DNN (spec 3.4: DNN 400-400-400).
    #[serde(rename = "deepfm")]
    DeepFm,
    /// Deep&Cross: cross network + DNN (spec 3.4: 6 cross layers, DNN 1024-1024).
    #[serde(rename = "dcn")]
    Dcn,
    /// xDeepFM: linear + CIN + DNN (spec 3.4: CIN 200-200-200, DNN 400-400).
    #[serde(rename = "xdeepfm")]
    XDeepFm,
    /// AutoInt: multi-head self-attention over the field embeddings, residual (spec 3.4: 3
    /// layers, 2 heads, 64 wide).
    #[serde(rename = "autoint")]
    AutoInt,
    /// AutoInt+: AutoInt plus a DNN (spec 3.4: 400-400) in the logit.
    #[serde(rename = "autoint+")]
    AutoIntPlus,
    /// FiBiNET: SENET field importance + bilinear interactions + DNN.
    #[serde(rename = "fibinet")]
    FiBiNet,
    /// InterHAt: a transformer layer, then hierarchical attention over interaction orders.
    #[serde(rename = "interhat")]
    InterHat,
}

impl ModelKind {
    /// Every architecture, in the order of `--help` and the benchmark tables.
    pub const ALL: &'static [ModelKind] = &[
        ModelKind::Lr,
        ModelKind::Fm,
        ModelKind::WideDeep,
        ModelKind::DeepFm,
        ModelKind::Dcn,
        ModelKind::XDeepFm,
        ModelKind::AutoInt,
        ModelKind::AutoIntPlus,
        ModelKind::FiBiNet,
        ModelKind::InterHat,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Lr => "lr",
            ModelKind::Fm => "fm",
            ModelKind::WideDeep => "wdl",
            ModelKind::DeepFm => "deepfm",
            ModelKind::Dcn => "dcn",
            ModelKind::XDeepFm => "xdeepfm",
            ModelKind::AutoInt => "autoint",
            ModelKind::AutoIntPlus => "autoint+",
            ModelKind::FiBiNet => "fibinet",
            ModelKind::InterHat => "interhat",
        }
    }

    /// Whether entry 0 of an embedding row is a first-order weight (see the module doc).
    pub fn has_linear(self) -> bool {
        matches!(
            self,
            ModelKind::Lr
                | ModelKind::Fm
                | ModelKind::WideDeep
                | ModelKind::DeepFm
                | ModelKind::XDeepFm
                | ModelKind::FiBiNet
        )
    }

    /// Width of an embedding row for embedding size `k`: 1 for LR, `1 + k` with a linear
    /// term, `k` otherwise.
    pub fn embedding_width(self, k: usize) -> usize {
        match self {
            ModelKind::Lr => 1,
            m if m.has_linear() => 1 + k,
            _ => k,
        }
    }

    /// Whether the model hands out ante-hoc interaction maps (spec 4).
    pub fn has_interaction_maps(self) -> bool {
        matches!(
            self,
            ModelKind::AutoInt | ModelKind::AutoIntPlus | ModelKind::FiBiNet | ModelKind::InterHat
        )
    }

    /// Whether the model is one of the cheap ones production still serves (LR, FM, Wide&Deep):
    /// the targets whose distillation share `glider run` reports (issue 15).
    pub fn is_simple(self) -> bool {
        matches!(self, ModelKind::Lr | ModelKind::Fm | ModelKind::WideDeep)
    }

    /// The fewest fields the architecture works with (FiBiNET needs a pair).
    pub fn min_fields(self) -> usize {
        match self {
            ModelKind::FiBiNet => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let kind = match lower.as_str() {
            "lr" | "logistic" => ModelKind::Lr,
            "fm" => ModelKind::Fm,
            "wdl" | "widedeep" | "wide&deep" | "wide_deep" | "wide-deep" => ModelKind::WideDeep,
            "deepfm" => ModelKind::DeepFm,
            "dcn" | "deepcross" | "deep&cross" => ModelKind::Dcn,
            "xdeepfm" => ModelKind::XDeepFm,
            "autoint" => ModelKind::AutoInt,
            "autoint+" | "autointplus" | "autoint_plus" | "autoint-plus" => ModelKind::AutoIntPlus,
            "fibinet" => ModelKind::FiBiNet,
            "interhat" => ModelKind::InterHat,
            _ => {
                return Err(format!(
                    "unknown model \"{s}\"; available: {}",
                    ModelKind::ALL
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        };
        Ok(kind)
    }
}

/// Training settings of a recommender, the architecture's sizes among them.
///
/// [`CtrParams::for_model`] gives the reference settings of spec 3.4 for each architecture
/// (embedding 16, batch 1024; Adagrad lr 0.01 for Wide&Deep, DeepFM, DCN and xDeepFM; Adam lr
/// 1e-3 for the others). Fields a model does not use are ignored by it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CtrParams {
    /// Embedding size `k`.
    pub embedding_dim: usize,
    /// DNN hidden sizes (the MLP after InterHAt's pooling).
    pub hidden: Vec<usize>,
    /// Optimiser for the dense parameters and the embedding rows.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub learning_rate: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Maximum number of epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs in a row without a better validation logloss.
    pub patience: usize,
    /// Standard deviation of the normal initialisation of embedding rows.
    pub embedding_init_std: f32,
    /// L2 penalty on the embeddings a batch looks up: `λ · mean over rows of Σ_fields ‖e‖²`
    /// (0 = none). Keeps high-cardinality fields, cross features above all, from memorising
    /// the training rows.
    #[serde(default)]
    pub embedding_l2: f32,
    /// DCN: number of cross layers (spec 3.4: 6).
    #[serde(default = "default_cross_layers")]
    pub cross_layers: usize,
    /// xDeepFM: CIN layer sizes (spec 3.4: 200-200-200).
    #[serde(default = "default_cin_layers")]
    pub cin_layers: Vec<usize>,
    /// AutoInt: attention layers (spec 3.4: 3).
    #[serde(default = "default_attention_layers")]
    pub attention_layers: usize,
    /// AutoInt, InterHAt: attention heads (spec 3.4: 2).
    #[serde(default = "default_attention_heads")]
    pub attention_heads: usize,
    /// AutoInt: each attention layer's output size, split across the heads (spec 3.4: 64);
    /// InterHAt: the attention width.
    #[serde(default = "default_attention_size")]
    pub attention_size: usize,
    /// FiBiNET: SENET reduction ratio (3).
    #[serde(default = "default_reduction_ratio")]
    pub reduction_ratio: usize,
    /// InterHAt: interaction orders (3).
    #[serde(default = "default_interhat_orders")]
    pub interhat_orders: usize,
    /// How the embeddings of cross features start and are penalised (issue 15; none when
    /// the data has no cross fields).
    #[serde(default)]
    pub cross: CrossEmbedding,
}

/// How the embedding rows of cross features are trained (glider's addition to spec 3.3,
/// issue 15: "cross embeddings that start harmless"). A cross field is one of the last
/// `fields` fields of the encoder; `glider run` appends the crosses after the data's own
/// fields and sets `fields` for the +GLIDER arm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossEmbedding {
    /// Number of trailing fields that are cross features (0 = none: the settings below do
    /// nothing).
    #[serde(default)]
    pub fields: usize,
    /// Cross rows start at zero instead of the normal initialisation, so the model starts
    /// as if it had no crosses (the random draws are made either way: the other rows are the
    /// same as without this).
    #[serde(default)]
    pub zero_init: bool,
    /// Extra L2 on the cross fields' looked-up embeddings, added to
    /// [`CtrParams::embedding_l2`] for those cells (same units).
    #[serde(default)]
    pub l2: f32,
    /// Crosses enter the first-order (linear) term only: their factor columns stay zero, so
    /// the FM, DNN, CIN parts never see them. Only for architectures with a linear term
    /// ([`ModelKind::has_linear`]); ignored by the others.
    #[serde(default)]
    pub linear_only: bool,
}

impl CrossEmbedding {
    /// Whether any cross cell is trained differently from the other fields.
    pub fn is_active(&self) -> bool {
        self.fields > 0 && (self.zero_init || self.l2 > 0.0 || self.linear_only)
    }
}

fn default_cross_layers() -> usize {
    6
}
fn default_cin_layers() -> Vec<usize> {
    vec![200, 200, 200]
}
fn default_attention_layers() -> usize {
    3
}
fn default_attention_heads() -> usize {
    2
}
fn default_attention_size() -> usize {
    64
}
fn default_reduction_ratio() -> usize {
    3
}
fn default_interhat_orders() -> usize {
    3
}

impl Default for CtrParams {
    /// DeepFM's reference settings (spec 3.4).
    fn default() -> Self {
        CtrParams::for_model(ModelKind::DeepFm)
    }
}

impl CtrParams {
    /// The reference settings of spec 3.4 for `kind`: DNN sizes (W&D 1024-512-256, DeepFM
    /// 400-400-400, DCN 1024-1024, xDeepFM 400-400, AutoInt+ 400-400, FiBiNET 400-400-400,
    /// InterHAt's MLP 64; none for LR, FM and AutoInt) and optimiser (Adagrad lr 0.01 for W&D,
    /// DeepFM, DCN and xDeepFM). glider's own defaults beyond the spec, measured: Adam lr 0.01
    /// for LR and 3e-3 for FM (1e-3 for the other Adam models); at most 100 epochs for LR and
    /// FM and 50 for the rest, early stopping with patience 2.
    pub fn for_model(kind: ModelKind) -> Self {
        let hidden = match kind {
            ModelKind::Lr | ModelKind::Fm | ModelKind::AutoInt => vec![],
            ModelKind::WideDeep => vec![1024, 512, 256],
            ModelKind::DeepFm | ModelKind::FiBiNet => vec![400, 400, 400],
            ModelKind::Dcn => vec![1024, 1024],
            ModelKind::XDeepFm | ModelKind::AutoIntPlus => vec![400, 400],
            ModelKind::InterHat => vec![64],
        };
        let (optimizer, learning_rate) = match kind {
            ModelKind::WideDeep | ModelKind::DeepFm | ModelKind::Dcn | ModelKind::XDeepFm => {
                (OptimizerKind::Adagrad, 0.01)
            }
            // Chosen on validation logloss over Adult, Criteo 10k, Avazu 9k, Frappe and
            // MovieLens (BENCHMARKS.md, "Models that hold their own"): at 1e-3 and 20
            // epochs LR stopped at its cap in every run, FM in 3 of 15.
            ModelKind::Lr => (OptimizerKind::Adam, 0.01),
            ModelKind::Fm => (OptimizerKind::Adam, 3e-3),
            _ => (OptimizerKind::Adam, 1e-3),
        };
        // Early stopping, not the cap, should end training: the cap only bounds a run that
        // keeps improving. LR and FM epochs are cheap and they converge slowest.
        let max_epochs = match kind {
            ModelKind::Lr | ModelKind::Fm => 100,
            _ => 50,
        };
        CtrParams {
            embedding_dim: 16,
            hidden,
            optimizer,
            learning_rate,
            batch_size: 1024,
            max_epochs,
            patience: 2,
            embedding_init_std: 0.01,
            embedding_l2: 0.0,
            cross_layers: default_cross_layers(),
            cin_layers: default_cin_layers(),
            attention_layers: default_attention_layers(),
            attention_heads: default_attention_heads(),
            attention_size: default_attention_size(),
            reduction_ratio: default_reduction_ratio(),
            interhat_orders: default_interhat_orders(),
            cross: CrossEmbedding::default(),
        }
    }
}

//! Tree-ensemble classifiers (`ai.onnx.ml` TreeEnsembleClassifier, as skl2onnx and
//! onnxmltools write random forests, gradient boosting, XGBoost and LightGBM) scored by glider
//! itself (cargo feature `onnx`).
//!
//! tract runs these models, but its leaf lookup walks the ensemble's leaf table from the
//! start for every tree of every row, so a 40-tree XGBoost export scores about 4,000 rows/s
//! (BENCHMARKS.md); GLIDER asks a model 6,000 rows per instance. A model whose graph is one
//! TreeEnsembleClassifier on its input, followed only by Identity, Cast, ZipMap or a multiply
//! by 1 (what the converters add), is read here into flat arrays and scored directly, with
//! the semantics of the operator's ONNX definition: each tree adds its leaf's weights to the
//! class scores, `base_values` are added, then `post_transform` (NONE, LOGISTIC, SOFTMAX); a
//! binary model whose leaves all score class 0 answers `[1 − p, p]`, p the transformed score.
//! Any other graph goes to tract.

use tract_onnx::pb::{AttributeProto, ModelProto, NodeProto, TensorProto};

/// How a branch compares the feature with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
}

#[derive(Clone, Copy, Debug)]
enum Node {
    /// Compare input column `feature` with `value`; true goes to `yes`.
    Branch {
        feature: u32,
        value: f32,
        mode: Mode,
        nan_true: bool,
        yes: u32,
        no: u32,
    },
    /// Add `weights[start..end]` to the class scores.
    Leaf { start: u32, end: u32 },
}

/// The post-transform of the class scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Post {
    None,
    Logistic,
    Softmax,
}

/// What a graph output is, in terms of the ensemble's two outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForestOutput {
    /// The predicted class label (as a number).
    Label,
    /// The class probabilities, `[n, classes]`.
    Probabilities,
}

/// A tree-ensemble classifier read from an ONNX graph.
#[derive(Clone, Debug)]
pub struct Forest {
    /// Each tree's root, an index into `nodes`.
    roots: Vec<u32>,
    nodes: Vec<Node>,
    /// (class, weight) of the leaves, in leaf order.
    weights: Vec<(u32, f32)>,
    labels: Vec<i64>,
    base: Vec<f32>,
    post: Post,
    /// Two labels and every leaf scoring class 0: the answer is `[1 − p, p]`.
    binary_one_class: bool,
    /// Input columns read (the largest feature id + 1).
    pub needed_width: usize,
    /// The graph's input name.
    pub input: String,
    /// The graph's outputs: name and what it is.
    pub outputs: Vec<(String, ForestOutput)>,
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn ints(node: &NodeProto, name: &str) -> Vec<i64> {
    attr(node, name).map(|a| a.ints.clone()).unwrap_or_default()
}

fn floats(node: &NodeProto, name: &str) -> Vec<f32> {
    attr(node, name)
        .map(|a| a.floats.clone())
        .unwrap_or_default()
}

fn strings(node: &NodeProto, name: &str) -> Vec<String> {
    attr(node, name)
        .map(|a| {
            a.strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `tensor` holds only ones (a float initializer).
fn all_ones(tensor: &TensorProto) -> bool {
    let values: Vec<f32> = if !tensor.float_data.is_empty() {
        tensor.float_data.clone()
    } else {
        tensor
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    tensor.data_type == 1 && !values.is_empty() && values.iter().all(|&v| v == 1.0)
}

impl Forest {
    /// Reads the ensemble when `model`'s graph is one TreeEnsembleClassifier on the graph's
    /// one input followed only by pass-through nodes; `None` for any other graph (tract runs
    /// it), or for attributes this reader does not handle.
    pub fn from_model(model: &ModelProto) -> Option<Forest> {
        let graph = model.graph.as_ref()?;
        let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs: Vec<&str> = graph
            .input
            .iter()
            .map(|i| i.name.as_str())
            .filter(|n| !initializers.contains(n))
            .collect();
        let [input] = inputs[..] else { return None };
        let trees: Vec<&NodeProto> = graph
            .node
            .iter()
            .filter(|n| n.op_type == "TreeEnsembleClassifier")
            .collect();
        let [tree] = trees[..] else { return None };
        if tree.input.first().map(String::as_str) != Some(input) || tree.output.len() != 2 {
            return None;
        }
        // Every tensor name → what it carries.
        let mut carries: std::collections::HashMap<String, ForestOutput> =
            std::collections::HashMap::new();
        carries.insert(tree.output[0].clone(), ForestOutput::Label);
        carries.insert(tree.output[1].clone(), ForestOutput::Probabilities);
        for node in &graph.node {
            if std::ptr::eq(node, tree) {
                continue;
            }
            let from = node.input.first().and_then(|i| carries.get(i)).copied()?;
            let passes = match node.op_type.as_str() {
                "Identity" | "Cast" | "ZipMap" => node.input.len() == 1,
                "Mul" => {
                    node.input.len() == 2
                        && graph
                            .initializer
                            .iter()
                            .any(|t| t.name == node.input[1] && all_ones(t))
                }
                _ => false,
            };
            if !passes || node.output.len() != 1 {
                return None;
            }
            carries.insert(node.output[0].clone(), from);
        }
        let outputs: Vec<(String, ForestOutput)> = graph
            .output
            .iter()
            .map(|o| carries.get(&o.name).map(|c| (o.name.clone(), *c)))
            .collect::<Option<_>>()?;
        let mut forest = Self::read(tree)?;
        forest.input = input.to_string();
        forest.outputs = outputs;
        Some(forest)
    }

    fn read(node: &NodeProto) -> Option<Forest> {
        let labels = ints(node, "classlabels_int64s");
        if labels.is_empty() {
            return None;
        }
        let tree_ids = ints(node, "nodes_treeids");
        let node_ids = ints(node, "nodes_nodeids");
        let features = ints(node, "nodes_featureids");
        let values = floats(node, "nodes_values");
        let modes = strings(node, "nodes_modes");
        let yes = ints(node, "nodes_truenodeids");
        let no = ints(node, "nodes_falsenodeids");
        let nan_true = ints(node, "nodes_missing_value_tracks_true");
        let n = tree_ids.len();
        if n == 0
            || [
                node_ids.len(),
                features.len(),
                values.len(),
                modes.len(),
                yes.len(),
                no.len(),
            ]
            .iter()
            .any(|&l| l != n)
            || !(nan_true.is_empty() || nan_true.len() == n)
        {
            return None;
        }
        // Node (tree, id) → flat index.
        let mut index = std::collections::HashMap::with_capacity(n);
        for k in 0..n {
            index.insert((tree_ids[k], node_ids[k]), k as u32);
        }
        // Leaf weights grouped by leaf node.
        let c_trees = ints(node, "class_treeids");
        let c_nodes = ints(node, "class_nodeids");
        let c_ids = ints(node, "class_ids");
        let c_weights = floats(node, "class_weights");
        if [c_nodes.len(), c_ids.len(), c_weights.len()]
            .iter()
            .any(|&l| l != c_trees.len())
        {
            return None;
        }
        let mut per_leaf: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for k in 0..c_trees.len() {
            let leaf = *index.get(&(c_trees[k], c_nodes[k]))? as usize;
            let class = u32::try_from(c_ids[k]).ok()?;
            if class as usize >= labels.len() {
                return None;
            }
            per_leaf[leaf].push((class, c_weights[k]));
        }
        let mut nodes = Vec::with_capacity(n);
        let mut weights = Vec::new();
        let mut needed_width = 0;
        for k in 0..n {
            let child = |id: i64| index.get(&(tree_ids[k], id)).copied();
            let mode = match modes[k].as_str() {
                "LEAF" => None,
                "BRANCH_LEQ" => Some(Mode::Leq),
                "BRANCH_LT" => Some(Mode::Lt),
                "BRANCH_GTE" => Some(Mode::Gte),
                "BRANCH_GT" => Some(Mode::Gt),
                "BRANCH_EQ" => Some(Mode::Eq),
                "BRANCH_NEQ" => Some(Mode::Neq),
                _ => return None,
            };
            nodes.push(match mode {
                None => {
                    let start = weights.len() as u32;
                    weights.extend_from_slice(&per_leaf[k]);
                    Node::Leaf {
                        start,
                        end: weights.len() as u32,
                    }
                }
                Some(mode) => {
                    let feature = u32::try_from(features[k]).ok()?;
                    needed_width = needed_width.max(feature as usize + 1);
                    Node::Branch {
                        feature,
                        value: values[k],
                        mode,
                        nan_true: nan_true.get(k).is_some_and(|&t| t != 0),
                        yes: child(yes[k])?,
                        no: child(no[k])?,
                    }
                }
            });
        }
        // Roots: each tree's node that no branch points to.
        let mut pointed = vec![false; n];
        for node in &nodes {
            if let Node::Branch { yes, no, .. } = node {
                pointed[*yes as usize] = true;
                pointed[*no as usize] = true;
            }
        }
        let mut roots: Vec<(i64, u32)> = (0..n)
            .filter(|&k| !pointed[k])
            .map(|k| (tree_ids[k], k as u32))
            .collect();
        roots.sort_unstable();
        let distinct_trees = {
            let mut t = tree_ids.clone();
            t.sort_unstable();
            t.dedup();
            t.len()
        };
        if roots.len() != distinct_trees {
            return None;
        }
        let post = match attr(node, "post_transform")
            .and_then(|a| std::str::from_utf8(&a.s).ok())
            .unwrap_or("NONE")
        {
            "NONE" => Post::None,
            "LOGISTIC" => Post::Logistic,
            "SOFTMAX" => Post::Softmax,
            _ => return None,
        };
        let mut base = floats(node, "base_values");
        let binary_one_class = labels.len() == 2 && weights.iter().all(|&(c, _)| c == 0);
        if binary_one_class && post == Post::Softmax {
            return None;
        }
        match base.len() {
            0 => base = vec![0.0; labels.len()],
            1 if binary_one_class => base.push(0.0),
            l if l == labels.len() => {}
            _ => return None,
        }
        Some(Forest {
            roots: roots.into_iter().map(|(_, k)| k).collect(),
            nodes,
            weights,
            labels,
            base,
            post,
            binary_one_class,
            needed_width,
            input: String::new(),
            outputs: Vec::new(),
        })
    }

    /// Number of class labels (columns of the probabilities).
    pub fn classes(&self) -> usize {
        self.labels.len()
    }

    /// Scores `n` rows of `width` columns (row-major): `(labels, probabilities)`, the latter
    /// `n × classes` row-major.
    pub fn score(&self, x: &[f64], n: usize, width: usize) -> (Vec<f64>, Vec<f64>) {
        let k = self.labels.len();
        let mut probabilities = vec![0.0f64; n * k];
        let mut labels = Vec::with_capacity(n);
        let base: Vec<f64> = self.base.iter().map(|&b| f64::from(b)).collect();
        let mut scores = vec![0.0f64; k];
        for r in 0..n {
            let row = &x[r * width..(r + 1) * width];
            scores.copy_from_slice(&base);
            for &root in &self.roots {
                let mut at = root as usize;
                loop {
                    match self.nodes[at] {
                        Node::Leaf { start, end } => {
                            for &(c, w) in &self.weights[start as usize..end as usize] {
                                scores[c as usize] += f64::from(w);
                            }
                            break;
                        }
                        Node::Branch {
                            feature,
                            value,
                            mode,
                            nan_true,
                            yes,
                            no,
                        } => {
                            // The comparison in f32, as the operator's thresholds are.
                            let v = row[feature as usize] as f32;
                            let go = if v.is_nan() {
                                nan_true
                            } else {
                                match mode {
                                    Mode::Leq => v <= value,
                                    Mode::Lt => v < value,
                                    Mode::Gte => v >= value,
                                    Mode::Gt => v > value,
                                    Mode::Eq => v == value,
                                    Mode::Neq => v != value,
                                }
                            };
                            at = if go { yes } else { no } as usize;
                        }
                    }
                }
            }
            let out = &mut probabilities[r * k..(r + 1) * k];
            if self.binary_one_class {
                let s = scores[0];
                let p = match self.post {
                    Post::Logistic => 1.0 / (1.0 + (-s).exp()),
                    _ => s,
                };
                out[0] = 1.0 - p;
                out[1] = p;
            } else {
                match self.post {
                    Post::None => out.copy_from_slice(&scores),
                    Post::Logistic => {
                        for (o, s) in out.iter_mut().zip(&scores) {
                            *o = 1.0 / (1.0 + (-s).exp());
                        }
                    }
                    Post::Softmax => {
                        let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let total: f64 = scores.iter().map(|s| (s - m).exp()).sum();
                        for (o, s) in out.iter_mut().zip(&scores) {
                            *o = (s - m).exp() / total;
                        }
                    }
                }
            }
            let best = (0..k).fold(0, |b, c| if out[c] > out[b] { c } else { b });
            labels.push(self.labels[best] as f64);
        }
        (labels, probabilities)
    }
}

//! Neural Interaction Detection (NID): interactions read from an MLP's weights.
//!
//! Implements ALGORITHMS.md sections 1.2 (unit importance), 1.3 (pairwise strength) and
//! 1.4 (any-order strength, greedy candidate ranking and redundancy pruning), after
//! Tsang, Cheng & Liu, "Detecting Statistical Interactions from Neural Network Weights",
//! ICLR 2018 (the interaction strength
//! `omega(I) = sum_i z_i * mu(|W1[i, I]|)`, with `z = |w_y| |W_L| ... |W_2|`).
//!
//! All strengths are unitless, non-negative `f64` sums of products of absolute weights.

use std::cmp::Ordering;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Errors from building or reading MLP weights.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum NidError {
    /// `Matrix::new` got a data vector whose length is not `rows * cols`.
    #[error("matrix data has {len} values, expected rows {rows} x cols {cols} = {expected}")]
    DataLength {
        /// Declared rows (output units).
        rows: usize,
        /// Declared cols (inputs).
        cols: usize,
        /// `rows * cols`.
        expected: usize,
        /// Length actually given.
        len: usize,
    },
    /// A weight list with no layers.
    #[error("an MLP needs at least one weight matrix, got none")]
    NoLayers,
    /// Two consecutive layers do not chain: `layers[layer + 1].cols != layers[layer].rows`.
    #[error(
        "layer {next} takes {next_cols} inputs but layer {layer} has {layer_rows} output units"
    )]
    ShapeChain {
        /// Index of the earlier layer.
        layer: usize,
        /// Its number of rows (output units).
        layer_rows: usize,
        /// Index of the later layer (`layer + 1`).
        next: usize,
        /// Its number of columns (inputs).
        next_cols: usize,
    },
    /// NID needs a first hidden layer and an output layer (spec 1.2): at least two matrices.
    #[error("NID needs at least 2 weight matrices (a hidden layer and an output), got {layers}")]
    TooFewLayers {
        /// Number of matrices given.
        layers: usize,
    },
    /// A weight is NaN or infinite.
    #[error("layer {layer} holds a non-finite weight at row {row}, col {col}")]
    NonFinite {
        /// Layer index (0 = W1).
        layer: usize,
        /// Row (output unit).
        row: usize,
        /// Column (input).
        col: usize,
    },
}

/// Row-major dense matrix in the PyTorch `Linear` layout: rows = output units,
/// cols = inputs; `data[r * cols + c]` is the weight from input `c` to unit `r`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Number of output units.
    pub rows: usize,
    /// Number of inputs.
    pub cols: usize,
    /// `rows * cols` weights, row-major.
    pub data: Vec<f32>,
}

impl Matrix {
    /// Builds a `rows x cols` matrix from row-major `data`.
    ///
    /// # Errors
    /// [`NidError::DataLength`] when `data.len() != rows * cols` (or the product overflows).
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Result<Self, NidError> {
        let expected = rows.checked_mul(cols);
        if expected != Some(data.len()) {
            return Err(NidError::DataLength {
                rows,
                cols,
                expected: expected.unwrap_or(usize::MAX),
                len: data.len(),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// The weight at row `r` (output unit), column `c` (input).
    ///
    /// # Panics
    /// When `r >= rows` or `c >= cols` (an index error by the caller, like slice indexing).
    pub fn get(&self, r: usize, c: usize) -> f32 {
        assert!(
            r < self.rows && c < self.cols,
            "index ({r}, {c}) out of a {}x{} matrix",
            self.rows,
            self.cols
        );
        self.data[r * self.cols + c]
    }

    /// Row `r` as a slice of `cols` weights. Panics when `r >= rows`.
    fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }
}

/// Weights of an MLP, input side first: `layers[0]` = W1 (h1 x p), then W2 (h2 x h1), ...,
/// last = output layer (outputs x hL). Biases are not needed by NID (spec 1.2-1.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpWeights {
    /// Weight matrices, input layer first, output layer last.
    pub layers: Vec<Matrix>,
}

impl MlpWeights {
    /// Checks that the layers chain (`layers[i + 1].cols == layers[i].rows`) and that there
    /// is at least one layer; each matrix's data length is checked as well.
    ///
    /// # Errors
    /// [`NidError::NoLayers`], [`NidError::ShapeChain`] or [`NidError::DataLength`].
    pub fn new(layers: Vec<Matrix>) -> Result<Self, NidError> {
        let w = Self { layers };
        w.check_shapes()?;
        Ok(w)
    }

    /// Number of input features p (columns of W1); 0 when there are no layers.
    pub fn num_features(&self) -> usize {
        self.layers.first().map_or(0, |m| m.cols)
    }

    fn check_shapes(&self) -> Result<(), NidError> {
        if self.layers.is_empty() {
            return Err(NidError::NoLayers);
        }
        for m in &self.layers {
            if m.rows.checked_mul(m.cols) != Some(m.data.len()) {
                return Err(NidError::DataLength {
                    rows: m.rows,
                    cols: m.cols,
                    expected: m.rows.saturating_mul(m.cols),
                    len: m.data.len(),
                });
            }
        }
        for (i, pair) in self.layers.windows(2).enumerate() {
            if pair[1].cols != pair[0].rows {
                return Err(NidError::ShapeChain {
                    layer: i,
                    layer_rows: pair[0].rows,
                    next: i + 1,
                    next_cols: pair[1].cols,
                });
            }
        }
        Ok(())
    }

    /// Full check before NID: shapes, at least 2 layers, all weights finite.
    fn check_for_nid(&self) -> Result<(), NidError> {
        self.check_shapes()?;
        if self.layers.len() < 2 {
            return Err(NidError::TooFewLayers {
                layers: self.layers.len(),
            });
        }
        for (layer, m) in self.layers.iter().enumerate() {
            if let Some(k) = m.data.iter().position(|v| !v.is_finite()) {
                return Err(NidError::NonFinite {
                    layer,
                    row: k / m.cols.max(1),
                    col: k % m.cols.max(1),
                });
            }
        }
        Ok(())
    }
}

/// How the `|W1|` entries of one first-layer unit are combined into `mu` (spec 1.4:
/// `Min` is the paper's choice; the means are the alternatives the paper compared).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Averaging {
    /// `min_k |w_k|` (the NID default).
    #[default]
    Min,
    /// `(1/j) sum_k |w_k|`.
    ArithmeticMean,
    /// `(prod_k |w_k|)^(1/j)`; 0 when any entry is 0.
    GeometricMean,
    /// `j / sum_k 1/|w_k|`; 0 when any entry is 0.
    HarmonicMean,
}

/// One interaction: feature indices sorted ascending, and its strength `omega` (unitless,
/// spec 1.3 / 1.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedInteraction {
    /// Feature (or field) indices, sorted ascending, distinct.
    pub features: Vec<usize>,
    /// Interaction strength `omega(I)`, >= 0.
    pub strength: f64,
}

/// Unit importance `z` (spec 1.2): the 1 x h1 row vector `|w_y| |W_L| ... |W_2|`, the
/// product of element-wise absolute weight matrices from the output back to layer 2.
/// With several output rows (multiclass), the per-output rows are summed (an extension
/// the paper does not cover, spec 1.1). With one hidden layer, `z` is `|w_y|` (summed over
/// output rows).
///
/// Returns a vector of length h1 = `layers[0].rows`.
///
/// # Errors
/// Shape errors as in [`MlpWeights::new`]; [`NidError::TooFewLayers`] with fewer than 2
/// matrices; [`NidError::NonFinite`] for a NaN or infinite weight.
pub fn unit_importance(w: &MlpWeights) -> Result<Vec<f64>, NidError> {
    w.check_for_nid()?;
    let last = &w.layers[w.layers.len() - 1];
    // Sum of |output rows|: length last.cols.
    let mut v = vec![0.0f64; last.cols];
    for r in 0..last.rows {
        for (acc, x) in v.iter_mut().zip(last.row(r)) {
            *acc += f64::from(x.abs());
        }
    }
    // Multiply from the right side back to W2: v (len m.rows) . |m| (m.rows x m.cols).
    for m in w.layers[1..w.layers.len() - 1].iter().rev() {
        let mut next = vec![0.0f64; m.cols];
        for (r, &vr) in v.iter().enumerate() {
            if vr == 0.0 {
                continue;
            }
            for (acc, x) in next.iter_mut().zip(m.row(r)) {
                *acc += vr * f64::from(x.abs());
            }
        }
        v = next;
    }
    Ok(v)
}

/// Pairwise strengths (spec 1.3): `omega({a,b}) = sum_i z_i * mu(|W1[i,a]|, |W1[i,b]|)`
/// for all p(p-1)/2 pairs `a < b`, sorted strongest first; ties broken by features
/// ascending (lexicographic), so the order is deterministic. Not pruned.
///
/// Cost O(h1 * p^2), computed as `sum_i mu(z_i |W1[i,a]|, z_i |W1[i,b]|)` (every `mu` is
/// positively homogeneous) with `f32` terms summed in blocks of 4 units and the blocks in
/// `f64` (relative error about 1e-7), tiled for the cache and split over rows of pairs with
/// rayon; each pair is summed in the same order whatever the number of threads, so the result
/// does not depend on it.
///
/// # Errors
/// As [`unit_importance`].
pub fn pairwise_strengths(
    w: &MlpWeights,
    averaging: Averaging,
) -> Result<Vec<RankedInteraction>, NidError> {
    let acc = pairwise_strength_table(w, averaging)?;
    let p = w.layers[0].cols;
    // Sort keys: strength descending (the bits of a non-negative f64 order like the value),
    // then (a, b) ascending.
    let mut keys: Vec<(u64, u32, u32)> = Vec::with_capacity(acc.len());
    let mut k = 0;
    for a in 0..p {
        for b in a + 1..p {
            keys.push((!acc[k].to_bits(), a as u32, b as u32));
            k += 1;
        }
    }
    keys.par_sort_unstable();
    Ok(keys
        .par_iter()
        .map(|&(bits, a, b)| RankedInteraction {
            features: vec![a as usize, b as usize],
            strength: f64::from_bits(!bits),
        })
        .collect())
}

/// The strengths of all pairs (spec 1.3), unsorted: entry `k` is the k-th pair `(a, b)`,
/// `a < b`, in lexicographic order (`(0,1), (0,2), …, (0,p−1), (1,2), …`), p(p−1)/2 values.
/// This is NID's scoring work; [`pairwise_strengths`] adds the sort. Computed as described
/// there.
///
/// # Errors
/// As [`unit_importance`].
pub fn pairwise_strength_table(w: &MlpWeights, averaging: Averaging) -> Result<Vec<f64>, NidError> {
    let z = unit_importance(w)?;
    Ok(match averaging {
        Averaging::Min => pair_sums(w, &z, |a, b| if a < b { a } else { b }),
        Averaging::ArithmeticMean => pair_sums(w, &z, |a, b| 0.5 * (a + b)),
        Averaging::GeometricMean => pair_sums(w, &z, |a, b| (a * b).sqrt()),
        Averaging::HarmonicMean => pair_sums(w, &z, |a, b| {
            if a == 0.0 || b == 0.0 {
                0.0
            } else {
                2.0 / (1.0 / a + 1.0 / b)
            }
        }),
    })
}

/// `acc[k] = sum_i mu(z_i |W1[i,a]|, z_i |W1[i,b]|)` for the k-th pair `(a, b)`, `a < b`, in
/// lexicographic order; units with `z_i = 0` are skipped. Terms are formed in `f32` and
/// summed in `f32` within blocks of 4 units (relative error about 1e-7), the blocks in `f64`.
fn pair_sums(w: &MlpWeights, z: &[f64], mu: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f64> {
    const ROWS: usize = 8;
    const COLS: usize = 256;
    const UNITS: usize = 4;
    let w1 = &w.layers[0];
    let p = w1.cols;
    let units: Vec<usize> = (0..w1.rows).filter(|&i| z[i] != 0.0).collect();
    let zw: Vec<f32> = units
        .iter()
        .flat_map(|&i| {
            w1.row(i)
                .iter()
                .map(move |x| (z[i] * f64::from(x.abs())) as f32)
        })
        .collect();
    let blocks: Vec<usize> = (0..p.saturating_sub(1)).step_by(ROWS).collect();
    let parts: Vec<Vec<f64>> = blocks
        .par_iter()
        .map(|&a0| {
            let a1 = (a0 + ROWS).min(p - 1);
            // Offsets of rows a0..a1 inside this block's accumulator.
            let mut offset = Vec::with_capacity(a1 - a0 + 1);
            let mut total = 0;
            for a in a0..a1 {
                offset.push(total);
                total += p - a - 1;
            }
            let mut acc = vec![0.0f64; total];
            let mut b0 = a0 + 1;
            while b0 < p {
                let b1 = (b0 + COLS).min(p);
                // Four units at a time: one load and store of the accumulator per four terms.
                for block in units.chunks(UNITS).enumerate() {
                    let u = block.0 * UNITS;
                    let n = block.1.len();
                    let r: [&[f32]; UNITS] = std::array::from_fn(|k| {
                        let uu = u + k.min(n - 1);
                        &zw[uu * p..(uu + 1) * p]
                    });
                    for a in a0..a1 {
                        let lo = b0.max(a + 1);
                        if lo >= b1 {
                            continue;
                        }
                        let start = offset[a - a0] + (lo - a - 1);
                        let dst = &mut acc[start..start + (b1 - lo)];
                        if n == UNITS {
                            let (w0, w1, w2, w3) = (r[0][a], r[1][a], r[2][a], r[3][a]);
                            let terms = r[0][lo..b1]
                                .iter()
                                .zip(&r[1][lo..b1])
                                .zip(&r[2][lo..b1])
                                .zip(&r[3][lo..b1]);
                            for (d, (((&x0, &x1), &x2), &x3)) in dst.iter_mut().zip(terms) {
                                *d += f64::from(
                                    (mu(w0, x0) + mu(w1, x1)) + (mu(w2, x2) + mu(w3, x3)),
                                );
                            }
                        } else {
                            for row in &r[..n] {
                                let wa = row[a];
                                for (d, &wb) in dst.iter_mut().zip(&row[lo..b1]) {
                                    *d += f64::from(mu(wa, wb));
                                }
                            }
                        }
                    }
                }
                b0 = b1;
            }
            acc
        })
        .collect();
    parts.concat()
}

/// Options for the any-order ranking (spec 1.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingOptions {
    /// Stop after this many interactions are emitted by the pruning (default 100, the
    /// reference cap).
    pub max_interactions: usize,
    /// How the top-j `|W1|` entries of a unit are combined (default `Min`).
    pub averaging: Averaging,
    /// When true, single features (j = 1, main effects) are candidates too (default false:
    /// j starts at 2).
    pub include_main_effects: bool,
    /// A candidate that is a strict superset of already emitted interactions must *earn its
    /// place*: it is dropped when its strength is below this share of the strongest of those
    /// subsets (default 0 = the reference pruning of spec 1.4). Against NID's bias to supersets:
    /// a spurious extra field is one a unit weights much less than the true members, so the
    /// superset's strength falls well below its subset's (see [`prune_redundant_with`]).
    #[serde(default)]
    pub superset_ratio: f64,
}

impl Default for RankingOptions {
    fn default() -> Self {
        Self {
            max_interactions: 100,
            averaging: Averaging::Min,
            include_main_effects: false,
            superset_ratio: 0.0,
        }
    }
}

/// SplitMix64 finaliser: a fixed bijective mix of a 64-bit value.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Greedy candidates in compact form: each distinct top-j set is stored as
/// (a unit whose top-j prefix it is, j) with its summed strength.
struct Candidates {
    /// Per unit, features in descending |W1| order (stable: ties by ascending index).
    orders: Vec<Vec<u32>>,
    /// (unit, j, strength) per distinct set.
    entries: Vec<(u32, u32, f64)>,
}

impl Candidates {
    /// The sorted feature set of entry `k`.
    fn features(&self, k: usize) -> Vec<usize> {
        let (unit, j, _) = self.entries[k];
        let mut f: Vec<usize> = self.orders[unit as usize][..j as usize]
            .iter()
            .map(|&x| x as usize)
            .collect();
        f.sort_unstable();
        f
    }
}

/// One unit's contribution to one candidate set.
#[derive(Clone, Copy)]
struct Contribution {
    /// 128-bit set key (Zobrist hash of the set, size folded in).
    key: u128,
    /// `z_i * mu(top-j)`.
    value: f64,
    /// The unit i.
    unit: u32,
    /// The set size j.
    j: u32,
}

/// Bits of the key the radix sort orders by (the top ones).
const RADIX_BITS: u32 = 33;

/// Stable LSD radix sort of `recs` by the top [`RADIX_BITS`] bits of their key (three
/// 11-bit passes: 2048 buckets stay cache friendly).
fn radix_sort_by_key_top(recs: Vec<Contribution>) -> Vec<Contribution> {
    let mut src = recs;
    let mut dst = src.clone();
    for shift in [95u32, 106, 117] {
        let digit = |c: &Contribution| ((c.key >> shift) & 0x7FF) as usize;
        let mut counts = vec![0usize; 1 << 11];
        for c in &src {
            counts[digit(c)] += 1;
        }
        let mut start = 0;
        for n in counts.iter_mut() {
            let here = *n;
            *n = start;
            start += here;
        }
        for c in &src {
            let d = digit(c);
            dst[counts[d]] = *c;
            counts[d] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    src
}

/// Spec 1.4 steps 1-3, keeping sets compact. Sets are identified by a 128-bit
/// order-independent Zobrist hash (XOR of two independent 64-bit codes per feature, with
/// the set size folded in), updated in O(1) as j grows; two different sets share a key
/// only with probability about 2^-128 per pair (a documented approximation). The
/// contributions are grouped by a stable radix sort on the key, so each set's strength is
/// summed in unit order (deterministic).
fn build_candidates(
    w: &MlpWeights,
    averaging: Averaging,
    include_main_effects: bool,
) -> Result<Candidates, NidError> {
    let z = unit_importance(w)?;
    let w1 = &w.layers[0];
    let p = w1.cols;
    let h1 = w1.rows;
    let codes: Vec<u128> = (0..p as u64)
        .map(|f| {
            let a = splitmix64(f ^ 0x5EED_0000_0000_0001);
            let b = splitmix64(a ^ 0xA5A5_5A5A_1234_5678);
            (u128::from(a) << 64) | u128::from(b)
        })
        .collect();
    let size_codes: Vec<u128> = (0..=p as u64)
        .map(|j| {
            let a = splitmix64(j ^ 0x517E_0000_0000_0002);
            let b = splitmix64(a ^ 0x0F0F_F0F0_8765_4321);
            (u128::from(a) << 64) | u128::from(b)
        })
        .collect();
    let j_start = if include_main_effects { 1 } else { 2 };
    let mut recs: Vec<Contribution> = Vec::with_capacity(h1.saturating_mul(p));
    let mut orders: Vec<Vec<u32>> = Vec::with_capacity(h1);
    let mut sort_keys: Vec<u64> = Vec::with_capacity(p);
    for (i, &zi) in z.iter().enumerate().take(h1) {
        let row = w1.row(i);
        // Step 1: descending |w|, ties by ascending feature index (the order of a stable
        // sort). |w| is a non-negative finite f32, whose bit pattern is monotone in the
        // value, so one u64 sort does it: (inverted bits, feature index).
        sort_keys.clear();
        sort_keys.extend(row.iter().enumerate().map(|(f, x)| {
            let inv = u64::from(!x.abs().to_bits() & 0x7FFF_FFFF);
            (inv << 32) | f as u64
        }));
        sort_keys.sort_unstable();
        let order: Vec<u32> = sort_keys.iter().map(|k| *k as u32).collect();
        let mut key: u128 = 0;
        let mut sum = 0.0f64;
        let mut log_sum = 0.0f64;
        let mut inv_sum = 0.0f64;
        let mut any_zero = false;
        for (jm1, &f) in order.iter().enumerate() {
            let j = jm1 + 1;
            let a = f64::from(row[f as usize].abs());
            key ^= codes[f as usize];
            match averaging {
                Averaging::Min => {}
                Averaging::ArithmeticMean => sum += a,
                _ if a == 0.0 => any_zero = true,
                Averaging::GeometricMean => log_sum += a.ln(),
                Averaging::HarmonicMean => inv_sum += 1.0 / a,
            }
            if j < j_start {
                continue;
            }
            let jf = j as f64;
            let mu = match averaging {
                Averaging::Min => a,
                Averaging::ArithmeticMean => sum / jf,
                Averaging::GeometricMean if any_zero => 0.0,
                Averaging::GeometricMean => (log_sum / jf).exp(),
                Averaging::HarmonicMean if any_zero => 0.0,
                Averaging::HarmonicMean => jf / inv_sum,
            };
            recs.push(Contribution {
                key: key ^ size_codes[j],
                value: zi * mu,
                unit: i as u32,
                j: j as u32,
            });
        }
        orders.push(order);
    }
    // Step 3: group equal keys. After the stable radix pass on the top bits, equal keys
    // are in one run of equal top bits; a run holding several keys is stably sorted by
    // the full key (unit order is kept within a key).
    let mut recs = radix_sort_by_key_top(recs);
    let mut entries: Vec<(u32, u32, f64)> = Vec::new();
    let mut start = 0;
    while start < recs.len() {
        let top = recs[start].key >> (128 - RADIX_BITS);
        let mut end = start + 1;
        while end < recs.len() && recs[end].key >> (128 - RADIX_BITS) == top {
            end += 1;
        }
        let run = &mut recs[start..end];
        if run.len() > 1 {
            run.sort_by_key(|c| c.key);
        }
        let mut k = 0;
        while k < run.len() {
            let first = run[k];
            let mut total = first.value;
            let mut m = k + 1;
            while m < run.len() && run[m].key == first.key {
                total += run[m].value;
                m += 1;
            }
            entries.push((first.unit, first.j, total));
            k = m;
        }
        start = end;
    }
    Ok(Candidates { orders, entries })
}

/// Orders by strength descending (total order on f64).
fn stronger_first(a: &(f64, u32), b: &(f64, u32)) -> Ordering {
    b.0.total_cmp(&a.0)
}

/// Walks candidates strongest first, ties by features lexicographic, materialising each
/// equal-strength group only when reached; `visit` returns false to stop. The order is
/// produced chunk by chunk (partial selection), so a walk that stops early does not pay
/// for sorting every candidate.
fn walk_sorted(c: &Candidates, mut visit: impl FnMut(RankedInteraction) -> bool) {
    const CHUNK: usize = 1024;
    let mut rest: Vec<(f64, u32)> = c
        .entries
        .iter()
        .enumerate()
        .map(|(k, e)| (e.2, k as u32))
        .collect();
    let mut head: Vec<(f64, u32)> = Vec::new();
    while !rest.is_empty() {
        // Move the strongest CHUNK (plus everything tied with the weakest of them) to head.
        head.clear();
        if rest.len() > CHUNK {
            rest.select_nth_unstable_by(CHUNK - 1, stronger_first);
            let cut = rest[CHUNK - 1].0;
            let mut tail = rest.split_off(CHUNK);
            head.append(&mut rest);
            let (tied, others): (Vec<_>, Vec<_>) = tail
                .drain(..)
                .partition(|e| e.0.total_cmp(&cut) == Ordering::Equal);
            head.extend(tied);
            rest = others;
        } else {
            head.append(&mut rest);
        }
        head.sort_unstable_by(stronger_first);
        let mut start = 0;
        while start < head.len() {
            let s = head[start].0;
            let mut end = start + 1;
            while end < head.len() && head[end].0.total_cmp(&s) == Ordering::Equal {
                end += 1;
            }
            let mut group: Vec<Vec<usize>> = head[start..end]
                .iter()
                .map(|&(_, k)| c.features(k as usize))
                .collect();
            group.sort_unstable();
            for features in group {
                if !visit(RankedInteraction {
                    features,
                    strength: s,
                }) {
                    return;
                }
            }
            start = end;
        }
    }
}

/// Greedy any-order candidates (spec 1.4 steps 1-3): for each first-layer unit i, sort
/// features by `|W1[i,f]|` descending (stable), and for j = 2..=p (1..=p with
/// `include_main_effects`) add `z_i * mu(top-j entries)` to the accumulator keyed by the
/// SORTED top-j set. With `Min`, `mu` is the j-th largest `|W1[i,f]|`; with the means, the
/// average of the top-j values. Summed over units; sorted strongest first, ties by
/// features ascending (lexicographic). At most h1 * p distinct candidates.
///
/// Memory: the output holds every candidate's feature list, O(h1 * p^2) indices in the worst
/// case; for large p use [`rank_interactions`], which materialises lazily.
///
/// # Errors
/// As [`unit_importance`].
pub fn candidate_interactions(
    w: &MlpWeights,
    averaging: Averaging,
    include_main_effects: bool,
) -> Result<Vec<RankedInteraction>, NidError> {
    let c = build_candidates(w, averaging, include_main_effects)?;
    let mut out = Vec::with_capacity(c.entries.len());
    walk_sorted(&c, |r| {
        out.push(r);
        true
    });
    Ok(out)
}

/// True when sorted, distinct `a` is a subset of (or equal to) sorted, distinct `b`.
pub fn is_subset(a: &[usize], b: &[usize]) -> bool {
    a == b || is_strict_subset(a, b)
}

/// True when sorted, distinct `a` is a strict subset of sorted, distinct `b`.
pub fn is_strict_subset(a: &[usize], b: &[usize]) -> bool {
    if a.len() >= b.len() {
        return false;
    }
    let mut bi = b.iter();
    'outer: for x in a {
        for y in bi.by_ref() {
            match y.cmp(x) {
                Ordering::Less => continue,
                Ordering::Equal => continue 'outer,
                Ordering::Greater => return false,
            }
        }
        return false;
    }
    true
}

/// Streaming state of the redundancy pruning (spec 1.4 step 4).
struct Pruner {
    accepted: Vec<Vec<usize>>,
    emitted: Vec<RankedInteraction>,
    cap: usize,
    superset_ratio: f64,
}

impl Pruner {
    fn new(cap: usize, superset_ratio: f64) -> Self {
        Self {
            accepted: Vec::new(),
            emitted: Vec::new(),
            cap,
            superset_ratio,
        }
    }

    /// Offers one candidate; returns false once `cap` are emitted.
    fn offer(&mut self, cand: RankedInteraction) -> bool {
        if self.emitted.len() >= self.cap {
            return false;
        }
        if self
            .accepted
            .iter()
            .any(|t| is_strict_subset(&cand.features, t))
        {
            return true;
        }
        if self.superset_ratio > 0.0 {
            let strongest_subset = self
                .emitted
                .iter()
                .filter(|e| is_strict_subset(&e.features, &cand.features))
                .map(|e| e.strength)
                .fold(f64::NEG_INFINITY, f64::max);
            if cand.strength < self.superset_ratio * strongest_subset {
                return true;
            }
        }
        self.accepted
            .retain(|t| !is_strict_subset(t, &cand.features));
        self.accepted.push(cand.features.clone());
        self.emitted.push(cand);
        self.emitted.len() < self.cap
    }
}

/// Redundancy pruning (spec 1.4 step 4) over a list already sorted strongest first:
/// a candidate that is a strict subset of an accepted set is dropped; otherwise every
/// accepted set that is a strict subset of it is removed from the accepted list, and the
/// candidate is accepted and emitted. Stops after `cap` are emitted. Feature lists must
/// be sorted ascending and distinct. Emitted items keep their input order.
pub fn prune_redundant(sorted: &[RankedInteraction], cap: usize) -> Vec<RankedInteraction> {
    prune_redundant_with(sorted, cap, 0.0)
}

/// [`prune_redundant`] where, in addition, a candidate that is a strict superset of emitted
/// interactions is dropped when its strength is below `superset_ratio` times the strongest of
/// those subsets (`0` = [`prune_redundant`]).
pub fn prune_redundant_with(
    sorted: &[RankedInteraction],
    cap: usize,
    superset_ratio: f64,
) -> Vec<RankedInteraction> {
    let mut pr = Pruner::new(cap, superset_ratio);
    for c in sorted {
        if !pr.offer(c.clone()) {
            break;
        }
    }
    pr.emitted
}

/// Any-order NID ranking (spec 1.4): [`candidate_interactions`] followed by
/// [`prune_redundant`] with `opts.max_interactions`, computed without materialising
/// the candidates the pruning never reaches. Cost O(h1 * p log p) for the candidates.
///
/// # Errors
/// As [`unit_importance`].
pub fn rank_interactions(
    w: &MlpWeights,
    opts: &RankingOptions,
) -> Result<Vec<RankedInteraction>, NidError> {
    let c = build_candidates(w, opts.averaging, opts.include_main_effects)?;
    let mut pr = Pruner::new(opts.max_interactions, opts.superset_ratio);
    if opts.max_interactions > 0 {
        walk_sorted(&c, |r| pr.offer(r));
    }
    Ok(pr.emitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: usize, cols: usize, data: &[f32]) -> Matrix {
        Matrix::new(rows, cols, data.to_vec()).expect("valid test matrix")
    }

    /// W1 (2 units x 3 features), w_y (1 x 2).
    fn tiny() -> MlpWeights {
        MlpWeights::new(vec![
            m(2, 3, &[1.0, -2.0, 0.5, 3.0, 0.0, -1.0]),
            m(1, 2, &[2.0, -1.0]),
        ])
        .expect("valid test weights")
    }

    #[test]
    fn matrix_and_weights_shape_errors() {
        assert_eq!(
            Matrix::new(2, 3, vec![0.0; 5]),
            Err(NidError::DataLength {
                rows: 2,
                cols: 3,
                expected: 6,
                len: 5
            })
        );
        assert_eq!(m(2, 2, &[1.0, 2.0, 3.0, 4.0]).get(1, 0), 3.0);
        assert_eq!(MlpWeights::new(vec![]), Err(NidError::NoLayers));
        let e = MlpWeights::new(vec![m(2, 3, &[0.0; 6]), m(1, 3, &[0.0; 3])]);
        assert_eq!(
            e,
            Err(NidError::ShapeChain {
                layer: 0,
                layer_rows: 2,
                next: 1,
                next_cols: 3
            })
        );
        let one = MlpWeights::new(vec![m(1, 3, &[0.0; 3])]).expect("one layer is a valid MLP");
        assert_eq!(one.num_features(), 3);
        assert_eq!(
            unit_importance(&one),
            Err(NidError::TooFewLayers { layers: 1 })
        );
        let nan =
            MlpWeights::new(vec![m(1, 2, &[0.0, f32::NAN]), m(1, 1, &[1.0])]).expect("shapes fine");
        assert_eq!(
            rank_interactions(&nan, &RankingOptions::default()),
            Err(NidError::NonFinite {
                layer: 0,
                row: 0,
                col: 1
            })
        );
    }

    #[test]
    fn unit_importance_products_and_multiclass_sum() {
        // One hidden layer: z = |w_y| = [2, 1].
        assert_eq!(unit_importance(&tiny()).expect("ok"), vec![2.0, 1.0]);
        // W1 2x1, W2 (3 x 2) = [[1,-2],[0,3],[-1,1]], output 2 x 3 = [[1,0,-2],[0.5,1,0]].
        // Summed |output| rows: [1.5, 1, 2].
        // z = [1.5,1,2] . |W2| = [1.5*1 + 1*0 + 2*1, 1.5*2 + 1*3 + 2*1] = [3.5, 8].
        let w = MlpWeights::new(vec![
            m(2, 1, &[1.0, 1.0]),
            m(3, 2, &[1.0, -2.0, 0.0, 3.0, -1.0, 1.0]),
            m(2, 3, &[1.0, 0.0, -2.0, 0.5, 1.0, 0.0]),
        ])
        .expect("ok");
        assert_eq!(unit_importance(&w).expect("ok"), vec![3.5, 8.0]);
    }

    #[test]
    fn pairwise_strengths_by_hand() {
        // |W1| = [[1,2,0.5],[3,0,1]], z = [2,1].
        // {0,1}: 2*min(1,2) + 1*min(3,0) = 2
        // {0,2}: 2*min(1,0.5) + 1*min(3,1) = 1 + 1 = 2
        // {1,2}: 2*min(2,0.5) + 1*min(0,1) = 1
        // Tie at 2 broken lexicographically: [0,1] before [0,2].
        let s = pairwise_strengths(&tiny(), Averaging::Min).expect("ok");
        let got: Vec<(Vec<usize>, f64)> = s.into_iter().map(|r| (r.features, r.strength)).collect();
        assert_eq!(
            got,
            vec![(vec![0, 1], 2.0), (vec![0, 2], 2.0), (vec![1, 2], 1.0)]
        );
        // Arithmetic: {0,1}: 2*1.5 + 1*1.5 = 4.5; {0,2}: 2*0.75 + 1*2 = 3.5;
        // {1,2}: 2*1.25 + 1*0.5 = 3.
        let s = pairwise_strengths(&tiny(), Averaging::ArithmeticMean).expect("ok");
        let got: Vec<f64> = s.iter().map(|r| r.strength).collect();
        assert_eq!(got, vec![4.5, 3.5, 3.0]);
        // Harmonic: {1,2}: 2 * 2/(1/2 + 1/0.5) = 2 * 0.8 = 1.6; unit 2 has a zero -> 0.
        let s = pairwise_strengths(&tiny(), Averaging::HarmonicMean).expect("ok");
        let r12 = s.iter().find(|r| r.features == vec![1, 2]).expect("pair");
        assert!((r12.strength - 1.6).abs() < 1e-6);
    }

    #[test]
    fn candidates_by_hand() {
        // Unit 0 (z=2): |w| = [1,2,0.5] -> order 1,0,2.
        //   j=2: {0,1} += 2*1 = 2; j=3: {0,1,2} += 2*0.5 = 1.
        // Unit 1 (z=1): |w| = [3,0,1] -> order 0,2,1.
        //   j=2: {0,2} += 1*1 = 1; j=3: {0,1,2} += 1*0 = 0.
        // Totals: {0,1}=2, {0,1,2}=1, {0,2}=1 -> tie broken lexicographically.
        let c = candidate_interactions(&tiny(), Averaging::Min, false).expect("ok");
        let got: Vec<(Vec<usize>, f64)> = c.into_iter().map(|r| (r.features, r.strength)).collect();
        assert_eq!(
            got,
            vec![(vec![0, 1], 2.0), (vec![0, 1, 2], 1.0), (vec![0, 2], 1.0)]
        );
        // Main effects: unit 0 j=1: {1} += 2*2 = 4; unit 1 j=1: {0} += 1*3 = 3.
        let c = candidate_interactions(&tiny(), Averaging::Min, true).expect("ok");
        assert_eq!(c[0].features, vec![1]);
        assert_eq!(c[0].strength, 4.0);
        assert_eq!(c[1].features, vec![0]);
        assert_eq!(c[1].strength, 3.0);
        // Arithmetic: unit 0 j=2 {0,1}: 2*1.5=3, j=3: 2*(3.5/3); unit 1 j=2 {0,2}: 1*2 = 2,
        // j=3: 1*(4/3). {0,1,2} = 7/3 + 4/3 = 11/3.
        let c = candidate_interactions(&tiny(), Averaging::ArithmeticMean, false).expect("ok");
        assert_eq!(c[0].features, vec![0, 1, 2]);
        assert!((c[0].strength - 11.0 / 3.0).abs() < 1e-12);
        assert_eq!(c[1].features, vec![0, 1]);
        assert_eq!(c[1].strength, 3.0);
        // Geometric: unit 0 {0,1}: 2*sqrt(2); unit 1 j=3 has a zero -> 0;
        // {0,1,2} = 2 * (1*2*0.5)^(1/3) = 2.
        let c = candidate_interactions(&tiny(), Averaging::GeometricMean, false).expect("ok");
        let g = c.iter().find(|r| r.features == vec![0, 1]).expect("set");
        assert!((g.strength - 2.0 * 2f64.sqrt()).abs() < 1e-12);
        let g = c.iter().find(|r| r.features == vec![0, 1, 2]).expect("set");
        assert!((g.strength - 2.0).abs() < 1e-12);
    }

    #[test]
    fn candidate_key_is_the_sorted_set() {
        // Two units reach the same set {0,1} in different orders: unit 0 ranks 0 then 1,
        // unit 1 ranks 1 then 0. Both contribute to one key.
        // Unit 0 |w| = [3,2,1] z=1: {0,1} += 2; {0,1,2} += 1.
        // Unit 1 |w| = [2,3,1] z=1: {0,1} += 2; {0,1,2} += 1.
        let w = MlpWeights::new(vec![
            m(2, 3, &[3.0, 2.0, 1.0, 2.0, 3.0, 1.0]),
            m(1, 2, &[1.0, 1.0]),
        ])
        .expect("ok");
        let c = candidate_interactions(&w, Averaging::Min, false).expect("ok");
        let got: Vec<(Vec<usize>, f64)> = c.into_iter().map(|r| (r.features, r.strength)).collect();
        assert_eq!(got, vec![(vec![0, 1], 4.0), (vec![0, 1, 2], 2.0)]);
    }

    fn ri(f: &[usize], s: f64) -> RankedInteraction {
        RankedInteraction {
            features: f.to_vec(),
            strength: s,
        }
    }

    #[test]
    fn prune_follows_step_4() {
        let sorted = vec![
            ri(&[0, 1], 9.0),    // accepted
            ri(&[0, 1, 2], 8.0), // superset: removes {0,1} from T, accepted
            ri(&[1, 2], 7.0),    // strict subset of {0,1,2}: dropped
            ri(&[3, 4], 6.0),    // accepted
            ri(&[0, 1], 5.0),    // strict subset of {0,1,2}: dropped (was removed from T)
            ri(&[2, 3], 4.0),    // accepted
            ri(&[5, 6], 3.0),    // accepted
        ];
        // With a large cap: {0,1} (ranked above its superset) is emitted, then removed
        // from T by {0,1,2}; {1,2} and the later {0,1} are dropped.
        let got: Vec<Vec<usize>> = prune_redundant(&sorted, 10)
            .into_iter()
            .map(|r| r.features)
            .collect();
        assert_eq!(
            got,
            vec![
                vec![0, 1],
                vec![0, 1, 2],
                vec![3, 4],
                vec![2, 3],
                vec![5, 6]
            ]
        );
    }

    #[test]
    fn prune_cap_counts_emitted() {
        let sorted = vec![
            ri(&[0, 1], 9.0),
            ri(&[0, 1, 2], 8.0),
            ri(&[1, 2], 7.0),
            ri(&[3, 4], 6.0),
            ri(&[2, 3], 4.0),
        ];
        // Emitted: {0,1}, {0,1,2}, ({1,2} dropped), {3,4} -> 3 = cap, stop.
        let got: Vec<Vec<usize>> = prune_redundant(&sorted, 3)
            .into_iter()
            .map(|r| r.features)
            .collect();
        assert_eq!(got, vec![vec![0, 1], vec![0, 1, 2], vec![3, 4]]);
        assert!(prune_redundant(&sorted, 0).is_empty());
    }

    #[test]
    fn rank_matches_candidates_then_prune() {
        // Pseudo-random weights: the lazy path must equal the materialised one.
        let (p, h1, h2) = (12, 9, 5);
        let mut s = 1u64;
        let mut next = || {
            s = splitmix64(s);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let w1: Vec<f32> = (0..h1 * p).map(|_| next()).collect();
        let w2: Vec<f32> = (0..h2 * h1).map(|_| next()).collect();
        let wy: Vec<f32> = (0..h2).map(|_| next()).collect();
        let w = MlpWeights::new(vec![m(h1, p, &w1), m(h2, h1, &w2), m(1, h2, &wy)]).expect("ok");
        for averaging in [Averaging::Min, Averaging::HarmonicMean] {
            let cands = candidate_interactions(&w, averaging, false).expect("ok");
            // Every set appears once and is sorted.
            let mut keys: Vec<&Vec<usize>> = cands.iter().map(|r| &r.features).collect();
            assert!(cands
                .iter()
                .all(|r| r.features.windows(2).all(|x| x[0] < x[1])));
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), cands.len());
            // Full set always present (j runs to p).
            assert!(cands.iter().any(|r| r.features.len() == p));
            let opts = RankingOptions {
                max_interactions: 7,
                averaging,
                include_main_effects: false,
                superset_ratio: 0.0,
            };
            assert_eq!(
                rank_interactions(&w, &opts).expect("ok"),
                prune_redundant(&cands, 7)
            );
        }
    }

    /// Straightforward spec 1.4 steps 1-3: stable sort, materialised sorted keys.
    fn naive_candidates(w: &MlpWeights) -> Vec<RankedInteraction> {
        let z = unit_importance(w).expect("ok");
        let w1 = &w.layers[0];
        let mut acc: std::collections::HashMap<Vec<usize>, f64> = Default::default();
        for (i, zi) in z.iter().enumerate() {
            let mut order: Vec<usize> = (0..w1.cols).collect();
            order.sort_by(|&a, &b| w1.get(i, b).abs().total_cmp(&w1.get(i, a).abs()));
            for j in 2..=w1.cols {
                let mut set = order[..j].to_vec();
                set.sort_unstable();
                *acc.entry(set).or_insert(0.0) += zi * f64::from(w1.get(i, order[j - 1]).abs());
            }
        }
        let mut out: Vec<RankedInteraction> = acc
            .into_iter()
            .map(|(features, strength)| RankedInteraction { features, strength })
            .collect();
        out.sort_by(|a, b| {
            b.strength
                .total_cmp(&a.strength)
                .then_with(|| a.features.cmp(&b.features))
        });
        out
    }

    #[test]
    fn candidates_match_naive_reference_with_ties() {
        // Weights on a coarse grid {-1, -0.5, 0, 0.5, 1}: many ties in |W1| (stable order
        // matters) and many shared top-j sets across units (summation matters).
        let (p, h1) = (7, 40);
        let mut s = 5u64;
        let mut next = || {
            s = splitmix64(s);
            ((s >> 61) % 5) as f32 * 0.5 - 1.0
        };
        let w1: Vec<f32> = (0..h1 * p).map(|_| next()).collect();
        let wy: Vec<f32> = (0..h1).map(|_| next()).collect();
        let w = MlpWeights::new(vec![m(h1, p, &w1), m(1, h1, &wy)]).expect("ok");
        let fast = candidate_interactions(&w, Averaging::Min, false).expect("ok");
        let naive = naive_candidates(&w);
        assert_eq!(fast.len(), naive.len());
        for (a, b) in fast.iter().zip(&naive) {
            assert_eq!(a.features, b.features);
            // Both sum in unit order; equal up to f64 rounding of identical terms.
            assert!((a.strength - b.strength).abs() < 1e-9, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn strict_subset() {
        assert!(is_strict_subset(&[1, 3], &[0, 1, 2, 3]));
        assert!(!is_strict_subset(&[1, 4], &[0, 1, 2, 3]));
        assert!(!is_strict_subset(&[0, 1], &[0, 1]));
        assert!(is_strict_subset(&[], &[0]));
    }

    #[test]
    fn options_default_and_serde_names() {
        let o = RankingOptions::default();
        assert_eq!(o.max_interactions, 100);
        assert_eq!(o.averaging, Averaging::Min);
        assert!(!o.include_main_effects);
        assert_eq!(
            serde_json::to_string(&Averaging::GeometricMean).expect("ser"),
            "\"geometric-mean\""
        );
    }

    #[test]
    fn a_weak_superset_must_earn_its_place() {
        let sorted = vec![
            ri(&[1, 3], 0.41),
            ri(&[3, 4], 0.19),
            ri(&[1, 3, 4], 0.119), // < 0.5 * 0.41: dropped with ratio 0.5
            ri(&[0, 4], 0.115),
            ri(&[0, 2, 4], 0.05), // < 0.5 * 0.115 = 0.0575: dropped
            ri(&[5, 6], 0.045),
            ri(&[5, 6, 7], 0.04), // >= 0.5 * 0.045: kept, replaces {5,6} in T
        ];
        let got: Vec<Vec<usize>> = prune_redundant_with(&sorted, 10, 0.5)
            .into_iter()
            .map(|r| r.features)
            .collect();
        assert_eq!(
            got,
            vec![
                vec![1, 3],
                vec![3, 4],
                vec![0, 4],
                vec![5, 6],
                vec![5, 6, 7]
            ]
        );
        // Ratio 0 is the reference pruning.
        assert_eq!(
            prune_redundant_with(&sorted, 10, 0.0),
            prune_redundant(&sorted, 10)
        );
        assert_eq!(prune_redundant(&sorted, 10).len(), 7);
    }
}

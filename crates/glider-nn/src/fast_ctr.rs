//! Hand-written forward and backward passes for the recommenders whose dense part dominates
//! a training step: DeepFM (Guo et al. 2017), xDeepFM (Lian et al. 2018) and AutoInt(+)
//! (Song et al. 2019), with the architectures and defaults of spec 3.4.
//!
//! Same model, loss and initial weights as the burn autodiff versions in [`crate::models`],
//! which stay the reference: [`FastNet`] is built from a freshly initialised burn network's
//! parameters (by name) and written back into it after training, so saving, loading,
//! prediction and interaction maps are those of the burn model. The passes are matrix products
//! on the `gemm` crate ([`crate::kernels`]) over preallocated buffers, with the small
//! per-row work (attention of one row's fields, the CIN's outer products, the FM term) in
//! plain loops spread over rows with rayon. This removes what profiles of the autodiff step
//! showed (small products, layout copies and one allocation per operation). The tests in
//! `models/checks.rs` compare every logit and gradient with burn's autodiff on random inputs.

#![allow(clippy::needless_range_loop)] // index loops over rows, fields and lanes read best here
//!
//! Every reduction runs in a fixed order (products split over output blocks only, sums over
//! rows sequential, or over [`ROW_PARTS`] fixed parts of the rows added in order), so the
//! same seed gives the same model with any thread count.
//!
//! Layouts: embeddings `[b, F, w]` row-major as the trainer gathers them (`w` = `k + 1` for
//! models with a first-order term, entry 0 being the feature's weight; `k` for AutoInt);
//! dense weights `[d_in, d_out]` row-major as burn stores them.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::kernels::matmul_auto as mm;
use crate::params::ModelKind;
use crate::store::Named;
use crate::NnError;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Defines a function whose body is compiled three times (AVX-512, AVX2, baseline) and run in
/// the best version this CPU has. The loops inside are written to vectorise; floating-point
/// operations are never reordered or fused, so every version gives the same bits.
macro_rules! simd_fn {
    ($(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn portable($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) {
                    portable($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above); the body is safe
                    // code over slices.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above, for AVX2 and FMA.
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}

/// A dense layer `y = x W + b`: parameter indices and sizes.
#[derive(Clone, Copy, Debug)]
struct Lin {
    w: usize,
    b: usize,
    din: usize,
    dout: usize,
}

/// One AutoInt attention layer: parameter indices of `W_Query`, `W_Key`, `W_Value`, `W_Res`
/// (each `[d_in, A]`).
#[derive(Clone, Copy, Debug)]
struct Attn {
    qkvr: [usize; 4],
    din: usize,
    width: usize,
}

#[derive(Clone, Debug)]
enum Arch {
    DeepFm {
        dnn: Vec<Lin>,
        bias: usize,
    },
    XDeepFm {
        cin: Vec<Lin>,
        cin_out: Option<Lin>,
        dnn: Vec<Lin>,
        bias: usize,
    },
    AutoInt {
        layers: Vec<Attn>,
        out: Lin,
        dnn: Option<Vec<Lin>>,
        heads: usize,
    },
}

/// Buffers reused across steps (sized on first use, for the largest batch seen).
#[derive(Default)]
struct Workspace {
    /// Factor vectors `[b, F·k]` (DeepFM, xDeepFM).
    x0: Vec<f32>,
    /// FM sums `Σ_i v_i`, `[b, k]`.
    fm_sum: Vec<f32>,
    /// DNN layer outputs, `[b, d_out]` each.
    dnn_acts: Vec<Vec<f32>>,
    dnn_dx: Vec<f32>,
    grad_a: Vec<f32>,
    grad_b: Vec<f32>,
    /// xDeepFM: `X^0` in the `[b·k, F]` layout.
    x0t: Vec<f32>,
    /// CIN layer outputs `[b·k, H_l]`.
    cin_x: Vec<Vec<f32>>,
    /// Sum-pooled CIN outputs `[b, Σ H_l]`.
    pooled: Vec<f32>,
    /// One chunk of outer products `[rows·k, H·F]`, and its gradient.
    z: Vec<f32>,
    dz: Vec<f32>,
    dcur: Vec<f32>,
    dprev: Vec<f32>,
    dx0t: Vec<f32>,
    /// AutoInt: per layer, the packed weights `[d, 4A]`, the projections `[b·F, 4A]`
    /// (query, key, value, residual), the attention `[b, H, F, F]` and the output `[b·F, A]`.
    wcat: Vec<Vec<f32>>,
    qkvr: Vec<Vec<f32>>,
    attn: Vec<Vec<f32>>,
    att_x: Vec<Vec<f32>>,
    dqkvr: Vec<f32>,
    dwcat: Vec<f32>,
    dx_att: Vec<f32>,
    dx_next: Vec<f32>,
    logit_part: Vec<f32>,
    /// The second half of a [`mm_long_sum`].
    split_tmp: Vec<f32>,
    /// DeepFM: the workspaces of the [`ROW_PARTS`] row parts of a batch, and their weight
    /// gradients (same layout as [`FastNet::grads`]).
    parts: Vec<Workspace>,
    part_grads: Vec<Vec<Vec<f32>>>,
}

/// DeepFM splits each batch into this many parts of rows that run forward and backward
/// through the whole network side by side, one thread each, their weight gradients added in
/// a fixed order at the end. A fixed count (not the thread count), so results do not depend
/// on the threads; measured faster than splitting every product over both cores, because the
/// loops between the products run in parallel too and no thread waits at each layer.
const ROW_PARTS: usize = 2;

/// The dense part of a DeepFM, xDeepFM or AutoInt(+) model with hand-written passes.
///
/// Parameters are burn's, one vector per named tensor ([`crate::store::named_parameters`]
/// order); [`FastNet::backward`] fills one gradient vector per parameter.
pub struct FastNet {
    arch: Arch,
    fields: usize,
    width: usize,
    names: Vec<String>,
    shapes: Vec<Vec<usize>>,
    /// Parameter values, one vector per named tensor.
    pub values: Vec<Vec<f32>>,
    /// Gradients of the last [`FastNet::backward`], same layout as `values`.
    pub grads: Vec<Vec<f32>>,
    ws: Workspace,
}

impl Clone for FastNet {
    /// The same parameters with fresh buffers (gradients zero): another caller's copy.
    fn clone(&self) -> Self {
        FastNet {
            arch: self.arch.clone(),
            fields: self.fields,
            width: self.width,
            names: self.names.clone(),
            shapes: self.shapes.clone(),
            values: self.values.clone(),
            grads: self.grads.iter().map(|g| vec![0.0; g.len()]).collect(),
            ws: Workspace::default(),
        }
    }
}

/// Rows of a CIN chunk: `CIN_CHUNK_ROWS · k` rows of outer products at a time.
const CIN_CHUNK_ROWS: usize = 32;

impl FastNet {
    /// Whether `kind` has hand-written passes.
    pub fn supports(kind: ModelKind) -> bool {
        matches!(
            kind,
            ModelKind::DeepFm | ModelKind::XDeepFm | ModelKind::AutoInt | ModelKind::AutoIntPlus
        )
    }

    /// Builds the fast version of a `kind` model over `fields` fields whose embedding rows
    /// are `width` wide, from the burn model's named parameters.
    ///
    /// # Errors
    /// [`NnError::Shape`] for an architecture without hand-written passes, or parameters that
    /// do not form one (a missing name, a wrong shape).
    pub fn from_named(
        kind: ModelKind,
        fields: usize,
        width: usize,
        heads: usize,
        named: Vec<(String, Named)>,
    ) -> Result<Self, NnError> {
        let mut names = Vec::new();
        let mut shapes = Vec::new();
        let mut values = Vec::new();
        for (n, (s, v)) in named {
            names.push(n);
            shapes.push(s);
            values.push(v);
        }
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let find = |name: &str| -> Result<usize, NnError> {
            index.get(name).copied().ok_or_else(|| {
                NnError::Shape(format!(
                    "{kind}: no parameter {name} (has {})",
                    names.join(", ")
                ))
            })
        };
        let lin = |prefix: &str| -> Result<Lin, NnError> {
            let w = find(&format!("{prefix}.weight"))?;
            let b = find(&format!("{prefix}.bias"))?;
            match (shapes[w].as_slice(), shapes[b].as_slice()) {
                (&[din, dout], &[db]) if db == dout => Ok(Lin { w, b, din, dout }),
                _ => Err(NnError::Shape(format!(
                    "{kind}: {prefix} has shapes {:?} and {:?}",
                    shapes[w], shapes[b]
                ))),
            }
        };
        let stack = |prefix: &str| -> Result<Vec<Lin>, NnError> {
            let mut out = Vec::new();
            while index.contains_key(format!("{prefix}.layers.{}.weight", out.len()).as_str()) {
                out.push(lin(&format!("{prefix}.layers.{}", out.len()))?);
            }
            Ok(out)
        };
        let k = match kind {
            ModelKind::AutoInt | ModelKind::AutoIntPlus => width,
            _ => width.saturating_sub(1),
        };
        let check_dnn = |dnn: &[Lin]| -> Result<(), NnError> {
            let ok = dnn.first().is_some_and(|l| l.din == fields * k)
                && dnn.last().is_some_and(|l| l.dout == 1)
                && dnn.windows(2).all(|p| p[0].dout == p[1].din);
            if ok {
                Ok(())
            } else {
                Err(NnError::Shape(format!(
                    "{kind}: the DNN does not map {} inputs to one logit",
                    fields * k
                )))
            }
        };
        let arch = match kind {
            ModelKind::DeepFm => {
                let dnn = stack("dnn")?;
                check_dnn(&dnn)?;
                Arch::DeepFm {
                    dnn,
                    bias: find("bias")?,
                }
            }
            ModelKind::XDeepFm => {
                let mut cin = Vec::new();
                while index.contains_key(format!("cin.{}.weight", cin.len()).as_str()) {
                    cin.push(lin(&format!("cin.{}", cin.len()))?);
                }
                let mut prev = fields;
                for l in &cin {
                    if l.din != prev * fields {
                        return Err(NnError::Shape(format!(
                            "{kind}: a CIN layer takes {} inputs, expected {}",
                            l.din,
                            prev * fields
                        )));
                    }
                    prev = l.dout;
                }
                let dnn = stack("dnn")?;
                check_dnn(&dnn)?;
                Arch::XDeepFm {
                    cin_out: if cin.is_empty() {
                        None
                    } else {
                        Some(lin("cin_out")?)
                    },
                    cin,
                    dnn,
                    bias: find("bias")?,
                }
            }
            ModelKind::AutoInt | ModelKind::AutoIntPlus => {
                let mut layers = Vec::new();
                let mut d = width;
                while index.contains_key(format!("layers.{}.query", layers.len()).as_str()) {
                    let l = layers.len();
                    let mut qkvr = [0; 4];
                    for (slot, part) in qkvr.iter_mut().zip(["query", "key", "value", "residual"]) {
                        *slot = find(&format!("layers.{l}.{part}"))?;
                    }
                    let a = shapes[qkvr[0]].get(1).copied().unwrap_or(0);
                    for &p in &qkvr {
                        if shapes[p] != [d, a] {
                            return Err(NnError::Shape(format!(
                                "{kind}: attention layer {l} has a {:?} projection, expected [{d}, {a}]",
                                shapes[p]
                            )));
                        }
                    }
                    if heads == 0 || a % heads != 0 {
                        return Err(NnError::Shape(format!(
                            "{kind}: width {a} does not split into {heads} heads"
                        )));
                    }
                    layers.push(Attn {
                        qkvr,
                        din: d,
                        width: a,
                    });
                    d = a;
                }
                let out = lin("out")?;
                if out.din != fields * d || out.dout != 1 {
                    return Err(NnError::Shape(format!(
                        "{kind}: the output layer is {} → {}",
                        out.din, out.dout
                    )));
                }
                let dnn = if kind == ModelKind::AutoIntPlus {
                    let dnn = stack("dnn")?;
                    check_dnn(&dnn)?;
                    Some(dnn)
                } else {
                    None
                };
                Arch::AutoInt {
                    layers,
                    out,
                    dnn,
                    heads,
                }
            }
            other => {
                return Err(NnError::Shape(format!(
                    "{other} has no hand-written training passes"
                )))
            }
        };
        let grads = values.iter().map(|v| vec![0.0; v.len()]).collect();
        Ok(FastNet {
            arch,
            fields,
            width,
            names,
            shapes,
            values,
            grads,
            ws: Workspace::default(),
        })
    }

    /// The position of parameter `name` in [`FastNet::values`] and [`FastNet::grads`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The parameters by name, as [`crate::store::load_parameters`] reads them.
    pub fn named(&self) -> HashMap<String, Named> {
        self.names
            .iter()
            .zip(&self.shapes)
            .zip(&self.values)
            .map(|((n, s), v)| (n.clone(), (s.clone(), v.clone())))
            .collect()
    }

    /// Logits `[b]` of the scaled embeddings `emb: [b, F, w]`, keeping what
    /// [`FastNet::backward`] needs.
    ///
    /// # Panics
    /// When `emb` or `logits` do not hold `b` rows (a bug of the caller, never user input).
    pub fn forward(&mut self, emb: &[f32], b: usize, logits: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above); the body is safe code.
            unsafe { self.forward_avx512(emb, b, logits) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above); the body is safe code.
            unsafe { self.forward_avx2(emb, b, logits) };
            return;
        }
        self.forward_impl(emb, b, logits);
    }

    /// [`FastNet::forward`] compiled for AVX-512: the loops around the products vectorise
    /// 16 wide (the same operations, so the same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn forward_avx512(&mut self, emb: &[f32], b: usize, logits: &mut [f32]) {
        self.forward_impl(emb, b, logits);
    }

    /// [`FastNet::forward`] compiled for AVX2 and FMA (8 wide; the same operations, never
    /// fused, so the same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_avx2(&mut self, emb: &[f32], b: usize, logits: &mut [f32]) {
        self.forward_impl(emb, b, logits);
    }

    #[inline(always)]
    fn forward_impl(&mut self, emb: &[f32], b: usize, logits: &mut [f32]) {
        let (f, w) = (self.fields, self.width);
        assert_eq!(emb.len(), b * f * w, "embedding buffer of the wrong size");
        assert_eq!(logits.len(), b, "logit buffer of the wrong size");
        let ws = &mut self.ws;
        let vals = &self.values;
        match &self.arch {
            Arch::DeepFm { dnn, bias } => {
                let b0 = vals[*bias][0];
                let h = b.div_ceil(ROW_PARTS).max(1);
                ws.parts.resize_with(ROW_PARTS, Workspace::default);
                ws.parts
                    .par_iter_mut()
                    .zip(emb.par_chunks(h * f * w))
                    .zip(logits.par_chunks_mut(h))
                    .for_each(|((part, e), z)| {
                        deepfm_forward_rows(dnn, vals, b0, e, z.len(), f, w, part, z)
                    });
            }
            Arch::XDeepFm {
                cin,
                cin_out,
                dnn,
                bias,
            } => {
                let k = w - 1;
                split_factors(emb, b, f, w, &mut ws.x0);
                dnn_forward(dnn, vals, &ws.x0, b, &mut ws.dnn_acts, false);
                transpose_factors(emb, b, f, w, &mut ws.x0t);
                cin_forward(cin, vals, b, f, k, ws);
                let total: usize = cin.iter().map(|l| l.dout).sum();
                ws.logit_part.clear();
                ws.logit_part.resize(b, 0.0);
                if let Some(o) = cin_out {
                    ws.logit_part.fill(vals[o.b][0]);
                    mm(
                        &mut ws.logit_part,
                        b,
                        1,
                        total,
                        &ws.pooled,
                        total,
                        1,
                        &vals[o.w],
                        1,
                        1,
                        true,
                    );
                }
                let deep = &ws.dnn_acts[dnn.len() - 1];
                let b0 = vals[*bias][0];
                for r in 0..b {
                    let linear: f32 = (0..f).map(|i| emb[(r * f + i) * w]).sum();
                    logits[r] = linear + ws.logit_part[r] + deep[r] + b0;
                }
            }
            Arch::AutoInt {
                layers,
                out,
                dnn,
                heads,
            } => {
                attention_forward(layers, vals, emb, b, f, *heads, ws);
                let (last, d): (&[f32], usize) = match layers.last() {
                    Some(l) => (&ws.att_x[layers.len() - 1], l.width),
                    None => (emb, w),
                };
                logits.fill(vals[out.b][0]);
                mm(
                    logits,
                    b,
                    1,
                    f * d,
                    last,
                    f * d,
                    1,
                    &vals[out.w],
                    1,
                    1,
                    true,
                );
                if let Some(dnn) = dnn {
                    dnn_forward(dnn, vals, emb, b, &mut ws.dnn_acts, false);
                    for (z, &d) in logits.iter_mut().zip(&ws.dnn_acts[dnn.len() - 1]) {
                        *z += d;
                    }
                }
            }
        }
    }

    /// Gradients of a loss with respect to every parameter (into [`FastNet::grads`]) and to
    /// the embeddings (`demb: [b, F, w]`, overwritten), given `dz: [b]`, the loss's gradient
    /// with respect to the logits of the last [`FastNet::forward`] on the same `emb`.
    ///
    /// # Panics
    /// When the buffers do not hold `b` rows (a bug of the caller).
    pub fn backward(&mut self, emb: &[f32], b: usize, dz: &[f32], demb: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above); the body is safe code.
            unsafe { self.backward_avx512(emb, b, dz, demb) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked just above); the body is safe code.
            unsafe { self.backward_avx2(emb, b, dz, demb) };
            return;
        }
        self.backward_impl(emb, b, dz, demb);
    }

    /// [`FastNet::backward`] compiled for AVX-512, as [`FastNet::forward_avx512`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
    unsafe fn backward_avx512(&mut self, emb: &[f32], b: usize, dz: &[f32], demb: &mut [f32]) {
        self.backward_impl(emb, b, dz, demb);
    }

    /// [`FastNet::backward`] compiled for AVX2 and FMA (8 wide; the same operations, never
    /// fused, so the same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn backward_avx2(&mut self, emb: &[f32], b: usize, dz: &[f32], demb: &mut [f32]) {
        self.backward_impl(emb, b, dz, demb);
    }

    #[inline(always)]
    fn backward_impl(&mut self, emb: &[f32], b: usize, dz: &[f32], demb: &mut [f32]) {
        let (f, w) = (self.fields, self.width);
        assert_eq!(emb.len(), b * f * w, "embedding buffer of the wrong size");
        assert_eq!(demb.len(), emb.len(), "gradient buffer of the wrong size");
        assert_eq!(dz.len(), b, "logit gradient of the wrong size");
        let ws = &mut self.ws;
        let vals = &self.values;
        let grads = &mut self.grads;
        match &self.arch {
            Arch::DeepFm { dnn, bias } => {
                grads[*bias][0] = dz.iter().sum();
                let h = b.div_ceil(ROW_PARTS).max(1);
                let used = b.div_ceil(h);
                ws.parts.resize_with(ROW_PARTS, Workspace::default);
                ws.part_grads.resize_with(ROW_PARTS, || {
                    grads.iter().map(|g| vec![0.0; g.len()]).collect()
                });
                ws.parts
                    .par_iter_mut()
                    .zip(ws.part_grads.par_iter_mut())
                    .zip(emb.par_chunks(h * f * w))
                    .zip(dz.par_chunks(h))
                    .zip(demb.par_chunks_mut(h * f * w))
                    .for_each(|((((part, g), e), d), m)| {
                        deepfm_backward_rows(dnn, vals, g, e, d.len(), f, w, d, part, m)
                    });
                // The parts' weight gradients, added in a fixed order.
                let parts = &ws.part_grads[..used];
                grads
                    .par_iter_mut()
                    .enumerate()
                    .filter(|(i, _)| dnn.iter().any(|l| l.w == *i || l.b == *i))
                    .for_each(|(i, g)| {
                        g.copy_from_slice(&parts[0][i]);
                        for part in &parts[1..] {
                            for (o, &x) in g.iter_mut().zip(&part[i]) {
                                *o += x;
                            }
                        }
                    });
            }
            Arch::XDeepFm {
                cin,
                cin_out,
                dnn,
                bias,
            } => {
                let k = w - 1;
                grads[*bias][0] = dz.iter().sum();
                let x0 = std::mem::take(&mut ws.x0);
                dnn_backward(dnn, vals, grads, &x0, b, dz, ws, false);
                ws.x0 = x0;
                ws.dx0t.clear();
                ws.dx0t.resize(b * k * f, 0.0);
                if let Some(o) = cin_out {
                    cin_backward(cin, *o, vals, grads, b, f, k, dz, ws);
                }
                let dx = &ws.dnn_dx;
                for r in 0..b {
                    for i in 0..f {
                        let cell = r * f + i;
                        let g = &mut demb[cell * w..(cell + 1) * w];
                        g[0] = dz[r];
                        for c in 0..k {
                            g[1 + c] = dx[cell * k + c] + ws.dx0t[(r * k + c) * f + i];
                        }
                    }
                }
            }
            Arch::AutoInt {
                layers,
                out,
                dnn,
                heads,
            } => {
                let (last, d): (&[f32], usize) = match layers.last() {
                    Some(l) => (&ws.att_x[layers.len() - 1], l.width),
                    None => (emb, w),
                };
                // The output layer: dW = xᵀ dz, db = Σ dz, dx = dz wᵀ.
                mm(
                    &mut grads[out.w],
                    f * d,
                    1,
                    b,
                    last,
                    1,
                    f * d,
                    dz,
                    1,
                    1,
                    false,
                );
                grads[out.b][0] = dz.iter().sum();
                set_len(&mut ws.dx_next, b * f * d);
                let wo = &vals[out.w];
                for (row, &g) in ws.dx_next.chunks_exact_mut(f * d).zip(dz) {
                    for (x, &wv) in row.iter_mut().zip(wo) {
                        *x = g * wv;
                    }
                }
                attention_backward(layers, grads, emb, b, f, *heads, ws);
                // ws.dx_next now holds the gradient with respect to the embeddings.
                demb.copy_from_slice(&ws.dx_next);
                if let Some(dnn) = dnn {
                    dnn_backward(dnn, vals, grads, emb, b, dz, ws, false);
                    for (g, &x) in demb.iter_mut().zip(&ws.dnn_dx) {
                        *g += x;
                    }
                }
            }
        }
    }
}

/// `dst = A · B` as [`mm`] (overwriting), for the weight gradients whose output is small
/// and whose sum runs over every row of the batch: the sum is cut into two fixed halves,
/// computed on two threads and added, so the result does not depend on the thread count.
#[allow(clippy::too_many_arguments)]
fn mm_long_sum(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
    tmp: &mut Vec<f32>,
) {
    if m * n >= 1 << 16 || k < 4096 {
        mm(dst, m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, false);
        return;
    }
    let k0 = k / 2;
    set_len(tmp, m * n);
    let (a1, b1) = (&a[k0 * a_cs..], &b[k0 * b_rs..]);
    rayon::join(
        || crate::kernels::matmul(dst, m, n, k0, a, a_rs, a_cs, b, b_rs, b_cs, false),
        || crate::kernels::matmul(tmp, m, n, k - k0, a1, a_rs, a_cs, b1, b_rs, b_cs, false),
    );
    for (d, &t) in dst[..m * n].iter_mut().zip(tmp.iter()) {
        *d += t;
    }
}

/// Makes `v` exactly `n` long without clearing what it holds: for buffers that are then
/// overwritten in full (zeroing 40 MB per layer was a tenth of AutoInt's forward pass).
fn set_len(v: &mut Vec<f32>, n: usize) {
    if v.len() != n {
        v.resize(n, 0.0);
    }
}

/// The factor vectors `emb[:, :, 1..]` as a contiguous `[b, F·k]` matrix.
#[inline(always)]
fn split_factors(emb: &[f32], b: usize, f: usize, w: usize, x0: &mut Vec<f32>) {
    let k = w - 1;
    x0.clear();
    x0.reserve(b * f * k);
    for cell in emb.chunks_exact(w) {
        x0.extend_from_slice(&cell[1..]);
    }
}

/// The factor vectors in the CIN's `[b·k, F]` layout: `x0t[(r·k + d)·F + j] = v_{r,j,d}`.
#[inline(always)]
fn transpose_factors(emb: &[f32], b: usize, f: usize, w: usize, x0t: &mut Vec<f32>) {
    let k = w - 1;
    set_len(x0t, b * k * f);
    for r in 0..b {
        for j in 0..f {
            let cell = &emb[(r * f + j) * w + 1..(r * f + j + 1) * w];
            for (d, &v) in cell.iter().enumerate() {
                x0t[(r * k + d) * f + j] = v;
            }
        }
    }
}

/// `out = x W + b` for `rows` rows, on the calling thread only when `serial`.
#[inline(always)]
fn lin_forward(
    l: Lin,
    vals: &[Vec<f32>],
    x: &[f32],
    rows: usize,
    out: &mut Vec<f32>,
    serial: bool,
) {
    let mm = if serial { crate::kernels::matmul } else { mm };
    out.clear();
    out.reserve(rows * l.dout);
    for _ in 0..rows {
        out.extend_from_slice(&vals[l.b]);
    }
    mm(
        out, rows, l.dout, l.din, x, l.din, 1, &vals[l.w], l.dout, 1, true,
    );
}

/// The gradients of `y = x W + b` from `dy`: `dW = xᵀ dy`, `db = Σ_rows dy` into `grads`, and
/// `dx = dy Wᵀ` (overwritten) when asked; on the calling thread only when `serial`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lin_backward(
    l: Lin,
    vals: &[Vec<f32>],
    grads: &mut [Vec<f32>],
    x: &[f32],
    rows: usize,
    dy: &[f32],
    dx: Option<&mut Vec<f32>>,
    serial: bool,
) {
    let (gw, gb) = if l.w < l.b {
        let (lo, hi) = grads.split_at_mut(l.b);
        (&mut lo[l.w], &mut hi[0])
    } else {
        let (lo, hi) = grads.split_at_mut(l.w);
        (&mut hi[0], &mut lo[l.b])
    };
    gb.fill(0.0);
    for row in dy.chunks_exact(l.dout) {
        for (g, &v) in gb.iter_mut().zip(row) {
            *g += v;
        }
    }
    // dW = xᵀ dy and dx = dy Wᵀ read the same inputs and write apart: large ones run side
    // by side, one thread each, which beats splitting each product over both threads.
    let weight_grad = |gw: &mut Vec<f32>, parallel: bool| {
        let f = if parallel { mm } else { crate::kernels::matmul };
        f(gw, l.din, l.dout, rows, x, 1, l.din, dy, l.dout, 1, false);
    };
    match dx {
        Some(dx) => {
            set_len(dx, rows * l.din);
            let w = &vals[l.w];
            let input_grad = |dx: &mut Vec<f32>, parallel: bool| {
                let f = if parallel { mm } else { crate::kernels::matmul };
                f(dx, rows, l.din, l.dout, dy, l.dout, 1, w, 1, l.dout, false);
            };
            if serial {
                weight_grad(gw, false);
                input_grad(dx, false);
            } else if rows * l.din * l.dout >= crate::kernels::PARALLEL_MACS {
                rayon::join(|| weight_grad(gw, false), || input_grad(dx, false));
            } else {
                weight_grad(gw, true);
                input_grad(dx, true);
            }
        }
        None => weight_grad(gw, !serial),
    }
}

/// A ReLU stack ending in a linear logit layer ([`crate::layers::ReluStack::forward`]):
/// every layer's output into `acts`; the products on the calling thread only when `serial`.
#[inline(always)]
fn dnn_forward(
    dnn: &[Lin],
    vals: &[Vec<f32>],
    x: &[f32],
    rows: usize,
    acts: &mut Vec<Vec<f32>>,
    serial: bool,
) {
    acts.resize_with(dnn.len(), Vec::new);
    let n = dnn.len();
    for (i, &l) in dnn.iter().enumerate() {
        let (before, after) = acts.split_at_mut(i);
        let input: &[f32] = if i == 0 { x } else { &before[i - 1] };
        lin_forward(l, vals, input, rows, &mut after[0], serial);
        if i + 1 < n {
            for v in after[0].iter_mut() {
                *v = v.max(0.0);
            }
        }
    }
}

/// The backward pass of [`dnn_forward`] from the logits' gradient `dlast: [rows]`: weight
/// gradients into `grads`, the input's gradient into `ws.dnn_dx`; on the calling thread only
/// when `serial`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dnn_backward(
    dnn: &[Lin],
    vals: &[Vec<f32>],
    grads: &mut [Vec<f32>],
    x: &[f32],
    rows: usize,
    dlast: &[f32],
    ws: &mut Workspace,
    serial: bool,
) {
    ws.grad_a.clear();
    ws.grad_a.extend_from_slice(dlast);
    for i in (0..dnn.len()).rev() {
        let l = dnn[i];
        if i == 0 {
            lin_backward(
                l,
                vals,
                grads,
                x,
                rows,
                &ws.grad_a,
                Some(&mut ws.dnn_dx),
                serial,
            );
        } else {
            let input = &ws.dnn_acts[i - 1];
            lin_backward(
                l,
                vals,
                grads,
                input,
                rows,
                &ws.grad_a,
                Some(&mut ws.grad_b),
                serial,
            );
            // ReLU: the gradient passes where the layer's output was positive.
            for (g, &a) in ws.grad_b.iter_mut().zip(input) {
                if a <= 0.0 {
                    *g = 0.0;
                }
            }
            std::mem::swap(&mut ws.grad_a, &mut ws.grad_b);
        }
    }
}

/// DeepFM's forward pass over one part of a batch's rows (`emb: [rows, F, w]`), on the
/// calling thread: the DNN's layer outputs and the FM sums into `ws`, logits into `logits`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn deepfm_forward_rows(
    dnn: &[Lin],
    vals: &[Vec<f32>],
    b0: f32,
    emb: &[f32],
    rows: usize,
    f: usize,
    w: usize,
    ws: &mut Workspace,
    logits: &mut [f32],
) {
    let k = w - 1;
    split_factors(emb, rows, f, w, &mut ws.x0);
    dnn_forward(dnn, vals, &ws.x0, rows, &mut ws.dnn_acts, true);
    ws.fm_sum.clear();
    ws.fm_sum.resize(rows * k, 0.0);
    let deep = &ws.dnn_acts[dnn.len() - 1];
    for r in 0..rows {
        let s = &mut ws.fm_sum[r * k..(r + 1) * k];
        let mut linear = 0.0f32;
        let mut squares = 0.0f32;
        for i in 0..f {
            let row = &emb[(r * f + i) * w..(r * f + i + 1) * w];
            linear += row[0];
            for (sc, &v) in s.iter_mut().zip(&row[1..]) {
                *sc += v;
                squares += v * v;
            }
        }
        let sum_sq: f32 = s.iter().map(|v| v * v).sum();
        logits[r] = linear + 0.5 * (sum_sq - squares) + deep[r] + b0;
    }
}

/// The backward pass of [`deepfm_forward_rows`] over the same rows: the DNN's weight
/// gradients into `grads` (this part's), the embeddings' gradient into `demb` (overwritten).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn deepfm_backward_rows(
    dnn: &[Lin],
    vals: &[Vec<f32>],
    grads: &mut [Vec<f32>],
    emb: &[f32],
    rows: usize,
    f: usize,
    w: usize,
    dz: &[f32],
    ws: &mut Workspace,
    demb: &mut [f32],
) {
    let k = w - 1;
    let x0 = std::mem::take(&mut ws.x0);
    dnn_backward(dnn, vals, grads, &x0, rows, dz, ws, true);
    ws.x0 = x0;
    let dx = &ws.dnn_dx;
    for r in 0..rows {
        let s = &ws.fm_sum[r * k..(r + 1) * k];
        for i in 0..f {
            let cell = r * f + i;
            let row = &emb[cell * w..(cell + 1) * w];
            let g = &mut demb[cell * w..(cell + 1) * w];
            g[0] = dz[r];
            let dxr = &dx[cell * k..(cell + 1) * k];
            for c in 0..k {
                g[1 + c] = dz[r] * (s[c] - row[1 + c]) + dxr[c];
            }
        }
    }
}

/// Writes the outer products of one chunk of CIN rows: `z[q, i·F + j] = x[q, i] · x0[q, j]`
/// for `q` in the chunk (`x: [q, hp]`, `x0: [q, F]`).
fn outer_products(x: &[f32], hp: usize, x0: &[f32], f: usize, z: &mut Vec<f32>) {
    let rows = x0.len() / f;
    set_len(z, rows * hp * f);
    z.par_chunks_mut(hp * f)
        .zip(x.par_chunks(hp))
        .zip(x0.par_chunks(f))
        .for_each(|((zq, xq), x0q)| {
            for (zi, &xi) in zq.chunks_exact_mut(f).zip(xq) {
                for (zv, &x0v) in zi.iter_mut().zip(x0q) {
                    *zv = xi * x0v;
                }
            }
        });
}

/// The CIN (identity activation, every layer sum-pooled): layer outputs into `ws.cin_x`,
/// pooled vectors into `ws.pooled` (`[b, Σ H_l]`).
#[inline(always)]
fn cin_forward(cin: &[Lin], vals: &[Vec<f32>], b: usize, f: usize, k: usize, ws: &mut Workspace) {
    ws.cin_x.resize_with(cin.len(), Vec::new);
    let total: usize = cin.iter().map(|l| l.dout).sum();
    ws.pooled.clear();
    ws.pooled.resize(b * total, 0.0);
    let mut offset = 0;
    for (l, layer) in cin.iter().enumerate() {
        let (before, after) = ws.cin_x.split_at_mut(l);
        let (prev, hp): (&[f32], usize) = if l == 0 {
            (&ws.x0t, f)
        } else {
            (&before[l - 1], cin[l - 1].dout)
        };
        let hn = layer.dout;
        let out = &mut after[0];
        out.clear();
        out.reserve(b * k * hn);
        for _ in 0..b * k {
            out.extend_from_slice(&vals[layer.b]);
        }
        for start in (0..b).step_by(CIN_CHUNK_ROWS) {
            let end = (start + CIN_CHUNK_ROWS).min(b);
            let (q0, q1) = (start * k, end * k);
            outer_products(
                &prev[q0 * hp..q1 * hp],
                hp,
                &ws.x0t[q0 * f..q1 * f],
                f,
                &mut ws.z,
            );
            mm(
                &mut out[q0 * hn..q1 * hn],
                q1 - q0,
                hn,
                hp * f,
                &ws.z,
                hp * f,
                1,
                &vals[layer.w],
                hn,
                1,
                true,
            );
        }
        for r in 0..b {
            let pooled = &mut ws.pooled[r * total + offset..r * total + offset + hn];
            for d in 0..k {
                for (p, &v) in pooled
                    .iter_mut()
                    .zip(&out[(r * k + d) * hn..(r * k + d + 1) * hn])
                {
                    *p += v;
                }
            }
        }
        offset += hn;
    }
}

/// The backward pass of the CIN and its output layer from the logits' gradient `dz`: weight
/// gradients into `grads`, the gradient with respect to `X^0` into `ws.dx0t` (`[b·k, F]`,
/// accumulated).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cin_backward(
    cin: &[Lin],
    cin_out: Lin,
    vals: &[Vec<f32>],
    grads: &mut [Vec<f32>],
    b: usize,
    f: usize,
    k: usize,
    dz: &[f32],
    ws: &mut Workspace,
) {
    let total: usize = cin.iter().map(|l| l.dout).sum();
    // Output layer over the pooled vectors.
    mm(
        &mut grads[cin_out.w],
        total,
        1,
        b,
        &ws.pooled,
        1,
        total,
        dz,
        1,
        1,
        false,
    );
    grads[cin_out.b][0] = dz.iter().sum();
    let wo = &vals[cin_out.w];
    let mut offset = total;
    ws.dcur.clear();
    for l in (0..cin.len()).rev() {
        let layer = cin[l];
        let hn = layer.dout;
        offset -= hn;
        // The pooled output's gradient reaches every embedding dimension of the layer.
        if ws.dcur.len() != b * k * hn {
            ws.dcur.clear();
            ws.dcur.resize(b * k * hn, 0.0);
        }
        for r in 0..b {
            let g = dz[r];
            for d in 0..k {
                let row = &mut ws.dcur[(r * k + d) * hn..(r * k + d + 1) * hn];
                for (x, &wv) in row.iter_mut().zip(&wo[offset..offset + hn]) {
                    *x += g * wv;
                }
            }
        }
        let hp = if l == 0 { f } else { cin[l - 1].dout };
        set_len(&mut ws.dprev, b * k * hp);
        let db = &mut grads[layer.b];
        db.fill(0.0);
        for row in ws.dcur.chunks_exact(hn) {
            for (g, &v) in db.iter_mut().zip(row) {
                *g += v;
            }
        }
        grads[layer.w].fill(0.0);
        for start in (0..b).step_by(CIN_CHUNK_ROWS) {
            let end = (start + CIN_CHUNK_ROWS).min(b);
            let (q0, q1) = (start * k, end * k);
            let prev: &[f32] = if l == 0 {
                &ws.x0t[q0 * f..q1 * f]
            } else {
                &ws.cin_x[l - 1][q0 * hp..q1 * hp]
            };
            let x0 = &ws.x0t[q0 * f..q1 * f];
            outer_products(prev, hp, x0, f, &mut ws.z);
            let dcur = &ws.dcur[q0 * hn..q1 * hn];
            mm(
                &mut grads[layer.w],
                hp * f,
                hn,
                q1 - q0,
                &ws.z,
                1,
                hp * f,
                dcur,
                hn,
                1,
                true,
            );
            set_len(&mut ws.dz, (q1 - q0) * hp * f);
            mm(
                &mut ws.dz,
                q1 - q0,
                hp * f,
                hn,
                dcur,
                hn,
                1,
                &vals[layer.w],
                1,
                hn,
                false,
            );
            // z[q, i·F + j] = x[q, i] · x0[q, j]: dx[q, i] = Σ_j dz · x0[q, j],
            // dx0[q, j] += Σ_i dz · x[q, i].
            ws.dprev[q0 * hp..q1 * hp]
                .par_chunks_mut(hp)
                .zip(ws.dx0t[q0 * f..q1 * f].par_chunks_mut(f))
                .zip(ws.dz.par_chunks(hp * f))
                .zip(prev.par_chunks(hp))
                .zip(x0.par_chunks(f))
                .for_each(|((((dxq, dx0q), dzq), xq), x0q)| {
                    for ((dxi, dzi), &xi) in dxq.iter_mut().zip(dzq.chunks_exact(f)).zip(xq) {
                        let mut s = 0.0f32;
                        for ((&g, &x0v), dx0v) in dzi.iter().zip(x0q).zip(dx0q.iter_mut()) {
                            s += g * x0v;
                            *dx0v += g * xi;
                        }
                        *dxi = s;
                    }
                });
        }
        if l == 0 {
            for (g, &v) in ws.dx0t.iter_mut().zip(&ws.dprev) {
                *g += v;
            }
        } else {
            std::mem::swap(&mut ws.dcur, &mut ws.dprev);
        }
    }
}

/// AutoInt's attention layers, `ReLU(MultiHead(x) + x W_Res)` each, unscaled dot-product
/// attention per head (spec 3.4).
#[inline(always)]
fn attention_forward(
    layers: &[Attn],
    vals: &[Vec<f32>],
    emb: &[f32],
    b: usize,
    f: usize,
    heads: usize,
    ws: &mut Workspace,
) {
    let n = layers.len();
    ws.wcat.resize_with(n, Vec::new);
    ws.qkvr.resize_with(n, Vec::new);
    ws.attn.resize_with(n, Vec::new);
    ws.att_x.resize_with(n, Vec::new);
    for (l, layer) in layers.iter().enumerate() {
        let (d, a) = (layer.din, layer.width);
        let wcat = &mut ws.wcat[l];
        wcat.clear();
        wcat.resize(d * 4 * a, 0.0);
        for (s, &p) in layer.qkvr.iter().enumerate() {
            for r in 0..d {
                wcat[r * 4 * a + s * a..r * 4 * a + (s + 1) * a]
                    .copy_from_slice(&vals[p][r * a..(r + 1) * a]);
            }
        }
        let (before, after) = ws.att_x.split_at_mut(l);
        let x: &[f32] = if l == 0 { emb } else { &before[l - 1] };
        let qkvr = &mut ws.qkvr[l];
        set_len(qkvr, b * f * 4 * a);
        mm(qkvr, b * f, 4 * a, d, x, d, 1, wcat, 4 * a, 1, false);
        let attn = &mut ws.attn[l];
        set_len(attn, b.div_ceil(LANES) * heads * f * f * LANES);
        let out = &mut after[0];
        set_len(out, b * f * a);
        out.par_chunks_mut(LANES * f * a)
            .zip(attn.par_chunks_mut(heads * f * f * LANES))
            .zip(qkvr.par_chunks(LANES * f * 4 * a))
            .for_each(|((o, at), p)| {
                let (n_pt, n_ot) = lane_lens(f, a);
                with_scratch(n_pt + n_ot, |buf| {
                    let (pt, ot) = buf.split_at_mut(n_pt);
                    attend_block(p, o, at, pt, ot, f, a, heads)
                })
            });
    }
}

thread_local! {
    /// Each worker thread's scratch for the attention blocks, kept between calls: a fresh
    /// buffer per block cost a page fault per 4 KiB, more than the block's arithmetic.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `body` on this thread's scratch buffer, `len` values long (contents unspecified).
fn with_scratch<R>(len: usize, body: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            body(&mut buf[..len])
        }
        // Re-entered on this thread (not done by this module): a buffer of its own.
        Err(_) => body(&mut vec![0.0; len]),
    })
}

/// Rows processed together by the attention kernels: one per SIMD lane (AVX-512 holds 16
/// f32), so every operation is the same on all lanes and no loop has a tail.
const LANES: usize = 16;

/// The lengths of an attention block's lane buffers: projections `[F, 4A + 1, LANES]` and
/// outputs `[F, A + 1, LANES]`. The extra lane vector of each field keeps fields from lying a
/// power of two bytes apart, which would map them all onto the same cache sets (the x86
/// kernels use it; the portable loops use the first `F·4A` and `F·A` lane vectors).
fn lane_lens(f: usize, a: usize) -> (usize, usize) {
    (f * (4 * a + 1) * LANES, f * (a + 1) * LANES)
}

/// `rows` row-major blocks of `width` values (`src: [rows, width]`, `rows ≤ LANES`) into the
/// lane layout `dst: [width, LANES]`, padding missing rows with zeros.
#[inline(always)]
fn to_lanes(src: &[f32], width: usize, dst: &mut [f32], w: usize) {
    let rows = src.len() / width;
    if rows < w {
        dst.fill(0.0);
    }
    for l in 0..rows {
        for (t, &v) in src[l * width..(l + 1) * width].iter().enumerate() {
            dst[t * w + l] = v;
        }
    }
}

/// The inverse of [`to_lanes`] for the first `dst.len() / width` rows.
#[inline(always)]
fn from_lanes(src: &[f32], width: usize, dst: &mut [f32], w: usize) {
    let rows = dst.len() / width;
    for l in 0..rows {
        for (t, d) in dst[l * width..(l + 1) * width].iter_mut().enumerate() {
            *d = src[t * w + l];
        }
    }
}

/// Attention (every head), residual and ReLU for a block of at most [`LANES`] rows, one row
/// per lane: `p: [rows, F, 4A]` projections → `o: [rows, F, A]`, and the attention weights
/// into `at: [H, F, F, LANES]`. `pt` and `ot` are scratch of the lengths [`lane_lens`] gives.
/// CPUs with AVX-512 or AVX2 + FMA run the kernels of [`x86`] (fused multiply-adds), the
/// others [`attend_block_portable`]; they agree to rounding. On one CPU the result does not depend
/// on the thread count.
#[allow(clippy::too_many_arguments)]
fn attend_block(
    p: &[f32],
    o: &mut [f32],
    at: &mut [f32],
    pt: &mut [f32],
    ot: &mut [f32],
    f: usize,
    a: usize,
    heads: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = x86::isa() {
        return x86::attend_block(isa, p, o, at, pt, ot, f, a, heads);
    }
    attend_block_portable(p, o, at, pt, ot, f, a, heads, std::hint::black_box(LANES));
}

/// The backward pass of [`attend_block`]: the output's gradient `dx: [rows, F, A]` → the
/// projections' gradient `g: [rows, F, 4A]` (overwritten). `pt` and `gt` (the first length
/// [`lane_lens`] gives), `dt` (the second) and `datt: [F + F·F, LANES]` are scratch.
/// Dispatched as [`attend_block`].
#[allow(clippy::too_many_arguments)]
fn attend_block_backward(
    g: &mut [f32],
    dx: &[f32],
    o: &[f32],
    at: &[f32],
    p: &[f32],
    pt: &mut [f32],
    gt: &mut [f32],
    dt: &mut [f32],
    datt: &mut [f32],
    f: usize,
    a: usize,
    heads: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = x86::isa() {
        return x86::attend_block_backward(isa, g, dx, o, at, p, pt, gt, dt, datt, f, a, heads);
    }
    attend_block_backward_portable(
        g,
        dx,
        o,
        at,
        p,
        pt,
        gt,
        dt,
        &mut datt[..f * LANES],
        f,
        a,
        heads,
        std::hint::black_box(LANES),
    );
}

/// Softmax over `j` of `row: [F, w]`, lane by lane (the maximum subtracted first).
#[inline(always)]
fn softmax_lanes(row: &mut [f32], w: usize, max: &mut [f32], sum: &mut [f32]) {
    max.fill(f32::NEG_INFINITY);
    for sc in row.chunks_exact(w) {
        for (m, &v) in max.iter_mut().zip(sc) {
            *m = m.max(v);
        }
    }
    sum.fill(0.0);
    for sc in row.chunks_exact_mut(w) {
        for ((v, &m), t) in sc.iter_mut().zip(&*max).zip(sum.iter_mut()) {
            *v = exp_nonpositive(*v - m);
            *t += *v;
        }
    }
    for t in sum.iter_mut() {
        *t = 1.0 / *t;
    }
    for sc in row.chunks_exact_mut(w) {
        for (v, &t) in sc.iter_mut().zip(&*sum) {
            *v *= t;
        }
    }
}

/// The residual and ReLU of [`attend_block`] in lanes: `ot += R`, then `max(0)`.
#[inline(always)]
fn residual_relu_lanes(ot: &mut [f32], pt: &[f32], f: usize, a: usize, w: usize) {
    let s4 = 4 * a;
    for i in 0..f {
        for c in 0..a {
            let rb = (i * s4 + 3 * a + c) * w;
            let acc = &mut ot[(i * a + c) * w..(i * a + c + 1) * w];
            for (x, &r) in acc.iter_mut().zip(&pt[rb..rb + w]) {
                *x = (*x + r).max(0.0);
            }
        }
    }
}

/// The first steps of [`attend_block_backward`] in lanes: the projections into `pt`, the
/// pre-activation's gradient (ReLU's mask applied) into `dt`, `gt` zeroed but for the
/// residual projection's part, which is that gradient.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_lanes_setup(
    dx: &[f32],
    o: &[f32],
    p: &[f32],
    pt: &mut [f32],
    gt: &mut [f32],
    dt: &mut [f32],
    f: usize,
    a: usize,
    w: usize,
) {
    to_lanes(p, f * 4 * a, pt, w);
    to_lanes(dx, f * a, dt, w);
    relu_mask_and_residual(o, gt, dt, f, a, w);
}

/// ReLU's mask (from the output `o: [rows, F, A]`) applied to `dt: [F·A, w]`, and `gt`
/// zeroed but for the residual projection's part, which is that gradient.
#[inline(always)]
fn relu_mask_and_residual(o: &[f32], gt: &mut [f32], dt: &mut [f32], f: usize, a: usize, w: usize) {
    let s4 = 4 * a;
    let rows = o.len() / (f * a);
    for l in 0..rows {
        for t in 0..f * a {
            if o[l * f * a + t] <= 0.0 {
                dt[t * w + l] = 0.0;
            }
        }
    }
    gt.fill(0.0);
    for i in 0..f {
        for c in 0..a {
            let gb = (i * s4 + 3 * a + c) * w;
            gt[gb..gb + w].copy_from_slice(&dt[(i * a + c) * w..(i * a + c + 1) * w]);
        }
    }
}

simd_fn! {
    /// Attention (every head), residual and ReLU for a block of at most `w` rows (`w` =
    /// [`LANES`], passed at run time so that the compiler vectorises the loops over the lanes
    /// rather than across them), one row per lane: `p: [rows, F, 4A]` projections →
    /// `o: [rows, F, A]`, and the attention weights into `at: [H, F, F, w]`.
    /// `pt: [F·4A, w]` and `ot: [F·A, w]` are scratch.
    fn attend_block_portable(
        p: &[f32],
        o: &mut [f32],
        at: &mut [f32],
        pt: &mut [f32],
        ot: &mut [f32],
        f: usize,
        a: usize,
        heads: usize,
        w: usize,
    ) {
        let s4 = 4 * a;
        let dh = a / heads;
        to_lanes(p, f * s4, pt, w);
        ot.fill(0.0);
        let mut max = vec![0f32; w];
        let mut sum = vec![0f32; w];
        for h in 0..heads {
            let c0 = h * dh;
            for i in 0..f {
                let srow = &mut at[(h * f + i) * f * w..(h * f + i + 1) * f * w];
                srow.fill(0.0);
                for c in c0..c0 + dh {
                    let q = &pt[(i * s4 + c) * w..(i * s4 + c + 1) * w];
                    for (j, sc) in srow.chunks_exact_mut(w).enumerate() {
                        let kb = (j * s4 + a + c) * w;
                        lane_mul_add(sc, q, &pt[kb..kb + w]);
                    }
                }
                softmax_lanes(srow, w, &mut max, &mut sum);
                for (j, wt) in srow.chunks_exact(w).enumerate() {
                    for c in c0..c0 + dh {
                        let vb = (j * s4 + 2 * a + c) * w;
                        lane_mul_add(&mut ot[(i * a + c) * w..(i * a + c + 1) * w], wt, &pt[vb..vb + w]);
                    }
                }
            }
        }
        residual_relu_lanes(ot, pt, f, a, w);
        from_lanes(ot, f * a, o, w);
    }
}

simd_fn! {
    /// The backward pass of [`attend_block`]: the output's gradient `dx: [rows, F, A]` →
    /// the projections' gradient `g: [rows, F, 4A]` (overwritten). `pt: [F·4A, w]`,
    /// `gt: [F·4A, w]`, `dt: [F·A, w]` and `datt: [F, w]` are scratch.
    fn attend_block_backward_portable(
        g: &mut [f32],
        dx: &[f32],
        o: &[f32],
        at: &[f32],
        p: &[f32],
        pt: &mut [f32],
        gt: &mut [f32],
        dt: &mut [f32],
        datt: &mut [f32],
        f: usize,
        a: usize,
        heads: usize,
        w: usize,
    ) {
        let s4 = 4 * a;
        let dh = a / heads;
        backward_lanes_setup(dx, o, p, pt, gt, dt, f, a, w);
        let mut mean = vec![0f32; w];
        let mut ds = vec![0f32; w];
        for h in 0..heads {
            let c0 = h * dh;
            for i in 0..f {
                let arow = &at[(h * f + i) * f * w..(h * f + i + 1) * f * w];
                // datt_j = ⟨dpre_i, v_j⟩ over the head's columns.
                datt.fill(0.0);
                for c in c0..c0 + dh {
                    let d = &dt[(i * a + c) * w..(i * a + c + 1) * w];
                    for (j, acc) in datt.chunks_exact_mut(w).enumerate() {
                        let vb = (j * s4 + 2 * a + c) * w;
                        lane_mul_add(acc, d, &pt[vb..vb + w]);
                    }
                }
                mean.fill(0.0);
                for (wt, d) in arow.chunks_exact(w).zip(datt.chunks_exact(w)) {
                    lane_mul_add(&mut mean, wt, d);
                }
                for j in 0..f {
                    let wt = &arow[j * w..(j + 1) * w];
                    // Softmax: ds_ij = a_ij (datt_j − Σ_j' a_ij' datt_j').
                    for (((x, &a_), &d), &m) in ds.iter_mut().zip(wt).zip(&datt[j * w..(j + 1) * w]).zip(&mean) {
                        *x = a_ * (d - m);
                    }
                    for c in c0..c0 + dh {
                        // dV_j += a_ij dpre_i; dQ_i += ds K_j; dK_j += ds Q_i.
                        let d = &dt[(i * a + c) * w..(i * a + c + 1) * w];
                        let vb = (j * s4 + 2 * a + c) * w;
                        lane_mul_add(&mut gt[vb..vb + w], wt, d);
                        let (kb, qb) = ((j * s4 + a + c) * w, (i * s4 + c) * w);
                        lane_mul_add(&mut gt[qb..qb + w], &ds, &pt[kb..kb + w]);
                        lane_mul_add(&mut gt[kb..kb + w], &ds, &pt[qb..qb + w]);
                    }
                }
            }
        }
        from_lanes(gt, f * s4, g, w);
    }
}

/// `acc += x ⊙ y` over one lane vector.
#[inline(always)]
fn lane_mul_add(acc: &mut [f32], x: &[f32], y: &[f32]) {
    for ((a, &x), &y) in acc.iter_mut().zip(x).zip(y) {
        *a += x * y;
    }
}

/// `exp(x)` for `x ≤ 0` to about 1e-7 relative: `2^n · e^r` with `n = round(x / ln 2)` and a
/// degree-7 polynomial for `e^r`, `|r| ≤ ln 2 / 2`. Branch-free, so a loop over it
/// vectorises (libm's `expf` does not).
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer.
    let x = x.max(-87.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    for coef in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = coef + r * p;
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The backward pass of [`attention_forward`] from the last layer's output gradient in
/// `ws.dx_next` (`[b·F, A]`); leaves the embeddings' gradient there (`[b·F, k]`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attention_backward(
    layers: &[Attn],
    grads: &mut [Vec<f32>],
    emb: &[f32],
    b: usize,
    f: usize,
    heads: usize,
    ws: &mut Workspace,
) {
    for l in (0..layers.len()).rev() {
        let layer = layers[l];
        let (d, a) = (layer.din, layer.width);
        let stride = 4 * a;
        set_len(&mut ws.dqkvr, b * f * stride);
        let out = &ws.att_x[l];
        let attn = &ws.attn[l];
        let qkvr = &ws.qkvr[l];
        ws.dqkvr
            .par_chunks_mut(LANES * f * stride)
            .zip(ws.dx_next.par_chunks(LANES * f * a))
            .zip(out.par_chunks(LANES * f * a))
            .zip(attn.par_chunks(heads * f * f * LANES))
            .zip(qkvr.par_chunks(LANES * f * stride))
            .for_each(|((((g, dx), o), at), p)| {
                let (n_pt, n_dt) = lane_lens(f, a);
                with_scratch(2 * n_pt + n_dt + (f + f * f) * LANES, |buf| {
                    let (pt, rest) = buf.split_at_mut(n_pt);
                    let (gt, rest) = rest.split_at_mut(n_pt);
                    let (dt, datt) = rest.split_at_mut(n_dt);
                    attend_block_backward(g, dx, o, at, p, pt, gt, dt, datt, f, a, heads)
                })
            });
        let x: &[f32] = if l == 0 { emb } else { &ws.att_x[l - 1] };
        set_len(&mut ws.dwcat, d * stride);
        mm_long_sum(
            &mut ws.dwcat,
            d,
            stride,
            b * f,
            x,
            1,
            d,
            &ws.dqkvr,
            stride,
            1,
            &mut ws.split_tmp,
        );
        for (s, &p) in layer.qkvr.iter().enumerate() {
            let g = &mut grads[p];
            for r in 0..d {
                g[r * a..(r + 1) * a]
                    .copy_from_slice(&ws.dwcat[r * stride + s * a..r * stride + (s + 1) * a]);
            }
        }
        set_len(&mut ws.dx_att, b * f * d);
        mm(
            &mut ws.dx_att,
            b * f,
            d,
            stride,
            &ws.dqkvr,
            stride,
            1,
            &ws.wcat[l],
            1,
            stride,
            false,
        );
        std::mem::swap(&mut ws.dx_att, &mut ws.dx_next);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::models::BuildNet;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    #[ignore]
    fn block_timing() {
        let (f, a, heads) = (39, 64, 2);
        let p: Vec<f32> = (0..LANES * f * 4 * a)
            .map(|i| ((i % 17) as f32) * 0.01)
            .collect();
        let mut o = vec![0f32; LANES * f * a];
        let mut at = vec![0f32; heads * f * f * LANES];
        let (n_pt, n_ot) = lane_lens(f, a);
        let mut pt = vec![0f32; n_pt];
        let mut ot = vec![0f32; n_ot];
        let t = std::time::Instant::now();
        for _ in 0..100 {
            to_lanes(&p, f * 4 * a, &mut pt, LANES);
        }
        eprintln!("to_lanes {:.1} us", t.elapsed().as_secs_f64() * 1e4);
        #[cfg(target_arch = "x86_64")]
        if let Some(isa) = x86::isa() {
            let t = std::time::Instant::now();
            for _ in 0..100 {
                x86::to_lanes(isa, &p, f * 4 * a, &mut pt);
            }
            eprintln!("to_lanes {isa:?} {:.1} us", t.elapsed().as_secs_f64() * 1e4);
            let t = std::time::Instant::now();
            for _ in 0..100 {
                x86::from_lanes(isa, &ot, f * a, &mut o);
            }
            eprintln!(
                "from_lanes {isa:?} {:.1} us",
                t.elapsed().as_secs_f64() * 1e4
            );
        }
        // The best of 7 rounds of 20 calls, forward and backward (this machine's speed moves).
        let dx: Vec<f32> = (0..LANES * f * a)
            .map(|i| ((i % 13) as f32 - 6.0) * 0.01)
            .collect();
        let mut g = vec![0f32; p.len()];
        let (mut gt, mut dt) = (vec![0f32; n_pt], vec![0f32; n_ot]);
        let mut datt = vec![0f32; (f + f * f) * LANES];
        let (mut fwd, mut bwd) = (f64::MAX, f64::MAX);
        for _ in 0..7 {
            let t = std::time::Instant::now();
            for _ in 0..20 {
                attend_block(&p, &mut o, &mut at, &mut pt, &mut ot, f, a, heads);
            }
            fwd = fwd.min(t.elapsed().as_secs_f64() / 20.0);
            let t = std::time::Instant::now();
            for _ in 0..20 {
                attend_block_backward(
                    &mut g, &dx, &o, &at, &p, &mut pt, &mut gt, &mut dt, &mut datt, f, a, heads,
                );
            }
            bwd = bwd.min(t.elapsed().as_secs_f64() / 20.0);
        }
        let flop = (2 * heads * f * f * (a / heads) * 2 * LANES) as f64;
        eprintln!(
            "attend_block {:.1} us ({:.1} GFLOP/s), backward {:.1} us ({:.1} GFLOP/s)",
            fwd * 1e6,
            flop / fwd / 1e9,
            bwd * 1e6,
            2.0 * flop / bwd / 1e9
        );
    }

    /// Where a step's time goes (run by hand: `cargo test --release -p glider-nn
    /// fast_ctr::timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn step_breakdown() {
        for kind in std::env::var("GLIDER_KINDS")
            .unwrap_or("deepfm,autoint,autoint+,xdeepfm".into())
            .split(",")
            .map(|k| k.parse::<ModelKind>().unwrap())
        {
            let params = crate::params::CtrParams::for_model(kind);
            let (b, f) = (1024, 39);
            let width = kind.embedding_width(16);
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let dev = crate::cpu();
            let named = crate::models::with_net_type!(kind, T => {
                let net = T::build(kind, f, &params, &mut rng, &dev);
                crate::store::named_parameters(&net).unwrap()
            });
            let mut net = FastNet::from_named(kind, f, width, 2, named).unwrap();
            let emb: Vec<f32> = (0..b * f * width)
                .map(|_| rng.random_range(-0.1..0.1))
                .collect();
            let mut z = vec![0f32; b];
            let dz: Vec<f32> = (0..b).map(|i| (i % 3) as f32 * 1e-3).collect();
            let mut ge = vec![0f32; emb.len()];
            let reps = if kind == ModelKind::XDeepFm { 2 } else { 10 };
            net.forward(&emb, b, &mut z);
            net.backward(&emb, b, &dz, &mut ge);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                net.forward(&emb, b, &mut z);
            }
            let fwd = t.elapsed().as_secs_f64() / reps as f64;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                net.backward(&emb, b, &dz, &mut ge);
            }
            let bwd = t.elapsed().as_secs_f64() / reps as f64;
            eprintln!(
                "{kind}: forward {:.1} ms, backward {:.1} ms",
                fwd * 1e3,
                bwd * 1e3
            );
        }
    }
}

#[cfg(test)]
mod lanes {
    use super::*;

    #[test]
    fn the_softmax_is_exact_to_1e6_and_the_same_bits_with_every_isa() {
        let f = 39;
        let row: Vec<f32> = (0..f * LANES)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.37)
            .collect();
        let mut plain = row.clone();
        let (mut max, mut sum) = (vec![0f32; LANES], vec![0f32; LANES]);
        softmax_lanes(&mut plain, LANES, &mut max, &mut sum);
        for l in 0..LANES {
            let m = (0..f)
                .map(|j| row[j * LANES + l] as f64)
                .fold(f64::MIN, f64::max);
            let z: f64 = (0..f).map(|j| (row[j * LANES + l] as f64 - m).exp()).sum();
            for j in 0..f {
                let exact = (row[j * LANES + l] as f64 - m).exp() / z;
                let got = plain[j * LANES + l] as f64;
                assert!(
                    (got - exact).abs() <= 1e-6 * exact.max(1e-30) + 1e-12,
                    "{got} vs {exact}"
                );
            }
        }
        #[cfg(target_arch = "x86_64")]
        for isa in x86::available() {
            let mut fast = row.clone();
            x86::softmax_lanes(isa, &mut fast, f);
            assert_eq!(plain, fast, "{isa:?}");
        }
    }

    #[test]
    fn register_transposes_match_the_plain_loops() {
        #[cfg(target_arch = "x86_64")]
        for isa in x86::available() {
            for (rows, width) in [(16, 48), (16, 37), (5, 64), (1, 19), (9, 8), (12, 3)] {
                let src: Vec<f32> = (0..rows * width).map(|i| i as f32 * 0.5 - 3.0).collect();
                let mut plain = vec![7.0; width * LANES];
                let mut fast = vec![9.0; width * LANES];
                to_lanes(&src, width, &mut plain, LANES);
                x86::to_lanes(isa, &src, width, &mut fast);
                assert_eq!(plain, fast, "{isa:?} to_lanes {rows}×{width}");
                let mut back_plain = vec![1.0; rows * width];
                let mut back_fast = vec![2.0; rows * width];
                from_lanes(&plain, width, &mut back_plain, LANES);
                x86::from_lanes(isa, &plain, width, &mut back_fast);
                assert_eq!(back_plain, src, "round trip {rows}×{width}");
                assert_eq!(back_fast, src, "{isa:?} from_lanes {rows}×{width}");
            }
        }
    }

    /// The x86 attention kernels against the portable loops, forward and backward, on a full
    /// and a partial block, with field and head sizes that use every sum group (8, 4, 2, 1).
    #[test]
    fn the_x86_attention_kernels_match_the_portable_loops() {
        #[cfg(target_arch = "x86_64")]
        for isa in x86::available() {
            for (rows, f, a, heads) in [(16, 11, 24, 2), (5, 7, 8, 1), (16, 3, 30, 3)] {
                let s4 = 4 * a;
                let val = |i: usize, m: usize| ((i * m % 97) as f32 - 48.0) * 0.021;
                let p: Vec<f32> = (0..rows * f * s4).map(|i| val(i, 31)).collect();
                let dx: Vec<f32> = (0..rows * f * a).map(|i| val(i, 17)).collect();
                let run = |simd: bool| {
                    let (n_pt, n_ot) = lane_lens(f, a);
                    let mut o = vec![0f32; rows * f * a];
                    let mut at = vec![0f32; heads * f * f * LANES];
                    let mut g = vec![0f32; rows * f * s4];
                    let mut pt = vec![0f32; n_pt];
                    let mut gt = vec![0f32; n_pt];
                    let mut ot = vec![0f32; n_ot];
                    let mut datt = vec![0f32; (f + f * f) * LANES];
                    if simd {
                        x86::attend_block(isa, &p, &mut o, &mut at, &mut pt, &mut ot, f, a, heads);
                        x86::attend_block_backward(
                            isa, &mut g, &dx, &o, &at, &p, &mut pt, &mut gt, &mut ot, &mut datt, f,
                            a, heads,
                        );
                    } else {
                        attend_block_portable(
                            &p, &mut o, &mut at, &mut pt, &mut ot, f, a, heads, LANES,
                        );
                        attend_block_backward_portable(
                            &mut g,
                            &dx,
                            &o,
                            &at,
                            &p,
                            &mut pt,
                            &mut gt,
                            &mut ot,
                            &mut datt[..f * LANES],
                            f,
                            a,
                            heads,
                            LANES,
                        );
                    }
                    (o, at, g)
                };
                let (o0, at0, g0) = run(false);
                let (o1, at1, g1) = run(true);
                let close = |x: &[f32], y: &[f32], what: &str| {
                    let scale = x.iter().fold(0f32, |m, v| m.max(v.abs()));
                    assert!(scale > 1e-3, "{what}: a test whose values are all zero");
                    for (u, v) in x.iter().zip(y) {
                        assert!((u - v).abs() <= 1e-5 * scale, "{isa:?} {what}: {u} vs {v}");
                    }
                };
                close(&o0, &o1, "output");
                close(&at0, &at1, "attention weights");
                close(&g0, &g1, "projections' gradient");
            }
        }
    }
}

#[cfg(test)]
mod long_sum {
    use super::*;

    #[test]
    fn a_sum_cut_in_two_halves_matches_the_whole_product() {
        let (m, n, k) = (3, 5, 5000);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1)
            .collect();
        let mut whole = vec![0f32; m * n];
        // Aᵀ B with A stored [k, m], as the weight gradients read it.
        mm(&mut whole, m, n, k, &a, 1, m, &b, n, 1, false);
        let mut halves = vec![9f32; m * n];
        mm_long_sum(&mut halves, m, n, k, &a, 1, m, &b, n, 1, &mut Vec::new());
        let exact: Vec<f64> = (0..m * n)
            .map(|e| {
                let (i, j) = (e / n, e % n);
                (0..k)
                    .map(|l| a[l * m + i] as f64 * b[l * n + j] as f64)
                    .sum()
            })
            .collect();
        for ((w, h), x) in whole.iter().zip(&halves).zip(&exact) {
            assert!(
                (*w as f64 - x).abs() < 1e-2 && (*h as f64 - x).abs() < 1e-2,
                "{w} {h} {x}"
            );
        }
    }
}

#[cfg(test)]
mod gemm_shapes {
    #[test]
    #[ignore]
    fn gemm_rates() {
        let (m, k, n) = (1024, 624, 400);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; m * n];
        let mut c2 = vec![0f32; m * n];
        let reps = 50;
        let flops = 2.0 * (m * k * n) as f64 * reps as f64;
        let t = std::time::Instant::now();
        for _ in 0..reps {
            super::mm(&mut c, m, n, k, &a, k, 1, &b, n, 1, false);
        }
        eprintln!(
            "2-thread gemm: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
        let t = std::time::Instant::now();
        for _ in 0..reps {
            let (c0, c1) = c2.split_at_mut(m / 2 * n);
            rayon::join(
                || crate::kernels::matmul(c0, m / 2, n, k, &a, k, 1, &b, n, 1, false),
                || crate::kernels::matmul(c1, m / 2, n, k, &a[m / 2 * k..], k, 1, &b, n, 1, false),
            );
        }
        eprintln!(
            "two halves, one thread each: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
        let t = std::time::Instant::now();
        for _ in 0..reps {
            crate::kernels::matmul(&mut c, m, n, k, &a, k, 1, &b, n, 1, false);
        }
        eprintln!(
            "one thread: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
        // weight gradient shape: [k, n] = aᵀ dy
        let t = std::time::Instant::now();
        let mut w = vec![0f32; k * n];
        for _ in 0..reps {
            super::mm(&mut w, k, n, m, &a, 1, k, &c, n, 1, false);
        }
        eprintln!(
            "2-thread dW: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
        let t = std::time::Instant::now();
        for _ in 0..reps {
            crate::kernels::matmul(&mut w, k, n, m, &a, 1, k, &c, n, 1, false);
        }
        eprintln!(
            "1-thread dW: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
        // input gradient shape: [m, k] = dy Wᵀ
        let mut dx = vec![0f32; m * k];
        let t = std::time::Instant::now();
        for _ in 0..reps {
            crate::kernels::matmul(&mut dx, m, k, n, &c, n, 1, &b, 1, n, false);
        }
        eprintln!(
            "1-thread dx: {:.1} GFLOP/s",
            flops / t.elapsed().as_secs_f64() / 1e9
        );
    }
}

//! The dense kernels the hand-written passes share ([`crate::additive`], [`crate::fast_mlp`],
//! [`crate::fast_tower`]): matrix products on the `gemm` crate and in register tiles
//! ([`small`]), and an Adam state over plain parameter vectors. Kept apart so that no trainer
//! depends on another for them.

mod small;

pub(crate) use small::{
    available as small_available, matmul_b_rows, relu, relu_backward, transpose,
};

/// `dst[m×n] (+)= A · B` where element `(i, l)` of `A` is `a[i*a_rs + l*a_cs]` and element
/// `(l, j)` of `B` is `b[l*b_rs + j*b_cs]`; `dst` is row-major `m×n`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
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
    accumulate: bool,
) {
    matmul_with(
        dst, m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, accumulate, false,
    );
}

/// [`matmul`] on every thread of the current rayon pool when the product has at least
/// [`PARALLEL_MACS`] multiply-adds (one thread below): bands of output rows, one per thread
/// (gemm's own split when there are too few rows). The split is over the output, never over
/// `k`, so every output element is summed in the same order whatever the thread count:
/// results do not depend on it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_auto(
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
    accumulate: bool,
) {
    let parallel = m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MACS;
    let threads = rayon::current_num_threads().min(m / 64);
    if parallel && threads >= 2 && dst.len() >= m * n {
        // Whole bands of output rows per thread, each one single-threaded product: measured
        // 297 GFLOP/s against 222 for gemm's own split of a 1024×624×400 product on 2 cores.
        use rayon::prelude::*;
        let band = m.div_ceil(threads);
        dst[..m * n]
            .par_chunks_mut(band * n)
            .enumerate()
            .for_each(|(t, d)| {
                let rows = d.len() / n;
                let a_part = &a[t * band * a_rs..];
                matmul_with(
                    d, rows, n, k, a_part, a_rs, a_cs, b, b_rs, b_cs, accumulate, false,
                );
            });
        return;
    }
    matmul_with(
        dst, m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, accumulate, parallel,
    );
}

/// Products of at least this many multiply-adds run on every thread ([`matmul_auto`]).
pub(crate) const PARALLEL_MACS: usize = 1 << 21;

#[allow(clippy::too_many_arguments)]
fn matmul_with(
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
    accumulate: bool,
    parallel: bool,
) {
    if !check_product(dst, m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, accumulate) {
        return;
    }
    // SAFETY: the assertions above keep every index the kernel reads or writes inside the
    // three slices; `dst` does not alias `a` or `b` (a `&mut` and two `&`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            if parallel {
                gemm::Parallelism::Rayon(0)
            } else {
                gemm::Parallelism::None
            },
        );
    }
}

/// The checks of every product `dst[m×n] (+)= A · B` (strides as in [`matmul`]) before its
/// kernel runs: false when nothing is left to compute (an empty output; `k = 0`, where `dst`
/// is zeroed unless accumulating).
///
/// # Panics
/// When an operand is too short for the shape given (a programming error).
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_product(
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
    accumulate: bool,
) -> bool {
    if m == 0 || n == 0 {
        return false;
    }
    assert!(dst.len() >= m * n, "product destination too small");
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return false;
    }
    assert!(
        (m - 1) * a_rs + (k - 1) * a_cs < a.len(),
        "product lhs out of bounds"
    );
    assert!(
        (k - 1) * b_rs + (n - 1) * b_cs < b.len(),
        "product rhs out of bounds"
    );
    true
}

/// The single-thread fp32 matrix-product rate of this machine with the `gemm` crate (the
/// kernels burn's CPU backend and the surrogate trainer use), in GFLOP/s: the best of `reps`
/// timed `n × n × n` products (2n³ FLOPs each) after one untimed one. A ceiling for benchmark
/// reports: no training step built on these kernels runs faster than their best case.
pub fn sgemm_gflops(n: usize, reps: usize) -> f64 {
    let n = n.max(1);
    let a: Vec<f32> = (0..n * n).map(|i| ((i % 7) as f32) * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| ((i % 5) as f32) * 0.1).collect();
    let mut c = vec![0f32; n * n];
    let mut best = f64::INFINITY;
    for rep in 0..=reps.max(1) {
        let t = std::time::Instant::now();
        matmul(&mut c, n, n, n, &a, n, 1, &b, n, 1, false);
        let dt = t.elapsed().as_secs_f64();
        if rep > 0 {
            best = best.min(dt);
        }
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// Adam state over a list of parameter vectors (PyTorch's update:
/// `θ −= lr · m̂ / (√v̂ + ε)`, β = (0.9, 0.999), ε = 1e-8).
pub(crate) struct AdamState {
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: i32,
}

impl AdamState {
    /// State for parameters of the given lengths, in the order `step` will see them.
    pub(crate) fn new(lengths: impl Iterator<Item = usize>) -> Self {
        let m: Vec<Vec<f32>> = lengths.map(|n| vec![0.0; n]).collect();
        AdamState {
            v: m.clone(),
            m,
            t: 0,
        }
    }

    /// One update of every parameter vector from its gradient (same order as `new`).
    pub(crate) fn step<'a, 'b>(
        &mut self,
        params: impl Iterator<Item = &'a mut Vec<f32>>,
        grads: impl Iterator<Item = &'b Vec<f32>>,
        lr: f32,
    ) {
        self.t += 1;
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        // `lr · (m / c1) / (√(v / c2) + ε)` with the bias corrections folded into two
        // constants, so each element costs one square root and one division.
        let c2_sqrt = c2.sqrt();
        let update = AdamUpdate {
            b1,
            b2,
            step: lr * c2_sqrt / c1,
            eps: eps * c2_sqrt,
        };
        let total: usize = self.m.iter().map(Vec::len).sum();
        if total < PARALLEL_ADAM {
            for (((p, g), m), v) in params.zip(grads).zip(&mut self.m).zip(&mut self.v) {
                update.apply(p, g, m, v);
            }
            return;
        }
        // Elementwise, so chunks of it run on every thread with the same results.
        const CHUNK: usize = 1 << 14;
        // (parameters, gradient, first moment, second moment) of one chunk.
        type Chunk<'c> = (&'c mut [f32], &'c [f32], &'c mut [f32], &'c mut [f32]);
        let mut work: Vec<Chunk> = Vec::new();
        for (((p, g), m), v) in params.zip(grads).zip(&mut self.m).zip(&mut self.v) {
            for (((p, g), m), v) in p
                .chunks_mut(CHUNK)
                .zip(g.chunks(CHUNK))
                .zip(m.chunks_mut(CHUNK))
                .zip(v.chunks_mut(CHUNK))
            {
                work.push((p, g, m, v));
            }
        }
        use rayon::prelude::*;
        work.into_par_iter()
            .for_each(|(p, g, m, v)| update.apply(p, g, m, v));
    }
}

/// [`AdamState::step`] runs on every thread from this many parameters (a recommender's DNN,
/// not a local surrogate, whose instances already run in parallel).
const PARALLEL_ADAM: usize = 1 << 17;

/// One Adam update's constants (see [`AdamState::step`]).
#[derive(Clone, Copy)]
struct AdamUpdate {
    b1: f32,
    b2: f32,
    step: f32,
    eps: f32,
}

impl AdamUpdate {
    /// Updates `p`, `m` and `v` in place from `g` (all the same length).
    fn apply(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above); the function body is
                // safe code over slices.
                unsafe { self.apply_avx512(p, g, m, v) };
                return;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above); the function body is safe
                // code over slices.
                unsafe { self.apply_avx2(p, g, m, v) };
                return;
            }
        }
        self.apply_portable(p, g, m, v);
    }

    /// The same loop compiled for AVX2 (8 lanes instead of SSE2's 4). Rust does not fuse
    /// multiplies and adds, so the results are bit-identical to [`Self::apply_portable`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.apply_portable(p, g, m, v);
    }

    /// As [`Self::apply_avx2`], 16 lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn apply_avx512(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.apply_portable(p, g, m, v);
    }

    #[inline(always)]
    fn apply_portable(self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let AdamUpdate { b1, b2, step, eps } = self;
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step * *m / (v.sqrt() + eps);
        }
    }
}

//! Matrix products for the surrogate's sizes (batches of 50 rows, layers of 14-128 units):
//! register tiles straight from the operands, without the packing a general GEMM does first.
//! At these sizes the `gemm` crate's packing and dispatch took 9% of detection's time beside
//! its multiply-add kernel's 57% (`perf`, 200 Adult instances); every operand here fits in the
//! first two cache levels, so reading it in place costs nothing. Measured on the surrogate's
//! products (`shapes` below): 3.6-5.1 multiply-add instructions per nanosecond on a 2.8 GHz
//! Zen 3 core, whose two FMA units give 5.6.
//!
//! One product shape: `C[m×n] (+)= A·B` with `A` at any strides (its elements are broadcast
//! one at a time) and `B` contiguous along `n` (a row of `B` is a lane vector). AVX2 + FMA
//! tiles of up to six rows by two lane vectors (twelve sums in registers), the last lane
//! vector of a row masked when `n` is not a multiple of eight. Every output element is one
//! sum over `k` in order, so results do not depend on the tiling, only on fused rounding.

#![allow(clippy::too_many_arguments)]

/// True when [`matmul_b_rows`] runs the register-tile kernel (x86-64 with AVX2 and FMA);
/// otherwise it falls back to [`super::matmul`].
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `dst[m×n] (+)= A · B` where element `(i, l)` of `A` is `a[i*a_rs + l*a_cs]` and row `l`
/// of `B` is `b[l*ldb .. l*ldb + n]`; `dst` is row-major `m×n`. Register tiles on AVX2 + FMA
/// ([`available`]), [`super::matmul`] elsewhere.
///
/// # Panics
/// When an operand is too short for the shape given (a programming error).
pub(crate) fn matmul_b_rows(
    dst: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    ldb: usize,
    accumulate: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if available() {
        if !super::check_product(dst, m, n, k, a, a_rs, a_cs, b, ldb, 1, accumulate) {
            return;
        }
        // SAFETY: the CPU has AVX2 and FMA (checked by `available`); `check_product` keeps
        // every element the tiles read (rows `0..m` of A, rows `0..k` of B, columns `0..n`,
        // masked lanes beyond `n` are not touched) and write (`dst[..m*n]`) in bounds; `dst`
        // does not alias `a` or `b` (a `&mut` and two `&`).
        unsafe {
            x86::product(
                dst.as_mut_ptr(),
                m,
                n,
                k,
                a.as_ptr(),
                a_rs,
                a_cs,
                b.as_ptr(),
                ldb,
                accumulate,
            )
        };
        return;
    }
    super::matmul(dst, m, n, k, a, a_rs, a_cs, b, ldb, 1, accumulate);
}

/// `src: [rows, cols]` row-major into `dst: [cols, rows]` (resized), in 8×8 blocks (AVX
/// shuffles where available).
pub(crate) fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
    assert!(src.len() >= rows * cols, "transpose source too small");
    dst.clear();
    dst.resize(rows * cols, 0.0);
    let (r8, c8) = (rows / 8 * 8, cols / 8 * 8);
    #[cfg(target_arch = "x86_64")]
    if available() {
        for r0 in (0..r8).step_by(8) {
            for c0 in (0..c8).step_by(8) {
                // SAFETY: AVX is present (`available`); the block's eight rows of eight
                // values lie inside `src` (`r0 + 8 ≤ rows`, `c0 + 8 ≤ cols`) and its
                // transpose inside `dst`, which has `rows · cols` values.
                unsafe {
                    x86::transpose8(
                        src.as_ptr().add(r0 * cols + c0),
                        cols,
                        dst.as_mut_ptr().add(c0 * rows + r0),
                        rows,
                    )
                };
            }
        }
    } else {
        for r in 0..r8 {
            for c in 0..c8 {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for r in 0..r8 {
        for c in 0..c8 {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
    // The edges: rows from r8 on, columns from c8 on.
    for r in 0..rows {
        let from = if r < r8 { c8 } else { 0 };
        for c in from..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// ReLU in place, `v = max(v, 0)` with NaN kept (negative values and −0 become +0): the
/// same values as [`crate::additive::Activation::apply`], eight lanes at a time where the
/// CPU has AVX2 (the compiler's own vectorisation of that loop uses masked stores, which are
/// slow on AMD).
pub(crate) fn relu(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: AVX2 is present (`available`); the kernel reads and writes `v` only.
        unsafe { x86::relu(v) };
        return;
    }
    crate::additive::Activation::Relu.apply(v);
}

/// ReLU's backward pass in place: `d` kept where `a` is not `≤ 0` (positive or NaN; `a` are
/// the layer's outputs after the ReLU), +0 elsewhere; as [`crate::additive::Activation::backprop`], eight lanes at a time.
///
/// # Panics
/// When `d` and `a` differ in length.
pub(crate) fn relu_backward(d: &mut [f32], a: &[f32]) {
    assert_eq!(
        d.len(),
        a.len(),
        "gradient and activations differ in length"
    );
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: AVX2 is present (`available`); both slices have the same length.
        unsafe { x86::relu_backward(d, a) };
        return;
    }
    crate::additive::Activation::Relu.backprop(d, a);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The whole product: column tiles of two lane vectors (then one, then the masked rest),
    /// each swept by row tiles of six rows (then the remainder).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn product(
        c: *mut f32,
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        a_rs: usize,
        a_cs: usize,
        b: *const f32,
        ldb: usize,
        accumulate: bool,
    ) {
        let rem = n % 8;
        let lanes: [i32; 8] = std::array::from_fn(|l| if l < rem { -1 } else { 0 });
        let mask = _mm256_loadu_si256(lanes.as_ptr().cast());
        let full = n / 8;
        let mut j = 0;
        while j < n {
            let vectors_left = full - (j / 8).min(full);
            let cb = b.add(j);
            let cc = c.add(j);
            if vectors_left >= 2 {
                rows::<2, false>(cc, m, n, k, a, a_rs, a_cs, cb, ldb, accumulate, mask);
                j += 16;
            } else if vectors_left == 1 && rem > 0 {
                rows::<2, true>(cc, m, n, k, a, a_rs, a_cs, cb, ldb, accumulate, mask);
                j += 8 + rem;
            } else if vectors_left == 1 {
                rows::<1, false>(cc, m, n, k, a, a_rs, a_cs, cb, ldb, accumulate, mask);
                j += 8;
            } else {
                rows::<1, true>(cc, m, n, k, a, a_rs, a_cs, cb, ldb, accumulate, mask);
                j += rem;
            }
        }
    }

    /// One column tile of `NV` lane vectors (the last masked when `MASKED`) over all rows.
    #[inline(always)]
    unsafe fn rows<const NV: usize, const MASKED: bool>(
        c: *mut f32,
        m: usize,
        ldc: usize,
        k: usize,
        a: *const f32,
        a_rs: usize,
        a_cs: usize,
        b: *const f32,
        ldb: usize,
        accumulate: bool,
        mask: __m256i,
    ) {
        let mut i = 0;
        while i + 6 <= m {
            tile::<6, NV, MASKED>(
                c.add(i * ldc),
                ldc,
                k,
                a.add(i * a_rs),
                a_rs,
                a_cs,
                b,
                ldb,
                accumulate,
                mask,
            );
            i += 6;
        }
        let (ci, ai) = (c.add(i * ldc), a.add(i * a_rs));
        match m - i {
            5 => tile::<5, NV, MASKED>(ci, ldc, k, ai, a_rs, a_cs, b, ldb, accumulate, mask),
            4 => tile::<4, NV, MASKED>(ci, ldc, k, ai, a_rs, a_cs, b, ldb, accumulate, mask),
            3 => tile::<3, NV, MASKED>(ci, ldc, k, ai, a_rs, a_cs, b, ldb, accumulate, mask),
            2 => tile::<2, NV, MASKED>(ci, ldc, k, ai, a_rs, a_cs, b, ldb, accumulate, mask),
            1 => tile::<1, NV, MASKED>(ci, ldc, k, ai, a_rs, a_cs, b, ldb, accumulate, mask),
            _ => {}
        }
    }

    /// Loads lane vector `v` of `NV` at `p` (masked when it is the last and `MASKED`).
    #[inline(always)]
    unsafe fn load<const NV: usize, const MASKED: bool>(
        p: *const f32,
        v: usize,
        mask: __m256i,
    ) -> __m256 {
        if MASKED && v + 1 == NV {
            _mm256_maskload_ps(p.add(v * 8), mask)
        } else {
            _mm256_loadu_ps(p.add(v * 8))
        }
    }

    /// `MR` rows by `NV` lane vectors of `C`, summed over all of `k` in registers.
    #[inline(always)]
    unsafe fn tile<const MR: usize, const NV: usize, const MASKED: bool>(
        c: *mut f32,
        ldc: usize,
        k: usize,
        a: *const f32,
        a_rs: usize,
        a_cs: usize,
        b: *const f32,
        ldb: usize,
        accumulate: bool,
        mask: __m256i,
    ) {
        let mut acc = [[_mm256_setzero_ps(); NV]; MR];
        if accumulate {
            for (r, row) in acc.iter_mut().enumerate() {
                for (v, s) in row.iter_mut().enumerate() {
                    *s = load::<NV, MASKED>(c.add(r * ldc), v, mask);
                }
            }
        }
        let mut ap = a;
        let mut bp = b;
        for _ in 0..k {
            let mut bv = [_mm256_setzero_ps(); NV];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = load::<NV, MASKED>(bp, v, mask);
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*ap.add(r * a_rs));
                for (s, &x) in row.iter_mut().zip(&bv) {
                    *s = _mm256_fmadd_ps(av, x, *s);
                }
            }
            ap = ap.add(a_cs);
            bp = bp.add(ldb);
        }
        for (r, row) in acc.iter().enumerate() {
            for (v, &s) in row.iter().enumerate() {
                let p = c.add(r * ldc + v * 8);
                if MASKED && v + 1 == NV {
                    _mm256_maskstore_ps(p, mask, s);
                } else {
                    _mm256_storeu_ps(p, s);
                }
            }
        }
    }

    /// See [`super::relu`]: a compare and an AND per lane vector.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn relu(v: &mut [f32]) {
        let zero = _mm256_setzero_ps();
        let mut chunks = v.chunks_exact_mut(8);
        for c in &mut chunks {
            let x = _mm256_loadu_ps(c.as_ptr());
            // Not less than 0 (true for NaN): keep the bits.
            let keep = _mm256_cmp_ps::<_CMP_NLT_UQ>(x, zero);
            _mm256_storeu_ps(c.as_mut_ptr(), _mm256_and_ps(x, keep));
        }
        for x in chunks.into_remainder() {
            let keep = if *x < 0.0 { 0 } else { u32::MAX };
            *x = f32::from_bits(x.to_bits() & keep);
        }
    }

    /// See [`super::relu_backward`].
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn relu_backward(d: &mut [f32], a: &[f32]) {
        let zero = _mm256_setzero_ps();
        let mut chunks = d.chunks_exact_mut(8);
        let mut gates = a.chunks_exact(8);
        for (c, g) in (&mut chunks).zip(&mut gates) {
            // Not at most 0 (true for NaN): keep the gradient.
            let keep = _mm256_cmp_ps::<_CMP_NLE_UQ>(_mm256_loadu_ps(g.as_ptr()), zero);
            let x = _mm256_loadu_ps(c.as_ptr());
            _mm256_storeu_ps(c.as_mut_ptr(), _mm256_and_ps(x, keep));
        }
        for (x, &g) in chunks.into_remainder().iter_mut().zip(gates.remainder()) {
            let keep = if g <= 0.0 { 0 } else { u32::MAX };
            *x = f32::from_bits(x.to_bits() & keep);
        }
    }

    /// One 8×8 block: rows `src + r·lds` into columns of `dst` (rows `ldd` apart).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose8(src: *const f32, lds: usize, dst: *mut f32, ldd: usize) {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src.add(i * lds)));
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves swapped.
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let out = [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        for (i, &v) in out.iter().enumerate() {
            _mm256_storeu_ps(dst.add(i * ldd), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape class (full, masked and remainder tiles; strided and transposed `A`;
    /// accumulate or not) against a plain triple loop.
    #[test]
    fn products_match_the_triple_loop() {
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for &(m, n, k) in &[
            (50, 128, 14),
            (50, 64, 128),
            (50, 32, 64),
            (50, 1, 32),
            (128, 14, 50),
            (7, 13, 5),
            (1, 8, 1),
            (6, 16, 3),
            (13, 25, 9),
            (175, 3, 17),
        ] {
            for transposed in [false, true] {
                for accumulate in [false, true] {
                    let ldb = n + 3;
                    let a: Vec<f32> = (0..m * k + 5).map(|_| next()).collect();
                    let b: Vec<f32> = (0..k * ldb).map(|_| next()).collect();
                    let start: Vec<f32> = (0..m * n).map(|_| next()).collect();
                    let (a_rs, a_cs) = if transposed { (1, m) } else { (k, 1) };
                    let mut c = start.clone();
                    matmul_b_rows(&mut c, m, n, k, &a, a_rs, a_cs, &b, ldb, accumulate);
                    for i in 0..m {
                        for j in 0..n {
                            let mut s = if accumulate { start[i * n + j] } else { 0.0 };
                            for l in 0..k {
                                s += a[i * a_rs + l * a_cs] * b[l * ldb + j];
                            }
                            let got = c[i * n + j];
                            assert!(
                                (got - s).abs() <= 1e-5 * (1.0 + s.abs()),
                                "{m}×{n}×{k} transposed {transposed} accumulate {accumulate} \
                                 ({i}, {j}): {got} vs {s}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The ReLU kernels give the portable loops' bits, NaN, ±0 and tails included.
    #[test]
    fn relu_kernels_match_the_portable_loops() {
        let v: Vec<f32> = (0..37)
            .map(|i| match i % 6 {
                0 => -0.0,
                1 => f32::NAN,
                2 => -1.5 * i as f32,
                3 => 0.0,
                _ => 0.25 * i as f32,
            })
            .collect();
        let (mut ours, mut theirs) = (v.clone(), v.clone());
        relu(&mut ours);
        crate::additive::Activation::Relu.apply(&mut theirs);
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&theirs));
        let d: Vec<f32> = (0..37).map(|i| i as f32 - 3.0).collect();
        let (mut ours, mut theirs) = (d.clone(), d.clone());
        relu_backward(&mut ours, &v);
        crate::additive::Activation::Relu.backprop(&mut theirs, &v);
        assert_eq!(bits(&ours), bits(&theirs));
    }

    /// Transposes of every edge case are exact.
    #[test]
    fn transposes_are_exact() {
        for &(rows, cols) in &[
            (128, 64),
            (64, 32),
            (14, 128),
            (9, 17),
            (8, 8),
            (1, 5),
            (3, 1),
        ] {
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let mut dst = Vec::new();
            transpose(&src, rows, cols, &mut dst);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        dst[c * rows + r],
                        src[r * cols + c],
                        "{rows}×{cols} ({r}, {c})"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod shapes {
    use super::*;

    /// Times each product of the default surrogate's step (batches of 50, 14 fields,
    /// 128-64-32) in multiply-add instructions per nanosecond (the two FMA units of a core
    /// at 2.8 GHz give 5.6). `cargo test --release -p glider-nn --lib kernels::small::shapes
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn surrogate_products() {
        let reps = 20000;
        // (name, m, n, k, a_rs, a_cs): forward `[50, d_in] · [d_in, d_out]`, backward to
        // the inputs `[50, d_out] · [d_out, d_in]`, weight gradients `[d_in, 50] · [50, d_out]`.
        for &(name, m, n, k, a_rs, a_cs) in &[
            ("fwd 14→128", 50, 128, 14, 14, 1),
            ("fwd 128→64", 50, 64, 128, 128, 1),
            ("fwd 64→32", 50, 32, 64, 64, 1),
            ("dA 64→128", 50, 128, 64, 64, 1),
            ("dA 32→64", 50, 64, 32, 32, 1),
            ("dW 14×128", 14, 128, 50, 1, 14),
            ("dW 128×64", 128, 64, 50, 1, 128),
            ("dW 64×32", 64, 32, 50, 1, 64),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.1).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.1).collect();
            let mut c = vec![0f32; m * n];
            let t = std::time::Instant::now();
            for _ in 0..reps {
                matmul_b_rows(&mut c, m, n, k, &a, a_rs, a_cs, &b, n, false);
            }
            let ns = t.elapsed().as_nanos() as f64 / reps as f64;
            let fma = (m * k) as f64 * (n as f64 / 8.0).ceil();
            eprintln!(
                "{name:11} {ns:7.0} ns  {fma:6.0} FMA  {:.2} FMA/ns",
                fma / ns
            );
        }
    }

    /// DeepFM's products (one thread's half of a 1024-row batch): the register tiles against
    /// the `gemm` crate, single-threaded. `cargo test --release -p glider-nn --lib
    /// kernels::small::shapes::deepfm -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn deepfm_products() {
        // (name, m, n, k, a_rs, a_cs): forward [512, k]·[k, 400]; input gradient
        // [512, 400]·[400, k]; weight gradient [k, 1024]·[1024, 400] (A read transposed).
        for &(name, m, n, k, a_rs, a_cs) in &[
            ("fwd 624→400", 512, 400, 624, 624, 1),
            ("fwd 400→400", 512, 400, 400, 400, 1),
            ("dx 400→624", 512, 624, 400, 400, 1),
            ("dW 624×400", 624, 400, 1024, 1, 624),
            ("dW 400×400", 400, 400, 1024, 1, 400),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.1).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.1).collect();
            let mut c = vec![0f32; m * n];
            let (mut tiles, mut gemm) = (f64::INFINITY, f64::INFINITY);
            for _ in 0..5 {
                let t = std::time::Instant::now();
                matmul_b_rows(&mut c, m, n, k, &a, a_rs, a_cs, &b, n, false);
                tiles = tiles.min(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                crate::kernels::matmul(&mut c, m, n, k, &a, a_rs, a_cs, &b, n, 1, false);
                gemm = gemm.min(t.elapsed().as_secs_f64());
            }
            let flop = 2.0 * (m * n * k) as f64;
            eprintln!(
                "{name:12} tiles {:6.1} GFLOP/s   gemm {:6.1} GFLOP/s",
                flop / tiles / 1e9,
                flop / gemm / 1e9
            );
        }
    }
}

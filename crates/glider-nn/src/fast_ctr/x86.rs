//! The attention kernels of [`super::attend_block`] with x86 intrinsics (AutoInt, Song et al.
//! 2019, spec 3.4): one body, generic over a register of [`Lanes::WIDTH`] f32 lanes, compiled
//! for AVX-512 (16 lanes: a lane vector of [`LANES`] rows in one register) and for AVX2 with
//! FMA (8 lanes: each lane vector in two passes). The per-row products are small matrix
//! products computed in register tiles (two output rows by up to eight output columns) with
//! fused multiply-adds, so the last bits may differ from the portable loops'; the softmax uses
//! the same operations as [`super::exp_nonpositive`] in the same order, so the same bits.

#![allow(clippy::too_many_arguments)]

use std::arch::x86_64::*;

use super::LANES;

/// One register of [`Lanes::WIDTH`] f32 lanes in an instruction set. Every method is
/// `unsafe`: the CPU must have the instruction set ([`Avx512`]: AVX-512F; [`Avx2`]: AVX2 and
/// FMA), and pointers must be valid for [`Lanes::WIDTH`] reads or writes.
trait Lanes: Copy {
    /// Lanes in one register (a divisor of [`LANES`]).
    const WIDTH: usize;
    /// Output columns a register tile keeps, by two rows (AVX-512 has 32 registers, so 2 × 8
    /// sums; AVX2 has 16, so 2 × 4).
    const GROUP: usize;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn splat(v: f32) -> Self;
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn sub(self, o: Self) -> Self;
    unsafe fn mul(self, o: Self) -> Self;
    unsafe fn max(self, o: Self) -> Self;
    unsafe fn div(self, o: Self) -> Self;
    /// `self · o + acc`, fused (one rounding).
    unsafe fn fma(self, o: Self, acc: Self) -> Self;
    /// `2^n` for lanes holding integers `n` in `[-127, 127]` (built in the exponent bits).
    unsafe fn pow2(self) -> Self;
    /// `self` where `gate > 0`, else 0 (ReLU's gradient).
    unsafe fn keep_where_positive(self, gate: Self) -> Self;
    /// `rows ≤ LANES` rows of `width` values, `stride` apart in `src`, into the lane layout
    /// `dst: [width, LANES]`, missing rows zero.
    unsafe fn to_lanes(src: &[f32], rows: usize, stride: usize, width: usize, dst: &mut [f32]);
    /// The inverse of [`Lanes::to_lanes`]: `src: [width, LANES]` into `rows` rows of `width`
    /// values, `stride` apart in `dst`.
    unsafe fn from_lanes(src: &[f32], width: usize, dst: &mut [f32], rows: usize, stride: usize);
}

/// Sixteen lanes in one AVX-512 register.
#[derive(Clone, Copy)]
struct Avx512(__m512);

/// Eight lanes in one AVX2 register.
#[derive(Clone, Copy)]
struct Avx2(__m256);

/// The methods of [`Lanes`] that are one intrinsic each, given the intrinsics: load, store,
/// splat, add, subtract, multiply, maximum, divide and fused multiply-add.
macro_rules! lanes_arithmetic {
    ($load:ident, $store:ident, $splat:ident, $add:ident, $sub:ident, $mul:ident, $max:ident,
     $div:ident, $fma:ident) => {
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Self($load(p))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            $store(p, self.0)
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Self($splat(v))
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            Self($add(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            Self($sub(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            Self($mul(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            Self($max(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn div(self, o: Self) -> Self {
            Self($div(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn fma(self, o: Self, acc: Self) -> Self {
            Self($fma(self.0, o.0, acc.0))
        }
    };
}

impl Lanes for Avx512 {
    const WIDTH: usize = 16;
    const GROUP: usize = 8;
    lanes_arithmetic!(
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_add_ps,
        _mm512_sub_ps,
        _mm512_mul_ps,
        _mm512_max_ps,
        _mm512_div_ps,
        _mm512_fmadd_ps
    );
    #[inline(always)]
    unsafe fn pow2(self) -> Self {
        Self(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(
            _mm512_add_epi32(_mm512_cvttps_epi32(self.0), _mm512_set1_epi32(127)),
        )))
    }
    #[inline(always)]
    unsafe fn keep_where_positive(self, gate: Self) -> Self {
        let keep = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(gate.0, _mm512_setzero_ps());
        Self(_mm512_maskz_mov_ps(keep, self.0))
    }
    #[inline(always)]
    unsafe fn to_lanes(src: &[f32], rows: usize, stride: usize, width: usize, dst: &mut [f32]) {
        check_lanes(src.len(), rows, stride, width, dst.len());
        let full = width / 16 * 16;
        let mut r = [_mm512_setzero_ps(); 16];
        for t0 in (0..full).step_by(16) {
            for (l, v) in r.iter_mut().enumerate() {
                *v = if l < rows {
                    _mm512_loadu_ps(src.as_ptr().add(l * stride + t0))
                } else {
                    _mm512_setzero_ps()
                };
            }
            transpose16(&mut r);
            for (t, v) in r.iter().enumerate() {
                _mm512_storeu_ps(dst.as_mut_ptr().add((t0 + t) * 16), *v);
            }
        }
        scalar_tail_to_lanes(src, rows, stride, width, dst, full);
    }
    #[inline(always)]
    unsafe fn from_lanes(src: &[f32], width: usize, dst: &mut [f32], rows: usize, stride: usize) {
        check_lanes(dst.len(), rows, stride, width, src.len());
        let full = width / 16 * 16;
        let mut r = [_mm512_setzero_ps(); 16];
        for t0 in (0..full).step_by(16) {
            for (t, v) in r.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(src.as_ptr().add((t0 + t) * 16));
            }
            transpose16(&mut r);
            for (l, v) in r.iter().enumerate().take(rows) {
                _mm512_storeu_ps(dst.as_mut_ptr().add(l * stride + t0), *v);
            }
        }
        scalar_tail_from_lanes(src, width, dst, rows, stride, full);
    }
}

impl Lanes for Avx2 {
    const WIDTH: usize = 8;
    const GROUP: usize = 4;
    lanes_arithmetic!(
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_add_ps,
        _mm256_sub_ps,
        _mm256_mul_ps,
        _mm256_max_ps,
        _mm256_div_ps,
        _mm256_fmadd_ps
    );
    #[inline(always)]
    unsafe fn pow2(self) -> Self {
        Self(_mm256_castsi256_ps(_mm256_slli_epi32::<23>(
            _mm256_add_epi32(_mm256_cvttps_epi32(self.0), _mm256_set1_epi32(127)),
        )))
    }
    #[inline(always)]
    unsafe fn keep_where_positive(self, gate: Self) -> Self {
        let keep = _mm256_cmp_ps::<_CMP_GT_OQ>(gate.0, _mm256_setzero_ps());
        Self(_mm256_and_ps(keep, self.0))
    }
    #[inline(always)]
    unsafe fn to_lanes(src: &[f32], rows: usize, stride: usize, width: usize, dst: &mut [f32]) {
        check_lanes(src.len(), rows, stride, width, dst.len());
        let full = width / 8 * 8;
        let mut r = [_mm256_setzero_ps(); 8];
        for t0 in (0..full).step_by(8) {
            // Rows 0–7 fill lanes 0–7 of the eight lane vectors t0..t0 + 8, rows 8–15 the rest.
            for half in 0..2 {
                for (i, v) in r.iter_mut().enumerate() {
                    let l = half * 8 + i;
                    *v = if l < rows {
                        _mm256_loadu_ps(src.as_ptr().add(l * stride + t0))
                    } else {
                        _mm256_setzero_ps()
                    };
                }
                transpose8(&mut r);
                for (t, v) in r.iter().enumerate() {
                    _mm256_storeu_ps(dst.as_mut_ptr().add((t0 + t) * 16 + half * 8), *v);
                }
            }
        }
        scalar_tail_to_lanes(src, rows, stride, width, dst, full);
    }
    #[inline(always)]
    unsafe fn from_lanes(src: &[f32], width: usize, dst: &mut [f32], rows: usize, stride: usize) {
        check_lanes(dst.len(), rows, stride, width, src.len());
        let full = width / 8 * 8;
        let mut r = [_mm256_setzero_ps(); 8];
        for t0 in (0..full).step_by(8) {
            for half in 0..2 {
                if half * 8 >= rows {
                    break;
                }
                for (t, v) in r.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(src.as_ptr().add((t0 + t) * 16 + half * 8));
                }
                transpose8(&mut r);
                for (i, v) in r.iter().enumerate() {
                    let l = half * 8 + i;
                    if l < rows {
                        _mm256_storeu_ps(dst.as_mut_ptr().add(l * stride + t0), *v);
                    }
                }
            }
        }
        scalar_tail_from_lanes(src, width, dst, rows, stride, full);
    }
}

/// Checks the bounds of a transpose between `rows` rows of `width` values, `stride` apart in
/// a buffer of `rows_len` values, and a lane buffer of `lanes_len` values.
#[inline(always)]
fn check_lanes(rows_len: usize, rows: usize, stride: usize, width: usize, lanes_len: usize) {
    assert!(
        rows <= LANES
            && width <= stride
            && lanes_len >= width * LANES
            && (rows == 0 || (rows - 1) * stride + width <= rows_len),
        "lane buffers of the wrong size"
    );
}

/// Columns `full..width` of [`Lanes::to_lanes`], one value at a time.
#[inline(always)]
fn scalar_tail_to_lanes(
    src: &[f32],
    rows: usize,
    stride: usize,
    width: usize,
    dst: &mut [f32],
    full: usize,
) {
    for t in full..width {
        for l in 0..LANES {
            dst[t * LANES + l] = if l < rows { src[l * stride + t] } else { 0.0 };
        }
    }
}

/// Columns `full..width` of [`Lanes::from_lanes`], one value at a time.
#[inline(always)]
fn scalar_tail_from_lanes(
    src: &[f32],
    width: usize,
    dst: &mut [f32],
    rows: usize,
    stride: usize,
    full: usize,
) {
    for t in full..width {
        for l in 0..rows {
            dst[l * stride + t] = src[t * LANES + l];
        }
    }
}

/// `f` fields of `rows` rows (`src: [rows, F, width]`) into the padded lane layout
/// `dst: [F, width + 1, LANES]`: each field one lane vector longer than its values, so that
/// fields do not lie a power of two bytes apart (which maps them onto the same cache sets).
#[inline(always)]
unsafe fn fields_to_lanes<V: Lanes>(
    src: &[f32],
    rows: usize,
    f: usize,
    width: usize,
    dst: &mut [f32],
) {
    let field = (width + 1) * LANES;
    for i in 0..f {
        V::to_lanes(
            &src[i * width..],
            rows,
            f * width,
            width,
            &mut dst[i * field..(i + 1) * field],
        );
    }
}

/// The inverse of [`fields_to_lanes`].
#[inline(always)]
unsafe fn fields_from_lanes<V: Lanes>(
    src: &[f32],
    f: usize,
    width: usize,
    dst: &mut [f32],
    rows: usize,
) {
    let field = (width + 1) * LANES;
    for i in 0..f {
        V::from_lanes(
            &src[i * field..(i + 1) * field],
            width,
            &mut dst[i * width..],
            rows,
            f * width,
        );
    }
}

/// Transposes the 16×16 tile held in `r` (row `i` in `r[i]`) in registers.
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline(always)]
unsafe fn transpose16(r: &mut [__m512; 16]) {
    let mut t = *r;
    // 32-bit pairs, then 64-bit quads, within each 128-bit lane.
    for k in 0..8 {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    let pd = _mm512_castps_pd;
    let ps = _mm512_castpd_ps;
    for k in 0..4 {
        let (a, b, c, d) = (t[4 * k], t[4 * k + 1], t[4 * k + 2], t[4 * k + 3]);
        r[4 * k] = ps(_mm512_unpacklo_pd(pd(a), pd(c)));
        r[4 * k + 1] = ps(_mm512_unpackhi_pd(pd(a), pd(c)));
        r[4 * k + 2] = ps(_mm512_unpacklo_pd(pd(b), pd(d)));
        r[4 * k + 3] = ps(_mm512_unpackhi_pd(pd(b), pd(d)));
    }
    // 128-bit lanes: rows 4k..4k+3 now hold 4×4 blocks; gather them across the four groups.
    for k in 0..4 {
        t[k] = _mm512_shuffle_f32x4::<0x88>(r[k], r[k + 4]);
        t[k + 4] = _mm512_shuffle_f32x4::<0xdd>(r[k], r[k + 4]);
        t[k + 8] = _mm512_shuffle_f32x4::<0x88>(r[k + 8], r[k + 12]);
        t[k + 12] = _mm512_shuffle_f32x4::<0xdd>(r[k + 8], r[k + 12]);
    }
    for k in 0..4 {
        r[k] = _mm512_shuffle_f32x4::<0x88>(t[k], t[k + 8]);
        r[k + 8] = _mm512_shuffle_f32x4::<0xdd>(t[k], t[k + 8]);
        r[k + 4] = _mm512_shuffle_f32x4::<0x88>(t[k + 4], t[k + 12]);
        r[k + 12] = _mm512_shuffle_f32x4::<0xdd>(t[k + 4], t[k + 12]);
    }
}

/// Transposes the 8×8 tile held in `r` (row `i` in `r[i]`) in registers.
///
/// # Safety
/// The CPU must have AVX.
#[inline(always)]
unsafe fn transpose8(r: &mut [__m256; 8]) {
    let mut t = [_mm256_setzero_ps(); 8];
    // Pairs of rows interleaved within each 128-bit half.
    for k in 0..4 {
        t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    // 4×4 blocks within each half: rows 0–3 from t[0..4], rows 4–7 from t[4..8].
    let mut s = [_mm256_setzero_ps(); 8];
    for g in 0..2 {
        let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
        s[4 * g] = _mm256_shuffle_ps::<0x44>(a, c);
        s[4 * g + 1] = _mm256_shuffle_ps::<0xee>(a, c);
        s[4 * g + 2] = _mm256_shuffle_ps::<0x44>(b, d);
        s[4 * g + 3] = _mm256_shuffle_ps::<0xee>(b, d);
    }
    // The 128-bit halves: low halves give columns 0–3, high halves columns 4–7.
    for k in 0..4 {
        r[k] = _mm256_permute2f128_ps::<0x20>(s[k], s[k + 4]);
        r[k + 4] = _mm256_permute2f128_ps::<0x31>(s[k], s[k + 4]);
    }
}

/// Runs `$body` over register tiles covering `rows × cols` outputs: `$i..$i + $r` rows
/// (`$r` = 2, then 1 for an odd last row) by `$j..$j + $n` columns (`$n` = 8 where `$v` keeps
/// 8, then 4, 2, 1), `$r` and `$n` constants in each.
macro_rules! tiled {
    ($v:ty, $rows:expr, $cols:expr, $i:ident, $r:ident, $j:ident, $n:ident, $body:block) => {{
        let (rows, cols) = ($rows, $cols);
        let mut $i = 0;
        while $i + 2 <= rows {
            const $r: usize = 2;
            tiled!(@cols $v, cols, $j, $n, $body);
            $i += 2;
        }
        if $i < rows {
            const $r: usize = 1;
            tiled!(@cols $v, cols, $j, $n, $body);
        }
    }};
    (@cols $v:ty, $cols:expr, $j:ident, $n:ident, $body:block) => {{
        let mut $j = 0;
        while <$v as Lanes>::GROUP >= 8 && $j + 8 <= $cols {
            const $n: usize = 8;
            $body
            $j += 8;
        }
        while $j + 4 <= $cols {
            const $n: usize = 4;
            $body
            $j += 4;
        }
        if $j + 2 <= $cols {
            const $n: usize = 2;
            $body
            $j += 2;
        }
        if $j < $cols {
            const $n: usize = 1;
            $body
        }
    }};
}

/// One register tile of lane-wise sums: `out(r, t) = Σ_{u < len} x(r, u) ⊙ y(u, t)` for
/// `r < R`, `t < N`, `u` ascending, with fused multiply-adds, over the [`LANES`] lanes in
/// passes of [`Lanes::WIDTH`]. Each `y` load serves `R` rows and each `x` load `N` columns.
///
/// # Safety
/// As [`Lanes`]; every pointer `x` and `y` give must be valid for [`LANES`] reads and every
/// `out` for [`LANES`] writes.
#[inline(always)]
unsafe fn tile<V: Lanes, const R: usize, const N: usize>(
    len: usize,
    x: impl Fn(usize, usize) -> *const f32,
    y: impl Fn(usize, usize) -> *const f32,
    out: impl Fn(usize, usize) -> *mut f32,
) {
    for half in (0..LANES).step_by(V::WIDTH) {
        let mut acc = [[V::splat(0.0); N]; R];
        for u in 0..len {
            let mut xs = [V::splat(0.0); R];
            for (r, xv) in xs.iter_mut().enumerate() {
                *xv = V::load(x(r, u).add(half));
            }
            for t in 0..N {
                let yv = V::load(y(u, t).add(half));
                for r in 0..R {
                    acc[r][t] = xs[r].fma(yv, acc[r][t]);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (t, a) in row.iter().enumerate() {
                a.store(out(r, t).add(half));
            }
        }
    }
}

/// [`super::softmax_lanes`] over `f` lane vectors at `row`: the same operations as
/// [`super::exp_nonpositive`] and the same order of sums, so the same bits.
///
/// # Safety
/// As [`Lanes`]; `row` must be valid for `LANES · f` reads and writes.
#[inline(always)]
unsafe fn softmax<V: Lanes>(row: *mut f32, f: usize) {
    let c = |v: f32| V::splat(v);
    for half in (0..LANES).step_by(V::WIDTH) {
        let at = |j: usize| row.add(j * LANES + half);
        let mut max = c(f32::NEG_INFINITY);
        for j in 0..f {
            max = max.max(V::load(at(j)));
        }
        let mut sum = c(0.0);
        for j in 0..f {
            let x = V::load(at(j)).sub(max).max(c(-87.0));
            let round = c(12_582_912.0);
            let n = x.mul(c(std::f32::consts::LOG2_E)).add(round).sub(round);
            let r = x.sub(n.mul(c(0.693_145_75))).sub(n.mul(c(1.428_606_8e-6)));
            let mut p = c(1.0 / 5040.0);
            for coef in [
                1.0 / 720.0,
                1.0 / 120.0,
                1.0 / 24.0,
                1.0 / 6.0,
                0.5,
                1.0,
                1.0,
            ] {
                p = c(coef).add(r.mul(p));
            }
            let e = p.mul(n.pow2());
            e.store(at(j));
            sum = sum.add(e);
        }
        let inv = c(1.0).div(sum);
        for j in 0..f {
            V::load(at(j)).mul(inv).store(at(j));
        }
    }
}

/// [`super::attend_block`] in registers of `V`.
///
/// # Safety
/// As [`Lanes`]; the buffers' lengths are checked before any pointer arithmetic.
#[inline(always)]
unsafe fn attend<V: Lanes>(
    p: &[f32],
    o: &mut [f32],
    at: &mut [f32],
    pt: &mut [f32],
    ot: &mut [f32],
    f: usize,
    a: usize,
    heads: usize,
) {
    const W: usize = LANES;
    let s4 = 4 * a;
    let (ps, pa) = (s4 + 1, a + 1);
    let dh = a / heads;
    assert!(
        pt.len() == f * ps * W
            && ot.len() == f * pa * W
            && at.len() == heads * f * f * W
            && dh * heads == a
            && p.len() <= W * f * s4
            && p.len().is_multiple_of(f * s4)
            && o.len() * 4 == p.len(),
        "attention block buffers of the wrong size"
    );
    let rows = p.len() / (f * s4);
    fields_to_lanes::<V>(p, rows, f, s4, pt);
    let ptp = pt.as_ptr();
    let kv = |j: usize, part: usize, c: usize| ptp.add((j * ps + part * a + c) * W);
    let op = ot.as_mut_ptr();
    for h in 0..heads {
        let c0 = h * dh;
        let sp = at.as_mut_ptr().add(h * f * f * W);
        let s = |i: usize, j: usize| sp.add((i * f + j) * W);
        // scores_ij = ⟨q_i, k_j⟩ over the head's columns.
        tiled!(V, f, f, i, R, j, N, {
            tile::<V, R, N>(
                dh,
                |r, c| kv(i + r, 0, c0 + c),
                |c, t| kv(j + t, 1, c0 + c),
                |r, t| s(i + r, j + t),
            );
        });
        for i in 0..f {
            softmax::<V>(s(i, 0), f);
        }
        // out_i = Σ_j a_ij v_j.
        tiled!(V, f, dh, i, R, c, N, {
            tile::<V, R, N>(
                f,
                |r, j| s(i + r, j).cast_const(),
                |j, t| kv(j, 2, c0 + c + t),
                |r, t| op.add(((i + r) * pa + c0 + c + t) * W),
            );
        });
    }
    // The residual and ReLU: out += R, then max(0).
    for i in 0..f {
        for c in 0..a {
            let (r, x) = (kv(i, 3, c), op.add((i * pa + c) * W));
            for half in (0..W).step_by(V::WIDTH) {
                V::load(x.add(half))
                    .add(V::load(r.add(half)))
                    .max(V::splat(0.0))
                    .store(x.add(half));
            }
        }
    }
    fields_from_lanes::<V>(ot, f, a, o, rows);
}

/// [`super::attend_block_backward`] in registers of `V`, as [`attend`].
///
/// # Safety
/// As [`Lanes`]; the buffers' lengths are checked before any pointer arithmetic.
#[inline(always)]
unsafe fn attend_backward<V: Lanes>(
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
    const W: usize = LANES;
    let s4 = 4 * a;
    let (ps, pa) = (s4 + 1, a + 1);
    let dh = a / heads;
    assert!(
        pt.len() == f * ps * W
            && gt.len() == f * ps * W
            && dt.len() == f * pa * W
            && datt.len() >= f * f * W
            && at.len() == heads * f * f * W
            && dh * heads == a
            && p.len() <= W * f * s4
            && p.len().is_multiple_of(f * s4)
            && g.len() == p.len()
            && o.len() * 4 == p.len()
            && dx.len() == o.len(),
        "attention block buffers of the wrong size"
    );
    let rows = p.len() / (f * s4);
    fields_to_lanes::<V>(p, rows, f, s4, pt);
    // ReLU's gradient in the row layout (contiguous; `gt` is free until the sums below
    // overwrite every slot of it), then into lanes.
    {
        let n = dx.len();
        let masked = &mut gt[..n];
        let full = n / V::WIDTH * V::WIDTH;
        for t in (0..full).step_by(V::WIDTH) {
            V::load(dx.as_ptr().add(t))
                .keep_where_positive(V::load(o.as_ptr().add(t)))
                .store(masked.as_mut_ptr().add(t));
        }
        for t in full..n {
            masked[t] = if o[t] > 0.0 { dx[t] } else { 0.0 };
        }
        fields_to_lanes::<V>(&gt[..n], rows, f, a, dt);
    }
    // The residual projection's gradient is the pre-activation's.
    for i in 0..f {
        for c in 0..a {
            let gb = (i * ps + 3 * a + c) * W;
            gt[gb..gb + W].copy_from_slice(&dt[(i * pa + c) * W..(i * pa + c + 1) * W]);
        }
    }
    let ptp = pt.as_ptr();
    let dtp = dt.as_ptr();
    let gtp = gt.as_mut_ptr();
    // ds: [F, F, W] for the head, first holding datt.
    let dsp = datt.as_mut_ptr();
    let ds = |i: usize, j: usize| dsp.add((i * f + j) * W);
    let kv = |j: usize, part: usize, c: usize| (j * ps + part * a + c) * W;
    for h in 0..heads {
        let c0 = h * dh;
        let at0 = at.as_ptr().add(h * f * f * W);
        let aw = |i: usize, j: usize| at0.add((i * f + j) * W);
        // datt_ij = ⟨dpre_i, v_j⟩ over the head's columns.
        tiled!(V, f, f, i, R, j, N, {
            tile::<V, R, N>(
                dh,
                |r, c| dtp.add(((i + r) * pa + c0 + c) * W),
                |c, t| ptp.add(kv(j + t, 2, c0 + c)),
                |r, t| ds(i + r, j + t),
            );
        });
        // Softmax: ds_ij = a_ij (datt_ij − Σ_j' a_ij' datt_ij').
        for i in 0..f {
            for half in (0..W).step_by(V::WIDTH) {
                let mut mean = V::splat(0.0);
                for j in 0..f {
                    mean = V::load(aw(i, j).add(half)).fma(V::load(ds(i, j).add(half)), mean);
                }
                for j in 0..f {
                    let d = V::load(ds(i, j).add(half)).sub(mean);
                    V::load(aw(i, j).add(half)).mul(d).store(ds(i, j).add(half));
                }
            }
        }
        // dQ_i = Σ_j ds_ij K_j, dK_j = Σ_i ds_ij Q_i, dV_j = Σ_i a_ij dpre_i; the gradient
        // slots start at zero, so each sum is stored.
        let ds0 = |i: usize, j: usize| ds(i, j).cast_const();
        tiled!(V, f, dh, o, R, c, N, {
            tile::<V, R, N>(
                f,
                |r, u| ds0(o + r, u),
                |u, t| ptp.add(kv(u, 1, c0 + c + t)),
                |r, t| gtp.add(kv(o + r, 0, c0 + c + t)),
            );
            tile::<V, R, N>(
                f,
                |r, u| ds0(u, o + r),
                |u, t| ptp.add(kv(u, 0, c0 + c + t)),
                |r, t| gtp.add(kv(o + r, 1, c0 + c + t)),
            );
            tile::<V, R, N>(
                f,
                |r, u| aw(u, o + r),
                |u, t| dtp.add((u * pa + c0 + c + t) * W),
                |r, t| gtp.add(kv(o + r, 2, c0 + c + t)),
            );
        });
    }
    fields_from_lanes::<V>(gt, f, s4, g, rows);
}

/// Which x86 kernels this CPU runs, if any (checked once per call; the check is cached by
/// the standard library).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Isa {
    /// AVX-512F: one 16-lane register per lane vector.
    Avx512,
    /// AVX2 with FMA: two 8-lane registers per lane vector.
    Avx2,
}

/// The best instruction set of this CPU for the attention kernels, `None` below AVX2 + FMA.
pub(super) fn isa() -> Option<Isa> {
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(Isa::Avx512)
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        Some(Isa::Avx2)
    } else {
        None
    }
}

/// Runs `$call` with `$v` bound to the lane type of `$isa`, inside a function compiled for
/// that instruction set.
macro_rules! for_isa {
    ($isa:expr, fn($($arg:ident: $ty:ty),*), $v:ident => $call:expr) => {{
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512($($arg: $ty),*) {
            type $v = Avx512;
            $call
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2($($arg: $ty),*) {
            type $v = Avx2;
            $call
        }
        // SAFETY: `$isa` came from `isa()`, so the CPU has the instruction set; the kernels
        // check every buffer's length before their pointer arithmetic.
        match $isa {
            Isa::Avx512 => unsafe { avx512($($arg),*) },
            Isa::Avx2 => unsafe { avx2($($arg),*) },
        }
    }};
}

/// [`super::attend_block`] with the kernels of `isa`.
pub(super) fn attend_block(
    isa: Isa,
    p: &[f32],
    o: &mut [f32],
    at: &mut [f32],
    pt: &mut [f32],
    ot: &mut [f32],
    f: usize,
    a: usize,
    heads: usize,
) {
    for_isa!(isa, fn(p: &[f32], o: &mut [f32], at: &mut [f32], pt: &mut [f32], ot: &mut [f32],
        f: usize, a: usize, heads: usize), V => attend::<V>(p, o, at, pt, ot, f, a, heads))
}

/// [`super::attend_block_backward`] with the kernels of `isa`.
pub(super) fn attend_block_backward(
    isa: Isa,
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
    for_isa!(isa, fn(g: &mut [f32], dx: &[f32], o: &[f32], at: &[f32], p: &[f32],
        pt: &mut [f32], gt: &mut [f32], dt: &mut [f32], datt: &mut [f32], f: usize, a: usize,
        heads: usize),
        V => attend_backward::<V>(g, dx, o, at, p, pt, gt, dt, datt, f, a, heads))
}

/// [`super::softmax_lanes`] over `f` lane vectors of `row` with the kernels of `isa`.
#[cfg(test)]
pub(super) fn softmax_lanes(isa: Isa, row: &mut [f32], f: usize) {
    assert!(row.len() >= f * LANES, "softmax row too short");
    let row = row.as_mut_ptr();
    for_isa!(isa, fn(row: *mut f32, f: usize), V => softmax::<V>(row, f))
}

/// [`super::to_lanes`] with `isa`'s register transposes.
#[cfg(test)]
pub(super) fn to_lanes(isa: Isa, src: &[f32], width: usize, dst: &mut [f32]) {
    let rows = src.len() / width;
    for_isa!(isa, fn(src: &[f32], rows: usize, width: usize, dst: &mut [f32]),
        V => V::to_lanes(src, rows, width, width, dst))
}

/// [`super::from_lanes`] with `isa`'s register transposes.
#[cfg(test)]
pub(super) fn from_lanes(isa: Isa, src: &[f32], width: usize, dst: &mut [f32]) {
    let rows = dst.len() / width;
    for_isa!(isa, fn(src: &[f32], width: usize, dst: &mut [f32], rows: usize),
        V => V::from_lanes(src, width, dst, rows, width))
}

/// Every instruction set of [`Isa`] this CPU has, best first (for the tests, which compare
/// each with the portable loops).
#[cfg(test)]
pub(super) fn available() -> Vec<Isa> {
    let mut all = Vec::new();
    if std::arch::is_x86_feature_detected!("avx512f") {
        all.push(Isa::Avx512);
    }
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        all.push(Isa::Avx2);
    }
    all
}

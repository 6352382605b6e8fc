//! The embedding table, kept outside autodiff and updated only on the rows a batch touches
//! ("lazy" Adam, as TensorFlow's LazyAdam and PyTorch's SparseAdam; or Adagrad).
//!
//! ../shared/notes/rust-deps.md §2 measured this pattern 17× faster than a dense update at
//! 1M rows. Rows that must stay zero (each categorical field's missing id, spec 3.1) are never
//! updated.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which optimiser updates the embedding rows (and, in the trainer, the dense parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (beta1 0.9, beta2 0.999, eps 1e-8), bias-corrected with the global step.
    #[default]
    Adam,
    /// Adagrad (eps 1e-10, initial accumulator 0).
    Adagrad,
}

/// A `[rows, dim]` embedding table with optimiser state.
#[derive(Clone, Debug)]
pub struct EmbeddingTable {
    /// Number of rows.
    pub rows: usize,
    /// Width of a row.
    pub dim: usize,
    /// `rows * dim` values, row-major.
    pub values: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    frozen: Vec<bool>,
    step: u64,
    kind: OptimizerKind,
}

impl EmbeddingTable {
    /// A table drawn from N(0, `std`^2) with `rng` (Box-Muller); `zero_rows` start at zero and
    /// are never updated.
    pub fn new(
        rows: usize,
        dim: usize,
        std: f32,
        zero_rows: &[usize],
        kind: OptimizerKind,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        Self::with_pages(rows, dim, std, zero_rows, kind, rng, true)
    }

    /// [`EmbeddingTable::new`], its three arrays on huge pages ([`buffer`]) only when
    /// `huge` (the timing test compares both).
    fn with_pages(
        rows: usize,
        dim: usize,
        std: f32,
        zero_rows: &[usize],
        kind: OptimizerKind,
        rng: &mut ChaCha8Rng,
        huge: bool,
    ) -> Self {
        let mut values = buffer(rows * dim, |_| std * normal(rng), huge);
        let mut frozen = vec![false; rows];
        for &r in zero_rows {
            if r < rows {
                frozen[r] = true;
                values[r * dim..(r + 1) * dim].fill(0.0);
            }
        }
        EmbeddingTable {
            rows,
            dim,
            values,
            m: buffer(rows * dim, |_| 0.0, huge),
            v: buffer(rows * dim, |_| 0.0, huge),
            frozen,
            step: 0,
            kind,
        }
    }

    /// Sets columns `cols` of the rows `rows` to zero (rows and columns past the table are
    /// ignored); the rows stay trainable.
    pub fn zero_block(&mut self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
        let cols = cols.start.min(self.dim)..cols.end.min(self.dim);
        for r in rows.start..rows.end.min(self.rows) {
            self.values[r * self.dim + cols.start..r * self.dim + cols.end].fill(0.0);
        }
    }

    /// Gathers `scale[i] * table[rows[i]]` for every cell into a `[cells * dim]` buffer.
    ///
    /// # Errors
    /// [`crate::NnError::Shape`] when a row is outside the table.
    pub fn gather_scaled(
        &self,
        rows: &[u32],
        scales: &[f32],
        out: &mut Vec<f32>,
    ) -> Result<(), crate::NnError> {
        gather_scaled(&self.values, self.dim, rows, scales, out)
    }

    /// One optimiser step from the gradient with respect to the gathered, scaled cells
    /// (`grad_cells: [cells * dim]`). The row gradient is `Σ scale · grad` over the cells that
    /// selected the row; only those rows (and their optimiser state) change.
    pub fn step(&mut self, rows: &[u32], scales: &[f32], grad_cells: &[f32], lr: f32) {
        use rayon::prelude::*;
        self.step += 1;
        let dim = self.dim;
        // (row, cell) keys, distinct, so the order is the same whatever the sort's split; plain
        // integers sort several times faster than a key read through `rows`.
        let mut keys: Vec<u64> = rows
            .iter()
            .enumerate()
            .map(|(cell, &r)| (u64::from(r) << 32) | cell as u64)
            .collect();
        keys.par_sort_unstable();
        // The i-th cell in (row, cell) order, and its row.
        let cell_of = |i: usize| (keys[i] & u64::from(u32::MAX)) as usize;
        let row_of = |i: usize| (keys[i] >> 32) as usize;
        // Cut the sorted cells into one run per thread at row boundaries: each run updates
        // its own rows, so the runs go in parallel and every row's update is the same
        // arithmetic as on one thread.
        let n = keys.len();
        let parts = rayon::current_num_threads().clamp(1, n.max(1));
        let mut bounds = vec![0usize];
        for p in 1..parts {
            let mut i = (n * p / parts).max(*bounds.last().unwrap_or(&0));
            while i > 0 && i < n && row_of(i) == row_of(i - 1) {
                i += 1;
            }
            if i < n && i > *bounds.last().unwrap_or(&0) {
                bounds.push(i);
            }
        }
        bounds.push(n);
        // Each run's slices of the table and its state start at the run's first row.
        let mut runs = Vec::with_capacity(bounds.len() - 1);
        let (mut values, mut m, mut v) = (
            self.values.as_mut_slice(),
            self.m.as_mut_slice(),
            self.v.as_mut_slice(),
        );
        let mut first_row = 0usize;
        for w in bounds.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let next_row = if hi < n { row_of(hi) } else { self.rows };
            let take = (next_row - first_row) * dim;
            let (cur_v, cur_m, cur_s) = (
                std::mem::take(&mut values),
                std::mem::take(&mut m),
                std::mem::take(&mut v),
            );
            let (va, vb) = cur_v.split_at_mut(take.min(cur_v.len()));
            let (ma, mb) = cur_m.split_at_mut(take.min(cur_m.len()));
            let (sa, sb) = cur_s.split_at_mut(take.min(cur_s.len()));
            runs.push((lo, hi, first_row, va, ma, sa));
            values = vb;
            m = mb;
            v = sb;
            first_row = next_row;
        }
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let t = self.step as i32;
        let c1 = 1.0 - b1.powi(t);
        let c2 = 1.0 - b2.powi(t);
        let frozen = &self.frozen;
        let kind = self.kind;
        const PREFETCH: usize = 16;
        runs.into_par_iter()
            .for_each(|(lo, hi, base, values, m_run, v_run)| {
                let mut g = vec![0f32; dim];
                let mut i = lo;
                while i < hi {
                    let row = row_of(i);
                    g.fill(0.0);
                    let mut j = i;
                    while j < hi && row_of(j) == row {
                        let cell = cell_of(j);
                        // The table rows and gradient cells a few cells ahead: random reads
                        // from a table far larger than the caches, started early.
                        if j + PREFETCH < hi {
                            let ahead = cell_of(j + PREFETCH);
                            let r = row_of(j + PREFETCH) - base;
                            for buf in [&*values, &*m_run, &*v_run] {
                                prefetch_span(&buf[r * dim..(r + 1) * dim]);
                            }
                            prefetch_span(&grad_cells[ahead * dim..(ahead + 1) * dim]);
                        }
                        let s = scales[cell];
                        if s != 0.0 {
                            for (gk, &dk) in
                                g.iter_mut().zip(&grad_cells[cell * dim..(cell + 1) * dim])
                            {
                                *gk += s * dk;
                            }
                        }
                        j += 1;
                    }
                    i = j;
                    if frozen[row] {
                        continue;
                    }
                    let range = (row - base) * dim..(row - base + 1) * dim;
                    let values = &mut values[range.clone()];
                    let m = &mut m_run[range.clone()];
                    let v = &mut v_run[range];
                    match kind {
                        OptimizerKind::Adam => {
                            for (((x, m), v), &g) in values.iter_mut().zip(m).zip(v).zip(&g) {
                                *m = b1 * *m + (1.0 - b1) * g;
                                *v = b2 * *v + (1.0 - b2) * g * g;
                                *x -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                            }
                        }
                        OptimizerKind::Adagrad => {
                            for ((x, acc), &g) in values.iter_mut().zip(v).zip(&g) {
                                *acc += g * g;
                                *x -= lr * g / (acc.sqrt() + 1e-10);
                            }
                        }
                    }
                }
            });
    }
}

/// A buffer of `len` values (`value(i)` for each, in order); when `huge`, the kernel is asked
/// to back its memory with 2 MiB pages where it can (Linux, `madvise(MADV_HUGEPAGE)`;
/// transparent huge pages in `madvise` mode, the default of most distributions, give them
/// only to regions that ask).
/// The table's step reads and writes random rows of three arrays far larger than the caches;
/// with 4 KiB pages nearly every row also misses the TLB and walks the page tables, and a
/// 2 MiB page covers 512 times as much (`sparse::timing` at 1M rows: the gather took 8-22%
/// less time, the step 3-28% less). Where the kernel says no, nothing changes.
fn buffer(len: usize, value: impl FnMut(usize) -> f32, huge: bool) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(len);
    if huge {
        // Before the first write: the pages are faulted in as huge pages then, not collapsed
        // later.
        advise_huge_pages(v.as_mut_ptr().cast(), len * std::mem::size_of::<f32>());
    }
    v.extend((0..len).map(value));
    v
}

/// See [`buffer`]: the 2 MiB-aligned part of `[ptr, ptr + bytes)`, when there is one.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 2 * HUGE {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize).saturating_add(bytes) / HUGE * HUGE;
    if end > start {
        // SAFETY: `[start, end)` lies inside an allocation this process owns; MADV_HUGEPAGE
        // only changes how the kernel backs those pages, never their contents, and a refusal
        // (an error return, ignored) leaves everything as it was.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _bytes: usize) {}

/// Asks the CPU to bring the cache lines of `span` closer (a hint: no effect on results).
#[inline(always)]
fn prefetch_span(span: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if let (Some(first), Some(last)) = (span.first(), span.last()) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch never faults and changes no memory; the addresses are in `span`.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>((first as *const f32).cast());
            _mm_prefetch::<_MM_HINT_T0>((last as *const f32).cast());
        }
    }
}

/// Gathers `scale[i] * table[rows[i]]` from a row-major `[rows, dim]` table into `out`
/// (`[cells * dim]`): the model input of every recommender, in training and prediction.
///
/// # Errors
/// [`crate::NnError::Shape`] when a row is outside the table.
pub fn gather_scaled(
    table: &[f32],
    dim: usize,
    rows: &[u32],
    scales: &[f32],
    out: &mut Vec<f32>,
) -> Result<(), crate::NnError> {
    use rayon::prelude::*;
    out.clear();
    if dim == 0 {
        return Ok(());
    }
    let n_rows = table.len() / dim;
    if let Some(&r) = rows.iter().find(|&&r| r as usize >= n_rows) {
        return Err(crate::NnError::Shape(format!(
            "embedding row {r} is outside the table"
        )));
    }
    out.resize(rows.len() * dim, 0.0);
    // Cells in chunks over the threads: a plain copy, so any split gives the same values.
    const CHUNK: usize = 2048;
    out.par_chunks_mut(CHUNK * dim)
        .zip(rows.par_chunks(CHUNK))
        .zip(scales.par_chunks(CHUNK))
        .for_each(|((out, rows), scales)| {
            for ((dst, &r), &s) in out.chunks_exact_mut(dim).zip(rows).zip(scales) {
                let r = r as usize;
                for (d, &x) in dst.iter_mut().zip(&table[r * dim..(r + 1) * dim]) {
                    *d = x * s;
                }
            }
        });
    Ok(())
}

/// A standard normal draw (Box-Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn gather_scales_each_cell_and_names_a_row_outside_the_table() {
        // 3 rows of width 2; 5,000 cells so that several chunks run.
        let table = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let rows: Vec<u32> = (0..5000).map(|i| (i * 7 % 3) as u32).collect();
        let scales: Vec<f32> = (0..5000).map(|i| (i % 4) as f32 * 0.5).collect();
        let mut out = vec![9.0; 3];
        gather_scaled(&table, 2, &rows, &scales, &mut out).unwrap();
        assert_eq!(out.len(), 10_000);
        for (i, (&r, &s)) in rows.iter().zip(&scales).enumerate() {
            let r = r as usize;
            assert_eq!(
                out[2 * i..2 * i + 2],
                [table[2 * r] * s, table[2 * r + 1] * s]
            );
        }
        let err = gather_scaled(&table, 2, &[0, 3], &[1.0, 1.0], &mut out).unwrap_err();
        assert!(
            err.to_string()
                .contains("embedding row 3 is outside the table"),
            "{err}"
        );
    }

    #[test]
    fn adagrad_step_sums_duplicate_rows_and_skips_frozen() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut t = EmbeddingTable::new(3, 2, 0.0, &[0], OptimizerKind::Adagrad, &mut rng);
        t.values = vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0];
        // cells: row 1 (scale 1), row 1 (scale 2), row 0 (frozen), row 2 (scale 0.5)
        let rows = [1u32, 1, 0, 2];
        let scales = [1.0f32, 2.0, 1.0, 0.5];
        let grads = [1.0f32, 0.0, 1.0, 1.0, 5.0, 5.0, 2.0, -2.0];
        t.step(&rows, &scales, &grads, 0.1);
        // row 1: g = 1*(1,0) + 2*(1,1) = (3,2); adagrad step = lr * g/|g| = 0.1 each
        assert!((t.values[2] - 0.9).abs() < 1e-6);
        assert!((t.values[3] - 0.9).abs() < 1e-6);
        // row 0 frozen: unchanged zeros
        assert_eq!(&t.values[0..2], &[0.0, 0.0]);
        // row 2: g = 0.5*(2,-2) = (1,-1) → 2 - 0.1, 2 + 0.1
        assert!((t.values[4] - 1.9).abs() < 1e-6);
        assert!((t.values[5] - 2.1).abs() < 1e-6);
    }

    #[test]
    fn a_step_gives_the_same_table_with_one_thread_or_three() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let cells = 5000;
        let rows: Vec<u32> = (0..cells).map(|_| rng.random_range(0..700u32)).collect();
        let scales: Vec<f32> = (0..cells).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let grads: Vec<f32> = (0..cells * 3)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        for kind in [OptimizerKind::Adam, OptimizerKind::Adagrad] {
            let tables: Vec<Vec<f32>> = [1, 3]
                .iter()
                .map(|&threads| {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let mut r = ChaCha8Rng::seed_from_u64(1);
                    let mut t = EmbeddingTable::new(700, 3, 0.1, &[5], kind, &mut r);
                    pool.install(|| {
                        t.step(&rows, &scales, &grads, 0.01);
                        t.step(&rows[..4000], &scales[..4000], &grads[..12000], 0.01);
                    });
                    t.values
                })
                .collect();
            assert_eq!(tables[0], tables[1], "{kind:?}");
            // Rows that no cell selected, and the frozen row, did not move.
            let mut r = ChaCha8Rng::seed_from_u64(1);
            let fresh = EmbeddingTable::new(700, 3, 0.1, &[5], kind, &mut r);
            assert_eq!(tables[0][15..18], fresh.values[15..18]);
            let untouched = (0..700u32).find(|x| !rows.contains(x)).unwrap() as usize;
            assert_eq!(
                tables[0][untouched * 3..untouched * 3 + 3],
                fresh.values[untouched * 3..untouched * 3 + 3]
            );
            assert_ne!(tables[0], fresh.values);
        }
    }

    #[test]
    fn adam_first_step_moves_by_lr_in_the_gradient_sign() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut t = EmbeddingTable::new(1, 2, 0.0, &[], OptimizerKind::Adam, &mut rng);
        t.step(&[0], &[1.0], &[0.3, -4.0], 0.01);
        // Adam's bias-corrected first step is lr * g/|g|.
        assert!((t.values[0] + 0.01).abs() < 1e-6);
        assert!((t.values[1] - 0.01).abs() < 1e-6);
    }
}
#[cfg(test)]
mod timing {
    use super::*;
    use rand::SeedableRng;

    /// The gather and the step of a 1M-row table for batches of 1024 rows × 39 fields (ids
    /// skewed towards the first rows, as in click logs), with and without huge pages, best of
    /// 30 batches each. `cargo test --release -p glider-nn --lib sparse::timing -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore]
    fn table_with_and_without_huge_pages() {
        let (rows, cells) = (1_000_000usize, 1024 * 39);
        let grad: Vec<f32> = (0..cells * 16).map(|i| (i % 7) as f32 * 1e-3).collect();
        let scales = vec![1.0f32; cells];
        for huge in [true, false, true, false] {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut t = EmbeddingTable::with_pages(
                rows,
                16,
                0.01,
                &[],
                OptimizerKind::Adam,
                &mut rng,
                huge,
            );
            let (mut gather, mut step) = (f64::INFINITY, f64::INFINITY);
            let mut out = Vec::new();
            for _ in 0..30 {
                let ids: Vec<u32> = (0..cells)
                    .map(|_| {
                        let u: f64 = rng.random();
                        ((u * u * u) * rows as f64) as u32 % rows as u32
                    })
                    .collect();
                let s = std::time::Instant::now();
                t.gather_scaled(&ids, &scales, &mut out).unwrap();
                gather = gather.min(s.elapsed().as_secs_f64());
                let s = std::time::Instant::now();
                t.step(&ids, &scales, &grad, 1e-3);
                step = step.min(s.elapsed().as_secs_f64());
            }
            eprintln!(
                "huge pages asked {huge}: gather {:.2} ms, step {:.2} ms",
                gather * 1e3,
                step * 1e3
            );
        }
    }
}

//! MADEX perturbations around one instance (ALGORITHMS.md section 3.1): binary field
//! masks where the number of switched-off fields is uniform on 1..=p.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Binary field masks, row-major `num_perturbations x num_fields`: 1 = field kept,
/// 0 = switched off (spec 3.1).
#[derive(Clone, Debug, PartialEq)]
pub struct Masks {
    /// Number of rows (perturbations, row 0 = the instance itself).
    pub num_perturbations: usize,
    /// Number of columns (fields p).
    pub num_fields: usize,
    /// `num_perturbations * num_fields` bits stored as 0/1 bytes.
    pub data: Vec<u8>,
}

impl Masks {
    /// Mask `i` as a slice of `num_fields` 0/1 values.
    ///
    /// # Panics
    /// When `i >= num_perturbations` (an index error, like slice indexing).
    pub fn row(&self, i: usize) -> &[u8] {
        assert!(
            i < self.num_perturbations,
            "mask row {i} out of {} rows",
            self.num_perturbations
        );
        &self.data[i * self.num_fields..(i + 1) * self.num_fields]
    }
}

/// Draws `num_perturbations` field masks over `num_fields` fields (spec 3.1): row 0 is all
/// ones; every other row draws k ~ UniformInt{1..=p} and switches off k distinct fields
/// chosen uniformly (partial Fisher-Yates), so the number switched off is uniform, not
/// binomial. Randomness: `ChaCha8Rng::seed_from_u64(seed)`; deterministic for a seed.
/// With `num_fields == 0` every row is empty.
pub fn field_masks(num_fields: usize, num_perturbations: usize, seed: u64) -> Masks {
    let p = num_fields;
    let mut data = vec![1u8; p * num_perturbations];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx: Vec<usize> = (0..p).collect();
    if p > 0 {
        for row in data.chunks_exact_mut(p).skip(1) {
            let k = rng.random_range(1..=p);
            for (t, v) in idx.iter_mut().enumerate() {
                *v = t;
            }
            for t in 0..k {
                let j = rng.random_range(t..p);
                idx.swap(t, j);
                row[idx[t]] = 0;
            }
        }
    }
    Masks {
        num_perturbations,
        num_fields,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_zero_is_instance_and_rows_switch_off_one_to_p() {
        let m = field_masks(5, 4000, 11);
        assert_eq!(m.data.len(), 5 * 4000);
        assert_eq!(m.row(0), &[1, 1, 1, 1, 1]);
        let mut off_counts = [0usize; 6];
        let mut per_field_off = [0usize; 5];
        for i in 1..4000 {
            let r = m.row(i);
            assert!(r.iter().all(|&b| b <= 1));
            let off = r.iter().filter(|&&b| b == 0).count();
            off_counts[off] += 1;
            for (f, &b) in r.iter().enumerate() {
                per_field_off[f] += usize::from(b == 0);
            }
        }
        // k is never 0 (at least one field switched off in every perturbation).
        assert_eq!(off_counts[0], 0);
        // Uniform k over 1..=5: 3999/5 ~ 800 each; binomial would put ~ 3% at k = 5.
        // Standard deviation sqrt(3999 * 0.2 * 0.8) ~ 25; allow 5 sd = 125.
        for &c in &off_counts[1..] {
            assert!((675..=925).contains(&c), "{off_counts:?}");
        }
        // Each field is off with probability E[k]/p = 3/5: expected 2399.4 per field.
        for &c in &per_field_off {
            assert!((2250..=2550).contains(&c), "{per_field_off:?}");
        }
        // Determinism and seed sensitivity.
        assert_eq!(field_masks(5, 4000, 11), m);
        assert_ne!(field_masks(5, 4000, 12), m);
    }

    #[test]
    fn degenerate_sizes() {
        let m = field_masks(0, 3, 1);
        assert!(m.data.is_empty());
        assert_eq!(m.row(2), &[] as &[u8]);
        let m = field_masks(1, 3, 1);
        // One field: k = 1 always -> rows 1.. are [0].
        assert_eq!(m.data, vec![1, 0, 0]);
    }
}

//! Seeded train / validation / test splits.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// Row indices of the three parts of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Training rows (vocabularies, dense statistics and crosses are fitted on these).
    pub train: Vec<usize>,
    /// Validation rows (early stopping; GLIDER's instances are its first N rows, spec 3.2).
    pub validation: Vec<usize>,
    /// Test rows (the reported AUC and logloss).
    pub test: Vec<usize>,
}

impl Split {
    /// The split of rows read from three consecutive files: the first `counts[0]` rows are
    /// training, the next `counts[1]` validation and the next `counts[2]` test.
    ///
    /// # Errors
    /// [`DataError::Schema`] unless exactly three counts are given.
    pub fn from_counts(counts: &[usize]) -> Result<Split, DataError> {
        let [a, b, c] = counts else {
            return Err(DataError::Schema(format!(
                "expected a training, a validation and a test file, got {} files",
                counts.len()
            )));
        };
        Ok(Split {
            train: (0..*a).collect(),
            validation: (*a..a + b).collect(),
            test: (a + b..a + b + c).collect(),
        })
    }
}

/// A seeded random split of `n` rows into train/validation/test with the given validation
/// and test fractions (the default run uses 0.1 and 0.1, i.e. 80/10/10). The same seed gives
/// the same split. Each part gets at least one row when `n >= 3`.
///
/// # Errors
/// [`DataError::Schema`] when `n < 3` or the fractions are outside (0, 1) or sum to 1 or more.
pub fn split_indices(
    n: usize,
    validation_fraction: f64,
    test_fraction: f64,
    seed: u64,
) -> Result<Split, DataError> {
    let ok = |f: f64| f > 0.0 && f < 1.0;
    if !ok(validation_fraction) || !ok(test_fraction) || validation_fraction + test_fraction >= 1.0
    {
        return Err(DataError::Schema(format!(
            "validation and test fractions must be in (0, 1) and sum below 1, got {validation_fraction} and {test_fraction}"
        )));
    }
    if n < 3 {
        return Err(DataError::Schema(format!(
            "{n} data row(s) cannot be split into training, validation and test parts (the \
             seeded split needs at least 3 rows)"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    order.shuffle(&mut rng);
    let n_val = ((n as f64 * validation_fraction).round() as usize).clamp(1, n - 2);
    let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1 - n_val);
    let n_train = n - n_val - n_test;
    Ok(Split {
        train: order[..n_train].to_vec(),
        validation: order[n_train..n_train + n_val].to_vec(),
        test: order[n_train + n_val..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_ten_ten_is_a_seeded_partition() {
        let s = split_indices(1000, 0.1, 0.1, 3).unwrap();
        assert_eq!(
            (s.train.len(), s.validation.len(), s.test.len()),
            (800, 100, 100)
        );
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.validation)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(s, split_indices(1000, 0.1, 0.1, 3).unwrap());
        assert_ne!(s, split_indices(1000, 0.1, 0.1, 4).unwrap());
    }

    #[test]
    fn tiny_and_bad_inputs() {
        let s = split_indices(3, 0.1, 0.1, 0).unwrap();
        assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (1, 1, 1));
        assert!(split_indices(2, 0.1, 0.1, 0).is_err());
        assert!(split_indices(100, 0.5, 0.5, 0).is_err());
        let f = Split::from_counts(&[3, 2, 1]).unwrap();
        assert_eq!(f.validation, vec![3, 4]);
        assert_eq!(f.test, vec![5]);
        assert!(Split::from_counts(&[3, 2]).is_err());
    }
}

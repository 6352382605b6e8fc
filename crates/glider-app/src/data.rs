//! Data sources and the split policy (spec 3.4's 80/10/10): a file (or the embedded Adult
//! data) with optional validation and test files, read the way a `Reading` says, split into
//! training, validation and test rows with a seed.

use std::path::PathBuf;

use anyhow::{bail, Result};

use glider_data::{embedded, split_indices, Dataset, Split};

use crate::model_dir::Reading;
use crate::usage;

/// Where the data comes from: `--data`, `--validation`, `--test`, `--validation-fraction`,
/// and how the files are read.
#[derive(Clone, Debug)]
pub struct DataSource {
    /// The data file, or `embedded:adult`.
    pub data: String,
    /// A validation file (then `test` is given too).
    pub validation: Option<PathBuf>,
    /// A test file.
    pub test: Option<PathBuf>,
    /// Share of `data` held out for validation when only `test` is given, in (0, 1).
    pub validation_fraction: f64,
    /// How the files are read.
    pub reading: Reading,
}

impl DataSource {
    /// The reading of the embedded Adult data (CSV, label `income`, positive `>50K`).
    pub fn embedded_reading() -> Reading {
        Reading {
            format: "csv".into(),
            schema: embedded::adult_schema(),
            delimiter: b',',
            libfm: None,
        }
    }
}

/// Reads `source` with a binary label and splits it: three files are the split; data and a
/// test file split the data into training and validation (`validation_fraction`, seeded);
/// one file is split 80/10/10 with `seed`.
///
/// # Errors
/// The reader's error (file, line, column); a training part with one class only, naming the
/// likely cause.
pub fn load(source: &DataSource, seed: u64) -> Result<(Dataset, Split)> {
    let (data, split) = load_with(source, seed, glider_data::TargetKind::Binary)?;
    check_both_classes(&data, &split)?;
    Ok((data, split))
}

/// Fails when the training rows hold one class only: a click model needs both.
///
/// # Errors
/// The message names the source and the likely cause.
pub fn check_both_classes(data: &Dataset, split: &Split) -> Result<()> {
    let positives = split
        .train
        .iter()
        .filter(|&&r| data.labels[r] > 0.5)
        .count();
    if positives == 0 || positives == split.train.len() {
        bail!(
            "{}: every training row has label {} — a click model needs both classes. Is \
             --label right, does the --positive value occur in it, and does the file have its \
             label column (Avazu's click, Criteo's first column)?",
            data.source,
            u8::from(positives > 0)
        );
    }
    Ok(())
}

/// [`load`] with the label read as `target`, without the two-class check.
///
/// # Errors
/// As [`load`].
pub fn load_with(
    source: &DataSource,
    seed: u64,
    target: glider_data::TargetKind,
) -> Result<(Dataset, Split)> {
    if source.data == embedded::ADULT_NAME {
        if target != glider_data::TargetKind::Binary {
            bail!("the embedded Adult data has a binary label (income >50K); use --task binary");
        }
        let data = embedded::adult()?;
        let split = split_indices(data.num_rows(), 0.1, 0.1, seed)?;
        return Ok((data, split));
    }
    let mut paths = vec![PathBuf::from(&source.data)];
    match (&source.validation, &source.test) {
        (Some(v), Some(t)) => {
            paths.push(v.clone());
            paths.push(t.clone());
        }
        (None, Some(t)) => paths.push(t.clone()),
        _ => {}
    }
    let mut reading = source.reading.clone();
    reading.schema.target = target;
    let (data, per_file) = reading.read_paths(&paths, false)?;
    let split = match paths.len() {
        3 => Split::from_counts(&per_file)?,
        2 => split_with_test_file(per_file[0], per_file[1], source.validation_fraction, seed)?,
        _ => split_indices(data.num_rows(), 0.1, 0.1, seed)
            .map_err(|e| anyhow::anyhow!("{}: {e}", data.source))?,
    };
    Ok((data, split))
}

/// The split when only a test file is given: the first `first` rows (from --data) are
/// shuffled with `seed` and `fraction` of them held out for validation; the next `test` rows
/// are the test part.
pub fn split_with_test_file(first: usize, test: usize, fraction: f64, seed: u64) -> Result<Split> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if !(fraction > 0.0 && fraction < 1.0) {
        usage!("--validation-fraction must be in (0, 1), got {fraction}");
    }
    if first < 2 || test == 0 {
        bail!("{first} rows in --data and {test} in --test: need at least 2 and 1");
    }
    let mut order: Vec<usize> = (0..first).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_val = ((first as f64 * fraction).round() as usize).clamp(1, first - 1);
    Ok(Split {
        train: order[n_val..].to_vec(),
        validation: order[..n_val].to_vec(),
        test: (first..first + test).collect(),
    })
}

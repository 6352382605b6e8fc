//! Training data larger than memory: a Criteo-format file read in chunks of whole lines, one
//! pass to learn the vocabularies and dense statistics, then as many passes as epochs.
//!
//! Rows are assigned to parts by their position in the file (0-based row `i`): `i mod 10 = 8`
//! is validation, `i mod 10 = 9` is test, the rest training; no shuffle across the file is
//! needed, and the assignment does not depend on the chunk size. The vocabulary pass counts
//! every categorical value of the training rows (one hash map per field, the only part of the
//! memory that grows with the number of distinct values; `--hash-buckets` removes it) and
//! keeps those seen more than `min_count` times, most frequent first.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::dataset::{Column, Dataset};
use crate::encode::{numeric_edges, EncoderOptions, FieldEncoding, NumericMode};
use crate::error::DataError;
use crate::read::{check_text_start, read_criteo_chunk};

/// Which part a row at 0-based position `row` of a streamed file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Training (8 rows in 10).
    Train,
    /// Validation (`row mod 10 = 8`).
    Validation,
    /// Test (`row mod 10 = 9`).
    Test,
}

/// The part of 0-based file row `row` (see the module doc).
pub fn part_of(row: u64) -> Part {
    match row % 10 {
        8 => Part::Validation,
        9 => Part::Test,
        _ => Part::Train,
    }
}

/// A Criteo-format file read `chunk_rows` lines at a time.
pub struct CriteoChunks {
    path: PathBuf,
    reader: BufReader<File>,
    lines_read: u64,
    rows_read: u64,
    chunk_rows: usize,
    ignore: Vec<String>,
    buf: Vec<u8>,
}

/// One chunk: its rows as a dataset and the file position of its first row.
pub struct Chunk {
    /// The chunk's rows (its own dictionaries).
    pub data: Dataset,
    /// 0-based file row of the chunk's first row.
    pub first_row: u64,
}

impl Chunk {
    /// The chunk's rows (indices into `data`) that belong to `part`.
    pub fn rows_of(&self, part: Part) -> Vec<usize> {
        (0..self.data.num_rows())
            .filter(|&r| part_of(self.first_row + r as u64) == part)
            .collect()
    }
}

impl CriteoChunks {
    /// Opens `path` (Criteo Kaggle format with the label column).
    ///
    /// # Errors
    /// [`DataError::Io`] naming the file; `chunk_rows` 0 is a schema error.
    pub fn open(path: &Path, chunk_rows: usize, ignore: &[String]) -> Result<Self, DataError> {
        if chunk_rows == 0 {
            return Err(DataError::Schema(
                "the chunk size must be at least 1".into(),
            ));
        }
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        check_text_start(path, reader.fill_buf().map_err(|e| DataError::io(path, e))?)?;
        Ok(CriteoChunks {
            path: path.to_path_buf(),
            reader,
            lines_read: 0,
            rows_read: 0,
            chunk_rows,
            ignore: ignore.to_vec(),
            buf: Vec::new(),
        })
    }

    /// The next chunk, `None` at the end of the file.
    ///
    /// # Errors
    /// A read or parse error naming the file and the line (counted from the file's start).
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, DataError> {
        self.buf.clear();
        let first_line = self.lines_read;
        let mut lines = 0usize;
        while lines < self.chunk_rows {
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| DataError::io(&self.path, e))?;
            if n == 0 {
                break;
            }
            lines += 1;
        }
        self.lines_read += lines as u64;
        if lines == 0 {
            return Ok(None);
        }
        let data = read_criteo_chunk(&self.buf, &self.path, first_line, &self.ignore, true)?;
        let first_row = self.rows_read;
        self.rows_read += data.num_rows() as u64;
        Ok(Some(Chunk { data, first_row }))
    }
}

/// The most distinct values of one numeric field the vocabulary pass counts for its bins; a
/// value first seen after that is left out of the counts (Criteo's log²-transformed counts
/// have a few hundred values at most).
pub const MAX_DISTINCT_NUMERIC: usize = 1 << 20;

/// Vocabulary counts and dense statistics of the training rows of a stream.
#[derive(Debug, Default)]
pub struct StreamStats {
    names: Vec<String>,
    counts: Vec<Option<HashMap<String, u64>>>,
    /// Per dense field: (n, Σ v, Σ v²) over non-missing values.
    dense: Vec<Option<(u64, f64, f64)>>,
    /// Per dense field: training rows per distinct value (by its bits; at most
    /// [`MAX_DISTINCT_NUMERIC`] values, later new values are not counted) and missing rows.
    histograms: Vec<Option<(HashMap<u32, u64>, u64)>>,
    /// Rows per part: train, validation, test.
    pub rows: [u64; 3],
    /// Positive training labels.
    pub positives: u64,
}

impl StreamStats {
    /// Adds a chunk's training rows (and counts its validation and test rows).
    ///
    /// # Errors
    /// [`DataError::Schema`] when the chunk's fields differ from the first chunk's.
    pub fn add(&mut self, chunk: &Chunk, hashed: bool) -> Result<(), DataError> {
        let data = &chunk.data;
        if self.names.is_empty() {
            self.names = data.field_names();
            self.counts = data
                .columns
                .iter()
                .map(|c| match c {
                    Column::Categorical { .. } if !hashed => Some(HashMap::new()),
                    _ => None,
                })
                .collect();
            self.dense = data
                .columns
                .iter()
                .map(|c| match c {
                    Column::Dense { .. } => Some((0, 0.0, 0.0)),
                    _ => None,
                })
                .collect();
            self.histograms = data
                .columns
                .iter()
                .map(|c| match c {
                    Column::Dense { .. } => Some((HashMap::new(), 0)),
                    _ => None,
                })
                .collect();
        } else if self.names != data.field_names() {
            return Err(DataError::Schema(format!(
                "{}: a chunk's fields differ from the first chunk's",
                data.source
            )));
        }
        let train = chunk.rows_of(Part::Train);
        self.rows[0] += train.len() as u64;
        self.rows[1] += chunk.rows_of(Part::Validation).len() as u64;
        self.rows[2] += chunk.rows_of(Part::Test).len() as u64;
        self.positives += train.iter().filter(|&&r| data.labels[r] > 0.5).count() as u64;
        for (f, column) in data.columns.iter().enumerate() {
            match (column, &mut self.counts[f], &mut self.dense[f]) {
                (Column::Categorical { codes, dictionary }, Some(map), _) => {
                    let mut local = vec![0u64; dictionary.len()];
                    for &r in &train {
                        local[codes[r] as usize] += 1;
                    }
                    // Code 0 is "missing" and has no vocabulary entry.
                    for (code, &n) in local.iter().enumerate().skip(1) {
                        if n > 0 {
                            *map.entry(dictionary[code].clone()).or_insert(0) += n;
                        }
                    }
                }
                (Column::Dense { values }, _, Some((n, s, s2))) => {
                    for &r in &train {
                        let v = values[r];
                        if v.is_finite() {
                            *n += 1;
                            *s += v as f64;
                            *s2 += (v as f64) * (v as f64);
                        }
                    }
                    if let Some((histogram, missing)) = &mut self.histograms[f] {
                        for &r in &train {
                            let v = values[r];
                            if v.is_nan() {
                                *missing += 1;
                                continue;
                            }
                            // + 0.0 turns -0.0 into 0.0: one value, as in memory.
                            let bits = (v + 0.0).to_bits();
                            if let Some(c) = histogram.get_mut(&bits) {
                                *c += 1;
                            } else if histogram.len() < MAX_DISTINCT_NUMERIC {
                                histogram.insert(bits, 1);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The fields' encodings: vocabularies of the values seen more than
    /// `options.min_count` times (most frequent first, ties by value), hashed fields when
    /// `options.hash_buckets > 0`, dense mean and standard deviation (1 when constant).
    ///
    /// # Errors
    /// [`DataError::Schema`] when no training row was seen.
    pub fn encodings(&self, options: &EncoderOptions) -> Result<Vec<FieldEncoding>, DataError> {
        if self.rows[0] == 0 {
            return Err(DataError::Schema("the stream has no training rows".into()));
        }
        options.numeric.check()?;
        let mut out = Vec::with_capacity(self.names.len());
        for (f, name) in self.names.iter().enumerate() {
            if let (Some((histogram, missing)), NumericMode::Auto) =
                (&self.histograms[f], options.numeric.mode)
            {
                let mut distinct: Vec<(f32, u64)> = histogram
                    .iter()
                    .map(|(&bits, &c)| (f32::from_bits(bits), c))
                    .collect();
                distinct.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                out.push(FieldEncoding::Binned {
                    name: name.clone(),
                    edges: numeric_edges(&distinct, options.min_count, &options.numeric),
                    missing: *missing > options.min_count as u64,
                });
            } else if let Some((n, s, s2)) = self.dense[f] {
                let (mean, std) = if n == 0 {
                    (0.0, 1.0)
                } else {
                    let m = s / n as f64;
                    let var = (s2 / n as f64 - m * m).max(0.0);
                    let sd = var.sqrt();
                    (m, if sd > 1e-12 { sd } else { 1.0 })
                };
                out.push(FieldEncoding::Dense {
                    name: name.clone(),
                    mean: mean as f32,
                    std: std as f32,
                });
            } else if options.hash_buckets > 0 || self.counts[f].is_none() {
                out.push(FieldEncoding::Hashed {
                    name: name.clone(),
                    buckets: options.hash_buckets.max(1),
                });
            } else if let Some(map) = &self.counts[f] {
                let mut kept: Vec<(&String, u64)> = map
                    .iter()
                    .filter(|(_, &n)| n > options.min_count as u64)
                    .map(|(v, &n)| (v, n))
                    .collect();
                kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                out.push(FieldEncoding::Categorical {
                    name: name.clone(),
                    vocabulary: kept.into_iter().map(|(v, _)| v.clone()).collect(),
                });
            }
        }
        Ok(out)
    }

    /// Distinct categorical values counted so far, over all fields.
    pub fn distinct_values(&self) -> usize {
        self.counts.iter().flatten().map(|m| m.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::InputEncoder;

    fn criteo_line(i: usize) -> String {
        let mut cells = vec![u8::from(i.is_multiple_of(3)).to_string()];
        cells.extend((0..13).map(|j| {
            if j == 0 {
                format!("{}", i % 7)
            } else {
                String::new()
            }
        }));
        cells.extend((0..26).map(|j| {
            if j == 0 {
                format!("v{}", i % 4)
            } else {
                String::new()
            }
        }));
        cells.join("\t")
    }

    #[test]
    fn chunks_parts_and_vocabulary_do_not_depend_on_the_chunk_size() {
        let dir = std::env::temp_dir().join(format!("glider-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.txt");
        let text: Vec<String> = (0..95).map(criteo_line).collect();
        std::fs::write(&path, text.join("\n") + "\n").unwrap();
        let mut results = Vec::new();
        for chunk in [7usize, 30, 1000] {
            let mut stream = CriteoChunks::open(&path, chunk, &[]).unwrap();
            let mut stats = StreamStats::default();
            let mut firsts = Vec::new();
            while let Some(c) = stream.next_chunk().unwrap() {
                firsts.push(c.first_row);
                stats.add(&c, false).unwrap();
            }
            assert_eq!(
                firsts[1 % firsts.len()],
                if firsts.len() > 1 { chunk as u64 } else { 0 }
            );
            // 95 rows: validation rows 8, 18, …, 88 (9 of them); test 9, …, 89 (9).
            assert_eq!(stats.rows, [77, 9, 9]);
            let enc = stats
                .encodings(&EncoderOptions {
                    min_count: 0,
                    ..EncoderOptions::default()
                })
                .unwrap();
            results.push(enc);
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[1], results[2]);
        // C1 holds v0..v3, every value seen; I1 = i mod 7 (after the Criteo transform).
        let c1 = results[0].iter().find(|e| e.name() == "C1").unwrap();
        match c1 {
            FieldEncoding::Categorical { vocabulary, .. } => assert_eq!(vocabulary.len(), 4),
            other => panic!("{other:?}"),
        }
        // I1 = i mod 7 is 0..6 in the file, 0, 1, 2, 1, 1, 2, 3 after the Criteo transform
        // (v > 2 → ⌊ln² v⌋): one bin per value 0..3, edges halfway between them; I2 is always
        // missing: one bin and a trained missing row.
        let i1 = results[0].iter().find(|e| e.name() == "I1").unwrap();
        assert_eq!(
            i1,
            &FieldEncoding::Binned {
                name: "I1".into(),
                edges: vec![0.5, 1.5, 2.5],
                missing: false,
            }
        );
        let i2 = results[0].iter().find(|e| e.name() == "I2").unwrap();
        assert_eq!(
            i2,
            &FieldEncoding::Binned {
                name: "I2".into(),
                edges: vec![],
                missing: true,
            }
        );
        // The encodings apply to a chunk: the same table for every chunk.
        let mut stream = CriteoChunks::open(&path, 30, &[]).unwrap();
        let c = stream.next_chunk().unwrap().unwrap();
        let (e1, _) = InputEncoder::from_encodings(&results[0], &c.data).unwrap();
        let c = stream.next_chunk().unwrap().unwrap();
        let (e2, _) = InputEncoder::from_encodings(&results[0], &c.data).unwrap();
        assert_eq!(e1.table_rows, e2.table_rows);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_bad_line_deep_in_the_file_names_its_line() {
        let dir = std::env::temp_dir().join(format!("glider-stream-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.txt");
        let mut text: Vec<String> = (0..40).map(criteo_line).collect();
        text[33] = "1\tx".into();
        std::fs::write(&path, text.join("\n") + "\n").unwrap();
        let mut stream = CriteoChunks::open(&path, 10, &[]).unwrap();
        let mut err = None;
        loop {
            match stream.next_chunk() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    err = Some(e.to_string());
                    break;
                }
            }
        }
        let err = err.unwrap();
        assert!(err.contains("c.txt:34"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

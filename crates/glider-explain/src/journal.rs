//! `local.jsonl`: an append-only record of finished instances, so a long GLIDER run that is
//! killed can resume without redoing them.
//!
//! Line 1 is a header with a fingerprint of everything that decides the result (settings,
//! seed, the instances' rows, the model); every later line is one finished
//! [`LocalExplanation`], written and flushed as soon as the instance completes (from any
//! thread). A line torn by a kill is dropped on resume. Failed instances are not recorded, so
//! a resume retries them.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::local::LocalExplanation;
use crate::ExplainError;

#[derive(Serialize, Deserialize)]
struct Header {
    glider_journal: u32,
    fingerprint: String,
    instances: usize,
}

/// The journal of one run.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    finished: Vec<LocalExplanation>,
}

/// FNV-1a, 64 bit: a stable fingerprint (unlike `DefaultHasher`, fixed across Rust versions).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes().iter().chain(&[0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ExplainError {
    ExplainError::Config(format!("{}: {e}", path.display()))
}

impl Journal {
    /// Starts a new journal at `path` (replacing any old one).
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the file when it cannot be written.
    pub fn create(
        path: &Path,
        fingerprint: &str,
        instances: usize,
    ) -> Result<Journal, ExplainError> {
        let mut file = File::create(path).map_err(|e| io_err(path, e))?;
        let header = Header {
            glider_journal: 1,
            fingerprint: fingerprint.to_string(),
            instances,
        };
        let line = serde_json::to_string(&header).map_err(|e| io_err(path, e))?;
        writeln!(file, "{line}").map_err(|e| io_err(path, e))?;
        file.sync_data().map_err(|e| io_err(path, e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            finished: Vec::new(),
        })
    }

    /// Opens an existing journal to continue it; when `path` does not exist, starts one.
    ///
    /// # Errors
    /// [`ExplainError::Config`] when the journal was written by a run with other settings,
    /// data or seed (its fingerprint differs), or cannot be read.
    pub fn resume(
        path: &Path,
        fingerprint: &str,
        instances: usize,
    ) -> Result<Journal, ExplainError> {
        if !path.exists() {
            return Journal::create(path, fingerprint, instances);
        }
        let (finished, good_bytes) = Self::parse(path, fingerprint)?;
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| io_err(path, e))?;
        file.set_len(good_bytes as u64)
            .map_err(|e| io_err(path, e))?;
        drop(file);
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| io_err(path, e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            finished,
        })
    }

    /// Reads a journal without changing it (for merging shards): its finished instances.
    ///
    /// # Errors
    /// [`ExplainError::Config`] when the file is absent, unreadable, or from another run.
    pub fn read(path: &Path, fingerprint: &str) -> Result<Vec<LocalExplanation>, ExplainError> {
        Self::parse(path, fingerprint).map(|(finished, _)| finished)
    }

    /// Parses a journal: finished instances sorted by index (a torn last line and anything
    /// after it ignored) and the byte length of the good part.
    fn parse(
        path: &Path,
        fingerprint: &str,
    ) -> Result<(Vec<LocalExplanation>, usize), ExplainError> {
        let reader = BufReader::new(File::open(path).map_err(|e| io_err(path, e))?);
        let mut lines = Vec::new();
        for line in reader.split(b'\n') {
            lines.push(line.map_err(|e| io_err(path, e))?);
        }
        let header: Header = lines
            .first()
            .and_then(|l| serde_json::from_slice(l).ok())
            .ok_or_else(|| io_err(path, "not a glider journal (no header line)"))?;
        if header.fingerprint != fingerprint {
            return Err(io_err(
                path,
                "was written by a run with other settings, data or seed; \
                 rerun without --resume to start over",
            ));
        }
        let mut finished: Vec<LocalExplanation> = Vec::new();
        let mut good_bytes = lines[0].len() + 1;
        for line in &lines[1..] {
            match serde_json::from_slice::<LocalExplanation>(line) {
                Ok(l) => {
                    good_bytes += line.len() + 1;
                    if !finished.iter().any(|f| f.instance == l.instance) {
                        finished.push(l);
                    }
                }
                // A torn last line (killed mid-write): drop it and everything after.
                Err(_) => break,
            }
        }
        finished.sort_by_key(|l| l.instance);
        Ok((finished, good_bytes))
    }

    /// Instances finished by earlier runs, by index.
    pub fn finished(&self) -> &[LocalExplanation] {
        &self.finished
    }

    /// Appends one finished instance and flushes it to disk.
    ///
    /// # Errors
    /// [`ExplainError::Config`] naming the file when the write fails.
    pub fn record(&self, local: &LocalExplanation) -> Result<(), ExplainError> {
        let mut line = serde_json::to_string(local).map_err(|e| io_err(&self.path, e))?;
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| io_err(&self.path, "journal lock poisoned"))?;
        file.write_all(line.as_bytes())
            .and_then(|_| file.sync_data())
            .map_err(|e| io_err(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glider_core::nid::RankedInteraction;

    fn local(i: usize) -> LocalExplanation {
        LocalExplanation {
            instance: i,
            interactions: vec![RankedInteraction {
                features: vec![0, i],
                strength: 0.1 + i as f64 / 3.0,
            }],
            surrogate_test_mse: 1e-3 / 7.0,
            logit_variance: 2.0,
            epochs: 12,
        }
    }

    #[test]
    fn round_trip_torn_line_and_fingerprint() {
        let dir = std::env::temp_dir().join(format!("glider-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("local.jsonl");
        let j = Journal::create(&path, "abc", 5).unwrap();
        j.record(&local(3)).unwrap();
        j.record(&local(1)).unwrap();
        drop(j);
        // A kill mid-write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"instance\":4,\"interac").unwrap();
        drop(f);
        let j = Journal::resume(&path, "abc", 5).unwrap();
        assert_eq!(j.finished(), &[local(1), local(3)], "exact f64 round trip");
        j.record(&local(4)).unwrap();
        drop(j);
        let j = Journal::resume(&path, "abc", 5).unwrap();
        assert_eq!(j.finished().len(), 3);
        assert!(Journal::resume(&path, "other", 5)
            .err()
            .is_some_and(|e| e.to_string().contains("other settings")));
        std::fs::remove_dir_all(&dir).ok();
        assert_ne!(fingerprint(&["a", "bc"]), fingerprint(&["ab", "c"]));
    }
}

//! Errors of reading and encoding data: each names the file and, where it applies, the line
//! and the column, so that a user can find the bad cell.

use std::path::PathBuf;

/// Everything that can go wrong while reading or encoding a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file has no data rows.
    #[error("{path}: the file has no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A cell could not be parsed.
    #[error("{path}:{line}: column \"{column}\": {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// The column's name (or its 1-based position when the file has no header).
        column: String,
        /// What is wrong with the cell.
        message: String,
    },
    /// A row has the wrong number of cells.
    #[error("{path}:{line}: expected {expected} columns, found {found}{hint}")]
    RowLength {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// Number of columns the header (or format) has.
        expected: usize,
        /// Number of cells on this line.
        found: usize,
        /// Extra advice, such as checking the delimiter.
        hint: String,
    },
    /// A column named on the command line does not exist in the file.
    #[error("{path}: no column named \"{column}\" (the header has: {available})")]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The missing name.
        column: String,
        /// The header's names, comma separated.
        available: String,
    },
    /// The label is not 0/1 and no positive class was named.
    #[error(
        "{path}:{line}: label column \"{column}\" has value \"{value}\", which is not 0 or 1; \
         name the class to predict as 1 with --positive VALUE (--positive \"{value}\" if \
         \"{value}\" is that class)"
    )]
    Label {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The label column.
        column: String,
        /// The offending value.
        value: String,
    },
    /// A line of a line-oriented format (libFM data, a featindex file) is malformed: a bad
    /// label, a bad `index:value` token, a token count that differs from the format's.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong, quoting the offending token where there is one.
        message: String,
    },
    /// A cell of a columnar file (Parquet) could not be read: named by its 1-based row number
    /// in the file (columnar files have no lines) and its column.
    #[error("{path}: row {row}: column \"{column}\": {message}")]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based row number in the file.
        row: u64,
        /// The column's name.
        column: String,
        /// What is wrong with the cell.
        message: String,
    },
    /// The schema flags contradict each other or the data.
    #[error("{0}")]
    Schema(String),
}

impl DataError {
    /// Wraps an I/O error with the file it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

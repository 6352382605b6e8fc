//! The Parquet reader (cargo feature `parquet`), on the Apache Arrow / Parquet crates.
//!
//! Parquet columns carry types, so the kinds glider would infer from CSV text come from the
//! schema instead: floating-point (and decimal) columns are dense, string, binary, boolean,
//! integer, date and time columns categorical, each unless the schema flags say otherwise.
//! Nulls are missing. Dictionary-encoded columns (pandas categoricals) are read as their
//! values. Categorical values become the same strings CSV would hold: integers in decimal,
//! booleans `true`/`false`, floats in Rust's shortest round-trip form (`0.5`, `1`), binary
//! values as text when they are valid UTF-8 and as `0x` + lowercase hex otherwise.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::dataset::{Column, Dataset, Field, FieldKind};
use crate::error::DataError;
use crate::read::{
    parse_label, plan_roles, ColumnBuilder, Role, SchemaOptions, Target, TargetKind,
};

/// Rows per Arrow record batch while reading.
const BATCH_ROWS: usize = 8192;

/// Reads one or more Parquet files into one dataset; returns it and the number of rows each
/// file contributed (in order). All files must have the same column names in the same order.
///
/// The schema flags work as for [`crate::read_csv`]: `schema.label` is the label column (0/1
/// numbers, a boolean, or any value against `schema.positive`; with another
/// [`TargetKind`], a number or a class name), `schema.ignore` columns are left out,
/// `schema.categorical` / `schema.dense` force a kind. Without a flag a float or decimal
/// column is dense and a string, binary, boolean, integer, date or time column categorical.
/// Nulls are missing, and so are text values listed in `schema.missing` (as in CSV; the
/// defaults include the empty string and `NaN`). A dense column's values are used as they are
/// (no transform).
///
/// # Errors
/// A [`DataError`] naming the file: [`DataError::Io`] when it cannot be opened;
/// [`DataError::Schema`] when it is not Parquet or is corrupt (a panic of the Parquet decoder
/// on a damaged file included, see [`decoding`]), its columns differ from the first file's, or a
/// column has a type glider cannot read (list, struct, map: ignore it); the errors of the
/// schema flags as for CSV (unknown column, label also ignored); [`DataError::Empty`] for a
/// file with no rows; [`DataError::Row`] naming the 1-based row and the column for a NaN or
/// infinite value (or one past `f32`) in a dense column, text that is not a number in a column
/// forced dense, a missing label, or a label that is not 0/1 without `positive`.
pub fn read_parquet(
    paths: &[PathBuf],
    schema: &SchemaOptions,
) -> Result<(Dataset, Vec<usize>), DataError> {
    let missing: HashSet<&str> = schema.missing.iter().map(|s| s.as_str()).collect();
    let source_name = paths
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut header: Option<Vec<String>> = None;
    let mut roles: Vec<Role> = Vec::new();
    let mut label_col = usize::MAX;
    let mut builders: Vec<Option<Sink>> = Vec::new();
    let mut labels: Vec<f32> = Vec::new();
    let mut label_classes: Vec<String> = Vec::new();
    let mut classes: HashMap<String, usize> = HashMap::new();
    let mut rows_per_file = Vec::with_capacity(paths.len());
    for path in paths {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let builder = decoding(path, 0, || ParquetRecordBatchReaderBuilder::try_new(file))?
            .map_err(|e| {
                DataError::Schema(format!(
                    "{}: not a readable Parquet file: {e}",
                    path.display()
                ))
            })?;
        let arrow_schema = builder.schema().clone();
        let names: Vec<String> = arrow_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        match &header {
            None => {
                let (r, l) = plan_roles(path, &names, schema, &|_| None)?;
                label_col = l;
                builders = Vec::with_capacity(r.len());
                roles = Vec::with_capacity(r.len());
                for (c, role) in r.into_iter().enumerate() {
                    let data_type = arrow_schema.field(c).data_type();
                    let role = match role {
                        Role::Field(kind, transform) => {
                            let kind = match kind {
                                Some(kind) => kind,
                                None => default_kind(data_type)
                                    .ok_or_else(|| unsupported(path, &names[c], data_type))?,
                            };
                            Role::Field(Some(kind), transform)
                        }
                        other => other,
                    };
                    builders.push(match role {
                        Role::Field(Some(FieldKind::Categorical), _) => {
                            Some(Sink::Categorical(ColumnBuilder::new()))
                        }
                        Role::Field(..) => Some(Sink::Dense(Vec::new())),
                        _ => None,
                    });
                    roles.push(role);
                }
                header = Some(names);
            }
            Some(first) if *first != names => {
                return Err(DataError::Schema(format!(
                    "{}: the columns ({}) differ from the first file's ({})",
                    path.display(),
                    names.join(","),
                    first.join(",")
                )));
            }
            Some(_) => {}
        }
        let mut reader = decoding(path, 0, || builder.with_batch_size(BATCH_ROWS).build())?
            .map_err(|e| DataError::Schema(format!("{}: {e}", path.display())))?;
        let mut rows = 0usize;
        while let Some(batch) = decoding(path, rows, || reader.next())? {
            let batch = batch.map_err(|e| {
                DataError::Schema(format!(
                    "{}: cannot read rows after row {rows}: {e}",
                    path.display()
                ))
            })?;
            let base = rows as u64;
            for (c, role) in roles.iter().enumerate() {
                let array = batch.column(c);
                let name = &names_of(&header)[c];
                let row_error = |i: usize, message: String| DataError::Row {
                    path: path.clone(),
                    row: base + i as u64 + 1,
                    column: name.clone(),
                    message,
                };
                match role {
                    Role::Ignore => {}
                    Role::Label => {
                        let is_bool = *array.data_type() == DataType::Boolean;
                        for_each_text(array, &mut |i, text| {
                            let text = text.unwrap_or("");
                            let binary_bool = is_bool
                                && schema.positive.is_none()
                                && schema.target == TargetKind::Binary;
                            let target = if binary_bool {
                                // `true`/`false`: the positive class is `true`.
                                Target::Value(if text == "true" { 1.0 } else { 0.0 })
                            } else {
                                parse_label(path, base + i as u64 + 1, name, text, schema)
                                    .map_err(|e| row_error(i, label_message(e)))?
                            };
                            let v = match target {
                                Target::Value(v) => v,
                                Target::Class(class) => match classes.get(class) {
                                    Some(&k) => k as f32,
                                    None => {
                                        let k = label_classes.len();
                                        classes.insert(class.to_string(), k);
                                        label_classes.push(class.to_string());
                                        k as f32
                                    }
                                },
                            };
                            labels.push(v);
                            Ok(())
                        })
                        .map_err(|e| e.unwrap_or_else(|| unsupported_label(path, name, array)))?;
                    }
                    Role::Field(..) => match builders[c].as_mut() {
                        Some(Sink::Categorical(b)) => {
                            for_each_text(array, &mut |_, text| {
                                match text {
                                    Some(t) if !is_missing(&missing, t) => b.push(t),
                                    _ => b.codes.push(0),
                                }
                                Ok(())
                            })
                            .map_err(|e| {
                                e.unwrap_or_else(|| unsupported(path, name, array.data_type()))
                            })?;
                        }
                        Some(Sink::Dense(values)) => {
                            push_dense(array, values, &missing, &row_error).map_err(|e| {
                                e.unwrap_or_else(|| unsupported(path, name, array.data_type()))
                            })?;
                        }
                        None => {}
                    },
                }
            }
            if label_col == usize::MAX {
                labels.extend(std::iter::repeat_n(0.0, batch.num_rows()));
            }
            rows += batch.num_rows();
        }
        if rows == 0 {
            return Err(DataError::Empty { path: path.clone() });
        }
        rows_per_file.push(rows);
    }
    let header = header.unwrap_or_default();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (c, sink) in builders.into_iter().enumerate() {
        let Some(sink) = sink else { continue };
        let (kind, column) = match sink {
            Sink::Categorical(b) => (
                FieldKind::Categorical,
                Column::Categorical {
                    codes: b.codes,
                    dictionary: b.dictionary,
                },
            ),
            Sink::Dense(values) => (FieldKind::Dense, Column::Dense { values }),
        };
        fields.push(Field {
            name: header[c].clone(),
            kind,
        });
        columns.push(column);
    }
    if fields.is_empty() {
        return Err(DataError::Schema(format!(
            "{source_name}: no fields left besides the label (check --ignore)"
        )));
    }
    Ok((
        Dataset {
            source: source_name,
            label_name: schema.label.clone(),
            fields,
            labels,
            label_classes,
            columns,
        },
        rows_per_file,
    ))
}

thread_local! {
    /// True while this thread runs the Parquet decoder inside [`decoding`].
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs one call into the Parquet / Arrow decoder, turning a panic into an error.
///
/// Those crates panic on some corrupt files instead of returning an error (fuzzing found an
/// `offset + len out of bounds` in arrow-buffer 60.1's bit-chunk iterator, reached from a
/// page whose definition levels are damaged). A panic there is a bad file, not a bug of
/// glider: it becomes [`DataError::Schema`] naming the file and the rows read before it, and
/// the panic message is kept off stderr (a process-wide panic hook, installed once, stays
/// silent for a thread while it is inside this function and defers to the previous hook
/// otherwise). Panics in glider's own code are not caught.
///
/// # Errors
/// [`DataError::Schema`] when `f` panics.
fn decoding<T>(path: &Path, rows: usize, f: impl FnOnce() -> T) -> Result<T, DataError> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(|d| d.get()) {
                previous(info);
            }
        }));
    });
    let was = DECODING.with(|d| d.replace(true));
    // The decoder's state after a panic is never used again: the error ends the read.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    DECODING.with(|d| d.set(was));
    result.map_err(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        DataError::Schema(format!(
            "{}: not a readable Parquet file: the Parquet decoder failed after {rows} rows \
             ({why}); the file is corrupt or truncated",
            path.display()
        ))
    })
}

/// A field's values while reading.
enum Sink {
    Categorical(ColumnBuilder),
    Dense(Vec<f32>),
}

fn names_of(header: &Option<Vec<String>>) -> &[String] {
    header.as_deref().unwrap_or(&[])
}

fn is_missing(missing: &HashSet<&str>, text: &str) -> bool {
    missing.contains(text) || missing.contains(text.trim())
}

/// The kind of a column no flag names, from its Arrow type; `None` for types glider cannot
/// read as a field.
fn default_kind(data_type: &DataType) -> Option<FieldKind> {
    use DataType::*;
    match data_type {
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Decimal256(..) => Some(FieldKind::Dense),
        Null | Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Utf8
        | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView | FixedSizeBinary(_)
        | Date32 | Date64 | Time32(_) | Time64(_) | Timestamp(..) | Duration(_) | Interval(_) => {
            Some(FieldKind::Categorical)
        }
        Dictionary(_, values) => default_kind(values),
        _ => None,
    }
}

fn unsupported(path: &Path, column: &str, data_type: &DataType) -> DataError {
    DataError::Schema(format!(
        "{}: column \"{column}\" has Arrow type {data_type}, which glider cannot read as a \
         field (leave it out with --ignore {column})",
        path.display()
    ))
}

fn unsupported_label(path: &Path, column: &str, array: &ArrayRef) -> DataError {
    DataError::Schema(format!(
        "{}: the label column \"{column}\" has Arrow type {}, which glider cannot read as a label",
        path.display(),
        array.data_type()
    ))
}

/// The message of a label error from [`parse_label`], for a [`DataError::Row`].
fn label_message(e: DataError) -> String {
    match e {
        DataError::Parse { message, .. } => message,
        DataError::Label { value, .. } => format!(
            "label value \"{value}\" is not 0 or 1; name the class to predict as 1 with \
             --positive VALUE (--positive \"{value}\" if \"{value}\" is that class)"
        ),
        other => other.to_string(),
    }
}

/// A per-cell callback: `(row in batch, text or None for null)`.
type CellFn<'f> = &'f mut dyn FnMut(usize, Option<&str>) -> Result<(), DataError>;

/// Calls `f(row in batch, text)` for every cell of `array` as the string glider stores for a
/// categorical value (`None` = null). `Err(None)` means the type cannot be read as text.
fn for_each_text(array: &ArrayRef, f: CellFn<'_>) -> Result<(), Option<DataError>> {
    let mut buf = String::new();
    match array.data_type() {
        DataType::Utf8 => {
            for (i, v) in array.as_string::<i32>().iter().enumerate() {
                f(i, v)?;
            }
        }
        DataType::LargeUtf8 => {
            for (i, v) in array.as_string::<i64>().iter().enumerate() {
                f(i, v)?;
            }
        }
        DataType::Utf8View => {
            for (i, v) in array.as_string_view().iter().enumerate() {
                f(i, v)?;
            }
        }
        DataType::Binary => {
            for (i, v) in array.as_binary::<i32>().iter().enumerate() {
                f(i, v.map(|b| bytes_text(b, &mut buf)))?;
            }
        }
        DataType::LargeBinary => {
            for (i, v) in array.as_binary::<i64>().iter().enumerate() {
                f(i, v.map(|b| bytes_text(b, &mut buf)))?;
            }
        }
        DataType::BinaryView => {
            for (i, v) in array.as_binary_view().iter().enumerate() {
                f(i, v.map(|b| bytes_text(b, &mut buf)))?;
            }
        }
        DataType::FixedSizeBinary(_) => {
            for (i, v) in array.as_fixed_size_binary().iter().enumerate() {
                f(i, v.map(|b| bytes_text(b, &mut buf)))?;
            }
        }
        DataType::Boolean => {
            for (i, v) in array.as_boolean().iter().enumerate() {
                f(i, v.map(|b| if b { "true" } else { "false" }))?;
            }
        }
        DataType::Float16 => {
            for (i, v) in array.as_primitive::<Float16Type>().iter().enumerate() {
                f(i, v.map(|x| display(&mut buf, x.to_f32())))?;
            }
        }
        DataType::Float32 => {
            for (i, v) in array.as_primitive::<Float32Type>().iter().enumerate() {
                f(i, v.map(|x| display(&mut buf, x)))?;
            }
        }
        DataType::Float64 => {
            for (i, v) in array.as_primitive::<Float64Type>().iter().enumerate() {
                f(i, v.map(|x| display(&mut buf, x)))?;
            }
        }
        DataType::Null => {
            for i in 0..array.len() {
                f(i, None)?;
            }
        }
        DataType::Dictionary(..) => {
            // A pandas categorical: each distinct value's text once, then the keys.
            let dictionary = array.as_any_dictionary();
            let mut texts: Vec<Option<String>> = Vec::with_capacity(dictionary.values().len());
            for_each_text(dictionary.values(), &mut |_, t| {
                texts.push(t.map(str::to_string));
                Ok(())
            })?;
            for (i, key) in dictionary.normalized_keys().into_iter().enumerate() {
                let text = if array.is_null(i) {
                    None
                } else {
                    texts.get(key).and_then(|t| t.as_deref())
                };
                f(i, text)?;
            }
        }
        other if default_kind(other).is_some() => {
            // Integers, decimals, dates and times, formatted as Arrow prints them.
            for i in 0..array.len() {
                if array.is_null(i) {
                    f(i, None)?;
                } else {
                    let text = cell_text(array, i).ok_or(None)?;
                    f(i, Some(&text))?;
                }
            }
        }
        _ => return Err(None),
    }
    Ok(())
}

/// A decimal's unscaled digits written with `scale` digits after the point (`1230`, 2 →
/// `12.30`; a negative scale appends zeros).
fn decimal_text(digits: String, scale: i8) -> String {
    if scale <= 0 {
        return format!("{digits}{}", "0".repeat(usize::from(scale.unsigned_abs())));
    }
    let scale = scale as usize;
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d.to_string()),
        None => ("", digits),
    };
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// One non-null cell of an integer, decimal or temporal column as text: integers in
/// decimal, decimals with their scale's digits (`12.30`), dates `2024-01-31`, times
/// `13:45:00`, timestamps `2024-01-31T13:45:00` (the stored instant, any time zone
/// ignored), durations and intervals as their stored integers; `None` for another type.
fn cell_text(array: &ArrayRef, i: usize) -> Option<String> {
    use arrow_array::temporal_conversions as tc;
    let t = match array.data_type() {
        DataType::Int8 => array.as_primitive::<Int8Type>().value(i).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(i).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(i).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::Decimal32(_, s) => decimal_text(
            array.as_primitive::<Decimal32Type>().value(i).to_string(),
            *s,
        ),
        DataType::Decimal64(_, s) => decimal_text(
            array.as_primitive::<Decimal64Type>().value(i).to_string(),
            *s,
        ),
        DataType::Decimal128(_, s) => decimal_text(
            array.as_primitive::<Decimal128Type>().value(i).to_string(),
            *s,
        ),
        DataType::Decimal256(_, s) => decimal_text(
            array.as_primitive::<Decimal256Type>().value(i).to_string(),
            *s,
        ),
        DataType::Date32 => tc::date32_to_datetime(array.as_primitive::<Date32Type>().value(i))?
            .format("%Y-%m-%d")
            .to_string(),
        DataType::Date64 => tc::date64_to_datetime(array.as_primitive::<Date64Type>().value(i))?
            .format("%Y-%m-%d")
            .to_string(),
        DataType::Time32(TimeUnit::Second) => {
            tc::time32s_to_time(array.as_primitive::<Time32SecondType>().value(i))?.to_string()
        }
        DataType::Time32(_) => {
            tc::time32ms_to_time(array.as_primitive::<Time32MillisecondType>().value(i))?
                .to_string()
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            tc::time64us_to_time(array.as_primitive::<Time64MicrosecondType>().value(i))?
                .to_string()
        }
        DataType::Time64(_) => {
            tc::time64ns_to_time(array.as_primitive::<Time64NanosecondType>().value(i))?.to_string()
        }
        DataType::Timestamp(unit, _) => {
            let at = match unit {
                TimeUnit::Second => tc::timestamp_s_to_datetime(
                    array.as_primitive::<TimestampSecondType>().value(i),
                ),
                TimeUnit::Millisecond => tc::timestamp_ms_to_datetime(
                    array.as_primitive::<TimestampMillisecondType>().value(i),
                ),
                TimeUnit::Microsecond => tc::timestamp_us_to_datetime(
                    array.as_primitive::<TimestampMicrosecondType>().value(i),
                ),
                TimeUnit::Nanosecond => tc::timestamp_ns_to_datetime(
                    array.as_primitive::<TimestampNanosecondType>().value(i),
                ),
            }?;
            at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
        }
        DataType::Duration(unit) => match unit {
            TimeUnit::Second => array
                .as_primitive::<DurationSecondType>()
                .value(i)
                .to_string(),
            TimeUnit::Millisecond => array
                .as_primitive::<DurationMillisecondType>()
                .value(i)
                .to_string(),
            TimeUnit::Microsecond => array
                .as_primitive::<DurationMicrosecondType>()
                .value(i)
                .to_string(),
            TimeUnit::Nanosecond => array
                .as_primitive::<DurationNanosecondType>()
                .value(i)
                .to_string(),
        },
        _ => return None,
    };
    Some(t)
}

/// One non-null cell of an integer, boolean or decimal column as a number; `None` for
/// another type.
fn cell_number(array: &ArrayRef, i: usize) -> Option<f64> {
    Some(match array.data_type() {
        DataType::Boolean => f64::from(u8::from(array.as_boolean().value(i))),
        DataType::Int8 => f64::from(array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => f64::from(array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => f64::from(array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i) as f64,
        DataType::UInt8 => f64::from(array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => f64::from(array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => f64::from(array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i) as f64,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => cell_text(array, i)?.parse().ok()?,
        _ => return None,
    })
}

/// `value` formatted into `buf`.
fn display(buf: &mut String, value: impl std::fmt::Display) -> &str {
    buf.clear();
    // Writing into a String cannot fail.
    let _ = write!(buf, "{value}");
    buf
}

/// Bytes as text when they are UTF-8, else `0x` + lowercase hex (written into `buf`).
fn bytes_text<'b>(bytes: &'b [u8], buf: &'b mut String) -> &'b str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            buf.clear();
            buf.push_str("0x");
            for b in bytes {
                let _ = write!(buf, "{b:02x}");
            }
            buf
        }
    }
}

/// Appends a dense column's values: nulls (and missing text) become NaN; NaN, infinities and
/// values past `f32` are errors, as is text that is not a number. `Err(None)` means the type
/// cannot be read as numbers.
fn push_dense(
    array: &ArrayRef,
    values: &mut Vec<f32>,
    missing: &HashSet<&str>,
    row_error: &dyn Fn(usize, String) -> DataError,
) -> Result<(), Option<DataError>> {
    let mut push = |i: usize, v: Option<f64>, shown: &dyn Fn() -> String| {
        match v {
            None => values.push(f32::NAN),
            Some(v) if v.is_finite() && (v as f32).is_finite() => values.push(v as f32),
            Some(_) => {
                return Err(Some(row_error(
                    i,
                    format!(
                        "{} is not a finite number (or is too large for f32), but the field \
                         is dense (write missing values as null)",
                        shown()
                    ),
                )))
            }
        }
        Ok(())
    };
    match array.data_type() {
        DataType::Float16 => {
            for (i, v) in array.as_primitive::<Float16Type>().iter().enumerate() {
                let v = v.map(|x| f64::from(x.to_f32()));
                push(i, v, &|| format!("{}", v.unwrap_or(f64::NAN)))?;
            }
        }
        DataType::Float32 => {
            for (i, v) in array.as_primitive::<Float32Type>().iter().enumerate() {
                push(i, v.map(f64::from), &|| {
                    format!("{}", v.unwrap_or(f32::NAN))
                })?;
            }
        }
        DataType::Float64 => {
            for (i, v) in array.as_primitive::<Float64Type>().iter().enumerate() {
                push(i, v, &|| format!("{}", v.unwrap_or(f64::NAN)))?;
            }
        }
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            for_each_text(array, &mut |i, text| {
                let v = match text {
                    Some(t) if !is_missing(missing, t) => match t.trim().parse::<f64>() {
                        Ok(v) => Some(v),
                        Err(_) => {
                            return Err(row_error(
                                i,
                                format!("\"{t}\" is not a finite number, but the field is dense"),
                            ))
                        }
                    },
                    _ => None,
                };
                push(i, v, &|| format!("\"{}\"", text.unwrap_or("")))
                    .map_err(|e| e.unwrap_or_else(|| row_error(i, "not a number".into())))
            })?;
        }
        DataType::Dictionary(..) => {
            // Each distinct value once, then the keys.
            let dictionary = array.as_any_dictionary();
            let mut numbers = Vec::with_capacity(dictionary.values().len());
            push_dense(dictionary.values(), &mut numbers, missing, row_error)?;
            for (i, key) in dictionary.normalized_keys().into_iter().enumerate() {
                let v = if array.is_null(i) {
                    f32::NAN
                } else {
                    numbers.get(key).copied().unwrap_or(f32::NAN)
                };
                values.push(v);
            }
        }
        DataType::Null => values.extend(std::iter::repeat_n(f32::NAN, array.len())),
        other => {
            // Integers, booleans, decimals; any other type cannot be dense.
            if !matches!(
                other,
                DataType::Boolean
                    | DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::UInt8
                    | DataType::UInt16
                    | DataType::UInt32
                    | DataType::UInt64
                    | DataType::Decimal32(..)
                    | DataType::Decimal64(..)
                    | DataType::Decimal128(..)
                    | DataType::Decimal256(..)
            ) {
                return Err(None);
            }
            for i in 0..array.len() {
                let v = if array.is_null(i) {
                    None
                } else {
                    Some(cell_number(array, i).ok_or(None)?)
                };
                push(i, v, &|| format!("{other} value {}", v.unwrap_or(f64::NAN)))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{read_csv, CsvOptions};
    use crate::FieldValue;
    use arrow_array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{Field as ArrowField, Schema};
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("glider-parquet-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let fields: Vec<ArrowField> = columns
            .iter()
            .map(|(name, a)| ArrowField::new(*name, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let file = File::create(path).unwrap();
        let mut writer = ArrowWriter::try_new(file, schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    /// Every cell as text (categorical: the dictionary string, "" for missing) or number.
    fn cells(d: &Dataset) -> Vec<Vec<String>> {
        (0..d.num_rows())
            .map(|r| {
                d.columns
                    .iter()
                    .map(|c| match (c, c.value(r)) {
                        (Column::Categorical { dictionary, .. }, FieldValue::Categorical(k)) => {
                            format!("cat:{}", dictionary[k as usize])
                        }
                        (_, FieldValue::Dense(v)) => format!("num:{v}"),
                        _ => unreachable!(),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn parquet_matches_the_same_data_read_from_csv() {
        let dir = temp_dir("csv");
        let pq = dir.join("t.parquet");
        write_parquet(
            &pq,
            vec![
                (
                    "y",
                    Arc::new(Int64Array::from(vec![1, 0, 1, 0])) as ArrayRef,
                ),
                (
                    "job",
                    Arc::new(StringArray::from(vec![
                        Some("a"),
                        Some("b"),
                        None,
                        Some("a"),
                    ])),
                ),
                (
                    "age",
                    Arc::new(Int64Array::from(vec![Some(30), Some(41), Some(30), None])),
                ),
                (
                    "score",
                    Arc::new(Float64Array::from(vec![
                        Some(0.5),
                        None,
                        Some(-1.25),
                        Some(3.0),
                    ])),
                ),
                (
                    "member",
                    Arc::new(BooleanArray::from(vec![
                        Some(true),
                        Some(false),
                        None,
                        Some(true),
                    ])),
                ),
                ("id", Arc::new(Int64Array::from(vec![7, 8, 9, 10]))),
            ],
        );
        let csv = dir.join("t.csv");
        std::fs::write(
            &csv,
            "y,job,age,score,member,id\n1,a,30,0.5,true,7\n0,b,41,,false,8\n1,,30,-1.25,,9\n0,a,,3,true,10\n",
        )
        .unwrap();
        let mut schema = SchemaOptions::with_label("y");
        schema.ignore = vec!["id".into()];
        // CSV would infer the integer column `age` dense; Parquet makes integers categorical.
        schema.categorical = vec!["age".into()];
        let (from_pq, per_file) = read_parquet(std::slice::from_ref(&pq), &schema).unwrap();
        let (from_csv, _) = read_csv(&[csv], &schema, &CsvOptions::default()).unwrap();
        assert_eq!(per_file, vec![4]);
        assert_eq!(from_pq.fields, from_csv.fields);
        assert_eq!(from_pq.labels, vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(from_pq.labels, from_csv.labels);
        assert_eq!(cells(&from_pq), cells(&from_csv));
        assert_eq!(
            cells(&from_pq)[1],
            vec!["cat:b", "cat:41", "num:NaN", "cat:false"]
        );
        assert_eq!(from_pq.fields[2].kind, FieldKind::Dense);
        // Without the flag, the integer column is categorical in Parquet.
        schema.categorical.clear();
        let (d, _) = read_parquet(std::slice::from_ref(&pq), &schema).unwrap();
        assert_eq!(d.fields[1].kind, FieldKind::Categorical);
        // Forced dense, it is numbers.
        schema.dense = vec!["age".into()];
        let (d, _) = read_parquet(std::slice::from_ref(&pq), &schema).unwrap();
        assert_eq!(d.row(1)[1], FieldValue::Dense(41.0));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Integer, decimal, date, time, timestamp, duration and dictionary columns read as
    /// the texts (categorical) and numbers (dense) the reader documents.
    #[test]
    fn typed_columns_read_as_documented_texts_and_numbers() {
        use arrow_array::types::Int32Type;
        use arrow_array::{
            Date32Array, Decimal128Array, DictionaryArray, DurationSecondArray, Int8Array,
            Time32SecondArray, TimestampMillisecondArray, UInt64Array,
        };
        let dir = temp_dir("typed");
        let pq = dir.join("t.parquet");
        let dict: DictionaryArray<Int32Type> = vec![Some("red"), None, Some("blue"), Some("red")]
            .into_iter()
            .collect();
        let dense_dict = DictionaryArray::<Int32Type>::try_new(
            arrow_array::Int32Array::from(vec![Some(1), Some(0), None, Some(1)]),
            Arc::new(Float64Array::from(vec![0.5, 2.0])),
        )
        .unwrap();
        write_parquet(
            &pq,
            vec![
                (
                    "y",
                    Arc::new(Int64Array::from(vec![1, 0, 1, 0])) as ArrayRef,
                ),
                ("small", Arc::new(Int8Array::from(vec![-3, 0, 7, -3]))),
                (
                    "big",
                    Arc::new(UInt64Array::from(vec![1u64 << 40, 1, 2, 3])),
                ),
                (
                    "price",
                    Arc::new(
                        Decimal128Array::from(vec![1230i128, -5, 100, 7])
                            .with_precision_and_scale(9, 2)
                            .unwrap(),
                    ),
                ),
                ("day", Arc::new(Date32Array::from(vec![0, 19_753, 1, 2]))),
                (
                    "clock",
                    Arc::new(Time32SecondArray::from(vec![0, 49_500, 59, 3_600])),
                ),
                (
                    "at",
                    Arc::new(TimestampMillisecondArray::from(vec![
                        0,
                        1_706_708_700_500,
                        1_000,
                        60_000,
                    ])),
                ),
                (
                    "wait",
                    Arc::new(DurationSecondArray::from(vec![5, 6, 7, 8])),
                ),
                ("colour", Arc::new(dict)),
                ("weight", Arc::new(dense_dict)),
            ],
        );
        let mut schema = SchemaOptions::with_label("y");
        schema.dense = vec!["price".into(), "small".into()];
        let (d, _) = read_parquet(&[pq], &schema).unwrap();
        let got = cells(&d);
        assert_eq!(
            got[1],
            [
                "num:0",
                "cat:1",
                "num:-0.05",
                "cat:2024-01-31",
                "cat:13:45:00",
                "cat:2024-01-31T13:45:00.500",
                "cat:6",
                "cat:",
                "num:0.5",
            ]
        );
        assert_eq!(got[0][1], "cat:1099511627776");
        assert_eq!(got[0][2], "num:12.3");
        assert_eq!(got[0][5], "cat:1970-01-01T00:00:00");
        assert_eq!(got[0][7], "cat:red");
        assert_eq!(got[0][8], "num:2");
        assert_eq!(got[2][7], "cat:blue");
        assert_eq!(got[2][8], "num:NaN");
        assert_eq!(got[0][0], "num:-3");
        assert_eq!(decimal_text("1230".into(), 2), "12.30");
        assert_eq!(decimal_text("-5".into(), 2), "-0.05");
        assert_eq!(decimal_text("7".into(), -2), "700");
    }

    #[test]
    fn boolean_and_positive_labels_and_two_files() {
        let dir = temp_dir("labels");
        let a = dir.join("a.parquet");
        let b = dir.join("b.parquet");
        write_parquet(
            &a,
            vec![
                (
                    "clicked",
                    Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
                ),
                ("x", Arc::new(StringArray::from(vec!["u", "v"]))),
            ],
        );
        write_parquet(
            &b,
            vec![
                (
                    "clicked",
                    Arc::new(BooleanArray::from(vec![false])) as ArrayRef,
                ),
                ("x", Arc::new(StringArray::from(vec!["v"]))),
            ],
        );
        let schema = SchemaOptions::with_label("clicked");
        let (d, per_file) = read_parquet(&[a.clone(), b.clone()], &schema).unwrap();
        assert_eq!(per_file, vec![2, 1]);
        assert_eq!(d.labels, vec![1.0, 0.0, 0.0]);
        assert_eq!(d.row(2)[0], FieldValue::Categorical(2), "v keeps its code");
        // A string label against `positive`.
        let c = dir.join("c.parquet");
        write_parquet(
            &c,
            vec![
                (
                    "inc",
                    Arc::new(StringArray::from(vec![">50K", "<=50K"])) as ArrayRef,
                ),
                ("x", Arc::new(StringArray::from(vec!["u", "v"]))),
            ],
        );
        let mut schema = SchemaOptions::with_label("inc");
        let err = read_parquet(std::slice::from_ref(&c), &schema).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("c.parquet: row 1: column \"inc\""), "{msg}");
        assert!(
            msg.contains("\">50K\"") && msg.contains("--positive"),
            "{msg}"
        );
        schema.positive = Some(">50K".into());
        let (d, _) = read_parquet(std::slice::from_ref(&c), &schema).unwrap();
        assert_eq!(d.labels, vec![1.0, 0.0]);
        // Files with other columns.
        let err = read_parquet(&[a, c], &SchemaOptions::with_label("clicked")).unwrap_err();
        assert!(err.to_string().contains("c.parquet: the columns"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn bad_cells_name_file_row_and_column() {
        let dir = temp_dir("bad");
        let p = dir.join("bad.parquet");
        write_parquet(
            &p,
            vec![
                ("y", Arc::new(Int64Array::from(vec![1, 0, 1])) as ArrayRef),
                (
                    "score",
                    Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.0])) as ArrayRef,
                ),
                (
                    "rate",
                    Arc::new(Float64Array::from(vec![1.0, 2.0, f64::INFINITY])),
                ),
                ("txt", Arc::new(StringArray::from(vec!["1.5", "abc", "2"]))),
            ],
        );
        let mut schema = SchemaOptions::with_label("y");
        let err = read_parquet(std::slice::from_ref(&p), &schema).unwrap_err();
        assert!(
            err.to_string()
                .contains("bad.parquet: row 2: column \"score\": NaN is not a finite number"),
            "{err}"
        );
        schema.ignore = vec!["score".into()];
        let err = read_parquet(std::slice::from_ref(&p), &schema).unwrap_err();
        assert!(
            err.to_string()
                .contains("bad.parquet: row 3: column \"rate\": inf is not a finite number"),
            "{err}"
        );
        schema.ignore = vec!["score".into(), "rate".into()];
        schema.dense = vec!["txt".into()];
        let err = read_parquet(std::slice::from_ref(&p), &schema).unwrap_err();
        assert!(
            err.to_string()
                .contains("bad.parquet: row 2: column \"txt\": \"abc\" is not a finite number"),
            "{err}"
        );
        schema.dense.clear();
        let (d, _) = read_parquet(std::slice::from_ref(&p), &schema).unwrap();
        assert_eq!(
            d.fields[0].kind,
            FieldKind::Categorical,
            "strings stay categorical"
        );
        let nolabel = dir.join("nolabel.parquet");
        write_parquet(
            &nolabel,
            vec![
                (
                    "y",
                    Arc::new(Int64Array::from(vec![Some(1), Some(0), None])) as ArrayRef,
                ),
                ("x", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
            ],
        );
        let err = read_parquet(&[nolabel], &SchemaOptions::with_label("y")).unwrap_err();
        assert!(
            err.to_string()
                .contains("nolabel.parquet: row 3: column \"y\": the label is missing"),
            "{err}"
        );
        // Not Parquet at all; an unknown column.
        let not = dir.join("not.parquet");
        std::fs::write(&not, "y,a\n1,2\n").unwrap();
        let err = read_parquet(std::slice::from_ref(&not), &schema).unwrap_err();
        assert!(
            err.to_string()
                .contains("not.parquet: not a readable Parquet file"),
            "{err}"
        );
        schema.ignore = vec!["nope".into()];
        let err = read_parquet(std::slice::from_ref(&p), &schema).unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_corrupt_page_is_an_error_not_a_panic() {
        // Found by fuzzing: the arrow crates panic on this page's definition levels.
        let bytes = include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/bad_inputs/corrupt_page.parquet"
        ));
        let dir = temp_dir("corrupt");
        let p = dir.join("corrupt.parquet");
        std::fs::write(&p, bytes).unwrap();
        let err = read_parquet(std::slice::from_ref(&p), &SchemaOptions::with_label("y"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("corrupt.parquet: not a readable Parquet file")
                && err.contains("decoder failed"),
            "{err}"
        );
        // The hook stays silent only inside the decoder: a panic elsewhere still panics.
        let caught = std::panic::catch_unwind(|| panic!("outside the decoder"));
        assert!(caught.is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Writes the small Parquet files committed as test fixtures and fuzzing seeds into the
    /// folder `GLIDER_PARQUET_FIXTURES` names (run it by hand after a format change:
    /// `GLIDER_PARQUET_FIXTURES=/tmp/pq cargo test --release -p glider-data --features parquet
    /// -- --ignored write_parquet_fixtures`): `good.parquet` (label `y`, a float `a`, a string
    /// `b`, an integer `c`, 8 rows), `nan_dense.parquet` (the same with NaN in `a` on row 3)
    /// and `truncated.parquet` (`good.parquet` cut in half).
    #[test]
    #[ignore]
    fn write_parquet_fixtures() {
        let Some(dir) = std::env::var_os("GLIDER_PARQUET_FIXTURES") else {
            return;
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let columns = |a: Vec<f64>| -> Vec<(&str, ArrayRef)> {
            vec![
                (
                    "y",
                    Arc::new(Int64Array::from(vec![1, 0, 1, 0, 1, 0, 1, 0])) as ArrayRef,
                ),
                ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
                (
                    "b",
                    Arc::new(StringArray::from(vec![
                        "u", "v", "w", "u", "v", "w", "u", "v",
                    ])) as ArrayRef,
                ),
                (
                    "c",
                    Arc::new(Int64Array::from(vec![3, 1, 4, 1, 5, 9, 2, 6])) as ArrayRef,
                ),
            ]
        };
        let good: Vec<f64> = (0..8).map(|i| f64::from(i) * 0.5).collect();
        write_parquet(&dir.join("good.parquet"), columns(good.clone()));
        let mut nan = good;
        nan[2] = f64::NAN;
        write_parquet(&dir.join("nan_dense.parquet"), columns(nan));
        let bytes = std::fs::read(dir.join("good.parquet")).unwrap();
        std::fs::write(dir.join("truncated.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    }
}

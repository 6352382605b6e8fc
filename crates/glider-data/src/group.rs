//! Fields that span several columns: `--group NAME=PATTERN` reads the one-hot (or multi-hot)
//! columns whose names match PATTERN as one categorical field NAME, so that GLIDER switches
//! the whole field off and reports field-level interactions, never pairs of columns of one
//! field (issue 17).
//!
//! A row's value is the name of its hot column (a cell that is a non-zero number, or a text
//! other than `0`, `false` or a missing token), or the hot columns' names joined by `|` for
//! a multi-hot row; a row with no hot column is missing. The field's dictionary starts with
//! every column of the group, in header order (see [`block_columns`]), so that a model that
//! takes the block back as columns (an ONNX export) can be fed it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Column, DataError, Dataset, Field, FieldKind};

/// One `--group NAME=PATTERN`: the columns whose names match PATTERN (`*` stands for any
/// text, e.g. `occ_*`) become the categorical field NAME.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    /// The field's name.
    pub name: String,
    /// The columns' name pattern.
    pub pattern: String,
}

impl FromStr for GroupSpec {
    type Err = String;

    /// Parses `NAME=PATTERN`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((name, pattern)) if !name.trim().is_empty() && !pattern.trim().is_empty() => {
                Ok(GroupSpec {
                    name: name.trim().to_string(),
                    pattern: pattern.trim().to_string(),
                })
            }
            _ => Err(format!(
                "{s:?}: a group is NAME=PATTERN, as occupation=occ_* (the columns whose names \
                 match the pattern become field NAME)"
            )),
        }
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any text (possibly empty).
pub fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    if !name.ends_with(last) {
        return false;
    }
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Texts of a categorical cell that mean "not hot".
fn cold(text: &str) -> bool {
    matches!(
        text.trim(),
        "" | "0" | "0.0" | "false" | "False" | "FALSE" | "no" | "No"
    )
}

/// Merges each group's columns of `data` into one categorical field, placed where the
/// group's first column was.
///
/// # Errors
/// [`DataError::Schema`] naming the group: a pattern that matches no field (the fields
/// listed), a column matched by two groups, a group whose columns are not side by side, a
/// group name that is another field's.
pub fn group_columns(data: Dataset, specs: &[GroupSpec]) -> Result<Dataset, DataError> {
    if specs.is_empty() {
        return Ok(data);
    }
    let names: Vec<String> = data.fields.iter().map(|f| f.name.clone()).collect();
    let mut member: Vec<Option<usize>> = vec![None; names.len()];
    for (g, spec) in specs.iter().enumerate() {
        let hits: Vec<usize> = (0..names.len())
            .filter(|&i| matches(&spec.pattern, &names[i]))
            .collect();
        if hits.is_empty() {
            return Err(DataError::Schema(format!(
                "{}: group {}={} matches no column (the fields: {})",
                data.source,
                spec.name,
                spec.pattern,
                names.join(", ")
            )));
        }
        for &i in &hits {
            if let Some(other) = member[i] {
                return Err(DataError::Schema(format!(
                    "{}: column \"{}\" is in group {} and in group {}",
                    data.source, names[i], specs[other].name, spec.name
                )));
            }
            member[i] = Some(g);
        }
        if hits[hits.len() - 1] - hits[0] + 1 != hits.len() {
            return Err(DataError::Schema(format!(
                "{}: the columns of group {} ({}) are not side by side in the header; a field's \
                 columns must be adjacent, as one-hot exports write them",
                data.source,
                spec.name,
                hits.iter()
                    .map(|&i| names[i].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if let Some(i) = names
            .iter()
            .position(|n| *n == spec.name && !matches(&spec.pattern, n))
        {
            return Err(DataError::Schema(format!(
                "{}: group name {} is already column {} of the data; name the group otherwise",
                data.source,
                spec.name,
                i + 1
            )));
        }
    }
    let rows = data.num_rows();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    let mut old_columns: Vec<Option<Column>> = data.columns.into_iter().map(Some).collect();
    let mut i = 0;
    while i < names.len() {
        let Some(g) = member[i] else {
            fields.push(data.fields[i].clone());
            columns.push(
                old_columns[i]
                    .take()
                    .unwrap_or(Column::Dense { values: vec![] }),
            );
            i += 1;
            continue;
        };
        let block: Vec<usize> = (i..names.len())
            .take_while(|&j| member[j] == Some(g))
            .collect();
        let mut dictionary = vec![String::new()];
        dictionary.extend(block.iter().map(|&j| names[j].clone()));
        let mut index: std::collections::HashMap<String, u32> = dictionary
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, v)| (v.clone(), k as u32))
            .collect();
        let mut codes = Vec::with_capacity(rows);
        for r in 0..rows {
            let hot: Vec<&str> = block
                .iter()
                .filter(|&&j| match &old_columns[j] {
                    Some(Column::Dense { values }) => values[r].is_finite() && values[r] != 0.0,
                    Some(Column::Categorical { codes, dictionary }) => {
                        let c = codes[r] as usize;
                        c != 0 && !cold(&dictionary[c])
                    }
                    None => false,
                })
                .map(|&j| names[j].as_str())
                .collect();
            if hot.is_empty() {
                codes.push(0);
                continue;
            }
            let value = hot.join("|");
            let next = dictionary.len() as u32;
            let code = *index.entry(value.clone()).or_insert_with(|| {
                dictionary.push(value);
                next
            });
            codes.push(code);
        }
        for &j in &block {
            old_columns[j] = None;
        }
        fields.push(Field {
            name: specs[g].name.clone(),
            kind: FieldKind::Categorical,
        });
        columns.push(Column::Categorical { codes, dictionary });
        i += block.len();
    }
    Ok(Dataset {
        source: data.source,
        label_name: data.label_name,
        fields,
        labels: data.labels,
        label_classes: data.label_classes,
        columns,
    })
}

/// The columns of field `field` of `data` when it is one of `specs`' groups (as
/// [`group_columns`] made it): in header order; `None` for any other field.
pub fn block_columns(data: &Dataset, field: usize, specs: &[GroupSpec]) -> Option<Vec<String>> {
    let name = &data.fields.get(field)?.name;
    specs.iter().find(|s| s.name == *name)?;
    match &data.columns[field] {
        Column::Categorical { dictionary, .. } => Some(
            dictionary
                .iter()
                .skip(1)
                .take_while(|v| !v.contains('|') && matches_any(specs, name, v))
                .cloned()
                .collect(),
        ),
        Column::Dense { .. } => None,
    }
}

/// Whether `column` matches the pattern of the group named `name`.
fn matches_any(specs: &[GroupSpec], name: &str, column: &str) -> bool {
    specs
        .iter()
        .any(|s| s.name == name && matches(&s.pattern, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_shell_globs() {
        assert!(matches("occ_*", "occ_a"));
        assert!(matches("occ_*", "occ_"));
        assert!(!matches("occ_*", "oc_a"));
        assert!(matches("*_x", "a_x"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXcYYb"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
        assert!("occupation=occ_*".parse::<GroupSpec>().is_ok());
        assert!("occupation".parse::<GroupSpec>().is_err());
        assert!("=occ_*".parse::<GroupSpec>().is_err());
    }

    fn table() -> Dataset {
        let dense = |v: &[f32]| Column::Dense { values: v.to_vec() };
        let names = ["x", "occ_a", "occ_b", "occ_c", "y"];
        Dataset {
            source: "t.csv".into(),
            label_name: "label".into(),
            fields: names
                .iter()
                .map(|n| Field {
                    name: n.to_string(),
                    kind: FieldKind::Dense,
                })
                .collect(),
            labels: vec![0.0; 4],
            label_classes: vec![],
            columns: vec![
                dense(&[1.0, 2.0, 3.0, 4.0]),
                dense(&[1.0, 0.0, 0.0, 1.0]),
                dense(&[0.0, 1.0, 0.0, 0.0]),
                dense(&[0.0, 0.0, 0.0, 1.0]),
                dense(&[5.0, 6.0, 7.0, 8.0]),
            ],
        }
    }

    /// One-hot columns become one field in their place: a hot column's name, a multi-hot
    /// row's names joined by `|`, missing for a row with none hot; the block's columns come
    /// back from the dictionary.
    #[test]
    fn one_hot_columns_become_one_field() {
        let specs = vec!["occupation=occ_*".parse::<GroupSpec>().unwrap()];
        let data = group_columns(table(), &specs).unwrap();
        assert_eq!(data.field_names(), ["x", "occupation", "y"]);
        let Column::Categorical { codes, dictionary } = &data.columns[1] else {
            panic!("not categorical")
        };
        let values: Vec<&str> = codes
            .iter()
            .map(|&c| dictionary[c as usize].as_str())
            .collect();
        assert_eq!(values, ["occ_a", "occ_b", "", "occ_a|occ_c"]);
        assert_eq!(codes[2], 0);
        assert_eq!(
            block_columns(&data, 1, &specs),
            Some(vec!["occ_a".into(), "occ_b".into(), "occ_c".into()])
        );
        assert_eq!(block_columns(&data, 0, &specs), None);
        assert_eq!(
            data.columns[2],
            Column::Dense {
                values: vec![5.0, 6.0, 7.0, 8.0]
            }
        );
    }

    #[test]
    fn bad_groups_are_named() {
        let err = |t: Dataset, g: &[&str]| {
            let specs: Vec<GroupSpec> = g.iter().map(|s| s.parse().unwrap()).collect();
            group_columns(t, &specs).err().unwrap().to_string()
        };
        let e = err(table(), &["o=zz_*"]);
        assert!(e.contains("matches no column (the fields: x, occ_a"), "{e}");
        let e = err(table(), &["o=occ_*", "p=occ_a"]);
        assert!(e.contains("\"occ_a\" is in group o and in group p"), "{e}");
        let e = err(table(), &["y=occ_*"]);
        assert!(e.contains("group name y is already column 5"), "{e}");
        let mut apart = table();
        apart.fields[0].name = "v_1".into();
        apart.fields[4].name = "v_2".into();
        let e = err(apart, &["v=v_*"]);
        assert!(e.contains("not side by side"), "{e}");
    }
}

//! `--config run.toml`: a TOML file that holds any flag of the subcommand it is given to,
//! keyed by the flag's long name (`epochs = 5`, `categorical = ["user", "item"]`,
//! `resume = true`; `-` and `_` are interchangeable). Flags given on the command line win
//! over the file. The effective configuration of a run, every flag with its value, is written
//! back in the same format as `config.toml` beside the outputs, so
//! `glider run --config out/x/config.toml` repeats the run.

use anyhow::Result;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::ffi::OsString;

use crate::cli::Usage;

/// Arguments that never go into a configuration file.
const SKIPPED: [&str; 3] = ["help", "version", "config"];

/// Finds `--config PATH` (or `--config=PATH`) in `argv`, and returns `argv` with the file's
/// settings inserted after the subcommand, for every flag the command line does not set
/// itself. Without `--config`, returns `argv` unchanged.
///
/// # Errors
/// A usage error for an unreadable file, TOML syntax errors (with line and column), a key that
/// is no flag of the subcommand, or a value of the wrong kind.
pub fn expand(cmd: &Command, argv: Vec<OsString>) -> Result<Vec<OsString>> {
    let Some(path) = config_path(&argv) else {
        return Ok(argv);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Usage(format!("cannot read the config file {path}: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| Usage(format!("{path}: not valid TOML: {e}")))?;

    // A lenient parse finds the subcommand and which flags the command line sets itself.
    let lenient = cmd.clone().ignore_errors(true);
    // --help, --version and the like: the real parse answers them.
    let Ok(matches) = lenient.try_get_matches_from(argv.iter()) else {
        return Ok(argv);
    };
    let mut chain = Vec::new();
    let mut leaf_cmd = cmd;
    let mut leaf = &matches;
    while let Some((name, sub)) = leaf.subcommand() {
        chain.push(name.to_string());
        match leaf_cmd.find_subcommand(name) {
            Some(c) => leaf_cmd = c,
            None => break,
        }
        leaf = sub;
    }
    if chain.is_empty() {
        return Err(Usage(format!(
            "{path}: --config needs a subcommand (glider run --config {path})"
        ))
        .into());
    }
    let command_name = format!("glider {}", chain.join(" "));

    let mut options = Vec::new();
    let mut positionals = Vec::new();
    for (key, value) in &table {
        let wanted = key.replace('_', "-");
        let arg = leaf_cmd
            .get_arguments()
            .chain(cmd.get_arguments().filter(|a| a.is_global_set()))
            .find(|a| {
                a.get_long() == Some(wanted.as_str())
                    || a.get_id().as_str().replace('_', "-") == wanted
            })
            .filter(|a| !SKIPPED.contains(&a.get_id().as_str()));
        let Some(arg) = arg else {
            return Err(Usage(format!(
                "{path}: `{key}` is not a setting of `{command_name}` (see `{command_name} --help`)"
            ))
            .into());
        };
        let id = arg.get_id().as_str();
        if from_command_line(leaf, id) || from_command_line(&matches, id) {
            continue;
        }
        let values = to_strings(value)
            .ok_or_else(|| Usage(format!("{path}: `{key}` has a value of an unsupported kind (use a string, number, boolean or array)")))?;
        if arg.is_positional() {
            positionals.extend(values.into_iter().map(OsString::from));
            continue;
        }
        let long = arg.get_long().unwrap_or(id);
        if is_switch(arg) {
            match value.as_bool() {
                Some(true) => options.push(OsString::from(format!("--{long}"))),
                Some(false) => {}
                None => {
                    return Err(
                        Usage(format!("{path}: `{key}` is a switch: write true or false")).into(),
                    )
                }
            }
        } else if matches!(arg.get_action(), ArgAction::Count) {
            let n = value.as_integer().unwrap_or(0).max(0);
            for _ in 0..n {
                options.push(OsString::from(format!("--{long}")));
            }
        } else {
            for v in values {
                options.push(OsString::from(format!("--{long}={v}")));
            }
        }
    }

    // Insert after the last subcommand token, so global flags and the subcommand keep their
    // places; positional values from the file go at the end.
    let mut at = 1;
    let mut k = 0;
    for (i, a) in argv.iter().enumerate().skip(1) {
        if k < chain.len() && a.to_str() == Some(chain[k].as_str()) {
            k += 1;
            at = i + 1;
        }
    }
    let mut out: Vec<OsString> = argv[..at].to_vec();
    out.extend(options);
    out.extend(argv[at..].iter().cloned());
    out.extend(positionals);
    Ok(out)
}

fn config_path(argv: &[OsString]) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            return None;
        }
        if a == "--config" {
            return it.next().map(|p| p.to_string_lossy().into_owned());
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(p.to_string());
        }
    }
    None
}

fn from_command_line(m: &ArgMatches, id: &str) -> bool {
    matches!(m.try_contains_id(id), Ok(true))
        && m.value_source(id) == Some(ValueSource::CommandLine)
}

fn is_switch(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse)
}

fn to_strings(value: &toml::Value) -> Option<Vec<String>> {
    match value {
        toml::Value::String(s) => Some(vec![s.clone()]),
        toml::Value::Integer(i) => Some(vec![i.to_string()]),
        toml::Value::Float(f) => Some(vec![f.to_string()]),
        toml::Value::Boolean(b) => Some(vec![b.to_string()]),
        toml::Value::Array(items) => {
            let parts: Option<Vec<Vec<String>>> = items.iter().map(to_strings).collect();
            Some(vec![parts?
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(",")])
        }
        _ => None,
    }
}

/// The effective configuration of the parsed subcommand: every flag with its value (from the
/// command line, the config file or its default), as TOML that [`expand`] reads back.
/// The first lines are comments naming the subcommand.
pub fn effective(cmd: &Command, matches: &ArgMatches) -> String {
    let mut chain = Vec::new();
    let mut leaf_cmd = cmd;
    let mut leaf = matches;
    while let Some((name, sub)) = leaf.subcommand() {
        chain.push(name.to_string());
        match leaf_cmd.find_subcommand(name) {
            Some(c) => leaf_cmd = c,
            None => break,
        }
        leaf = sub;
    }
    let mut table = toml::Table::new();
    for arg in leaf_cmd.get_arguments().chain(cmd.get_arguments()) {
        let id = arg.get_id().as_str();
        // How the output looks is no part of what was computed.
        let presentation = ["json", "quiet", "verbose"].contains(&id);
        if SKIPPED.contains(&id) || presentation || table.contains_key(&key_of(arg)) {
            continue;
        }
        let source = if arg.is_global_set() { matches } else { leaf };
        let Ok(Some(raw)) = source.try_get_raw(id) else {
            // A global flag is stored on the leaf when given after the subcommand.
            if let Ok(Some(raw)) = leaf.try_get_raw(id) {
                insert(
                    &mut table,
                    arg,
                    raw.map(|v| v.to_string_lossy().into_owned()).collect(),
                );
            }
            continue;
        };
        insert(
            &mut table,
            arg,
            raw.map(|v| v.to_string_lossy().into_owned()).collect(),
        );
    }
    let body = toml::to_string(&table).unwrap_or_default();
    format!(
        "# The effective configuration of `glider {}` (every flag: command line, --config file or default).\n\
         # Repeat with: glider {} --config config.toml\n{body}",
        chain.join(" "),
        chain.join(" ")
    )
}

fn key_of(arg: &Arg) -> String {
    arg.get_long()
        .map(str::to_string)
        .unwrap_or_else(|| arg.get_id().as_str().replace('_', "-"))
}

fn insert(table: &mut toml::Table, arg: &Arg, raw: Vec<String>) {
    let key = key_of(arg);
    let value = if is_switch(arg) {
        toml::Value::Boolean(raw.first().is_some_and(|v| v == "true"))
    } else if matches!(arg.get_action(), ArgAction::Count) {
        toml::Value::Integer(raw.first().and_then(|v| v.parse().ok()).unwrap_or(0))
    } else if matches!(arg.get_action(), ArgAction::Append) || raw.len() > 1 {
        toml::Value::Array(raw.iter().map(|v| scalar(v)).collect())
    } else {
        match raw.first() {
            Some(v) => scalar(v),
            None => return,
        }
    };
    table.insert(key, value);
}

fn scalar(v: &str) -> toml::Value {
    if let Some(i) = v.parse::<i64>().ok().filter(|i| i.to_string() == v) {
        toml::Value::Integer(i)
    } else if let Ok(f) = v.parse::<f64>() {
        if f.is_finite() {
            toml::Value::Float(f)
        } else {
            toml::Value::String(v.to_string())
        }
    } else {
        toml::Value::String(v.to_string())
    }
}

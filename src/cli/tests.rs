//! The command line's own tests: defaults, --help examples, the README's commands.

use clap::{CommandFactory, Parser};

use glider_app::data::DataOptions;
use glider_app::settings::{CrossSettings, GliderSettings, MainChoice, ModelSettings, NidOptions};

use super::{Cli, Command};

/// Parses a flattened group of flags from no arguments (every flag at its default).
fn parse_defaults<T: clap::Args>(extra: &[&str]) -> T {
    #[derive(clap::Parser)]
    struct Wrap<T: clap::Args> {
        #[command(flatten)]
        inner: T,
    }
    let argv = std::iter::once("glider").chain(extra.iter().copied());
    match Wrap::<T>::try_parse_from(argv) {
        Ok(w) => w.inner,
        Err(e) => panic!("defaults do not parse: {e}"),
    }
}

/// The command line's defaults are the library's (the Python package and `glider demo` take
/// those), so every front end runs with the same settings.
#[test]
fn flag_defaults_are_the_library_defaults() {
    assert_eq!(
        parse_defaults::<GliderSettings>(&[]),
        GliderSettings::default()
    );
    assert_eq!(
        parse_defaults::<ModelSettings>(&[]),
        ModelSettings::default()
    );
    assert_eq!(
        parse_defaults::<CrossSettings>(&[]),
        CrossSettings::default()
    );
    assert_eq!(parse_defaults::<NidOptions>(&[]), NidOptions::default());
    assert_eq!(
        parse_defaults::<DataOptions>(&["--data", "f.csv"]),
        DataOptions {
            data: "f.csv".into(),
            ..DataOptions::default()
        }
    );
}

/// Every `glider …` and `cargo run --release -- …` command line in README.md's code
/// blocks, with `\` continuations joined and `#` comments dropped.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let text = line.split(" #").next().unwrap_or("").trim();
        if let Some(head) = text.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(text);
        let full = std::mem::take(&mut pending);
        let words = split_words(&full);
        let args: Vec<String> = match words.first().map(String::as_str) {
            Some("glider") => words,
            Some("cargo") if words.iter().any(|w| w == "--") => {
                let at = words.iter().position(|w| w == "--").unwrap_or(0);
                std::iter::once("glider".to_string())
                    .chain(words[at + 1..].iter().cloned())
                    .collect()
            }
            _ => continue,
        };
        out.push(args);
    }
    out
}

/// Shell-like word splitting with single and double quotes.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Every subcommand (and bench subcommand) shows an example in its --help.
#[test]
fn every_subcommand_help_has_an_example() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{path} {}", sub.get_name());
            if sub.has_subcommands() {
                walk(sub, &name, missing);
                continue;
            }
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !after.contains("glider ") {
                missing.push(name);
            }
        }
    }
    let mut missing = Vec::new();
    walk(&Cli::command(), "glider", &mut missing);
    assert!(missing.is_empty(), "no example in --help: {missing:?}");
}

/// The README cannot drift: every command line it shows parses with the real parser,
/// and every subcommand (and bench subcommand) appears in it.
#[test]
fn readme_commands_parse_and_cover_every_subcommand() {
    let commands = readme_commands();
    assert!(commands.len() >= 10, "found only {commands:?}");
    for args in &commands {
        match Cli::try_parse_from(args) {
            Ok(_) => {}
            // Required flags may come from the --config file, which the README only names.
            Err(e)
                if args.iter().any(|a| a == "--config")
                    && e.kind() == clap::error::ErrorKind::MissingRequiredArgument => {}
            Err(e) => panic!("README command {args:?} does not parse: {e}"),
        }
    }
    let readme = include_str!("../../README.md");
    let cli = Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        assert!(
            readme.contains(&format!("glider {name}")) || readme.contains(&format!("-- {name}")),
            "subcommand {name} is not in README.md"
        );
        for inner in sub.get_subcommands() {
            let full = format!("glider {name} {}", inner.get_name());
            assert!(
                inner.get_name() == "help" || readme.contains(&full),
                "{full} is not in README.md"
            );
        }
    }
}

/// The command line of issue 3, bare `--main-effects` included, parses.
#[test]
fn issue_nid_command_line_parses() {
    let cli = Cli::try_parse_from([
        "glider",
        "nid",
        "--data",
        "f.csv",
        "--label",
        "y",
        "--task",
        "regression",
        "--main-effects",
        "--cutoff",
        "--seed",
        "3",
        "--ensemble",
        "2",
        "--out",
        "d",
    ])
    .expect("parses");
    let Command::Nid(args) = cli.command else {
        panic!("not nid");
    };
    assert_eq!(args.nid.main_effects, Some(MainChoice::Univariate));
    assert!(args.nid.cutoff);
    assert_eq!((args.seed, args.nid.ensemble), (3, Some(2)));
}

/// `--preset` with flags beside it: the flags override the preset, bare `--mix-plain` means
/// true and `--mix-plain false` turns it off.
#[test]
fn nid_presets_parse_with_overrides() {
    use glider_app::settings::NidPreset;
    let parse = |extra: &[&str]| {
        let argv = ["glider", "nid", "--data", "f.csv"];
        let cli = Cli::try_parse_from(argv.iter().chain(extra)).expect("parses");
        match cli.command {
            Command::Nid(args) => args.nid,
            _ => panic!("not nid"),
        }
    };
    let o = parse(&["--preset", "reference", "--ensemble", "3", "--mix-plain"]);
    assert_eq!(o.preset, NidPreset::Reference);
    assert_eq!((o.ensemble, o.mix_plain), (Some(3), Some(true)));
    let o = parse(&["--mix-plain", "false", "--lr-decay", "0.9"]);
    assert_eq!(o.preset, NidPreset::Best);
    assert_eq!((o.mix_plain, o.lr_decay), (Some(false), Some(0.9)));
    assert!(Cli::try_parse_from(["glider", "nid", "--data", "f", "--preset", "fast"]).is_err());
}

#[test]
fn split_words_handles_quotes() {
    assert_eq!(
        split_words(r#"glider run --positive ">50K" --x 'a b'"#),
        vec!["glider", "run", "--positive", ">50K", "--x", "a b"]
    );
}

//! `glider encode` and `glider synth`: interactions as cross features on files (spec 3.3),
//! and synthetic click data with planted interactions.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use glider_app::data::DataOptions;
use glider_app::encode::CrossSource;
use glider_app::usage;

use crate::ui::say;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["interactions", "apply"])))]
pub(super) struct EncodeArgs {
    #[command(flatten)]
    data: DataOptions,
    /// A global_interactions.json (from `glider run`, `detect` or `merge`): fit one cross per
    /// interaction on the rows of --data.
    #[arg(long, value_name = "FILE")]
    interactions: Option<PathBuf>,
    /// A crosses.json fitted before (by `glider run` or `glider encode`): append its crosses
    /// to --data unchanged.
    #[arg(long, value_name = "FILE")]
    apply: Option<PathBuf>,
    /// Encode only the first K interactions (default: all in the file).
    #[arg(long)]
    top_k: Option<usize>,
    /// Bins of a numeric member of a cross: about equal row counts, a value holding many rows
    /// (a mass of zeros) in a bin of its own. Coarser than the field's own encoding, since
    /// per-value members make crosses too sparse; 100 is the GLIDER reference.
    #[arg(long, default_value_t = 8)]
    bins: usize,
    /// A value tuple gets its own id when seen more than this many times: N =
    /// max(N, 1e-4 × rows) (the reference rule), `auto` = max(10, 1e-4 × rows, 1.5 × √rows).
    #[arg(long, default_value = "10", value_name = "N|auto")]
    cross_min_count: glider_data::cross::CrossMinCount,
    /// Output folder: data.csv (--data with the cross columns appended) and, with
    /// --interactions, crosses.json.
    #[arg(long)]
    out: PathBuf,
}

/// The synthetic CTR generator's settings (planted field interactions, spec 3 ground truth).
#[derive(Args, Debug, Clone)]
pub(super) struct SynthArgs {
    /// Rows of synthetic data.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Cardinality of each field (comma separated; one field per entry).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,10,8,6,12,100,50,30,20,40,25,15"
    )]
    cardinalities: Vec<usize>,
    /// Planted interactions: field sets separated by `;`, fields by `,` (0-based).
    #[arg(long, default_value = "0,1;2,3;4,8,11")]
    planted: String,
    /// Zipf exponent of the value frequencies (0 = uniform).
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// Standard deviation of the per-value main effects (logits).
    #[arg(long, default_value_t = 0.3)]
    main_effect_std: f64,
    /// Standard deviation of the planted tuple effects (logits).
    #[arg(long, default_value_t = 1.0)]
    interaction_std: f64,
    /// Global bias (logits).
    #[arg(long, default_value_t = -1.0)]
    bias: f64,
    /// Seed of the data.
    #[arg(long = "data-seed", default_value_t = 1)]
    data_seed: u64,
    /// Draw a random layout from this seed instead (8-16 fields of random cardinalities,
    /// Zipf exponent, effect scales, and 2-4 planted sets of order 2-4 on random fields; the
    /// seed is also the data seed): only --rows is kept from the flags above. planted.json
    /// records the layout.
    #[arg(
        long,
        conflicts_with_all = ["cardinalities", "planted", "zipf", "main_effect_std", "interaction_std", "bias", "data_seed"]
    )]
    layout_seed: Option<u64>,
}

impl SynthArgs {
    pub(super) fn config(&self) -> Result<glider_core::synth::SynthCtrConfig> {
        if let Some(seed) = self.layout_seed {
            let cfg = glider_core::synth::SynthCtrConfig::random_layout(seed, self.rows);
            cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
            return Ok(cfg);
        }
        let cfg = glider_core::synth::SynthCtrConfig {
            rows: self.rows,
            cardinalities: self.cardinalities.clone(),
            zipf_exponent: self.zipf,
            main_effect_std: self.main_effect_std,
            planted: parse_sets(&self.planted, self.cardinalities.len())?,
            interaction_std: self.interaction_std,
            set_scales: Vec::new(),
            bias: self.bias,
            seed: self.data_seed,
        };
        cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(cfg)
    }
}

#[derive(Args, Debug)]
pub(super) struct SynthCmdArgs {
    #[command(flatten)]
    synth: SynthArgs,
    /// Output folder: data.csv (label `click`, fields f0, f1, …) and planted.json.
    #[arg(long)]
    out: PathBuf,
}

/// Parses `0,1;3,4` into field sets.
pub(super) fn parse_sets(text: &str, fields: usize) -> Result<Vec<Vec<usize>>> {
    text.split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|set| {
            let v = set
                .split(',')
                .map(|x| {
                    let i: usize = x
                        .trim()
                        .parse()
                        .with_context(|| format!("--planted: {x:?} is not a field index"))?;
                    if i >= fields {
                        usage!("--planted: field {i} does not exist ({fields} fields)");
                    }
                    Ok(i)
                })
                .collect::<Result<Vec<_>>>()?;
            if v.len() < 2 {
                usage!("--planted: {set:?} has fewer than two fields");
            }
            Ok(v)
        })
        .collect()
}

impl EncodeArgs {
    /// Whether no crosses.json is written (`--apply`): the `--json` result is printed here.
    pub(super) fn writes_no_spec(&self) -> bool {
        self.apply.is_some()
    }
}

pub(super) fn encode(args: EncodeArgs) -> Result<()> {
    let source = match (&args.interactions, &args.apply) {
        (Some(path), _) => CrossSource::Fit {
            interactions: path.clone(),
            top_k: args.top_k,
            bins: args.bins,
            min_count: args.cross_min_count,
        },
        (None, Some(path)) => CrossSource::Apply(path.clone()),
        (None, None) => usage!("give --interactions FILE or --apply crosses.json"),
    };
    let done = glider_app::encode::encode_file(&args.data, &source, &args.out)?;
    let names: Vec<String> = done
        .crosses
        .iter()
        .map(|(name, tuples)| format!("{name} ({tuples} tuples)"))
        .collect();
    say!(
        "Appended {} cross feature(s) to {} rows: {}\nWrote {}/data.csv{}",
        done.crosses.len(),
        done.rows,
        names.join(", "),
        args.out.display(),
        if done.wrote_spec {
            " and crosses.json"
        } else {
            ""
        }
    );
    if !done.wrote_spec {
        crate::ui::result(
            "encode",
            Some(&args.out),
            &serde_json::json!({
                "rows": done.rows,
                "crosses": done.crosses.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            }),
        )?;
    }
    Ok(())
}

pub(super) fn synth(args: SynthCmdArgs) -> Result<()> {
    let config = args.synth.config()?;
    say!(
        "{}",
        glider_app::output::write_synthetic(&config, &args.out)?
    );
    Ok(())
}

#![warn(missing_docs)]
//! glider-core: the methods of NID and GLIDER with no tensor library.
//!
//! - [`nid`]: interaction strengths from MLP weights (ALGORITHMS.md 1.2-1.4; Tsang et al.,
//!   ICLR 2018).
//! - [`aggregate`]: GLIDER's global counting and top-K selection (3.2).
//! - [`metrics`]: ROC-AUC, logloss, paired t-test, detection AUC and R-precision (1.6).
//! - [`perturb`]: MADEX field masks around one instance (3.1).
//! - [`cross`]: quantile bins and tuple vocabularies for cross features (3.3).
//! - [`synth`]: synthetic CTR data with planted interactions (ground truth).

pub mod aggregate;
pub mod archdetect;
pub mod cross;
pub mod local_functions;
pub mod metrics;
pub mod nid;
pub mod perturb;
pub mod synth;
pub mod synthetic_functions;

/// A seed for item `index` derived from a run's `seed` (SplitMix64 finaliser), so every
/// instance, trial or fit has its own stream whatever order they run in.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

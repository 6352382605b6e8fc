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

//! `calibrate`: synthetic data, fit, then CLUE interval coverage.

use crate::files::CliError;
use crate::SynthArgs;

/// Runs the calibration experiment.
pub fn calibrate(_args: &SynthArgs) -> Result<(), CliError> {
    Err(CliError::Usage("calibrate is not available yet".into()))
}

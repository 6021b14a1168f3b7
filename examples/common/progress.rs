//! Progress bars for the long-running examples, on stderr and only when
//! stderr is a terminal: in CI or with stderr piped to a file they draw
//! nothing (the bars are hidden, so their updates cost next to nothing).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what`, showing the count, the rate and
/// the time left; hidden unless stderr is a terminal.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_length(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>12} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec}, eta {eta}) {msg}",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(what.to_owned());
    bar
}

/// A spinner labelled `what` whose position is a count that goes down
/// (e.g. events still to process); hidden unless stderr is a terminal.
/// Only some of the examples that include this file use it.
#[allow(dead_code)]
pub fn spinner(what: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {human_pos} {prefix}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

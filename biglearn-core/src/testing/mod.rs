//! The public storage conformance suite (feature `testing`).

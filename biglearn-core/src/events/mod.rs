//! Typed course and ecosystem events of the wire protocol (api.md §4–§5).

//! Policy: the denylist rules (with source, date and confidence) and the verdict a flow
//! earns from its hops.
//!
//! Rules live in `denylists/*.tsv`, a human-editable tab-separated format documented in
//! `denylists/README.md`. The bundled files are compiled in; users add their own with
//! `--denylist FILE`.

mod rule;
pub mod verdict;

pub use rule::{Category, Confidence, Denylist, Rule, RuleError, RuleId, RuleKind};

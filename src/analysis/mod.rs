//! A study's analysis: its results gathered from the runs ([`gather`]), the statistics
//! ([`stats`]: Welch, Holm, power), the family of comparisons and its verdicts ([`compare`]),
//! each section's tables, figures and conclusion ([`results`]), the runs and histories as polars
//! frames ([`frames`]), and the summary ([`summary`]). A sequential study judges its family at
//! looks ([`sequential`]) against group-sequential boundaries ([`boundaries`]).
//! The statistics compare each variant's score — best validation accuracy, or the test accuracy
//! of the best epoch ([`crate::plan::Score`]) — with its section's reference.
pub mod boundaries;
pub mod compare;
pub mod frames;
pub mod gather;
pub mod results;
pub mod sequential;
pub mod stats;
pub mod summary;

pub use crate::table::{Show, Table};
pub use compare::{Comparison, Family, Member, Verdict};
pub use frames::{history_frame, runs_frame};
pub use gather::{
    LookProgress, best_model, confusion, export_files, family, family_over, look_progress,
    section_runs, variant_runs,
};
pub use results::{BestModel, SectionResult, VariantResult, confusion_matrix};
pub use summary::{overrides_table, presets_table, summary_effects, summary_table};

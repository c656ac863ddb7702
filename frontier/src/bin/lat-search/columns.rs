//! The TSV column flags of the classification subcommands, and reading a file with them.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use lat_model::DataError;
use lat_model::data::{ClassificationDataset, TsvColumns, read_glue_tsv};

/// Which columns hold the texts and the label, and what the label values mean.
#[derive(Args, Debug, Clone)]
pub struct ColumnArgs {
    /// Column of the (first) text.
    #[arg(long, default_value = "sentence")]
    pub text_a: String,
    /// Column of the second text, for sentence-pair tasks.
    #[arg(long)]
    pub text_b: Option<String>,
    /// Column of the label.
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// The label column's values in label-index order, comma-separated, when they differ
    /// from the model's class names (e.g. `0,1` for the shipped `negative,positive` model).
    #[arg(long, value_delimiter = ',')]
    pub label_values: Option<Vec<String>>,
}

impl ColumnArgs {
    /// Reads `path` for a model whose classes are `labels`; a label value outside them is
    /// answered with the model's labels and the flag that maps other values onto them.
    pub fn read(&self, path: &Path, labels: &[String]) -> Result<ClassificationDataset> {
        let columns = TsvColumns {
            text_a: self.text_a.clone(),
            text_b: self.text_b.clone(),
            label: self.label_column.clone(),
            labels: Some(self.label_values.clone().unwrap_or_else(|| labels.to_vec())),
        };
        read_glue_tsv(path, &columns).map_err(|e| match e {
            DataError::UnknownLabel { .. } if self.label_values.is_none() => anyhow::anyhow!(
                "{e}: the model's labels are {labels:?}; if the label column uses other \
                 values, pass them in that order with --label-values (e.g. --label-values 0,1)"
            ),
            other => anyhow::Error::from(other).context(format!("reading {}", path.display())),
        })
    }
}

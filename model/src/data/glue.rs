//! GLUE-style TSV for sequence classification: a header row naming the columns, then one
//! example per line with a single text or a text pair and a label. UTF-8, tab-separated.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::DataError;

/// Which columns hold the texts and the label, and (optionally) the label set.
#[derive(Debug, Clone, PartialEq)]
pub struct TsvColumns {
    /// Column of the first text (SST-2: `sentence`).
    pub text_a: String,
    /// Column of the second text, for pair tasks (MNLI: `sentence2`).
    pub text_b: Option<String>,
    /// Column of the label.
    pub label: String,
    /// The label names in index order; `None` takes the sorted set found in the file.
    pub labels: Option<Vec<String>>,
}

impl TsvColumns {
    /// SST-2's layout: `sentence`, `label`.
    pub fn single(text: &str, label: &str) -> Self {
        Self {
            text_a: text.into(),
            text_b: None,
            label: label.into(),
            labels: None,
        }
    }

    /// A pair task's layout.
    pub fn pair(text_a: &str, text_b: &str, label: &str) -> Self {
        Self {
            text_b: Some(text_b.into()),
            ..Self::single(text_a, label)
        }
    }
}

/// One labelled input.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationExample {
    /// First text.
    pub text_a: String,
    /// Second text of a pair.
    pub text_b: Option<String>,
    /// Index into [`ClassificationDataset::labels`].
    pub label: usize,
}

/// A read TSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassificationDataset {
    /// The file.
    pub path: PathBuf,
    /// Examples in file order.
    pub examples: Vec<ClassificationExample>,
    /// Label names, index order.
    pub labels: Vec<String>,
    /// Blank lines passed over (counted so that nothing is dropped silently).
    pub blank_lines: usize,
}

/// Reads a GLUE-style TSV file; errors name the file and the 1-based line.
pub fn read_glue_tsv(
    path: &Path,
    columns: &TsvColumns,
) -> Result<ClassificationDataset, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, header)) => header.split('\t').collect(),
        None => {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                header: header.iter().map(|h| h.to_string()).collect(),
            })
    };
    let a = column(&columns.text_a)?;
    let b = columns.text_b.as_deref().map(column).transpose()?;
    let l = column(&columns.label)?;

    let mut rows = Vec::new();
    let mut blank_lines = 0;
    for (index, line) in lines {
        if line.trim().is_empty() {
            blank_lines += 1;
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != header.len() {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                line: index + 1,
                reason: format!("{} fields, header has {}", fields.len(), header.len()),
            });
        }
        rows.push((
            index + 1,
            fields[a].trim(),
            b.map(|b| fields[b].trim()),
            fields[l].trim(),
        ));
    }

    let labels = match &columns.labels {
        Some(labels) => labels.clone(),
        None => sorted_labels(rows.iter().map(|r| r.3)),
    };
    let examples =
        rows.into_iter()
            .map(|(line, text_a, text_b, label)| {
                let label = labels.iter().position(|l| l == label).ok_or_else(|| {
                    DataError::UnknownLabel {
                        path: path.to_path_buf(),
                        line,
                        label: label.to_string(),
                    }
                })?;
                Ok(ClassificationExample {
                    text_a: text_a.into(),
                    text_b: text_b.map(Into::into),
                    label,
                })
            })
            .collect::<Result<_, DataError>>()?;
    Ok(ClassificationDataset {
        path: path.to_path_buf(),
        examples,
        labels,
        blank_lines,
    })
}

/// Distinct labels, numerically ordered when all are integers, else lexically.
fn sorted_labels<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = labels.collect();
    let mut labels: Vec<String> = set.into_iter().map(String::from).collect();
    if labels.iter().all(|l| l.parse::<i64>().is_ok()) {
        labels.sort_by_key(|l| l.parse::<i64>().unwrap_or_default());
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("lat-glue-{}-{name}.tsv", std::process::id()));
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_single_and_pair_layouts() {
        let path = write("single", "sentence\tlabel\na fine film \t1\n\nawful \t0\n");
        let data = read_glue_tsv(&path, &TsvColumns::single("sentence", "label")).expect("valid");
        assert_eq!(data.labels, vec!["0", "1"]);
        assert_eq!(
            data.examples[0],
            ClassificationExample {
                text_a: "a fine film".into(),
                text_b: None,
                label: 1
            }
        );
        assert_eq!((data.examples.len(), data.blank_lines), (2, 1));

        let path = write(
            "pair",
            "id\tp\th\tgold\n1\tA man sleeps.\tA man rests.\tentailment\n",
        );
        let mut columns = TsvColumns::pair("p", "h", "gold");
        columns.labels = Some(vec![
            "contradiction".into(),
            "entailment".into(),
            "neutral".into(),
        ]);
        let data = read_glue_tsv(&path, &columns).expect("valid");
        assert_eq!(data.examples[0].text_b.as_deref(), Some("A man rests."));
        assert_eq!(data.examples[0].label, 1);
    }

    #[test]
    fn numeric_labels_sort_numerically() {
        let path = write("numeric", "t\tl\nx\t10\ny\t2\nz\t1\n");
        let data = read_glue_tsv(&path, &TsvColumns::single("t", "l")).expect("valid");
        assert_eq!(data.labels, vec!["1", "2", "10"]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let columns = TsvColumns::single("sentence", "label");
        let path = write("short", "sentence\tlabel\nok\t1\nno label here\n");
        match read_glue_tsv(&path, &columns) {
            Err(DataError::Malformed { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a malformed line, got {other:?}"),
        }
        let path = write("column", "text\tlabel\nok\t1\n");
        let err = read_glue_tsv(&path, &columns).expect_err("no sentence column");
        assert!(matches!(err, DataError::MissingColumn { ref column, .. } if column == "sentence"));
        let mut given = columns.clone();
        given.labels = Some(vec!["0".into(), "1".into()]);
        let path = write("label", "sentence\tlabel\nok\t1\nodd\t7\n");
        match read_glue_tsv(&path, &given) {
            Err(DataError::UnknownLabel { line, label, .. }) => {
                assert_eq!((line, label.as_str()), (3, "7"))
            }
            other => panic!("expected an unknown label, got {other:?}"),
        }
        let missing = Path::new("/nonexistent/dev.tsv");
        assert!(matches!(
            read_glue_tsv(missing, &columns),
            Err(DataError::Io { .. })
        ));
    }
}

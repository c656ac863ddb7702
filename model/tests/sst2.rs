//! The GLUE reader on the real SST-2 files in `../shared/data` (or `$LAT_DATA_DIR`), against
//! the counts the data README verified.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use lat_model::data::{TsvColumns, read_glue_tsv};

fn data_dir() -> PathBuf {
    std::env::var_os("LAT_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

#[test]
fn sst2_dev_and_train_have_the_published_counts() {
    let columns = TsvColumns::single("sentence", "label");
    let dev = read_glue_tsv(&data_dir().join("sst2/dev.tsv"), &columns).unwrap();
    assert_eq!(dev.labels, vec!["0", "1"]);
    let positive = dev.examples.iter().filter(|e| e.label == 1).count();
    assert_eq!(
        (dev.examples.len(), positive, dev.blank_lines),
        (872, 444, 0)
    );
    assert_eq!(
        dev.examples[0].text_a,
        "it 's a charming and often affecting journey ."
    );

    let train = read_glue_tsv(&data_dir().join("sst2/train.tsv"), &columns).unwrap();
    let positive = train.examples.iter().filter(|e| e.label == 1).count();
    assert_eq!((train.examples.len(), positive), (67_349, 37_569));
}

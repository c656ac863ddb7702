//! The GLUE reader on the real SST-2 files in `../shared/data` (or `$LAT_DATA_DIR`), against
//! the counts the data README verified.
#![allow(clippy::unwrap_used)]

mod common;

use lat_model::data::{TsvColumns, read_glue_tsv};

#[test]
fn sst2_dev_and_train_have_the_published_counts() {
    let (Some(dev_path), Some(train_path)) = (
        common::shared_data("sst2/dev.tsv"),
        common::shared_data("sst2/train.tsv"),
    ) else {
        return;
    };
    let columns = TsvColumns::single("sentence", "label");
    let dev = read_glue_tsv(&dev_path, &columns).unwrap();
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

    let train = read_glue_tsv(&train_path, &columns).unwrap();
    let positive = train.examples.iter().filter(|e| e.label == 1).count();
    assert_eq!((train.examples.len(), positive), (67_349, 37_569));
}

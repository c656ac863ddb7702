//! Loading HF-layout checkpoints written from scratch: both prefix conventions, heads
//! loaded or initialised, Linear transposes, and a typed error naming the culprit for every
//! way a checkpoint can be broken.
#![allow(clippy::unwrap_used)]

mod common;

use common::{device, encoder_tensors, scratch_dir, tiny_checkpoint, values, write_safetensors};
use lat_model::{
    BertConfig, BertForQuestionAnswering, BertForSequenceClassification, BertModel, ConfigError,
    LoadError,
};

fn config() -> BertConfig {
    BertConfig::tiny(2)
}

#[test]
fn bare_encoder_loads_into_every_model_type_with_transposed_linears() {
    let config = config();
    let tensors = encoder_tensors(&config, "");
    let dir = tiny_checkpoint("bare", &config, &tensors);
    let stored = write_safetensors(&dir.join("model.safetensors"), &tensors, 3);

    let encoder = BertModel::load(&dir, &device()).unwrap();
    assert!(encoder.report.initialised.is_empty());
    assert!(encoder.model.pooler.is_some());
    // HF stores Linear weights [out, in]; burn keeps [in, out].
    let query = tensors
        .iter()
        .position(|(n, _)| n == "encoder.layer.1.attention.self.query.weight")
        .unwrap();
    let d = config.hidden_size;
    let loaded = values(encoder.model.encoder.layer[1].attention.query.weight.val());
    let (out, inp) = (3, 5);
    assert_eq!(loaded[inp * d + out], stored[query][out * d + inp]);
    let words = values(encoder.model.embeddings.word_embeddings.weight.val());
    assert_eq!(words, stored[0]);

    let classifier = BertForSequenceClassification::load(&dir, 3, &device()).unwrap();
    assert_eq!(classifier.report.initialised, vec!["classifier"]);
    let pooler = values(
        classifier
            .model
            .bert
            .pooler
            .as_ref()
            .unwrap()
            .dense
            .bias
            .as_ref()
            .unwrap()
            .val(),
    );
    assert_eq!(
        pooler,
        *stored.last().unwrap(),
        "pooler loads under the bert. prefix"
    );

    let qa = BertForQuestionAnswering::load(&dir, &device()).unwrap();
    assert_eq!(qa.report.initialised, vec!["qa_outputs"]);
}

#[test]
fn task_checkpoint_with_prefix_and_head_loads_everything() {
    let config = config();
    let mut tensors = encoder_tensors(&config, "bert.");
    tensors.push(("classifier.weight".into(), vec![2, config.hidden_size]));
    tensors.push(("classifier.bias".into(), vec![2]));
    let dir = tiny_checkpoint("task", &config, &tensors);
    let stored = write_safetensors(&dir.join("model.safetensors"), &tensors, 4);

    let loaded = BertForSequenceClassification::load(&dir, 2, &device()).unwrap();
    assert!(loaded.report.initialised.is_empty(), "{:?}", loaded.report);
    assert_eq!(
        values(loaded.model.classifier.bias.as_ref().unwrap().val()),
        *stored.last().unwrap()
    );
    // The bare encoder strips the prefix.
    let encoder = BertModel::load(&dir, &device()).unwrap();
    assert_eq!(
        values(encoder.model.embeddings.word_embeddings.weight.val()),
        stored[0]
    );
}

#[test]
fn missing_files_are_named() {
    let dir = scratch_dir("empty");
    match BertModel::load(&dir, &device()) {
        Err(LoadError::File { path, .. }) => assert!(path.ends_with("config.json")),
        other => panic!("expected a missing config.json, got {other:?}"),
    }
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string(&config()).unwrap(),
    )
    .unwrap();
    match BertModel::load(&dir, &device()) {
        Err(LoadError::File { path, .. }) => assert!(path.ends_with("model.safetensors")),
        other => panic!("expected a missing model.safetensors, got {other:?}"),
    }
    std::fs::write(dir.join("model.safetensors"), b"not a safetensors file").unwrap();
    assert!(matches!(
        BertModel::load(&dir, &device()),
        Err(LoadError::Safetensors { .. })
    ));
}

#[test]
fn missing_tensor_is_named_by_its_hf_name() {
    let config = config();
    let mut tensors = encoder_tensors(&config, "");
    tensors.retain(|(name, _)| name != "encoder.layer.1.output.dense.bias");
    let dir = tiny_checkpoint("missing", &config, &tensors);
    match BertModel::load(&dir, &device()) {
        Err(LoadError::MissingTensor { name, .. }) => {
            assert_eq!(name, "encoder.layer.1.output.dense.bias")
        }
        other => panic!("expected a missing tensor, got {other:?}"),
    }
}

#[test]
fn wrong_shapes_are_named_with_both_shapes() {
    let config = config();
    let mut tensors = encoder_tensors(&config, "");
    let target = "encoder.layer.0.intermediate.dense.weight";
    tensors
        .iter_mut()
        .filter(|(n, _)| n == target)
        .for_each(|(_, shape)| *shape = vec![60, 32]);
    let dir = tiny_checkpoint("shape", &config, &tensors);
    match BertModel::load(&dir, &device()) {
        Err(LoadError::TensorShape {
            name,
            expected,
            found,
            ..
        }) => {
            assert_eq!(
                (name.as_str(), expected, found),
                (target, vec![64, 32], vec![60, 32])
            );
        }
        other => panic!("expected a shape error, got {other:?}"),
    }

    // A stored head for another label count is an error, not a silent re-initialisation.
    let mut tensors = encoder_tensors(&config, "bert.");
    tensors.push(("classifier.weight".into(), vec![3, config.hidden_size]));
    tensors.push(("classifier.bias".into(), vec![3]));
    let dir = tiny_checkpoint("labels", &config, &tensors);
    let err = BertForSequenceClassification::load(&dir, 2, &device()).unwrap_err();
    assert!(
        matches!(err, LoadError::TensorShape { ref name, .. } if name == "classifier.weight"),
        "{err}"
    );
}

#[test]
fn unknown_architecture_is_rejected() {
    let mut config = serde_json::to_value(config()).unwrap();
    config["model_type"] = "t5".into();
    let dir = scratch_dir("arch");
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let err = BertModel::load(&dir, &device()).unwrap_err();
    assert!(
        matches!(err, LoadError::Config { source: ConfigError::UnknownArchitecture(ref t), .. } if t == "t5"),
        "{err}"
    );
    assert!(
        err.to_string().contains("unknown architecture `t5`"),
        "{err}"
    );
}

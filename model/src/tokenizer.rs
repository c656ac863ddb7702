//! The real tokenizer from `tokenizer.json` (HF `tokenizers`), configured as a server needs
//! it: no padding (the batch pads to its own longest input), truncation at the model's
//! maximum with HF's longest-first rule for pairs, special tokens from the file's template.

use std::path::Path;

use tokenizers::{EncodeInput, Tokenizer, TruncationParams};

use crate::error::{LoadError, TokenizeError};

/// One text, or a pair for tasks such as NLI or QA.
#[derive(Debug, Clone, Copy)]
pub enum TextInput<'a> {
    /// A single text: `[CLS] a [SEP]`.
    Single(&'a str),
    /// A pair: `[CLS] a [SEP] b [SEP]`, segment ids 0 then 1.
    Pair(&'a str, &'a str),
}

/// A tokenised input.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// Vocabulary ids, special tokens included.
    pub input_ids: Vec<u32>,
    /// Segment ids.
    pub token_type_ids: Vec<u32>,
    /// Character span `(start, end)` of every token in its text; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
}

/// A tokenised input and whether truncation cut it.
#[derive(Debug, Clone, PartialEq)]
pub struct Truncated {
    /// The input as the model sees it.
    pub encoded: Encoded,
    /// Tokens were dropped to fit the maximum length.
    pub truncated: bool,
}

/// A BERT WordPiece tokenizer loaded from `tokenizer.json`.
#[derive(Debug, Clone)]
pub struct BertTokenizer {
    inner: Tokenizer,
    /// The same tokenizer without truncation, for contexts cut into windows by the caller.
    whole: Tokenizer,
    max_length: usize,
}

/// Word pieces of one text, without special tokens or truncation.
#[derive(Debug, Clone, PartialEq)]
pub struct Pieces {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Character (not byte) span of each token in the text.
    pub char_offsets: Vec<(usize, usize)>,
}

impl BertTokenizer {
    /// Loads `tokenizer.json`, truncating inputs to `max_length` tokens.
    pub fn from_file(path: &Path, max_length: usize) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError::Tokenizer {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_file() {
            return Err(LoadError::File {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| fail(e.to_string()))?;
        // Some checkpoints pin fixed padding (all-MiniLM-L6-v2 pads to 128): drop it.
        inner.with_padding(None);
        let mut whole = inner.clone();
        whole
            .with_truncation(None)
            .map_err(|e| fail(e.to_string()))?;
        let truncation = TruncationParams {
            max_length,
            ..TruncationParams::default()
        };
        inner
            .with_truncation(Some(truncation))
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            inner,
            whole,
            max_length,
        })
    }

    /// Tokenises one input, adding special tokens and truncating.
    pub fn encode(&self, input: TextInput<'_>) -> Result<Encoded, TokenizeError> {
        self.encode_truncated(input).map(|t| t.encoded)
    }

    /// Tokenises one input once, adding special tokens, truncating, and saying whether
    /// truncation dropped anything.
    pub fn encode_truncated(&self, input: TextInput<'_>) -> Result<Truncated, TokenizeError> {
        let input: EncodeInput<'_> = match input {
            TextInput::Single(a) => a.into(),
            TextInput::Pair(a, b) => (a, b).into(),
        };
        let encoding = self
            .inner
            .encode(input, true)
            .map_err(|e| TokenizeError(e.to_string()))?;
        Ok(Truncated {
            truncated: !encoding.get_overflowing().is_empty(),
            encoded: Encoded {
                input_ids: encoding.get_ids().to_vec(),
                token_type_ids: encoding.get_type_ids().to_vec(),
                offsets: encoding.get_offsets().to_vec(),
            },
        })
    }

    /// The truncation length.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Id of `[PAD]` (0 when the vocabulary has none).
    pub fn pad_token_id(&self) -> u32 {
        self.inner.token_to_id("[PAD]").unwrap_or(0)
    }

    /// Word pieces of `text` with character offsets, no special tokens, no truncation.
    pub fn pieces(&self, text: &str) -> Result<Pieces, TokenizeError> {
        let encoding = self
            .whole
            .encode_char_offsets(text, false)
            .map_err(|e| TokenizeError(e.to_string()))?;
        Ok(Pieces {
            ids: encoding.get_ids().to_vec(),
            char_offsets: encoding.get_offsets().to_vec(),
        })
    }

    /// Id of `[CLS]`.
    pub fn cls_token_id(&self) -> u32 {
        self.inner.token_to_id("[CLS]").unwrap_or(101)
    }

    /// Id of `[SEP]`.
    pub fn sep_token_id(&self) -> u32 {
        self.inner.token_to_id("[SEP]").unwrap_or(102)
    }
}

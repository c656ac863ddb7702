//! The analytic FLOPs count: one function of (architecture, configuration, n) used by
//! training logs, search, the server and its metrics.
//!
//! It counts what the reference counts through torchprofile (reference notes, section 4):
//! every matmul (Q, K, V, O, both attention products, FFN, task head), one MAC per output
//! element of every LayerNorm (the embedding one included) and BERT's mask-scaling multiply;
//! not embedding lookups, bias or residual adds, softmax, GELU/tanh, 1/sqrt(d) scaling,
//! dropout or the token selection itself. The reference reports MACs; lat reports
//! FLOPs = 2 x MACs.
//!
//! With hidden size d, FFN size f, ℓ_0 = n, layer i seeing n_i = ℓ_{i-1} tokens in attention
//! and m_i = ℓ_i in its FFN:
//! MACs = n·d + [BERT] n + Σ_i (4 n_i d² + 2 n_i² d + n_i d + 2 m_i d f + m_i d) + head.

use crate::config::BertConfig;
use crate::length_config::LengthConfig;

/// Which reference model the count follows (they differ only by BERT's mask multiply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// BERT and BERT-shaped models such as MiniLM.
    Bert,
    /// DistilBERT (no extended-mask multiply).
    DistilBert,
}

/// The shape figures the count depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Architecture {
    /// Reference family.
    pub family: Family,
    /// Encoder layers L.
    pub num_layers: usize,
    /// Hidden size d.
    pub hidden_size: usize,
    /// FFN inner size f.
    pub intermediate_size: usize,
}

impl From<&BertConfig> for Architecture {
    fn from(config: &BertConfig) -> Self {
        Self {
            family: Family::Bert,
            num_layers: config.num_hidden_layers,
            hidden_size: config.hidden_size,
            intermediate_size: config.intermediate_size,
        }
    }
}

/// The task head on top of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Encoder only.
    None,
    /// Pooler (d x d on [CLS]) and classifier (d x C).
    SequenceClassification {
        /// Number of labels C.
        num_labels: usize,
    },
    /// Start/end projection (d x 2) over the restored full-length sequence.
    QuestionAnswering,
}

/// MACs for explicit per-layer output lengths `lengths` (ℓ_1..ℓ_L) on an input of `n`
/// tokens; `skipped[i]` removes layer i (its length must equal the previous one).
pub fn macs_for_lengths(
    arch: &Architecture,
    n: usize,
    lengths: &[usize],
    skipped: &[bool],
    head: Head,
) -> u64 {
    assert_eq!(lengths.len(), arch.num_layers, "one length per layer");
    assert_eq!(skipped.len(), arch.num_layers, "one skip flag per layer");
    let d = arch.hidden_size as u64;
    let f = arch.intermediate_size as u64;
    let t = n as u64;
    let mut total = t * d;
    if arch.family == Family::Bert {
        total += t;
    }
    let mut previous = t;
    for (&length, &skip) in lengths.iter().zip(skipped) {
        let (n_i, m_i) = (previous, length as u64);
        if !skip {
            total += 4 * n_i * d * d + 2 * n_i * n_i * d + n_i * d + 2 * m_i * d * f + m_i * d;
        }
        previous = m_i;
    }
    total
        + match head {
            Head::None => 0,
            Head::SequenceClassification { num_labels } => d * d + d * num_labels as u64,
            Head::QuestionAnswering => 2 * t * d,
        }
}

/// MACs of one input of `n` real tokens under a length configuration.
pub fn macs(arch: &Architecture, config: &LengthConfig, n: usize, head: Head) -> u64 {
    let skipped: Vec<bool> = (0..config.num_layers())
        .map(|l| config.is_skipped(l))
        .collect();
    macs_for_lengths(arch, n, &config.keep_counts(n), &skipped, head)
}

/// FLOPs (= 2 x MACs) of one input of `n` real tokens under a length configuration.
pub fn flops(arch: &Architecture, config: &LengthConfig, n: usize, head: Head) -> u64 {
    2 * macs(arch, config, n, head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(family: Family, num_layers: usize) -> Architecture {
        Architecture {
            family,
            num_layers,
            hidden_size: 768,
            intermediate_size: 3072,
        }
    }

    /// The reference's constant-ratio gene: ℓ_i = ceil(0.8 ℓ_{i-1}), at least 2.
    fn lower_bound_gene(t: usize, layers: usize) -> Vec<usize> {
        let mut previous = t;
        (0..layers)
            .map(|_| {
                previous = ((previous * 4).div_ceil(5)).max(2);
                previous
            })
            .collect()
    }

    fn reference_macs(family: Family, layers: usize, t: usize, gene: &[usize], head: Head) -> u64 {
        macs_for_lengths(&arch(family, layers), t, gene, &vec![false; layers], head)
    }

    #[test]
    fn reference_lower_bound_genes() {
        let squad = [308, 247, 198, 159, 128, 103, 83, 67, 54, 44, 36, 29];
        let glue = [103, 83, 67, 54, 44, 36, 29, 24, 20, 16, 13, 11];
        assert_eq!(lower_bound_gene(384, 12), squad);
        assert_eq!(lower_bound_gene(128, 12), glue);
    }

    #[test]
    fn reproduces_the_reference_table() {
        let qa = Head::QuestionAnswering;
        let mnli = Head::SequenceClassification { num_labels: 3 };
        let rows = [
            (
                Family::Bert,
                12,
                384,
                qa,
                35_340_779_904u64,
                11_779_692_672u64,
            ),
            (Family::Bert, 12, 128, mnli, 11_176_675_712, 3_888_354_944),
            (
                Family::DistilBert,
                6,
                384,
                qa,
                17_670_832_128,
                9_345_972_480,
            ),
            (
                Family::DistilBert,
                6,
                128,
                mnli,
                5_588_683_008,
                3_023_943_936,
            ),
        ];
        for (family, layers, t, head, full, lower) in rows {
            let all = vec![t; layers];
            assert_eq!(
                reference_macs(family, layers, t, &all, head),
                full,
                "{family:?} T={t}"
            );
            let gene = lower_bound_gene(t, layers);
            assert_eq!(
                reference_macs(family, layers, t, &gene, head),
                lower,
                "{family:?} T={t}"
            );
        }
    }

    #[test]
    fn reduced_configuration_by_hand() {
        // d = 4, f = 8, L = 2, n = 5, ratios (0.6, 0.4) -> kept (3, 2).
        // Embedding LN 5*4 = 20, mask 5.
        // Layer 1 (n=5, m=3): 4*5*16 + 2*25*4 + 5*4 + 2*3*4*8 + 3*4 = 320+200+20+192+12 = 744.
        // Layer 2 (n=3, m=2): 4*3*16 + 2*9*4 + 3*4 + 2*2*4*8 + 2*4 = 192+72+12+128+8 = 412.
        // Head, 2 labels: 4*4 + 4*2 = 24. Total 1205 MACs = 2410 FLOPs.
        let tiny = Architecture {
            family: Family::Bert,
            num_layers: 2,
            hidden_size: 4,
            intermediate_size: 8,
        };
        let config = LengthConfig::new(vec![0.6, 0.4]).expect("valid");
        let head = Head::SequenceClassification { num_labels: 2 };
        assert_eq!(macs(&tiny, &config, 5, head), 1205);
        assert_eq!(flops(&tiny, &config, 5, head), 2410);

        // Skipping layer 1 removes its 744 MACs; layer 2 then sees 5 tokens and keeps 2:
        // 4*5*16 + 2*25*4 + 5*4 + 2*2*4*8 + 2*4 = 320+200+20+128+8 = 676.
        let skip = config.with_skipped_layers(&[0]).expect("valid");
        assert_eq!(macs(&tiny, &skip, 5, head), 20 + 5 + 676 + 24);
    }

    #[test]
    fn keep_all_matches_the_closed_form() {
        // MiniLM-L6: d = 384, f = 1536. Per token 12 d² + d + 2 d f + d = 10,617,600,
        // plus 2 n² d per layer for attention, plus n d + n embedding terms.
        let minilm = Architecture {
            family: Family::Bert,
            num_layers: 6,
            hidden_size: 384,
            intermediate_size: 1536,
        };
        let n = 128u64;
        let per_layer =
            4 * n * 384 * 384 + 2 * n * n * 384 + n * 384 + 2 * n * 384 * 1536 + n * 384;
        let expected = n * 384 + n + 6 * per_layer;
        let config = LengthConfig::keep_all(6);
        assert_eq!(macs(&minilm, &config, 128, Head::None), expected);
    }
}

//! `POST /v1/classify`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lat_model::{BertTokenizer, Encoded, TextInput};

use crate::api::{ClassifyInput, ClassifyRequest, ClassifyResponse, ClassifyResult, LabelScore};
use crate::engine::Logits;
use crate::error::{ApiError, ErrorType};
use crate::extract::JsonBody;
use crate::infer::{SpentInput, account, admit, plan, run_all, tokenize_bounded};
use crate::routes::headers::spent_headers;
use crate::routes::outcome::record_outcome;
use crate::served::{ServedModel, ServedTask};
use crate::state::AppState;

/// Classifies one input or a list; each input gets its own point for its own length.
pub async fn classify(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<ClassifyRequest>,
) -> Response {
    let started = Instant::now();
    let model = match state.model_for(request.model.as_deref(), "classification") {
        Ok(model) => model,
        Err(e) => return e.into_response(),
    };
    let result = serve(&state, &model, request, started).await;
    record_outcome(&state.metrics, &model, started, result)
}

/// A tokenised input and whether it was cut.
struct Tokenised {
    encoded: Encoded,
    truncated: bool,
}

/// `text` cut to `max_chars` characters (and whether that cut anything) when `truncate`;
/// an error otherwise. Tokenising only what can matter bounds its time and memory.
fn capped(text: &str, max_chars: usize, truncate: bool) -> Result<(&str, bool), String> {
    match text.char_indices().nth(max_chars) {
        None => Ok((text, false)),
        Some((cut, _)) if truncate => Ok((&text[..cut], true)),
        Some(_) => Err(format!(
            "is longer than {max_chars} characters (--max-input-chars) and `truncate` is false"
        )),
    }
}

fn tokenise(
    tokenizer: &BertTokenizer,
    input: &ClassifyInput,
    max_chars: usize,
    truncate: bool,
) -> Result<Tokenised, String> {
    let (text, pair) = match input {
        ClassifyInput::Text(t) => (t.as_str(), None),
        ClassifyInput::Pair { text, text_pair } => (text.as_str(), Some(text_pair.as_str())),
    };
    let (text, cut) = capped(text, max_chars, truncate)?;
    let (pair, pair_cut) = match pair {
        Some(p) => capped(p, max_chars, truncate).map(|(p, c)| (Some(p), c))?,
        None => (None, false),
    };
    let t = tokenizer
        .encode_truncated(match pair {
            None => TextInput::Single(text),
            Some(p) => TextInput::Pair(text, p),
        })
        .map_err(|e| e.to_string())?;
    // Whitespace, control and zero-width characters give no tokens: such a text is empty.
    let segment = |id: u32| {
        t.encoded
            .token_type_ids
            .iter()
            .filter(|&&s| s == id)
            .count()
    };
    if segment(0) <= 2 || pair.is_some() && segment(1) <= 1 {
        return Err("is empty (no tokens after normalisation)".into());
    }
    Ok(Tokenised {
        encoded: t.encoded,
        truncated: t.truncated || cut || pair_cut,
    })
}

async fn serve(
    state: &AppState,
    model: &Arc<ServedModel>,
    request: ClassifyRequest,
    started: Instant,
) -> Result<Response, ApiError> {
    let ServedTask::Classification { labels } = &model.task else {
        return Err(ApiError::new(ErrorType::Internal, "not a classifier"));
    };
    let inputs: Vec<ClassifyInput> = request.input_list().into_iter().cloned().collect();
    if inputs.is_empty() {
        return Err(ApiError::validation("`inputs` is empty"));
    }
    if inputs.len() > state.http.max_client_batch {
        return Err(ApiError::validation(format!(
            "{} inputs in one request; at most {} (--max-client-batch)",
            inputs.len(),
            state.http.max_client_batch
        )));
    }
    let admitted = admit(model, &state.metrics, inputs.len(), started)?;
    let tokenizer = Arc::clone(&model.tokenizer);
    let max_chars = state.max_input_chars(model.max_length());
    let truncate = request.truncate;
    let tokenised = tokenize_bounded(state, move || {
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                tokenise(&tokenizer, input, max_chars, truncate)
                    .map_err(|e| format!("inputs[{i}] {e}"))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?
    .map_err(ApiError::validation)?;
    if !request.truncate
        && let Some(i) = tokenised.iter().position(|t| t.truncated)
    {
        return Err(ApiError::validation(format!(
            "inputs[{i}] is longer than the model's {} tokens and `truncate` is false",
            model.max_length()
        )));
    }
    let snapshot = &admitted.snapshot;
    let plans = tokenised
        .iter()
        .map(|t| {
            let n = t.encoded.input_ids.len();
            plan(
                model,
                snapshot,
                request.budget.as_ref(),
                request.strict,
                n,
                1,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = run_all(
        model,
        snapshot,
        tokenised
            .iter()
            .zip(&plans)
            .map(|(t, p)| (p.choice.point, t.encoded.clone())),
    )
    .await?;
    let mut results = Vec::with_capacity(outputs.len());
    for ((t, p), output) in tokenised.iter().zip(&plans).zip(outputs) {
        let Logits::Classes(logits) = &output.logits else {
            return Err(ApiError::new(
                ErrorType::Internal,
                "span logits from a classifier",
            ));
        };
        let n = t.encoded.input_ids.len();
        let spent = account(
            model,
            &state.metrics,
            &admitted,
            SpentInput {
                plan: p,
                flops: p.choice.flops,
                full_flops: p.choice.full_flops,
                input_tokens: n,
                kept_tokens: output.kept_tokens.clone(),
                queue: output.queue,
                compute: output.compute,
                batch_size: output.batch_size,
            },
        );
        results.push(result(labels, logits, t.truncated, spent));
    }
    let spent: Vec<_> = results.iter().map(|r| &r.spent).collect();
    let headers = spent_headers(&spent, started);
    let body = ClassifyResponse {
        model: model.name.clone(),
        results,
    };
    Ok((headers, axum::Json(body)).into_response())
}

fn result(
    labels: &[String],
    logits: &[f32],
    truncated: bool,
    spent: crate::api::Spent,
) -> ClassifyResult {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
    let total: f64 = exp.iter().sum();
    let mut scores: Vec<LabelScore> = labels
        .iter()
        .zip(&exp)
        .map(|(label, e)| LabelScore {
            label: label.clone(),
            score: e / total,
        })
        .collect();
    scores.sort_by(|a, b| b.score.total_cmp(&a.score));
    ClassifyResult {
        label: scores.first().map(|s| s.label.clone()).unwrap_or_default(),
        scores,
        truncated,
        spent,
    }
}

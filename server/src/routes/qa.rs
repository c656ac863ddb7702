//! `POST /v1/qa`: the context is cut into doc-stride windows, every window runs at the
//! same point, and the best span over all windows is the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use lat_model::data::{SquadExample, squad_features};
use lat_model::train::best_span;

use crate::api::{QaRequest, QaResponse};
use crate::engine::Logits;
use crate::error::{ApiError, ErrorType};
use crate::extract::JsonBody;
use crate::infer::{SpentInput, account, admit, plan, run_all, tokenize_bounded};
use crate::routes::headers::spent_headers;
use crate::routes::outcome::record_outcome;
use crate::served::{ServedModel, ServedTask};
use crate::state::AppState;

/// Answers one question from one context.
pub async fn qa(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<QaRequest>,
) -> Response {
    let started = Instant::now();
    let model = match state.model_for(request.model.as_deref(), "question-answering") {
        Ok(model) => model,
        Err(e) => return e.into_response(),
    };
    let result = serve(&state, &model, request, started).await;
    record_outcome(&state.metrics, &model, started, result)
}

async fn serve(
    state: &AppState,
    model: &Arc<ServedModel>,
    request: QaRequest,
    started: Instant,
) -> Result<Response, ApiError> {
    let ServedTask::QuestionAnswering { windows, decoding } = model.task else {
        return Err(ApiError::new(ErrorType::Internal, "not a QA model"));
    };
    let max_chars = state.max_input_chars(model.max_length());
    for (field, text) in [
        ("question", &request.question),
        ("context", &request.context),
    ] {
        if text.trim().is_empty() {
            return Err(ApiError::validation(format!("`{field}` is empty")));
        }
        if text.len() > max_chars && text.chars().nth(max_chars).is_some() {
            return Err(ApiError::validation(format!(
                "`{field}` is longer than {max_chars} characters (--max-input-chars)"
            )));
        }
    }
    // One permit before tokenising, so tokenising is admission-controlled too; the rest
    // once the window count is known.
    let mut admitted = admit(model, &state.metrics, 1, started)?;
    let tokenizer = Arc::clone(&model.tokenizer);
    let example = SquadExample {
        id: String::new(),
        title: String::new(),
        context: request.context.clone(),
        question: request.question.clone(),
        answers: Vec::new(),
    };
    let features = tokenize_bounded(state, move || {
        squad_features(std::slice::from_ref(&example), &tokenizer, windows)
    })
    .await?
    .map_err(|e| ApiError::validation(e.to_string()))?;
    // Whitespace, control and zero-width characters give no tokens.
    let Some(first) = features.first() else {
        return Err(ApiError::validation("`context` is empty (no tokens)"));
    };
    let segment = |id: u32| {
        first
            .encoded
            .token_type_ids
            .iter()
            .filter(|&&s| s == id)
            .count()
    };
    if segment(0) <= 2 {
        return Err(ApiError::validation(
            "`question` is empty (no tokens after normalisation)",
        ));
    }
    if segment(1) <= 1 {
        return Err(ApiError::validation(
            "`context` is empty (no tokens after normalisation)",
        ));
    }
    admitted.grow_to(model, &state.metrics, features.len())?;
    let snapshot = &admitted.snapshot;
    let longest = features
        .iter()
        .map(|f| f.encoded.input_ids.len())
        .max()
        .unwrap_or(0);
    let plan = plan(
        model,
        snapshot,
        request.budget.as_ref(),
        request.strict,
        longest,
        features.len(),
    )?;
    let point = plan.choice.point;
    let outputs = run_all(
        model,
        snapshot,
        features.iter().map(|f| (point, f.encoded.clone())),
    )
    .await?;
    let mut best: Option<(f32, (usize, usize))> = None;
    let (mut spent_flops, mut full_flops) = (0, 0);
    let mut queue = Duration::ZERO;
    let mut compute = Duration::ZERO;
    let mut batch_size = 0;
    let mut kept_tokens = Vec::new();
    for (feature, output) in features.iter().zip(&outputs) {
        let Logits::Spans { start, end } = &output.logits else {
            return Err(ApiError::new(
                ErrorType::Internal,
                "class logits from a QA model",
            ));
        };
        let n = feature.encoded.input_ids.len();
        let cost = snapshot.frontier.input_flops(point, n);
        spent_flops += cost.spent;
        full_flops += cost.full;
        queue = queue.max(output.queue);
        compute += output.compute;
        batch_size = batch_size.max(output.batch_size);
        if n == longest && kept_tokens.is_empty() {
            kept_tokens = output.kept_tokens.clone();
        }
        if let Some(span) = best_span(feature, start, end, decoding)
            && best.is_none_or(|(score, _)| span.score > score)
        {
            best = Some((span.score, span.chars));
        }
    }
    let spent = account(
        model,
        &state.metrics,
        &admitted,
        SpentInput {
            plan: &plan,
            flops: spent_flops,
            full_flops,
            input_tokens: longest,
            kept_tokens,
            queue,
            compute,
            batch_size,
        },
    );
    let headers = spent_headers(&[&spent], started);
    let answer = best.map(|(_, (s, e))| request.context.chars().skip(s).take(e - s).collect());
    let body = QaResponse {
        model: model.name.clone(),
        answer,
        start: best.map(|(_, (s, _))| s),
        end: best.map(|(_, (_, e))| e),
        score: best.map(|(score, _)| f64::from(score)),
        windows: features.len(),
        spent,
    };
    Ok((headers, axum::Json(body)).into_response())
}

//! The JSON API under `/api/v1/` (docs/serve.md documents every endpoint and field).

use crate::App;
use crate::view::{self, Error, Params, Searchable};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_store::{Store, StoreError};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Error::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Error::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

type Answer = Result<Json<Value>, Error>;

fn run_json(cx: &view::Context) -> Value {
    json!({ "scope": cx.scope, "run": cx.run })
}

/// `GET /api/v1/runs[?scope=]`: the runs of a scope (every scope with `scope=*`), oldest first.
pub(crate) async fn runs(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Answer {
    app.read(move |s, default| {
        if p.scope.as_deref() == Some("*") {
            return Ok(Json(json!({ "runs": s.runs(None)? })));
        }
        let cx = p.context(s, default)?;
        Ok(Json(json!({ "scope": cx.scope, "runs": cx.runs })))
    })
    .await
}

/// `GET /api/v1/gaps`: the gaps of a run (the latest by default), filtered.
pub(crate) async fn gaps(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Answer {
    app.read(move |s, default| {
        let cx = p.context(s, default)?;
        let filter = p.filter(s, &cx)?;
        let rows: Vec<view::GapRow> = view::gaps(s, &cx)?
            .into_iter()
            .filter(|(g, r)| filter.keeps(g, r))
            .map(|(_, r)| r)
            .collect();
        let mut v = run_json(&cx);
        v["count"] = rows.len().into();
        v["gaps"] = serde_json::to_value(rows).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Json(v))
    })
    .await
}

/// `GET /api/v1/gaps/{id}`: one gap in full, with first/last seen and its history.
pub(crate) async fn gap(State(app): State<Arc<App>>, Path(id): Path<String>, Query(p): Query<Params>) -> Answer {
    app.read(move |s, default| {
        let cx = p.context(s, default)?;
        let (g, row) = view::gaps(s, &cx)?
            .into_iter()
            .find(|(g, _)| g.id == id)
            .ok_or_else(|| Error::NotFound(format!("gap {id} is not in run {} of scope {:?}", cx.run.id, cx.scope)))?;
        let mut v = run_json(&cx);
        v["gap"] = serde_json::to_value(g.with(&[])).map_err(|e| Error::Internal(e.to_string()))?;
        v["last_seen"] = row.last_seen.into();
        v["history"] =
            serde_json::to_value(s.gap_history(&cx.scope, &id)?).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Json(v))
    })
    .await
}

/// `GET /api/v1/identities[?q=]`: the run's identities with their credentials.
pub(crate) async fn identities(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Answer {
    listing(app, p, "identities", Store::run_identities).await
}

/// `GET /api/v1/agents[?q=]`: the run's agents.
pub(crate) async fn agents(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Answer {
    listing(app, p, "agents", Store::run_agents).await
}

/// A list of the run's inventory, as `read` reads it, kept to the entries matching `q`, under
/// `key` with its `count`.
async fn listing<T: Searchable + Serialize + Send + 'static>(
    app: Arc<App>,
    p: Params,
    key: &'static str,
    read: fn(&Store, i64) -> Result<Vec<T>, StoreError>,
) -> Answer {
    app.read(move |s, default| {
        let cx = p.context(s, default)?;
        let list: Vec<T> = read(s, cx.run.id)?
            .into_iter()
            .filter(|x| view::matches(&p.q, &x.search_text()))
            .collect();
        let mut v = run_json(&cx);
        v["count"] = list.len().into();
        v[key] = serde_json::to_value(list).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Json(v))
    })
    .await
}

/// Reads a diff: `to` defaults to the scope's latest run, `from` to the run before `to`.
pub(crate) fn read_diff(
    s: &roster_store::Store,
    default: Option<&str>,
    p: &Params,
) -> Result<(view::Context, roster_store::Diff), Error> {
    let cx = view::context(s, default, &p.scope, view::run_number("to", &p.to)?)?;
    let from = view::run_number("from", &p.from)?;
    if let Some(f) = from
        && !cx.runs.iter().any(|r| r.id == f)
    {
        return Err(Error::NotFound(format!("run {f} is not a run of scope {:?}", cx.scope)));
    }
    let d = s.diff(&cx.scope, from, Some(cx.run.id))?.ok_or_else(|| {
        Error::NotFound(format!(
            "run {} is the first run of scope {:?}: there is nothing earlier to compare it with",
            cx.run.id, cx.scope
        ))
    })?;
    Ok((cx, d))
}

/// `GET /api/v1/diff?from=&to=`: new and resolved gaps between two runs of one scope.
pub(crate) async fn diff(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Answer {
    app.read(move |s, default| {
        let (_, d) = read_diff(s, default, &p)?;
        Ok(Json(
            serde_json::to_value(d).map_err(|e| Error::Internal(e.to_string()))?,
        ))
    })
    .await
}

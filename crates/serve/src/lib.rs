//! `roster serve`: a read-only web dashboard and JSON API over the state database.
//!
//! - Pages (server-rendered HTML, no script, one stylesheet served by the binary, a strict
//!   Content-Security-Policy): overview, gaps (filters and search), a gap, owners, inventory,
//!   runs and the diff between two runs.
//! - API under `/api/v1/` (documented in docs/serve.md): `runs`, `gaps`, `gaps/{id}`,
//!   `identities`, `agents`, `diff`.
//! - Access (the `access` module, and [`check_listen`]): with a token, every request must carry
//!   it (`Authorization: Bearer`, or the session cookie the login form sets), else 401; without
//!   one, only loopback addresses may be listened on.
//!
//! Nothing here writes to the database: the store is opened once (which migrates an older file,
//! as every command does) and then only read.

mod access;
mod api;
mod pages;
mod view;

use axum::Router;
use axum::routing::get;
use roster_store::{Location, Store};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use access::check_listen;

/// What `roster serve` was asked to do.
pub struct Options {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The bearer token every request must carry; none means loopback only.
    pub token: Option<String>,
    /// The state database.
    pub db: Location,
    /// The scope shown by default (else the scope of the latest run).
    pub scope: Option<String>,
}

/// What every handler shares.
pub(crate) struct App {
    /// The store; taken out (and closed off the async threads) when the server stops.
    store: Mutex<Option<Store>>,
    token: Option<access::Token>,
    scope: Option<String>,
}

impl App {
    /// Runs a read of the store off the async threads.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store, Option<&str>) -> Result<T, view::Error> + Send + 'static,
    ) -> Result<T, view::Error> {
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let store = app
                .store
                .lock()
                .map_err(|_| view::Error::Internal("the state database lock is poisoned".into()))?;
            let store = store
                .as_ref()
                .ok_or_else(|| view::Error::Internal("the server is stopping".into()))?;
            f(store, app.scope.as_deref())
        })
        .await
        .map_err(|e| view::Error::Internal(format!("a request failed: {e}")))?
    }
}

/// The dashboard and API as one router (exposed for tests and embedding).
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/gaps", get(pages::gaps))
        .route("/gaps/{id}", get(pages::gap))
        .route("/owners", get(pages::owners))
        .route("/inventory", get(pages::inventory))
        .route("/runs", get(pages::runs))
        .route("/diff", get(pages::diff))
        .route("/api/v1/runs", get(api::runs))
        .route("/api/v1/gaps", get(api::gaps))
        .route("/api/v1/gaps/{id}", get(api::gap))
        .route("/api/v1/identities", get(api::identities))
        .route("/api/v1/agents", get(api::agents))
        .route("/api/v1/diff", get(api::diff))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&app), access::require))
        .route("/login", get(access::login_page).post(access::login))
        .route("/assets/style.css", get(pages::stylesheet))
        .route("/assets/icon.svg", get(pages::icon))
        .route("/favicon.ico", get(pages::icon))
        .layer(axum::middleware::from_fn(access::headers))
        .with_state(app)
}

/// Serves until `shutdown` completes; `ready` is called with the bound address once requests
/// are accepted.
pub async fn serve(
    o: Options,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    check_listen(o.listen, o.token.as_deref())?;
    if let Location::File(db) = &o.db
        && !db.exists()
    {
        return Err(format!(
            "no state database at {}: run `roster discover` first (or pass the --state-dir it used; runs recorded in PostgreSQL are read with ROSTER_DATABASE_URL set)",
            db.display()
        ));
    }
    // The PostgreSQL client blocks: it is opened, used and closed on blocking threads only.
    let location = o.db.clone();
    let store = tokio::task::spawn_blocking(move || Store::open_at(&location))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let app = Arc::new(App {
        store: Mutex::new(Some(store)),
        token: o.token.as_deref().map(access::Token::new),
        scope: o.scope,
    });
    let listener = tokio::net::TcpListener::bind(o.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", o.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {}: {e}", o.listen))?;
    ready(addr);
    let served = axum::serve(listener, router(Arc::clone(&app)))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("the server on {addr} stopped: {e}"));
    let store = app.store.lock().ok().and_then(|mut s| s.take());
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    served
}

//! The clerk desk (`/desk/`): server-rendered pages in Vietnamese for the people who work
//! the registry every day — sign-in and accounts, uploads, the review queue, a document's
//! view with its corrections and actions, the dashboard. Every page and action checks the
//! signed-in account's role and units; every state-changing form carries a CSRF token.

pub mod actions;
pub mod auth_pages;
pub mod dashboard;
pub mod document;
pub mod layout;
pub mod queue;
pub mod upload;
/// Checks of a clerk's corrections (shared with the admin API).
pub mod validate;

use axum::Router;

use crate::web::SharedState;

/// Every desk route. Each part of the desk adds its own router here.
pub fn router() -> Router<SharedState> {
    Router::new()
        .merge(auth_pages::router())
        .merge(upload::router())
        .merge(layout::router())
        .merge(queue::router())
        .merge(document::router())
        .merge(dashboard::router())
        .merge(actions::router())
        // Last, so that it wraps every desk route: `no-store`, flash messages.
        .layer(axum::middleware::from_fn(layout::frame))
}

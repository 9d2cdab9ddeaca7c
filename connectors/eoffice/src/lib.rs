//! The e-office exchange hub (VXP, QCVN 102 transport) as seen by a system that receives
//! documents: a client for the hub's verbs with pluggable authentication, retries and a
//! circuit breaker ([`HubClient`]); the drop folder an SFTP export fills
//! ([`DropFolder`]); and, with the `fake-hub` feature, a hub to test against
//! ([`fake_hub::FakeHub`]). Packages are bytes here: `connectors/edxml` reads them, and
//! the service decides what they mean. Knows nothing of vanban's database.

pub mod auth;
mod client;
mod dropfolder;
mod model;

#[cfg(feature = "fake-hub")]
pub mod fake_hub;

pub use auth::{
    Auth, DEFAULT_CANONICAL, OAuth2ClientCredentials, SignatureEncoding, TimestampFormat,
    VxpSigning,
};
pub use client::{CircuitPolicy, HubClient, HubConfig, HubError, RetryPolicy};
pub use dropfolder::{Claimed, DropFolder};
pub use model::{AckStatus, EdocSummary, Envelope};

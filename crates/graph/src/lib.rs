//! The Graph face of workbookd: request paths resolved to one `Operation` per Graph doc page,
//! bearer tokens to a caller, one handler per operation, and the one `GraphError` with its
//! envelope. The only crate that knows HTTP.

pub mod auth;
mod batch;
mod catch_panic;
pub mod context;
mod control;
mod drive;
pub mod dto;
mod duration;
pub mod error;
pub mod faults;
mod functions;
#[doc(hidden)]
pub mod fuzz_checks;
mod handlers;
mod items;
mod metrics;
pub mod navigate;
mod odata;
pub mod openapi;
mod range;
pub mod resolve;
pub mod server;
pub mod throttle;

pub use auth::{AuthMode, KeySource, Principal, Verifier};
pub use duration::parse_duration;
pub use error::GraphError;
pub use range::{DEFAULT_MAX_READ_CELLS, DEFAULT_MAX_WRITE_CELLS};
pub use resolve::{resolve, ApiVersion, DriveRef, ItemAddress, ItemRef, Operation, Resolved};
pub use server::{router, ServerConfig};

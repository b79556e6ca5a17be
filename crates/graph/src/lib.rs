//! The Graph face of workbookd: request paths resolved to one `Operation` per Graph doc page,
//! and the one `GraphError` with its envelope. HTTP handlers build on these.

pub mod error;
pub mod http;
pub mod resolve;

pub use error::GraphError;
pub use resolve::{resolve, ApiVersion, DriveRef, ItemAddress, ItemRef, Operation, Resolved};

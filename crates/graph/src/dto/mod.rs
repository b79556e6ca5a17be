//! Typed request bodies: what each Graph page accepts, read in one place.

mod body;
pub mod requests;
pub mod responses;

pub use body::{property, Body, Request};

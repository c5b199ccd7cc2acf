//! Terraform plugin protocol 6 server on tonic and prost.
//!
//! Owns: the go-plugin handshake and process lifecycle (`serve`), the wire
//! protocol and its conversions (`server`, `codec`), the value and schema
//! model (`value`, `schema`), framework planning (`plan`), diagnostics
//! (`diag`), logging in Terraform's format (`logging`) and the interface
//! providers implement (`provider`). Does not own: any resource logic; only
//! this crate touches wire types.

#![deny(missing_docs)]

/// Generated protocol types (prost/tonic). Resource code never needs these.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    /// Terraform plugin protocol 6.
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    /// go-plugin's controller, stdio and broker services.
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
    /// gRPC health checking.
    pub mod health {
        tonic::include_proto!("grpc.health.v1");
    }
}

pub mod codec;
pub mod diag;
pub mod logging;
mod plan;
pub mod provider;
pub mod schema;
pub mod serve;
pub mod server;
pub mod tls;
pub mod typed;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use provider::{
    ApplyRequest, ApplyResponse, Ctx, DataReadResponse, DataSource, DeleteRequest,
    EphemeralOpenResponse, EphemeralResource, Function, FunctionDefinition, FunctionError,
    FunctionParameter, ImportRequest, ImportResponse, ImportedResource, ListEvent, ListRequest,
    ListResource, ListSink, MoveRequest, MoveResponse, PlanRequest, PlanResponse, Provider,
    ReadRequest, ReadResponse, Resource,
};
pub use schema::{Attribute, Block, NestedBlock, NestingMode, Schema};
pub use serve::{ServeError, ServeOptions, serve};
pub use value::{AttrPath, Number, PathStep, Type, Value, ValueError};

/// Re-exported so providers implement the traits without their own dependency.
pub use async_trait::async_trait;

//! The gRPC adapter for protocol 6: implements the generated `Provider`
//! service on top of our `Provider` trait.
//!
//! Owns: the one place where each RPC of the generated service is handed to
//! the module of its family: schema, validation and configuration
//! (`config`), the managed resource lifecycle (`resource`), stored state
//! upgrades, identities and moves (`upgrade`), data sources and functions
//! (`data`), ephemeral resources (`ephemeral`) and list resources (`list`).
//! Every problem becomes a diagnostic in the response; a gRPC error is only
//! returned for what the protocol itself cannot express. Does not own: the
//! handshake and listeners (see `serve`).

mod config;
mod data;
mod ephemeral;
mod list;
mod resource;
mod service;
mod upgrade;
mod wire;

use tonic::{Request, Response};

use crate::proto::tfplugin6 as pb;

pub use service::ProviderService;
use service::Res;
pub use wire::{diags_to_proto, path_to_proto, schema_to_proto};

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    type ListResourceStream = list::EventStream;

    async fn get_metadata(
        &self,
        r: Request<pb::get_metadata::Request>,
    ) -> Res<pb::get_metadata::Response> {
        config::metadata(self, r).await
    }

    async fn get_provider_schema(
        &self,
        r: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        config::provider_schema(self, r).await
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        config::validate_provider(self, r).await
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        config::validate_resource(self, r).await
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        config::validate_data_source(self, r).await
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        upgrade::upgrade_state(self, r).await
    }

    async fn get_resource_identity_schemas(
        &self,
        r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Res<pb::get_resource_identity_schemas::Response> {
        upgrade::identity_schemas(self, r).await
    }

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> Res<pb::upgrade_resource_identity::Response> {
        upgrade::upgrade_identity(self, r).await
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        config::configure(self, r).await
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        resource::read(self, r).await
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        resource::plan(self, r).await
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        resource::apply(self, r).await
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        resource::import(self, r).await
    }

    async fn move_resource_state(
        &self,
        r: Request<pb::move_resource_state::Request>,
    ) -> Res<pb::move_resource_state::Response> {
        upgrade::move_state(self, r).await
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        data::read(self, r).await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Res<pb::validate_ephemeral_resource_config::Response> {
        ephemeral::validate(self, r).await
    }

    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Res<pb::open_ephemeral_resource::Response> {
        ephemeral::open(self, r).await
    }

    async fn renew_ephemeral_resource(
        &self,
        r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Res<pb::renew_ephemeral_resource::Response> {
        ephemeral::renew(r).await
    }

    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Res<pb::close_ephemeral_resource::Response> {
        ephemeral::close(self, r).await
    }

    async fn validate_list_resource_config(
        &self,
        r: Request<pb::validate_list_resource_config::Request>,
    ) -> Res<pb::validate_list_resource_config::Response> {
        list::validate(self, r).await
    }

    async fn list_resource(
        &self,
        r: Request<pb::list_resource::Request>,
    ) -> Res<Self::ListResourceStream> {
        list::list(self, r).await
    }

    async fn get_functions(
        &self,
        r: Request<pb::get_functions::Request>,
    ) -> Res<pb::get_functions::Response> {
        data::functions(self, r).await
    }

    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> Res<pb::call_function::Response> {
        data::call_function(self, r).await
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider received; cancelling in-flight work");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

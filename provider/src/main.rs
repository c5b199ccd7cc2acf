//! The plugin binary `terraform-provider-eks`: started by Terraform, it
//! speaks plugin protocol 6 until Terraform shuts it down.

use std::process::ExitCode;
use std::sync::Arc;
use terraform_provider_eks::provider::{ADDRESS, EksProvider};

#[tokio::main]
async fn main() -> ExitCode {
    tfplugin::logging::init();
    let opts = tfplugin::ServeOptions {
        provider_address: ADDRESS.to_string(),
    };
    match tfplugin::serve(Arc::new(EksProvider), opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-eks: {e}");
            ExitCode::FAILURE
        }
    }
}

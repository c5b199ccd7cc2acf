//! Data source `eks_well_known_policy` (design §5): a catalogue entry
//! rendered for a partition, with the user's scopes applied. No AWS call. State and spec:
//! `schema::well_known_data`.

use crate::aws::Clients;
use crate::spec_map;
use async_trait::async_trait;
use schema::well_known_data::{self as spec, WellKnownPolicyData};
use tfplugin::{
    AttrPath, Ctx, DataReadResponse, DataSource, Diagnostic, Diagnostics, Schema, Value,
};

/// The data source.
pub struct WellKnownPolicy;

#[async_trait]
impl DataSource for WellKnownPolicy {
    fn type_name(&self) -> &'static str {
        spec::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        spec_map::to_schema(&spec::spec())
    }

    async fn read(&self, ctx: &Ctx, config: Value) -> DataReadResponse {
        let mut resp = DataReadResponse {
            state: Value::Null,
            diagnostics: Diagnostics::default(),
        };
        let data: WellKnownPolicyData = match spec_map::from_value(&config, "configuration") {
            Ok(d) => d,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let partition = match (&data.partition, ctx.data::<Clients>()) {
            (Some(p), _) => p.clone(),
            (None, Some(c)) => c.partition.to_string(),
            (None, None) => "aws".to_string(),
        };
        let problems = spec::scope_problems(&data, &partition);
        if !problems.is_empty() {
            let attr = schema::well_known_scope::ATTR;
            for p in problems {
                resp.diagnostics.push(
                    Diagnostic::error(format!("Invalid value for {attr}"), p)
                        .at(AttrPath::root(attr)),
                );
            }
            return resp;
        }
        match spec::resolve(data, &partition) {
            Ok(d) => match spec_map::to_value(&d, &self.schema()) {
                Ok(v) => resp.state = v,
                Err(d) => resp.diagnostics.push(d),
            },
            Err(e) => resp
                .diagnostics
                .push(Diagnostic::error("Unknown well-known policy", e).at(AttrPath::root("name"))),
        }
        resp
    }
}

//! EKS, one module per concept: [`association`] (Pod Identity
//! associations), [`addon`] (addons, their versions, updates and waits),
//! [`cluster`] (clusters and the per-cluster agent check) and [`tags`]
//! (TagResource / UntagResource of any EKS ARN).

pub mod addon;
pub mod association;
pub mod cluster;
pub mod tags;

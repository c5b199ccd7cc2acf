//! The AWS layer (`terraform_provider_eks::aws`) against the EKS emulator
//! (its `app()` on port 0) and moto, without Terraform: finders (found and
//! not found), pagination across pages, the mutators, each retry predicate
//! on the services' real answers, and the waits.

mod addon;
mod association;
mod cluster;
mod iam;
mod list;
mod predicates;
mod support;

//! The emulator's tests: every operation and error through `app()` (no
//! network), the IAM checks against a real moto, and the binary itself.

mod addons;
mod associations;
mod binary;
mod clusters;
mod faults;
mod iam;
mod kubernetes;
mod semantics;
mod strict;
mod support;
mod tags;

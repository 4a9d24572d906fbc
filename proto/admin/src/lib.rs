//! The ispd admin API, package `ispd.admin.v1`: generated messages, tonic clients and servers.
//!
//! Kept apart from the pure cores so that `billing` and `provisioning` never compile tonic.

#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
// A function over 80 lines (clippy.toml) hides steps that deserve a name; generated code aside.
#![cfg_attr(not(test), deny(clippy::too_many_lines))]

pub mod codec;

/// Generated code for `ispd.admin.v1`: tonic writes one long `call` per service.
#[allow(clippy::too_many_lines)]
pub mod v1 {
    tonic::include_proto!("ispd.admin.v1");
}

/// Encoded `FileDescriptorSet` of the admin API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/admin_descriptor.bin"));

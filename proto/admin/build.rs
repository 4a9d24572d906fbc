//! Compiles proto/ispd/admin/v1/*.proto with protox, so no `protoc` binary is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "common",
        "client",
        "tariff",
        "subscription",
        "login",
        "nas",
        "audit",
        "codelist",
        "session",
        "billing",
        "payment",
        "dunning",
        "invoice_group",
        "charge",
        "discount",
        "enforcement",
        "system",
    ]
    .map(|name| format!("proto/ispd/admin/v1/{name}.proto"));
    let descriptors = protox::compile(&files, ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("admin_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    // Every message names itself (`prost::Name`), so a client can find its descriptor: ispctl
    // prints any message field by field from it.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    // A statement's file arrives as a slice of the request's buffer, not a copy of it: the
    // import holds tens of megabytes once instead of twice.
    config.bytes([".ispd.admin.v1.ImportStatementRequest.content"]);
    tonic_prost_build::configure()
        // A request that does not decode is INVALID_ARGUMENT, not INTERNAL (see src/codec.rs).
        .codec_path("crate::codec::AdminCodec")
        .build_server(true)
        .build_client(true)
        .compile_fds_with_config(descriptors, config)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}

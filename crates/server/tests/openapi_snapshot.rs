//! The OpenAPI document is generated from the handlers; this snapshot makes every change to the public
//! contract show up in review. After an intended change, refresh it with
//! `UPDATE_SNAPSHOTS=1 cargo test -p bankgate --test openapi_snapshot`.

use std::path::PathBuf;

#[test]
fn openapi_document_matches_the_snapshot() {
    let generated = bankgate::http::openapi()
        .to_pretty_json()
        .expect("serialize OpenAPI")
        + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated).expect("write snapshot");
        return;
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        snapshot == generated,
        "the OpenAPI document changed; review it and refresh docs/openapi.json with UPDATE_SNAPSHOTS=1"
    );
}

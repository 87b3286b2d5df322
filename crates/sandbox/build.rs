//! `sqlx::migrate!` embeds the migration files at compile time but cannot tell cargo that a new file in
//! the directory matters; without this a fresh migration would be missing from an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

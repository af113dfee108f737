// sqlx::migrate!() embeds its folder at compile time, and cargo cannot see that dependency:
// sqlx's docs recommend `cargo:rerun-if-changed=<folder>` in build.rs. The folders are read from
// the migrate!() calls in main.rs, so adding a migration set there is one line and nothing here.
use std::fs;

fn main() {
    println!("cargo:rerun-if-changed=src/main.rs");
    let main = fs::read_to_string("src/main.rs").expect("read src/main.rs");
    for piece in main.split("sqlx::migrate!(\"").skip(1) {
        let folder = piece.split('"').next().expect("a closing quote after the migrate! path");
        println!("cargo:rerun-if-changed={folder}");
    }
}

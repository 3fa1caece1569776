//! Never built: see Cargo.toml. The package exists so that `cargo fetch` pins and checks the C libraries' sources.

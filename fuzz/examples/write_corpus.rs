//! Writes the seed corpus (`layer4_fuzz::seeds`) to `fuzz/corpus/<target>/<name>`.
//!
//! Run from `fuzz/`: `cargo run --example write_corpus`. Existing seed files of the same
//! name are overwritten; other files are left alone.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut total = 0;
    for seed in layer4_fuzz::seeds::all() {
        let dir = root.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(seed.name), &seed.data)?;
        total += seed.data.len();
    }
    println!("wrote {total} bytes of seeds under {}", root.display());
    Ok(())
}

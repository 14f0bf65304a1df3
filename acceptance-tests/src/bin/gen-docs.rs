//! Writes docs/ from schemas/hastack.json.
fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("schemas/hastack.json"))?)?;
    for (path, content) in acceptance_tests::docs::render(&doc) {
        let p = root.join("docs").join(path);
        std::fs::create_dir_all(p.parent().expect("page has a directory"))?;
        std::fs::write(&p, content)?;
        println!("wrote {}", p.display());
    }
    Ok(())
}

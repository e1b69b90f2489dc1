//! The layers hold: no import circle among the library's modules
//! (`scripts/import_graph.py`, which docs/ARCHITECTURE.md describes).

use std::process::Command;

#[test]
fn no_import_circle_among_the_library_modules() {
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/import_graph.py"
        ))
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("no import circle") && text.contains("every import follows the layers"),
        "{text}"
    );
}

//! Installs the pinned front-end packages (`web/package.json`) that the
//! binary embeds, so a plain `cargo build` on a fresh clone has them.

use std::path::Path;
use std::process::Command;

fn main() {
    list_demo_content();
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let installed = web.join("node_modules/nhsuk-frontend/package.json");
    println!("cargo:rerun-if-changed={}", installed.display());
    let wanted = pinned_version(&web.join("package.json"));
    if std::fs::read_to_string(&installed).is_ok_and(|p| p.contains(&format!("\"version\": \"{wanted}\""))) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&web)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`npm ci` in {} failed ({s}); the website's styles come from npm", web.display()),
        Err(e) => panic!("could not run npm ({e}); install Node.js and npm, which the website's build needs"),
    }
}

/// Writes `demo_content.rs`: every guide and site page under
/// `demo/content/`, embedded, so the demo needs no files at run time.
fn list_demo_content() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/content");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::new();
    for (constant, folder) in [("GUIDES", "guides"), ("PAGES", "pages")] {
        let dir = root.join(folder);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "md"));
        files.sort();
        out.push_str(&format!("pub const {constant}: &[(&str, &str)] = &[\n"));
        for file in files {
            let name = file.file_name().and_then(|n| n.to_str()).expect("file names are UTF-8");
            out.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
        }
        out.push_str("];\n");
    }
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("demo_content.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

/// The exact version `web/package.json` pins for nhsuk-frontend.
fn pinned_version(package_json: &Path) -> String {
    let text = std::fs::read_to_string(package_json).expect("web/package.json is readable");
    let after = text.split("\"nhsuk-frontend\"").nth(1).expect("web/package.json names nhsuk-frontend");
    let version: String = after.chars().skip_while(|c| *c != '"').skip(1).take_while(|c| *c != '"').collect();
    assert!(
        version.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "web/package.json must pin nhsuk-frontend to an exact version, not `{version}`"
    );
    version
}

//! Glossary linking against plain Markdown rendering, side by side in one
//! run: a 64 KB description made of the bundled entries' descriptions.
//!
//!     cargo bench --bench glossary

fn main() {
    let catalogue: standards::catalogue::Catalogue = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    let glossary: Vec<standards::catalogue::GlossaryTerm> =
        serde_json::from_str(&std::fs::read_to_string("demo/content/glossary.json").unwrap()).unwrap();
    let linker = standards::markdown::glossary::Linker::new(&glossary);
    let mut text = String::new();
    for e in catalogue.entries.iter().cycle() {
        text.push_str(e.description.as_deref().unwrap_or(""));
        text.push_str("\n\n*a* _b_ `c` **d** ");
        if text.len() > 64_000 {
            break;
        }
    }
    let rounds = 20;
    let time = |f: &dyn Fn()| {
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            f();
        }
        started.elapsed() / rounds
    };
    let linked = time(&|| {
        std::hint::black_box(standards::markdown::render_linked(&text, &linker, &["a summary"]));
    });
    let plain = time(&|| {
        std::hint::black_box(standards::markdown::render(&text));
    });
    println!(
        "{} bytes, {} glossary terms: linked {linked:?}, plain {plain:?}, linked / plain {:.1}",
        text.len(),
        glossary.len(),
        linked.as_secs_f64() / plain.as_secs_f64()
    );
}

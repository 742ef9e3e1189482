//! The relevance suite: queries real users type, each with the entries
//! that should come first. Fails below MRR 0.8 or recall@5 0.9.

use crate::common;

use common::{Backend, TestStore};
use serde::Deserialize;
use standards::search::{Search, SearchRequest};

#[derive(Deserialize)]
struct Judgement {
    query: String,
    relevant: Vec<String>,
    kind: String,
}

#[tokio::test]
async fn the_demo_catalogue_meets_the_relevance_bar() {
    let ts = TestStore::new(Backend::Sqlite).await;
    standards::demo::load(&ts.store).await.unwrap();
    let search = Search::build(&ts.store).await.unwrap();
    let judgements: Vec<Judgement> =
        serde_json::from_str(include_str!("../relevance/judgements.json")).expect("judgements.json");
    assert!(judgements.len() >= 40);
    let slugs: Vec<String> = ts.store.entry_slugs().await.unwrap();
    let (mut rr_sum, mut recall_sum) = (0.0, 0.0);
    let mut report = Vec::new();
    for j in &judgements {
        for r in &j.relevant {
            assert!(slugs.contains(r), "judgement for {:?} names {r}, which is not in the demo catalogue", j.query);
        }
        let request = SearchRequest { q: j.query.clone(), page: 1, per_page: 10, ..Default::default() };
        let results: Vec<String> = search.search(&request).unwrap().results.into_iter().map(|h| h.slug).collect();
        let rank = results.iter().position(|s| j.relevant.contains(s));
        let rr = rank.map_or(0.0, |r| 1.0 / (r as f64 + 1.0));
        let wanted = j.relevant.len().min(5);
        let found = results.iter().take(5).filter(|s| j.relevant.contains(s)).count();
        let recall = found as f64 / wanted as f64;
        rr_sum += rr;
        recall_sum += recall;
        if rr < 1.0 || recall < 1.0 {
            report.push(format!(
                "{:?} ({}): rr {rr:.2}, recall@5 {recall:.2}, got {:?}",
                j.query,
                j.kind,
                &results[..results.len().min(5)]
            ));
        }
    }
    let n = judgements.len() as f64;
    let (mrr, recall) = (rr_sum / n, recall_sum / n);
    println!("MRR {mrr:.3}, recall@5 {recall:.3} over {} queries", judgements.len());
    for line in &report {
        println!("  {line}");
    }
    assert!(mrr >= 0.8, "MRR {mrr:.3} is below 0.8:\n{}", report.join("\n"));
    assert!(recall >= 0.9, "recall@5 {recall:.3} is below 0.9:\n{}", report.join("\n"));
    ts.finish().await;
}

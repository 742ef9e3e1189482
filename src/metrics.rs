//! Request counts and latencies by route, for `/metrics` in Prometheus's
//! text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// (route, method, status) → requests answered.
    answered: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// (route, method) → how long they took.
    latency: Mutex<BTreeMap<(String, String), Latency>>,
}

/// One value that is not a request count: a gauge or a counter.
pub struct Sample {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: &'static str,
    pub value: f64,
}

impl Metrics {
    /// Counts one answered request; `route` is the route's pattern
    /// (`/standards/{slug}`), never the address asked for, so the number
    /// of series stays bounded.
    pub fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        {
            let mut answered = self.answered.lock().unwrap_or_else(|e| e.into_inner());
            *answered.entry((route.to_owned(), method.to_owned(), status)).or_default() += 1;
        }
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let l = latency.entry((route.to_owned(), method.to_owned())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                l.buckets[i] += 1;
            }
        }
        l.count += 1;
        l.sum += seconds;
    }

    /// Everything in the text exposition format, with `samples` after the
    /// request metrics.
    pub fn render(&self, samples: &[Sample]) -> String {
        let mut out = String::new();
        out.push_str("# HELP standards_http_requests_total Requests answered, by route pattern, method and status.\n");
        out.push_str("# TYPE standards_http_requests_total counter\n");
        for ((route, method, status), n) in self.answered.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "standards_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                label(route),
                label(method)
            );
        }
        out.push_str("# HELP standards_http_request_duration_seconds Time to answer, by route pattern and method.\n");
        out.push_str("# TYPE standards_http_request_duration_seconds histogram\n");
        for ((route, method), l) in self.latency.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let labels = format!("route=\"{}\",method=\"{}\"", label(route), label(method));
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                let _ = writeln!(out, "standards_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "standards_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", l.count);
            let _ = writeln!(out, "standards_http_request_duration_seconds_sum{{{labels}}} {}", l.sum);
            let _ = writeln!(out, "standards_http_request_duration_seconds_count{{{labels}}} {}", l.count);
        }
        for s in samples {
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {}\n{} {}", s.name, s.help, s.name, s.kind, s.name, s.value);
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_histograms_are_cumulative_per_route() {
        let m = Metrics::default();
        m.record("/standards/{slug}", "GET", 200, 0.003);
        m.record("/standards/{slug}", "GET", 404, 0.2);
        let text = m.render(&[Sample { name: "standards_entries", help: "Entries.", kind: "gauge", value: 3.0 }]);
        assert!(
            text.contains(
                "standards_http_requests_total{route=\"/standards/{slug}\",method=\"GET\",status=\"200\"} 1\n"
            )
        );
        assert!(
            text.contains(
                "standards_http_requests_total{route=\"/standards/{slug}\",method=\"GET\",status=\"404\"} 1\n"
            )
        );
        assert!(text.contains("le=\"0.0025\"} 0\n"), "{text}");
        assert!(text.contains("le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("le=\"0.25\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2\n"), "{text}");
        assert!(text.contains("# TYPE standards_entries gauge\nstandards_entries 3\n"), "{text}");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

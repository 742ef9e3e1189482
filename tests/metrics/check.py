"""Parses /metrics with the Prometheus project's own Python parser.

    python tests/metrics/check.py BASE_URL

Run by scripts/test against a live server (after the ckanapi checks have
made requests): every line must parse, and the families the directory
promises must be there with sensible values.
"""

import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

base = sys.argv[1].rstrip("/")
urllib.request.urlopen(base + "/standards/snomed-ct").read()
with urllib.request.urlopen(base + "/metrics") as response:
    content_type = response.headers.get("Content-Type", "")
    text = response.read().decode("utf-8")
assert content_type.startswith("text/plain; version=0.0.4"), content_type
families = {f.name: f for f in text_string_to_metric_families(text)}
for name, kind in [
    ("standards_http_requests", "counter"),
    ("standards_http_request_duration_seconds", "histogram"),
    ("standards_change_sequence", "gauge"),
    ("standards_entries", "gauge"),
    ("standards_index_lag_changes", "gauge"),
    ("standards_db_pool_connections", "gauge"),
    ("standards_change_sets", "counter"),
]:
    assert name in families, f"{name} missing: {sorted(families)}"
    assert families[name].type == kind, f"{name} is {families[name].type}, not {kind}"
entry = [
    s for s in families["standards_http_requests"].samples
    if s.labels.get("route") == "/standards/{slug}" and s.labels.get("status") == "200"
]
assert entry and entry[0].value >= 1, "the entry page request is counted under its route pattern"
buckets = [s for s in families["standards_http_request_duration_seconds"].samples if s.name.endswith("_bucket")]
assert buckets, "latency buckets"
assert families["standards_entries"].samples[0].value > 0
print(f"metrics: {len(families)} families parsed, entry page requests {entry[0].value:.0f}")

"""Drives a running directory with the real `ckanapi` client, as existing
CKAN scripts would. Usage: check.py BASE_URL EDITOR_TOKEN.

Prints one line per check and a closing "N passed, N failed" line; exits
non-zero when any check fails."""

import json
import sys
import urllib.request

import ckanapi

base, token = sys.argv[1], sys.argv[2]
public = ckanapi.RemoteCKAN(base)
editor = ckanapi.RemoteCKAN(base, apikey=token)
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # a failed check, whatever raised it
        failed += 1
        print(f"FAIL {name}: {e!r}")


def api(path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)


def search_q():
    r = public.action.package_search(q="snomed", rows=3)
    assert r["results"][0]["name"] == "snomed-ct", r["results"][0]["name"]


def search_fq_matches_json_api():
    r = public.action.package_search(fq="care_setting:pharmacy AND mandated:true", rows=1000)
    listed = api("/api/v1/standards?care_setting=pharmacy&mandated=true&per_page=100")
    assert r["count"] == listed["total"], (r["count"], listed["total"])
    assert sorted(p["name"] for p in r["results"]) == sorted(e["slug"] for e in listed["results"])


def search_sort_and_paging():
    first = public.action.package_search(sort="name asc", rows=7)
    second = public.action.package_search(sort="name asc", rows=7, start=7)
    both = public.action.package_search(sort="name asc", rows=14)
    names = [p["name"] for p in first["results"] + second["results"]]
    assert names == [p["name"] for p in both["results"]]
    assert names == sorted(names)
    listed = api("/api/v1/standards?per_page=1")
    assert both["count"] == listed["total"]


def search_facets():
    r = public.action.package_search(q="*:*", rows=0, **{"facet.field": ["organization", "care_setting"], "facet.limit": 5})
    items = r["search_facets"]["organization"]["items"]
    assert 0 < len(items) <= 5
    total = api("/api/v1/standards?owner=" + items[0]["name"] + "&per_page=1")["total"]
    assert items[0]["count"] == total, (items[0], total)


def bad_query_is_a_search_query_error():
    try:
        public.action.package_search(q="(snomed")
    except ckanapi.SearchQueryError:
        return
    raise AssertionError("no SearchQueryError")


def show_package_and_organization():
    p = public.action.package_show(id="gp-connect")
    assert p["organization"]["name"] == p["owner"]
    o = public.action.organization_show(id=p["owner"], include_datasets=True)
    assert any(d["name"] == "gp-connect" for d in o["packages"])


def write_without_token_is_refused():
    try:
        public.action.package_create(name="no-token", title="No token", owner_org="prsb")
    except ckanapi.NotAuthorized:
        return
    raise AssertionError("created without a token")


def create_update_patch_delete():
    created = editor.action.package_create(
        name="ckanapi-round-trip", title="Round trip", owner_org="prsb", standard_category="Record standards",
        status="proposed", care_setting=["Hospital"], topic=["Referrals"], notes="Made by ckanapi.")
    assert created["name"] == "ckanapi-round-trip"
    found = public.action.package_search(q="name:ckanapi-round-trip")
    assert found["count"] == 1
    updated = editor.action.package_update(
        id="ckanapi-round-trip", title="Round trip, updated", owner_org="prsb", standard_category="Record standards",
        status="in-development")
    assert updated["title"] == "Round trip, updated" and updated["status"] == "in-development"
    patched = editor.action.package_patch(id="ckanapi-round-trip", mandated=True)
    assert patched["mandated"] is True and patched["title"] == "Round trip, updated"
    editor.action.package_delete(id="ckanapi-round-trip")
    try:
        public.action.package_show(id="ckanapi-round-trip")
    except ckanapi.NotFound:
        return
    raise AssertionError("still there after delete")


for name, fn in list(globals().items()):
    if callable(fn) and fn.__module__ == "__main__" and name not in ("check", "api"):
        check(name, fn)

print(f"ckanapi: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

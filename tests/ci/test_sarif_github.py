"""SARIF as GitHub code scanning reads it, fingerprints, fixes, and `--baseline`.

GitHub's documented rules for uploaded SARIF ("SARIF support for code scanning", GitHub Docs),
checked by `github_problems` below, beside the OASIS schema:

1. `version` is "2.1.0" and each run has `tool.driver.name`.
2. Every `reportingDescriptor` has an `id`, and `shortDescription.text`, `fullDescription.text`
   and `help.text` are under 1,024 characters.
3. At most 20 `properties.tags` per rule (GitHub ignores the rest).
4. Every result has `ruleId` naming one of the run's rules, `message.text`, and at least one
   location whose `physicalLocation.artifactLocation.uri` is relative to the repository root
   (no `file:` URI, no `..`, no leading `/`) with a `region.startLine`.
5. Every result has `partialFingerprints` (without them upload-sarif computes
   `primaryLocationLineHash` from the file, which moves with every edit above the finding).
6. At most 25,000 results per run and 1,000 locations per result.
7. `helpUri` and `informationUri`, when given, are absolute URIs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.ci.cikit import DEMO_PACK, make_project, tmplstudio, write
from tests.ci.test_formats import validate_sarif

FIX_PACK = DEMO_PACK.replace('suggestion = "Invite the customer to call instead."',
                             'suggestion = "Invite the customer to call instead."\nfix = { replace = "联系" }')


def github_problems(doc: dict) -> list[str]:
    problems = []
    if doc.get("version") != "2.1.0":
        problems.append("version is not 2.1.0")
    for run in doc.get("runs", []):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append("no tool.driver.name")
        ids = set()
        for rule in driver.get("rules", []):
            ids.add(rule.get("id"))
            for key in ("shortDescription", "fullDescription", "help"):
                if len(rule.get(key, {}).get("text", "")) >= 1024:
                    problems.append(f"{rule.get('id')}: {key}.text has 1,024 characters or more")
            if len(rule.get("properties", {}).get("tags", [])) > 20:
                problems.append(f"{rule.get('id')}: more than 20 tags")
            if "helpUri" in rule and not urlparse(rule["helpUri"]).scheme:
                problems.append(f"{rule.get('id')}: helpUri is not absolute")
        if "informationUri" in driver and not urlparse(driver["informationUri"]).scheme:
            problems.append("informationUri is not absolute")
        results = run.get("results", [])
        if len(results) > 25_000:
            problems.append("more than 25,000 results")
        for res in results:
            if res.get("ruleId") not in ids:
                problems.append(f"result's ruleId {res.get('ruleId')} is not a rule of the run")
            if not res.get("message", {}).get("text"):
                problems.append("result without message.text")
            if not res.get("partialFingerprints"):
                problems.append("result without partialFingerprints")
            locations = res.get("locations", [])
            if not 1 <= len(locations) <= 1000:
                problems.append("result without a location, or over 1,000")
            for loc in locations:
                phys = loc.get("physicalLocation", {})
                uri = phys.get("artifactLocation", {}).get("uri", "")
                if urlparse(uri).scheme or uri.startswith("/") or ".." in uri.split("/"):
                    problems.append(f"uri {uri!r} is not relative to the repository root")
                if not phys.get("region", {}).get("startLine"):
                    problems.append("location without region.startLine")
    return problems


def test_the_checker_notices_each_broken_rule():
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [
        {"id": "a", "shortDescription": {"text": "x" * 1024}, "properties": {"tags": list("abcdefghijklmnopqrstu")}}]}},
        "results": [{"ruleId": "b", "message": {"text": "m"}, "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": "file:///etc/x"}, "region": {}}}]}]}]}
    assert len(github_problems(broken)) == 6


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_project(tmp_path, FIX_PACK)
    write(root / "templates" / "bad.j2", "+++\nid = \"bad\"\n+++\n🙂 我们将上门催收，请立即还款\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_bundled_templates_give_sarif_that_github_accepts(tmp_path):
    repo_root = Path(__file__).resolve().parents[2]
    r = tmplstudio("validate", "--format", "sarif", "templates", cwd=repo_root)
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    assert github_problems(doc) == []
    driver = doc["runs"][0]["tool"]["driver"]
    from tmplstudio import documentation_url

    assert ("informationUri" in driver) == (documentation_url() is not None)


def test_a_rules_help_uri_is_the_instrument_it_cites(tmp_path):
    write(tmp_path / "templates" / "t.j2", '+++\nlocale = "zh-CN"\n+++\n否则我们将上门催收。\n')
    r = tmplstudio("validate", "--format", "sarif", "templates", cwd=tmp_path)
    rules = {rule["name"]: rule for rule in json.loads(r.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["visit-threat"]["helpUri"].startswith("https://")


def test_long_help_is_cut_under_the_limit(repo):
    pack = (repo / "policies" / "demo.toml").read_text(encoding="utf-8")
    long = "Long explanation. " * 100
    (repo / "policies" / "demo.toml").write_text(
        pack.replace('explanation = "Announcing a visit to the home is intimidation."', f'explanation = "{long}"'), encoding="utf-8")
    doc = json.loads(tmplstudio("validate", "--format", "sarif", cwd=repo).stdout)
    validate_sarif(doc)
    assert github_problems(doc) == []
    [rule] = [r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "demo/visit-threat"]
    assert rule["help"]["text"].startswith("Long explanation.") and rule["help"]["text"].endswith("…")


def test_fix_is_a_replacement_of_the_hit_in_utf16_columns(repo):
    doc = json.loads(tmplstudio("validate", "--format", "sarif", cwd=repo).stdout)
    validate_sarif(doc)
    assert github_problems(doc) == []
    [res] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "demo/visit-threat"]
    [fix] = res["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "templates/bad.j2"
    [rep] = change["replacements"]
    # 上门催收 sits after an emoji (2 UTF-16 units) and a space: columns 4..8 in UTF-16, as the result's region.
    region = res["locations"][0]["physicalLocation"]["region"]
    assert rep["deletedRegion"] == {"startLine": 4, "startColumn": region["startColumn"], "endLine": 4,
                                    "endColumn": region["endColumn"]}
    assert rep["insertedContent"] == {"text": "联系"}
    # Applying it to the file's text gives the fixed line.
    line = (repo / "templates" / "bad.j2").read_text(encoding="utf-8").split("\n")[3]
    units = line.encode("utf-16-le")
    start, end = (rep["deletedRegion"]["startColumn"] - 1) * 2, (rep["deletedRegion"]["endColumn"] - 1) * 2
    assert (units[:start] + "联系".encode("utf-16-le") + units[end:]).decode("utf-16-le") == "🙂 我们将联系，请立即还款"


def test_fingerprints_survive_lines_moving_and_change_with_the_text(repo):
    def prints():
        doc = json.loads(tmplstudio("validate", "--format", "sarif", cwd=repo).stdout)
        return {r["ruleId"]: r["partialFingerprints"]["tmplstudio/v1"] for r in doc["runs"][0]["results"]}

    before = prints()
    write(repo / "templates" / "bad.j2", "+++\nid = \"bad\"\n+++\n新的一行\n\n🙂 我们将上门催收，请立即还款\n")
    assert prints() == before
    write(repo / "templates" / "bad.j2", "+++\nid = \"other\"\n+++\n🙂 我们将上门催收，请立即还款\n")
    assert set(prints().values()).isdisjoint(before.values())  # another template


def test_baseline_reports_only_new_findings(repo):
    r = tmplstudio("validate", "--format", "json", "--output", "baseline.json", cwd=repo)
    assert r.returncode == 1
    write(repo / "templates" / "bad.j2", "+++\nid = \"bad\"\n+++\n\n🙂 我们将上门催收，请立即还款\n")  # moved a line down
    r = tmplstudio("validate", "--baseline", "baseline.json", cwd=repo)
    assert r.returncode == 0, r.stdout
    assert "1 template checked: 0 errors, 0 warnings, 0 info, 2 in the baseline" in r.stdout
    write(repo / "templates" / "new.j2", "我们将上门催收\n")
    write(repo / "templates" / "bad.j2", "+++\nid = \"bad\"\n+++\n🙂 我们将上门催收，请立即还款。我们将上门催收\n")  # a second hit
    r = tmplstudio("validate", "--baseline", "baseline.json", "--format", "json", cwd=repo)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    found = {(t["path"], f["rule"], f["column"]) for t in doc["templates"] for f in t["findings"]}
    assert found == {("templates/bad.j2", "visit-threat", 20), ("templates/new.j2", "visit-threat", 4)}
    assert doc["summary"]["baseline"] == 2


@pytest.mark.parametrize("content, message", [
    ("not json", "not a JSON report"),
    ('{"tool": "other", "templates": []}', "not a tmplstudio JSON report"),
    ('{"tool": "tmplstudio", "templates": [{"findings": [{"rule": "x"}]}]}', "no fingerprints"),
])
def test_a_bad_baseline_is_a_usage_error(repo, content, message):
    write(repo / "baseline.json", content)
    r = tmplstudio("validate", "--baseline", "baseline.json", cwd=repo)
    assert r.returncode == 2 and message in r.stderr and "baseline.json" in r.stderr and "Traceback" not in r.stderr

"""`validate --format sarif|junit|github` and `--output`: golden files, the SARIF schema, escaping."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.ci.cikit import FIXTURES, GOLDEN, make_project, tmplstudio, write
from tmplstudio import __version__

UPDATE = os.environ.get("TMPLSTUDIO_UPDATE_GOLDEN") == "1"  # regenerate: TMPLSTUDIO_UPDATE_GOLDEN=1 pytest tests/ci


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    t = root / "templates"
    # Line 4: an emoji (outside the BMP: 2 UTF-16 code units) before the hit, so SARIF columns differ.
    write(t / "bad.j2", '+++\nid = "bad"\n+++\n🙂 我们将上门催收，请立即还款\n'
                        '{# tmplstudio: allow tone -- approved by legal, ticket LEGAL-7 #}\n请立即处理\n')
    write(t / "clean.j2", '+++\n[samples.a]\nname = "张三"\n+++\n【某银行】{{ name }}您好，请按时还款。\n')
    # The finding needs the sample's value: reported against the sample, at the {{ }} tag.
    # The sample's value and the template's text make the phrase together (a value alone is data).
    write(t / "sample.j2", '+++\nlocale = "en-US"\n[samples.threat]\nverb = "arr"\n+++\nHello. We will {{ verb }}est you.\n')
    write(t / "_partials" / "footer.j2", "我们将上门催收\n")  # a partial: never checked on its own
    return root


def sarif_schema() -> dict:
    return json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate_sarif(doc: dict) -> None:
    schema = sarif_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(doc)


def check_golden(name: str, text: str) -> None:
    text = text.replace(__version__, "<VERSION>")
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with TMPLSTUDIO_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("fmt, golden", [("sarif", "report.sarif"), ("junit", "report.junit.xml"), ("github", "report.github.txt")])
def test_format_matches_golden_file(project, fmt, golden):
    r = tmplstudio("validate", "--format", fmt, cwd=project)
    assert r.returncode == 1, r.stderr
    check_golden(golden, r.stdout.replace(Path(os.path.realpath(project)).as_uri(), "file:///PROJECT"))


def test_sarif_validates_against_the_oasis_schema(project):
    r = tmplstudio("validate", "--format", "sarif", cwd=project)
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    # The validator is strict enough to notice a broken log (so the check above can fail).
    broken = json.loads(r.stdout)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif(broken)


def test_sarif_rules_results_regions_and_suppressions(project):
    doc = json.loads(tmplstudio("validate", "--format", "sarif", cwd=project).stdout)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["columnKind"] == "utf16CodeUnits"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    visit = rules["demo/visit-threat"]
    assert visit["shortDescription"]["text"] == "Announces a home visit."
    assert "刑法 293-1" in visit["help"]["text"] and "Announcing a visit" in visit["help"]["text"]
    assert visit["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    for res in results:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    [hit] = [r for r in results if r["ruleId"] == "demo/visit-threat" and "bad.j2" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]]
    region = hit["locations"][0]["physicalLocation"]["region"]
    # Code points: 🙂 is column 1, 上 column 6; in UTF-16 the emoji takes two units, so 上 is column 7.
    assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (4, 7, 4, 11)
    assert region["snippet"]["text"] == "上门催收" and hit["suppressions"] == []
    [suppressed] = [r for r in results if r["suppressions"]]
    assert suppressed["suppressions"] == [{"kind": "inSource", "justification": "approved by legal, ticket LEGAL-7"}]
    assert suppressed["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    [from_sample] = [r for r in results if r["properties"]["sample"] == "threat"]
    assert "[sample threat]" in from_sample["message"]["text"]
    # Its region runs over the {{ verb }} tag, so the snippet (which must be the region's text) is left out.
    assert "snippet" not in from_sample["locations"][0]["physicalLocation"]["region"]
    assert from_sample["properties"]["renderedText"] == "arrest"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert not any("_partials" in u for u in uris)


def test_sarif_columns_equal_code_points_without_astral_characters(project):
    write(project / "templates" / "bad.j2", "我们将上门催收\n")
    doc = json.loads(tmplstudio("validate", "--format", "sarif", "templates/bad.j2", cwd=project).stdout)
    region = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    text_report = json.loads(tmplstudio("validate", "--format", "json", "templates/bad.j2", cwd=project).stdout)
    f = text_report["templates"][0]["findings"][0]
    assert (region["startColumn"], region["endColumn"]) == (f["column"], f["end_column"]) == (4, 8)


def test_findings_in_an_included_partial_point_into_the_partial(project):
    write(project / "templates" / "_partials" / "footer.j2", "🙂我们将上门催收\n")
    write(project / "templates" / "main.j2", '【某银行】您好{% include "_partials/footer.j2" %}\n')
    doc = json.loads(tmplstudio("validate", "--format", "sarif", "templates/main.j2", cwd=project).stdout)
    [res] = doc["runs"][0]["results"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "templates/_partials/footer.j2"  # relative, as code scanning needs
    assert (loc["region"]["startLine"], loc["region"]["startColumn"]) == (1, 6)  # code point 5, after the emoji (2 UTF-16 units)
    out = tmplstudio("validate", "--format", "github", "templates/main.j2", cwd=project).stdout
    assert out.startswith("::error file=templates/_partials/footer.j2,line=1,col=5,")


def test_sarif_non_ascii_path_is_a_valid_uri(project):
    write(project / "templates" / "催收 提醒.j2", "我们将上门催收\n")
    doc = json.loads(tmplstudio("validate", "--format", "sarif", "templates/催收 提醒.j2", cwd=project).stdout)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "templates/%E5%82%AC%E6%94%B6%20%E6%8F%90%E9%86%92.j2"
    validate_sarif(doc)


def test_sarif_reports_unreadable_files_as_failed_execution(project):
    (project / "templates" / "old.j2").write_bytes("您好".encode("gbk"))
    r = tmplstudio("validate", "--format", "sarif", cwd=project)
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 2
    [note] = inv["toolExecutionNotifications"]
    assert "UTF-8" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "templates/old.j2"


def test_junit_one_testcase_per_template_failures_carry_findings(project):
    r = tmplstudio("validate", "--format", "junit", cwd=project)
    root = ET.fromstring(r.stdout)
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"templates/bad.j2", "templates/clean.j2", "templates/sample.j2"}
    assert suite.get("tests") == "3" and suite.get("failures") == "2" and root.get("failures") == "2"
    assert cases["templates/clean.j2"].find("failure") is None
    failure = cases["templates/bad.j2"].find("failure")
    assert failure.get("message") == "1 error"
    assert "templates/bad.j2:4:6 error visit-threat Announces a home visit." in failure.text
    out = cases["templates/bad.j2"].find("system-out").text
    assert "warning tone Harsh tone." in out and "(suppressed: approved by legal, ticket LEGAL-7)" in out


def test_junit_fail_on_warning_turns_warnings_into_failures(project):
    write(project / "templates" / "bad.j2", "请立即还款\n")
    r = tmplstudio("validate", "--format", "junit", "--fail-on", "warning", "templates/bad.j2", cwd=project)
    assert r.returncode == 1
    failure = ET.fromstring(r.stdout).find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "1 warning" and "tone" in failure.text
    r = tmplstudio("validate", "--format", "junit", "templates/bad.j2", cwd=project)
    assert r.returncode == 0 and ET.fromstring(r.stdout).find("testsuite/testcase/failure") is None


def test_junit_unreadable_file_is_an_error_case(project):
    (project / "templates" / "bin.j2").write_bytes(b"\x00\x01binary")
    root = ET.fromstring(tmplstudio("validate", "--format", "junit", cwd=project).stdout)
    [err] = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert err.get("name") == "templates/bin.j2" and root.get("errors") == "1"


def test_github_commands_and_escaping(project):
    # A comma and a colon in the file name, a percent sign and a line break in the message.
    pack = (project / "policies" / "demo.toml").read_text(encoding="utf-8")
    pack = pack.replace('message = "Harsh tone."', 'message = """Harsh tone: 100% pressure,\nrewrite it."""')
    (project / "policies" / "demo.toml").write_text(pack, encoding="utf-8")
    write(project / "templates" / "a,b:c.j2", "请立即还款\n")
    r = tmplstudio("validate", "--format", "github", "templates/a,b:c.j2", cwd=project)
    assert r.returncode == 0
    assert r.stdout == ("::warning file=templates/a%2Cb%3Ac.j2,line=1,col=2,endLine=1,endColumn=4,title=tone::"
                        "Harsh tone: 100%25 pressure,%0Arewrite it.\n")


def test_github_suppressed_findings_are_not_annotated(project):
    out = tmplstudio("validate", "--format", "github", "templates/bad.j2", cwd=project).stdout
    lines = out.splitlines()
    assert lines == [
        "::error file=templates/bad.j2,line=4,col=6,endLine=4,endColumn=10,title=visit-threat::Announces a home visit. "
        "Suggestion: Invite the customer to call instead.",
        "::warning file=templates/bad.j2,line=4,col=12,endLine=4,endColumn=14,title=tone::Harsh tone.",
    ]


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "json", "text"])
def test_output_file_gets_the_report_and_console_the_text(project, fmt, tmp_path):
    report = project / "out" / f"report.{fmt}"
    report.parent.mkdir()
    r = tmplstudio("validate", "--format", fmt, "--output", str(report), cwd=project)
    assert r.returncode == 1
    assert "templates/bad.j2:4:6 error visit-threat Announces a home visit." in r.stdout
    assert r.stdout.rstrip().endswith("3 templates checked: 2 errors, 1 warning, 0 info, 1 suppressed")
    content = report.read_text(encoding="utf-8")
    direct = tmplstudio("validate", "--format", fmt, "--color", "never", cwd=project).stdout
    assert content == direct
    assert not [p for p in report.parent.iterdir() if p != report]  # no temporary file left behind


def test_output_into_missing_folder_is_a_usage_error(project):
    r = tmplstudio("validate", "--format", "sarif", "--output", "nope/report.sarif", cwd=project)
    assert r.returncode == 2 and "nope" in r.stderr and "Traceback" not in r.stderr


def test_broken_pack_stops_validate_and_writes_no_report(project):
    (project / "policies" / "demo.toml").write_text(
        "[pack]\nid = 'demo'\n[[rules]]\nid = 'x'\nkind = 'phrases'\nseverity = 'error'\nmessage = 'm'\nphrases = ['a']\nalow = ['b']\n",
        encoding="utf-8")
    r = tmplstudio("validate", "--format", "sarif", "--output", "report.sarif", cwd=project)
    assert r.returncode == 2
    assert r.stderr.startswith("tmplstudio: error: ") and "policies/demo.toml:9:1: " in r.stderr
    assert "did you mean 'allow'" in r.stderr
    assert not (project / "report.sarif").exists() and r.stdout == ""

"""The auditor's report of a pack: Markdown, and HTML opened in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from packkit import cli, write
from sshkit import signed  # noqa: F401 - fixture

# A warning accepted with the approval, a suppression with its reason, and a sample whose name
# carries a newline and a GitHub Actions workflow command (it must show escaped, never raw).
WARNED = ("【示例银行】{{ name }}您好，您的账单{{ amount }}元已到期。"
          "{# tmplstudio: allow guaranteed-return -- 法务已审：此处为产品名称 LEGAL-7 #}本产品保证收益。"
          "否则我们将上门催收。\n")
HOSTILE_SAMPLE = '\n[samples."evil\\n::error file=x::owned"]\nname = "李四"\namount = "1"\ncard_no = "1"\n'


@pytest.fixture
def pack(signed):
    root, keys = signed
    path = write(root, "warned", WARNED)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("+++\n【", HOSTILE_SAMPLE + "+++\n【", 1), encoding="utf-8")
    for who in ("li", "wang"):
        r = cli(root, "approve", "templates/warned.j2", "templates/notice.j2", "--accept-warnings",
                "--note", f"reviewed by {who}", "--key", str(keys[who]))
        assert r.returncode == 0, r.stdout + r.stderr
    r = cli(root, "export", "--out", "pack.zip", "--key", str(keys["author"]))
    assert r.returncode == 0, r.stdout + r.stderr
    return root


def test_markdown_report_lists_what_the_auditor_asks_for(pack):
    r = cli(pack, "report", "pack.zip", "--format", "md", "--out", "report.md")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "wrote report.md: md report of pack.zip\n"
    md = (pack / "report.md").read_text(encoding="utf-8")
    assert "**Verified:** 2 templates, 5 files match the manifest; manifest signed by ann.author@bank.example." in md
    assert "| test-pack | 1.0.0 | `" in md
    assert "## warned (warned.j2)" in md and "## notice (notice.j2)" in md
    assert "2 of 2 required approvals check out." in md
    assert "| li.wei@bank.example | 20" in md and "| wang.fang@bank.example | 20" in md
    assert "| test-pack/visit-threat | 21:" in md and "| 上门催收 |" in md  # the accepted warning
    assert "| test-pack/guaranteed-return | 21:" in md and "法务已审：此处为产品名称 LEGAL-7" in md  # the suppression
    assert "```text\n+++\nid = \"warned\"" in md  # the template text, fenced
    assert "| 【示例银行】张三您好，您的账单100元已到期。本产品保证收益。否则我们将上门催收。 |" in md
    # The hostile sample name stays on one line, its newline written as an escape (\\ is Markdown's \).
    assert "| evil\\\\u000a::error file=x::owned |" in md
    assert "\n::error" not in md


def test_a_pack_that_does_not_verify_says_so_and_exits_1(pack):
    import zipfile

    with zipfile.ZipFile(pack / "pack.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["templates/notice.j2"] = files["templates/notice.j2"].replace("及时".encode(), "马上".encode())
    with zipfile.ZipFile(pack / "bad.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    r = cli(pack, "report", "bad.zip", "--format", "md")
    assert r.returncode == 1
    assert "**Does not verify:**" in r.stdout and "templates/notice.j2: modified" in r.stdout.replace("\\", "")
    r = cli(pack, "report", "nope.zip")
    assert r.returncode == 2 and "nope.zip: no such pack" in r.stderr


def _browser():
    """Debian's chromium through chromedriver (.ci/system-deps installs both); no download."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Chromium and chromedriver are needed: run `bash .ci/system-deps` (as .ci/run does)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--window-size=1280,3400"):
        options.add_argument(flag)
    with socket.socket() as s:  # a free port for chromedriver, on loopback
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return webdriver.Chrome(service=Service(executable_path=driver, port=port), options=options)


def test_html_report_in_headless_chromium(pack, tmp_path):
    from selenium.webdriver.common.by import By

    r = cli(pack, "report", "pack.zip", "--format", "html", "--out", "report.html")
    assert r.returncode == 0, r.stderr
    html = (pack / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html  # self-contained, offline
    browser = _browser()
    try:
        browser.get((pack / "report.html").as_uri())
        assert browser.title == "Approval report: pack.zip"
        verdict = browser.find_element(By.ID, "verdict")
        assert verdict.is_displayed() and verdict.rect["height"] > 10
        assert verdict.text.startswith("Verified: 2 templates, 5 files match the manifest")
        sections = browser.find_elements(By.CSS_SELECTOR, "section.template")
        assert [s.find_element(By.TAG_NAME, "h2").text for s in sections] == ["notice — notice.j2", "warned — warned.j2"]
        warned = sections[1]
        signers = [row.text for row in warned.find_elements(By.CSS_SELECTOR, "table.signers tr")][1:]
        assert len(signers) == 2 and signers[0].startswith("li.wei@bank.example 20") and "good" in signers[0]
        assert "reviewed by wang" in signers[1]
        assert "本产品保证收益" in warned.find_element(By.CSS_SELECTOR, "pre.source").text
        accepted = warned.find_element(By.CSS_SELECTOR, "table.accepted").text
        assert "test-pack/visit-threat" in accepted and "上门催收" in accepted
        assert "法务已审：此处为产品名称 LEGAL-7" in warned.find_element(By.CSS_SELECTOR, "table.suppressed").text
        samples = warned.find_element(By.CSS_SELECTOR, "table.samples").text
        assert "evil\\u000a::error file=x::owned" in samples
        # Nothing was fetched: no stylesheet, font, image or script from anywhere.
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        shot = tmp_path / "report.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
        keep = os.environ.get("TMPLSTUDIO_SCREENSHOT_DIR")
        if keep:
            shutil.copy(shot, Path(keep) / "approval-report.png")
    finally:
        browser.quit()

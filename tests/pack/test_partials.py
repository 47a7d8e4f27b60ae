"""An approval covers the partials a template includes; the generic pack carries them."""

from __future__ import annotations

import json
import zipfile

from packkit import approve, cli, load, proj_dir, use_bundled, write  # noqa: F401 - fixture

from tmplstudio.pack.approval import check, refusal
from tmplstudio.pack.export import build
from tmplstudio.pack.status import STALE, project_statuses

BODY = '【示例银行】{{ name }}您好，您的账户{{ amount }}元待确认。{% include "_footer.j2" %}\n'


def with_partial(root):
    (root / "templates" / "_footer.j2").write_text("客服热线400-820-5566。", encoding="utf-8")
    write(root, "withfooter", BODY)


def test_approval_records_partials_and_goes_stale_when_one_changes(proj_dir):
    with_partial(proj_dir)
    approve(proj_dir, "withfooter")
    r = cli(proj_dir, "status", "templates/withfooter.j2")
    assert r.stdout.startswith("approved"), r.stdout
    (proj_dir / "templates" / "_footer.j2").write_text("客服热线400-820-5567。", encoding="utf-8")
    statuses, _, ledger = project_statuses(load(proj_dir))
    assert ledger.get("withfooter.j2").partials.keys() == {"_footer.j2"}
    st = {s.rel: s for s in statuses}["withfooter.j2"]
    assert st.state == STALE and st.reasons == ["partials changed since approval (_footer.j2 changed)"]


def test_generic_pack_carries_partials_and_verify_checks_them(proj_dir):
    use_bundled(proj_dir, "tencent")
    with_partial(proj_dir)
    approve(proj_dir, "withfooter")
    r = cli(proj_dir, "export", "--out", "pack.zip")
    assert r.returncode == 0, r.stdout + r.stderr
    with zipfile.ZipFile(proj_dir / "pack.zip") as zf:
        assert "templates/_footer.j2" in zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        files = {n: zf.read(n) for n in zf.namelist()}
    entry = {t["id"]: t for t in manifest["templates"]}["withfooter"]
    assert list(entry["partials"]) == ["_footer.j2"] and entry["files"]["partials"] == ["templates/_footer.j2"]
    assert cli(proj_dir, "verify", "pack.zip").returncode == 0
    files["templates/_footer.j2"] = "客服热线110。".encode()
    with zipfile.ZipFile(proj_dir / "bad.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    r = cli(proj_dir, "verify", "bad.zip")
    assert r.returncode == 1 and "bad.zip: templates/_footer.j2: modified" in r.stdout
    # A platform target cannot include partials (the provider pack was loaded before approval, at the top).
    reasons = {e.path: e.reason for e in build(load(proj_dir), "tencent").excluded}
    assert "control flow ({% include %})" in reasons["withfooter.j2"]


def test_computed_include_cannot_be_approved(proj_dir):
    (proj_dir / "templates" / "_footer.j2").write_text("客服热线400-820-5566。", encoding="utf-8")
    write(proj_dir, "dynamic", '【示例银行】{{ name }}您好。{% include footer_name %}\n')
    c = check(load(proj_dir), proj_dir / "templates" / "dynamic.j2")
    assert c.dependencies.dynamic == ["dynamic.j2 line 16: {% include %} with a computed name"]
    c.errors = []  # (here the samples also lack footer_name; the computed name alone refuses it)
    reason = refusal(c, accept_warnings=True)
    assert reason is not None and "computed" in reason and "name the partial literally" in reason

"""SMS part counts against reference encoders: a character is never split across parts.

gsm0338 (a maintained GSM 03.38 codec) says how many septets each character takes (2 for the
extension table: ESC + code); smsutil's splitter cuts messages into concatenated parts as
senders do, moving an escape pair or a surrogate pair that would straddle a boundary whole to
the next part. tmplstudio's count must equal both, and `tmplstudio render` shows it.
"""

from __future__ import annotations

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
import smsutil
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ci.cikit import make_project, tmplstudio, write
from tmplstudio.text.sms import gsm_stats


def reference_parts(text: str) -> int:
    return len(smsutil.split(text).parts) if text else 0


def reference_septets(text: str) -> int:
    return len(text.encode("gsm03.38"))


def test_the_issue_example_is_three_parts():
    text = "a" * 152 + "€" + "a" * 152          # 306 septets: 2 parts by arithmetic, 3 in reality
    assert reference_septets(text) == 306 and reference_parts(text) == 3
    assert (gsm_stats(text).units, gsm_stats(text).segments) == (306, 3)


def test_an_emoji_on_a_ucs2_boundary_moves_to_the_next_part():
    text = "好" * 66 + "😀" + "好" * 66          # 134 UTF-16 units: 2 parts by arithmetic, 3 in reality
    assert reference_parts(text) == 3
    assert (gsm_stats(text).units, gsm_stats(text).segments) == (134, 3)


def test_single_part_limits_are_unchanged():
    assert gsm_stats("a" * 160).segments == 1 and gsm_stats("a" * 161).segments == 2
    assert gsm_stats("a" * 159 + "€").segments == 2  # 161 septets
    assert gsm_stats("好" * 70).segments == 1 and gsm_stats("好" * 69 + "😀").segments == 2


GSM_CHARS = st.sampled_from(list("a€^{}[]~|\\é@ 1") )
UCS_CHARS = st.sampled_from(["好", "😀", "a", "€", "𠀀"])


@settings(max_examples=300, deadline=None)
@given(st.lists(GSM_CHARS, min_size=0, max_size=700).map("".join))
def test_gsm7_counts_match_the_references(text):
    stats = gsm_stats(text)
    assert stats.encoding == "GSM-7"
    assert stats.units == reference_septets(text)
    assert stats.segments == reference_parts(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(UCS_CHARS, min_size=1, max_size=300).map("".join).filter(lambda t: not all(c in "a€" for c in t)))
def test_ucs2_counts_match_the_reference(text):
    stats = gsm_stats(text)
    assert stats.encoding == "UCS-2"
    assert stats.units == len(text.encode("utf-16-le")) // 2
    assert stats.segments == reference_parts(text)


def test_render_shows_the_real_part_count(tmp_path):
    root = make_project(tmp_path)
    text = "a" * 152 + "€" + "a" * 152
    write(root / "templates" / "long.j2", f'+++\nlocale = "en-US"\n[samples.s]\nx = "1"\n+++\n{text}\n')
    r = tmplstudio("render", "templates/long.j2", cwd=root)
    assert "305 chars · GSM-7 · 3 parts" in r.stdout, r.stdout[:300]

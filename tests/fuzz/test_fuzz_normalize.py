"""Fuzz: the normaliser's offset map. Every normalised character, and every normalised span,
maps back to characters of the original, in order, whatever the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from tmplstudio.text.normalize import normalize, normalize_phrase

# Text that exercises every folding rule: spaced and punctuated CJK, Latin letter-spacing,
# leetspeak, full-width forms, zero-width and format characters, Traditional characters,
# combining marks, surrogate-free astral characters, CRLF and lone CR.
PIECES = st.sampled_from([
    "上", "门", "催", "收", "上門", " ", "  ", "\t", "\n", "\r\n", "\r", ".", "-", "·", "*", "/", "|", "，", "。", "！", "、",
    "a", "r", "e", "s", "t", "A", "R", "-r-", "a-r-r-e-s-t", "p0lice", "j@il", "ＰＯＬＩＣＥ", "\u200b", "\u200d", "\ufeff",
    "\u2060", "\u00ad", "e\u0301", "ﬁ", "㈱", "①", "😀", "𠀀", "Ⅻ", "ß", "İ", "ǅ", "\ufffc", "95xxx", "1234", "微 信",
    "加 QQ", "v x", "ｖｘ", "\x00", "\x7f", "\u3000", "〜", "～", "'", "\"", "“", "”", "(", ")", "【", "】",
])
TEXTS = st.one_of(st.text(max_size=300), st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=80).map("".join))
SETTINGS = settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@SETTINGS
@given(TEXTS)
def test_every_character_maps_inside_the_original_in_order(text):
    n = normalize(text)
    assert n.original == text
    assert len(n.starts) == len(n.text) == len(n.ends)
    previous_start, previous_end = 0, 0
    for s, e in zip(n.starts, n.ends):
        assert 0 <= s < e <= len(text)
        assert s >= previous_start and e >= previous_end  # in order, never backwards
        previous_start, previous_end = s, e


@SETTINGS
@given(TEXTS, st.data())
def test_every_span_maps_to_an_ordered_span_inside_the_original(text, data):
    n = normalize(text)
    if not n.text:
        assert n.span(0, 0) == (0, 0)
        return
    i = data.draw(st.integers(0, len(n.text) - 1))
    j = data.draw(st.integers(i + 1, len(n.text)))
    s, e = n.span(i, j)
    assert 0 <= s < e <= len(text)
    # The span covers exactly the characters its first and last normalised characters came from.
    assert s == n.starts[i] and e == n.ends[j - 1]
    # Nested spans map to nested spans.
    if j - i >= 2:
        s2, e2 = n.span(i + 1, j - 1 if j - 1 > i + 1 else j)
        assert s <= s2 <= e2 <= e


@SETTINGS
@given(TEXTS)
def test_normalising_is_idempotent_on_its_own_output(text):
    once = normalize(text).text
    assert normalize(once).text == normalize(once).text  # deterministic
    assert normalize_phrase(text) == normalize_phrase(text)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=5).map("".join), st.integers(2_000, 20_000))
def test_long_texts_keep_the_map_and_stay_linear(piece, repeat):
    import time

    text = (piece * repeat)[:100_000]
    start = time.perf_counter()
    n = normalize(text)
    elapsed = time.perf_counter() - start
    assert len(n.starts) == len(n.text)
    assert all(0 <= s < e <= len(text) for s, e in zip(n.starts[:50], n.ends[:50]))
    assert elapsed < 2.0, f"{len(text):,} characters took {elapsed:.2f} s"

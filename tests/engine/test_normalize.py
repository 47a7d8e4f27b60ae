from hypothesis import given, strategies as st

from tmplstudio.text.normalize import normalize


def folded(text: str) -> str:
    return normalize(text).text


def test_spaced_and_punctuated_chinese_folds_to_the_word():
    for evasion in ("上 门", "上.门", "上-门", "上😀门", "上\u200b门", "上　门"):
        assert "上门" in folded(f"我们将{evasion}催收"), evasion


def test_sentence_punctuation_between_chinese_is_kept():
    assert folded("请还款。上门") == "请还款。上门"
    assert "," in folded("您好，张三")  # full-width comma becomes ',' but stays


def test_traditional_fullwidth_and_case_fold():
    assert folded("上門催收") == "上门催收"
    assert folded("ＰＯＬＩＣＥ") == "police"
    assert folded("Arrest") == "arrest"


def test_letter_separated_latin_is_joined_but_words_are_not():
    assert folded("a-r-r-e-s-t") == "arrest"
    assert folded("a r r e s t you") == "arrest you"
    assert folded("we are here") == "we are here"


def test_cyrillic_lookalikes_fold_to_latin():
    assert folded("pоlice") == "police"  # the 'о' is Cyrillic


def test_offset_map_points_at_the_original_characters():
    text = "您好，我们将上 门\u200b催收。"
    n = normalize(text)
    i = n.text.index("上门催收")
    start, end = n.span(i, i + 4)
    assert text[start:end] == "上 门\u200b催收"


@given(st.text(max_size=200))
def test_offset_map_invariants(text):
    n = normalize(text)
    assert len(n.starts) == len(n.text) == len(n.ends)
    for s, e in zip(n.starts, n.ends):
        assert 0 <= s < e <= len(text)
    # In order: each normalised character comes from at or after the previous one.
    assert list(n.starts) == sorted(n.starts)


def test_a_one_letter_word_is_not_glued_to_a_spaced_word():
    assert folded("A l-a-w-s-u-i-t is next, I a-r-r-e-s-t") == "a lawsuit is next, i arrest"


def test_spaced_out_words_keep_their_word_gaps_and_quotes_fold():
    assert folded("Y o u  w i l l  b e  a r r e s t e d") == "you will be arrested"
    assert folded("You can’t hide") == "you can't hide"


def test_leetspeak_in_words_folds_but_codes_and_numbers_stay():
    assert folded("j@il p0lice arr3st") == "jail police arrest"
    assert folded("95xxx 11010519491231002X $50.00 1-800-555-0100") == "95xxx 11010519491231002x $50.00 1-800-555-0100"

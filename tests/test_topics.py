"""Topic discovery on a labelled corpus: Dutch and English tickets written around known themes, with
typos, vague questions and second issues mentioned in passing; the topics found must recover the themes."""

from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict

import pytest

from connector.errors import ConfigError
from connector.sandbox.themes import OTHER, THEMES, labelled_corpus, write
from connector.topics.discover import discover
from connector.topics.text import content_words, fold, language

SIZE = 2_000


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str, str]]:
    """(id, text, theme × language) for `SIZE` texts, 5 % of words mistyped."""
    return [
        (f"t{n}", text.text, f"{text.theme}/{text.language}")
        for n, text in enumerate(labelled_corpus(SIZE, seed=1, typo_rate=0.05))
    ]


def purity(found: list[int | None], truth: list[str]) -> float:
    """Share of texts whose topic's most common label is their own."""
    groups: dict[int | None, list[str]] = defaultdict(list)
    for topic, label in zip(found, truth, strict=True):
        groups[topic].append(label)
    return sum(Counter(g).most_common(1)[0][1] for g in groups.values()) / len(truth)


def test_words_that_carry_a_subject() -> None:
    assert fold("Contract beëindigd") == "contract beeindigd"
    assert content_words("Hallo, ik wil graag mijn geld terug! Met vriendelijke groet") == "geld terug"
    assert content_words("Hi, where is my order 48213? Kind regards,") == "order"
    assert language("Ik wil mijn abonnement opzeggen") == "nl"
    assert language("I want to cancel my subscription") == "en"
    assert language("12345") is None


def test_the_corpus_writer_is_seeded_and_mixes_in_noise() -> None:
    import random

    first, again = write(random.Random(3), "refund", "nl"), write(random.Random(3), "refund", "nl")
    assert first == again and first.language == "nl"
    texts = list(labelled_corpus(500, seed=2))
    themes = Counter(t.theme for t in texts)
    assert set(themes) == {*THEMES, OTHER} and 10 <= themes[OTHER] <= 70
    assert 200 <= sum(t.language == "nl" for t in texts) <= 300


def test_topics_recover_the_themes_in_both_languages(corpus: list[tuple[str, str, str]]) -> None:
    """Target (also the benchmark's): purity ≥ 0.90 against the themes and adjusted Rand ≥ 0.85 against
    theme × language — Dutch and English about the same thing share few words, so they are two topics."""
    from sklearn.metrics import adjusted_rand_score

    ids, texts, truth = zip(*corpus, strict=True)
    found = discover(list(ids), list(texts), seed=0)
    assigned = [a or 0 for a in found.assigned]
    assert purity(found.assigned, [t.split("/")[0] for t in truth]) >= 0.90
    assert adjusted_rand_score(list(truth), assigned) >= 0.85
    # nine kinds of text in two languages: the silhouette picks about 18 topics
    assert abs(found.k - 2 * (len(THEMES) + 1)) <= 2 and len(found.topics) == found.k
    by_label = {t.label: t for t in found.topics}
    # readable labels: the refund topics are named by their own words, in their own language
    refund = [t for t in found.topics if "refund" in t.terms or "terugbetaling" in t.terms]
    assert {t.language for t in refund} == {"en", "nl"}, by_label
    assert all(len(t.label.split(" / ")) == 3 for t in found.topics)
    assert [t.number for t in found.topics] == list(range(1, len(found.topics) + 1))
    assert [t.size for t in found.topics] == sorted((t.size for t in found.topics), reverse=True)
    assert sum(t.size for t in found.topics) == sum(a is not None for a in found.assigned)
    # examples are texts of the topic
    for topic in found.topics:
        assert all(found.assigned[ids.index(e)] == topic.number for e in topic.examples)


def test_the_same_store_and_seed_give_the_same_topics(corpus: list[tuple[str, str, str]]) -> None:
    ids, texts, _ = zip(*corpus[:600], strict=True)
    first = discover(list(ids), list(texts), count=6, seed=4)
    again = discover(list(ids), list(texts), count=6, seed=4)
    assert first == again and first.k == 6 and first.tried == {}


def test_too_few_texts_and_a_missing_extra_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="at least 20 texts with words; 2 were given"):
        discover(["a", "b", "c"], ["refund please", "geld terug", "hello"])
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"pip install 'helpdesk-kpi-connector\[topics\]'"):
        discover(["a"], ["refund"])

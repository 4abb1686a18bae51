"""Finding the recurring topics in tickets' own words, offline: TF-IDF and non-negative matrix factorisation
(scikit-learn), the number of topics chosen by silhouette when not set.

    >>> found = discover(ids, texts, seed=0)
    >>> [(t.label, t.size) for t in found.topics]
    [('geld terug / terugbetaling / retour', 412), ('refund / money back / returned', 398), ...]

Method, and why:

- **Features**: character 3–5-grams within words (`char_wb`) of each text's content words (`text.py`).
  Character grams make "bestelling", "bestellnig" and "bestellingen" near neighbours, so typos and
  inflections do not scatter a topic; stop words and salutations are gone before, so greetings do not form
  a topic. Sublinear term frequency, terms in fewer than two texts dropped.
- **Topics**: NMF with `k` components (NNDSVDa start, so a seed and the data fix the result); a text
  belongs to the component with its largest weight, none when every weight is zero (no known words).
- **How many**: with `count=0`, `k` from 4 to 30 (at most a tenth of the texts) is the one whose topics
  score the highest mean silhouette (cosine) on up to 3,000 texts: compact topics far from each other.
- **Scale**: the model is fitted on a seeded sample of at most `sample` texts (20,000) and every text is
  then assigned in batches, so a million tickets cost one fit and a linear pass.
- **Labels**: a topic's label is its three most distinctive words or word pairs (class-based TF-IDF: a
  term's frequency in the topic's texts × log(1 + texts per topic / the term's frequency in all topics)),
  so words every topic uses ("order", "bestelling") do not name one; a word already in a chosen pair is
  skipped. Examples are the texts with the topic's largest weights.
- **New tickets between discoveries** (`assign`): a ticket synced after the last discovery is given the
  known topic whose terms (the stored words and pairs) are nearest its words, by cosine of the same
  character grams; none below `ASSIGN_MIN_SIMILARITY`. No fitted model needs keeping: on the labelled
  corpus, tickets assigned so hold their themes nearly as well as the factorisation's own assignment
  (purity 0.966 against 0.975 on 4,000 held-out texts; `tests/test_topics.py` holds it to 0.9).
- **Languages**: Dutch and English tickets about the same thing share few words, so they form separate
  topics; each topic's language is the one most of its texts use (`text.language`).
"""

from __future__ import annotations

import importlib.util
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError
from connector.topics.text import content_words, language

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
SAMPLE = 20_000
"""Texts the model is fitted on at most; the rest are assigned by the fitted model."""
SILHOUETTE_SAMPLE = 3_000
SEARCH_SAMPLE = 5_000
"""Texts the number of topics is chosen on (the rows are shuffled, so the first 3,000 are a sample too)."""
K_RANGE = (4, 30)
BATCH = 20_000
LABEL_TERMS = 3
TERMS = 8
EXAMPLES = 3
INSTALL = "pip install 'helpdesk-kpi-connector[topics]'"
ASSIGN_MIN_SIMILARITY = 0.05
"""Cosine below which a new ticket's words match no known topic's terms (`assign`)."""


@dataclass(frozen=True)
class Topic:
    """One recurring topic: numbered from 1 by size (largest first)."""

    number: int
    label: str
    terms: tuple[str, ...]
    """The most distinctive words and word pairs, best first (the label is the first three)."""
    language: str | None
    size: int
    """Texts assigned to it."""
    examples: tuple[str, ...]
    """Ids of the texts most typical of it."""


@dataclass(frozen=True)
class Discovery:
    topics: list[Topic]
    assigned: list[int | None]
    """Per input text, its topic's number (None: no known word)."""
    k: int
    silhouette: float
    """The mean silhouette (cosine) of the chosen topics on the scored sample."""
    tried: dict[int, float] = field(default_factory=dict)
    """Silhouette per number of topics tried (empty when the number was given)."""

    def topic(self, number: int | None) -> Topic | None:
        return None if number is None else self.topics[number - 1]


def require_extra() -> None:
    """A ConfigError naming the install command when scikit-learn or the stop words are missing."""
    missing = [m for m in ("sklearn", "stop_words") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(
            f"topic discovery needs the optional 'topics' extra (missing: {', '.join(missing)}): {INSTALL}"
        )


def discover(
    ids: Sequence[str],
    texts: Sequence[str],
    *,
    count: int = 0,
    seed: int = 0,
    sample: int = SAMPLE,
    progress: Callable[[str], None] | None = None,
    exemplary: Sequence[bool] | None = None,
) -> Discovery:
    """The topics of `texts` (ids alongside), `count` of them (0: chosen by silhouette). A topic's
    examples are its most typical texts, those marked `exemplary` (default: all) first — tickets before
    call notes, so a subject can show."""
    require_extra()
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(ids) != len(texts) or (exemplary is not None and len(exemplary) != len(texts)):
        raise ValueError("ids, texts and exemplary differ in length")
    words = [content_words(t) for t in texts]
    usable = [i for i, w in enumerate(words) if w]
    if len(usable) < 20:
        raise ConfigError(f"topic discovery needs at least 20 texts with words; {len(usable)} were given")
    rng = np.random.RandomState(seed)
    fit_rows = np.sort(rng.choice(usable, min(sample, len(usable)), replace=False))
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, dtype=np.float32
    )
    matrix = vectorizer.fit_transform([words[i] for i in fit_rows])
    scored = rng.choice(matrix.shape[0], min(SILHOUETTE_SAMPLE, matrix.shape[0]), replace=False)
    tried: dict[int, float] = {}
    k = count or _choose_k(matrix, seed, rng, len(usable), tried, progress)
    model, silhouette = _fit(matrix, k, seed, scored)
    assigned, weight = _assign(vectorizer, model, words, progress)
    topics = _describe(ids, texts, words, assigned, weight, exemplary or [True] * len(ids))
    renumber = {old: new for new, old in enumerate((t.number for t in topics), start=1)}
    topics = [_renumbered(t, renumber[t.number]) for t in topics]
    return Discovery(
        topics=topics,
        assigned=[None if a is None else renumber.get(a) for a in assigned],
        k=k,
        silhouette=silhouette,
        tried=tried,
    )


def assign(texts: Sequence[str], topics: Sequence[tuple[int, Sequence[str]]]) -> list[int | None]:
    """Per text, the number of the known topic (number, terms) whose terms are nearest its content
    words — cosine of character 3–5-gram TF-IDF vectors, fitted on the topics' terms — or None below
    `ASSIGN_MIN_SIMILARITY` (no word of any topic)."""
    require_extra()
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not topics or not texts:
        return [None] * len(texts)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    known = vectorizer.fit_transform([" ".join(terms) for _, terms in topics])
    numbers = [number for number, _ in topics]
    assigned: list[int | None] = []
    for start in range(0, len(texts), BATCH):
        batch = [content_words(t) for t in texts[start : start + BATCH]]
        similarity = (vectorizer.transform(batch) @ known.T).toarray()
        best = similarity.argmax(axis=1)
        assigned += [
            numbers[b] if similarity[row, b] >= ASSIGN_MIN_SIMILARITY else None for row, b in enumerate(best)
        ]
    return assigned


def _choose_k(
    matrix: Any,
    seed: int,
    rng: Any,
    texts: int,
    tried: dict[int, float],
    progress: Callable[[str], None] | None,
) -> int:
    """The number of topics in `K_RANGE` (at most a tenth of the texts) with the best silhouette, on a
    sample of `SEARCH_SAMPLE` rows: every third number first, then the neighbours of the best."""
    rows = rng.choice(matrix.shape[0], min(SEARCH_SAMPLE, matrix.shape[0]), replace=False)
    subset = matrix[rows]
    scored = list(range(min(SILHOUETTE_SAMPLE, subset.shape[0])))
    low, high = K_RANGE[0], max(K_RANGE[0], min(K_RANGE[1], texts // 10))

    def score(k: int) -> float:
        if k not in tried and low <= k <= high:
            tried[k] = _fit(subset, k, seed, scored)[1]
            if progress is not None:
                progress(f"topics: {k} topics score {tried[k]:.3f} (silhouette)")
        return tried.get(k, -1.0)

    for k in range(low, high + 1, 3):
        score(k)
    best = max(tried, key=lambda k: (tried[k], -k))
    for k in (best - 2, best - 1, best + 1, best + 2):
        score(k)
    return max(tried, key=lambda k: (tried[k], -k))


def _fit(matrix: Any, k: int, seed: int, scored: Any) -> tuple[Any, float]:
    """NMF with `k` components on `matrix`, and the silhouette of its hard assignment on rows `scored`."""
    import warnings

    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 300 iterations settle the argmax
        weights = model.fit_transform(matrix)
    labels = weights[scored].argmax(axis=1)
    if len(set(labels.tolist())) < 2:
        return model, -1.0
    return model, float(silhouette_score(matrix[scored], labels, metric="cosine", random_state=seed))


def _assign(
    vectorizer: Any, model: Any, words: Sequence[str], progress: Callable[[str], None] | None
) -> tuple[list[int | None], np.ndarray]:
    """Each text's component (None without weight) and that weight, in batches of `BATCH`."""
    import numpy as np

    assigned: list[int | None] = []
    weights = np.zeros(len(words), dtype=np.float32)
    for start in range(0, len(words), BATCH):
        chunk = model.transform(vectorizer.transform(words[start : start + BATCH]))
        best = chunk.argmax(axis=1)
        top = chunk.max(axis=1)
        weights[start : start + len(best)] = top
        assigned += [int(b) + 1 if w > 0 else None for b, w in zip(best.tolist(), top.tolist(), strict=True)]
        if progress is not None and len(words) > BATCH:
            progress(f"topics: {min(start + BATCH, len(words)):,} of {len(words):,} texts assigned")
    return assigned, weights


def _describe(
    ids: Sequence[str],
    texts: Sequence[str],
    words: Sequence[str],
    assigned: Sequence[int | None],
    weight: Any,
    exemplary: Sequence[bool],
) -> list[Topic]:
    """The topics that got texts, largest first (ties by label), with labels, languages and examples."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    members: dict[int, list[int]] = {}
    for i, a in enumerate(assigned):
        if a is not None:
            members.setdefault(a, []).append(i)
    numbers = sorted(members)
    joined = [" ".join(words[i] for i in members[n]) for n in numbers]
    counter = CountVectorizer(ngram_range=(1, 2), token_pattern=r"[a-z]{2,}")  # noqa: S106 — a regular expression, not a secret
    tf = counter.fit_transform(joined).astype(np.float64)
    vocabulary = counter.get_feature_names_out()
    per_topic_words = np.asarray(tf.sum(axis=1)).ravel()
    average = per_topic_words.mean() if len(per_topic_words) else 1.0
    frequency = np.asarray(tf.sum(axis=0)).ravel()
    ctfidf = tf.multiply(1 / np.maximum(per_topic_words, 1)[:, None]).multiply(np.log1p(average / frequency))
    ctfidf = ctfidf.tocsr()
    topics = []
    for row, number in enumerate(numbers):
        scores = ctfidf.getrow(row).toarray().ravel()
        terms = _terms([str(vocabulary[i]) for i in np.argsort(-scores)[: TERMS * 3] if scores[i] > 0])
        typical = sorted(members[number], key=lambda i: (not exemplary[i], -float(weight[i]), ids[i]))[
            :EXAMPLES
        ]
        languages = Counter(language(texts[i]) for i in members[number][:500])
        topics.append(
            Topic(
                number=number,
                label=" / ".join(terms[:LABEL_TERMS]),
                terms=tuple(terms),
                language=max((lang for lang in languages if lang), key=lambda x: languages[x], default=None),
                size=len(members[number]),
                examples=tuple(ids[i] for i in typical),
            )
        )
    return _unique_labels(sorted(topics, key=lambda t: (-t.size, t.label)))


def _unique_labels(topics: list[Topic]) -> list[Topic]:
    """A label repeated by a smaller topic gets its rank appended ("refund / money back (2)"): the
    label is the topic's name in the KPIs' topic cut and on HubSpot tickets, so two must never share one."""
    seen: Counter[str] = Counter()
    unique = []
    for topic in topics:
        seen[topic.label] += 1
        unique.append(
            topic if seen[topic.label] == 1 else replace(topic, label=f"{topic.label} ({seen[topic.label]})")
        )
    return unique


def _terms(ranked: Sequence[str]) -> list[str]:
    """The best `TERMS` terms, leaving out a word that a better-ranked pair already holds (and a pair whose
    words are both already shown)."""
    chosen: list[str] = []
    for term in ranked:
        shown = {w for c in chosen for w in c.split()}
        if set(term.split()) <= shown:
            continue
        chosen.append(term)
        if len(chosen) == TERMS:
            break
    return chosen


def _renumbered(topic: Topic, number: int) -> Topic:
    return replace(topic, number=number)

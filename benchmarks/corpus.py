"""Benchmark inputs made only from the team's own labeled corpus.

Articles are assembled from ``training/data/*.csv`` with a seeded RNG, so every
run scores the same text and no outside news text is ever copied. Each article
has a headline line, then paragraphs of whole corpus sentences separated by
blank lines, the way a scraped news article looks to the splitter.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import WORK
from model.sentences import split_sentences
from training.dataset import DEFAULT_DATA_DIR

# Prose sentences can share a paragraph; others (liveblog stamps, social posts
# without a full stop) would run into the next sentence, so they get a line.
_ENDS_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)]?$")
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_ROTATE = re.compile(r"\b(" + "|".join(_WEEKDAYS + _MONTHS) + r")\b")
_PLAIN_WORD = re.compile(r"^[a-z]+$")


@dataclass(frozen=True)
class Row:
    doc_id: str
    text: str
    label: str
    style: str


def prune_stale() -> None:
    """Delete generated inputs made from an older corpus (their names carry its digest)."""
    if not WORK.is_dir():
        return
    current = corpus_sha()
    for path in WORK.iterdir():
        if path.name.startswith(("articles-", "corpus-")) and current not in path.name:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def load_rows(data_dir: Path = DEFAULT_DATA_DIR) -> list[Row]:
    """Every labeled sentence of the bundled corpus, in file order."""
    rows = []
    for path in sorted(data_dir.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                rows.append(Row(r["doc_id"], r["text"].strip(), r["label"], r.get("style", "")))
    return rows


def corpus_sha(data_dir: Path = DEFAULT_DATA_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.csv")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class ArticleMaker:
    """Builds article texts from the corpus: one headline plus body paragraphs."""

    def __init__(self, rows: list[Row], seed: int = 0):
        self.rng = random.Random(seed)
        self.headlines = [r.text for r in rows if r.style == "headline"]
        docs: dict[str, list[str]] = {}
        for r in rows:
            if r.style != "headline":
                docs.setdefault(r.doc_id, []).append(r.text)
        self.docs = list(docs.values())

    def article(self, n_sentences: int) -> str:
        """A headline and ``n_sentences - 1`` body sentences taken doc by doc."""
        body: list[str] = []
        while len(body) < n_sentences - 1:
            body.extend(self.rng.choice(self.docs))
        body = body[: n_sentences - 1]
        paragraphs: list[str] = []
        current: list[str] = []
        for sentence in body:
            if not _ENDS_SENTENCE.search(sentence):
                if current:
                    paragraphs.append(" ".join(current))
                    current = []
                paragraphs.append(sentence)
                continue
            current.append(sentence)
            if len(current) >= self.rng.randint(1, 4):
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        return self.rng.choice(self.headlines) + "\n\n" + "\n\n".join(paragraphs) + "\n"

    def article_of_words(self, words: int) -> str:
        """Grow an article sentence by sentence until it has about ``words`` words."""
        n = 10
        text = self.article(n)
        while len(text.split()) < words:
            n += 2
            state = self.rng.getstate()
            text = self.article(n)
            self.rng.setstate(state)
        return text


def articles_file(n_docs: int, min_sentences: int = 15, max_sentences: int = 30,
                  seed: int = 0) -> Path:
    """JSONL of ``n_docs`` articles under benchmarks/work/, rebuilt only if stale.

    The name carries the parameters and the corpus digest, so a corpus change
    gives a new file rather than silently reusing old text.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    name = f"articles-{n_docs}-{min_sentences}-{max_sentences}-s{seed}-{corpus_sha()}.jsonl"
    path = WORK / name
    if path.is_file():
        return path
    maker = ArticleMaker(load_rows(), seed)
    rng = random.Random(seed + 1)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in range(n_docs):
            text = maker.article(rng.randint(min_sentences, max_sentences))
            fh.write(json.dumps({"id": f"bench-{i:06d}", "text": text}, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def read_texts(path: Path, limit: int | None = None) -> list[str]:
    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if limit is not None and len(texts) >= limit:
                break
    return texts


def head_file(path: Path, n_docs: int) -> Path:
    """The first ``n_docs`` lines of a JSONL file (a subset for the slower runs)."""
    out = path.with_name(f"{path.stem}-head{n_docs}.jsonl")
    if not out.is_file():
        with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= n_docs:
                    break
                dst.write(line)
    return out


def _perturb(text: str, rng: random.Random) -> str:
    """Lightly vary a sentence: new digits, another weekday/month, one word swap.

    The swap only trades two adjacent lower-case interior words, so the result
    is still exactly one sentence to the splitter (the dataset validator checks
    that) and reads like a sentence from the same article.
    """
    text = re.sub(r"\d", lambda m: str(rng.randint(0, 9)) if rng.random() < 0.5 else m.group(), text)
    text = _ROTATE.sub(
        lambda m: rng.choice(_WEEKDAYS if m.group() in _WEEKDAYS else _MONTHS), text
    )
    words = text.split(" ")
    spots = [i for i in range(1, len(words) - 2)
             if _PLAIN_WORD.match(words[i]) and _PLAIN_WORD.match(words[i + 1])]
    if spots:
        i = rng.choice(spots)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def sliced_corpus(n_rows: int) -> tuple[Path, int]:
    """The first whole documents of the corpus holding at least ``n_rows`` sentences.

    Used by ``--quick`` so that a smoke run trains in seconds.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"corpus-first{n_rows}-{corpus_sha()}"
    rows = load_rows()
    keep: list[Row] = []
    for r in rows:
        if len(keep) >= n_rows and r.doc_id != keep[-1].doc_id:
            break
        keep.append(r)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc_id", "text", "label"])
        writer.writerows([r.doc_id, r.text, r.label] for r in keep)
    return out, len(keep)


def scaled_corpus(factor: int, seed: int = 0) -> tuple[Path, int]:
    """A directory holding the corpus ``factor`` times: the original plus copies.

    Copy k gets new doc_ids (``<doc_id>-xk``) and perturbed sentences, so the
    grouped cross-validation sees more documents and the vocabulary grows a
    little, as with more real labeled articles. Perturbations that collide
    with an existing sentence or stop being one sentence are retried, then
    dropped. Returns the directory and its number of sentences.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"corpus-x{factor}-s{seed}-{corpus_sha()}"
    done = out / "rows.count"
    if done.is_file():
        return out, int(done.read_text())
    rows = load_rows()
    seen = {" ".join(r.text.lower().split()) for r in rows}
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out / "corpus.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc_id", "text", "label"])
        for copy in range(factor):
            for r in rows:
                text = r.text
                if copy:
                    for _ in range(5):
                        text = _perturb(r.text, rng)
                        key = " ".join(text.lower().split())
                        spans = split_sentences(text)
                        if key not in seen and len(spans) == 1 and spans[0].text == text:
                            seen.add(key)
                            break
                    else:
                        continue
                writer.writerow([r.doc_id if not copy else f"{r.doc_id}-x{copy}", text, r.label])
                n += 1
    done.write_text(str(n))
    return out, n

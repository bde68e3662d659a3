"""`framing-cues`: the n-grams the model leans on most, and how they are used in real text.

A bag-of-n-grams model learns whatever word separates the labels in its corpus.
When a cue is decisive in the corpus ("Kiev" nearly always pro_russia) but not
in real news (where plain wire copy spells it that way too), the corpus needs
natural counter-examples. This audit shows each top cue's label distribution
in the corpus and, where a labeled real-news file is given, in that file.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np

from model.artifact import ArtifactError
from model.classifier import Classifier
from model.labels import LABELS
from training import dataset

DEFAULT_TOP = 50
# A cue is flagged when the corpus gives its top label at least this share but
# the real-news file, with at least MIN_REAL occurrences, gives it less than half.
DECISIVE_SHARE = 0.8
MIN_REAL = 3


def _distribution(rows: Sequence[tuple[set[str], str]], term: str) -> dict[str, Any]:
    counts = Counter(label for grams, label in rows if term in grams)
    n = sum(counts.values())
    return {"n": n, **{label: (counts[label] / n if n else None) for label in LABELS}}


def cue_audit(
    classifier: Classifier,
    corpus: Sequence[tuple[str, str]],
    real: Sequence[tuple[str, str]] | None = None,
    top: int = DEFAULT_TOP,
) -> dict[str, list[dict[str, Any]]]:
    """Per label, the ``top`` n-grams by weight with their corpus (and real) label shares."""
    terms, weights = classifier.term_weights()
    corpus_rows = [(set(classifier.analyze(text)), label) for text, label in corpus]
    real_rows = [(set(classifier.analyze(text)), label) for text, label in real] if real else None
    audit: dict[str, list[dict[str, Any]]] = {}
    for i, label in enumerate(LABELS):
        entries = []
        for j in np.argsort(-weights[i], kind="stable")[:top]:
            term = str(terms[j])
            entry: dict[str, Any] = {
                "term": term,
                "weight": round(float(weights[i, j]), 3),
                "corpus": _distribution(corpus_rows, term),
            }
            if real_rows is not None:
                entry["real"] = _distribution(real_rows, term)
                entry["flag"] = _flag(entry, label)
            entries.append(entry)
        audit[label] = entries
    return audit


def _flag(entry: dict[str, Any], label: str) -> bool:
    """Decisive for ``label`` in the corpus but not in real use."""
    corpus, real = entry["corpus"], entry["real"]
    return bool(
        (corpus[label] or 0) >= DECISIVE_SHARE
        and real["n"] >= MIN_REAL
        and (real[label] or 0) < 0.5
    )


def _share(dist: dict[str, Any]) -> str:
    if not dist["n"]:
        return "–"
    return f"{dist['n']}: " + " / ".join(f"{dist[label] * 100:.0f}" for label in LABELS)


def audit_markdown(audit: dict[str, list[dict[str, Any]]], real_name: str | None = None) -> list[str]:
    """Tables for the model card: one per label."""
    order = " / ".join(LABELS)
    lines = [
        f"Shares are n: % {order} of the rows that contain the n-gram"
        + (f"; real = `{real_name}`" if real_name else "")
        + ". ⚠ marks a cue decisive in the corpus but not in real use.",
        "",
    ]
    # LABELS order, not the dict's: metadata.json is saved with sorted keys.
    for label in (label for label in LABELS if label in audit):
        entries = audit[label]
        has_real = any("real" in e for e in entries)
        lines += [f"**Toward {label}**", ""]
        lines.append("| n-gram | weight | corpus | real |" if has_real else "| n-gram | weight | corpus |")
        lines.append("|---|---|---|---|" if has_real else "|---|---|---|")
        for e in entries:
            term = e["term"].replace("|", "\\|")
            row = f"| {term}{' ⚠' if e.get('flag') else ''} | {e['weight']:.2f} | {_share(e['corpus'])} |"
            if has_real:
                row += f" {_share(e['real'])} |"
            lines.append(row)
        lines.append("")
    return lines


@click.command()
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="FRAMING_MODEL_DIR",
              help="Model directory [default: $FRAMING_MODEL_DIR, else the project's model/artifacts/default].")
@click.option("--data", type=click.Path(exists=True, path_type=Path), default=dataset.DEFAULT_DATA_DIR,
              show_default=True, help="The labeled corpus the model was trained on.")
@click.option("--real", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labeled real-news file (text,label) to compare with [default: ../shared/dev/dev.jsonl "
              "beside the checkout, if present].")
@click.option("--top", type=click.IntRange(1), default=DEFAULT_TOP, show_default=True,
              help="n-grams per label.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown tables.")
def main(model_dir: Path | None, data: Path, real: Path | None, top: int, as_json: bool) -> None:
    """List the n-grams with the largest weight per label and their label shares.

    \b
    Example:
        framing-cues --top 20
        framing-cues --real ../shared/dev/dev.jsonl --json
    """
    if real is None and dataset.DEFAULT_DEV.is_file():
        real = dataset.DEFAULT_DEV
    try:
        classifier = Classifier.from_dir(model_dir)
        corpus = [(ex.text, ex.label) for ex in dataset.load_examples(data)]
        real_rows = None
        if real is not None:
            examples = dataset.load_examples(real, require_doc_id=False, check_sentences=False)
            real_rows = [(ex.text, ex.label) for ex in examples]
    except (ArtifactError, dataset.DatasetError) as exc:
        raise click.ClickException(str(exc)) from exc
    audit = cue_audit(classifier, corpus, real_rows, top)
    if as_json:
        click.echo(json.dumps(audit, indent=2))
    else:
        click.echo("\n".join(audit_markdown(audit, real.name if real else None)))


if __name__ == "__main__":
    main()

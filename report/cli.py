"""`framing-report`: read `framing-score` output, write one offline HTML report."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import IO, Iterator

import click
import orjson
from tqdm import tqdm

from batch.inputs import open_binary
from model.labels import LABELS
from report.aggregate import FREQS, Aggregator
from report.aggregate import compare as compare_groups
from report.prevalence import adjusted_shares, confusion


def _open(path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == "-" else open_binary(Path(path))


def read_documents(paths: list[str], bad: list[str]) -> Iterator[dict]:
    """Document records from `framing-score` JSONL; other lines are noted in ``bad``."""
    for path in paths:
        with _open(path) as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    bad.append(f"{path}:{number}: not JSON ({exc})")
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("document"), dict):
                    bad.append(f"{path}:{number}: not a framing-score document line "
                               "(score with the default --granularity document)")
                    continue
                yield record


def read_validation(path: Path) -> tuple[list[str], list[str]]:
    """(texts, labels) from a CSV with ``text`` and ``label`` columns (framing-label export's shape)."""
    texts, labels, skipped = [], [], 0
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise click.ClickException(
                f"{path}: needs the columns text and label (missing {', '.join(sorted(missing))})")
        for row in reader:
            label = (row.get("label") or "").strip()
            text = (row.get("text") or "").strip()
            if label in LABELS and text:
                texts.append(text)
                labels.append(label)
            else:
                skipped += 1
    if skipped:
        click.echo(f"{path}: {skipped:,} rows without a text or with a label other than {', '.join(LABELS)} "
                   "left out of the validation", err=True)
    if not texts:
        raise click.ClickException(f"{path}: no rows with a text and a label among {', '.join(LABELS)}")
    return texts, labels


def write_csv(path: str, result: dict, comparison: dict | None) -> None:
    """Every aggregate the page shows, one row per (section, name)."""
    columns = ["section", "name", "documents", "scored_documents", "sentences", "flagged", "mean_score",
               "mean_score_ci_low", "mean_score_ci_high"]
    for label in LABELS:
        columns += [f"share_{label}", f"share_{label}_ci_low", f"share_{label}_ci_high"]
    rows = [("overall", "(all)", result["overall"])]
    rows += [("group", name, g) for name, g in result["groups"].items()]
    rows += [("period", name, p) for name, p in result["periods"].items()]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for section, name, s in rows:
            writer.writerow([section, name, s["documents"], s["scored_documents"], s["sentences"], s["flagged"],
                             *_estimate_cells(s)])
        if comparison:
            writer.writerow(["difference", f"{comparison['b']} - {comparison['a']}", "", "", "", "",
                             *_estimate_cells(comparison["diff"])])


def _estimate_cells(s: dict) -> list:
    """Mean score and label shares, each with its interval ("" where there is none)."""
    row = [s["mean_score"], *(s["mean_score_ci"] or [None, None])]
    for label in LABELS:
        row += [s["label_shares"][label], *(s["label_shares_ci"][label] or [None, None])]
    return ["" if v is None else v for v in row]


def _model_note(models: dict, model_dir: Path | None) -> str:
    from model.artifact import ArtifactError, read_metadata, resolve_model_dir

    try:
        meta = read_metadata(resolve_model_dir(model_dir))
    except (ArtifactError, OSError, ValueError):
        return "The model's measured accuracy is in its model card (docs/MODEL_CARD.md)."
    dev = (meta.get("metrics") or {}).get("dev") or {}
    version = meta.get("version", "?")
    used = ", ".join(models) or "no model"
    same = any(version in m for m in models)
    if "macro_f1" not in dev:
        return f"Scored by {used}. The model's measured accuracy is in its model card."
    caveat = "" if same else "; these figures are of the model installed here, not of the one in the scores"
    return (f"Scored by {used}. On real news sentences held out from training, model {version} reaches "
            f"macro-F1 {dev['macro_f1']:.2f} and accuracy {dev.get('accuracy', float('nan')):.2f} "
            f"(model card){caveat}.")


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--output", "-o", required=True, help="The HTML report to write.")
@click.option("--by", default=None, metavar="FIELD", help="Group documents by this field, e.g. meta.source.")
@click.option("--time", "time_field", default=None, metavar="FIELD",
              help="ISO date field for the time series, e.g. meta.date.")
@click.option("--freq", type=click.Choice(FREQS), default="month", show_default=True, help="Period of the time series.")
@click.option("--compare", nargs=2, default=None, metavar="A B",
              help="Two groups (or two periods) side by side, with the difference B - A.")
@click.option("--csv", "csv_path", default=None, help="Also write every aggregate to this CSV file.")
@click.option("--validation", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Sentences of this corpus labeled by people (CSV with text,label, e.g. framing-label export): "
              "adds label shares adjusted for the model's errors.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="FRAMING_MODEL_DIR", help="Model that scored the corpus (for --validation and the accuracy note) "
              "[default: the installed default model].")
@click.option("--min-docs", type=click.IntRange(1), default=30, show_default=True,
              help="Groups with fewer documents are marked small (never hidden).")
@click.option("--top", type=click.IntRange(1, 1000), default=25, show_default=True,
              help="Rows in each drill-down table.")
@click.option("--title", default="Framing report", show_default=True)
@click.option("--progress/--no-progress", default=None, help="Progress bar [default: when stderr is a terminal].")
def main(inputs, output, by, time_field, freq, compare, csv_path, validation, model_dir, min_docs, top, title,
         progress):
    """Summarise framing-score document output (INPUT... .jsonl, .jsonl.gz or -) in one HTML file.

    \b
    Example:
        framing-score corpus.jsonl -o scores.jsonl
        framing-report scores.jsonl -o report.html --by meta.source --time meta.date --csv aggregates.csv
    """
    for path in inputs:
        if path != "-" and not Path(path).is_file():
            raise click.ClickException(f"input not found: {path}")
    aggregator = Aggregator(by=by, time=time_field, freq=freq, top=top)
    bad: list[str] = []
    bar = tqdm(unit=" docs", file=sys.stderr, disable=(not progress) if progress is not None else None,
               mininterval=0.5)
    try:
        for record in read_documents(list(inputs), bad):
            aggregator.add(record)
            bar.update()
    finally:
        bar.close()
    if not aggregator.overall.docs:
        raise click.ClickException("no framing-score document lines in the input" +
                                   (f" ({bad[0]})" if bad else ""))
    comparison = None
    if compare:
        a, b = compare
        stats_a, stats_b = aggregator.stats(a), aggregator.stats(b)
        for name, stats in ((a, stats_a), (b, stats_b)):
            if stats is None:
                raise click.ClickException(f"--compare: no group or period named {name!r} (use --by / --time)")
        comparison = {"a": a, "b": b, "stats_a": stats_a.summary(), "stats_b": stats_b.summary(),
                      "diff": compare_groups(stats_a, stats_b)}
    result = aggregator.result(min_docs=min_docs)
    validation_result = None
    if validation:
        validation_result = _validation(validation, model_dir, aggregator)
    from report.html import render

    html = render(result, title=title, inputs=[Path(p).name for p in inputs], by=by, time=time_field, freq=freq,
                  comparison=comparison, validation=validation_result,
                  model_note=_model_note(result["models"], model_dir))
    Path(output).write_text(html, encoding="utf-8")
    if csv_path:
        write_csv(csv_path, result, comparison)
    for line in bad[:10]:
        click.echo(f"skipped {line}", err=True)
    summary = (f"report of {result['overall']['documents']:,} documents ({result['overall']['sentences']:,} "
               f"sentences, {len(result['groups'])} groups, {len(result['periods'])} periods) -> {output}")
    if bad:
        summary += f"; {len(bad):,} lines skipped"
    click.echo(summary, err=True)


def _validation(path: Path, model_dir: Path | None, aggregator: Aggregator) -> dict:
    from model.artifact import ArtifactError, resolve_model_dir
    from model.classifier import Classifier

    texts, true = read_validation(path)
    try:
        model = Classifier.from_dir(resolve_model_dir(model_dir))
    except (ArtifactError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    predicted = [doc[0].label for doc in model.predict_texts(texts, split=False)]
    counts = confusion(true, predicted)
    overall = aggregator.overall
    adjusted = adjusted_shares(overall.shares(), overall.share_replicates(), counts)
    if adjusted is None:
        raise click.ClickException(f"{path}: every label needs at least one labeled sentence to adjust the shares")
    return {"n": len(texts), "source": path.name, "accuracy": float(counts.trace() / counts.sum()),
            "adjusted": adjusted, "confusion": counts.tolist()}


if __name__ == "__main__":
    main()

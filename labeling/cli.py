"""`framing-label`: import documents to label, export labels, measure agreement, retrain."""

from __future__ import annotations

import csv
import itertools
import json
import logging
import random
import sys
import tempfile
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from batch.cli import input_options, keep_fields_option
from batch.inputs import BadRecord, InputOptions, check_inputs, iter_items
from labeling import store
from labeling.db import DATABASE_URL_ENV, Database, DatabaseError, database_url, describe, safe_url
from model.artifact import ArtifactError, resolve_model_dir
from model.classifier import Classifier
from model.labels import LABELS
from training import dataset

EXPORT_COLUMNS = ["doc_id", "text", "label", "n_annotators", "agreement"]
IMPORT_CHUNK = 100


def _open_database(ctx: click.Context) -> Database:
    """The database, migrated to the newest revision (every command starts here)."""
    url = ctx.obj["url"]
    try:
        db = Database(url)
        db.ensure_schema()
    except (DatabaseError, SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"cannot use the label database {safe_url(url)}: {describe(exc)}") from None
    ctx.call_on_close(db.dispose)
    return db


def _project(db: Database, name: str) -> None:
    with db.session() as session:
        try:
            store.get_project(session, name)
        except store.LabelingError as exc:
            raise click.ClickException(str(exc)) from None


@click.group()
@click.option("--database", "url", envvar=DATABASE_URL_ENV, default=None,
              help="SQLAlchemy database URL [default: $FRAMING_DATABASE_URL, else a SQLite file in "
              "$FRAMING_DATA_DIR, else the project's var/].")
@click.pass_context
def main(ctx: click.Context, url: str | None) -> None:
    """Label the sentences the model is least sure of, and retrain on them.

    Every command first migrates the database to the newest schema.

    \b
    Example:
        framing-label import articles.jsonl --project desk
        framing-label export --project desk -o labels.csv
        framing-label retrain --project desk --out models/desk
    """
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    ctx.obj = {"url": database_url(url)}


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the label database's tables (Alembic migrations).

    \b
    Example:
        FRAMING_DATABASE_URL=postgresql+psycopg://me@db/labels framing-label migrate
    """
    url = ctx.obj["url"]
    from labeling.db import current_revision, head_revision

    db = _open_database(ctx)
    click.echo(f"{safe_url(url)} is at revision {current_revision(db.engine)} (newest: {head_revision()})")


@main.command(name="import")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--project", "-p", required=True, help="Project to add the documents to (created if new).")
@click.option("--overlap", type=click.IntRange(1, 20), default=None,
              help="Annotators per sentence for this project [default: 1 for a new project, else unchanged].")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="FRAMING_MODEL_DIR", help="Model that scores the sentences [default: $FRAMING_MODEL_DIR, "
              "else model/artifacts/default].")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write bad records here as JSON lines [default: only on stderr].")
@input_options
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr [default: only on a terminal].")
@click.pass_context
def import_(ctx, inputs, project, overlap, model_dir, errors_path, id_field, text_field, glob_pattern,
            stdin_format, max_bytes, keep_fields, progress) -> None:
    """Split and score documents with the current model and store them for labeling.

    Inputs are read as `framing-score` reads them (.txt, .jsonl, .csv, .gz,
    directories, - for stdin); bad records are reported and skipped. A
    document id already in the project is not imported twice.

    \b
    Example:
        framing-label import examples/articles --project demo
    """
    try:
        check_inputs(list(inputs))
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        classifier = Classifier.from_dir(resolve_model_dir(model_dir))
    except (ArtifactError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    db = _open_database(ctx)
    try:
        with db.session() as session:
            store.ensure_project(session, project, overlap)
    except store.LabelingError as exc:
        raise click.ClickException(str(exc)) from None
    options = InputOptions(id_field=id_field, text_field=text_field, glob=glob_pattern,
                           stdin_format=stdin_format, max_bytes=max_bytes, keep_fields=keep_fields_option(keep_fields))
    errors = open(errors_path, "w", encoding="utf-8") if errors_path else None
    total = store.ImportResult()
    bad = 0

    def report(record: BadRecord) -> None:
        nonlocal bad
        bad += 1
        click.echo(f"bad record {record.source}:{record.line}: {record.reason}", err=True)
        if errors:
            errors.write(record.as_json() + "\n")

    items = iter_items(list(inputs), options)
    bar = tqdm(unit="doc", disable=progress is False or (progress is None and not sys.stderr.isatty()),
               file=sys.stderr, desc=f"importing into {project}")
    try:
        while chunk := list(itertools.islice(items, IMPORT_CHUNK)):
            documents = []
            for item in chunk:
                if isinstance(item, BadRecord):
                    report(item)
                elif len(item.id) > 200:
                    report(BadRecord(item.source, item.line, None, "document id longer than 200 characters"))
                else:
                    documents.append((item.id, item.text, {**item.meta, "imported_from": f"{item.source}:{item.line}"}))
            with db.session() as session:
                result = store.import_documents(session, store.get_project(session, project), documents, classifier)
            for doc_id, reason in result.refused:
                report(BadRecord("-", 0, doc_id, reason))
            total.added += result.added
            total.sentences += result.sentences
            total.unchanged += result.unchanged
            bar.update(len(chunk))
    finally:
        bar.close()
        if errors:
            errors.close()
    line = (f"imported {total.added:,} documents ({total.sentences:,} sentences) into {project}; "
            f"{total.unchanged:,} already there; {bad:,} bad records")
    click.echo(line + (f" -> {errors_path}" if errors_path and bad else ""))


@main.command()
@click.option("--project", "-p", required=True, help="Project to re-score.")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="FRAMING_MODEL_DIR", help="Model to score with [default: $FRAMING_MODEL_DIR, "
              "else model/artifacts/default].")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr [default: only on a terminal].")
@click.pass_context
def rescore(ctx, project, model_dir, progress) -> None:
    """Score the project's sentences again with another model (e.g. after retrain).

    The uncertainty queue orders by the stored scores: after a retrain, fresh
    scores point annotators at what the new model is unsure of. Labels and
    sentence ids are untouched.

    \b
    Example:
        framing-label rescore --project demo --model models/demo
    """
    try:
        classifier = Classifier.from_dir(resolve_model_dir(model_dir))
    except (ArtifactError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    db = _open_database(ctx)
    _project(db, project)
    with db.session() as session:
        total = store.progress(session, store.get_project(session, project))["documents"]
    done_docs = done_sentences = 0
    mismatched: list[str] = []
    after: int | None = 0
    with tqdm(total=total, unit="doc", file=sys.stderr, desc=f"re-scoring {project}",
              disable=progress is False or (progress is None and not sys.stderr.isatty())) as bar:
        while after is not None:
            with db.session() as session:
                docs, sentences, missed, after = store.rescore(session, store.get_project(session, project),
                                                               classifier, after)
            done_docs += docs
            done_sentences += sentences
            mismatched += missed
            bar.update(docs)
    for doc_id in mismatched:
        click.echo(f"not re-scored: {doc_id}: the splitter now cuts it differently", err=True)
    click.echo(f"re-scored {done_sentences:,} sentences in {done_docs - len(mismatched):,} documents of {project} "
               f"with {classifier.info['version']}; {len(mismatched):,} documents kept their old scores")


@main.command()
@click.option("--project", "-p", required=True, help="Project to export.")
@click.option("--output", "-o", default="-", show_default=True, help="CSV file, or - for stdout.")
@click.pass_context
def export(ctx, project, output) -> None:
    """Write the project's labels in the corpus format (doc_id,text,label,n_annotators,agreement).

    The label is the adjudicated (gold) one if any, else the annotators'
    majority; ties are left out and listed on stderr.

    \b
    Example:
        framing-label export --project demo -o labels.csv
    """
    db = _open_database(ctx)
    _project(db, project)
    with db.session() as session:
        rows, ties = store.export_rows(session, store.get_project(session, project))
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([row.doc_id, row.text, row.label, row.n_annotators, row.agreement])
    finally:
        if out is not sys.stdout:
            out.close()
    for tie in ties:
        labels = ", ".join(f"{a}={label}" for a, label in tie["labels"].items())
        click.echo(f"tie, not exported: sentence {tie['sentence_id']} ({tie['doc_id']}): {labels}", err=True)
    click.echo(f"exported {len(rows):,} labeled sentences; {len(ties):,} ties left out"
               + (f" -> {output}" if output != "-" else ""), err=True)


@main.command()
@click.option("--project", "-p", required=True, help="Project to measure.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.pass_context
def agreement(ctx, project, as_json) -> None:
    """Agreement between annotators: per pair n, raw agreement and Cohen's kappa; Krippendorff's alpha.

    \b
    Example:
        framing-label agreement --project demo
    """
    db = _open_database(ctx)
    _project(db, project)
    with db.session() as session:
        report = store.agreement_report(session, store.get_project(session, project))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    alpha = report["krippendorff_alpha"]
    click.echo(f"project {project}: {report['sentences_with_two_or_more_labels']:,} sentences with 2+ labels, "
               f"Krippendorff's alpha {'n/a' if alpha is None else f'{alpha:.3f}'}")
    for pair in report["pairs"]:
        kappa = pair["cohen_kappa"]
        click.echo(f"  {pair['annotators'][0]} / {pair['annotators'][1]}: n={pair['n']}, "
                   f"agreement {pair['agreement']:.1%}, Cohen's kappa {'n/a' if kappa is None else f'{kappa:.3f}'}")
    click.echo(f"{report['n_conflicts']:,} conflicting sentences")
    for conflict in report["conflicts"]:
        labels = ", ".join(f"{a}={label}" for a, label in conflict["labels"].items())
        gold = f" [gold: {conflict['gold']}]" if conflict["gold"] else ""
        click.echo(f"  {conflict['sentence_id']} ({conflict['doc_id']}): {labels}{gold}: {conflict['text']}")


@main.command()
@click.option("--project", "-p", required=True, help="Project to report on.")
@click.pass_context
def progress(ctx, project) -> None:
    """How much of the project is labeled, and by whom."""
    db = _open_database(ctx)
    _project(db, project)
    with db.session() as session:
        info = store.progress(session, store.get_project(session, project))
    click.echo(f"project {project}: {info['labeled']:,} of {info['sentences']:,} sentences labeled "
               f"({info['complete']:,} complete at overlap {info['overlap']}), {info['gold']:,} adjudicated, "
               f"{info['conflicts']:,} conflicts")
    for entry in info["annotators"]:
        click.echo(f"  {entry['annotator']}: {entry['labels']:,} labels")


@main.command()
@click.option("--project", "-p", required=True, help="Project whose labels to add.")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="New model directory.")
@click.option("--data", type=click.Path(exists=True, path_type=Path), multiple=True,
              default=[dataset.DEFAULT_DATA_DIR], show_default=True,
              help="Base corpus to train on beside the project's labels (repeatable).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="FRAMING_MODEL_DIR", help="Current model, scored on the aside set for 'before' "
              "[default: $FRAMING_MODEL_DIR, else model/artifacts/default].")
@click.option("--aside", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of the project's labeled documents kept aside to measure before and after.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the aside split and training.")
@click.option("--search/--no-search", default=True, show_default=True, help="Run training's parameter search.")
@click.option("--jobs", "-j", type=int, default=-1, show_default=True, help="Parallel jobs for training.")
@click.pass_context
def retrain(ctx, project, out, data, model_dir, aside, seed, search, jobs) -> None:
    """Train on the base corpus plus the project's labels; compare before and after on an aside set.

    A random share of the project's labeled documents is kept out of
    training; the current and the new model are both scored on it. The new
    model is an ordinary verified model directory: serve it with
    FRAMING_MODEL_DIR and a gunicorn reload (HUP).

    \b
    Example:
        framing-label retrain --project demo --out models/demo
    """
    from training.evaluate import predict_rows
    from training.metrics import classification_metrics
    from training.train import train

    db = _open_database(ctx)
    _project(db, project)
    with db.session() as session:
        rows, ties = store.export_rows(session, store.get_project(session, project))
    try:
        before_model = Classifier.from_dir(resolve_model_dir(model_dir))
        base = dataset.load_examples(list(data))
    except (ArtifactError, OSError, dataset.DatasetError) as exc:
        raise click.ClickException(str(exc)) from None
    known = {" ".join(ex.text.lower().split()) for ex in base}
    fresh = [r for r in rows if " ".join(r.text.lower().split()) not in known]
    if len(fresh) < len(rows):
        click.echo(f"{len(rows) - len(fresh):,} labeled sentences are already in the base corpus; "
                   "they are not added twice", err=True)
    docs = sorted({r.doc_id for r in fresh})
    if len(docs) < 2:
        raise click.ClickException(
            f"project {project} has labels on {len(docs)} new document(s); retraining needs at least 2 "
            "(one to train on, one to measure)")
    rng = random.Random(seed)
    aside_docs = set(rng.sample(docs, max(1, round(aside * len(docs)))))
    held = [r for r in fresh if r.doc_id in aside_docs]
    used = [r for r in fresh if r.doc_id not in aside_docs]
    click.echo(f"training on {len(base):,} corpus sentences + {len(used):,} of {project}'s; "
               f"{len(held):,} sentences in {len(aside_docs)} documents kept aside", err=True)
    with tempfile.TemporaryDirectory(prefix="framing-retrain-") as tmp:
        labels_file = Path(tmp) / f"{project}.csv"
        with open(labels_file, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["doc_id", "text", "label"])
            writer.writerows([r.doc_id, r.text, r.label] for r in used)
        try:
            metadata = train([*data, labels_file], out, seed=seed, do_search=search, jobs=jobs,
                             curve=False, dev=None)
        except dataset.DatasetError as exc:
            raise click.ClickException(str(exc)) from None
    after_model = Classifier.from_dir(out)
    truth = [r.label for r in held]
    texts = [r.text for r in held]
    before = classification_metrics(truth, predict_rows(before_model, texts))
    after = classification_metrics(truth, predict_rows(after_model, texts))
    summary = {
        "project": project,
        "aside_documents": sorted(aside_docs),
        "n_aside": len(held),
        "n_trained": len(used),
        "before": {"model": before_model.info["version"], **_brief(before)},
        "after": {"model": metadata["version"], **_brief(after)},
    }
    from model.artifact import write_metadata

    write_metadata(out, {**after_model.metadata, "labeling": summary})
    click.echo(f"{'':10}{'macro-F1':>10}{'accuracy':>10}{'ECE':>8}   on {len(held):,} aside sentences")
    for name, result in (("before", before), ("after", after)):
        click.echo(f"{name:10}{result['macro_f1']:>10.3f}{result['accuracy']:>10.3f}{result['ece']:>8.3f}")
    click.echo(f"saved {out} (version {metadata['version']})")


def _brief(metrics: dict) -> dict:
    return {"macro_f1": metrics["macro_f1"], "accuracy": metrics["accuracy"], "ece": metrics["ece"],
            "per_label_f1": {label: metrics["per_label"][label]["f1"] for label in LABELS}}


if __name__ == "__main__":
    main()

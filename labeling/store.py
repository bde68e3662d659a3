"""What the CLI and the HTTP API do to the label database, in one place.

Every function takes an open session (one transaction) and raises
:class:`LabelingError` with an HTTP-style code for requests that cannot be met.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import BigInteger, cast, delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from labeling import agreement as agree
from labeling.tables import Document, Gold, Hold, Label, LabelEvent, Project, Sentence, utcnow
from model.labels import LABELS

STRATEGIES = ("uncertainty", "random")
CONTEXT_SENTENCES = 2
# Token-set overlap above which two sentences count as near-identical in one batch.
NEAR_DUPLICATE = 0.8
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class LabelingError(ValueError):
    def __init__(self, code: int, message: str):
        self.code = code
        super().__init__(message)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


def norm_key(text: str) -> str:
    """Equal for sentences that differ only in case, digits, punctuation or spacing."""
    folded = re.sub(r"\d+", "0", text.casefold())
    folded = " ".join(re.findall(r"\w+", folded))
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()


def _tokens(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", re.sub(r"\d+", "0", text.casefold())))


class NearDuplicates:
    """Sentences seen so far; ``seen`` is true for one with token-set Jaccard >= NEAR_DUPLICATE.

    Prefix filtering keeps it exact without comparing against everything: two
    sets that similar must share a token among the first ``len - ceil(t * len) + 1``
    of each, in one fixed token order.
    """

    def __init__(self):
        self._index: dict[str, list[frozenset[str]]] = {}

    @staticmethod
    def _prefix(tokens: frozenset[str]) -> list[str]:
        keep = len(tokens) - math.ceil(NEAR_DUPLICATE * len(tokens)) + 1
        return sorted(tokens)[:keep]

    def seen(self, tokens: frozenset[str]) -> bool:
        if not tokens:
            return False
        for token in self._prefix(tokens):
            for other in self._index.get(token, ()):
                if len(tokens & other) / len(tokens | other) >= NEAR_DUPLICATE:
                    return True
        return False

    def add(self, tokens: frozenset[str]) -> None:
        for token in self._prefix(tokens):
            self._index.setdefault(token, []).append(tokens)


# --- projects -----------------------------------------------------------------

def check_project_name(name: str) -> str:
    if not isinstance(name, str) or not _PROJECT_NAME.match(name):
        raise LabelingError(
            422, "A project name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.")
    return name


def get_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise LabelingError(404, f"No project named {name!r}.")
    return project


def ensure_project(session: Session, name: str, overlap: int | None = None) -> Project:
    """The named project, created if new; ``overlap`` updates it when given."""
    check_project_name(name)
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        try:
            with session.begin_nested():
                project = Project(name=name, overlap=overlap or 1)
                session.add(project)
        except IntegrityError:  # created by a concurrent request
            project = get_project(session, name)
    if overlap is not None and overlap != project.overlap:
        project.overlap = overlap
    return project


def list_projects(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Project, func.count(Document.id)).outerjoin(Document).group_by(Project.id).order_by(Project.name)
    ).all()
    return [{"name": p.name, "overlap": p.overlap, "documents": n} for p, n in rows]


# --- import -------------------------------------------------------------------

@dataclass
class ImportResult:
    added: int = 0
    sentences: int = 0
    unchanged: int = 0
    # (doc id, reason) for documents not imported.
    refused: list[tuple[str, str]] = field(default_factory=list)


def import_documents(
    session: Session, project: Project, documents: Sequence[tuple[str, str, dict]], classifier
) -> ImportResult:
    """Split and score new documents with the current model; known ids are not duplicated.

    A known id with the same text is counted as unchanged; with different text
    it is refused, since its sentences may already carry labels.
    """
    result = ImportResult()
    keys = [key for key, _, _ in documents]
    known = dict(session.execute(
        select(Document.doc_key, Document.text).where(Document.project_id == project.id, Document.doc_key.in_(keys))
    ).all()) if keys else {}
    fresh: list[tuple[str, str, dict]] = []
    seen: set[str] = set()
    for key, text, meta in documents:
        if key in known or key in seen:
            if known.get(key, text) == text and key not in seen:
                result.unchanged += 1
            else:
                result.refused.append((key, "id already imported with a different text; not replaced"))
            continue
        seen.add(key)
        fresh.append((key, text, meta))
    if not fresh:
        return result
    scored = classifier.predict_texts([text for _, text, _ in fresh])
    version = classifier.info["version"]
    for (key, text, meta), predictions in zip(fresh, scored):
        if not predictions:
            result.refused.append((key, "text has no sentences"))
            continue
        document = Document(project_id=project.id, doc_key=key, text=text, meta=meta or {})
        session.add(document)
        session.flush()
        session.add_all(_sentence_row(project.id, document.id, p, version) for p in predictions)
        result.added += 1
        result.sentences += len(predictions)
    return result


def rescore(session: Session, project: Project, classifier, after_id: int = 0, limit: int = 200
             ) -> tuple[int, int, list[str], int | None]:
    """Re-score up to ``limit`` documents with id > ``after_id`` with ``classifier``.

    Sentence ids (and so labels) stay; only predictions, flags and the model
    version change. A document the splitter now cuts differently keeps its old
    scores and is reported. Returns (documents, sentences, mismatched doc ids,
    the last document id or None when done), so callers commit in chunks.
    """
    documents = session.scalars(select(Document).where(Document.project_id == project.id, Document.id > after_id)
                                .order_by(Document.id).limit(limit)).all()
    if not documents:
        return 0, 0, [], None
    scored = classifier.predict_texts([d.text for d in documents])
    version = classifier.info["version"]
    n_sentences, mismatched = 0, []
    for document, predictions in zip(documents, scored):
        old = document.sentences
        if [(s.position, s.text) for s in old] != [(p.index, p.text) for p in predictions]:
            mismatched.append(document.doc_key)
            continue
        for sentence, p in zip(old, predictions):
            fresh = _sentence_row(project.id, document.id, p, version)
            for column in ("label", "confidence", "margin", "p_pro_russia", "p_neutral", "p_pro_ukraine",
                           "flags", "flagged", "model_version"):
                setattr(sentence, column, getattr(fresh, column))
        n_sentences += len(old)
    return len(documents), n_sentences, mismatched, documents[-1].id


def _sentence_row(project_id: int, document_id: int, p, version: str) -> Sentence:
    probs = p.probabilities
    top = sorted(probs.values(), reverse=True)
    return Sentence(
        project_id=project_id, document_id=document_id, position=p.index, start=p.start, end=p.end,
        text=p.text, norm=norm_key(p.text), label=p.label, confidence=p.confidence,
        margin=round(top[0] - top[1], 6), p_pro_russia=probs["pro_russia"], p_neutral=probs["neutral"],
        p_pro_ukraine=probs["pro_ukraine"], flags=";".join(p.flags), flagged=bool(p.flags),
        model_version=version,
    )


# --- queue ----------------------------------------------------------------------

def queue(
    session: Session, project: Project, annotator: str, n: int = 10,
    strategy: str = "uncertainty", hold_seconds: int = 600, seed: int | None = None,
) -> list[dict[str, Any]]:
    """Up to ``n`` sentences for ``annotator``, held for them for ``hold_seconds``.

    Items already held by this annotator come first (a reload resumes);
    ``uncertainty`` then gives in-scope sentences before flagged ones. A
    sentence is offered while fewer than the project's ``overlap`` other
    annotators have labeled or hold it; never one this annotator labeled,
    skipped or labeled a near-identical twin of, nor an adjudicated one.

    Args:
        seed: fixes the ``random`` strategy's shuffle (simulations); default fresh per call.
    """
    if strategy not in STRATEGIES:
        raise LabelingError(422, f"strategy must be one of {', '.join(STRATEGIES)}.")
    _lock_project(session, project)
    now = utcnow()
    session.execute(delete(Hold).where(
        Hold.project_id == project.id, Hold.expires_at <= now, Hold.skipped.is_(False)))

    labeled = aliased(Sentence)
    mine = (select(Label.sentence_id).join(labeled, labeled.id == Label.sentence_id)
            .where(labeled.project_id == project.id, Label.annotator == annotator))
    skipped = select(Hold.sentence_id).where(Hold.annotator == annotator, Hold.skipped.is_(True))
    my_norms = (select(labeled.norm).join(Label, Label.sentence_id == labeled.id)
                .where(labeled.project_id == project.id, Label.annotator == annotator))
    others = (select(func.count()).select_from(Label)
              .where(Label.sentence_id == Sentence.id, Label.annotator != annotator).scalar_subquery())
    held = (select(func.count()).select_from(Hold)
            .where(Hold.sentence_id == Sentence.id, Hold.annotator != annotator,
                   Hold.skipped.is_(False), Hold.expires_at > now).scalar_subquery())
    # Fetched first: few rows, and a literal list lets the database start from them.
    held_ids = list(session.scalars(select(Hold.sentence_id).where(
        Hold.project_id == project.id, Hold.annotator == annotator, Hold.skipped.is_(False), Hold.expires_at > now)))
    if strategy == "uncertainty":
        # Out-of-scope sentences (flagged) are uncertain for a reason no label
        # fixes: last. This order is the (project, flagged, margin, id) index's,
        # so the database reads candidates in order and stops at the page size.
        order = [Sentence.flagged, Sentence.margin, Sentence.id]
    else:
        # A shuffle fixed for this call (pages must not re-shuffle): a
        # multiplicative hash of the id with a fresh (or given) salt.
        salt = random.Random(seed).randrange(1, 2**31)
        key = cast(Sentence.id, BigInteger) * literal(2654435761, BigInteger) + literal(salt, BigInteger)
        order = [key % literal(4294967291, BigInteger), Sentence.id]
    open_to_me = [
        Sentence.project_id == project.id,
        Sentence.id.not_in(mine), Sentence.id.not_in(skipped), Sentence.norm.not_in(my_norms),
        Sentence.id.not_in(select(Gold.sentence_id)),
    ]
    # What this annotator already holds comes first (a reload resumes), then the rest in order.
    queries = [
        select(Sentence).where(*open_to_me, Sentence.id.in_(held_ids)).order_by(*order),
        select(Sentence).where(*open_to_me, Sentence.id.not_in(held_ids), (others + held) < project.overlap)
        .order_by(*order),
    ]
    # Near-identical to one this annotator labeled, or to one already in this batch.
    known = NearDuplicates()
    for (text,) in session.execute(select(labeled.text).join(Label, Label.sentence_id == labeled.id)
                                   .where(labeled.project_id == project.id, Label.annotator == annotator)):
        known.add(_tokens(text))
    picked: list[Sentence] = []
    page = max(4 * n, 50)
    for query in queries:
        offset = 0
        while len(picked) < n:
            batch = session.scalars(query.offset(offset).limit(page)).all()
            offset += page
            for sentence in batch:
                tokens = _tokens(sentence.text)
                if known.seen(tokens):
                    continue
                picked.append(sentence)
                known.add(tokens)
                if len(picked) == n:
                    break
            if len(batch) < page:
                break
    expires = now + timedelta(seconds=hold_seconds)
    for sentence in picked:
        _hold(session, project, sentence.id, annotator, expires, skipped=False)
    return [_item(session, s) for s in picked]


def _lock_project(session: Session, project: Project) -> None:
    """Serialise hand-outs per project: PostgreSQL by row lock, SQLite by BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(Project.id).where(Project.id == project.id).with_for_update())


def _hold(session: Session, project: Project, sentence_id: int, annotator: str,
          expires: datetime, skipped: bool) -> None:
    updated = session.execute(
        update(Hold).where(Hold.sentence_id == sentence_id, Hold.annotator == annotator)
        .values(expires_at=expires, skipped=skipped)
    ).rowcount
    if not updated:
        session.add(Hold(project_id=project.id, sentence_id=sentence_id, annotator=annotator,
                         expires_at=expires, skipped=skipped))
        session.flush()


def _item(session: Session, sentence: Sentence) -> dict[str, Any]:
    neighbours = session.execute(
        select(Sentence.position, Sentence.text).where(
            Sentence.document_id == sentence.document_id,
            Sentence.position.between(sentence.position - CONTEXT_SENTENCES, sentence.position + CONTEXT_SENTENCES),
            Sentence.position != sentence.position,
        ).order_by(Sentence.position)
    ).all()
    return {
        "sentence_id": sentence.id,
        "doc_id": sentence.document.doc_key,
        "text": sentence.text,
        "context_before": " ".join(t for pos, t in neighbours if pos < sentence.position),
        "context_after": " ".join(t for pos, t in neighbours if pos > sentence.position),
        "flags": [f for f in sentence.flags.split(";") if f],
        "suggestion": {
            "label": sentence.label,
            "confidence": sentence.confidence,
            "probabilities": {label: getattr(sentence, f"p_{label}") for label in LABELS},
            "model_version": sentence.model_version,
        },
    }


def skip(session: Session, project: Project, sentence_id: int, annotator: str) -> None:
    """Never offer this sentence to this annotator again (others may still get it)."""
    _sentence(session, project, sentence_id)
    _hold(session, project, sentence_id, annotator, utcnow(), skipped=True)


# --- labels ---------------------------------------------------------------------

def _check_label(label: str) -> None:
    if label not in LABELS:
        raise LabelingError(422, f"label must be one of {', '.join(LABELS)}.")


def _sentence(session: Session, project: Project, sentence_id: int) -> Sentence:
    # Ids past 64 bits cannot exist, and drivers refuse to bind them.
    sentence = session.get(Sentence, sentence_id) if 0 < sentence_id < 2**63 else None
    if sentence is None or sentence.project_id != project.id:
        raise LabelingError(404, f"No sentence {sentence_id} in project {project.name!r}.")
    return sentence


def set_label(
    session: Session, project: Project, sentence_id: int, annotator: str, label: str
) -> tuple[dict, bool]:
    """Record ``annotator``'s label; returns (label record, created). A change keeps the old one in history."""
    _check_label(label)
    _sentence(session, project, sentence_id)
    now = utcnow()
    created = False
    current = _current(session, sentence_id, annotator)
    if current is None:
        try:
            with session.begin_nested():
                current = Label(sentence_id=sentence_id, annotator=annotator, label=label,
                                created_at=now, updated_at=now)
                session.add(current)
            created = True
            session.add(LabelEvent(sentence_id=sentence_id, annotator=annotator, action="label", label=label, at=now))
        except IntegrityError:  # the same annotator's concurrent request won
            current = _current(session, sentence_id, annotator)
    if not created and current.label != label:
        session.add(LabelEvent(sentence_id=sentence_id, annotator=annotator, action="change",
                               label=label, previous=current.label, at=now))
        current.label, current.updated_at = label, now
    session.execute(delete(Hold).where(Hold.sentence_id == sentence_id, Hold.annotator == annotator))
    return _label_record(current), created


def _current(session: Session, sentence_id: int, annotator: str) -> Label | None:
    return session.scalar(select(Label).where(Label.sentence_id == sentence_id, Label.annotator == annotator))


def _label_record(label: Label) -> dict[str, Any]:
    return {"sentence_id": label.sentence_id, "annotator": label.annotator, "label": label.label,
            "created_at": aware(label.created_at), "updated_at": aware(label.updated_at)}


def undo_label(session: Session, project: Project, sentence_id: int, annotator: str) -> dict[str, Any]:
    """Remove the annotator's label (kept in history); the sentence can be queued again."""
    _sentence(session, project, sentence_id)
    current = _current(session, sentence_id, annotator)
    if current is None:
        raise LabelingError(404, f"{annotator!r} has no label on sentence {sentence_id}.")
    record = _label_record(current)
    session.add(LabelEvent(sentence_id=sentence_id, annotator=annotator, action="undo", previous=current.label))
    session.delete(current)
    return record


def set_gold(session: Session, project: Project, sentence_id: int, label: str, adjudicator: str) -> tuple[dict, bool]:
    _check_label(label)
    _sentence(session, project, sentence_id)
    now = utcnow()
    gold = session.get(Gold, sentence_id)
    created = gold is None
    session.add(LabelEvent(sentence_id=sentence_id, annotator=adjudicator, action="gold", label=label,
                           previous=None if created else gold.label, at=now))
    if created:
        gold = Gold(sentence_id=sentence_id, label=label, adjudicator=adjudicator, created_at=now, updated_at=now)
        session.add(gold)
    else:
        gold.label, gold.adjudicator, gold.updated_at = label, adjudicator, now
    session.flush()
    return {"sentence_id": sentence_id, "label": label, "adjudicator": adjudicator,
            "updated_at": aware(gold.updated_at)}, created


def history(session: Session, project: Project, sentence_id: int) -> list[dict[str, Any]]:
    _sentence(session, project, sentence_id)
    events = session.scalars(select(LabelEvent).where(LabelEvent.sentence_id == sentence_id).order_by(LabelEvent.id))
    return [{"annotator": e.annotator, "action": e.action, "label": e.label, "previous": e.previous,
             "at": aware(e.at)} for e in events]


# --- reading the labels -----------------------------------------------------------

def label_matrix(session: Session, project: Project) -> dict[int, dict[str, str]]:
    rows = session.execute(
        select(Label.sentence_id, Label.annotator, Label.label)
        .join(Sentence, Sentence.id == Label.sentence_id)
        .where(Sentence.project_id == project.id)
    ).all()
    matrix: dict[int, dict[str, str]] = {}
    for sentence_id, annotator, label in rows:
        matrix.setdefault(sentence_id, {})[annotator] = label
    return matrix


def gold_labels(session: Session, project: Project) -> dict[int, str]:
    return dict(session.execute(
        select(Gold.sentence_id, Gold.label).join(Sentence, Sentence.id == Gold.sentence_id)
        .where(Sentence.project_id == project.id)
    ).all())


def progress(session: Session, project: Project, annotator: str | None = None) -> dict[str, Any]:
    matrix = label_matrix(session, project)
    gold = gold_labels(session, project)
    n_sentences = session.scalar(select(func.count()).select_from(Sentence).where(Sentence.project_id == project.id))
    n_documents = session.scalar(select(func.count()).select_from(Document).where(Document.project_id == project.id))
    per: dict[str, dict[str, Any]] = {}
    for who, updated in session.execute(
        select(Label.annotator, Label.updated_at)
        .join(Sentence, Sentence.id == Label.sentence_id).where(Sentence.project_id == project.id)
    ):
        entry = per.setdefault(who, {"annotator": who, "labels": 0, "last_labeled_at": None})
        entry["labels"] += 1
        updated = aware(updated)
        if entry["last_labeled_at"] is None or updated > entry["last_labeled_at"]:
            entry["last_labeled_at"] = updated
    complete = sum(1 for sid, row in matrix.items() if len(row) >= project.overlap or sid in gold)
    complete += sum(1 for sid in gold if sid not in matrix)
    result = {
        "project": project.name,
        "overlap": project.overlap,
        "documents": n_documents,
        "sentences": n_sentences,
        "labeled": len(set(matrix) | set(gold)),
        "complete": complete,
        "gold": len(gold),
        "conflicts": len(agree.conflicts(matrix)),
        "annotators": sorted(per.values(), key=lambda e: e["annotator"]),
    }
    if annotator is not None:
        result["annotator"] = {"annotator": annotator, "labels": per.get(annotator, {}).get("labels", 0)}
    return result


def agreement_report(session: Session, project: Project, limit: int = 200) -> dict[str, Any]:
    matrix = label_matrix(session, project)
    gold = gold_labels(session, project)
    conflict_ids = agree.conflicts(matrix)
    sentences = {s.id: s for s in session.scalars(select(Sentence).where(Sentence.id.in_(conflict_ids[:limit])))}
    return {
        "project": project.name,
        "pairs": agree.pairwise(matrix),
        "krippendorff_alpha": agree.krippendorff_alpha(matrix),
        "sentences_with_two_or_more_labels": sum(1 for row in matrix.values() if len(row) > 1),
        "n_conflicts": len(conflict_ids),
        "conflicts": [
            {"sentence_id": sid, "doc_id": sentences[sid].document.doc_key, "text": sentences[sid].text,
             "labels": dict(sorted(matrix[sid].items())), "gold": gold.get(sid),
             "suggestion": sentences[sid].label}
            for sid in conflict_ids[:limit] if sid in sentences
        ],
    }


@dataclass
class ExportRow:
    doc_id: str
    text: str
    label: str
    n_annotators: int
    agreement: float
    sentence_id: int


def export_rows(session: Session, project: Project) -> tuple[list[ExportRow], list[dict[str, Any]]]:
    """Gold label if adjudicated, else the majority; ties come back separately, not exported."""
    matrix = label_matrix(session, project)
    gold = gold_labels(session, project)
    ids = sorted(set(matrix) | set(gold))
    rows, ties = [], []
    chunk = 500
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        found = session.execute(
            select(Sentence.id, Sentence.text, Document.doc_key).join(Document)
            .where(Sentence.id.in_(part)).order_by(Document.doc_key, Sentence.position)
        ).all()
        for sentence_id, text, doc_key in found:
            labels = list(matrix.get(sentence_id, {}).values())
            label = gold.get(sentence_id) or agree.majority(labels)
            if label is None:
                ties.append({"sentence_id": sentence_id, "doc_id": doc_key, "text": text,
                             "labels": dict(sorted(matrix[sentence_id].items()))})
                continue
            share = sum(x == label for x in labels) / len(labels) if labels else 1.0
            rows.append(ExportRow(f"{project.name}/{doc_key}", text, label, len(labels), round(share, 4), sentence_id))
    rows.sort(key=lambda r: (r.doc_id, r.sentence_id))
    return rows, ties


def annotators_of(session: Session, project: Project) -> list[str]:
    return list(session.scalars(
        select(Label.annotator).join(Sentence, Sentence.id == Label.sentence_id)
        .where(Sentence.project_id == project.id).distinct().order_by(Label.annotator)))

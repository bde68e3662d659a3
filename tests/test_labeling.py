"""The labeling loop's store, agreement figures and `framing-label`, on SQLite and on a
real PostgreSQL (the ``database_url`` fixture runs each test once per backend)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, update

from labeling import agreement, store
from labeling.cli import main as label_cli
from labeling.db import Database, current_revision, head_revision
from labeling.tables import Document, Hold, Sentence
from model.classifier import Classifier
from training.train import main as train_cli

# Team-written documents (invented reporting, not from any outlet).
DOCS = [
    ("d1", "Russian drones struck a power station near Odesa overnight. The regional governor said no one was "
           "hurt. Repair crews expect to restore power by Friday."),
    ("d2", "Kyiv's defenders pushed the invaders back from two villages. The Kremlin called the losses a "
           "regrouping of its forces. Western envoys met in Brussels to discuss air defence."),
    ("d3", "Moscow accused Kyiv of shelling a border town. Ukrainian officials denied the claim. Two people "
           "were hurt in the town, local media said. Two people were hurt in the town, local media say."),
]


@pytest.fixture(scope="module")
def tiny_classifier(tiny_model) -> Classifier:
    return Classifier.from_dir(tiny_model)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    database.ensure_schema()
    yield database
    database.dispose()


@pytest.fixture
def project(db, tiny_classifier):
    """A project with DOCS imported; returns its name."""
    with db.session() as session:
        target = store.ensure_project(session, "desk")
        store.import_documents(session, target, [(k, t, {"outlet": "test"}) for k, t in DOCS], tiny_classifier)
    return "desk"


def _queue(db, annotator, n=10, **kwargs):
    with db.session() as session:
        return store.queue(session, store.get_project(session, "desk"), annotator, n, **kwargs)


def _label(db, sentence_id, annotator, label):
    with db.session() as session:
        return store.set_label(session, store.get_project(session, "desk"), sentence_id, annotator, label)


def test_migrations_build_the_schema_from_an_empty_database(database_url):
    database = Database(database_url)
    try:
        assert current_revision(database.engine) is None
        database.ensure_schema()
        assert current_revision(database.engine) == head_revision()
        tables = set(inspect(database.engine).get_table_names())
        assert {"projects", "documents", "sentences", "labels", "gold_labels", "label_events", "holds"} <= tables
        # A second run (another worker, the CLI) has nothing left to do.
        fresh = Database(database_url)
        fresh.ensure_schema()
        fresh.dispose()
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_upgrading_keeps_the_data_and_fills_new_columns(database_url):
    """0001 -> head on a database that holds sentences: revision 0002 derives `flagged` from `flags`."""
    from alembic import command
    from sqlalchemy import text

    from labeling.db import _alembic_config

    database = Database(database_url)
    try:
        command.upgrade(_alembic_config(database.engine), "0001")
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO projects (id, name, overlap, created_at) VALUES (1, 'p', 1, :t)"),
                               {"t": store.utcnow()})
            connection.execute(text("INSERT INTO documents (id, project_id, doc_key, text, meta, created_at) "
                                    "VALUES (1, 1, 'd', 'x', '{}', :t)"), {"t": store.utcnow()})
            for sid, flags in ((1, ""), (2, "off_topic")):
                connection.execute(text(
                    "INSERT INTO sentences (id, project_id, document_id, position, start, \"end\", text, norm, label, "
                    "confidence, margin, p_pro_russia, p_neutral, p_pro_ukraine, flags, model_version) VALUES "
                    "(:id, 1, 1, :id, 0, 1, 'x', 'n', 'neutral', 0.5, 0.1, 0.2, 0.5, 0.3, :flags, 'v')"),
                    {"id": sid, "flags": flags})
        database.ensure_schema()
        assert current_revision(database.engine) == head_revision() != "0001"
        with database.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, flagged FROM sentences ORDER BY id")).all()
        assert [(sid, bool(flagged)) for sid, flagged in rows] == [(1, False), (2, True)]
    finally:
        database.dispose()


def test_import_scores_sentences_and_never_duplicates_a_document(db, project, tiny_classifier):
    with db.session() as session:
        target = store.get_project(session, project)
        again = store.import_documents(session, target, [(k, t, {}) for k, t in DOCS], tiny_classifier)
        changed = store.import_documents(session, target, [("d1", "Something else entirely happened.", {})],
                                         tiny_classifier)
        info = store.progress(session, target)
    assert (again.added, again.unchanged, again.refused) == (0, 3, [])
    assert changed.refused == [("d1", "id already imported with a different text; not replaced")]
    assert info["documents"] == 3 and info["sentences"] == 10
    items = _queue(db, "ann", n=20)
    for item in items:
        probs = item["suggestion"]["probabilities"]
        assert abs(sum(probs.values()) - 1) < 1e-6
        assert item["suggestion"]["label"] == max(probs, key=probs.get)


def test_uncertainty_queue_is_least_sure_first_without_near_duplicates(db, project):
    items = _queue(db, "ann", n=20)
    margins = []
    for item in items:
        top = sorted(item["suggestion"]["probabilities"].values(), reverse=True)
        margins.append(top[0] - top[1])
    assert margins == sorted(margins)
    texts = [item["text"] for item in items]
    # d3's last two sentences differ only in "said"/"say": one batch carries one of them.
    twins = [t for t in texts if t.startswith("Two people were hurt in the town")]
    assert len(twins) == 1
    assert len(items) == 9
    middle = next(i for i in items if i["text"] == "The regional governor said no one was hurt.")
    assert middle["context_before"] == "Russian drones struck a power station near Odesa overnight."
    assert middle["context_after"] == "Repair crews expect to restore power by Friday."


def test_random_queue_is_one_shuffle_across_pages(db, project):
    with db.session() as session:
        target = store.get_project(session, project)
        first = [i["sentence_id"] for i in store.queue(session, target, "ann", 20, "random", seed=7)]
        again = [i["sentence_id"] for i in store.queue(session, target, "bob", 20, "random", seed=7)]
    assert len(first) == len(set(first)) == 9
    # Overlap 1: ann holds all but the twin her batch left out, which goes to bob.
    assert len(again) == 1 and again[0] not in first


def test_uncertainty_gives_flagged_sentences_last(db, project, tiny_classifier):
    german = ("Die Stadtverwaltung hat am Montag neue Hilfen für die Hochwasseropfer beschlossen. "
              "Der Bürgermeister dankte allen freiwilligen Helfern für ihren Einsatz.")
    with db.session() as session:
        store.import_documents(session, store.get_project(session, project), [("de", german, {})], tiny_classifier)
    flagged = [bool(item["flags"]) for item in _queue(db, "ann", n=20)]
    assert flagged == sorted(flagged) and flagged.count(True) == 2


def test_a_labeled_sentence_and_its_twin_are_not_offered_again(db, project):
    twin = next(i for i in _queue(db, "ann", n=20) if i["text"].startswith("Two people were hurt"))
    _label(db, twin["sentence_id"], "ann", "neutral")
    texts = [i["text"] for i in _queue(db, "ann", n=20)]
    assert not any(t.startswith("Two people were hurt") for t in texts)
    assert len(texts) == 8


def test_held_items_go_to_one_annotator_until_they_expire(db, project):
    first = [i["sentence_id"] for i in _queue(db, "ann", n=5)]
    assert [i["sentence_id"] for i in _queue(db, "ann", n=5)] == first  # a reload resumes
    other = [i["sentence_id"] for i in _queue(db, "bob", n=20)]
    assert not set(first) & set(other)
    with db.engine.begin() as connection:  # let ann's holds lapse
        connection.execute(update(Hold).where(Hold.annotator == "ann")
                           .values(expires_at=store.utcnow() - timedelta(seconds=1)))
    with db.session() as session:
        session.execute(update(Hold).where(Hold.annotator == "bob").values(expires_at=store.utcnow()))
    assert set(first) <= {i["sentence_id"] for i in _queue(db, "carol", n=20)}


def test_overlap_two_hands_each_sentence_to_two_annotators(db, project):
    with db.session() as session:
        store.ensure_project(session, project, overlap=2)
    a = {i["sentence_id"] for i in _queue(db, "ann", n=20)}
    b = {i["sentence_id"] for i in _queue(db, "bob", n=20)}
    c = {i["sentence_id"] for i in _queue(db, "carol", n=20)}
    assert a == b and not (a & c)


def test_skip_is_per_annotator(db, project):
    item = _queue(db, "ann", n=1)[0]
    with db.session() as session:
        store.skip(session, store.get_project(session, project), item["sentence_id"], "ann")
    assert item["sentence_id"] not in {i["sentence_id"] for i in _queue(db, "ann", n=20)}
    assert item["sentence_id"] in {i["sentence_id"] for i in _queue(db, "bob", n=20)}


def test_change_and_undo_keep_the_history(db, project):
    sid = _queue(db, "ann", n=1)[0]["sentence_id"]
    assert _label(db, sid, "ann", "neutral")[1] is True
    record, created = _label(db, sid, "ann", "pro_ukraine")
    assert (created, record["label"]) == (False, "pro_ukraine")
    with db.session() as session:
        target = store.get_project(session, project)
        removed = store.undo_label(session, target, sid, "ann")
        with pytest.raises(store.LabelingError, match="has no label"):
            store.undo_label(session, target, sid, "ann")
    assert removed["label"] == "pro_ukraine"
    with db.session() as session:
        events = store.history(session, store.get_project(session, project), sid)
    assert [(e["action"], e["label"], e["previous"]) for e in events] == [
        ("label", "neutral", None), ("change", "pro_ukraine", "neutral"), ("undo", None, "pro_ukraine")]
    assert sid in {i["sentence_id"] for i in _queue(db, "ann", n=20)}  # offered again after undo


@pytest.mark.parametrize("label, sentence_id, message", [
    ("maybe", None, "label must be one of"),
    ("neutral", 10**9, "No sentence 1000000000 in project 'desk'"),
], ids=["bad-label", "unknown-sentence"])
def test_bad_labels_are_refused(db, project, label, sentence_id, message):
    sid = sentence_id or _queue(db, "ann", n=1)[0]["sentence_id"]
    with pytest.raises(store.LabelingError, match=message):
        _label(db, sid, "ann", label)


def test_export_prefers_gold_then_majority_and_leaves_ties_out(db, project):
    ids = [i["sentence_id"] for i in _queue(db, "ann", n=3)]
    for annotator, labels in {"ann": ["neutral", "neutral", "pro_russia"],
                              "bob": ["neutral", "pro_ukraine", "pro_ukraine"],
                              "cy": ["pro_ukraine", "pro_ukraine", None]}.items():
        for sid, label in zip(ids, labels):
            if label:
                _label(db, sid, annotator, label)
    with db.session() as session:
        target = store.get_project(session, project)
        rows, ties = store.export_rows(session, target)
        assert {r.sentence_id: (r.label, r.n_annotators, r.agreement) for r in rows} == {
            ids[0]: ("neutral", 3, round(2 / 3, 4)), ids[1]: ("pro_ukraine", 3, round(2 / 3, 4))}
        assert [t["sentence_id"] for t in ties] == [ids[2]]
        store.set_gold(session, target, ids[2], "pro_russia", "lead")
        rows, ties = store.export_rows(session, target)
    assert ties == [] and {r.sentence_id: r.label for r in rows}[ids[2]] == "pro_russia"
    assert all(r.doc_id.startswith("desk/") for r in rows)


def test_agreement_figures_match_hand_computed_values():
    matrix = {1: {"a": "neutral", "b": "neutral"}, 2: {"a": "pro_russia", "b": "neutral"},
              3: {"a": "pro_ukraine", "b": "pro_ukraine", "c": "pro_ukraine"}, 4: {"a": "neutral", "c": "neutral"}}
    pairs = {tuple(p["annotators"]): p for p in agreement.pairwise(matrix)}
    assert pairs["a", "b"]["n"] == 3 and pairs["a", "b"]["agreement"] == round(2 / 3, 4)
    # Cohen's kappa for a/b: p_o = 2/3, p_e = (1/3*0 + 1/3*2/3 + 1/3*1/3) = 1/3 -> 0.5.
    assert pairs["a", "b"]["cohen_kappa"] == 0.5
    assert pairs["b", "c"]["cohen_kappa"] is None  # one item, one label: undefined
    # Krippendorff's alpha (nominal) for these 4 units, also what the `krippendorff` package gives.
    assert agreement.krippendorff_alpha(matrix) == 0.6522
    assert agreement.conflicts(matrix) == [2]
    assert agreement.majority(["neutral", "pro_russia"]) is None


def test_concurrent_labels_of_one_annotator_are_stored_once(database_url, tiny_classifier):
    """Two sessions racing to insert the same (sentence, annotator): one row, no error."""
    a, b = Database(database_url), Database(database_url)
    try:
        a.ensure_schema()
        with a.session() as session:
            target = store.ensure_project(session, "desk")
            store.import_documents(session, target, [DOCS[0][:2] + ({},)], tiny_classifier)
        with a.session() as session:
            sid = store.queue(session, store.get_project(session, "desk"), "ann", 1)[0]["sentence_id"]
        for database, label in ((a, "neutral"), (b, "pro_ukraine")):
            with database.session() as session:
                store.set_label(session, store.get_project(session, "desk"), sid, "ann", label)
        with a.session() as session:
            assert store.label_matrix(session, store.get_project(session, "desk")) == {sid: {"ann": "pro_ukraine"}}
    finally:
        a.dispose()
        b.dispose()


# --- the CLI ---------------------------------------------------------------------

def _invoke(runner, database_url, *args, input=None):
    return runner.invoke(label_cli, ["--database", database_url, *args], input=input, catch_exceptions=False)


def test_cli_import_export_agreement_progress(runner, database_url, tiny_model, tmp_path):
    docs = tmp_path / "docs.jsonl"
    lines = [json.dumps({"id": k, "text": t, "source": "Wire A"}) for k, t in DOCS] + ['{"id": "x"}', "not json",
                                                                                  json.dumps({"id": "e", "text": "   "})]
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _invoke(runner, database_url, "import", str(docs), "--project", "desk", "--model", str(tiny_model))
    assert result.exit_code == 0, result.output
    assert "imported 3 documents (10 sentences) into desk; 0 already there; 3 bad records" in result.output
    assert f"bad record {docs}:4: missing text field 'text'" in result.output
    again = _invoke(runner, database_url, "import", str(docs), "-p", "desk", "--model", str(tiny_model))
    assert "imported 0 documents (0 sentences) into desk; 3 already there; 3 bad records" in again.output

    db = Database(database_url)
    try:
        with db.session() as session:
            metas = session.scalars(select(Document.meta).order_by(Document.id)).all()
            assert metas[0] == {"source": "Wire A", "imported_from": f"{docs}:1"}  # the input's fields are kept
            target = store.get_project(session, "desk")
            items = store.queue(session, target, "ann", 2)
            for item, (a, b) in zip(items, [("neutral", "neutral"), ("pro_russia", "neutral")]):
                store.set_label(session, target, item["sentence_id"], "ann", a)
                store.set_label(session, target, item["sentence_id"], "bob", b)
    finally:
        db.dispose()
    out = tmp_path / "labels.csv"
    result = _invoke(runner, database_url, "export", "-p", "desk", "-o", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["doc_id", "text", "label", "n_annotators", "agreement"]
    assert [(r["label"], r["n_annotators"], r["agreement"]) for r in rows] == [("neutral", "2", "1.0")]
    assert f"tie, not exported: sentence {items[1]['sentence_id']}" in result.output
    assert "exported 1 labeled sentences; 1 ties left out" in result.output

    result = _invoke(runner, database_url, "agreement", "-p", "desk", "--json")
    report = json.loads(result.output)
    assert report["pairs"] == [{"annotators": ["ann", "bob"], "n": 2, "agreement": 0.5, "cohen_kappa": 0.0}]
    assert report["n_conflicts"] == 1 and report["conflicts"][0]["labels"] == {"ann": "pro_russia", "bob": "neutral"}
    text = _invoke(runner, database_url, "agreement", "-p", "desk").output
    assert "ann / bob: n=2, agreement 50.0%, Cohen's kappa 0.000" in text
    progress = _invoke(runner, database_url, "progress", "-p", "desk").output
    assert "project desk: 2 of 10 sentences labeled" in progress
    missing = _invoke(runner, database_url, "export", "-p", "nope")
    assert missing.exit_code == 1 and "No project named 'nope'." in missing.output


def test_cli_names_an_unreachable_database_without_its_password(runner):
    result = runner.invoke(label_cli, ["--database", "postgresql+psycopg://me:hunter2@127.0.0.1:1/db", "migrate"])
    assert result.exit_code == 1
    assert "cannot use the label database postgresql+psycopg://me:***@127.0.0.1:1/db" in result.output
    assert "hunter2" not in result.output


def test_framing_train_takes_several_data_paths(runner, tmp_path):
    rows = list(csv.DictReader(open("tests/data/tiny.csv", encoding="utf-8")))
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, part in ((first, rows[:20]), (second, rows[20:])):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["doc_id", "text", "label"])
            writer.writeheader()
            writer.writerows(part)
    out = tmp_path / "model"
    result = runner.invoke(train_cli, ["--data", str(first), "--data", str(second), "--out", str(out), "--no-search",
                                       "--folds", "2", "--no-dev", "--no-scope", "--quiet", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["training_data"]["files"] == ["a.csv", "b.csv"]
    assert meta["training_data"]["n_sentences"] == len(rows)


@pytest.mark.slow
def test_cli_retrain_measures_before_and_after_on_an_aside_set(runner, database_url, tiny_model, tmp_path):
    """Train on tests/data/tiny.csv plus a project's labels; the new directory is a verified model."""
    # Each document's sentences are labeled as the text says; invented text, none in tiny.csv.
    labeled = {
        f"n{i}": [(f"Invading troops shelled the village of Pryvillia {i} again, killing {i + 2} civilians.",
                   "pro_ukraine"),
                  (f"Officials in district {i} said the bridge would reopen in {i + 3} weeks.", "neutral"),
                  (f"The Kiev regime's militants used residents of block {i} as human shields.", "pro_russia")]
        for i in range(10)}
    db = Database(database_url)
    try:
        db.ensure_schema()
        with db.session() as session:
            target = store.ensure_project(session, "desk")
            docs = [(k, " ".join(t for t, _ in v), {}) for k, v in labeled.items()]
            store.import_documents(session, target, docs, Classifier.from_dir(tiny_model))
            truth = {t: label for v in labeled.values() for t, label in v}
            # Labeled directly: the queue would rightly hold back these near-identical rows.
            for sentence in session.scalars(select(Sentence).where(Sentence.project_id == target.id)):
                store.set_label(session, target, sentence.id, "ann", truth[sentence.text])
    finally:
        db.dispose()
    out = tmp_path / "retrained"
    result = _invoke(runner, database_url, "retrain", "-p", "desk", "--out", str(out), "--data",
                     "tests/data/tiny.csv", "--model", str(tiny_model), "--no-search", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "training on 40 corpus sentences + 24 of desk's; 6 sentences in 2 documents kept aside" in result.output
    meta = Classifier.from_dir(out).metadata
    summary = meta["labeling"]
    assert summary["n_aside"] == 6 and len(summary["aside_documents"]) == 2
    assert meta["training_data"]["files"] == ["tiny.csv", "desk.csv"]
    for when in ("before", "after"):
        assert 0 <= summary[when]["macro_f1"] <= 1
        assert f"{when:10}{summary[when]['macro_f1']:>10.3f}" in result.output
    assert summary["after"]["macro_f1"] >= summary["before"]["macro_f1"]


def test_cli_rescore_refreshes_predictions_and_keeps_labels(runner, database_url, tiny_model, default_model,
                                                            tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("\n".join(json.dumps({"id": k, "text": t}) for k, t in DOCS) + "\n", encoding="utf-8")
    assert _invoke(runner, database_url, "import", str(docs), "-p", "desk", "--model", str(tiny_model)).exit_code == 0
    db = Database(database_url)
    try:
        with db.session() as session:
            target = store.get_project(session, "desk")
            first = store.queue(session, target, "ann", 1)[0]
            store.set_label(session, target, first["sentence_id"], "ann", "pro_russia")
        result = _invoke(runner, database_url, "rescore", "-p", "desk", "--model", str(default_model))
        version = Classifier.from_dir(default_model).info["version"]
        assert result.exit_code == 0, result.output
        assert f"re-scored 10 sentences in 3 documents of desk with {version}; 0 documents kept" in result.output
        with db.session() as session:
            target = store.get_project(session, "desk")
            items = store.queue(session, target, "bob", 20)
            assert {i["suggestion"]["model_version"] for i in items} == {version}
            assert store.label_matrix(session, target) == {first["sentence_id"]: {"ann": "pro_russia"}}
    finally:
        db.dispose()

"""The labeling-loop simulation (benchmarks.labeling_sim) on the tiny corpus: structure, not figures."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from benchmarks import labeling_sim
from labeling import store
from labeling.db import Database
from labeling.tables import Label, Sentence
from model.classifier import Classifier
from training import dataset

DATA = Path(__file__).resolve().parent / "data"
BUDGETS = (0, 4, 8)


def test_simulation_labels_exactly_the_budget_once_each(tiny_model, tmp_path):
    rows = dataset.load_examples(DATA / "tiny.csv")
    target_docs = {"t06", "t07", "t08", "t09", "t10"}
    base = [r for r in rows if r.doc_id not in target_docs]
    target = [r for r in rows if r.doc_id in target_docs]

    result = labeling_sim.run_target(
        "tiny", [r.text for r in base], [r.label for r in base], target, Classifier.from_dir(tiny_model),
        budgets=BUDGETS, workdir=tmp_path, random_repeats=1, seed=0, jobs=1, batch=3)

    assert [run["strategy"] for run in result["runs"]] == ["uncertainty", "random"]
    for point in result["curve"]:
        assert point["reached"]
        for value in (point["uncertainty"], point["random_mean"]):
            assert 0.0 <= value <= 1.0
    assert result["curve"][0]["uncertainty"] == result["curve"][0]["random_mean"]  # budget 0: the base model

    db = Database(f"sqlite:///{tmp_path / 'sim.sqlite'}")
    try:
        with db.session() as session:
            for run in result["runs"]:
                project = store.get_project(session, run["project"])
                labeled = session.execute(
                    select(Label.sentence_id, Sentence.text).join(Sentence, Sentence.id == Label.sentence_id)
                    .where(Sentence.project_id == project.id)).all()
                assert len(labeled) == max(BUDGETS) == run["labels"]
                assert len({sid for sid, _ in labeled}) == len(labeled)
                assert len({text for _, text in labeled}) == len(labeled)
                assert session.scalar(select(func.count(func.distinct(Label.annotator)))) == 1
    finally:
        db.dispose()


def test_split_keeps_documents_whole_and_is_seeded():
    rows = dataset.load_examples(DATA / "tiny.csv")
    a, b = labeling_sim.split_part(rows, seed=3), labeling_sim.split_part(rows, seed=3)
    assert [d for d, _, _ in a.pool_docs] == [d for d, _, _ in b.pool_docs]
    pool = {d for d, _, _ in a.pool_docs}
    assert len(pool) == 7 and a.n_test_docs == 3
    assert a.n_pool_rows + len(a.test_texts) == len(rows)
    assert not set(a.test_texts) & {text for _, text in a.oracle}


def test_model_card_quotes_the_simulation(tmp_path):
    from training.card import _labeling_lines

    results = {"machine": {"date": "2026-12-07T06:00:00+00:00"},
               "settings": {"targets": ["part17.csv"], "random_repeats": 3},
               "mean": [{"budget": 0, "n_targets": 1, "uncertainty": 0.8, "random_mean": 0.8, "difference": 0.0},
                        {"budget": 100, "n_targets": 1, "uncertainty": 0.84, "random_mean": 0.82, "difference": 0.02},
                        {"budget": 500, "n_targets": 0}]}
    path = tmp_path / "labeling_sim.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    lines = _labeling_lines(path)
    assert lines[0] == "## Labeling your own text"
    assert "| 100 | 1 | 0.840 | 0.820 | +0.020 |" in lines
    assert not any(line.startswith("| 500 ") for line in lines)
    assert _labeling_lines(tmp_path / "missing.json") == []

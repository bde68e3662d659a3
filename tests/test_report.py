"""`framing-report`: the aggregates equal a recomputation from the JSONL, the
adjusted shares undo a known confusion, and the page renders offline."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from model.labels import DISPLAY, LABELS
from report.aggregate import period_of
from report.cli import main as report_cli
from report.prevalence import adjust, adjusted_shares

SOURCES = ["Wire A", "Paper B", "Site C", "Blog D"]
WORDS = {"pro_russia": "regime sponsors provocation", "neutral": "talks officials reported",
         "pro_ukraine": "invaders occupiers defenders"}


def synthetic_scores(n: int = 240, seed: int = 3) -> list[dict]:
    """Document lines shaped like framing-score's, with known labels and meta."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        source = SOURCES[i % len(SOURCES)]
        lean = SOURCES.index(source) / 3  # Wire A leans pro_russia, Blog D pro_ukraine
        sentences = []
        for j in range(rng.randint(2, 7)):
            flagged = rng.random() < 0.05
            label = rng.choices(LABELS, weights=[1.2 - lean, 1.0, 0.2 + lean])[0]
            p = {lab: 0.1 for lab in LABELS}
            p[label] = 0.8
            sentences.append({"index": j, "text": f"Sentence {j} {WORDS[label]} here.", "label": label,
                              "confidence": 0.8, "probabilities": p, "flags": ["off_topic"] if flagged else []})
        scored = [s for s in sentences if not s["flags"]]
        counts = {lab: sum(s["label"] == lab for s in scored) for lab in LABELS}
        mean = {lab: float(np.mean([s["probabilities"][lab] for s in scored])) for lab in LABELS} if scored else None
        docs.append({
            "id": f"d{i}",
            "meta": {"source": source, "date": f"2026-{1 + i % 6:02d}-{1 + i % 27:02d}", "title": f"Title {i}"},
            "model": {"name": "framing-tfidf-lr", "version": "test", "sha256": ""},
            "sentences": sentences,
            "document": {"n_sentences": len(sentences), "n_flagged": len(sentences) - len(scored),
                         "label_counts": counts,
                         "framing_score": mean["pro_ukraine"] - mean["pro_russia"] if mean else None},
        })
    return docs


def recompute(docs: list[dict], key) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for d in docs:
        g = out.setdefault(key(d), {"documents": 0, "sentences": 0, "flagged": 0, "scores": [],
                                    "counts": dict.fromkeys(LABELS, 0)})
        g["documents"] += 1
        g["sentences"] += d["document"]["n_sentences"]
        g["flagged"] += d["document"]["n_flagged"]
        if d["document"]["framing_score"] is not None:
            g["scores"].append(d["document"]["framing_score"])
        for lab in LABELS:
            g["counts"][lab] += d["document"]["label_counts"][lab]
    return out


@pytest.fixture
def scores_file(tmp_path):
    docs = synthetic_scores()
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs) + "not json\n", encoding="utf-8")
    return path, docs


def test_csv_aggregates_equal_a_recomputation(runner, scores_file, tmp_path):
    path, docs = scores_file
    out, agg = tmp_path / "report.html", tmp_path / "agg.csv"
    result = runner.invoke(report_cli, [str(path), "-o", str(out), "--by", "meta.source", "--time", "meta.date",
                                        "--csv", str(agg), "--compare", "Wire A", "Blog D", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "report of 240 documents" in result.stderr and "1 lines skipped" in result.stderr
    rows = list(csv.DictReader(open(agg, encoding="utf-8")))
    expected = {("group", k): v for k, v in recompute(docs, lambda d: d["meta"]["source"]).items()}
    expected |= {("period", k): v for k, v in recompute(docs, lambda d: d["meta"]["date"][:7]).items()}
    expected[("overall", "(all)")] = recompute(docs, lambda d: "(all)")["(all)"]
    assert {(r["section"], r["name"]) for r in rows} == set(expected) | {("difference", "Blog D - Wire A")}
    for row in rows:
        if row["section"] == "difference":
            continue
        want = expected[(row["section"], row["name"])]
        assert int(row["documents"]) == want["documents"]
        assert int(row["sentences"]) == want["sentences"] and int(row["flagged"]) == want["flagged"]
        assert float(row["mean_score"]) == pytest.approx(np.mean(want["scores"]), abs=1e-12)
        assert float(row["mean_score_ci_low"]) <= float(row["mean_score"]) <= float(row["mean_score_ci_high"])
        in_scope = sum(want["counts"].values())
        for lab in LABELS:
            assert float(row[f"share_{lab}"]) == pytest.approx(want["counts"][lab] / in_scope, abs=1e-12)
    by_name = {r["name"]: r for r in rows}
    assert float(by_name["Wire A"]["mean_score"]) < 0 < float(by_name["Blog D"]["mean_score"])
    diff = by_name["Blog D - Wire A"]
    assert float(diff["mean_score"]) == pytest.approx(
        float(by_name["Blog D"]["mean_score"]) - float(by_name["Wire A"]["mean_score"]), abs=1e-12)
    assert float(diff["mean_score_ci_low"]) > 0  # the lean built into the data is found


def test_periods():
    assert period_of("2026-03-04", "week") == "2026-03-02"  # its Monday
    assert period_of("2026-03-04T10:00:00Z", "month") == "2026-03"
    assert period_of("2026-11-30", "quarter") == "2026-Q4"
    assert period_of("March 4", "month") is None and period_of(None, "month") is None


def test_clear_errors(runner, scores_file, tmp_path):
    path, _ = scores_file
    out = str(tmp_path / "r.html")
    missing = runner.invoke(report_cli, [str(tmp_path / "nope.jsonl"), "-o", out])
    assert missing.exit_code == 1 and "input not found" in missing.output
    bad = runner.invoke(report_cli, [str(path), "-o", out, "--by", "meta.source", "--compare", "Wire A", "Nobody"])
    assert bad.exit_code == 1 and "no group or period named 'Nobody'" in bad.output
    sentences = tmp_path / "rows.jsonl"
    sentences.write_text('{"id": "d", "index": 0, "text": "x", "label": "neutral"}\n')
    rows = runner.invoke(report_cli, [str(sentences), "-o", out])
    assert rows.exit_code == 1 and "--granularity document" in rows.output


def test_adjusted_shares_undo_a_known_confusion():
    """Raw shares biased by a known confusion matrix are brought back within the interval."""
    rng = np.random.default_rng(5)
    truth = np.array([0.15, 0.65, 0.20])
    p_pred_given_true = np.array([[0.70, 0.25, 0.05],   # true pro_russia
                                  [0.20, 0.60, 0.20],   # true neutral: 40 % called a side
                                  [0.05, 0.25, 0.70]])  # true pro_ukraine
    observed = truth @ p_pred_given_true  # shares of the model's labels
    counts = np.array([rng.multinomial(400, row) for row in p_pred_given_true], dtype=float)
    replicates = rng.dirichlet(observed * 20_000, size=200)  # documents' sampling noise
    adjusted = adjusted_shares(observed, replicates, counts)
    for i, label in enumerate(LABELS):
        low, high = adjusted[label]["ci"]
        assert low <= truth[i] <= high, (label, adjusted[label], truth[i])
    assert not (abs(observed - truth) < 0.03).all()  # the raw shares were visibly off
    assert adjust(observed, np.vstack([counts[:2], np.zeros(3)])) is None  # a label without examples


def test_validation_file_adds_adjusted_shares(runner, scores_file, tmp_path, tiny_model):
    path, _ = scores_file
    labeled = tmp_path / "labeled.csv"
    with open(labeled, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc_id", "text", "label"])
        for i, (text, label) in enumerate([("The Kyiv regime keeps shelling Donetsk.", "pro_russia"),
                                           ("Talks resumed on Monday, officials said.", "neutral"),
                                           ("Russian invaders shelled Kharkiv again.", "pro_ukraine")] * 4):
            writer.writerow([f"v{i}", text, label])
    out = tmp_path / "report.html"
    result = runner.invoke(report_cli, [str(path), "-o", str(out), "--validation", str(labeled),
                                        "--model", str(tiny_model), "--no-progress"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'id="adjusted-table"' in html and "From 12 sentences labeled by people" in html


@pytest.mark.browser
def test_report_renders_offline_in_chromium(runner, scores_file, tmp_path):
    from browser import launch

    path, docs = scores_file
    out = tmp_path / "report.html"
    result = runner.invoke(report_cli, [str(path), "-o", str(out), "--by", "meta.source", "--time", "meta.date",
                                        "--compare", "Wire A", "Blog D", "--no-progress"])
    assert result.exit_code == 0, result.output
    with launch() as browser:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5")
        charts = page.locator(".chart > div > div").evaluate_all("els => els.map(e => e.id)")
        assert set(charts) >= {"chart-time-shares", "chart-time-score", "chart-group-score",
                               "chart-group-shares", "chart-distribution"}
        for chart in charts:  # every chart drew its axes and at least one trace with points or bars
            page.wait_for_selector(f"#{chart} .main-svg .trace")
            assert page.locator(f"#{chart} .trace .point, #{chart} .trace path.js-line").count() >= 1
        cells = page.locator("#group-table tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))")
        expected = recompute(docs, lambda d: d["meta"]["source"])
        assert len(cells) == len(expected)
        for row in cells:
            want = expected[row[0]]
            in_scope = sum(want["counts"].values())
            assert row[1] == f"{want['documents']:,}" and row[2] == f"{want['sentences']:,}"
            assert row[3] == f"{np.mean(want['scores']):+.3f}"
            assert row[5:8] == [f"{100 * want['counts'][lab] / in_scope:.1f} %" for lab in LABELS]
        # sortable: clicking "documents" orders the rows by it
        page.locator("#group-table th", has_text="documents").click()
        order = page.locator("#group-table tbody tr td:nth-child(2)").all_text_contents()
        assert order == sorted(order, key=lambda v: -int(v.replace(",", "")))
        assert requests == [out.as_uri()], requests  # nothing left the file
        assert errors == []


def test_report_page_and_favicon_draw_labels_in_the_same_colours():
    static = Path(__file__).resolve().parents[1] / "service" / "static"
    css, icon = (static / "app.css").read_text(), (static / "favicon.svg").read_text()
    for label, var in zip(LABELS, ("--ru", "--ne", "--ua")):
        rgb = [int(DISPLAY[label]["colour"][i:i + 2], 16) for i in (1, 3, 5)]
        assert f"{var}: {', '.join(map(str, rgb))};" in css
        assert f'fill="{DISPLAY[label]["colour"]}"' in icon

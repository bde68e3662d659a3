"""The cue audit lists each label's heaviest n-grams with their label shares."""

import json

from conftest import DATA

from model.classifier import Classifier
from training.cues import cue_audit, main


def test_audit_shares_and_flags(tiny_model):
    model = Classifier.from_dir(tiny_model)
    corpus = [("Western sponsors armed the neo-Nazis.", "pro_russia"), ("Talks resumed on Monday.", "neutral")]
    # "western" is pro_russia in this corpus; in this "real" file it appears in neutral rows only.
    real = [("Western ministers met in Rome.", "neutral"), ("Western banks froze the accounts.", "neutral"),
            ("A western wind blew.", "neutral")]
    audit = cue_audit(model, corpus, real, top=5)
    entry = next(e for e in audit["pro_russia"] if e["term"] == "western")
    assert entry["corpus"] == {"n": 1, "pro_russia": 1.0, "neutral": 0.0, "pro_ukraine": 0.0}
    assert entry["real"]["n"] == 3 and entry["real"]["neutral"] == 1.0
    assert entry["flag"] is True
    assert all(len(entries) == 5 for entries in audit.values())
    weights = [e["weight"] for e in audit["neutral"]]
    assert weights == sorted(weights, reverse=True)


def test_cli_prints_tables_and_json(runner, tiny_model, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text(json.dumps({"text": "Talks resumed on Monday.", "label": "neutral"}) + "\n")
    args = ["--model", str(tiny_model), "--data", str(DATA / "tiny.csv"), "--real", str(real), "--top", "3"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "**Toward pro_russia**" in result.output and "| n-gram | weight | corpus | real |" in result.output
    result = runner.invoke(main, [*args, "--json"])
    audit = json.loads(result.output)
    assert list(audit) == ["pro_russia", "neutral", "pro_ukraine"] and all(len(v) == 3 for v in audit.values())

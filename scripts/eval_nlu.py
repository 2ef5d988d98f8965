"""`make eval`: how well the trained model understands residents, next to a simple baseline.

Runs in the Rasa environment. Scores the held-out set (eval/heldout.yml, never trained on)
and the out-of-domain set (eval/out_of_domain.yml), sweeps the fallback threshold, compares
with a TF-IDF character n-gram + logistic regression baseline trained on the same data, and
runs 5-fold cross-validation of the pipeline. Writes JSON reports and a confusion matrix PNG
to results/ and prints a summary table.

    python -m scripts.eval_nlu [--skip-cv] [--out results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from scripts.eval_nlu_targets import (
    MAX_FALSE_ACTION_RATE,
    MIN_ACCURACY,
    MIN_ENTITY_F1,
    MIN_MACRO_F1,
    TRANSACTIONAL,
)
from scripts.rasa_env import MODEL, RASA, ROOT, rasa_environ

ENTITY_TYPES = {
    "building",
    "unit",
    "room",
    "time",
    "facility",
    "bill_type",
    "repair_item",
    "location",
    "complaint_type",
    "phone",
}
FALLBACK = "nlu_fallback"
THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 19)]
GATE_THRESHOLDS = [round(0.05 * i, 2) for i in range(6, 20)] + [1.01]  # 1.01: gate off


@dataclass
class Example:
    text: str
    intent: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Prediction:
    intent: str  # as the configured pipeline decided
    raw_intent: str  # DIET's best intent
    confidence: float
    out_of_domain: float  # the gate's probability that this is not about the property
    entities: list[dict[str, Any]]
    seconds: float

    def decided(self, gate: float, fallback: float) -> str:
        """The intent with other thresholds for the gate and the fallback."""
        if self.out_of_domain >= gate or self.raw_intent == "out_of_scope":
            return "out_of_scope"
        return self.raw_intent if self.confidence >= fallback else FALLBACK


def load_examples(path: Path) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        Example(m.get("text"), m.get("intent").split("/")[0], m.get("entities") or [])
        for m in data.intent_examples
    ]


def training_examples() -> list[Example]:
    return load_examples(ROOT / "data" / "nlu")


async def predict(texts: list[str]) -> list[Prediction]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    await agent.parse_message("你好")  # warm up
    predictions = []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        seconds = time.perf_counter() - started
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        best = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
        predictions.append(
            Prediction(
                intent=parsed["intent"]["name"],
                raw_intent=best["name"],
                confidence=float(best["confidence"]),
                out_of_domain=float((parsed.get("out_of_domain") or {}).get("probability", 0)),
                entities=parsed.get("entities", []),
                seconds=seconds,
            )
        )
    return predictions


def intent_scores(expected: list[str], predicted: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    labels = sorted(set(expected))
    return {
        "accuracy": accuracy_score(expected, predicted),
        "macro_f1": f1_score(expected, predicted, labels=labels, average="macro", zero_division=0),
        "report": classification_report(
            expected, predicted, labels=labels, output_dict=True, zero_division=0
        ),
    }


def false_action_rate(predicted: list[str]) -> float:
    return sum(p in TRANSACTIONAL for p in predicted) / max(1, len(predicted))


def sweep(
    heldout: list[Example], held: list[Prediction], ood: list[Prediction], gates: list[float]
) -> list[dict[str, float]]:
    """For each (gate, fallback) threshold pair: held-out accuracy, OOD false actions."""
    rows = []
    for gate in gates:
        for fallback in THRESHOLDS:
            correct = sum(
                p.decided(gate, fallback) == e.intent for e, p in zip(heldout, held, strict=True)
            )
            actions = [p.decided(gate, fallback) for p in ood]
            rows.append(
                {
                    "gate": gate,
                    "fallback": fallback,
                    "accuracy": correct / len(heldout),
                    "false_action_rate": false_action_rate(actions),
                }
            )
    return rows


def choose(rows: list[dict[str, float]], slack: float = 0.005) -> dict[str, float]:
    """Among settings with false actions within the target and accuracy within `slack` of
    the best such setting: the fewest false actions, then the most cautious thresholds."""
    allowed = [r for r in rows if r["false_action_rate"] <= MAX_FALSE_ACTION_RATE] or rows
    best = max(r["accuracy"] for r in allowed)
    near = [r for r in allowed if r["accuracy"] >= best - slack]
    return min(near, key=lambda r: (r["false_action_rate"], -r["fallback"], r["gate"]))


def entity_scores(
    examples: list[Example], predictions: list[Prediction]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Precision/recall/F1 of (entity, canonical value) pairs (a time counts when it
    overlaps), and the examples where they went wrong."""
    counts: dict[str, Counter[str]] = {}
    errors: list[dict[str, Any]] = []
    for example, prediction in zip(examples, predictions, strict=True):
        gold = [e for e in example.entities if e["entity"] in ENTITY_TYPES]
        found = [e for e in prediction.entities if e["entity"] in ENTITY_TYPES]
        unmatched = list(found)
        missed = []
        for expected in gold:
            tally = counts.setdefault(expected["entity"], Counter())
            match = next((p for p in unmatched if _matches(expected, p, example.text)), None)
            if match is None:
                tally["fn"] += 1
                missed.append(expected)
            else:
                tally["tp"] += 1
                unmatched.remove(match)
        for extra in unmatched:
            counts.setdefault(extra["entity"], Counter())["fp"] += 1
        if missed or unmatched:
            errors.append(
                {
                    "text": example.text,
                    "missed": _brief(missed, example.text),
                    "unexpected": _brief(unmatched, example.text),
                }
            )
    report = {name: _prf(c) for name, c in sorted(counts.items())}
    report["micro avg"] = _prf(sum(counts.values(), Counter()))
    return report, errors


def _brief(entities: list[dict[str, Any]], text: str) -> list[str]:
    return [f"{e['entity']}={text[e['start'] : e['end']]}→{e.get('value')}" for e in entities]


def _matches(expected: dict[str, Any], predicted: dict[str, Any], text: str) -> bool:
    if expected["entity"] != predicted["entity"]:
        return False
    if expected["entity"] == "time":
        return predicted["start"] < expected["end"] and expected["start"] < predicted["end"]
    expected_value = expected.get("value", text[expected["start"] : expected["end"]])
    return str(expected_value) == str(predicted.get("value"))


def _prf(c: Counter[str]) -> dict[str, float]:
    precision = c["tp"] / max(1, c["tp"] + c["fp"])
    recall = c["tp"] / max(1, c["tp"] + c["fn"])
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": c["tp"] + c["fn"]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def confusion_png(expected: list[str], predicted: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(expected) | set(predicted))
    matrix = confusion_matrix(expected, predicted, labels=labels)
    figure, axes = plt.subplots(figsize=(12, 10))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90)
    axes.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                axes.text(
                    j,
                    i,
                    matrix[i, j],
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    axes.set_title("Held-out intents (with the configured fallback)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def baseline(train: list[Example], texts: list[str]) -> tuple[list[str], list[float]]:
    """TF-IDF character 1–3-grams + logistic regression: what the pipeline must beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)),
        LogisticRegression(max_iter=3000, C=10),
    )
    model.fit([e.text for e in train], [e.intent for e in train])
    probabilities = model.predict_proba(texts)
    classes = model.classes_
    best = probabilities.argmax(axis=1)
    return [classes[i] for i in best], [float(probabilities[k, i]) for k, i in enumerate(best)]


def baseline_cross_validation(train: list[Example]) -> dict[str, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)),
        LogisticRegression(max_iter=3000, C=10),
    )
    expected = [e.intent for e in train]
    predicted = cross_val_predict(
        model,
        [e.text for e in train],
        expected,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
    )
    return {
        "accuracy": accuracy_score(expected, predicted),
        "macro_f1": f1_score(expected, predicted, average="macro"),
    }


def cross_validation(out: Path) -> dict[str, float]:
    target = out / "cross-validation"
    subprocess.run(
        [
            str(RASA),
            "test",
            "nlu",
            "--nlu",
            "data/nlu",
            "--config",
            "bot/config.yml",
            "--cross-validation",
            "--folds",
            "5",
            "--out",
            str(target),
        ],
        cwd=ROOT,
        env=rasa_environ(),
        check=True,
    )
    report = json.loads((target / "intent_report.json").read_text())
    return {"accuracy": report["accuracy"], "macro_f1": report["macro avg"]["f1-score"]}


def configured_thresholds() -> dict[str, float]:
    import yaml

    pipeline = yaml.safe_load((ROOT / "bot" / "config.yml").read_text())["pipeline"]

    def threshold(suffix: str) -> float:
        return float(next(c for c in pipeline if c["name"].endswith(suffix))["threshold"])

    return {"gate": threshold("OutOfDomainGate"), "fallback": threshold("FallbackClassifier")}


def quiet_logs() -> None:
    import logging

    import structlog

    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main() -> None:
    quiet_logs()
    parser = argparse.ArgumentParser(prog="python -m scripts.eval_nlu")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--skip-cv", action="store_true", help="skip 5-fold cross-validation")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    heldout = load_examples(ROOT / "eval" / "heldout.yml")
    ood = load_examples(ROOT / "eval" / "out_of_domain.yml")
    train = training_examples()
    predictions = asyncio.run(predict([e.text for e in heldout + ood]))
    held_pred, ood_pred = predictions[: len(heldout)], predictions[len(heldout) :]

    expected = [e.intent for e in heldout]
    pipeline = intent_scores(expected, [p.intent for p in held_pred])
    entities, entity_errors = entity_scores(heldout, held_pred)
    rows = sweep(heldout, held_pred, ood_pred, GATE_THRESHOLDS)
    latencies = [p.seconds * 1000 for p in predictions]

    base = [
        Prediction(intent, intent, confidence, 0.0, [], 0.0)
        for intent, confidence in zip(
            *baseline(train, [e.text for e in heldout + ood]), strict=True
        )
    ]
    base_rows = sweep(heldout, base[: len(heldout)], base[len(heldout) :], [1.01])
    base_choice = choose(base_rows)
    base_final = [p.decided(1.01, base_choice["fallback"]) for p in base]
    base_scores = intent_scores(expected, base_final[: len(heldout)])

    summary = {
        "examples": {"train": len(train), "heldout": len(heldout), "out_of_domain": len(ood)},
        "pipeline": {
            "thresholds": configured_thresholds(),
            "recommended_thresholds": choose(rows),
            "intent_accuracy": pipeline["accuracy"],
            "intent_macro_f1": pipeline["macro_f1"],
            "entity_f1": entities["micro avg"]["f1"],
            "out_of_domain_false_action_rate": false_action_rate([p.intent for p in ood_pred]),
            "parse_latency_ms": {
                "p50": percentile(latencies, 50),
                "p99": percentile(latencies, 99),
            },
        },
        "baseline_tfidf_logreg": {
            "fallback_threshold": base_choice["fallback"],
            "intent_accuracy": base_scores["accuracy"],
            "intent_macro_f1": base_scores["macro_f1"],
            "out_of_domain_false_action_rate": false_action_rate(base_final[len(heldout) :]),
        },
        "threshold_sweep": {"pipeline": rows, "baseline": base_rows},
    }
    if not args.skip_cv:
        summary["pipeline"]["cross_validation_5_fold"] = cross_validation(out)
        summary["baseline_tfidf_logreg"]["cross_validation_5_fold"] = baseline_cross_validation(
            train
        )

    (out / "intent_report.json").write_text(
        json.dumps(pipeline["report"], indent=2, ensure_ascii=False)
    )
    (out / "entity_report.json").write_text(json.dumps(entities, indent=2, ensure_ascii=False))
    (out / "entity_errors.json").write_text(json.dumps(entity_errors, indent=2, ensure_ascii=False))
    (out / "intent_errors.json").write_text(
        json.dumps(
            [
                {
                    "text": e.text,
                    "expected": e.intent,
                    "predicted": p.intent,
                    "confidence": round(p.confidence, 3),
                }
                for e, p in zip(heldout, held_pred, strict=True)
                if e.intent != p.intent
            ]
            + [
                {
                    "text": e.text,
                    "expected": "out_of_scope",
                    "predicted": p.intent,
                    "confidence": round(p.confidence, 3),
                }
                for e, p in zip(ood, ood_pred, strict=True)
                if p.intent in TRANSACTIONAL
            ],
            indent=2,
            ensure_ascii=False,
        )
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    confusion_png(expected, [p.intent for p in held_pred], out / "intent_confusion_matrix.png")
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")
    print(table(summary))
    print(
        f"\nReports: {out}/summary.json, intent_report.json, entity_report.json, "
        f"intent_errors.json, intent_confusion_matrix.png"
    )


def table(summary: dict[str, Any]) -> str:
    p, b = summary["pipeline"], summary["baseline_tfidf_logreg"]
    pct = "{:.1%}".format
    lines = [
        f"{'metric':<34}{'pipeline':>12}{'baseline':>12}{'target':>10}",
        f"{'intent accuracy (held-out)':<34}{pct(p['intent_accuracy']):>12}"
        f"{pct(b['intent_accuracy']):>12}{'>= ' + pct(MIN_ACCURACY):>10}",
        f"{'intent macro-F1 (held-out)':<34}{p['intent_macro_f1']:>12.3f}"
        f"{b['intent_macro_f1']:>12.3f}{f'>= {MIN_MACRO_F1}':>10}",
        f"{'entity F1 (held-out)':<34}{p['entity_f1']:>12.3f}{'—':>12}{f'>= {MIN_ENTITY_F1}':>10}",
        f"{'out-of-domain false actions':<34}{pct(p['out_of_domain_false_action_rate']):>12}"
        f"{pct(b['out_of_domain_false_action_rate']):>12}"
        f"{'<= ' + pct(MAX_FALSE_ACTION_RATE):>10}",
        f"{'gate / fallback thresholds':<34}"
        f"{p['thresholds']['gate']:>5} / {p['thresholds']['fallback']:<4}"
        f"{'— / ' + str(b['fallback_threshold']):>12}",
        f"{'  chosen from data (sweep)':<34}{p['recommended_thresholds']['gate']:>5} / "
        f"{p['recommended_thresholds']['fallback']:<4}",
        f"{'parse latency p50 / p99 (ms)':<34}"
        f"{p['parse_latency_ms']['p50']:>6.1f} / {p['parse_latency_ms']['p99']:.1f}",
    ]
    cv, base_cv = p.get("cross_validation_5_fold"), b.get("cross_validation_5_fold")
    if cv and base_cv:
        lines.append(
            f"{'5-fold CV accuracy':<34}{pct(cv['accuracy']):>12}{pct(base_cv['accuracy']):>12}"
        )
        lines.append(
            f"{'5-fold CV macro-F1':<34}{cv['macro_f1']:>12.3f}{base_cv['macro_f1']:>12.3f}"
        )
    return "\n".join(lines)


def markdown(summary: dict[str, Any]) -> str:
    """The results table for the README."""
    p, b = summary["pipeline"], summary["baseline_tfidf_logreg"]
    n = summary["examples"]
    pct = "{:.1%}".format
    rows = [
        "| metric | pipeline | TF-IDF + LR baseline | target |",
        "|---|---|---|---|",
        f"| intent accuracy, held-out ({n['heldout']}) | {pct(p['intent_accuracy'])} | "
        f"{pct(b['intent_accuracy'])} | ≥ {pct(MIN_ACCURACY)} |",
        f"| intent macro-F1, held-out | {p['intent_macro_f1']:.3f} | "
        f"{b['intent_macro_f1']:.3f} | ≥ {MIN_MACRO_F1} |",
        f"| entity F1 (type and canonical value), held-out | {p['entity_f1']:.3f} | — | "
        f"≥ {MIN_ENTITY_F1} |",
        f"| out-of-domain false-action rate ({n['out_of_domain']}) | "
        f"{pct(p['out_of_domain_false_action_rate'])} | "
        f"{pct(b['out_of_domain_false_action_rate'])} | ≤ {pct(MAX_FALSE_ACTION_RATE)} |",
    ]
    cv, base_cv = p.get("cross_validation_5_fold"), b.get("cross_validation_5_fold")
    if cv and base_cv:
        rows.append(
            f"| 5-fold cross-validation on the training data ({n['train']}): accuracy / "
            f"macro-F1 | {pct(cv['accuracy'])} / {cv['macro_f1']:.3f} | "
            f"{pct(base_cv['accuracy'])} / {base_cv['macro_f1']:.3f} | — |"
        )
    latency = p["parse_latency_ms"]
    rows.append(
        f"| NLU parse latency p50 / p99 (in-process) | {latency['p50']:.1f} ms / "
        f"{latency['p99']:.1f} ms | — | — |"
    )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.exit(main())

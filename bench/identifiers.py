"""The identifier detector and the file scan, measured: per-kind recall and precision on the labelled
corpus (tests/anonymization/corpus.py), the text gate's cost on a 2,000-character post (the detector,
which is what the gate adds to saving), and the time to scan a 50 MB CSV on one process.

    .venv/bin/python bench/identifiers.py            # everything (about a minute)
    .venv/bin/python bench/identifiers.py --no-csv   # without the 50 MB CSV

Needs no database. Every value is synthetic (see the corpus's docstring).
"""
import argparse
import csv
import io
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from anonymization import detector  # noqa: E402
from anonymization.filetypes import inspect_upload  # noqa: E402
from anonymization.scanning import scan_file  # noqa: E402
from tests.anonymization import corpus  # noqa: E402
from tests.anonymization.files import uploaded  # noqa: E402
from tests.anonymization.test_corpus_recall import file_kinds  # noqa: E402


def corpus_scores() -> list[tuple[str, int, int, int]]:
    """(kind, true positives, false negatives, false positives) over the texts and files."""
    true_pos, false_neg, false_pos = Counter(), Counter(), Counter()
    for text, expected in corpus.TEXTS:
        found = {finding.kind for finding in detector.find_identifiers(text)}
        for kind in expected:
            (true_pos if kind in found else false_neg)[kind] += 1
        for kind in found - expected:
            false_pos[kind] += 1
    for text in corpus.CLEAN_TEXTS:
        findings = detector.find_identifiers(text)
        if detector.holds(findings):
            for finding in findings:
                false_pos[finding.kind] += 1
    for name, make, expected in corpus.FILES:
        found, _findings = file_kinds(name, make())
        for kind in expected:
            (true_pos if kind in found else false_neg)["file:" + kind] += 1
    for name, make in corpus.CLEAN_FILES:
        _found, findings = file_kinds(name, make())
        for finding in findings:
            false_pos["file:" + (finding["subject"] or finding["code"])] += 1
    kinds = sorted(set(true_pos) | set(false_neg) | set(false_pos))
    return [(kind, true_pos[kind], false_neg[kind], false_pos[kind]) for kind in kinds]


WORDS = ("cohort incubation period estimate sample serology assay model fit posterior interval week region "
         "admissions cases rate ratio regression outcome follow-up dataset column table figure result").split()


def post_text(length: int = 2000) -> str:
    random.seed(7)
    words = []
    while sum(len(word) + 1 for word in words) < length:
        words.append(random.choice(WORDS))
        if random.random() < 0.05:
            words.append(str(random.randint(1, 5000)))
    return " ".join(words)[:length]


def gate_timing(rounds: int = 200) -> tuple[float, float]:
    """Median and worst milliseconds of the detector on a 2,000-character post."""
    text = post_text()
    detector.find_identifiers(text)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        detector.find_identifiers(text)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def csv_scan_timing(megabytes: int = 50) -> tuple[float, int]:
    """Seconds to scan a synthetic CSV of about `megabytes` MB with a notes column (one process)."""
    random.seed(11)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["study_id", "week", "region", "age_band", "cases", "value", "notes"])
    row = 0
    while out.tell() < megabytes * 2**20:
        row += 1
        note = random.choice(["", "", "repeat sample", "follow-up in two weeks", "value below range"])
        writer.writerow([f"S-{row:07d}", f"2020-W{row % 52 + 1:02d}", random.choice(["North", "South", "East"]),
                         random.choice(["0-19", "20-39", "40-59", "60+"]), random.randint(0, 400),
                         f"{random.random() * 100:.3f}", note])
    data = out.getvalue().encode()
    inspect_upload(uploaded("big.csv", data[:4096] + b"\n"), name="big.csv")
    start = time.perf_counter()
    report = scan_file(io.BytesIO(data), kind="csv", name="big.csv")
    elapsed = time.perf_counter() - start
    return elapsed, len(report["findings"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-csv", action="store_true", help="skip the 50 MB CSV")
    args = parser.parse_args()
    print("| kind | found | missed | false alarms | recall | precision |")
    print("|---|---|---|---|---|---|")
    for kind, tp, fn, fp in corpus_scores():
        recall = f"{tp / (tp + fn):.0%}" if tp + fn else "-"
        precision = f"{tp / (tp + fp):.0%}" if tp + fp else "-"
        print(f"| {kind} | {tp} | {fn} | {fp} | {recall} | {precision} |")
    median, worst = gate_timing()
    print(f"\nText gate on a 2,000-character post: median {median:.2f} ms, worst {worst:.2f} ms")
    if not args.no_csv:
        seconds, findings = csv_scan_timing()
        print(f"50 MB CSV scanned in {seconds:.1f} s on one process ({findings} findings)")


if __name__ == "__main__":
    main()

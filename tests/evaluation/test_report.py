"""report.html: the verdict comes first, and the page fits a 1300 px wide window (checked
in headless Chromium when it is installed: ``apt-get install chromium``)."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from PIL import Image

from augment_gan.evaluation.report import SELECTION_MARK, build_report
from augment_gan.export.selection_export import report_section

CLASSES = [str(d) for d in range(9)] + ["Siberian husky (long name)"]
CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


def record(c: int) -> dict:
    band = {
        "metrics": {
            m: {"lo": 0.1234, "hi": 0.98765}
            for m in ("fid", "kid", "precision", "recall", "coverage", "class_consistency", "copy_rate")
        }
    }
    return {
        "n_fake": 200,
        "n_train": 1600 + c,
        "n_holdout": 0,
        "reference": "judge-unseen",
        "n_reference": 800,
        "n_pr": 200,
        "fid": 12.3456,
        "kid": 0.123456,
        "kid_std": 0.04567,
        "precision": 0.8123,
        "recall": 0.5678,
        "density": 1.0123,
        "coverage": 0.9123,
        "spread": 0.95,
        "class_consistency": 0.9876,
        "nearest_class": 0.97,
        "judge_confidence": 0.9345,
        "copy_rate": 0.0123,
        "copy_reference": "ratio",
        "band": band,
    }


def page(tmp_path: Path, *, with_selection: bool) -> str:
    torch.manual_seed(0)
    fakes = torch.randint(0, 256, (len(CLASSES) * 10, 1, 32, 32), dtype=torch.uint8)
    reals = [torch.randint(0, 256, (10, 1, 32, 32), dtype=torch.uint8) for _ in CLASSES]
    report = {
        "step": 600,
        "features": "domain",
        "judge": {"accuracy": 0.98, "n": 747},
        "overall": {"fid": 3.2, "kid": 0.2},
        "classes": {name: record(c) for c, name in enumerate(CLASSES)},
    }
    reasons = [
        "recall 0.012 < 0.25 x the real band's low end 0.6 (real images of this size reach 0.6-0.9)",
        "copies 0.31 > 0.05 (the real band reaches 0.02)",
    ]
    decision = {
        "passed_classes": CLASSES[:-2],
        "overall": {"passed": True, "reasons": []},
        "per_class": {
            name: {
                "passed": c < len(CLASSES) - 2,
                "reasons": [] if c < len(CLASSES) - 2 else reasons,
                "warnings": ["KID's band is too wide at n = 8 to fail a class"] if c == 3 else [],
            }
            for c, name in enumerate(CLASSES)
        },
    }
    text = build_report(tmp_path, report, decision, fakes, reals)
    if with_selection:
        sheet = io.BytesIO()
        Image.new("RGB", (1184, 720), "white").save(sheet, format="PNG")  # the digits demo's sheet size
        entry = {
            "acceptance": 0.8,
            "rejected_class": 0.05,
            "rejected_copy": 0.0,
            "rejected_support": 0.15,
            "n_train": 160,
            "n_support": 98,
        }
        card = {"n_candidates": 256, "support_quantile": 0.05, "per_class": {name: entry for name in CLASSES}}
        text = text.replace(SELECTION_MARK, report_section(card, sheet.getvalue()), 1)
    return text


def test_each_class_row_opens_with_its_verdict_and_reasons(tmp_path: Path) -> None:
    text = page(tmp_path, with_selection=False)
    rows = re.findall(r"<div class='row'>(.*?)</div>\s*$", text, flags=re.M)
    assert len(rows) == len(CLASSES)
    last = rows[-1]
    assert last.index("fail") < last.index("<img")  # the verdict before the pictures
    assert html.escape("recall 0.012 < 0.25") in last
    assert SELECTION_MARK in text
    header = re.search(r"<table><tr>(.*?)</tr>", text).group(1)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", header)[:2] == ["class", "gate"]


def layout(path: Path, width: int = 1300) -> dict:
    """Chromium's layout of ``path`` at ``width`` px: scroll width, right edges of images and verdicts."""
    probe = path.with_name("probe-" + path.name)
    probe.write_text(
        path.read_text()
        + """<script>window.addEventListener('load', () => {
      const r = e => Math.round(e.getBoundingClientRect().right);
      document.body.setAttribute('data-layout', JSON.stringify({width: window.innerWidth,
        scroll: document.documentElement.scrollWidth, images: [...document.images].map(r),
        verdicts: [...document.querySelectorAll('.verdict')].map(r),
        tables: [...document.querySelectorAll('table')].map(r)}));});</script>"""
    )
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--window-size={width},1000",
            "--virtual-time-budget=3000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found, "Chromium did not lay the page out"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")
@pytest.mark.parametrize("with_selection", [False, True], ids=["run report", "model dir report"])
def test_the_report_fits_a_1300px_window(tmp_path: Path, with_selection: bool) -> None:
    path = tmp_path / "report.html"
    path.write_text(page(tmp_path, with_selection=with_selection))
    seen = layout(path)
    assert seen["width"] == 1300
    assert seen["scroll"] <= seen["width"], seen  # no sideways scrolling
    assert seen["images"] and max(seen["images"]) <= seen["width"]  # every strip (and the sheet) is whole
    assert len(seen["verdicts"]) == len(CLASSES) and max(seen["verdicts"]) <= 300  # pass/fail visible at the left
    assert max(seen["tables"]) <= seen["width"]  # the metric table's right-hand columns too

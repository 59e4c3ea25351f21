"""report.html: a self-contained page (images inlined) to judge a run by looking.

Per class, first: the gate's verdict and its reasons, then generated samples beside real
images of that class; then (in a model dir, added by promote) per-sample selection's
accepted and rejected samples; then metric curves over training steps and the metric table,
each gated metric with its real-vs-real band. Laid out to fit a 1300 px wide window with no
sideways scrolling (strips scale down, the table wraps its cells); ``tests/evaluation``
checks that in headless Chromium when it is installed.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from augment_gan.contracts.run_dir import RunDir
from augment_gan.evaluation.registry import gated_metrics
from augment_gan.run.samples import make_grid

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:12px;width:100%}td,th{padding:3px 5px;border-bottom:1px solid #ddd;
text-align:right;vertical-align:top}th{background:#f4f4f4}td.l,th.l{text-align:left}
.pass{color:#070;font-weight:bold}.fail{color:#b00;font-weight:bold}
.row{display:grid;grid-template-columns:170px minmax(0,1fr) minmax(0,1fr);gap:12px;align-items:center;margin:6px 0}
.row img,.sheet{image-rendering:pixelated;max-width:100%;height:auto}.verdict{font-size:13px;overflow-wrap:anywhere}
.small{color:#666;font-size:11px}
"""
SELECTION_MARK = "<!-- augment-gan: selection -->"  # promote puts per-sample selection's section here


def _png(image: Image.Image, scale: int = 1) -> str:
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return html.escape(str(value))


def metric_curves(run: RunDir) -> Image.Image | None:
    """Losses and gate metrics over steps, one PNG (matplotlib, Agg backend)."""
    reports = run.read_eval_reports()
    if not reports:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = [r["step"] for r in reports]
    classes = list(reports[-1]["classes"])
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    for ax, metric in zip(axes[:3], ("kid", "precision", "class_consistency")):
        for name in classes:
            ax.plot(steps, [r["classes"][name][metric] for r in reports], marker=".", label=name)
        ax.set_title(f"{metric} per class")
        ax.set_xlabel("step")
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[2].legend(fontsize=7, ncol=2)
    losses = [r for r in run.read_metrics() if "loss_d" in r]
    if losses:
        axes[3].plot([r["step"] for r in losses], [r["loss_d"] for r in losses], label="D")
        axes[3].plot([r["step"] for r in losses], [r["loss_g"] for r in losses], label="G")
        axes[3].legend()
    axes[3].set_title("losses")
    axes[3].set_xlabel("step")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return Image.open(io.BytesIO(buffer.getvalue()))


def build_report(
    run_dir: Path,
    report: dict[str, Any],
    decision: dict[str, Any] | None,
    fakes: torch.Tensor,
    reals: list[torch.Tensor],
) -> str:
    """The HTML text. ``fakes``: uint8 (classes*k, C, H, W) class-major; ``reals[c]``: uint8 images of class c."""
    classes = list(report["classes"])
    k = len(fakes) // len(classes)
    judge = report["judge"]
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>augment-gan report: step {report['step']}</title>",
        f"<style>{_STYLE}</style>",
        f"<h1>Run {html.escape(Path(run_dir).name)}, checkpoint step {report['step']}</h1>",
        *(
            [
                "<p>Each class is generated at its own best evaluated step (shown beside its verdict); "
                f"the judge and the overall metrics are step {report['step']}'s.</p>"
            ]
            if "steps" in report
            else []
        ),
        f"<p>Features: <b>{report['features']}</b>. Judge (domain classifier) accuracy on held-out real images: "
        f"<b>{_fmt(judge['accuracy'])}</b> (n={judge['n']}). Overall FID {_fmt(report['overall']['fid'])}, "
        f"KID {_fmt(report['overall']['kid'])}.</p>",
    ]
    if decision is not None:
        passed = decision["passed_classes"]
        parts.append(
            f"<p>Gate: <b>{len(passed)} of {len(classes)}</b> classes pass"
            + (
                ""
                if decision["overall"]["passed"]
                else f"; <span class='fail'>{html.escape('; '.join(decision['overall']['reasons']))}</span>"
            )
            + ".</p>"
        )
    parts.append("<h2>Per class: the verdict, generated samples (middle), real images (right)</h2>")
    for c, name in enumerate(classes):
        verdict = "<span class='small'>not gated</span>"
        if decision is not None:
            d = decision["per_class"][name]
            verdict = (
                "<span class='pass'>pass</span>"
                if d["passed"]
                else f"<span class='fail'>fail</span><br><span class='small'>{html.escape('; '.join(d['reasons']))}</span>"
            )
            if d.get("warnings"):
                verdict += f"<br><span class='small'>warning: {html.escape('; '.join(d['warnings']))}</span>"
            if d.get("not_run"):
                verdict += (
                    f"<br><span class='small'>not run at this size: {html.escape('; '.join(d['not_run']))}</span>"
                )
            verdict += _utility_line(decision.get("utility", {}).get("per_class", {}).get(name))
        if "steps" in report:  # a routed model: each class from its own best step
            verdict += f"<br><span class='small'>from step {report['steps'][name]}</span>"
        fake_grid = make_grid(fakes[c * k : (c + 1) * k][:10], rows=1)
        real_grid = make_grid(reals[c][:10], rows=1) if len(reals[c]) else None
        parts.append(
            f"<div class='row'><div class='verdict'><b>{html.escape(name)}</b> {verdict}</div>"
            f"<img src='{_png(fake_grid, 2)}' alt='generated {html.escape(name)}'>"
            + (f"<img src='{_png(real_grid, 2)}' alt='real {html.escape(name)}'>" if real_grid else "<div></div>")
            + "</div>"
        )
    parts.append(SELECTION_MARK)
    curves = metric_curves(RunDir(run_dir))
    if curves is not None:
        parts.append(f"<h2>Over training steps</h2><img src='{_png(curves)}' style='max-width:100%'>")
    # every registered metric, each followed by the ungated numbers shown beside it (density, judge conf.)
    cols = {key: label for m in gated_metrics() for key, label in ((m.name, m.column), *m.beside)}
    first = report["classes"][classes[0]]
    parts.append(
        "<h2>Metrics per class</h2><p class='small'>Every number with its sample size: the real images "
        "column gives the class's training images and the reference set (held-out images, or those the "
        "judge never trained on) with its size; precision/recall/density/coverage use n_pr per side; "
        f"{first['n_fake']} generated samples per class; copies by the {_fmt(first.get('copy_reference'))} "
        "test. Below each gated metric, in grey: the range real images of the class's size reach (its "
        "real-vs-real band).</p>"
        "<table><tr><th class='l'>class</th><th class='l'>gate</th><th class='l'>real images</th>"
        + "".join(f"<th>{label}</th>" for label in cols.values())
        + "</tr>"
    )
    for name in classes:
        rec = report["classes"][name]
        gate = (
            ""
            if decision is None
            else (
                "<span class='pass'>pass</span>"
                if decision["per_class"][name]["passed"]
                else "<span class='fail'>fail</span>"
            )
        )
        bands = (rec.get("band") or {}).get("metrics", {})
        real = (
            f"train {_fmt(rec.get('n_train'))}, {_fmt(rec.get('reference'))} {_fmt(rec.get('n_reference'))}"
            f"<br><span class='small'>n_pr {_fmt(rec.get('n_pr'))}</span>"
        )
        cells = []
        for c in cols:
            value = _fmt(rec.get(c)) + (f" ± {_fmt(rec.get('kid_std'))}" if c == "kid" and rec.get("kid_std") else "")
            cells.append(f"<td>{value}{_band_cell(bands.get(c))}</td>")
        parts.append(
            f"<tr><td class='l'>{html.escape(name)}</td><td class='l'>{gate}</td><td class='l'>{real}</td>"
            + "".join(cells)
            + "</tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _utility_line(entry: dict | None) -> str:
    """The utility check's verdict for one class, with its recall change and evidence."""
    if entry is None:
        return ""
    change = entry.get("f1_change")
    if change is None:
        return f"<br><span class='small'>utility check: not run ({html.escape(entry.get('why', ''))})</span>"
    ci = change.get("ci95")
    interval = "" if ci is None else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    return (
        f"<br><span class='small'>utility check: {html.escape(entry['effect'])}, F1 {change['mean']:+.2f}"
        f"{interval} on {entry['n_held_out']} held-out images</span>"
    )


def _band_cell(band: dict | None) -> str:
    return "" if band is None else f"<br><span class='small'>{_fmt(band['lo'])}–{_fmt(band['hi'])}</span>"


def real_examples(images: torch.Tensor, labels: np.ndarray, num_classes: int, k: int = 10) -> list[torch.Tensor]:
    return [images[torch.from_numpy(np.flatnonzero(labels == c)[:k])] for c in range(num_classes)]

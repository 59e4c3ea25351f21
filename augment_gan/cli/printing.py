"""Where the CLI prints, and the printers more than one command uses.

Both consoles read no markup: paths and class names are the user's, and ``[...]`` in them
must print as written (a ``[/x]`` used to crash rich). Colour comes from ``Text`` and
:func:`styled` instead."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from augment_gan.evaluation.gate import GateThresholds
from augment_gan.evaluation.registry import gated_metrics

console = Console(markup=False)
err_console = Console(stderr=True, markup=False)


def styled(label: str, style: str, rest: str = "") -> Text:
    """``label`` in ``style``, then ``rest`` as plain text (never read as markup)."""
    return Text.assemble((label, style), rest)


def warn(message: str) -> None:
    """A warning line on stderr (stdout stays clean for --json)."""
    err_console.print(styled("warning:", "yellow", f" {message}"), soft_wrap=True)


def print_eval_table(report: dict[str, Any]) -> None:
    """One evaluated step: the per-class metrics table, the gate's reasons, the overall line."""
    gate = report.get("gate")
    table = Table(
        title=f"step {report['step']}: per-class metrics ({report['features']} features)", title_justify="left"
    )
    metrics = gated_metrics()
    for col in ("class", "n ref", *(m.short_column for m in metrics), "gate"):
        table.add_column(col, justify="left" if col in ("class", "gate") else "right")

    def f(v):
        return "–" if v is None else f"{v:.3g}"

    for name, r in report["classes"].items():
        verdict = ""
        if gate:
            verdict = Text("pass", "green") if gate["per_class"][name]["passed"] else Text("fail", "red")
        ref = f"{r['n_reference']}" + ("" if r["reference"] == "holdout" else "*")
        table.add_row(name, ref, *(f(r.get(m.name)) for m in metrics), verdict)
    console.print(table)
    fid_min = (gate or {}).get("thresholds", {}).get("fid_min_reference", GateThresholds().fid_min_reference)
    console.print(
        "n ref: real images compared against (* = the class's images the judge did not train on; "
        f"too few held out); the gate skips FID below {fid_min}. Thresholds are calibrated by what real "
        "images of each class's size score (the band in each reason).",
        style="dim",
    )
    for name, g in (gate or {}).get("per_class", {}).items():
        if not g["passed"]:
            console.print(Text.assemble("  ", (name, "red"), ": " + "; ".join(g["reasons"])))
        for warning in g.get("warnings", []):
            console.print(Text.assemble("  ", (name, "yellow"), f": {warning}"))
        if g.get("not_run"):
            console.print(Text.assemble("  ", name, ": not run at this size: " + "; ".join(g["not_run"])), style="dim")
    o, j = report["overall"], report["judge"]
    inception = f", IS {f(o['inception_score'])}" if "inception_score" in o else ""
    judge_is = f"; judge IS {f(o['judge_is'])} of {len(report['classes'])}" if "judge_is" in o else ""
    console.print(
        f"overall: FID {f(o['fid'])}{inception}, KID {f(o['kid'])} ± {f(o['kid_std'])}, P {f(o['precision'])}, "
        f"R {f(o['recall'])} (n={o['n_real']} real, {o['n_fake']} generated); judge accuracy on real "
        f"images it did not train on {f(j['accuracy'])} (n={j['n']}){judge_is}; "
        f"{report['classes'][name]['n_fake']} samples per class.",
        highlight=False,
    )

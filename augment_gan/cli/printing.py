"""Where the CLI prints, and the printers more than one command uses."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from augment_gan.evaluation.gate import GateThresholds

console = Console()
err_console = Console(stderr=True)


def warn(message: str) -> None:
    """A warning line on stderr (stdout stays clean for --json)."""
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def print_eval_table(report: dict[str, Any]) -> None:
    """One evaluated step: the per-class metrics table, the gate's reasons, the overall line."""
    gate = report.get("gate")
    table = Table(title=f"step {report['step']}: per-class metrics ({report['features']} features)", title_justify="left")
    for col in ("class", "n ref", "FID", "KID", "P", "R", "cover", "consist", "copies", "gate"):
        table.add_column(col, justify="left" if col in ("class", "gate") else "right")

    def f(v):
        return "–" if v is None else f"{v:.3g}"

    for name, r in report["classes"].items():
        verdict = ""
        if gate:
            verdict = "[green]pass[/]" if gate["per_class"][name]["passed"] else "[red]fail[/]"
        ref = f"{r['n_reference']}" + ("" if r["reference"] == "holdout" else "*")
        table.add_row(name, ref, f(r["fid"]), f(r["kid"]), f(r["precision"]), f(r["recall"]), f(r["coverage"]),
                      f(r["class_consistency"]), f(r["copy_rate"]), verdict)
    console.print(table)
    fid_min = (gate or {}).get("thresholds", {}).get("fid_min_reference", GateThresholds.fid_min_reference)
    console.print("n ref: real images compared against (* = the class's images the judge did not train on; "
                  f"too few held out); the gate skips FID below {fid_min}. Thresholds are calibrated by what real "
                  "images of each class's size score (the band in each reason).", style="dim")
    for name, g in (gate or {}).get("per_class", {}).items():
        if not g["passed"]:
            console.print(f"  [red]{name}[/]: " + "; ".join(g["reasons"]), highlight=False)
        for warning in g.get("warnings", []):
            console.print(f"  [yellow]{name}[/]: {warning}", highlight=False)
    o, j = report["overall"], report["judge"]
    inception = f", IS {f(o['inception_score'])}" if "inception_score" in o else ""
    judge_is = f"; judge IS {f(o['judge_is'])} of {len(report['classes'])}" if "judge_is" in o else ""
    console.print(f"overall: FID {f(o['fid'])}{inception}, KID {f(o['kid'])} ± {f(o['kid_std'])}, P {f(o['precision'])}, "
                  f"R {f(o['recall'])} (n={o['n_real']} real, {o['n_fake']} generated); judge accuracy on real "
                  f"images it did not train on {f(j['accuracy'])} (n={j['n']}){judge_is}; "
                  f"{report['classes'][name]['n_fake']} samples per class.", highlight=False)

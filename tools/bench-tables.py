#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the benchmark tables of the docs from `cordon bench --json`, so they cannot drift.

Runs `cordon bench SUITE --json` RUNS times for every suite named by a marked region, then replaces
each region

    <!-- bench:SUITE -->
    ...anything...
    <!-- /bench -->

with a table; a region `<!-- bench-targets:SUITE -->` … `<!-- /bench-targets -->` gets the table of the
suite's targets (TARGETS below) read off the same runs (the regions `<!-- bench:example -->` and `<!-- bench:example_t1 -->` run the main example,
`examples/transformer [--threads 1] --json`, instead of a bench suite: its whole forward, backward and
training-step times): per figure the median over the runs of cordon's value, of the baseline's value and of
the ratio, the ratio's min-max over the runs (the run-to-run spread), and how many runs met the goal.
It prints the same spread summary on stdout.

Usage:
  tools/bench-tables.py [--tool build/release/tools/cordon] [--example build/release/examples/transformer]
                       [--runs 3] [--save DIR] [--load DIR] FILE.md...

--save DIR keeps each run's JSON lines (DIR/SUITE.N.jsonl) and the 1-minute load average read before
and after the run (DIR/SUITE.N.load); --load DIR rebuilds the tables from such files instead of running
the benchmarks. The table's introduction gives the load averages' range. Build the tool with the release preset first:
  cmake --preset release -B build/release && cmake --build build/release -j2 --target cordon_cli example_transformer
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap

REGION = re.compile(r"(<!-- bench:([a-z0-9_]+) -->\n)(.*?)(<!-- /bench -->)", re.S)


def load_average():
    """The 1-minute load average (Linux /proc/loadavg), or None where it cannot be read."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def suite_command(tool, example, suite):
    """The command whose JSON lines make the suite's table: the main example for `example`."""
    if suite == "example":
        out = os.path.join(tempfile.gettempdir(), f"bench-tables-adapter-{os.getpid()}.safetensors")
        return [example, "--json", "--out", out]
    if suite == "example_t1":
        out = os.path.join(tempfile.gettempdir(), f"bench-tables-adapter-{os.getpid()}.safetensors")
        return [example, "--threads", "1", "--json", "--out", out]
    return [tool, "bench", suite, "--json"]


def command_text(suite):
    if suite.startswith("example"):
        return "examples/transformer" + (" --threads 1" if suite == "example_t1" else "") + " --json"
    return f"cordon bench {suite} --json"


def run_suite(cmd, suite, runs, save):
    results = []
    for n in range(runs):
        print(f"bench-tables: {suite} run {n + 1}/{runs}", file=sys.stderr, flush=True)
        before = load_average()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        if "--out" in cmd and os.path.exists(cmd[cmd.index("--out") + 1]):
            os.remove(cmd[cmd.index("--out") + 1])
        loads = [x for x in (before, load_average()) if x is not None]
        if save:
            os.makedirs(save, exist_ok=True)
            with open(os.path.join(save, f"{suite}.{n + 1}.jsonl"), "w") as f:
                f.write(out)
            if loads:
                with open(os.path.join(save, f"{suite}.{n + 1}.load"), "w") as f:
                    f.write(" ".join(str(x) for x in loads) + "\n")
        results.append(parse(out))
        results[-1]["loads"] = loads
    return results


def load_suite(load, suite):
    results = []
    n = 1
    while os.path.exists(os.path.join(load, f"{suite}.{n}.jsonl")):
        with open(os.path.join(load, f"{suite}.{n}.jsonl")) as f:
            results.append(parse(f.read()))
        results[-1]["loads"] = []
        load_file = os.path.join(load, f"{suite}.{n}.load")
        if os.path.exists(load_file):
            with open(load_file) as f:
                results[-1]["loads"] = [float(x) for x in f.read().split()]
        n += 1
    if not results:
        sys.exit(f"bench-tables: no {suite}.N.jsonl in {load}")
    return results


def parse(text):
    figures, notes = {}, []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        obj = json.loads(line)
        if "note" in obj:
            notes.append(obj["note"])
        else:
            figures[obj["name"]] = obj
    return {"figures": figures, "notes": notes}


def goal_met(ratio, goal):
    m = re.match(r"\s*(<=|>=)\s*([0-9.]+)", goal or "")
    if not m or ratio is None:
        return None
    bound = float(m.group(2))
    return ratio <= bound if m.group(1) == "<=" else ratio >= bound


def fmt(x):
    if x is None:
        return ""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) >= 1 else f"{x:.3f}"


def load_text(runs):
    """The 1-minute load average read before and after each run, when recorded: on a shared machine it
    says how much the figures were disturbed (more than the CPU count: threads waited for a CPU)."""
    loads = [x for r in runs for x in r.get("loads", [])]
    if not loads:
        return ""
    return f"1-minute load average {fmt(min(loads))}-{fmt(max(loads))} during the runs. "


TIME_UNITS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def common_unit(rows):
    """(unit, factor per row): the bench picks a time unit per run (ns, us or ms, from the smaller of the
    two values), so runs of one figure may differ; times are brought to the unit of the largest median
    before taking medians across runs. Other units are used as printed."""
    units = [x["unit"] for x in rows]
    if len(set(units)) == 1 or not all(u in TIME_UNITS for u in units):
        return units[0], [1.0] * len(rows)
    largest = max(units, key=lambda u: TIME_UNITS[u])
    return largest, [TIME_UNITS[u] / TIME_UNITS[largest] for u in units]


def table(suite, runs, machine):
    names = []
    for r in runs:
        for name in r["figures"]:
            if name not in names:
                names.append(name)
    intro = (
        f"Generated by `tools/bench-tables.py` from {len(runs)} runs of `{command_text(suite)}` "
        f"(release preset), {datetime.date.today().isoformat()}; {machine}. Each run's figure is the median "
        f"of its samples; the table gives the median over the runs, the ratio's min-max over the runs "
        f"(run-to-run spread; the value's for a figure without a baseline), and in how many runs the goal "
        f"was met. {load_text(runs)}Do not edit by hand: "
        f"rerun the script.")
    lines = [
        textwrap.fill(intro, width=105),
        "",
        "| figure | cordon | baseline | baseline value | ratio (median) | ratio min-max | goal | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for name in names:
        rows = [r["figures"][name] for r in runs if name in r["figures"]]
        unit, factors = common_unit(rows)
        value = statistics.median(x["value"] * f for x, f in zip(rows, factors))
        base = rows[0].get("baseline")
        ratios = [x["ratio"] for x in rows if "ratio" in x]
        goal = rows[0].get("goal")
        base_value = statistics.median(
            x["baseline_value"] * f for x, f in zip(rows, factors) if "baseline_value" in x) if base else None
        ratio = statistics.median(ratios) if ratios else None
        met = [goal_met(x, goal) for x in ratios] if goal else []
        met_text = f"{sum(1 for m in met if m)} of {len(met)}" if met and met[0] is not None else ""
        values = [x["value"] * f for x, f in zip(rows, factors)]
        spread = (f"{fmt(min(ratios))}-{fmt(max(ratios))}" if ratios else
                  f"{fmt(min(values))}-{fmt(max(values))} {unit}")
        lines.append(
            f"| {name} | {fmt(value)} {unit} | {base or ''} | "
            f"{(fmt(base_value) + ' ' + unit) if base else ''} | {('**' + fmt(ratio) + '**') if ratio is not None else ''} | "
            f"{spread} | {goal or ''} | {met_text} |")
        summary.append(f"  {suite}.{name}: {fmt(value)} {unit}" +
                       (f", ratio median {fmt(ratio)} (runs {', '.join(fmt(x) for x in ratios)})" if ratios else "") +
                       (f", goal {goal} met in {met_text}" if met_text else ""))
    notes = runs[-1]["notes"]
    if notes:
        lines.append("")
        lines.append(textwrap.fill("Notes the suite printed: " + "; ".join(notes) + ".", width=105))
    return "\n".join(lines) + "\n", summary


def machine_line(tool):
    try:
        info = subprocess.run([tool, "info"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "machine unknown"
    fields = dict(
        (k.strip(), v.strip()) for k, v in (line.split(":", 1) for line in info.splitlines() if ":" in line))
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    return (f"{fields.get('os', '?')}, {fields.get('cpus', '?')}, page {fields.get('page size', '?')}, "
            f"OPENBLAS_CORETYPE={coretype}")


# Issue targets of the compute suite, read off the same runs as its table: (target, [(label, figure,
# how)]), how = "ratio" (the ratio as printed: cordon time / baseline time), "speed" (its inverse),
# "value" (cordon's value), or "scale:OTHER" (OTHER's value / this figure's value: the 2-thread speed-up
# when OTHER is the 1-thread line). Each entry prints the median over the runs and the runs' min-max.
TARGETS = {
    "compute": [
        ("sgemm, 1 thread, >= 0.8x OpenBLAS's speed", [
            (f"{n}", f"sgemm/{n}x{n}x{n}/t1/built-in/vs OpenBLAS sgemm", "speed") for n in (512, 1024, 2048)]),
        ("sgemm, 2 threads scale >= 1.8x", [
            (f"{n}", f"sgemm/{n}x{n}x{n}/t2/built-in/vs OpenBLAS sgemm",
             f"scale:sgemm/{n}x{n}x{n}/t1/built-in/vs OpenBLAS sgemm") for n in (512, 1024, 2048)]),
        ("decode M = 1 >= 0.9x read bandwidth", [
            ("1 thread", "gemv/1x4096x4096/t1/built-in/vs read bandwidth", "speed")]),
        ("M = 8 >= OpenBLAS sgemm", [
            ("1 thread", "matmul/8x4096x4096/t1/built-in/vs OpenBLAS sgemm", "speed"),
            ("2 threads", "matmul/8x4096x4096/t2/built-in/vs OpenBLAS sgemm", "speed")]),
        ("bf16 decode >= 1.8x the f32 decode", [
            (f"{lay} {t}", f"decode_bf16/1x4096x4096{suf}/t{t[0]}/speedup over f32", "value")
            for lay, suf in (("B", ""), ("Wt", "-Wt")) for t in ("1 thread", "2 threads")]),
        ("softmax 512x4096, 1 thread, >= 2x oneDNN's speed", [
            ("", "softmax/512x4096/t1/vs oneDNN", "speed")]),
        ("RMSNorm, LayerNorm >= 0.85x read bandwidth, 1 thread", [
            (f"{op} {sh}", f"{op}/{sh}/t1/vs read bandwidth", "speed")
            for op in ("rms_norm", "layer_norm") for sh in ("512x4096", "4096x4096")]),
        ("LayerNorm, 1 thread, >= 1.5x oneDNN's speed", [
            (sh, f"layer_norm/{sh}/t1/vs oneDNN", "speed") for sh in ("512x4096", "4096x4096")]),
        ("(4,16,1024), 2 threads: softmax <= 5 us, RMSNorm <= 5 us, LayerNorm <= 2.4 us", [
            ("softmax", "softmax/4x16x1024/t2/vs oneDNN", "value"),
            ("RMSNorm", "rms_norm/4x16x1024/t2/vs plain C", "value"),
            ("LayerNorm", "layer_norm/4x16x1024/t2/vs oneDNN", "value")]),
        ("LoRA adapter (4,16,512) rank 8, 2 threads, <= 5.8 us", [
            ("2 threads", "lora_adapter/4x16x512 r8/t2/built-in/vs OpenBLAS sgemm", "value"),
            ("1 thread", "lora_adapter/4x16x512 r8/t1/built-in/vs OpenBLAS sgemm", "value")]),
        ("backward <= 2.5x its forward (time ratio)", [
            (f"{op} {sh} t{t}", f"{op}_bwd/{sh}/t{t}/vs forward", "ratio")
            for op in ("softmax", "rms_norm", "layer_norm") for sh in ("512x4096", "4x16x1024") for t in (1, 2)] + [
            (f"attention 1x8x512x64 causal t{t}", f"attention_bwd/1x8x512x64 c/t{t}/vs forward", "ratio")
            for t in (1, 2)]),
        ("an op on a 1-element tensor; the pool's dispatch", [
            ("add", "add/1 element/t1/vs none", "value"),
            ("rms_norm", "rms_norm/1 element/t1/vs none", "value"),
            ("dispatch", "pool_dispatch/2 chunks/t2/vs direct call", "value")]),
    ],
}
TARGET_REGION = re.compile(r"(<!-- bench-targets:([a-z0-9_]+) -->\n)(.*?)(<!-- /bench-targets -->)", re.S)


def targets_table(suite, runs):
    """The table of the suite's targets, each figure as the median over the runs and their min-max."""
    def per_run(name, how):
        out = []
        for r in runs:
            f = r["figures"]
            if name not in f:
                continue
            x = f[name]
            if how == "value":
                out.append((x["value"], x["unit"]))
            elif how == "ratio" and "ratio" in x:
                out.append((x["ratio"], "x"))
            elif how == "speed" and x.get("ratio"):
                out.append((1.0 / x["ratio"], "x"))
            elif how.startswith("scale:") and how[6:] in f and f[how[6:]]["unit"] == x["unit"]:
                out.append((f[how[6:]]["value"] / x["value"], "x"))
        return out
    lines = [f"| target | figure: median over {len(runs)} runs (min-max) |", "|---|---|"]
    for target, entries in TARGETS.get(suite, []):
        cells = []
        for label, name, how in entries:
            xs = per_run(name, how)
            if not xs:
                cells.append(f"{label}: not measured")
                continue
            vals = [v for v, _ in xs]
            unit = xs[0][1]
            unit_text = "x" if unit == "x" else " " + unit
            cells.append(f"{label + ': ' if label else ''}{fmt(statistics.median(vals))}{unit_text} "
                         f"({fmt(min(vals))}-{fmt(max(vals))})")
        lines.append(f"| {target} | {'; '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tool", default="build/release/tools/cordon")
    ap.add_argument("--example", default="build/release/examples/transformer")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--save")
    ap.add_argument("--load")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    texts = {f: open(f).read() for f in args.files}
    suites = []
    for text in texts.values():
        for m in list(REGION.finditer(text)) + list(TARGET_REGION.finditer(text)):
            if m.group(2) not in suites:
                suites.append(m.group(2))
    if not suites:
        sys.exit("bench-tables: no <!-- bench:SUITE --> region in " + ", ".join(args.files))
    machine = machine_line(args.tool)
    tables, target_tables = {}, {}
    for suite in suites:
        runs = load_suite(args.load, suite) if args.load else run_suite(
            suite_command(args.tool, args.example, suite), suite, args.runs, args.save)
        tables[suite], summary = table(suite, runs, machine)
        target_tables[suite] = targets_table(suite, runs)
        print(f"{suite}: {len(runs)} runs. {load_text(runs)}")
        print("\n".join(summary))
    for f, text in texts.items():
        new = REGION.sub(lambda m: m.group(1) + tables[m.group(2)] + m.group(4), text)
        new = TARGET_REGION.sub(lambda m: m.group(1) + target_tables[m.group(2)] + m.group(4), new)
        if new != text:
            with open(f, "w") as out:
                out.write(new)
            print(f"bench-tables: updated {f}")


if __name__ == "__main__":
    main()

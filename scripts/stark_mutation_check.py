#!/usr/bin/env python3
"""Mutation check of the segment AIR (issue 33, item 8).

For each constraint statement in `SegmentAir::eval` and `eval_tree`
(stark/src/segment_air/air.rs), disable it (wrap it in `if false { ... }`, which keeps
the code compiling the same way), run the trace-forgery tests, and record whether
at least one test failed. A constraint that no test catches "survived": either it
is not load-bearing, or no forgery targets it. The file is always restored, also on
Ctrl-C or SIGTERM.

Usage:
  scripts/stark_mutation_check.py [--list] [--only 3,7,12] [--start N] [--limit N]
                                  [--minutes M] [--existing]

  --list      print the constraint sites and exit
  --only      run these sites only (numbers from --list)
  --start     first site to run; --limit: how many
  --minutes   stop starting new mutants after this many minutes
  --existing  also run the existing `segment_air` tests (slower)

Prints a table: site, line, constraint, result (CAUGHT by which tests, SURVIVED,
or BUILD-ERROR).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AIR = os.path.join(ROOT, "crates", "proof", "stark", "src", "segment_air", "air.rs")
MARK = " } // mutation-check"


def sites(text):
    """(start, end) offsets of each constraint statement inside the eval bodies."""
    out = []
    for fn in ("fn eval(&self, builder: &mut AB)", "fn eval_tree<"):
        start = text.index(fn)
        body = text.index("{", text.index(")", start) if fn.startswith("fn eval_tree") else start)
        # The body ends where its braces balance.
        depth, i = 0, body
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        end_body = i
        for m in re.finditer(r"^[ \t]*(builder(?=\s*\.)|self\.perm\b)", text[body:end_body], re.M):
            s = body + m.start(1)
            # The statement ends at the first ';' outside brackets.
            depth, j = 0, s
            while True:
                ch = text[j]
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                elif ch == ";" and depth == 0:
                    break
                j += 1
            out.append((s, j + 1))
    return out


def describe(text, s, e):
    line = text.count("\n", 0, s) + 1
    stmt = " ".join(text[s:e].split())
    stmt = re.sub(r"^builder\s*", "", stmt)
    return line, (stmt[:110] + "…") if len(stmt) > 111 else stmt


def run_tests(existing):
    cmd = ["cargo", "test", "-p", "ghostplane-stark", "--features", "test-utils",
           "--test", "trace_forgery"]
    if existing:
        cmd += ["--test", "segment_air"]
    env = dict(os.environ, CARGO_BUILD_JOBS=os.environ.get("CARGO_BUILD_JOBS", "2"))
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    out = p.stdout + p.stderr
    if "could not compile" in out or re.search(r"^error(\[E\d+\])?:", out, re.M) and \
            "test result" not in out:
        return "BUILD-ERROR", []
    failed = re.findall(r"^test (\S+) \.\.\. FAILED", out, re.M)
    if p.returncode != 0 and failed:
        return "CAUGHT", failed
    if p.returncode != 0:
        return "BUILD-ERROR", []
    return "SURVIVED", []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--limit", type=int, default=10**9)
    ap.add_argument("--minutes", type=float, default=10**9)
    ap.add_argument("--existing", action="store_true")
    args = ap.parse_args()

    text = open(AIR).read()
    if MARK in text:
        sys.exit("segment_air/air.rs still holds a mutant (" + MARK.strip() + "): restore it first")
    all_sites = sites(text)
    chosen = list(range(len(all_sites)))
    if args.only:
        chosen = [int(x) for x in args.only.split(",")]
    chosen = [k for k in chosen if k >= args.start][: args.limit]
    if args.list:
        for k, (s, e) in enumerate(all_sites):
            line, stmt = describe(text, s, e)
            print(f"{k:3} {line:5} {stmt}")
        return

    current = {"orig": None, "mutant": None}

    def restore():
        if current["mutant"] is None:
            return
        now = open(AIR).read()
        # Put back only the mutated statement, so concurrent edits elsewhere survive.
        open(AIR, "w").write(now.replace(current["mutant"], current["orig"], 1))
        current["mutant"] = None

    def on_signal(signum, _frame):
        restore()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    rows = []
    began = time.time()
    print(f"{'site':>4} {'line':>5}  {'result':<11} constraint  [tests that caught it]", flush=True)
    try:
        for k in chosen:
            if (time.time() - began) / 60 > args.minutes:
                print(f"-- time budget reached; {len(rows)} of {len(chosen)} sites run", flush=True)
                break
            text = open(AIR).read()
            s, e = sites(text)[k]
            line, stmt = describe(text, s, e)
            orig = text[s:e]
            mutant = "if false { " + orig + MARK
            current["orig"], current["mutant"] = orig, mutant
            open(AIR, "w").write(text[:s] + mutant + text[e:])
            t0 = time.time()
            try:
                result, failed = run_tests(args.existing)
            finally:
                restore()
            secs = time.time() - t0
            rows.append((k, line, result, stmt, failed))
            shown = ", ".join(failed[:3]) + (f" +{len(failed) - 3}" if len(failed) > 3 else "")
            print(f"{k:4} {line:5}  {result:<11} {stmt}  [{shown}] ({secs:.0f}s)", flush=True)
    finally:
        restore()
    caught = sum(1 for r in rows if r[2] == "CAUGHT")
    survived = [r for r in rows if r[2] == "SURVIVED"]
    print(f"\n{len(rows)} sites run: {caught} caught, {len(survived)} survived, "
          f"{len(rows) - caught - len(survived)} build errors", flush=True)
    for r in survived:
        print(f"  SURVIVED site {r[0]} (line {r[1]}): {r[3]}")


if __name__ == "__main__":
    main()

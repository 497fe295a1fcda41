"""Runs several of the scripts beside this one in one interpreter (for the tour).

python3 run_all.py NAME:ARG [NAME:ARG ...] prints 'NAME elapsed: SECONDS' for each script
(or 'NAME failed: ERROR'); the scripts' own output is discarded.
"""
import contextlib
import io
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

for spec in sys.argv[1:]:
    name, _, arg = spec.partition(":")
    out = io.StringIO()
    sys.argv = [name + ".py"] + ([arg] if arg else [])
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(os.path.join(HERE, name + ".py"), run_name="__main__")
    except BaseException as e:  # report and go on with the next script
        print(f"{name} failed: {type(e).__name__}: {e}", flush=True)
        continue
    lines = [l for l in out.getvalue().splitlines() if l.startswith("elapsed: ")]
    if lines:
        print(f"{name} {lines[-1]}", flush=True)
    else:
        print(f"{name} failed: printed no time", flush=True)

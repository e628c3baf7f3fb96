#!/bin/sh
# A/B of CPU per request (bench/endpoint_cpu.py), interleaved so both trees see the same machine:
#   bench/endpoint_ab.sh /tmp/head/src 3 15 out.jsonl      (tree A = PYTHONPATH, tree B = this checkout)
set -e
A_SRC=$1; ROUNDS=${2:-3}; N=${3:-15}; OUT=${4:-/tmp/endpoint_ab.jsonl}
for i in $(seq "$ROUNDS"); do
  PYTHONPATH="$A_SRC" python bench/endpoint_cpu.py --rounds "$N" --json "$OUT" > /dev/null
  python bench/endpoint_cpu.py --rounds "$N" --json "$OUT" > /dev/null
done
python - "$OUT" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
srcs = list(dict.fromkeys(r["src"] for r in runs))
names = list(runs[0]["cpu"])
def pg(n, s):  # PostgreSQL backend CPU per request, mean over the runs
    v = [r["pg"][n] for r in runs if r["src"] == s and n in r.get("pg", {})]
    return statistics.mean(v) if v else 0.0
tag = [s.split('/src/')[0][-10:] for s in srcs]
print(f"{'CPU ms per request':30}" + "".join(f"{t + ' py':>14}{t + ' pg':>14}" for t in tag) + "  ratio py  ratio py+pg")
for n in names:
    med = [statistics.median([x for r in runs if r["src"] == s for x in r["cpu"].get(n, [])]) for s in srcs]
    pgs = [pg(n, s) for s in srcs]
    print(f"{n:30}" + "".join(f"{m:14.1f}{p:14.1f}" for m, p in zip(med, pgs)) +
          (f"  {med[-1] / med[0]:8.2f}  {(med[-1] + pgs[-1]) / (med[0] + pgs[0]):11.2f}" if len(med) > 1 else ""))
# the load mix of bench/http_load.py (users 8 : 8 : 4, task weights), the HTMX searches one per login
MIX = {"home [bureau]": 8 * 2 / 10, "search name [bureau]": 8 * 2 / 10, "search id [bureau]": 8 * 2 / 10,
       "search name HTMX [bureau]": 8 * 2 / 10, "dashboard [bureau]": 8 * 2 / 10,
       "home [township]": 8 * 2 / 8, "search name [township]": 8 * 2 / 8, "search id [township]": 8 * 2 / 8,
       "search id HTMX [township]": 8 * 2 / 8,
       "center queue [center]": 4 * 3 / 5, "center queue HTMX [center]": 4 * 1 / 5, "home [center]": 4 * 1 / 5}
if all(n in names for n in MIX):
    w = sum(MIX.values())
    mix = [sum(MIX[n] * statistics.median([x for r in runs if r["src"] == s for x in r["cpu"][n]]) for n in MIX) / w
           for s in srcs]
    mpg = [sum(MIX[n] * pg(n, s) for n in MIX) / w for s in srcs]
    print(f"{'weighted by the load mix':30}" + "".join(f"{m:14.1f}{p:14.1f}" for m, p in zip(mix, mpg)) +
          (f"  {mix[-1] / mix[0]:8.2f}  {(mix[-1] + mpg[-1]) / (mix[0] + mpg[0]):11.2f}" if len(mix) > 1 else ""))
print("load averages:", " ".join(f"{r['load']:.1f}" for r in runs))
PY

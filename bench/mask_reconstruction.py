"""How many ID numbers fit what a role without the unmask privilege sees (issue 8 §2), per person.

The attacker knows the birth date, sex and county shown beside the masked number and enumerates every
sequence whose check character agrees with the visible characters. Printed side by side: the old mask
(region and last four kept), the first-two-and-last-one mask, and the rule now in core/personal.py.

    .venv/bin/python bench/mask_reconstruction.py [people]
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time

from yigongti.core.idcard import check_char, make_id_number
from yigongti.core.personal import mask_id_number


def candidates(masked: str, region: str, birth: dt.date, sex: str) -> int:
    n = 0
    head = f"{region}{birth:%Y%m%d}"
    for seq in range(1 if sex == "M" else 0, 1000, 2):
        first17 = f"{head}{seq:03d}"
        number = first17 + check_char(first17)
        if all(m == "*" or m == c for m, c in zip(masked, number, strict=True)):
            n += 1
    return n


MASKS = {
    "old: region + last four": lambda n: n[:6] + "*" * 8 + n[-4:],
    "first two + last one": lambda n: n[:2] + "*" * 15 + n[-1],
    "now (core.personal)": mask_id_number,
}


def main(people: int = 2000) -> None:
    rng = random.Random(8)
    pop = []
    for _ in range(people):
        sex = rng.choice("MF")
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(365 * 90))
        pop.append((make_id_number("431127", birth, rng.randrange(500), sex), birth, sex))
    t0 = time.perf_counter()
    print(f"{people} people, region, birth date and sex known to the attacker")
    print(f"{'mask':28} {'min':>6} {'median':>8} {'rebuilt uniquely':>18}")
    for label, mask in MASKS.items():
        counts = [candidates(mask(n), n[:6], b, s) for n, b, s in pop]
        unique = sum(1 for c in counts if c == 1)
        print(f"{label:28} {min(counts):6d} {statistics.median(counts):8.0f} {unique:12d} / {people}")
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

"""``make bench``: slotwise's speed figures, one ``name: value unit`` line each.

Every ratio is measured in the same run against a baseline, so figures can
be compared between versions and machines.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scenario
from bench.naive_slots import naive_slots
from slotwise.scheduling import find_slots


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def core_figures(runs: int) -> dict[str, tuple[float, str]]:
    calendar = scenario.resource()

    def query():
        return find_slots(
            scenario.SERVICE,
            [[calendar]],
            first=scenario.FIRST,
            last=scenario.LAST,
            zone=scenario.CUSTOMER_ZONE,
            now=scenario.NOW,
        )

    def naive():
        return naive_slots(
            scenario.SERVICE,
            calendar,
            scenario.FIRST,
            scenario.LAST,
            scenario.CUSTOMER_ZONE,
            scenario.NOW,
        )

    days = query()
    expected = naive()
    got = {d.date: [(s.start, s.end) for s in d.slots] for d in days if d.slots}
    if got != expected:
        raise SystemExit("bench: the core and the naive finder disagree on the scenario")
    slots = sum(len(d.slots) for d in days)

    def formatted():
        return [
            (s.start_iso(), s.end_iso(), s.start_utc_iso(), s.end_utc_iso())
            for d in query()
            for s in d.slots
        ]

    core = statistics.median(timed(query, runs))
    with_format = statistics.median(timed(formatted, runs))
    base = statistics.median(timed(naive, max(runs // 20, 5)))
    return {
        "slots_30d_count": (slots, "slots"),
        "slots_30d_median_ms": (round(core, 3), "ms"),
        "slots_30d_formatted_median_ms": (round(with_format, 3), "ms"),
        "slots_30d_naive_median_ms": (round(base, 3), "ms"),
        "slots_30d_vs_naive": (round(base / core, 1), "x"),
    }


def main() -> None:
    runs = int(os.environ.get("SLOTWISE_BENCH_RUNS", "500"))
    figures = core_figures(runs)
    for name, (value, unit) in figures.items():
        print(f"{name}: {value} {unit}", flush=True)
    if os.environ.get("SLOTWISE_BENCH_HTTP", "1") != "0":
        from bench.slots_http import measure

        for name, value in measure(runs=max(runs // 2, 50)).items():
            print(f"{name}: {round(value, 2)} ms", flush=True)

        from bench import book_http

        for name, (value, unit) in book_http.measure().items():
            print(f"{name}: {value} {unit}", flush=True)

        from bench import outbox

        for name, (value, unit) in outbox.measure().items():
            print(f"{name}: {value} {unit}", flush=True)


if __name__ == "__main__":
    main()

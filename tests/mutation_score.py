"""Summarise the last ``mutmut run``: ``make mutation`` prints this last.

Detected mutants are those the tests killed, plus those that made the tests
time out or crash; missed mutants are those that survived, that no selected
test covers, or whose result was suspicious. The score is detected over
detected plus missed.
"""

import json
import subprocess
import sys
from pathlib import Path

STATS = Path("mutants") / "mutmut-cicd-stats.json"


def main():
    subprocess.run(
        [sys.executable, "-m", "mutmut", "export-cicd-stats"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stats = json.loads(STATS.read_text())
    detected = stats["killed"] + stats["timeout"] + stats["segfault"]
    missed = stats["survived"] + stats["no_tests"] + stats["suspicious"]
    print(
        f"mutants: {detected + missed} checked, {stats['killed']} killed, "
        f"{stats['timeout']} timed out, {stats['segfault']} crashed, "
        f"{stats['survived']} survived, {stats['no_tests']} not covered, "
        f"{stats['suspicious']} suspicious"
    )
    score = 100.0 * detected / max(detected + missed, 1)
    print(f"mutation score: {score:.1f}%")


if __name__ == "__main__":
    main()

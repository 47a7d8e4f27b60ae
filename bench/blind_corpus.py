"""Measure the bundled packs on the blind corpus (tests/corpus/blind/).

That corpus was written from the regulations and the rule taxonomy only, without reading the
packs or the tuned corpus, to estimate how the packs generalise. Same output as
corpus_report.py:

    python3 bench/blind_corpus.py            # per-rule table, overall recall, false-positive rate
    python3 bench/blind_corpus.py --misses   # also every miss and false positive
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_report  # noqa: E402

if __name__ == "__main__":
    sys.exit(corpus_report.main(["--blind", *sys.argv[1:]]))

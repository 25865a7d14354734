"""Writes the small data sets the recurrent examples train on, under examples/data/.

- corpus_ids.npy, corpus_next_ids.npy, corpus_vocabulary.txt: examples/data/corpus.txt
  (the GNU GPL v3 text, copied verbatim from Debian's /usr/share/common-licenses/GPL-3;
  its licence permits verbatim copies) as lower-case word and punctuation tokens,
  numbered by frequency (ties alphabetically; id 0 is kept for padding), cut into
  sequences of 32 tokens: x is a sequence, y the same sequence shifted by one token
  (the next word at every step), both int32 [N, 32].
- sequences_x.npy, sequences_y.npy: a synthetic task for examples/simple_rnn.dlm.
  x is float32 [256, 16, 10] standard normal; the label at step t is whether the
  running sum of feature 0 up to t is positive, as one-hot float32 [256, 16, 2],
  so a model needs its recurrence to solve it.

Deterministic: the same files on every run (fixed seed, no timestamps).
Usage: python3 scripts/make_example_data.py
"""
import collections
import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
SEQUENCE = 32


def corpus():
    text = (DATA / "corpus.txt").read_text(encoding="utf-8").lower()
    tokens = re.findall(r"[a-z0-9']+|[.,;:()\"-]", text)
    counts = collections.Counter(tokens)
    vocabulary = sorted(counts, key=lambda word: (-counts[word], word))
    ids = {word: index + 1 for index, word in enumerate(vocabulary)}
    stream = np.array([ids[token] for token in tokens], dtype=np.int32)
    count = (len(stream) - 1) // SEQUENCE
    x = stream[: count * SEQUENCE].reshape(count, SEQUENCE)
    y = stream[1 : count * SEQUENCE + 1].reshape(count, SEQUENCE)
    np.save(DATA / "corpus_ids.npy", x)
    np.save(DATA / "corpus_next_ids.npy", y)
    (DATA / "corpus_vocabulary.txt").write_text("<pad>\n" + "\n".join(vocabulary) + "\n", encoding="utf-8")
    print(f"corpus: {len(tokens)} tokens, {len(vocabulary)} distinct, {count} sequences of {SEQUENCE}")


def sequences():
    generator = np.random.default_rng(20261203)
    x = generator.standard_normal((256, 16, 10)).astype(np.float32)
    positive = np.cumsum(x[:, :, 0], axis=1) > 0
    y = np.stack([~positive, positive], axis=-1).astype(np.float32)
    np.save(DATA / "sequences_x.npy", x)
    np.save(DATA / "sequences_y.npy", y)
    print(f"sequences: x {x.shape}, y {y.shape}, {positive.mean():.3f} positive")


if __name__ == "__main__":
    corpus()
    sequences()

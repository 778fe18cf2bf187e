"""Sentence vectors from all-MiniLM-L6-v2, run on CPU with ONNX Runtime and nothing downloaded.

Words the training set never used still land near words it did ("parcel" near "package",
"rude" near "unhelpful"), which is what lets a model trained on one kind of text hold up on
another. The int8 file and its tokenizer ship inside this package (``export.py`` made them);
a model records the file's SHA-256 and refuses to run on a different encoder.

Vectors are cached by text in a small SQLite file, so retraining after reviewers' corrections
encodes only the new messages.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
MODEL_FILE = HERE / "minilm-l6-int8.onnx"
TOKENIZER_FILE = HERE / "tokenizer.json"
DIMENSIONS = 384
MAX_TOKENS = 128  # subject and the opening of the new text: where the complaint is said
PROGRESS_EVERY = 64

Progress = Callable[[int], None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Encoder:
    """Text in, unit-length 384-dimensional vectors out; one ONNX session, loaded on first use.

    ``threads`` texts are encoded at once, each on one core (the session runs without the GIL).
    """

    def __init__(self, model_file: Path = MODEL_FILE, threads: int = 1, max_tokens: int = MAX_TOKENS) -> None:
        self.model_file = model_file
        self.threads = threads
        self.max_tokens = max_tokens

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.model_file)

    @property
    def identity(self) -> str:
        """What a cached vector depends on: the file, the token limit, one text per call."""
        return f"{self.sha256}:{self.max_tokens}:single"

    @cached_property
    def _session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return ort.InferenceSession(str(self.model_file), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    def warm_up(self) -> None:
        """Load the session and tokenizer now, so the first message does not wait for them."""
        self.encode(["warm up"])

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """One text at a time: the int8 model scales its activations per call, so a batch
        would make a message's vector depend on its neighbours. Alone, it is the same vector
        whatever else is being classified (and on one core, no slower for email)."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # A character cap before tokenizing keeps the cost per message bounded whatever its size.
        encodings = self._tokenizer.encode_batch([t[: self.max_tokens * 12] for t in texts])
        session = self._session

        def run(rows: range) -> None:
            for i in rows:
                ids = np.array([encodings[i].ids], dtype=np.int64)
                out[i] = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]

        chunks = [range(start, min(start + PROGRESS_EVERY, len(texts))) for start in range(0, len(texts), PROGRESS_EVERY)]
        if self.threads == 1:
            done = map(run, chunks)
        else:
            pool = ThreadPoolExecutor(self.threads)
            done = pool.map(run, chunks)
        try:
            for rows, _ in zip(chunks, done):
                if progress:
                    progress(len(rows))
        finally:
            if self.threads > 1:
                pool.shutdown()
        return out


SAVE_EVERY = 2048  # texts encoded between two commits of the cache


class EncodingCache:
    """Vectors already computed, keyed by the encoder and the text's SHA-256."""

    def __init__(self, path: Path, encoder: Encoder) -> None:
        self.path = path
        self.encoder = encoder

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # after retraining it holds customers' words: only its owner reads it
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        identity = self.encoder.identity
        keys = [hashlib.sha256(f"{identity}\0{t}".encode()).digest() for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            found: dict[bytes, bytes] = {}
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk))
            todo = list({k: i for i, k in enumerate(keys) if k not in found}.values())
            if progress and len(texts) > len(todo):
                progress(len(texts) - len(todo))
            for start in range(0, len(todo), SAVE_EVERY):  # Ctrl-C keeps what was encoded
                part = todo[start : start + SAVE_EVERY]
                vectors = self.encoder.encode([texts[i] for i in part], progress)
                rows = [(keys[i], v.tobytes()) for i, v in zip(part, vectors)]
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                db.commit()
                found.update(rows)
            for i, k in enumerate(keys):
                out[i] = np.frombuffer(found[k], dtype=np.float32)
        return out

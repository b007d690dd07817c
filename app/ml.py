"""XGBoost models: validating uploaded bytes, a per-process cache of loaded boosters, predictions.

Models are stored as XGBoost's own JSON or UBJSON documents, never pickles. Uploaded bytes are
first loaded in a short-lived child interpreter (`validate_model_bytes`): XGBoost's loader aborts
the whole process on some malformed input (an empty buffer does), and that must not take down a
web worker. Bytes that passed are loaded lazily in the process that predicts with them
(`BoosterCache`), one thread per prediction (nthread=1): a booster used before a fork hangs in the
child (OpenMP), so nothing is loaded at import time and a forked child never reuses its parent's
boosters.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from enum import StrEnum

import numpy as np
import xgboost as xgb

SUPPORTED_OBJECTIVE = "binary:logistic"
VALIDATION_TIMEOUT_SECONDS = 120
VALIDATION_MEMORY_BYTES = 4 * 1024**3
_INSPECTED_MAX = 256
_inspected: OrderedDict[str, dict] = OrderedDict()
_inspected_lock = threading.Lock()

# Runs in a fresh interpreter: reads model bytes on stdin, prints what the parent checks, as JSON.
_INSPECT_SCRIPT = """
import json, resource, sys
import numpy as np, xgboost as xgb
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
data = sys.stdin.buffer.read()
booster = xgb.Booster(params={"nthread": 1})
try:
    booster.load_model(bytearray(data))
    booster.set_param({"nthread": 1})
    n = booster.num_features()
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    names = booster.feature_names
    booster.feature_names = None
    out = booster.inplace_predict(np.zeros((1, n), dtype=np.float32)).reshape(-1).tolist() if n else []
except Exception as exc:
    print(json.dumps({"error": str(exc).strip().splitlines()[0][:300]}))
else:
    print(json.dumps({"num_features": n, "objective": objective, "feature_names": names, "outputs": len(out)}))
"""


class ModelFormat(StrEnum):
    """How a model's bytes are encoded (XGBoost's own formats only)."""

    UBJSON = "ubjson"
    JSON = "json"


class FeatureCountMismatch(ValueError):
    """The model expects another number (or other names) of features than declared."""


class FormatMismatch(ValueError):
    """The bytes are a valid XGBoost document of the other format than the declared model_format."""


def detect_format(data: bytes) -> ModelFormat | None:
    """JSON or UBJSON judged by the first bytes of an XGBoost model document (None for anything else)."""
    head = data.lstrip(b" \t\r\n")[:2]
    if head[:1] != b"{" or len(head) < 2:
        return None
    return ModelFormat.JSON if head[1:2] in b'"}' else ModelFormat.UBJSON


def validate_model_bytes(data: bytes, model_format: str, feature_names: Sequence[str]) -> int:
    """Check that data is a binary:logistic XGBoost model taking exactly feature_names; returns num_features.

    Raises FeatureCountMismatch when the feature count or names differ, FormatMismatch when the bytes are
    the other format, ValueError when the bytes are not such a model. The bytes are never unpickled: only
    XGBoost's JSON/UBJSON loader reads them, in a child process.
    """
    found = detect_format(data)
    if found is None:
        raise ValueError("Not an XGBoost model: expected the bytes of Booster.save_raw('ubj') or a JSON model "
                         "(pickles and other formats are refused).")
    if found != model_format:
        raise FormatMismatch(f"The bytes are a {found} document but model_format is {model_format!r}.")
    info = _inspect(data)
    if info["objective"] != SUPPORTED_OBJECTIVE or info["outputs"] != 1:
        raise ValueError(f"Only {SUPPORTED_OBJECTIVE} models (one probability) are supported; this model's "
                         f"objective is {info['objective']!r}.")
    _check_features(info["num_features"], info["feature_names"], list(feature_names))
    return info["num_features"]


def _inspect(data: bytes) -> dict:
    """What the child loader reports about data; successful reports are remembered by content hash."""
    key = hashlib.sha256(data).hexdigest()
    with _inspected_lock:
        if key in _inspected:
            return _inspected[key]
    info = _inspect_in_child(data)
    with _inspected_lock:
        _inspected[key] = info
        while len(_inspected) > _INSPECTED_MAX:
            _inspected.popitem(last=False)
    return info


def _inspect_in_child(data: bytes) -> dict:
    command = [sys.executable, "-I", "-c", _INSPECT_SCRIPT, str(VALIDATION_MEMORY_BYTES)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=VALIDATION_TIMEOUT_SECONDS,
                              env=env, check=False)
    except subprocess.TimeoutExpired:
        raise ValueError("Not a usable XGBoost model: loading it took too long.") from None
    try:
        info = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ValueError(f"Not a valid XGBoost model: the loader failed (exit status {done.returncode}).") from None
    if "error" in info:
        reason = re.sub(r"^\[[\d:]+\]\s+\S+:\d+:\s*", "", info["error"])  # drop XGBoost's "[time] file:line:"
        raise ValueError(f"Not a valid XGBoost model: {reason}")
    return info


def _check_features(num_features: int, model_names: list[str] | None, declared: list[str]) -> None:
    if num_features != len(declared):
        raise FeatureCountMismatch(
            f"The model takes {num_features} features but {len(declared)} feature_names were given.")
    if model_names is not None and model_names != declared:
        raise FeatureCountMismatch(
            f"The model was trained with features {model_names}; feature_names must list the same, in order.")


def load_booster(data: bytes) -> xgb.Booster:
    """Load validated model bytes into a single-threaded Booster (inputs are positional, names dropped)."""
    booster = xgb.Booster(params={"nthread": 1})
    booster.load_model(bytearray(data))
    booster.set_param({"nthread": 1})
    booster.feature_names = None
    booster.feature_types = None
    return booster


def predict_probability(booster: xgb.Booster, features: Sequence[float]) -> float:
    """A binary:logistic model's probability (0..1) for one feature vector, in the model's feature order."""
    expected = booster.num_features()
    if len(features) != expected:
        raise ValueError(f"The model takes {expected} features, {len(features)} were given.")
    row = np.asarray([features], dtype=np.float32)
    return float(booster.inplace_predict(row, validate_features=False).reshape(-1)[0])


class BoosterCache:
    """Per-process, thread-safe LRU of loaded Boosters keyed by (model_id, sha256), filled lazily."""

    def __init__(self, max_size: int = 32):
        self.max_size = max_size
        self._lock = threading.Lock()
        self._boosters: OrderedDict[tuple[int, str], xgb.Booster] = OrderedDict()
        self._metadata: dict[int, dict] = {}
        self._pid = os.getpid()

    def get(self, model_id: int, sha256: str, load_bytes: Callable[[], bytes]) -> xgb.Booster:
        """The cached Booster for this model version, loading it from load_bytes() on first use."""
        key = (model_id, sha256)
        with self._lock:
            self._forget_parent()
            booster = self._boosters.get(key)
            if booster is not None:
                self._boosters.move_to_end(key)
                return booster
            booster = load_booster(load_bytes())
            self._boosters[key] = booster
            while len(self._boosters) > self.max_size:
                self._boosters.popitem(last=False)
            return booster

    def metadata(self, model_id: int, load: Callable[[], dict]) -> dict:
        """A model's stored metadata (feature names, sha256), read once per process: a model row never changes
        (a new upload is a new id; a delete is refused while an active workflow uses it). A failing load (the
        model is unknown) is not remembered."""
        with self._lock:
            self._forget_parent()
            if model_id in self._metadata:
                return self._metadata[model_id]
        found = load()
        with self._lock:
            self._metadata[model_id] = found
        return found

    def discard(self, model_id: int) -> None:
        """Drop every cached version of a model (e.g. after deleting it)."""
        with self._lock:
            self._metadata.pop(model_id, None)
            for key in [k for k in self._boosters if k[0] == model_id]:
                del self._boosters[key]

    def _forget_parent(self) -> None:
        """After a fork, never use boosters loaded by the parent process."""
        if self._pid != os.getpid():
            self._boosters.clear()
            self._metadata.clear()
            self._pid = os.getpid()

"""Typed results: frozen dataclasses built from the library's JSON, each
with ``to_dict()`` giving back every field the library reported."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

Json = Dict[str, Any]


@dataclass(frozen=True)
class Face:
    """A detected face in image pixels: box ``(x, y, w, h)``, detector
    confidence 0..1 and six keypoints ``(x, y)`` (eyes, nose, mouth, ears)."""

    bbox: Tuple[float, float, float, float]
    score: float
    keypoints: List[Tuple[float, float]]
    _raw: Json = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _of(cls, d: Json) -> "Face":
        b = d["bbox"]
        return cls(
            bbox=(b["x"], b["y"], b["w"], b["h"]),
            score=d["score"],
            keypoints=[(p["x"], p["y"]) for p in d["keypoints"]],
            _raw=d,
        )

    def to_dict(self) -> Json:
        return copy.deepcopy(self._raw)


@dataclass(frozen=True)
class Match:
    """A 1:1 decision: cosine similarity, 0-100 score, the threshold at the
    target FAR and whether the two faces are the same person."""

    similarity: float
    score: float
    threshold: float
    same_person: bool
    far_target: float
    _raw: Json = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _of(cls, d: Json) -> "Match":
        return cls(d["similarity"], d["score"], d["threshold"], d["same_person"], d["far_target"], d)

    def to_dict(self) -> Json:
        return copy.deepcopy(self._raw)


@dataclass(frozen=True)
class Quality:
    """Capture quality 0-100 (``score``) and its parts, each 0..1."""

    score: float
    size: float
    sharpness: float
    exposure: float
    pose: float
    eyes: float

    @classmethod
    def _of(cls, d: Json) -> "Quality":
        return cls(d["score"], d["size"], d["sharpness"], d["exposure"], d["pose"], d["eyes"])

    def to_dict(self) -> Json:
        return {
            "score": self.score, "size": self.size, "sharpness": self.sharpness,
            "exposure": self.exposure, "pose": self.pose, "eyes": self.eyes,
        }


@dataclass(frozen=True)
class Timer:
    """A ring the client fills: the answer window (``answer_window``) or the
    hold until the release cue (``hold``), from ``from_ms`` to ``to_ms`` (ms
    since the session's first frame); ``sound``: play a tone or a vibration
    at ``to_ms`` (the eyes are closed)."""

    kind: str
    from_ms: int
    to_ms: int
    sound: bool


@dataclass(frozen=True)
class Progress:
    """What to show after a frame: the state, the prompt text and its key in
    the prompt table (``realface.prompts()``), the ring, the step (k of
    ``actions_total``), the prompted action with when it was shown and its
    answer window, and the timer ring (ms since the session's first frame)."""

    state: str
    prompt: str
    ring: float
    action: Optional[str]
    prompt_at_ms: Optional[int]
    answer_window_ms: Optional[Tuple[int, int]]
    actions_done: int
    actions_total: int
    faces: int
    quality: Optional[float]
    prompt_key: str = ""
    step: int = 0
    timer: Optional[Timer] = None

    @classmethod
    def _of(cls, d: Json) -> "Progress":
        w = d.get("answer_window_ms")
        t = d.get("timer")
        return cls(
            d["state"], d["prompt"], d["ring"], d.get("action"), d.get("prompt_at_ms"),
            (w[0], w[1]) if w else None, d["actions_done"], d["actions_total"], d["faces"],
            d.get("quality"), d.get("prompt_key", ""), d.get("step", 0),
            Timer(t["kind"], t["from_ms"], t["to_ms"], t["sound"]) if t else None,
        )

    def to_dict(self) -> Json:
        d = dict(self.__dict__)
        if self.answer_window_ms is not None:
            d["answer_window_ms"] = list(self.answer_window_ms)
        if self.timer is not None:
            d["timer"] = dict(self.timer.__dict__)
        return d


@dataclass(frozen=True)
class Reason:
    """Why a session failed: a stable code name and a detail."""

    code: str
    message: str


@dataclass(frozen=True)
class ActionOutcome:
    """One requested action: whether it answered its prompt, and when (ms)."""

    action: str
    passed: bool
    prompt_ms: Optional[int]
    onset_ms: Optional[int]
    at_ms: Optional[int]


@dataclass(frozen=True)
class AuthResult:
    """A session's verdict (``auth_state`` SUCCESS, FAIL or PROCESSING),
    liveness score, quality, similarity, threshold, the photo (base64 JPEG)
    and why it failed. ``to_dict()`` holds every field the library reported
    (also the flat-motion and passive evidence)."""

    certify_id: str
    auth_state: str
    client_code: int
    score: Optional[float]
    quality: Optional[float]
    similarity: Optional[float]
    threshold: float
    far_target: float
    photo_kind: str
    photo: Optional[str]
    actions: List[ActionOutcome]
    reasons: List[Reason]
    frames: int
    face_frames: int
    duration_ms: int
    _raw: Json = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def _of(cls, d: Json) -> "AuthResult":
        return cls(
            certify_id=d["certify_id"], auth_state=d["auth_state"], client_code=d["client_code"],
            score=d.get("score"), quality=d.get("quality"), similarity=d.get("similarity"),
            threshold=d["threshold"], far_target=d["far_target"], photo_kind=d["photo_kind"],
            photo=d.get("photo"),
            actions=[
                ActionOutcome(a["action"], a["passed"], a.get("prompt_ms"), a.get("onset_ms"),
                              a.get("at_ms"))
                for a in d["actions"]
            ],
            reasons=[Reason(r["code"], r["message"]) for r in d["reasons"]],
            frames=d["frames"], face_frames=d["face_frames"], duration_ms=d["duration_ms"],
            _raw=d,
        )

    @property
    def passed(self) -> bool:
        """``auth_state == "SUCCESS"``."""
        return self.auth_state == "SUCCESS"

    def to_dict(self) -> Json:
        return copy.deepcopy(self._raw)

"""A session over a shared clip reaches the CLI's verdict, for the same
reasons; the prompt schedule shows in the progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import realface
from conftest import run_cli

NONCE = "0123456789abcdef0123456789abcdef"


def frames(clip: Path) -> List[Path]:
    return sorted(clip.glob("frame_*.jpg"))


# apfol_real2 holds its turn to the left from 1.0 s and lets go at 1.6 s:
# the release cue of a held answer is placed at 1.3 s
RELEASE_MS = 1300


def cli_verify(cli: Path, clip: Path, action: str, delay: int) -> Dict[str, Any]:
    out: Dict[str, Any] = run_cli(cli, [
        "verify", "--json", "--actions", action, "--prompt-delays-ms", str(delay),
        "--release-at-ms", str(RELEASE_MS),
        "--photo", "Y_M", "--reference", str(clip / "frame_0001.jpg"), "--frames", str(clip),
    ])
    return out


def py_verify(engine: realface.Engine, clip: Path, action: str, delay: int,
              ) -> "tuple[realface.AuthResult, List[realface.Progress]]":
    s = realface.Session(
        engine, clip / "frame_0001.jpg", actions=[action], nonce=NONCE,
        options={"photo": "Y_M",
                 "prompt": {"delays_ms": [delay], "release_at_ms": [RELEASE_MS]}},
    )
    assert s.actions == [action]
    seen = []
    for i, f in enumerate(frames(clip)):
        if s.finished:
            break
        seen.append(s.push(engine.load(f), i * 100))  # the folder's 10 fps
    return s.finish(), seen


def same_verdict(py: realface.AuthResult, cli: Dict[str, Any]) -> None:
    assert py.auth_state == cli["auth_state"]
    assert py.client_code == cli["client_code"]
    assert [r.code for r in py.reasons] == [r["code"] for r in cli["reasons"]]
    assert [(a.action, a.passed, a.prompt_ms, a.at_ms) for a in py.actions] == [
        (a["action"], a["passed"], a["prompt_ms"], a["at_ms"]) for a in cli["actions"]]
    assert py.frames == cli["frames"] and py.face_frames == cli["face_frames"]
    if cli["similarity"] is None:
        assert py.similarity is None
    else:
        assert py.similarity is not None and abs(py.similarity - cli["similarity"]) <= 1e-6


def test_a_genuine_clip_passes_as_with_the_cli(engine: realface.Engine, data: Path,
                                               cli: Path) -> None:
    clip = data / "actions" / "apfol_real2"
    py, progress = py_verify(engine, clip, "turn_left", 500)
    want = cli_verify(cli, clip, "turn_left", 500)
    same_verdict(py, want)
    assert py.passed and py.photo_kind == "Y_M" and py.photo and len(py.photo) > 1000
    d = py.to_dict()
    assert d["auth_state"] == "SUCCESS" and "pad" in d and "flat_motion" in d
    # the prompt was shown at 500 ms, with its answer window
    prompted = [p for p in progress if p.action == "turn_left"]
    assert prompted and prompted[0].prompt_at_ms == 500 and prompted[0].state == "action"
    assert prompted[0].answer_window_ms is not None
    assert prompted[0].answer_window_ms[0] >= 500
    # the prompt table's key, the step and the answer-window ring
    assert prompted[0].prompt_key == "action.turn_left" and prompted[0].step == 1
    assert prompted[0].timer is not None and prompted[0].timer.kind == "answer_window"
    assert prompted[0].timer.from_ms == 500
    table = {e["key"]: e for e in realface.prompts()}
    assert table["action.turn_left"]["zhHans"] == "请向左转头"
    assert table[prompted[0].prompt_key]["en"] == prompted[0].prompt


def test_an_unanswered_prompt_fails_as_with_the_cli(engine: realface.Engine, data: Path,
                                                    cli: Path) -> None:
    clip = data / "actions" / "apfol_real2"
    py, _ = py_verify(engine, clip, "mouth_open", 500)
    want = cli_verify(cli, clip, "mouth_open", 500)
    same_verdict(py, want)
    assert py.auth_state == "FAIL" and [r.code for r in py.reasons] == ["ACTION_TIMEOUT"]


def test_a_nonce_draws_the_same_challenge_every_time(engine: realface.Engine,
                                                     samples: Path) -> None:
    draws = {tuple(realface.Session(engine, samples / "obama.jpg", actions=2, nonce=NONCE,
                                    certify_id="c1").actions) for _ in range(3)}
    assert len(draws) == 1 and len(next(iter(draws))) == 2
    s = realface.Session(engine, samples / "obama.jpg", actions=["blink"],
                         options={"record_evidence": True})
    assert s.result.auth_state == "PROCESSING"
    s.push(samples / "obama2.jpg", 0)
    s.finish()
    assert s.evidence().startswith(b"{")

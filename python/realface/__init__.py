"""realface: on-device real-person authentication.

Face match at a calibrated false-accept rate, prompted liveness sessions and
the offline evaluation, on ONNX Runtime, with the models bundled::

    import realface
    engine = realface.Engine()
    m = engine.compare("id_photo.jpg", "selfie.jpg")
    print(m.similarity, m.same_person)

Images are NumPy ``uint8`` HxWx3 arrays (RGB; ``bgr=True`` for OpenCV
frames), paths, or encoded image bytes. Errors are subclasses of
:class:`realface.Error` with a stable ``.code`` and ``.name``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from . import _realface
from ._errors import *  # noqa: F401,F403  (the exception classes)
from ._errors import Error, InvalidArgumentError
from ._runtime import ort_library
from ._types import ActionOutcome, AuthResult, Face, Match, Progress, Quality, Reason, Timer

__version__: str = _realface.__version__
ORT_VERSION: str = _realface.ORT_VERSION

ImageLike = Union[npt.NDArray[np.uint8], str, "os.PathLike[str]", bytes]
"""An image: uint8 HxWx3 array, path, or encoded bytes."""

ImageOrEmbedding = Union[ImageLike, npt.NDArray[np.float32]]
"""An image, or a 1-D embedding from :meth:`Engine.embed`."""


class Engine:
    """The models, loaded once (sha256 and shapes checked) and shared by any
    number of threads and sessions; inference releases the GIL.

    ``models``: a folder of model files instead of the bundled ones.
    ``matcher``: ``"w600k_mbf"`` (default), ``"permissive"``, ``"fused"``,
    ``"mobilefacenet"`` ... as the CLI's ``--matcher``. ``far``: the target
    false-accept rate of :meth:`compare` (thresholds from the shipped
    calibration). ``threads``: model sessions per model (for calls from
    several threads)."""

    def __init__(
        self,
        models: Optional[Union[str, "os.PathLike[str]"]] = None,
        matcher: Optional[str] = None,
        far: float = 1e-4,
        threads: int = 1,
    ) -> None:
        self._inner = _realface.Engine(
            ort_library(), None if models is None else os.fspath(models), matcher, far, threads
        )

    @property
    def matcher(self) -> str:
        """The matcher's name."""
        return str(self._inner.matcher)

    @property
    def far(self) -> float:
        """The target FAR of :meth:`compare`."""
        return float(self._inner.far)

    def load(self, path: Union[str, "os.PathLike[str]"]) -> npt.NDArray[np.uint8]:
        """An image file as a uint8 HxWx3 RGB array (EXIF orientation applied)."""
        return np.asarray(self._inner.load(os.fspath(path)), dtype=np.uint8)

    def detect(self, img: ImageLike, bgr: bool = False) -> List[Face]:
        """Every face the detector finds, largest confidence first."""
        return [Face._of(f) for f in json.loads(self._inner.detect(img, bgr))]

    def embed(self, img: ImageLike, bgr: bool = False) -> npt.NDArray[np.float32]:
        """The unit-length embedding of the one face in ``img``
        (:class:`NoFaceError` / :class:`MultipleFacesError` otherwise)."""
        return np.asarray(self._inner.embed(img, bgr), dtype=np.float32)

    def compare(
        self, a: ImageOrEmbedding, b: ImageOrEmbedding, bgr: bool = False,
        far: Optional[float] = None,
    ) -> Match:
        """Whether the faces of ``a`` and ``b`` (images or embeddings) are the
        same person, at ``far`` (default: the engine's)."""
        return Match._of(json.loads(self._inner.compare(a, b, bgr, far)))

    def quality(self, img: ImageLike, bgr: bool = False) -> Quality:
        """The capture quality of the one face in ``img``."""
        return Quality._of(json.loads(self._inner.quality(img, bgr)))


class Session:
    """A verification session: push frames with their times and read the
    verdict. ``reference``: the reference photo, or its embedding.
    ``actions``: action names in order (``blink``, ``mouth_open``,
    ``turn_left``, ``turn_right``, ``nod``), or a number of random ones.
    ``nonce`` (with ``certify_id``): the challenge nonce a realface server
    issued; ``None`` issues a local id with a fresh random nonce.
    ``options``: :class:`SessionOptions` fields as a dict, laid over the
    defaults (e.g. ``{"photo": "Y_M", "prompt": {"delays_ms": [500]}}``)."""

    def __init__(
        self,
        engine: Engine,
        reference: ImageOrEmbedding,
        actions: Optional[Union[Sequence[str], int]] = None,
        nonce: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
        certify_id: Optional[str] = None,
        expires_ms: Optional[int] = None,
        bgr: bool = False,
    ) -> None:
        if isinstance(actions, str):
            raise InvalidArgumentError("actions: a list of action names, not one string")
        acts: Optional[Union[List[str], int]] = (
            actions if actions is None or isinstance(actions, int) else list(actions)
        )
        self._inner = _realface.Session(
            engine._inner, reference, acts, nonce, certify_id, expires_ms,
            None if options is None else json.dumps(dict(options)), bgr,
        )

    @property
    def actions(self) -> List[str]:
        """The challenge's actions, in order."""
        return list(self._inner.actions)

    @property
    def certify_id(self) -> str:
        """The certifyId."""
        return str(self._inner.certify_id)

    @property
    def finished(self) -> bool:
        """Whether the session has finished."""
        return bool(self._inner.finished)

    def push(self, frame: ImageLike, t_ms: int) -> Progress:
        """Takes one frame at ``t_ms`` (ms, increasing): what to show now,
        including which action is prompted and since when."""
        return Progress._of(json.loads(self._inner.push(frame, t_ms)))

    def finish(self) -> AuthResult:
        """No more frames: the final verdict (an unfinished challenge fails)."""
        return AuthResult._of(json.loads(self._inner.finish()))

    def cancel(self) -> None:
        """The user quit: the session fails as interrupted."""
        self._inner.cancel()

    @property
    def result(self) -> AuthResult:
        """The current result (PROCESSING while running)."""
        return AuthResult._of(json.loads(self._inner.result()))

    def evidence(self) -> bytes:
        """The evidence bundle a realface server re-verifies (needs
        ``options={"record_evidence": True}``)."""
        return bytes(self._inner.evidence())


def prompts() -> List[Dict[str, str]]:
    """The texts and icons a client shows (``Progress.prompt_key`` names
    one): each entry's ``key``, ``icon``, ``glyph``, short words
    ``wordEn``/``wordZhHans`` and sentences ``en``/``zhHans``."""
    table: List[Dict[str, str]] = json.loads(_realface.prompts_json())
    return table


from . import eval, server  # noqa: E402  (submodules use the names above)

__all__ = [
    "Engine", "Session", "Face", "Match", "Quality", "Progress", "AuthResult", "Reason",
    "ActionOutcome", "Error", "eval", "server", "ORT_VERSION", "prompts", "Timer",
]
__all__ += [n for n in dir() if n.endswith("Error") and n not in __all__]

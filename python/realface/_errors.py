"""Exception classes mirroring realface's ``ErrorCode``: one class per code,
all subclasses of :class:`Error`, each with ``.code`` (the stable number)
and ``.name`` (e.g. ``"NO_FACE"``)."""

from __future__ import annotations

from typing import Dict, Type


class Error(Exception):
    """Any realface error. ``code`` and ``name`` are stable across versions."""

    code: int = 0
    name: str = "ERROR"

    def __init__(self, message: str, code: int | None = None, name: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name

    def __str__(self) -> str:
        return f"{super().__str__()} [{self.name} {self.code}]"


class RuntimeUnavailableError(Error):
    """The ONNX Runtime library is missing, unloadable or the wrong version."""
    code, name = 100, "RUNTIME_UNAVAILABLE"


class ModelInvalidError(Error):
    """A model is missing, or has the wrong checksum or tensor shapes."""
    code, name = 101, "MODEL_INVALID"


class InferenceError(Error):
    """ONNX Runtime failed while running a model."""
    code, name = 102, "INFERENCE"


class NonFiniteOutputError(Error):
    """A model produced NaN or infinite values."""
    code, name = 103, "NON_FINITE_OUTPUT"


class RandomUnavailableError(Error):
    """The operating system's random source failed."""
    code, name = 104, "RANDOM_UNAVAILABLE"


class IoError(Error, OSError):
    """A file could not be read."""
    code, name = 200, "IO"


class DecodeError(Error, ValueError):
    """Image bytes could not be decoded (corrupt, truncated, unknown format)."""
    code, name = 201, "DECODE"


class UnsupportedError(Error, ValueError):
    """The input is valid but uses something realface does not support."""
    code, name = 202, "UNSUPPORTED"


class LimitExceededError(Error, ValueError):
    """The input exceeds a resource limit (dimensions, bytes, frames)."""
    code, name = 203, "LIMIT_EXCEEDED"


class EmptyImageError(Error, ValueError):
    """The image or frame has zero width or height, or no bytes."""
    code, name = 204, "EMPTY_IMAGE"


class EncodeError(Error):
    """An output (the verification photo) could not be encoded."""
    code, name = 205, "ENCODE"


class NoFaceError(Error):
    """No face was found where exactly one was required."""
    code, name = 300, "NO_FACE"


class MultipleFacesError(Error):
    """More than one face was found where exactly one was required."""
    code, name = 301, "MULTIPLE_FACES"


class InvalidArgumentError(Error, ValueError):
    """An argument is out of range or malformed (wrong dtype or shape too)."""
    code, name = 400, "INVALID_ARGUMENT"


class FrameOrderError(Error, ValueError):
    """A frame's timestamp is not after the previous frame's."""
    code, name = 401, "FRAME_ORDER"


class CertifyIdEmptyError(Error):
    """The certifyId is empty."""
    code, name = 500, "CERTIFY_ID_EMPTY"


class CertifyIdUnknownError(Error):
    """The certifyId was never issued."""
    code, name = 501, "CERTIFY_ID_UNKNOWN"


class CertifyIdExpiredError(Error):
    """The certifyId is past its validity."""
    code, name = 502, "CERTIFY_ID_EXPIRED"


class CertifyIdReusedError(Error):
    """The certifyId was already used by a session."""
    code, name = 503, "CERTIFY_ID_REUSED"


class SessionFinishedError(Error):
    """The session has finished; it takes no more frames."""
    code, name = 504, "SESSION_FINISHED"


class CameraUnavailableError(Error):
    """No camera could be opened."""
    code, name = 600, "CAMERA_UNAVAILABLE"


class InternalError(Error):
    """A bug inside realface (caught); the session it happened in failed."""
    code, name = 900, "INTERNAL"


BY_CODE: Dict[int, Type[Error]] = {
    c.code: c
    for c in [
        RuntimeUnavailableError, ModelInvalidError, InferenceError, NonFiniteOutputError,
        RandomUnavailableError, IoError, DecodeError, UnsupportedError, LimitExceededError,
        EmptyImageError, EncodeError, NoFaceError, MultipleFacesError, InvalidArgumentError,
        FrameOrderError, CertifyIdEmptyError, CertifyIdUnknownError, CertifyIdExpiredError,
        CertifyIdReusedError, SessionFinishedError, CameraUnavailableError, InternalError,
    ]
}


def _from_code(code: int, name: str, message: str) -> Error:
    """The exception for a library error (called by the extension)."""
    cls = BY_CODE.get(code, Error)
    return cls(message, code, name)

"""Telephone audio made by the tests themselves: libsndfile through ctypes
(the same library the daemons link, but driven from here as an encoder
and a decoder of its own), and Python's audioop for raw µ-law and A-law."""
import audioop
import ctypes
import ctypes.util
import math
import os
import struct
import tempfile

_sf = ctypes.CDLL(ctypes.util.find_library("sndfile") or "libsndfile.so.1")

SFM_READ, SFM_WRITE = 0x10, 0x20
WAV, RAW, MPEG, OGG = 0x010000, 0x040000, 0x230000, 0x200000
PCM_16, ULAW, ALAW, IMA_ADPCM, MS_ADPCM, GSM610 = 0x0002, 0x0010, 0x0011, 0x0012, 0x0013, 0x0020


class SF_INFO(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


_sf.sf_open.restype = ctypes.c_void_p
_sf.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
_sf.sf_writef_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
_sf.sf_writef_short.restype = ctypes.c_int64
_sf.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
_sf.sf_readf_short.restype = ctypes.c_int64
_sf.sf_close.argtypes = [ctypes.c_void_p]
_sf.sf_strerror.argtypes = [ctypes.c_void_p]
_sf.sf_strerror.restype = ctypes.c_char_p


def tone(seconds=3.0, rate=8000, freq=440):
    """16-bit mono samples of a sine."""
    return [int(9000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))]


def pcm_bytes(samples):
    return struct.pack(f"<{len(samples)}h", *samples)


def encode(samples, fmt, rate=8000):
    """SAMPLES written by libsndfile as FMT (e.g. WAV | GSM610); the bytes."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a").encode()
        info = SF_INFO(0, rate, 1, fmt, 0, 0)
        h = _sf.sf_open(path, SFM_WRITE, ctypes.byref(info))
        if not h:
            raise RuntimeError(_sf.sf_strerror(None).decode())
        buf = (ctypes.c_short * len(samples))(*samples)
        _sf.sf_writef_short(h, buf, len(samples))
        _sf.sf_close(h)
        with open(path, "rb") as f:
            return f.read()


def decode(data, raw=None, rate=8000):
    """DATA decoded by libsndfile: (samplerate, mono samples). RAW: a raw
    subtype (ULAW, ALAW, GSM610) for headerless audio."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a")
        with open(path, "wb") as f:
            f.write(data)
        info = SF_INFO(0, rate if raw else 0, 1 if raw else 0, (RAW | raw) if raw else 0, 0, 0)
        h = _sf.sf_open(path.encode(), SFM_READ, ctypes.byref(info))
        if not h:
            raise RuntimeError(_sf.sf_strerror(None).decode())
        out, chunk = [], 4096
        buf = (ctypes.c_short * (chunk * info.channels))()
        while True:
            n = _sf.sf_readf_short(h, buf, chunk)
            if n <= 0:
                break
            out.extend(buf[i * info.channels] for i in range(n))
        _sf.sf_close(h)
        return info.samplerate, out


def raw_ulaw(samples):
    return audioop.lin2ulaw(pcm_bytes(samples), 2)


def raw_alaw(samples):
    return audioop.lin2alaw(pcm_bytes(samples), 2)


def dominant_hz(samples, rate):
    """The frequency of a pure tone, from its zero crossings (skipping the
    encoder's silent start)."""
    loud = [i for i, s in enumerate(samples) if abs(s) > 1500]
    if len(loud) < rate // 4:
        return 0.0
    seg = samples[loud[0]:loud[-1]]
    crossings = sum(1 for a, b in zip(seg, seg[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(seg) / rate)

"""A stand-in for Pyroscope's ingest API: no Pyroscope server can run where the tests run (no
Debian package; the integration tests run their backends as local processes), so this one
receives what the real agents send, as Pyroscope (or Alloy's pyroscope.receive_http) would.

It implements the one call pyroscope-io 1.4.0 makes, read in its source (the sdist's
rust/src/session.rs, pyroscope.rs, encode/pprof.rs) and captured from it:

- `POST <server address>/push.v1.PusherService/Push`, no query parameters: a unary call of
  Pyroscope's `push.v1.PusherService` in the Connect protocol;
- headers `Content-Type: application/proto`, `Content-Encoding: gzip`,
  `User-Agent: pyroscope-rs/pyspy/1.4.0 reqwest`;
- body: the gzipped protobuf `push.v1.PushRequest`, one `RawProfileSeries` per profile type
  (`process_cpu`) with the labels `__name__`, the agent's tags (the lab's: `service_name`,
  `service_namespace`), `otel.scope.name`, `otel.scope.version`, `process.runtime.name`,
  `process.runtime.version`, and one `RawSample` whose `raw_profile` is a pprof `Profile`,
  not compressed itself (sample type cpu/nanoseconds, value = samples x 1e9/sample_rate, one
  location per frame, the thread's tags as string labels of each sample) and `ID` a UUID;
- one such request every upload interval (10 s by default) while there are samples, and one
  more when the agent stops; a failed one is not retried.

It answers as a Connect server does: 200 with an empty `PushResponse` (`application/proto`); a
Connect error (JSON `{"code", "message"}`) for a body it cannot decode; 404 for another path;
415 for another content type. Pyroscope itself also accepts a gzipped `raw_profile` (pprof's
own file format); so does this, to decode what other agents send.

The messages are built from descriptors declared here after Pyroscope's .proto files at tag
v2.2.1 (github.com/grafana/pyroscope): api/push/v1/push.proto, api/types/v1/types.proto
(LabelPair, ProfileAnnotation) and api/google/v1/profile.proto (pprof's profile.proto), and
decoded by the `protobuf` package: nothing here parses the wire format by hand.
"""

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PUSH_PATH = "/push.v1.PusherService/Push"

_F = descriptor_pb2.FieldDescriptorProto
_TYPES = {
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "int64": _F.TYPE_INT64,
    "uint64": _F.TYPE_UINT64,
    "bool": _F.TYPE_BOOL,
}


def _message(
    file: descriptor_pb2.FileDescriptorProto, name: str, *fields: tuple[str, int, str, bool]
) -> None:
    """A message in `file`: fields as (name, number, scalar type or .package.Message, repeated)."""
    message = file.message_type.add(name=name)
    for field_name, number, kind, repeated in fields:
        label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
        if kind in _TYPES:
            message.field.add(name=field_name, number=number, type=_TYPES[kind], label=label)
        else:
            message.field.add(
                name=field_name, number=number, type=_F.TYPE_MESSAGE, type_name=kind, label=label
            )


def _files() -> list[descriptor_pb2.FileDescriptorProto]:
    # The fields the lab reads, with their numbers and types as in the .proto files (v2.2.1);
    # the gnostic OpenAPI annotations there only document the API and are left out.
    types = descriptor_pb2.FileDescriptorProto(
        name="types/v1/types.proto", package="types.v1", syntax="proto3"
    )
    _message(types, "LabelPair", ("name", 1, "string", False), ("value", 2, "string", False))
    _message(types, "ProfileAnnotation", ("key", 1, "string", False), ("value", 2, "string", False))
    push = descriptor_pb2.FileDescriptorProto(
        name="push/v1/push.proto",
        package="push.v1",
        syntax="proto3",
        dependency=["types/v1/types.proto"],
    )
    _message(push, "PushResponse")
    _message(push, "PushRequest", ("series", 1, ".push.v1.RawProfileSeries", True))
    _message(
        push,
        "RawProfileSeries",
        ("labels", 1, ".types.v1.LabelPair", True),
        ("samples", 2, ".push.v1.RawSample", True),
        ("annotations", 3, ".types.v1.ProfileAnnotation", True),
    )
    _message(push, "RawSample", ("raw_profile", 1, "bytes", False), ("ID", 2, "string", False))
    pprof = descriptor_pb2.FileDescriptorProto(
        name="google/v1/profile.proto", package="google.v1", syntax="proto3"
    )
    _message(
        pprof,
        "Profile",
        ("sample_type", 1, ".google.v1.ValueType", True),
        ("sample", 2, ".google.v1.Sample", True),
        ("mapping", 3, ".google.v1.Mapping", True),
        ("location", 4, ".google.v1.Location", True),
        ("function", 5, ".google.v1.Function", True),
        ("string_table", 6, "string", True),
        ("drop_frames", 7, "int64", False),
        ("keep_frames", 8, "int64", False),
        ("time_nanos", 9, "int64", False),
        ("duration_nanos", 10, "int64", False),
        ("period_type", 11, ".google.v1.ValueType", False),
        ("period", 12, "int64", False),
        ("comment", 13, "int64", True),
        ("default_sample_type", 14, "int64", False),
    )
    _message(pprof, "ValueType", ("type", 1, "int64", False), ("unit", 2, "int64", False))
    _message(
        pprof,
        "Sample",
        ("location_id", 1, "uint64", True),
        ("value", 2, "int64", True),
        ("label", 3, ".google.v1.Label", True),
    )
    _message(
        pprof,
        "Label",
        ("key", 1, "int64", False),
        ("str", 2, "int64", False),
        ("num", 3, "int64", False),
        ("num_unit", 4, "int64", False),
    )
    _message(
        pprof,
        "Mapping",
        ("id", 1, "uint64", False),
        ("memory_start", 2, "uint64", False),
        ("memory_limit", 3, "uint64", False),
        ("file_offset", 4, "uint64", False),
        ("filename", 5, "int64", False),
        ("build_id", 6, "int64", False),
        ("has_functions", 7, "bool", False),
        ("has_filenames", 8, "bool", False),
        ("has_line_numbers", 9, "bool", False),
        ("has_inline_frames", 10, "bool", False),
    )
    _message(
        pprof,
        "Location",
        ("id", 1, "uint64", False),
        ("mapping_id", 2, "uint64", False),
        ("address", 3, "uint64", False),
        ("line", 4, ".google.v1.Line", True),
        ("is_folded", 5, "bool", False),
    )
    _message(pprof, "Line", ("function_id", 1, "uint64", False), ("line", 2, "int64", False))
    _message(
        pprof,
        "Function",
        ("id", 1, "uint64", False),
        ("name", 2, "int64", False),
        ("system_name", 3, "int64", False),
        ("filename", 4, "int64", False),
        ("start_line", 5, "int64", False),
    )
    return [types, push, pprof]


_pool = descriptor_pool.DescriptorPool()
for _file in _files():
    _pool.Add(_file)
PushRequest = message_factory.GetMessageClass(_pool.FindMessageTypeByName("push.v1.PushRequest"))
PushResponse = message_factory.GetMessageClass(_pool.FindMessageTypeByName("push.v1.PushResponse"))
Profile = message_factory.GetMessageClass(_pool.FindMessageTypeByName("google.v1.Profile"))


@dataclass(frozen=True)
class ProfileSample:
    """One pprof sample: its stack (function names, leaf first), values and string labels."""

    functions: tuple[str, ...]
    values: tuple[int, ...]
    labels: tuple[tuple[str, str], ...]

    def label_values(self, key: str) -> list[str]:
        """Every value of `key` (a sample may carry a key more than once)."""
        return [value for name, value in self.labels if name == key]


@dataclass(frozen=True)
class ReceivedProfile:
    """One RawSample of a push: its series' labels, its ID and its decoded pprof Profile."""

    labels: dict[str, str]
    id: str
    profile: Any  # a google.v1.Profile message
    raw_profile_gzipped: bool

    @property
    def sample_types(self) -> list[tuple[str, str]]:
        strings = self.profile.string_table
        return [(strings[t.type], strings[t.unit]) for t in self.profile.sample_type]

    def samples(self) -> Iterator[ProfileSample]:
        strings = self.profile.string_table
        functions = {f.id: strings[f.name] for f in self.profile.function}
        locations = {
            loc.id: [functions[line.function_id] for line in loc.line]
            for loc in self.profile.location
        }
        for sample in self.profile.sample:
            yield ProfileSample(
                functions=tuple(name for lid in sample.location_id for name in locations[lid]),
                values=tuple(sample.value),
                labels=tuple((strings[lb.key], strings[lb.str]) for lb in sample.label),
            )


@dataclass(frozen=True)
class PushCall:
    """One request as received: what the agent sent besides the body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body_bytes: int
    status: int
    at: float  # time.monotonic() when it arrived


@dataclass
class FakePyroscope:
    """Serves PUSH_PATH on 127.0.0.1 and keeps every call and every profile pushed."""

    calls: list[PushCall] = field(default_factory=list)
    profiles: list[ReceivedProfile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as reqwest's client expects

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlsplit(self.path)
                status, reply, content_type = stand_in._answer(url.path, self.headers, body)
                with stand_in._lock:
                    stand_in.calls.append(
                        PushCall(
                            method="POST",
                            path=url.path,
                            query=url.query,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body_bytes=len(body),
                            status=status,
                            at=time.monotonic(),
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """What to put in PYROSCOPE_SERVER_ADDRESS."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _answer(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        if path != PUSH_PATH:
            return 404, b"404 page not found\n", "text/plain; charset=utf-8"
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/proto":
            # connect-go answers an unsupported codec with 415 before reading the body.
            return 415, b"", "text/plain"
        try:
            if headers.get("Content-Encoding", "identity") == "gzip":
                body = gzip.decompress(body)
            request = PushRequest.FromString(body)
            received = []
            for series in request.series:
                labels = {pair.name: pair.value for pair in series.labels}
                for sample in series.samples:
                    raw = sample.raw_profile
                    gzipped = raw[:2] == b"\x1f\x8b"
                    profile = Profile.FromString(gzip.decompress(raw) if gzipped else raw)
                    received.append(ReceivedProfile(labels, sample.ID, profile, gzipped))
        except Exception as exc:  # what a Connect server answers for a body it cannot decode
            error = {"code": "invalid_argument", "message": f"decoding push request: {exc}"}
            return 400, json.dumps(error).encode(), "application/json"
        with self._lock:
            self.profiles.extend(received)
        return 200, PushResponse().SerializeToString(), "application/proto"

    def received(self, **labels: str) -> list[ReceivedProfile]:
        """The profiles received so far whose series labels include every one given."""
        with self._lock:
            profiles = list(self.profiles)
        return [p for p in profiles if labels.items() <= p.labels.items()]

    def samples(self, **labels: str) -> list[ProfileSample]:
        return [s for p in self.received(**labels) for s in p.samples()]

    def start(self) -> "FakePyroscope":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakePyroscope":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

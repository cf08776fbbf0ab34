"""The S3 destination's own rules, without an S3 server."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from kiln.server.destination_s3 import S3Destination, _single_range

MIB = 1024 * 1024


class DiscardingClient:
    """Answers an upload's S3 calls and keeps only the size of each part."""

    def __init__(self) -> None:
        self.part_sizes: list[int] = []
        self.completed: list[Any] = []

    def list_objects_v2(self, **options: Any) -> dict[str, Any]:
        return {"KeyCount": 0}

    def create_multipart_upload(self, **options: Any) -> dict[str, Any]:
        return {"UploadId": "upload-1"}

    def upload_part(self, **options: Any) -> dict[str, Any]:
        self.part_sizes.append(len(options["Body"]))
        return {"ETag": f'"{options["PartNumber"]}"'}

    def complete_multipart_upload(self, **options: Any) -> dict[str, Any]:
        self.completed = options["MultipartUpload"]["Parts"]
        return {}


async def _body(total: int, chunk: bytes) -> AsyncIterator[bytes]:
    for _ in range(total // len(chunk)):
        yield chunk


def test_upload_memory_stays_flat_whatever_the_body_size() -> None:
    client = DiscardingClient()
    destination = S3Destination("s3://bucket/prefix", client, False)
    total = 256 * MIB

    async def upload() -> int:
        return await destination.upload("big.bin", _body(total, b"x" * 65536))

    tracemalloc.start()
    try:
        size = anyio.run(upload)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert size == total
    assert client.part_sizes == [8 * MIB] * 32
    assert [part["PartNumber"] for part in client.completed] == list(range(1, 33))
    # Two copies of one 8 MiB part at most, never the body.
    assert peak < 32 * MIB


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=2-5", "bytes=2-5"),
        ("bytes=7-", "bytes=7-"),
        ("bytes=-2", "bytes=-2"),
        ("bytes= 2-5", "bytes=2-5"),
        ("bytes=-", None),
        ("bytes=5-2", None),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
        (None, None),
    ],
)
def test_only_a_single_byte_range_is_passed_on(
    header: str | None, expected: str | None
) -> None:
    assert _single_range(header) == expected


@pytest.mark.parametrize(
    ("paths", "key"),
    [
        (("a/b.txt",), "prefix/a/b.txt"),
        (("run/", "model.bin"), "prefix/run/model.bin"),
        (("./a/./b",), "prefix/a/b"),
        (("a%2Fb",), "prefix/a/b"),
    ],
)
def test_keys_stay_under_the_prefix(paths: tuple[str, ...], key: str) -> None:
    destination = S3Destination("s3://bucket/prefix", DiscardingClient(), False)

    assert destination.key_for(*paths) == key

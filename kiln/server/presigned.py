"""Transfers that bypass the server: presigned S3 URLs for the artifact proxy.

MLflow's proxy multipart upload lets a client send a large file straight to
S3: ``mpu/create`` starts an upload and hands out one presigned URL per part,
the client PUTs each part there, and ``mpu/complete`` (or ``mpu/abort``)
ends it. ``presigned/<path>`` hands out a download URL the same way. Every
key is placed with :meth:`~kiln.server.destination_s3.S3Destination.file_key`,
so it stays under the destination's prefix.
"""

from __future__ import annotations

import re
from typing import Any

from kiln.artifacts.paths import normalize_artifact_path
from kiln.errors import InvalidParameterValue
from kiln.server.destination_s3 import MAX_PARTS, S3Destination
from kiln.wire import JSONObject

__all__ = [
    "abort_multipart_upload",
    "complete_multipart_upload",
    "create_multipart_upload",
    "presigned_download",
]


def _required_text(message: JSONObject, field: str) -> str:
    value = message.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidParameterValue(
            f"Invalid value {value!r} for {field!r}; expected a non-empty string."
        )
    return value


def _file_name(message: JSONObject) -> str:
    """The file name in ``message['path']``.

    MLflow's client sends the path of its local file there; only the last
    segment names the artifact, and it is normalised like any client path.
    """
    local_path = _required_text(message, "path")
    name = re.split(r"[\\/]", local_path)[-1]
    if not normalize_artifact_path(name):
        raise InvalidParameterValue(
            f"Invalid value {local_path!r} for 'path'; expected a file path."
        )
    return name


def _part_count(message: JSONObject) -> int:
    value = message.get("num_parts")
    if type(value) is not int or not 1 <= value <= MAX_PARTS:
        raise InvalidParameterValue(
            f"Invalid value {value!r} for 'num_parts'; expected an integer "
            f"from 1 to {MAX_PARTS}."
        )
    return value


def _completed_parts(message: JSONObject) -> list[dict[str, Any]]:
    parts = message.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InvalidParameterValue(
            f"Invalid value {parts!r} for 'parts'; expected a non-empty list."
        )
    completed: list[dict[str, Any]] = []
    for part in parts:
        number = part.get("part_number") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if type(number) is not int or not isinstance(etag, str) or not etag:
            raise InvalidParameterValue(
                f"Invalid part {part!r}; expected 'part_number' and 'etag'."
            )
        completed.append({"PartNumber": number, "ETag": etag})
    return sorted(completed, key=lambda part: int(part["PartNumber"]))


def presigned_download(destination: S3Destination, path: str) -> JSONObject:
    """A URL that downloads ``path`` straight from S3, with its size."""
    key = destination.file_key(path)
    size = destination.call(path, "head_object", Key=key)["ContentLength"]
    url = destination.sign(path, "get_object", {"Key": key})
    return {"url": url, "headers": {}, "file_size": int(size)}


def create_multipart_upload(
    destination: S3Destination, folder: str, message: JSONObject
) -> JSONObject:
    """Start an upload of ``message['path']`` in ``folder``; one URL per part."""
    name = _file_name(message)
    count = _part_count(message)
    key = destination.file_key(folder, name)

    upload_id = destination.start_multipart_upload(name, key)
    credentials = [
        {
            "url": destination.sign(
                name,
                "upload_part",
                {"Key": key, "UploadId": upload_id, "PartNumber": number},
            ),
            "part_number": number,
            "headers": {},
        }
        for number in range(1, count + 1)
    ]
    return {"upload_id": upload_id, "credentials": credentials}


def complete_multipart_upload(
    destination: S3Destination, folder: str, message: JSONObject
) -> None:
    """Join the uploaded parts into the object ``message['path']``."""
    name = _file_name(message)
    upload_id = _required_text(message, "upload_id")
    parts = _completed_parts(message)
    destination.call(
        name,
        "complete_multipart_upload",
        Key=destination.file_key(folder, name),
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
    )


def abort_multipart_upload(
    destination: S3Destination, folder: str, message: JSONObject
) -> None:
    """Drop an unfinished upload and the parts sent so far."""
    name = _file_name(message)
    upload_id = _required_text(message, "upload_id")
    destination.call(
        name,
        "abort_multipart_upload",
        Key=destination.file_key(folder, name),
        UploadId=upload_id,
    )

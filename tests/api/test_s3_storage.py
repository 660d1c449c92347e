"""Media in S3-compatible object storage (boto3 against a local S3 server): stored once, served by redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from stoa.config import Settings
from tests.helpers import AppClient, run_jobs, sign_up, stored_files, upload
from tests.media_samples import jpeg_with_gps, make_video

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def bucket(settings: Settings) -> Iterator[Any]:
    """An S3 endpoint on a free port with the region's bucket; ``settings`` switched to it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    settings.media_storage = "s3"
    settings.s3_endpoint_url = f"http://{host}:{port}"
    httpx.post(f"{settings.s3_endpoint_url}/moto-api/reset")  # the server keeps its state per test process
    settings.s3_region, settings.s3_access_key_id, settings.s3_secret_access_key = "us-east-1", "stoa", "secret"
    s3 = boto3.resource("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1",
                        aws_access_key_id="stoa", aws_secret_access_key="secret")
    created = s3.create_bucket(Bucket=settings.s3_bucket.format(region=settings.region))
    try:
        yield created
    finally:
        server.stop()


def keys(bucket: Any) -> list[str]:
    return sorted(o.key for o in bucket.objects.all())


async def test_images_and_videos_live_in_the_bucket(bucket: Any, client: AppClient, settings: Settings,
                                                    tmp_path: Path) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    photo = jpeg_with_gps((640, 480))
    first = (await upload(client, alice.headers, photo)).json()
    await upload(client, bob.headers, photo)  # the same bytes again: stored once
    assert len(keys(bucket)) == 2  # one picture, one preview
    assert all(k.startswith(f"{settings.region}/") for k in keys(bucket))
    post = (await client.post("/api/v1/statuses", headers=alice.headers,
                              data={"status": "from s3", "media_ids[]": first["id"]})).json()
    served = await client.get(post["media_attachments"][0]["url"].replace(BASE, ""))
    assert served.status_code == 302
    async with httpx.AsyncClient() as outside:  # the presigned URL works for anyone holding it, for a while
        body = await outside.get(served.headers["location"])
        assert body.status_code == 200 and body.content[:2] == b"\xff\xd8"
        part = await outside.get(served.headers["location"], headers={"Range": "bytes=0-9"})
        assert part.status_code == 206 and part.content == body.content[:10]

    clip = make_video(tmp_path / "clip.mp4", seconds=0.5).read_bytes()
    queued = (await upload(client, alice.headers, clip, "clip.mp4", "video/mp4")).json()
    assert any(k.startswith(f"{settings.region}/incoming/") for k in keys(bucket))
    assert await run_jobs(client, settings) == 1
    ready = (await client.get(f"/api/v1/media/{queued['id']}", headers=alice.headers)).json()
    assert ready["url"].split("?")[0].endswith(".mp4")
    assert not any("/incoming/" in k for k in keys(bucket))  # the raw upload is deleted once processed
    assert any(k.endswith(".mp4") for k in keys(bucket))
    assert not stored_files(settings)  # nothing on local disk

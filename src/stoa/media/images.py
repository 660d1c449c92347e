"""Profile images: decode safely, bound the size, strip metadata, re-encode.

Every served image is re-encoded from pixels, so EXIF (GPS included) and any
payload hidden in the original never leave the server.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from stoa.social.errors import TooLarge, ValidationFailed

MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF"}


@dataclass(frozen=True)
class Encoded:
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def _decode(data: bytes, max_bytes: int) -> Image.Image:
    """Decode an upload safely: size, type and pixel-count limits first; orientation applied."""
    if not data:
        raise ValidationFailed("The uploaded file is empty")
    if len(data) > max_bytes:
        raise TooLarge(f"Image is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED:
                raise ValidationFailed(f"Unsupported image type {probe.format or 'unknown'}; "
                                       "use JPEG, PNG, WebP or GIF")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("Image dimensions are too large")
            if getattr(probe, "n_frames", 1) > 1:
                raise ValidationFailed("Animated images are not supported yet; upload a still image")
        image = Image.open(io.BytesIO(data))
        image.load()
        return ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed("The file is not a valid image (truncated, or not an image at all)") from None


def _encode(image: Image.Image) -> Encoded:
    """PNG when the image has transparency, JPEG otherwise; pixels only, no metadata."""
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return Encoded(out.getvalue(), "png", "image/png", image.width, image.height)
    image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    return Encoded(out.getvalue(), "jpg", "image/jpeg", image.width, image.height)


def process_profile_image(data: bytes, max_bytes: int, box: tuple[int, int], crop: bool) -> Encoded:
    """Avatar (crop to a square) or header (fit in a box)."""
    image = _decode(data, max_bytes)
    if crop:
        image = ImageOps.fit(image, box, method=Image.Resampling.LANCZOS)
    else:
        image.thumbnail(box, Image.Resampling.LANCZOS)
    return _encode(image)


@dataclass(frozen=True)
class PostImage:
    original: Encoded
    preview: Encoded
    blurhash: str


def process_post_image(data: bytes, max_bytes: int, max_side: int = 1920, preview_side: int = 640) -> PostImage:
    """A post's image: bounded to ``max_side``, a preview, and a blurhash placeholder."""
    import blurhash

    image = _decode(data, max_bytes)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    original = _encode(image)
    small = image.copy()
    small.thumbnail((preview_side, preview_side), Image.Resampling.LANCZOS)
    preview = _encode(small)
    tiny = image.convert("RGB")
    tiny.thumbnail((64, 64))  # a blurhash needs only a few dozen pixels a side
    width = tiny.width
    flat = list(tiny.tobytes())
    rows = [[flat[(y * width + x) * 3:(y * width + x) * 3 + 3] for x in range(width)] for y in range(tiny.height)]
    return PostImage(original, preview, blurhash.encode(rows, components_x=4, components_y=3))

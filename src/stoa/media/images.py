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


def process_profile_image(data: bytes, max_bytes: int, box: tuple[int, int], crop: bool) -> Encoded:
    """Avatar (crop to a square) or header (fit in a box): PNG if it has transparency, else JPEG."""
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
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # type: ignore[assignment]
            if crop:
                image = ImageOps.fit(image, box, method=Image.Resampling.LANCZOS)  # type: ignore[assignment]
            else:
                image.thumbnail(box, Image.Resampling.LANCZOS)
            has_alpha = (image.mode in ("RGBA", "LA", "P") and "transparency" in image.info) or image.mode == "RGBA"
            out = io.BytesIO()
            if has_alpha:
                image.convert("RGBA").save(out, "PNG", optimize=True)
                return Encoded(out.getvalue(), "png", "image/png", image.width, image.height)
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            return Encoded(out.getvalue(), "jpg", "image/jpeg", image.width, image.height)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed("The file is not a valid image (truncated, or not an image at all)") from None

"""Images (profile pictures and post photos): decode safely, bound the size, strip metadata, re-encode.

Every served image is re-encoded from pixels, so EXIF (GPS included) and any
payload hidden in the original never leave the server.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from stoa.core.errors import TooLarge, ValidationFailed

MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_ANIMATION_PIXELS = 400_000_000  # width x height x frames of an animated GIF
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "HEIF"}


def too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationFailed:
    """The one refusal of a decompression bomb: it is an image, and it has more pixels than we decode."""
    size = f" ({width} x {height})" if width and height else ""
    return ValidationFailed(f"The image has too many pixels{size}: at most {MAX_PIXELS:,} pixels "
                            "(width x height) are accepted")


def _check_pixels(probe: Image.Image) -> None:
    if probe.width * probe.height > MAX_PIXELS:
        raise too_many_pixels(probe.width, probe.height)


def _register_heif() -> None:
    """HEIC/HEIF (iPhone photos) through pillow-heif's libheif, when it is installed."""
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - optional decoder
        ACCEPTED.discard("HEIF")
        return
    pillow_heif.register_heif_opener()


_register_heif()


def format_of(head: bytes) -> str | None:
    """The image format the first bytes of a file announce (JPEG, PNG, GIF...), or None."""
    try:
        with Image.open(io.BytesIO(head)) as probe:
            return str(probe.format) if probe.format in ACCEPTED else None
    except Image.DecompressionBombError:  # Pillow read the header: an image, and far too many pixels
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None


def kind_of(data: bytes) -> str | None:
    """'image' for a still image we decode, 'animation' for an animated GIF, None for anything else.

    Animated GIFs are bounded here (pixels x frames) before a video decoder ever sees them.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED:
                return None
            frames = getattr(probe, "n_frames", 1)
            if frames > 1:
                if probe.format != "GIF":
                    raise ValidationFailed("Animated images other than GIF are not supported; upload a video")
                _check_pixels(probe)
                if probe.width * probe.height * frames > MAX_ANIMATION_PIXELS:
                    raise ValidationFailed(f"The animated GIF is too large: at most "
                                           f"{MAX_ANIMATION_PIXELS:,} pixels (width x height x frames) are accepted")
                return "animation"
            _check_pixels(probe)  # refused here as an image, before anything tries it as a video
            return "image"
    except Image.DecompressionBombError:
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None


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
                                       "use JPEG, PNG, WebP, HEIC or GIF")
            _check_pixels(probe)
            if getattr(probe, "n_frames", 1) > 1:
                raise ValidationFailed("Animated images are not accepted here; upload a still image")
        image = Image.open(io.BytesIO(data))
        image.load()
        return ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed("The file is not a valid image (truncated, or not an image at all)") from None


def encode_still(image: Image.Image) -> Encoded:
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
    return encode_still(image)


@dataclass(frozen=True)
class PostImage:
    original: Encoded
    preview: Encoded
    blurhash: str


def process_post_image(data: bytes, max_bytes: int, max_side: int = 1920, preview_side: int = 640) -> PostImage:
    """A post's image: bounded to ``max_side``, a preview, and a blurhash placeholder."""
    image = _decode(data, max_bytes)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    original = encode_still(image)
    small = image.copy()
    small.thumbnail((preview_side, preview_side), Image.Resampling.LANCZOS)
    preview = encode_still(small)
    return PostImage(original, preview, blurhash_of(image))


def blurhash_of(image: Image.Image) -> str:
    """A placeholder a client paints while the real picture loads."""
    import blurhash

    tiny = image.convert("RGB")
    tiny.thumbnail((64, 64))  # a blurhash needs only a few dozen pixels a side
    width = tiny.width
    flat = list(tiny.tobytes())
    rows = [[flat[(y * width + x) * 3:(y * width + x) * 3 + 3] for x in range(width)] for y in range(tiny.height)]
    return str(blurhash.encode(rows, components_x=4, components_y=3))

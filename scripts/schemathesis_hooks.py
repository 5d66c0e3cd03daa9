"""Schemathesis hooks for scripts/schemathesis.sh: photos are sent as raw image bytes."""

import schemathesis


@schemathesis.serializer("image/jpeg", aliases=["image/png", "image/webp"])
class ImageBytes:
    """Generated `format: binary` bodies go out as they are; anything else as UTF-8 text."""

    @staticmethod
    def _bytes(value):
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        return str(value).encode("utf-8")

    def as_requests(self, context, value):
        return {"data": self._bytes(value)}

    def as_werkzeug(self, context, value):
        return {"data": self._bytes(value)}

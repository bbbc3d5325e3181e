"""Encryption at rest: what graphdock stores is sealed before it reaches the database.

Two ciphers, as on the official server:

* **custom**: the `langgraph_sdk.Encryption` object `encryption.path` names. Its JSON
  handlers seal the JSON documents (metadata, config, context, values, run kwargs, cron
  payloads, store values, checkpoint metadata), its blob handlers the checkpoints.
* **built-in AES** (`LANGGRAPH_AES_KEY`, 16, 24 or 32 bytes): AES-GCM (the `cryptography`
  package) seals every checkpoint blob, and the JSON keys listed in
  `LANGGRAPH_AES_JSON_KEYS` wherever they appear in those documents.

`DocumentCodec` is the seam: the storage adapters are opened with it and call it on every
JSON document they write and read, and `SealedSerde` (adapters/sealed.py) wraps the
checkpoint serializer with it. Adapters learn no rule from it; the rules live here:

* keys graphdock itself filters or joins on (`graph_id`, `assistant_id`, `run_id`, ...,
  and any `langgraph_*`) are never handed to a cipher, so search, access filters and
  rollback keep working; a key your handler seals can no longer be searched or filtered;
* a sealed document carries a marker with the cipher's name and the encryption context
  (`X-Encryption-Context`, `@encryption.context`), given back to the decryptor; a
  document without one is plaintext (written before encryption was turned on) and reads
  as it is;
* the first start with a cipher writes a key check; a later start whose key does not open
  it, or that has no cipher at all, stops with one line and changes nothing.

Custom handlers are coroutines; they all run on one event loop of their own, so a
checkpoint (which langgraph serializes synchronously) is sealed by the same handlers, on
the same loop, as everything else.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import os
import threading
from collections.abc import Coroutine, Mapping
from typing import Any

import orjson

from graphdock.server.services.errors import ServiceError
from graphdock.server.settings import Settings

MARKER = "__encryption_context__"
WRAPPED = "__graphdock_value__"  # a document that is not an object, sealed as one
AES_PREFIX = "encrypted.gd-aes:"
BLOB_SCHEME = "+gd-"  # a sealed blob's type: "<serializer type>+gd-<cipher>"

# Keys graphdock reads in SQL (filters, joins, rollback): left as they are.
SYSTEM_KEYS = frozenset(
    {
        "graph_id",
        "assistant_id",
        "thread_id",
        "run_id",
        "cron_id",
        "user_id",
        "run_attempt",
        "checkpoint_id",
        "checkpoint_ns",
        "step",
        "source",
        "parents",
    }
)

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "graphdock_encryption_context", default=None
)


def set_context(metadata: dict[str, Any]) -> None:
    """The encryption context of this request (what handlers see as `ctx.metadata`)."""
    _context.set(dict(metadata))


def is_system(key: str) -> bool:
    return key in SYSTEM_KEYS or key.startswith(("langgraph_", "__"))


class EncryptionSetupError(Exception):
    """Encryption is misconfigured: told at start-up, in one line."""


class UnreadableData(ServiceError):
    """Stored data the configured cipher cannot open: a 500 that says why, changing nothing."""

    status = 500


# ---------------------------------------------------------------- ciphers
class AesCipher:
    """Built-in AES-GCM: a random 96-bit nonce per value, the nonce before the ciphertext."""

    scheme = "aes"

    def __init__(self, key: bytes, json_keys: frozenset[str]):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aes = AESGCM(key)
        self.json_keys = frozenset(k for k in json_keys if not is_system(k))

    def _seal(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aes.encrypt(nonce, data, None)

    def _open(self, data: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        try:
            return self._aes.decrypt(data[:12], data[12:], None)
        except (InvalidTag, ValueError):
            raise ValueError("LANGGRAPH_AES_KEY does not open it (another key wrote it)") from None

    async def encrypt_json(self, ctx: Any, data: dict[str, Any]) -> dict[str, Any]:
        if not self.json_keys or not self._has_listed_key(data):
            return data  # nothing here to seal: the very same dict, so nothing is marked
        return self._walk(data, self._encrypt_value)

    async def decrypt_json(self, ctx: Any, data: dict[str, Any]) -> dict[str, Any]:
        return self._walk(data, None)

    def _has_listed_key(self, value: Any) -> bool:
        if isinstance(value, dict):
            return any(
                key in self.json_keys or self._has_listed_key(item) for key, item in value.items()
            )
        if isinstance(value, list):
            return any(self._has_listed_key(item) for item in value)
        return False

    def _encrypt_value(self, value: Any) -> str:
        return AES_PREFIX + base64.b64encode(self._seal(orjson.dumps(value))).decode()

    def _walk(self, value: Any, encrypt: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if encrypt is not None and key in self.json_keys:
                    out[key] = encrypt(item)
                else:
                    out[key] = self._walk(item, encrypt)
            return out
        if isinstance(value, list):
            return [self._walk(item, encrypt) for item in value]
        if encrypt is None and isinstance(value, str) and value.startswith(AES_PREFIX):
            return orjson.loads(self._open(base64.b64decode(value[len(AES_PREFIX) :])))
        return value

    def encrypt_blob(self, ctx: Any, data: bytes) -> bytes:
        return self._seal(data)

    def decrypt_blob(self, ctx: Any, data: bytes) -> bytes:
        return self._open(data)


class HandlerLoop:
    """One event loop, on a thread of its own, where every custom handler runs."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="graphdock-encryption", daemon=True
        )
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """From synchronous code (a checkpoint being serialized): wait for the handler."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


def _plaintext(result: Any) -> Any:
    """A decrypt handler's answer: the plaintext, or a DecryptResult holding it."""
    return getattr(result, "plaintext", result)


class CustomCipher:
    """The handlers of a `langgraph_sdk.Encryption`; a missing one leaves its kind plaintext."""

    scheme = "custom"

    def __init__(self, encryption: Any):
        self.encryption = encryption
        self.loop = HandlerLoop()

    async def encrypt_json(self, ctx: Any, data: dict[str, Any]) -> dict[str, Any]:
        handler = self.encryption._json_encryptor
        if handler is None:
            return data
        sealed = await self.loop.run(handler(ctx, data))
        if not isinstance(sealed, dict) or set(sealed) != set(data):
            raise ValueError(
                "the JSON encryptor must return a dict with the same keys it was given "
                "(encrypt values, not keys)"
            )
        return sealed

    async def decrypt_json(self, ctx: Any, data: dict[str, Any]) -> dict[str, Any]:
        handler = self.encryption._json_decryptor
        if handler is None:
            raise ValueError("the data is sealed but the Encryption object has no JSON decryptor")
        return _plaintext(await self.loop.run(handler(ctx, data)))

    def encrypt_blob(self, ctx: Any, data: bytes) -> bytes:
        handler = self.encryption._blob_encryptor
        return data if handler is None else self.loop.call(handler(ctx, data))

    def decrypt_blob(self, ctx: Any, data: bytes) -> bytes:
        handler = self.encryption._blob_decryptor
        if handler is None:
            raise ValueError("the blob is sealed but the Encryption object has no blob decryptor")
        return _plaintext(self.loop.call(handler(ctx, data)))

    @property
    def seals_blobs(self) -> bool:
        return self.encryption._blob_encryptor is not None


def _context_object(model: str | None, field: str | None, metadata: dict[str, Any]) -> Any:
    from langgraph_sdk.encryption.types import EncryptionContext

    return EncryptionContext(model=model, field=field, metadata=dict(metadata))


# ---------------------------------------------------------------- the codec
# graphdock's table names, as the SDK names the models (ctx.model).
MODELS = {
    "assistants": "assistant",
    "assistant_versions": "assistant",
    "threads": "thread",
    "runs": "run",
    "crons": "cron",
}


class DocumentCodec:
    """Seals JSON documents and blobs with a cipher; opens what it sealed, passes the rest."""

    def __init__(self, cipher: AesCipher | CustomCipher):
        self.cipher = cipher

    @property
    def scheme(self) -> str:
        return self.cipher.scheme

    async def seal(self, table: str, field: str, value: Any) -> Any:
        if value is None or (isinstance(value, dict) and MARKER in value):
            return value
        data = value if isinstance(value, dict) else {WRAPPED: value}
        kept = {k: v for k, v in data.items() if is_system(k) and k != WRAPPED}
        rest = {k: v for k, v in data.items() if k not in kept}
        if not rest:
            return value
        metadata = _context.get() or {}
        ctx = _context_object(MODELS.get(table, table), field, metadata)
        sealed = await self.cipher.encrypt_json(ctx, rest)
        if sealed is rest:  # the cipher sealed nothing here (no listed key): store as is
            return value
        marker = {"cipher": self.scheme, "model": MODELS.get(table, table), "metadata": metadata}
        return {**kept, **sealed, MARKER: marker}

    async def open(self, field: str, value: Any) -> Any:
        """The plaintext of a sealed document (the model it was sealed for is in its
        marker); anything else as it is."""
        if not (isinstance(value, dict) and MARKER in value):
            return value
        marker = value[MARKER] if isinstance(value[MARKER], Mapping) else {}
        sealed_for = marker.get("model")
        model = MODELS.get(sealed_for, sealed_for) if isinstance(sealed_for, str) else sealed_for
        if marker.get("cipher") != self.scheme:
            raise UnreadableData(
                f"A stored {model} {field} was sealed by the "
                f"{marker.get('cipher')!r} cipher, and this server has {self.scheme!r}"
            )
        data = {k: v for k, v in value.items() if k != MARKER}
        kept = {k: v for k, v in data.items() if is_system(k) and k != WRAPPED}
        rest = {k: v for k, v in data.items() if k not in kept}
        ctx = _context_object(model, field, marker.get("metadata") or {})
        try:
            plain = await self.cipher.decrypt_json(ctx, rest)
        except Exception as exc:
            raise UnreadableData(
                f"A stored {model} {field} cannot be decrypted: "
                f"{type(exc).__name__}: {exc}. Nothing was changed: start the server with "
                "the encryption it was written with"
            ) from exc
        out = {**kept, **plain}
        return out[WRAPPED] if set(out) == {WRAPPED} else out

    async def open_record(self, record: dict[str, Any]) -> dict[str, Any]:
        for name, value in record.items():
            if isinstance(value, dict) and MARKER in value:
                record[name] = await self.open(name, value)
        return record

    def seal_blob(self, data: bytes) -> tuple[str, bytes]:
        metadata = _context.get() or {}
        header = orjson.dumps(metadata)
        ctx = _context_object("checkpoint", None, metadata)
        sealed = self.cipher.encrypt_blob(ctx, data)
        return self.scheme, len(header).to_bytes(4, "big") + header + sealed

    def open_blob(self, scheme: str, data: bytes) -> bytes:
        if scheme != self.scheme:
            raise UnreadableData(
                f"A checkpoint was sealed by the {scheme!r} cipher, and this server has "
                f"{self.scheme!r}"
            )
        size = int.from_bytes(data[:4], "big")
        metadata = orjson.loads(data[4 : 4 + size])
        ctx = _context_object("checkpoint", None, metadata)
        try:
            return self.cipher.decrypt_blob(ctx, data[4 + size :])
        except Exception as exc:
            raise UnreadableData(
                f"A checkpoint cannot be decrypted: {type(exc).__name__}: {exc}. Nothing was "
                "changed: start the server with the encryption it was written with"
            ) from exc

    # ------------------------------------------------------------ the key check
    @property
    def seals_blobs(self) -> bool:
        return getattr(self.cipher, "seals_blobs", True)

    async def key_check(self) -> dict[str, Any]:
        """What the first start with this cipher records, for later starts to open: a
        sealed blob (or, for handlers that seal no blobs, a sealed document)."""
        check: dict[str, Any] | None = None
        try:
            if self.seals_blobs:
                _, sealed = await asyncio.to_thread(self.seal_blob, b"graphdock")
                check = {"blob": base64.b64encode(sealed).decode()}
            else:
                check = {"json": await self.seal("graphdock", "key_check", {"check": "graphdock"})}
        except Exception:  # a handler that needs a request's context: no check then
            check = None
        return {"cipher": self.scheme, "check": check}

    async def verify(self, recorded: dict[str, Any]) -> None:
        if recorded.get("cipher") != self.scheme:
            raise EncryptionSetupError(
                f"this database was encrypted with the {recorded.get('cipher')!r} cipher; "
                f"this server is configured with {self.scheme!r}: start it with the "
                "encryption the data was written with (nothing was changed)"
            )
        check = recorded.get("check") or {}
        try:
            if "blob" in check:
                data = base64.b64decode(check["blob"])
                ok = await asyncio.to_thread(self.open_blob, self.scheme, data) == b"graphdock"
            elif isinstance(check.get("json"), dict) and MARKER in check["json"]:
                ok = await self.open("key_check", check["json"]) == {"check": "graphdock"}
            else:
                return
        except UnreadableData:
            ok = False
        if not ok:
            raise EncryptionSetupError(
                "the encryption key does not open the data this database holds (another key "
                "wrote it): start the server with the key it was written with (nothing was "
                "changed)"
            )


async def check_key(codec: DocumentCodec | None, recorded: dict[str, Any] | None) -> dict | None:
    """At start: the key check to record (first start with a cipher), None when there is
    nothing to record; EncryptionSetupError when the cipher cannot read this database."""
    if codec is None:
        if recorded and recorded.get("cipher"):
            raise EncryptionSetupError(
                f"this database holds data encrypted with the {recorded['cipher']!r} cipher, "
                "and no encryption is configured: start with encryption.path or "
                "LANGGRAPH_AES_KEY as it was written (nothing was changed)"
            )
        return None
    if recorded is None:
        return await codec.key_check()
    await codec.verify(recorded)
    return None


def load_codec(config: Any, settings: Settings) -> DocumentCodec | None:
    """The codec `encryption.path` or `LANGGRAPH_AES_KEY` asks for (None: no encryption)."""
    key = settings.aes_key
    json_keys = settings.aes_json_keys or ""
    if config.encryption_path:
        if key:
            raise EncryptionSetupError(
                "encryption: both encryption.path and LANGGRAPH_AES_KEY are set; choose one"
            )
        return DocumentCodec(CustomCipher(load_encryption(config)))
    if not key:
        if json_keys:
            raise EncryptionSetupError("LANGGRAPH_AES_JSON_KEYS needs LANGGRAPH_AES_KEY")
        return None
    raw = key.encode()
    if len(raw) not in (16, 24, 32):
        raise EncryptionSetupError(
            f"LANGGRAPH_AES_KEY must be 16, 24 or 32 bytes (AES-128, -192, -256), not {len(raw)}"
        )
    names = frozenset(k.strip() for k in json_keys.split(",") if k.strip())
    system = sorted(k for k in names if is_system(k))
    if system:
        raise EncryptionSetupError(
            f"LANGGRAPH_AES_JSON_KEYS: {', '.join(system)} cannot be encrypted: graphdock "
            "searches and joins on it"
        )
    return DocumentCodec(AesCipher(raw, names))


def load_encryption(config: Any) -> Any:
    from graphdock.server import loader

    ref = config.encryption_path
    loader.add_import_paths(config.dependencies, config.base_dir)
    try:
        target = loader.load(ref, config.base_dir)
    except loader.LoadError as exc:
        raise EncryptionSetupError(f"encryption.path: {exc}") from exc
    if not all(
        hasattr(target, name)
        for name in ("_json_encryptor", "_json_decryptor", "_blob_encryptor", "_blob_decryptor")
    ):
        raise EncryptionSetupError(
            f"encryption.path: {ref} is a {type(target).__name__}, not a "
            "langgraph_sdk.Encryption object"
        )
    return target

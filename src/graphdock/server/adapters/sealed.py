"""langgraph's checkpointers and stores, opened with a codec that seals what they write.

The codec (server/encryption.py) decides what is sealed and how; these wrappers only put it
where langgraph's own classes serialize:

* `SealedSerde`: the checkpoint serializer. Each blob langgraph writes (a checkpoint, a
  channel value, a pending write) is serialized by the inner serializer, then sealed; its
  type becomes `<type>+gd-<cipher>`. A blob without that suffix was written before
  encryption and reads as it is.
* `SealedMetadata`: checkpoint metadata (langgraph keeps it as JSON beside the blob, with
  the run's metadata in it), sealed as a document and opened on every read.
* `SealedStore`: the long-term store: item values sealed on put, opened on get and search.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

from langgraph.checkpoint.base import CheckpointTuple, get_checkpoint_metadata
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

from graphdock.server.config import Config
from graphdock.server.encryption import BLOB_SCHEME, DocumentCodec


class Boxed:
    """A plain value (str, number, bool, None) a checkpointer would keep inline in its JSON
    row: boxed, it goes through the serializer, and so is sealed, like any other value."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class SealedSerde:
    """A checkpoint serializer that seals what `inner` produces."""

    def __init__(self, inner: Any, codec: DocumentCodec):
        self.inner = inner
        self.codec = codec

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if isinstance(obj, Boxed):
            obj = obj.value
        type_, data = self.inner.dumps_typed(obj)
        if not self.codec.seals_blobs:
            return type_, data
        scheme, sealed = self.codec.seal_blob(data)
        return f"{type_}{BLOB_SCHEME}{scheme}", sealed

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, payload = data
        if BLOB_SCHEME in type_:
            inner_type, _, scheme = type_.rpartition(BLOB_SCHEME)
            return self.inner.loads_typed((inner_type, self.codec.open_blob(scheme, payload)))
        return self.inner.loads_typed(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SealedMetadata:
    """A mixin for graphdock's checkpointers: checkpoint metadata sealed as a document.

    The merged metadata (the run's config metadata included, as langgraph merges it) is
    sealed before the saver writes it, so the saver finds nothing left to copy in plain."""

    codec: DocumentCodec | None = None

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self.codec is not None:
            merged = get_checkpoint_metadata(config, metadata)
            metadata = await self.codec.seal("checkpoints", "metadata", dict(merged))
        return await super().aput(config, checkpoint, metadata, new_versions)  # type: ignore[misc]

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        found = await super().aget_tuple(config)  # type: ignore[misc]
        return await self._open(found) if found is not None else None

    async def alist(self, config: Any, **kwargs: Any) -> AsyncIterator[CheckpointTuple]:
        async for found in super().alist(config, **kwargs):  # type: ignore[misc]
            yield await self._open(found)

    async def _open(self, found: CheckpointTuple) -> CheckpointTuple:
        if self.codec is None:
            return found
        metadata = await self.codec.open("metadata", found.metadata)
        return found._replace(metadata=metadata)


class SealedStore(BaseStore):
    """A BaseStore that seals item values on their way into `inner` and opens them on the
    way out. Everything else (TTL sweeps, set-up, the index) is the inner store's."""

    def __init__(self, inner: BaseStore, codec: DocumentCodec):
        self.inner = inner
        self.codec = codec
        self.supports_ttl = inner.supports_ttl
        self.ttl_config = inner.ttl_config

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def abatch(self, ops: Iterable[Any]) -> list[Any]:
        ops = list(ops)
        sealed = []
        for op in ops:
            if isinstance(op, PutOp) and op.value is not None:
                value = await self.codec.seal("store", "value", op.value)
                op = PutOp(op.namespace, op.key, value, op.index, op.ttl)
            sealed.append(op)
        results = await self.inner.abatch(sealed)
        for op, result in zip(ops, results, strict=True):
            if isinstance(op, GetOp) and isinstance(result, Item):
                await self._open(result)
            elif isinstance(op, SearchOp) and isinstance(result, list):
                for item in result:  # SearchItems
                    if isinstance(item, Item):
                        await self._open(item)
        return results

    async def _open(self, item: Item) -> None:
        item.value = await self.codec.open("value", item.value)

    def batch(self, ops: Iterable[Any]) -> list[Any]:
        """From a synchronous node (a thread): on the loop the inner store runs on."""
        loop = getattr(self.inner, "loop", None)
        if loop is None:
            raise RuntimeError("this store takes synchronous calls only through its loop")
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), loop).result()


def checkpoint_serde(config: Config, codec: Any = None) -> Any:
    """The checkpoint serializer: langgraph's, shaped by `checkpointer.serde`, sealed by the
    codec when there is one. None: the checkpointer's own default."""
    serde: SerializerProtocol | None = None
    options = config.checkpointer_serde
    if options is not None:
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        kwargs: dict[str, Any] = {
            "pickle_fallback": options.pickle_fallback,
            "allowed_json_modules": options.allowed_json_modules,
        }
        if options.allowed_msgpack_modules != "default":
            kwargs["allowed_msgpack_modules"] = options.allowed_msgpack_modules
        serde = JsonPlusSerializer(**kwargs)
    if codec is not None:
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        serde = SealedSerde(serde or JsonPlusSerializer(), codec)
    return serde


def sealed_store(store: Any, codec: Any) -> Any:
    if codec is None:
        return store
    return SealedStore(store, codec)

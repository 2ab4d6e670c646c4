"""Keys and data travel together: the store publishes the key ring's public keys, the data
folder keeps their private halves, and a server starts only when the two agree."""

from __future__ import annotations

import logging
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.actor import SYSTEM, Actor
from domain.signing_keys import SigningKeys
from licensing.signing import PURPOSES, KeyRing
from licensing.store import EventStore

log = logging.getLogger(__name__)

# Publishing collides only with another process publishing at the same moment; after a
# collision the store holds the winner's keys, so a second attempt never collides again.
_ATTEMPTS = 3


class KeysMissing(RuntimeError):
    """The store has published keys whose private halves are not in the data folder."""


def published_keys(store: EventStore) -> SigningKeys | None:
    """The store's published keys; None for a store that has published none yet."""
    try:
        keys: Aggregate = store.repository.get(SigningKeys.create_id())
    except AggregateNotFoundError:
        return None
    assert isinstance(keys, SigningKeys)
    return keys


def open_key_ring(
    store: EventStore, directory: Path, *, new_keys: bool = False, actor: Actor = SYSTEM
) -> KeyRing:
    """The key ring of this store: every key it has published, with its private half from
    `directory`. A fresh store publishes the folder's keys, generating any purpose's missing
    one first; a store whose published keys are not all in the folder is refused
    (KeysMissing) — new keys would make every code printed with the old ones read as forged.

    `new_keys` is for a store written before keys were published whose keys are lost: it
    lets new ones be generated and published for it. Call under `locks.initialisation`."""
    for _ in range(_ATTEMPTS):
        local = KeyRing.load(directory)
        published = published_keys(store)
        if published is None:
            _refuse_a_used_store_without_keys(store, local, directory, new_keys=new_keys)
        else:
            _refuse_missing_private_keys(published, local, directory)
            _warn_of_unpublished(published, local)
            local = local.subset(published.kids())
        generated = [local.rotate(p) for p in PURPOSES if not local.kids(p)]
        to_publish = generated if published is not None else local.kids()
        if not to_publish:
            return local
        try:
            _publish(store, published, local, to_publish, actor=actor)
        except IntegrityError:
            # Another process published first. Its keys are in this folder if it shares
            # it (it wrote them before publishing). Ours never signed anything — unless,
            # sharing the folder, it found and published them: those stay.
            _discard_unpublished(local, generated, published_keys(store))
            continue
        return local
    msg = "the store's published keys kept changing while this process started"
    raise RuntimeError(msg)


def _discard_unpublished(ring: KeyRing, kids: list[str], winner: SigningKeys | None) -> None:
    kept = set(winner.kids()) if winner else set()
    for kid in kids:
        if kid not in kept:
            ring.discard(kid)


def _publish(
    store: EventStore,
    published: SigningKeys | None,
    ring: KeyRing,
    kids: list[str],
    *,
    actor: Actor,
) -> None:
    aggregate = published or SigningKeys(actor=actor)
    for kid in kids:
        aggregate.publish(
            purpose=ring.purpose_of(kid),
            kid=kid,
            jwk=_public_members(ring.public_jwk(kid)),
            created=ring.created_of(kid),
            actor=actor,
        )
    store.save(aggregate)
    log.info("published signing keys %s", ", ".join(kids))


def _public_members(jwk: dict[str, str]) -> dict[str, str]:
    return {name: jwk[name] for name in ("kty", "crv", "x", "y", "alg")}


def _refuse_missing_private_keys(published: SigningKeys, local: KeyRing, directory: Path) -> None:
    # Every published key is active today. When rotation can retire a key to verify-only
    # (signed-qr §5.5), its private half may be destroyed on purpose: skip those here.
    present = set(local.kids())
    missing = [kid for kid in published.kids() if kid not in present]
    for kid in published.kids():
        if kid in present and _public_members(local.public_jwk(kid)) != published.keys[kid]["jwk"]:
            msg = f"{directory}: key {kid} is not the key this store published under that id"
            raise KeysMissing(msg)
    if missing:
        names = ", ".join(f"{published.keys[kid]['purpose']}-{kid}.pem" for kid in missing)
        raise KeysMissing(_restore_message(directory, names))


def _refuse_a_used_store_without_keys(
    store: EventStore, local: KeyRing, directory: Path, *, new_keys: bool
) -> None:
    # A store written before keys were published: if the folder has its keys, they are
    # published as they are; if it has none, codes were printed with keys now lost.
    if local.kids() or new_keys or not store.recorder.max_notification_id():
        return
    msg = (
        f"this store already holds events, but no signing keys are published in it and the"
        f" key folder {directory} is empty: the keys that signed its printed codes are"
        f" missing. Copy the keys folder of the server that printed them into {directory}."
        f" If they are lost for good, `licensing init --new-keys` generates and publishes"
        f" new keys; every code printed before then must be reprinted."
    )
    raise KeysMissing(msg)


def _restore_message(directory: Path, names: str) -> str:
    return (
        f"the signing keys this store has published are not in the data folder: {names}"
        f" missing from {directory}. Without them every code printed before would read as"
        f" forged, so this server will not start and will not make new keys. Restore them:"
        f" `licensing restore ARCHIVE` loads a backup archive (store and keys) into an empty"
        f" store and data folder; or copy the keys folder (keys/*.pem) of a server of this"
        f" store into {directory}, mode 0700 and its files 0600."
    )


def _warn_of_unpublished(published: SigningKeys, local: KeyRing) -> None:
    unpublished = sorted(set(local.kids()) - set(published.kids()))
    if unpublished:
        # Left where they are (an operator may want to look), but never used: the store
        # does not vouch for them, so nothing they signed would verify elsewhere.
        log.warning("ignoring keys this store has not published: %s", ", ".join(unpublished))

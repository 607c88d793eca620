"""Artifact stores: where trials' predictions live, as a directory or an S3 bucket.

``--artifacts`` takes a directory (Optuna's ``FileSystemArtifactStore``) or ``s3://BUCKET/PREFIX``
(Optuna's ``Boto3ArtifactStore`` under a key prefix). An S3 store takes its endpoint and
credentials from the standard AWS environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, and ``AWS_ENDPOINT_URL`` for an S3-compatible server such as MinIO. Nothing
secret is part of the location, so the location is recorded in the study (:data:`ARTIFACTS_ATTR`)
and readers find the predictions without the flag.

A store that cannot be reached raises :class:`ArtifactStoreUnavailable`, one line naming the
location and the endpoint; a trial whose predictions cannot be uploaded fails with that line.
A directory store never leaves a truncated file behind a failed write (a full disk).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import optuna
from optuna.artifacts import FileSystemArtifactStore

from common._cli import UserError
from storage._artifact_names import artifact_id_of, object_name

# errors that no retry cures: the disk (or the file system) takes no more writes
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
# study user attribute: the artifact location its trials store predictions in
ARTIFACTS_ATTR = "artifacts"
S3_PREFIX = "s3://"
_CONNECT_TIMEOUT_S = 5
_READ_TIMEOUT_S = 60
_ATTEMPTS = 3  # botocore's own retries of one call, with backoff, before the call fails
# how long a worker waits for a store that went away before it stops (a restart is seconds)
STORE_WAIT_S = 300.0


class ArtifactStore(Protocol):
    """What Optuna's artifact functions and optuna-dashboard call on a store."""

    def open_reader(self, artifact_id: str) -> BinaryIO: ...

    def write(self, artifact_id: str, content_body: BinaryIO) -> None: ...

    def remove(self, artifact_id: str) -> None: ...


class ArtifactStoreUnavailable(UserError):
    """The artifact store did not answer (a stopped server, a lost network)."""


def is_s3(location: str) -> bool:
    return location.lower().startswith(S3_PREFIX)


def parse_s3(location: str) -> tuple[str, str]:
    """``s3://BUCKET/PRE/FIX`` -> ``("BUCKET", "PRE/FIX")``; the prefix may be empty."""
    bucket, _, prefix = location[len(S3_PREFIX) :].partition("/")
    if not bucket:
        raise UserError(f"--artifacts {location}: no bucket; use s3://BUCKET/PREFIX")
    return bucket, prefix.strip("/")


def normalize(location: str | Path) -> str:
    """The form a location is recorded in: an absolute directory, or ``s3://BUCKET[/PREFIX]``."""
    text = str(location)
    if is_s3(text):
        bucket, prefix = parse_s3(text)
        return f"{S3_PREFIX}{bucket}/{prefix}" if prefix else f"{S3_PREFIX}{bucket}"
    return str(Path(text).expanduser().absolute())


def describe(location: str) -> str:
    """The location with the endpoint it resolves to, for messages."""
    if not is_s3(location):
        return location
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return f"{location} (endpoint {endpoint})" if endpoint else location


def choose(flag: str | Path | None, recorded: str | None, default: str | Path) -> str:
    """The location a command uses: the flag, else what the study records, else the default."""
    if flag:
        return str(flag)
    if recorded:
        return recorded
    return str(default)


def saved_location(storage: optuna.storages.BaseStorage, study: str) -> str | None:
    """The artifact location study ``study`` records, or None (no such study, or none recorded)."""
    try:
        study_id = storage.get_study_id_from_name(study)
    except KeyError:
        return None
    return storage.get_study_user_attrs(study_id).get(ARTIFACTS_ATTR)


def open_artifact_store(location: str, *, create: bool = False) -> ArtifactStore:
    """A store for ``location``; checked now, so a wrong location fails before any trial.

    A directory is made when ``create`` (a search writes there), else it must exist. An S3
    bucket must exist and answer in both cases: buckets are made by their owner, not here.
    """
    if is_s3(location):
        bucket, prefix = parse_s3(location)
        store = S3Store(location, bucket, prefix)
        store.check()
        return store
    path = Path(location)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    elif not path.is_dir():
        raise UserError(f"--artifacts {location}: no such directory (the search's artifacts)")
    return CleanFileSystemArtifactStore(str(path))


def wait_until_reachable(
    store: ArtifactStore,
    window_s: float,
    should_stop: Callable[[], bool] = lambda: False,
    poll_s: float = 1.0,
) -> bool:
    """Wait until ``store`` answers again, for at most ``window_s`` seconds. True when it does;
    False when the window passed or ``should_stop`` said so. A directory always answers."""
    if not isinstance(store, S3Store):
        return True
    deadline = time.monotonic() + window_s
    while not should_stop():
        try:
            store.check()
            return True
        except UserError:  # a server that is starting may answer with an error for a while
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)
    return False


class CleanFileSystemArtifactStore(FileSystemArtifactStore):
    """Optuna's file-system store, except that a write that fails (a full disk) removes the
    truncated file it began, rather than leaving it for a reader to trust, and that a bucket's
    objects copied here under their names are read by their ids."""

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        try:
            super().write(artifact_id, content_body)
        except OSError:
            (Path(self._base_path) / artifact_id).unlink(missing_ok=True)
            raise

    def open_reader(self, artifact_id: str) -> BinaryIO:
        """Also an object copied from a bucket under its readable name (storage._artifact_names)."""
        base = Path(self._base_path)
        if not (base / artifact_id).exists():
            named = [p.name for p in base.iterdir() if artifact_id_of(p.name) == artifact_id]
            if named:
                return super().open_reader(named[0])
        return super().open_reader(artifact_id)


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a full or read-only disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in NO_SPACE_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


class S3Store:
    """Optuna's ``Boto3ArtifactStore`` under a key prefix, with its failures as one line, and
    objects named after the uploaded file with the artifact id kept (storage._artifact_names)."""

    def __init__(self, location: str, bucket: str, prefix: str) -> None:
        import boto3  # only S3 locations need it
        from botocore.config import Config
        from optuna.artifacts import Boto3ArtifactStore

        self.location = location
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        config = Config(
            connect_timeout=_CONNECT_TIMEOUT_S,
            read_timeout=_READ_TIMEOUT_S,
            retries={"max_attempts": _ATTEMPTS, "mode": "standard"},
        )
        self.client = boto3.client("s3", config=config)
        self.inner = Boto3ArtifactStore(bucket, client=self.client)
        self.names: dict[str, str] = {}  # artifact id -> object name under the prefix

    def check(self) -> None:
        """Raise a one-line error unless the bucket exists and the credentials may use it."""
        self._call(lambda: self.client.head_bucket(Bucket=self.bucket))

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self._call(lambda: self.inner.open_reader(self.prefix + self._name(artifact_id)))

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        # upload_artifact hands over the file it opened: its name says study, trial and split
        name = object_name(artifact_id, getattr(content_body, "name", None))
        self._call(lambda: self.inner.write(self.prefix + name, content_body))
        self.names[artifact_id] = name

    def remove(self, artifact_id: str) -> None:
        self._call(lambda: self.inner.remove(self.prefix + self._name(artifact_id)))

    def _name(self, artifact_id: str) -> str:
        """The object an id is stored as: known, else found by listing the prefix once more."""
        if artifact_id not in self.names:

            def listing() -> None:
                pages = self.client.get_paginator("list_objects_v2")
                for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                    for item in page.get("Contents", []):
                        name = item["Key"][len(self.prefix) :]
                        found = artifact_id_of(name)
                        if found is not None and "/" not in name:
                            self.names.setdefault(found, name)

            self._call(listing)
        return self.names.get(artifact_id, artifact_id)

    def _call(self, call: Callable[[], Any]) -> Any:
        from botocore.exceptions import (
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
        )

        try:
            return call()
        except NoCredentialsError:
            raise UserError(
                f"--artifacts {self.location}: no AWS credentials; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            ) from None
        except (ConnectionError, HTTPClientError) as exc:
            raise ArtifactStoreUnavailable(
                f"artifact store {describe(self.location)} unreachable: {exc}"
            ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code in ("404", "NoSuchBucket"):  # a missing key is ArtifactNotFound already
                code = "no such bucket"
            raise UserError(
                f"--artifacts {describe(self.location)}: {code or 'error'}: "
                f"{error.get('Message') or exc}"
            ) from None

"""Carrying out a prepared plan so that no crash can leave a file ``clean`` cannot find.

Each batch of a class's files goes through these steps (the manifest contract,
:mod:`augment_gan.contracts.manifest`, spells out why):

1. render the files and stage each under a hidden temp name in its class folder;
2. fsync them (concurrently: one journal commit for many files);
3. append their entries, sha256 included, to the journal and fsync it -- the intent is
   durable before any of them has its final name;
4. link each to its final name, never replacing a file (a name that appeared meanwhile is
   left to its owner, journaled as dropped, and its index skipped);
5. remove the temp names (also on an error or Ctrl-C).

At the end, and on Ctrl-C or a write error, the class folders are fsynced and the
manifest is rewritten once, listing exactly the files on disk; that drops the journal.
An augment that is killed outright leaves the journal, which the next augment or ``clean`` folds in.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from augment_gan.augment import writer
from augment_gan.augment.errors import AugmentInterrupted, AugmentWriteError
from augment_gan.augment.lock import folder_lock
from augment_gan.augment.plan import ClassPlan
from augment_gan.augment.prepare import Prepared, resolves_outside
from augment_gan.augment.report import AugmentSummary
from augment_gan.contracts.manifest import Entry, Journal, index_in_stream, leftover_temps, stream_key
from augment_gan.errors import AugmentGanError
from augment_gan.events import Events
from augment_gan.fileio import fsync_dir


class Applier:
    """Applying a prepared plan once (see :meth:`augment_gan.augment.Augmentation.apply`)."""

    def __init__(self, prepared: Prepared) -> None:
        self.p = prepared
        self.root = prepared.plan.out_dir
        self.written = {c.name: 0 for c in prepared.plan.classes if c.generate}
        self.collisions = 0
        self.current: Path = prepared.manifest.path  # what is being written, for error messages
        self.journal = Journal(self.root)

    def apply(self, events: Events) -> AugmentSummary:
        plan, m = self.p.plan, self.p.manifest
        t0 = time.perf_counter()
        stats = self.p.generator.stats
        before = (stats.candidates, stats.accepted, stats.fallbacks)
        if not (plan.to_generate or plan.gone or self.p.adopt or m.journal_pending):
            return AugmentSummary(plan, self.written, time.perf_counter() - t0)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise AugmentWriteError(f"cannot create {self.root}: {e.strerror or e}.") from None
        with folder_lock(self.root):
            if m.changed_on_disk():
                raise AugmentGanError(
                    f"{m.path} changed since the plan was made (another augment?); run augment again."
                )
            temp_removed = self._remove_leftover_temps()
            try:
                self._start()
                for cp in plan.classes:
                    if cp.generate:
                        self._fill(cp, events)
                self._commit()
            except BaseException as e:
                replacement = self._after_failure(e)
                if replacement is None:
                    raise
                raise replacement from None
        selection = (
            dict(
                zip(
                    ("candidates", "accepted", "fallbacks"),
                    (stats.candidates - before[0], stats.accepted - before[1], stats.fallbacks - before[2]),
                )
            )
            if self.p.generator.selecting
            else None
        )
        return AugmentSummary(
            plan,
            self.written,
            time.perf_counter() - t0,
            adopted=len(self.p.adopt),
            dropped_gone=len(plan.gone),
            temp_removed=temp_removed,
            collisions=self.collisions,
            selection=selection,
        )

    # --- before and after -----------------------------------------------------------------
    def _remove_leftover_temps(self) -> int:
        """Hidden temp files of a killed augment (we hold the lock, so no live one owns them)."""
        temps = leftover_temps(self.root)
        for rel in temps:
            (self.root / rel).unlink(missing_ok=True)
        return len(temps)

    def _start(self) -> None:
        """Drop gone files, record adopted ones and a created --out folder; fold a killed augment's journal."""
        m, gone = self.p.manifest, set(self.p.plan.gone)
        m.files = [e for e in m.files if e["path"] not in gone] + self.p.adopt
        if self.p.created_out and "." not in m.dirs:
            m.dirs.append(".")
        if gone or self.p.adopt or self.p.created_out or m.journal_pending:
            m.save()

    def _commit(self) -> None:
        """Make the new names durable, then record them all in the manifest (dropping the journal)."""
        self.journal.close()
        for name, n in self.written.items():
            if n:
                fsync_dir(self.root / name)
        self.current = self.p.manifest.path
        self.p.manifest.save()

    def _after_failure(self, e: BaseException) -> BaseException | None:
        """Record exactly the files on disk; the exception to raise instead of ``e`` (None: ``e``)."""
        m, failed_at = self.p.manifest, self.current
        m.files = [x for x in m.files if os.path.lexists(self.root / x["path"])]
        note = ""
        try:
            self._commit()
        except BaseException as e2:  # noqa: BLE001 - a full disk can fail this too
            note = (
                f" -- except that the manifest could not be updated either ({getattr(e2, 'strerror', None) or e2}); "
                f"the journal {self.journal.path} lists them for the next augment and clean"
            )
        written = sum(self.written.values())
        if isinstance(e, KeyboardInterrupt):
            return AugmentInterrupted(written, m.path)
        if isinstance(e, OSError):
            return AugmentWriteError(
                f"cannot write {failed_at}: {e.strerror or e}; the {written} file(s) "
                f"written before that are recorded in {m.path}{note}."
            )
        return None

    # --- writing --------------------------------------------------------------------------
    def _fill(self, cp: ClassPlan, events: Events) -> None:
        folder = self.root / cp.name
        if not self.p.follow_links and (where := resolves_outside(self.root, cp.name)) is not None:
            raise AugmentGanError(
                f"{folder} now resolves to {where}, outside {self.root}, since the plan was made; run augment again."
            )
        if not folder.is_dir():
            self._make_dir(cp.name)
        index = self._first_index(cp.name, folder)
        remaining = cp.generate
        while remaining > 0:
            indices = list(range(index, index + min(self.p.batch_size, remaining)))
            index += len(indices)
            remaining -= self._write_batch(cp, indices, events)

    def _make_dir(self, name: str) -> None:
        """A class folder of --out: journaled before it exists, so clean removes it."""
        self.current = self.root / name
        self.journal.append([Journal.new_dir(name)])
        self.current.mkdir()
        if name not in self.p.manifest.dirs:
            self.p.manifest.dirs.append(name)

    def _first_index(self, cls: str, folder: Path) -> int:
        """Past every index of this stream recorded, remembered, or taken on disk."""
        m, stream = self.p.manifest, self.p.stream
        key = stream.key(cls)
        used = [e["index"] for e in m.files if stream_key(e) == key]
        used += [hit[0] for name in os.listdir(folder) if (hit := index_in_stream(name, stream.prefix))]
        return max([m.stream_next(key), *(i + 1 for i in used)])

    def _write_batch(self, cp: ClassPlan, indices: list[int], events: Events) -> int:
        """Steps 1-5 for one batch; the number of files that got their name."""
        stream = self.p.stream
        mode, size = self.p.specs(cp.name)
        datas = writer.render(
            self.p.generator, stream.seed, cp.model_index, indices, mode, size, stream.fmt, self.p.batch_size
        )
        entries: list[Entry] = []
        staged: list[Path] = []
        try:
            for i, data in zip(indices, datas):
                entries.append(stream.entry(cp.name, i, writer.sha256_bytes(data)))
                self.current = self.root / entries[-1]["path"]
                staged.append(writer.stage(self.current, data))
            writer.fsync_paths(staged)
            self.current = self.journal.path
            self.journal.append([Journal.intent(e) for e in entries])
            return self._publish(cp.name, entries, staged, events)
        finally:
            writer.discard(staged)

    def _publish(self, cls: str, entries: list[Entry], staged: list[Path], events: Events) -> int:
        m, key = self.p.manifest, self.p.stream.key(cls)
        published = 0
        for entry, tmp in zip(entries, staged):
            self.current = self.root / entry["path"]
            try:
                writer.publish(tmp, self.current)
            except FileExistsError:  # appeared since the plan: never replaced, index skipped
                self.journal.append([Journal.dropped(entry["path"])], durable=False)
                m.streams[key] = entry["index"] + 1
                self.collisions += 1
                continue
            m.streams[key] = entry["index"] + 1
            m.files.append(entry)
            self.written[cls] += 1
            published += 1
            events.wrote(cls, self.current)
        return published

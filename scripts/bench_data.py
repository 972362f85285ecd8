"""The synthetic programme ``make bench`` measures: N times the bundled sample.

A reference data directory with 11 x N partners (partner k copies base partner
((k - 1) % 11) + 1, with its own policy instrument) and, for every base workbook
``raw/P<b>/<period>``, one copy per partner k written by
:func:`pipelines.core.outputs.template.write_template` (the not-a-spreadsheet flaw is copied as
bytes). Generated once per sample, factor and template, then reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from pipelines.core.intake.discovery import ACCEPTED_SUFFIXES
from pipelines.core.metadata.tables import (
    COVER_FIELDS,
    COVER_SHEET,
    RECORD_SHEETS,
    TEMPLATE_VERSION,
)
from pipelines.platform.settings import PROJECT_DIR_ENV

# Bump when the generated files would change for the same inputs.
GENERATOR_VERSION = 1
BASE_PARTNERS = 11


# --- synthetic reference data ---------------------------------------------------------


def synthetic_partner(k: int) -> int:
    """The base partner (1..11) synthetic partner k copies."""
    return (k - 1) % BASE_PARTNERS + 1


def write_reference(base_dir: Path, out_dir: Path, factor: int) -> None:
    """Copy the reference data, with 11 x factor partners and their policy instruments."""
    import csv

    import yaml

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for path in base_dir.iterdir():
        if path.is_file():
            shutil.copy2(path, out_dir / path.name)

    base_partners = {
        e["partner_id"]: e for e in yaml.safe_load((base_dir / "partners.yaml").read_text("utf-8"))
    }
    partners = []
    for k in range(1, BASE_PARTNERS * factor + 1):
        base = base_partners[f"P{synthetic_partner(k)}"]
        partners.append(
            {
                "partner_id": f"P{k}",
                "short_name": f"Synthetic {k}",
                "country": base["country"],
                "role": base["role"],
                "names": [{"name": f"Synthetic partner {k}"}],
            }
        )
    (out_dir / "partners.yaml").write_text(
        "# Synthetic partners written by scripts/benchmark.py\n"
        + yaml.safe_dump(partners, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )

    project = yaml.safe_load((base_dir / "project.yaml").read_text("utf-8"))
    for phase in project["phases"]:
        if "partners" in phase:
            listed = set(phase["partners"])
            phase["partners"] = [
                f"P{k}"
                for k in range(1, BASE_PARTNERS * factor + 1)
                if f"P{synthetic_partner(k)}" in listed
            ]
    (out_dir / "project.yaml").write_text(
        yaml.safe_dump(project, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )

    with (base_dir / "policy_instruments.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        instruments = {row["partner_id"]: row for row in reader}
    with (out_dir / "policy_instruments.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for k in range(1, BASE_PARTNERS * factor + 1):
            b = synthetic_partner(k)
            base = instruments.get(f"P{b}")
            if base is None:  # P5, the academic partner, has no policy instrument
                continue
            writer.writerow(
                {
                    **base,
                    "policy_instrument_id": f"PI-P{k}",
                    "partner_id": f"P{k}",
                    "name": base["name"].replace(f"P{b}", f"P{k}") if k != b else base["name"],
                }
            )


# --- synthetic workbooks ----------------------------------------------------------------


def _plain(value: object) -> object:
    """A cell value as write_template takes it: None, bool, str, int, float or a date."""
    import pandas as pd

    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_base(path: Path) -> tuple[dict[str, object], dict[str, list[dict]]] | None:
    """(Cover values, records per sheet) of a sample workbook; None when unreadable."""
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    except Exception:  # the flawed sample that is not a spreadsheet
        return None
    cover_names = {f.name for f in COVER_FIELDS}
    cover: dict[str, object] = {}
    frame = sheets.get(COVER_SHEET)
    if frame is not None:
        for name, value in zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True):
            name = _plain(name)
            if isinstance(name, str) and name.strip() in cover_names:
                cover[name.strip()] = _plain(value)
    records: dict[str, list[dict]] = {}
    for sheet in RECORD_SHEETS:
        frame = sheets.get(sheet.name)
        if frame is None:
            continue
        known = [c for c in frame.columns if c in sheet.column_names]
        rows = []
        for row in frame[known].to_dict("records"):
            clean = {k: _plain(v) for k, v in row.items()}
            clean = {k: v for k, v in clean.items() if v is not None}
            if clean:
                rows.append(clean)
        records[sheet.name] = rows
    return cover, records


def _remapped(
    cover: dict[str, object], records: dict[str, list[dict]], base: int, k: int
) -> tuple[dict[str, object], dict[str, list[dict]]]:
    """The base partner's workbook as partner k's: its folder id and its own instrument."""
    if k == base:
        return cover, records
    cover = dict(cover)
    if cover.get("partner_id") == f"P{base}":  # a deliberately wrong id stays wrong
        cover["partner_id"] = f"P{k}"
    old, new = f"PI-P{base}", f"PI-P{k}"
    out = {}
    for sheet, rows in records.items():
        out[sheet] = [
            {**r, "policy_instrument_id": new} if r.get("policy_instrument_id") == old else r
            for r in rows
        ]
    return cover, out


def _generate_one(task: tuple[str, str, str, int]) -> dict[str, object]:
    """Write every copy of one base workbook; returns what was written."""
    base_file, raw_out, reference_dir, factor = task
    if os.environ.get(PROJECT_DIR_ENV) != reference_dir:
        os.environ[PROJECT_DIR_ENV] = reference_dir
        from pipelines.core.reference.loader import reference

        reference.cache_clear()
    from pipelines.core.outputs.template import write_template

    source = Path(base_file)
    base = int(source.parent.name.removeprefix("P"))
    period = source.stem
    targets = [base + BASE_PARTNERS * i for i in range(factor)]
    content = read_base(source)
    if content is None:
        data = source.read_bytes()
        for k in targets:
            target = Path(raw_out) / f"P{k}" / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return {"file": f"P{base}/{source.name}", "readable": False, "rows": 0, "copies": factor}
    cover, records = content
    for k in targets:
        cover_k, records_k = _remapped(cover, records, base, k)
        write_template(
            f"P{k}", period, Path(raw_out) / f"P{k}" / source.name, records=records_k, cover=cover_k
        )
    rows = sum(len(r) for r in records.values())
    return {"file": f"P{base}/{source.name}", "readable": True, "rows": rows, "copies": factor}


def base_workbooks(raw: Path) -> list[Path]:
    return sorted(
        p
        for p in raw.glob("P*/*")
        if p.is_file() and p.suffix.lower() in ACCEPTED_SUFFIXES and p.parent.name[1:].isdigit()
    )


def _fingerprint(files: list[Path], reference_dir: Path, factor: int) -> str:
    """What the generated files depend on: the sample, the reference data, the sheets."""
    digest = hashlib.sha256(f"v{GENERATOR_VERSION} x{factor} t{TEMPLATE_VERSION}".encode())
    for sheet in RECORD_SHEETS:
        digest.update(f"{sheet.name}:{','.join(sheet.column_names)}".encode())
    for path in [*files, *sorted(reference_dir.iterdir())]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def generate(factor: int, base_raw: Path, base_reference: Path, out: Path, jobs: int) -> dict:
    """The synthetic reference and raw directories for a factor (reused when unchanged)."""
    files = base_workbooks(base_raw)
    manifest_path = out / "generated.json"
    fingerprint = _fingerprint(files, base_reference, factor)
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") == fingerprint:
            print(f"  x{factor}: reusing {manifest['workbooks']} generated workbooks in {out}")
            return manifest
    reference_dir, raw_dir = out / "reference", out / "raw"
    for path in (raw_dir, manifest_path):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    write_reference(base_reference, reference_dir, factor)
    tasks = [(str(f), str(raw_dir), str(reference_dir), factor) for f in files]
    started = time.perf_counter()
    print(f"  x{factor}: generating {len(files) * factor} workbooks with {jobs} process(es)...")
    if jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            written = list(pool.map(_generate_one, tasks))
    else:
        written = [_generate_one(t) for t in tasks]
    seconds = time.perf_counter() - started
    manifest = {
        "fingerprint": fingerprint,
        "factor": factor,
        "partners": BASE_PARTNERS * factor,
        "workbooks": sum(w["copies"] for w in written),
        "readable_workbooks": sum(w["copies"] for w in written if w["readable"]),
        "rows": sum(w["rows"] * w["copies"] for w in written),
        "bytes": sum(p.stat().st_size for p in raw_dir.rglob("*") if p.is_file()),
        "generation_seconds": round(seconds, 1),
        "raw_dir": str(raw_dir),
        "reference_dir": str(reference_dir),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    print(f"  x{factor}: generated {manifest['workbooks']} workbooks in {seconds:.0f} s")
    return manifest


def change_one_workbook(raw_dir: Path, file: str = "P4/RP07.xlsx") -> Path:
    """Restate one figure of one workbook, as a partner correcting it would.

    The new file replaces the old one by rename (the raw folder of a run holds hard
    links to the generated files, which must stay as they are).
    """
    from pipelines.core.outputs.template import write_template

    path = raw_dir / file
    cover, records = read_base(path)
    events = records.get("Events") or [{}]
    events[0] = {**events[0], "participants": int(events[0].get("participants") or 0) + 1}
    records["Events"] = events
    tmp = path.with_name(f".{path.stem}.bench{path.suffix}")
    write_template(path.parent.name, path.stem, tmp, records=records, cover=cover)
    tmp.replace(path)
    return path


def raise_structural_funds(raw_dir: Path, file: str = "P4/RP11.xlsx") -> Path:
    """Restate the first policy measure's Structural Funds one euro higher, as a partner
    correcting a figure would: the scorecard's R3 then shows one euro more.

    The measure is P4's latest restatement of it, so its figure is the one counted.
    The new file replaces the old one by rename, as in :func:`change_one_workbook`.
    """
    from pipelines.core.outputs.template import write_template

    path = raw_dir / file
    cover, records = read_base(path)
    measures = records["PolicyMeasures"]
    funds = round(measures[0]["sf_influenced_eur"] + 1, 2)
    measures[0] = {**measures[0], "sf_influenced_eur": funds}
    tmp = path.with_name(f".{path.stem}.bench{path.suffix}")
    write_template(path.parent.name, path.stem, tmp, records=records, cover=cover)
    tmp.replace(path)
    return path

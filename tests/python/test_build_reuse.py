"""dbt's parse paid once: a manifest kept within a process, a partial-parse state kept per warehouse."""

from __future__ import annotations

import os
import shutil

from csc_warehouse import build, settings


def test_a_saved_parse_state_is_put_back_for_its_own_warehouse_only(tmp_path):
    current = tmp_path / "target" / build.PARTIAL_PARSE_FILE

    with build.partial_parse_state(tmp_path, "warehouse-a"):
        current.parent.mkdir(parents=True)
        current.write_bytes(b"parse of A")  # what dbt writes
    with build.partial_parse_state(tmp_path, "warehouse-b"):
        assert current.read_bytes() == b"parse of A"  # nothing saved for B yet: dbt's own file stays
        current.write_bytes(b"parse of B")
    with build.partial_parse_state(tmp_path, "warehouse-a"):
        assert current.read_bytes() == b"parse of A"  # A's state back: dbt can parse A partially
    with build.partial_parse_state(tmp_path, "warehouse-b"):
        assert current.read_bytes() == b"parse of B"


def test_only_the_most_recent_parse_states_are_kept(tmp_path):
    current = tmp_path / "target" / build.PARTIAL_PARSE_FILE
    current.parent.mkdir(parents=True)
    for index in range(build.PARTIAL_PARSE_STATES + 3):
        with build.partial_parse_state(tmp_path, f"key{index:02d}"):
            current.write_bytes(str(index).encode())
        saved = tmp_path / "target" / "partial_parse" / f"key{index:02d}.msgpack"
        os.utime(saved, (1_000_000 + index, 1_000_000 + index))  # strictly increasing
    kept = sorted(p.stem for p in (tmp_path / "target" / "partial_parse").glob("*.msgpack"))
    assert kept == [f"key{i:02d}" for i in range(3, build.PARTIAL_PARSE_STATES + 3)]


def test_the_parse_key_follows_the_warehouse_and_the_vars():
    a = {"CSCW_WAREHOUSE": "/data/a.duckdb", "CSCW_TEMP_DIR": "/data/tmp"}
    b = a | {"CSCW_WAREHOUSE": "/data/b.duckdb"}
    assert build._parse_key(a, None) == build._parse_key(dict(a), {})
    assert build._parse_key(a, None) != build._parse_key(b, None)
    assert build._parse_key(a, None) != build._parse_key(a, {"as_of": "2018-03-31"})


def test_a_changed_model_file_changes_the_sources_signature(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(settings.PROJECT_ROOT / "models", project / "models")
    shutil.copy(settings.PROJECT_ROOT / "dbt_project.yml", project / "dbt_project.yml")
    before = build._sources_signature(project)
    assert build._sources_signature(project) == before
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n")
    assert build._sources_signature(project) != before


def test_the_manifest_is_parsed_once_per_process_and_warehouse(tmp_path):
    project = settings.PROJECT_ROOT
    env = {
        "CSCW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DBT_PROFILES_DIR": str(project),
        "CSCW_TEMP_DIR": str(tmp_path / "duckdb_tmp"),
    }
    with build.temporary_environment(env):
        first = build.parsed_manifest(project, env)
        assert build.parsed_manifest(project, env) is first
        assert "model.csc_warehouse.fct_kpi_monthly" in first.nodes
        # Other vars are another parse (vars can change what a model reads).
        assert build.parsed_manifest(project, env, {"as_of": "2018-03-31"}) is not first

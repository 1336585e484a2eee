"""`pstg demo`: the simulator, a SQLite database, the collector and the API in one process.

Everything lives in one folder (./pstg-demo by default): the seeded station.yaml, the
database, the spool. Each start migrates (a no-op after the first), makes sure the demo admin
exists with a fresh random password, and prints how to get in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from pstg.config.models import StationConfig
from pstg.files import write_private
from pstg.simulator.seed import SeedOptions, seed_config_text
from pstg.station import load_station
from pstg.storage.database import create_engine, database_url
from pstg.storage.migrate import upgrade

DEMO_USER = "admin"


@dataclass(frozen=True)
class DemoSetup:
    folder: Path
    config_path: Path
    config: StationConfig
    username: str
    password: str


def prepare(folder: Path, *, api_port: int, simulator_port: int) -> DemoSetup:
    """Create or refresh the demo folder; returns the config and the admin's credentials."""
    from pstg.audit import cli_actor
    from pstg.auth import admin
    from pstg.auth.roles import Role
    from pstg.auth.users import list_users

    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "station.yaml"
    text = seed_config_text(
        SeedOptions(port=simulator_port, api_port=api_port, database_url="sqlite:///pstg.db")
    )
    write_private(
        config_path,
        "# Written by `pstg demo` at each start; copy it elsewhere to make your own.\n" + text,
    )
    config = load_station(config_path)
    engine = create_engine(database_url(config, config_path))
    try:
        upgrade(engine)
        password = secrets.token_urlsafe(12)
        actor = cli_actor()  # the demo's changes are audited like any other
        if any(user.name == DEMO_USER for user in list_users(engine)):
            admin.update_user(
                engine, actor, DEMO_USER, role=Role.ADMIN, enabled=True, password=password
            )
        else:
            admin.add_user(engine, actor, DEMO_USER, password, Role.ADMIN)
    finally:
        engine.dispose()
    return DemoSetup(folder, config_path, config, DEMO_USER, password)


def curl_examples(base_url: str, username: str, password: str) -> list[str]:
    """Three commands a newcomer can paste: a token, the tags, an hour's wet-well trend."""
    return [
        f"TOKEN=$(curl -s -X POST {base_url}/api/v1/auth/token "
        f"-d 'username={username}&password={password}' | "
        "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f'curl -s -H "Authorization: Bearer $TOKEN" {base_url}/api/v1/tags',
        f'curl -s -H "Authorization: Bearer $TOKEN" '
        f'"{base_url}/api/v1/trends?tag=wet_well.level&from=now-15m&points=30"',
    ]

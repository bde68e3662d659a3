"""The `database_url` fixture gives an empty, working database on SQLite and on a
real throwaway PostgreSQL server (tests/pgserver.py)."""

import uuid

import pytest
import sqlalchemy as sa

CITY = "Київ"


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table("places", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))


def test_round_trip(database_url, request):
    engine = sa.create_engine(database_url)
    try:
        assert engine.dialect.name == request.node.callspec.params["database_url"]
        places = _table(metadata := sa.MetaData())
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(places.insert(), {"name": CITY})
        with engine.connect() as conn:
            assert conn.execute(sa.select(places.c.name)).scalar_one() == CITY
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_created_databases_are_independent(postgres):
    engines = [sa.create_engine(postgres.create_database(f"test_{uuid.uuid4().hex}")) for _ in range(2)]
    try:
        first, second = (_table(sa.MetaData()) for _ in engines)
        first.metadata.create_all(engines[0])
        with engines[0].begin() as conn:
            conn.execute(first.insert(), {"name": CITY})
        assert not sa.inspect(engines[1]).has_table("places")
        second.metadata.create_all(engines[1])
        with engines[1].connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(second)).scalar_one() == 0
    finally:
        for engine in engines:
            engine.dispose()

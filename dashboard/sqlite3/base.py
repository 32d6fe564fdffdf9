"""Django's SQLite backend, which makes the folder of its database file when it first connects, and the
file itself readable and writable by its owner only.

The default database is a file under VAR_DIR, which a fresh checkout does not have; the settings make
no folder when they load, so the first connection (a migrate, the test database) makes it. The file
holds customers' names, sessions and the outbox: SQLite would create it with the process's umask
(often readable by every local user), so it is created here first, empty, with mode 0600; SQLite gives
its journal and WAL files the database file's mode. An existing file keeps the mode it has.
"""

import os
from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        database = str(conn_params["database"])
        if database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            _create_private(database)
        return super().get_new_connection(conn_params)


def _create_private(path: str) -> None:
    """An empty file (an empty SQLite database) only its owner may read, unless one is there already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
